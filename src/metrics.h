/* metrics.h: OOD detection metrics on one score per sample (AUROC, FPR at a TPR,
 * AUPR), final-layer baseline scores from logits, the direction-free per-point
 * score, Ag-EBO aggregations over many hook points, and the early-exit helper.
 *
 * Conventions used everywhere here:
 *   - OOD is the positive class; a score is "higher = more OOD".
 *   - Scores come as two arrays: id[n_id] (negatives) and ood[n_ood] (positives).
 *   - A NaN score or an empty class is an error (the function returns -1 and fills err).
 *   - All accumulation is in double; sorting is O(n log n). */
#ifndef LIR_METRICS_H
#define LIR_METRICS_H

#include <stddef.h>

#include "util.h"

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
 * mean/std by default (unlike dirfree_model): it is the rule METHOD.md names, and the
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
 * only the lower triangle read) into l. Returns -1 if a is not positive definite. */
int metrics_cholesky(const double *a, int n, double *l, lir_error *err);

/* Early exit: the cheapest point whose AUROC is within margin of the best one.
 * flop_frac[i] = share of the full network's FLOPs needed to reach point i. Ties in
 * cost go to the higher AUROC, then to the earlier point. NaN AUROCs are skipped.
 * Returns the index, or -1 if every AUROC is NaN or L <= 0. */
int metrics_early_exit(const double *auroc, const double *flop_frac, int L, double margin);

#endif
