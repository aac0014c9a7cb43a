/* eval_summary.c: the summary of `lir eval` over all OOD sets: the main scores (fc
 * energy, fc dirfree, Ag-EBO, best points), their mean per group (near / far /
 * covariate, as OpenOOD reports), the sets that were skipped and why; printed after the
 * per-set tables and written into results.json. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "ood.h"

const eval_main_score eval_main_scores[EVAL_N_MAIN] = {
    {"fc_energy", "fc", "fc energy", 0},
    {"fc_dirfree", "dirfree", "fc dirfree", 0},
    {"agebo_zsum", "zsum", "Ag-EBO zsum", 0},
    {"agebo_zabs", "zabs", "Ag-EBO zabs", 0},
    {"agebo_mahalanobis", "agebo", "Ag-EBO Mahalanobis", 0},
    {"best_point", "best", "best point (oracle)", 1},
    {"best_point_dirfree", "best-dirfree", "best point dirfree (oracle)", 1},
};

const metrics_summary *eval_main_of(const eval_result *r, const eval_ood *d, int s) {
    switch (s) {
    case EVAL_MAIN_FC: return &d->point[r->final_point];
    case EVAL_MAIN_FC_DIRFREE: return &d->dirfree[r->final_point];
    case EVAL_MAIN_ZSUM: return &d->agebo[AGEBO_ZSUM];
    case EVAL_MAIN_ZABS: return &d->agebo[AGEBO_ZABS];
    case EVAL_MAIN_MAHAL: return &d->agebo[AGEBO_MAHAL];
    case EVAL_MAIN_BEST: return d->best >= 0 ? &d->point[d->best] : NULL;
    default: return d->best_dirfree >= 0 ? &d->dirfree[d->best_dirfree] : NULL;
    }
}

void eval_group_means(const eval_result *r, int g, eval_group_mean *m) {
    memset(m, 0, sizeof *m);
    int cnt[EVAL_N_MAIN] = {0};
    for (int o = 0; o < r->n_ood; o++) {
        if (r->ood[o].group != g) continue;
        m->n++;
        for (int s = 0; s < EVAL_N_MAIN; s++) {
            const metrics_summary *x = eval_main_of(r, &r->ood[o], s);
            if (!x) continue;
            m->auroc[s] += x->auroc;
            m->fpr95_ood[s] += x->fpr95_ood;
            m->fpr95_id[s] += x->fpr95_id;
            cnt[s]++;
        }
    }
    for (int s = 0; s < EVAL_N_MAIN; s++) {
        m->auroc[s] = cnt[s] ? m->auroc[s] / cnt[s] : NAN;
        m->fpr95_ood[s] = cnt[s] ? m->fpr95_ood[s] / cnt[s] : NAN;
        m->fpr95_id[s] = cnt[s] ? m->fpr95_id[s] / cnt[s] : NAN;
    }
    for (int k = 0; k < r->n_skipped; k++) m->n_skipped += r->skipped[k].group == g;
}

/* ---- console ---- */

static int col_width(int s) {
    int w = (int)strlen(eval_main_scores[s].brief) + (eval_main_scores[s].oracle ? 1 : 0);
    return (w < 7 ? 7 : w) + 2;
}

static void summary_header(FILE *f) {
    fprintf(f, "  %-36s", "set [group]");
    for (int s = 0; s < EVAL_N_MAIN; s++) {
        char h[32];
        snprintf(h, sizeof h, "%s%s", eval_main_scores[s].brief,
                 eval_main_scores[s].oracle ? "*" : "");
        fprintf(f, "%*s", col_width(s), h);
    }
    fprintf(f, "\n");
}

static void summary_cells(FILE *f, const double *v) {
    for (int s = 0; s < EVAL_N_MAIN; s++) fprintf(f, "%*.4f", col_width(s), v[s]);
    fprintf(f, "\n");
}

/* The CIFAR-10-C corruption of a set name ("<base>@c-<corruption>-<severity>", other
 * '@' parts allowed) with its severity, or -1. */
