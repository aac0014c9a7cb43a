/* guard: what stops a training run from going on (or writing results) silently
 * wrong: labels the classifier cannot represent, and parameters, gradients,
 * optimiser state or batch-norm statistics that are no longer finite. */
#ifndef LIR_GUARD_H
#define LIR_GUARD_H

#include "data/data.h"
#include "nn/nn.h"
#include "train.h"

/* Refuses a classifier with fewer outputs than the labels of d need (they would
 * silently drop out of the loss and be read past the outputs in evaluation). */
int guard_labels_fit(const dataset *d, int classes, lir_error *err);

/* After an optimiser step over n's parameter arena (o->nonfinite says whether it
 * left anything non-finite): 0 when the weights, their velocities and every
 * batch-norm running statistic are finite; else -1 with a message naming the tensor
 * (layer, cfg line, which array, and where weight, velocity and gradient first went
 * non-finite), the step, and the last good checkpoint (ckpt; NULL when none was
 * written). */
int guard_finite(const net *n, const sgd *o, int epoch, long step, const char *ckpt,
                 lir_error *err);

/* "; the last good checkpoint <ckpt> is kept" or, with ckpt NULL, "; no checkpoint
 * was written, so there is nothing to resume" into buf. */
const char *guard_ckpt_note(const char *ckpt, char *buf, size_t n);

/* Reads what the base of c (c->init_weights; none: known 0, empty note) was trained on
 * into b, and refuses (-1) a validation part, the last c->val_size of the n_split
 * images of c->dataset's train split, that holds images the base was trained on:
 * its validation accuracy would be inflated. c->allow_val_overlap lets it pass;
 * *overlap gets the count of such images either way (0: none or unknown). */
int guard_val_overlap(const train_config *c, int n_split, guard_base *b, long *overlap,
                      lir_error *err);

/* The first non-finite value of a[0..n): its index, or -1. */
long guard_first_nonfinite(const float *a, size_t n);

#endif
