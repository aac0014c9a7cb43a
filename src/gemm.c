/* gemm.c: thin row-major sgemm wrapper over OpenBLAS (the only file that calls it)
 * and the batched im2col / col2im used by the convolution layer. */
#include "gemm.h"

#include <cblas.h>
#include <dlfcn.h>
#include <omp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

size_t gemm_workspace_limit = (size_t)2 << 20;

/* Threads: OpenBLAS runs single-threaded and gemm splits C between the OpenMP
 * threads itself, so one thread pool (OpenMP's) serves every kernel; two pools
 * spinning against each other on two cores cost more than they gain. */
static pthread_once_t blas_once = PTHREAD_ONCE_INIT;
static int blas_used; /* set by the first gemm */
static void blas_single_thread(void) {
    openblas_set_num_threads(1);
    blas_used = 1;
}

const char *gemm_kernels(void) { return openblas_get_corename(); }

/* Through the re-initialisation a DYNAMIC_ARCH OpenBLAS exports (looked up at run
 * time, so other builds still link): clear the chosen kernel table and let the
 * library pick again with OPENBLAS_CORETYPE unset, which is what it does at load. */
int gemm_detect_kernels(lir_error *err) {
    if (blas_used) return lir_fail(err, "BLAS kernels can only be chosen before the first gemm");
    void (*quit)(void), (*init)(void);
    *(void **)&quit = dlsym(RTLD_DEFAULT, "gotoblas_dynamic_quit");
    *(void **)&init = dlsym(RTLD_DEFAULT, "gotoblas_dynamic_init");
    if (!quit || !init)
        return lir_fail(err, "this OpenBLAS cannot re-select its kernels (not a DYNAMIC_ARCH build)");
    const char *env = getenv("OPENBLAS_CORETYPE");
    char *saved = env ? xstrdup(env) : NULL;
    unsetenv("OPENBLAS_CORETYPE");
    quit();
    init();
    if (saved) setenv("OPENBLAS_CORETYPE", saved, 1);
    free(saved);
    return 0;
}

static void sgemm_one(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                      int lda, const float *b, int ldb, float beta, float *c, int ldc) {
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void gemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
          const float *b, int ldb, float beta, float *c, int ldc) {
    pthread_once(&blas_once, blas_single_thread);
    const int nt = omp_in_parallel() ? 1 : omp_get_max_threads();
    if (nt == 1 || (double)m * n * k < 2e6) {
        sgemm_one(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
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
                sgemm_one(trans_a, trans_b, m, hi - lo, k, alpha, a, lda,
                          trans_b ? b + (size_t)lo * ldb : b + lo, ldb, beta, c + lo, ldc);
            else
                sgemm_one(trans_a, trans_b, hi - lo, n, k, alpha,
                          trans_a ? a + lo : a + (size_t)lo * lda, lda, b, ldb, beta,
                          c + (size_t)lo * ldc, ldc);
        }
    }
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

void im2col_batch(const float *in, int nb, int c, int h, int w, int size, int stride, int pad,
                  int oh, int ow, float *col) {
    const int rows = c * size * size;
    const size_t ncol = (size_t)nb * oh * ow;
#pragma omp parallel for schedule(static) if (rows * ncol > 32768)
    for (int r = 0; r < rows; r++) {
        const int kx = r % size, ky = (r / size) % size, ch = r / (size * size);
        int ylo, yhi, xlo, xhi;
        valid_range(ky, stride, pad, h, oh, &ylo, &yhi);
        valid_range(kx, stride, pad, w, ow, &xlo, &xhi);
        float *dst = col + (size_t)r * ncol;
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

void col2im_batch_add(const float *col, int nb, int c, int h, int w, int size, int stride,
                      int pad, int oh, int ow, float *din) {
    const size_t ncol = (size_t)nb * oh * ow;
    /* One thread per (image, channel) plane: every write of a plane comes from
     * that channel's size*size rows, so planes never race. */
#pragma omp parallel for schedule(static) if (ncol * c * size * size > 32768)
    for (int p = 0; p < nb * c; p++) {
        const int b = p / c, ch = p % c;
        float *dst = din + (size_t)p * h * w;
        for (int ky = 0; ky < size; ky++) {
            int ylo, yhi;
            valid_range(ky, stride, pad, h, oh, &ylo, &yhi);
            for (int kx = 0; kx < size; kx++) {
                int xlo, xhi;
                valid_range(kx, stride, pad, w, ow, &xlo, &xhi);
                const float *src =
                    col + (size_t)((ch * size + ky) * size + kx) * ncol + (size_t)b * oh * ow;
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
}
