/* test_data_loader.c: the augmenting batch loader: crop/flip geometry, seeded
 * determinism, exact resume from (epoch, position), epochs as permutations, the
 * plain (no augmentation) stream equal to dataset_batch, the held-out split, and
 * Cutout: its square, clipped at the border, and a stream with it that is the
 * stream without it except for one zeroed square per image; parts (data-parallel
 * training): the parts of every batch, side by side, are the whole batch, with the
 * short last batch of an epoch seen as short in every part. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "data/data.h"

enum { N = 37, B = 8, IMG = 3072 };

/* Images whose pixels identify them: image i has value (i * 7 + c * 3 + y + x) % 256. */
static dataset *make_set(void) {
    dataset *d = xcalloc(1, sizeof *d);
    d->n = N, d->c = 3, d->h = d->w = 32, d->classes = 10;
    d->images = xmalloc((size_t)N * IMG);
    d->labels = xmalloc(N * sizeof(int));
    for (int i = 0; i < N; i++) {
        d->labels[i] = i;
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 32; y++)
                for (int x = 0; x < 32; x++)
                    d->images[(size_t)i * IMG + c * 1024 + y * 32 + x] = (uint8_t)(i * 7 + c * 3 + y + x);
    }
    return d;
}

/* Reads k batches; returns images and labels in one array. */
static int run(loader *l, int k, float *x, int *y) {
    int got = 0;
    for (int b = 0; b < k; b++) got += loader_next(l, x + (size_t)got * IMG, y + got);
    return got;
}

