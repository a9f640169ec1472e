/*
 * decoder/readahead — who is reading a video frame after frame, and how far
 * ahead of them to produce.  A reader stepping through consecutive frames
 * (`cp` of frame after frame, an image viewer's next key) gets the next
 * frames produced before it asks, on the other workers, so decoding one
 * frame overlaps converting and encoding the previous ones.
 *
 * The window is bounded in frames (twice the workers) and in bytes (a
 * quarter of the cache, at the size of the frame just produced), so the
 * readahead never evicts what the reader is about to read.  It stops by
 * itself: frames queued ahead are skipped once the reader has been idle for
 * READAHEAD_IDLE_MS, or has jumped elsewhere.
 *
 * Pure bookkeeping, no FFmpeg: the caller passes the time.  Locking: one
 * mutex inside; every call returns promptly.
 */
#ifndef FRAMEFS_READAHEAD_H
#define FRAMEFS_READAHEAD_H

#include <stddef.h>
#include <stdint.h>

#define READAHEAD_IDLE_MS 1000

struct readahead;

struct readahead *readahead_new(int workers, size_t cache_bytes);
void readahead_free(struct readahead *ra);

/*
 * The reader asked for frame f of `video` (an identity only, never
 * dereferenced), whose image takes frame_bytes, at now_ms.  Returns how many
 * frames from *first on to produce ahead now (0: not reading sequentially,
 * or the window is already queued); *first > f.
 */
size_t readahead_note(struct readahead *ra, const void *video, size_t f, size_t frame_bytes,
                      uint64_t now_ms, size_t *first);

/* Is frame f of `video`, queued ahead, still wanted at now_ms?  (The reader
 * is still reading near it and has not been idle.) */
int readahead_wanted(struct readahead *ra, const void *video, size_t f, uint64_t now_ms);

/* Forget a video (its version was let go of). */
void readahead_forget(struct readahead *ra, const void *video);

#endif