static int c_kind(const char *name, int *severity) {
    const char *p = strstr(name, "@c-");
    char tok[64];
    size_t n = p ? strcspn(p + 1, "@") : 0;
    if (!p || n >= sizeof tok) return -1;
    memcpy(tok, p + 1, n);
    tok[n] = 0;
    int kind;
    uint64_t seed;
    return corrupt_c_parse(tok, &kind, severity, &seed, NULL) < 0 ? -1 : kind;
}

int eval_condensed(const eval_result *r, const eval_ood *d) {
    int sev;
    if (c_kind(d->name, &sev) < 0) return 0;
    for (int o = 0; o < r->n_ood; o++)
        if (&r->ood[o] != d && c_kind(r->ood[o].name, &sev) >= 0) return 1;
    return 0;
}

/* Mean of the main scores (metric 0 AUROC, 1 FPR95) over the condensed sets of
 * corruption kind (kind >= 0) or of severity sev (sev > 0) into v; returns their count. */
static int condensed_mean(const eval_result *r, int metric, int kind, int sev, double *v) {
    int cnt[EVAL_N_MAIN] = {0}, n = 0;
    for (int s = 0; s < EVAL_N_MAIN; s++) v[s] = 0;
    for (int o = 0; o < r->n_ood; o++) {
        const eval_ood *d = &r->ood[o];
        int sv, k = eval_condensed(r, d) ? c_kind(d->name, &sv) : -1;
        if (k < 0 || (kind >= 0 && k != kind) || (sev > 0 && sv != sev)) continue;
        n++;
        for (int s = 0; s < EVAL_N_MAIN; s++) {
            const metrics_summary *x = eval_main_of(r, d, s);
            if (!x) continue;
            v[s] += metric ? x->fpr95_ood : x->auroc;
            cnt[s]++;
        }
    }
    for (int s = 0; s < EVAL_N_MAIN; s++) v[s] = cnt[s] ? v[s] / cnt[s] : NAN;
    return n;
}

/* The CIFAR-10-C sets, condensed: a row per corruption (mean over its severities) and
 * one per severity (mean over the corruptions). */
static void condensed_rows(FILE *f, const eval_result *r, int metric) {
    double v[EVAL_N_MAIN];
    char label[128];
    for (int k = 0, head = 0; k < corrupt_c_count(); k++) {
        int n = condensed_mean(r, metric, k, 0, v);
        if (!n) continue;
        if (!head++) fprintf(f, "  -- CIFAR-10-C per corruption, mean over its severities\n");
        snprintf(label, sizeof label, "c-%s (%d set%s)", corrupt_c_name(k), n, n == 1 ? "" : "s");
        fprintf(f, "  %-36s", label);
        summary_cells(f, v);
    }
    for (int sev = 1, head = 0; sev <= 5; sev++) {
        int n = condensed_mean(r, metric, -1, sev, v);
        if (!n) continue;
        if (!head++) fprintf(f, "  -- CIFAR-10-C per severity, mean over the corruptions\n");
        snprintf(label, sizeof label, "severity %d (%d set%s)", sev, n, n == 1 ? "" : "s");
        fprintf(f, "  %-36s", label);
        summary_cells(f, v);
    }
}

/* One table: metric 0 = AUROC, 1 = FPR95 (OOD positive). */
static void summary_table(FILE *f, const eval_result *r, int metric) {
    summary_header(f);
    for (int o = 0; o < r->n_ood; o++) {
        const eval_ood *d = &r->ood[o];
        if (eval_condensed(r, d)) continue;
        char label[128];
        snprintf(label, sizeof label, "%s [%s]", d->name,
                 d->group >= 0 ? ood_group_name(d->group) : "-");
        double v[EVAL_N_MAIN];
        for (int s = 0; s < EVAL_N_MAIN; s++) {
            const metrics_summary *x = eval_main_of(r, d, s);
            v[s] = !x ? NAN : metric ? x->fpr95_ood : x->auroc;
        }
        fprintf(f, "  %-36s", label);
        summary_cells(f, v);
    }
    condensed_rows(f, r, metric);
    for (int g = 0; g < OOD_N_GROUPS; g++) {
        if (!r->asked[g]) continue;
        eval_group_mean m;
        eval_group_means(r, g, &m);
        char label[128];
        snprintf(label, sizeof label, "mean %s (%d set%s, %d skipped)", ood_group_name(g), m.n,
                 m.n == 1 ? "" : "s", m.n_skipped);
        fprintf(f, "  %-36s", label);
        summary_cells(f, metric ? m.fpr95_ood : m.auroc);
    }
}

