/*
 * decoder/media/fdio — demuxers that read one already-opened file and nothing else.
 *
 * A video is opened once per version, by the FUSE thread that checked where it
 * lies (fs/source.c); the decoder only ever sees that fd.  Every demuxer
 * context of the version reads it through its own AVIOContext, with pread()
 * at its own offset, so contexts never disturb each other and what was
 * checked is what is decoded.  Reads stop at the version's size: bytes
 * appended later belong to the next version.
 *
 * No nested opens: every context gets an io_open callback that refuses all
 * opens, and no protocol is ever used by name.  Formats that exist to refer
 * to other files or URLs (playlists, manifests, concat lists, image
 * sequences, network descriptions, scripts) are refused after probing,
 * before their header is read; fdio_refused_formats lists them.
 *
 * The fd is borrowed: fdio never closes it.  Contexts are used by one thread
 * at a time.  Everything here may block on I/O.
 */
#ifndef FRAMEFS_FDIO_H
#define FRAMEFS_FDIO_H

#include <stddef.h>
#include <stdint.h>

#include <libavformat/avformat.h>

/* Demuxer names refused after probing, comma-separated (README lists them). */
extern const char fdio_refused_formats[];

/*
 * Probe and open a demuxer over fd (size bytes).  `name` is the file's name:
 * probing looks at its extension as the ffmpeg CLI does; it is never opened.
 * 0 and *out, or a negative AVERROR with err filled ("refers to other files
 * (hls) ..." for a refused format).  Close with fdio_close_input().
 */
int fdio_open_input(int fd, int64_t size, const char *name, AVFormatContext **out,
                    char *err, size_t errlen);
void fdio_close_input(AVFormatContext **fmt);

/*
 * The largest picture any codec context may allocate, in pixels (8192 x 8192,
 * twice 8K UHD): a header claiming more fails instead of making a worker
 * allocate gigabytes.  Set as max_pixels on every codec context, including
 * the ones avformat_find_stream_info() opens.
 */
#define FDIO_MAX_PIXELS (8192LL * 8192)

/* avformat_find_stream_info() with max_pixels on its codec contexts. */
int fdio_find_stream_info(AVFormatContext *fmt);

/* Did anything in this context try to open another file or URL? */
int fdio_tried_nested_open(const AVFormatContext *fmt);

#endif
