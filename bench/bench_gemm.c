/* bench_gemm.c: GFLOP/s of lir's own SGEMM (sgemm_own: AVX2 and AVX-512) and bf16
 * GEMM (sbgemm_own, vdpbf16ps) against OpenBLAS's cblas_sgemm (with the kernels
 * the environment picks), all on one thread, on the convolution GEMM shapes of the
 * two ResNet-18s, and the best of them as a fraction of this core's peak
 * (bench/peak.h, measured first) (not a test). Build and run from the repository
 * root:  make bench && build/bench/bench_gemm [seconds per kernel [shape filter]]
 * e.g. `build/bench/bench_gemm 0.5 "64 32x32"` for the three GEMMs of one layer.
 * Each figure is from the fastest call in `seconds` of calls: on a machine shared
 * with other jobs that is the one least disturbed, as in bench/peak.c.
 * Shapes: forward C[filters][chunk*oh*ow] = W[filters][c*k*k] * col; backward
 * dW = g * col^T (B transposed) and dcol = W^T * g (A transposed). The chunk
 * sizes are those of the default 2M-float workspace; then a few small GEMMs. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "peak.h"

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

enum { RUN_BLAS, RUN_AVX2, RUN_AVX512, RUN_BF16 };

static void run_once(int which, const shape *s, const float *a, const float *b, float *c) {
    const int lda = s->ta ? s->m : s->k, ldb = s->tb ? s->k : s->n;
    if (which == RUN_BLAS)
        cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans,
                    s->tb ? CblasTrans : CblasNoTrans, s->m, s->n, s->k, 1.0f, a, lda, b, ldb,
                    0.0f, c, s->n);
    else if (which == RUN_BF16)
        sbgemm_own(s->ta, s->tb, s->m, s->n, s->k, 1.0f, a, lda, b, ldb, 0.0f, c, s->n);
    else
        sgemm_own(which == RUN_AVX2 ? KERN_AVX2 : KERN_AVX512, s->ta, s->tb, s->m, s->n, s->k,
                  1.0f, a, lda, b, ldb, 0.0f, c, s->n);
}

/* GFLOP/s of the fastest call within `secs` seconds of calls. */
static double rate(int which, const shape *s, const float *a, const float *b, float *c,
                   double secs) {
    double best = 1e30;
    const double t0 = now_seconds();
    do {
        const double t1 = now_seconds();
        run_once(which, s, a, b, c);
        const double t = now_seconds() - t1;
        if (t < best) best = t;
    } while (now_seconds() - t0 < secs);
    return 2.0 * s->m * s->n * s->k / best * 1e-9;
}

int main(int argc, char **argv) {
    const double secs = argc > 1 ? atof(argv[1]) : 0.3;
    const char *only = argc > 2 ? argv[2] : NULL;
    openblas_set_num_threads(1);
    const int best = kernels_level();
    const double peak32 = best >= KERN_AVX512 ? peak_rate(peak_fma512, 1, 200, 2e-3) : 0;
    const double peak16 = best >= KERN_AVX512BF16 ? peak_rate(peak_dpbf16, 1, 200, 2e-3) : 0;
    printf("gemm(): %s; kernels level %s; one thread; peak per core: fp32 FMA %.1f, bf16 "
           "dot %.1f GFLOP/s\n",
           gemm_kernels(), kernels_level_name(best), peak32, peak16);
    printf("%-26s %5s %5s %5s  %8s %8s %8s %8s %9s %6s %6s\n", "shape", "M", "N", "K", "BLAS",
           "AVX2", "AVX512", "BF16", "best/BLAS", "%fp32", "%bf16");
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        const shape *s = &shapes[i];
        if (only && !strstr(s->what, only)) continue;
        float *a = random_floats((size_t)s->m * s->k), *b = random_floats((size_t)s->k * s->n);
        float *c = random_floats((size_t)s->m * s->n);
        const double blas = rate(RUN_BLAS, s, a, b, c, secs);
        const double avx2 = best >= KERN_AVX2 ? rate(RUN_AVX2, s, a, b, c, secs) : 0;
        const double avx512 = best >= KERN_AVX512 ? rate(RUN_AVX512, s, a, b, c, secs) : 0;
        const double bf = best >= KERN_AVX512BF16 ? rate(RUN_BF16, s, a, b, c, secs) : 0;
        const double own = avx512 > avx2 ? avx512 : avx2;
        printf("%-26s %5d %5d %5d  %8.1f %8.1f %8.1f %8.1f %8.2fx %5.0f%% %5.0f%%\n", s->what,
               s->m, s->n, s->k, blas, avx2, avx512, bf, own / blas,
               peak32 > 0 ? 100 * avx512 / peak32 : 0, peak16 > 0 ? 100 * bf / peak16 : 0);
        free(a);
        free(b);
        free(c);
    }
    return 0;
}
