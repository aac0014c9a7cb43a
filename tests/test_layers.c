/* test_layers.c: the convolution layer (with and without batch norm, every
 * activation, kernel sizes 1/3/7, strides 1/2, padding) against a direct
 * convolution + BN formula (forward) and central finite differences (backward,
 * see layer_check.h), in training and inference mode; running statistics, output
 * shapes, accumulation, chunking and threading. */
#include <math.h>
#include <omp.h>
#include <string.h>

#include "nn/activation.h"
#include "kernels/kernels.h"
#include "nn/energy.h"
#include "layer_check.h"
#include "nn/nn.h"

/* ---- convolution ------------------------------------------------------------ */

typedef struct {
    int c, h, w, n, size, stride, pad, bn;
    activation act;
    int batch;
} conv_cfg;

typedef struct {
    conv_layer *l;
    float *x, *r, *out, *ws;
    int train;
} conv_ctx;

static double conv_loss(void *p, uint64_t *sig) {
    conv_ctx *c = p;
    conv_layer *l = c->l;
    const size_t n = (size_t)l->batch * l->n * l->oh * l->ow;
    conv_forward(l, c->x, c->out, c->train, c->ws, NULL, NULL);
    *sig = l->act == ACT_LINEAR ? 0 : sign_hash(l->bn_out, n, 14695981039346656037ull);
    return dot(c->out, c->r, n);
}

/* Direct convolution + BN + activation in double. stats: 1 batch, 0 running. */
static void conv_naive(const conv_layer *l, const float *x, int stats, double *conv,
                       double *bn, double *out) {
    const int S = l->oh * l->ow;
    for (int b = 0; b < l->batch; b++)
        for (int f = 0; f < l->n; f++)
            for (int oy = 0; oy < l->oh; oy++)
                for (int ox = 0; ox < l->ow; ox++) {
                    double s = l->batch_normalize ? 0 : l->biases[f];
                    for (int ch = 0; ch < l->c; ch++)
                        for (int ky = 0; ky < l->size; ky++)
                            for (int kx = 0; kx < l->size; kx++) {
                                int y = oy * l->stride - l->pad + ky;
                                int xx = ox * l->stride - l->pad + kx;
                                if (y < 0 || y >= l->h || xx < 0 || xx >= l->w) continue;
                                s += (double)l->weights[((f * l->c + ch) * l->size + ky) *
                                                            l->size + kx] *
                                     x[((b * l->c + ch) * l->h + y) * l->w + xx];
                            }
                    conv[(b * l->n + f) * S + oy * l->ow + ox] = s;
                }
    const int N = l->batch * S;
    for (int f = 0; f < l->n; f++) {
        double mean = 0, var = 0;
        if (l->batch_normalize && stats) {
            for (int b = 0; b < l->batch; b++)
                for (int s = 0; s < S; s++) mean += conv[(b * l->n + f) * S + s];
            mean /= N;
            for (int b = 0; b < l->batch; b++)
                for (int s = 0; s < S; s++) {
                    double d = conv[(b * l->n + f) * S + s] - mean;
                    var += d * d;
                }
            var /= N; /* biased: PyTorch normalises with it */
        } else if (l->batch_normalize) {
            mean = l->rolling_mean[f];
            var = l->rolling_var[f];
        }
        for (int b = 0; b < l->batch; b++)
            for (int s = 0; s < S; s++) {
                int i = (b * l->n + f) * S + s;
                double v = conv[i];
                if (l->batch_normalize)
                    v = l->scales[f] * (v - mean) / sqrt(var + l->bn_eps) + l->biases[f];
                bn[i] = v;
                out[i] = l->act == ACT_RELU ? (v > 0 ? v : 0)
                         : l->act == ACT_LEAKY ? (v > 0 ? v : 0.1 * v)
                                               : v;
            }
    }
}

