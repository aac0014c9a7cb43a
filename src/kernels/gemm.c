/* gemm.c: the one GEMM interface: row-major sgemm in fp32 or bf16, split between
 * the OpenMP threads, on our own kernels (sgemm.c, sbgemm.c) or OpenBLAS (this is
 * the only file that calls it). */
#include "kernels.h"

#include <cblas.h>
#include <omp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

size_t gemm_workspace_limit = (size_t)2 << 20;

/* Threads: OpenBLAS runs single-threaded and gemm splits C between the OpenMP
 * threads itself, so one thread pool (OpenMP's) serves every kernel; two pools
 * spinning against each other on two cores cost more than they gain. */
static pthread_once_t setup_once = PTHREAD_ONCE_INIT;
static int level;              /* kernels_level(), set by the first gemm */
static char kernels_name[160]; /* what gemm_kernels() says */
static void gemm_setup(void) {
    openblas_set_num_threads(1);
    level = kernels_level();
    snprintf(kernels_name, sizeof(kernels_name), "fp32 %sOpenBLAS %s, bf16 %s",
             level >= KERN_AVX512 ? "lir AVX-512 (k >= 16) + " : "", openblas_get_corename(),
             level >= KERN_AVX512BF16 ? "lir AVX512-BF16" : "emulated (rounded inputs, fp32 GEMM)");
}

const char *gemm_kernels(void) {
    pthread_once(&setup_once, gemm_setup);
    return kernels_name;
}

const char *gemm_blas_core(void) { return openblas_get_corename(); }

/* Who computes one GEMM. fp32: our own AVX-512 SGEMM where the CPU has it: on the
 * convolution shapes it ran 1.3-2.0x faster than OpenBLAS with the environment's
 * Haswell kernels (one thread, bench/bench_gemm.c). Our AVX2 kernel ran at 0.7-1.0x
 * of OpenBLAS there, so without AVX-512 OpenBLAS stays; also for k under 16, where
 * ours measured 0.8-0.9x of OpenBLAS. The choice depends on k only, not on n: a
 * convolution's forward GEMM has n = images of its chunk x positions, which
 * changes with the thread count, and its results must not. bf16: our AVX512-BF16
 * kernel for every shape (callers emulate bf16 below that level). */
enum { PATH_BLAS, PATH_OWN, PATH_BF16 };
enum { BLAS_SLICE = 128 }; /* gemm_prec's slices of C on OpenBLAS, in rows or columns */
static int path_for(int prec, int k) {
    if (prec == PREC_BF16) return PATH_BF16;
    return level >= KERN_AVX512 && k >= 16 ? PATH_OWN : PATH_BLAS;
}

int gemm_place_exact(int prec, int k) {
    pthread_once(&setup_once, gemm_setup);
    if (prec == PREC_BF16 && level < KERN_AVX512BF16) prec = PREC_FP32; /* emulated */
    return path_for(prec, k) != PATH_BLAS;
}

/* path: decided once per gemm from its whole shape, so that every slice of C takes
 * the same kernel and the result does not depend on the number of threads. */
