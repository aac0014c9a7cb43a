/* test_data_sets.c: the sets made of image files on tiny fixtures written here
 * (textures and photos-test through MANIFESTs, DTD in its archive layout), photo crops
 * (deterministic from the seed, distinct, area-filtered), the photos held out of photos
 * for photos-val, photos-test's disjointness refusal, and the synthetic sets (fixed; blobs against a direct 3-D convolution). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/data.h"
#include "image_fixture.h"

/* Writes images into root/<set>/images/<pkg>/, a MANIFEST and a PROVENANCE naming pkg. */
static void make_set(const char *set, const char *pkg, int n, int w, int h, int seed0) {
    char rel[256], path[600];
    snprintf(rel, sizeof rel, "mkdir -p %s/%s/images/%s", root, set, pkg);
    CHECK(system(rel) == 0, "mkdir");
    snprintf(path, sizeof path, "%s/%s/MANIFEST", root, set);
    FILE *m = fopen(path, "w");
    for (int i = 0; i < n; i++) {
        uint8_t *img = pattern(w + i, h, seed0 + i);
        snprintf(rel, sizeof rel, "%s/images/%s/%d.jpg", set, pkg, i);
        write_image(rel, img, w + i, h);
        free(img);
        char hex[65], file[600];
        lir_error err;
        snprintf(file, sizeof file, "%s/%s", root, rel);
        CHECK(sha256_file(file, hex, &err) == 0, "sha");
        fprintf(m, "%s  images/%s/%d.jpg\n", hex, pkg, i);
    }
    fclose(m);
    snprintf(path, sizeof path, "%s/%s/PROVENANCE", root, set);
    m = fopen(path, "w");
    fprintf(m, "source=debian\npackage=%s version=1 deb_sha256=x\n", pkg);
    fclose(m);
}

static void test_textures_dtd(void) {
    make_set("textures", "tex-pkg", 3, 40, 36, 0);
    lir_error err;
    dataset *d = dataset_load("textures", "test", root, &err);
    CHECK(d && d->n == 3 && d->classes == 1 && d->h == 32, "textures: %s", d ? "" : err.msg);
    char path[600];
    snprintf(path, sizeof path, "%s/textures/textures32.pack", root);
    CHECK(access(path, R_OK) == 0, "textures pack written");
    /* image 0 is 40x36: its centre square starts at x = 2; the pack holds its area
     * resize to 32x32, which dataset_load returns unchanged */
    uint8_t *pix, ref[3072];
    int w, h;
    snprintf(path, sizeof path, "%s/textures/images/tex-pkg/0.jpg", root);
    CHECK(image_read(path, &pix, &w, &h, &err) == 0 && w == 40, "read back");
    image_box b = {2, 0, 36, 36};
    image_resize_area(pix, 3, h, w, &b, ref, 32, 32);
    free(pix);
    CHECK(d && !memcmp(d->images, ref, 3072), "textures: centre crop, area-resized to 32x32");
    dataset_free(d);
    char prov[512];
    data_source src = dataset_provenance("textures@jpeg75", root, prov, sizeof prov);
    CHECK(src == DATA_SOURCE_DEBIAN && !strcmp(data_source_name(src), "debian") &&
              strstr(prov, "source=debian (packages tex-pkg version=1 deb_sha256=x)"),
          "provenance of a Debian set: %s", prov);
    CHECK(!dataset_load("textures", "train", root, &err) && strstr(err.msg, "only the split test"),
          "textures split train refused");
    CHECK(!dataset_load("photos", "train", root, &err) && strstr(err.msg, "photos/MANIFEST") &&
              strstr(err.msg, "get_data.sh photos"),
          "missing set says how to fetch it: %s", err.msg);
    /* DTD: dtd/dtd/images/<class>/<file>.jpg, labels in class-name order */
    sh("mkdir -p %s/dtd/dtd/images/banded %s/dtd/dtd/images/zigzagged", root);
    uint8_t *img = pattern(48, 40, 7);
    write_image("dtd/dtd/images/zigzagged/zigzagged_0001.jpg", img, 48, 40);
    write_image("dtd/dtd/images/banded/banded_0002.jpg", img, 40, 48);
    write_image("dtd/dtd/images/banded/banded_0001.jpg", img, 48, 40);
    free(img);
    d = dataset_load("dtd", "test", root, &err);
    CHECK(d && d->n == 3 && d->classes == 47 && d->labels[0] == 0 && d->labels[1] == 0 &&
              d->labels[2] == 1,
          "dtd: 3 images, class labels in name order: %s", d ? "" : err.msg);
    dataset_free(d);
    sh("rm -rf %s/dtd/dtd", root);
    CHECK(!dataset_load("dtd", "test", root, &err) && strstr(err.msg, "dtd/images/<class>/*.jpg"),
          "missing DTD: %s", err.msg);
}

