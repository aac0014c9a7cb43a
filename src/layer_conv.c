/* layer_conv.c: convolution with optional fused batch norm and activation.
 *
 * The convolution runs as batched GEMM: a chunk of images is unrolled by
 * im2col into col[c*k*k][chunk*oh*ow], one sgemm gives [n][chunk*oh*ow], which is
 * scattered to NCHW. Backward gathers dconv_out into the same [n][chunk*oh*ow]
 * layout, then dW += g * col^T (one sgemm) and dcol = W^T * g, col2im into din.
 * Batch norm and activation are separate passes, parallel over channels. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "activation.h"
#include "gemm.h"
#include "layers.h"

/* Images per im2col chunk: as many as fit the workspace limit, at least one. */
static int conv_chunk(const conv_layer *l) {
    size_t per_image = (size_t)(l->c * l->size * l->size + l->n) * l->oh * l->ow;
    size_t chunk = gemm_workspace_limit / per_image;
    if (chunk < 1) chunk = 1;
    if (chunk > (size_t)l->batch) chunk = (size_t)l->batch;
    return (int)chunk;
}

size_t conv_workspace_size(const conv_layer *l) {
    return (size_t)(l->c * l->size * l->size + l->n) * l->oh * l->ow * conv_chunk(l);
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

/* conv_out[b0 + b][ch][:] = g[ch][b*S : (b+1)*S] (+ bias[ch] when bias != NULL). */
static void scatter_chunk(const float *g, int nb, int n, size_t S, const float *bias,
                          float *conv_out_b0) {
#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < n; ch++) {
        const float add = bias ? bias[ch] : 0.0f;
        for (int b = 0; b < nb; b++) {
            const float *src = g + (size_t)ch * nb * S + (size_t)b * S;
            float *dst = conv_out_b0 + ((size_t)b * n + ch) * S;
            for (size_t s = 0; s < S; s++) dst[s] = src[s] + add;
        }
    }
}

/* g[ch][b*S : (b+1)*S] = dconv_out[b0 + b][ch][:] (inverse of scatter_chunk). */
static void gather_chunk(const float *dconv_b0, int nb, int n, size_t S, float *g) {
#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < n; ch++)
        for (int b = 0; b < nb; b++)
            memcpy(g + (size_t)ch * nb * S + (size_t)b * S, dconv_b0 + ((size_t)b * n + ch) * S,
                   S * sizeof(float));
}

/* Batch norm forward; with train, computes batch statistics (biased variance for
 * normalising, unbiased for the running update) first. bn_out = act-input. */
static void bn_forward(conv_layer *l, int train) {
    const int B = l->batch, n = l->n;
    const size_t S = (size_t)l->oh * l->ow;
    const double count = (double)B * S;
#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < n; ch++) {
        float mean, var;
        if (train) {
            double sum = 0, sq = 0;
            for (int b = 0; b < B; b++) {
                const float *x = l->conv_out + ((size_t)b * n + ch) * S;
                for (size_t s = 0; s < S; s++) sum += x[s];
            }
            const double m = sum / count;
            for (int b = 0; b < B; b++) {
                const float *x = l->conv_out + ((size_t)b * n + ch) * S;
                for (size_t s = 0; s < S; s++) sq += (x[s] - m) * (x[s] - m);
            }
            mean = (float)m;
            var = (float)(sq / count);
            l->mean[ch] = mean;
            l->var[ch] = var;
            const float mo = l->bn_momentum;
            const double unbiased = count > 1 ? sq / (count - 1) : sq;
            l->rolling_mean[ch] = (1 - mo) * l->rolling_mean[ch] + mo * mean;
            l->rolling_var[ch] = (1 - mo) * l->rolling_var[ch] + mo * (float)unbiased;
        } else {
            mean = l->rolling_mean[ch];
            var = l->rolling_var[ch];
        }
        const float a = l->scales[ch] / sqrtf(var + l->bn_eps);
        const float c = l->biases[ch] - mean * a;
        for (int b = 0; b < B; b++) {
            const float *x = l->conv_out + ((size_t)b * n + ch) * S;
            float *y = l->bn_out + ((size_t)b * n + ch) * S;
            for (size_t s = 0; s < S; s++) y[s] = x[s] * a + c;
        }
    }
    l->bn_batch_stats = train;
}

void conv_forward(conv_layer *l, const float *in, float *out, int train, float *ws) {
    const int ckk = l->c * l->size * l->size, n = l->n, chunk = conv_chunk(l);
    const size_t S = (size_t)l->oh * l->ow;
    for (int b0 = 0; b0 < l->batch; b0 += chunk) {
        const int nb = l->batch - b0 < chunk ? l->batch - b0 : chunk;
        const int M = nb * (int)S;
        float *col = ws, *g = ws + (size_t)ckk * M;
        /* col [ckk][M], g [n][M] = W [n][ckk] * col */
        im2col_batch(in + (size_t)b0 * l->c * l->h * l->w, nb, l->c, l->h, l->w, l->size,
                     l->stride, l->pad, l->oh, l->ow, col);
        gemm(0, 0, n, M, ckk, 1.0f, l->weights, ckk, col, M, 0.0f, g, M);
        scatter_chunk(g, nb, n, S, l->batch_normalize ? NULL : l->biases,
                      l->conv_out + (size_t)b0 * n * S);
    }
    if (l->batch_normalize) bn_forward(l, train);
    activation_forward(l->act, l->bn_out, out, (size_t)l->batch * n * S);
}

