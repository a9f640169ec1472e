/*
 * cache/disk — see disk.h.  Reads on a queue of DISK_READERS threads and
 * writes on a queue of one (ioq.h), so a store's fsync never delays a read;
 * eviction on a thread of its own, woken by a store that would pass the
 * bound.  Every file is reached through the directory's fd (openat): the
 * path is not looked up again after disk_new().
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>

#include "disk.h"
#include "ioq.h"

#define ENTRY_MAGIC "FRAMEFSD"
#define ENTRY_FORMAT 1u
#define NAME_HEX 32                   /* an XXH3-128 in hex */
#define TMP_PREFIX ".tmp."
#define TMP_STALE_S 3600              /* another live process's, older than this: left over */

/* Before an entry's key and payload (native byte order: the keys name the
 * pipeline, which names the host's). */
struct entry_header {
    char magic[8];
    uint32_t format;
    uint32_t key_len;
    uint64_t length;                  /* of the payload */
    int64_t tag;
    int32_t width, height;
    uint64_t checksum;                /* XXH3-64 of this header (checksum 0), key, payload */
};

struct disk {
    int dirfd;                        /* -1 when off */
    char *dir;                        /* for log lines */
    cache_log_fn log;
    uint64_t max_bytes;
    atomic_int state;                 /* enum disk_state */
    atomic_uint_fast64_t bytes;
    atomic_ulong hits, misses, corrupt, evictions, stores, dropped;
    atomic_uint tmp_seq;
    atomic_size_t queued;             /* bytes of the stores waiting to be written */
    atomic_int undeletable_logged;
    struct ioq *readers, *writer;

    /* The eviction thread: woken by `wake`; `evicted` broadcast after each
     * pass (a store waiting for room). */
    pthread_t evictor;
    int evictor_started;
    pthread_mutex_t lock;
    pthread_cond_t wake, evicted;     /* CLOCK_MONOTONIC */
    int want_pass, stopping;
    uint64_t need;                    /* the room a waiting store needs */
    unsigned long passes;
    unsigned long long nonce;         /* in this process's temporary names */
};

enum op_kind { OP_GET, OP_PUT };

struct op {
    struct ioq_op base;               /* first: the queue's */
    enum op_kind kind;
    struct disk *d;
    char *key;
    struct blob *blob;                /* put: what to store; get: what was found */
    struct cache_meta meta;
};

static void op_free(struct ioq_op *base)
{
    struct op *op = (struct op *)base;

    if (op->kind == OP_PUT && op->blob)
        atomic_fetch_sub(&op->d->queued, op->blob->size);
    blob_unref(op->blob);
    free(op->key);
    free(op);
}

static struct op *op_new(struct disk *d, enum op_kind kind, const char *key)
{
    struct op *op = calloc(1, sizeof(*op));

    if (!op || !(op->key = strdup(key))) {
        free(op);
        return NULL;
    }
    ioq_op_init(&op->base, op_free);
    op->kind = kind;
    op->d = d;
    return op;
}

/* "ab/<32 hex digits>" of key; out has room for 3 + NAME_HEX + 1. */
static void entry_name(char *out, const char *key)
{
    XXH128_hash_t h = XXH3_128bits(key, strlen(key));

    snprintf(out, 4 + NAME_HEX, "%02x/%016llx%016llx", (unsigned)(h.high64 >> 56),
             (unsigned long long)h.high64, (unsigned long long)h.low64);
}

/* What an entry of n bytes costs in the bound: its size rounded up to 4 KiB. */
static uint64_t cost(uint64_t n)
{
    return (n + 4095) & ~(uint64_t)4095;
}

static uint64_t checksum(const struct entry_header *h, const char *key, const void *payload)
{
    XXH3_state_t *st = XXH3_createState();
    struct entry_header copy = *h;
    uint64_t sum = 0;

    copy.checksum = 0;
    if (st && XXH3_64bits_reset(st) != XXH_ERROR &&
        XXH3_64bits_update(st, &copy, sizeof(copy)) != XXH_ERROR &&
        XXH3_64bits_update(st, key, h->key_len) != XXH_ERROR &&
        XXH3_64bits_update(st, payload, (size_t)h->length) != XXH_ERROR)
        sum = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    return sum;
}

/* pread all of n bytes at off: 0, or -1 (short or failed). */
static int read_all(int fd, void *buf, size_t n, off_t off)
{
    char *p = buf;

    while (n) {
        ssize_t r = pread(fd, p, n, off);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
        off += r;
    }
    return 0;
}

