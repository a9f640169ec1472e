/*
 * framefs entry point: options, checks made before anything is mounted, the
 * session and its multithreaded loop, and an ordered shutdown (loop ends ->
 * unmount -> workers joined -> session and tables freed).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs.h"
#include "handshake.h"
#include "name.h"

struct options {
    const char *source;
    char *cache_size, *workers, *list_interval, *list_ext, *png_level, *video_ext;
    char *shared_cache, *shared_cache_ttl, *cache_dir, *disk_cache_size, *index_cache_size;
    char *cache_dir_abs;             /* cache_dir made absolute (the daemon cds to /) */
    int help, version, no_sandbox, decode_all, verbose;
    struct frame_request defaults;   /* -o KEY=VALUE of the frame name keys */
    int bad_default;                 /* one of those was invalid */
};

#define OPT(t, field) {t, offsetof(struct options, field), 0}
static const struct fuse_opt option_spec[] = {
    OPT("cache_size=%s", cache_size),
    OPT("workers=%s", workers),
    OPT("list_interval=%s", list_interval),
    OPT("list_ext=%s", list_ext),
    OPT("png_level=%s", png_level),
    OPT("video_ext=%s", video_ext),
    OPT("shared_cache=%s", shared_cache),
    OPT("shared_cache_ttl=%s", shared_cache_ttl),
    OPT("cache_dir=%s", cache_dir),
    OPT("disk_cache_size=%s", disk_cache_size),
    OPT("index_cache_size=%s", index_cache_size),
    {"no_sandbox", offsetof(struct options, no_sandbox), 1},
    {"decode_all", offsetof(struct options, decode_all), 1},
    {"verbose", offsetof(struct options, verbose), 1},
    {"-h", offsetof(struct options, help), 1},
    {"--help", offsetof(struct options, help), 1},
    {"-V", offsetof(struct options, version), 1},
    {"--version", offsetof(struct options, version), 1},
    FUSE_OPT_END,
};

#define DEFAULT_PNG_LEVEL 1
#define MAX_OWNED 8

static void usage(const char *prog)
{
    printf("usage: %s [options] SOURCE_DIR MOUNTPOINT\n\n"
           "Serves every video under SOURCE_DIR as a directory of still frames:\n"
           "  MOUNTPOINT/clip.mp4/t=12.5,tol=0.1.png\n"
           "  MOUNTPOINT/clip.mp4/t=50%%,w=224.jpg\n\n"
           "frame name keys (t=...[,key=value...].png|.jpg|.ppm, see man framefs;\n"
           "* marks the ones -o key=value sets mount-wide):\n", prog);
    name_print_keys(stdout);
    printf("\n"
           "views inside a video directory (not listed; any frame name resolves in them):\n"
           "    every=SECONDS/                 a frame every SECONDS\n"
           "    keyframes/, frames/            every keyframe (t=...), every frame (n=N)\n"
           "    scenes[,threshold=X][,min=S]/  the first frame of every shot: a scene score\n"
           "                                   above X (0..1, default 0.3), S seconds apart\n"
           "                                   at least (default 0.5); one decoding pass\n"
           "    info.json                      the video's metadata\n"
           "\n"
           "framefs options (-o name=value):\n"
           "    cache_size=SIZE      frame cache budget (256M, 2G, bytes; default 256M)\n"
           "    workers=N            decoder threads (default: number of CPUs)\n"
           "    list_interval=SECS   spacing of listed frames, 0 lists none (default 1)\n"
           "    list_ext=png|jpg|ppm extension of the listed frame names (default png)\n"
           "    png_level=0..9       deflate level of the PNGs (default %d)\n"
           "    video_ext=mp4,mkv,.. extensions shown as video directories\n"
           "    shared_cache=HOST:PORT[+HOST:PORT...]\n"
           "                         memcached servers shared with other hosts\n"
           "    shared_cache_ttl=SECS  lifetime of shared values (default 86400)\n"
           "    cache_dir=PATH       keep frames and indexes on disk there, across mounts\n"
           "                         (off unless given; made when missing)\n"
           "    disk_cache_size=SIZE its byte bound (default 4G; oldest evicted first)\n"
           "    index_cache_size=SIZE  memory for the open videos' indexes (default 64M;\n"
           "                         idle ones let go of first, reloaded from cache_dir)\n"
           "    KEY=VALUE            the default of a frame name key marked *\n"
           "                         (tol=0.5, w=224, q=80, rotate=0, ...)\n"
           "    no_sandbox           decoder threads without their seccomp filter\n"
           "                         (debugging under valgrind only)\n"
           "    decode_all           also decode the unreferenced frames before a target\n"
           "                         (slower; for measuring what skipping them saves)\n"
           "    verbose              log every produced frame with its timings\n"
           "                         (errors are always logged: stderr with -f, else syslog)\n\n",
           DEFAULT_PNG_LEVEL);
    fuse_cmdline_help();
    fuse_lowlevel_help();
}

