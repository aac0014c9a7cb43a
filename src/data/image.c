/* image.c: PNG reading through libpng's low-level read API, with the
 * transforms that turn every colour type into 8-bit RGB (alpha dropped, or the image
 * composited over white), and JPEG reading through
 * libjpeg (data.h). Both libraries report errors by longjmp; the handlers below copy
 * their message into our lir_error. */
#include "data.h"

#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include <jerror.h>

/* Interleaved RGB rows -> planar [3][h][w]. */
static uint8_t *to_planar(const uint8_t *rgb, int w, int h) {
    size_t plane = (size_t)w * h;
    uint8_t *out = xmalloc(3 * plane);
    for (size_t i = 0; i < plane; i++)
        for (int c = 0; c < 3; c++) out[c * plane + i] = rgb[3 * i + c];
    return out;
}

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

/* Interleaved RGBA rows -> RGB over white, in place: c' = (c a + 255 (255 - a)) / 255,
 * rounded to nearest. */
static void over_white(uint8_t *px, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const unsigned a = px[4 * i + 3];
        for (int c = 0; c < 3; c++)
            px[3 * i + c] = (uint8_t)((px[4 * i + c] * a + 255u * (255u - a) + 127u) / 255u);
    }
}

/* Decodes an open PNG file positioned after its 8-byte signature. */
static int decode(FILE *f, const char *path, image_alpha alpha, uint8_t **pix, int *w, int *h,
                  lir_error *err) {
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
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
    /* let the fuzzer past the checksums it cannot forge (as libpng's own fuzzer does) */
    png_set_crc_action(png, PNG_CRC_QUIET_USE, PNG_CRC_QUIET_USE);
    png_set_option(png, PNG_IGNORE_ADLER32, PNG_OPTION_ON);
#endif
    png_read_info(png, info);
    int ww = (int)png_get_image_width(png, info), hh = (int)png_get_image_height(png, info);
    if ((uint64_t)ww * (uint64_t)hh > IMAGE_MAX_PIXELS)
        png_error(png, "image larger than " IMAGE_MAX_PIXELS_TEXT " pixels");
    int type = png_get_color_type(png, info);
    if (png_get_bit_depth(png, info) == 16) png_set_scale_16(png);
    if (type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (type == PNG_COLOR_TYPE_GRAY || type == PNG_COLOR_TYPE_GRAY_ALPHA) {
        png_set_expand_gray_1_2_4_to_8(png);
        png_set_gray_to_rgb(png);
    }
    const int keep = alpha == IMAGE_ALPHA_OVER_WHITE &&
                     ((type & PNG_COLOR_MASK_ALPHA) || png_get_valid(png, info, PNG_INFO_tRNS));
    if (keep) png_set_tRNS_to_alpha(png);
    else png_set_strip_alpha(png); /* also drops the alpha a palette's tRNS expands into */
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    size_t stride = png_get_rowbytes(png, info);
    if (stride != (size_t)ww * (keep ? 4 : 3))
        png_error(png, "unexpected row size after conversion to RGB");
    rgb = xmalloc((size_t)hh * stride);
    rows = xmalloc((size_t)hh * sizeof *rows);
    for (int y = 0; y < hh; y++) rows[y] = rgb + (size_t)y * stride;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    if (keep) over_white(rgb, (size_t)ww * hh);
    *pix = to_planar(rgb, ww, hh);
    free(rgb);
    *w = ww;
    *h = hh;
    return 0;
}

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jmp;
    char msg[JMSG_LENGTH_MAX];
} jpeg_ctx;

static void jpeg_on_error(j_common_ptr ci) {
    jpeg_ctx *c = (jpeg_ctx *)ci->err;
    ci->err->format_message(ci, c->msg);
    longjmp(c->jmp, 1);
}

/* libjpeg goes on after corrupt-data warnings; a file that ends early would decode
 * with grey filler, so that one is an error. Other warnings (extraneous bytes) pass. */
static void jpeg_on_warning(j_common_ptr ci, int level) {
    if (level < 0 && ci->err->msg_code == JWRN_JPEG_EOF) jpeg_on_error(ci);
}

