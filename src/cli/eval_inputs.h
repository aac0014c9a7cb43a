/* eval_inputs.h: what `lir eval` (cmd_eval.c) and its input loading (eval_inputs.c)
 * share inside cli: the flags, and what one run holds between loading and reporting. */
#ifndef LIR_EVAL_INPUTS_H
#define LIR_EVAL_INPUTS_H

#include "ood/ood.h"

typedef struct {
    const char *in, *out, *cfg, *weights, *data, *outdir, *values, *precision, *points;
    int batch, threads, holdout, jpeg_all, limit, save_energies, plots, validation;
    int allow_fit_overlap;
    float margin;
    int seed;
} eval_args;

#define EVAL_MAX_NETS 16

/* What one run holds between loading and reporting. */
typedef struct {
    dataset *id, *train;
    ood_plan plan;  /* the OOD sets --out stands for */
    dataset **ood;  /* [plan.n] loaded, not yet scored; NULL: lazy, skipped or done */
    char **why;     /* [plan.n] the reason a set is skipped, NULL: not skipped */
    int n_files;
    data_source source;
    eval_file *files;
    net *n, *nets[EVAL_MAX_NETS]; /* n = nets[0]; copies for side-by-side passes */
    int n_nets;
    data_norm norm;
    char cfg_sha[65], w_sha[65], prov[2400];
    char sidecar[4200], train_hash[17], train_note[5400];
    long long train_seed;
    int *fit_idx, n_fit; /* --validation: the held-out train images of the fits */
    long fit_overlap;    /* how many held-out images the weights were trained on (allowed) */
    atomic_dir out;      /* --outdir, written whole or not at all: files go to out.tmp */
} eval_inputs;

/* How many images at the end of a train split of n images --holdout takes. */
int eval_holdout_size(const eval_args *a, int n);

/* Loads every dataset first (so a bad name fails before any pass), then the network
 * copies (hooked on --points), checksums, the ID provenance and the weights' sidecar. */
int eval_inputs_load(const eval_args *a, eval_inputs *in, lir_error *err);
void eval_inputs_free(eval_inputs *in);
/* Loads OOD set i of the plan into in->ood[i]; a set that may be skipped gets its reason
 * in in->why[i] instead (0 either way); -1 on any other failure. */
int eval_load_ood(const eval_args *a, eval_inputs *in, int i, lir_error *err);
/* Appends the files of (name, split) under dir with their SHA-256 to files, each once. */
int eval_add_files(const char *dir, const char *name, const char *split, eval_file **files,
                   int *n, lir_error *err);

#endif