static void conv_zero_grads(conv_layer *l, float *din, size_t nin) {
    const size_t nout = (size_t)l->batch * l->n * l->oh * l->ow;
    memset(l->dweights, 0, sizeof(float) * l->n * l->c * l->size * l->size);
    memset(l->dbiases, 0, sizeof(float) * l->n);
    if (l->dscales) memset(l->dscales, 0, sizeof(float) * l->n);
    memset(l->dconv_out, 0, sizeof(float) * nout);
    memset(l->dbn_out, 0, sizeof(float) * nout);
    memset(din, 0, sizeof(float) * nin);
}

static void check_forward(const char *tag, conv_layer *l, const float *x, const float *out,
                          int stats) {
    const size_t nout = (size_t)l->batch * l->n * l->oh * l->ow;
    double *conv = xmalloc(nout * sizeof(double)), *bn = xmalloc(nout * sizeof(double)),
           *ref = xmalloc(nout * sizeof(double));
    conv_naive(l, x, stats, conv, bn, ref);
    /* float32 sums of c*k*k products of O(1) values: ~1e-6 relative error; BN divides by
     * the batch std (O(1) here), so the same bound holds after it. */
    double e_conv = 0, e_bn = 0, e_out = 0;
    for (size_t i = 0; i < nout; i++) {
        e_conv = fmax(e_conv, fabs(l->conv_out[i] - conv[i]) / (1 + fabs(conv[i])));
        e_bn = fmax(e_bn, fabs(l->bn_out[i] - bn[i]) / (1 + fabs(bn[i])));
        e_out = fmax(e_out, fabs(out[i] - ref[i]) / (1 + fabs(ref[i])));
    }
    CHECK(e_conv < 1e-5, "%s: conv_out differs from direct convolution by %g", tag, e_conv);
    CHECK(e_bn < 1e-5, "%s: bn_out differs from the BN formula by %g", tag, e_bn);
    CHECK(e_out < 1e-5, "%s: output differs from act(bn) by %g", tag, e_out);
    free(conv), free(bn), free(ref);
}

