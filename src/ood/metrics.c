/* metrics.c: single-score OOD metrics (AUROC, FPR at a TPR both ways, AUPR both ways),
 * the final-layer baseline scores (MSP, max-logit, energy) from logits, and the
 * early-exit pick over per-point AUROCs.
 * Every metric works on one sorted array of (score, is_ood) pairs; tie groups are
 * always handled as one threshold. */
#include "ood.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    double s;
    int ood;
} scored;

static int scored_cmp(const void *a, const void *b) {
    double x = ((const scored *)a)->s, y = ((const scored *)b)->s;
    return (x > y) - (x < y);
}

/* Builds the pooled array sorted by ascending score; checks classes and NaNs. */
static scored *pool_sorted(const float *id, size_t n_id, const float *ood, size_t n_ood,
                           lir_error *err) {
    if (n_id == 0 || n_ood == 0) {
        lir_fail(err, "metrics: need both classes, got %zu ID and %zu OOD scores", n_id, n_ood);
        return NULL;
    }
    for (size_t i = 0; i < n_id; i++)
        if (isnan(id[i])) {
            lir_fail(err, "metrics: ID score %zu is NaN", i);
            return NULL;
        }
    for (size_t i = 0; i < n_ood; i++)
        if (isnan(ood[i])) {
            lir_fail(err, "metrics: OOD score %zu is NaN", i);
            return NULL;
        }
    size_t n = n_id + n_ood;
    scored *p = xmalloc(n * sizeof *p);
    for (size_t i = 0; i < n_id; i++) p[i] = (scored){id[i], 0};
    for (size_t i = 0; i < n_ood; i++) p[n_id + i] = (scored){ood[i], 1};
    qsort(p, n, sizeof *p, scored_cmp);
    return p;
}

/* U / (n_id n_ood): each OOD sample counts the ID samples strictly below it plus half
 * of those tied with it (the same as the average-rank formula). */
static double sorted_auroc(const scored *p, size_t n, size_t n_id, size_t n_ood) {
    double u = 0, id_below = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i, pos = 0, neg = 0;
        for (; j < n && p[j].s == p[i].s; j++) {
            if (p[j].ood)
                pos++;
            else
                neg++;
        }
        u += (double)pos * (id_below + 0.5 * (double)neg);
        id_below += (double)neg;
        i = j;
    }
    return u / ((double)n_id * (double)n_ood);
}

/* The walk of sorted_fpr and sorted_ap: from the top (descending score) when
 * descending = 1, one tie group a call from walk position *k, counting the class
 * `positive` (1 = OOD) into *tp and the other into *fp; returns the group's score. */
static double tie_group_next(const scored *p, size_t n, int positive, int descending, size_t *k,
                             size_t *tp, size_t *fp) {
    const double s = p[descending ? n - 1 - *k : *k].s;
    for (; *k < n; ++*k) {
        const scored *q = &p[descending ? n - 1 - *k : *k];
        if (q->s != s) break;
        if (q->ood == positive) ++*tp;
        else ++*fp;
    }
    return s;
}

/* The FPR at the first tie-group boundary of the walk where TPR >= tpr, and its
 * threshold. */
static double sorted_fpr(const scored *p, size_t n, int positive, int descending, double tpr,
                         size_t n_pos, size_t n_neg, double *threshold) {
    size_t tp = 0, fp = 0;
    for (size_t k = 0; k < n;) {
        double s = tie_group_next(p, n, positive, descending, &k, &tp, &fp);
        if ((double)tp / (double)n_pos >= tpr) {
            if (threshold) *threshold = s;
            return (double)fp / (double)n_neg;
        }
    }
    if (threshold) *threshold = descending ? p[0].s : p[n - 1].s;
    return 1.0;
}

/* Average precision with tie groups as single thresholds, over the same walk. */
static double sorted_ap(const scored *p, size_t n, int positive, int descending, size_t n_pos) {
    size_t tp = 0, fp = 0;
    double ap = 0, prev_recall = 0;
    for (size_t k = 0; k < n;) {
        tie_group_next(p, n, positive, descending, &k, &tp, &fp);
        double recall = (double)tp / (double)n_pos;
        double precision = (double)tp / (double)(tp + fp);
        ap += (recall - prev_recall) * precision;
        prev_recall = recall;
    }
    return ap;
}

int metrics_compute(const float *id, size_t n_id, const float *ood, size_t n_ood,
                    metrics_summary *out, lir_error *err) {
    scored *p = pool_sorted(id, n_id, ood, n_ood, err);
    if (!p) return -1;
    size_t n = n_id + n_ood;
    out->auroc = sorted_auroc(p, n, n_id, n_ood);
    out->auroc_seed = metrics_auroc_seed_compatible(out->auroc);
    out->fpr95_ood = sorted_fpr(p, n, 1, 1, 0.95, n_ood, n_id, &out->threshold95);
    out->fpr95_id = sorted_fpr(p, n, 0, 0, 0.95, n_id, n_ood, NULL);
    out->aupr_out = sorted_ap(p, n, 1, 1, n_ood);
    out->aupr_in = sorted_ap(p, n, 0, 0, n_id);
    free(p);
    return 0;
}

