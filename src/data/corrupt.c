/* corrupt.c: derived out-of-distribution sets for covariate shift, made from any
 * loaded split: JPEG round trip (libjpeg, default 4:2:0 settings, quality q),
 * additive Gaussian noise (seeded, [0,1] pixel units) and Gaussian blur. Every
 * transform works on uint8 images in place and rounds back to uint8. The CIFAR-10-C
 * corruptions ("c-...") are in corrupt_c*.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corrupt_c.h"
#include "data.h"
#include "jpeg_mem.h"

int corrupt_jpeg(uint8_t *img, int c, int h, int w, int quality, lir_error *err) {
    if (c != 1 && c != 3) return lir_fail(err, "jpeg: images must have 1 or 3 channels, not %d", c);
    unsigned char *jpg;
    unsigned long jlen;
    char msg[JPEG_MSG_MAX];
    if (jpeg_encode(img, c, h, w, quality, &jpg, &jlen, msg) < 0)
        return lir_fail(err, "jpeg: encoding failed: %s", msg);
    uint8_t *dec;
    int dh, dw;
    int rc = jpeg_decode(jpg, jlen, c, 0, &dec, &dh, &dw, msg);
    free(jpg);
    if (rc < 0) return lir_fail(err, "jpeg: decoding failed: %s", msg);
    if (dh != h || dw != w) {
        free(dec);
        return lir_fail(err, "jpeg: decoded %dx%d from a %dx%d image", dw, dh, w, h);
    }
    memcpy(img, dec, (size_t)c * h * w);
    free(dec);
    return 0;
}

static uint8_t to_u8(float v) { /* v on the 0..255 scale */
    if (!(v > 0)) return 0;
    if (v >= 255) return 255;
    return (uint8_t)(v + 0.5f);
}

void corrupt_noise(uint8_t *img, int c, int h, int w, float sigma, rng_state *rng) {
    size_t n = (size_t)c * h * w;
    for (size_t k = 0; k < n; k++)
        img[k] = to_u8(255.0f * ((float)img[k] / 255.0f + sigma * rng_normal(rng)));
}

void corrupt_blur(uint8_t *img, int c, int h, int w, float sigma) {
    int r = (int)ceilf(3.0f * sigma);
    if (r < 1) return;
    float *k = xmalloc((size_t)(2 * r + 1) * sizeof(float));
    float sum = 0;
    for (int i = -r; i <= r; i++) sum += k[i + r] = expf(-0.5f * (float)(i * i) / (sigma * sigma));
    for (int i = 0; i <= 2 * r; i++) k[i] /= sum;
    float *tmp = xmalloc((size_t)h * w * sizeof(float));
    for (int ch = 0; ch < c; ch++) {
        uint8_t *p = img + (size_t)ch * h * w;
        for (int y = 0; y < h; y++) /* vertical pass, edge pixels repeated */
            for (int x = 0; x < w; x++) {
                float s = 0;
                for (int i = -r; i <= r; i++) {
                    int yy = y + i < 0 ? 0 : y + i >= h ? h - 1 : y + i;
                    s += k[i + r] * p[(size_t)yy * w + x];
                }
                tmp[(size_t)y * w + x] = s;
            }
        for (int y = 0; y < h; y++) /* horizontal pass */
            for (int x = 0; x < w; x++) {
                float s = 0;
                for (int i = -r; i <= r; i++) {
                    int xx = x + i < 0 ? 0 : x + i >= w ? w - 1 : x + i;
                    s += k[i + r] * tmp[(size_t)y * w + xx];
                }
                p[(size_t)y * w + x] = to_u8(s);
            }
    }
    free(tmp);
    free(k);
}

/* Parses a float that must fill the text up to stop (or the end). */
static int parse_float(const char *s, float lo, float hi, float *out, const char **end) {
    char *e;
    double v = strtod(s, &e);
    if (e == s || !(v >= lo && v <= hi)) return -1;
    *out = (float)v;
    *end = e;
    return 0;
}

int dataset_transform(dataset *d, const char *spec, lir_error *err) {
    size_t isz = (size_t)d->c * d->h * d->w;
    const char *e;
    if (!strncmp(spec, "jpeg", 4)) {
        char *ep;
        long q = strtol(spec + 4, &ep, 10);
        if (ep == spec + 4 || *ep || q < 1 || q > 100)
            return lir_fail(err, "bad transform \"%s\": expected jpeg<quality 1..100>, e.g. jpeg75",
                            spec);
        int bad = 0;
        lir_error first = {{0}};
#pragma omp parallel for schedule(dynamic, 64)
        for (int i = 0; i < d->n; i++) {
            lir_error e1;
            if (corrupt_jpeg(d->images + (size_t)i * isz, d->c, d->h, d->w, (int)q, &e1) < 0) {
#pragma omp critical
                {
                    if (!bad) first = e1;
                    bad = 1;
                }
            }
        }
        return bad ? lir_fail(err, "%s: %s", d->name, first.msg) : 0;
    }
    if (!strncmp(spec, "noise", 5)) {
        float sigma;
        unsigned long long seed = 1;
        if (parse_float(spec + 5, 0, 1, &sigma, &e) < 0 || (*e && *e != 's'))
            return lir_fail(err, "bad transform \"%s\": expected noise<sigma 0..1>[s<seed>], e.g. "
                            "noise0.1 or noise0.1s7", spec);
        if (*e == 's') {
            char *ep;
            seed = strtoull(e + 1, &ep, 10);
            if (ep == e + 1 || *ep)
                return lir_fail(err, "bad transform \"%s\": seed after 's' must be an integer", spec);
        }
#pragma omp parallel for schedule(static)
        for (int i = 0; i < d->n; i++) {
            rng_state r;
            rng_seed(&r, seed * 0x9e3779b97f4a7c15ULL + (uint64_t)i);
            corrupt_noise(d->images + (size_t)i * isz, d->c, d->h, d->w, sigma, &r);
        }
        return 0;
    }
    if (!strncmp(spec, "blur", 4)) {
        float sigma;
        if (parse_float(spec + 4, 0, 16, &sigma, &e) < 0 || *e || sigma <= 0)
            return lir_fail(err, "bad transform \"%s\": expected blur<sigma in pixels, 0..16>, "
                            "e.g. blur1.0", spec);
#pragma omp parallel for schedule(static)
        for (int i = 0; i < d->n; i++) corrupt_blur(d->images + (size_t)i * isz, d->c, d->h, d->w, sigma);
        return 0;
    }
    if (!strncmp(spec, "c-", 2)) return corrupt_c_transform(d, spec, err);
    return lir_fail(err, "unknown transform \"%s\" (known: jpeg<q>, noise<sigma>[s<seed>], "
                    "blur<sigma>, c-<corruption>-<severity 1..5>[s<seed>])", spec);
}
