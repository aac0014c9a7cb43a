/* layer_conv.c: convolution with optional fused batch norm and activation.
 *
 * The convolution runs as batched GEMM: a chunk of images is unrolled by
 * im2col into col[c*k*k][chunk*oh*ow], one sgemm gives [n][chunk*oh*ow], which is
 * scattered to NCHW. Backward gathers dconv_out into the same [n][chunk*oh*ow]
 * layout, then dW += g * col^T (one sgemm) and dcol = W^T * g, col2im into din.
 * Batch norm and activation are fused into the scatter / gather passes (parallel
 * over channels), so each activation tensor is walked as few times as possible.
 * Kernel taps that only read zero padding (most of a 3x3 kernel on a 1x1 or 2x2
 * map) are left out of im2col and the GEMMs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "activation.h"
#include "gemm.h"
#include "layers.h"

/* Kernel taps that reach the image. Usually one set for every output position
 * (sets = 1), leaving out taps that only ever read padding (8 of 9 on a 1x1
 * map). On small maps (at most 16 positions) where that leaves much padding
 * work (2x2 maps), one set per output position instead (sets = oh*ow): each
 * position then runs its own GEMM over exactly the taps it sees. */
typedef struct {
    int sets;
    int *count; /* [sets] taps in each set */
    int *off;   /* [sets + 1] prefix sums of count */
    int *tap;   /* [off[sets]] tap indices ky*size + kx */
} tapset;

static void tapset_make(const conv_layer *l, tapset *ts) {
    const int kk = l->size * l->size, S = l->oh * l->ow;
    int *global = xmalloc(kk * sizeof(int));
    const int ng = conv_active_taps(l->h, l->w, l->size, l->stride, l->pad, l->oh, l->ow, global);
    int *per = NULL, *count = NULL, total = 0;
    if (S > 1 && S <= 16) {
        per = xmalloc((size_t)S * kk * sizeof(int));
        count = xcalloc(S, sizeof(int));
        for (int s = 0; s < S; s++)
            for (int t = 0; t < kk; t++) {
                const int iy = s / l->ow * l->stride - l->pad + t / l->size;
                const int ix = s % l->ow * l->stride - l->pad + t % l->size;
                if (iy >= 0 && iy < l->h && ix >= 0 && ix < l->w) per[total++] = t, count[s]++;
            }
    }
    /* per position only pays when it saves much: the many small GEMMs run slower
     * (measured: a win on 2x2 maps, 4/9 of the taps; a loss on 4x4, 69%) */
    if (per && total <= 0.6 * S * ng) {
        ts->sets = S;
        ts->tap = per;
        ts->count = count;
        free(global);
    } else {
        ts->sets = 1;
        ts->tap = global;
        ts->count = xmalloc(sizeof(int));
        ts->count[0] = ng;
        free(per), free(count);
    }
    ts->off = xmalloc((ts->sets + 1) * sizeof(int));
    ts->off[0] = 0;
    for (int s = 0; s < ts->sets; s++) ts->off[s + 1] = ts->off[s] + ts->count[s];
}

static void tapset_free(tapset *ts) {
    free(ts->count), free(ts->off), free(ts->tap);
}

/* How one call splits the batch: `chunks` chunks of at most `chunk` images, each
 * im2col + GEMM (one, or one per position) over a workspace slice of `per_thread`
 * floats. With outer = 1 the threads take whole chunks (no barrier inside a
 * chunk, one private dW per thread in backward); otherwise chunks run in order
 * and every kernel is parallel inside (a batch too small to split, or one thread).
 * GEMM depth: K = c * taps of the set. With compact = 1 (taps left out) the
 * weights of the active taps are gathered into wk, [n][c*count[s]] per set. */
typedef struct {
    int threads, chunk, chunks, outer, compact;
    int kmax;        /* largest K over the sets */
    size_t nk;       /* floats of the gathered weights (n * c * all taps) */
    size_t per_thread;
} conv_plan;

/* Upper bound on the threads a plan uses; the workspace is sized for it. */
static int conv_thread_cap(void) {
    const int p = omp_get_num_procs();
    return p < 8 ? p : 8;
}