void eval_report_summary(FILE *f, const eval_result *r, const eval_info *info) {
    fprintf(f,
            "\nSummary, ID %s: main scores per OOD set; \"mean <group>\" is the mean over the "
            "group's evaluated sets (as OpenOOD reports near/far)\nAUROC (OOD positive)\n",
            info->id_name);
    summary_table(f, r, 0);
    fprintf(f, "FPR95 (OOD positive: share of ID flagged at 95%% TPR)\n");
    summary_table(f, r, 1);
    fprintf(f,
            "fc = raw energy at %s; dirfree = direction-free score there; zsum, zabs, agebo = "
            "Ag-EBO zsum, zabs, Mahalanobis; * oracle: the point is chosen with the test "
            "labels of each OOD set\n",
            r->names[r->final_point]);
    for (int g = 0; g < OOD_N_GROUPS; g++)
        if (r->asked[g] && !*ood_group_sets(g, info->id_name))
            fprintf(f, "group %s: no sets for ID %s\n", ood_group_name(g), info->id_name);
    if (r->n_skipped) fprintf(f, "skipped (not evaluated, not in any mean):\n");
    for (int k = 0; k < r->n_skipped; k++) {
        const eval_skipped *s = &r->skipped[k];
        fprintf(f, "  %s [%s]: skipped: %s\n", s->name,
                s->group >= 0 ? ood_group_name(s->group) : "-", s->reason);
    }
}

/* ---- the three closing lines ---- */

/* The sets of one group (g >= 0) or the sets named alone (g = -1), averaged. */
typedef struct {
    char label[100];
    int n;
    double best, fc, agebo[EVAL_N_AGEBO];
    int top, top_n; /* the point most often best, and in how many sets */
} final_unit;

/* Fills u for group g; 0 when it has no evaluated set. */
static int final_unit_of(const eval_result *r, int g, final_unit *u) {
    memset(u, 0, sizeof *u);
    int *votes = xcalloc((size_t)r->L, sizeof *votes), nb = 0;
    for (int o = 0; o < r->n_ood; o++) {
        const eval_ood *d = &r->ood[o];
        if (d->group != g) continue;
        snprintf(u->label, sizeof u->label, "%s", g >= 0 ? ood_group_name(g) : d->name);
        u->n++;
        u->fc += d->point[r->final_point].auroc;
        for (int a = 0; a < EVAL_N_AGEBO; a++) u->agebo[a] += d->agebo[a].auroc;
        if (d->best < 0) continue;
        u->best += d->point[d->best].auroc;
        votes[d->best]++;
        nb++;
    }
    u->top = -1;
    for (int k = 0; k < r->L; k++)
        if (votes[k] > u->top_n) {
            u->top_n = votes[k];
            u->top = k;
        }
    free(votes);
    if (!u->n) return 0;
    if (g < 0 && u->n > 1) snprintf(u->label, sizeof u->label, "%d sets named alone", u->n);
    u->fc /= u->n;
    u->best = nb ? u->best / nb : NAN;
    for (int a = 0; a < EVAL_N_AGEBO; a++) u->agebo[a] /= u->n;
    return 1;
}