static void test_conv_config(const conv_cfg *k, int idx) {
    char tag[128];
    snprintf(tag, sizeof(tag), "conv#%d %dx%d/%d pad %d bn %d %s", idx, k->size, k->size,
             k->stride, k->pad, k->bn, activation_name(k->act));
    conv_layer l;
    lir_error err;
    CHECK(conv_make(&l, k->c, k->h, k->w, k->n, k->size, k->stride, k->pad, k->bn, k->act,
                    k->batch, 1, &rng, &err) == 0,
          "%s: init", tag);
    CHECK(l.oh == (k->h + 2 * k->pad - k->size) / k->stride + 1 &&
              l.ow == (k->w + 2 * k->pad - k->size) / k->stride + 1,
          "%s: output shape %dx%d", tag, l.oh, l.ow);
    const size_t nin = (size_t)k->batch * k->c * k->h * k->w;
    const size_t nout = (size_t)k->batch * k->n * l.oh * l.ow;
    const size_t nw = (size_t)k->n * k->c * k->size * k->size;
    float *x = rand_buf(nin, 1.0f), *r = rand_buf(nout, 1.0f);
    float *out = xmalloc(nout * sizeof(float)), *din = xmalloc(nin * sizeof(float));
    float *ws = xmalloc(conv_workspace_size(&l) * sizeof(float));
    if (!k->bn)
        for (int i = 0; i < k->n; i++) l.biases[i] = 0.5f * (2 * rng_uniform(&rng) - 1);
    else
        for (int i = 0; i < k->n; i++) {
            l.scales[i] = 0.5f + rng_uniform(&rng);
            l.biases[i] = 0.3f * (2 * rng_uniform(&rng) - 1);
        }
    conv_ctx ctx = {&l, x, r, out, ws, 1};

    for (int mode = 1; mode >= (k->bn ? 0 : 1); mode--) {
        char t2[160];
        snprintf(t2, sizeof(t2), "%s %s", tag, mode ? "train" : "inference");
        if (!mode)
            for (int i = 0; i < k->n; i++) {
                l.rolling_mean[i] = 0.5f * (2 * rng_uniform(&rng) - 1);
                l.rolling_var[i] = 0.5f + rng_uniform(&rng);
            }
        ctx.train = mode;
        conv_zero_grads(&l, din, nin);
        conv_forward(&l, x, out, mode, ws, NULL, NULL);
        check_forward(t2, &l, x, out, mode);
        conv_backward(&l, x, out, r, din, ws);
        float *gw = xmalloc(nw * sizeof(float)), *gb = xmalloc(k->n * sizeof(float));
        float *gs = xmalloc(k->n * sizeof(float)), *gx = xmalloc(nin * sizeof(float));
        memcpy(gw, l.dweights, nw * sizeof(float));
        memcpy(gb, l.dbiases, k->n * sizeof(float));
        if (k->bn) memcpy(gs, l.dscales, k->n * sizeof(float));
        memcpy(gx, din, nin * sizeof(float));

        /* Accumulation: a second backward adds the same amount again. The hook-point
         * gradients are not: with no hook there (dbn_add = dconv_add = 0, as built)
         * backward overwrites them, whatever they held. */
        for (size_t i = 0; i < nout; i++) l.dconv_out[i] = l.dbn_out[i] = NAN;
        conv_backward(&l, x, out, r, din, ws);
        double e2 = 0;
        for (size_t i = 0; i < nw; i++) e2 = fmax(e2, fabs(l.dweights[i] - 2 * gw[i]));
        for (size_t i = 0; i < nin; i++) e2 = fmax(e2, fabs(din[i] - 2 * gx[i]));
        for (int i = 0; i < k->n; i++) e2 = fmax(e2, fabs(l.dbiases[i] - 2 * gb[i]));
        CHECK(e2 <= 1e-5 * (1 + max_abs(gw, nw) + max_abs(gx, nin)),
              "%s: second backward does not double the gradients (%g)", t2, e2);
        /* Where a hook adds (dbn_add = dconv_add = 1), backward adds to what dconv_out
         * holds: onto its own last result (dbn_out cleared, unless they alias) it
         * doubles it. */
        float *d1 = xmalloc(nout * sizeof(float));
        memcpy(d1, l.dconv_out, nout * sizeof(float));
        if (l.dbn_out != l.dconv_out) memset(l.dbn_out, 0, nout * sizeof(float));
        l.dconv_add = l.dbn_add = 1;
        conv_backward(&l, x, out, r, din, ws);
        l.dconv_add = l.dbn_add = 0;
        double e3 = 0;
        for (size_t i = 0; i < nout; i++) e3 = fmax(e3, fabs(l.dconv_out[i] - 2 * d1[i]));
        CHECK(e3 <= 1e-5 * (1 + max_abs(d1, nout)),
              "%s: backward with dconv_add does not add to dconv_out (%g)", t2, e3);
        free(d1);

        /* Tolerances. Without BN the layer is linear in x, W and b, so the central
         * difference is exact up to float32 rounding of L (~1e-6 relative) divided by
         * 2h = 2e-2: atol 1e-3 of the largest gradient. With BN the loss is smooth but
         * curved (the batch statistics); h = 1e-2 on O(1) values leaves an O(h^2)
         * truncation term, covered by rtol 1e-2 and atol 3e-3. */
        const float h = 1e-2f;
        const double atol = k->bn ? 3e-3 : 1e-3, rtol = 1e-2;
        char nm[200];
        snprintf(nm, sizeof(nm), "%s dinput", t2);
        fd_check(nm, x, nin, gx, conv_loss, &ctx, h, atol, rtol, 60);
        snprintf(nm, sizeof(nm), "%s dweights", t2);
        fd_check(nm, l.weights, nw, gw, conv_loss, &ctx, h, atol, rtol, 60);
        snprintf(nm, sizeof(nm), "%s dbiases", t2);
        fd_check(nm, l.biases, k->n, gb, conv_loss, &ctx, h, atol, rtol, 60);
        if (k->bn) {
            snprintf(nm, sizeof(nm), "%s dscales", t2);
            fd_check(nm, l.scales, k->n, gs, conv_loss, &ctx, h, atol, rtol, 60);
        }
        free(gw), free(gb), free(gs), free(gx);
    }
    free(x), free(r), free(out), free(din), free(ws);
    conv_unmake(&l);
}

