#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "inval.h"

#define MAX_QUEUED 4096     /* beyond this, entries just expire by timeout */

struct item {
    fuse_ino_t parent;
    struct item *next;
    char name[];
};

struct inval {
    struct fuse_session *se;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct item *head, *tail;
    int queued, stopping;
};

static void *inval_main(void *arg)
{
    struct inval *iv = arg;

    pthread_mutex_lock(&iv->lock);
    for (;;) {
        struct item *it;

        while (!iv->head && !iv->stopping)
            pthread_cond_wait(&iv->wake, &iv->lock);
        if (iv->stopping || !(it = iv->head))
            break;                /* what is left expires by timeout anyway */
        iv->head = it->next;
        if (!iv->head)
            iv->tail = NULL;
        iv->queued--;
        pthread_mutex_unlock(&iv->lock);
        /* -ENOENT (the kernel had no such entry) is the common, fine case. */
        fuse_lowlevel_notify_inval_entry(iv->se, it->parent, it->name, strlen(it->name));
        free(it);
        pthread_mutex_lock(&iv->lock);
    }
    while (iv->head) {
        struct item *it = iv->head;

        iv->head = it->next;
        free(it);
    }
    iv->tail = NULL;
    pthread_mutex_unlock(&iv->lock);
    return NULL;
}

struct inval *inval_start(struct fuse_session *se)
{
    struct inval *iv = calloc(1, sizeof(*iv));

    if (!iv)
        return NULL;
    iv->se = se;
    pthread_mutex_init(&iv->lock, NULL);
    pthread_cond_init(&iv->wake, NULL);
    if (pthread_create(&iv->thread, NULL, inval_main, iv) != 0) {
        pthread_mutex_destroy(&iv->lock);
        pthread_cond_destroy(&iv->wake);
        free(iv);
        return NULL;
    }
    return iv;
}

/* Set when the thread could not be joined; keeps it reachable until exit. */
static struct inval *abandoned;

void inval_stop(struct inval *iv)
{
    struct timespec deadline;

    if (!iv)
        return;
    pthread_mutex_lock(&iv->lock);
    iv->stopping = 1;
    pthread_cond_signal(&iv->wake);
    pthread_mutex_unlock(&iv->lock);
    /* A notification can block in the kernel on a directory whose lookup
     * will never be answered now that the session loop has ended (a lazily
     * unmounted, still busy mount): do not let that hang the exit. */
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 2;
    if (pthread_timedjoin_np(iv->thread, NULL, &deadline) != 0) {
        pthread_detach(iv->thread);
        abandoned = iv;
        return;
    }
    pthread_mutex_destroy(&iv->lock);
    pthread_cond_destroy(&iv->wake);
    free(iv);
}

void inval_entry(struct inval *iv, fuse_ino_t parent, const char *name)
{
    size_t len = strlen(name);
    struct item *it;

    if (!iv || !(it = malloc(sizeof(*it) + len + 1)))
        return;
    it->parent = parent;
    it->next = NULL;
    memcpy(it->name, name, len + 1);
    pthread_mutex_lock(&iv->lock);
    if (iv->queued >= MAX_QUEUED || iv->stopping) {
        pthread_mutex_unlock(&iv->lock);
        free(it);
        return;
    }
    if (iv->tail)
        iv->tail->next = it;
    else
        iv->head = it;
    iv->tail = it;
    iv->queued++;
    pthread_cond_signal(&iv->wake);
    pthread_mutex_unlock(&iv->lock);
}