static void test_photos(void) {
    make_set("photos", "wall-pkg", 3, 120, 90, 10);
    lir_error err;
    image_pack *p = imageset_open("photos", root, &err);
    CHECK(p && p->n == 3 && p->img[0].h == 90 && p->img[0].w == 120, "photos pack (kept below 256)");
    if (!p) return;
    rng_state a, b;
    rng_seed(&a, 5);
    rng_seed(&b, 5);
    enum { N = 2000 };
    uint8_t *x = malloc((size_t)N * 3072), y[3072];
    int same = 1;
    for (int i = 0; i < N; i++) {
        photo_crop(p, &a, x + (size_t)i * 3072);
        photo_crop(p, &b, y);
        same &= !memcmp(y, x + (size_t)i * 3072, 3072);
    }
    CHECK(same, "crops are a function of the seed");
    int dup = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < i && !dup; j++) dup = !memcmp(x + (size_t)i * 3072, x + (size_t)j * 3072, 3072);
    CHECK(!dup, "%d crops of 3 images are all distinct", N);
    rng_seed(&b, 6);
    photo_crop(p, &b, y);
    CHECK(memcmp(y, x, 3072) != 0, "another seed, other crops");
    free(x);
    image_pack_free(p);
    dataset *d = dataset_load("photos", "train", root, &err), *e = dataset_load("photos", "train", root, &err);
    CHECK(d && e && d->n == PHOTOS_SET_SIZE && !memcmp(d->images, e->images, (size_t)d->n * 3072),
          "photos as a dataset: fixed crops");
    dataset_free(d);
    dataset_free(e);
}

/* Every PHOTOS_VAL_EVERY-th photo of the MANIFEST is photos-val's, the others photos'. */
static void test_photos_val(void) {
    lir_error err;
    CHECK(!dataset_load("photos-val", "test", root, &err) && strstr(err.msg, "lists 3 photos") &&
              strstr(err.msg, "at least 5"),
          "photos-val of 3 photos refused: %s", err.msg);
    sh("rm -rf %s/photos", root);
    make_set("photos", "wall-pkg", 2 * PHOTOS_VAL_EVERY + 1, 120, 90, 30); /* widths 120 + i */
    image_pack *p = imageset_open("photos", root, &err), *v = imageset_open("photos-val", root, &err);
    CHECK(p && v && p->n == 2 * PHOTOS_VAL_EVERY - 1 && v->n == 2, "photos %d, photos-val %d images",
          p ? p->n : -1, v ? v->n : -1);
    int apart = p && v;
    for (int i = 0; apart && i < p->n; i++)
        apart = (p->img[i].w - 120) % PHOTOS_VAL_EVERY != PHOTOS_VAL_EVERY - 1;
    for (int i = 0; apart && i < v->n; i++)
        apart = v->img[i].w == 120 + PHOTOS_VAL_EVERY * (i + 1) - 1;
    CHECK(apart, "photos-val holds exactly the photos photos lacks");
    image_pack_free(p);
    image_pack_free(v);
    char path[600];
    snprintf(path, sizeof path, "%s/photos/photos256-val.pack", root);
    CHECK(access(path, R_OK) == 0, "photos-val pack written beside photos'");
    dataset *d = dataset_load("photos-val", "test", root, &err);
    CHECK(d && d->n == PHOTOS_SET_SIZE && d->classes == 1, "photos-val loads: %s", d ? "" : err.msg);
    CHECK(!dataset_load("photos-val", "train", root, &err) && strstr(err.msg, "only the split test"),
          "photos-val has no train split");
    dataset_free(d);
}

