/*
 * Unit tests for cache/: blob refcounting and the byte-bounded single-flight
 * LRU.  Threaded cases synchronise on lru_waiters() rather than on sleeps
 * where they can, so they stay fast and deterministic.
 */
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../cache/cache.h"
#include "unit.h"

/* ---- helpers ------------------------------------------------------------ */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static int refs(struct blob *b)
{
    return atomic_load(&b->refs);
}

static int flag_set(void *arg)
{
    return atomic_load((atomic_int *)arg);
}

/* Wait up to 2 s for exactly n threads blocked on key. */
static int wait_waiters(struct lru *c, const char *key, int n)
{
    for (int i = 0; i < 2000; i++) {
        if (lru_waiters(c, key) == n)
            return 1;
        sleep_ms(1);
    }
    return 0;
}

/* Produce key with a blob of `size` bytes filled with `fill`.  Returns 1 if
 * this call produced it (the key was missing). */
static int fill(struct lru *c, const char *key, size_t size, int fill)
{
    struct blob *b;
    if (lru_get(c, key, &b, NULL, NULL) != LRU_PRODUCE) {
        blob_unref(b);
        return 0;
    }
    b = blob_new(size);
    memset(b->data, fill, size);
    lru_put(c, key, b);
    blob_unref(b);
    return 1;
}

static int present(struct lru *c, const char *key)
{
    struct blob *b = lru_peek(c, key);
    blob_unref(b);
    return b != NULL;
}

/* A thread calling lru_get(); if it is told to produce, it does so. */
struct getter {
    pthread_t thread;
    struct lru *c;
    const char *key;
    atomic_int *stop;           /* should_stop flag, or NULL */
    pthread_barrier_t *start;   /* wait here first, or NULL */
    atomic_int *producers;      /* incremented on LRU_PRODUCE, or NULL */
    atomic_int *go;             /* producer waits for it, or NULL */
    int produce_ms;             /* producer sleeps this long before put */
    enum lru_status st;
    struct blob *b;             /* what lru_get gave, or what we put */
    double returned_ms;
};

static void *getter_main(void *arg)
{
    struct getter *g = arg;
    if (g->start)
        pthread_barrier_wait(g->start);
    g->st = lru_get(g->c, g->key, &g->b, g->stop ? flag_set : NULL, g->stop);
    g->returned_ms = now_ms();
    if (g->st != LRU_PRODUCE)
        return NULL;
    if (g->producers)
        atomic_fetch_add(g->producers, 1);
    while (g->go && !atomic_load(g->go))
        sleep_ms(1);
    sleep_ms(g->produce_ms);
    g->b = blob_from("made", 4);
    lru_put(g->c, g->key, g->b);
    return NULL;
}

static void getter_start(struct getter *g)
{
    pthread_create(&g->thread, NULL, getter_main, g);
}

/* ---- blobs -------------------------------------------------------------- */

static void *ref_storm(void *arg)
{
    struct blob *b = arg;
    for (int i = 0; i < 10000; i++)
        blob_unref(blob_ref(b));
    return NULL;
}

static void test_blob(void)
{
    struct blob *b = blob_new(100);
    CHECK(b && b->size == 100 && refs(b) == 1, "blob_new: one reference");
    CHECK((uintptr_t)b->data % alignof(max_align_t) == 0, "blob_new: data aligned");
    CHECK(blob_ref(b) == b && refs(b) == 2, "blob_ref: returns b, two references");
    blob_unref(b);
    CHECK(refs(b) == 1, "blob_unref: back to one reference");

    pthread_t t[8];
    for (int i = 0; i < 8; i++)
        pthread_create(&t[i], NULL, ref_storm, b);
    for (int i = 0; i < 8; i++)
        pthread_join(t[i], NULL);
    CHECK(refs(b) == 1, "blob: 8 threads x 10000 ref/unref leave one reference");
    blob_unref(b);      /* freed: ASan would report a leak otherwise */

    b = blob_from("hello", 5);
    CHECK(b && b->size == 5 && memcmp(b->data, "hello", 5) == 0, "blob_from copies");
    blob_unref(b);

    char *mem = malloc(7);
    memcpy(mem, "adopted", 7);
    b = blob_adopt(mem, 7);
    CHECK(b && b->data == (unsigned char *)mem && b->size == 7,
          "blob_adopt keeps the caller's buffer");
    blob_unref(b);      /* frees mem too */

    b = blob_new(0);
    CHECK(b && b->size == 0, "blob_new(0) works");
    blob_unref(b);
    b = blob_from(NULL, 0);
    CHECK(b && b->size == 0, "blob_from(NULL, 0) works");
    blob_unref(b);
    CHECK(blob_new(SIZE_MAX) == NULL, "blob_new(SIZE_MAX) fails cleanly");
    blob_unref(NULL);
    CHECK(1, "blob_unref(NULL) is harmless");
}

