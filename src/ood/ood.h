/* ood: OOD scoring: metrics on one score, baselines, direction-free and Ag-EBO
 * aggregates, and `lir eval`'s passes and reports. Includes nn, data, report, base. */
#ifndef LIR_OOD_H
#define LIR_OOD_H

#include <stddef.h>

#include "data/data.h"
#include "nn/nn.h"
#include "report/report.h"
#include "base/base.h"

/* metrics: OOD detection metrics on one score per sample (AUROC, FPR at a TPR,
 * AUPR), final-layer baseline scores from logits, the direction-free per-point
 * score, Ag-EBO aggregations over many hook points, and the early-exit helper.
 *
 * Conventions used everywhere here:
 *   - OOD is the positive class; a score is "higher = more OOD".
 *   - Scores come as two arrays: id[n_id] (negatives) and ood[n_ood] (positives).
 *   - A NaN score or an empty class is an error (the function returns -1 and fills err).
 *   - All accumulation is in double; sorting is O(n log n). */



/* Every single-score metric in one struct (one sort serves them all). */
typedef struct {
    double auroc;       /* raw AUROC, OOD positive, ties count 1/2 (Mann-Whitney U) */
    double auroc_seed;  /* max(auroc, 1 - auroc): "seed-compatible", uses test labels */
    double fpr95_ood;   /* FPR at 95% TPR, OOD positive (OpenOOD v1.5 convention) */
    double fpr95_id;    /* FPR at 95% TPR, ID positive (Liu et al. / Hendrycks convention) */
    double aupr_out;    /* average precision, OOD positive, score as is */
    double aupr_in;     /* average precision, ID positive, score negated */
    double threshold95; /* the threshold behind fpr95_ood (score >= it is called OOD) */
} metrics_summary;

int metrics_compute(const float *id, size_t n_id, const float *ood, size_t n_ood,
                    metrics_summary *out, lir_error *err);

/* One-line, JSON-safe description of a metrics_summary field ("auroc", "auroc_seed",
 * "fpr95_ood", "fpr95_id", "aupr_out", "aupr_in", "threshold95"), for reports that
 * must say which class is positive; NULL for an unknown name. */
const char *metrics_field_description(const char *field);

/* AUROC = P(s_ood > s_id) + 0.5 P(s_ood == s_id), computed as U / (n_id * n_ood). */
int metrics_auroc(const float *id, size_t n_id, const float *ood, size_t n_ood, double *auroc,
                  lir_error *err);
double metrics_auroc_seed_compatible(double auroc); /* max(auroc, 1 - auroc) */

/* FPR at a TPR, OOD positive: t* is the LARGEST score value t such that
 * TPR(t) = #{ood >= t} / n_ood >= tpr (ties: every sample with score >= t is called
 * OOD, so a tie group is never split). The result is #{id >= t*} / n_id: the share of ID
 * samples flagged as OOD when (at least) tpr of the OOD samples are caught. Equal to
 * sklearn's roc_curve(ood_labels, score, drop_intermediate=False) fpr at the first
 * tpr >= 0.95. *threshold (may be NULL) receives t*. */
int metrics_fpr_at_tpr_ood(const float *id, size_t n_id, const float *ood, size_t n_ood,
                           double tpr, double *fpr, double *threshold, lir_error *err);

/* FPR at a TPR, ID positive (the convention of Liu et al. 2020 and most energy papers):
 * t* is the SMALLEST score value t with #{id <= t} / n_id >= tpr (score <= t is accepted
 * as ID, ties never split); the result is #{ood <= t*} / n_ood, the share of OOD samples
 * accepted as ID when tpr of the ID samples are accepted. */
int metrics_fpr_at_tpr_id(const float *id, size_t n_id, const float *ood, size_t n_ood,
                          double tpr, double *fpr, double *threshold, lir_error *err);

/* Average precision (scikit-learn's step-wise definition, ties grouped into one
 * threshold): AP = sum_k (R_k - R_{k-1}) P_k over thresholds in decreasing order.
 * aupr_out: OOD positive, score as is. aupr_in: ID positive, score negated. */
int metrics_aupr_out(const float *id, size_t n_id, const float *ood, size_t n_ood, double *ap,
                     lir_error *err);
