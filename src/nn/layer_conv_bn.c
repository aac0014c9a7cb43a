/* layer_conv_bn.c: the per-channel passes of the convolution layer around its
 * GEMMs: bias or batch norm (PyTorch semantics) and the activation, fused into
 * the scatter of the GEMM result to NCHW (forward) and the gather of the
 * gradient into the GEMM layout (backward). Parallel over channels (or images);
 * each pass's body is compiled for every kernels level (KERNELS_COPIES), and its
 * sums over a channel run in a fixed number of partial sums, one per vector lane,
 * added up in lane order: they vectorize, and give the same bits at every level. */
#include <math.h>
#include <omp.h>
#include <string.h>

#include "activation.h"
#include "energy.h"
#include "layer_conv_bn.h"

/* Partial sums per plane: float lanes (dy sums of the backward) and double lanes
 * (x and x^2 of the BN forward). */
enum { FLANES = 16, DLANES = 8 };

/* out[s] = act(y[s]) with y = a*x + c; y is stored when ys != NULL. The + 0 gives
 * both ways the same bits (a -0 becomes +0, as 1*y + 0 of the stored y does). */
__attribute__((always_inline)) static inline void affine_act(const float *x, float *ys,
                                                             float *out, size_t S, float a,
                                                             float c, activation act) {
    if (ys) {
        for (size_t s = 0; s < S; s++) ys[s] = a * x[s] + c;
        x = ys, a = 1.0f, c = 0.0f;
    }
    switch (act) {
    case ACT_LINEAR:
        for (size_t s = 0; s < S; s++) out[s] = a * x[s] + c + 0.0f;
        break;
    case ACT_RELU: /* y > 0 ? y : 0 maps -0 to +0 itself */
        for (size_t s = 0; s < S; s++) {
            const float y = a * x[s] + c;
            out[s] = y > 0 ? y : 0.0f;
        }
        break;
    case ACT_LEAKY:
        for (size_t s = 0; s < S; s++) {
            const float y = a * x[s] + c + 0.0f;
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

/* Scale and shift of a forward that does not normalise with batch statistics
 * (running statistics, or no BN): ac[ch] = a, ac[n + ch] = c. */
void conv_epilogue_affine(const conv_layer *l, float *ac) {
    const int n = l->n;
    for (int ch = 0; ch < n; ch++)
        conv_affine(l, ch, l->rolling_mean ? l->rolling_mean[ch] : 0,
                    l->rolling_var ? l->rolling_var[ch] : 1, ac + ch, ac + n + ch);
}

/* Channel ch of images b0..b0+nb into conv_out, and its sums of x and x^2 added to
 * sums[ch], sums[n + ch]. */
__attribute__((always_inline)) static inline void stats_body(conv_layer *l, const float *g,
                                                             int b0, int nb, double *sums,
                                                             int ch) {
    const int n = l->n;
    const size_t S = (size_t)l->oh * l->ow;
    double sum[DLANES] = {0}, sq[DLANES] = {0};
    for (int b = 0; b < nb; b++) {
        const float *src = g + ((size_t)ch * nb + b) * S;
        float *x = l->conv_out + ((size_t)(b0 + b) * n + ch) * S;
        if (b + KERNELS_AHEAD < nb)
            kernels_prefetch(x + (size_t)KERNELS_AHEAD * n * S, S, KERNELS_AHEAD_LINES, 1);
        size_t s = 0;
        for (; s + DLANES <= S; s += DLANES)
            for (int j = 0; j < DLANES; j++) {
                const double v = src[s + j];
                x[s + j] = src[s + j];
                sum[j] += v;
                sq[j] += v * v;
            }
        for (; s < S; s++) {
            const double v = src[s];
            x[s] = src[s];
            sum[0] += v;
            sq[0] += v * v;
        }
    }
    double ts = 0, tq = 0;
    for (int j = 0; j < DLANES; j++) ts += sum[j], tq += sq[j];
    sums[ch] += ts, sums[n + ch] += tq;
}

KERNELS_COPIES(void, stats, (conv_layer *l, const float *g, int b0, int nb, double *sums, int ch),
               { stats_body(l, g, b0, nb, sums, ch); })

/* Image b0 + b of the chunk finished with the affine ac (see conv_forward_epilogue)
 * into out, and into conv_out / bn_out at offset o where keep (else they are not
 * written). Without BN, bn_out is conv_out: x + bias is written once. */
__attribute__((always_inline)) static inline void finish_body(conv_layer *l, const float *g,
                                                              int b0, int nb, float *out,
                                                              const float *ac, int b, size_t o,
                                                              int keep) {
    const int n = l->n, bn = l->batch_normalize;
    const size_t S = (size_t)l->oh * l->ow;
    float *x = l->conv_out + o, *y = l->bn_out + o, *z = out + (size_t)(b0 + b) * n * S;
    for (int ch = 0; ch < n; ch++) {
        const float *src = g + ((size_t)ch * nb + b) * S;
        if (ch + KERNELS_AHEAD < n)
            kernels_prefetch(src + (size_t)KERNELS_AHEAD * nb * S, S, KERNELS_AHEAD_LINES, 0);
        if (keep && bn) memcpy(x + ch * S, src, S * sizeof(float));
        affine_act(src, keep ? y + ch * S : NULL, z + ch * S, S, ac[ch], ac[n + ch], l->act);
    }
}

KERNELS_COPIES(void, finish, (conv_layer *l, const float *g, int b0, int nb, float *out,
                              const float *ac, int b, size_t o, int keep),
               { finish_body(l, g, b0, nb, out, ac, b, o, keep); })

/* Epilogue of one chunk: g [n][nb*S] -> conv_out of images b0..b0+nb (NCHW).
 * sums != NULL (BN training): conv_out only, and sums[ch] += sum x,
 * sums[n+ch] += sum x^2; the rest waits for the batch statistics. Otherwise
 * (running statistics, or no BN) the chunk is finished here with the
 * affine ac (conv_epilogue_affine), image by image so that each image's tensors
 * are written front to back: conv_out = x (BN) or x + bias, bn_out = a*x + c,
 * out = act(bn_out), and the image's energies of conv_out / bn_out into e_conv /
 * e_bn (when not NULL) while it is in cache. An inference-only layer
 * (conv_image_bufs) writes an image's conv_out / bn_out into the slot of the thread
 * (tid, the caller's thread among the chunks, plus this loop's) and only when an
 * energy needs them. */
void conv_forward_epilogue(conv_layer *l, const float *g, int b0, int nb, float *out,
                           double *sums, const float *ac, float *e_conv, float *e_bn, int tid) {
    const int n = l->n;
    const size_t S = (size_t)l->oh * l->ow;
    if (sums) {
        void (*run)(conv_layer *, const float *, int, int, double *, int) = KERNELS_PICK(stats);
#pragma omp parallel for schedule(static) if ((size_t)nb * n * S > 32768)
        for (int ch = 0; ch < n; ch++) run(l, g, b0, nb, sums, ch);
        return;
    }
    void (*run)(conv_layer *, const float *, int, int, float *, const float *, int, size_t,
                int) = KERNELS_PICK(finish);
    const int slots = conv_image_bufs(l), keep = !slots || e_conv || e_bn;
    int team = omp_get_max_threads();
    if (team > l->max_threads) team = l->max_threads;
#pragma omp parallel for schedule(static) num_threads(team) if ((size_t)nb * n * S > 32768)
    for (int b = 0; b < nb; b++) {
        const size_t o = (size_t)(slots ? tid + omp_get_thread_num() : b0 + b) * n * S;
        run(l, g, b0, nb, out, ac, b, o, keep);
        if (e_conv) e_conv[b0 + b] = (float)energy_sample(l->conv_out + o, (int)(n * S));
        if (e_bn) e_bn[b0 + b] = (float)energy_sample(l->bn_out + o, (int)(n * S));
    }
}

/* Values per channel the batch statistics are taken over: this process's batch, or
 * with l->sync the whole batch of its `parts` processes. */
static double bn_count(const conv_layer *l) {
    return (double)l->batch * l->oh * l->ow * (l->sync ? l->sync->parts : 1);
}

/* bn_out = a*conv_out + c (unless l->skip_bn_out) and out = act(a*conv_out + c) of
 * channel ch over the batch. */
KERNELS_COPIES(void, normalize, (conv_layer *l, float *out, int ch, float a, float c), {
    const size_t S = (size_t)l->oh * l->ow;
    for (int b = 0; b < l->batch; b++) {
        const size_t o = ((size_t)b * l->n + ch) * S;
        if (b + KERNELS_AHEAD < l->batch) {
            const size_t ahead = o + (size_t)KERNELS_AHEAD * l->n * S;
            kernels_prefetch(l->conv_out + ahead, S, KERNELS_AHEAD_LINES, 0);
            kernels_prefetch(out + ahead, S, KERNELS_AHEAD_LINES, 1);
        }
        affine_act(l->conv_out + o, l->skip_bn_out ? NULL : l->bn_out + o, out + o, S, a, c,
                   l->act);
    }
})

/* BN training: batch statistics from the sums (biased variance to normalise,
 * unbiased for the running variance), then bn_out (unless skip_bn_out) and out over
 * the batch. */
void conv_bn_train_finish(conv_layer *l, const double *sums, float *out) {
    const int B = l->batch, n = l->n;
    const size_t S = (size_t)l->oh * l->ow;
    const double count = bn_count(l);
    void (*run)(conv_layer *, float *, int, float, float) = KERNELS_PICK(normalize);
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
        run(l, out, ch, a, c);
    }
}

/* Mean and 1/std BN normalised channel ch with in the last forward (0 and 1 without
 * BN). */
static void bn_norm(const conv_layer *l, int ch, float *mean, float *istd) {
    *mean = 0, *istd = 1;
    if (!l->batch_normalize) return;
    *mean = l->bn_batch_stats ? l->mean[ch] : l->rolling_mean[ch];
    *istd = 1.0f / sqrtf((l->bn_batch_stats ? l->var[ch] : l->rolling_var[ch]) + l->bn_eps);
}

/* Backward through activation and BN of channel ch over this process's batch (see
 * conv_backward_prologue): the parameter gradients and the channel's sums of dy and
 * dy * xhat into red[ch], red[n + ch], dy = act'(out) * dout (+ what a hook added to
 * dbn_out). dbn_out is written only where something reads it back: without BN (it
 * is dconv_out) or with a hook adding into it. Otherwise (conv_bn_fused) the gather
 * pass recomputes dy from out and dout, instead of a write and a read of the whole
 * gradient. Compiled for each kernels level (KERNELS_COPIES: the same bits). */
__attribute__((always_inline)) static inline void prologue_body(conv_layer *l, const float *out,
                                                                const float *dout, double *red,
                                                                int ch) {
    const int B = l->batch, n = l->n, fused = conv_bn_fused(l);
    const size_t S = (size_t)l->oh * l->ow;
    const activation act = l->act;
    float mean, istd;
    bn_norm(l, ch, &mean, &istd);
    double sum_dy = 0, sum_dy_xhat = 0;
    for (int b = 0; b < B; b++) {
        const size_t o = ((size_t)b * n + ch) * S;
        const float *y = out + o, *g = dout + o, *x = l->conv_out + o;
        if (b + KERNELS_AHEAD < B) {
            const size_t a = (size_t)KERNELS_AHEAD * n * S;
            kernels_prefetch(y + a, S, KERNELS_AHEAD_LINES, 0);
            kernels_prefetch(g + a, S, KERNELS_AHEAD_LINES, 0);
            kernels_prefetch(x + a, S, KERNELS_AHEAD_LINES, 0);
        }
        float sd[FLANES] = {0}, sdx[FLANES] = {0}, td = 0, tdx = 0;
        if (!fused) {
            float *dy = l->dbn_out + o;
            if (!l->dbn_add) memset(dy, 0, S * sizeof(float)); /* in cache, unlike a pass */
            activation_backward_body(act, y, g, dy, (ptrdiff_t)S);
            y = NULL, g = dy; /* the sums read the stored dy */
        }
        /* without BN, mean = 0 and sdx goes unused */
        size_t s = 0;
        for (; s + FLANES <= S; s += FLANES)
            for (int j = 0; j < FLANES; j++) {
                const float d = y ? activation_grad(act, y[s + j], g[s + j]) : g[s + j];
                sd[j] += d;
                sdx[j] += d * (x[s + j] - mean);
            }
        for (; s < S; s++) {
            const float d = y ? activation_grad(act, y[s], g[s]) : g[s];
            sd[0] += d;
            sdx[0] += d * (x[s] - mean);
        }
        for (int j = 0; j < FLANES; j++) td += sd[j], tdx += sdx[j];
        sum_dy += td;
        sum_dy_xhat += (double)tdx * istd;
    }
    l->dbiases[ch] += (float)sum_dy;
    if (l->batch_normalize) l->dscales[ch] += (float)sum_dy_xhat;
    red[ch] = sum_dy, red[n + ch] = sum_dy_xhat;
}

KERNELS_COPIES(void, prologue, (conv_layer *l, const float *out, const float *dout, double *red,
                                int ch),
               { prologue_body(l, out, dout, red, ch); })

/* Backward through activation and BN, per channel over the whole batch:
 * dbn_out (+)= act'(out) * dout (+= with l->dbn_add; not written when conv_bn_fused),
 * parameter gradients, and the coefficients of
 * dconv = k * (dy - mdy - xhat * mdyx) in coef[ch*4 ..] = {k, mdy, mdyx, istd}. The
 * means mdy, mdyx are over the whole batch: with l->sync the sums (in l->sums, free
 * between forwards) are added up over the processes first. */
void conv_backward_prologue(conv_layer *l, const float *out, const float *dout, float *coef) {
    void (*run)(conv_layer *, const float *, const float *, double *, int) =
        KERNELS_PICK(prologue);
    const int n = l->n;
    double *red = l->sums;
#pragma omp parallel for schedule(static) if ((size_t)l->batch * n * l->oh * l->ow > 32768)
    for (int ch = 0; ch < n; ch++) run(l, out, dout, red, ch);
    if (l->sync && l->bn_batch_stats) l->sync->sum(l->sync->ctx, red, 2 * n);
    const double count = bn_count(l);
    for (int ch = 0; ch < n; ch++) {
        float mean, istd, *k = coef + 4 * (size_t)ch;
        bn_norm(l, ch, &mean, &istd);
        k[0] = l->batch_normalize ? l->scales[ch] * istd : 1.0f;
        /* running statistics are constants: no terms through mean and variance */
        k[1] = l->bn_batch_stats ? (float)(red[ch] / count) : 0.0f;
        k[2] = l->bn_batch_stats ? (float)(red[n + ch] / count) : 0.0f;
        k[3] = istd;
    }
}

/* dx[s] (+= with add) = kk * (dy - mdy - (x[s] - mean) * mx), s < S, with k = {kk,
 * mdy, mean, mx} and dy = act'(y[s]) * g[s], or g[s] when y is NULL (the stored
 * dbn_out). */
__attribute__((always_inline)) static inline void bn_grad_plane(activation act, const float *y,
                                                                const float *g, const float *x,
                                                                float *dx, size_t S, int add,
                                                                const float k[4]) {
    for (size_t s = 0; s < S; s++) {
        const float dy = y ? activation_grad(act, y[s], g[s]) : g[s];
        const float v = k[0] * (dy - k[1] - (x[s] - k[2]) * k[3]);
        dx[s] = add ? dx[s] + v : v;
    }
}

/* Channel ch of images b0..b0+nb (see conv_backward_gather). */
KERNELS_COPIES(void, gather, (conv_layer *l, const float *out, const float *dout,
                              const float *coef, int b0, int nb, float *g, int ch), {
    const int n = l->n, fused = conv_bn_fused(l);
    const size_t S = (size_t)l->oh * l->ow;
    const float *c = coef + 4 * (size_t)ch;
    const float mean = !l->batch_normalize ? 0
                       : l->bn_batch_stats ? l->mean[ch]
                                           : l->rolling_mean[ch];
    const float k[4] = {c[0], c[1], mean, c[2] * c[3]};
    for (int b = 0; b < nb; b++) {
        const size_t o = ((size_t)(b0 + b) * n + ch) * S;
        float *dx = l->dconv_out + o;
        if (b + KERNELS_AHEAD < nb) {
            const size_t a = o + (size_t)KERNELS_AHEAD * n * S;
            kernels_prefetch((fused ? dout : l->dbn_out) + a, S, KERNELS_AHEAD_LINES, 0);
            if (fused) kernels_prefetch(out + a, S, KERNELS_AHEAD_LINES, 0);
            kernels_prefetch(l->conv_out + a, S, KERNELS_AHEAD_LINES, 0);
            kernels_prefetch(dx + (a - o), S, KERNELS_AHEAD_LINES, 1);
        }
        if (l->batch_normalize)
            bn_grad_plane(l->act, fused ? out + o : NULL, fused ? dout + o : l->dbn_out + o,
                          l->conv_out + o, dx, S, l->dconv_add, k);
        if (g) memcpy(g + ((size_t)ch * nb + b) * S, dx, S * sizeof(float));
    }
})

/* For images b0..b0+nb: with BN, dconv_out (+)= k*(dy - mdy - xhat*mdyx); then
 * (g not NULL) g [n][nb*S] = dconv_out in the GEMM layout. */
void conv_backward_gather(conv_layer *l, const float *out, const float *dout, const float *coef,
                          int b0, int nb, float *g) {
    const int n = l->n;
    const size_t S = (size_t)l->oh * l->ow;
    void (*run)(conv_layer *, const float *, const float *, const float *, int, int, float *,
                int) = KERNELS_PICK(gather);
#pragma omp parallel for schedule(static) if ((size_t)nb * n * S > 32768)
    for (int ch = 0; ch < n; ch++) run(l, out, dout, coef, b0, nb, g, ch);
}
