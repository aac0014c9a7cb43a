/* train.h: `lir train`: the training loop (train.c) on a Darknet cfg with a
 * train_config (config.h): ID batches from the augmenting loader plus, for R-EBO,
 * outlier batches (outlier.h) in the same forward; CE + sum_l lambda_l R_l through
 * net_loss_backward; SGD with a schedule; per-epoch validation, CSV log, curve plots,
 * atomic checkpoints (checkpoint.h) and exact resume; final test accuracy, Darknet
 * .weights and a JSON sidecar. */
#ifndef LIR_TRAIN_H
#define LIR_TRAIN_H

#include "config.h"
#include "net.h"

typedef struct {
    const char *cfg_path;
    const char *command; /* the command line, for the sidecar */
    int resume;          /* continue from <out_dir>/checkpoint.bin */
} train_options;

/* One training step's forward and backward on x ([net->batch][c*h*w]; outliers have
 * label -1 and is_outlier 1; is_outlier NULL: all ID): zeroes, then accumulates every
 * gradient. Returns the loss the gradients belong to, CE + sum over hooks of
 * lambda * R (NaN when the network's output is not finite); *ce gets the CE alone. */
double train_forward_backward(net *n, const float *x, const int *labels,
                              const unsigned char *is_outlier, double *ce);

/* Runs (or resumes) a training run with config c; results in c->out_dir. */
int train_run(const train_options *opt, train_config *c, lir_error *err);

#endif
