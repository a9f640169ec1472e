/*
 * The read-only view of SOURCE_DIR: paths, containment, which files are
 * videos, and the attributes each kind of node shows.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "fs.h"

char *source_join(const char *dir, const char *name)
{
    char *p;

    if (strcmp(dir, ".") == 0)
        return strdup(name);
    if (asprintf(&p, "%s/%s", dir, name) < 0)
        return NULL;
    return p;
}

char *source_abs(const struct fs *fs, const char *rel)
{
    char *p;

    if (strcmp(rel, ".") == 0)
        return strdup(fs->root);
    if (asprintf(&p, "%s/%s", fs->root, rel) < 0)
        return NULL;
    return p;
}

/* Does the resolved path stay inside the root? */
static int inside_root(const struct fs *fs, const char *real)
{
    size_t n = strlen(fs->root);

    if (strcmp(fs->root, "/") == 0)
        return 1;
    return strncmp(real, fs->root, n) == 0 && (real[n] == '/' || real[n] == 0);
}

int source_stat(const struct fs *fs, const char *rel, struct stat *st)
{
    char *abs, *real;
    int ret = 0;

    if (fstatat(fs->rootfd, rel, st, AT_SYMLINK_NOFOLLOW) < 0)
        return -errno;
    if (!S_ISLNK(st->st_mode))
        return 0;
    /* A symlink: follow it only while it points inside SOURCE_DIR. */
    if (!(abs = source_abs(fs, rel)))
        return -ENOMEM;
    real = realpath(abs, NULL);
    if (!real)
        ret = -errno;
    else if (!inside_root(fs, real))
        ret = -ENOENT;
    else if (stat(real, st) < 0)
        ret = -errno;
    free(real);
    free(abs);
    return ret;
}

char *source_resolve(const struct fs *fs, const char *rel)
{
    char *abs = source_abs(fs, rel), *real = abs ? realpath(abs, NULL) : NULL;

    free(abs);
    if (real && !inside_root(fs, real)) {
        free(real);
        return NULL;
    }
    return real;
}

static int openat2_beneath(int dirfd, const char *rel, int flags)
{
    struct open_how how = {
        .flags = (uint64_t)(flags | O_NONBLOCK | O_CLOEXEC),
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    int fd;

    do
        fd = (int)syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
    while (fd < 0 && errno == EINTR);
    return fd < 0 ? -errno : fd;
}

/* Kernels before 5.6 have no openat2: open, then check what was opened
 * through /proc (a component may have been swapped for a link outside). */
static int open_checked(const struct fs *fs, const char *rel, int flags)
{
    char link[64], real[PATH_MAX];
    ssize_t len;
    int fd = openat(fs->rootfd, rel, flags | O_NONBLOCK | O_CLOEXEC);

    if (fd < 0)
        return -errno;
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    len = readlink(link, real, sizeof(real) - 1);
    if (len < 0 || (real[len] = 0, !inside_root(fs, real))) {
        close(fd);
        return -ENOENT;
    }
    return fd;
}

int source_open(const struct fs *fs, const char *rel, int flags)
{
    char *real;
    int fd = openat2_beneath(fs->rootfd, rel, flags);

    if (fd == -ENOSYS)
        return open_checked(fs, rel, flags);
    if (fd != -EXDEV)
        return fd == -ELOOP ? -ENOENT : fd;
    /* An absolute symlink (or one climbing above the root) on the way: it
     * may still lead inside.  Resolve it, then open the result beneath the
     * root, so a link swapped meanwhile still cannot lead out. */
    if (!(real = source_resolve(fs, rel)))
        return -ENOENT;
    if (strcmp(real, fs->root) == 0)
        fd = openat2_beneath(fs->rootfd, ".", flags);
    else
        fd = openat2_beneath(fs->rootfd, real + strlen(fs->root) + (strcmp(fs->root, "/") != 0),
                             flags);
    free(real);
    return fd == -EXDEV || fd == -ELOOP ? -ENOENT : fd;
}

int source_open_video(const struct fs *fs, const char *rel)
{
    struct stat st;
    int fd = source_open(fs, rel, O_RDONLY);

    if (fd < 0)
        return fd;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -ENOENT;       /* a FIFO or device swapped in: never read */
    }
    return fd;
}

int source_is_video(const struct fs *fs, const char *name)
{
    const char *dot = strrchr(name, '.');

    if (!dot || dot == name)
        return 0;
    for (int i = 0; i < fs->n_exts; i++)
        if (strcasecmp(dot + 1, fs->exts[i]) == 0)
            return 1;
    return 0;
}

int source_kind(const struct fs *fs, const char *name, const struct stat *st)
{
    if (S_ISDIR(st->st_mode))
        return NODE_DIR;
    if (S_ISREG(st->st_mode))
        return source_is_video(fs, name) ? NODE_VIDEO : NODE_FILE;
    return -1;                    /* devices, fifos, sockets: not shown */
}

void source_attr(const struct node *n, const struct stat *src, struct stat *out)
{
    mode_t r = src->st_mode & 0444;

    memset(out, 0, sizeof(*out));
    out->st_ino = inode_number(n);
    out->st_uid = src->st_uid;
    out->st_gid = src->st_gid;
    out->st_atim = src->st_atim;
    out->st_mtim = src->st_mtim;
    out->st_ctim = src->st_ctim;
    out->st_blksize = 65536;
    switch (n->kind) {
    case NODE_DIR:
        out->st_mode = S_IFDIR | (src->st_mode & 0555);
        out->st_nlink = 2;
        out->st_size = src->st_size;
        break;
    case NODE_FILE:
        out->st_mode = S_IFREG | (src->st_mode & 0555);
        out->st_nlink = 1;
        out->st_size = src->st_size;
        break;
    case NODE_VIDEO:
    case NODE_VIEW:
        /* A video's directory: readable where the video is, and searchable
         * wherever readable. */
        out->st_mode = S_IFDIR | r | (r >> 2);
        out->st_nlink = 2;
        break;
    case NODE_FRAME:
    case NODE_INFO:
        out->st_mode = S_IFREG | r;
        out->st_nlink = 1;
        out->st_size = (off_t)n->frame->size;
        break;
    }
    out->st_blocks = (out->st_size + 511) / 512;
}

int source_set_exts(struct fs *fs, const char *list)
{
    char *copy = strdup(list), *save = NULL, *tok;

    if (!copy)
        return -1;
    for (int i = 0; i < fs->n_exts; i++)
        free(fs->exts[i]);
    fs->n_exts = 0;
    for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == '.')
            tok++;
        if (!*tok || strchr(tok, '/') || fs->n_exts == FS_MAX_EXTS)
            goto bad;
        if (!(fs->exts[fs->n_exts] = strdup(tok)))
            goto bad;
        fs->n_exts++;
    }
    free(copy);
    return fs->n_exts ? 0 : -1;
bad:
    free(copy);
    return -1;
}

struct source_version source_version_of(const struct stat *st)
{
    return (struct source_version){st->st_dev, st->st_ino, st->st_size,
                                   (int64_t)st->st_mtim.tv_sec * 1000000000 +
                                       st->st_mtim.tv_nsec};
}

int source_same_version(const struct source_version *a, const struct source_version *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime_ns == b->mtime_ns;
}
