/* layer_conv.c: convolution with optional fused batch norm and activation.
 *
 * The convolution runs as batched GEMM: a chunk of images is unrolled by
 * im2col into col[c*k*k][chunk*oh*ow], one sgemm gives [n][chunk*oh*ow], which is
 * scattered to NCHW. Backward gathers dconv_out into the same [n][chunk*oh*ow]
 * layout, then dW += g * col^T (one sgemm) and dcol = W^T * g, col2im into din.
 * Batch norm and activation are fused into the scatter / gather passes
 * (layer_conv_bn.c), so each activation tensor is walked as few times as possible.
 * Kernel taps that only read zero padding (most of a 3x3 kernel on a 1x1 or 2x2
 * map) are left out of im2col and the GEMMs.
 * Stride-1 pad-1 3x3 layers may run the forward, the backward-data and the
 * backward-weights convolution by Winograd instead (kernels/winograd.c,
 * winograd_grad.c; LIR_CONV, chosen per layer and direction at init: wino_fwd,
 * wino_bwd, wino_dw): the forward writes the same g [n][chunk*oh*ow]; backward-data
 * and backward-weights each run over the whole batch after the chunks, reading
 * dconv_out (which the chunks' gather completes) and adding into din / dweights. */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "kernels/kernels.h"
#include "layer_conv_bn.h"
#include "layer_conv_taps.h"
#include "nn.h"

/* Most threads a convolution call uses: its scratch (conv_layer.sums) and the
 * workspace are sized for min(cores, this). */
enum { CONV_MAX_THREADS = 8 };

/* How one call splits the batch: `chunks` chunks of at most `chunk` images, each
 * im2col + GEMM (one, or one per class of positions) over a workspace slice of `per_thread`
 * floats. With outer = 1 the threads take whole chunks (no barrier inside a
 * chunk, one private dW per thread in backward); otherwise chunks run in order
 * and every kernel is parallel inside (a batch too small to split, or one thread).
 * GEMM depth: K = c * taps of the set. With compact = 1 (taps left out) the
 * weights of the active taps are gathered into wk, [n][c*count[s]] per set.
 * With a Winograd tile (wino: forward or backward-data by Winograd, wino_dw:
 * backward-weights, see conv_wino_shape) the workspace also holds the transformed
 * filters (wino_u floats, then the same packed for the GEMMs; backward-data only)
 * and the Winograd scratch of each working thread (wino_scr floats each, the most
 * of backward-data and backward-weights, which run one after the other); a
 * Winograd forward needs only g [n][S] per image of its slice. */
typedef struct {
    int threads, chunk, chunks, outer, compact;
    int kmax;        /* largest K over the sets */
    size_t nk;       /* floats of the gathered weights (n * c * all taps) */
    size_t per_thread;
    int wino;        /* Winograd tile m of the forward or backward-data, 0: direct */
    int wino_dw;     /* backward: Winograd tile of the weight gradient, 0: direct */
    int wino_prec, wino_dw_prec; /* the precision of their GEMMs */
    size_t wino_u, wino_scr;
} conv_plan;

/* Upper bound on the threads a plan uses (conv_layer.max_threads): the scratch and
 * the workspace are sized for it. */
static int conv_thread_cap(void) {
    const int p = omp_get_num_procs();
    return p < CONV_MAX_THREADS ? p : CONV_MAX_THREADS;
}

int conv_held_images(int batch, int grads) {
    const int t = conv_thread_cap();
    return grads || batch < t ? batch : t;
}

/* The Winograd shape of the layer in direction dir (0 forward and backward-weights,
 * 1 backward-data: channels swapped), tile m. */
static winograd_shape conv_wino_shape(const conv_layer *l, int dir, int m) {
    const int ci = dir ? l->n : l->c, co = dir ? l->c : l->n;
    winograd_shape ws;
    winograd_plan(&ws, m, ci, co, l->h, l->w, 0);
    return ws;
}

/* The Winograd tile a layer's tile m runs in precision prec, and (*wprec) the
 * precision of its GEMMs. In bf16 F(4x4) becomes F(2x2): rounding F(4x4)'s
 * transformed patches to bf16 errs 20x more than the direct convolution in bf16
 * (tests/test_winograd.c), F(2x2) about 2x; or, where conv_winograd_fp32_in_bf16
 * says fp32 F(4x4) is the faster of the two, it stays F(4x4) in fp32. */
