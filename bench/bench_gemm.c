/* bench_gemm.c: GFLOP/s of lir's own SGEMM (sgemm_own) against OpenBLAS's
 * cblas_sgemm (with the kernels the environment picks), both on one thread, on
 * the convolution GEMM shapes of the two ResNet-18s (not a test). Build and run
 * from the repository root:
 *   make && cc -O3 -march=native -fopenmp -Isrc bench/bench_gemm.c build/liblir.a \
 *      -lopenblas -lm -o build/bench_gemm && ./build/bench_gemm [seconds per shape]
 * Shapes: forward C[filters][chunk*oh*ow] = W[filters][c*k*k] * col; backward
 * dW = g * col^T (B transposed) and dcol = W^T * g (A transposed). The chunk
 * sizes are those of the default 2M-float workspace; then a few small GEMMs. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>

#include "kernels/kernels.h"

typedef struct {
    const char *what;
    int ta, tb, m, n, k;
} shape;

static const shape shapes[] = {
    {"fwd cifar stem 3x3 c3", 0, 0, 64, 8192, 27},
    {"fwd imagenet stem 7x7 c3", 0, 0, 64, 4096, 147},
    {"fwd 64 32x32", 0, 0, 64, 3072, 576},
    {"fwd 128 16x16 /2", 0, 0, 128, 3584, 576},
    {"fwd 128 16x16", 0, 0, 128, 1792, 1152},
    {"fwd 256 8x8", 0, 0, 256, 896, 2304},
    {"fwd 512 4x4", 0, 0, 512, 448, 4608},
    {"fwd 512 1x1 centre tap", 0, 0, 512, 256, 512},
    {"dW 64 32x32", 0, 1, 64, 576, 3072},
    {"dW 128 16x16", 0, 1, 128, 1152, 1792},
    {"dW 256 8x8", 0, 1, 256, 2304, 896},
    {"dW 512 4x4", 0, 1, 512, 4608, 448},
    {"dX 64 32x32", 1, 0, 576, 3072, 64},
    {"dX 128 16x16", 1, 0, 1152, 1792, 128},
    {"dX 256 8x8", 1, 0, 2304, 896, 256},
    {"dX 512 4x4", 1, 0, 4608, 448, 512},
    /* small: per-position class GEMMs of tiny maps, the fully connected layer */
    {"fwd 512 2x2 one class", 0, 0, 512, 64, 2304},
    {"fwd 256 2x2 one class", 0, 0, 256, 32, 1152},
    {"dW 512 2x2 one class", 0, 1, 512, 2304, 64},
    {"dX 512 2x2 one class", 1, 0, 2304, 64, 512},
    {"fc fwd 512->10", 0, 1, 128, 10, 512},
    {"fc dW", 1, 0, 10, 512, 128},
    {"fc dX", 0, 0, 128, 512, 10},
};

static float *random_floats(size_t n) {
    float *p = xmalloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) p[i] = (float)rand() / RAND_MAX - 0.5f;
    return p;
}

/* isa SGEMM_NONE: OpenBLAS. Returns GFLOP/s over at least `secs` seconds. */
static double rate(int isa, const shape *s, const float *a, const float *b, float *c, double secs) {
    const int lda = s->ta ? s->m : s->k, ldb = s->tb ? s->k : s->n;
    int reps = 0;
    const double t0 = now_seconds();
    double t;
    do {
        if (isa == SGEMM_NONE)
            cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans,
                        s->tb ? CblasTrans : CblasNoTrans, s->m, s->n, s->k, 1.0f, a, lda, b,
                        ldb, 0.0f, c, s->n);
        else
            sgemm_own(isa, s->ta, s->tb, s->m, s->n, s->k, 1.0f, a, lda, b, ldb, 0.0f, c, s->n);
        reps++;
        t = now_seconds() - t0;
    } while (t < secs);
    return 2.0 * s->m * s->n * s->k * reps / t * 1e-9;
}

int main(int argc, char **argv) {
    const double secs = argc > 1 ? atof(argv[1]) : 0.3;
    openblas_set_num_threads(1);
    const int best = sgemm_best_isa();
    printf("gemm(): %s; sgemm_own best: %s; one thread\n", gemm_kernels(),
           best == SGEMM_AVX512 ? "AVX-512" : best == SGEMM_AVX2 ? "AVX2" : "none");
    printf("%-26s %5s %5s %5s  %8s %8s %8s %6s\n", "shape", "M", "N", "K", "BLAS", "AVX2",
           "AVX512", "best/BLAS");
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        const shape *s = &shapes[i];
        float *a = random_floats((size_t)s->m * s->k), *b = random_floats((size_t)s->k * s->n);
        float *c = random_floats((size_t)s->m * s->n);
        const double blas = rate(SGEMM_NONE, s, a, b, c, secs);
        const double avx2 = best >= SGEMM_AVX2 ? rate(SGEMM_AVX2, s, a, b, c, secs) : 0;
        const double avx512 = best >= SGEMM_AVX512 ? rate(SGEMM_AVX512, s, a, b, c, secs) : 0;
        printf("%-26s %5d %5d %5d  %8.1f %8.1f %8.1f %6.2fx\n", s->what, s->m, s->n, s->k, blas,
               avx2, avx512, (avx512 > avx2 ? avx512 : avx2) / blas);
        free(a);
        free(b);
        free(c);
    }
    return 0;
}