/* ---- basic lru ---------------------------------------------------------- */

static void test_hit_miss(void)
{
    struct lru *c = lru_new(1 << 20);
    struct blob *b, *got;
    struct lru_stats s;

    CHECK(lru_peek(c, "x") == NULL, "peek of a missing key is NULL");
    CHECK(lru_get(c, "x", &got, NULL, NULL) == LRU_PRODUCE && got == NULL,
          "get of a missing key: LRU_PRODUCE, *out NULL");
    CHECK(lru_waiters(c, "x") == 0, "pending key with no waiters: lru_waiters 0");
    b = blob_from("0123456789", 10);
    lru_put(c, "x", b);
    CHECK(refs(b) == 2, "put: lru holds its own reference");
    CHECK(lru_get(c, "x", &got, NULL, NULL) == LRU_HIT && got == b && refs(b) == 3,
          "get after put: LRU_HIT with a new reference to the same blob");
    blob_unref(got);
    got = lru_peek(c, "x");
    CHECK(got == b, "peek after put: same blob");
    blob_unref(got);

    lru_stats(c, &s);
    CHECK(s.hits == 2 && s.misses == 2, "stats: 2 hits, 2 misses (got %lu, %lu)",
          s.hits, s.misses);
    CHECK(s.entries == 1 && s.bytes > 10 + 2 && s.max_bytes == 1 << 20,
          "stats: 1 entry, bytes = size + key + overhead (%zu)", s.bytes);
    CHECK(lru_waiters(c, "x") == 0, "ready key: lru_waiters 0");

    /* Stray calls are harmless (see "Out of memory and stray calls"). */
    lru_abandon(c, "nobody");
    lru_abandon(c, "x");
    CHECK(present(c, "x"), "abandon of unknown/ready keys is a no-op");
    lru_put(c, "unasked", b);
    CHECK(present(c, "unasked"), "put of an unknown key inserts it");
    struct blob *b2 = blob_from("new", 3);
    lru_put(c, "x", b2);
    got = lru_peek(c, "x");
    CHECK(got == b2 && refs(b) == 2, "put of a ready key replaces its blob");
    blob_unref(got);
    blob_unref(b2);
    CHECK(lru_get(c, "n", &got, NULL, NULL) == LRU_PRODUCE, "pending n");
    lru_put(c, "n", NULL);
    CHECK(lru_get(c, "n", &got, NULL, NULL) == LRU_PRODUCE,
          "put(NULL) abandons: next get produces");
    lru_abandon(c, "n");

    lru_free(c);
    CHECK(refs(b) == 1, "lru_free drops the lru's references");
    blob_unref(b);
}

static void test_byte_bound(void)
{
    const size_t max = 16384;
    struct lru *c = lru_new(max);
    struct lru_stats s;
    int over = 0, puts = 0;
    char key[16];

    srand(1234);
    for (int i = 0; i < 3000; i++) {
        snprintf(key, sizeof(key), "k%d", rand() % 300);
        /* Mostly small blobs, now and then one bigger than the whole lru. */
        size_t size = rand() % 10 ? (size_t)(rand() % 5000) : max + rand() % 100;
        puts += fill(c, key, size, i);
        lru_stats(c, &s);
        if (s.bytes > max)
            over++;
    }
    CHECK(over == 0, "bytes <= max_bytes after each of %d puts (%d over)", puts, over);
    CHECK(s.evictions > 0 && s.entries > 0,
          "random puts evicted (%lu) and kept (%zu) entries", s.evictions, s.entries);

    lru_free(c);
}

