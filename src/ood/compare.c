/* compare.c: `lir compare`'s table: reads the results.json of several `lir eval` runs,
 * takes one main score's metric per OOD set and per group mean, and averages the runs
 * that differ only in seed (mean and sample std per column). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ood.h"

int compare_score_parse(const char *brief, int *score, lir_error *err) {
    char known[256] = "";
    for (int s = 0; s < EVAL_N_MAIN; s++) {
        if (!strcmp(brief, eval_main_scores[s].brief)) {
            *score = s;
            return 0;
        }
        size_t n = strlen(known);
        snprintf(known + n, sizeof known - n, "%s%s", s ? ", " : "", eval_main_scores[s].brief);
    }
    return lir_fail(err, "unknown score \"%s\" (known: %s)", brief, known);
}

/* path itself, path/results.json or path/eval/results.json, whichever is a file. */
static int resolve(const char *path, char *out, size_t size, lir_error *err) {
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
        snprintf(out, size, "%s", path);
        return 0;
    }
    const char *tries[2] = {"results.json", "eval/results.json"};
    for (int i = 0; i < 2; i++) {
        snprintf(out, size, "%s/%s", path, tries[i]);
        if (stat(out, &st) == 0 && S_ISREG(st.st_mode)) return 0;
    }
    return lir_fail(err, "%s: no results.json there (nor %s/eval/results.json)", path, path);
}

/* The object at a dotted path below o ("provenance.weights.path"), NULL if absent. */
static const cJSON *at(const cJSON *o, const char *path) {
    char buf[256], *save = NULL;
    snprintf(buf, sizeof buf, "%s", path);
    for (char *t = strtok_r(buf, ".", &save); t && o; t = strtok_r(NULL, ".", &save))
        o = cJSON_GetObjectItemCaseSensitive(o, t);
    return o;
}

static double number(const cJSON *o) { return cJSON_IsNumber(o) ? o->valuedouble : NAN; }

static const char *string(const cJSON *o) { return cJSON_IsString(o) ? o->valuestring : ""; }

/* The metric of main score s on one "ood" entry; final: index of the final point. */
static double set_value(const cJSON *o, int final, int s, const char *metric) {
    static const char *agebo[3] = {"agebo.zsum", "agebo.zabs", "agebo.mahalanobis"};
    const cJSON *pts = cJSON_GetObjectItem(o, "points"), *m = NULL;
    int k = final;
    if (s == EVAL_MAIN_BEST || s == EVAL_MAIN_BEST_DIRFREE) {
        double idx = number(at(o, s == EVAL_MAIN_BEST ? "best_point.index"
                                                      : "best_point_dirfree.index"));
        k = isfinite(idx) ? (int)idx : -1;
    }
    if (s >= EVAL_MAIN_ZSUM && s <= EVAL_MAIN_MAHAL)
        m = at(o, agebo[s - EVAL_MAIN_ZSUM]);
    else if (k >= 0)
        m = cJSON_GetArrayItem(pts, k);
    if (m && (s == EVAL_MAIN_FC_DIRFREE || s == EVAL_MAIN_BEST_DIRFREE))
        m = cJSON_GetObjectItem(m, "dirfree");
    return number(cJSON_GetObjectItem(m, metric));
}

/* The column of that name and kind, added when new; returns its index. */
static int column(compare_table *t, const char *name, int group, int set_group) {
    for (int c = 0; c < t->n_cols; c++)
        if (t->cols[c].group == group && !strcmp(t->cols[c].name, name)) return c;
    t->cols = xrealloc(t->cols, (size_t)(t->n_cols + 1) * sizeof *t->cols);
    compare_col *c = &t->cols[t->n_cols];
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", name);
    c->group = group;
    c->set_group = set_group;
    for (int r = 0; r < t->n_runs; r++) {
        t->runs[r].v = xrealloc(t->runs[r].v, (size_t)(t->n_cols + 1) * sizeof(double));
        t->runs[r].v[t->n_cols] = NAN;
    }
    return t->n_cols++;
}