static int opt_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
    struct options *o = data;

    (void)outargs;
    if (key == FUSE_OPT_KEY_NONOPT && !o->source) {
        o->source = arg;
        return 0;
    }
    if (key == FUSE_OPT_KEY_OPT) {
        int r = name_set_default(arg, &o->defaults);

        if (r < 0 && !o->bad_default) {
            fprintf(stderr, "framefs: invalid %s (see the frame name keys in --help)\n", arg);
            o->bad_default = 1;
        }
        if (r <= 0)
            return 0;                 /* a frame name key: not libfuse's */
    }
    return 1;
}

/* Mount flags that take no value: a bare word after video_ext= that is one
 * of these is a flag, any other short word is one more extension. */
static const char *const bare_flags[] = {
    "allow_other", "allow_root", "auto_unmount", "default_permissions", "ro", "rw",
    "debug", "nonempty", "suid", "nosuid", "dev", "nodev", "exec", "noexec", "async",
    "sync", "dirsync", "atime", "noatime", "relatime", "norelatime", "strictatime",
    "nodiratime", "lazytime", "clone_fd", "blkdev", NULL,
};

static int is_extension_word(const char *w, size_t n)
{
    if (n == 0 || n > 10)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((w[i] >= 'a' && w[i] <= 'z') || (w[i] >= 'A' && w[i] <= 'Z') ||
              (w[i] >= '0' && w[i] <= '9')))
            return 0;
    for (int i = 0; bare_flags[i]; i++)
        if (strlen(bare_flags[i]) == n && strncmp(bare_flags[i], w, n) == 0)
            return 0;
    return 1;
}

/*
 * `-o video_ext=mp4,mkv` as SPEC writes it: libfuse splits -o values at
 * commas, so escape the commas inside the video_ext value ("mp4\,mkv")
 * before parsing.  Returns a new string, or NULL when nothing changes.
 */
/* The next comma that separates options (not one escaped with '\\'). */
static const char *next_comma(const char *p)
{
    for (; *p; p++) {
        if (*p == '\\' && p[1])
            p++;
        else if (*p == ',')
            return p;
    }
    return NULL;
}

static char *escape_video_ext(const char *opts)
{
    const char *p = strstr(opts, "video_ext=");
    char *out, *o;

    if (!p || (p != opts && p[-1] != ','))
        return NULL;
    if (!(out = malloc(2 * strlen(opts) + 1)))
        return NULL;
    o = out;
    memcpy(o, opts, (size_t)(p - opts));
    o += p - opts;
    for (p += strlen("video_ext="), o = stpcpy(o, "video_ext="); *p;) {
        const char *end = next_comma(p);
        size_t n = end ? (size_t)(end - p) : strlen(p);

        memcpy(o, p, n);
        o += n;
        p += n;
        if (!*p)
            break;
        p++;                                   /* the comma */
        end = next_comma(p);
        n = end ? (size_t)(end - p) : strlen(p);
        if (strchr(p, '=') && (!end || strchr(p, '=') < end))
            break;                             /* next option */
        if (!is_extension_word(p, n))
            break;
        *o++ = '\\';
        *o++ = ',';
    }
    if (*p)
        *o++ = ',';
    strcpy(o, p);
    return out;
}

