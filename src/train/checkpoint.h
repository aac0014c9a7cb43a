/* checkpoint: everything a training run needs to continue exactly, in one file
 * written atomically (tmp + rename), so a run killed at any moment keeps its last
 * complete checkpoint. Layout (format version 4; version 3 lacked the band margins,
 * LIRCKPT1 and LIRCKPT2 were older formats without header or checksum; all refused):
 *   header: magic "LIRCKPT3", uint32 format version, uint32 CRC-32 (zlib) of the
 *   payload, uint64 payload bytes;
 *   payload: uint64 config hash, the training state (step, loader position, outlier
 *   generator/loader positions, the current epoch's running sums, the margins in use
 *   of the regularised hooks, the epoch history; layout in checkpoint.c), the network's
 *   tensors (per conv: biases, [scales, rolling mean, rolling var], weights; per
 *   connected: biases, weights; each as uint64 count + float32 data) and the SGD state
 *   (sgd_save).
 * A checkpoint is only written when every value in it is finite, and on resume it is
 * validated field by field: the size from the network and the history length, the
 * checksum, the hash, the step, epoch and positions against the run's schedule,
 * finite sums, margins and tensors, nothing after the end.
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

/* Where a run stands. The margins in use are not here: they live in the network's
 * hooks (hook_reg, where the loss reads them), and checkpoints take them from there. */
typedef struct {
    long step;           /* optimiser steps done */
    int epoch, position; /* ID loader position of the next batch */
    outlier_pos opos;
    /* running sums of the current epoch */
    double sum_loss, sum_ce, sum_reg[CONFIG_MAX_HOOKS];
    long epoch_steps, correct, seen;
    double epoch_seconds, train_seconds;
    int n_records;
    epoch_record *records; /* [n_records], malloc'd */
} train_state;

/* Everything a checkpoint holds, where it lives in memory. */
typedef struct {
    uint64_t config_hash;
    net *n;
    const int *hooks; /* [n_hooks] index in n->hooks of each regularised hook, config order */
    int n_hooks;
    sgd *o;
    train_state *s;
} checkpoint_parts;

/* The run a checkpoint must belong to: its schedule and batch shape. */
typedef struct {
    int epochs;
    long steps_per_epoch;
    int id_batch;
    int validation; /* 1: records hold finite validation results, 0: NaN */
} ckpt_run;

/* Refuses (writing nothing) when a tensor or momentum value is not finite. */
int checkpoint_save(const char *path, const checkpoint_parts *p, lir_error *err);
/* Restores into an already built net (hooks attached) and optimiser of the same shapes,
 * after the checks listed above; refuses a checkpoint whose config hash differs from
 * p->config_hash or that does not fit run. p->s->records is allocated. */
int checkpoint_load(const char *path, const checkpoint_parts *p, const ckpt_run *run,
                    lir_error *err);

#endif