/* Who made the run: weights, ID set, seed, config hash and the averaging key. */
static void run_identity(compare_run *r, const cJSON *j) {
    snprintf(r->weights, sizeof r->weights, "%s", string(at(j, "provenance.weights.path")));
    snprintf(r->id, sizeof r->id, "%s", string(at(j, "id.name")));
    snprintf(r->config_hash, sizeof r->config_hash, "%s",
             string(at(j, "provenance.weights.train_config_hash")));
    double seed = number(at(j, "provenance.weights.train_seed"));
    r->seed = isfinite(seed) ? (long long)seed : -1;
    double jpeg = number(at(j, "provenance.data.jpeg_all"));
    if (*r->config_hash)
        snprintf(r->key, sizeof r->key, "%s|%g|config %s", r->id, jpeg, r->config_hash);
    else
        snprintf(r->key, sizeof r->key, "%s|%g|weights %s", r->id, jpeg,
                 string(at(j, "provenance.weights.sha256")));
}

/* The index of the final point in the root's "points" (by "final_point"), -1 if absent. */
static int final_index(const cJSON *j) {
    const char *fp = string(cJSON_GetObjectItem(j, "final_point"));
    const cJSON *pts = cJSON_GetObjectItem(j, "points");
    for (int k = 0; k < cJSON_GetArraySize(pts); k++)
        if (!strcmp(string(cJSON_GetObjectItem(cJSON_GetArrayItem(pts, k), "name")), fp)) return k;
    return -1;
}

/* One run's row from its parsed results.json. */
static int run_read(compare_table *t, const cJSON *j, const char *path, lir_error *err) {
    const cJSON *oods = cJSON_GetObjectItem(j, "ood");
    int final = final_index(j);
    if (!cJSON_IsArray(oods) || final < 0 || !cJSON_IsString(at(j, "provenance.weights.path")))
        return lir_fail(err,
                        "%s: not a `lir eval` results.json (needs \"ood\", \"points\" with "
                        "\"final_point\" and \"provenance.weights.path\")",
                        path);
    t->runs = xrealloc(t->runs, (size_t)(t->n_runs + 1) * sizeof *t->runs);
    compare_run *r = &t->runs[t->n_runs++];
    memset(r, 0, sizeof *r);
    snprintf(r->path, sizeof r->path, "%s", path);
    r->v = xmalloc((size_t)(t->n_cols + 1) * sizeof(double));
    for (int c = 0; c < t->n_cols; c++) r->v[c] = NAN;
    run_identity(r, j);
    for (int o = 0; o < cJSON_GetArraySize(oods); o++) {
        const cJSON *d = cJSON_GetArrayItem(oods, o);
        const char *name = string(cJSON_GetObjectItem(d, "name"));
        if (!*name) return lir_fail(err, "%s: ood[%d] has no name", path, o);
        int c = column(t, name, -1, ood_group_find(string(cJSON_GetObjectItem(d, "group"))));
        t->runs[t->n_runs - 1].v[c] = set_value(d, final, t->score, t->metric);
    }
    const cJSON *groups = cJSON_GetObjectItem(j, "groups");
    char key[128];
    snprintf(key, sizeof key, "mean.%s.%s", eval_main_scores[t->score].key, t->metric);
    for (int k = 0; k < cJSON_GetArraySize(groups); k++) {
        const cJSON *g = cJSON_GetArrayItem(groups, k);
        int gi = ood_group_find(string(cJSON_GetObjectItem(g, "name")));
        if (gi < 0) continue;
        int c = column(t, ood_group_name(gi), gi, -1);
        t->runs[t->n_runs - 1].v[c] = number(at(g, key));
    }
    return 0;
}

/* Group columns after the set columns (group order), and which columns are shown. */
static void columns_order(compare_table *t) {
    int n_sets[OOD_N_GROUPS] = {0}, *map = xmalloc((size_t)t->n_cols * sizeof(int)), m = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int c = 0; c < t->n_cols; c++)
            if ((t->cols[c].group >= 0) == pass) map[m++] = c;
    compare_col *cols = xmalloc((size_t)t->n_cols * sizeof *cols);
    for (int c = 0; c < t->n_cols; c++) cols[c] = t->cols[map[c]];
    free(t->cols);
    t->cols = cols;
    for (int r = 0; r < t->n_runs; r++) {
        double *v = xmalloc((size_t)t->n_cols * sizeof(double));
        for (int c = 0; c < t->n_cols; c++) v[c] = t->runs[r].v[map[c]];
        free(t->runs[r].v);
        t->runs[r].v = v;
    }
    free(map);
    for (int c = 0; c < t->n_cols; c++)
        if (t->cols[c].group < 0 && t->cols[c].set_group >= 0) n_sets[t->cols[c].set_group]++;
    for (int c = 0; c < t->n_cols; c++)
        t->cols[c].shown = t->cols[c].group >= 0 || t->cols[c].set_group < 0 ||
                           n_sets[t->cols[c].set_group] <= COMPARE_SHOWN_SETS;
}

