/* corrupt_c.h: internals shared by the CIFAR-10-C files (corrupt_c.c: names, parsing,
 * the per-image random source; corrupt_c_pixel.c: noise, colour, fog, pixelate, JPEG;
 * corrupt_c_blur.c: blurs and warps). Images are planar uint8 [3][32][32]. */
#ifndef LIR_CORRUPT_C_H
#define LIR_CORRUPT_C_H

#include "data.h"

#define CC_N 32            /* the published definitions are for 32x32 RGB */
#define CC_P (CC_N * CC_N) /* pixels per channel */

/* The random source of one image: lir's generator seeded from (seed, corruption,
 * severity, image index), and an optional log of every number drawn (tests). */
typedef struct {
    rng_state rng;
    float *log;
    int n;
    int has_spare;
    float spare;
} crand;

float cr_uniform(crand *r);          /* uniform in [0,1), 24 bits, logged */
float cr_normal(crand *r);           /* standard normal (polar method, pairs), logged */
int cr_below(crand *r, int n);       /* uniform integer in [0,n), logged */
/* Inversion: first + the first i with u < cdf[i] for a uniform u (53 bits), logged.
 * cdf is nondecreasing with cdf[n-1] == 1; guide[j] is the first i with cdf[i] > j/n
 * (the search starts there). */
int cr_inverse(crand *r, const double *cdf, const int *guide, int n, int first);

/* One corruption at severity index s (0..4) on img [3][32][32], in place. */
typedef int (*cc_fn)(uint8_t *img, int s, crand *r, lir_error *err);

int cc_gaussian_noise(uint8_t *img, int s, crand *r, lir_error *err);
int cc_shot_noise(uint8_t *img, int s, crand *r, lir_error *err);
int cc_impulse_noise(uint8_t *img, int s, crand *r, lir_error *err);
int cc_speckle_noise(uint8_t *img, int s, crand *r, lir_error *err);
int cc_fog(uint8_t *img, int s, crand *r, lir_error *err);
int cc_brightness(uint8_t *img, int s, crand *r, lir_error *err);
int cc_saturate(uint8_t *img, int s, crand *r, lir_error *err);
int cc_contrast(uint8_t *img, int s, crand *r, lir_error *err);
int cc_pixelate(uint8_t *img, int s, crand *r, lir_error *err);
int cc_jpeg(uint8_t *img, int s, crand *r, lir_error *err);
int cc_gaussian_blur(uint8_t *img, int s, crand *r, lir_error *err);
int cc_glass_blur(uint8_t *img, int s, crand *r, lir_error *err);
int cc_defocus_blur(uint8_t *img, int s, crand *r, lir_error *err);
int cc_motion_blur(uint8_t *img, int s, crand *r, lir_error *err);
int cc_zoom_blur(uint8_t *img, int s, crand *r, lir_error *err);
int cc_snow(uint8_t *img, int s, crand *r, lir_error *err);
int cc_elastic(uint8_t *img, int s, crand *r, lir_error *err);

/* x[k] = img[k] / 255. in double, as NumPy computes np.array(img) / 255. */
void cc_to_double(const uint8_t *img, double *x, int n);
/* np.uint8(np.clip(x, 0, 1) * 255): clipped, scaled and truncated (not rounded). */
static inline uint8_t cc_store(double x) {
    x = x < 0 ? 0 : x > 1 ? 1 : x;
    return (uint8_t)(x * 255.0);
}
/* The same in float32, for the definitions that compute in float32. */
static inline uint8_t cc_storef(float x) {
    x = x < 0 ? 0 : x > 1 ? 1 : x;
    return (uint8_t)(x * 255.0f);
}

/* Handles the "c-..." transforms for dataset_transform (corrupt.c): parses spec,
 * then (d->n > 0) corrupts every image in parallel. */
int corrupt_c_transform(dataset *d, const char *spec, lir_error *err);

#endif