static int jpeg_decode_file(FILE *f, const char *path, uint8_t **pix, int *w, int *h,
                            lir_error *err) {
    struct jpeg_decompress_struct di;
    jpeg_ctx ctx;
    uint8_t *volatile rgb = NULL;
    di.err = jpeg_std_error(&ctx.pub);
    ctx.pub.error_exit = jpeg_on_error;
    ctx.pub.emit_message = jpeg_on_warning;
    if (setjmp(ctx.jmp)) {
        jpeg_destroy_decompress(&di);
        free(rgb);
        return lir_fail(err, "%s: bad JPEG: %s", path, ctx.msg);
    }
    jpeg_create_decompress(&di);
    jpeg_stdio_src(&di, f);
    jpeg_read_header(&di, TRUE);
    int ww = (int)di.image_width, hh = (int)di.image_height;
    if (ww > IMAGE_MAX_SIDE || hh > IMAGE_MAX_SIDE || (uint64_t)ww * hh > IMAGE_MAX_PIXELS) {
        jpeg_destroy_decompress(&di);
        return lir_fail(err, "%s: JPEG of %dx%d, larger than %d pixels a side or %s pixels",
                        path, ww, hh, IMAGE_MAX_SIDE, IMAGE_MAX_PIXELS_TEXT);
    }
    di.out_color_space = JCS_RGB; /* gray and YCbCr become RGB; CMYK is refused by libjpeg */
    jpeg_start_decompress(&di);
    rgb = xmalloc((size_t)ww * hh * 3);
    while ((int)di.output_scanline < hh) {
        JSAMPROW row = rgb + (size_t)di.output_scanline * ww * 3;
        jpeg_read_scanlines(&di, &row, 1);
    }
    jpeg_finish_decompress(&di);
    jpeg_destroy_decompress(&di);
    *pix = to_planar(rgb, ww, hh);
    free(rgb);
    *w = ww;
    *h = hh;
    return 0;
}

/* PNG, or with jpeg also JPEG, told apart by the signature. */
static int read_image(const char *path, int jpeg, image_alpha alpha, uint8_t **pix, int *w,
                      int *h, lir_error *err) {
    FILE *f = file_open_read(path, NULL, err);
    if (!f) return -1;
    uint8_t sig[8];
    size_t got = fread(sig, 1, 8, f);
    int rc;
    if (got != 8 && ferror(f)) {
        rc = lir_fail(err, "%s: read error: %s", path, strerror(errno ? errno : EIO));
    } else if (got == 8 && !png_sig_cmp(sig, 0, 8)) {
        rc = decode(f, path, alpha, pix, w, h, err);
    } else if (jpeg && got >= 3 && sig[0] == 0xff && sig[1] == 0xd8 && sig[2] == 0xff) {
        rewind(f);
        rc = jpeg_decode_file(f, path, pix, w, h, err);
    } else {
        rc = lir_fail(err, jpeg ? "%s: neither a PNG nor a JPEG file (unknown signature in the "
                                  "first bytes)"
                                : "%s: not a PNG file (bad signature in the first 8 bytes)",
                      path);
    }
    fclose(f);
    return rc;
}

int image_read_png(const char *path, uint8_t **pix, int *w, int *h, lir_error *err) {
    return read_image(path, 0, IMAGE_ALPHA_DROP, pix, w, h, err);
}

int image_read(const char *path, uint8_t **pix, int *w, int *h, lir_error *err) {
    return read_image(path, 1, IMAGE_ALPHA_DROP, pix, w, h, err);
}

int image_read_alpha(const char *path, image_alpha alpha, uint8_t **pix, int *w, int *h,
                     lir_error *err) {
    return read_image(path, 1, alpha, pix, w, h, err);
}

image_format image_sniff(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return IMAGE_UNKNOWN;
    uint8_t sig[8];
    size_t got = fread(sig, 1, 8, f);
    fclose(f);
    if (got == 8 && !png_sig_cmp(sig, 0, 8)) return IMAGE_PNG;
    if (got >= 3 && sig[0] == 0xff && sig[1] == 0xd8 && sig[2] == 0xff) return IMAGE_JPEG;
    return IMAGE_UNKNOWN;
}
