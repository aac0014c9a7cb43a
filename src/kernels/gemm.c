/* gemm.c: the one GEMM interface: row-major sgemm, split between the OpenMP
 * threads, on our own kernel (sgemm.c) or OpenBLAS (this is the only file that
 * calls it). */
#include "kernels.h"

#include <cblas.h>
#include <omp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>

size_t gemm_workspace_limit = (size_t)2 << 20;

/* Threads: OpenBLAS runs single-threaded and gemm splits C between the OpenMP
 * threads itself, so one thread pool (OpenMP's) serves every kernel; two pools
 * spinning against each other on two cores cost more than they gain. */
static pthread_once_t setup_once = PTHREAD_ONCE_INIT;
static int own_isa;            /* sgemm_best_isa(), set by the first gemm */
static char kernels_name[128]; /* what gemm_kernels() says */
static void gemm_setup(void) {
    openblas_set_num_threads(1);
    own_isa = sgemm_best_isa();
    snprintf(kernels_name, sizeof(kernels_name), "%s%s",
             own_isa == SGEMM_AVX512 ? "lir AVX-512, OpenBLAS " : "", openblas_get_corename());
}

const char *gemm_kernels(void) {
    pthread_once(&setup_once, gemm_setup);
    return kernels_name;
}

/* Our own AVX-512 SGEMM where the CPU has it: on the convolution shapes it ran
 * 1.3-2.0x faster than OpenBLAS with the environment's Haswell kernels (one
 * thread, bench/bench_gemm.c). Our AVX2 kernel ran at 0.7-1.0x of OpenBLAS there,
 * so without AVX-512 OpenBLAS stays; also for k under 16, where ours measured
 * 0.8-0.9x of OpenBLAS. The choice depends on k only, not on n: a convolution's
 * forward GEMM has n = images of its chunk x positions, which changes with the
 * thread count, and its results must not. */
static int use_own(int k) { return own_isa == SGEMM_AVX512 && k >= 16; }

/* own: decided once per gemm from its whole shape, so that every slice of C takes
 * the same kernel and the result does not depend on the number of threads. */
static void sgemm_one(int own, int trans_a, int trans_b, int m, int n, int k, float alpha,
                      const float *a, int lda, const float *b, int ldb, float beta, float *c,
                      int ldc) {
    if (own) {
        sgemm_own(own_isa, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void gemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
          const float *b, int ldb, float beta, float *c, int ldc) {
    pthread_once(&setup_once, gemm_setup);
    const int nt = omp_in_parallel() ? 1 : omp_get_max_threads();
    const int own = use_own(k);
    if (nt == 1 || (double)m * n * k < 2e6) {
        sgemm_one(own, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    /* Split the longer side of C into nt slices (multiples of 16 floats). */
    const int split_n = n >= m;
    const int len = split_n ? n : m;
    const int step = ((len + nt - 1) / nt + 15) / 16 * 16;
#pragma omp parallel num_threads(nt)
    {
        const int lo = omp_get_thread_num() * step;
        const int hi = lo + step < len ? lo + step : len;
        if (lo < hi) {
            if (split_n)
                sgemm_one(own, trans_a, trans_b, m, hi - lo, k, alpha, a, lda,
                          trans_b ? b + (size_t)lo * ldb : b + lo, ldb, beta, c + lo, ldc);
            else
                sgemm_one(own, trans_a, trans_b, hi - lo, n, k, alpha,
                          trans_a ? a + lo : a + (size_t)lo * lda, lda, b, ldb, beta,
                          c + (size_t)lo * ldc, ldc);
        }
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

int gemm_packed(int m, int n, int k, const float *a, int lda, sgemm_pack_fn pack, const void *ctx,
                float *c, int ldc) {
    pthread_once(&setup_once, gemm_setup);
    if (!use_own(k)) return 0;
    const int nt = omp_in_parallel() ? 1 : omp_get_max_threads();
    if (nt == 1 || (double)m * n * k < 2e6) {
        sgemm_own_packed(own_isa, 0, m, n, k, 1.0f, a, lda, pack, ctx, 0.0f, c, ldc);
        return 1;
    }
    const int step = ((n + nt - 1) / nt + 15) / 16 * 16;
#pragma omp parallel num_threads(nt)
    {
        const int lo = omp_get_thread_num() * step;
        const int hi = lo + step < n ? lo + step : n;
        const packed_slice q = {pack, ctx, lo};
        if (lo < hi)
            sgemm_own_packed(own_isa, 0, m, hi - lo, k, 1.0f, a, lda, slice_pack, &q, 0.0f,
                             c + lo, ldc);
    }
    return 1;
}
