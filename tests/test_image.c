/* test_image.c: image_read on PNGs of every colour type (written here with
 * libpng's write API): RGB, RGBA, gray, gray+alpha, palette with tRNS, 16-bit RGB,
 * 1-bit gray, interlaced; image_read_alpha compositing the transparent ones over
 * white (against the formula in doubles) and leaving an opaque one as it is; on JPEGs
 * (RGB and gray, told by their bytes, not their name); and its refusals (missing file, neither format, truncated PNG and JPEG). */
#include <math.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "data/data.h"
#include "data/jpeg_mem.h"

enum { W = 5, H = 3 };

/* Expected RGB value of pixel (x, y), channel c, for the colour images. */
static uint8_t rgb_at(int x, int y, int c) { return (uint8_t)(40 * x + 70 * y + 13 * c + 1); }
static uint8_t gray_at(int x, int y) { return (uint8_t)(50 * x + 30 * y + 2); }

/* Writes a W x H PNG of the given type; rows built by the caller in `data`. */
static int write_png(const char *path, int type, int depth, int interlace, uint8_t *data,
                     size_t stride, const png_color *pal, int npal, const uint8_t *trns,
                     int ntrns) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(f);
        return -1;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, W, H, depth, type,
                 interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (pal) png_set_PLTE(png, info, pal, npal);
    if (trns) png_set_tRNS(png, info, trns, ntrns, NULL);
    png_write_info(png, info);
    png_bytep rows[H];
    for (int y = 0; y < H; y++) rows[y] = data + (size_t)y * stride;
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return fclose(f);
}

/* Reads path and checks size and every pixel against want(x, y, c). */
static void check_read(const char *path, const char *what, int gray) {
    lir_error err;
    uint8_t *pix = NULL;
    int w = 0, h = 0;
    int rc = image_read(path, &pix, &w, &h, &err);
    CHECK(rc == 0, "%s: %s", what, err.msg);
    if (rc) return;
    CHECK(w == W && h == H, "%s: size %dx%d", what, w, h);
    int bad = 0;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                uint8_t want = gray ? gray_at(x, y) : rgb_at(x, y, c);
                if (pix[(c * H + y) * W + x] != want) bad++;
            }
    CHECK(bad == 0, "%s: %d wrong samples", what, bad);
    free(pix);
}

/* Reads path over white and checks every pixel: round((v a + 255 (255 - a)) / 255) of
 * the colour v the file holds and the alpha a that alpha_at gives (NULL: opaque). */
static void check_over_white(const char *path, const char *what, int gray,
                             int (*alpha_at)(int x, int y)) {
    lir_error err;
    uint8_t *pix = NULL;
    int w = 0, h = 0;
    int rc = image_read_alpha(path, IMAGE_ALPHA_OVER_WHITE, &pix, &w, &h, &err);
    CHECK(rc == 0, "%s over white: %s", what, err.msg);
    if (rc) return;
    int bad = 0;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                double v = gray ? gray_at(x, y) : rgb_at(x, y, c);
                double a = alpha_at ? alpha_at(x, y) : 255;
                long want = lround((v * a + 255.0 * (255.0 - a)) / 255.0);
                if (pix[(c * H + y) * W + x] != want) bad++;
            }
    CHECK(bad == 0, "%s over white: %d wrong samples", what, bad);
    free(pix);
}
static int alpha_rgba(int x, int y) { return (void)y, x * 60; }
static int alpha_ga(int x, int y) { return (void)x, (void)y, 7; }
static int alpha_pal(int x, int y) { return (y * W + x) * 10; }

