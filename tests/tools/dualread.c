/*
 * dualread — read one file through two file descriptors at the same time.
 *
 *   dualread PATH BS1 BS2
 *
 * Opens PATH twice (both opens happen before any read), fstat()s it, then two
 * threads read the whole file concurrently, one through each descriptor, with
 * read() calls of BS1 and BS2 bytes.  Checks that each thread got exactly
 * st_size bytes (no short or extra data: a read returning 0 before st_size is
 * a short file, more bytes than st_size a wrong size) and that both copies are
 * byte-identical (no torn read).  Writes the bytes to stdout.
 *
 * Prints one line on stderr: "ok SIZE" (exit 0), or "err ENAME" when a system
 * call failed, or "bad REASON" when the data is wrong (exit 1).  Usage
 * errors exit 2.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct reader {
    int fd;
    size_t bs;
    size_t cap;          /* st_size + 1: one byte more catches a long file */
    unsigned char *buf;
    size_t got;
    int err;             /* errno of a failed read, else 0 */
};

/* Buffers hang off these statics so that error paths leak nothing. */
static struct reader r[2];
static unsigned char *chunk[2];

static void *run(void *arg)
{
    struct reader *rd = arg;
    unsigned char *tmp = chunk[rd == &r[1]];

    for (;;) {
        ssize_t n = read(rd->fd, tmp, rd->bs);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            rd->err = errno;
            return NULL;
        }
        if (n == 0)
            return NULL;
        /* keep at most cap bytes; count them all */
        if (rd->got < rd->cap) {
            size_t keep = (size_t)n < rd->cap - rd->got ? (size_t)n : rd->cap - rd->got;
            memcpy(rd->buf + rd->got, tmp, keep);
        }
        rd->got += (size_t)n;
    }
}

static long num(const char *s)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v <= 0 || v > (64L << 20)) {
        fprintf(stderr, "dualread: bad buffer size '%s'\n", s);
        exit(2);
    }
    return v;
}

static int errout(int e)
{
    fprintf(stderr, "err %s\n", e == ENOENT ? "ENOENT" : e == EIO ? "EIO" :
                                e == EINTR ? "EINTR" : e == ENOTCONN ? "ENOTCONN" :
                                e == ENOMEM ? "ENOMEM" : strerror(e));
    return 1;
}

int main(int argc, char **argv)
{
    struct stat st;
    pthread_t th[2];
    int ret = 0;

    if (argc != 4) {
        fprintf(stderr, "usage: dualread PATH BS1 BS2\n");
        return 2;
    }
    r[0].bs = (size_t)num(argv[2]);
    r[1].bs = (size_t)num(argv[3]);
    for (int i = 0; i < 2; i++) {
        r[i].fd = open(argv[1], O_RDONLY);
        if (r[i].fd < 0)
            return errout(errno);
    }
    if (fstat(r[0].fd, &st) < 0)
        return errout(errno);
    for (int i = 0; i < 2; i++) {
        r[i].cap = (size_t)st.st_size + 1;
        r[i].buf = malloc(r[i].cap);
        chunk[i] = malloc(r[i].bs);
        if (!r[i].buf || !chunk[i])
            return errout(ENOMEM);
    }
    for (int i = 0; i < 2; i++)
        if ((errno = pthread_create(&th[i], NULL, run, &r[i])) != 0)
            return errout(errno);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 2; i++) {
        if (r[i].err)
            return errout(r[i].err);
        if (r[i].got != (size_t)st.st_size) {
            fprintf(stderr, "bad fd %d (bs %zu) read %zu bytes, st_size %lld\n", i + 1, r[i].bs,
                    r[i].got, (long long)st.st_size);
            ret = 1;
        }
    }
    if (!ret && memcmp(r[0].buf, r[1].buf, (size_t)st.st_size) != 0) {
        size_t k = 0;

        while (r[0].buf[k] == r[1].buf[k])
            k++;
        fprintf(stderr, "bad the two descriptors read different bytes (first at offset %zu)\n", k);
        ret = 1;
    }
    if (!ret) {
        size_t off = 0;

        while (off < (size_t)st.st_size) {
            ssize_t n = write(1, r[0].buf + off, (size_t)st.st_size - off);

            if (n < 0) {
                if (errno == EINTR)
                    continue;
                perror("dualread: stdout");
                ret = 1;
                break;
            }
            off += (size_t)n;
        }
        if (!ret)
            fprintf(stderr, "ok %lld\n", (long long)st.st_size);
    }
    for (int i = 0; i < 2; i++) {
        close(r[i].fd);
        free(r[i].buf);
        free(chunk[i]);
    }
    return ret;
}
