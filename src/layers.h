/* layers.h: the layer types of the engine, one struct per type, each with
 * init / forward / backward / free. Update is done by the optimiser over the
 * parameter list each layer exposes (layer_params).
 *
 * Conventions (all layers):
 * - Tensors are float32, NCHW, batch-major: sample b of a [C][H][W] tensor starts
 *   at b*C*H*W.
 * - Gradients are TRUE gradients dL/dx (Darknet stores the negated gradient
 *   "delta"; we do not). An SGD step is w -= lr * dw.
 * - Backward ACCUMULATES (+=) into every gradient it writes: parameter gradients
 *   and the input gradient `din`. The caller zeroes them once per step. `din` may
 *   be NULL when the input needs no gradient (the network input).
 * - The caller owns input/output buffers. A layer owns its parameters, their
 *   gradients, and the buffers it needs between forward and backward (for a
 *   convolution: its pre-BN and post-BN activations, which are hook points).
 * - `train` selects batch statistics (1) or running statistics (0) in batch norm.
 *   A layer initialised with `grads = 0` allocates no gradient buffers and must
 *   only be run with train = 0.
 */
#ifndef LIR_LAYERS_H
#define LIR_LAYERS_H

#include <stddef.h>

#include "util.h"

typedef enum { ACT_LINEAR, ACT_RELU, ACT_LEAKY } activation;

/* Parses "linear", "relu", "leaky"; -1 if unknown. */
int activation_parse(const char *s);
const char *activation_name(activation a);

/* One trainable tensor as the optimiser sees it. */
typedef struct {
    float *w, *dw;
    size_t n;
    int decay; /* 1: weight decay applies (conv/fc weights); 0: biases, BN gamma/beta */
} param_tensor;

/* ---- convolution with optional fused batch norm and activation ----------------
 * in [B][c][h][w] -> conv_out [B][n][oh][ow] -> (BN) bn_out -> act -> out.
 * oh = (h + 2*pad - size)/stride + 1.
 * Batch norm (PyTorch semantics, eps 1e-5): training normalises with the biased
 * batch variance and updates running stats with momentum (running = (1-m)*running
 * + m*batch, unbiased variance); inference uses running stats.
 * Without BN, `biases` is the convolution bias and bn_out aliases conv_out. */
typedef struct {
    int c, h, w;           /* input shape */
    int n, oh, ow;         /* filters, output spatial size */
    int size, stride, pad; /* kernel, stride, zero padding in pixels on each side */
    int batch_normalize;
    activation act;
    float bn_momentum, bn_eps;
    int batch;             /* batch size the buffers below hold */
    float *weights, *dweights;         /* [n][c][size][size] */
    float *biases, *dbiases;           /* [n]: conv bias, or BN beta */
    float *scales, *dscales;           /* [n]: BN gamma (NULL without BN) */
    float *rolling_mean, *rolling_var; /* [n] (NULL without BN) */
    float *conv_out, *dconv_out;       /* [B][n][oh][ow] hook point "conv" */
    float *bn_out, *dbn_out;           /* [B][n][oh][ow] hook point "bn" */
    float *mean, *var;                 /* [n] batch statistics of the last training forward */
    int bn_batch_stats;                /* last forward normalised with batch (1) or running
                                          (0) statistics; backward differentiates that one */
    float *energy_conv, *energy_bn;    /* [B] or NULL: an inference forward also writes each
                                          sample's energy of conv_out / bn_out here (hooks,
                                          computed while the sample is in cache) */
} conv_layer;

/* E = -logsumexp of one sample's `size` activations (hook.c). */
double energy_sample(const float *a, int size);

/* Allocates parameters (weights He-uniform from rng, gamma 1, beta 0, running
 * mean 0 / var 1) and batch buffers; grads = 0 for inference only. */
int conv_init(conv_layer *l, int c, int h, int w, int n, int size, int stride, int pad,
              int batch_normalize, activation act, int batch, int grads, rng_state *rng,
              lir_error *err);