/* Running statistics after one training forward from mean 0 / var 1:
 * running = 0.9 * old + 0.1 * batch, with the unbiased batch variance. */
static void test_running_stats(void) {
    conv_layer l;
    CHECK(conv_make(&l, 3, 6, 6, 4, 3, 1, 1, 1, ACT_RELU, 3, 1, &rng, NULL) == 0, "init");
    const size_t nin = 3 * 3 * 6 * 6, nout = (size_t)3 * 4 * 36;
    float *x = rand_buf(nin, 2.0f), *out = xmalloc(nout * sizeof(float));
    float *ws = xmalloc(conv_workspace_size(&l) * sizeof(float));
    conv_forward(&l, x, out, 1, ws, NULL, NULL);
    double *conv = xmalloc(nout * sizeof(double)), *bn = xmalloc(nout * sizeof(double)),
           *ref = xmalloc(nout * sizeof(double));
    conv_naive(&l, x, 1, conv, bn, ref);
    for (int f = 0; f < 4; f++) {
        double mean = 0, sq = 0;
        for (int b = 0; b < 3; b++)
            for (int s = 0; s < 36; s++) mean += conv[(b * 4 + f) * 36 + s];
        mean /= 108;
        for (int b = 0; b < 3; b++)
            for (int s = 0; s < 36; s++) sq += pow(conv[(b * 4 + f) * 36 + s] - mean, 2);
        CHECK_CLOSE(l.rolling_mean[f], 0.1 * mean, 1e-6, 1e-5, "running mean");
        CHECK_CLOSE(l.rolling_var[f], 0.9 + 0.1 * sq / 107, 1e-6, 1e-5, "running var");
        CHECK_CLOSE(l.var[f], sq / 108, 1e-6, 1e-5, "batch var (biased)");
    }
    CHECK(l.bn_momentum == 0.1f && l.bn_eps == 1e-5f, "BN defaults momentum 0.1, eps 1e-5");
    free(x), free(out), free(ws), free(conv), free(bn), free(ref);
    conv_unmake(&l);
}

/* Chunked (one image per GEMM) and unchunked runs agree. */
static void test_conv_chunking(void) {
    conv_layer a, b;
    rng_state r1 = rng, r2 = rng;
    CHECK(conv_make(&a, 5, 9, 9, 6, 3, 2, 1, 1, ACT_LEAKY, 4, 1, &r1, NULL) == 0, "init");
    CHECK(conv_make(&b, 5, 9, 9, 6, 3, 2, 1, 1, ACT_LEAKY, 4, 1, &r2, NULL) == 0, "init");
    const size_t nin = (size_t)4 * 5 * 81, nout = (size_t)4 * 6 * a.oh * a.ow;
    float *x = rand_buf(nin, 1.0f), *r = rand_buf(nout, 1.0f);
    float *oa = xmalloc(nout * 4), *ob = xmalloc(nout * 4);
    float *da = xcalloc(nin, 4), *db = xcalloc(nin, 4);
    float *wa = xmalloc(conv_workspace_size(&a) * 4);
    conv_forward(&a, x, oa, 1, wa, NULL, NULL);
    conv_backward(&a, x, oa, r, da, wa);
    const size_t saved = gemm_workspace_limit;
    gemm_workspace_limit = 1;
    const size_t one = (size_t)(5 * 9 + 6) * a.oh * a.ow;
    CHECK(conv_workspace_size(&b) >= one, "workspace of a one-image chunk: %zu",
          conv_workspace_size(&b));
    float *wb = xmalloc(conv_workspace_size(&b) * 4);
    conv_forward(&b, x, ob, 1, wb, NULL, NULL);
    conv_backward(&b, x, ob, r, db, wb);
    gemm_workspace_limit = saved;
    double e = 0;
    for (size_t i = 0; i < nout; i++) e = fmax(e, fabs(oa[i] - ob[i]));
    for (size_t i = 0; i < nin; i++) e = fmax(e, fabs(da[i] - db[i]));
    for (int i = 0; i < 6 * 45; i++) e = fmax(e, fabs(a.dweights[i] - b.dweights[i]));
    CHECK(e < 1e-4, "chunked and unchunked convolution differ by %g", e);
    free(x), free(r), free(oa), free(ob), free(da), free(db), free(wa), free(wb);
    conv_unmake(&a), conv_unmake(&b);
}

