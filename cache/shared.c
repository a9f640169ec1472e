/*
 * cache/shared — see shared.h.
 *
 * SHARED_THREADS I/O threads (ioq.h), each with its own memcached_st (which
 * is not thread-safe) cloned from one configured here, run the operations.
 * A get or a lease is a call the worker waits on: while it waits in the
 * queue up to SHARED_WAIT_MS, and once an I/O thread runs it until the
 * answer comes (memcached's timeouts bound that, SHARED_ANSWER_MAX_MS at
 * most), or until the caller's stop says so.  Puts are posts (at most
 * PUT_QUEUE_MAX of them wait, else dropped).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <libmemcached/memcached.h>
#include <xxhash.h>

#include "ioq.h"
#include "shared.h"

#define PUT_QUEUE_MAX 16
#define SHARED_THREADS 4         /* gets of several readers in parallel */
#define VALUE_MAGIC "FFSV"
#define VALUE_VERSION 1u

enum op_kind { OP_GET, OP_LEASE, OP_PUT };

struct op {
    struct ioq_op base;          /* first: the queue's */
    enum op_kind kind;
    char key[SHARED_KEY_MAX + 1];
    struct blob *blob;           /* put: what to store; get: what was found */
    struct cache_meta meta;
    int result;                  /* lease: 1 ours, 0 another host's; get: 1 corrupt */
};

struct shared {
    struct ioq *q;
    pthread_mutex_t clone_lock;  /* memcached_clone() reads mc */
    memcached_st *mc;            /* the configuration the threads clone */
    cache_log_fn log;           /* a server's change of state */
    time_t ttl;
    /* Each server's (by its position in the list): -1 unknown, 0 down, 1
     * up.  Per server, as one state for the pool would flip at every op
     * while one server of several is down, a log line each time. */
    atomic_int *state;
    uint32_t n_servers;
    atomic_uint failures;        /* servers going down, as any I/O thread saw */
    atomic_ulong hits, misses, errors, corrupt, stores, dropped;
};

/* The header before a value's payload (little-endian on every host that
 * shares a pipeline version: the key says which). */
struct value_header {
    char magic[4];
    uint32_t version;
    uint64_t length;
    uint32_t chunks;             /* 0: the payload follows the header */
    uint32_t reserved;
    uint64_t checksum;           /* XXH3-64 of the payload */
    int64_t tag;
    int32_t width, height;
};

static void op_free(struct ioq_op *base)
{
    struct op *op = (struct op *)base;

    blob_unref(op->blob);
    free(op);
}

static void op_unref(struct op *op)
{
    ioq_op_unref(&op->base);
}

/* A key memcached takes: short ones as they are, long ones hashed. */
static void memcached_key(char out[SHARED_KEY_MAX + 1], const char *key)
{
    if (strlen(key) <= SHARED_KEY_MAX) {
        snprintf(out, SHARED_KEY_MAX + 1, "%s", key);
    } else {
        XXH128_hash_t h = XXH3_128bits(key, strlen(key));

        snprintf(out, SHARED_KEY_MAX + 1, "h:%016llx%016llx", (unsigned long long)h.high64,
                 (unsigned long long)h.low64);
    }
}

/* ---- the I/O thread ------------------------------------------------------ */

static int is_server_error(memcached_return_t rc)
{
    return rc != MEMCACHED_SUCCESS && rc != MEMCACHED_NOTFOUND && rc != MEMCACHED_NOTSTORED &&
           rc != MEMCACHED_DATA_EXISTS && rc != MEMCACHED_END && rc != MEMCACHED_STORED;
}

/* One I/O thread's connection: its memcached_st, and how many of
 * s->failures it has acted on. */
struct conn {
    memcached_st *mc;
    /* Reused by every chunk fetched, so its buffer stays.  Ours, not
     * libmemcached's: memcached_fetch_result() frees a result it allocated
     * once the answers end, and only resets one it did not. */
    memcached_result_st res_store;
    memcached_result_st *res;     /* &res_store once created, else NULL */
    unsigned failures_seen;
};

/* Before an op: when another thread saw a server go down since this one's
 * last op, this one's socket may be to a server that has died (and perhaps
 * restarted since): close it, so the op connects afresh instead of failing
 * on a dead socket. */
static void refresh(struct shared *s, struct conn *c)
{
    unsigned n = atomic_load(&s->failures);

    if (n != c->failures_seen) {
        memcached_quit(c->mc);
        c->failures_seen = n;
    }
}

