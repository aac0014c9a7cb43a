/* test_hook.c: per-sample energy (against a direct double computation, and stable
 * for large activations) and the R-EBO gradient against central finite
 * differences of R(a), for in and out samples with margins active and inactive.
 * Prints a hash of the bits of energies and R-EBO gradients of larger samples:
 * test_kernel_levels.sh checks that every kernels level gives the same. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "nn/nn.h"

/* Reference E = -log sum exp(a) straight from the definition, in long double. */
static double ref_energy(const double *a, int size) {
    long double s = 0;
    for (int i = 0; i < size; i++) s += expl((long double)a[i]);
    return -(double)logl(s);
}

/* FNV-1a over the bits of energies and gradients of 6 samples of 5,000 values. */
static void print_energy_bits(void) {
    enum { B = 6, S = 5000 };
    rng_state rng;
    rng_seed(&rng, 9);
    float *a = xmalloc(B * S * sizeof(float)), *g = xcalloc(B * S, sizeof(float)), e[B];
    for (int i = 0; i < B * S; i++) a[i] = 3.0f * rng_normal(&rng);
    energy_forward(a, B, S, e);
    const unsigned char out[B] = {0, 0, 0, 1, 1, 1};
    const hook_reg reg = {0.5f, e[0], e[4], 0};
    energy_reg_backward(a, e, B, S, out, &reg, g);
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < B + B * S; i++) {
        uint32_t u;
        memcpy(&u, i < B ? &e[i] : &g[i - B], sizeof u);
        h = (h ^ u) * 1099511628211ull;
    }
    fprintf(stderr, "energy bits %016llx\n", (unsigned long long)h);
    free(a), free(g);
}

static double ref_reg(const double *a, int batch, int size, const unsigned char *out,
                      const hook_reg *reg) {
    double r_in = 0, r_out = 0;
    int n_in = 0, n_out = 0;
    for (int b = 0; b < batch; b++) {
        double e = ref_energy(a + b * size, size);
        if (out[b]) {
            n_out++;
            double d = reg->m_out - e;
            if (d > 0) r_out += d * d;
        } else {
            n_in++;
            double d = e - reg->m_in;
            if (d > 0) r_in += d * d;
        }
    }
    return (n_in ? r_in / n_in : 0) + (n_out ? r_out / n_out : 0);
}

