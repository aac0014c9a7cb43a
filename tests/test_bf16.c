/* test_bf16.c: bfloat16 conversion and the bf16 GEMM.
 * Conversion: bf16_from_float bit for bit against an independent reference
 * (rounding the significand to 8 bits with rint in double arithmetic) on every
 * bf16 value (all 65,536 upper halves) times the lower halves that decide the
 * rounding: 0 (exact), 1, 0x7fff (just below a tie), 0x8000 (the tie: to even),
 * 0x8001, 0xffff and random ones; so every NaN class, both infinities, every
 * subnormal, overflow to infinity and every tie. Named cases with their expected
 * bits. Where the kernels level is avx512bf16, also against the hardware's
 * vcvtneps2bf16 on 2^26 inputs (1,024 lower halves per upper half).
 * GEMM: gemm_prec(PREC_BF16) (lir's vdpbf16ps kernel at level avx512bf16, the
 * emulation below it) and sbgemm_own, against two fp64 references, on edge sizes,
 * odd and prime k, every transpose, beta 0 over NaN, beta 1 and 0.5, alpha != 1,
 * padded leading dimensions, k = 0; bitwise the same result on 1, 2, 3 threads and
 * in two column slices. */
#include <immintrin.h>
#include <omp.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "kernels/kernels.h"

static rng_state rng;