/* Whether a failed call on key is worth making once more: its server was
 * up, so the failure may be a socket that server's previous process left
 * (a memcached restarted while this thread was idle); the failed call has
 * closed it, and a second call connects afresh.  A server that is really
 * down fails the second call too, and is then marked down as usual. */
static int stale(struct shared *s, struct conn *c, const char *key, memcached_return_t rc)
{
    uint32_t i;

    if (!is_server_error(rc) || rc == MEMCACHED_SERVER_TEMPORARILY_DISABLED ||
        rc == MEMCACHED_SERVER_MARKED_DEAD)
        return 0;
    i = memcached_generate_hash(c->mc, key, strlen(key));
    return i < s->n_servers && atomic_load(&s->state[i]) == 1;
}

/* Count the outcome of an op on key, and log the first one of each state of
 * the server that has key (whichever I/O thread sees the change first).  A
 * server going down also tells the other threads to close their sockets
 * (refresh); only the change does, so a server that stays down does not
 * make them reconnect to the live ones at each retry. */
static void note(struct shared *s, struct conn *c, const char *key, memcached_return_t rc)
{
    int up = !is_server_error(rc), was;
    uint32_t i;
    const memcached_instance_st *srv;

    if (!up)
        atomic_fetch_add(&s->errors, 1);
    /* A connection still waiting out its retry interval says nothing new. */
    if (rc == MEMCACHED_SERVER_TEMPORARILY_DISABLED || rc == MEMCACHED_SERVER_MARKED_DEAD)
        return;
    i = memcached_generate_hash(c->mc, key, strlen(key));    /* the server key went to */
    was = i < s->n_servers ? atomic_exchange(&s->state[i], up) : -1;
    if (!up && was != 0)         /* the others close their sockets; this one has */
        c->failures_seen = atomic_fetch_add(&s->failures, 1) + 1;
    if (was == up || i >= s->n_servers)
        return;
    srv = memcached_server_instance_by_position(c->mc, i);
    if (up)
        s->log(LOG_INFO, "shared cache %s:%u: reachable", memcached_server_name(srv),
                (unsigned)memcached_server_port(srv));
    else
        s->log(LOG_ERR, "shared cache %s:%u: unreachable (%s); frames are made locally",
                memcached_server_name(srv), (unsigned)memcached_server_port(srv),
                memcached_strerror(c->mc, rc));
}

static void chunk_key(char *out, size_t len, const char *key, uint32_t i)
{
    snprintf(out, len, "%s:c%u", key, i);
}

static void do_put(struct shared *s, struct conn *c, struct op *op)
{
    memcached_st *mc = c->mc;
    const struct blob *b = op->blob;
    struct value_header h = {VALUE_MAGIC, VALUE_VERSION, b->size, 0, 0,
                             XXH3_64bits(b->data, b->size), op->meta.tag,
                             op->meta.width, op->meta.height};
    memcached_return_t rc = MEMCACHED_SUCCESS;
    char ck[SHARED_KEY_MAX + 16];
    const char *last = op->key;  /* the key of the last call made */

    if (b->size + sizeof(h) > SHARED_CHUNK)
        h.chunks = (uint32_t)((b->size + SHARED_CHUNK - 1) / SHARED_CHUNK);
    /* Chunks first, the header last: no reader sees a header before its
     * chunks are there. */
    for (uint32_t i = 0; i < h.chunks && rc == MEMCACHED_SUCCESS; i++) {
        size_t off = (size_t)i * SHARED_CHUNK, n = b->size - off;

        chunk_key(ck, sizeof(ck), op->key, i);
        last = ck;
        rc = memcached_set(mc, ck, strlen(ck), (const char *)b->data + off,
                           n < SHARED_CHUNK ? n : SHARED_CHUNK, s->ttl, 0);
        if (i == 0 && stale(s, c, ck, rc))
            rc = memcached_set(mc, ck, strlen(ck), (const char *)b->data + off,
                               n < SHARED_CHUNK ? n : SHARED_CHUNK, s->ttl, 0);
    }
    if (rc == MEMCACHED_SUCCESS) {
        size_t n = sizeof(h) + (h.chunks ? 0 : b->size);
        char *v = malloc(n);

        if (!v)
            return;
        memcpy(v, &h, sizeof(h));
        if (!h.chunks)
            memcpy(v + sizeof(h), b->data, b->size);
        last = op->key;
        rc = memcached_set(mc, op->key, strlen(op->key), v, n, s->ttl, 0);
        if (!h.chunks && stale(s, c, op->key, rc))
            rc = memcached_set(mc, op->key, strlen(op->key), v, n, s->ttl, 0);
        free(v);
    }
    note(s, c, last, rc);
    if (rc == MEMCACHED_SUCCESS)
        atomic_fetch_add(&s->stores, 1);
}