static void sgemm_one(int path, int trans_a, int trans_b, int m, int n, int k, float alpha,
                      const float *a, int lda, const float *b, int ldb, float beta, float *c,
                      int ldc) {
    if (path == PATH_OWN) {
        sgemm_own(KERN_AVX512, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    if (path == PATH_BF16) {
        sbgemm_own(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

/* bf16 below level avx512bf16: the fp32 GEMM on copies of A and B rounded to bf16. */
static void gemm_bf16_emulated(int trans_a, int trans_b, int m, int n, int k, float alpha,
                               const float *a, int lda, const float *b, int ldb, float beta,
                               float *c, int ldc) {
    const int ar = trans_a ? k : m, ac = trans_a ? m : k;
    const int br = trans_b ? n : k, bc = trans_b ? k : n;
    float *ra = xmalloc((size_t)ar * ac * sizeof(float));
    float *rb = xmalloc((size_t)br * bc * sizeof(float));
    bf16_round_matrix(a, ar, ac, lda, ra);
    bf16_round_matrix(b, br, bc, ldb, rb);
    gemm_prec(PREC_FP32, trans_a, trans_b, m, n, k, alpha, ra, ac, rb, bc, beta, c, ldc);
    free(ra);
    free(rb);
}

void gemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
          const float *b, int ldb, float beta, float *c, int ldc) {
    gemm_prec(PREC_FP32, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void gemm_prec(int prec, int trans_a, int trans_b, int m, int n, int k, float alpha,
               const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc) {
    pthread_once(&setup_once, gemm_setup);
    if (prec == PREC_BF16 && level < KERN_AVX512BF16 && m > 0 && n > 0 && k > 0) {
        gemm_bf16_emulated(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    const int nt = omp_in_parallel() ? 1 : omp_get_max_threads();
    const int path = path_for(prec, k);
    if ((double)m * n * k < 2e6 || (nt == 1 && path != PATH_BLAS)) {
        sgemm_one(path, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    /* Split the longer side of C into slices (multiples of 16 floats). Our kernels
     * give an element of C the same bits in any slice, so one slice per thread.
     * OpenBLAS's may not: with its Cooperlake and SkylakeX kernels (AMD Zen 4,
     * 2026-12-02) a 70 x 40 x 1000 product changed bits between 1, 2 and 3 threads
     * (tests/test_gemm_kernel.c), so its slices have a fixed width, whatever nt. */
    const int split_n = n >= m;
    const int len = split_n ? n : m;
    const int step = path == PATH_BLAS ? BLAS_SLICE : ((len + nt - 1) / nt + 15) / 16 * 16;
    const int slices = (len + step - 1) / step;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int sl = 0; sl < slices; sl++) {
        const int lo = sl * step;
        const int hi = lo + step < len ? lo + step : len;
        if (split_n)
            sgemm_one(path, trans_a, trans_b, m, hi - lo, k, alpha, a, lda,
                      trans_b ? b + (size_t)lo * ldb : b + lo, ldb, beta, c + lo, ldc);
        else
            sgemm_one(path, trans_a, trans_b, hi - lo, n, k, alpha,
                      trans_a ? a + lo : a + (size_t)lo * lda, lda, b, ldb, beta,
                      c + (size_t)lo * ldc, ldc);
    }
}

/* A slice of a packed operand: columns from j_off on. */
typedef struct {
    sgemm_pack_fn pack;
    const void *ctx;
    int j_off;
} packed_slice;

static void slice_pack(const void *ctx, int p0, int j0, int kc, int nc, int nr, float *dst) {
    const packed_slice *q = ctx;
    q->pack(q->ctx, p0, q->j_off + j0, kc, nc, nr, dst);
}

static void own_packed(int path, int m, int n, int k, const float *a, int lda, sgemm_pack_fn pack,
                       const void *ctx, float *c, int ldc) {
    if (path == PATH_BF16)
        sbgemm_own_packed(0, m, n, k, 1.0f, a, lda, pack, ctx, 0.0f, c, ldc);
    else
        sgemm_own_packed(KERN_AVX512, 0, m, n, k, 1.0f, a, lda, pack, ctx, 0.0f, c, ldc);
}

int gemm_packed(int m, int n, int k, const float *a, int lda, sgemm_pack_fn pack, const void *ctx,
                float *c, int ldc) {
    return gemm_packed_prec(PREC_FP32, m, n, k, a, lda, pack, ctx, c, ldc);
}

int gemm_packed_prec(int prec, int m, int n, int k, const float *a, int lda, sgemm_pack_fn pack,
                     const void *ctx, float *c, int ldc) {
    pthread_once(&setup_once, gemm_setup);
    const int path = path_for(prec, k);
    if (path == PATH_BLAS || (path == PATH_BF16 && level < KERN_AVX512BF16)) return 0;
    const int nt = omp_in_parallel() ? 1 : omp_get_max_threads();
    if (nt == 1 || (double)m * n * k < 2e6) {
        own_packed(path, m, n, k, a, lda, pack, ctx, c, ldc);
        return 1;
    }
    const int step = ((n + nt - 1) / nt + 15) / 16 * 16;
#pragma omp parallel num_threads(nt)
    {
        const int lo = omp_get_thread_num() * step;
        const int hi = lo + step < n ? lo + step : n;
        const packed_slice q = {pack, ctx, lo};
        if (lo < hi) own_packed(path, m, hi - lo, k, a, lda, slice_pack, &q, c + lo, ldc);
    }
    return 1;
}

size_t gemm_pack_a_bytes(int prec, int m, int k) {
    pthread_once(&setup_once, gemm_setup);
    const int path = path_for(prec, k);
    if (path == PATH_BLAS || (path == PATH_BF16 && level < KERN_AVX512BF16) || m < 1 || k < 1)
        return 0;
    return sgemm_own_packed_a_bytes(path == PATH_BF16, m, k);
}

void gemm_pack_a(int prec, int trans_a, int m, int k, const float *a, int lda, void *pa) {
    sgemm_own_pack_a(path_for(prec, k) == PATH_BF16, trans_a, m, k, a, lda, pa);
}

/* gemm_prepacked and gemm_prepacked_b: C cut between the threads in slices of whole
 * `unit` columns (the panels of pb). */
static void prepacked_split(int bf, int m, int n, int k, const void *pa, const float *b,
                            int ldb, const float *pb, int unit, float *c, int ldc) {
    const int nt = omp_in_parallel() ? 1 : omp_get_max_threads();
    if (nt == 1 || (double)m * n * k < 2e6) {
        sgemm_own_prepacked(bf, m, n, k, pa, b, ldb, pb, c, ldc);
        return;
    }
    const int step = ((n + nt - 1) / nt + unit - 1) / unit * unit;
#pragma omp parallel num_threads(nt)
    {
        const int lo = omp_get_thread_num() * step;
        const int hi = lo + step < n ? lo + step : n;
        if (lo < hi)
            sgemm_own_prepacked(bf, m, hi - lo, k, pa, b ? b + lo : NULL, ldb,
                                pb ? pb + (size_t)lo * k : NULL, c + lo, ldc);
    }
}

void gemm_prepacked(int prec, int m, int n, int k, const void *pa, const float *b, int ldb,
                    float *c, int ldc) {
    prepacked_split(path_for(prec, k) == PATH_BF16, m, n, k, pa, b, ldb, NULL, 16, c, ldc);
}

int gemm_b_panel(int prec, int k) {
    return gemm_pack_a_bytes(prec, 1, k) ? sgemm_own_b_panel(path_for(prec, k) == PATH_BF16, k)
                                          : 0;
}

void gemm_prepacked_b(int prec, int m, int n, int k, const void *pa, const float *pb, float *c,
                      int ldc) {
    prepacked_split(path_for(prec, k) == PATH_BF16, m, n, k, pa, NULL, 0, pb,
                    gemm_b_panel(prec, k), c, ldc);
}
