/*
 * Byte-bounded LRU of blobs keyed by strings, with single-flight production.
 *
 * An entry is either pending (blob == NULL: someone is producing it) or ready.
 * Every entry is in the hash table (chained, FNV-1a, doubled when the load
 * factor passes 1); only ready entries are on the recency list and count
 * towards `bytes`.
 *
 * Threads blocked in lru_get() on a pending entry queue a struct waiter that
 * lives on their own stack, each with its own condition variable.  Whoever
 * resolves the entry (lru_put / lru_abandon) fills in the waiter's result,
 * unlinks it and signals it, so a woken waiter never touches the entry again:
 * the entry may be evicted or freed before the waiter gets the mutex back.
 * Only a waiter that gives up (should_stop) unlinks itself, and it can only
 * still be queued if the entry is still pending, hence still alive.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache.h"

#define POLL_NS     (20 * 1000 * 1000)  /* should_stop poll period */
#define MIN_BUCKETS 64

struct waiter {
    struct waiter *next;
    pthread_cond_t cond;
    int done;                   /* result below is filled in */
    enum lru_status status;     /* LRU_HIT or LRU_PRODUCE */
    struct blob *blob;          /* new reference when LRU_HIT */
};

struct entry {
    struct entry *hnext;        /* hash chain */
    struct entry *prev, *next;  /* recency list, most recent first (ready) */
    struct blob *blob;          /* NULL while pending */
    struct waiter *waiters;     /* FIFO of blocked lru_get()s (pending) */
    int nwaiters;
    struct lru_parked *parked;  /* lru_get_or_park()s to resume (pending) */
    int nparked;
    size_t cost;                /* counted in lru->bytes (ready) */
    uint64_t hash;
    char key[];
};

struct lru {
    pthread_mutex_t mu;
    pthread_condattr_t condattr;    /* CLOCK_MONOTONIC, for waiters */
    struct entry **buckets;
    size_t nbuckets, count;         /* count: all entries, pending too */
    struct entry *head, *tail;      /* recency list */
    size_t bytes, max_bytes, nready;
    unsigned long hits, misses, evictions;
};

/* ---- entries and the hash table ---------------------------------------- */

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3u;
    return h;
}

static size_t entry_cost(const char *key, const struct blob *b)
{
    return b->size + strlen(key) + 1 + sizeof(struct entry);
}

static struct entry *entry_new(const char *key, uint64_t hash)
{
    size_t len = strlen(key) + 1;
    struct entry *e = calloc(1, sizeof(*e) + len);
    if (!e)
        return NULL;
    memcpy(e->key, key, len);
    e->hash = hash;
    return e;
}

static void entry_free(struct entry *e)
{
    blob_unref(e->blob);
    free(e);
}

/* The link that points at `key`'s entry, or at the NULL ending its chain. */
static struct entry **slot(struct lru *c, const char *key, uint64_t hash)
{
    struct entry **p = &c->buckets[hash & (c->nbuckets - 1)];
    while (*p && ((*p)->hash != hash || strcmp((*p)->key, key) != 0))
        p = &(*p)->hnext;
    return p;
}

static struct entry *find(struct lru *c, const char *key)
{
    return *slot(c, key, fnv1a(key));
}

/* Double the table; on ENOMEM just keep the longer chains. */
static void grow(struct lru *c)
{
    size_t n = c->nbuckets * 2;
    struct entry **nb = calloc(n, sizeof(*nb));
    if (!nb)
        return;
    for (size_t i = 0; i < c->nbuckets; i++) {
        struct entry *e = c->buckets[i], *next;
        for (; e; e = next) {
            next = e->hnext;
            e->hnext = nb[e->hash & (n - 1)];
            nb[e->hash & (n - 1)] = e;
        }
    }
    free(c->buckets);
    c->buckets = nb;
    c->nbuckets = n;
}

static void table_insert(struct lru *c, struct entry *e)
{
    struct entry **b = &c->buckets[e->hash & (c->nbuckets - 1)];
    e->hnext = *b;
    *b = e;
    if (++c->count > c->nbuckets)
        grow(c);
}