static int conv_wino_tile(const conv_layer *l, int m, int prec, int *wprec) {
    *wprec = prec;
    if (m != 4 || prec != PREC_BF16) return m;
    if (!l->wino_fp32) return 2;
    *wprec = PREC_FP32;
    return 4;
}

/* The plan of a forward (dir 0) or backward (dir 1) call on `threads` threads in
 * precision prec. */
static conv_plan conv_plan_for(const conv_layer *l, const tapset *ts, int threads, int dir,
                               int prec) {
    const size_t S = (size_t)l->oh * l->ow;
    conv_plan p;
    p.wino = conv_wino_tile(l, dir ? l->wino_bwd : l->wino_fwd, prec, &p.wino_prec);
    p.wino_dw_prec = prec;
    p.wino_dw = dir ? conv_wino_tile(l, l->wino_dw, prec, &p.wino_dw_prec) : 0;
    p.wino_u = p.wino_scr = 0;
    if (p.wino) {
        const winograd_shape ws = conv_wino_shape(l, dir, p.wino);
        p.wino_u = winograd_filter_floats(&ws) + (winograd_packed_bytes(&ws, p.wino_prec) + 3) / 4;
        p.wino_scr = winograd_scratch_floats(&ws);
    }
    if (p.wino_dw) {
        const winograd_shape ws = conv_wino_shape(l, 0, p.wino_dw);
        const size_t f = winograd_weight_scratch_floats(&ws);
        p.wino_scr = f > p.wino_scr ? f : p.wino_scr;
    }
    p.kmax = 0;
    int pmax = 0, kmin = INT_MAX;
    double work = 0; /* multiply-adds per image and filter */
    for (int s = 0; s < ts->sets; s++) {
        if (l->c * ts->count[s] > p.kmax) p.kmax = l->c * ts->count[s];
        if (l->c * ts->count[s] < kmin) kmin = l->c * ts->count[s];
        if (ts->npos[s] > pmax) pmax = ts->npos[s];
        work += (double)l->c * ts->count[s] * ts->npos[s];
    }
    p.nk = (size_t)l->n * l->c * ts->off[ts->sets];
    p.compact = !ts->global || ts->count[0] < l->size * l->size;
    /* per image: col [K][S] and g [n][S]; by classes: col [K][npos], g [n][S] and
     * the class's GEMM result [n][npos] */
    const size_t per_image = p.wino && !dir ? (size_t)l->n * S
                             : ts->global   ? (size_t)(p.kmax + l->n) * S
                                            : (size_t)(p.kmax + l->n) * pmax + (size_t)l->n * S;
    const int B = l->batch;
    /* tiny layers: thread start-up and barriers cost more than the work */
    if ((double)B * l->n * work < 4e6) threads = 1;
    size_t cmax = gemm_workspace_limit / per_image;
    if (cmax < 1) cmax = 1;
    if (cmax > (size_t)B) cmax = (size_t)B;
    int chunks = (int)((B + cmax - 1) / cmax);
    /* a multiple of the threads, for balance; but where a forward GEMM runs on
     * OpenBLAS the chunks (the GEMMs' shapes) must not depend on the threads, or the
     * results would (gemm_place_exact; a Winograd forward's GEMMs have depth c) */
    const int exact = p.wino && !dir ? gemm_place_exact(p.wino_prec, l->c)
                                     : gemm_place_exact(prec, kmin);
    if (threads > 1 && B >= threads && exact)
        chunks = (chunks + threads - 1) / threads * threads;
    if (chunks > B) chunks = B;
    p.threads = threads;
    p.chunk = (B + chunks - 1) / chunks;
    p.chunks = (B + p.chunk - 1) / p.chunk;
    p.outer = threads > 1 && p.chunks >= threads;
    p.per_thread = per_image * p.chunk;
    return p;
}

static conv_plan conv_plan_now(const conv_layer *l, int dir) {
    int t = omp_get_max_threads();
    if (t > l->max_threads) t = l->max_threads;
    return conv_plan_for(l, l->taps, t, dir, l->precision);
}