static conv_plan conv_plan_for(const conv_layer *l, const tapset *ts, int threads) {
    const size_t S = (size_t)l->oh * l->ow;
    conv_plan p;
    p.kmax = 0;
    for (int s = 0; s < ts->sets; s++)
        if (l->c * ts->count[s] > p.kmax) p.kmax = l->c * ts->count[s];
    p.nk = (size_t)l->n * l->c * ts->off[ts->sets];
    p.compact = ts->sets > 1 || ts->count[0] < l->size * l->size;
    /* per image: col [K][S] and g [n][S]; per position: col [K][1], g, and g_s [n][1] */
    const size_t per_image =
        ts->sets == 1 ? (size_t)(p.kmax + l->n) * S : p.kmax + (size_t)l->n * (S + 1);
    const int B = l->batch;
    /* tiny layers: thread start-up and barriers cost more than the work */
    if ((double)B * l->n * l->c * ts->off[ts->sets] * (ts->sets == 1 ? S : 1) < 4e6)
        threads = 1;
    size_t cmax = gemm_workspace_limit / per_image;
    if (cmax < 1) cmax = 1;
    if (cmax > (size_t)B) cmax = (size_t)B;
    int chunks = (int)((B + cmax - 1) / cmax);
    if (threads > 1 && B >= threads) /* a multiple of the threads, for balance */
        chunks = (chunks + threads - 1) / threads * threads;
    if (chunks > B) chunks = B;
    p.threads = threads;
    p.chunk = (B + chunks - 1) / chunks;
    p.chunks = (B + p.chunk - 1) / p.chunk;
    p.outer = threads > 1 && p.chunks >= threads;
    p.per_thread = per_image * p.chunk;
    return p;
}

static conv_plan conv_plan_now(const conv_layer *l, const tapset *ts) {
    int t = omp_get_max_threads();
    if (t > conv_thread_cap()) t = conv_thread_cap();
    return conv_plan_for(l, ts, t);
}

/* Workspace layout of a plan: a slice per working thread, then (compact) the
 * gathered weights and one private dW like them per working thread, or (not
 * compact, outer) the private dW of every thread but the first (which adds into
 * dweights). */
static int conv_slices(const conv_plan *p) { return p->outer ? p->threads : 1; }

static size_t conv_plan_floats(const conv_plan *p) {
    size_t f = conv_slices(p) * p->per_thread;
    if (p->compact) f += p->nk * (1 + conv_slices(p));
    else if (p->outer) f += (p->threads - 1) * p->nk;
    return f;
}

