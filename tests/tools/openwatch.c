/*
 * openwatch [-w MS] FILE... -- CMD [ARG...]
 *
 * Runs CMD and reports whether anything opened one of the FILEs meanwhile
 * (inotify IN_OPEN, so it sees framefs opening a source video behind a
 * FUSE request).  After CMD exits, waits MS milliseconds (default 300) for
 * late opens.  Prints "opened FILE" on stderr for each FILE opened.
 * Exit status: 0 nothing opened, 1 something opened, 2 error, 3 CMD failed.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int wait_ms = 300, i = 1;
    if (i + 1 < argc && !strcmp(argv[i], "-w")) {
        wait_ms = atoi(argv[i + 1]);
        i += 2;
    }
    int first = i, sep = -1;
    for (; i < argc; i++)
        if (!strcmp(argv[i], "--")) {
            sep = i;
            break;
        }
    if (sep < 0 || sep == first || sep + 1 >= argc) {
        fprintf(stderr, "usage: openwatch [-w MS] FILE... -- CMD [ARG...]\n");
        return 2;
    }
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) {
        perror("openwatch: inotify_init1");
        return 2;
    }
    int nfiles = sep - first;
    int *wd = calloc((size_t)nfiles, sizeof *wd);
    int *seen = calloc((size_t)nfiles, sizeof *seen);
    if (!wd || !seen)
        return 2;
    for (int k = 0; k < nfiles; k++) {
        wd[k] = inotify_add_watch(fd, argv[first + k], IN_OPEN);
        if (wd[k] < 0) {
            fprintf(stderr, "openwatch: %s: %s\n", argv[first + k], strerror(errno));
            return 2;
        }
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("openwatch: fork");
        return 2;
    }
    if (pid == 0) {
        execvp(argv[sep + 1], argv + sep + 1);
        fprintf(stderr, "openwatch: %s: %s\n", argv[sep + 1], strerror(errno));
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            perror("openwatch: waitpid");
            return 2;
        }
    int opened = 0;
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    struct pollfd p = { .fd = fd, .events = POLLIN };
    while (poll(&p, 1, wait_ms) > 0) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0)
            break;
        for (char *q = buf; q < buf + n;) {
            struct inotify_event *ev = (struct inotify_event *)(void *)q;
            for (int k = 0; k < nfiles; k++)
                if (ev->wd == wd[k] && (ev->mask & IN_OPEN) && !seen[k]) {
                    seen[k] = 1;
                    opened = 1;
                    fprintf(stderr, "opened %s\n", argv[first + k]);
                }
            q += sizeof *ev + ev->len;
        }
    }
    free(wd);
    free(seen);
    close(fd);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return 3;
    return opened;
}
