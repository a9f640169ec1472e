/* fs/handshake — see handshake.h. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/fuse.h>

#include "handshake.h"

/* libfuse's reply to INIT, as written to the socket: the header and
 * fuse_init_out (of libfuse's protocol minor, possibly shorter than ours). */
#define REPLY_MAX 4096

static int set_parallel_dirops(char *msg, ssize_t n)
{
    struct fuse_out_header h;
    uint32_t flags;
    const size_t at = sizeof(h) + offsetof(struct fuse_init_out, flags);

    if (n < (ssize_t)(at + sizeof(flags)))
        return -1;
    memcpy(&h, msg, sizeof(h));
    if (h.len != (uint32_t)n || h.error != 0)
        return 0;                 /* an error reply: pass it on as it is */
    memcpy(&flags, msg + at, sizeof(flags));
    flags |= FUSE_PARALLEL_DIROPS;
    memcpy(msg + at, &flags, sizeof(flags));
    return 0;
}

int handshake_init(struct fuse_session *se, const int *want_parallel)
{
    struct fuse_buf buf = {0};
    int fd = fuse_session_fd(se), kernel = -1, sv[2] = {-1, -1}, ret = -1;
    char *msg = NULL;
    ssize_t n;

    if (fuse_session_receive_buf(se, &buf) <= 0) {
        log_msg(LOG_ERR, "no INIT from the kernel");
        goto out;
    }
    /* libfuse writes its reply to the session's fd number: point that number
     * at a socket for the call, keeping /dev/fuse aside. */
    if ((kernel = dup(fd)) < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 ||
        dup2(sv[0], fd) < 0 || !(msg = malloc(REPLY_MAX))) {
        log_msg(LOG_ERR, "INIT: %s", strerror(errno));
        if (kernel >= 0)
            dup2(kernel, fd);
        goto out;
    }
    fuse_session_process_buf(se, &buf);
    n = recv(sv[1], msg, REPLY_MAX, MSG_DONTWAIT);
    if (dup2(kernel, fd) < 0 || n <= 0) {
        log_msg(LOG_ERR, "INIT: libfuse gave no reply (%s)", n < 0 ? strerror(errno) : "empty");
        goto out;
    }
    if (*want_parallel && set_parallel_dirops(msg, n) < 0) {
        log_msg(LOG_ERR, "INIT: a reply of %zd bytes is too short", n);
        goto out;
    }
    if (write(fd, msg, (size_t)n) != n) {
        log_msg(LOG_ERR, "INIT: the kernel refused the reply: %s", strerror(errno));
        goto out;
    }
    ret = fuse_session_exited(se) ? -1 : 0;
out:
    free(msg);
    free(buf.mem);
    if (kernel >= 0)
        close(kernel);
    if (sv[0] >= 0)
        close(sv[0]);
    if (sv[1] >= 0)
        close(sv[1]);
    return ret;
}