void conv_free(conv_layer *l);
/* Floats of scratch space forward/backward need for `batch` (im2col buffers). */
size_t conv_workspace_size(const conv_layer *l);
void conv_forward(conv_layer *l, const float *in, float *out, int train, float *ws);
/* Also accumulates into the hook-point gradients: dbn_out += act'(out) * dout, then
 * dconv_out += BN backward of dbn_out; anything a hook added there beforehand is
 * part of the gradient. The caller zeroes dbn_out / dconv_out with the others. */
void conv_backward(conv_layer *l, const float *in, const float *out, const float *dout,
                   float *din, float *ws);
int conv_params(conv_layer *l, param_tensor *p); /* fills up to 3 entries, returns count */

/* ---- max pool (Darknet semantics) ----------------------------------------------
 * padding = total padding (Darknet default size-1), offset -padding/2;
 * oh = (h + padding - size)/stride + 1. Out-of-image cells count as -inf. */
typedef struct {
    int c, h, w, oh, ow, size, stride, padding, batch;
    int *argmax; /* [B][c][oh][ow] index into the input sample, -1 if none */
} maxpool_layer;
int maxpool_init(maxpool_layer *l, int c, int h, int w, int size, int stride, int padding,
                 int batch, lir_error *err);
void maxpool_free(maxpool_layer *l);
void maxpool_forward(maxpool_layer *l, const float *in, float *out, int train);
void maxpool_backward(maxpool_layer *l, const float *dout, float *din);

/* ---- global average pool: [B][c][h][w] -> [B][c][1][1] ----------------------- */
typedef struct {
    int c, h, w, batch;
} avgpool_layer;
void avgpool_forward(const avgpool_layer *l, const float *in, float *out);
void avgpool_backward(const avgpool_layer *l, const float *dout, float *din);

/* ---- residual shortcut: out = act(a + b), a the previous layer, b `from` ----------
 * Both inputs must have the same shape (lir refuses Darknet's resampling variant). */
typedef struct {
    int c, h, w, batch;
    activation act;
} shortcut_layer;
void shortcut_forward(const shortcut_layer *l, const float *a, const float *b, float *out);
void shortcut_backward(const shortcut_layer *l, const float *out, const float *dout,
                       float *da, float *db);

/* ---- route: concatenation along channels of up to 8 inputs of equal h, w ------ */
typedef struct {
    int n;           /* number of inputs */
    int c[8];        /* channels of each input */
    int h, w, batch; /* shared spatial size */
} route_layer;
void route_forward(const route_layer *l, const float *const *in, float *out);
void route_backward(const route_layer *l, const float *dout, float *const *din);

/* ---- fully connected: out[B][outputs] = in[B][inputs] * W^T + b --------------- */
typedef struct {
    int inputs, outputs, batch;
    activation act;
    float *weights, *dweights; /* [outputs][inputs] (Darknet layout) */
    float *biases, *dbiases;   /* [outputs] */
} connected_layer;
int connected_init(connected_layer *l, int inputs, int outputs, activation act, int batch,
                   int grads, rng_state *rng, lir_error *err);
void connected_free(connected_layer *l);
void connected_forward(connected_layer *l, const float *in, float *out);
void connected_backward(connected_layer *l, const float *in, const float *out,
                        const float *dout, float *din);
int connected_params(connected_layer *l, param_tensor *p);

/* ---- softmax (+ cross-entropy) -------------------------------------------------
 * forward: out = softmax(in) per sample. The loss is cross-entropy averaged over
 * the samples whose label is >= 0 (label -1 marks an outlier that has no class:
 * it contributes no CE term). softmax_ce_backward accumulates dCE/dlogits into din. */
typedef struct {
    int inputs, batch;
} softmax_layer;
void softmax_forward(const softmax_layer *l, const float *in, float *out);
/* Returns mean CE over labelled samples (0 if none); *n_labelled gets their count. */
double softmax_ce_loss(const softmax_layer *l, const float *prob, const int *labels,
                       int *n_labelled);
void softmax_ce_backward(const softmax_layer *l, const float *prob, const int *labels,
                         float *din);

#endif