int metrics_aupr_in(const float *id, size_t n_id, const float *ood, size_t n_ood, double *ap,
                    lir_error *err);

/* Final-layer baseline scores from logits[n][classes] (higher = more OOD, all stable):
 *   msp:       -max_c softmax(logits)_c
 *   maxlogit:  -max_c logits_c
 *   energy:    E = -logsumexp(logits) = -(m + log sum exp(l_c - m)), m = max l_c  */
void metrics_score_msp(const float *logits, size_t n, int classes, float *out);
void metrics_score_maxlogit(const float *logits, size_t n, int classes, float *out);
void metrics_score_energy(const float *logits, size_t n, int classes, float *out);

/* Early exit: the cheapest point whose AUROC is within margin of the best one.
 * flop_frac[i] = share of the full network's FLOPs needed to reach point i. Ties in
 * cost go to the higher AUROC, then to the earlier point. NaN AUROCs are skipped.
 * Returns the index, or -1 if every AUROC is NaN or L <= 0. */
int metrics_early_exit(const double *auroc, const double *flop_frac, int L, double margin);

/* ---- aggregate.c: scores fitted on ID data only ---- */

/* Location/scale of ID energies at one point.
 * robust = 0: mean and standard deviation (population, divide by n).
 * robust = 1: median and 1.4826 * MAD (equals the std for Gaussian data).
 * A zero scale (constant ID energies) falls back to the other estimator's scale and then
 * to 1, so scores stay finite. */
typedef struct {
    double center, scale;
    int robust;
} dirfree_model;

/* Default: robust = 1. ID energies at conv/bn points are skewed with long tails (the
 * logsumexp is dominated by a few large activations), so a handful of extreme ID samples
 * in the fit set would move the mean and inflate the std; the median/MAD pair ignores
 * them and marks the typical ID energy as the centre of the two-sided score. */
#define DIRFREE_DEFAULT_ROBUST 1

int dirfree_fit(dirfree_model *m, const float *id_energies, size_t n, int robust,
                lir_error *err);
/* out[i] = |E_i - center| / scale: large when a sample is unusual in either direction. */
void dirfree_score(const dirfree_model *m, const float *energies, size_t n, float *out);
/* JSON-friendly one-line description into buf (always NUL-terminated). */
void dirfree_describe(const dirfree_model *m, char *buf, size_t size);

typedef enum {
    AGEBO_ZSUM = 0, /* sum_l s_l z_l, z_l = (E_l - mu_l) / sigma_l, s_l = +1 */
    AGEBO_ZABS = 1, /* sum_l |z_l| (two-sided) */
    AGEBO_MAHAL = 2 /* sqrt(z^T R_shrunk^-1 z), R = ID correlation of the energies */
} agebo_kind;

/* Ag-EBO over L points. Sign rule for AGEBO_ZSUM: s_l = +1 for every point, because
 * energy is defined so that higher = more OOD at every point; no sign is ever estimated,
 * so nothing (not even ID data) can flip a layer. AGEBO_ZABS is the direction-free
 * variant for points where OOD data may have *lower* energy than ID.
 * Mahalanobis: on the ID-standardised vector z (so L scales from 10 to 16,384
 * activations do not matter), with the ID correlation R shrunk towards the identity,
 * R_s = (1 - shrink) R + shrink I, plus ridge on the diagonal, factored by Cholesky in
 * double. The distance is invariant to per-point rescaling, so this equals the
 * Mahalanobis distance of E with covariance D R_s D (D = diag(sigma)). */
typedef struct {
    agebo_kind kind;
    int L;
    int robust;    /* standardisation as in dirfree_model */
    double shrink; /* Mahalanobis shrinkage towards identity, default 0.05 */
    double ridge;  /* added to the diagonal after shrinkage, default 1e-6 */
    double *mu, *sigma, *sign; /* [L] */
    double *chol;              /* [L*L] lower Cholesky factor of R_s (Mahalanobis only) */
    size_t n_fit;
} agebo_model;

#define AGEBO_DEFAULT_SHRINK 0.05
#define AGEBO_DEFAULT_RIDGE 1e-6

/* Sets kind and the defaults (robust = 0, shrink, ridge); no allocation. Change the
 * fields before agebo_fit to deviate from the defaults. Ag-EBO standardises with
 * mean/std by default (unlike dirfree_model): it is the rule docs/method.md section 4 gives, and the
 * Mahalanobis variant is a second-moment method around the mean anyway. */
