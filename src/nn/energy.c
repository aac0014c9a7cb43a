/* energy.c: the per-sample energy at a point, E = -log sum_i exp(a_i) over the
 * whole flattened activation, and the hook losses on it (energy hinge, band, Outlier
 * Exposure; definitions in energy.h) with their gradients with respect to the
 * activation and the calibration of their margins (docs/method.md sections 2 and 7).
 * Below the layers: the convolution's epilogue computes energies with it, the net's
 * hooks and the CLI too.
 * The two exp loops, which dominate hooked passes, are compiled twice: for the
 * build's baseline (4 float lanes) and for AVX-512 (16 lanes, 3-4x faster),
 * picked by the kernels level. Both run the same float operations in the same
 * order (ISO C mode contracts no multiply-add into an FMA), so they give the same
 * bits. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

KERNELS_COPIES(double, energy, (const float *a, int size), { return energy_body(a, size); })

double energy_sample(const float *a, int size) {
    return KERNELS_PICK(energy)(a, size);
}

/* g[i] += c * exp(a[i] + shift), a[i] + shift <= 0 (scaled softmax terms). */
__attribute__((always_inline)) static inline void softmax_add_body(const float *a, float *g,
                                                                   int size, float c,
                                                                   float shift) {
#pragma omp simd
    for (int i = 0; i < size; i++) g[i] += c * exp_nonpos(a[i] + shift);
}

KERNELS_COPIES(void, softmax_add, (const float *a, float *g, int size, float c, float shift),
               { softmax_add_body(a, g, size, c, shift); })

/* a: [batch][size] -> energy: [batch] */
void energy_forward(const float *a, int batch, int size, float *energy) {
#pragma omp parallel for schedule(static)
    for (int b = 0; b < batch; b++) energy[b] = (float)energy_sample(a + (size_t)b * size, size);
}

/* ---- loss kinds ------------------------------------------------------------------ */

static const char *const LOSS_NAMES[] = {"energy", "band", "oe"};

const char *hook_loss_name(int loss) {
    return loss >= 0 && loss < (int)(sizeof LOSS_NAMES / sizeof *LOSS_NAMES) ? LOSS_NAMES[loss]
                                                                             : NULL;
}

int hook_loss_parse(const char *name) {
    for (int i = 0; i < (int)(sizeof LOSS_NAMES / sizeof *LOSS_NAMES); i++)
        if (!strcmp(name, LOSS_NAMES[i])) return i;
    return -1;
}

float energy_quantile(const float *sorted, int n, double p) {
    double pos = p * (n - 1);
    int i = (int)floor(pos);
    if (i >= n - 1) return sorted[n - 1];
    return (float)(sorted[i] + (pos - i) * (sorted[i + 1] - sorted[i]));
}

void hook_reg_calibrate(hook_reg *r, const float *sorted, int n, double quantile, double spread) {
    r->calibrate = 0;
    if (r->loss == HOOK_LOSS_OE) return;
    float c = energy_quantile(sorted, n, quantile);
    float s = energy_quantile(sorted, n, 0.9) - energy_quantile(sorted, n, 0.1);
    s = fmaxf(s, 1e-3f * (fabsf(c) + 1.0f)); /* keeps the edges apart on a flat layer */
    if (r->loss == HOOK_LOSS_BAND) {
        r->m_in_lo = c - 0.5f * s;
        r->m_in = c + 0.5f * s;
        r->m_out_lo = r->m_in_lo - (float)spread * s;
        r->m_out = r->m_in + (float)spread * s;
    } else {
        r->m_in = c;
        r->m_out = c + (float)spread * s;
    }
}

/* The band loss of one sample with energy e (the hinge when the lower edges are
 * -infinity): its term and d term / dE. */
