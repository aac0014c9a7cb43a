/* layer_conv.c: convolution with optional fused batch norm and activation.
 *
 * The convolution runs as batched GEMM: a chunk of images is unrolled by
 * im2col into col[c*k*k][chunk*oh*ow], one sgemm gives [n][chunk*oh*ow], which is
 * scattered to NCHW. Backward gathers dconv_out into the same [n][chunk*oh*ow]
 * layout, then dW += g * col^T (one sgemm) and dcol = W^T * g, col2im into din.
 * Batch norm and activation are fused into the scatter / gather passes (parallel
 * over channels), so each activation tensor is walked as few times as possible. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "activation.h"
#include "gemm.h"
#include "layers.h"

/* How one call splits the batch: `chunks` chunks of at most `chunk` images, each
 * one im2col + one GEMM over a workspace slice of `per_thread` floats. With
 * outer = 1 the threads take whole chunks (no barrier inside a chunk, one private
 * dW per thread in backward); otherwise chunks run in order and every kernel is
 * parallel inside (a batch too small to split, or one thread). */
typedef struct {
    int threads, chunk, chunks, outer;
    size_t per_thread;
} conv_plan;

/* Upper bound on the threads a plan uses; the workspace is sized for it. */
static int conv_thread_cap(void) {
    const int p = omp_get_num_procs();
    return p < 8 ? p : 8;
}

static conv_plan conv_plan_for(const conv_layer *l, int threads) {
    const size_t S = (size_t)l->oh * l->ow;
    const size_t per_image = (size_t)(l->c * l->size * l->size + l->n) * S;
    const int B = l->batch;
    /* tiny layers: thread start-up and barriers cost more than the work */
    if ((double)B * S * l->n * l->c * l->size * l->size < 4e6) threads = 1;
    size_t cmax = gemm_workspace_limit / per_image;
    if (cmax < 1) cmax = 1;
    if (cmax > (size_t)B) cmax = (size_t)B;
    int chunks = (int)((B + cmax - 1) / cmax);
    if (threads > 1 && B >= threads) /* a multiple of the threads, for balance */
        chunks = (chunks + threads - 1) / threads * threads;
    if (chunks > B) chunks = B;
    conv_plan p;
    p.threads = threads;
    p.chunk = (B + chunks - 1) / chunks;
    p.chunks = (B + p.chunk - 1) / p.chunk;
    p.outer = threads > 1 && p.chunks >= threads;
    p.per_thread = per_image * p.chunk;
    return p;
}

static conv_plan conv_plan_now(const conv_layer *l) {
    int t = omp_get_max_threads();
    if (t > conv_thread_cap()) t = conv_thread_cap();
    return conv_plan_for(l, t);
}

/* Floats a plan needs: a slice per thread, and with outer threads the private dW
 * of every thread but the first. */
static size_t conv_plan_floats(const conv_layer *l, const conv_plan *p) {
    if (!p->outer) return p->per_thread;
    const size_t nw = (size_t)l->n * l->c * l->size * l->size;
    return p->threads * p->per_thread + (p->threads - 1) * nw;
}

