/* image.c: image files for `lir predict`: PNG through libpng's low-level read API, with
 * the transforms that turn every colour type into 8-bit RGB, and JPEG through libjpeg
 * (jpeg_mem.c). libpng reports errors by longjmp; the handlers below copy its message
 * into our lir_error. */
#include "data.h"
#include "jpeg_mem.h"

#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    jmp_buf jmp;
    char msg[256];
} png_ctx;

static void on_error(png_structp png, png_const_charp msg) {
    png_ctx *c = png_get_error_ptr(png);
    snprintf(c->msg, sizeof c->msg, "%s", msg);
    longjmp(c->jmp, 1);
}

static void on_warning(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg; /* benign (e.g. an unknown chunk); corrupt data arrives as an error */
}

/* Decodes an open PNG file positioned after its 8-byte signature. */
static int decode(FILE *f, const char *path, uint8_t **pix, int *w, int *h, lir_error *err) {
    png_ctx ctx = {0};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, on_error, on_warning);
    if (!png) return lir_fail(err, "%s: libpng could not start", path);
    png_infop info = png_create_info_struct(png);
    uint8_t *volatile rgb = NULL;
    png_bytep *volatile rows = NULL;
    if (!info || setjmp(ctx.jmp)) {
        png_destroy_read_struct(&png, &info, NULL);
        free(rgb);
        free(rows);
        return lir_fail(err, "%s: bad PNG: %s", path, ctx.msg[0] ? ctx.msg : "out of memory");
    }
    png_init_io(png, f);
    png_set_sig_bytes(png, 8);
    png_set_user_limits(png, IMAGE_MAX_SIDE, IMAGE_MAX_SIDE);
    png_read_info(png, info);
    int ww = (int)png_get_image_width(png, info), hh = (int)png_get_image_height(png, info);
    int type = png_get_color_type(png, info);
    if (png_get_bit_depth(png, info) == 16) png_set_scale_16(png);
    if (type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (type == PNG_COLOR_TYPE_GRAY || type == PNG_COLOR_TYPE_GRAY_ALPHA) {
        png_set_expand_gray_1_2_4_to_8(png);
        png_set_gray_to_rgb(png);
    }
    png_set_strip_alpha(png); /* also drops the alpha a palette's tRNS expands into */
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    size_t stride = png_get_rowbytes(png, info);
    if (stride != (size_t)ww * 3)
        png_error(png, "unexpected row size after conversion to RGB");
    rgb = xmalloc((size_t)hh * stride);
    rows = xmalloc((size_t)hh * sizeof *rows);
    for (int y = 0; y < hh; y++) rows[y] = rgb + (size_t)y * stride;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    /* interleaved RGB rows -> planar [3][h][w] */
    size_t plane = (size_t)ww * hh;
    uint8_t *out = xmalloc(3 * plane);
    for (size_t i = 0; i < plane; i++)
        for (int c = 0; c < 3; c++) out[c * plane + i] = rgb[3 * i + c];
    free(rgb);
    *pix = out;
    *w = ww;
    *h = hh;
    return 0;
}

/* The first bytes of an open file: 8, or fewer for a short file. */
static size_t head_bytes(FILE *f, uint8_t sig[8]) { return fread(sig, 1, 8, f); }

static image_format format_of(const uint8_t *sig, size_t n) {
    if (n == 8 && !png_sig_cmp(sig, 0, 8)) return IMAGE_PNG;
    if (n >= 3 && sig[0] == 0xFF && sig[1] == 0xD8 && sig[2] == 0xFF) return IMAGE_JPEG;
    return IMAGE_UNKNOWN;
}

image_format image_sniff(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return IMAGE_UNKNOWN;
    uint8_t sig[8];
    size_t n = head_bytes(f, sig);
    fclose(f);
    return format_of(sig, n);
}

static int read_jpeg(const char *path, uint8_t **pix, int *w, int *h, lir_error *err) {
    size_t len;
    char *bytes = file_read_all(path, &len, err);
    if (!bytes) return -1;
    char msg[JPEG_MSG_MAX];
    int rc = jpeg_decode((const unsigned char *)bytes, (unsigned long)len, 3, IMAGE_MAX_SIDE, pix,
                         h, w, msg);
    free(bytes);
    return rc < 0 ? lir_fail(err, "%s: bad JPEG: %s", path, msg) : 0;
}

int image_read(const char *path, uint8_t **pix, int *w, int *h, lir_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return lir_fail(err, "%s: cannot open: %s", path, strerror(errno));
    uint8_t sig[8];
    image_format fmt = format_of(sig, head_bytes(f, sig));
    int rc;
    if (fmt == IMAGE_PNG) {
        rc = decode(f, path, pix, w, h, err);
    } else if (fmt == IMAGE_JPEG) {
        rc = read_jpeg(path, pix, w, h, err);
    } else {
        rc = lir_fail(err, "%s: not a PNG or JPEG file (no PNG or JPEG signature in the first "
                      "bytes)", path);
    }
    fclose(f);
    return rc;
}