static void test_lru_order(void)
{
    /* Room for three 1000-byte entries but not four (entry overhead < 164). */
    struct lru *c = lru_new(3500);
    struct lru_stats s;
    struct blob *b;

    fill(c, "a", 1000, 'a');
    fill(c, "b", 1000, 'b');
    fill(c, "c", 1000, 'c');
    lru_stats(c, &s);
    CHECK(s.entries == 3 && s.evictions == 0, "three entries fit");

    CHECK(lru_get(c, "a", &b, NULL, NULL) == LRU_HIT, "touch a with lru_get");
    blob_unref(b);
    fill(c, "d", 1000, 'd');            /* evicts b, the least recent */
    lru_stats(c, &s);
    CHECK(s.entries == 3 && s.evictions == 1, "fourth entry evicts one");

    blob_unref(lru_peek(c, "c"));       /* touch c with lru_peek */
    fill(c, "e", 1000, 'e');            /* evicts a */
    lru_stats(c, &s);
    CHECK(s.evictions == 2, "fifth entry evicts one more");

    CHECK(!present(c, "b"), "b (least recently used) was evicted first");
    CHECK(!present(c, "a"), "a, touched by lru_get, was evicted second");
    CHECK(present(c, "c"), "c, touched by lru_peek, survives");
    CHECK(present(c, "d") && present(c, "e"), "d and e survive");
    lru_free(c);
}

static void test_oversized(void)
{
    struct lru *c = lru_new(1000);
    struct lru_stats s;
    struct blob *b;

    CHECK(lru_get(c, "big", &b, NULL, NULL) == LRU_PRODUCE, "big: produce");
    struct getter g = { .c = c, .key = "big" };
    getter_start(&g);
    CHECK(wait_waiters(c, "big", 1), "big: one waiter blocked");
    b = blob_new(2000);
    lru_put(c, "big", b);
    pthread_join(g.thread, NULL);
    CHECK(g.st == LRU_HIT && g.b == b, "oversized blob handed to its waiter");
    CHECK(refs(b) == 2, "oversized blob: only producer and waiter hold it");
    lru_stats(c, &s);
    CHECK(s.entries == 0 && s.bytes == 0, "oversized blob not retained");
    CHECK(!present(c, "big"), "oversized key not present");
    blob_unref(g.b);

    /* Replacing a ready entry with an oversized blob drops it. */
    fill(c, "small", 10, 's');
    CHECK(present(c, "small"), "small present");
    lru_put(c, "small", b);
    lru_stats(c, &s);
    CHECK(!present(c, "small") && s.bytes == 0 && refs(b) == 1,
          "oversized replacement: entry dropped, blob not kept");
    lru_put(c, "fresh", b);
    CHECK(!present(c, "fresh") && refs(b) == 1, "oversized unasked put: not kept");
    blob_unref(b);
    lru_free(c);
}

static void test_drop_prefix(void)
{
    struct lru *c = lru_new(1 << 20);
    struct lru_stats s;
    struct blob *b;
    atomic_int stop = 1;

    fill(c, "v1/a", 10, 1);
    fill(c, "v1/b", 10, 1);
    fill(c, "v2/a", 10, 1);
    fill(c, "v1", 10, 1);
    CHECK(lru_get(c, "v1/c", &b, NULL, NULL) == LRU_PRODUCE, "v1/c pending");
    lru_drop_prefix(c, "v1/");
    lru_stats(c, &s);
    CHECK(s.entries == 2, "drop_prefix: 2 entries left (%zu)", s.entries);
    CHECK(!present(c, "v1/a") && !present(c, "v1/b"), "v1/* ready entries dropped");
    CHECK(present(c, "v2/a") && present(c, "v1"), "v2/a and v1 kept");
    CHECK(lru_get(c, "v1/c", &b, flag_set, &stop) == LRU_STOPPED,
          "pending v1/c still pending after drop_prefix");
    b = blob_from("c", 1);
    lru_put(c, "v1/c", b);
    blob_unref(b);
    CHECK(present(c, "v1/c"), "pending v1/c published after drop_prefix");
    lru_drop_prefix(c, "");
    lru_stats(c, &s);
    CHECK(s.entries == 0 && s.bytes == 0, "drop_prefix(\"\") empties the lru");
    lru_free(c);
}

/* ---- single-flight ------------------------------------------------------ */

