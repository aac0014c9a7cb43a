/* train_report: the files a training run writes beside its checkpoint:
 * config.json (effective config), log.csv (one row per epoch, rewritten atomically
 * from the checkpointed history, so it always matches the checkpoint),
 * curves_loss.png / curves_acc.png / curves_reg.png (with hooks), and the final weights'
 * JSON sidecar. */
#ifndef LIR_TRAIN_REPORT_H
#define LIR_TRAIN_REPORT_H

#include "checkpoint.h"
#include "train.h"
#include "data/data.h"

typedef struct {
    const char *cfg_path, *command;
    char weights[1100];
    double test_loss, test_acc, test_acc_flip; /* test_acc_flip: NAN unless test_flip */
    int n_test;
    int threads; /* OpenMP threads of the run (results depend on it in the last bits) */
    int processes; /* of a data-parallel run (mpirun -np), 1 otherwise */
    char train_sha256[65], test_sha256[65];
    const net *n;     /* the trained network: its hooks hold the margins used */
    const int *hooks; /* [c->n_hooks] index in n->hooks of each config hook */
    long trained_first; /* the first this many train images were fitted (this run or its
                           init_weights, as far as their sidecar says) */
    long val_overlap;   /* validation images init_weights was trained on (allowed) */
} report_final;

int train_report_config(const train_config *c, lir_error *err);
int train_report_log(const train_config *c, const train_state *s, lir_error *err);
int train_report_plots(const train_config *c, const train_state *s, lir_error *err);
/* Writes <r->weights>.json. */
int train_report_sidecar(const train_config *c, const train_state *s, const report_final *r,
                   lir_error *err);

#endif
