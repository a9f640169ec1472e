/*
 * fs/xattr — the extended attributes of frames and video directories, and the
 * getxattr/listxattr size rules, as pure functions (no FUSE calls, no locks).
 *
 * getxattr: size 0 -> the value's length; too small -> -ERANGE; absent ->
 * -ENODATA.  listxattr: the same size rules over the NUL-separated name list.
 * listxattr lists exactly the names getxattr answers.
 */
#ifndef FRAMEFS_XATTR_H
#define FRAMEFS_XATTR_H

#include <stddef.h>

#include "../decoder/decoder.h"
#include "inode.h"

#define XATTR_MAX 16

struct xattr_set {
    int n;
    struct {
        const char *name;
        char value[768];         /* user.stats: about 590 */
    } attr[XATTR_MAX];
};

void xattr_of_frame(const struct frame_meta *m, struct xattr_set *out);
void xattr_of_video(const struct video_info *info, struct xattr_set *out);
/* The mount root's: user.stats, the caches' counters as one JSON object. */
void xattr_of_root(const struct decoder_stats *st, struct xattr_set *out);

/* 0 with the value and its length set, -ENODATA or -ERANGE.  With size 0,
 * only the length. */
int xattr_get(const struct xattr_set *s, const char *name, size_t size,
              const char **value, size_t *len);

/* Writes the name list to buf (when size > 0).  0 with *len, or -ERANGE. */
int xattr_list(const struct xattr_set *s, char *buf, size_t size, size_t *len);

#endif
