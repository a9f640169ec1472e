/*
 * fs/inode — the inode table: one node per name the kernel has looked up.
 *
 * Inode numbers are node addresses (FUSE_ROOT_ID for the root), as in
 * libfuse's passthrough_ll.  A node lives while the kernel holds lookups on
 * it (nlookup > 0) or it has children in the table; the table's mutex
 * protects nlookup, the child counts and the name hash.  Everything else in a
 * node is immutable after inode_insert(), so handlers read it without a lock
 * while the kernel holds a lookup on the node.  A node owns its name, path
 * and frame_meta: all are freed with it.
 *
 * A frame whose source changed, or an entry whose kind changed, is replaced:
 * inode_insert() unhashes the old node (it lives on until forgotten) and the
 * new one gets a new inode number, so the kernel never mixes old and new
 * bytes in its page cache.
 */
#ifndef FRAMEFS_INODE_H
#define FRAMEFS_INODE_H

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "../decoder/decoder.h"

/* NODE_VIEW: a view directory inside a video's (every=S, keyframes, frames;
 * view.h); NODE_INFO: a video's info.json. */
enum node_kind { NODE_DIR, NODE_FILE, NODE_VIDEO, NODE_FRAME, NODE_VIEW, NODE_INFO };

/* The outcome of producing a frame (or a video's info.json), fixed when its
 * node is created. */
struct frame_meta {
    struct frame_request req;
    enum frame_status status;
    double requested_time, actual_time;
    char error[256];
    size_t size;                 /* bytes of the image; 0 unless succeeded */
    int width, height;           /* of the image; 0 unless succeeded */
    struct source_version source;   /* the source it was produced from */
    struct stat src;             /* the video's attributes then (owner, mode, mtime) */
    char key[DECODER_KEY_MAX];   /* the image's cache key (decoder_cached()) */
    struct blob *content;        /* NODE_INFO: the file's bytes (the node's
                                    reference; inode_insert() takes its own) */
};

struct node {
    enum node_kind kind;
    char *name;
    char *path;                  /* relative to SOURCE_DIR ("." for the root);
                                    a frame's is its video's path */
    struct node *parent;
    struct frame_meta *frame;    /* NODE_FRAME and NODE_INFO only, else NULL */

    /* private: under the table lock */
    uint64_t nlookup;
    unsigned children;
    int hashed;
    struct node *hnext;
    struct node *all_prev, *all_next;   /* every node, for teardown */
};

struct inode_table;

struct inode_table *inode_table_new(void);
void inode_table_free(struct inode_table *t);      /* frees every node */
struct node *inode_root(struct inode_table *t);

fuse_ino_t inode_number(const struct node *n);
struct node *inode_get(struct inode_table *t, fuse_ino_t ino);

/* The hashed child `name` of parent with one more lookup counted, or NULL.
 * The caller replies with it, or gives the lookup back with inode_forget(). */
struct node *inode_find(struct inode_table *t, struct node *parent, const char *name);

/* A new child node with nlookup 1, replacing any hashed child of that name.
 * `frame` (copied) is given for NODE_FRAME and NULL for every other kind.
 * NULL on ENOMEM. */
struct node *inode_insert(struct inode_table *t, struct node *parent, const char *name,
                          enum node_kind kind, const char *path,
                          const struct frame_meta *frame);

/* Take `n` from the name hash: later lookups of its name create a new node. */
void inode_unhash(struct inode_table *t, struct node *n);

void inode_forget(struct inode_table *t, struct node *n, uint64_t nlookup);

/* Call fn for every hashed child of parent, under the table lock: fn must be
 * quick and must not call into the table. */
void inode_each_child(struct inode_table *t, struct node *parent,
                      void (*fn)(void *arg, struct node *child), void *arg);

#endif