int main(void) {
    lir_error err;
    dataset *d = make_set();
    data_norm nm;
    data_norm_for("cifar10", &nm, &err);

    /* crop/flip geometry against the definition */
    float src[IMG], dst[IMG], fill[3] = {-1, -2, -3};
    for (int k = 0; k < IMG; k++) src[k] = (float)k;
    augment_crop_flip(src, dst, 0, 8, 1, fill);
    /* dy=0: rows 0..3 are padding; dx=8 with flip: out(y,x) = src(y-4, 31-x+4) */
    CHECK(dst[0] == -1 && dst[1024 + 3 * 32 + 5] == -2, "padding rows");
    CHECK(dst[4 * 32 + 10] == src[0 * 32 + 25], "flipped+shifted pixel");
    CHECK(dst[2048 + 31 * 32 + 0] == -3, "padding column after flip");
    augment_crop_flip(src, dst, 4, 4, 0, fill);
    CHECK(!memcmp(src, dst, sizeof src), "centre crop without flip is the identity");
    for (int k = 0; k < IMG; k++) dst[k] = 1.0f;
    augment_cutout(dst, 1, 30, 6); /* rows -2..3 and columns 27..32, clipped: 4 x 5 */
    int zeros = 0, inside = 1;
    for (int k = 0; k < IMG; k++)
        if (dst[k] == 0.0f) {
            zeros++;
            inside &= k % 1024 / 32 <= 3 && k % 32 >= 27;
        }
    CHECK(zeros == 3 * 4 * 5 && inside, "cutout square clipped at the border: %d zeros", zeros);

    size_t cap = (size_t)(3 * N + B) * IMG;
    float *x1 = xmalloc(cap * sizeof(float)), *x2 = xmalloc(cap * sizeof(float));
    int y1[3 * N + B], y2[3 * N + B];

    /* plain stream == dataset_batch, in order, short last batch */
    loader_opts plain = {0, 0, 0, 0, 0};
    loader *l = loader_start(d, NULL, 0, B, &nm, plain, 5, 0, 0, &err);
    CHECK(l != NULL, "start: %s", l ? "" : err.msg);
    int sizes[5];
    for (int b = 0; b < 5; b++) sizes[b] = loader_next(l, x1 + (size_t)b * B * IMG, y1 + b * B);
    CHECK(sizes[0] == B && sizes[4] == N - 4 * B, "batch sizes %d .. %d", sizes[0], sizes[4]);
    int ep, pos;
    loader_position(l, &ep, &pos);
    CHECK(ep == 1 && pos == 0, "position after one epoch: %d %d", ep, pos);
    loader_stop(l);
    dataset_batch(d, NULL, N, &nm, x2);
    CHECK(!memcmp(x1, x2, (size_t)N * IMG * sizeof(float)), "plain stream equals dataset_batch");

    /* augmented, shuffled: each epoch a permutation; images are crops/flips of the right source */
    loader_opts aug = {1, 1, 0, 0, 0};
    l = loader_start(d, NULL, 0, B, &nm, aug, 42, 0, 0, &err);
    int got = 0;
    while (got < 2 * N) got += loader_next(l, x1 + (size_t)got * IMG, y1 + got);
    CHECK(got == 2 * N, "two epochs exactly: %d", got);
    loader_stop(l);
    int seen[N] = {0}, moved = 0, same_order = 1, geometry_ok = 1;
    for (int i = 0; i < 2 * N; i++) {
        seen[y1[i]]++;
        if (i < N && y1[i] != i) moved = 1;
        if (i < N && y1[i] != y1[N + i]) same_order = 0;
    }
    for (int i = 0; i < N; i++) CHECK(seen[i] == 2, "image %d seen %d times in two epochs", i, seen[i]);
    CHECK(moved && !same_order, "order is shuffled and differs between epochs");
    float clean[IMG];
    int flips = 0, shifts = 0;
    for (int i = 0; i < 2 * N; i++) {
        dataset_batch(d, &y1[i], 1, &nm, clean);
        float f[3];
        for (int c = 0; c < 3; c++) f[c] = -nm.mean[c] / nm.std[c];
        int match = 0;
        for (int dy = 0; dy <= 8 && !match; dy++)
            for (int dx = 0; dx <= 8 && !match; dx++)
                for (int fl = 0; fl < 2 && !match; fl++) {
                    augment_crop_flip(clean, dst, dy, dx, fl, f);
                    if (!memcmp(dst, x1 + (size_t)i * IMG, sizeof dst)) {
                        match = 1;
                        flips += fl;
                        shifts += dy != 4 || dx != 4;
                    }
                }
        geometry_ok &= match;
    }
    CHECK(geometry_ok, "every augmented image is a padded crop (+flip) of its source");
    CHECK(flips > 10 && flips < 2 * N - 10 && shifts > N, "flips %d and shifts %d look random", flips, shifts);

    /* same seed -> same stream; other seed -> different */
    l = loader_start(d, NULL, 0, B, &nm, aug, 42, 0, 0, &err);
    run(l, 5, x2, y2);
    loader_stop(l);
    CHECK(!memcmp(x1, x2, (size_t)N * IMG * sizeof(float)) && !memcmp(y1, y2, N * sizeof(int)),
          "seeded stream is reproducible");
    l = loader_start(d, NULL, 0, B, &nm, aug, 43, 0, 0, &err);
    run(l, 5, x2, y2);
    loader_stop(l);
    CHECK(memcmp(y1, y2, N * sizeof(int)) != 0, "another seed gives another order");

    /* Cutout: the same crops and flips, one square of side <= 8 set to 0 */
    loader_opts cut = {1, 1, 8, 0, 0};
    l = loader_start(d, NULL, 0, B, &nm, cut, 42, 0, 0, &err);
    run(l, 5, x2, y2);
    loader_stop(l);
    int cut_ok = !memcmp(y1, y2, N * sizeof(int)), full = 0;
    for (int i = 0; i < N && cut_ok; i++) {
        int z = 0, y0 = 32, y1_ = -1, x0 = 32, x1_ = -1;
        for (int k = 0; k < IMG; k++) {
            const float a = x1[(size_t)i * IMG + k], b = x2[(size_t)i * IMG + k];
            if (a == b) continue;
            cut_ok &= b == 0.0f;
            z++;
            const int y = k % 1024 / 32, x = k % 32;
            y0 = y < y0 ? y : y0, y1_ = y > y1_ ? y : y1_, x0 = x < x0 ? x : x0, x1_ = x > x1_ ? x : x1_;
        }
        cut_ok &= z == 0 || (y1_ - y0 < 8 && x1_ - x0 < 8);
        full += z == 3 * 64;
    }
    CHECK(cut_ok, "cutout stream = the plain augmented stream but for one square <= 8x8 of zeros");
    CHECK(full > 0, "some images lose a whole 8x8 square");

    /* resume: stop after 7 batches, restart at the saved position, compare */
    l = loader_start(d, NULL, 0, B, &nm, aug, 42, 0, 0, &err);
    int first = run(l, 7, x2, y2);
    loader_position(l, &ep, &pos);
    loader_stop(l);
    CHECK(ep == 1 && pos == first - N, "saved position %d/%d", ep, pos);
    l = loader_start(d, NULL, 0, B, &nm, aug, 42, ep, pos, &err);
    CHECK(l != NULL, "resume: %s", l ? "" : err.msg);
    int more = run(l, 2, x2 + (size_t)first * IMG, y2 + first);
    loader_stop(l);
    CHECK(first + more <= 2 * N, "resume within the two epochs");
    CHECK(!memcmp(x1, x2, (size_t)(first + more) * IMG * sizeof(float)) &&
              !memcmp(y1, y2, (size_t)(first + more) * sizeof(int)),
          "resumed stream equals the uninterrupted one");

    /* parts: 3 loaders making parts 0..2 of batches of 6 (Cutout on) give the stream of
     * one loader, batch by batch; each returns the whole batch's size */
    loader_opts whole = {1, 1, 8, 0, 0}, part[3] = {{1, 1, 8, 0, 3}, {1, 1, 8, 1, 3}, {1, 1, 8, 2, 3}};
    l = loader_start(d, NULL, 0, 6, &nm, whole, 9, 0, 0, &err);
    run(l, 8, x1, y1); /* 7 batches of 6 and 1 short of 1 per epoch: 8 batches = 43 images */
    loader_stop(l);
    loader *lp[3];
    for (int k = 0; k < 3; k++) lp[k] = loader_start(d, NULL, 0, 6, &nm, part[k], 9, 0, 0, &err);
    int parts_ok = 1, at = 0;
    for (int b = 0; b < 8; b++) {
        int m[3], len = 0;
        for (int k = 0; k < 3; k++) {
            m[k] = loader_next(lp[k], x2 + (size_t)(at + len) * IMG, y2 + at + len);
            len += (int)((long)m[k] * (k + 1) / 3) - (int)((long)m[k] * k / 3);
        }
        parts_ok &= m[0] == m[1] && m[1] == m[2] && len == m[0] && m[0] == (b == 6 ? 1 : 6);
        at += len;
    }
    for (int k = 0; k < 3; k++) loader_stop(lp[k]);
    CHECK(parts_ok && at == 43, "parts report the whole batch's size (%d images)", at);
    CHECK(!memcmp(x1, x2, (size_t)43 * IMG * sizeof(float)) && !memcmp(y1, y2, 43 * sizeof(int)),
          "the parts of each batch side by side are the batch, augmentation included");
    loader_opts uneven = {1, 1, 0, 0, 4};
    CHECK(loader_start(d, NULL, 0, 6, &nm, uneven, 1, 0, 0, &err) == NULL &&
              strstr(err.msg, "equal parts"),
          "a batch that does not split into equal parts is refused: %s", err.msg);

    /* subset (validation split): only those images, labels follow */
    int *tr, *va;
    CHECK(data_holdout(N, 5, &tr, &va, &err) == 0, "holdout");
    l = loader_start(d, va, 5, 4, &nm, plain, 1, 0, 0, &err);
    int n1 = loader_next(l, x1, y1), n2 = loader_next(l, x1 + 4 * IMG, y1 + 4);
    loader_stop(l);
    CHECK(n1 == 4 && n2 == 1 && y1[0] == N - 5 && y1[4] == N - 1, "validation subset stream");
    free(tr);
    free(va);

    /* bad arguments */
    int badidx[1] = {N};
    CHECK(loader_start(d, badidx, 1, 4, &nm, plain, 1, 0, 0, &err) == NULL && strstr(err.msg, "outside"),
          "subset index checked: %s", err.msg);
    CHECK(loader_start(d, NULL, 0, 0, &nm, plain, 1, 0, 0, &err) == NULL, "batch 0 refused");
    CHECK(loader_start(d, NULL, 0, 4, &nm, plain, 1, 0, N, &err) == NULL, "position past end refused");
    free(x1);
    free(x2);
    dataset_free(d);
    return check_done("test_data_loader");
}
