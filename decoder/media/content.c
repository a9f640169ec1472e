/* decoder/media/content — see content.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <xxhash.h>

#include "content.h"

#define CHUNK (1 << 20)

int content_id(int fd, int64_t size, char id[CONTENT_ID_LEN], int (*stop)(void *), void *arg)
{
    XXH3_state_t *st = XXH3_createState();
    unsigned char *buf = malloc(CHUNK);
    int64_t pos = 0;
    int ret = 0;

    if (!st || !buf || XXH3_128bits_reset(st) == XXH_ERROR)
        ret = -ENOMEM;
    while (!ret && pos < size) {
        size_t want = size - pos < CHUNK ? (size_t)(size - pos) : CHUNK;
        ssize_t n = pread(fd, buf, want, pos);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            ret = n < 0 ? -errno : -EIO;   /* the file shrank under us */
        else if (stop && stop(arg))
            ret = -ECANCELED;
        else
            XXH3_128bits_update(st, buf, (size_t)n), pos += n;
    }
    if (!ret) {
        XXH128_hash_t h = XXH3_128bits_digest(st);

        snprintf(id, CONTENT_ID_LEN, "%016llx%016llx", (unsigned long long)h.high64,
                 (unsigned long long)h.low64);
    }
    XXH3_freeState(st);
    free(buf);
    return ret;
}
