/* trainer.h: the state of one `lir train` run, shared by the loop (train.c) and the
 * calibration and batch-norm statistics of train_calib.c. Internal to src/train. */
#ifndef LIR_TRAINER_H
#define LIR_TRAINER_H

#include <stdio.h>

#include "checkpoint.h"
#include "guard.h"
#include "train.h"

typedef struct {
    train_config *c;
    const train_options *opt;
    net *n;
    dataset *train;
    data_norm norm;
    int *tr_idx, *val_idx;
    int n_tr, n_val;
    int idb, ob;     /* ID and outlier images per step */
    long spe, total; /* steps per epoch, in the run */
    lr_schedule sched;
    sgd *o;
    int hook[CONFIG_MAX_HOOKS]; /* index in n->hooks of config hook i */
    train_state s;
    checkpoint_parts ck; /* what checkpoints hold: the state, the net with its margins */
    float *x;
    int *labels;
    unsigned char *is_out;
    outlier_source *outl;
    char ckpt[1100];
    int have_ckpt; /* ckpt holds a checkpoint of this run (written or resumed from) */
    guard_base base;  /* what init_weights was trained on */
    long val_overlap; /* validation images init_weights was trained on (allowed) */
    int parts, rank; /* processes of the run (dist), this one's index */
    int lidb, lob;   /* this process's part of idb and ob: its network's batch */
    float *obuf;     /* parts > 1: the whole outlier batch, of which this process takes
                        its part (every process makes the same outlier stream) */
    float *bnbuf;    /* parts > 1 without bn_sync: BN running statistics to average */
    FILE *out;       /* what the run prints: stdout on process 0, /dev/null elsewhere */
    int stop_all;    /* after a step: a stop signal reached some process */
} trainer;

/* The net hook of config hook i. */
static inline hook *hook_at(const trainer *t, int i) { return &t->n->hooks[t->hook[i]]; }

/* BN running statistics of every conv layer into buf (NULL: count only; save 0: back
 * from buf); returns the count. */
size_t trainer_bn_stats(net *n, float *buf, int save);
/* This process's part of the next outlier batch of os into dst. */
void trainer_outliers_next(trainer *t, outlier_source *os, float *dst);
/* Margins of hooks with calibrate, from the ID energies of training-mode forwards by
 * the rule of their loss kind (hook_reg_calibrate). */
int trainer_calibrate(trainer *t, lir_error *err);
/* Several processes with batch statistics of their own part (bn_sync false): their BN
 * running statistics differ, and are replaced by their mean over the processes before
 * they are used (validation, test) or saved. */
void trainer_bn_average(trainer *t);
/* FNV-1a of the weights, BN statistics and momentum: the same in every process, or the
 * processes did not start from the same files. */
uint64_t trainer_state_hash(const trainer *t);

#endif
