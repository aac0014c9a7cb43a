/* test_layer_gemm.c: the sgemm wrapper against a direct triple loop for every
 * transpose combination, with leading dimensions larger than the matrices, small
 * (one call) and large (split between threads, along n and along m) shapes, then im2col/col2im
 * as adjoints of each other, <im2col(x), y> = <x, col2im(y)>, over all kernel taps
 * and over the active ones, and which taps are active. */
#include <string.h>

#include "check.h"
#include "kernels/kernels.h"

static rng_state rng;

static float *rand_buf(size_t n) {
    float *p = xmalloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) p[i] = 2.0f * rng_uniform(&rng) - 1.0f;
    return p;
}

/* C = alpha op(A) op(B) + beta C with lda = cols + 3 etc., checked against doubles. */
static void check_gemm(int ta, int tb, int m, int n, int k) {
    const int ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k, bc = tb ? k : n;
    const int lda = ac + 3, ldb = bc + 2, ldc = n + 5;
    float *a = rand_buf((size_t)ar * lda), *b = rand_buf((size_t)br * ldb);
    float *c = rand_buf((size_t)m * ldc), *c0 = xmalloc((size_t)m * ldc * sizeof(float));
    memcpy(c0, c, (size_t)m * ldc * sizeof(float));
    gemm(ta, tb, m, n, k, 0.5f, a, lda, b, ldb, 2.0f, c, ldc);
    double worst = 0;
    int pad_ok = 1;
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int p = 0; p < k; p++)
                s += (double)(ta ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p]) *
                     (tb ? b[(size_t)j * ldb + p] : b[(size_t)p * ldb + j]);
            double want = 0.5 * s + 2.0 * c0[(size_t)i * ldc + j];
            /* float32 sums of k products of values in [-1, 1]: error ~ sqrt(k) * 6e-8 */
            worst = fmax(worst, fabs(c[(size_t)i * ldc + j] - want) / (1 + fabs(want)));
        }
        for (int j = n; j < ldc; j++) pad_ok &= c[(size_t)i * ldc + j] == c0[(size_t)i * ldc + j];
    }
    CHECK(worst < 1e-5, "gemm ta=%d tb=%d %dx%dx%d: error %g", ta, tb, m, n, k, worst);
    CHECK(pad_ok, "gemm ta=%d tb=%d %dx%dx%d wrote outside C", ta, tb, m, n, k);
    free(a), free(b), free(c), free(c0);
}

static double dot(const float *a, const float *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

/* With all taps and with the active ones only (im2col_active_taps). */
static void check_adjoint(int nb, int c, int h, int w, int size, int stride, int pad) {
    const int oh = (h + 2 * pad - size) / stride + 1, ow = (w + 2 * pad - size) / stride + 1;
    int *taps = xmalloc(sizeof(int) * size * size);
    for (int pass = 0; pass < 2; pass++) {
        int ntaps = size * size;
        if (pass) ntaps = im2col_active_taps(h, w, size, stride, pad, oh, ow, taps);
        else
            for (int t = 0; t < ntaps; t++) taps[t] = t;
        const size_t nx = (size_t)nb * c * h * w, ncol = (size_t)c * ntaps * nb * oh * ow;
        float *x = rand_buf(nx), *y = rand_buf(ncol), *col = xmalloc(ncol * sizeof(float));
        float *back = xcalloc(nx, sizeof(float));
        im2col_batch(x, nb, c, h, w, size, stride, pad, oh, ow, taps, ntaps, col);
        im2col_adjoint_add(y, nb, c, h, w, size, stride, pad, oh, ow, taps, ntaps, back);
        const double l = dot(col, y, ncol), r = dot(x, back, nx);
        CHECK_CLOSE(l, r, 1e-4, 1e-5, "im2col / col2im adjoint");
        if (!pass) {
            /* row (ch 1, tap 0), last image, output (0, 0): the padded corner, or
             * pixel (0, 0) without padding */
            const float want = pad ? 0.0f : x[((size_t)(nb - 1) * c + 1) * h * w];
            CHECK(col[(size_t)ntaps * nb * oh * ow + (size_t)(nb - 1) * oh * ow] == want,
                  "im2col corner entry");
        }
        free(x), free(y), free(col), free(back);
    }
    free(taps);
}

static void check_taps(int h, int size, int stride, int pad, int want_n, const int *want) {
    const int oh = (h + 2 * pad - size) / stride + 1;
    int taps[49];
    const int n = im2col_active_taps(h, h, size, stride, pad, oh, oh, taps);
    int ok = n == want_n;
    for (int i = 0; ok && i < n; i++) ok = taps[i] == want[i];
    CHECK(ok, "active taps of %dx%d/%d pad %d on %dx%d: %d", size, size, stride, pad, h, h, n);
}

int main(void) {
    rng_seed(&rng, 99);
    fprintf(stderr, "kernels: %s\n", gemm_kernels());
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            check_gemm(ta, tb, 5, 7, 3);
            check_gemm(ta, tb, 64, 300, 120);  /* split along n */
            check_gemm(ta, tb, 300, 40, 200);  /* split along m */
        }
    check_adjoint(2, 3, 7, 6, 3, 1, 1);
    check_adjoint(3, 2, 9, 9, 7, 2, 3);
    check_adjoint(2, 4, 8, 8, 1, 2, 0);
    check_adjoint(1, 2, 5, 5, 3, 2, 0);
    check_adjoint(3, 2, 1, 1, 3, 1, 1); /* only the centre tap is active */
    check_adjoint(2, 3, 2, 2, 3, 2, 1);
    const int centre[] = {4}, corner4[] = {4, 5, 7, 8}, all9[] = {0, 1, 2, 3, 4, 5, 6, 7, 8};
    check_taps(1, 3, 1, 1, 1, centre);  /* ImageNet-style ResNet stage 4 at 32x32 input */
    check_taps(2, 3, 2, 1, 4, corner4); /* its stride-2 entry from 2x2 */
    check_taps(2, 3, 1, 1, 9, all9);
    return check_done("test_layer_gemm");
}
