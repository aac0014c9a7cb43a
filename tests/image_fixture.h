/* image_fixture.h: helpers of the image-set tests: a fixture folder, shell commands,
 * seeded test images and writing them as JPEG (quality 95, 4:4:4) or PNG. */
#ifndef LIR_IMAGE_FIXTURE_H
#define LIR_IMAGE_FIXTURE_H

#include <png.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "check.h"

static char root[] = "/tmp/lir_test_imgXXXXXX";

/* Runs fmt with every %s replaced by a (at most three). */
static void sh(const char *fmt, const char *a) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, fmt, a, a, a);
    CHECK(system(cmd) == 0, "%s", cmd);
}

/* Writes planar img [3][h][w] as a JPEG (quality 95, 4:4:4) or a PNG at root/rel. */
static void write_image(const char *rel, const uint8_t *img, int w, int h) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    uint8_t *rgb = malloc((size_t)w * h * 3);
    for (int i = 0; i < w * h; i++)
        for (int c = 0; c < 3; c++) rgb[i * 3 + c] = img[c * w * h + i];
    if (strstr(rel, ".png")) {
        png_image pi = {.version = PNG_IMAGE_VERSION, .width = (png_uint_32)w,
                        .height = (png_uint_32)h, .format = PNG_FORMAT_RGB};
        CHECK(png_image_write_to_file(&pi, path, 0, rgb, 0, NULL), "write %s", path);
    } else {
        FILE *f = fopen(path, "wb");
        CHECK(f != NULL, "open %s", path);
        struct jpeg_compress_struct ci;
        struct jpeg_error_mgr je;
        ci.err = jpeg_std_error(&je);
        jpeg_create_compress(&ci);
        jpeg_stdio_dest(&ci, f);
        ci.image_width = (JDIMENSION)w, ci.image_height = (JDIMENSION)h;
        ci.input_components = 3, ci.in_color_space = JCS_RGB;
        jpeg_set_defaults(&ci);
        jpeg_set_quality(&ci, 95, TRUE);
        for (int c = 0; c < 3; c++) ci.comp_info[c].h_samp_factor = ci.comp_info[c].v_samp_factor = 1;
        jpeg_start_compress(&ci, TRUE);
        for (int y = 0; y < h; y++) {
            JSAMPROW row = rgb + (size_t)y * w * 3;
            jpeg_write_scanlines(&ci, &row, 1);
        }
        jpeg_finish_compress(&ci);
        jpeg_destroy_compress(&ci);
        fclose(f);
    }
    free(rgb);
}

/* A smooth, seeded test image [3][h][w]. */
static uint8_t *pattern(int w, int h, int seed) {
    uint8_t *p = malloc((size_t)3 * w * h);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                p[(c * h + y) * w + x] = (uint8_t)((x * (3 + c) + y * (2 + seed) + seed * 40) % 256);
    return p;
}

#endif
