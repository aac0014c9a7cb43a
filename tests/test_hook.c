/* test_hook.c: per-sample energy (against a direct double computation, and stable
 * for large activations), the hook losses (energy hinge, band, Outlier Exposure)
 * and their gradients against central finite differences of R(a) computed from the
 * definitions in long double, with samples placed on every side of every margin; the
 * calibration rule of the margins; and the loss names. With --loss it is the tool
 * tests/test_losses_torch.py compares with PyTorch autograd. Prints a hash of the bits
 * of energies and of the three losses' gradients of larger samples:
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

/* FNV-1a over the bits of energies and of the energy, band and oe gradients of 6
 * samples of 5,000 values. */
static void print_energy_bits(void) {
    enum { B = 6, S = 5000 };
    rng_state rng;
    rng_seed(&rng, 9);
    float *a = xmalloc(B * S * sizeof(float)), *g = xcalloc(B * S, sizeof(float)), e[B];
    for (int i = 0; i < B * S; i++) a[i] = 3.0f * rng_normal(&rng);
    energy_forward(a, B, S, e);
    const unsigned char out[B] = {0, 0, 0, 1, 1, 1};
    const hook_reg regs[3] = {
        {.lambda = 0.5f, .m_in = e[0], .m_out = e[4]},
        {.lambda = 0.5f, .loss = HOOK_LOSS_BAND, .m_in_lo = e[1], .m_in = e[0], .m_out_lo = e[3] - 1,
         .m_out = e[4]},
        {.lambda = 0.5f, .loss = HOOK_LOSS_OE}};
    for (int k = 0; k < 3; k++) energy_reg_backward(a, e, B, S, out, &regs[k], g);
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < B + B * S; i++) {
        uint32_t u;
        memcpy(&u, i < B ? &e[i] : &g[i - B], sizeof u);
        h = (h ^ u) * 1099511628211ull;
    }
    fprintf(stderr, "energy bits %016llx\n", (unsigned long long)h);
    free(a), free(g);
}

static double sq_pos(double d) { return d > 0 ? d * d : 0; }

/* R of one loss kind straight from the definitions in energy.h. */
static double ref_reg(const double *a, int batch, int size, const unsigned char *out,
                      const hook_reg *r) {
    double r_in = 0, r_out = 0;
    int n_in = 0, n_out = 0;
    for (int b = 0; b < batch; b++) {
        const double *ab = a + b * size;
        double e = ref_energy(ab, size);
        if (out && out[b]) {
            n_out++;
            if (r->loss == HOOK_LOSS_OE) {
                double mean = 0;
                for (int i = 0; i < size; i++) mean += ab[i] / size;
                r_out += -e - mean;
            } else if (r->loss == HOOK_LOSS_BAND) {
                r_out += sq_pos(fmin(e - r->m_out_lo, r->m_out - e));
            } else {
                r_out += sq_pos(r->m_out - e);
            }
        } else {
            n_in++;
            if (r->loss == HOOK_LOSS_BAND) r_in += sq_pos(e - r->m_in) + sq_pos(r->m_in_lo - e);
            else if (r->loss == HOOK_LOSS_ENERGY) r_in += sq_pos(e - r->m_in);
        }
    }
    return (n_in ? r_in / n_in : 0) + (n_out ? r_out / n_out : 0);
}

/* Random activations [batch][size], sample b shifted so that its energy is target[b]
 * (E(a + c) = E(a) - c); float values and their double copy. */
static void make_batch(rng_state *rng, const double *target, int batch, int size, float *a,
                       double *ad) {
    for (int b = 0; b < batch; b++) {
        for (int i = 0; i < size; i++) ad[b * size + i] = (float)(2.0 * rng_normal(rng));
        double c = ref_energy(ad + b * size, size) - target[b];
        for (int i = 0; i < size; i++) {
            a[b * size + i] = (float)(ad[b * size + i] + c);
            ad[b * size + i] = a[b * size + i];
        }
    }
}