/* Workspace layout of a plan: a slice per working thread, then (compact) the
 * gathered weights and one private dW like them per working thread, or (not
 * compact, outer) the private dW of every thread but the first (which adds into
 * dweights); then (Winograd) the transformed filters and the Winograd scratch of
 * every working thread. */
static int conv_slices(const conv_plan *p) { return p->outer ? p->threads : 1; }

static size_t conv_direct_floats(const conv_plan *p) {
    size_t f = conv_slices(p) * p->per_thread;
    if (p->compact) f += p->nk * (1 + conv_slices(p));
    else if (p->outer) f += (p->threads - 1) * p->nk;
    return f;
}

static size_t conv_plan_floats(const conv_plan *p) {
    return conv_direct_floats(p) + p->wino_u + p->threads * p->wino_scr;
}

size_t conv_workspace_size(const conv_layer *l) {
    size_t most = 0;
    for (int t = 1; t <= l->max_threads; t++)
        for (int k = 0; k < 4; k++) { /* direction, precision */
            conv_plan p = conv_plan_for(l, l->taps, t, k & 1, k >> 1 ? PREC_BF16 : PREC_FP32);
            size_t need = conv_plan_floats(&p);
            most = need > most ? need : most;
        }
    return most;
}

/* Winograd's part of the workspace: the transformed filters U of the layer's
 * weights for direction dir and the same packed, written here, and the scratch
 * after them. */
static float *conv_wino_filters(const conv_layer *l, const conv_plan *p, int dir, float *ws) {
    float *u = ws + conv_direct_floats(p);
    const winograd_shape s = conv_wino_shape(l, dir, p->wino);
    winograd_filter(&s, p->wino_prec, l->weights, dir, u, u + winograd_filter_floats(&s));
    return u;
}

/* Weights the GEMMs use: l->weights, or (compact) wk, per set [n][c*count[s]]
 * at n*c*off[s], gathered from the active taps. */
static const float *conv_gemm_weights(const conv_layer *l, const conv_plan *p, const tapset *ts,
                                      float *wk) {
    if (!p->compact) return l->weights;
    const int kk = l->size * l->size;
    for (int s = 0; s < ts->sets; s++) {
        const int cnt = ts->count[s];
        const int *tap = ts->tap + ts->off[s];
        float *dst = wk + (size_t)l->n * l->c * ts->off[s];
        for (size_t fc = 0; fc < (size_t)l->n * l->c; fc++)
            for (int t = 0; t < cnt; t++) dst[fc * cnt + t] = l->weights[fc * kk + tap[t]];
    }
    return wk;
}

/* dweights += a private dW: directly, or scattered back to the active taps. */
static void conv_add_dw(conv_layer *l, const conv_plan *p, const tapset *ts, const float *src) {
    float *dst = l->dweights;
    if (!p->compact) {
        const size_t nk = p->nk;
#pragma omp parallel for schedule(static) if (nk > 65536)
        for (size_t i = 0; i < nk; i++) dst[i] += src[i];
        return;
    }
    const int kk = l->size * l->size;
    for (int s = 0; s < ts->sets; s++) {
        const int cnt = ts->count[s];
        const int *tap = ts->tap + ts->off[s];
        const float *from = src + (size_t)l->n * l->c * ts->off[s];
        for (size_t fc = 0; fc < (size_t)l->n * l->c; fc++)
            for (int t = 0; t < cnt; t++) dst[fc * kk + tap[t]] += from[fc * cnt + t];
    }
}