size_t conv_workspace_size(const conv_layer *l) {
    tapset ts;
    tapset_make(l, &ts);
    size_t most = 0;
    for (int t = 1; t <= conv_thread_cap(); t++) {
        conv_plan p = conv_plan_for(l, &ts, t);
        size_t need = conv_plan_floats(&p);
        most = need > most ? need : most;
    }
    tapset_free(&ts);
    return most;
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

/* Position s of nb images: col [c*cnt][nb], col[ch*cnt + t][b] = the pixel tap
 * t of channel ch reads (always inside the image: the set holds only those). */
static void pos_im2col(const conv_layer *l, const float *in, int nb, int s, const int *tap,
                       int cnt, float *col) {
    const int oy = s / l->ow, ox = s % l->ow;
    for (int ch = 0; ch < l->c; ch++)
        for (int t = 0; t < cnt; t++) {
            const int iy = oy * l->stride - l->pad + tap[t] / l->size;
            const int ix = ox * l->stride - l->pad + tap[t] % l->size;
            const float *src = in + ((size_t)ch * l->h + iy) * l->w + ix;
            float *dst = col + ((size_t)ch * cnt + t) * nb;
            for (int b = 0; b < nb; b++) dst[b] = src[(size_t)b * l->c * l->h * l->w];
        }
}

/* The adjoint of pos_im2col: din pixels += col. */
static void pos_col2im(const conv_layer *l, const float *col, int nb, int s, const int *tap,
                       int cnt, float *din) {
    const int oy = s / l->ow, ox = s % l->ow;
    for (int ch = 0; ch < l->c; ch++)
        for (int t = 0; t < cnt; t++) {
            const int iy = oy * l->stride - l->pad + tap[t] / l->size;
            const int ix = ox * l->stride - l->pad + tap[t] % l->size;
            float *dst = din + ((size_t)ch * l->h + iy) * l->w + ix;
            const float *src = col + ((size_t)ch * cnt + t) * nb;
            for (int b = 0; b < nb; b++) dst[(size_t)b * l->c * l->h * l->w] += src[b];
        }
}

int conv_init(conv_layer *l, int c, int h, int w, int n, int size, int stride, int pad,
              int batch_normalize, activation act, int batch, int grads, rng_state *rng,
              lir_error *err) {
    memset(l, 0, sizeof(*l));
    if (c < 1 || h < 1 || w < 1 || n < 1 || size < 1 || stride < 1 || pad < 0 || batch < 1)
        return lir_fail(err,
                        "convolution: invalid shape (c=%d h=%d w=%d filters=%d size=%d stride=%d "
                        "pad=%d batch=%d)",
                        c, h, w, n, size, stride, pad, batch);
    if (h + 2 * pad < size || w + 2 * pad < size)
        return lir_fail(err, "convolution: kernel %d larger than padded input %dx%d (pad %d)",
                        size, h, w, pad);
    l->c = c, l->h = h, l->w = w, l->n = n;
    l->size = size, l->stride = stride, l->pad = pad;
    l->oh = (h + 2 * pad - size) / stride + 1;
    l->ow = (w + 2 * pad - size) / stride + 1;
    l->batch_normalize = batch_normalize;
    l->act = act;
    l->bn_momentum = 0.1f;
    l->bn_eps = 1e-5f;
    l->batch = batch;

    size_t nw = (size_t)n * c * size * size;
    size_t nout = (size_t)batch * n * l->oh * l->ow;
    /* He (Kaiming) uniform for ReLU: U(-b, b), b = sqrt(6 / fan_in). */
    float bound = sqrtf(6.0f / (float)(c * size * size));
    l->weights = xmalloc(nw * sizeof(float));
    for (size_t i = 0; i < nw; i++) l->weights[i] = (2.0f * rng_uniform(rng) - 1.0f) * bound;
    l->biases = xcalloc(n, sizeof(float));
    l->conv_out = xcalloc(nout, sizeof(float));
    if (batch_normalize) {
        l->scales = xmalloc(n * sizeof(float));
        l->rolling_mean = xcalloc(n, sizeof(float));
        l->rolling_var = xmalloc(n * sizeof(float));
        l->mean = xcalloc(n, sizeof(float));
        l->var = xmalloc(n * sizeof(float));
        for (int i = 0; i < n; i++) l->scales[i] = l->rolling_var[i] = l->var[i] = 1.0f;
        l->bn_out = xcalloc(nout, sizeof(float));
    } else {
        l->bn_out = l->conv_out;
    }
    if (grads) {
        l->dweights = xcalloc(nw, sizeof(float));
        l->dbiases = xcalloc(n, sizeof(float));
        l->dconv_out = xcalloc(nout, sizeof(float));
        if (batch_normalize) {
            l->dscales = xcalloc(n, sizeof(float));
            l->dbn_out = xcalloc(nout, sizeof(float));
        } else {
            l->dbn_out = l->dconv_out;
        }
    }
    return 0;
}

void conv_free(conv_layer *l) {
    if (l->bn_out != l->conv_out) free(l->bn_out);
    if (l->dbn_out != l->dconv_out) free(l->dbn_out);
    free(l->weights), free(l->dweights), free(l->biases), free(l->dbiases);
    free(l->scales), free(l->dscales), free(l->rolling_mean), free(l->rolling_var);
    free(l->conv_out), free(l->dconv_out), free(l->mean), free(l->var);
    memset(l, 0, sizeof(*l));
}

/* out[s] = act(y[s]) with y = a*x + c; y is stored when ys != NULL. */
static void affine_act(const float *x, float *ys, float *out, size_t S, float a, float c,
                       activation act) {
    if (ys) {
        for (size_t s = 0; s < S; s++) ys[s] = a * x[s] + c;
        x = ys, a = 1.0f, c = 0.0f;
    }
    switch (act) {
    case ACT_LINEAR:
        for (size_t s = 0; s < S; s++) out[s] = a * x[s] + c;
        break;
    case ACT_RELU:
        for (size_t s = 0; s < S; s++) {
            const float y = a * x[s] + c;
            out[s] = y > 0 ? y : 0.0f;
        }
        break;
    case ACT_LEAKY:
        for (size_t s = 0; s < S; s++) {
            const float y = a * x[s] + c;
            out[s] = y > 0 ? y : LEAKY_SLOPE * y;
        }
        break;
    }
}

/* Scale and shift of the normalisation with the given statistics (BN), or the
 * plain bias (no BN). */
static void conv_affine(const conv_layer *l, int ch, float mean, float var, float *a, float *c) {
    if (l->batch_normalize) {
        *a = l->scales[ch] / sqrtf(var + l->bn_eps);
        *c = l->biases[ch] - mean * *a;
    } else {
        *a = 1.0f;
        *c = l->biases[ch];
    }
}

/* Epilogue of one chunk: g [n][nb*S] -> conv_out of images b0..b0+nb (NCHW).
 * sums != NULL (BN training): also sums[ch] += sum x, sums[n+ch] += sum x^2, the
 * rest waits for the batch statistics. Otherwise the chunk is finished here:
 * bn_out = a*x + c, out = act(bn_out). */
static void forward_epilogue(conv_layer *l, const float *g, int b0, int nb, float *out,
                             double *sums) {
    const int n = l->n;
    const size_t S = (size_t)l->oh * l->ow;
#pragma omp parallel for schedule(static) if ((size_t)nb * n * S > 32768)
    for (int ch = 0; ch < n; ch++) {
        float a, c;
        if (!sums) conv_affine(l, ch, l->rolling_mean ? l->rolling_mean[ch] : 0,
                               l->rolling_var ? l->rolling_var[ch] : 1, &a, &c);
        double sum = 0, sq = 0;
        for (int b = 0; b < nb; b++) {
            const float *src = g + ((size_t)ch * nb + b) * S;
            const size_t o = ((size_t)(b0 + b) * n + ch) * S;
            float *x = l->conv_out + o;
            if (sums) {
                for (size_t s = 0; s < S; s++) {
                    x[s] = src[s];
                    sum += src[s];
                    sq += (double)src[s] * src[s];
                }
            } else if (l->batch_normalize) {
                memcpy(x, src, S * sizeof(float));
                affine_act(x, l->bn_out + o, out + o, S, a, c, l->act);
            } else {
                affine_act(src, x, out + o, S, a, c, l->act); /* conv_out = g + bias */
            }
        }
        if (sums) sums[ch] += sum, sums[n + ch] += sq;
    }
}

/* BN training: batch statistics from the sums (biased variance to normalise,
 * unbiased for the running variance), then bn_out and out over the batch. */
static void bn_train_finish(conv_layer *l, const double *sums, float *out) {
    const int B = l->batch, n = l->n;
    const size_t S = (size_t)l->oh * l->ow;
    const double count = (double)B * S;
#pragma omp parallel for schedule(static) if ((size_t)B * n * S > 32768)
    for (int ch = 0; ch < n; ch++) {
        const double m = sums[ch] / count;
        double v = sums[n + ch] / count - m * m;
        if (v < 0) v = 0;
        const float mo = l->bn_momentum;
        const double unbiased = count > 1 ? v * count / (count - 1) : v;
        l->mean[ch] = (float)m;
        l->var[ch] = (float)v;
        l->rolling_mean[ch] = (1 - mo) * l->rolling_mean[ch] + mo * (float)m;
        l->rolling_var[ch] = (1 - mo) * l->rolling_var[ch] + mo * (float)unbiased;
        float a, c;
        conv_affine(l, ch, l->mean[ch], l->var[ch], &a, &c);
        for (int b = 0; b < B; b++) {
            const size_t o = ((size_t)b * n + ch) * S;
            affine_act(l->conv_out + o, l->bn_out + o, out + o, S, a, c, l->act);
        }
    }
}

/* g [n][nb*S] = convolution of images in[0..nb) (g column b*S + s). */
static void conv_chunk_forward(const conv_layer *l, const tapset *ts, const float *W,
                               const float *in, int nb, float *slice, float *g) {
    const int n = l->n, S = l->oh * l->ow;
    if (ts->sets == 1) {
        /* col [K][M], g [n][M] = W [n][K] * col */
        const int K = l->c * ts->count[0], M = nb * S;
        im2col_batch(in, nb, l->c, l->h, l->w, l->size, l->stride, l->pad, l->oh, l->ow,
                     ts->tap, ts->count[0], slice);
        gemm(0, 0, n, M, K, 1.0f, W, K, slice, M, 0.0f, g, M);
        return;
    }
    float *gs = g + (size_t)n * nb * S, *col = gs + (size_t)n * nb;
    for (int s = 0; s < S; s++) {
        /* col [K][nb], gs [n][nb] = W_s [n][K] * col, into column s of each image */
        const int cnt = ts->count[s], K = l->c * cnt;
        pos_im2col(l, in, nb, s, ts->tap + ts->off[s], cnt, col);
        gemm(0, 0, n, nb, K, 1.0f, W + (size_t)n * l->c * ts->off[s], K, col, nb, 0.0f, gs, nb);
        for (int f = 0; f < n; f++)
            for (int b = 0; b < nb; b++) g[((size_t)f * nb + b) * S + s] = gs[(size_t)f * nb + b];
    }
}

void conv_forward(conv_layer *l, const float *in, float *out, int train, float *ws) {
    const int n = l->n;
    const size_t S = (size_t)l->oh * l->ow, in_size = (size_t)l->c * l->h * l->w;
    const int batch_stats = train && l->batch_normalize;
    tapset ts;
    tapset_make(l, &ts);
    const conv_plan p = conv_plan_now(l, &ts);
    const float *W = conv_gemm_weights(l, &p, &ts, ws + conv_slices(&p) * p.per_thread);
    double *sums = batch_stats ? xcalloc(2 * (size_t)n * p.threads, sizeof(double)) : NULL;
#pragma omp parallel for schedule(static) num_threads(p.threads) if (p.outer)
    for (int ci = 0; ci < p.chunks; ci++) {
        const int tid = p.outer ? omp_get_thread_num() : 0;
        const int b0 = ci * p.chunk;
        const int nb = l->batch - b0 < p.chunk ? l->batch - b0 : p.chunk;
        float *slice = ws + tid * p.per_thread;
        /* the set-wide path keeps col first, g after it; per position g comes first */
        float *g = ts.sets == 1 ? slice + (size_t)p.kmax * nb * S : slice;
        conv_chunk_forward(l, &ts, W, in + b0 * in_size, nb, slice, g);
        forward_epilogue(l, g, b0, nb, out, sums ? sums + 2 * (size_t)n * tid : NULL);
    }
    if (batch_stats) {
        for (int t = 1; t < p.threads; t++)
            for (int i = 0; i < 2 * n; i++) sums[i] += sums[2 * (size_t)n * t + i];
        bn_train_finish(l, sums, out);
    }
    l->bn_batch_stats = batch_stats;
    free(sums);
    tapset_free(&ts);
}

/* Backward through activation and BN, per channel over the whole batch:
 * dbn_out += act'(out) * dout, parameter gradients, and the coefficients of
 * dconv = k * (dy - mdy - xhat * mdyx) in coef[ch*4 ..] = {k, mdy, mdyx, istd}. */
static void backward_prologue(conv_layer *l, const float *out, const float *dout, float *coef) {
    const int B = l->batch, n = l->n;
    const size_t S = (size_t)l->oh * l->ow;
    const double count = (double)B * S;
#pragma omp parallel for schedule(static) if ((size_t)B * n * S > 32768)
    for (int ch = 0; ch < n; ch++) {
        float mean = 0, istd = 1;
        if (l->batch_normalize) {
            mean = l->bn_batch_stats ? l->mean[ch] : l->rolling_mean[ch];
            istd = 1.0f / sqrtf((l->bn_batch_stats ? l->var[ch] : l->rolling_var[ch]) + l->bn_eps);
        }
        double sum_dy = 0, sum_dy_xhat = 0;
        for (int b = 0; b < B; b++) {
            const size_t o = ((size_t)b * n + ch) * S;
            const float *y = out + o, *g = dout + o, *x = l->conv_out + o;
            float *dy = l->dbn_out + o;
            float sd = 0, sdx = 0;
            switch (l->act) {
            case ACT_LINEAR:
                for (size_t s = 0; s < S; s++) dy[s] += g[s];
                break;
            case ACT_RELU:
                for (size_t s = 0; s < S; s++) dy[s] += y[s] > 0 ? g[s] : 0.0f;
                break;
            case ACT_LEAKY:
                for (size_t s = 0; s < S; s++) dy[s] += y[s] > 0 ? g[s] : LEAKY_SLOPE * g[s];
                break;
            }
            for (size_t s = 0; s < S; s++) sd += dy[s];
            if (l->batch_normalize)
                for (size_t s = 0; s < S; s++) sdx += dy[s] * (x[s] - mean);
            sum_dy += sd;
            sum_dy_xhat += (double)sdx * istd;
        }
        l->dbiases[ch] += (float)sum_dy;
        if (l->batch_normalize) l->dscales[ch] += (float)sum_dy_xhat;
        float *k = coef + 4 * (size_t)ch;
        k[0] = l->batch_normalize ? l->scales[ch] * istd : 1.0f;
        /* running statistics are constants: no terms through mean and variance */
        k[1] = l->bn_batch_stats ? (float)(sum_dy / count) : 0.0f;
        k[2] = l->bn_batch_stats ? (float)(sum_dy_xhat / count) : 0.0f;
        k[3] = istd;
    }
}

/* For images b0..b0+nb: with BN, dconv_out += k*(dy - mdy - xhat*mdyx); then
 * g [n][nb*S] = dconv_out in the GEMM layout. */
static void backward_gather(conv_layer *l, const float *coef, int b0, int nb, float *g) {
    const int n = l->n;
    const size_t S = (size_t)l->oh * l->ow;
#pragma omp parallel for schedule(static) if ((size_t)nb * n * S > 32768)
    for (int ch = 0; ch < n; ch++) {
        const float *k = coef + 4 * (size_t)ch;
        const float mean = !l->batch_normalize ? 0
                           : l->bn_batch_stats ? l->mean[ch]
                                               : l->rolling_mean[ch];
        const float kk = k[0], mdy = k[1], mx = k[2] * k[3];
        for (int b = 0; b < nb; b++) {
            const size_t o = ((size_t)(b0 + b) * n + ch) * S;
            float *dst = g + ((size_t)ch * nb + b) * S, *dx = l->dconv_out + o;
            if (l->batch_normalize) {
                const float *dy = l->dbn_out + o, *x = l->conv_out + o;
                for (size_t s = 0; s < S; s++) {
                    dx[s] += kk * (dy[s] - mdy - (x[s] - mean) * mx);
                    dst[s] = dx[s];
                }
            } else {
                memcpy(dst, dx, S * sizeof(float));
            }
        }
    }
}

/* Given g [n][nb*S] of images in[0..nb): dw [n][K] (per set) = beta*dw + g * col^T,
 * din (if any) += col2im(W^T * g). */
static void conv_chunk_backward(const conv_layer *l, const tapset *ts, const float *W,
                                const float *in, int nb, float *slice, float *g, float beta,
                                float *dw, float *din) {
    const int n = l->n, S = l->oh * l->ow;
    if (ts->sets == 1) {
        const int K = l->c * ts->count[0], M = nb * S;
        float *col = slice;
        im2col_batch(in, nb, l->c, l->h, l->w, l->size, l->stride, l->pad, l->oh, l->ow,
                     ts->tap, ts->count[0], col);
        gemm(0, 1, n, K, M, 1.0f, g, M, col, M, beta, dw, K);
        if (!din) return;
        /* dcol [K][M] = W^T * g, reusing col */
        gemm(1, 0, K, M, n, 1.0f, W, K, g, M, 0.0f, col, M);
        col2im_batch_add(col, nb, l->c, l->h, l->w, l->size, l->stride, l->pad, l->oh, l->ow,
                         ts->tap, ts->count[0], din);
        return;
    }
    float *gs = g + (size_t)n * nb * S, *col = gs + (size_t)n * nb;
    for (int s = 0; s < S; s++) {
        const int cnt = ts->count[s], K = l->c * cnt;
        const int *tap = ts->tap + ts->off[s];
        const size_t at = (size_t)n * l->c * ts->off[s];
        for (int f = 0; f < n; f++)
            for (int b = 0; b < nb; b++) gs[(size_t)f * nb + b] = g[((size_t)f * nb + b) * S + s];
        pos_im2col(l, in, nb, s, tap, cnt, col);
        gemm(0, 1, n, K, nb, 1.0f, gs, nb, col, nb, beta, dw + at, K);
        if (!din) continue;
        gemm(1, 0, K, nb, n, 1.0f, W + at, K, gs, nb, 0.0f, col, nb);
        pos_col2im(l, col, nb, s, tap, cnt, din);
    }
}

void conv_backward(conv_layer *l, const float *in, const float *out, const float *dout,
                   float *din, float *ws) {
    const int n = l->n;
    const size_t S = (size_t)l->oh * l->ow, in_size = (size_t)l->c * l->h * l->w;
    tapset ts;
    tapset_make(l, &ts);
    const conv_plan p = conv_plan_now(l, &ts);
    float *extra = ws + conv_slices(&p) * p.per_thread;
    const float *W = conv_gemm_weights(l, &p, &ts, extra);
    /* private dW buffers, each started (beta 0) by its thread's first chunk;
     * without compaction thread 0 adds straight into dweights */
    float *dw_priv = p.compact ? extra + p.nk : extra - p.nk;
    float *coef = xmalloc(4 * (size_t)n * sizeof(float));
    int *started = xcalloc(p.threads, sizeof(int));
    backward_prologue(l, out, dout, coef);
#pragma omp parallel for schedule(static) num_threads(p.threads) if (p.outer)
    for (int ci = 0; ci < p.chunks; ci++) {
        const int tid = p.outer ? omp_get_thread_num() : 0;
        const int b0 = ci * p.chunk;
        const int nb = l->batch - b0 < p.chunk ? l->batch - b0 : p.chunk;
        float *slice = ws + tid * p.per_thread;
        float *g = ts.sets == 1 ? slice + (size_t)p.kmax * nb * S : slice;
        const int direct = !p.compact && tid == 0;
        float *dw = direct ? l->dweights : dw_priv + tid * p.nk;
        const float beta = direct || started[tid] ? 1.0f : 0.0f;
        started[tid] = 1;
        backward_gather(l, coef, b0, nb, g);
        conv_chunk_backward(l, &ts, W, in + b0 * in_size, nb, slice, g, beta, dw,
                            din ? din + b0 * in_size : NULL);
    }
    for (int t = p.compact ? 0 : 1; t < p.threads; t++)
        if (started[t]) conv_add_dw(l, &p, &ts, dw_priv + t * p.nk);
    free(started);
    free(coef);
    tapset_free(&ts);
}

int conv_params(conv_layer *l, param_tensor *p) {
    int k = 0;
    p[k++] = (param_tensor){l->weights, l->dweights, (size_t)l->n * l->c * l->size * l->size, 1};
    p[k++] = (param_tensor){l->biases, l->dbiases, (size_t)l->n, 0};
    if (l->batch_normalize) p[k++] = (param_tensor){l->scales, l->dscales, (size_t)l->n, 0};
    return k;
}
