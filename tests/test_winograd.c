/* test_winograd.c: Winograd convolution (kernels/winograd.c, LIR_CONV) against the
 * direct convolution.
 * 1. The kernel, F(2x2) and F(4x4), forward and backward-data (transposed, turned
 *    filters, accumulating), against a float64 reference on random inputs: every
 *    map size 1..32, non-square maps, several channel counts; fp32 and bf16.
 *    1a. V written as the GEMM's panels of B against V packed by the GEMM: bit for bit.
 *    1b. The same for backward-weights (winograd_grad.c), called twice: it adds.
 * 2. The convolution layer built with LIR_CONV's winograd against the same layer
 *    built direct (conv_mode_set): every map size 4..32, BN training forward and
 *    backward (output, input gradient, weight gradient) and the inference forward;
 *    a second backward doubles the weight gradient.
 *    2a. `auto` in bf16: fp32 F(4x4) on 16x16 maps, bf16 F(2x2) on 8x8, bit for bit.
 *    2b. Every stride-1 3x3 shape of cfg/resnet18.cfg and cfg/resnet18-cifar.cfg at
 *    its channel counts: backward-weights against float64, the layer against direct.
 * 3. A residual network, one training step and an inference forward, winograd
 *    against direct: loss, logits and every parameter gradient; in bf16 too.
 * And the choices of LIR_CONV's modes (auto: conv_algo.c's measured table).
 * Errors are measured relative to a scale, printed, and checked against bounds
 * stated where they are set. */
#include <math.h>
#include <omp.h>
#include <string.h>

#include "layer_check.h"
#include "net_fixture.h"

/* Maps beyond the square sizes, {h, w, c, k}, three images: non-square, partial tiles
 * on one side only, wider channel counts; and maps 16 and 32 wide whose groups of 16
 * tiles straddle two images or start inside a tile row, or whose last tile row
 * overhangs the map (winograd.c's permute pass takes only whole tile rows of one
 * image: these run both of its neighbours' passes). */
static const int ODD[][4] = {{5, 9, 7, 3},   {12, 7, 32, 32}, {3, 17, 5, 40}, {32, 32, 64, 64},
                             {5, 16, 3, 8},  {31, 32, 4, 4},  {13, 16, 6, 5}, {6, 32, 2, 3}};
enum { ODD_SHAPES = sizeof ODD / sizeof ODD[0] };

/* ---- 1. the kernel against float64 -------------------------------------------- */

/* ref [nb][k][h][w] = conv(x [nb][c][h][w], w [k][c][3][3]), stride 1, pad 1,
 * and mag = the largest sum of |products| of an output. transposed: the
 * backward-data convolution, w [c][k][3][3] (ref has k channels: x's gradient). */
static double reference(const float *x, const float *w, int nb, int c, int k, int h, int wd,
                        int transposed, double *ref) {
    double mag = 0;
    for (int b = 0; b < nb; b++)
        for (int ko = 0; ko < k; ko++)
            for (int y = 0; y < h; y++)
                for (int xx = 0; xx < wd; xx++) {
                    double s = 0, a = 0;
                    for (int ci = 0; ci < c; ci++)
                        for (int t = 0; t < 9; t++) {
                            const int iy = y + t / 3 - 1, ix = xx + t % 3 - 1;
                            if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                            const float wt = transposed ? w[((size_t)ci * k + ko) * 9 + 8 - t]
                                                        : w[((size_t)ko * c + ci) * 9 + t];
                            const size_t at = (((size_t)b * c + ci) * h + iy) * wd + ix;
                            const double p = (double)wt * x[at];
                            s += p, a += fabs(p);
                        }
                    ref[(((size_t)b * k + ko) * h + y) * wd + xx] = s;
                    mag = a > mag ? a : mag;
                }
    return mag;
}

/* Largest |winograd - float64| of one convolution, relative to the largest sum of
 * |products| of an output (the size of the terms an fp32 sum rounds). The kernel
 * runs with accumulate = 1 over a random start that is subtracted again, and with
 * a block of 16 tiles, so that calls span several blocks and images. */
static double kernel_error(int m, int prec, int transposed, int nb, int c, int k, int h, int w) {
    winograd_shape p;
    CHECK(winograd_plan(&p, m, c, k, h, w, 16) == 0, "winograd_plan F(%d)", m);
    const size_t nx = (size_t)nb * c * h * w, ny = (size_t)nb * k * h * w;
    float *x = rand_buf(nx, 1), *wt = rand_buf((size_t)k * c * 9, 1);
    float *y = rand_buf(ny, 1), *y0 = copy_buf(y, ny);
    float *u = xmalloc(winograd_filter_floats(&p) * sizeof(float));
    const size_t pb = winograd_packed_bytes(&p, prec);
    void *packed = pb ? xmalloc(pb) : NULL;
    float *scr = xmalloc(2 * winograd_scratch_floats(&p) * sizeof(float));
    double *ref = xmalloc(ny * sizeof(double));
    const double mag = reference(x, wt, nb, c, k, h, w, transposed, ref);
    winograd_filter(&p, prec, wt, transposed, u, packed);
    const winograd_io in = {x, (size_t)h * w, (size_t)c * h * w};
    const winograd_io out = {y, (size_t)h * w, (size_t)k * h * w};
    winograd_conv(&p, prec, u, packed, &in, nb, &out, 1, 2, scr);
    double e = 0;
    for (size_t i = 0; i < ny; i++) e = fmax(e, fabs((double)y[i] - y0[i] - ref[i]));
    free(x), free(wt), free(y), free(y0), free(u), free(packed), free(scr), free(ref);
    return e / mag;
}

