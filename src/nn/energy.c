/* energy.c: the per-sample energy at a point, E = -log sum_i exp(a_i) over the
 * whole flattened activation, and the R-EBO regulariser's gradient with respect to
 * the activation (docs/method.md sections 2 and 7). Below the layers: the convolution's
 * epilogue computes energies with it, the net's hooks and the CLI too.
 * The two exp loops, which dominate hooked passes, are compiled twice: for the
 * build's baseline (4 float lanes) and for AVX-512 (16 lanes, 3-4x faster),
 * picked by the kernels level. Both run the same float operations in the same
 * order (ISO C mode contracts no multiply-add into an FMA), so they give the same
 * bits. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "energy.h"
#include "kernels/kernels.h"

/* exp(x) for x <= 0 in float, written so the loops below vectorise: x = k*ln2 + r,
 * |r| <= ln2/2, e^r by a degree-6 Taylor polynomial (relative error < 2e-7), 2^k
 * through the exponent bits. Below -87 the result is 0 (smaller than FLT_MIN). */
__attribute__((always_inline)) static inline float exp_nonpos(float x0) {
    /* NaN-safe clamp: a NaN takes the -87 branch, so the int conversion below stays
     * defined; the `0 * x0` term at the end hands the NaN on to the sum. */
    float x = x0 > -87.0f ? x0 : -87.0f;
    float k = (x * 1.44269504f + 12582912.0f) - 12582912.0f; /* round to nearest */
    float r = x - k * 0.693145752f - k * 1.42860677e-6f;
    float p = 1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 + r * (1.0f / 720))))));
    union {
        int32_t i;
        float f;
    } two_k = {.i = ((int32_t)k + 127) << 23};
    return p * two_k.f + 0.0f * x0;
}

/* -(m + log sum exp(a - m)) of one sample. The sum runs in 16 float lanes over
 * blocks of 1024 values (each lane adds at most 64 terms <= 1) and the block sums
 * are accumulated in double. */
__attribute__((always_inline)) static inline double energy_body(const float *a, int size) {
    float mx[16];
    for (int j = 0; j < 16; j++) mx[j] = a[0];
    int i = 0;
    for (; i + 16 <= size; i += 16)
        for (int j = 0; j < 16; j++) mx[j] = a[i + j] > mx[j] ? a[i + j] : mx[j];
    float m = a[0];
    for (; i < size; i++) m = a[i] > m ? a[i] : m;
    for (int j = 0; j < 16; j++) m = mx[j] > m ? mx[j] : m;
    double s = 0;
    for (i = 0; i < size;) {
        int end = i + 1024 < size ? i + 1024 : size;
        float acc[16] = {0};
        for (; i + 16 <= end; i += 16)
            for (int j = 0; j < 16; j++) acc[j] += exp_nonpos(a[i + j] - m);
        for (; i < end; i++) acc[0] += exp_nonpos(a[i] - m);
        for (int j = 0; j < 16; j++) s += acc[j];
    }
    return -((double)m + log(s));
}

__attribute__((target("avx512f"))) static double energy_avx512(const float *a, int size) {
    return energy_body(a, size);
}

static double energy_base(const float *a, int size) { return energy_body(a, size); }

double energy_sample(const float *a, int size) {
    return kernels_level() >= KERN_AVX512 ? energy_avx512(a, size) : energy_base(a, size);
}

/* g[i] += c * exp(a[i] + shift), a[i] + shift <= 0 (scaled softmax terms). */
__attribute__((always_inline)) static inline void softmax_add_body(const float *a, float *g,
                                                                   int size, float c,
                                                                   float shift) {
#pragma omp simd
    for (int i = 0; i < size; i++) g[i] += c * exp_nonpos(a[i] + shift);
}

__attribute__((target("avx512f"))) static void softmax_add_avx512(const float *a, float *g,
                                                                  int size, float c,
                                                                  float shift) {
    softmax_add_body(a, g, size, c, shift);
}

static void softmax_add_base(const float *a, float *g, int size, float c, float shift) {
    softmax_add_body(a, g, size, c, shift);
}

/* a: [batch][size] -> energy: [batch] */
void energy_forward(const float *a, int batch, int size, float *energy) {
#pragma omp parallel for schedule(static)
    for (int b = 0; b < batch; b++) energy[b] = (float)energy_sample(a + (size_t)b * size, size);
}

double energy_reg_backward(const float *a, const float *energy, int batch, int size,
                           const unsigned char *is_outlier, const hook_reg *reg,
                           float *grad) {
    int n_in = 0, n_out = 0;
    for (int b = 0; b < batch; b++) {
        if (is_outlier && is_outlier[b]) n_out++;
        else n_in++;
    }
    double r_in = 0, r_out = 0;
    for (int b = 0; b < batch; b++) {
        if (is_outlier && is_outlier[b]) {
            double d = reg->m_out - (double)energy[b];
            if (d > 0) r_out += d * d;
        } else {
            double d = (double)energy[b] - reg->m_in;
            if (d > 0) r_in += d * d;
        }
    }
    double r = (n_in ? r_in / n_in : 0) + (n_out ? r_out / n_out : 0);
    if (!grad || reg->lambda == 0) return r;
#pragma omp parallel for schedule(static)
    for (int b = 0; b < batch; b++) {
        double dr_de;
        if (is_outlier && is_outlier[b]) {
            double d = reg->m_out - (double)energy[b];
            dr_de = d > 0 ? -2.0 * d / n_out : 0;
        } else {
            double d = (double)energy[b] - reg->m_in;
            dr_de = d > 0 ? 2.0 * d / n_in : 0;
        }
        if (dr_de == 0) continue;
        const float *ab = a + (size_t)b * size;
        float *gb = grad + (size_t)b * size;
        /* dE/da = -softmax(a); softmax recomputed in double from a, not from the float E */
        double e = energy_sample(ab, size);
        float c = (float)(-reg->lambda * dr_de);
        float shift = (float)e; /* a_i + E <= 0: softmax_i = exp(a_i + E) */
        float corr = (float)exp(e - (double)shift);
        if (kernels_level() >= KERN_AVX512)
            softmax_add_avx512(ab, gb, size, c * corr, shift);
        else
            softmax_add_base(ab, gb, size, c * corr, shift);
    }
    return r;
}
