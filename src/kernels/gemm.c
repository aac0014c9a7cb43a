/* gemm.c: row-major sgemm in fp32 or bf16, split between the OpenMP threads, on our
 * own kernels (sgemm.c, sbgemm.c) or OpenBLAS (this is the only file that calls it),
 * and the batched im2col / col2im used by the convolution layer. */
#include "kernels.h"

#include <cblas.h>
#include <omp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


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
static int path_for(int prec, int k) {
    if (prec == PREC_BF16) return PATH_BF16;
    return level >= KERN_AVX512 && k >= 16 ? PATH_OWN : PATH_BLAS;
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
    if (nt == 1 || (double)m * n * k < 2e6) {
        sgemm_one(path, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
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
                sgemm_one(path, trans_a, trans_b, m, hi - lo, k, alpha, a, lda,
                          trans_b ? b + (size_t)lo * ldb : b + lo, ldb, beta, c + lo, ldc);
            else
                sgemm_one(path, trans_a, trans_b, hi - lo, n, k, alpha,
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

/* Valid output range [lo, hi) of one axis for kernel offset k: the outputs o with
 * 0 <= o*stride - pad + k < len. */
static void valid_range(int k, int stride, int pad, int len, int on, int *lo, int *hi) {
    int first = pad - k; /* o*stride >= first */
    int l = first <= 0 ? 0 : (first + stride - 1) / stride;
    int last = len - 1 + pad - k; /* o*stride <= last */
    int h = last < 0 ? 0 : last / stride + 1;
    if (h > on) h = on;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

int conv_active_taps(int h, int w, int size, int stride, int pad, int oh, int ow, int *taps) {
    int count = 0;
    for (int ky = 0; ky < size; ky++) {
        int ylo, yhi;
        valid_range(ky, stride, pad, h, oh, &ylo, &yhi);
        for (int kx = 0; kx < size; kx++) {
            int xlo, xhi;
            valid_range(kx, stride, pad, w, ow, &xlo, &xhi);
            if (ylo < yhi && xlo < xhi) {
                if (taps) taps[count] = ky * size + kx;
                count++;
            }
        }
    }
    return count;
}

/* Stride 1 with the output the size of the input ("same" padding): the tap reads
 * pixel i + dy*w + dx for output pixel i, so the valid block is one flat copy;
 * the columns outside [xlo, xhi), which that copy fills with pixels of the
 * neighbouring row, and the rows outside [ylo, yhi) are zeroed after it. Much
 * faster than row by row on small maps. planes: nb planes `step` floats apart. */
static void im2col_same(const float *planes, size_t step, int nb, int h, int w, int dy, int dx,
                        int ylo, int yhi, int xlo, int xhi, float *dst) {
    const size_t S = (size_t)h * w;
    const size_t first = (size_t)ylo * w + xlo, len = (size_t)(yhi - 1 - ylo) * w + xhi - xlo;
    const ptrdiff_t shift = (ptrdiff_t)dy * w + dx;
    for (int b = 0; b < nb; b++) {
        const float *src = planes + b * step;
        float *d = dst + b * S;
        memset(d, 0, first * sizeof(float));
        memcpy(d + first, src + first + shift, len * sizeof(float));
        memset(d + first + len, 0, (S - first - len) * sizeof(float));
        for (int oy = ylo; oy < yhi; oy++) {
            for (int ox = 0; ox < xlo; ox++) d[(size_t)oy * w + ox] = 0;
            for (int ox = xhi; ox < w; ox++) d[(size_t)oy * w + ox] = 0;
        }
    }
}

/* The adjoint of im2col_same. Zeroes the col entries outside the valid columns
 * first (col is scratch the caller gives up), so that one flat add is exact. */
static void col2im_same(float *col, int nb, int h, int w, int dy, int dx, int ylo, int yhi,
                        int xlo, int xhi, float *planes, size_t step) {
    const size_t S = (size_t)h * w;
    const size_t first = (size_t)ylo * w + xlo, len = (size_t)(yhi - 1 - ylo) * w + xhi - xlo;
    const ptrdiff_t shift = (ptrdiff_t)dy * w + dx;
    for (int b = 0; b < nb; b++) {
        float *s = col + b * S, *d = planes + b * step + first + shift;
        for (int oy = ylo; oy < yhi; oy++) {
            for (int ox = 0; ox < xlo; ox++) s[(size_t)oy * w + ox] = 0;
            for (int ox = xhi; ox < w; ox++) s[(size_t)oy * w + ox] = 0;
        }
        s += first;
        for (size_t i = 0; i < len; i++) d[i] += s[i];
    }
}

void im2col_batch(const float *in, int nb, int c, int h, int w, int size, int stride, int pad,
                  int oh, int ow, const int *taps, int ntaps, float *col) {
    const int rows = c * ntaps;
    const size_t ncol = (size_t)nb * oh * ow;
#pragma omp parallel for schedule(static) if (rows * ncol > 32768)
    for (int r = 0; r < rows; r++) {
        const int ch = r / ntaps, kx = taps[r % ntaps] % size, ky = taps[r % ntaps] / size;
        int ylo, yhi, xlo, xhi;
        valid_range(ky, stride, pad, h, oh, &ylo, &yhi);
        valid_range(kx, stride, pad, w, ow, &xlo, &xhi);
        float *dst = col + (size_t)r * ncol;
        if (stride == 1 && oh == h && ow == w && ylo < yhi && xlo < xhi) {
            im2col_same(in + (size_t)ch * h * w, (size_t)c * h * w, nb, h, w, ky - pad, kx - pad,
                        ylo, yhi, xlo, xhi, dst);
            continue;
        }
        for (int b = 0; b < nb; b++) {
            const float *src = in + ((size_t)b * c + ch) * h * w;
            float *d = dst + (size_t)b * oh * ow;
            for (int oy = 0; oy < oh; oy++) {
                float *drow = d + (size_t)oy * ow;
                if (oy < ylo || oy >= yhi) {
                    memset(drow, 0, sizeof(float) * ow);
                    continue;
                }
                /* row start of the input, may lie left of the image: index from it
                 * only with ox >= xlo */
                const ptrdiff_t base = (ptrdiff_t)(oy * stride - pad + ky) * w - pad + kx;
                for (int ox = 0; ox < xlo; ox++) drow[ox] = 0;
                if (stride == 1) {
                    for (int ox = xlo; ox < xhi; ox++) drow[ox] = src[base + ox];
                } else {
                    for (int ox = xlo; ox < xhi; ox++) drow[ox] = src[base + ox * stride];
                }
                for (int ox = xhi; ox < ow; ox++) drow[ox] = 0;
            }
        }
    }
}

void col2im_batch_add(float *col, int nb, int c, int h, int w, int size, int stride, int pad,
                      int oh, int ow, const int *taps, int ntaps, float *din) {
    const size_t ncol = (size_t)nb * oh * ow;
    if (stride == 1 && oh == h && ow == w) {
        /* one thread per channel: a channel's rows write only its planes */
#pragma omp parallel for schedule(static) if (ncol * c * ntaps > 32768)
        for (int ch = 0; ch < c; ch++)
            for (int t = 0; t < ntaps; t++) {
                const int ky = taps[t] / size, kx = taps[t] % size;
                int ylo, yhi, xlo, xhi;
                valid_range(ky, stride, pad, h, oh, &ylo, &yhi);
                valid_range(kx, stride, pad, w, ow, &xlo, &xhi);
                if (ylo < yhi && xlo < xhi)
                    col2im_same(col + (size_t)(ch * ntaps + t) * ncol, nb, h, w, ky - pad,
                                kx - pad, ylo, yhi, xlo, xhi, din + (size_t)ch * h * w,
                                (size_t)c * h * w);
            }
        return;
    }
    /* One thread per (image, channel) plane: every write of a plane comes from
     * that channel's rows, so planes never race. */
#pragma omp parallel for schedule(static) if (ncol * c * ntaps > 32768)
    for (int p = 0; p < nb * c; p++) {
        const int b = p / c, ch = p % c;
        float *dst = din + (size_t)p * h * w;
        for (int t = 0; t < ntaps; t++) {
            const int ky = taps[t] / size, kx = taps[t] % size;
            int ylo, yhi, xlo, xhi;
            valid_range(ky, stride, pad, h, oh, &ylo, &yhi);
            valid_range(kx, stride, pad, w, ow, &xlo, &xhi);
            const float *src = col + (size_t)(ch * ntaps + t) * ncol + (size_t)b * oh * ow;
            for (int oy = ylo; oy < yhi; oy++) {
                const float *s = src + (size_t)oy * ow;
                const ptrdiff_t base = (ptrdiff_t)(oy * stride - pad + ky) * w - pad + kx;
                if (stride == 1) {
                    for (int ox = xlo; ox < xhi; ox++) dst[base + ox] += s[ox];
                } else {
                    for (int ox = xlo; ox < xhi; ox++) dst[base + ox * stride] += s[ox];
                }
            }
        }
    }
}