/* R and lambda * dR/da (accumulated onto 0.25 everywhere) against the reference;
 * returns the number of mismatching gradient entries. */
static int check_kind(const char *what, const float *a, double *ad, int batch, int size,
                      const unsigned char *out, const hook_reg *reg) {
    float *e = malloc(sizeof(float) * batch), *grad = malloc(sizeof(float) * batch * size);
    energy_forward(a, batch, size, e);
    for (int i = 0; i < batch * size; i++) grad[i] = 0.25f;
    double r = energy_reg_backward(a, e, batch, size, out, reg, grad);
    CHECK_CLOSE(r, ref_reg(ad, batch, size, out, reg), 1e-4, 1e-4, what);
    CHECK(r > 0, "%s: some term active (R %g)", what, r);
    double v = energy_reg_backward(a, e, batch, size, out, reg, NULL);
    CHECK(v == r, "%s: R without a gradient buffer is the same (%g, %g)", what, v, r);
    int bad = 0;
    const double h = 1e-4;
    for (int i = 0; i < batch * size; i++) {
        double keep = ad[i];
        ad[i] = keep + h;
        double rp = ref_reg(ad, batch, size, out, reg);
        ad[i] = keep - h;
        double rm = ref_reg(ad, batch, size, out, reg);
        ad[i] = keep;
        double want = 0.25 + reg->lambda * (rp - rm) / (2 * h);
        if (fabs(grad[i] - want) > 1e-4 + 1e-3 * fabs(want) && bad++ < 5)
            fprintf(stderr, "%s: grad[%d] = %.8g, finite difference %.8g\n", what, i, grad[i], want);
    }
    CHECK(bad == 0, "%s: gradient matches finite differences (%d mismatches)", what, bad);
    free(e);
    free(grad);
    return bad;
}

/* Samples with no active term get nothing added to their gradient. */
static void check_untouched(const float *a, int batch, int size, const unsigned char *out,
                            const hook_reg *reg, const int *inactive, int n_inactive) {
    float *e = malloc(sizeof(float) * batch), *grad = calloc((size_t)batch * size, sizeof(float));
    energy_forward(a, batch, size, e);
    energy_reg_backward(a, e, batch, size, out, reg, grad);
    int touched = 0;
    for (int k = 0; k < n_inactive; k++)
        for (int i = 0; i < size; i++) touched += grad[inactive[k] * size + i] != 0;
    CHECK(touched == 0, "%s: inactive samples have no gradient (%d entries set)",
          hook_loss_name(reg->loss), touched);
    free(e);
    free(grad);
}

static void test_energy(void) {
    enum { B = 8, S = 13 };
    rng_state rng;
    rng_seed(&rng, 7);
    float a[B * S], e[B];
    double ad[B * S];
    for (int i = 0; i < B * S; i++) ad[i] = a[i] = 2.0f * rng_normal(&rng);
    energy_forward(a, B, S, e);
    for (int b = 0; b < B; b++) CHECK_CLOSE(e[b], ref_energy(ad + b * S, S), 1e-5, 1e-6, "energy");
    /* stability: constant activations v give -(v + log n) even for huge v */
    static float big[2 * 1000];
    for (int i = 0; i < 1000; i++) big[i] = 5000.0f, big[1000 + i] = -5000.0f;
    float eb[2];
    energy_forward(big, 2, 1000, eb);
    CHECK_CLOSE(eb[0], -(5000.0 + log(1000.0)), 1e-2, 0, "energy of large activations");
    CHECK_CLOSE(eb[1], -(-5000.0 + log(1000.0)), 1e-2, 0, "energy of very negative activations");
    /* A NaN activation gives a NaN energy (and no undefined behaviour under UBSan). */
    float an[40], en[1];
    for (int i = 0; i < 40; i++) an[i] = 0.1f * (float)i;
    an[5] = NAN;
    energy_forward(an, 1, 40, en);
    CHECK(isnan(en[0]), "NaN activation: energy %g, want NaN", en[0]);
}