static uint32_t bits_of(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static float float_of(uint32_t u) {
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* The reference, by arithmetic instead of bit tricks: NaN -> quiet NaN with the
 * same sign and upper payload, subnormal -> signed zero, otherwise the significand
 * rounded to 8 bits (rint: ties to even) and infinity beyond the bf16 range. */
static uint16_t ref_bf16(float x) {
    const uint32_t u = bits_of(x), sign = u >> 31 << 15;
    if (isnan(x)) return (uint16_t)(u >> 16 | 0x40);
    if (isinf(x)) return (uint16_t)(sign | 0x7f80);
    if (fabsf(x) < 0x1p-126f) return (uint16_t)sign; /* zero or subnormal */
    int e;
    const double m = frexp(fabs((double)x), &e); /* |x| = m 2^e, m in [0.5, 1) */
    const double r = ldexp(rint(ldexp(m, 8)), e - 8);
    if (r > 0x1.fep127) return (uint16_t)(sign | 0x7f80); /* beyond the largest bf16 */
    return (uint16_t)(sign | bits_of((float)r) >> 16);
}

static void check_conversion_sweep(void) {
    static const uint32_t lows[] = {0x0000, 0x0001, 0x7fff, 0x8000, 0x8001, 0xffff};
    long bad = 0, roundtrip_bad = 0;
    for (uint32_t hi = 0; hi < 65536; hi++) {
        for (int i = 0; i < 6 + 4; i++) {
            const uint32_t lo = i < 6 ? lows[i] : (uint32_t)rng_below(&rng, 65536);
            const float x = float_of(hi << 16 | lo);
            const uint16_t got = bf16_from_float(x), want = ref_bf16(x);
            if (got != want && bad++ < 10)
                fprintf(stderr, "bf16(%08x) = %04x, want %04x\n", hi << 16 | lo, got, want);
        }
        /* a bf16 value converts to itself (NaNs quiet, subnormals flush) */
        const float v = bf16_to_float((uint16_t)hi);
        roundtrip_bad += bf16_from_float(v) != ref_bf16(v);
        roundtrip_bad += bits_of(v) != hi << 16;
    }
    CHECK(bad == 0, "bf16_from_float differs from the reference on %ld inputs", bad);
    CHECK(roundtrip_bad == 0, "bf16 round trips: %ld wrong", roundtrip_bad);
}

static void check_conversion_cases(void) {
    static const struct {
        uint32_t in;
        uint16_t out;
        const char *what;
    } cases[] = {
        {0x3f800000, 0x3f80, "1"},
        {0x3f808000, 0x3f80, "1 + 2^-8: tie, even stays"},
        {0x3f818000, 0x3f82, "1 + 3 2^-8: tie, up to even"},
        {0x3f808001, 0x3f81, "just above a tie"},
        {0x3f817fff, 0x3f81, "just below a tie"},
        {0xbf808000, 0xbf80, "-(1 + 2^-8): tie, even stays"},
        {0x7f7fffff, 0x7f80, "FLT_MAX rounds to infinity"},
        {0x7f7f7fff, 0x7f7f, "largest bf16 below the tie"},
        {0x7f800000, 0x7f80, "infinity"},
        {0xff800000, 0xff80, "-infinity"},
        {0x7fc00000, 0x7fc0, "quiet NaN"},
        {0x7f800001, 0x7fc0, "signalling NaN, payload in the low half only: quieted"},
        {0xffa00000, 0xffe0, "negative signalling NaN: sign and payload kept, quieted"},
        {0x00000000, 0x0000, "zero"},
        {0x80000000, 0x8000, "-zero"},
        {0x00000001, 0x0000, "smallest subnormal"},
        {0x807fffff, 0x8000, "largest negative subnormal"},
        {0x00800000, 0x0080, "smallest normal"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const uint16_t got = bf16_from_float(float_of(cases[i].in));
        CHECK(got == cases[i].out, "bf16(%08x) %s: %04x, want %04x", cases[i].in, cases[i].what,
              got, cases[i].out);
    }
}

/* Sixteen lanes of the hardware conversion, for the comparison below. */
__attribute__((target("avx512f,avx512bf16"))) static void hw_bf16(const float *x, uint16_t *out) {
    const __m512 v = _mm512_loadu_ps(x);
    _mm256_storeu_si256((__m256i *)out, (__m256i)_mm512_cvtneps_pbh(v));
}

static void check_conversion_hardware(void) {
    if (kernels_level() < KERN_AVX512BF16) {
        fprintf(stderr, "note: the comparison with vcvtneps2bf16 is skipped: kernels level %s "
                        "(no AVX512-BF16 in use)\n",
                kernels_level_name(kernels_level()));
        return;
    }
    long bad = 0;
    float x[16];
    uint16_t hw[16];
    /* per upper half 64 runs of 16 lower halves: from 0, around the tie 0x8000, up
     * to 0xffff, and 61 at random places */
    for (uint32_t hi = 0; hi < 65536; hi++)
        for (int g = 0; g < 64; g++) {
            const uint32_t lo = g == 0   ? 0
                                : g == 1 ? 0x7ff8
                                : g == 2 ? 0xfff0
                                         : (uint32_t)rng_below(&rng, 65536 - 16);
            for (int l = 0; l < 16; l++) x[l] = float_of(hi << 16 | (lo + (uint32_t)l));
            hw_bf16(x, hw);
            for (int l = 0; l < 16; l++) bad += hw[l] != bf16_from_float(x[l]);
        }
    CHECK(bad == 0, "bf16_from_float differs from vcvtneps2bf16 on %ld inputs", bad);
}

static float *rand_buf(size_t n) {
    float *p = xmalloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) p[i] = 2.0f * rng_uniform(&rng) - 1.0f;
    return p;
}

typedef struct {
    int ta, tb, m, n, k, pad;
    float alpha, beta;
} gemm_case;

/* The worst errors of C against both references, each relative to its scale:
 * exact: sum over p of a b in fp64 from the fp32 inputs; rounded: the same from the
 * inputs rounded to bf16, whose products fp32 holds exactly. */
typedef struct {
    double exact, rounded;
    int finite, pad_ok;
} gemm_errors;

static gemm_errors measure(const gemm_case *g, const float *a, int lda, const float *b, int ldb,
                           const float *c0, const float *c, int ldc) {
    gemm_errors e = {0, 0, 1, 1};
    const int ar = g->ta ? g->k : g->m, br = g->tb ? g->n : g->k;
    float *a16 = xmalloc((size_t)ar * lda * sizeof(float) + 4);
    float *b16 = xmalloc((size_t)br * ldb * sizeof(float) + 4);
    bf16_round_matrix(a, ar, lda, lda, a16);
    bf16_round_matrix(b, br, ldb, ldb, b16);
    for (int i = 0; i < g->m; i++) {
        for (int j = 0; j < g->n; j++) {
            double s = 0, sa = 0, r = 0, ra = 0;
            for (int p = 0; p < g->k; p++) {
                const size_t ia = g->ta ? (size_t)p * lda + i : (size_t)i * lda + p;
                const size_t ib = g->tb ? (size_t)j * ldb + p : (size_t)p * ldb + j;
                const double x = a[ia], y = b[ib], xr = a16[ia], yr = b16[ib];
                s += x * y, sa += fabs(x * y);
                r += xr * yr, ra += fabs(xr * yr);
            }
            const double old = g->beta == 0.0f ? 0 : c0[(size_t)i * ldc + j];
            const double got = c[(size_t)i * ldc + j];
            const double extra = fabs(g->beta * old) + 1e-30;
            e.finite &= isfinite(got);
            e.exact = fmax(e.exact, fabs(got - (g->alpha * s + g->beta * old)) /
                                        (fabs(g->alpha) * sa + extra));
            e.rounded = fmax(e.rounded, fabs(got - (g->alpha * r + g->beta * old)) /
                                            (fabs(g->alpha) * ra + extra));
        }
        for (int j = g->n; j < ldc; j++)
            e.pad_ok &= bits_of(c[(size_t)i * ldc + j]) == bits_of(c0[(size_t)i * ldc + j]);
    }
    free(a16), free(b16);
    return e;
}

/* One call of `fn` (0: gemm_prec bf16, 1: sbgemm_own) on a case, checked against
 * both references; also (gemm_prec) that bf16 changed the result against fp32. */
static void check_gemm(int fn, const gemm_case *g) {
    const int ar = g->ta ? g->k : g->m, ac = g->ta ? g->m : g->k;
    const int br = g->tb ? g->n : g->k, bc = g->tb ? g->k : g->n;
    const int lda = ac + g->pad, ldb = bc + g->pad, ldc = g->n + g->pad;
    const size_t cs = (size_t)g->m * ldc;
    float *a = rand_buf((size_t)ar * lda), *b = rand_buf((size_t)br * ldb);
    float *c0 = rand_buf(cs), *c = xmalloc(cs * sizeof(float)), *cf = xmalloc(cs * sizeof(float));
    memcpy(c, c0, cs * sizeof(float));
    if (g->beta == 0.0f)
        for (int i = 0; i < g->m; i++)
            for (int j = 0; j < g->n; j++) c[(size_t)i * ldc + j] = NAN;
    memcpy(cf, c, cs * sizeof(float));
    if (fn)
        sbgemm_own(g->ta, g->tb, g->m, g->n, g->k, g->alpha, a, lda, b, ldb, g->beta, c, ldc);
    else
        gemm_prec(PREC_BF16, g->ta, g->tb, g->m, g->n, g->k, g->alpha, a, lda, b, ldb, g->beta,
                  c, ldc);
    gemm_prec(PREC_FP32, g->ta, g->tb, g->m, g->n, g->k, g->alpha, a, lda, b, ldb, g->beta, cf,
              ldc);
    const gemm_errors e = measure(g, a, lda, b, ldb, c0, c, ldc);
    /* exact inputs: each operand rounds by at most u = 2^-8 relative, so a product by
     * 2u + u^2; the fp32 sum of k exact products adds gamma_k = k 2^-24 / (1 - k 2^-24)
     * (rigorous bounds; 4 2^-24 more for alpha, beta and the final rounding). */
    const double u = 0x1p-8, gk = g->k * 0x1p-24 / (1 - g->k * 0x1p-24);
    const double bound = 2 * u + u * u + gk * (1 + u) * (1 + u) + 4 * 0x1p-24;
    /* rounded inputs: only the fp32 summation remains; random signs make it ~sqrt(k)
     * 6e-8 (<= 5e-6 for k <= 4608), as in test_gemm_kernel; a lost or doubled product
     * of these shapes moves C by >= ~1e-4 of the scale */
    const double tight = 1e-5;
    double diff = 0;
    for (int i = 0; i < g->m; i++)
        for (int j = 0; j < g->n; j++)
            diff = fmax(diff, fabs(c[(size_t)i * ldc + j] - cf[(size_t)i * ldc + j]));
    const int changed = g->k == 0 || diff > 0;
    const int ok = e.finite && e.pad_ok && e.exact <= bound && e.rounded <= tight && changed;
    CHECK(ok,
          "%s ta %d tb %d %dx%dx%d alpha %g beta %g pad %d: finite %d pad %d err/exact %.3g "
          "(bound %.3g) err/rounded %.3g (bound %.3g), differs from fp32 %d",
          fn ? "sbgemm_own" : "gemm_prec bf16", g->ta, g->tb, g->m, g->n, g->k, g->alpha,
          g->beta, g->pad, e.finite, e.pad_ok, e.exact, bound, e.rounded, tight, changed);
    free(a), free(b), free(c0), free(c), free(cf);
}

static void check_gemm_cases(int fn) {
    static const int ks[] = {1, 2, 3, 5, 7, 13, 31, 37, 257, 263};
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            for (int m = 1; m <= 33; m += 4)
                for (int n = 1; n <= 33; n += 5) {
                    const gemm_case g = {ta, tb, m, n, ks[(m + n) % 10], (m * n) % 3, 1.0f,
                                         (m + n) % 2 ? 1.0f : 0.0f};
                    check_gemm(fn, &g);
                }
            const gemm_case big = {ta, tb, 131, 2085, 263, 3, 0.7f, 0.5f};
            check_gemm(fn, &big);
        }
    /* the convolution shapes: forward, dW (B transposed), dX (A transposed) */
    const gemm_case conv[] = {{0, 0, 64, 300, 27, 0, 1, 0},   {0, 0, 64, 196, 576, 0, 1, 0},
                              {0, 0, 512, 16, 4608, 0, 1, 0}, {0, 1, 64, 576, 196, 0, 1, 1},
                              {1, 0, 576, 196, 64, 0, 1, 0},  {1, 0, 2304, 32, 256, 0, 1, 0}};
    for (size_t i = 0; i < sizeof conv / sizeof conv[0]; i++) check_gemm(fn, &conv[i]);
}

/* k = 0: C = beta C; and bitwise the same C on 1, 2, 3 threads and in two slices. */
static void check_gemm_determinism(void) {
    float c[4] = {NAN, NAN, 3, 4};
    gemm_prec(PREC_BF16, 0, 0, 1, 2, 0, 1.0f, NULL, 1, NULL, 2, 0.0f, c, 2);
    gemm_prec(PREC_BF16, 0, 0, 1, 2, 0, 1.0f, NULL, 1, NULL, 2, 2.0f, c + 2, 2);
    CHECK(c[0] == 0 && c[1] == 0 && c[2] == 6 && c[3] == 8, "k = 0: C = beta C");
    const int m = 70, n = 300, k = 1001, threads = omp_get_max_threads();
    float *a = rand_buf((size_t)m * k), *b = rand_buf((size_t)k * n), *r[4];
    for (int t = 0; t < 4; t++) r[t] = xmalloc((size_t)m * n * sizeof(float));
    for (int t = 0; t < 3; t++) {
        omp_set_num_threads(t + 1);
        gemm_prec(PREC_BF16, 0, 0, m, n, k, 1.0f, a, k, b, n, 0.0f, r[t], n);
    }
    omp_set_num_threads(1);
    gemm_prec(PREC_BF16, 0, 0, m, 17, k, 1.0f, a, k, b, n, 0.0f, r[3], n);
    gemm_prec(PREC_BF16, 0, 0, m, n - 17, k, 1.0f, a, k, b + 17, n, 0.0f, r[3] + 17, n);
    omp_set_num_threads(threads);
    const size_t bytes = (size_t)m * n * sizeof(float);
    CHECK(!memcmp(r[0], r[1], bytes) && !memcmp(r[0], r[2], bytes),
          "bf16 gemm: the same C on 1, 2, 3 threads");
    /* lir's kernels sum each element in an order that depends on k alone; OpenBLAS
     * (under the emulation below level avx512) makes no such promise */
    if (kernels_level() >= KERN_AVX512)
        CHECK(!memcmp(r[0], r[3], bytes), "bf16 gemm: the same C in two column slices");
    else
        fprintf(stderr, "note: column slices not compared: below level avx512 the emulated bf16 "
                        "GEMM runs on OpenBLAS, whose sums depend on the slice\n");
    for (int t = 0; t < 4; t++) free(r[t]);
    free(a), free(b);
}

int main(void) {
    rng_seed(&rng, 11);
    check_conversion_cases();
    check_conversion_sweep();
    check_conversion_hardware();
    check_gemm_cases(0);
    if (kernels_level() >= KERN_AVX512BF16)
        check_gemm_cases(1);
    else
        fprintf(stderr, "note: sbgemm_own (vdpbf16ps) not checked: kernels level %s; the "
                        "emulated bf16 GEMM is\n",
                kernels_level_name(kernels_level()));
    check_gemm_determinism();
    fprintf(stderr, "bf16 GEMM ran on: %s\n", gemm_kernels());
    return check_done("test_bf16");
}
