/* nn: the network: Darknet cfg grammar, one struct per layer type, the network built
 * from a cfg with its named points and hooks, forward / backward, .weights I/O.
 * Includes kernels and base. */
#ifndef LIR_NN_H
#define LIR_NN_H

#include <stddef.h>

#include "kernels/kernels.h"
#include "base/base.h"
#include "energy.h"

/* cfg: Darknet's cfg grammar: "[section]" headers, "key=value" lines, comments
 * starting with '#' or ';', blank lines. The parser keeps line numbers so that
 * every later error can name file and line. Which keys a section may have is
 * checked by the network builder (net.c), not here. */


typedef struct {
    char *key, *value;
    int line;
    int used; /* set by the cfg_get_* calls; unused keys are reported as errors */
} cfg_option;

typedef struct {
    char *type; /* "net", "convolutional", ... (without brackets) */
    int line;
    int n_options;
    cfg_option *options;
} cfg_section;

typedef struct {
    char *path;
    int n_sections;
    cfg_section *sections;
} cfg_file;

cfg_file *cfg_parse_file(const char *path, lir_error *err);
cfg_file *cfg_parse_string(const char *text, const char *name, lir_error *err);
void cfg_free(cfg_file *c);

/* Typed getters: return 0 and set *out (to def when the key is absent), or -1 with
 * "<file>:<line>: <key>: expected ..." when the value does not parse. */
int cfg_get_int(const cfg_file *c, cfg_section *s, const char *key, int def, int *out,
                lir_error *err);
int cfg_get_float(const cfg_file *c, cfg_section *s, const char *key, float def, float *out,
                  lir_error *err);
/* Returns the value or def; never fails. */
const char *cfg_get_str(cfg_section *s, const char *key, const char *def);
/* Line of the key's option, or of the section header when the key is absent. */
int cfg_line_of(const cfg_section *s, const char *key);
/* -1 with "<file>:<line>: unknown key '<k>' in [<type>]" for the first unused key. */
int cfg_check_unused(const cfg_file *c, const cfg_section *s, lir_error *err);

/* layers: the layer types of the engine, one struct per type, each with
 * init / forward / backward / free. A layer with trainable tensors lists them
 * (x_params) and is given their memory by its owner (x_bind_params): the net keeps
 * all of them in one arena, which the optimiser updates in one loop.
 *
 * Conventions (all layers):
 * - Tensors are float32, NCHW, batch-major: sample b of a [C][H][W] tensor starts
 *   at b*C*H*W.
 * - Gradients are TRUE gradients dL/dx (Darknet stores the negated gradient
 *   "delta"; we do not). An SGD step is w -= lr * dw.
 * - Backward ACCUMULATES (+=) into every gradient it writes: parameter gradients
 *   and the input gradient `din`. The caller zeroes them once per step. `din` may
 *   be NULL when the input needs no gradient (the network input).
 * - The caller owns input/output buffers and the parameter memory. A layer owns
 *   the buffers it needs between forward and backward (for a convolution: its
 *   pre-BN and post-BN activations, which are hook points) and its scratch: init
 *   plans and allocates everything, forward and backward allocate nothing.
 * - `train` selects batch statistics (1) or running statistics (0) in batch norm.
 *   A layer initialised with `grads = 0` allocates no gradient buffers and must
 *   only be run with train = 0.
 */



typedef enum { ACT_LINEAR, ACT_RELU, ACT_LEAKY } activation;

/* Parses "linear", "relu", "leaky"; -1 if unknown. */
int activation_parse(const char *s);
const char *activation_name(activation a);

/* One trainable tensor of a layer: its size and whether weight decay applies. A
 * layer's tensors lie back to back in the memory given to x_bind_params, in the
 * order x_params lists them. */
typedef struct {
    size_t n;
    int decay; /* 1: weight decay applies (conv/fc weights); 0: biases, BN gamma/beta */
} param_tensor;

/* Batch-norm statistics shared by the processes of a data-parallel training run
 * (train/dist_mpi.c): sum(ctx, buf, n) replaces buf[0..n) in every process by its sum
 * over all `parts` processes, each holding an equal share of the batch. A training
 * forward then normalises with the mean and variance of the whole batch and backward
 * uses its whole-batch means, so the processes together compute what one process with
 * the whole batch computes. Every process must make the same calls in the same order. */