/* A layer big enough to split its batch over threads (each thread its own chunks
 * and private dW) agrees with the same layer run on one thread, with one and with
 * several chunks per thread; on a 1x1 map also with the centre tap alone, and on
 * 2x2 and 4x4 maps with one GEMM per class of output positions. */
static void test_conv_threads(int B, int C, int H, int N) {
    conv_layer l[3];
    float *out[3], *din[3], *ws[3];
    const size_t nin = (size_t)B * C * H * H, nout = (size_t)B * N * H * H;
    float *x = rand_buf(nin, 1.0f), *r = rand_buf(nout, 1.0f);
    const int threads = omp_get_max_threads();
    const size_t saved = gemm_workspace_limit;
    for (int v = 0; v < 3; v++) {
        rng_state rr = rng;
        CHECK(conv_make(&l[v], C, H, H, N, 3, 1, 1, 1, ACT_RELU, B, 1, &rr, NULL) == 0, "init");
        omp_set_num_threads(v == 0 ? 1 : threads);
        gemm_workspace_limit = v == 2 ? (size_t)(C * 9 + N) * H * H : saved; /* 1 image */
        out[v] = xmalloc(nout * 4), din[v] = xcalloc(nin, 4);
        ws[v] = xmalloc(conv_workspace_size(&l[v]) * 4);
        conv_forward(&l[v], x, out[v], 1, ws[v], NULL, NULL);
        conv_backward(&l[v], x, out[v], r, din[v], ws[v]);
    }
    omp_set_num_threads(threads);
    gemm_workspace_limit = saved;
    for (int v = 1; v < 3; v++) {
        double e = 0;
        for (size_t i = 0; i < nout; i++) e = fmax(e, fabs(out[v][i] - out[0][i]));
        for (size_t i = 0; i < nin; i++) e = fmax(e, fabs(din[v][i] - din[0][i]));
        for (int i = 0; i < N * C * 9; i++)
            e = fmax(e, fabs(l[v].dweights[i] - l[0].dweights[i]) / (1 + fabs(l[0].dweights[i])));
        for (int i = 0; i < N; i++)
            e = fmax(e, fabs(l[v].rolling_var[i] - l[0].rolling_var[i]) +
                            fabs(l[v].dscales[i] - l[0].dscales[i]) / (1 + fabs(l[0].dscales[i])));
        CHECK(e < 1e-4, "variant %d (%d threads) differs from one thread by %g", v, threads, e);
    }
    for (int v = 0; v < 3; v++) free(out[v]), free(din[v]), free(ws[v]), conv_unmake(&l[v]);
    free(x), free(r);
}

/* The inference forward (running statistics) gives the same bits on 1 and on 3
 * threads, whichever GEMMs run: lir eval's network copies (--threads) rely on it.
 * It failed with OpenBLAS's GEMMs when the batch's chunks were rounded to a
 * multiple of the threads (layer_conv.c: OpenBLAS's bits for an element of C can
 * change with its place in C). */
static void test_conv_inference_threads(int B, int C, int H, int N) {
    const size_t nin = (size_t)B * C * H * H, nout = (size_t)B * N * H * H;
    float *x = rand_buf(nin, 1.0f), *out[2];
    const int threads = omp_get_max_threads();
    for (int v = 0; v < 2; v++) {
        conv_layer l;
        rng_state rr = rng;
        CHECK(conv_make(&l, C, H, H, N, 3, 1, 1, 1, ACT_RELU, B, 0, &rr, NULL) == 0, "init");
        for (int i = 0; i < N; i++) l.rolling_mean[i] = 0.1f * i, l.rolling_var[i] = 1 + 0.01f * i;
        omp_set_num_threads(v == 0 ? 1 : 3);
        float *ws = xmalloc(conv_workspace_size(&l) * 4);
        out[v] = xmalloc(nout * 4);
        conv_forward(&l, x, out[v], 0, ws, NULL, NULL);
        free(ws);
        conv_unmake(&l);
    }
    omp_set_num_threads(threads);
    CHECK(memcmp(out[0], out[1], nout * 4) == 0,
          "inference forward %d x %d @ %dx%d: 3 threads differ from 1", B, C, H, H);
    free(out[0]), free(out[1]), free(x);
}

