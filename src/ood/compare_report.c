/* compare_report.c: what `lir compare` prints and writes: the Markdown tables (per run,
 * and mean +- std over seeds), the two CSV files and the grouped bar plot of the means.
 * Files are written atomically. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ood.h"
#include "report/report.h"

static const char *metric_title(const char *metric) {
    return !strcmp(metric, "auroc")       ? "AUROC (OOD positive)"
           : !strcmp(metric, "fpr95_ood") ? "FPR95 (OOD positive: share of ID flagged)"
                                          : "FPR95 (ID positive: share of OOD accepted)";
}

static void col_title(const compare_col *c, char *buf, size_t n) {
    if (c->group >= 0)
        snprintf(buf, n, "mean %s", c->name);
    else
        snprintf(buf, n, "%s", c->name);
}

static void config_short(const compare_run *r, char *buf, size_t n) {
    snprintf(buf, n, "%.8s", *r->config_hash ? r->config_hash : "?");
}

static void header(FILE *f, const compare_table *t, int shown_only, const char *lead) {
    char buf[128];
    fprintf(f, "| %s |", lead);
    for (int c = 0; c < t->n_cols; c++) {
        if (shown_only && !t->cols[c].shown) continue;
        col_title(&t->cols[c], buf, sizeof buf);
        fprintf(f, " %s |", buf);
    }
    fprintf(f, "\n|---|"); /* one more column than the '|' in lead */
    for (const char *p = lead; *p; p++)
        if (*p == '|') fprintf(f, "---|");
    for (int c = 0; c < t->n_cols; c++)
        if (!shown_only || t->cols[c].shown) fprintf(f, "---|");
    fprintf(f, "\n");
}

static void runs_table(FILE *f, const compare_table *t, int shown_only) {
    header(f, t, shown_only, "run | weights | ID | config | seed");
    char cfg[16];
    for (int r = 0; r < t->n_runs; r++) {
        const compare_run *u = &t->runs[r];
        config_short(u, cfg, sizeof cfg);
        fprintf(f, "| %s | %s | %s | %s | ", u->path, u->weights, u->id, cfg);
        if (u->seed >= 0)
            fprintf(f, "%lld |", u->seed);
        else
            fprintf(f, "? |");
        for (int c = 0; c < t->n_cols; c++) {
            if (shown_only && !t->cols[c].shown) continue;
            if (isfinite(u->v[c]))
                fprintf(f, " %.4f |", u->v[c]);
            else
                fprintf(f, " - |");
        }
        fprintf(f, "\n");
    }
}

static void mean_table(FILE *f, const compare_table *t, int shown_only) {
    header(f, t, shown_only, "weights (first run) | ID | config | runs | seeds");
    char cfg[16];
    for (int a = 0; a < t->n_aggs; a++) {
        const compare_agg *g = &t->aggs[a];
        const compare_run *u = &t->runs[g->first];
        config_short(u, cfg, sizeof cfg);
        fprintf(f, "| %s | %s | %s | %d | %s |", u->weights, u->id, cfg, g->n_runs, g->seeds);
        for (int c = 0; c < t->n_cols; c++) {
            if (shown_only && !t->cols[c].shown) continue;
            if (!g->count[c]) {
                fprintf(f, " - |");
                continue;
            }
            fprintf(f, " %.4f", g->mean[c]);
            if (isfinite(g->std[c])) fprintf(f, " ± %.4f", g->std[c]);
            if (g->count[c] < g->n_runs) fprintf(f, " (%d of %d)", g->count[c], g->n_runs);
            fprintf(f, " |");
        }
        fprintf(f, "\n");
    }
}

void compare_markdown(FILE *f, const compare_table *t, int shown_only) {
    const eval_main_score *s = &eval_main_scores[t->score];
    int hidden = 0;
    for (int c = 0; c < t->n_cols; c++) hidden += !t->cols[c].shown;
    fprintf(f, "# lir compare: %s, %s\n\n", s->title, metric_title(t->metric));
    fprintf(f,
            "One row per run; \"mean <group>\" is the run's mean over the group's evaluated "
            "sets; \"-\": not evaluated in that run (absent or skipped); config: training "
            "config hash without the seed (\"?\": unknown).%s%s\n\n",
            s->oracle ? " Oracle: the point is chosen with the test labels of each OOD set." : "",
            shown_only && hidden ? " Sets of large groups are left out here (see the group "
                                   "mean; all columns in compare.md)." : "");
    runs_table(f, t, shown_only);
    fprintf(f,
            "\n## Mean ± std over runs that differ only in seed\n\n"
            "Runs with the same ID set, --jpeg-all and training config hash (the same weights "
            "when the hash is unknown); std: sample standard deviation (n - 1), shown from "
            "two runs on; \"(k of n)\": only k runs have the set.\n\n");
    mean_table(f, t, shown_only);
}

static void csv_number(FILE *f, double v) {
    if (isfinite(v)) fprintf(f, ",%.17g", v);
    else fputc(',', f);
}

