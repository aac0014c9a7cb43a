/* test_gemm_kernel.c: lir's own SGEMM (sgemm_own, every kernel of the level in use)
 * against a double-precision reference and against OpenBLAS's cblas_sgemm, on
 * edge sizes 1..33, prime k, the convolution shapes, every transpose, beta 0 (C
 * full of NaN, which must not leak) and beta 1 and 0.5 with alpha != 1, leading
 * dimensions larger than the matrices (the padding must stay untouched), k = 0;
 * and determinism: the same call twice, C computed in two column slices (cut
 * inside a register tile), and gemm() on 1, 2, 3 threads give bitwise the same;
 * gemm_prepacked (op(A) packed once, as winograd.c uses it), also with B given as
 * the kernel's panels (gemm_prepacked_b), against gemm_prec. */
#include <cblas.h>
#include <omp.h>
#include <string.h>

#include "check.h"
#include "kernels/kernels.h"

static rng_state rng;
static int failed_cases;

static float *rand_buf(size_t n) {
    float *p = xmalloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) p[i] = 2.0f * rng_uniform(&rng) - 1.0f;
    return p;
}

static int bitwise_equal(const float *x, const float *y, size_t n) {
    return memcmp(x, y, n * sizeof(float)) == 0;
}

/* One case: C = alpha op(A) op(B) + beta C, lda/ldb/ldc = cols + pad. */
static void check_case(int isa, int ta, int tb, int m, int n, int k, float alpha, float beta,
                       int pad) {
    const int ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k, bc = tb ? k : n;
    const int lda = ac + pad, ldb = bc + pad, ldc = n + pad;
    const size_t csize = (size_t)m * ldc;
    float *a = rand_buf((size_t)ar * lda), *b = rand_buf((size_t)br * ldb);
    float *c0 = rand_buf(csize), *c = xmalloc(csize * sizeof(float));
    float *cb = xmalloc(csize * sizeof(float)), *c2 = xmalloc(csize * sizeof(float));
    memcpy(c, c0, csize * sizeof(float));
    if (beta == 0.0f)
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) c[(size_t)i * ldc + j] = NAN;
    memcpy(cb, c, csize * sizeof(float));
    memcpy(c2, c, csize * sizeof(float));
    sgemm_own(isa, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m,
                n, k, alpha, a, lda, b, ldb, beta, cb, ldc);
    /* tolerance relative to S = |alpha| sum_p |a_ip||b_pj| + |beta||c_ij|: a float32
     * sum of k products in any order errs by at most ~k * 6e-8 * S, in practice
     * (random signs) ~sqrt(k) * 6e-8 * S <= 5e-6 * S for k <= 4608; a missing or
     * doubled product of these shapes changes the result by >= ~1e-4 * S. */
    const double tol = 1e-5;
    double worst_ref = 0, worst_blas = 0;
    int pad_ok = 1, finite = 1;
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
            double s = 0, sabs = 0;
            for (int p = 0; p < k; p++) {
                const double x = ta ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p];
                const double y = tb ? b[(size_t)j * ldb + p] : b[(size_t)p * ldb + j];
                s += x * y;
                sabs += fabs(x * y);
            }
            const double old = beta == 0.0f ? 0.0 : c0[(size_t)i * ldc + j];
            const double want = alpha * s + beta * old;
            const double scale = fabs(alpha) * sabs + fabs(beta) * fabs(old) + 1e-30;
            const float got = c[(size_t)i * ldc + j];
            finite &= isfinite(got);
            worst_ref = fmax(worst_ref, fabs(got - want) / scale);
            worst_blas = fmax(worst_blas, fabs(got - cb[(size_t)i * ldc + j]) / scale);
        }
        for (int j = n; j < ldc; j++) pad_ok &= c[(size_t)i * ldc + j] == c0[(size_t)i * ldc + j];
    }
    /* determinism: again in two column slices, the cut at 17 (inside a tile) */
    const int cut = n > 17 ? 17 : n / 2;
    sgemm_own(isa, ta, tb, m, cut, k, alpha, a, lda, b, ldb, beta, c2, ldc);
    sgemm_own(isa, ta, tb, m, n - cut, k, alpha, a, lda, tb ? b + (size_t)cut * ldb : b + cut,
              ldb, beta, c2 + cut, ldc);
    const int same = bitwise_equal(c, c2, csize);
    const int ok = finite && pad_ok && worst_ref <= tol && worst_blas <= 2 * tol && same;
    if (!ok && failed_cases++ < 20)
        fprintf(stderr,
                "isa %d ta %d tb %d m %d n %d k %d alpha %g beta %g pad %d: finite %d pad %d "
                "err/ref %.3g err/blas %.3g sliced-same %d\n",
                isa, ta, tb, m, n, k, alpha, beta, pad, finite, pad_ok, worst_ref, worst_blas,
                same);
    CHECK(ok, "sgemm_own isa %d ta %d tb %d %dx%dx%d beta %g", isa, ta, tb, m, n, k, beta);
    free(a);
    free(b);
    free(c0);
    free(c);
    free(cb);
    free(c2);
}