void eval_report_final(FILE *f, const eval_result *r, const eval_info *info) {
    final_unit u[OOD_N_GROUPS + 1];
    int n = 0;
    for (int g = 0; g <= OOD_N_GROUPS; g++) n += final_unit_of(r, g < OOD_N_GROUPS ? g : -1, &u[n]);
    fprintf(f, "summary: AUROC of the best point (oracle) vs fc energy:");
    for (int i = 0; i < n; i++) {
        fprintf(f, "%s %s %.4f vs %.4f", i ? ";" : "", u[i].label, u[i].best, u[i].fc);
        if (u[i].top >= 0 && u[i].n > 1)
            fprintf(f, " (most often %s, %d of %d)", r->names[u[i].top], u[i].top_n, u[i].n);
        else if (u[i].top >= 0)
            fprintf(f, " (%s)", r->names[u[i].top]);
    }
    fprintf(f, "\nsummary: AUROC of Ag-EBO mahalanobis / zsum / zabs (fitted on %d held-out ID "
            "images only):", r->n_fit);
    for (int i = 0; i < n; i++)
        fprintf(f, "%s %s %.4f / %.4f / %.4f", i ? ";" : "", u[i].label, u[i].agebo[AGEBO_MAHAL],
                u[i].agebo[AGEBO_ZSUM], u[i].agebo[AGEBO_ZABS]);
    fprintf(f, "\nsummary: ID %s test accuracy %.2f%% (%d images); fit.json calls an image OOD "
            "when its Ag-EBO mahalanobis score is above %.4g (accepts %.1f%% of the fit images, "
            "%.1f%% of the ID test images)\n", info->id_name, 100 * r->id_accuracy, info->n_id,
            r->threshold[EVAL_MAIN_MAHAL], 100 * r->fit_accept[EVAL_MAIN_MAHAL],
            100 * r->test_accept[EVAL_MAIN_MAHAL]);
}

/* ---- JSON ---- */

static cJSON *mean_json(const eval_group_mean *m) {
    cJSON *o = cJSON_CreateObject();
    for (int s = 0; s < EVAL_N_MAIN; s++) {
        cJSON *x = cJSON_AddObjectToObject(o, eval_main_scores[s].key);
        cJSON_AddNumberToObject(x, "auroc", m->auroc[s]);
        cJSON_AddNumberToObject(x, "fpr95_ood", m->fpr95_ood[s]);
        cJSON_AddNumberToObject(x, "fpr95_id", m->fpr95_id[s]);
        cJSON_AddBoolToObject(x, "oracle", eval_main_scores[s].oracle);
    }
    return o;
}

static cJSON *group_json(const eval_result *r, int g, const char *id_name) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", ood_group_name(g));
    cJSON_AddStringToObject(o, "defined_sets", ood_group_sets(g, id_name));
    cJSON *sets = cJSON_AddArrayToObject(o, "sets");
    for (int k = 0; k < r->n_ood; k++)
        if (r->ood[k].group == g) cJSON_AddItemToArray(sets, cJSON_CreateString(r->ood[k].name));
    cJSON *sk = cJSON_AddArrayToObject(o, "skipped");
    for (int k = 0; k < r->n_skipped; k++)
        if (r->skipped[k].group == g)
            cJSON_AddItemToArray(sk, cJSON_CreateString(r->skipped[k].name));
    eval_group_mean m;
    eval_group_means(r, g, &m);
    cJSON_AddNumberToObject(o, "n", m.n);
    cJSON_AddItemToObject(o, "mean", mean_json(&m));
    return o;
}

void eval_summary_json(cJSON *root, const eval_result *r, const char *id_name) {
    cJSON *ms = cJSON_AddObjectToObject(root, "main_scores");
    for (int s = 0; s < EVAL_N_MAIN; s++) {
        cJSON *x = cJSON_AddObjectToObject(ms, eval_main_scores[s].key);
        cJSON_AddStringToObject(x, "title", eval_main_scores[s].title);
        cJSON_AddBoolToObject(x, "oracle", eval_main_scores[s].oracle);
    }
    cJSON *gs = cJSON_AddArrayToObject(root, "groups");
    for (int g = 0; g < OOD_N_GROUPS; g++)
        if (r->asked[g]) cJSON_AddItemToArray(gs, group_json(r, g, id_name));
    cJSON *sk = cJSON_AddArrayToObject(root, "skipped");
    for (int k = 0; k < r->n_skipped; k++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", r->skipped[k].name);
        if (r->skipped[k].group >= 0)
            cJSON_AddStringToObject(o, "group", ood_group_name(r->skipped[k].group));
        else
            cJSON_AddNullToObject(o, "group");
        cJSON_AddStringToObject(o, "reason", r->skipped[k].reason);
        cJSON_AddItemToArray(sk, o);
    }
}
