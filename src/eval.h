/* eval.h: `lir eval`'s scoring passes and metric tables (METHOD.md sections 1-2).
 *
 *   eval_pass_run   one forward pass over a dataset with a hook on every point:
 *                   each sample's energy at each point, its logits and label
 *   eval_fit        direction-free per-point models and Ag-EBO aggregations, fitted
 *                   on a pass over held-out ID *training* images only
 *   eval_compare    every metric of one OOD set against the ID test pass
 *   eval_report_*   (eval_report.c) console table, JSON, CSV, energies, plots
 *
 * Conventions are metrics.h's: OOD is the positive class, higher score = more OOD. */
#ifndef LIR_EVAL_H
#define LIR_EVAL_H

#include "data.h"
#include "metrics.h"
#include "net.h"

/* Per-sample scores of one dataset. */
typedef struct {
    char name[96]; /* dataset name as loaded, e.g. "cifar10@jpeg75" */
    char split[16];
    int n, L, classes;
    float *energy;        /* [n][L] E = -logsumexp at each hooked point, network order */
    float *logits;        /* [n][classes] */
    int *labels;          /* [n] */
    double seconds;     /* wall time of the pass: batches made, forward, energies */
    double cpu_seconds; /* process CPU time (all threads) of the same */
} eval_pass;

/* Runs count images (idx NULL: images 0..count-1) in batches of the networks'
 * batch size (the last batch is zero-padded; padding is ignored). nets: n_nets
 * copies of one network with its hooks attached (net_hook_all). With one, its
 * layers share the threads; with several, each takes every n_nets-th batch on a
 * thread of its own (no barrier inside a batch; the same results, which depend
 * only on the batch). Shows a progress bar on stderr. */
int eval_pass_run(net *const *nets, int n_nets, const dataset *d, const int *idx, int count,
                  const data_norm *norm, eval_pass *out, lir_error *err);
void eval_pass_free(eval_pass *p);
/* Share of samples whose largest logit is the label. */
double eval_accuracy(const eval_pass *p);

enum { EVAL_BASE_MSP, EVAL_BASE_MAXLOGIT, EVAL_BASE_ENERGY, EVAL_N_BASE };
#define EVAL_N_AGEBO 3 /* AGEBO_ZSUM, AGEBO_ZABS, AGEBO_MAHAL */

/* Every metric of one OOD set against the ID test set. */
typedef struct {
    char name[96];
    int n;
    metrics_summary *point;              /* [L] raw energy at each point */
    metrics_summary *dirfree;            /* [L] direction-free score |E - centre| / scale */
    metrics_summary base[EVAL_N_BASE];   /* final-layer baselines from the logits */
    metrics_summary agebo[EVAL_N_AGEBO]; /* aggregations over all points */
    int best;         /* point with the highest raw AUROC (chosen with test labels) */
    int best_dirfree; /* the same for the direction-free score */
    int early;        /* cheapest point whose raw AUROC is within margin of the best */
    int early_dirfree;
} eval_ood;

typedef struct {
    int L;                  /* hooked points */
    char (*names)[64];      /* [L] point names, network order */
    int *shape;             /* [L][3] c, h, w */
    double *flop_frac;      /* [L] share of the network's FLOPs needed to reach it */
    int final_point;        /* index of the final layer's point (the logits) */
    int seed_values;        /* paper lines and bar plots show max(AUROC, 1 - AUROC) */
    double margin;          /* early-exit margin on AUROC */
    double id_accuracy;     /* top-1 on the ID test pass */
    int n_fit;              /* held-out ID training images the models were fitted on */
    dirfree_model *dirfree; /* [L] */
    agebo_model agebo[EVAL_N_AGEBO];
    int n_ood;
    eval_ood *ood; /* [n_ood] */
} eval_result;

/* Names, shapes and FLOP shares of n's hooked points; margin for early exit. */
void eval_result_init(eval_result *r, const net *n, double margin);
/* Fits the direction-free models and the Ag-EBO aggregations on fit (ID only). */
int eval_fit(eval_result *r, const eval_pass *fit, lir_error *err);
/* Appends the metrics of ood against id (uses the fitted models). */
int eval_compare(eval_result *r, const eval_pass *id, const eval_pass *ood, lir_error *err);
void eval_result_free(eval_result *r);

/* Column of point k of a pass as a contiguous array (caller frees). */
float *eval_column(const eval_pass *p, int k);

/* A data file that went into the results, with its checksum. */
typedef struct {
    char dataset[96]; /* base name and split, e.g. "cifar10 test" */
    char path[4200];
    char sha256[65];
} eval_file;

/* What produced the results, for the reports. */
typedef struct {
    const char *command; /* the command line */
    const char *cfg, *cfg_sha256;
    const char *weights, *weights_sha256;
    const char *data_dir;
    const char *id_name; /* as loaded (with @jpeg<q> under --jpeg-all) */
    const char *id_provenance; /* one line: the ID set's PROVENANCE summary (data.h) */
    const char *id_source;     /* "official", "mirror" or "unknown" (data_source_name) */
    const eval_file *files;
    int n_files;
    const char *holdout; /* how the fit split was drawn, in words */
    data_norm norm;
    unsigned long long seed;
    int jpeg_all; /* quality, 0 = off */
    int batch;
    int n_id;
    double seconds_forward; /* all passes: forward + energies */
    double cpu_forward;     /* their process CPU time (all threads) */
    int networks;           /* network copies run side by side (one per thread) */
    long images_total;
} eval_info;

/* ---- eval_report.c ---- */
/* The paper's lines per OOD set ("  <name padded to 40>: AUROC = 0.xxxx" in network
 * order; raw AUROC, or the seed-compatible value when r->seed_values), then the wide
 * table and the summary rows. */
void eval_report_console(FILE *f, const eval_result *r, const eval_info *info);
int eval_report_json(const char *path, const eval_result *r, const eval_info *info, lir_error *err);
int eval_report_csv(const char *path, const eval_result *r, lir_error *err);
/* CSV: index,label,<one column per point>,msp,maxlogit; one row per sample. */
int eval_report_energies(const char *path, const eval_result *r, const eval_pass *p,
                         lir_error *err);
/* auroc_scores_<id>_<ood>.png per OOD set (raw or seed-compatible values, as the paper
 * lines) and auroc_heatmap_<id>.png (raw AUROC) into dir. */
int eval_report_plots(const char *dir, const eval_result *r, const char *id_name, lir_error *err);

#endif
