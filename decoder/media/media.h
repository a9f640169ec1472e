/*
 * decoder/media — a video as bytes, an index and a decoder positioned in it:
 * the bottom floor of decoder/, above only cache/.  fdio reads one opened fd
 * and nothing else; video is one version of a source (identity, metadata,
 * colorimetry, index) and load makes it (probe, packet scan, or a decode for
 * streams without timestamps, which is why seek lives on this floor too);
 * table holds the open videos, one version per path, each loaded once; index
 * and select are the packet/frame lists and SPEC's selection rule (pure);
 * seek is a decoder context that decodes to one index entry; scenes scores
 * each frame's difference from the one before (one decode pass); content gives
 * the content id, color what a video's pixels are in, sandbox the workers'
 * seccomp filter, avlog and log where messages go.  Start at video.h, then
 * load.h and seek.h.
 *
 * This header is the floor's interface for decoder/'s top floor: what it
 * includes is what the floor offers (each file's own header states its
 * ownership, locking and blocking).  info.h and log.h have no libav* type,
 * so decoder.h (and through it fs/) takes them alone.
 */
#ifndef FRAMEFS_MEDIA_H
#define FRAMEFS_MEDIA_H

#include "avlog.h"
#include "index.h"
#include "info.h"
#include "load.h"
#include "log.h"
#include "sandbox.h"
#include "scenes.h"
#include "seek.h"
#include "select.h"
#include "table.h"
#include "video.h"

#endif