/* Bounds of kernel_error. The transforms of F(4x4) have constants up to 8 (A^T)
 * and 5 (B^T) and G's 1/6 and 1/24, which are not exact in binary, so each output
 * collects rounding errors of terms much larger than its own products: its error
 * is larger than the direct convolution's (an fp32 dot product: 0.7e-7 .. 1.6e-7
 * relative to its terms on these shapes; im2col + gemm_prec, measured by hand).
 * Measured maxima over the shapes below, inputs from seeds 1..4: F(2x2) 1.5e-7 ..
 * 5.6e-7 fp32 (the largest with one channel), F(4x4) 3.3e-6 .. 4.1e-6 fp32; bf16
 * (both GEMM operands rounded to 8 significant bits; direct: 4e-4 .. 8e-4) F(2x2)
 * 1.6e-3 .. 1.8e-3, F(4x4) 2.9e-2 .. 3.9e-2: bf16 rounds the transformed patches,
 * whose entries are sums of up to 36 pixels times constants up to 25. The bounds
 * leave a margin of 3.5x or more; a wrong transform or tile errs by ~1. */
static const double KERNEL_TOL[2][2] = {{2e-6, 2e-5}, {1e-2, 0.15}}; /* [bf16][m == 4] */

static void test_kernel(void) {
    static const int chans[][2] = {{1, 1}, {3, 8}, {16, 16}, {24, 17}};
    double worst[2][2] = {{0}};
    int sizes = 0;
    for (int prec = PREC_FP32; prec <= PREC_BF16; prec++)
        for (int h = 1; h <= 32; h++)
            for (int ch = 0; ch < 4; ch++)
                for (int m = 2; m <= 4; m += 2)
                    for (int tr = 0; tr < 2; tr++) {
                        /* bf16: fewer shapes, enough to bound it */
                        if (prec == PREC_BF16 && (h % 3 || ch < 2)) continue;
                        const int c = chans[ch][0], k = chans[ch][1];
                        const double e = kernel_error(m, prec, tr, 2, c, k, h, h);
                        const double tol = KERNEL_TOL[prec][m == 4];
                        CHECK(e <= tol, "F(%dx%d) %s %s %dx%d c=%d k=%d: error %.3g > %g", m, m,
                              precision_name(prec), tr ? "backward-data" : "forward", h, h, c, k,
                              e, tol);
                        worst[prec][m == 4] = fmax(worst[prec][m == 4], e);
                        sizes++;
                    }
    for (int i = 0; i < ODD_SHAPES; i++)
        for (int m = 2; m <= 4; m += 2)
            for (int tr = 0; tr < 2; tr++) {
                const double e = kernel_error(m, PREC_FP32, tr, 3, ODD[i][2], ODD[i][3], ODD[i][0],
                                              ODD[i][1]);
                CHECK(e <= KERNEL_TOL[0][m == 4], "F(%dx%d) %dx%d c=%d k=%d: error %.3g", m, m,
                      ODD[i][0], ODD[i][1], ODD[i][2], ODD[i][3], e);
                worst[0][m == 4] = fmax(worst[0][m == 4], e);
            }
    fprintf(stderr,
            "kernel, %d shapes: largest error fp32 F(2x2) %.3g F(4x4) %.3g, bf16 F(2x2) %.3g "
            "F(4x4) %.3g\n",
            sizes, worst[0][0], worst[0][1], worst[1][0], worst[1][1]);
}

/* 1a. V written straight into the GEMM's fp32 panels of B (winograd_b_panels, where
 * lir's own kernel takes them: default blocks of 32 tiles and more, 16+ channels,
 * one depth block) gives the same bits as V through the GEMM's own packing: the same
 * products summed in the same order; in fp32 and bf16 (which rounds the panels into
 * its own). Shapes: one panel, several, a last block short of a panel, and the ODD
 * maps 16 and 32 wide (the permute pass); forward and backward-data, two threads.
 * Without lir's kernels (LIR_KERNELS) both runs take the plain path. */
