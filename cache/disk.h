/*
 * cache/disk — the disk tier: values kept in a directory across mounts and
 * reboots, bounded in bytes, least recently used evicted first.
 *
 * Keys are the caller's (content-addressed, naming the pipeline version:
 * decoder/tier_key.c), so nothing here is ever invalidated: a changed
 * source or another framefs has other keys.  A value is one file,
 * DIR/ab/<XXH3-128 of the key, in hex> (ab: its first two digits): a header
 * (magic, format version, lengths, the caller's meta, an XXH3-64 of header,
 * key and payload), the key, the payload.  It is written under a name of
 * this process's own (ab/.tmp.<pid>.<n>), fsync'd, then renamed into place,
 * so a reader sees a whole entry or none; several processes may share one
 * directory without a lock (rename is atomic, every name a process writes
 * is its own, and an eviction that finds a file gone goes on).  An entry
 * that is torn, truncated or corrupt is found on read (size, magic, key,
 * checksum), deleted, counted and logged, and read as a miss.  Temporary
 * files of processes that are gone are deleted by the next scan.  Only
 * names of this form are ever touched in DIR.
 *
 * Recency is the entry's mtime: a hit touches it when it is older than
 * DISK_TOUCH_S.  The total (file sizes rounded up to 4 KiB) stays under
 * max_bytes: a store that would pass it waits for the eviction thread,
 * which deletes the oldest entries down to DISK_LOW_WATER of it; the
 * thread also scans DIR when the tier starts (learning what is there) and
 * every DISK_RESCAN_S, to see what other processes stored.
 *
 * A directory that cannot be made or opened disables the tier; one that
 * cannot be written (read-only, full disk, deleted) stops storing, and what
 * it holds is still served: each with one log line.  Frames never depend
 * on the disk.
 *
 * Threads: reads run on DISK_READERS threads of the tier's own and writes
 * on one more (cache/ioq.h), started by disk_new() from an unsandboxed
 * thread, since the decoder's workers may open nothing; eviction on one
 * more.  A worker waits for a read while it is queued at most
 * DISK_WAIT_MS and while it runs at most DISK_ANSWER_MAX_MS, or until its
 * stop says so; a store is queued (at most DISK_PUT_QUEUE_MAX of them and
 * DISK_QUEUE_BYTES, else dropped) and the caller goes on.  Never called from a FUSE thread.
 */
#ifndef FRAMEFS_DISK_H
#define FRAMEFS_DISK_H

#include <stdint.h>

#include "cache.h"

#define DISK_READERS 2
#define DISK_PUT_QUEUE_MAX 16
#define DISK_QUEUE_BYTES (32u << 20)   /* and at most this many bytes of them */
#define DISK_WAIT_MS 1000
#define DISK_ANSWER_MAX_MS 2000
#define DISK_TOUCH_S 60
#define DISK_RESCAN_S 300
#define DISK_LOW_WATER 0.9

struct disk;

enum disk_state {
    DISK_OFF,                    /* the directory is unusable: every get misses */
    DISK_READ_ONLY,              /* served, nothing stored (it cannot be written) */
    DISK_ON,
};

struct disk_stats {
    unsigned long hits, misses, corrupt, evictions, stores, dropped;
    uint64_t bytes, max_bytes;   /* bytes: in the directory, as last counted */
    enum disk_state state;
};

/* The tier in dir (made when missing, one level), at most max_bytes.  NULL
 * with err set only when memory runs out or no thread starts: an unusable
 * directory gives a tier that is off (logged). */
struct disk *disk_new(const char *dir, uint64_t max_bytes, cache_log_fn log, char *err,
                      size_t errlen);
/* Writes still queued are made first. */
void disk_free(struct disk *d);

/* The value of key, with its meta, or NULL (missing, corrupt, late or
 * stopped).  Blocks as the header says; stop (NULL: never) is polled
 * every IOQ_STOP_POLL_MS. */
struct blob *disk_get(struct disk *d, const char *key, struct cache_meta *meta,
                      int (*stop)(void *), void *arg);
/* Store b (a reference is taken) under key, later, on the tier's thread. */
void disk_put(struct disk *d, const char *key, struct blob *b, const struct cache_meta *meta);
void disk_stats(struct disk *d, struct disk_stats *out);

#endif