static double band_term(double e, int is_out, const hook_reg *r, double *dr_de) {
    int band = r->loss == HOOK_LOSS_BAND;
    double t = 0;
    *dr_de = 0;
    if (!is_out) {
        double hi = e - r->m_in, lo = band ? r->m_in_lo - e : 0;
        if (hi > 0) t += hi * hi, *dr_de += 2 * hi;
        if (lo > 0) t += lo * lo, *dr_de -= 2 * lo;
        return t;
    }
    double above = r->m_out - e, below = band ? e - r->m_out_lo : INFINITY;
    if (above <= 0 || below <= 0) return 0; /* outside the outer interval */
    if (below < above) {
        *dr_de = 2 * below;
        return below * below;
    }
    *dr_de = -2 * above;
    return above * above;
}

/* gb[i] += c * softmax(ab)_i + bias over one sample; softmax in double from ab via
 * its energy e (a_i + E <= 0, so softmax_i = exp(a_i + E)), not from the float E. */
static void add_softmax(const float *ab, int size, float c, float bias, float *gb) {
    double e = energy_sample(ab, size);
    float shift = (float)e;
    float cc = c * (float)exp(e - (double)shift);
    KERNELS_PICK(softmax_add)(ab, gb, size, cc, shift);
    if (bias != 0)
        for (int i = 0; i < size; i++) gb[i] += bias;
}

static int sample_is_out(const unsigned char *is_outlier, int b) {
    return is_outlier && is_outlier[b];
}

/* Energy hinge and band: R from the energies given, gradient through -softmax. */
static double band_backward(const float *a, const float *energy, int batch, int size,
                            const unsigned char *is_outlier, const hook_reg *reg, int n_in,
                            int n_out, float *grad) {
    double r_in = 0, r_out = 0, d;
    for (int b = 0; b < batch; b++) {
        int o = sample_is_out(is_outlier, b);
        double t = band_term((double)energy[b], o, reg, &d);
        if (o) r_out += t;
        else r_in += t;
    }
    double r = (n_in ? r_in / n_in : 0) + (n_out ? r_out / n_out : 0);
    if (!grad || reg->lambda == 0) return r;
#pragma omp parallel for schedule(static)
    for (int b = 0; b < batch; b++) {
        int o = sample_is_out(is_outlier, b);
        double dr_de;
        band_term((double)energy[b], o, reg, &dr_de);
        if (dr_de == 0) continue;
        dr_de /= o ? n_out : n_in;
        /* dE/da = -softmax(a) */
        add_softmax(a + (size_t)b * size, size, (float)(-reg->lambda * dr_de), 0.0f,
                    grad + (size_t)b * size);
    }
    return r;
}

/* Outlier Exposure: R = mean_out (logsumexp(a) - mean a), gradient softmax - 1/size. */
static double oe_backward(const float *a, int batch, int size, const unsigned char *is_outlier,
                          const hook_reg *reg, int n_out, float *grad) {
    if (!n_out) return 0;
    double r = 0;
    for (int b = 0; b < batch; b++) {
        if (!sample_is_out(is_outlier, b)) continue;
        const float *ab = a + (size_t)b * size;
        double mean = 0;
        for (int i = 0; i < size; i++) mean += ab[i];
        r += -energy_sample(ab, size) - mean / size;
    }
    r /= n_out;
    if (!grad || reg->lambda == 0) return r;
    float c = (float)(reg->lambda / n_out), bias = -c / (float)size;
#pragma omp parallel for schedule(static)
    for (int b = 0; b < batch; b++)
        if (sample_is_out(is_outlier, b))
            add_softmax(a + (size_t)b * size, size, c, bias, grad + (size_t)b * size);
    return r;
}

double energy_reg_backward(const float *a, const float *energy, int batch, int size,
                           const unsigned char *is_outlier, const hook_reg *reg,
                           float *grad) {
    int n_out = 0;
    for (int b = 0; b < batch; b++) n_out += sample_is_out(is_outlier, b);
    if (reg->loss == HOOK_LOSS_OE) return oe_backward(a, batch, size, is_outlier, reg, n_out, grad);
    return band_backward(a, energy, batch, size, is_outlier, reg, batch - n_out, n_out, grad);
}