static void runs_csv(FILE *f, const compare_table *t) {
    char buf[128];
    fprintf(f, "run,weights,id,config_hash,seed");
    for (int c = 0; c < t->n_cols; c++) {
        col_title(&t->cols[c], buf, sizeof buf);
        fputc(',', f);
        ood_csv_field(f, buf);
    }
    fputc('\n', f);
    for (int r = 0; r < t->n_runs; r++) {
        const compare_run *u = &t->runs[r];
        ood_csv_field(f, u->path);
        fputc(',', f);
        ood_csv_field(f, u->weights);
        fputc(',', f);
        ood_csv_field(f, u->id);
        fprintf(f, ",%s,", u->config_hash);
        if (u->seed >= 0) fprintf(f, "%lld", u->seed);
        for (int c = 0; c < t->n_cols; c++) csv_number(f, u->v[c]);
        fputc('\n', f);
    }
}

static void mean_csv(FILE *f, const compare_table *t) {
    char buf[128], name[160];
    fprintf(f, "weights,id,config_hash,runs,seeds");
    for (int c = 0; c < t->n_cols; c++) {
        col_title(&t->cols[c], buf, sizeof buf);
        const char *what[3] = {"mean", "std", "n"};
        for (int k = 0; k < 3; k++) {
            snprintf(name, sizeof name, "%s %s", buf, what[k]);
            fputc(',', f);
            ood_csv_field(f, name);
        }
    }
    fputc('\n', f);
    for (int a = 0; a < t->n_aggs; a++) {
        const compare_agg *g = &t->aggs[a];
        const compare_run *u = &t->runs[g->first];
        ood_csv_field(f, u->weights);
        fputc(',', f);
        ood_csv_field(f, u->id);
        fprintf(f, ",%s,%d,%s", u->config_hash, g->n_runs, g->seeds);
        for (int c = 0; c < t->n_cols; c++) {
            csv_number(f, g->mean[c]);
            csv_number(f, g->std[c]);
            fprintf(f, ",%d", g->count[c]);
        }
        fputc('\n', f);
    }
}

/* Grouped bars: the shown columns, one series per aggregate (mean, std whiskers). */
static int compare_plot(const compare_table *t, const char *path, lir_error *err) {
    int n_cat = 0;
    for (int c = 0; c < t->n_cols; c++) n_cat += t->cols[c].shown;
    const char **cats = xmalloc((size_t)n_cat * sizeof *cats);
    char (*cat_buf)[128] = xmalloc((size_t)n_cat * sizeof *cat_buf);
    const char **series = xmalloc((size_t)t->n_aggs * sizeof *series);
    char (*ser_buf)[160] = xmalloc((size_t)t->n_aggs * sizeof *ser_buf);
    double *v = xmalloc((size_t)n_cat * t->n_aggs * sizeof(double));
    double *e = xmalloc((size_t)n_cat * t->n_aggs * sizeof(double));
    for (int c = 0, k = 0; c < t->n_cols; c++) {
        if (!t->cols[c].shown) continue;
        col_title(&t->cols[c], cat_buf[k], sizeof cat_buf[k]);
        cats[k] = cat_buf[k];
        for (int a = 0; a < t->n_aggs; a++) {
            v[(size_t)a * n_cat + k] = t->aggs[a].mean[c];
            e[(size_t)a * n_cat + k] = t->aggs[a].std[c];
        }
        k++;
    }
    for (int a = 0; a < t->n_aggs; a++) {
        const compare_run *u = &t->runs[t->aggs[a].first];
        char cfg[16];
        config_short(u, cfg, sizeof cfg);
        snprintf(ser_buf[a], sizeof ser_buf[a], "%.96s [%s] n=%d", u->weights, cfg,
                 t->aggs[a].n_runs);
        series[a] = ser_buf[a];
    }
    char title[256];
    snprintf(title, sizeof title, "lir compare: %s, mean +- std over seeds",
             eval_main_scores[t->score].title);
    int rc = plot_grouped_bars(title, metric_title(t->metric), cats, n_cat, series, t->n_aggs, v,
                               e, 0, 1, path, NULL, err);
    free(cats);
    free(cat_buf);
    free(series);
    free(ser_buf);
    free(v);
    free(e);
    return rc;
}

/* Writes dir/name through tmp + rename with one of the writers above. */
static int write_with(const char *dir, const char *name, const compare_table *t,
                      void (*fn)(FILE *, const compare_table *), lir_error *err) {
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    atomic_file a;
    if (atomic_open(&a, path, err) < 0) return -1;
    fn(a.f, t);
    return atomic_close(&a, err);
}

static void markdown_all(FILE *f, const compare_table *t) { compare_markdown(f, t, 0); }

int compare_write(const compare_table *t, const char *outdir, int plot, lir_error *err) {
    if (write_with(outdir, "compare.md", t, markdown_all, err) < 0 ||
        write_with(outdir, "compare.csv", t, runs_csv, err) < 0 ||
        write_with(outdir, "compare_mean.csv", t, mean_csv, err) < 0)
        return -1;
    if (!plot) return 0;
    char path[4400];
    snprintf(path, sizeof path, "%s/compare", outdir);
    return compare_plot(t, path, err);
}