static void test_panels(void) {
    static const int shapes[][5] = {{16, 16, 8, 8, 2},  {24, 17, 13, 11, 3}, {64, 64, 32, 32, 2},
                                    {32, 32, 12, 7, 3}, {64, 64, 32, 32, 3}, {128, 64, 16, 16, 2},
                                    {4, 4, 31, 32, 3},  {256, 256, 8, 8, 2}};
    enum { SHAPES = sizeof shapes / sizeof shapes[0] };
    int taken[2] = {0, 0};
    for (int prec = PREC_FP32; prec <= PREC_BF16; prec++)
        for (int i = 0; i < SHAPES; i++)
            for (int m = 2; m <= 4; m += 2)
                for (int tr = 0; tr < 2; tr++) {
                    const int c = shapes[i][0], k = shapes[i][1], h = shapes[i][2];
                    const int w = shapes[i][3], nb = shapes[i][4];
                    winograd_shape p;
                    CHECK(winograd_plan(&p, m, c, k, h, w, 0) == 0, "winograd_plan");
                    const size_t ny = (size_t)nb * k * h * w;
                    float *x = rand_buf((size_t)nb * c * h * w, 1),
                          *wt = rand_buf((size_t)k * c * 9, 1);
                    float *y[2] = {xmalloc(ny * sizeof(float)), xmalloc(ny * sizeof(float))};
                    float *u = xmalloc(winograd_filter_floats(&p) * sizeof(float));
                    const size_t pb = winograd_packed_bytes(&p, prec);
                    void *packed = pb ? xmalloc(pb) : NULL;
                    float *scr = xmalloc(2 * winograd_scratch_floats(&p) * sizeof(float));
                    winograd_filter(&p, prec, wt, tr, u, packed);
                    const winograd_io in = {x, (size_t)h * w, (size_t)c * h * w};
                    for (int pan = 0; pan < 2; pan++) {
                        const winograd_io out = {y[pan], (size_t)h * w, (size_t)k * h * w};
                        winograd_b_panels = pan;
                        winograd_conv(&p, prec, u, packed, &in, nb, &out, 0, 2, scr);
                    }
                    winograd_b_panels = 1;
                    const int nr = pb ? gemm_b_panel(prec, c) : 0;
                    taken[prec] += nr > 0 && p.block % nr == 0;
                    CHECK(!memcmp(y[0], y[1], ny * sizeof(float)),
                          "F(%dx%d) %s %s %dx%d c=%d k=%d block %d: panels differ from plain V", m,
                          m, precision_name(prec), tr ? "backward-data" : "forward", h, w, c, k,
                          p.block);
                    free(x), free(wt), free(y[0]), free(y[1]), free(u), free(packed), free(scr);
                }
    fprintf(stderr,
            "panels: of %d cases each, fp32 %d and bf16 %d wrote V as GEMM panels, all equal to "
            "plain V\n",
            4 * SHAPES, taken[0], taken[1]);
    /* all but the blocks of 16 tiles (16 and 4 channels: 8 cases) and F(4x4) at 256
     * channels, whose blocks of 240 tiles (fitted to winograd_block_floats) are not whole
     * panels (2 cases) */
    if (kernels_level() >= KERN_AVX512)
        CHECK(taken[0] == 4 * SHAPES - 10, "fp32: %d cases took the panels at level avx512",
              taken[0]);
    if (kernels_level() >= KERN_AVX512BF16)
        CHECK(taken[1] == 4 * SHAPES - 10, "bf16: %d cases took the panels at level avx512bf16",
              taken[1]);
}

/* ---- 1b. the weight gradient against float64 ------------------------------------ */

/* ref [k][c][3][3] = the weight gradient of the convolution of x [nb][c][h][w] into
 * k channels given their gradient dy [nb][k][h][w] (stride 1, pad 1), and mag = the
 * largest sum of |products| of an element. */
static double weight_reference(const float *x, const float *dy, int nb, int c, int k, int h,
                               int w, double *ref) {
    double mag = 0;
    for (int ko = 0; ko < k; ko++)
        for (int ci = 0; ci < c; ci++)
            for (int t = 0; t < 9; t++) {
                const int oy = t / 3 - 1, ox = t % 3 - 1;
                double s = 0, a = 0;
                for (int b = 0; b < nb; b++) {
                    const float *g = dy + ((size_t)b * k + ko) * h * w;
                    const float *in = x + ((size_t)b * c + ci) * h * w;
                    for (int y = oy < 0 ? 1 : 0; y < h && y + oy < h; y++)
                        for (int xx = ox < 0 ? 1 : 0; xx < w && xx + ox < w; xx++) {
                            const double p = (double)g[y * w + xx] * in[(y + oy) * w + xx + ox];
                            s += p, a += fabs(p);
                        }
                }
                ref[((size_t)ko * c + ci) * 9 + t] = s;
                mag = a > mag ? a : mag;
            }
    return mag;
}

/* A weight-gradient case: inputs, output gradients and their float64 gradient. */
typedef struct {
    int nb, c, k, h, w;
    float *x, *dy;
    double *ref, mag;
} weight_case;

static void weight_case_make(weight_case *wc, int nb, int c, int k, int h, int w) {
    *wc = (weight_case){nb, c, k, h, w, NULL, NULL, NULL, 0};
    wc->x = rand_buf((size_t)nb * c * h * w, 1);
    wc->dy = rand_buf((size_t)nb * k * h * w, 1);
    wc->ref = xmalloc((size_t)k * c * 9 * sizeof(double));
    wc->mag = weight_reference(wc->x, wc->dy, nb, c, k, h, w, wc->ref);
}

static void weight_case_free(weight_case *wc) { free(wc->x), free(wc->dy), free(wc->ref); }

/* Largest |winograd - float64| of the weight gradient relative to wc->mag, the
 * kernel called twice on a random start on `threads` threads in blocks of `block`
 * tiles: both calls add (the start is subtracted again, twice the gradient
 * expected). */
