/*
 * fsq — single system calls for tests, reporting errno by name.
 *
 *   fsq getxattr PATH NAME SIZE    getxattr() with a SIZE-byte buffer (0: NULL)
 *   fsq listxattr PATH SIZE        listxattr() likewise
 *   fsq setxattr PATH NAME VALUE   setxattr()
 *   fsq removexattr PATH NAME      removexattr()
 *   fsq open PATH MODE             open() with MODE r, w, rw, creat or trunc
 *   fsq read PATH [BS]             open + read() in BS-byte chunks (default
 *                                  65536) to stdout
 *   fsq pread PATH OFFSET LEN      one pread() to stdout
 *   fsq mmap PATH                  open + fstat + mmap(st_size) to stdout
 *
 * Prints one line on stderr: "ok", "ok N" (a size), "ok N VALUE" (getxattr
 * with a buffer), "ok N NAME..." (listxattr with a buffer), or "err ENAME"
 * (e.g. "err ERANGE") with exit status 1.  Usage errors exit 2.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <unistd.h>

static const char *errname(int e)
{
    switch (e) {
#define E(x) case x: return #x;
    E(EPERM) E(ENOENT) E(EIO) E(EBADF) E(ENOMEM) E(EACCES) E(EFAULT) E(EBUSY)
    E(EEXIST) E(EXDEV) E(ENOTDIR) E(EISDIR) E(EINVAL) E(EFBIG) E(ENOSPC)
    E(EROFS) E(ERANGE) E(ENOSYS) E(ENODATA) E(ENOTSUP) E(E2BIG) E(EINTR)
    E(ENAMETOOLONG) E(ENOTEMPTY) E(ENOTCONN) E(ECANCELED) E(EAGAIN) E(ETXTBSY)
#undef E
    default: {
        static char unknown[32];
        snprintf(unknown, sizeof unknown, "E%d", e);
        return unknown;
    }
    }
}

/* Every buffer hangs off this static, so error paths (which just return)
 * leak nothing a sanitizer build would report. */
static char *buf;

static int fail(void)
{
    fprintf(stderr, "err %s\n", errname(errno));
    return 1;
}

static long num(const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < 0) {
        fprintf(stderr, "fsq: bad number '%s'\n", s);
        exit(2);
    }
    return v;
}

static int write_all(const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(1, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            perror("fsq: stdout");
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: fsq getxattr PATH NAME SIZE | listxattr PATH SIZE | "
                    "setxattr PATH NAME VALUE | removexattr PATH NAME | "
                    "open PATH r|w|rw|creat|trunc | read PATH [BS] | "
                    "pread PATH OFFSET LEN | mmap PATH\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return usage();
    const char *op = argv[1], *path = argv[2];

    if (!strcmp(op, "getxattr") && argc == 5) {
        size_t size = (size_t)num(argv[4]);
        buf = size ? malloc(size) : NULL;
        ssize_t n = getxattr(path, argv[3], buf, size);
        if (n < 0)
            return fail();
        if (!size)
            fprintf(stderr, "ok %zd\n", n);
        else
            fprintf(stderr, "ok %zd %.*s\n", n, (int)n, buf);
        free(buf);
        return 0;
    }
    if (!strcmp(op, "listxattr") && argc == 4) {
        size_t size = (size_t)num(argv[3]);
        buf = size ? malloc(size) : NULL;
        ssize_t n = listxattr(path, buf, size);
        if (n < 0)
            return fail();
        fprintf(stderr, "ok %zd", n);
        if (size) {
            /* names are NUL-terminated, one after the other */
            for (ssize_t i = 0; i < n; i += (ssize_t)strnlen(buf + i, (size_t)(n - i)) + 1)
                fprintf(stderr, " %.*s", (int)strnlen(buf + i, (size_t)(n - i)), buf + i);
        }
        fprintf(stderr, "\n");
        free(buf);
        return 0;
    }
    if (!strcmp(op, "setxattr") && argc == 5) {
        if (setxattr(path, argv[3], argv[4], strlen(argv[4]), 0) < 0)
            return fail();
        fprintf(stderr, "ok\n");
        return 0;
    }
    if (!strcmp(op, "removexattr") && argc == 4) {
        if (removexattr(path, argv[3]) < 0)
            return fail();
        fprintf(stderr, "ok\n");
        return 0;
    }
    if (!strcmp(op, "open") && argc == 4) {
        const char *m = argv[3];
        int flags;
        if (!strcmp(m, "r"))
            flags = O_RDONLY;
        else if (!strcmp(m, "w"))
            flags = O_WRONLY;
        else if (!strcmp(m, "rw"))
            flags = O_RDWR;
        else if (!strcmp(m, "creat"))
            flags = O_WRONLY | O_CREAT;
        else if (!strcmp(m, "trunc"))
            flags = O_WRONLY | O_TRUNC;
        else
            return usage();
        int fd = open(path, flags, 0644);
        if (fd < 0)
            return fail();
        close(fd);
        fprintf(stderr, "ok\n");
        return 0;
    }
    if (!strcmp(op, "read") && (argc == 3 || argc == 4)) {
        size_t bs = argc == 4 ? (size_t)num(argv[3]) : 65536;
        if (!bs)
            return usage();
        buf = malloc(bs);
        int fd = open(path, O_RDONLY);
        if (!buf || fd < 0)
            return fail();
        size_t total = 0;
        for (;;) {
            ssize_t n = read(fd, buf, bs);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                return fail();
            }
            if (n == 0)
                break;
            if (write_all(buf, (size_t)n))
                return 1;
            total += (size_t)n;
        }
        close(fd);
        free(buf);
        fprintf(stderr, "ok %zu\n", total);
        return 0;
    }
    if (!strcmp(op, "pread") && argc == 5) {
        off_t off = (off_t)num(argv[3]);
        size_t len = (size_t)num(argv[4]);
        buf = malloc(len ? len : 1);
        int fd = open(path, O_RDONLY);
        if (!buf || fd < 0)
            return fail();
        ssize_t n = pread(fd, buf, len, off);
        if (n < 0)
            return fail();
        if (write_all(buf, (size_t)n))
            return 1;
        close(fd);
        free(buf);
        fprintf(stderr, "ok %zd\n", n);
        return 0;
    }
    if (!strcmp(op, "mmap") && argc == 3) {
        int fd = open(path, O_RDONLY);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0)
            return fail();
        if (st.st_size == 0) {
            fprintf(stderr, "ok 0\n");
            return 0;
        }
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED)
            return fail();
        if (write_all(p, (size_t)st.st_size))
            return 1;
        munmap(p, (size_t)st.st_size);
        close(fd);
        fprintf(stderr, "ok %lld\n", (long long)st.st_size);
        return 0;
    }
    return usage();
}