void agebo_init(agebo_model *m, agebo_kind kind);
/* id_energies[n][L] (row-major), ID data only. Needs n >= 2. */
int agebo_fit(agebo_model *m, const float *id_energies, size_t n, int L, lir_error *err);
/* energies[n][L] -> out[n], higher = more OOD. */
int agebo_score(const agebo_model *m, const float *energies, size_t n, float *out,
                lir_error *err);
void agebo_free(agebo_model *m);
const char *agebo_kind_name(agebo_kind kind); /* "zsum", "zabs", "mahalanobis" */
int agebo_kind_parse(const char *name, agebo_kind *kind, lir_error *err);
void agebo_describe(const agebo_model *m, char *buf, size_t size);

/* Solves for the lower Cholesky factor of the symmetric n x n matrix a (row-major,
 * only the lower triangle read) into l (Ag-EBO's Mahalanobis fit). Returns -1 if a is
 * not positive definite. */
int agebo_cholesky(const double *a, int n, double *l, lir_error *err);

/* ---- groups.c: the OOD groups and the sets an `--out` list stands for ---- */
enum { OOD_GROUP_NEAR, OOD_GROUP_FAR, OOD_GROUP_COVARIATE, OOD_N_GROUPS };
const char *ood_group_name(int g);    /* "near", "far", "covariate"; "" for -1 */
int ood_group_find(const char *name); /* the group of that name, -1: not a group */
/* The sets of group g for ID set id (its name before any '@' decides) as a comma list
 * (static; "" when the group has none for that ID set). One table holds them all:
 *   near       cifar100 (ID cifar10), cifar10 (ID cifar100)
 *   far        svhn, mnist, fashionmnist, textures, photos-test, gaussian, uniform, blobs
 *   covariate  cifar10-c (ID cifar10): every corruption at every severity */
const char *ood_group_sets(int g, const char *id);

typedef struct {
    char name[96];
    int group; /* the group that brought it in, -1: named on its own */
    int lazy;  /* one of several sets one name stands for (cifar10-c): load it just
                  before its pass and free it after, one at a time */
} ood_plan_set;

typedef struct {
    ood_plan_set *sets;
    int n;
    int asked[OOD_N_GROUPS]; /* groups named in the list */
} ood_plan;

/* Expands a comma list of group and set names for ID set id: a group into its sets,
 * every name through dataset_expand; a set named twice is kept once, with its group. */
int ood_plan_make(ood_plan *p, const char *list, const char *id, lir_error *err);
void ood_plan_free(ood_plan *p);
/* Whether set i, which failed to load, is skipped (listed with the reason) rather than
 * stopping the run: a group brought it in, and this build does not know its name
 * (dataset_known_names) or dir has no folder <dir>/<name before '@'>/ (data absent).
 * A set named on its own, or one whose folder exists (a corrupt file), is an error. */
int ood_plan_may_skip(const ood_plan *p, int i, const char *dir);

/* eval: `lir eval`'s scoring passes and metric tables (docs/method.md sections 2-5).
 *
 *   eval_pass_run   one forward pass over a dataset with a hook on every point:
 *                   each sample's energy at each point, its logits and label
 *   eval_fit        direction-free per-point models and Ag-EBO aggregations, fitted
 *                   on a pass over held-out ID *training* images only
 *   eval_compare    every metric of one OOD set against the ID test pass
 *   eval_report_*   (eval_report.c) console table, JSON, CSV, energies, plots
 *
 * Conventions are the metrics': OOD is the positive class, higher score = more OOD. */