static double weight_error(const weight_case *wc, int m, int prec, int block, int threads) {
    winograd_shape p;
    CHECK(winograd_plan(&p, m, wc->c, wc->k, wc->h, wc->w, block) == 0, "winograd_plan F(%d)", m);
    const size_t nw = (size_t)wc->k * wc->c * 9;
    float *dw = rand_buf(nw, 1), *dw0 = copy_buf(dw, nw);
    float *scr = xmalloc(threads * winograd_weight_scratch_floats(&p) * sizeof(float));
    const winograd_io in = {wc->x, (size_t)wc->h * wc->w, (size_t)wc->c * wc->h * wc->w};
    const winograd_io dy = {wc->dy, (size_t)wc->h * wc->w, (size_t)wc->k * wc->h * wc->w};
    for (int call = 0; call < 2; call++)
        winograd_weight_grad(&p, prec, &in, &dy, wc->nb, dw, threads, scr);
    double e = 0;
    for (size_t i = 0; i < nw; i++) e = fmax(e, fabs((double)dw[i] - dw0[i] - 2 * wc->ref[i]));
    free(dw), free(dw0), free(scr);
    return e / (2 * wc->mag);
}

/* Bounds of weight_error. Each element of the weight gradient sums the products of
 * all nb*h*w output positions; Winograd sums per tile in the transformed domain (the
 * transforms' constants as in the forward: A's up to 8, B^T's up to 5, G^T's 1/6 and
 * 1/24) and over the tiles in the GEMMs, so an element errs by more than the direct
 * GEMM's fp32 dot product. Measured maxima relative to the element's sum of
 * |products| (the shapes below and the cfg shapes of part 2b, inputs from seeds
 * 1..4): fp32 F(2x2) 1.2e-7 .. 2.0e-7, F(4x4) 1.4e-6 .. 2.3e-6, against 3e-8 ..
 * 1.2e-7 for the direct layer's GEMM on the cfg shapes; bf16 (dM and V rounded to 8
 * significant bits) F(2x2) 2.4e-3 .. 5.2e-3, F(4x4) 1.8e-2 .. 2.4e-2, against 1.9e-4
 * .. 3.4e-3 for the direct layer in bf16 (measured by hand). Bounds with a margin
 * of 3.8x or more; a wrong transform, tile or missed accumulation errs by ~1. */
static const double WEIGHT_TOL[2][2] = {{1e-6, 1e-5}, {2e-2, 0.1}}; /* [bf16][m == 4] */

static double weight_check(const weight_case *wc, int m, int prec, int block, int threads,
                           double worst[2][2]) {
    const double e = weight_error(wc, m, prec, block, threads);
    const double tol = WEIGHT_TOL[prec][m == 4];
    CHECK(e <= tol, "F(%dx%d) %s backward-weights %dx%d c=%d k=%d nb=%d: error %.3g > %g", m, m,
          precision_name(prec), wc->h, wc->w, wc->c, wc->k, wc->nb, e, tol);
    worst[prec][m == 4] = fmax(worst[prec][m == 4], e);
    return e;
}

/* Every map size 1..32 and the channel counts of test_kernel, blocks of 16 tiles on
 * two threads; non-square maps; more threads than blocks. */
static void test_weight_kernel(void) {
    static const int chans[][2] = {{1, 1}, {3, 8}, {16, 16}, {24, 17}};
    double worst[2][2] = {{0}};
    int cases = 0;
    for (int h = 1; h <= 32; h++)
        for (int ch = 0; ch < 4; ch++) {
            weight_case wc;
            weight_case_make(&wc, 2, chans[ch][0], chans[ch][1], h, h);
            for (int prec = PREC_FP32; prec <= PREC_BF16; prec++)
                for (int m = 2; m <= 4; m += 2) {
                    if (prec == PREC_BF16 && (h % 3 || ch < 2)) continue;
                    weight_check(&wc, m, prec, 16, 2, worst);
                    cases++;
                }
            weight_case_free(&wc);
        }
    for (int i = 0; i < ODD_SHAPES; i++) {
        weight_case wc;
        weight_case_make(&wc, 3, ODD[i][2], ODD[i][3], ODD[i][0], ODD[i][1]);
        for (int m = 2; m <= 4; m += 2) weight_check(&wc, m, PREC_FP32, 16, 3, worst), cases++;
        /* one block of all tiles, on more threads than blocks */
        weight_check(&wc, 2, PREC_FP32, 1024, 4, worst), cases++;
        weight_case_free(&wc);
    }
    fprintf(stderr,
            "backward-weights kernel, %d cases: largest error fp32 F(2x2) %.3g F(4x4) %.3g, "
            "bf16 F(2x2) %.3g F(4x4) %.3g\n",
            cases, worst[0][0], worst[0][1], worst[1][0], worst[1][1]);
}

/* ---- 2. the layer: winograd against direct -------------------------------------- */

/* max |a - b| / max |b| */
static double rel_max(const float *a, const float *b, size_t n) {
    double d = 0;
    for (size_t i = 0; i < n; i++) d = fmax(d, fabs((double)a[i] - b[i]));
    return d / (max_abs(b, n) + 1e-30);
}