/* An inference-only layer keeps conv_out / bn_out for one image per thread: the
 * energies its epilogue computes there equal energy_forward over the batch buffers
 * of a training layer (same weights and running statistics), and so do the
 * outputs. With the GEMM workspace at its minimum each image is a chunk and the
 * threads run chunks side by side; with the default, one chunk and the threads
 * inside the epilogue. (Two threads sharing a slot would be a race, which this
 * check catches only by chance: the epilogue is short against the GEMMs.) */
static void test_conv_inference_energies(int B, int C, int H, int N) {
    const size_t nin = (size_t)B * C * H * H, nout = (size_t)B * N * H * H;
    const size_t saved = gemm_workspace_limit;
    const int threads = omp_get_max_threads();
    float *x = rand_buf(nin, 1.0f), *out[2], e[4][64];
    conv_layer l[2];
    for (int v = 0; v < 2; v++) {
        rng_state rr = rng;
        CHECK(conv_make(&l[v], C, H, H, N, 3, 1, 1, 1, ACT_RELU, B, v, &rr, NULL) == 0, "init");
        for (int i = 0; i < N; i++)
            l[v].rolling_mean[i] = 0.1f * i, l[v].rolling_var[i] = 1 + 0.01f * i;
        out[v] = xmalloc(nout * 4);
    }
    omp_set_num_threads(3);
    for (int lim = 0; lim < 2; lim++) {
        gemm_workspace_limit = lim ? saved : 1;
        for (int v = 0; v < 2; v++) {
            float *ws = xmalloc(conv_workspace_size(&l[v]) * 4);
            /* energies from the inference-only layer's epilogue only */
            conv_forward(&l[v], x, out[v], 0, ws, v ? NULL : e[0], v ? NULL : e[1]);
            free(ws);
        }
        energy_forward(l[1].conv_out, B, N * H * H, e[2]);
        energy_forward(l[1].bn_out, B, N * H * H, e[3]);
        CHECK(!memcmp(e[0], e[2], B * 4) && !memcmp(e[1], e[3], B * 4) &&
                  !memcmp(out[0], out[1], nout * 4),
              "inference-only layer %d x %d @ %dx%d (%s workspace): energies and outputs equal "
              "the batch buffers'",
              B, C, H, H, lim ? "default" : "minimum");
    }
    omp_set_num_threads(threads);
    gemm_workspace_limit = saved;
    for (int v = 0; v < 2; v++) conv_unmake(&l[v]), free(out[v]);
    free(x);
}