static int bad(const char *fmt, const char *value)
{
    fprintf(stderr, "framefs: ");
    fprintf(stderr, fmt, value);
    fputc('\n', stderr);
    return -1;
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

/* Fill fs and the decoder config from the options; one line on stderr and -1
 * on the first bad value. */
static int apply_options(struct options *o, struct fs *fs, struct decoder_config *dc)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);

    *dc = (struct decoder_config){0};
    dc->cache_bytes = 256u << 20;
    dc->workers = cpus > 0 ? (int)(cpus < 64 ? cpus : 64) : 2;
    dc->png_level = DEFAULT_PNG_LEVEL;
    dc->decode_threads = cpus > 1 ? (int)(cpus < 4 ? cpus : 4) : 1;
    dc->sandbox = !o->no_sandbox;
    dc->decode_all = o->decode_all;
    log_init(0, o->verbose);
    fs->defaults = o->defaults;
    fs->list_interval = 1;
    fs->list_format = FORMAT_PNG;
    fs->timeout = 1.0;
    if (o->cache_size && name_parse_size(o->cache_size, &dc->cache_bytes) < 0)
        return bad("invalid cache_size '%s' (examples: 256M, 2G, 1048576)", o->cache_size);
    if (o->workers && parse_int(o->workers, 1, 256, &dc->workers) < 0)
        return bad("invalid workers '%s' (a whole number from 1 to 256)", o->workers);
    if (o->png_level && parse_int(o->png_level, 0, 9, &dc->png_level) < 0)
        return bad("invalid png_level '%s' (0 to 9)", o->png_level);
    if (o->bad_default)
        return -1;
    dc->shared_cache = o->shared_cache && *o->shared_cache ? o->shared_cache : NULL;
    dc->shared_ttl = 86400;
    if (dc->shared_cache) {
        char err[256];

        if (decoder_check_shared(dc->shared_cache, err, sizeof(err)) < 0)
            return bad("%s", err);
    }
    if (o->shared_cache_ttl && parse_int(o->shared_cache_ttl, 1, 30 * 86400, &dc->shared_ttl) < 0)
        return bad("invalid shared_cache_ttl '%s' (seconds, 1 to 2592000)", o->shared_cache_ttl);
    dc->disk_bytes = (uint64_t)4 << 30;
    dc->index_bytes = (size_t)64 << 20;
    if (o->index_cache_size && name_parse_size(o->index_cache_size, &dc->index_bytes) < 0)
        return bad("invalid index_cache_size '%s' (examples: 64M, 1G)", o->index_cache_size);
    if (o->disk_cache_size) {
        size_t n;

        if (name_parse_size(o->disk_cache_size, &n) < 0 || n < (1u << 20))
            return bad("invalid disk_cache_size '%s' (examples: 4G, 512M; at least 1M)",
                       o->disk_cache_size);
        dc->disk_bytes = n;
    }
    if (o->cache_dir && *o->cache_dir) {
        char cwd[4096];

        if (o->cache_dir[0] == '/')
            o->cache_dir_abs = strdup(o->cache_dir);
        else if (getcwd(cwd, sizeof(cwd)) &&
                 (o->cache_dir_abs = malloc(strlen(cwd) + strlen(o->cache_dir) + 2)))
            sprintf(o->cache_dir_abs, "%s/%s", cwd, o->cache_dir);
        if (!o->cache_dir_abs)
            return bad("cannot use cache_dir '%s'", o->cache_dir);
        dc->cache_dir = o->cache_dir_abs;
    }
    if (o->list_ext && name_parse_format(o->list_ext, strlen(o->list_ext), &fs->list_format) < 0)
        return bad("invalid list_ext '%s' (png, jpg or ppm)", o->list_ext);
    if (o->list_interval && name_parse_seconds(o->list_interval, 0, &fs->list_interval) < 0)
        return bad("invalid list_interval '%s' (seconds; 0 lists none)", o->list_interval);
    if (source_set_exts(fs, o->video_ext ? o->video_ext : decoder_default_video_ext) < 0)
        return bad("invalid video_ext '%s' (comma-separated extensions)",
                   o->video_ext ? o->video_ext : "");
    return 0;
}

static int check_source(const char *source, struct fs *fs)
{
    struct stat st;

    if (!source)
        return bad("%s", "missing SOURCE_DIR and MOUNTPOINT (see --help)");
    if (stat(source, &st) < 0)
        return bad("cannot use SOURCE_DIR '%s': no such directory", source);
    if (!S_ISDIR(st.st_mode))
        return bad("SOURCE_DIR '%s' is not a directory", source);
    if (!(fs->root = realpath(source, NULL)) ||
        (fs->rootfd = open(fs->root, O_RDONLY | O_DIRECTORY)) < 0)
        return bad("cannot open SOURCE_DIR '%s'", source);
    return 0;
}