typedef struct {
    void (*sum)(void *ctx, double *buf, int n);
    void *ctx;
    int parts;
} bn_sync;

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
    float *weights, *dweights;         /* [n][c][size][size] \ in the caller's parameter */
    float *biases, *dbiases;           /* [n]: conv bias, or BN beta  > memory */
    float *scales, *dscales;           /* [n]: BN gamma (NULL without BN) / (bind_params) */
    float *rolling_mean, *rolling_var; /* [n] (NULL without BN) */
    float *conv_out, *dconv_out;       /* [B][n][oh][ow] hook point "conv" */
    float *bn_out, *dbn_out;           /* [B][n][oh][ow] hook point "bn" */
    float *mean, *var;                 /* [n] batch statistics of the last training forward */
    int bn_batch_stats;                /* last forward normalised with batch (1) or running
                                          (0) statistics; backward differentiates that one */
    struct conv_taps *taps;            /* kernel taps each output position reads, and how
                                          the GEMMs group them (layer_conv.c); planned once
                                          at init */
    int max_threads;                   /* most threads one call uses (scratch sized for it) */
    double *sums;                      /* [max_threads][2n] scratch of a BN training forward:
                                          each thread's channel sums and sums of squares;
                                          of backward: [2n] channel sums of dy, dy*xhat */
    float *chan;                       /* [4n] scratch: per-channel coefficients of the
                                          forward epilogue and of backward */
    int precision;                     /* PREC_FP32 or PREC_BF16: inputs of its GEMMs
                                          (forward, backward-data, backward-weights) */
    const bn_sync *sync;               /* NULL: batch statistics of this process's batch */
    int wino_fwd, wino_bwd, wino_dw;   /* Winograd tile m (2 or 4) of the forward, the
                                          backward-data and the backward-weights
                                          convolution, 0: direct; chosen at init by
                                          conv_mode() (LIR_CONV) for stride-1 pad-1 3x3
                                          layers */
    int wino_fp32;                     /* in bf16, F(4x4) stays F(4x4) in fp32 instead
                                          of becoming F(2x2) in bf16 */
    int dconv_add, dbn_add;            /* backward adds into dconv_out / dbn_out, which
                                          the caller zeroed and a hook may have added to
                                          (1), or overwrites them (0: no hook there);
                                          set by the network (net_hooks_sync) */
    int skip_bn_out;                   /* a BN training forward leaves bn_out unwritten
                                          (nothing reads it: no hook there); set by the
                                          network (net_hooks_sync) */
} conv_layer;

/* Shapes, the tap plan, BN running statistics (mean 0, var 1), batch buffers and
 * scratch; grads = 0 for inference only (conv_out / bn_out then hold one image
 * per thread: conv_image_bufs). The trainable tensors come with conv_bind_params
 * before the first forward. */
int conv_init(conv_layer *l, int c, int h, int w, int n, int size, int stride, int pad,
              int batch_normalize, activation act, int batch, int grads, lir_error *err);
/* Images conv_out and bn_out hold: the batch, or without grads one per thread (at
 * most the batch). */
int conv_held_images(int batch, int grads);
/* Whether l was built without grads: its conv_out / bn_out then hold one image per
 * thread, [threads][n][oh][ow], written only for the energies of the forward. */
static inline int conv_image_bufs(const conv_layer *l) { return !l->dconv_out; }
/* The trainable tensors in parameter-memory order: weights (decay), biases (conv
 * bias or BN beta), with BN scales (gamma). Fills up to 3 entries, returns count. */
int conv_params(const conv_layer *l, param_tensor *p);
/* Points weights, biases, [scales] at consecutive slices of params (conv_params
 * order, caller-owned) and their gradients at the same slices of grads (NULL:
 * inference), and initialises them: weights He-uniform from rng, biases 0, gamma 1. */
void conv_bind_params(conv_layer *l, float *params, float *grads, rng_state *rng);
void conv_free(conv_layer *l);
/* Floats of scratch space forward/backward need for `batch` (im2col buffers). */
size_t conv_workspace_size(const conv_layer *l);
/* An inference forward (train = 0) also writes each sample's energy of conv_out /
 * bn_out into e_conv / e_bn ([B], or NULL: none), computed while the sample's
 * tensors are in cache (hooks on the layer's points). An inference-only layer
 * always runs the inference forward, and leaves conv_out / bn_out holding no batch. */