/* Bounds of the layer's differences, relative to the largest value (rel_max), with
 * 8-32 channels: BN normalises the outputs to unit size, so the convolution's error
 * relative to its terms (part 1) shows up scaled by the ratio of the terms to the
 * output (about sqrt(9c)). The layer's activation is linear: a ReLU would put a kink
 * where the two runs may differ (see part 3). Measured, maps 4..32, seeds 1..4:
 * largest difference 5.1e-6 .. 6.6e-6 (every level of LIR_KERNELS); bound 3e-5. */
enum { LAYER_BATCH = 3 };
static const double LAYER_TOL = 3e-5;
/* The same at the real channel counts of the ResNet-18s (part 2b): the differences
 * grow with the channels (the terms of a BN output about sqrt(9c) times its size),
 * and on 1x1 maps batch norm normalises LAYER_BATCH = 3 values per channel, whose
 * backward cancels most of the gradient. Measured with inputs from seeds 1..4:
 * largest difference 1.1e-5 .. 1.5e-5 (256 @ 8x8 and 128 @ 16x16, forward and
 * input gradient, F(4x4)); the weight gradient up to 9.3e-6 (512 @ 1x1), 2.4e-5 in
 * a run with other inputs. Bound 1e-4. */
static const double CFG_LAYER_TOL = 1e-4;

typedef struct {
    conv_layer l;
    float *ws, *out, *din;
} layer_run;

static void layer_run_make(layer_run *r, int mode, int c, int n, int h, int w) {
    lir_error err;
    rng_state wr;
    rng_seed(&wr, 7); /* the same weights for both */
    conv_mode_set(mode);
    CHECK(conv_make(&r->l, c, h, w, n, 3, 1, 1, 1, ACT_LINEAR, LAYER_BATCH, 1, &wr, &err) == 0,
          "conv_make: %s", err.msg);
    r->ws = xmalloc(conv_workspace_size(&r->l) * sizeof(float));
    r->out = xcalloc((size_t)LAYER_BATCH * n * h * w, sizeof(float));
    r->din = xcalloc((size_t)LAYER_BATCH * c * h * w, sizeof(float));
}

static void layer_run_free(layer_run *r) {
    free(r->l.weights), free(r->l.dweights);
    conv_free(&r->l);
    free(r->ws), free(r->out), free(r->din);
}

/* Returns the largest difference of the comparisons, each checked against tol. */
static double test_layer(int c, int n, int h, int w, double tol) {
    layer_run d, g;
    layer_run_make(&d, CONV_DIRECT, c, n, h, w);
    layer_run_make(&g, CONV_WINOGRAD, c, n, h, w);
    const int m = h >= 8 && w >= 8 ? 4 : 2;
    CHECK(d.l.wino_fwd == 0 && d.l.wino_bwd == 0 && d.l.wino_dw == 0 && g.l.wino_fwd == m &&
              g.l.wino_bwd == m && g.l.wino_dw == m,
          "%dx%d: LIR_CONV direct / winograd give tiles 0 / %d (got %d/%d/%d, %d/%d/%d)", h, w,
          m, d.l.wino_fwd, d.l.wino_bwd, d.l.wino_dw, g.l.wino_fwd, g.l.wino_bwd, g.l.wino_dw);
    const size_t nx = (size_t)LAYER_BATCH * c * h * w, ny = (size_t)LAYER_BATCH * n * h * w;
    const size_t nw = (size_t)n * c * 9;
    float *x = rand_buf(nx, 1), *dy = rand_buf(ny, 1);
    double e[4];
    layer_run *rs[2] = {&d, &g};
    for (int v = 0; v < 2; v++) {
        conv_forward(&rs[v]->l, x, rs[v]->out, 1, rs[v]->ws, NULL, NULL);
        conv_backward(&rs[v]->l, x, rs[v]->out, dy, rs[v]->din, rs[v]->ws);
    }
    e[0] = rel_max(g.l.conv_out, d.l.conv_out, ny);
    e[1] = rel_max(g.din, d.din, nx);
    e[2] = rel_max(g.l.dweights, d.l.dweights, nw);
    /* the weight gradient accumulates: a second backward (dconv_out, dbn_out cleared
     * as a network does) doubles it */
    float *once = copy_buf(g.l.dweights, nw);
    memset(g.l.dconv_out, 0, ny * sizeof(float)), memset(g.l.dbn_out, 0, ny * sizeof(float));
    conv_backward(&g.l, x, g.out, dy, NULL, g.ws);
    check_doubled("winograd dweights", g.l.dweights, once, nw);
    free(once);
    for (int v = 0; v < 2; v++) conv_forward(&rs[v]->l, x, rs[v]->out, 0, rs[v]->ws, NULL, NULL);
    e[3] = rel_max(g.out, d.out, ny);
    static const char *what[4] = {"training output", "input gradient", "weight gradient",
                                  "inference output"};
    double worst = 0;
    for (int i = 0; i < 4; i++) {
        CHECK(e[i] <= tol, "%dx%d c=%d n=%d: winograd %s off by %.3g (> %g)", h, w, c, n,
              what[i], e[i], tol);
        worst = fmax(worst, e[i]);
    }
    free(x), free(dy);
    layer_run_free(&d), layer_run_free(&g);
    return worst;
}

/* `auto` in bf16 (conv_winograd_fp32_in_bf16): on a 16x16 map the layer keeps F(4x4)
 * in fp32, so all its results equal the fp32 layer's bit for bit; on 8x8 it runs
 * F(2x2) in bf16, as LIR_CONV=winograd does in bf16, and differs from fp32. */
