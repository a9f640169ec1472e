/*
 * cache/ — the bottom floor: where bytes are kept, knowing nothing of what
 * they are.  This header (blob.c, lru.c): immutable refcounted byte buffers
 * and a byte-bounded LRU of them with single-flight production, the memory
 * tier.  shared.h (shared.c): the memcached client, the tier shared by hosts.
 * No FFmpeg and no FUSE here; the keys are made above (decoder/).  Start with
 * struct blob, then lru_get().
 *
 * Ownership
 *   struct blob: immutable once published, refcounted (atomic).  blob_new()
 *   and blob_ref() each give the caller one reference, blob_unref() drops one;
 *   the last unref frees.  A blob may be read from any thread.
 *   struct lru: owns one reference to every blob it holds.  lru_get() and
 *   lru_peek() hand the caller a new reference.
 *
 * Single-flight
 *   lru_get() on a missing key marks it "pending" and returns LRU_PRODUCE: the
 *   caller must then call exactly one of lru_put() or lru_abandon() for that key.
 *   Another lru_get() of a pending key blocks until the producer finishes (then
 *   it gets the blob, or becomes the producer itself if the producer abandoned)
 *   or until its own should_stop(arg) returns non-zero (polled at least every
 *   20 ms), in which case it returns LRU_STOPPED.  lru_get_or_park() parks
 *   instead of blocking, and is resumed when the producer finishes.
 *
 * Locking
 *   One mutex per lru protects the table, the recency list and byte count; no
 *   callback is ever called with it held except should_stop (which must be
 *   cheap and must not call into the lru).  lru_get() blocks (see above); every
 *   other function returns promptly.
 *
 * Byte bound
 *   The sum of (blob size + key length + fixed entry overhead) of the ready
 *   entries never exceeds max_bytes after lru_put() returns: least recently
 *   used ready entries are evicted first.  A blob larger than max_bytes is
 *   handed to its waiters but not kept.  Pending entries cost nothing.
 *   The fixed overhead is sizeof the lru's private entry struct (64 bytes
 *   on LP64).
 *
 * Out of memory and stray calls
 *   If lru_get() cannot allocate the pending entry (or, for a waiter, its
 *   condition variable) it still returns LRU_PRODUCE, without marking the key
 *   pending (so another lru_get() of the same key may produce it too:
 *   duplicated work, never a hang).
 *   lru_put() and lru_abandon() therefore accept any key, whatever its state:
 *     lru_put():     pending key -> published as above;  ready key -> its
 *                    blob is replaced by `b`;  unknown key -> inserted ready
 *                    (if memory allows; never an error);
 *     lru_abandon(): pending key -> as above;  ready or unknown key -> no-op.
 *   So a spurious put/abandon may duplicate work but cannot strand a waiter.
 */
#ifndef FRAMEFS_CACHE_H
#define FRAMEFS_CACHE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct blob {
    size_t size;
    unsigned char *data;     /* size bytes; owned by the blob */
    int64_t tag;             /* the producer's, set before publishing (0 at
                                creation); the decoder keeps the frame's pts */
    int width, height;       /* the producer's too (0 at creation): the
                                decoder keeps the image's size */
    /* private below */
    atomic_int refs;
    _Bool adopted;           /* data is a separate malloc (blob_adopt) */
};

/* New blob of `size` bytes (contents uninitialised, data aligned for any
 * type), one reference; NULL on ENOMEM. */
struct blob *blob_new(size_t size);
/* New blob holding a copy of data[0..size); NULL on ENOMEM. */
struct blob *blob_from(const void *data, size_t size);
/* Take ownership of malloc'd memory `data` (freed with free() by the last
 * unref).  On ENOMEM returns NULL and `data` still belongs to the caller. */
struct blob *blob_adopt(void *data, size_t size);
struct blob *blob_ref(struct blob *b);
void blob_unref(struct blob *b);           /* NULL is fine */

struct lru;

enum lru_status {
    LRU_HIT,        /* *out holds a new reference */
    LRU_PRODUCE,    /* caller must lru_put() or lru_abandon() this key */
    LRU_STOPPED,    /* should_stop() said so while waiting; *out is NULL */
    LRU_PARKED,     /* lru_get_or_park(): pending elsewhere; resumed later */
};

/* A caller that waits for a pending key without blocking a thread.  Before
 * resume() runs, status and blob hold the outcome, as lru_get() would have
 * returned it: LRU_HIT with a new reference, or LRU_PRODUCE (the producer
 * abandoned and this caller takes over). */
struct lru_parked {
    void (*resume)(struct lru_parked *p);
    enum lru_status status;
    struct blob *blob;
    struct lru_parked *next;     /* private */
};

struct lru *lru_new(size_t max_bytes);
/* Frees every entry.  No thread may be inside lru_get() or hold a pending key. */
void lru_free(struct lru *c);

enum lru_status lru_get(struct lru *c, const char *key, struct blob **out,
                        int (*should_stop)(void *arg), void *arg);
/* As lru_get(), but never blocks: when the key is pending elsewhere it
 * returns LRU_PARKED, and p->resume(p) is called exactly once, without the
 * lru's lock, by the thread that puts or abandons the key (p's status and
 * blob say which).  A parked caller counts in lru_waiters(). */
enum lru_status lru_get_or_park(struct lru *c, const char *key, struct blob **out,
                                struct lru_parked *p);
/* Never blocks: a new reference if `key` is ready, else NULL.  Counts as a use. */
struct blob *lru_peek(struct lru *c, const char *key);
/* Publish the blob for a key this thread is producing; the lru takes its own
 * reference (the caller keeps theirs) and gives each waiter one.  b == NULL
 * is treated as lru_abandon(). */
void lru_put(struct lru *c, const char *key, struct blob *b);
/* Give up producing `key`: one waiter (if any) becomes the producer. */
void lru_abandon(struct lru *c, const char *key);
/* Threads currently blocked in lru_get() for `key` (0 if none or not pending). */
int lru_waiters(struct lru *c, const char *key);
/* Drop every ready entry whose key starts with `prefix` (a changed source). */
void lru_drop_prefix(struct lru *c, const char *prefix);

/* bytes/entries: ready entries only.  hits: lru_get()/lru_peek() calls that
 * returned a blob (including after waiting for another producer).  misses:
 * lru_get() calls that returned LRU_PRODUCE (including hand-overs after an
 * abandon) and lru_peek() calls that returned NULL.  evictions: entries
 * dropped to respect max_bytes (not lru_drop_prefix, not replacement, not an
 * oversized blob that was never kept). */
struct lru_stats {
    size_t bytes, max_bytes, entries;
    unsigned long hits, misses, evictions;
};
void lru_stats(struct lru *c, struct lru_stats *out);

/* ---- what the tiers below memory share (disk.h, shared.h, tiers.h) ---- */

/* What a value carries besides its bytes (a frame's pts and size). */
struct cache_meta {
    int64_t tag;
    int32_t width, height;
};

/* Where a tier's log lines go: syslog levels (LOG_INFO, LOG_ERR), one
 * line, from any of its threads (the caller's logger: cache/ has none). */
typedef void (*cache_log_fn)(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
