/* synth.c: the synthetic far-OOD sanity sets of Outlier Exposure (Hendrycks et al.
 * 2019, test.py) and OpenOOD, SYNTH_SET_SIZE images each, image n drawn from a
 * generator seeded with (set, n), so the sets never change; written in
 * pixel units v in [0, 1] (OE draws them in [-1, 1]; v = (x + 1) / 2) and stored as
 * round(255 v):
 *   gaussian  v = clip(0.5 + 0.25 z, 0, 1), z ~ N(0, 1) per value (OE: clip(N(0, 0.5^2)))
 *   uniform   v ~ U[0, 1) per value (OE: U[-1, 1])
 *   blobs     a Bernoulli(0.7) field over H x W x 3, smoothed by skimage's gaussian
 *             (sigma 1.5, multichannel=False: all three axes, edges repeated, kernel
 *             radius 6), values under 0.75 set to 0. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"

enum { BLOB_R = 6 };

/* Normalised Gaussian taps w[-R..R] for sigma 1.5 (scipy: truncate 4.0 -> radius 6). */
static void blob_kernel(double w[2 * BLOB_R + 1]) {
    double sum = 0;
    for (int i = -BLOB_R; i <= BLOB_R; i++) sum += w[i + BLOB_R] = exp(-0.5 * i * i / (1.5 * 1.5));
    for (int i = 0; i < 2 * BLOB_R + 1; i++) w[i] /= sum;
}

/* out[i] = sum_k w[k] in[clamp(i + k - R)] along one axis of a [3][32][32] volume:
 * n points spaced stride apart, lines starting at each of the other indices. */
static void blur_axis(const double *in, double *out, int axis, const double *w) {
    static const int len[3] = {3, DATA_SIDE, DATA_SIDE}, stride[3] = {DATA_PLANE, DATA_SIDE, 1};
    for (int i = 0; i < DATA_IMG; i++) {
        int pos = i / stride[axis] % len[axis];
        double acc = 0;
        for (int k = -BLOB_R; k <= BLOB_R; k++) {
            int q = pos + k;
            q = q < 0 ? 0 : q >= len[axis] ? len[axis] - 1 : q;
            acc += w[k + BLOB_R] * in[i + (q - pos) * stride[axis]];
        }
        out[i] = acc;
    }
}

void synth_blobs_from_mask(const uint8_t *mask, uint8_t *dst) {
    double w[2 * BLOB_R + 1], a[DATA_IMG], b[DATA_IMG];
    blob_kernel(w);
    for (int i = 0; i < DATA_IMG; i++) a[i] = mask[i];
    blur_axis(a, b, 2, w);
    blur_axis(b, a, 1, w);
    blur_axis(a, b, 0, w);
    for (int i = 0; i < DATA_IMG; i++) {
        double v = b[i] < 0.75 ? 0 : b[i];
        dst[i] = (uint8_t)lrint(255 * (v > 1 ? 1 : v));
    }
}

static uint8_t unit_to_u8(double v) { return (uint8_t)lrint(255 * (v < 0 ? 0 : v > 1 ? 1 : v)); }

static int synth_kind(const char *base) {
    return !strcmp(base, "gaussian") ? 1 : !strcmp(base, "uniform") ? 2 : !strcmp(base, "blobs") ? 3 : 0;
}

/* Image n of set kind from its own generator, seeded with (kind, n). */
static void synth_one(int kind, int n, uint8_t *img) {
    uint8_t mask[DATA_IMG];
    rng_state r;
    rng_seed(&r, ((uint64_t)kind << 32) + (uint64_t)n);
    for (int i = 0; i < DATA_IMG; i++) {
        if (kind == 1) img[i] = unit_to_u8(0.5 + 0.25 * rng_normal(&r));
        else if (kind == 2) img[i] = unit_to_u8(rng_uniform(&r));
        else mask[i] = rng_uniform(&r) < 0.7f;
    }
    if (kind == 3) synth_blobs_from_mask(mask, img);
}

int synth_image(const char *base, int n, uint8_t *dst) {
    int kind = synth_kind(base);
    if (!kind || n < 0 || n >= SYNTH_SET_SIZE) return -1;
    synth_one(kind, n, dst);
    return 0;
}

int synth_load(const char *base, const char *split, dataset *d, lir_error *err) {
    int kind = synth_kind(base);
    if (!kind) return 1;
    if (strcmp(split, "test"))
        return lir_fail(err, "dataset %s has only the split test, not \"%s\"", base, split);
    d->n = SYNTH_SET_SIZE;
    d->c = 3;
    d->h = d->w = DATA_SIDE;
    d->classes = 1;
    d->images = xmalloc((size_t)d->n * DATA_IMG);
    d->labels = xcalloc((size_t)d->n, sizeof(int));
    /* image n from its own generator, so the set does not depend on the thread count */
#pragma omp parallel for schedule(static)
    for (int n = 0; n < d->n; n++) synth_one(kind, n, d->images + (size_t)n * DATA_IMG);
    return 0;
}