/* Per-sample scores of one dataset. */
typedef struct {
    char name[96]; /* dataset name as loaded, e.g. "cifar10@jpeg75" */
    char split[16];
    char note[512]; /* the dataset's note for results (dataset.note), "" none */
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

/* The scores of the ID-only fit (fit.json): EVAL_MAIN_FC .. EVAL_MAIN_MAHAL below, none
 * chosen with test labels; their thresholds accept this share of ID images. */
#define EVAL_N_FIT 5
#define EVAL_FIT_TPR 0.95

/* Every metric of one OOD set against the ID test set. */
typedef struct {
    char name[96];
    char note[512]; /* what results should say about the set (its dataset's note), "" */
    int n;
    metrics_summary *point;              /* [L] raw energy at each point */
    metrics_summary *dirfree;            /* [L] direction-free score |E - centre| / scale */
    metrics_summary base[EVAL_N_BASE];   /* final-layer baselines from the logits */
    metrics_summary agebo[EVAL_N_AGEBO]; /* aggregations over all points */
    int best;         /* point with the highest raw AUROC (chosen with test labels) */
    int best_dirfree; /* the same for the direction-free score */
    int early;        /* cheapest point whose raw AUROC is within margin of the best */
    int early_dirfree;
    int group; /* OOD_GROUP_*, -1: named on its own */
} eval_ood;

/* A set of the plan that could not be loaded, and why. */
typedef struct {
    char name[96];
    int group;
    char reason[1024];
} eval_skipped;

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
    int classes;            /* outputs of the network */
    dirfree_model *dirfree; /* [L] */
    agebo_model agebo[EVAL_N_AGEBO];
    /* per ID-only score (EVAL_MAIN_FC .. EVAL_MAIN_MAHAL, eval_thresholds): the threshold
     * that accepts EVAL_FIT_TPR of the held-out fit images as ID (score <= it), the share
     * of the fit images and of the ID test images it accepts */
    double threshold[EVAL_N_FIT], fit_accept[EVAL_N_FIT], test_accept[EVAL_N_FIT];
    int n_ood;
    eval_ood *ood; /* [n_ood] */
    int asked[OOD_N_GROUPS]; /* groups named in --out: each gets a mean row */
    int n_skipped;
    eval_skipped *skipped; /* [n_skipped] */
} eval_result;

/* Names, shapes and FLOP shares of n's hooked points; margin for early exit. */
void eval_result_init(eval_result *r, const net *n, double margin);
/* Fits the direction-free models and the Ag-EBO aggregations on fit (ID only). */
int eval_fit(eval_result *r, const eval_pass *fit, lir_error *err);
/* Appends the metrics of ood against id (uses the fitted models). */
int eval_compare(eval_result *r, const eval_pass *id, const eval_pass *ood, lir_error *err);
void eval_result_free(eval_result *r);
/* Lists a set that was not evaluated, with the reason. */
void eval_skip(eval_result *r, const char *name, int group, const char *reason);

/* The main scores of the summary (the group means as OpenOOD reports them, and
 * `lir compare`): key names them in results.json, brief on `lir compare --score`. */
enum {
    EVAL_MAIN_FC,           /* raw energy at the final layer (fc) */
    EVAL_MAIN_FC_DIRFREE,   /* direction-free score at fc */
    EVAL_MAIN_ZSUM,         /* Ag-EBO aggregates */
    EVAL_MAIN_ZABS,
    EVAL_MAIN_MAHAL,
    EVAL_MAIN_BEST,         /* point with the highest raw AUROC: oracle */
    EVAL_MAIN_BEST_DIRFREE, /* the same for the direction-free score: oracle */
    EVAL_N_MAIN
};
typedef struct {
    const char *key, *brief, *title;
    int oracle; /* chosen with the test labels */
} eval_main_score;
extern const eval_main_score eval_main_scores[EVAL_N_MAIN];
/* Metrics of main score s on OOD set d; NULL when it has none (no best point). */
const metrics_summary *eval_main_of(const eval_result *r, const eval_ood *d, int s);

/* Mean of the main scores over the evaluated sets of group g (n of them). */
typedef struct {
    int n, n_skipped;
    double auroc[EVAL_N_MAIN], fpr95_ood[EVAL_N_MAIN], fpr95_id[EVAL_N_MAIN];
} eval_group_mean;
void eval_group_means(const eval_result *r, int g, eval_group_mean *m);

/* Column of point k of a pass as a contiguous array (caller frees). */
float *eval_column(const eval_pass *p, int k);

/* How flop_frac counts (net_layer_flops), for the reports. */
#define EVAL_FLOP_CONVENTION                                                                 \
    "share of one image's forward FLOPs spent up to the point's layer (2 FLOPs per "         \
    "multiply-add of the convolutions and the fc layer, plus the element-wise work: batch "  \
    "norm with activation 4 per output, pooling, residual additions; the energy at the "     \
    "point is not counted; a convolution's conv and bn points both count the whole layer)"