int main(void) {
    enum { B = 8, S = 13 };
    rng_state rng;
    rng_seed(&rng, 7);
    float a[B * S], e[B];
    double ad[B * S];
    for (int i = 0; i < B * S; i++) {
        a[i] = 2.0f * rng_normal(&rng);
        ad[i] = a[i];
    }
    energy_forward(a, B, S, e);
    for (int b = 0; b < B; b++) CHECK_CLOSE(e[b], ref_energy(ad + b * S, S), 1e-5, 1e-6, "energy");

    /* stability: constant activations v give -(v + log n) even for huge v */
    float big[2 * 1000];
    for (int i = 0; i < 1000; i++) big[i] = 5000.0f, big[1000 + i] = -5000.0f;
    float eb[2];
    energy_forward(big, 2, 1000, eb);
    CHECK_CLOSE(eb[0], -(5000.0 + log(1000.0)), 1e-2, 0, "energy of large activations");
    CHECK_CLOSE(eb[1], -(-5000.0 + log(1000.0)), 1e-2, 0, "energy of very negative activations");

    /* samples 0..3 in, 4..7 out; margins at the medians so some terms are active
     * and some inactive on each side */
    unsigned char out[B] = {0, 0, 0, 0, 1, 1, 1, 1};
    float ein[4], eout[4];
    for (int b = 0; b < 4; b++) ein[b] = e[b], eout[b] = e[4 + b];
    for (int i = 0; i < 4; i++)
        for (int j = i + 1; j < 4; j++) {
            if (ein[j] < ein[i]) { float t = ein[i]; ein[i] = ein[j]; ein[j] = t; }
            if (eout[j] < eout[i]) { float t = eout[i]; eout[i] = eout[j]; eout[j] = t; }
        }
    hook_reg reg = {0.7f, 0.5f * (ein[1] + ein[2]), 0.5f * (eout[1] + eout[2]), 0};
    int active_in = 0, active_out = 0;
    for (int b = 0; b < B; b++) {
        if (!out[b] && e[b] > reg.m_in) active_in++;
        if (out[b] && e[b] < reg.m_out) active_out++;
    }
    CHECK(active_in == 2 && active_out == 2, "margins split the samples (%d, %d)", active_in,
          active_out);

    float grad[B * S];
    for (int i = 0; i < B * S; i++) grad[i] = 0.25f; /* must accumulate onto this */
    double r = energy_reg_backward(a, e, B, S, out, &reg, grad);
    CHECK_CLOSE(r, ref_reg(ad, B, S, out, &reg), 1e-4, 1e-4, "R value");
    int bad = 0;
    double h = 1e-4;
    for (int i = 0; i < B * S; i++) {
        double keep = ad[i];
        ad[i] = keep + h;
        double rp = ref_reg(ad, B, S, out, &reg);
        ad[i] = keep - h;
        double rm = ref_reg(ad, B, S, out, &reg);
        ad[i] = keep;
        double want = 0.25 + reg.lambda * (rp - rm) / (2 * h);
        if (fabs(grad[i] - want) > 1e-4 + 1e-3 * fabs(want)) {
            if (bad++ < 5)
                fprintf(stderr, "grad[%d] = %.8g, finite difference %.8g\n", i, grad[i], want);
        }
    }
    CHECK(bad == 0, "regulariser gradient matches finite differences (%d mismatches)", bad);
    /* inactive samples get nothing added */
    int untouched = 1;
    for (int b = 0; b < B; b++) {
        int active = out[b] ? e[b] < reg.m_out : e[b] > reg.m_in;
        if (active) continue;
        for (int i = 0; i < S; i++) untouched &= grad[b * S + i] == 0.25f;
    }
    CHECK(untouched, "inactive samples have no regulariser gradient");

    /* all in-distribution (is_outlier NULL), all margins active */
    hook_reg reg2 = {1.0f, -100.0f, 0.0f, 0};
    unsigned char none[B] = {0};
    for (int i = 0; i < B * S; i++) grad[i] = 0;
    r = energy_reg_backward(a, e, B, S, NULL, &reg2, grad);
    CHECK_CLOSE(r, ref_reg(ad, B, S, none, &reg2), 1e-3, 1e-5, "R with no outliers");
    bad = 0;
    for (int i = 0; i < B * S; i++) {
        double keep = ad[i];
        ad[i] = keep + h;
        double rp = ref_reg(ad, B, S, none, &reg2);
        ad[i] = keep - h;
        double rm = ref_reg(ad, B, S, none, &reg2);
        ad[i] = keep;
        double want = (rp - rm) / (2 * h);
        if (fabs(grad[i] - want) > 1e-3 + 1e-3 * fabs(want)) bad++;
    }
    CHECK(bad == 0, "gradient without outliers (%d mismatches)", bad);
    /* the gradient of E is -softmax: per sample it sums to -lambda * dR/dE */
    double s0 = 0;
    for (int i = 0; i < S; i++) s0 += grad[i];
    CHECK_CLOSE(s0, -2.0 * (e[0] + 100.0) / B, 1e-3, 1e-4, "gradient sums to -dR/dE");
    /* A NaN activation gives a NaN energy (and no undefined behaviour under UBSan). */
    {
        float an[40], en[1];
        for (int i = 0; i < 40; i++) an[i] = 0.1f * (float)i;
        an[5] = NAN;
        energy_forward(an, 1, 40, en);
        CHECK(isnan(en[0]), "NaN activation: energy %g, want NaN", en[0]);
    }
    print_energy_bits();
    return check_done("test_hook");
}