/* Hinge and band with margins m_in_lo -1, m_in 1, m_out_lo -4, m_out 4: ID energies
 * above, below and inside the band, outliers inside the outer interval nearer either
 * edge and outside it on both sides. */
static void test_hinge_and_band(void) {
    enum { B = 12, S = 13 };
    const double target[B] = {2.0, -2.5, 0.3, 1.5, -1.3, -0.2,   /* ID */
                              -3.0, 2.5, -5.0, 5.0, 0.5, -0.7}; /* outliers */
    unsigned char out[B] = {0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1};
    rng_state rng;
    rng_seed(&rng, 11);
    float a[B * S];
    double ad[B * S];
    make_batch(&rng, target, B, S, a, ad);
    hook_reg hinge = {.lambda = 0.7f, .m_in = 1.0f, .m_out = 4.0f};
    check_kind("energy hinge", a, ad, B, S, out, &hinge);
    int hinge_idle[] = {1, 2, 4, 5, 9};
    check_untouched(a, B, S, out, &hinge, hinge_idle, 5);
    hook_reg band = {.lambda = 0.7f, .m_in = 1.0f, .m_out = 4.0f, .loss = HOOK_LOSS_BAND,
                     .m_in_lo = -1.0f, .m_out_lo = -4.0f};
    check_kind("band", a, ad, B, S, out, &band);
    int band_idle[] = {2, 5, 8, 9};
    check_untouched(a, B, S, out, &band, band_idle, 4);
    /* the band's ID term pulls a low energy up: dR/dE < 0, and sum_i dE/da_i = -1 */
    float e[B], grad[B * S] = {0};
    energy_forward(a, B, S, e);
    energy_reg_backward(a, e, B, S, out, &band, grad);
    double s1 = 0;
    for (int i = 0; i < S; i++) s1 += grad[S + i];
    CHECK_CLOSE(s1, -0.7 * -2.0 * (-1.0 - e[1]) / 6, 1e-5, 1e-4, "band: ID sample below the band");
    /* all in-distribution (is_outlier NULL) */
    check_kind("hinge, no outliers", a, ad, B, S, NULL, &hinge);
}

static void test_oe(void) {
    enum { B = 6, S = 10 };
    const double target[B] = {-3, -1, 0.5, -6, -2, 1};
    unsigned char out[B] = {0, 1, 0, 1, 1, 0};
    rng_state rng;
    rng_seed(&rng, 5);
    float a[B * S];
    double ad[B * S];
    make_batch(&rng, target, B, S, a, ad);
    hook_reg oe = {.lambda = 0.5f, .loss = HOOK_LOSS_OE};
    check_kind("oe", a, ad, B, S, out, &oe);
    int id[] = {0, 2, 5};
    check_untouched(a, B, S, out, &oe, id, 3);
    /* constant logits are the minimum: R = log K, gradient 0 */
    float c[2 * S], ec[2], gc[2 * S] = {0};
    for (int i = 0; i < 2 * S; i++) c[i] = 3.0f;
    unsigned char o2[2] = {1, 1};
    energy_forward(c, 2, S, ec);
    CHECK_CLOSE(energy_reg_backward(c, ec, 2, S, o2, &oe, gc), log((double)S), 1e-6, 1e-6,
                "oe of uniform logits");
    double mx = 0;
    for (int i = 0; i < 2 * S; i++) mx = fmax(mx, fabs(gc[i]));
    CHECK(mx < 1e-6, "oe gradient at uniform logits is 0 (max %g)", mx);
    CHECK(energy_reg_backward(a, NULL, B, S, NULL, &oe, NULL) == 0, "oe without outliers is 0");
}

