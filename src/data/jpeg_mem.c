/* jpeg_mem.c: JPEG encoding and decoding in memory with libjpeg (jpeg_mem.h). libjpeg
 * reports errors by longjmp; the handler copies its message for our lir_error. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "base/base.h"
#include "jpeg_mem.h"

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    char msg[JMSG_LENGTH_MAX];
} jpeg_err;

static void jpeg_err_exit(j_common_ptr ci) {
    jpeg_err *e = (jpeg_err *)ci->err;
    ci->err->format_message(ci, e->msg);
    longjmp(e->jump, 1);
}

static void jpeg_err_quiet(j_common_ptr ci, int level) { (void)ci, (void)level; }

static void jpeg_err_init(jpeg_err *je, struct jpeg_error_mgr **slot) {
    *slot = jpeg_std_error(&je->pub);
    je->pub.error_exit = jpeg_err_exit;
    je->pub.emit_message = jpeg_err_quiet;
    je->msg[0] = 0;
}

int jpeg_encode(const uint8_t *img, int c, int h, int w, int q, unsigned char **jpg,
                unsigned long *jlen, char *msg) {
    struct jpeg_compress_struct ci;
    jpeg_err je;
    uint8_t *row = xmalloc((size_t)w * c);
    jpeg_err_init(&je, &ci.err);
    *jpg = NULL;
    *jlen = 0;
    if (setjmp(je.jump)) {
        jpeg_destroy_compress(&ci);
        free(row);
        free(*jpg);
        *jpg = NULL;
        snprintf(msg, JPEG_MSG_MAX, "%s", je.msg);
        return -1;
    }
    jpeg_create_compress(&ci);
    jpeg_mem_dest(&ci, jpg, jlen);
    ci.image_width = (JDIMENSION)w;
    ci.image_height = (JDIMENSION)h;
    ci.input_components = c;
    ci.in_color_space = c == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&ci);
    jpeg_set_quality(&ci, q, TRUE);
    jpeg_start_compress(&ci, TRUE);
    size_t plane = (size_t)h * w;
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++) row[x * c + k] = img[k * plane + (size_t)y * w + x];
        JSAMPROW rp = row;
        jpeg_write_scanlines(&ci, &rp, 1);
    }
    jpeg_finish_compress(&ci);
    jpeg_destroy_compress(&ci);
    free(row);
    return 0;
}

int jpeg_decode(const unsigned char *jpg, unsigned long jlen, int c, int max_side, uint8_t **img,
                int *h, int *w, char *msg) {
    struct jpeg_decompress_struct di;
    jpeg_err je;
    uint8_t *volatile row = NULL, *volatile out = NULL;
    jpeg_err_init(&je, &di.err);
    if (setjmp(je.jump)) {
        jpeg_destroy_decompress(&di);
        free(row);
        free(out);
        snprintf(msg, JPEG_MSG_MAX, "%s", je.msg);
        return -1;
    }
    jpeg_create_decompress(&di);
    jpeg_mem_src(&di, jpg, jlen);
    jpeg_read_header(&di, TRUE);
    di.out_color_space = c == 1 ? JCS_GRAYSCALE : JCS_RGB;
    int ww = (int)di.image_width, hh = (int)di.image_height;
    if (max_side > 0 && (ww > max_side || hh > max_side)) {
        jpeg_destroy_decompress(&di);
        snprintf(msg, JPEG_MSG_MAX, "image is %dx%d, larger than %d on a side", ww, hh, max_side);
        return -1;
    }
    jpeg_start_decompress(&di);
    row = xmalloc((size_t)ww * c);
    out = xmalloc((size_t)c * hh * ww);
    size_t plane = (size_t)hh * ww;
    for (int y = 0; y < hh; y++) {
        JSAMPROW rp = row;
        jpeg_read_scanlines(&di, &rp, 1);
        for (int x = 0; x < ww; x++)
            for (int k = 0; k < c; k++) out[k * plane + (size_t)y * ww + x] = row[x * c + k];
    }
    jpeg_finish_decompress(&di);
    jpeg_destroy_decompress(&di);
    free(row);
    *img = out;
    *h = hh;
    *w = ww;
    return 0;
}