int conv_init(conv_layer *l, int c, int h, int w, int n, int size, int stride, int pad,
              int batch_normalize, activation act, int batch, int grads, lir_error *err) {
    memset(l, 0, sizeof(*l));
    if (c < 1 || h < 1 || w < 1 || n < 1 || size < 1 || stride < 1 || pad < 0 || batch < 1)
        return lir_fail(err,
                        "convolution: invalid shape (c=%d h=%d w=%d filters=%d size=%d stride=%d "
                        "pad=%d batch=%d)",
                        c, h, w, n, size, stride, pad, batch);
    const int64_t ph = (int64_t)h + 2 * (int64_t)pad, pw = (int64_t)w + 2 * (int64_t)pad;
    if (ph < size || pw < size)
        return lir_fail(err, "convolution: kernel %d larger than padded input %dx%d (pad %d)",
                        size, h, w, pad);
    const uint64_t oh = (uint64_t)(ph - size) / stride + 1, ow = (uint64_t)(pw - size) / stride + 1;
    uint64_t outs, wts;
    if (lir_mul_u64(oh, ow, &outs) || lir_mul_u64(outs, (uint64_t)n, &outs) || outs > INT_MAX ||
        lir_mul_u64((uint64_t)n * c, (uint64_t)size * size, &wts) || wts > INT_MAX)
        return lir_fail(err, "convolution: %d filters of %dx%dx%d over a %llux%llu output hold "
                        "more values than an int counts", n, c, size, size,
                        (unsigned long long)oh, (unsigned long long)ow);
    l->c = c, l->h = h, l->w = w, l->n = n;
    l->size = size, l->stride = stride, l->pad = pad;
    l->oh = (int)oh;
    l->ow = (int)ow;
    l->batch_normalize = batch_normalize;
    l->act = act;
    l->bn_momentum = 0.1f;
    l->bn_eps = 1e-5f;
    l->batch = batch;

    l->max_threads = conv_thread_cap();
    /* an inference-only layer's conv_out / bn_out are only read for its energies,
     * image by image: one image per thread (conv_image_bufs) */
    const size_t nout = (size_t)batch * n * l->oh * l->ow;
    const size_t nkeep = (size_t)conv_held_images(batch, grads) * n * l->oh * l->ow;
    l->conv_out = xcalloc(nkeep, sizeof(float));
    if (batch_normalize) {
        l->rolling_mean = xcalloc(n, sizeof(float));
        l->rolling_var = xmalloc(n * sizeof(float));
        l->mean = xcalloc(n, sizeof(float));
        l->var = xmalloc(n * sizeof(float));
        for (int i = 0; i < n; i++) l->rolling_var[i] = l->var[i] = 1.0f;
        l->bn_out = xcalloc(nkeep, sizeof(float));
    } else {
        l->bn_out = l->conv_out;
    }
    if (size == 3 && stride == 1 && pad == 1) {
        const int mode = conv_mode();
        l->wino_fwd = conv_winograd_tile(mode, 0, c, n, h, w);
        l->wino_bwd = grads ? conv_winograd_tile(mode, 1, c, n, h, w) : 0;
        l->wino_dw = grads ? conv_winograd_tile(mode, 2, c, n, h, w) : 0;
        l->wino_fp32 = conv_winograd_fp32_in_bf16(mode, h, w);
    }
    l->taps = xmalloc(sizeof *l->taps);
    conv_taps_make(l, l->taps);
    l->chan = xmalloc(4 * (size_t)n * sizeof(float));
    l->sums = xmalloc(2 * (size_t)n * l->max_threads * sizeof(double));
    if (grads) {
        l->dconv_out = xcalloc(nout, sizeof(float));
        if (batch_normalize) {
            l->dbn_out = xcalloc(nout, sizeof(float));
        } else {
            l->dbn_out = l->dconv_out;
        }
    }
    return 0;
}

int conv_params(const conv_layer *l, param_tensor *p) {
    int k = 0;
    p[k++] = (param_tensor){(size_t)l->n * l->c * l->size * l->size, 1};
    p[k++] = (param_tensor){(size_t)l->n, 0};
    if (l->batch_normalize) p[k++] = (param_tensor){(size_t)l->n, 0};
    return k;
}

void conv_bind_params(conv_layer *l, float *params, float *grads, rng_state *rng) {
    const size_t nw = (size_t)l->n * l->c * l->size * l->size, n = (size_t)l->n;
    l->weights = params;
    l->biases = params + nw;
    l->scales = l->batch_normalize ? params + nw + n : NULL;
    l->dweights = grads;
    l->dbiases = grads ? grads + nw : NULL;
    l->dscales = grads && l->batch_normalize ? grads + nw + n : NULL;
    /* He (Kaiming) uniform for ReLU: U(-b, b), b = sqrt(6 / fan_in). */
    const float bound = sqrtf(6.0f / (float)(l->c * l->size * l->size));
    for (size_t i = 0; i < nw; i++) l->weights[i] = (2.0f * rng_uniform(rng) - 1.0f) * bound;
    for (size_t i = 0; i < n; i++) l->biases[i] = 0.0f;
    for (size_t i = 0; l->scales && i < n; i++) l->scales[i] = 1.0f;
}

