/*
 * decoder/media/table — see table.h.  A fixed array of slots, evicting the least
 * recently used loaded video when full, and the least recently used idle
 * ones while the loaded videos hold more than max_bytes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "load.h"
#include "table.h"

#define MAX_VIDEOS 256            /* each holds an fd */

struct slot {
    char *path;
    struct video *video;          /* NULL while loading */
    unsigned long used;           /* recency stamp */
    struct table_waiter *loader;  /* while loading: whose load it is */
    struct table_waiter *parked;  /* while loading: who waits for it */
};

struct table {
    pthread_mutex_t lock;
    struct slot slots[MAX_VIDEOS];
    unsigned long clock;
    atomic_int stopping;
    table_evict_fn evict;
    void *evict_arg;
    const struct load_tiers *tiers;
    size_t max_bytes;
    atomic_ulong evictions;       /* for room: a slot, or the byte bound */
    atomic_ulong loads, scans;    /* videos loaded; of them, by reading the file */
    atomic_size_t bytes;          /* of the loaded videos, as last counted */
    atomic_int count;
};

struct table *table_new(table_evict_fn evict, void *arg, const struct load_tiers *tiers,
                        size_t max_bytes)
{
    struct table *t = calloc(1, sizeof(*t));

    if (!t)
        return NULL;
    pthread_mutex_init(&t->lock, NULL);
    atomic_init(&t->stopping, 0);
    t->evict = evict;
    t->evict_arg = arg;
    t->tiers = tiers;
    t->max_bytes = max_bytes;
    return t;
}

/* Empty a loaded slot (lock held); returns its video for the caller to evict
 * and unref once the lock is dropped. */
static struct video *clear_slot(struct slot *s)
{
    struct video *v = s->video;

    free(s->path);
    memset(s, 0, sizeof(*s));
    return v;
}

static void let_go(struct table *t, struct video *v)
{
    if (!v)
        return;
    t->evict(t->evict_arg, v);
    video_unref(v);
}

void table_free(struct table *t)
{
    if (!t)
        return;
    for (int i = 0; i < MAX_VIDEOS; i++)
        if (t->slots[i].path)
            let_go(t, clear_slot(&t->slots[i]));
    pthread_mutex_destroy(&t->lock);
    free(t);
}

void table_stop(struct table *t)
{
    atomic_store(&t->stopping, 1);
}

static struct slot *find_slot(struct table *t, const char *path)
{
    for (int i = 0; i < MAX_VIDEOS; i++)
        if (t->slots[i].path && strcmp(t->slots[i].path, path) == 0)
            return &t->slots[i];
    return NULL;
}

/* A free slot, emptying the least recently used loaded one if needed (its
 * video goes to *victim); NULL when every slot is loading. */
static struct slot *free_slot(struct table *t, struct video **victim)
{
    struct slot *lru = NULL;

    for (int i = 0; i < MAX_VIDEOS; i++) {
        struct slot *s = &t->slots[i];

        if (!s->path)
            return s;
        if (s->video && (!lru || s->used < lru->used))
            lru = s;
    }
    if (lru) {
        *victim = clear_slot(lru);
        atomic_fetch_add(&t->evictions, 1);
    }
    return lru;
}

/*
 * While the loaded videos hold more than max_bytes, empty the least
 * recently used slot whose video nobody uses (lock held), but never `keep`,
 * the one just loaded: a single video larger than the bound stays while it
 * is the newest.  The emptied slots' videos go to victims[] (their count
 * returned) for the caller to let go of once the lock is dropped.
 */
static int trim(struct table *t, const struct slot *keep, struct video **victims)
{
    size_t total = 0;
    int n = 0, count = 0;

    for (int i = 0; i < MAX_VIDEOS; i++)
        if (t->slots[i].video) {
            total += video_memory(t->slots[i].video);
            count++;
        }
    while (total > t->max_bytes) {
        struct slot *lru = NULL;

        for (int i = 0; i < MAX_VIDEOS; i++) {
            struct slot *s = &t->slots[i];

            if (s->video && s != keep && video_idle(s->video) && (!lru || s->used < lru->used))
                lru = s;
        }
        if (!lru)
            break;
        total -= video_memory(lru->video);
        victims[n++] = clear_slot(lru);
        count--;
        atomic_fetch_add(&t->evictions, 1);
    }
    atomic_store(&t->bytes, total);
    atomic_store(&t->count, count);
    return n;
}