/* A smooth 40x24 image through JPEG at quality 95 comes back close to itself. */
static void test_jpeg(const char *dir) {
    enum { JW = 40, JH = 24 };
    uint8_t img[3 * JW * JH];
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < JH; y++)
            for (int x = 0; x < JW; x++)
                img[(c * JH + y) * JW + x] = (uint8_t)(40 + 2 * x + 2 * y + 20 * c);
    char path[512], msg[JPEG_MSG_MAX];
    for (int gray = 0; gray <= 1; gray++) {
        unsigned char *jpg;
        unsigned long len;
        CHECK(jpeg_encode(img, gray ? 1 : 3, JH, JW, 95, &jpg, &len, msg) == 0, "encode: %s", msg);
        snprintf(path, sizeof path, "%s/%s.png", dir, gray ? "jgray" : "jrgb"); /* name lies */
        FILE *f = fopen(path, "wb");
        fwrite(jpg, 1, gray ? len : len / 2, f);
        fclose(f);
        lir_error err;
        uint8_t *pix = NULL;
        int w, h;
        if (!gray) { /* first half of the file: truncated */
            CHECK(image_read(path, &pix, &w, &h, &err) == -1 && strstr(err.msg, "bad JPEG"),
                  "truncated JPEG: %s", err.msg);
            f = fopen(path, "wb");
            fwrite(jpg, 1, len, f);
            fclose(f);
        }
        free(jpg);
        CHECK(image_sniff(path) == IMAGE_JPEG, "JPEG told by its bytes");
        CHECK(image_read(path, &pix, &w, &h, &err) == 0, "%s JPEG: %s", gray ? "gray" : "RGB",
              err.msg);
        if (!pix) continue;
        CHECK(w == JW && h == JH, "JPEG size %dx%d", w, h);
        int worst = 0;
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < JW * JH; i++) {
                int want = img[(gray ? 0 : c) * JW * JH + i], got = pix[c * JW * JH + i];
                worst = abs(got - want) > worst ? abs(got - want) : worst;
            }
        CHECK(worst <= 6, "%s JPEG decodes close to the original (worst %d)", gray ? "gray" : "RGB",
              worst);
        free(pix);
        unlink(path);
    }
}