/* A data file that went into the results, with its checksum. */
typedef struct {
    char dataset[96]; /* base name and split, e.g. "cifar10 test" */
    char path[DATASET_PATH];
    char sha256[65];
} eval_file;

/* What produced the results, for the reports. */
typedef struct {
    const char *command; /* the command line */
    const char *cfg, *cfg_sha256;
    const char *weights, *weights_sha256;
    const char *data_dir;
    const char *outdir;  /* the results directory as given (--outdir) */
    const char *id_set;  /* the --in set (its normalisation and class names) */
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
    /* what `lir train` recorded in the weights' sidecar (<weights>.json), for `lir compare` */
    const char *sidecar;           /* its path, "" when there is none */
    long long train_seed;          /* -1: unknown */
    const char *train_config_hash; /* 16 hex digits, "" unknown: runs with the same hash
                                      differ at most in the seed */
    const char *train_note;        /* why seed or hash are unknown, "" */
} eval_info;

/* ---- eval_report.c ---- */
/* The paper's lines per OOD set ("  <name padded to 40>: AUROC = 0.xxxx" in network
 * order; raw AUROC, or the seed-compatible value when r->seed_values), then the wide
 * table and the summary rows. */
void eval_report_console(FILE *f, const eval_result *r, const eval_info *info);
int eval_report_json(const char *path, const eval_result *r, const eval_info *info, lir_error *err);
/* CSV: one row per OOD set and point / score: run (the results directory), weights,
 * ood, group, kind, name, flop_frac and the metrics, numbers at %.9g. */
int eval_report_csv(const char *path, const eval_result *r, const eval_info *info,
                    lir_error *err);
/* Whether a file of that name is one lir eval writes into its results directory
 * (results.json, results.csv, fit.json, console.txt, the figures, energies_*.csv, and
 * each with ".tmp"): the only files a results directory it replaces may hold. */
int eval_output_name(const char *name);
/* The last three lines of the console: best point against fc, Ag-EBO, ID accuracy and
 * the threshold of fit.json. */
void eval_report_final(FILE *f, const eval_result *r, const eval_info *info);
/* Whether OOD set d is shown condensed (mean per corruption and per severity) rather
 * than in full on the console: a CIFAR-10-C set ("<base>@c-<corruption>-<severity>")
 * in a run that evaluates more than one. */
int eval_condensed(const eval_result *r, const eval_ood *d);
/* eval_summary.c: the summary after the per-set tables: AUROC and FPR95 of the main
 * scores per set, the mean of each group named in --out and the skipped sets; and its
 * part of results.json ("groups", "skipped"), added to root. */
void eval_report_summary(FILE *f, const eval_result *r, const eval_info *info);
struct cJSON;
void eval_summary_json(struct cJSON *root, const eval_result *r, const char *id_name);
/* Adds key: {"mean": [3], "std": [3]}, the input normalisation, to o. */
void ood_json_norm(struct cJSON *o, const char *key, const data_norm *norm);
/* Writes root as indented JSON to path (atomically) and frees it. */
int ood_json_write(const char *path, struct cJSON *root, lir_error *err);
/* One CSV field: as it is, or quoted (quotes doubled) when it holds a comma, a quote or
 * a line break. */
void ood_csv_field(FILE *f, const char *s);
/* CSV: index,label,<one column per point>,msp,maxlogit; one row per sample. */
int eval_report_energies(const char *path, const eval_result *r, const eval_pass *p,
                         lir_error *err);
/* auroc_scores_<id>_<ood>.{png,svg,pdf} per OOD set (raw or seed-compatible values, as
 * the paper lines; the title names the weights) and auroc_heatmap_<id>.{png,svg,pdf}
 * (raw AUROC) into dir. */
int eval_report_plots(const char *dir, const eval_result *r, const eval_info *info,
                      lir_error *err);

