/*
 * png2raw FILE.png — decode a PNG with libpng and write its pixels, exactly as
 * stored, to stdout: rows of WIDTH * CHANNELS bytes, no padding, no conversion.
 * Only 8-bit RGB (3 channels) and RGBA (4 channels) images are accepted, which
 * is what framefs must produce; anything else (palette, grey, 16-bit, a bad
 * CRC, a truncated file, trailing garbage after IEND) is an error.
 *
 * On success prints "WIDTH HEIGHT CHANNELS" on stderr and exits 0; on any
 * error prints "png2raw: FILE: reason" on stderr and exits 1.  The raw output
 * can be compared with ffmpeg's `-f framemd5 -pix_fmt rgb24|rgba` checksums.
 */
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *path;
/* Kept in statics so that they stay reachable when die() exits early. */
static png_structp png;
static png_infop info, end;
static png_bytep *rows;
static unsigned char *pixels;

static void die(const char *why)
{
    fprintf(stderr, "png2raw: %s: %s\n", path, why);
    exit(1);
}

static void on_error(png_structp png, png_const_charp msg)
{
    fprintf(stderr, "png2raw: %s: libpng: %s\n", path, msg);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    fprintf(stderr, "png2raw: %s: libpng warning: %s\n", path, msg);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: png2raw FILE.png > pixels.raw\n");
        return 2;
    }
    path = argv[1];
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    unsigned char sig[8];
    if (fread(sig, 1, sizeof sig, f) != sizeof sig || png_sig_cmp(sig, 0, sizeof sig))
        die("not a PNG file (bad signature)");

    png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, on_error, on_warning);
    if (!png)
        die("out of memory");
    info = png_create_info_struct(png);
    end = png_create_info_struct(png);
    if (!info || !end)
        die("out of memory");

    if (setjmp(png_jmpbuf(png)))
        die("invalid PNG");

    png_init_io(png, f);
    png_set_sig_bytes(png, sizeof sig);
    png_read_info(png, info);

    png_uint_32 w, h;
    int depth, color, interlace;
    png_get_IHDR(png, info, &w, &h, &depth, &color, &interlace, NULL, NULL);
    if (depth != 8) {
        fprintf(stderr, "png2raw: %s: bit depth %d, expected 8\n", path, depth);
        return 1;
    }
    int channels;
    if (color == PNG_COLOR_TYPE_RGB)
        channels = 3;
    else if (color == PNG_COLOR_TYPE_RGB_ALPHA)
        channels = 4;
    else {
        fprintf(stderr, "png2raw: %s: colour type %d, expected RGB (2) or RGBA (6)\n",
                path, color);
        return 1;
    }
    if (w == 0 || h == 0 || (size_t)w * h > ((size_t)1 << 30) / (size_t)channels)
        die("unreasonable dimensions");
    if (interlace != PNG_INTERLACE_NONE)
        png_set_interlace_handling(png);
    png_read_update_info(png, info);
    size_t stride = (size_t)w * (size_t)channels;
    if (png_get_rowbytes(png, info) != stride)
        die("unexpected row size");

    pixels = malloc(stride * h);
    rows = malloc(sizeof(png_bytep) * h);
    if (!pixels || !rows)
        die("out of memory");
    for (png_uint_32 y = 0; y < h; y++)
        rows[y] = pixels + y * stride;
    png_read_image(png, rows);
    png_read_end(png, end);

    /* Nothing may follow IEND. */
    if (fgetc(f) != EOF)
        die("data after the IEND chunk");
    if (ferror(f))
        die("read error");
    fclose(f);

    if (fwrite(pixels, 1, stride * h, stdout) != stride * h || fflush(stdout) != 0) {
        perror("png2raw: stdout");
        return 1;
    }
    fprintf(stderr, "%lu %lu %d\n", (unsigned long)w, (unsigned long)h, channels);
    png_destroy_read_struct(&png, &info, &end);
    free(rows);
    free(pixels);
    return 0;
}