int main(void) {
    char dir[] = "/tmp/lir_image_XXXXXX";
    if (!mkdtemp(dir)) check_skip("mkdtemp failed");
    char path[256];
    uint8_t buf[H * W * 8];

    /* RGB 8-bit, plain and interlaced */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 3; c++) buf[(y * W + x) * 3 + c] = rgb_at(x, y, c);
    snprintf(path, sizeof path, "%s/rgb.png", dir);
    CHECK(write_png(path, PNG_COLOR_TYPE_RGB, 8, 0, buf, W * 3, NULL, 0, NULL, 0) == 0, "w");
    check_read(path, "rgb", 0);
    snprintf(path, sizeof path, "%s/rgbi.png", dir);
    CHECK(write_png(path, PNG_COLOR_TYPE_RGB, 8, 1, buf, W * 3, NULL, 0, NULL, 0) == 0, "w");
    check_read(path, "rgb interlaced", 0);
    check_over_white(path, "rgb (opaque)", 0, NULL);

    /* RGBA: alpha dropped, colour kept */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            for (int c = 0; c < 3; c++) buf[(y * W + x) * 4 + c] = rgb_at(x, y, c);
            buf[(y * W + x) * 4 + 3] = (uint8_t)(x * 60);
        }
    snprintf(path, sizeof path, "%s/rgba.png", dir);
    CHECK(write_png(path, PNG_COLOR_TYPE_RGBA, 8, 0, buf, W * 4, NULL, 0, NULL, 0) == 0, "w");
    check_read(path, "rgba", 0);
    check_over_white(path, "rgba", 0, alpha_rgba);

    /* 16-bit RGB: v16 = v8 * 257 reduces back to v8 exactly */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 3; c++) {
                uint8_t v = rgb_at(x, y, c);
                buf[(y * W + x) * 6 + 2 * c] = v; /* big-endian v*257 = bytes v, v */
                buf[(y * W + x) * 6 + 2 * c + 1] = v;
            }
    snprintf(path, sizeof path, "%s/rgb16.png", dir);
    CHECK(write_png(path, PNG_COLOR_TYPE_RGB, 16, 0, buf, W * 6, NULL, 0, NULL, 0) == 0, "w");
    check_read(path, "rgb 16-bit", 0);

    /* gray and gray+alpha: copied to all three channels */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) buf[y * W + x] = gray_at(x, y);
    snprintf(path, sizeof path, "%s/gray.png", dir);
    CHECK(write_png(path, PNG_COLOR_TYPE_GRAY, 8, 0, buf, W, NULL, 0, NULL, 0) == 0, "w");
    check_read(path, "gray", 1);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            buf[(y * W + x) * 2] = gray_at(x, y);
            buf[(y * W + x) * 2 + 1] = 7;
        }
    snprintf(path, sizeof path, "%s/ga.png", dir);
    CHECK(write_png(path, PNG_COLOR_TYPE_GRAY_ALPHA, 8, 0, buf, W * 2, NULL, 0, NULL, 0) == 0,
          "w");
    check_read(path, "gray+alpha", 1);
    check_over_white(path, "gray+alpha", 1, alpha_ga);

    /* palette with transparency: index i -> colour of pixel i */
    png_color pal[W * H];
    uint8_t trns[W * H];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int i = y * W + x;
            pal[i].red = rgb_at(x, y, 0);
            pal[i].green = rgb_at(x, y, 1);
            pal[i].blue = rgb_at(x, y, 2);
            trns[i] = (uint8_t)(i * 10);
            buf[i] = (uint8_t)i;
        }
    snprintf(path, sizeof path, "%s/pal.png", dir);
    CHECK(write_png(path, PNG_COLOR_TYPE_PALETTE, 8, 0, buf, W, pal, W * H, trns, W * H) == 0,
          "w");
    check_read(path, "palette+tRNS", 0);
    check_over_white(path, "palette+tRNS", 0, alpha_pal);

    /* 1-bit gray: pixel (x, y) on when x+y odd -> 255, else 0 */
    memset(buf, 0, sizeof buf);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            if ((x + y) & 1) buf[y] |= (uint8_t)(0x80 >> x);
    snprintf(path, sizeof path, "%s/bit.png", dir);
    CHECK(write_png(path, PNG_COLOR_TYPE_GRAY, 1, 0, buf, 1, NULL, 0, NULL, 0) == 0, "w");
    {
        lir_error err;
        uint8_t *pix;
        int w, h;
        CHECK(image_read(path, &pix, &w, &h, &err) == 0, "1-bit: %s", err.msg);
        CHECK(pix[1] == 255 && pix[0] == 0 && pix[2 * W * H + W] == 255, "1-bit values %d %d",
              pix[0], pix[1]);
        free(pix);
    }

    /* refusals */
    lir_error err;
    uint8_t *pix;
    int w, h;
    snprintf(path, sizeof path, "%s/missing.png", dir);
    CHECK(image_read(path, &pix, &w, &h, &err) == -1, "missing file read");
    CHECK(strstr(err.msg, "missing.png: cannot open") != NULL, "message: %s", err.msg);
    snprintf(path, sizeof path, "%s/text.png", dir);
    FILE *f = fopen(path, "w");
    fputs("this is not a png at all", f);
    fclose(f);
    CHECK(image_read(path, &pix, &w, &h, &err) == -1, "text file read");
    CHECK(strstr(err.msg, "neither a PNG nor a JPEG") != NULL, "message: %s", err.msg);
    /* truncated: the RGB file cut in the middle of its data */
    char src[256];
    snprintf(src, sizeof src, "%s/rgb.png", dir);
    size_t len;
    char *bytes = file_read_all(src, &len, &err);
    CHECK(bytes != NULL, "read back: %s", err.msg);
    snprintf(path, sizeof path, "%s/cut.png", dir);
    f = fopen(path, "wb");
    fwrite(bytes, 1, len - 20, f);
    fclose(f);
    free(bytes);
    CHECK(image_read(path, &pix, &w, &h, &err) == -1, "truncated file read");
    CHECK(strstr(err.msg, "bad PNG") != NULL, "message: %s", err.msg);

    test_jpeg(dir);
    const char *names[] = {"rgb", "rgbi", "rgba", "rgb16", "gray", "ga", "pal", "bit", "text",
                           "cut"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        snprintf(path, sizeof path, "%s/%s.png", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
    return check_done("test_image");
}