void conv_free(conv_layer *l) {
    if (l->bn_out != l->conv_out) free(l->bn_out);
    if (l->dbn_out != l->dconv_out) free(l->dbn_out);
    free(l->rolling_mean), free(l->rolling_var);
    free(l->conv_out), free(l->dconv_out), free(l->mean), free(l->var);
    conv_taps_free(l->taps);
    free(l->sums), free(l->chan);
    memset(l, 0, sizeof(*l));
}

/* g [n][nb*S] = convolution of images in[0..nb) (g column b*S + s). */
static void conv_chunk_forward(const conv_layer *l, const tapset *ts, const float *W,
                               const float *in, int nb, float *slice, float *g) {
    const int n = l->n, S = l->oh * l->ow;
    if (ts->global) {
        /* col [K][M], g [n][M] = W [n][K] * col */
        const int K = l->c * ts->count[0], M = nb * S;
        const conv_src src = {in,     l->c,   l->h,    l->w,         l->size, l->stride,
                              l->pad, l->oh,  l->ow,   ts->tap,      ts->count[0]};
        if (conv_pack_ok(&src) &&
            gemm_packed_prec(l->precision, n, M, K, W, K, conv_pack_b, &src, g, M))
            return;
        im2col_batch(in, nb, l->c, l->h, l->w, l->size, l->stride, l->pad, l->oh, l->ow,
                     ts->tap, ts->count[0], slice);
        gemm_prec(l->precision, 0, 0, n, M, K, 1.0f, W, K, slice, M, 0.0f, g, M);
        return;
    }
    float *gs = g + (size_t)n * nb * S;
    for (int k = 0; k < ts->sets; k++) {
        /* col [K][M], gs [n][M] = W_k [n][K] * col, M = nb * positions of class k */
        const int K = l->c * ts->count[k], np = ts->npos[k], M = nb * np;
        const int *pos = ts->pos + ts->poff[k];
        float *col = gs + (size_t)n * M;
        conv_class_im2col(l, ts, k, in, nb, col);
        gemm_prec(l->precision, 0, 0, n, M, K, 1.0f, W + (size_t)n * l->c * ts->off[k], K, col,
                  M, 0.0f, gs, M);
        for (int f = 0; f < n; f++)
            for (int b = 0; b < nb; b++)
                for (int j = 0; j < np; j++)
                    g[((size_t)f * nb + b) * S + pos[j]] = gs[(size_t)f * M + b * np + j];
    }
}

/* Winograd: the forward of a chunk of nb images, g [n][nb*S] = conv(in) (tid: the
 * thread's scratch), or (dir 1) the backward-data of the whole batch, din (NCHW) +=
 * conv^T(dconv_out): after the weight gradient's pass over the chunks, so that its
 * blocks of tiles are not cut to the chunks of the direct GEMMs. */
static void conv_wino_run(const conv_layer *l, const conv_plan *p, int dir, const float *u,
                          const float *in, int nb, float *g, float *din, int tid) {
    const winograd_shape s = conv_wino_shape(l, dir, p->wino);
    const size_t S = (size_t)l->oh * l->ow, in_size = (size_t)l->c * l->h * l->w;
    float *scratch = (float *)u + p->wino_u + (size_t)tid * p->wino_scr;
    const float *packed = u + winograd_filter_floats(&s);
    if (dir) {
        const winograd_io dy = {l->dconv_out, S, (size_t)l->n * S}, dx = {din, S, in_size};
        winograd_conv(&s, p->wino_prec, u, packed, &dy, l->batch, &dx, 1, p->threads, scratch);
        return;
    }
    const winograd_io x = {(float *)in, S, in_size}, gio = {g, (size_t)nb * S, S};
    winograd_conv(&s, p->wino_prec, u, packed, &x, nb, &gio, 0, p->outer ? 1 : p->threads,
                  scratch);
}

