/*
 * Immutable refcounted byte buffers.  blob_new() and blob_from() put the
 * header and the bytes in one allocation; blob_adopt() keeps the caller's
 * buffer and frees it separately.
 */
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "cache.h"

#define BLOB_POPULATE_BYTES (256u * 1024)   /* malloc's mmap threshold (fs/main.c) */

/* Inline data starts here, rounded up so it is aligned for any type. */
#define BLOB_HDR \
    ((sizeof(struct blob) + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1))

static unsigned char *inline_data(struct blob *b)
{
    return (unsigned char *)b + BLOB_HDR;
}

static void blob_init(struct blob *b, unsigned char *data, size_t size,
                      _Bool adopted)
{
    b->size = size;
    b->data = data;
    atomic_init(&b->refs, 1);
    b->adopted = adopted;
    b->tag = 0;
    b->width = b->height = 0;
}

/* The pages of a large new buffer, made present in one call: it is filled
 * at once (a value from a tier, a copy), and one fault per 4 KiB page, each
 * a trip into the kernel, cost more than the zeroing (perf of a shared
 * hit of a 2.5 MB PNG).  Advice only: an older kernel says EINVAL. */
static void populate(void *data, size_t size)
{
    uintptr_t page = 4096, start = ((uintptr_t)data + page - 1) & ~(page - 1);
    uintptr_t end = ((uintptr_t)data + size) & ~(page - 1);

    if (size >= BLOB_POPULATE_BYTES && end > start)
        madvise((void *)start, end - start, MADV_POPULATE_WRITE);
}

struct blob *blob_new(size_t size)
{
    if (size > SIZE_MAX - BLOB_HDR)
        return NULL;
    struct blob *b = malloc(BLOB_HDR + size);
    if (!b)
        return NULL;
    blob_init(b, inline_data(b), size, 0);
    populate(b->data, size);
    return b;
}

struct blob *blob_from(const void *data, size_t size)
{
    struct blob *b = blob_new(size);
    if (b && size)          /* memcpy(…, NULL, 0) is undefined */
        memcpy(b->data, data, size);
    return b;
}

struct blob *blob_adopt(void *data, size_t size)
{
    struct blob *b = malloc(sizeof(*b));
    if (!b)
        return NULL;        /* data stays the caller's (cache.h) */
    blob_init(b, data, size, 1);
    return b;
}

struct blob *blob_ref(struct blob *b)
{
    /* Relaxed: the caller already holds a reference, so b cannot go away. */
    if (b)
        atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
    return b;
}

void blob_unref(struct blob *b)
{
    if (!b)
        return;
    /* acq_rel: our writes happen before the free, and the freeing thread sees
     * every other holder's.  (A release decrement plus an acquire fence would
     * do, but ThreadSanitizer does not understand standalone fences.) */
    if (atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (b->adopted)
        free(b->data);
    free(b);
}