/* The value under op->key into op->blob, or nothing (counted). */
/* The chunks of a value into b, in one round trip (memcached_mget, then
 * every answer fetched into the connection's reused result, which spares a
 * fresh megabyte per chunk).  0, or -1 when one is missing or the wrong
 * size. */
static int fetch_chunks(struct shared *s, struct conn *c, const char *key,
                        const struct value_header *h, struct blob *b)
{
    const size_t klen = SHARED_KEY_MAX + 16;
    uint32_t n = h->chunks, seen = 0;
    char *names = malloc((size_t)n * klen);
    const char **keys = malloc(n * sizeof(*keys));
    size_t *lens = malloc(n * sizeof(*lens));
    char *have = calloc(n, 1);
    memcached_return_t rc = MEMCACHED_FAILURE;
    memcached_result_st *r;
    int ret = -1;

    if (!names || !keys || !lens || !have)
        goto out;
    for (uint32_t i = 0; i < n; i++) {
        chunk_key(names + i * klen, klen, key, i);
        keys[i] = names + i * klen;
        lens[i] = strlen(keys[i]);
    }
    rc = memcached_mget(c->mc, keys, lens, n);
    note(s, c, key, rc);
    if (rc != MEMCACHED_SUCCESS)
        goto out;
    ret = 0;
    while ((r = memcached_fetch_result(c->mc, c->res, &rc))) {
        const char *k = memcached_result_key_value(r), *at = strrchr(k, ':');
        size_t got = memcached_result_length(r), want;
        unsigned long i;

        /* every answer is fetched, even after a bad one: the connection
         * must be drained for the next op */
        if (!at || at[1] != 'c' || (i = strtoul(at + 2, NULL, 10)) >= n) {
            ret = -1;
            continue;
        }
        want = i + 1 < n ? SHARED_CHUNK : (size_t)(h->length - (uint64_t)i * SHARED_CHUNK);
        if (got != want || have[i]) {
            ret = -1;
            continue;
        }
        memcpy(b->data + (size_t)i * SHARED_CHUNK, memcached_result_value(r), got);
        have[i] = 1;
        seen++;
    }
    if (rc != MEMCACHED_END && rc != MEMCACHED_NOTFOUND && rc != MEMCACHED_SUCCESS)
        note(s, c, key, rc);
    if (seen != n)
        ret = -1;
out:
    free(names);
    free(keys);
    free(lens);
    free(have);
    return ret;
}

static void do_get(struct shared *s, struct conn *c, struct op *op)
{
    memcached_st *mc = c->mc;
    memcached_return_t rc;
    size_t len = 0;
    uint32_t flags;
    char *v = memcached_get(mc, op->key, strlen(op->key), &len, &flags, &rc);
    struct value_header h;
    struct blob *b = NULL;

    if (!v && stale(s, c, op->key, rc))
        v = memcached_get(mc, op->key, strlen(op->key), &len, &flags, &rc);
    note(s, c, op->key, rc);
    if (!v) {
        atomic_fetch_add(&s->misses, 1);     /* missing, or unreachable (an error too) */
        return;
    }
    memcpy(&h, v, len < sizeof(h) ? len : sizeof(h));
    if (len < sizeof(h) || memcmp(h.magic, VALUE_MAGIC, 4) != 0 || h.version != VALUE_VERSION ||
        h.length > ((uint64_t)1 << 32) ||
        (h.chunks == 0 ? len != sizeof(h) + h.length
                       : len != sizeof(h) || h.chunks != (h.length + SHARED_CHUNK - 1) / SHARED_CHUNK) ||
        !(b = blob_new((size_t)h.length)))
        goto corrupt;
    if (!h.chunks)
        memcpy(b->data, v + sizeof(h), (size_t)h.length);
    else if (c->res ? fetch_chunks(s, c, op->key, &h, b) < 0 : 1)
        goto corrupt;
    if (XXH3_64bits(b->data, b->size) != h.checksum)
        goto corrupt;
    free(v);
    op->blob = b;
    op->meta = (struct cache_meta){h.tag, h.width, h.height};
    atomic_fetch_add(&s->hits, 1);
    return;
corrupt:
    free(v);
    blob_unref(b);
    op->result = 1;
    atomic_fetch_add(&s->corrupt, 1);
}