/* dconv_out += BN backward of dbn_out; dscales, dbiases accumulate. */
static void bn_backward(conv_layer *l) {
    const int B = l->batch, n = l->n;
    const size_t S = (size_t)l->oh * l->ow;
    const double count = (double)B * S;
#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < n; ch++) {
        const float mean = l->bn_batch_stats ? l->mean[ch] : l->rolling_mean[ch];
        const float var = l->bn_batch_stats ? l->var[ch] : l->rolling_var[ch];
        const float istd = 1.0f / sqrtf(var + l->bn_eps);
        double sum_dy = 0, sum_dy_xhat = 0;
        for (int b = 0; b < B; b++) {
            const float *x = l->conv_out + ((size_t)b * n + ch) * S;
            const float *dy = l->dbn_out + ((size_t)b * n + ch) * S;
            for (size_t s = 0; s < S; s++) {
                sum_dy += dy[s];
                sum_dy_xhat += dy[s] * (x[s] - mean) * istd;
            }
        }
        l->dscales[ch] += (float)sum_dy_xhat;
        l->dbiases[ch] += (float)sum_dy;
        const float k = l->scales[ch] * istd;
        /* batch stats: dx = k * (dy - mean(dy) - xhat * mean(dy * xhat));
         * running stats are constants: dx = k * dy. */
        const float mdy = l->bn_batch_stats ? (float)(sum_dy / count) : 0.0f;
        const float mdyx = l->bn_batch_stats ? (float)(sum_dy_xhat / count) : 0.0f;
        for (int b = 0; b < B; b++) {
            const float *x = l->conv_out + ((size_t)b * n + ch) * S;
            const float *dy = l->dbn_out + ((size_t)b * n + ch) * S;
            float *dx = l->dconv_out + ((size_t)b * n + ch) * S;
            for (size_t s = 0; s < S; s++)
                dx[s] += k * (dy[s] - mdy - (x[s] - mean) * istd * mdyx);
        }
    }
}

/* dbiases += sum over batch and space of dconv_out (convolution bias without BN). */
static void bias_backward(conv_layer *l) {
    const int B = l->batch, n = l->n;
    const size_t S = (size_t)l->oh * l->ow;
#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < n; ch++) {
        double sum = 0;
        for (int b = 0; b < B; b++) {
            const float *dy = l->dconv_out + ((size_t)b * n + ch) * S;
            for (size_t s = 0; s < S; s++) sum += dy[s];
        }
        l->dbiases[ch] += (float)sum;
    }
}

void conv_backward(conv_layer *l, const float *in, const float *out, const float *dout,
                   float *din, float *ws) {
    const int ckk = l->c * l->size * l->size, n = l->n, chunk = conv_chunk(l);
    const size_t S = (size_t)l->oh * l->ow;
    activation_backward(l->act, out, dout, l->dbn_out, (size_t)l->batch * n * S);
    if (l->batch_normalize)
        bn_backward(l);
    else
        bias_backward(l);
    for (int b0 = 0; b0 < l->batch; b0 += chunk) {
        const int nb = l->batch - b0 < chunk ? l->batch - b0 : chunk;
        const int M = nb * (int)S;
        float *col = ws, *g = ws + (size_t)ckk * M;
        const float *in_b0 = in + (size_t)b0 * l->c * l->h * l->w;
        /* g [n][M]; dW [n][ckk] += g * col^T */
        gather_chunk(l->dconv_out + (size_t)b0 * n * S, nb, n, S, g);
        im2col_batch(in_b0, nb, l->c, l->h, l->w, l->size, l->stride, l->pad, l->oh, l->ow,
                     col);
        gemm(0, 1, n, ckk, M, 1.0f, g, M, col, M, 1.0f, l->dweights, ckk);
        if (!din) continue;
        /* dcol [ckk][M] = W^T * g, reusing col */
        gemm(1, 0, ckk, M, n, 1.0f, l->weights, ckk, g, M, 0.0f, col, M);
        col2im_batch_add(col, nb, l->c, l->h, l->w, l->size, l->stride, l->pad, l->oh, l->ow,
                         din + (size_t)b0 * l->c * l->h * l->w);
    }
}

int conv_params(conv_layer *l, param_tensor *p) {
    int k = 0;
    p[k++] = (param_tensor){l->weights, l->dweights, (size_t)l->n * l->c * l->size * l->size, 1};
    p[k++] = (param_tensor){l->biases, l->dbiases, (size_t)l->n, 0};
    if (l->batch_normalize) p[k++] = (param_tensor){l->scales, l->dscales, (size_t)l->n, 0};
    return k;
}