/* ---- fit.c: the ID-only fit as a file (fit.json, beside the results) ----
 * eval_thresholds (after eval_fit): per ID-only score (EVAL_MAIN_FC .. EVAL_MAIN_MAHAL)
 * the smallest threshold that accepts EVAL_FIT_TPR of the fit pass's images as ID
 * (score <= threshold), and the shares of the fit and ID test images it accepts.
 * eval_fit_write: the fit as JSON (format "lir-fit 1", docs/method.md section 9): cfg
 * and weights with sha256, the ID set, normalisation and classes, the points, the
 * direction-free and Ag-EBO models and the thresholds. */
int eval_thresholds(eval_result *r, const eval_pass *fit, const eval_pass *id, lir_error *err);
int eval_fit_write(const char *path, const eval_result *r, const eval_info *info,
                   lir_error *err);

/* A fit read back (ood_fit_load: every member checked, errors name the file and member). */
typedef struct {
    int L, final_point;
    char (*names)[64];      /* [L] the scored points, network order */
    dirfree_model *dirfree; /* [L] */
    agebo_model agebo[EVAL_N_AGEBO];
    double tpr, threshold[EVAL_N_FIT], test_accept[EVAL_N_FIT];
    int classes, jpeg_all, n_fit;
    char id_set[96], id_loaded[96]; /* the --in set; the ID set as loaded */
    data_norm norm;
    char cfg[1024], cfg_sha256[65], weights[1024], weights_sha256[65]; /* paths as recorded */
} ood_fit;
int ood_fit_load(ood_fit *f, const char *path, lir_error *err);
void ood_fit_free(ood_fit *f);
/* Score s (EVAL_MAIN_FC .. EVAL_MAIN_MAHAL) of n samples' energies [n][f->L] at f's points. */
int ood_fit_score(const ood_fit *f, int s, const float *energy, size_t n, float *out,
                  lir_error *err);

/* ---- compare.c: `lir compare`, one table across the results.json of several runs ----
 * One row per run, one column per OOD set and per group mean, each cell the chosen main
 * score's metric; runs that differ only in seed (same ID set, --jpeg-all and training
 * config hash, or the same weights when the hash is unknown) are averaged. */
typedef struct {
    char path[4200];      /* the results.json read */
    char weights[1024];   /* provenance.weights.path */
    char id[96];          /* id.name */
    char config_hash[32]; /* provenance.weights.train_config_hash, "" unknown */
    long long seed;       /* provenance.weights.train_seed, -1 unknown */
    char key[1200];       /* runs with the same key differ at most in seed */
    double *v;            /* [n_cols], NaN: the run has no such set (or it was skipped) */
} compare_run;

typedef struct {
    char name[96];
    int group;     /* a group mean column: OOD_GROUP_*; -1: a set */
    int set_group; /* a set: the group it was evaluated in, -1 none */
    int shown;     /* in the console table and the plot: group means, and the sets of
                      groups with at most COMPARE_SHOWN_SETS sets */
} compare_col;

#define COMPARE_SHOWN_SETS 12

typedef struct {
    int first;      /* its first run (labels) */
    int n_runs;
    char seeds[256]; /* the runs' seeds, space-separated ("?" unknown) */
    double *mean, *std; /* [n_cols]: over the runs with a finite value; std: sample (n - 1),
                           NaN under two values */
    int *count;     /* [n_cols] */
} compare_agg;

typedef struct {
    int score;          /* EVAL_MAIN_* */
    const char *metric; /* "auroc", "fpr95_ood" or "fpr95_id" */
    int n_runs, n_cols, n_aggs;
    compare_run *runs;
    compare_col *cols;
    compare_agg *aggs;
} compare_table;

/* --score names: eval_main_scores[].brief. */
int compare_score_parse(const char *brief, int *score, lir_error *err);
/* Reads every path (a results.json, a run folder holding one, or holding eval/results.json),
 * fills the table and the seed averages. Errors name the file and the missing field. */
int compare_load(compare_table *t, char *const *paths, int n, int score, const char *metric,
                 lir_error *err);
void compare_free(compare_table *t);

/* compare_report.c: the tables as Markdown (all columns, or only the shown ones) and
 * into outdir: compare.md, compare.csv (one row per run), compare_mean.csv (mean and
 * std per column over seeds) and, with plot, compare.png (grouped bars of the means with
 * std whiskers over the shown columns). */
void compare_markdown(FILE *f, const compare_table *t, int shown_only);
int compare_write(const compare_table *t, const char *outdir, int plot, lir_error *err);

#endif