static void do_lease(struct shared *s, struct conn *c, struct op *op)
{
    memcached_st *mc = c->mc;
    char lk[SHARED_KEY_MAX + 16];
    memcached_return_t rc;

    snprintf(lk, sizeof(lk), "L:%s", op->key);
    rc = memcached_add(mc, lk, strlen(lk), "1", 1, SHARED_LEASE_S, 0);
    if (stale(s, c, lk, rc))
        rc = memcached_add(mc, lk, strlen(lk), "1", 1, SHARED_LEASE_S, 0);
    note(s, c, lk, rc);
    op->result = rc == MEMCACHED_NOTSTORED || rc == MEMCACHED_DATA_EXISTS ? 0 : 1;
}

static void *conn_start(void *ctx)
{
    struct shared *s = ctx;
    struct conn *c = calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    pthread_mutex_lock(&s->clone_lock);
    c->mc = memcached_clone(NULL, s->mc);
    pthread_mutex_unlock(&s->clone_lock);
    c->res = c->mc ? memcached_result_create(c->mc, &c->res_store) : NULL;
    c->failures_seen = atomic_load(&s->failures);
    return c;
}

static void conn_end(void *ctx, void *state)
{
    struct conn *c = state;

    (void)ctx;
    if (!c)
        return;
    if (c->res)
        memcached_result_free(c->res);
    memcached_free(c->mc);
    free(c);
}

static void conn_run(void *ctx, void *state, struct ioq_op *base)
{
    struct shared *s = ctx;
    struct conn *c = state;
    struct op *op = (struct op *)base;

    if (!c || !c->mc)
        return;                  /* out of memory: the op fails (a miss) */
    refresh(s, c);
    if (op->kind == OP_GET)
        do_get(s, c, op);
    else if (op->kind == OP_LEASE)
        do_lease(s, c, op);
    else
        do_put(s, c, op);
}

/* ---- callers ------------------------------------------------------------- */

static struct op *op_new(enum op_kind kind, const char *key)
{
    struct op *op = calloc(1, sizeof(*op));

    if (!op)
        return NULL;
    ioq_op_init(&op->base, op_free);
    op->kind = kind;
    memcached_key(op->key, key);
    return op;
}

/* Run op on an I/O thread and wait for it: while it is queued, up to
 * SHARED_WAIT_MS; once a thread runs it, until it is done (memcached's
 * own timeouts bound that), up to SHARED_ANSWER_MAX_MS.  Returns op done
 * (the caller unrefs it), or NULL when it came too late or the caller
 * stopped. */
static struct op *run_sync(struct shared *s, struct op *op, int (*stop)(void *), void *arg)
{
    int stopped;

    if (ioq_call(s->q, &op->base, SHARED_WAIT_MS, SHARED_ANSWER_MAX_MS, stop, arg, &stopped))
        return op;
    if (!stopped)
        atomic_fetch_add(&s->errors, 1);
    return NULL;
}

struct blob *shared_get(struct shared *s, const char *key, struct cache_meta *meta,
                        int *corrupt, int (*stop)(void *), void *arg)
{
    struct op *op = op_new(OP_GET, key);
    struct blob *b = NULL;

    if (corrupt)
        *corrupt = 0;
    if (op && (op = run_sync(s, op, stop, arg))) {
        b = op->blob;
        op->blob = NULL;
        *meta = op->meta;
        if (corrupt)
            *corrupt = op->result;
        op_unref(op);
    }
    return b;
}

int shared_lease(struct shared *s, const char *key, int (*stop)(void *), void *arg)
{
    struct op *op = op_new(OP_LEASE, key);
    int ours = 1;

    if (op && (op = run_sync(s, op, stop, arg))) {
        ours = op->result;
        op_unref(op);
    }
    return ours;
}

void shared_put(struct shared *s, const char *key, struct blob *b, const struct cache_meta *meta)
{
    struct op *op = op_new(OP_PUT, key);

    if (!op)
        return;
    op->blob = blob_ref(b);
    op->meta = *meta;
    if (ioq_post(s->q, &op->base) < 0)
        atomic_fetch_add(&s->dropped, 1);
}

void shared_stats(struct shared *s, struct shared_stats *out)
{
    *out = (struct shared_stats){atomic_load(&s->hits), atomic_load(&s->misses),
                                 atomic_load(&s->errors), atomic_load(&s->corrupt),
                                 atomic_load(&s->stores), atomic_load(&s->dropped)};
}

/* ---- setup --------------------------------------------------------------- */