/* k = 0: C = beta C (beta 0: zero, even over NaN). */
static void check_k0(int isa) {
    float c[6] = {NAN, NAN, 7, 1, 2, 3};
    sgemm_own(isa, 0, 0, 1, 2, 0, 1.0f, NULL, 1, NULL, 2, 0.0f, c, 2);
    CHECK(c[0] == 0 && c[1] == 0 && c[2] == 7, "k = 0, beta 0 zeroes C only");
    sgemm_own(isa, 0, 0, 2, 2, 0, 1.0f, NULL, 1, NULL, 2, 2.0f, c + 2, 2);
    CHECK(c[2] == 14 && c[3] == 2 && c[4] == 4 && c[5] == 6, "k = 0, beta 2 scales C");
}

/* The same large call twice gives bitwise the same C. */
static void check_repeat(int isa) {
    const int m = 70, n = 300, k = 600;
    float *a = rand_buf((size_t)m * k), *b = rand_buf((size_t)k * n);
    float *c1 = xmalloc((size_t)m * n * sizeof(float));
    float *c2 = xmalloc((size_t)m * n * sizeof(float));
    sgemm_own(isa, 0, 0, m, n, k, 1.0f, a, k, b, n, 0.0f, c1, n);
    sgemm_own(isa, 0, 0, m, n, k, 1.0f, a, k, b, n, 0.0f, c2, n);
    CHECK(bitwise_equal(c1, c2, (size_t)m * n), "isa %d: repeated call bitwise equal", isa);
    free(a);
    free(b);
    free(c1);
    free(c2);
}

/* gemm() (threads split C) gives bitwise the same C on 1, 2 and 3 threads; n = 40
 * leaves 3 threads a slice of 8 columns. */
static void check_threads(int ta, int tb, int m, int n, int k) {
    float *a = rand_buf((size_t)m * k), *b = rand_buf((size_t)k * n);
    float *c[3];
    for (int t = 0; t < 3; t++) {
        c[t] = xmalloc((size_t)m * n * sizeof(float));
        omp_set_num_threads(t + 1);
        gemm(ta, tb, m, n, k, 1.0f, a, ta ? m : k, b, tb ? k : n, 0.0f, c[t], n);
    }
    CHECK(bitwise_equal(c[0], c[1], (size_t)m * n) && bitwise_equal(c[0], c[2], (size_t)m * n),
          "gemm %dx%dx%d ta %d tb %d: same on 1, 2, 3 threads", m, n, k, ta, tb);
    for (int t = 0; t < 3; t++) free(c[t]);
    free(a);
    free(b);
}

/* gemm_prepacked on op(A) packed by gemm_pack_a gives bitwise what gemm_prec gives
 * (the same kernel and sums), with ldb and ldc wider than n; 0 bytes (no own kernel
 * for this precision at this level, or k < 16 in fp32) only where expected. */
static void check_prepacked(int prec, int ta, int m, int n, int k) {
    const size_t bytes = gemm_pack_a_bytes(prec, m, k);
    const int own = prec == PREC_BF16 ? kernels_level() >= KERN_AVX512BF16
                                      : kernels_level() >= KERN_AVX512 && k >= 16;
    CHECK((bytes > 0) == own, "gemm_pack_a_bytes %s %dx%d: %zu bytes", precision_name(prec), m, k,
          bytes);
    if (!bytes) return;
    const int lda = ta ? m : k, ld = n + 5;
    float *a = rand_buf((size_t)m * k), *b = rand_buf((size_t)k * ld);
    float *c1 = rand_buf((size_t)m * ld), *c2 = xmalloc((size_t)m * ld * sizeof(float));
    memcpy(c2, c1, (size_t)m * ld * sizeof(float));
    void *pa = xmalloc(bytes);
    gemm_pack_a(prec, ta, m, k, a, lda, pa);
    gemm_prepacked(prec, m, n, k, pa, b, ld, c1, ld);
    gemm_prec(prec, ta, 0, m, n, k, 1.0f, a, lda, b, ld, 0.0f, c2, ld);
    CHECK(bitwise_equal(c1, c2, (size_t)m * ld), "gemm_prepacked %s ta %d %dx%dx%d = gemm_prec",
          precision_name(prec), ta, m, n, k);
    /* B as the fp32 panels [n/nr][k][nr] (winograd.c's V): one depth block (k <= 256,
     * the kernels' KC) */
    const int nr = gemm_b_panel(prec, k);
    CHECK((nr > 0) == (k <= 256), "gemm_b_panel %s k %d: %d", precision_name(prec), k, nr);
    if (nr > 0) {
        const size_t panels = (size_t)(n + nr - 1) / nr;
        float *pb = aligned_alloc(64, panels * k * nr * sizeof(float));
        for (size_t q = 0; q < panels * k * nr; q++) pb[q] = NAN; /* past n: not read into C */
        for (int j = 0; j < n; j++)
            for (int p = 0; p < k; p++)
                pb[((size_t)(j / nr) * k + p) * nr + j % nr] = b[(size_t)p * ld + j];
        float *c3 = xmalloc((size_t)m * ld * sizeof(float));
        memcpy(c3, c1, (size_t)m * ld * sizeof(float));
        for (int i = 0; i < m; i++) memset(c3 + (size_t)i * ld, 0xff, (size_t)n * sizeof(float));
        gemm_prepacked_b(prec, m, n, k, pa, pb, c3, ld);
        CHECK(bitwise_equal(c3, c2, (size_t)m * ld),
              "gemm_prepacked_b %s ta %d %dx%dx%d = gemm_prec", precision_name(prec), ta, m, n, k);
        free(pb), free(c3);
    }
    free(a), free(b), free(c1), free(c2), free(pa);
}