/* The mount point must be a directory that nothing is mounted on yet. */
static int check_mountpoint(const char *mnt, const struct fs *fs)
{
    struct stat st, up;
    char *parent;
    int ret;

    if (!mnt)
        return bad("%s", "missing MOUNTPOINT (see --help)");
    if (stat(mnt, &st) < 0)
        return bad("cannot use MOUNTPOINT '%s': no such directory (or a dead mount: "
                   "fusermount3 -u it)", mnt);
    if (!S_ISDIR(st.st_mode))
        return bad("MOUNTPOINT '%s' is not a directory", mnt);
    if (asprintf(&parent, "%s/..", mnt) < 0)
        return -1;
    ret = stat(parent, &up);
    free(parent);
    if (ret == 0 && (up.st_dev != st.st_dev || up.st_ino == st.st_ino))
        return bad("MOUNTPOINT '%s' is busy: something is already mounted there", mnt);
    {
        char *real = realpath(mnt, NULL);
        size_t n = strlen(fs->root);
        int inside = real && strncmp(real, fs->root, n) == 0 &&
                     (real[n] == '/' || real[n] == 0);

        free(real);
        if (inside)
            return bad("MOUNTPOINT '%s' is inside SOURCE_DIR", mnt);
    }
    return 0;
}

/* cache_dir (absolute) must not lie inside the mount point: the disk tier
 * opens it before the session runs, and a path through this mount would
 * wait for this process.  The longest part of it that exists is resolved
 * (it is made later). */
static int check_cache_dir(const char *dir, const char *mnt)
{
    char *probe, *cut, *real = NULL, *real_mnt;
    int inside = 0;

    if (!dir || !mnt || !(real_mnt = realpath(mnt, NULL)))
        return 0;
    if (!(probe = strdup(dir))) {
        free(real_mnt);
        return -1;
    }
    while (!(real = realpath(probe, NULL)) && (cut = strrchr(probe, '/')) && cut != probe)
        *cut = 0;
    if (real) {
        size_t n = strlen(real_mnt);

        inside = strncmp(real, real_mnt, n) == 0 && (real[n] == '/' || real[n] == 0);
    }
    free(real);
    free(probe);
    free(real_mnt);
    return inside ? bad("cache_dir '%s' is inside MOUNTPOINT", dir) : 0;
}

static void free_fs(struct fs *fs)
{
    for (int i = 0; i < fs->n_exts; i++)
        free(fs->exts[i]);
    if (fs->rootfd > 0)
        close(fs->rootfd);
    free(fs->root);
}