static void table_remove(struct lru *c, struct entry *e)
{
    struct entry **p = slot(c, e->key, e->hash);
    *p = e->hnext;
    c->count--;
}

/* ---- recency list (ready entries only) --------------------------------- */

static void list_push(struct lru *c, struct entry *e)
{
    e->prev = NULL;
    e->next = c->head;
    if (c->head)
        c->head->prev = e;
    else
        c->tail = e;
    c->head = e;
}

static void list_remove(struct lru *c, struct entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
}

static void touch(struct lru *c, struct entry *e)
{
    if (c->head != e) {
        list_remove(c, e);
        list_push(c, e);
    }
}

/* Make ready entry e ready no more: out of the table, the list and the byte
 * count, and onto *trash (chained through hnext) to be freed after unlock,
 * so that free()ing large blobs does not stall other threads. */
static void discard(struct lru *c, struct entry *e, struct entry **trash)
{
    table_remove(c, e);
    list_remove(c, e);
    c->bytes -= e->cost;
    c->nready--;
    e->hnext = *trash;
    *trash = e;
}

static void free_chain(struct entry *e)
{
    while (e) {
        struct entry *next = e->hnext;
        entry_free(e);
        e = next;
    }
}

static void evict(struct lru *c, struct entry **trash)
{
    while (c->bytes > c->max_bytes && c->tail) {
        discard(c, c->tail, trash);
        c->evictions++;
    }
}

/* Ready entry e now holds b (cost `cost`, <= max_bytes). */
static void make_ready(struct lru *c, struct entry *e, struct blob *b,
                       size_t cost, struct entry **trash)
{
    e->blob = blob_ref(b);
    e->cost = cost;
    c->bytes += cost;
    c->nready++;
    list_push(c, e);
    evict(c, trash);
}

/* ---- lifecycle ---------------------------------------------------------- */

struct lru *lru_new(size_t max_bytes)
{
    struct lru *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->max_bytes = max_bytes;
    c->nbuckets = MIN_BUCKETS;
    c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
    if (!c->buckets)
        goto fail_buckets;
    if (pthread_mutex_init(&c->mu, NULL) != 0)
        goto fail_mutex;
    if (pthread_condattr_init(&c->condattr) != 0)
        goto fail_attr;
    if (pthread_condattr_setclock(&c->condattr, CLOCK_MONOTONIC) != 0)
        goto fail_clock;
    return c;

fail_clock:
    pthread_condattr_destroy(&c->condattr);
fail_attr:
    pthread_mutex_destroy(&c->mu);
fail_mutex:
    free(c->buckets);
fail_buckets:
    free(c);
    return NULL;
}

void lru_free(struct lru *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nbuckets; i++)
        free_chain(c->buckets[i]);
    free(c->buckets);
    pthread_condattr_destroy(&c->condattr);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* ---- single-flight ------------------------------------------------------ */

static void deadline_in(struct timespec *ts, long ns)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_nsec += ns;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec += ts->tv_nsec / 1000000000L;
        ts->tv_nsec %= 1000000000L;
    }
}

static void waiter_enqueue(struct entry *e, struct waiter *w)
{
    struct waiter **p = &e->waiters;
    while (*p)
        p = &(*p)->next;
    *p = w;
    e->nwaiters++;
}

static void waiter_unlink(struct entry *e, struct waiter *w)
{
    struct waiter **p = &e->waiters;
    while (*p != w)
        p = &(*p)->next;
    *p = w->next;
    e->nwaiters--;
}

/* Hand w its result; it will not look at the entry again. */
static void waiter_resolve(struct waiter *w, enum lru_status st,
                           struct blob *b)
{
    w->status = st;
    w->blob = blob_ref(b);
    w->done = 1;
    pthread_cond_signal(&w->cond);
}