/* "HOST:PORT[+HOST:PORT...]" into the client's server list; 0 or -1. */
static int add_servers(memcached_st *mc, const char *list)
{
    char *copy = strdup(list), *save = NULL, *tok;
    int n = 0;

    if (!copy)
        return -1;
    for (tok = strtok_r(copy, "+", &save); tok; tok = strtok_r(NULL, "+", &save)) {
        char *colon = strrchr(tok, ':'), *end;
        long port;

        if (!colon || colon == tok)
            goto bad;
        *colon = 0;
        port = strtol(colon + 1, &end, 10);
        if (*end || port < 1 || port > 65535 ||
            memcached_server_add(mc, tok, (in_port_t)port) != MEMCACHED_SUCCESS)
            goto bad;
        n++;
    }
    free(copy);
    return n ? 0 : -1;
bad:
    free(copy);
    return -1;
}

int shared_check_servers(const char *servers, char *err, size_t errlen)
{
    memcached_st *mc = memcached_create(NULL);
    int ret = mc && add_servers(mc, servers) == 0 ? 0 : -1;

    if (ret < 0)
        snprintf(err, errlen, "invalid shared_cache '%s' (HOST:PORT[+HOST:PORT...])", servers);
    memcached_free(mc);
    return ret;
}

struct shared *shared_new(const char *servers, int ttl, cache_log_fn log, char *err,
                          size_t errlen)
{
    struct shared *s = calloc(1, sizeof(*s));

    if (!s || !(s->mc = memcached_create(NULL))) {
        snprintf(err, errlen, "out of memory");
        free(s);
        return NULL;
    }
    if (add_servers(s->mc, servers) < 0) {
        snprintf(err, errlen, "invalid shared_cache '%s' (HOST:PORT[+HOST:PORT...])", servers);
        memcached_free(s->mc);
        free(s);
        return NULL;
    }
    s->n_servers = memcached_server_count(s->mc);
    if (!(s->state = malloc(s->n_servers * sizeof(*s->state)))) {
        snprintf(err, errlen, "out of memory");
        memcached_free(s->mc);
        free(s);
        return NULL;
    }
    for (uint32_t i = 0; i < s->n_servers; i++)
        atomic_init(&s->state[i], -1);
    s->ttl = ttl;
    s->log = log;
    atomic_init(&s->failures, 0);
    /* ketama: adding or losing a server moves only its share of the keys. */
    memcached_behavior_set(s->mc, MEMCACHED_BEHAVIOR_DISTRIBUTION,
                           MEMCACHED_DISTRIBUTION_CONSISTENT_KETAMA);
    memcached_behavior_set(s->mc, MEMCACHED_BEHAVIOR_NO_BLOCK, 1);
    memcached_behavior_set(s->mc, MEMCACHED_BEHAVIOR_TCP_NODELAY, 1);
    memcached_behavior_set(s->mc, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, SHARED_OP_TIMEOUT_MS);
    memcached_behavior_set(s->mc, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, SHARED_OP_TIMEOUT_MS);
    memcached_behavior_set(s->mc, MEMCACHED_BEHAVIOR_SND_TIMEOUT, SHARED_OP_TIMEOUT_MS * 1000);
    memcached_behavior_set(s->mc, MEMCACHED_BEHAVIOR_RCV_TIMEOUT, SHARED_OP_TIMEOUT_MS * 1000);
    /* A server that fails is skipped, then tried again: after 1 to 2 s, as
     * libmemcached compares whole seconds. */
    memcached_behavior_set(s->mc, MEMCACHED_BEHAVIOR_RETRY_TIMEOUT, 1);
    memcached_behavior_set(s->mc, MEMCACHED_BEHAVIOR_SERVER_FAILURE_LIMIT, 1);
    pthread_mutex_init(&s->clone_lock, NULL);
    {
        struct ioq_worker w = {conn_start, conn_run, conn_end, s};

        if (!(s->q = ioq_new(SHARED_THREADS, "framefs-shared", &w, PUT_QUEUE_MAX))) {
            snprintf(err, errlen, "cannot start the shared cache threads");
            pthread_mutex_destroy(&s->clone_lock);
            memcached_free(s->mc);
            free(s->state);
            free(s);
            return NULL;
        }
    }
    return s;
}

void shared_free(struct shared *s)
{
    if (!s)
        return;
    ioq_free(s->q);              /* the puts still go out, each bounded by the timeouts */
    memcached_free(s->mc);
    free(s->state);
    pthread_mutex_destroy(&s->clone_lock);
    free(s);
}
