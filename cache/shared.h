/*
 * cache/shared — the second cache level, shared by hosts: memcached
 * through libmemcached, consistent (ketama) hashing over the servers.
 *
 * Values are content-addressed by the caller (keys name content ids and
 * pipeline versions, decoder/shared_key.c), so nothing here ever needs invalidating.
 * A value is stored as a header (magic, version, length, chunk count,
 * XXH3-64 of the payload, and the caller's meta) followed by the payload,
 * in chunks of at most SHARED_CHUNK bytes under KEY:cN when it does not fit
 * one item of a server started with defaults (1 MiB).  A value that is
 * truncated, corrupted or from another version is ignored and counted.
 * Keys longer than SHARED_KEY_MAX are replaced by a hash of themselves.
 *
 * Threads: every memcached call runs on the client's own I/O threads, started
 * by shared_new() from an unsandboxed thread (workers may not open sockets,
 * decoder/media/sandbox.h), each with its own connections.  A worker waits
 * for a get or a lease while it is queued at most SHARED_WAIT_MS, and once
 * an I/O thread runs it, until memcached answers (never giving up on an
 * answer on its way; SHARED_ANSWER_MAX_MS at most), or until its stop says
 * so; a put is queued and the caller goes on (dropped when the queue is
 * full).  Every memcached operation has a 50 ms timeout;
 * a server that fails is retried 1 to 2 s later (libmemcached counts whole
 * seconds), so a restarted memcached is used again without a remount (a
 * call that fails on a server last seen up is made once more, on a fresh
 * connection, in case its socket was to the old process).  One
 * log line per change of a server's state.
 * Never called from a FUSE thread.
 */
#ifndef FRAMEFS_SHARED_H
#define FRAMEFS_SHARED_H

#include <stdint.h>

#include "cache.h"

#define SHARED_KEY_MAX 200       /* memcached allows 250; chunk suffixes need room */
#define SHARED_CHUNK (1000u * 1000u)
#define SHARED_WAIT_MS 250
#define SHARED_ANSWER_MAX_MS 1000
#define SHARED_STOP_POLL_MS 20
#define SHARED_OP_TIMEOUT_MS 50
#define SHARED_LEASE_S 3

struct shared;

struct shared_stats {
    unsigned long hits, misses, errors, corrupt, stores, dropped;
};

/* servers: "HOST:PORT[+HOST:PORT...]"; ttl in seconds; log: as above.  NULL with err set
 * when the list does not parse or the thread cannot start; an unreachable
 * server is no error (every get misses until it answers). */
struct shared *shared_new(const char *servers, int ttl, cache_log_fn log, char *err,
                          size_t errlen);
void shared_free(struct shared *s);
/* Does a server list parse?  0, or -1 with err set. */
int shared_check_servers(const char *servers, char *err, size_t errlen);

/* The value of key, with its meta, or NULL (missing, unreachable, late,
 * stopped or corrupt; *corrupt, when given, says whether it was the last).
 * Blocks as the header says; stop(arg) (NULL: never) is polled every
 * SHARED_STOP_POLL_MS, without the client's lock held. */
struct blob *shared_get(struct shared *s, const char *key, struct cache_meta *meta,
                        int *corrupt, int (*stop)(void *), void *arg);
/* Take the lease on producing key (memcached add, SHARED_LEASE_S seconds):
 * 1 when this host got it or the servers cannot say (or stop said stop), 0
 * when another host holds it.  Blocks as shared_get(). */
int shared_lease(struct shared *s, const char *key, int (*stop)(void *), void *arg);
/* Store b (a reference is taken) under key, later, on the I/O thread. */
void shared_put(struct shared *s, const char *key, struct blob *b, const struct cache_meta *meta);
void shared_stats(struct shared *s, struct shared_stats *out);

#endif
