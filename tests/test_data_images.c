/* test_data_images.c: area resampling against an exact oracle, JPEG/PNG reading, image
 * packs (built, cached, rebuilt when the list changes, bad files named), the sets made
 * of image files (textures, dtd, photos, photos-test with its disjointness check) on
 * tiny fixtures written here, photo crops (deterministic, distinct), and the synthetic
 * sets (fixed, blobs against a direct 3-D convolution). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/data.h"
#include "image_fixture.h"

/* Area resampling equals the mean over the K-times nearest-upsampled image when every
 * box edge lies on the 1/K grid: an exact, independent oracle. */
static void test_resize(void) {
    enum { W = 23, H = 17, K = 8 };
    uint8_t *src = pattern(W, H, 1);
    image_box boxes[] = {{0, 0, W, H}, {1.5, 2.25, 16, 12}, {3.125, 0.5, 10, 10}, {0, 0, 6, 4}};
    int outs[][2] = {{8, 8}, {4, 8}, {5, 5}, {8, 8}}; /* (oh, ow); the last one enlarges */
    for (int b = 0; b < 4; b++) {
        int oh = outs[b][0], ow = outs[b][1];
        uint8_t dst[3 * 12 * 12];
        image_resize_area(src, 3, H, W, &boxes[b], dst, oh, ow);
        int ok = 1;
        for (int c = 0; c < 3; c++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++) {
                    /* the output pixel's rectangle in K-grid units */
                    double y0 = (boxes[b].y + oy * boxes[b].h / oh) * K, y1 = y0 + boxes[b].h / oh * K;
                    double x0 = (boxes[b].x + ox * boxes[b].w / ow) * K, x1 = x0 + boxes[b].w / ow * K;
                    double sum = 0;
                    int n = 0;
                    for (int y = (int)(y0 + 0.5); y < (int)(y1 + 0.5); y++)
                        for (int x = (int)(x0 + 0.5); x < (int)(x1 + 0.5); x++, n++)
                            sum += src[(c * H + y / K) * W + x / K];
                    long want = lrint(sum / n);
                    ok &= abs(dst[(c * oh + oy) * ow + ox] - (int)want) <= (b == 3 ? 1 : 0);
                }
        CHECK(ok, "area resize, box %d, equals the supersampled mean", b);
    }
    image_box c;
    image_box_center(40, 30, &c);
    CHECK(c.x == 5 && c.y == 0 && c.w == 30 && c.h == 30, "centre square of 40x30");
    free(src);
}

static void test_read(void) {
    uint8_t *img = pattern(20, 12, 2);
    write_image("a.png", img, 20, 12);
    write_image("a.jpg", img, 20, 12);
    char path[512];
    uint8_t *pix;
    int w, h;
    lir_error err;
    snprintf(path, sizeof path, "%s/a.png", root);
    CHECK(image_read(path, &pix, &w, &h, &err) == 0 && w == 20 && h == 12 && !memcmp(pix, img, 720),
          "PNG read exactly");
    free(pix);
    snprintf(path, sizeof path, "%s/a.jpg", root);
    int rc = image_read(path, &pix, &w, &h, &err), close = rc == 0;
    for (int i = 0; close && i < 720; i++) close &= abs(pix[i] - img[i]) <= 12;
    CHECK(rc == 0 && w == 20 && h == 12 && close, "JPEG read close to the original");
    if (rc == 0) free(pix);
    sh("head -c 300 %s/a.jpg > %s/trunc.jpg", root);
    snprintf(path, sizeof path, "%s/trunc.jpg", root);
    CHECK(image_read(path, &pix, &w, &h, &err) < 0 && strstr(err.msg, "trunc.jpg: bad JPEG"),
          "truncated JPEG refused: %s", err.msg);
    sh("echo 'GIF89a' > %s/x.gif", root);
    snprintf(path, sizeof path, "%s/x.gif", root);
    CHECK(image_read(path, &pix, &w, &h, &err) < 0 && strstr(err.msg, "neither a PNG nor a JPEG"),
          "other format refused");
    free(img);
}

/* MANIFEST line for root/<rel> with its real SHA-256 (or a given wrong one). */
static void manifest_add(FILE *m, const char *rel, const char *sha) {
    char path[512], hex[65];
    snprintf(path, sizeof path, "%s/set/%s", root, rel);
    lir_error err;
    CHECK(sha || sha256_file(path, hex, &err) == 0, "sha256 of %s", path);
    fprintf(m, "%s  %s\n", sha ? sha : hex, rel);
}