void conv_forward(conv_layer *l, const float *in, float *out, int train, float *ws,
                  float *e_conv, float *e_bn);
/* Also the hook-point gradients: dbn_out += act'(out) * dout, then dconv_out += BN
 * backward of dbn_out, where dbn_add / dconv_add say so (anything a hook added there
 * beforehand is part of the gradient; the caller zeroed them), else = (the caller
 * need not zero them). With BN and no hook on dbn_out it is left unwritten: dconv_out
 * comes from act'(out) * dout directly (conv_bn_fused, layer_conv_bn.h). */
void conv_backward(conv_layer *l, const float *in, const float *out, const float *dout,
                   float *din, float *ws);

/* ---- max pool (Darknet semantics) ----------------------------------------------
 * padding = total padding (Darknet default size-1), offset -padding/2;
 * oh = (h + padding - size)/stride + 1. Out-of-image cells count as -inf. */
typedef struct {
    int c, h, w, oh, ow, size, stride, padding, batch;
    int *argmax;         /* [B][c][oh][ow] index into the input sample, -1 if none */
    int max_threads;     /* most threads an inference forward uses */
    float *rows;         /* [max_threads][h][ow] scratch of the inference forward */
    unsigned char *any;  /* [max_threads][ow] scratch of the inference forward */
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
    float *weights, *dweights; /* [outputs][inputs] (Darknet layout) \ in the caller's */
    float *biases, *dbiases;   /* [outputs]                          / parameter memory */
    float *g;                  /* [B][outputs] scratch of backward: dout * act'(out)
                                  (NULL for a linear activation or without grads) */
    int precision;             /* PREC_FP32 or PREC_BF16: inputs of its GEMMs */
} connected_layer;
/* Shapes and scratch; grads = 0 for inference only. The trainable tensors come with
 * connected_bind_params before the first forward. */
int connected_init(connected_layer *l, int inputs, int outputs, activation act, int batch,
                   int grads, lir_error *err);
/* The trainable tensors in parameter-memory order: weights (decay), biases. */
int connected_params(const connected_layer *l, param_tensor *p);
/* Points weights, biases at consecutive slices of params (caller-owned), their
 * gradients at the same slices of grads (NULL: inference), and initialises them:
 * weights He-uniform from rng, biases 0. */
void connected_bind_params(connected_layer *l, float *params, float *grads, rng_state *rng);
void connected_free(connected_layer *l);
void connected_forward(connected_layer *l, const float *in, float *out);
void connected_backward(connected_layer *l, const float *in, const float *out,
                        const float *dout, float *din);

/* ---- softmax (+ cross-entropy) -------------------------------------------------
 * forward: out = softmax(in) per sample. The loss is cross-entropy averaged over
 * the samples whose label is >= 0 (label -1 marks an outlier that has no class:
 * it contributes no CE term), against the one-hot label or, with label smoothing
 * eps, against (1 - eps) one-hot + eps / inputs (Szegedy et al. 2016; PyTorch's
 * cross_entropy(label_smoothing=eps)). softmax_ce_backward accumulates dCE/dlogits
 * into din. */
typedef struct {
    int inputs, batch;
    float smoothing; /* eps in [0, 1) */
} softmax_layer;
void softmax_forward(const softmax_layer *l, const float *in, float *out);
/* Returns mean CE over labelled samples (0 if none); *n_labelled gets their count. */
double softmax_ce_loss(const softmax_layer *l, const float *prob, const int *labels,
                       int *n_labelled);
void softmax_ce_backward(const softmax_layer *l, const float *prob, const int *labels,
                         float *din);

/* net: a network built from a Darknet cfg: its layers in order, its named hook
 * points, the hooks attached to them, forward/backward over the whole batch, and
 * Darknet .weights I/O.
 *
 * Data flow of one training step (see net.c):
 *   net_forward(net, x, train=1)      every layer in order; hooks compute each
 *                                     sample's energy at their point
 *   net_zero_grads(net)
 *   net_loss_backward(net, labels, is_outlier)
 *                                     softmax-CE gradient at the logits, then each
 *                                     hook adds lambda * dR/dE * (-softmax(a)) at its
 *                                     point, then every layer backward in reverse
 *   optimiser step over the parameter arena (net.params, net.grads)
 * Gradient accumulation over several micro-batches is just several forward /
 * backward calls between one zero and one step.
 */