static void test_single_flight(void)
{
    enum { N = 16 };
    struct lru *c = lru_new(1 << 20);
    struct getter g[N];
    pthread_barrier_t start;
    struct lru_stats s;

    pthread_barrier_init(&start, NULL, N);
    for (int i = 0; i < N; i++) {
        g[i] = (struct getter){ .c = c, .key = "frame", .start = &start,
                                .produce_ms = 50 };
        getter_start(&g[i]);
    }
    for (int i = 0; i < N; i++)
        pthread_join(g[i].thread, NULL);
    pthread_barrier_destroy(&start);

    int produced = 0, hits = 0, same = 1;
    struct blob *made = NULL;
    for (int i = 0; i < N; i++)
        if (g[i].st == LRU_PRODUCE) {
            produced++;
            made = g[i].b;
        }
    for (int i = 0; i < N; i++)
        if (g[i].st == LRU_HIT) {
            hits++;
            same &= g[i].b == made;
        }
    CHECK(produced == 1, "single-flight: exactly one of %d produces (%d)", N, produced);
    CHECK(hits == N - 1 && same, "single-flight: the other %d hit the same blob", N - 1);
    lru_stats(c, &s);
    CHECK(s.misses == 1 && s.hits == N - 1, "single-flight stats: 1 miss, %d hits", N - 1);
    for (int i = 0; i < N; i++)
        blob_unref(g[i].b);
    lru_free(c);
}

static void test_abandon_handoff(void)
{
    enum { N = 4 };
    struct lru *c = lru_new(1 << 20);
    struct getter g[N];
    struct blob *b;
    atomic_int producers = 0, go = 0;

    CHECK(lru_get(c, "k", &b, NULL, NULL) == LRU_PRODUCE, "handoff: main produces k");
    for (int i = 0; i < N; i++) {
        g[i] = (struct getter){ .c = c, .key = "k", .producers = &producers,
                                .go = &go };
        getter_start(&g[i]);
    }
    CHECK(wait_waiters(c, "k", N), "handoff: %d waiters blocked", N);
    lru_abandon(c, "k");
    for (int i = 0; i < 2000 && atomic_load(&producers) == 0; i++)
        sleep_ms(1);
    sleep_ms(30);       /* give a wrongly woken second waiter time to show */
    CHECK(atomic_load(&producers) == 1, "abandon: exactly one waiter takes over");
    CHECK(lru_waiters(c, "k") == N - 1, "abandon: the other %d keep waiting", N - 1);
    atomic_store(&go, 1);
    for (int i = 0; i < N; i++)
        pthread_join(g[i].thread, NULL);

    int produced = 0, hits = 0;
    struct blob *made = NULL;
    for (int i = 0; i < N; i++)
        if (g[i].st == LRU_PRODUCE) {
            produced++;
            made = g[i].b;
        }
    for (int i = 0; i < N; i++)
        hits += g[i].st == LRU_HIT && g[i].b == made;
    CHECK(produced == 1 && hits == N - 1, "handoff: new producer's blob reaches the rest");
    for (int i = 0; i < N; i++)
        blob_unref(g[i].b);

    /* Abandon with nobody waiting forgets the key. */
    CHECK(lru_get(c, "z", &b, NULL, NULL) == LRU_PRODUCE, "z: produce");
    lru_abandon(c, "z");
    CHECK(lru_get(c, "z", &b, NULL, NULL) == LRU_PRODUCE, "z abandoned: produce again");
    lru_abandon(c, "z");
    lru_free(c);
}

static void test_should_stop(void)
{
    enum { N = 3 };
    struct lru *c = lru_new(1 << 20);
    struct getter g[N];
    struct blob *b;
    atomic_int stop = 0;

    CHECK(lru_get(c, "s", &b, NULL, NULL) == LRU_PRODUCE, "s: main produces");
    for (int i = 0; i < N; i++) {
        g[i] = (struct getter){ .c = c, .key = "s", .stop = &stop };
        getter_start(&g[i]);
    }
    CHECK(wait_waiters(c, "s", N), "lru_waiters counts %d blocked waiters", N);
    CHECK(lru_waiters(c, "other") == 0, "lru_waiters of an unknown key is 0");

    double t0 = now_ms();
    atomic_store(&stop, 1);
    double worst = 0;
    int stopped = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(g[i].thread, NULL);
        stopped += g[i].st == LRU_STOPPED && g[i].b == NULL;
        if (g[i].returned_ms - t0 > worst)
            worst = g[i].returned_ms - t0;
    }
    CHECK(stopped == N, "should_stop: every waiter returns LRU_STOPPED, *out NULL");
    CHECK(worst < 50, "should_stop honoured within 50 ms (%.1f ms)", worst);
    CHECK(lru_waiters(c, "s") == 0, "stopped waiters are no longer counted");

    /* The producer is unaffected and no stopped waiter became one. */
    b = blob_from("s", 1);
    lru_put(c, "s", b);
    CHECK(refs(b) == 2, "put after stopped waiters: nobody else got a reference");
    blob_unref(b);
    CHECK(present(c, "s"), "s published after its waiters stopped");
    lru_free(c);
}