void conv_forward(conv_layer *l, const float *in, float *out, int train, float *ws,
                  float *e_conv, float *e_bn) {
    const int n = l->n;
    const size_t S = (size_t)l->oh * l->ow, in_size = (size_t)l->c * l->h * l->w;
    if (conv_image_bufs(l)) train = 0;
    const int batch_stats = train && l->batch_normalize;
    const tapset *ts = l->taps;
    const conv_plan p = conv_plan_now(l, 0);
    const float *u = p.wino ? conv_wino_filters(l, &p, 0, ws) : NULL;
    const float *W =
        p.wino ? NULL : conv_gemm_weights(l, &p, ts, ws + conv_slices(&p) * p.per_thread);
    double *sums = batch_stats ? l->sums : NULL;
    const float *ac = batch_stats ? NULL : l->chan;
    if (batch_stats) memset(sums, 0, 2 * (size_t)n * p.threads * sizeof(double));
    else conv_epilogue_affine(l, l->chan);
    if (train) e_conv = e_bn = NULL;
#pragma omp parallel for schedule(static) num_threads(p.threads) if (p.outer)
    for (int ci = 0; ci < p.chunks; ci++) {
        const int tid = p.outer ? omp_get_thread_num() : 0;
        const int b0 = ci * p.chunk;
        const int nb = l->batch - b0 < p.chunk ? l->batch - b0 : p.chunk;
        float *slice = ws + tid * p.per_thread;
        /* the global path keeps col first, g after it; by classes and Winograd g
         * comes first */
        float *g = ts->global && !p.wino ? slice + (size_t)p.kmax * nb * S : slice;
        if (p.wino) conv_wino_run(l, &p, 0, u, in + b0 * in_size, nb, g, NULL, tid);
        else conv_chunk_forward(l, ts, W, in + b0 * in_size, nb, slice, g);
        conv_forward_epilogue(l, g, b0, nb, out, sums ? sums + 2 * (size_t)n * tid : NULL, ac,
                              e_conv, e_bn, tid);
    }
    if (batch_stats) {
        for (int t = 1; t < p.threads; t++)
            for (int i = 0; i < 2 * n; i++) sums[i] += sums[2 * (size_t)n * t + i];
        if (l->sync) l->sync->sum(l->sync->ctx, sums, 2 * n);
        conv_bn_train_finish(l, sums, out);
    }
    l->bn_batch_stats = batch_stats;
}

/* Given g [n][nb*S] of images in[0..nb): dw (if any) [n][K] (per set) = beta*dw +
 * g * col^T, din (if any) += col2im(W^T * g). */
static void conv_chunk_backward(const conv_layer *l, const tapset *ts, const float *W,
                                const float *in, int nb, float *slice, float *g, float beta,
                                float *dw, float *din) {
    const int n = l->n, S = l->oh * l->ow;
    if (ts->global) {
        const int K = l->c * ts->count[0], M = nb * S;
        float *col = slice;
        if (dw) {
            im2col_batch(in, nb, l->c, l->h, l->w, l->size, l->stride, l->pad, l->oh, l->ow,
                         ts->tap, ts->count[0], col);
            gemm_prec(l->precision, 0, 1, n, K, M, 1.0f, g, M, col, M, beta, dw, K);
        }
        if (!din) return;
        /* dcol [K][M] = W^T * g, reusing col */
        gemm_prec(l->precision, 1, 0, K, M, n, 1.0f, W, K, g, M, 0.0f, col, M);
        im2col_adjoint_add(col, nb, l->c, l->h, l->w, l->size, l->stride, l->pad, l->oh, l->ow,
                           ts->tap, ts->count[0], din);
        return;
    }
    float *gs = g + (size_t)n * nb * S;
    for (int k = 0; k < ts->sets; k++) {
        const int K = l->c * ts->count[k], np = ts->npos[k], M = nb * np;
        const int *pos = ts->pos + ts->poff[k];
        const size_t at = (size_t)n * l->c * ts->off[k];
        float *col = gs + (size_t)n * M;
        for (int f = 0; f < n; f++)
            for (int b = 0; b < nb; b++)
                for (int j = 0; j < np; j++)
                    gs[(size_t)f * M + b * np + j] = g[((size_t)f * nb + b) * S + pos[j]];
        if (dw) {
            conv_class_im2col(l, ts, k, in, nb, col);
            gemm_prec(l->precision, 0, 1, n, K, M, 1.0f, gs, M, col, M, beta, dw + at, K);
        }
        if (!din) continue;
        gemm_prec(l->precision, 1, 0, K, M, n, 1.0f, W + at, K, gs, M, 0.0f, col, M);
        conv_class_col2im(l, ts, k, col, nb, din);
    }
}

