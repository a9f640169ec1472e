#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "inode.h"

#define NBUCKETS 4096u

struct inode_table {
    pthread_mutex_t lock;
    struct node root;
    struct node *buckets[NBUCKETS];
    size_t count;
};

static unsigned bucket_of(const struct node *parent, const char *name)
{
    uint64_t h = 1469598103934665603ull ^ (uintptr_t)parent;

    for (; *name; name++)
        h = (h ^ (unsigned char)*name) * 1099511628211ull;
    return (unsigned)(h % NBUCKETS);
}

struct inode_table *inode_table_new(void)
{
    struct inode_table *t = calloc(1, sizeof(*t));

    if (!t)
        return NULL;
    pthread_mutex_init(&t->lock, NULL);
    t->root.kind = NODE_DIR;
    t->root.name = "";
    t->root.path = ".";
    t->root.nlookup = 1;
    return t;
}

struct node *inode_root(struct inode_table *t)
{
    return &t->root;
}

fuse_ino_t inode_number(const struct node *n)
{
    return n->parent ? (fuse_ino_t)(uintptr_t)n : FUSE_ROOT_ID;
}

struct node *inode_get(struct inode_table *t, fuse_ino_t ino)
{
    return ino == FUSE_ROOT_ID ? &t->root : (struct node *)(uintptr_t)ino;
}

static void unhash_locked(struct inode_table *t, struct node *n)
{
    struct node **pp;

    if (!n->hashed)
        return;
    for (pp = &t->buckets[bucket_of(n->parent, n->name)]; *pp; pp = &(*pp)->hnext)
        if (*pp == n) {
            *pp = n->hnext;
            break;
        }
    n->hashed = 0;
}

static void node_free(struct node *n)
{
    free(n->name);
    free(n->path);
    if (n->frame)
        blob_unref(n->frame->content);
    free(n->frame);
    free(n);
}

/* Free n, and then its parent if that was all that kept the parent. */
static void release_locked(struct inode_table *t, struct node *n)
{
    while (n && n != &t->root && n->nlookup == 0 && n->children == 0) {
        struct node *parent = n->parent;

        unhash_locked(t, n);
        parent->children--;
        n->all_prev->all_next = n->all_next;
        if (n->all_next)
            n->all_next->all_prev = n->all_prev;
        node_free(n);
        t->count--;
        n = parent;
    }
}

struct node *inode_find(struct inode_table *t, struct node *parent, const char *name)
{
    struct node *n;

    pthread_mutex_lock(&t->lock);
    for (n = t->buckets[bucket_of(parent, name)]; n; n = n->hnext)
        if (n->parent == parent && strcmp(n->name, name) == 0) {
            n->nlookup++;
            break;
        }
    pthread_mutex_unlock(&t->lock);
    return n;
}

struct node *inode_insert(struct inode_table *t, struct node *parent, const char *name,
                          enum node_kind kind, const char *path,
                          const struct frame_meta *frame)
{
    struct node *n = calloc(1, sizeof(*n)), *old;
    unsigned b = bucket_of(parent, name);

    if (!n || !(n->name = strdup(name)) || !(n->path = strdup(path)) ||
        (frame && !(n->frame = malloc(sizeof(*n->frame))))) {
        if (n)
            node_free(n);
        return NULL;
    }
    n->kind = kind;
    n->parent = parent;
    if (frame) {
        *n->frame = *frame;
        if (frame->content)
            blob_ref(frame->content);
    }
    n->nlookup = 1;
    pthread_mutex_lock(&t->lock);
    for (old = t->buckets[b]; old; old = old->hnext)
        if (old->parent == parent && strcmp(old->name, name) == 0) {
            unhash_locked(t, old);
            break;
        }
    n->hashed = 1;
    n->hnext = t->buckets[b];
    t->buckets[b] = n;
    parent->children++;
    n->all_prev = &t->root;
    n->all_next = t->root.all_next;
    if (n->all_next)
        n->all_next->all_prev = n;
    t->root.all_next = n;
    t->count++;
    pthread_mutex_unlock(&t->lock);
    return n;
}

void inode_unhash(struct inode_table *t, struct node *n)
{
    pthread_mutex_lock(&t->lock);
    unhash_locked(t, n);
    pthread_mutex_unlock(&t->lock);
}

void inode_forget(struct inode_table *t, struct node *n, uint64_t nlookup)
{
    pthread_mutex_lock(&t->lock);
    n->nlookup = nlookup > n->nlookup ? 0 : n->nlookup - nlookup;
    release_locked(t, n);
    pthread_mutex_unlock(&t->lock);
}

void inode_each_child(struct inode_table *t, struct node *parent,
                      void (*fn)(void *arg, struct node *child), void *arg)
{
    pthread_mutex_lock(&t->lock);
    for (unsigned b = 0; b < NBUCKETS; b++)
        for (struct node *n = t->buckets[b]; n; n = n->hnext)
            if (n->parent == parent)
                fn(arg, n);
    pthread_mutex_unlock(&t->lock);
}

void inode_table_free(struct inode_table *t)
{
    struct node *n, *next;

    if (!t)
        return;
    /* At unmount the kernel may never send the forgets: free every node,
     * hashed or replaced, from the list of all nodes. */
    for (n = t->root.all_next; n; n = next) {
        next = n->all_next;
        node_free(n);
    }
    pthread_mutex_destroy(&t->lock);
    free(t);
}