/* A parked caller: counts its resumes and keeps what it was given. */
struct parked_probe {
    struct lru_parked p;
    int resumed;
};

static void probe_resume(struct lru_parked *p)
{
    ((struct parked_probe *)p)->resumed++;
}

static void test_parked(void)
{
    struct lru *c = lru_new(1 << 20);
    struct parked_probe a = {.p.resume = probe_resume}, b = {.p.resume = probe_resume};
    struct blob *got = NULL, *img = blob_from("frame", 5);

    CHECK(lru_get_or_park(c, "k", &got, &a.p) == LRU_PRODUCE && !got,
          "park: a missing key is the caller's to produce");
    CHECK(lru_get_or_park(c, "k", &got, &a.p) == LRU_PARKED && !a.resumed,
          "park: a pending key parks the caller, nothing resumed yet");
    CHECK(lru_get_or_park(c, "k", &got, &b.p) == LRU_PARKED, "park: a second caller parks");
    CHECK(lru_waiters(c, "k") == 2, "park: parked callers count as waiters (%d)",
          lru_waiters(c, "k"));
    lru_put(c, "k", img);
    CHECK(a.resumed == 1 && b.resumed == 1, "park: put resumes each parked caller once");
    CHECK(a.p.status == LRU_HIT && a.p.blob == img && b.p.status == LRU_HIT && b.p.blob == img,
          "park: each gets the blob, as LRU_HIT");
    blob_unref(a.p.blob);
    blob_unref(b.p.blob);
    CHECK(lru_get_or_park(c, "k", &got, &a.p) == LRU_HIT && got == img && a.resumed == 1,
          "park: a ready key is a hit, no parking");
    blob_unref(got);

    /* Abandon hands the key to one parked caller; the other stays parked
     * until that one puts. */
    a.resumed = b.resumed = 0;
    CHECK(lru_get_or_park(c, "j", &got, &a.p) == LRU_PRODUCE, "park: j produced by us");
    lru_get_or_park(c, "j", &got, &a.p);
    lru_get_or_park(c, "j", &got, &b.p);
    lru_abandon(c, "j");
    CHECK(a.resumed + b.resumed == 1, "park: abandon resumes exactly one parked caller");
    struct parked_probe *taker = a.resumed ? &a : &b, *other = a.resumed ? &b : &a;
    CHECK(taker->p.status == LRU_PRODUCE && !taker->p.blob, "park: it takes over (LRU_PRODUCE)");
    CHECK(lru_waiters(c, "j") == 1, "park: the other one still waits");
    lru_put(c, "j", img);
    CHECK(other->resumed == 1 && other->p.status == LRU_HIT && other->p.blob == img,
          "park: the new producer's put resumes the other with the blob");
    blob_unref(other->p.blob);

    /* Abandon with nobody waiting forgets the key. */
    CHECK(lru_get_or_park(c, "z", &got, &a.p) == LRU_PRODUCE, "park: z produced by us");
    lru_abandon(c, "z");
    CHECK(lru_get_or_park(c, "z", &got, &a.p) == LRU_PRODUCE, "park: abandoned z is missing again");
    lru_abandon(c, "z");
    blob_unref(img);
    lru_free(c);
}

int main(void)
{
    test_blob();
    test_hit_miss();
    test_byte_bound();
    test_lru_order();
    test_oversized();
    test_drop_prefix();
    test_single_flight();
    test_abandon_handoff();
    test_should_stop();
    test_parked();
    return unit_done();
}