static image_pack *open_set(const char *lines_of, const pack_spec *spec, lir_error *err) {
    char path[600], setdir[512];
    snprintf(setdir, sizeof setdir, "%s/set", root);
    snprintf(path, sizeof path, "%s/MANIFEST", setdir);
    FILE *m = fopen(path, "w");
    for (const char *r = lines_of; *r; r += strlen(r) + 1) manifest_add(m, r, NULL);
    fclose(m);
    pack_entry *e;
    int n;
    if (manifest_read(path, &e, &n, err) < 0) return NULL;
    image_pack *p = image_pack_open(setdir, "t.pack", e, n, spec, err);
    free(e);
    return p;
}

static void test_pack(void) {
    sh("mkdir -p %s/set/images", root);
    int sizes[4][2] = {{64, 48}, {40, 40}, {20, 10}, {600, 300}};
    const char *names[4] = {"images/a.jpg", "images/b.png", "images/small.jpg", "images/big.jpg"};
    for (int i = 0; i < 4; i++) {
        uint8_t *img = pattern(sizes[i][0], sizes[i][1], i);
        char rel[64];
        snprintf(rel, sizeof rel, "set/%s", names[i]);
        write_image(rel, img, sizes[i][0], sizes[i][1]);
        free(img);
    }
    lir_error err;
    pack_spec center = {PACK_CENTER, 32, 32, IMAGE_ALPHA_DROP};
    pack_spec shortside = {PACK_SHORT, 256, 32, IMAGE_ALPHA_DROP};
    image_pack *p = open_set("images/a.jpg\0images/b.png\0images/small.jpg\0", &center, &err);
    CHECK(p && p->n == 2 && p->skipped == 1 && p->built && p->cached, "pack built: %s",
          p ? "" : err.msg);
    char path[512];
    snprintf(path, sizeof path, "%s/set/t.pack.tmp", root);
    CHECK(access(path, F_OK) != 0, "no temporary file left");
    image_pack *q = open_set("images/a.jpg\0images/b.png\0images/small.jpg\0", &center, &err);
    CHECK(p && q && !q->built && q->n == 2 && q->img[1].src_w == 40 && q->img[0].w == 32 &&
              q->pix_bytes == p->pix_bytes && !memcmp(q->pix, p->pix, p->pix_bytes),
          "pack read back from its file, same pixels");
    image_pack_free(q);
    q = open_set("images/b.png\0", &center, &err);
    CHECK(q && q->built && q->n == 1 && p && !memcmp(q->pix, p->pix + p->img[1].off, 3072),
          "a changed list rebuilds the pack");
    image_pack_free(q);
    image_pack_free(p);
    p = open_set("images/big.jpg\0images/b.png\0", &shortside, &err);
    CHECK(p && p->img[0].w == 512 && p->img[0].h == 256 && p->img[1].w == 40, "shorter side to 256");
    image_pack_free(p);
    sh("head -c 500 %s/set/images/a.jpg > %s/set/images/cut.jpg", root);
    p = open_set("images/b.png\0images/cut.jpg\0", &center, &err);
    CHECK(!p && strstr(err.msg, "set/images/cut.jpg: bad JPEG"), "corrupt image named: %s", err.msg);
    snprintf(path, sizeof path, "%s/set/MANIFEST", root);
    FILE *m = fopen(path, "w");
    manifest_add(m, "images/a.jpg", "0000000000000000000000000000000000000000000000000000000000000000");
    fclose(m);
    pack_entry *e;
    int n;
    CHECK(manifest_read(path, &e, &n, &err) == 0 && n == 1, "manifest read");
    char setdir[512];
    snprintf(setdir, sizeof setdir, "%s/set", root);
    p = image_pack_open(setdir, "t2.pack", e, n, &center, &err);
    CHECK(!p && strstr(err.msg, "images/a.jpg: SHA-256") && strstr(err.msg, "list says 0000"),
          "checksum mismatch named: %s", err.msg);
    free(e);
    sh("printf '# comment\\n\\nnot-a-hash  x.jpg\\n' > %s/set/MANIFEST", root);
    CHECK(manifest_read(path, &e, &n, &err) < 0 && strstr(err.msg, "MANIFEST: line 3"),
          "bad MANIFEST line named: %s", err.msg);
    sh("printf '%%064d  ../x.jpg\\n' 0 > %s/set/MANIFEST", root);
    CHECK(manifest_read(path, &e, &n, &err) < 0 && strstr(err.msg, "bad path"), "'..' refused");
}

int main(void) {
    if (!mkdtemp(root)) return 1;
    test_resize();
    test_read();
    test_pack();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    if (system(cmd)) return 1;
    return check_done("test_data_images");
}
