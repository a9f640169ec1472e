#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "watch.h"

#define MAX_WATCHES 4096
#define EVENTS (IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | IN_CREATE | IN_DELETE | \
                IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF)

struct slot {
    int wd;
    fuse_ino_t ino;
};

struct watch {
    struct inval *iv;
    int fd, stop_pipe[2];
    pthread_t thread;
    pthread_mutex_t lock;         /* protects slots and n */
    struct slot slots[MAX_WATCHES];
    int n;
};

static fuse_ino_t ino_of(struct watch *w, int wd)
{
    fuse_ino_t ino = 0;

    pthread_mutex_lock(&w->lock);
    for (int i = 0; i < w->n; i++)
        if (w->slots[i].wd == wd)
            ino = w->slots[i].ino;
    pthread_mutex_unlock(&w->lock);
    return ino;
}

static void handle(struct watch *w, const struct inotify_event *e)
{
    fuse_ino_t ino;

    if (!e->len || !(ino = ino_of(w, e->wd)))
        return;
    /* Dropping the entry drops everything cached below it too (a video's
     * frames); the next lookup sees the file as it is now. */
    inval_entry(w->iv, ino, e->name);
}

static void *watch_main(void *arg)
{
    struct watch *w = arg;
    char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));

    for (;;) {
        struct pollfd p[2] = {{w->fd, POLLIN, 0}, {w->stop_pipe[0], POLLIN, 0}};
        ssize_t len;

        if (poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        if (p[1].revents)
            break;
        if (!(p[0].revents & POLLIN))
            continue;
        if ((len = read(w->fd, buf, sizeof(buf))) <= 0)
            continue;
        for (char *q = buf; q < buf + len;) {
            const struct inotify_event *e = (const struct inotify_event *)q;

            handle(w, e);
            q += sizeof(*e) + e->len;
        }
    }
    return NULL;
}

struct watch *watch_start(struct inval *iv)
{
    struct watch *w = calloc(1, sizeof(*w));

    if (!w || !iv)
        goto fail;
    w->iv = iv;
    w->stop_pipe[0] = w->stop_pipe[1] = -1;
    if ((w->fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) < 0)
        goto fail;
    if (pipe(w->stop_pipe) < 0)
        goto fail_fd;
    pthread_mutex_init(&w->lock, NULL);
    if (pthread_create(&w->thread, NULL, watch_main, w) != 0) {
        pthread_mutex_destroy(&w->lock);
        close(w->stop_pipe[0]);
        close(w->stop_pipe[1]);
        goto fail_fd;
    }
    return w;
fail_fd:
    close(w->fd);
fail:
    free(w);
    return NULL;
}

void watch_stop(struct watch *w)
{
    if (!w)
        return;
    while (write(w->stop_pipe[1], "x", 1) < 0 && errno == EINTR) {
    }
    pthread_join(w->thread, NULL);
    close(w->stop_pipe[0]);
    close(w->stop_pipe[1]);
    close(w->fd);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

void watch_dir(struct watch *w, const char *abs_path, fuse_ino_t ino)
{
    int wd;

    if (!w)
        return;
    /* inotify gives the same wd for the same directory: update in place. */
    if ((wd = inotify_add_watch(w->fd, abs_path, EVENTS | IN_ONLYDIR)) < 0)
        return;
    pthread_mutex_lock(&w->lock);
    for (int i = 0; i < w->n; i++)
        if (w->slots[i].wd == wd) {
            w->slots[i].ino = ino;
            pthread_mutex_unlock(&w->lock);
            return;
        }
    if (w->n < MAX_WATCHES)
        w->slots[w->n++] = (struct slot){wd, ino};
    else
        inotify_rm_watch(w->fd, wd);
    pthread_mutex_unlock(&w->lock);
}