static void test_calibrate_and_names(void) {
    float v[101];
    for (int i = 0; i <= 100; i++) v[i] = (float)i; /* Q(p) = 100 p */
    hook_reg r = {.calibrate = 1};
    hook_reg_calibrate(&r, v, 101, 0.5, 1.0);
    CHECK(r.m_in == 50 && r.m_out == 130 && !r.calibrate, "energy: m_in %g m_out %g", r.m_in,
          r.m_out);
    r.loss = HOOK_LOSS_BAND;
    hook_reg_calibrate(&r, v, 101, 0.5, 0.5);
    CHECK(r.m_in_lo == 10 && r.m_in == 90 && r.m_out_lo == -30 && r.m_out == 130,
          "band: [%g, %g] in [%g, %g]", r.m_in_lo, r.m_in, r.m_out_lo, r.m_out);
    float flat[4] = {-7, -7, -7, -7};
    hook_reg_calibrate(&r, flat, 4, 0.5, 1.0);
    CHECK(r.m_out_lo < r.m_in_lo && r.m_in_lo < r.m_in && r.m_in < r.m_out,
          "band on a flat layer keeps its edges apart");
    hook_reg o = {.loss = HOOK_LOSS_OE, .m_in = 3, .calibrate = 1};
    hook_reg_calibrate(&o, v, 101, 0.5, 1.0);
    CHECK(o.m_in == 3 && !o.calibrate, "oe has no margins to calibrate");
    for (int k = 0; k < 3; k++)
        CHECK(hook_loss_parse(hook_loss_name(k)) == k, "loss name %d round-trips", k);
    CHECK(hook_loss_parse("hinge") == -1 && hook_loss_name(3) == NULL, "unknown loss names");
}

/* test_hook --loss KIND LAMBDA M_IN_LO M_IN M_OUT_LO M_OUT BATCH SIZE A OUT RESULT:
 * float32 activations A [BATCH][SIZE] and uint8 outlier flags OUT in; R then the
 * gradient lambda * dR/da [BATCH][SIZE] as float32 out. */
static int loss_tool(char **argv) {
    hook_reg r = {.lambda = (float)atof(argv[3]), .m_in_lo = (float)atof(argv[4]),
                  .m_in = (float)atof(argv[5]), .m_out_lo = (float)atof(argv[6]),
                  .m_out = (float)atof(argv[7]), .loss = hook_loss_parse(argv[2])};
    int batch = atoi(argv[8]), size = atoi(argv[9]);
    if (r.loss < 0 || batch < 1 || size < 1) return fprintf(stderr, "loss tool: bad arguments\n"), 2;
    size_t n = (size_t)batch * size;
    float *a = malloc(n * sizeof *a), *g = calloc(n, sizeof *g), *e = malloc(batch * sizeof *e);
    unsigned char *out = malloc((size_t)batch);
    FILE *f = fopen(argv[10], "rb"), *fo = fopen(argv[11], "rb");
    int ok = f && fo && fread(a, sizeof *a, n, f) == n && fread(out, 1, batch, fo) == (size_t)batch;
    if (f) fclose(f);
    if (fo) fclose(fo);
    FILE *o = ok ? fopen(argv[12], "wb") : NULL;
    if (o) {
        energy_forward(a, batch, size, e);
        float v = (float)energy_reg_backward(a, e, batch, size, out, &r, g);
        ok = fwrite(&v, sizeof v, 1, o) == 1 && fwrite(g, sizeof *g, n, o) == n;
        ok &= fclose(o) == 0;
    }
    if (!ok) fprintf(stderr, "loss tool: cannot read %s, %s or write %s\n", argv[10], argv[11],
                     argv[12]);
    free(a), free(g), free(e), free(out);
    return ok ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc == 13 && !strcmp(argv[1], "--loss")) return loss_tool(argv);
    test_energy();
    test_hinge_and_band();
    test_oe();
    test_calibrate_and_names();
    print_energy_bits();
    return check_done("test_hook");
}