static void test_conv_shapes_and_inference(void) {
    /* {h, size, stride, pad, expected oh} for the two ResNet-18 variants and more */
    const int cases[][5] = {{32, 7, 2, 3, 16}, {32, 3, 1, 1, 32}, {16, 3, 2, 1, 8},
                            {8, 1, 2, 0, 4},   {2, 3, 2, 1, 1},   {5, 2, 2, 0, 2},
                            {7, 3, 2, 0, 3},   {1, 3, 1, 1, 1}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        conv_layer l;
        CHECK(conv_make(&l, 2, cases[i][0], cases[i][0], 3, cases[i][1], cases[i][2],
                        cases[i][3], 1, ACT_RELU, 1, 0, &rng, NULL) == 0,
              "init case %zu", i);
        CHECK(l.oh == cases[i][4] && l.ow == cases[i][4], "case %zu: oh %d, want %d", i, l.oh,
              cases[i][4]);
        CHECK(!l.dweights && !l.dbiases && !l.dscales && !l.dconv_out && !l.dbn_out,
              "inference layer allocates no gradients");
        param_tensor p[3];
        CHECK(conv_params(&l, p) == 3 && p[0].decay == 1 && p[1].decay == 0 && p[2].decay == 0,
              "conv params: weights (decay), beta, gamma");
        conv_unmake(&l);
    }
    conv_layer l;
    lir_error err;
    CHECK(conv_make(&l, 2, 2, 2, 3, 5, 1, 1, 0, ACT_RELU, 1, 0, &rng, &err) == -1 &&
              strstr(err.msg, "kernel 5"),
          "kernel larger than the padded input is refused");
    /* He uniform: |w| <= sqrt(6 / fan_in) and variance near bound^2 / 3 */
    CHECK(conv_make(&l, 16, 4, 4, 32, 3, 1, 1, 0, ACT_RELU, 1, 0, &rng, NULL) == 0, "init");
    double bound = sqrt(6.0 / 144), sq = 0;
    const size_t nw = 32 * 144;
    CHECK(max_abs(l.weights, nw) <= bound, "He bound");
    for (size_t i = 0; i < nw; i++) sq += (double)l.weights[i] * l.weights[i];
    CHECK_CLOSE(sq / nw, bound * bound / 3, 0, 0.1, "He uniform variance");
    conv_unmake(&l);
}

int main(void) {
    rng_seed(&rng, 1234);
    const conv_cfg cfgs[] = {
        {3, 7, 7, 4, 3, 1, 1, 0, ACT_LINEAR, 2}, /* 3x3 s1 p1, bias, no BN */
        {3, 7, 7, 4, 3, 2, 1, 1, ACT_RELU, 3},   /* 3x3 s2 p1, BN, relu */
        {4, 6, 6, 5, 1, 1, 0, 1, ACT_LEAKY, 2},  /* 1x1 s1 */
        {4, 6, 6, 3, 1, 2, 0, 1, ACT_LINEAR, 2}, /* 1x1 s2: ResNet projection shortcut */
        {3, 9, 9, 4, 7, 2, 3, 1, ACT_RELU, 2},   /* 7x7 s2 p3: ImageNet-style stem */
        {2, 5, 6, 3, 3, 1, 0, 0, ACT_RELU, 2},   /* no padding, non-square */
        {3, 8, 8, 4, 3, 2, 1, 0, ACT_LEAKY, 2},  /* 3x3 s2 without BN */
        {3, 5, 5, 4, 3, 1, 1, 1, ACT_RELU, 4},   /* BN, relu, stride 1 */
        {5, 1, 1, 4, 3, 1, 1, 1, ACT_RELU, 6},   /* 1x1 map: only the centre tap */
        {4, 2, 2, 3, 3, 2, 1, 0, ACT_LEAKY, 3},  /* 2x2 -> 1x1, stride 2: 4 taps */
        {3, 2, 2, 4, 3, 1, 1, 1, ACT_RELU, 3},   /* 2x2 map: a GEMM per position */
        {256, 4, 4, 2, 3, 1, 1, 1, ACT_LINEAR, 2}, /* 4x4 map: corner/edge/interior GEMMs */
    };
    for (size_t i = 0; i < sizeof(cfgs) / sizeof(cfgs[0]); i++) test_conv_config(&cfgs[i], (int)i);
    test_running_stats();
    test_conv_chunking();
    test_conv_threads(8, 16, 16, 16);
    test_conv_threads(64, 256, 1, 256);
    test_conv_threads(64, 128, 2, 64); /* 2x2 map: one GEMM per output position */
    test_conv_threads(16, 256, 4, 32); /* 4x4 map: one GEMM per class of positions */
    test_conv_inference_threads(10, 16, 16, 16);
    test_conv_inference_threads(12, 64, 8, 64);
    test_conv_inference_threads(16, 256, 4, 32);
    test_conv_inference_energies(64, 16, 16, 16);
    test_conv_shapes_and_inference();
    return check_done("test_layers");
}