/* Called with c->mu held on pending entry e; returns with it released. */
static enum lru_status wait_for(struct lru *c, struct entry *e,
                                struct blob **out,
                                int (*should_stop)(void *), void *arg)
{
    struct waiter w = { 0 };
    if (pthread_cond_init(&w.cond, &c->condattr) != 0) {
        /* Cannot wait: produce it too (see "Out of memory" in cache.h). */
        c->misses++;
        pthread_mutex_unlock(&c->mu);
        return LRU_PRODUCE;
    }
    waiter_enqueue(e, &w);
    while (!w.done) {
        if (should_stop && should_stop(arg)) {
            waiter_unlink(e, &w);       /* not done => e still pending */
            w.status = LRU_STOPPED;
            break;
        }
        struct timespec ts;
        deadline_in(&ts, POLL_NS);
        pthread_cond_timedwait(&w.cond, &c->mu, &ts);
    }
    if (w.status == LRU_HIT)
        c->hits++;
    else if (w.status == LRU_PRODUCE)
        c->misses++;
    pthread_mutex_unlock(&c->mu);
    pthread_cond_destroy(&w.cond);
    *out = w.blob;
    return w.status;
}

/*
 * The first half of lru_get() and lru_get_or_park(): LRU_HIT (a reference in
 * *out) or LRU_PRODUCE (the key is now pending, or untracked when even that
 * failed), with the mutex released; or, when the key is pending elsewhere,
 * LRU_PARKED with *pending set and the mutex still held.
 */
static enum lru_status lookup(struct lru *c, const char *key, struct blob **out,
                              struct entry **pending)
{
    uint64_t h = fnv1a(key);
    *out = NULL;
    pthread_mutex_lock(&c->mu);
    struct entry *e = *slot(c, key, h);
    if (e && e->blob) {
        touch(c, e);
        *out = blob_ref(e->blob);
        c->hits++;
        pthread_mutex_unlock(&c->mu);
        return LRU_HIT;
    }
    if (e) {
        *pending = e;
        return LRU_PARKED;
    }
    /* Missing: mark it pending.  If even that fails, produce untracked. */
    e = entry_new(key, h);
    if (e)
        table_insert(c, e);
    c->misses++;
    pthread_mutex_unlock(&c->mu);
    return LRU_PRODUCE;
}

enum lru_status lru_get(struct lru *c, const char *key, struct blob **out,
                        int (*should_stop)(void *arg), void *arg)
{
    struct entry *e;
    enum lru_status st = lookup(c, key, out, &e);

    if (st == LRU_PARKED)
        return wait_for(c, e, out, should_stop, arg);
    return st;
}

enum lru_status lru_get_or_park(struct lru *c, const char *key, struct blob **out,
                                struct lru_parked *p)
{
    struct entry *e;
    enum lru_status st = lookup(c, key, out, &e);

    if (st == LRU_PARKED) {
        p->next = e->parked;
        e->parked = p;
        e->nparked++;
        pthread_mutex_unlock(&c->mu);
    }
    return st;
}

/* Take e's parked callers, each given b, to resume after unlocking. */
static struct lru_parked *take_parked(struct entry *e, struct blob *b)
{
    struct lru_parked *p = e->parked;

    for (struct lru_parked *q = p; q; q = q->next) {
        q->status = LRU_HIT;
        q->blob = blob_ref(b);
    }
    e->parked = NULL;
    e->nparked = 0;
    return p;
}

static void resume_all(struct lru_parked *p)
{
    while (p) {
        struct lru_parked *next = p->next;

        p->resume(p);            /* may free p */
        p = next;
    }
}

struct blob *lru_peek(struct lru *c, const char *key)
{
    struct blob *b = NULL;
    pthread_mutex_lock(&c->mu);
    struct entry *e = find(c, key);
    if (e && e->blob) {
        touch(c, e);
        b = blob_ref(e->blob);
        c->hits++;
    } else {
        c->misses++;
    }
    pthread_mutex_unlock(&c->mu);
    return b;
}

/* Pending e gets b: every waiter receives it, then keep it if it fits.
 * The parked callers are the caller's to resume (*parked). */