static const char *const field_desc[][2] = {
    {"auroc", "AUROC, OOD positive, score higher = more OOD, ties count 1/2 (raw, primary)"},
    {"auroc_seed", "max(AUROC, 1 - AUROC): seed-compatible only, oracle: picks the direction "
                   "with the test labels"},
    {"fpr95_ood", "FPR at 95% TPR, OOD positive: share of ID samples with score >= the "
                  "largest threshold that flags >= 95% of OOD samples (OpenOOD v1.5)"},
    {"fpr95_id", "FPR at 95% TPR, ID positive: share of OOD samples with score <= the "
                 "smallest threshold that accepts >= 95% of ID samples (Liu et al. 2020)"},
    {"aupr_out", "average precision, OOD positive, score as is (scikit-learn definition)"},
    {"aupr_in", "average precision, ID positive, score negated (scikit-learn definition)"},
    {"threshold95", "score threshold behind fpr95_ood (score >= threshold is called OOD)"},
};

const char *metrics_field_description(const char *field) {
    for (size_t i = 0; i < sizeof field_desc / sizeof field_desc[0]; i++)
        if (!strcmp(field, field_desc[i][0])) return field_desc[i][1];
    return NULL;
}

int metrics_auroc(const float *id, size_t n_id, const float *ood, size_t n_ood, double *auroc,
                  lir_error *err) {
    scored *p = pool_sorted(id, n_id, ood, n_ood, err);
    if (!p) return -1;
    *auroc = sorted_auroc(p, n_id + n_ood, n_id, n_ood);
    free(p);
    return 0;
}

double metrics_auroc_seed_compatible(double auroc) { return auroc < 0.5 ? 1.0 - auroc : auroc; }

static int check_tpr(double tpr, lir_error *err) {
    if (!(tpr > 0 && tpr <= 1)) return lir_fail(err, "metrics: TPR target %g not in (0, 1]", tpr);
    return 0;
}

/* FPR at the given TPR and AUPR, with OOD (ood_pos = 1) or ID as the positive
 * class: the same sorted pool read from the other end. */
static int fpr_at_tpr(const float *id, size_t n_id, const float *ood, size_t n_ood, int ood_pos,
                      double tpr, double *fpr, double *threshold, lir_error *err) {
    if (check_tpr(tpr, err)) return -1;
    scored *p = pool_sorted(id, n_id, ood, n_ood, err);
    if (!p) return -1;
    *fpr = sorted_fpr(p, n_id + n_ood, ood_pos, ood_pos, tpr, ood_pos ? n_ood : n_id,
                      ood_pos ? n_id : n_ood, threshold);
    free(p);
    return 0;
}

static int aupr(const float *id, size_t n_id, const float *ood, size_t n_ood, int ood_pos,
                double *ap, lir_error *err) {
    scored *p = pool_sorted(id, n_id, ood, n_ood, err);
    if (!p) return -1;
    *ap = sorted_ap(p, n_id + n_ood, ood_pos, ood_pos, ood_pos ? n_ood : n_id);
    free(p);
    return 0;
}

int metrics_fpr_at_tpr_ood(const float *id, size_t n_id, const float *ood, size_t n_ood,
                           double tpr, double *fpr, double *threshold, lir_error *err) {
    return fpr_at_tpr(id, n_id, ood, n_ood, 1, tpr, fpr, threshold, err);
}

int metrics_fpr_at_tpr_id(const float *id, size_t n_id, const float *ood, size_t n_ood,
                          double tpr, double *fpr, double *threshold, lir_error *err) {
    return fpr_at_tpr(id, n_id, ood, n_ood, 0, tpr, fpr, threshold, err);
}

int metrics_aupr_out(const float *id, size_t n_id, const float *ood, size_t n_ood, double *ap,
                     lir_error *err) {
    return aupr(id, n_id, ood, n_ood, 1, ap, err);
}

int metrics_aupr_in(const float *id, size_t n_id, const float *ood, size_t n_ood, double *ap,
                    lir_error *err) {
    return aupr(id, n_id, ood, n_ood, 0, ap, err);
}

/* ---- baseline scores from logits[n][classes] ---- */

static double row_max(const float *row, int classes) {
    double m = row[0];
    for (int c = 1; c < classes; c++)
        if (row[c] > m) m = row[c];
    return m;
}

/* sum_c exp(l_c - m) >= 1, since the max term is exp(0). */
static double row_sumexp(const float *row, int classes, double m) {
    double s = 0;
    for (int c = 0; c < classes; c++) s += exp((double)row[c] - m);
    return s;
}

void metrics_score_msp(const float *logits, size_t n, int classes, float *out) {
#pragma omp parallel for if (n > 4096)
    for (size_t i = 0; i < n; i++) {
        const float *row = logits + i * (size_t)classes;
        double m = row_max(row, classes);
        out[i] = (float)(-1.0 / row_sumexp(row, classes, m));
    }
}

void metrics_score_maxlogit(const float *logits, size_t n, int classes, float *out) {
    for (size_t i = 0; i < n; i++) out[i] = (float)-row_max(logits + i * (size_t)classes, classes);
}

void metrics_score_energy(const float *logits, size_t n, int classes, float *out) {
#pragma omp parallel for if (n > 4096)
    for (size_t i = 0; i < n; i++) {
        const float *row = logits + i * (size_t)classes;
        double m = row_max(row, classes);
        out[i] = (float)-(m + log(row_sumexp(row, classes, m)));
    }
}

int metrics_early_exit(const double *auroc, const double *flop_frac, int L, double margin) {
    double best = NAN;
    for (int i = 0; i < L; i++)
        if (!isnan(auroc[i]) && (isnan(best) || auroc[i] > best)) best = auroc[i];
    if (isnan(best)) return -1;
    int pick = -1;
    for (int i = 0; i < L; i++) {
        if (isnan(auroc[i]) || auroc[i] < best - margin) continue;
        if (pick < 0 || flop_frac[i] < flop_frac[pick] ||
            (flop_frac[i] == flop_frac[pick] && auroc[i] > auroc[pick]))
            pick = i;
    }
    return pick;
}