typedef enum {
    LAYER_CONV,
    LAYER_MAXPOOL,
    LAYER_AVGPOOL,
    LAYER_SHORTCUT,
    LAYER_ROUTE,
    LAYER_CONNECTED,
    LAYER_SOFTMAX
} layer_type;

typedef struct {
    layer_type type;
    int cfg_line;      /* line of its [section] in the cfg, for messages */
    int n_in;          /* number of producer layers */
    int in[8];         /* producer layer indices; -1 is the network input */
    int c, h, w;       /* input shape (first input) */
    int oc, oh, ow;    /* output shape */
    int out_point;     /* index of the point that holds this layer's output */
    double flops;      /* FLOPs of one sample's forward through this layer */
    float *out, *dout; /* [batch][oc*oh*ow], owned by the net; dout NULL in inference */
    union {
        conv_layer conv;
        maxpool_layer maxpool;
        avgpool_layer avgpool;
        shortcut_layer shortcut;
        route_layer route;
        connected_layer fc;
        softmax_layer softmax;
    } u;
} layer;

/* A named activation that hooks can observe. */
typedef struct {
    char name[64];
    int layer;       /* owning layer */
    int c, h, w;     /* per-sample shape */
    float *value;    /* [batch][c*h*w]; in an inference net a convolution's conv / bn
                        points hold no batch (conv_image_bufs): their energies
                        come from the layer's forward */
    float *grad;     /* [batch][c*h*w], NULL in inference */
    int is_default;  /* member of the automatic set: conv, bn and connected outputs */
} point;

typedef struct {
    int point;       /* index into net->points */
    hook_reg reg;    /* lambda 0: observe only */
    float *energy;   /* [batch] E = -logsumexp(a) of each sample, after each forward */
    double last_reg; /* R of the last net_loss_backward (without lambda), for logs */
    int fused;       /* 1: on a convolution's conv or bn buffer; in an inference forward
                        the conv layer computes the energies (net_forward hands it
                        `energy`) */
} hook;

typedef struct {
    int batch;            /* samples per forward */
    int c, h, w;          /* input shape */
    int classes;          /* outputs of the last connected layer */
    int train;            /* built with gradient buffers */
    uint64_t seen;        /* images seen, stored in .weights */
    int n_layers;
    layer *layers;
    int n_points;
    point *points;        /* in network order */
    int n_hooks;
    hook *hooks;
    float *workspace;     /* shared scratch for convolutions */
    size_t workspace_size;
    float *input;         /* [batch][c*h*w] copy of the last input (for backward) */
    int *labels;          /* [batch] scratch of net_loss_backward: the CE labels */
    /* The parameter arena (as llm.c keeps its parameters): every layer's trainable
     * tensors back to back in layer order (per conv layer weights, biases, [scales];
     * per connected layer weights, biases), their gradients likewise, so zeroing the
     * gradients and an optimiser step are single loops. Layers point into it. */
    size_t n_params;      /* trainable scalars */
    float *params;        /* [n_params] */
    float *grads;         /* [n_params], NULL in inference */
    int n_tensors;
    param_tensor *tensors; /* [n_tensors] the arena's tensors in order */
    int precision;        /* PREC_FP32 or PREC_BF16: of every conv and connected GEMM */
    uint64_t memory;      /* bytes of the buffers above, as charged to the budget */
} net;

/* Builds the network of a parsed cfg. [net] gives the input shape and the batch
 * (batch / subdivisions); its training keys (learning_rate, momentum, decay, policy,
 * steps, scales, burn_in, power, max_batches) are accepted and left to `lir train`
 * (config_from_cfg). batch overrides [net] batch when > 0;
 * classes > 0 overrides the last [connected] layer's outputs (10 / 100 classes
 * without editing the file). train = 0 allocates no gradient buffers.
 * Weights are initialised from `seed`. [hook] sections become hooks. */
typedef struct {
    int batch;
    int classes;
    int train;
    uint64_t seed;
} net_options;