size_t conv_workspace_size(const conv_layer *l) {
    size_t most = 0;
    for (int t = 1; t <= conv_thread_cap(); t++) {
        conv_plan p = conv_plan_for(l, t);
        size_t need = conv_plan_floats(l, &p);
        most = need > most ? need : most;
    }
    return most;
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

void conv_forward(conv_layer *l, const float *in, float *out, int train, float *ws) {
    const int ckk = l->c * l->size * l->size, n = l->n;
    const size_t S = (size_t)l->oh * l->ow;
    const int batch_stats = train && l->batch_normalize;
    const conv_plan p = conv_plan_now(l);
    double *sums = batch_stats ? xcalloc(2 * (size_t)n * p.threads, sizeof(double)) : NULL;
#pragma omp parallel for schedule(static) num_threads(p.threads) if (p.outer)
    for (int ci = 0; ci < p.chunks; ci++) {
        const int tid = p.outer ? omp_get_thread_num() : 0;
        const int b0 = ci * p.chunk;
        const int nb = l->batch - b0 < p.chunk ? l->batch - b0 : p.chunk;
        const int M = nb * (int)S;
        float *col = ws + tid * p.per_thread, *g = col + (size_t)ckk * M;
        /* col [ckk][M], g [n][M] = W [n][ckk] * col */
        im2col_batch(in + (size_t)b0 * l->c * l->h * l->w, nb, l->c, l->h, l->w, l->size,
                     l->stride, l->pad, l->oh, l->ow, col);
        gemm(0, 0, n, M, ckk, 1.0f, l->weights, ckk, col, M, 0.0f, g, M);
        forward_epilogue(l, g, b0, nb, out, sums ? sums + 2 * (size_t)n * tid : NULL);
    }
    if (batch_stats) {
        for (int t = 1; t < p.threads; t++)
            for (int i = 0; i < 2 * n; i++) sums[i] += sums[2 * (size_t)n * t + i];
        bn_train_finish(l, sums, out);
    }
    l->bn_batch_stats = batch_stats;
    free(sums);
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

void conv_backward(conv_layer *l, const float *in, const float *out, const float *dout,
                   float *din, float *ws) {
    const int ckk = l->c * l->size * l->size, n = l->n;
    const size_t S = (size_t)l->oh * l->ow, nw = (size_t)n * ckk;
    const conv_plan p = conv_plan_now(l);
    float *coef = xmalloc(4 * (size_t)n * sizeof(float));
    backward_prologue(l, out, dout, coef);
    /* thread t > 0 accumulates dW into its own buffer, started by its first GEMM */
    float *dw_extra = ws + p.threads * p.per_thread;
    int *started = xcalloc(p.threads, sizeof(int));
#pragma omp parallel for schedule(static) num_threads(p.threads) if (p.outer)
    for (int ci = 0; ci < p.chunks; ci++) {
        const int tid = p.outer ? omp_get_thread_num() : 0;
        const int b0 = ci * p.chunk;
        const int nb = l->batch - b0 < p.chunk ? l->batch - b0 : p.chunk;
        const int M = nb * (int)S;
        float *col = ws + tid * p.per_thread, *g = col + (size_t)ckk * M;
        float *dw = tid ? dw_extra + (tid - 1) * nw : l->dweights;
        const float beta = tid && !started[tid] ? 0.0f : 1.0f;
        started[tid] = 1;
        /* g [n][M]; dW [n][ckk] += g * col^T */
        backward_gather(l, coef, b0, nb, g);
        im2col_batch(in + (size_t)b0 * l->c * l->h * l->w, nb, l->c, l->h, l->w, l->size,
                     l->stride, l->pad, l->oh, l->ow, col);
        gemm(0, 1, n, ckk, M, 1.0f, g, M, col, M, beta, dw, ckk);
        if (din) {
            /* dcol [ckk][M] = W^T * g, reusing col */
            gemm(1, 0, ckk, M, n, 1.0f, l->weights, ckk, g, M, 0.0f, col, M);
            col2im_batch_add(col, nb, l->c, l->h, l->w, l->size, l->stride, l->pad, l->oh,
                             l->ow, din + (size_t)b0 * l->c * l->h * l->w);
        }
    }
    for (int t = 1; t < p.threads; t++) {
        if (!started[t]) continue;
        const float *src = dw_extra + (t - 1) * nw;
        float *dst = l->dweights;
#pragma omp parallel for schedule(static) if (nw > 65536)
        for (size_t i = 0; i < nw; i++) dst[i] += src[i];
    }
    free(started);
    free(coef);
}

int conv_params(conv_layer *l, param_tensor *p) {
    int k = 0;
    p[k++] = (param_tensor){l->weights, l->dweights, (size_t)l->n * l->c * l->size * l->size, 1};
    p[k++] = (param_tensor){l->biases, l->dbiases, (size_t)l->n, 0};
    if (l->batch_normalize) p[k++] = (param_tensor){l->scales, l->dscales, (size_t)l->n, 0};
    return k;
}