static int write_all(int fd, const struct iovec *iov_in, int n)
{
    struct iovec iov[3];

    memcpy(iov, iov_in, (size_t)n * sizeof(*iov));
    while (n) {
        ssize_t w = writev(fd, iov, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        while (n && (size_t)w >= iov[0].iov_len) {
            w -= (ssize_t)iov[0].iov_len;
            memmove(iov, iov + 1, (size_t)(n - 1) * sizeof(*iov));
            n--;
        }
        if (n) {
            iov[0].iov_base = (char *)iov[0].iov_base + w;
            iov[0].iov_len -= (size_t)w;
        }
    }
    return 0;
}

/* ---- reading ------------------------------------------------------------- */

/* A bad entry: deleted (so it is logged once), counted. */
static void drop_corrupt(struct disk *d, const char *name, const char *why)
{
    atomic_fetch_add(&d->corrupt, 1);
    if (unlinkat(d->dirfd, name, 0) == 0 || errno == ENOENT)
        d->log(LOG_ERR, "disk cache %s: entry %s is %s: deleted; its value is made again",
               d->dir, name, why);
    else if (!atomic_exchange(&d->undeletable_logged, 1))
        d->log(LOG_ERR, "disk cache %s: entry %s is %s and cannot be deleted (%s): not served",
               d->dir, name, why, strerror(errno));
}

/* The entry of op->key into op->blob, or nothing (counted). */
static void do_get(struct disk *d, struct op *op)
{
    char name[4 + NAME_HEX];
    struct entry_header h;
    size_t key_len = strlen(op->key);
    char *key = NULL;
    struct blob *b = NULL;
    struct stat st;
    const char *why = NULL;
    int fd;

    entry_name(name, op->key);
    if ((fd = openat(d->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
        atomic_fetch_add(&d->misses, 1);
        return;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        atomic_fetch_add(&d->misses, 1);
        return;
    }
    if ((uint64_t)st.st_size < sizeof(h) || read_all(fd, &h, sizeof(h), 0) < 0)
        why = "truncated";
    else if (memcmp(h.magic, ENTRY_MAGIC, 8) != 0 || h.format != ENTRY_FORMAT)
        why = "not an entry of this format";
    else if (h.length > (uint64_t)st.st_size || h.key_len > (uint64_t)st.st_size ||
             sizeof(h) + h.key_len + h.length != (uint64_t)st.st_size)
        why = "truncated";
    if (why)
        goto bad;
    if (!(key = malloc(h.key_len ? h.key_len : 1)) || !(b = blob_new((size_t)h.length))) {
        free(key);
        close(fd);
        atomic_fetch_add(&d->misses, 1);
        return;
    }
    if (read_all(fd, key, h.key_len, sizeof(h)) < 0 ||
        read_all(fd, b->data, b->size, (off_t)(sizeof(h) + h.key_len)) < 0)
        why = "truncated";
    else if (checksum(&h, key, b->data) != h.checksum)
        why = "corrupt (checksum)";
    if (why) {
        free(key);
        goto bad;
    }
    if (h.key_len != key_len || memcmp(key, op->key, key_len) != 0) {
        /* another key with the same 128-bit hash: a miss */
        free(key);
        blob_unref(b);
        close(fd);
        atomic_fetch_add(&d->misses, 1);
        return;
    }
    free(key);
    /* Recency for eviction; coarse, so a hot entry is not rewritten at
     * every read. */
    if (time(NULL) - st.st_mtime > DISK_TOUCH_S && atomic_load(&d->state) == DISK_ON)
        futimens(fd, NULL);
    close(fd);
    op->blob = b;
    op->meta = (struct cache_meta){h.tag, h.width, h.height};
    atomic_fetch_add(&d->hits, 1);
    return;
bad:
    close(fd);
    blob_unref(b);
    drop_corrupt(d, name, why);
    atomic_fetch_add(&d->misses, 1);
}

/* ---- writing ------------------------------------------------------------- */

/* d->bytes -= n, not below 0 (it is an estimate: other processes evict too). */
static void sub_bytes(struct disk *d, uint64_t n)
{
    uint_fast64_t was = atomic_load(&d->bytes);

    while (n && !atomic_compare_exchange_weak(&d->bytes, &was, was > n ? was - n : 0))
        ;
}

/* Storing stops for good (until the next mount): one log line. */
static void stop_storing(struct disk *d, const char *what, int err)
{
    int was = DISK_ON;

    if (atomic_compare_exchange_strong(&d->state, &was, DISK_READ_ONLY))
        d->log(LOG_ERR, "disk cache %s: cannot %s (%s): storing stops, what it holds is "
               "still served", d->dir, what, strerror(err));
}

/* Wait until the entry of `need` bytes fits under the bound (an eviction
 * pass); 0, or -1 when it will not (then the store is dropped). */
static int make_room(struct disk *d, uint64_t need)
{
    struct timespec until;
    unsigned long pass;
    int ret = 0;

    if (need > d->max_bytes)
        return -1;
    if (atomic_load(&d->bytes) + need <= d->max_bytes)
        return 0;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += 5;
    pthread_mutex_lock(&d->lock);
    pass = d->passes;
    d->want_pass = 1;
    d->need = need;
    pthread_cond_signal(&d->wake);
    while (atomic_load(&d->bytes) + need > d->max_bytes && !d->stopping) {
        if (d->passes != pass && !d->want_pass) {
            /* a pass ended and room is still short: others fill it */
            ret = -1;
            break;
        }
        if (pthread_cond_timedwait(&d->evicted, &d->lock, &until) == ETIMEDOUT) {
            ret = -1;
            break;
        }
    }
    if (d->stopping && atomic_load(&d->bytes) + need > d->max_bytes)
        ret = -1;
    pthread_mutex_unlock(&d->lock);
    return ret;
}

static void do_put(struct disk *d, struct op *op)
{
    const struct blob *b = op->blob;
    struct entry_header h = {ENTRY_MAGIC, ENTRY_FORMAT, (uint32_t)strlen(op->key), b->size,
                             op->meta.tag, op->meta.width, op->meta.height, 0};
    uint64_t size = sizeof(h) + h.key_len + b->size, old = 0;
    char name[4 + NAME_HEX], tmp[96];
    struct iovec iov[3];
    struct stat st;
    int fd, err;

    if (atomic_load(&d->state) != DISK_ON)
        return;
    if (make_room(d, cost(size)) < 0) {
        atomic_fetch_add(&d->dropped, 1);
        return;
    }
    h.checksum = checksum(&h, op->key, b->data);
    entry_name(name, op->key);
    snprintf(tmp, sizeof(tmp), "%.2s/" TMP_PREFIX "%ld.%llx.%u", name, (long)getpid(),
             d->nonce, atomic_fetch_add(&d->tmp_seq, 1));
    fd = openat(d->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0 && errno == ENOENT) {
        char sub[3] = {name[0], name[1], 0};

        if (mkdirat(d->dirfd, sub, 0755) < 0 && errno != EEXIST) {
            stop_storing(d, "make a folder", errno);
            return;
        }
        fd = openat(d->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    }
    if (fd < 0) {
        stop_storing(d, "create an entry", errno);
        return;
    }
    iov[0] = (struct iovec){&h, sizeof(h)};
    iov[1] = (struct iovec){op->key, h.key_len};
    iov[2] = (struct iovec){b->data, b->size};
    if (write_all(fd, iov, 3) < 0 || fsync(fd) < 0) {
        err = errno;
        close(fd);
        unlinkat(d->dirfd, tmp, 0);
        stop_storing(d, "write an entry", err);
        return;
    }
    close(fd);
    if (fstatat(d->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
        old = cost((uint64_t)st.st_size);        /* replaced: another process's, or ours */
    if (renameat(d->dirfd, tmp, d->dirfd, name) < 0) {
        err = errno;
        unlinkat(d->dirfd, tmp, 0);
        stop_storing(d, "rename an entry", err);
        return;
    }
    atomic_fetch_add(&d->bytes, cost(size));
    sub_bytes(d, old);
    atomic_fetch_add(&d->stores, 1);
}

static void run_op(void *ctx, void *state, struct ioq_op *base)
{
    struct op *op = (struct op *)base;

    (void)state;
    if (op->kind == OP_GET)
        do_get(ctx, op);
    else
        do_put(ctx, op);
}

/* ---- the eviction thread ------------------------------------------------- */

struct scanned {
    struct timespec mtime;
    uint64_t size;
    char name[4 + NAME_HEX];
};

static int older_first(const void *a, const void *b)
{
    const struct scanned *x = a, *y = b;

    if (x->mtime.tv_sec != y->mtime.tv_sec)
        return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
    if (x->mtime.tv_nsec != y->mtime.tv_nsec)
        return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return s[n] == 0;
}

/* A temporary file (.tmp.<pid>.<nonce>.<n>) left by a process that is
 * gone (an earlier one with this pid has another nonce), or older than
 * TMP_STALE_S. */
static int tmp_left_over(const struct disk *d, const char *name, const struct stat *st)
{
    char *end;
    long pid = strtol(name + strlen(TMP_PREFIX), &end, 10);

    if (pid <= 0 || *end != '.')
        return 0;
    if (pid == (long)getpid())
        return strtoull(end + 1, NULL, 16) != d->nonce;
    if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
        return 1;
    return time(NULL) - st->st_mtime > TMP_STALE_S;
}

/*
 * Count every entry; delete left-over temporary files; when the total is
 * over the bound, delete the oldest entries down to DISK_LOW_WATER of it.
 * Sets d->bytes to what is left.
 */
static void scan_and_evict(struct disk *d, uint64_t need)
{
    struct scanned *all = NULL;
    size_t n = 0, cap = 0;
    uint64_t total = 0;

    for (int i = 0; i < 256; i++) {
        char sub[3];
        int fd;
        DIR *dir;
        struct dirent *e;

        snprintf(sub, sizeof(sub), "%02x", i);
        if ((fd = openat(d->dirfd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)) < 0)
            continue;
        if (!(dir = fdopendir(fd))) {
            close(fd);
            continue;
        }
        while ((e = readdir(dir))) {
            struct stat st;

            if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                continue;
            if (!strncmp(e->d_name, TMP_PREFIX, strlen(TMP_PREFIX))) {
                if (tmp_left_over(d, e->d_name, &st) && atomic_load(&d->state) == DISK_ON)
                    unlinkat(fd, e->d_name, 0);
                continue;
            }
            if (strlen(e->d_name) != NAME_HEX || !is_hex(e->d_name, NAME_HEX))
                continue;
            if (n == cap) {
                struct scanned *p = realloc(all, (cap = cap ? 2 * cap : 1024) * sizeof(*all));

                if (!p)
                    break;
                all = p;
            }
            all[n].mtime = st.st_mtim;
            all[n].size = cost((uint64_t)st.st_size);
            snprintf(all[n].name, sizeof(all[n].name), "%s/%s", sub, e->d_name);
            total += all[n].size;
            n++;
        }
        closedir(dir);
    }
    if (total + need > d->max_bytes && atomic_load(&d->state) == DISK_ON) {
        uint64_t low = (uint64_t)((double)d->max_bytes * DISK_LOW_WATER);

        if (low + need > d->max_bytes)
            low = need < d->max_bytes ? d->max_bytes - need : 0;

        qsort(all, n, sizeof(*all), older_first);
        for (size_t i = 0; i < n && total > low; i++) {
            if (unlinkat(d->dirfd, all[i].name, 0) == 0) {
                atomic_fetch_add(&d->evictions, 1);
                total -= all[i].size;
            } else if (errno == ENOENT) {
                total -= all[i].size;     /* another process's eviction */
            }
        }
    }
    free(all);
    atomic_store(&d->bytes, total);
}

static void *evictor_main(void *arg)
{
    struct disk *d = arg;

    pthread_mutex_lock(&d->lock);
    while (!d->stopping) {
        struct timespec until;
        uint64_t need = d->need;

        d->want_pass = 0;
        d->need = 0;
        pthread_mutex_unlock(&d->lock);
        scan_and_evict(d, need);
        pthread_mutex_lock(&d->lock);
        d->passes++;
        pthread_cond_broadcast(&d->evicted);
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += DISK_RESCAN_S;
        while (!d->stopping && !d->want_pass)
            if (pthread_cond_timedwait(&d->wake, &d->lock, &until) == ETIMEDOUT)
                break;
    }
    pthread_mutex_unlock(&d->lock);
    return NULL;
}

/* ---- callers ------------------------------------------------------------- */

struct blob *disk_get(struct disk *d, const char *key, struct cache_meta *meta,
                      int (*stop)(void *), void *arg)
{
    struct op *op;
    struct blob *b = NULL;

    if (atomic_load(&d->state) == DISK_OFF) {
        atomic_fetch_add(&d->misses, 1);
        return NULL;
    }
    if (!(op = op_new(d, OP_GET, key)))
        return NULL;
    if (ioq_call(d->readers, &op->base, DISK_WAIT_MS, DISK_ANSWER_MAX_MS, stop, arg, NULL)) {
        b = op->blob;
        op->blob = NULL;
        *meta = op->meta;
        ioq_op_unref(&op->base);
    }
    return b;
}

void disk_put(struct disk *d, const char *key, struct blob *b, const struct cache_meta *meta)
{
    struct op *op;

    if (atomic_load(&d->state) != DISK_ON)
        return;
    /* What waits holds memory the frame cache may already have let go of:
     * bounded in bytes too, so a burst of large frames is dropped. */
    if (atomic_fetch_add(&d->queued, b->size) + b->size > DISK_QUEUE_BYTES ||
        !(op = op_new(d, OP_PUT, key))) {
        atomic_fetch_sub(&d->queued, b->size);
        atomic_fetch_add(&d->dropped, 1);
        return;
    }
    op->blob = blob_ref(b);
    op->meta = *meta;
    if (ioq_post(d->writer, &op->base) < 0)
        atomic_fetch_add(&d->dropped, 1);
}

void disk_stats(struct disk *d, struct disk_stats *out)
{
    *out = (struct disk_stats){atomic_load(&d->hits), atomic_load(&d->misses),
                               atomic_load(&d->corrupt), atomic_load(&d->evictions),
                               atomic_load(&d->stores), atomic_load(&d->dropped),
                               atomic_load(&d->bytes), d->max_bytes, atomic_load(&d->state)};
}

/* ---- setup --------------------------------------------------------------- */

/* Open (and make, one level) the directory; the state it allows. */
static enum disk_state open_dir(struct disk *d)
{
    char probe[64];
    int fd;

    if (mkdir(d->dir, 0755) < 0 && errno != EEXIST) {
        d->log(LOG_ERR, "disk cache %s: cannot make it (%s): the disk tier is off", d->dir,
               strerror(errno));
        return DISK_OFF;
    }
    if ((d->dirfd = open(d->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        d->log(LOG_ERR, "disk cache %s: cannot open it (%s): the disk tier is off", d->dir,
               strerror(errno));
        return DISK_OFF;
    }
    /* Can it be written?  A read-only one is still served. */
    snprintf(probe, sizeof(probe), TMP_PREFIX "%ld.probe", (long)getpid());
    if ((fd = openat(d->dirfd, probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
                     0644)) < 0) {
        d->log(LOG_ERR, "disk cache %s: cannot be written (%s): what it holds is served, "
               "nothing is stored", d->dir, strerror(errno));
        return DISK_READ_ONLY;
    }
    close(fd);
    unlinkat(d->dirfd, probe, 0);
    return DISK_ON;
}

struct disk *disk_new(const char *dir, uint64_t max_bytes, cache_log_fn log, char *err,
                      size_t errlen)
{
    struct disk *d = calloc(1, sizeof(*d));
    struct ioq_worker w = {NULL, run_op, NULL, d};
    pthread_condattr_t ca;

    if (!d || !(d->dir = strdup(dir))) {
        free(d);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    d->dirfd = -1;
    d->log = log;
    d->max_bytes = max_bytes;
    d->nonce = (unsigned long long)time(NULL) << 20 ^ (unsigned long long)(uintptr_t)d;
    pthread_mutex_init(&d->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&d->evicted, &ca);
    pthread_cond_init(&d->wake, &ca);
    pthread_condattr_destroy(&ca);
    atomic_init(&d->state, open_dir(d));
    if (!(d->readers = ioq_new(DISK_READERS, "framefs-disk-rd", &w, 0)) ||
        !(d->writer = ioq_new(1, "framefs-disk-wr", &w, DISK_PUT_QUEUE_MAX)) ||
        (atomic_load(&d->state) != DISK_OFF &&
         pthread_create(&d->evictor, NULL, evictor_main, d) != 0)) {
        snprintf(err, errlen, "cannot start the disk cache threads");
        disk_free(d);
        return NULL;
    }
    if (atomic_load(&d->state) != DISK_OFF) {
        d->evictor_started = 1;
        pthread_setname_np(d->evictor, "framefs-disk-ev");
    }
    return d;
}

void disk_free(struct disk *d)
{
    if (!d)
        return;
    pthread_mutex_lock(&d->lock);
    d->stopping = 1;                  /* no store waits for room now */
    pthread_cond_broadcast(&d->wake);
    pthread_cond_broadcast(&d->evicted);
    pthread_mutex_unlock(&d->lock);
    ioq_free(d->writer);              /* the queued stores that fit are made */
    ioq_free(d->readers);
    if (d->evictor_started)
        pthread_join(d->evictor, NULL);
    if (d->dirfd >= 0)
        close(d->dirfd);
    pthread_mutex_destroy(&d->lock);
    pthread_cond_destroy(&d->wake);
    pthread_cond_destroy(&d->evicted);
    free(d->dir);
    free(d);
}