void table_stats(struct table *t, struct table_stats *out)
{
    *out = (struct table_stats){atomic_load(&t->bytes), t->max_bytes,
                                (size_t)atomic_load(&t->count), atomic_load(&t->evictions),
                                atomic_load(&t->loads), atomic_load(&t->scans)};
}

static int same_id(const struct video_id *a, const struct video_id *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime_ns == b->mtime_ns;
}

static void resume_all(struct table_waiter *w)
{
    while (w) {
        struct table_waiter *next = w->next;

        w->next = NULL;
        w->resume(w);
        w = next;
    }
}

/* What the load's stop() sees: its table, slot and loader. */
struct load_watch {
    struct table *t;
    struct slot *s;               /* NULL: loading without a slot */
    struct table_waiter *loader;
};

/*
 * Polled at every packet of a load.  Parked waiters that were cancelled are
 * resumed now (they complete as cancelled); the load stops when nobody is
 * left who wants it.
 */
static int load_should_stop(void *arg)
{
    struct load_watch *lw = arg;
    struct table_waiter *gone = NULL, **pp;
    int wanted;

    if (atomic_load(&lw->t->stopping))
        return 1;
    if (!lw->s)
        return lw->loader->cancelled(lw->loader);
    pthread_mutex_lock(&lw->t->lock);
    for (pp = &lw->s->parked; *pp;) {
        struct table_waiter *w = *pp;

        if (w->cancelled(w)) {
            *pp = w->next;
            w->next = gone;
            gone = w;
        } else {
            pp = &w->next;
        }
    }
    wanted = lw->s->parked || !lw->loader->cancelled(lw->loader);
    pthread_mutex_unlock(&lw->t->lock);
    resume_all(gone);
    return !wanted;
}

int table_get(struct table *t, const char *path, int fd, struct table_waiter *w,
              struct video **out)
{
    struct load_watch lw = {.t = t, .loader = w};
    struct video *v, *victim = NULL, *victims[MAX_VIDEOS];
    int n_victims = 0;
    struct table_waiter *parked;
    struct video_id id;
    struct slot *s;
    int ret;

    *out = NULL;
    if ((ret = video_fstat(fd, &id)) < 0) {
        close(fd);
        return ret;
    }
    if (atomic_load(&t->stopping)) {
        close(fd);
        return -ESHUTDOWN;
    }
    pthread_mutex_lock(&t->lock);
    s = find_slot(t, path);
    if (s && !s->video) {                 /* another request is loading it */
        w->next = s->parked;
        s->parked = w;
        pthread_mutex_unlock(&t->lock);
        return TABLE_PARKED;
    }
    if (s && same_id(&s->video->id, &id)) {
        s->used = ++t->clock;
        *out = video_ref(s->video);
        pthread_mutex_unlock(&t->lock);
        close(fd);
        return 0;
    }
    if (s)
        victim = clear_slot(s);           /* the source changed */
    else
        s = free_slot(t, &victim);
    if (s && !(s->path = strdup(path)))
        s = NULL;
    if (s)
        s->loader = w;
    lw.s = s;
    pthread_mutex_unlock(&t->lock);
    let_go(t, victim);

    v = video_load(fd, path, &id, t->tiers, load_should_stop, &lw);
    if (v && !v->stopped) {
        atomic_fetch_add(&t->loads, 1);
        if (v->ok && !v->index_stored)
            atomic_fetch_add(&t->scans, 1);
    }

    pthread_mutex_lock(&t->lock);
    parked = s ? s->parked : NULL;
    if (s && v && !v->stopped) {
        s->video = video_ref(v);
        s->used = ++t->clock;
        s->loader = s->parked = NULL;
        n_victims = trim(t, s, victims);
    } else if (s) {
        clear_slot(s);                    /* nothing to keep: a new load */
    }
    pthread_mutex_unlock(&t->lock);
    resume_all(parked);
    for (int i = 0; i < n_victims; i++)
        let_go(t, victims[i]);
    if (!v)
        return -ENOMEM;
    if (v->stopped) {
        video_unref(v);
        return atomic_load(&t->stopping) ? -ESHUTDOWN : -ECANCELED;
    }
    *out = v;
    return 0;
}
