/*
 * Plain files of SOURCE_DIR (not videos): served as they are, read-only,
 * through the fd opened at open (spliced when the kernel allows).
 */
#include <fcntl.h>
#include <unistd.h>

#include "ops.h"

void file_open(fuse_req_t req, struct fs *fs, struct node *n, struct fuse_file_info *fi)
{
    int fd;

    if ((fd = source_open(fs, n->path, O_RDONLY)) < 0)
        return (void)fuse_reply_err(req, -fd);
    fi->fh = (uint64_t)fd;
    fuse_reply_open(req, fi);
}

void file_read(fuse_req_t req, size_t size, off_t off, struct fuse_file_info *fi)
{
    struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);

    buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
    buf.buf[0].fd = (int)fi->fh;
    buf.buf[0].pos = off;
    fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
}

void file_release(struct fuse_file_info *fi)
{
    close((int)fi->fh);
}