/* Every size a cfg implies is checked in 64 bits before anything is allocated, and
 * the network's buffers (parameters, gradients, activations, workspace) are charged
 * against a memory budget: a cfg that would exceed it fails with its file and line.
 * The budget is process-wide: net_set_max_memory (0: the default, 8 GiB or 3/4 of
 * the physical memory when that is less). */
void net_set_max_memory(uint64_t bytes);
uint64_t net_max_memory(void);

net *net_build(const cfg_file *cfg, const net_options *opt, lir_error *err);
/* The precision of the inputs of every convolution and connected-layer GEMM
 * (forward, backward-data, backward-weights): PREC_FP32 (what net_build gives), or
 * PREC_BF16 (mixed
 * precision: both GEMM operands rounded to bf16, products summed in fp32; weights,
 * activations, gradients, BN statistics, losses and energies stay fp32). */
void net_set_precision(net *n, int prec);
/* Batch statistics of every BN convolution over the processes of s from now on (NULL:
 * this process's batch alone, what net_build gives); s must outlive its use. */
void net_set_bn_sync(net *n, const bn_sync *s);
net *net_load_cfg(const char *path, const net_options *opt, lir_error *err);
void net_free(net *n);

/* x: [batch][c*h*w]. Returns the output of the last layer ([batch][classes] probabilities
 * when the cfg ends in [softmax]). */
const float *net_forward(net *n, const float *x, int train);
/* Zeroes the parameter gradients (once per optimiser step): one memset of net.grads. */
void net_zero_grads(net *n);
/* Softmax-CE on labels (label -1 or is_outlier = no CE term), plus each hook's
 * regulariser with samples split by is_outlier (NULL: all in-distribution).
 * Clears the activation gradients first, then ACCUMULATES into the parameter
 * gradients. Returns the mean CE; hook terms are in hooks[i].last_reg. Without a
 * final [softmax] (or with labels NULL) there is no CE term, only the hooks'. */
double net_loss_backward(net *n, const int *labels, const unsigned char *is_outlier);

/* Logits of the last forward: the output of the last [connected] layer. */
const float *net_logits(const net *n);

/* Points and hooks. */
int net_find_point(const net *n, const char *name); /* -1 if none */
/* Attaches an observe-only hook to every default point that has none yet. */
void net_hook_all(net *n);
/* Replaces every hook by an observe-only one on each point of list: comma-separated
 * point names as `lir info` prints them, "default" (the default points) and "all"
 * (every point), in any mix; the logits' point (net_logits) is always hooked. Hooks
 * stay in network order. An unknown or empty name fails naming it (hooks unchanged). */
int net_hook_points(net *n, const char *list, lir_error *err);
/* Attaches a hook with settings to the named point (or sets the settings of the hook
 * already there); -1 with message if unknown, or if the loss is oe and the point is
 * not the logits (net_logits). Hooks stay in network order, so an attachment may move
 * the indices of the hooks after it. */
int net_add_hook(net *n, const char *point_name, const hook_reg *reg, lir_error *err);
/* Index in n->hooks of the hook on the named point, -1 if none. */
int net_find_hook(const net *n, const char *point_name);
/* Sets each conv layer's flags that follow from the hooks (skip_bn_out, dbn_add,
 * dconv_add); net_build and every change of the hooks call it. */
void net_hooks_sync(net *n);

/* Darknet .weights: header (int32 major, minor, revision; uint64 seen when
 * major*10+minor >= 2, else uint32), then per conv layer: biases, [scales, mean,
 * var], weights; per connected layer: biases, weights. Load checks the exact size. */
int net_load_weights(net *n, const char *path, lir_error *err);
int net_save_weights(const net *n, const char *path, lir_error *err);

/* FLOPs of one sample's forward pass up to and including layer i: multiply-adds * 2
 * for conv / connected, plus one per element operation (BN, pooling, addition). */
double net_layer_flops(const net *n, int i);
/* Trainable scalars of one layer (conv weights + bias or BN gamma/beta; fc W + b). */
size_t net_layer_params(const layer *l);
/* "convolutional", "maxpool", ... (Darknet's section names). */
const char *net_layer_type_name(layer_type t);

/* Prints the layer table (shapes, parameters, FLOPs) and the points. */
void net_print_info(const net *n, FILE *f);

#endif
