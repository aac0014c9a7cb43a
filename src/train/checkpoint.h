/* checkpoint: everything a training run needs to continue exactly, in one file
 * written atomically (tmp + rename), so a run killed at any moment keeps its last
 * complete checkpoint:
 *   magic "LIRCKPT2" (LIRCKPT1: before outlier mixtures), uint64 config hash, the train_state (step, loader position,
 *   outlier generator/loader position, the current epoch's running sums, the hooks'
 *   margins, the epoch history), the network's tensors (per conv: biases, [scales,
 *   rolling mean, rolling var], weights; per connected: biases, weights; each as
 *   uint64 count + float32 data) and the SGD state (sgd_save).
 * All integers and floats in host byte order (a checkpoint is not an exchange format;
 * final weights are written as Darknet .weights). */
#ifndef LIR_CHECKPOINT_H
#define LIR_CHECKPOINT_H

#include <stdint.h>

#include "train.h"
#include "nn/nn.h"

typedef struct {
    int epoch;  /* 1-based */
    long step;  /* steps done at the end of the epoch */
    double lr;  /* rate of the epoch's last step */
    double train_loss, train_ce, train_acc;
    double reg[CONFIG_MAX_HOOKS]; /* mean R of each hook over the epoch (without lambda) */
    double val_loss, val_acc;     /* NaN without a validation split */
    double images_per_s, seconds;
} epoch_record;

typedef struct {
    long step;           /* optimiser steps done */
    int epoch, position; /* ID loader position of the next batch */
    outlier_pos opos;
    /* running sums of the current epoch */
    double sum_loss, sum_ce, sum_reg[CONFIG_MAX_HOOKS];
    long epoch_steps, correct, seen;
    double epoch_seconds, train_seconds;
    /* margins in use (after calibration) */
    int n_hooks;
    float m_in[CONFIG_MAX_HOOKS], m_out[CONFIG_MAX_HOOKS];
    int n_records;
    epoch_record *records; /* [n_records], malloc'd */
} train_state;

int checkpoint_save(const char *path, uint64_t config_hash, const net *n, const sgd *o,
                    const train_state *s, lir_error *err);
/* Restores into an already built net and optimiser of the same shapes; refuses a
 * checkpoint whose config hash differs from config_hash. s->records is allocated. */
int checkpoint_load(const char *path, uint64_t config_hash, net *n, sgd *o, train_state *s,
                    lir_error *err);

#endif
