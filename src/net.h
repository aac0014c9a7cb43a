/* net.h: a network built from a Darknet cfg: its layers in order, its named hook
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
 *   optimiser step over net_params()
 * Gradient accumulation over several micro-batches is just several forward /
 * backward calls between one zero and one step.
 */
#ifndef LIR_NET_H
#define LIR_NET_H

#include "cfg.h"
#include "layers.h"

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
    float *value;    /* [batch][c*h*w] */
    float *grad;     /* [batch][c*h*w], NULL in inference */
    int is_default;  /* member of the automatic set: conv, bn and connected outputs */
} point;

/* R-EBO regulariser settings of one hook (METHOD.md section 2):
 *   R = mean_in max(0, E - m_in)^2 + mean_out max(0, m_out - E)^2, scaled by lambda. */
typedef struct {
    float lambda;
    float m_in, m_out;
    int calibrate; /* 1: margins to be set from the ID energy distribution at start */
} hook_reg;

typedef struct {
    int point;       /* index into net->points */
    hook_reg reg;    /* lambda 0: observe only */
    float *energy;   /* [batch] E = -logsumexp(a) of each sample, after each forward */
    double last_reg; /* R of the last net_loss_backward (without lambda), for logs */
    int fused;       /* 1: on a conv or bn point; an inference forward's conv layer
                        writes the energies (conv_layer.energy_conv / energy_bn) */
} hook;

typedef struct {
    int batch;            /* samples per forward */
    int c, h, w;          /* input shape */
    int classes;          /* outputs of the last connected layer */
    int train;            /* built with gradient buffers */
    /* [net] section training settings (Darknet keys); a JSON run config may override */
    float learning_rate, momentum, decay;
    int max_batches, subdivisions;
    char policy[16];      /* "constant", "steps", "poly", "cos" */
    int n_steps;          /* policy=steps: lr *= scales[k] once step count reaches steps[k] */
    int steps[16];
    float scales[16];
    int burn_in;          /* warm-up batches: lr * (batch/burn_in)^power */
    float power;
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
} net;

/* Builds the network of a parsed cfg. batch overrides [net] batch when > 0;
 * classes > 0 overrides the last [connected] layer's outputs (10 / 100 classes
 * without editing the file). train = 0 allocates no gradient buffers.
 * Weights are initialised from `seed`. [hook] sections become hooks. */
typedef struct {
    int batch;
    int classes;
    int train;
    uint64_t seed;
} net_options;

net *net_build(const cfg_file *cfg, const net_options *opt, lir_error *err);
net *net_load_cfg(const char *path, const net_options *opt, lir_error *err);
void net_free(net *n);

/* x: [batch][c*h*w]. Returns the output of the last layer ([batch][classes] probabilities
 * when the cfg ends in [softmax]). */
const float *net_forward(net *n, const float *x, int train);
/* Zeroes the parameter gradients (once per optimiser step). */
void net_zero_grads(net *n);
/* Softmax-CE on labels (label -1 or is_outlier = no CE term), plus each hook's
 * regulariser with samples split by is_outlier (NULL: all in-distribution).
 * Clears the activation gradients first, then ACCUMULATES into the parameter
 * gradients. Returns the mean CE; hook terms are in hooks[i].last_reg. Without a
 * final [softmax] (or with labels NULL) there is no CE term, only the hooks'. */
double net_loss_backward(net *n, const int *labels, const unsigned char *is_outlier);

/* Logits of the last forward: the output of the last [connected] layer. */
const float *net_logits(const net *n);

/* Parameter tensors of all layers, in layer order; returns count (<= cap). */
int net_params(net *n, param_tensor *p, int cap);

/* Points and hooks. */
int net_find_point(const net *n, const char *name); /* -1 if none */
/* Attaches an observe-only hook to every default point that has none yet. */
void net_hook_all(net *n);
/* Attaches a hook with settings to the named point; -1 with message if unknown. */
int net_add_hook(net *n, const char *point_name, const hook_reg *reg, lir_error *err);

/* Energies and regulariser, also used directly by tests. a: [batch][size]. */
void energy_forward(const float *a, int batch, int size, float *energy);
/* Adds lambda * dR/dE_b * (-softmax(a_b)) to grad and returns R (without lambda). */
double energy_reg_backward(const float *a, const float *energy, int batch, int size,
                           const unsigned char *is_outlier, const hook_reg *reg,
                           float *grad);

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
const char *layer_type_name(layer_type t);

/* Prints the layer table (shapes, parameters, FLOPs) and the points. */
void net_print_info(const net *n, FILE *f);

#endif