int main(int argc, char *argv[])
{
    struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
    struct fuse_cmdline_opts cl = {0};
    struct options o = {0};
    struct decoder_config dc;
    struct fuse_session *se = NULL;
    struct fuse_loop_config *loop = NULL;
    struct fs fs = {.rootfd = -1, .pending_lock = PTHREAD_MUTEX_INITIALIZER};
    char *owned[MAX_OWNED], err[256];
    int n_owned = 0, ret = 1;

    for (int i = 1; i < args.argc && n_owned < MAX_OWNED; i++) {
        const char *opts = NULL;
        char *fixed;

        if (strcmp(args.argv[i], "-o") == 0 && i + 1 < args.argc)
            opts = args.argv[++i];
        else if (strncmp(args.argv[i], "-o", 2) == 0)
            opts = args.argv[i] + 2;
        if (!opts || !(fixed = escape_video_ext(opts)))
            continue;
        if (opts != args.argv[i]) {              /* "-oLIST": keep the -o */
            char *joined = NULL;

            if (asprintf(&joined, "-o%s", fixed) < 0)
                joined = NULL;
            free(fixed);
            if (!(fixed = joined))
                continue;
        }
        /* args.argv is still main's argv here; libfuse copies it later. */
        args.argv[i] = owned[n_owned++] = fixed;
    }
    /* Few malloc arenas: with one per thread (FUSE, workers, frame threads)
     * freed frame buffers stay spread over many arenas and RSS creeps up;
     * measured under load, 2 arenas cut peak RSS by about a fifth. */
    mallopt(M_ARENA_MAX, 2);
    /* A fixed mmap threshold (which also turns off glibc's dynamic one: after
     * the first large free it rises to 32 MiB, and from then on every PNG
     * blob and frame buffer is carved from the heaps, where the cache's
     * long-lived blobs pin the holes the short-lived ones leave).  Above it,
     * memory goes back to the kernel when freed. */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    name_default_request(&o.defaults);
    if (fuse_opt_parse(&args, &o, option_spec, opt_proc) < 0 ||
        fuse_parse_cmdline(&args, &cl) < 0)
        goto out;
    if (o.help || cl.show_help) {
        usage(argv[0]);
        ret = 0;
        goto out;
    }
    if (o.version || cl.show_version) {
        printf("framefs 0.1 (libfuse %s)\n", fuse_pkgversion());
        ret = 0;
        goto out;
    }
    if (apply_options(&o, &fs, &dc) < 0 || check_source(o.source, &fs) < 0 ||
        check_mountpoint(cl.mountpoint, &fs) < 0 || check_cache_dir(dc.cache_dir, cl.mountpoint) < 0)
        goto out;
    /* Not `ro`: the kernel would refuse setxattr (user.cancel) before asking
     * us; every write is EROFS in the handlers instead (ops.c). */
    if (fuse_opt_add_arg(&args, "-odefault_permissions,fsname=framefs,subtype=framefs") < 0 ||
        !(fs.inodes = inode_table_new()))
        goto out;

    se = fuse_session_new(&args, &fs_ops, sizeof(fs_ops), &fs);
    if (!se)
        goto out;
    if (fuse_set_signal_handlers(se) != 0)
        goto out;
    if (fuse_session_mount(se, cl.mountpoint) != 0) {
        fprintf(stderr, "framefs: cannot mount on '%s'\n", cl.mountpoint);
        goto out_signals;
    }
    fuse_daemonize(cl.foreground);
    if (!cl.foreground)
        log_to_syslog();          /* stderr is /dev/null now */
    /* INIT first, before any thread may write to the session's fd. */
    if (handshake_init(se, &fs.parallel_dirops) < 0)
        goto out_unmount;
    /* Threads start after daemonizing: fork keeps only the calling thread. */
    fs.inval = inval_start(se);
    fs.watch = watch_start(fs.inval);
    watch_dir(fs.watch, fs.root, FUSE_ROOT_ID);
    if (!(fs.dec = decoder_new(&dc, err, sizeof(err)))) {
        log_msg(LOG_ERR, "cannot start %d workers: %s", dc.workers, err);   /* syslog when daemonized */
        goto out_unmount;
    }
    if (cl.singlethread) {
        ret = fuse_session_loop(se);
    } else {
        if (!(loop = fuse_loop_cfg_create()))
            goto out_unmount;
        fuse_loop_cfg_set_clone_fd(loop, cl.clone_fd);
        if (cl.max_threads > 0 && cl.max_threads <= 100000)   /* else: unset */
            fuse_loop_cfg_set_max_threads(loop, cl.max_threads);
        if (cl.max_idle_threads <= 100000)   /* UINT_MAX means unset */
            fuse_loop_cfg_set_idle_threads(loop, cl.max_idle_threads);
        ret = fuse_session_loop_mt(se, loop);
    }
    ret = ret < 0 ? 1 : 0;
out_unmount:
    /* Everything that writes to the session's fd stops first: queued and
     * running jobs end (as cancelled) and reply, the watcher and the
     * invalidation thread end; only then does unmounting close the fd. */
    decoder_free(fs.dec);
    watch_stop(fs.watch);
    inval_stop(fs.inval);
    fuse_session_unmount(se);
out_signals:
    fuse_remove_signal_handlers(se);
out:
    if (se)
        fuse_session_destroy(se);
    fuse_loop_cfg_destroy(loop);
    inode_table_free(fs.inodes);
    free_fs(&fs);
    free(cl.mountpoint);
    fuse_opt_free_args(&args);
    free(o.cache_size);
    free(o.workers);
    free(o.list_interval);
    free(o.list_ext);
    free(o.shared_cache);
    free(o.shared_cache_ttl);
    free(o.cache_dir);
    free(o.disk_cache_size);
    free(o.index_cache_size);
    free(o.cache_dir_abs);
    free(o.png_level);
    free(o.video_ext);
    while (n_owned)
        free(owned[--n_owned]);
    return ret;
}