static void publish(struct lru *c, struct entry *e, struct blob *b,
                    size_t cost, struct entry **trash, struct lru_parked **parked)
{
    *parked = take_parked(e, b);
    for (struct waiter *w = e->waiters, *next; w; w = next) {
        next = w->next;
        waiter_resolve(w, LRU_HIT, b);
    }
    e->waiters = NULL;
    e->nwaiters = 0;
    if (cost <= c->max_bytes) {
        make_ready(c, e, b, cost, trash);
    } else {
        table_remove(c, e);
        e->hnext = *trash;
        *trash = e;
    }
}

/* Ready e gets b instead of its old blob (or goes, if b is too big).
 * Returns the old blob's reference for the caller to drop after unlock. */
static struct blob *replace(struct lru *c, struct entry *e, struct blob *b,
                            size_t cost, struct entry **trash)
{
    if (cost > c->max_bytes) {
        discard(c, e, trash);
        return NULL;
    }
    struct blob *old = e->blob;
    e->blob = blob_ref(b);
    c->bytes = c->bytes - e->cost + cost;
    e->cost = cost;
    touch(c, e);
    evict(c, trash);
    return old;
}

void lru_put(struct lru *c, const char *key, struct blob *b)
{
    if (!b) {
        lru_abandon(c, key);
        return;
    }
    uint64_t h = fnv1a(key);
    size_t cost = entry_cost(key, b);
    struct entry *trash = NULL;
    struct blob *old = NULL;
    struct lru_parked *parked = NULL;
    pthread_mutex_lock(&c->mu);
    struct entry *e = *slot(c, key, h);
    if (e && !e->blob) {
        publish(c, e, b, cost, &trash, &parked);
    } else if (e) {
        old = replace(c, e, b, cost, &trash);
    } else if (cost <= c->max_bytes && (e = entry_new(key, h))) {
        table_insert(c, e);     /* untracked producer: insert it ready */
        make_ready(c, e, b, cost, &trash);
    }
    pthread_mutex_unlock(&c->mu);
    blob_unref(old);
    free_chain(trash);
    resume_all(parked);
}

void lru_abandon(struct lru *c, const char *key)
{
    struct entry *gone = NULL;
    struct lru_parked *parked = NULL;
    pthread_mutex_lock(&c->mu);
    struct entry *e = find(c, key);
    if (e && !e->blob) {
        struct waiter *w = e->waiters;
        if (w) {
            /* The longest waiter takes over; the others keep waiting (the
             * parked ones too: the new producer resolves them). */
            e->waiters = w->next;
            e->nwaiters--;
            waiter_resolve(w, LRU_PRODUCE, NULL);
        } else if (e->parked) {
            /* The last parked takes over (the list is LIFO; any will do). */
            parked = e->parked;
            e->parked = parked->next;
            e->nparked--;
            parked->next = NULL;
            parked->status = LRU_PRODUCE;
            parked->blob = NULL;
        } else {
            table_remove(c, e);
            gone = e;
        }
    }
    pthread_mutex_unlock(&c->mu);
    free(gone);     /* pending: no blob */
    resume_all(parked);
}

int lru_waiters(struct lru *c, const char *key)
{
    pthread_mutex_lock(&c->mu);
    struct entry *e = find(c, key);
    int n = e ? e->nwaiters + e->nparked : 0;
    pthread_mutex_unlock(&c->mu);
    return n;
}

void lru_drop_prefix(struct lru *c, const char *prefix)
{
    size_t len = strlen(prefix);
    struct entry *trash = NULL;
    pthread_mutex_lock(&c->mu);
    for (struct entry *e = c->head, *next; e; e = next) {
        next = e->next;
        if (strncmp(e->key, prefix, len) == 0)
            discard(c, e, &trash);
    }
    pthread_mutex_unlock(&c->mu);
    free_chain(trash);
}

void lru_stats(struct lru *c, struct lru_stats *out)
{
    pthread_mutex_lock(&c->mu);
    out->bytes = c->bytes;
    out->max_bytes = c->max_bytes;
    out->entries = c->nready;
    out->hits = c->hits;
    out->misses = c->misses;
    out->evictions = c->evictions;
    pthread_mutex_unlock(&c->mu);
}