static void test_bf16_auto(void) {
    static const struct { int h, mode_b, prec_b, same; } cases[] = {
        {16, CONV_AUTO, PREC_FP32, 1},
        {8, CONV_WINOGRAD, PREC_BF16, 1},
        {8, CONV_AUTO, PREC_FP32, 0}};
    const int c = 32;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const int h = cases[i].h;
        const size_t nx = (size_t)LAYER_BATCH * c * h * h, nw = (size_t)c * c * 9;
        float *x = rand_buf(nx, 1), *dy = rand_buf(nx, 1);
        layer_run a, b;
        layer_run_make(&a, CONV_AUTO, c, c, h, h);
        layer_run_make(&b, cases[i].mode_b, c, c, h, h);
        a.l.precision = PREC_BF16, b.l.precision = cases[i].prec_b;
        layer_run *rs[2] = {&a, &b};
        for (int v = 0; v < 2; v++) {
            conv_forward(&rs[v]->l, x, rs[v]->out, 1, rs[v]->ws, NULL, NULL);
            conv_backward(&rs[v]->l, x, rs[v]->out, dy, rs[v]->din, rs[v]->ws);
        }
        const int same = !memcmp(a.l.conv_out, b.l.conv_out, nx * sizeof(float)) &&
                         !memcmp(a.din, b.din, nx * sizeof(float)) &&
                         !memcmp(a.l.dweights, b.l.dweights, nw * sizeof(float));
        CHECK(same == cases[i].same, "%dx%d: auto in bf16 %s %s %s", h, h,
              cases[i].same ? "differs from" : "equals", conv_mode_name(cases[i].mode_b),
              precision_name(cases[i].prec_b));
        free(x), free(dy);
        layer_run_free(&a), layer_run_free(&b);
    }
}

static void test_layers(void) {
    double worst = 0;
    for (int h = 4; h <= 32; h++)
        worst = fmax(worst, test_layer(h % 2 ? 16 : 24, 16, h, h, LAYER_TOL));
    worst = fmax(worst, test_layer(32, 8, 6, 11, LAYER_TOL));
    worst = fmax(worst, test_layer(8, 32, 9, 4, LAYER_TOL));
    /* two threads (outer chunks), then one */
    omp_set_num_threads(1);
    worst = fmax(worst, test_layer(16, 16, 16, 16, LAYER_TOL));
    omp_set_num_threads(2);
    fprintf(stderr, "layer, maps 4..32: largest difference winograd - direct %.3g\n", worst);
}

/* ---- 2b. every stride-1 3x3 shape of the two ResNet-18s ------------------------- */

typedef struct {
    int c, n, h, w;
} conv_shape;

/* Appends the stride-1 pad-1 3x3 convolutions of cfg `path` not in sh yet. */
static void cfg_shapes(const char *path, conv_shape *sh, int *ns, int max) {
    lir_error err;
    net_options opt = {1, 0, 0, 1};
    net *n = net_load_cfg(path, &opt, &err);
    CHECK(n != NULL, "%s: %s", path, n ? "" : err.msg);
    for (int i = 0; n && i < n->n_layers; i++) {
        const conv_layer *l = &n->layers[i].u.conv;
        if (n->layers[i].type != LAYER_CONV || l->size != 3 || l->stride != 1 || l->pad != 1)
            continue;
        int k = 0;
        while (k < *ns && (sh[k].c != l->c || sh[k].n != l->n || sh[k].h != l->h ||
                           sh[k].w != l->w))
            k++;
        if (k == *ns && *ns < max) sh[(*ns)++] = (conv_shape){l->c, l->n, l->h, l->w};
    }
    net_free(n);
}

/* Each shape at its real channel counts: the backward-weights kernel against
 * float64 (fp32 F(2x2) and F(4x4), bf16 F(2x2) as the layer runs it; default
 * blocks, two threads; bounds of part 1b) and the layer, winograd against direct
 * (forward, backward-data, backward-weights; CFG_LAYER_TOL). */
static void test_cfg_shapes(void) {
    conv_shape sh[32];
    int ns = 0;
    cfg_shapes("cfg/resnet18.cfg", sh, &ns, 32);
    const int paper = ns;
    cfg_shapes("cfg/resnet18-cifar.cfg", sh, &ns, 32);
    CHECK(paper == 4 && ns == 9, "stride-1 3x3 shapes: resnet18 %d (4), with -cifar %d (9)",
          paper, ns);
    double worst[2][2] = {{0}}, lay = 0;
    for (int i = 0; i < ns; i++) {
        weight_case wc;
        weight_case_make(&wc, 2, sh[i].c, sh[i].n, sh[i].h, sh[i].w);
        weight_check(&wc, 2, PREC_FP32, 0, 2, worst);
        weight_check(&wc, 4, PREC_FP32, 0, 2, worst);
        weight_check(&wc, 2, PREC_BF16, 0, 2, worst);
        weight_case_free(&wc);
        lay = fmax(lay, test_layer(sh[i].c, sh[i].n, sh[i].h, sh[i].w, CFG_LAYER_TOL));
    }
    fprintf(stderr,
            "cfg shapes (%d): backward-weights error fp32 F(2x2) %.3g F(4x4) %.3g, bf16 F(2x2) "
            "%.3g; layer difference winograd - direct %.3g\n",
            ns, worst[0][0], worst[0][1], worst[1][0], lay);
}

