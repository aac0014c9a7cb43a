/* test_conv_pack.c: the implicit-GEMM packer (conv_pack_b) gives, panel by panel,
 * exactly the values of im2col_batch laid out as sgemm's B panels (zero past the
 * last column), for blocks that start anywhere (p0, j0) and end mid-panel, on
 * both of its paths (runs: stride 1, whole maps or rows; gather: strides 2, 1x1 maps,
 * 7x7 stems) with all and with the active taps; and gemm_packed gives bitwise
 * the result of gemm on the im2col matrix, on 1 and 2 threads, in fp32 and (where
 * the kernels level runs it natively) in bf16. */
#include <omp.h>
#include <string.h>

#include "check.h"
#include "kernels/kernels.h"

static rng_state rng;

static float *rand_buf(size_t n) {
    float *p = xmalloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) p[i] = 2.0f * rng_uniform(&rng) - 1.0f;
    return p;
}

/* Every block [p0, p0 + kc) x [j0, j0 + nc) of a grid with odd block sizes. */
static void check_blocks(const conv_src *q, const float *col, int K, int N, const char *what) {
    enum { NR = 32 };
    const int kcs[] = {K, 37, 5}, ncs[] = {N, 70, 33};
    /* aligned_alloc wants a size that is a multiple of the alignment */
    float *dst = aligned_alloc(64, ((size_t)K * (N + NR) * sizeof(float) + 63) / 64 * 64);
    int bad = 0;
    for (int g = 0; g < 3; g++)
        for (int p0 = 0; p0 < K; p0 += kcs[g])
            for (int j0 = 0; j0 < N; j0 += ncs[g]) {
                const int kc = p0 + kcs[g] < K ? kcs[g] : K - p0;
                const int nc = j0 + ncs[g] < N ? ncs[g] : N - j0;
                const int panels = (nc + NR - 1) / NR;
                for (size_t i = 0; i < (size_t)panels * kc * NR; i++) dst[i] = NAN;
                conv_pack_b(q, p0, j0, kc, nc, NR, dst);
                for (int jp = 0; jp < panels * NR; jp++)
                    for (int p = 0; p < kc; p++) {
                        const float got = dst[(size_t)(jp / NR) * kc * NR + (size_t)p * NR + jp % NR];
                        const float want = jp < nc ? col[(size_t)(p0 + p) * N + j0 + jp] : 0.0f;
                        bad += memcmp(&got, &want, sizeof(float)) != 0;
                    }
            }
    CHECK(bad == 0, "%s: %d packed entries differ from im2col", what, bad);
    free(dst);
}

static void check_shape(int nb, int c, int h, int w, int size, int stride, int pad, int filters) {
    const int oh = (h + 2 * pad - size) / stride + 1, ow = (w + 2 * pad - size) / stride + 1;
    int *taps = xmalloc(sizeof(int) * size * size);
    for (int pass = 0; pass < 2; pass++) {
        int ntaps = size * size;
        if (pass) ntaps = im2col_active_taps(h, w, size, stride, pad, oh, ow, taps);
        else
            for (int t = 0; t < ntaps; t++) taps[t] = t;
        const int K = c * ntaps, N = nb * oh * ow;
        float *x = rand_buf((size_t)nb * c * h * w), *col = xmalloc((size_t)K * N * sizeof(float));
        im2col_batch(x, nb, c, h, w, size, stride, pad, oh, ow, taps, ntaps, col);
        const conv_src q = {x, c, h, w, size, stride, pad, oh, ow, taps, ntaps};
        char what[128];
        snprintf(what, sizeof(what), "%d images %dx%dx%d, %dx%d/%d pad %d, %s taps", nb, c, h, w,
                 size, size, stride, pad, pass ? "active" : "all");
        check_blocks(&q, col, K, N, what);
        float *wt = rand_buf((size_t)filters * K), *want = xmalloc((size_t)filters * N * 4);
        float *got = xmalloc((size_t)filters * N * 4);
        for (int threads = 1; threads <= 2; threads++)
            for (int prec = PREC_FP32; prec <= PREC_BF16; prec++) {
                omp_set_num_threads(threads);
                gemm_prec(prec, 0, 0, filters, N, K, 1.0f, wt, K, col, N, 0.0f, want, N);
                memset(got, 0, (size_t)filters * N * 4);
                const int done =
                    gemm_packed_prec(prec, filters, N, K, wt, K, conv_pack_b, &q, got, N);
                CHECK(!done || memcmp(got, want, (size_t)filters * N * 4) == 0,
                      "%s: %s gemm_packed on %d threads differs from gemm on im2col", what,
                      precision_name(prec), threads);
            }
        free(x), free(col), free(wt), free(want), free(got);
    }
    free(taps);
}

int main(void) {
    rng_seed(&rng, 7);
    const conv_src probe = {NULL, 1, 1, 1, 3, 1, 1, 1, 1, NULL, 0};
    if (!conv_pack_ok(&probe))
        check_skip("conv_pack_b needs kernels level avx512 (this CPU or LIR_KERNELS is below)");
    check_shape(3, 5, 8, 8, 3, 1, 1, 20);   /* runs: rows of 8, 4 per panel */
    check_shape(2, 3, 32, 32, 3, 1, 1, 16); /* runs of 16 */
    check_shape(5, 4, 4, 4, 3, 1, 1, 24);   /* rows of 4: 8 runs per panel */
    check_shape(3, 2, 5, 7, 3, 1, 1, 17);   /* rows of 7: runs cross images mid-panel */
    check_shape(3, 3, 9, 8, 3, 1, 0, 16);   /* no padding: output narrower, runs per row */
    check_shape(2, 2, 6, 11, 5, 1, 1, 16);  /* 5x5 pad 1: runs per row of 9 */
    check_shape(4, 3, 32, 32, 7, 2, 3, 16); /* the ImageNet stem: gather */
    check_shape(6, 4, 8, 8, 3, 2, 1, 16);   /* stride 2: gather */
    check_shape(9, 6, 8, 8, 1, 2, 0, 16);   /* 1x1 projection shortcut */
    check_shape(40, 8, 1, 1, 3, 1, 1, 16);  /* 1x1 maps: one column per image, gather */
    check_shape(20, 4, 2, 2, 3, 1, 1, 16);  /* 2x2 maps: 16 runs, gather */
    return check_done("test_conv_pack");
}