static void test_photos_test(void) {
    make_set("photos-test", "other-pkg", 2, 100, 80, 20);
    lir_error err;
    dataset *d = dataset_load("photos-test", "test", root, &err);
    CHECK(d && d->n == PHOTOS_SET_SIZE && strstr(d->note, "disjoint from photos") &&
              strstr(d->note, "other-pkg") && strstr(d->note, "wall-pkg"),
          "photos-test loads, disjointness stated: %s", d ? d->note : err.msg);
    dataset_free(d);
    /* the same package on both sides */
    sh("sed -i 's/other-pkg/wall-pkg/' %s/photos-test/PROVENANCE", root);
    CHECK(!dataset_load("photos-test", "test", root, &err) && strstr(err.msg, "package wall-pkg"),
          "shared package refused: %s", err.msg);
    sh("sed -i 's/wall-pkg/other-pkg/' %s/photos-test/PROVENANCE", root);
    /* the same file on both sides */
    sh("cp %s/photos/images/wall-pkg/1.jpg %s/photos-test/images/other-pkg/1.jpg", root);
    sh("cd %s/photos-test && sha256sum images/other-pkg/0.jpg images/other-pkg/1.jpg > MANIFEST", root);
    CHECK(!dataset_load("photos-test", "test", root, &err) && strstr(err.msg, "not disjoint") &&
              strstr(err.msg, "images/other-pkg/1.jpg"),
          "shared file refused: %s", err.msg);
    sh("rm -rf %s/photos", root);
    d = dataset_load("photos-test", "test", root, &err);
    CHECK(d && strstr(d->note, "not checked"), "without photos the note says unchecked");
    dataset_free(d);
}

/* blobs: the separable blur equals the direct 13x13x13 convolution with repeated edges. */
static void test_synth(void) {
    lir_error err;
    const char *names[3] = {"gaussian", "uniform", "blobs"};
    /* the full set once (uniform: the cheapest to make), image n a function of n alone */
    dataset *a = dataset_load("uniform", "test", NULL, &err);
    int same = a && a->n == SYNTH_SET_SIZE && a->classes == 1;
    for (int n = 0; same && n < SYNTH_SET_SIZE; n += 4999) {
        uint8_t one[3072];
        same = synth_image("uniform", n, one) == 0 && !memcmp(one, a->images + (size_t)n * 3072, 3072);
    }
    CHECK(same, "uniform: %d images, image n a function of n alone", SYNTH_SET_SIZE);
    dataset_free(a);
    for (int k = 0; k < 3; k++) {
        enum { M = 300 };
        uint8_t *img = malloc((size_t)M * 3072), again[3072];
        double s = 0;
        for (int n = 0; n < M; n++) synth_image(names[k], n, img + (size_t)n * 3072);
        for (size_t i = 0; i < (size_t)M * 3072; i++) s += img[i];
        if (k < 2) CHECK(fabs(s / (M * 3072.0) - 127.5) < 0.5, "%s mean near 127.5", names[k]);
        synth_image(names[k], 7, again);
        CHECK(!memcmp(again, img + 7 * 3072, 3072) && memcmp(img, img + 3072, 3072),
              "%s: image 7 the same when made again, images differ", names[k]);
        free(img);
    }
    uint8_t one[3072];
    CHECK(synth_image("blobs", SYNTH_SET_SIZE, one) < 0 && synth_image("svhn", 0, one) < 0,
          "synth_image refuses other sets and indices");
    uint8_t mask[3072], got[3072];
    rng_state r;
    rng_seed(&r, 9);
    for (int i = 0; i < 3072; i++) mask[i] = rng_uniform(&r) < 0.7f;
    synth_blobs_from_mask(mask, got);
    double w[13], sw = 0;
    for (int i = 0; i < 13; i++) sw += w[i] = exp(-0.5 * (i - 6) * (i - 6) / 2.25);
    int bad = 0;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < 32; y++)
            for (int x = 0; x < 32; x++) {
                double v = 0;
                for (int dc = -6; dc <= 6; dc++)
                    for (int dy = -6; dy <= 6; dy++)
                        for (int dx = -6; dx <= 6; dx++) {
                            int cc = c + dc < 0 ? 0 : c + dc > 2 ? 2 : c + dc;
                            int yy = y + dy < 0 ? 0 : y + dy > 31 ? 31 : y + dy;
                            int xx = x + dx < 0 ? 0 : x + dx > 31 ? 31 : x + dx;
                            v += w[dc + 6] * w[dy + 6] * w[dx + 6] * mask[cc * 1024 + yy * 32 + xx];
                        }
                v /= sw * sw * sw;
                int want = v < 0.75 ? 0 : (int)lrint(255 * v);
                bad += fabs(v - 0.75) > 1e-9 && got[c * 1024 + y * 32 + x] != want;
            }
    CHECK(bad == 0, "blobs: %d pixels differ from the direct convolution", bad);
}

int main(void) {
    if (!mkdtemp(root)) return 1;
    test_textures_dtd();
    test_photos();
    test_photos_val();
    test_photos_test();
    test_synth();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    if (system(cmd)) return 1;
    return check_done("test_data_sets");
}