/* ---- 3. a network: winograd against direct -------------------------------------- */

/* Stem and a residual block on 16x16 maps (F(4x4); the stem's 3 input channels run
 * on OpenBLAS), a 3x3 layer on 8x8 (F(4x4)) and one on 4x4 maps (F(2x2)) after
 * strided convolutions (direct), global pool, fc, softmax. */
static const char *NET =
    NET_STEM16_CFG
    "[convolutional]\nbatch_normalize=1\nfilters=32\nsize=3\npad=1\nactivation=relu\n"
    "[convolutional]\nbatch_normalize=1\nfilters=32\nsize=3\nstride=2\npad=1\nactivation=relu\n"
    "[convolutional]\nbatch_normalize=1\nfilters=32\nsize=3\npad=1\nactivation=relu\n"
    "[avgpool]\n"
    "[connected]\noutput=10\nactivation=linear\n"
    "[softmax]\n";

enum { NB = 8, CLASSES = 10 };

typedef struct {
    double loss;
    float logits[NB * CLASSES], infer[NB * CLASSES];
    float *grads;
    size_t n_params;
    int wino_layers;
    unsigned char *relu; /* [n_relu] the sign (> 0) of every convolution's bn_out */
    size_t n_relu;
} net_result;

/* One training forward and backward, then an inference forward, of a fresh network
 * (seed 3: the same weights every time) built under conv mode `mode`, its GEMMs in
 * precision prec. */
static void run_net(int mode, int prec, const float *x, const int *labels, net_result *r) {
    lir_error err;
    conv_mode_set(mode);
    cfg_file *c = cfg_parse_string(NET, "winograd.cfg", &err);
    net_options opt = {0, 0, 1, 3};
    net *n = c ? net_build(c, &opt, &err) : NULL;
    cfg_free(c);
    memset(r, 0, sizeof *r);
    CHECK(n != NULL, "winograd test net: %s", err.msg);
    if (!n) return;
    net_set_precision(n, prec);
    for (int i = 0; i < n->n_layers; i++)
        r->wino_layers += n->layers[i].type == LAYER_CONV && n->layers[i].u.conv.wino_fwd;
    net_forward(n, x, 1);
    memcpy(r->logits, net_logits(n), sizeof r->logits);
    for (int pass = 0; pass < 2; pass++) { /* count, then fill */
        r->n_relu = 0;
        for (int i = 0; i < n->n_layers; i++) {
            const conv_layer *l = &n->layers[i].u.conv;
            if (n->layers[i].type != LAYER_CONV) continue;
            const size_t sz = (size_t)l->batch * l->n * l->oh * l->ow;
            for (size_t j = 0; pass && j < sz; j++) r->relu[r->n_relu + j] = l->bn_out[j] > 0;
            r->n_relu += sz;
        }
        if (!pass) r->relu = xmalloc(r->n_relu);
    }
    net_zero_grads(n);
    r->loss = net_loss_backward(n, labels, NULL);
    r->n_params = n->n_params;
    r->grads = copy_buf(n->grads, n->n_params);
    net_forward(n, x, 0);
    memcpy(r->infer, net_logits(n), sizeof r->infer);
    net_free(n);
}

/* Bounds: Winograd changes each convolution's output by ~1e-6 relative (part 2), so
 * the loss and logits move by about that (measured with inputs from seeds 5..9:
 * loss 3e-8 .. 2e-7, logits 1.0e-6 .. 1.3e-6 relative L2) and so do the parameter
 * gradients (2.9e-6 .. 3.1e-6 relative L2 over all of them), unless a
 * pre-activation lies so close to 0 that the two runs see a different ReLU pattern:
 * then the gradient of that unit changes by its whole size (seed 5: the sign of 1
 * of the 139,264 batch-norm outputs differs, gradients 4.4e-3 relative L2).
 * Bounds: 1e-5 loss, 1e-4 logits, gradients 1e-4 with the same ReLU pattern and
 * 2e-2 otherwise (at most 3 flips), against ~1 for a wrong convolution (and bf16's
 * 1e-2 .. 0.3). */
/* FNV-1a over the bits of n floats, continuing from h. */
static uint64_t bits_hash(uint64_t h, const float *v, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &v[i], sizeof u);
        h = (h ^ u) * 1099511628211ull;
    }
    return h;
}