int main(void) {
    rng_seed(&rng, 7);
    openblas_set_num_threads(1);
    /* the fp32 kernels of the level in use (LIR_KERNELS may cap it) */
    const int best = kernels_level() < KERN_AVX512 ? kernels_level() : KERN_AVX512;
    if (best < KERN_AVX2)
        fprintf(stderr, "note: sgemm_own not checked: kernels level %s has no own kernel; "
                        "gemm() (OpenBLAS) still is\n",
                kernels_level_name(kernels_level()));
    static const int primes[] = {1, 2, 3, 5, 7, 13, 31, 37, 257, 263};
    for (int isa = KERN_AVX2; isa <= best; isa++) {
        check_k0(isa);
        check_repeat(isa);
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                /* edge sizes: every m and n in 1..33 against a few k */
                for (int m = 1; m <= 33; m++)
                    for (int n = 1; n <= 33; n += (m % 3) + 1)
                        check_case(isa, ta, tb, m, n, primes[(m + n) % 10], 1.0f,
                                   (m + n) % 2 ? 1.0f : 0.0f, (m * n) % 3);
                for (int i = 0; i < 10; i++)
                    check_case(isa, ta, tb, 1 + i * 7, 40 - i, primes[i], 0.7f, 0.5f, 1);
                /* beyond one block in every direction: m > MC, n > NC, k > KC */
                check_case(isa, ta, tb, 131, 2085, 263, 1.0f, 0.0f, 3);
            }
        /* convolution shapes: forward, dW (B transposed), dX (A transposed) */
        check_case(isa, 0, 0, 64, 300, 27, 1.0f, 0.0f, 0);
        check_case(isa, 0, 0, 64, 196, 576, 1.0f, 0.0f, 0);
        check_case(isa, 0, 0, 128, 64, 1152, 1.0f, 0.0f, 0);
        check_case(isa, 0, 0, 512, 16, 4608, 1.0f, 0.0f, 0);
        check_case(isa, 0, 1, 64, 576, 196, 1.0f, 1.0f, 0);
        check_case(isa, 0, 1, 128, 1152, 64, 1.0f, 0.0f, 0);
        check_case(isa, 1, 0, 576, 196, 64, 1.0f, 0.0f, 0);
        check_case(isa, 1, 0, 2304, 32, 256, 1.0f, 0.0f, 0);
    }
    /* packed A: edges of MR, m > MC, several depth blocks (k > KC), odd k (bf16 pairs),
     * one and two threads */
    for (int prec = PREC_FP32; prec <= PREC_BF16; prec++)
        for (int ta = 0; ta < 2; ta++) {
            check_prepacked(prec, ta, 13, 40, 37);
            check_prepacked(prec, ta, 64, 64, 64);
            check_prepacked(prec, ta, 131, 97, 263);
            check_prepacked(prec, ta, 512, 300, 520);
            check_prepacked(prec, ta, 8, 33, 7);
            check_prepacked(prec, ta, 64, 980, 64); /* two threads' slices of whole panels */
        }
    const int threads = omp_get_max_threads();
    check_threads(0, 0, 70, 40, 1000);
    check_threads(0, 1, 64, 600, 300);
    check_threads(1, 0, 600, 64, 300);
    omp_set_num_threads(threads);
    return check_done("test_gemm_kernel");
}