/* Winograd backward-weights of the whole batch: dweights += the gradient from the
 * layer's input and dconv_out, which the chunks' gather pass has completed. */
static void conv_wino_weights(conv_layer *l, const conv_plan *p, const float *in, float *ws) {
    const winograd_shape s = conv_wino_shape(l, 0, p->wino_dw);
    const size_t S = (size_t)l->oh * l->ow;
    const winograd_io x = {(float *)in, S, (size_t)l->c * S};
    const winograd_io dy = {l->dconv_out, S, (size_t)l->n * S};
    winograd_weight_grad(&s, p->wino_dw_prec, &x, &dy, l->batch, l->dweights, p->threads,
                         ws + conv_direct_floats(p) + p->wino_u);
}

/* The chunks finish dconv_out (conv_backward_gather) and run the direct passes:
 * the weight gradient unless Winograd's (wino_dw), din unless Winograd's; g, the
 * chunk's gradient in the GEMM layout, only where one of them is direct. */
void conv_backward(conv_layer *l, const float *in, const float *out, const float *dout,
                   float *din, float *ws) {
    const size_t S = (size_t)l->oh * l->ow, in_size = (size_t)l->c * l->h * l->w;
    const tapset *ts = l->taps;
    const conv_plan p = conv_plan_now(l, 1);
    float *extra = ws + conv_slices(&p) * p.per_thread;
    const float *u = p.wino && din ? conv_wino_filters(l, &p, 1, ws) : NULL;
    const int direct_din = din && !u, gemm_layout = direct_din || !p.wino_dw;
    const float *W = direct_din ? conv_gemm_weights(l, &p, ts, extra) : NULL;
    /* private dW buffers, each started (beta 0) by its thread's first chunk;
     * without compaction thread 0 adds straight into dweights */
    float *dw_priv = p.compact ? extra + p.nk : extra - p.nk;
    float *coef = l->chan;
    int started[CONV_MAX_THREADS] = {0};
    conv_backward_prologue(l, out, dout, coef);
#pragma omp parallel for schedule(static) num_threads(p.threads) if (p.outer)
    for (int ci = 0; ci < p.chunks; ci++) {
        const int tid = p.outer ? omp_get_thread_num() : 0;
        const int b0 = ci * p.chunk;
        const int nb = l->batch - b0 < p.chunk ? l->batch - b0 : p.chunk;
        float *slice = ws + tid * p.per_thread;
        float *g = !gemm_layout ? NULL : ts->global ? slice + (size_t)p.kmax * nb * S : slice;
        float *dw = NULL, beta = 0.0f;
        if (!p.wino_dw) {
            const int direct = !p.compact && tid == 0;
            dw = direct ? l->dweights : dw_priv + tid * p.nk;
            beta = direct || started[tid] ? 1.0f : 0.0f;
            started[tid] = 1;
        }
        conv_backward_gather(l, out, dout, coef, b0, nb, g);
        if (g)
            conv_chunk_backward(l, ts, W, in + b0 * in_size, nb, slice, g, beta, dw,
                                direct_din ? din + b0 * in_size : NULL);
    }
    for (int t = p.compact ? 0 : 1; t < p.threads; t++)
        if (started[t]) conv_add_dw(l, &p, ts, dw_priv + t * p.nk);
    if (u) conv_wino_run(l, &p, 1, u, NULL, l->batch, NULL, din, 0);
    if (p.wino_dw) conv_wino_weights(l, &p, in, ws);
}