static void test_net(void) {
    rng_state r;
    rng_seed(&r, 5);
    float x[NB * 3 * 16 * 16];
    int labels[NB];
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) x[i] = rng_normal(&r);
    for (int b = 0; b < NB; b++) labels[b] = (int)rng_below(&r, CLASSES);
    net_result d, g, b;
    run_net(CONV_DIRECT, PREC_FP32, x, labels, &d);
    run_net(CONV_WINOGRAD, PREC_FP32, x, labels, &g);
    run_net(CONV_WINOGRAD, PREC_BF16, x, labels, &b);
    if (!d.grads || !g.grads || !b.grads) return;
    CHECK(d.wino_layers == 0 && g.wino_layers == 5, "winograd layers: direct %d, winograd %d (5)",
          d.wino_layers, g.wino_layers);
    /* the kernels levels that share their GEMMs (generic and avx2: OpenBLAS) must
     * give the same bits: test_kernel_levels.sh compares this line across them */
    uint64_t h = 14695981039346656037ull;
    const net_result *all[3] = {&d, &g, &b};
    for (int i = 0; i < 3; i++) {
        h = bits_hash(h, all[i]->logits, NB * CLASSES);
        h = bits_hash(h, all[i]->infer, NB * CLASSES);
        h = bits_hash(h, all[i]->grads, all[i]->n_params);
    }
    fprintf(stderr, "training bits %016llx\n", (unsigned long long)h);
    const double le = fabs(g.loss - d.loss) / d.loss;
    const double ge = rel_l2(g.logits, d.logits, NB * CLASSES);
    const double ie = rel_l2(g.infer, d.infer, NB * CLASSES);
    const double de = rel_l2(g.grads, d.grads, d.n_params);
    int flips = 0;
    for (size_t i = 0; i < d.n_relu && d.n_relu == g.n_relu; i++) flips += d.relu[i] != g.relu[i];
    const double dtol = flips ? 2e-2 : 1e-4;
    fprintf(stderr,
            "net: loss %.3g, logits %.3g, inference logits %.3g, gradients %.3g (relative); "
            "%d of %zu ReLUs flipped\n",
            le, ge, ie, de, flips, d.n_relu);
    CHECK(d.n_relu == g.n_relu && flips <= 3, "ReLU patterns alike (%d flipped)", flips);
    CHECK(le <= 1e-5, "winograd loss off by %.3g relative (> 1e-5)", le);
    CHECK(ge <= 1e-4 && ie <= 1e-4, "winograd logits off by %.3g / %.3g relative L2 (> 1e-4)", ge,
          ie);
    CHECK(de <= dtol, "winograd gradients off by %.3g relative L2 (> %g)", de, dtol);
    CHECK(de > 0, "winograd changed the gradients (it ran)");
    /* bf16 (Winograd runs F(2x2) there) against fp32 direct. Measured, inputs from
     * seeds 5..7: loss 2.5e-4 .. 8.3e-4 relative, logits 4.9e-3 .. 5.7e-3, gradients
     * 0.15 .. 0.18 relative L2; the direct convolution in bf16: 3.7e-5 .. 4.2e-4,
     * 2.9e-3 .. 3.7e-3, 0.12 .. 0.14 (see test_bf16_net.c for why the gradients move
     * that much). Bounds: 3e-3, 3e-2, 0.4. */
    const double ble = fabs(b.loss - d.loss) / d.loss;
    const double bge = rel_l2(b.logits, d.logits, NB * CLASSES);
    const double bde = rel_l2(b.grads, d.grads, d.n_params);
    fprintf(stderr,
            "net bf16 winograd against fp32 direct: loss %.3g, logits %.3g, gradients %.3g\n",
            ble, bge, bde);
    CHECK(ble <= 3e-3 && bge <= 3e-2 && bde <= 0.4,
          "bf16 winograd: loss %.3g, logits %.3g, gradients %.3g off fp32 direct", ble, bge, bde);
    free(d.grads), free(g.grads), free(b.grads), free(d.relu), free(g.relu), free(b.relu);
}

/* LIR_CONV's modes: direct never, winograd F(4x4) from 8x8 maps and F(2x2) below,
 * auto as conv_algo.c's table says for the shapes it was measured on. */
static void test_modes(void) {
    static const int rows[][5] = {/* c, map, auto forward, backward-data, backward-weights */
                                  {64, 32, 4, 4, 4},  {128, 16, 4, 4, 4}, {256, 8, 4, 4, 4},
                                  {64, 8, 4, 4, 4},   {512, 4, 2, 2, 2},  {128, 4, 0, 2, 4},
                                  {256, 2, 0, 0, 2},  {512, 1, 0, 0, 0},  {3, 32, 0, 0, 0}};
    static const char *dirs[3] = {"fwd", "bwd-data", "bwd-weights"};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const int c = rows[i][0], h = rows[i][1];
        for (int dir = 0; dir < 3; dir++) {
            const int a = conv_winograd_tile(CONV_AUTO, dir, c, c, h, h);
            const int wg = conv_winograd_tile(CONV_WINOGRAD, dir, c, c, h, h);
            CHECK(a == rows[i][2 + dir] && wg == (h >= 8 ? 4 : 2) &&
                      conv_winograd_tile(CONV_DIRECT, dir, c, c, h, h) == 0,
                  "%d ch %dx%d %s: auto %d, winograd %d", c, h, h, dirs[dir], a, wg);
        }
    }
    CHECK(conv_mode_parse("auto") == CONV_AUTO && conv_mode_parse("Winograd") == -1,
          "conv_mode_parse");
}

int main(void) {
    rng_seed(&rng, 1);
    omp_set_num_threads(2);
    test_modes();
    test_kernel();
    test_panels();
    test_weight_kernel();
    test_layers();
    test_bf16_auto();
    test_cfg_shapes();
    test_net();
    conv_mode_set(-1);
    return check_done("test_winograd");
}
