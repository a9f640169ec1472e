/*
 * AVIOContext over a borrowed fd (pread at the context's own offset), and a
 * demuxer open that refuses every nested open.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libavutil/mem.h>

#include "avlog.h"
#include "fdio.h"

#define FDIO_BUFFER 65536

/* Formats that read other files or URLs by design.  Those flagged
 * AVFMT_NOFILE (they open by name and ignore our AVIOContext: image2
 * patterns, sdp, rtsp, sap, avisynth...) are refused whatever this says. */
const char fdio_refused_formats[] =
    "hls,dash,concat,imf,image2,webm_dash_manifest,sdp,rtsp,rtp,sap,avisynth,vapoursynth";

struct fdio {
    int fd;
    int64_t pos, size;
    int nested;              /* an io_open was refused */
};

static int fdio_read(void *opaque, uint8_t *buf, int len)
{
    struct fdio *io = opaque;
    ssize_t n;

    if (io->pos >= io->size)
        return AVERROR_EOF;
    if (len > io->size - io->pos)
        len = (int)(io->size - io->pos);
    do
        n = pread(io->fd, buf, (size_t)len, io->pos);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return AVERROR(errno);
    if (n == 0)
        return AVERROR_EOF;  /* the file shrank under us */
    io->pos += n;
    return (int)n;
}

static int64_t fdio_seek(void *opaque, int64_t offset, int whence)
{
    struct fdio *io = opaque;
    int64_t base;

    switch (whence & ~AVSEEK_FORCE) {
    case AVSEEK_SIZE:
        return io->size;
    case SEEK_SET:
        base = 0;
        break;
    case SEEK_CUR:
        base = io->pos;
        break;
    case SEEK_END:
        base = io->size;
        break;
    default:
        return AVERROR(EINVAL);
    }
    /* Offsets come from the file's own fields: no signed overflow. */
    if ((offset > 0 && base > INT64_MAX - offset) || base + offset < 0)
        return AVERROR(EINVAL);
    io->pos = base + offset;
    return io->pos;
}

static int refuse_open(AVFormatContext *s, AVIOContext **pb, const char *url, int flags,
                       AVDictionary **options)
{
    struct fdio *io = s->pb ? s->pb->opaque : NULL;

    (void)url;
    (void)flags;
    (void)options;
    *pb = NULL;
    if (io)
        io->nested = 1;
    return AVERROR(EPERM);
}

static int refused(const AVInputFormat *f)
{
    const char *list = fdio_refused_formats;
    size_t n = strlen(f->name);

    if (f->flags & AVFMT_NOFILE)
        return 1;
    /* f->name may itself be a list ("mov,mp4,m4a,..."): compare whole names. */
    for (const char *p = list; (p = strstr(p, f->name)); p += n)
        if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == 0))
            return 1;
    return 0;
}

static void free_pb(AVIOContext **pb)
{
    if (!*pb)
        return;
    av_freep(&(*pb)->opaque);
    av_freep(&(*pb)->buffer);
    avio_context_free(pb);
}

int fdio_open_input(int fd, int64_t size, const char *name, AVFormatContext **out,
                    char *err, size_t errlen)
{
    const AVInputFormat *ifmt = NULL;
    AVFormatContext *fmt = NULL;
    AVIOContext *pb = NULL;
    struct fdio *io = av_mallocz(sizeof(*io));
    unsigned char *buf = av_malloc(FDIO_BUFFER);
    int ret = AVERROR(ENOMEM);

    *out = NULL;
    if (!io || !buf || !(pb = avio_alloc_context(buf, FDIO_BUFFER, 0, io, fdio_read, NULL,
                                                 fdio_seek))) {
        av_free(io);
        av_free(buf);
        snprintf(err, errlen, "cannot open: out of memory");
        return ret;
    }
    *io = (struct fdio){.fd = fd, .size = size};
    avlog_clear();
    if ((ret = av_probe_input_buffer2(pb, &ifmt, name, NULL, 0, 0)) < 0) {
        avlog_explain(err, errlen, "not a readable video", ret);
        goto fail;
    }
    if (refused(ifmt)) {
        snprintf(err, errlen, "the %s format refers to other files; such files are not served",
                 ifmt->name);
        ret = AVERROR(EPERM);
        goto fail;
    }
    ret = AVERROR(ENOMEM);
    if (!(fmt = avformat_alloc_context())) {
        snprintf(err, errlen, "cannot open: out of memory");
        goto fail;
    }
    fmt->pb = pb;
    fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
    fmt->io_open = refuse_open;
    if ((ret = avformat_open_input(&fmt, name, ifmt, NULL)) < 0) {
        /* fmt is freed on failure; pb is ours. */
        if (io->nested)
            snprintf(err, errlen, "the %s format refers to other files; such files are not served",
                     ifmt->name);
        else
            avlog_explain(err, errlen, "not a readable video", ret);
        goto fail;
    }
    *out = fmt;
    return 0;
fail:
    free_pb(&pb);
    return ret;
}

void fdio_close_input(AVFormatContext **fmt)
{
    AVIOContext *pb;

    if (!*fmt)
        return;
    pb = (*fmt)->pb;
    avformat_close_input(fmt);
    free_pb(&pb);
}

int fdio_find_stream_info(AVFormatContext *fmt)
{
    unsigned n = fmt->nb_streams;
    AVDictionary **opts = n ? av_calloc(n, sizeof(*opts)) : NULL;
    int ret;

    if (n && !opts)
        return AVERROR(ENOMEM);
    for (unsigned i = 0; i < n; i++)
        av_dict_set_int(&opts[i], "max_pixels", FDIO_MAX_PIXELS, 0);
    ret = avformat_find_stream_info(fmt, opts);
    for (unsigned i = 0; i < n; i++)
        av_dict_free(&opts[i]);
    av_free(opts);
    return ret;
}

int fdio_tried_nested_open(const AVFormatContext *fmt)
{
    const struct fdio *io = fmt && fmt->pb ? fmt->pb->opaque : NULL;

    return io && io->nested;
}