/* Mean and sample std of column c over the runs of aggregate a (runs with key k). */
static void agg_column(compare_table *t, compare_agg *a, const char *k, int c) {
    double sum = 0, sq = 0;
    int n = 0;
    for (int r = 0; r < t->n_runs; r++)
        if (!strcmp(t->runs[r].key, k) && isfinite(t->runs[r].v[c])) sum += t->runs[r].v[c], n++;
    double mean = n ? sum / n : NAN;
    for (int r = 0; r < t->n_runs; r++)
        if (!strcmp(t->runs[r].key, k) && isfinite(t->runs[r].v[c]))
            sq += (t->runs[r].v[c] - mean) * (t->runs[r].v[c] - mean);
    a->mean[c] = mean;
    a->std[c] = n >= 2 ? sqrt(sq / (n - 1)) : NAN;
    a->count[c] = n;
}

/* One aggregate per distinct key, in order of first appearance. */
static void aggregate(compare_table *t) {
    for (int r = 0; r < t->n_runs; r++) {
        int seen = 0;
        for (int q = 0; q < r; q++) seen |= !strcmp(t->runs[q].key, t->runs[r].key);
        if (seen) continue;
        t->aggs = xrealloc(t->aggs, (size_t)(t->n_aggs + 1) * sizeof *t->aggs);
        compare_agg *a = &t->aggs[t->n_aggs++];
        memset(a, 0, sizeof *a);
        a->first = r;
        a->mean = xmalloc((size_t)(t->n_cols + 1) * sizeof(double));
        a->std = xmalloc((size_t)(t->n_cols + 1) * sizeof(double));
        a->count = xmalloc((size_t)(t->n_cols + 1) * sizeof(int));
        for (int q = r; q < t->n_runs; q++) {
            if (strcmp(t->runs[q].key, t->runs[r].key)) continue;
            size_t len = strlen(a->seeds);
            if (t->runs[q].seed >= 0)
                snprintf(a->seeds + len, sizeof a->seeds - len, "%s%lld", len ? " " : "",
                         t->runs[q].seed);
            else
                snprintf(a->seeds + len, sizeof a->seeds - len, "%s?", len ? " " : "");
            a->n_runs++;
        }
        for (int c = 0; c < t->n_cols; c++) agg_column(t, a, t->runs[r].key, c);
    }
}

int compare_load(compare_table *t, char *const *paths, int n, int score, const char *metric,
                 lir_error *err) {
    memset(t, 0, sizeof *t);
    t->score = score;
    t->metric = metric;
    for (int i = 0; i < n; i++) {
        char path[4200];
        if (resolve(paths[i], path, sizeof path, err) < 0) return -1;
        char *text = file_read_all(path, NULL, err);
        if (!text) return -1;
        cJSON *j = cJSON_Parse(text);
        free(text);
        int rc = j ? run_read(t, j, path, err) : lir_fail(err, "%s: not valid JSON", path);
        cJSON_Delete(j);
        if (rc < 0) return -1;
    }
    if (t->n_cols == 0) return lir_fail(err, "no OOD set in any of the %d results", n);
    columns_order(t);
    aggregate(t);
    return 0;
}

void compare_free(compare_table *t) {
    for (int r = 0; r < t->n_runs; r++) free(t->runs[r].v);
    for (int a = 0; a < t->n_aggs; a++) {
        free(t->aggs[a].mean);
        free(t->aggs[a].std);
        free(t->aggs[a].count);
    }
    free(t->runs);
    free(t->cols);
    free(t->aggs);
    memset(t, 0, sizeof *t);
}
