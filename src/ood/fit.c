/* fit.c: the ID-only fit of `lir eval` as a file and back. eval_thresholds puts a
 * threshold on each score fitted without OOD data (fc energy, fc dirfree, the three
 * Ag-EBO aggregates) at EVAL_FIT_TPR of the held-out ID images; eval_fit_write writes the
 * fit (fit.json, format "lir-fit 1", described in docs/method.md section 9); ood_fit_load
 * reads it back strictly for `lir predict --fit`, and ood_fit_score scores energies with
 * it exactly as `lir eval` does. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ood.h"

#define FIT_FORMAT "lir-fit 1"
#define FIT_MAX_POINTS 4096

/* Score s (EVAL_MAIN_FC .. EVAL_MAIN_MAHAL) of n samples' energies [n][L] into out. */
static int score_of(int s, int L, int final, const dirfree_model *dirfree,
                    const agebo_model *agebo, const float *energy, size_t n, float *out,
                    lir_error *err) {
    if (s == EVAL_MAIN_FC || s == EVAL_MAIN_FC_DIRFREE) {
        for (size_t i = 0; i < n; i++) out[i] = energy[i * (size_t)L + final];
        if (s == EVAL_MAIN_FC_DIRFREE) dirfree_score(&dirfree[final], out, n, out);
        return 0;
    }
    return agebo_score(&agebo[s - EVAL_MAIN_ZSUM], energy, n, out, err);
}

static int float_cmp(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Share of s[n] at or below t. */
static double accepted(const float *s, size_t n, double t) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) k += s[i] <= t;
    return n ? (double)k / (double)n : NAN;
}

int eval_thresholds(eval_result *r, const eval_pass *fit, const eval_pass *id, lir_error *err) {
    size_t nf = (size_t)fit->n, ni = (size_t)id->n;
    float *a = xmalloc(nf * sizeof *a), *b = xmalloc(ni * sizeof *b);
    int rc = 0;
    for (int s = 0; s < EVAL_N_FIT && rc == 0; s++) {
        rc = score_of(s, r->L, r->final_point, r->dirfree, r->agebo, fit->energy, nf, a, err);
        if (rc == 0)
            rc = score_of(s, r->L, r->final_point, r->dirfree, r->agebo, id->energy, ni, b, err);
        if (rc < 0) break;
        qsort(a, nf, sizeof *a, float_cmp);
        /* the smallest value that accepts at least EVAL_FIT_TPR of the fit images */
        size_t k = (size_t)ceil(EVAL_FIT_TPR * (double)nf - 1e-9);
        k = k < 1 ? 1 : k > nf ? nf : k;
        r->threshold[s] = a[k - 1];
        r->fit_accept[s] = accepted(a, nf, r->threshold[s]);
        r->test_accept[s] = accepted(b, ni, r->threshold[s]);
    }
    free(a);
    free(b);
    return rc;
}

/* ---- writing ---- */

static cJSON *agebo_json(const agebo_model *m) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "robust", m->robust);
    cJSON_AddNumberToObject(o, "shrink", m->shrink);
    cJSON_AddNumberToObject(o, "ridge", m->ridge);
    cJSON_AddItemToObject(o, "mu", cJSON_CreateDoubleArray(m->mu, m->L));
    cJSON_AddItemToObject(o, "sigma", cJSON_CreateDoubleArray(m->sigma, m->L));
    cJSON_AddItemToObject(o, "sign", cJSON_CreateDoubleArray(m->sign, m->L));
    if (m->kind == AGEBO_MAHAL)
        cJSON_AddItemToObject(o, "chol", cJSON_CreateDoubleArray(m->chol, m->L * m->L));
    return o;
}

/* The fitted models: points, direction-free centres and scales, Ag-EBO, thresholds. */
static void models_json(cJSON *root, const eval_result *r) {
    cJSON *pts = cJSON_AddArrayToObject(root, "points");
    double *c = xmalloc((size_t)r->L * sizeof *c), *s = xmalloc((size_t)r->L * sizeof *s);
    for (int k = 0; k < r->L; k++) {
        cJSON_AddItemToArray(pts, cJSON_CreateString(r->names[k]));
        c[k] = r->dirfree[k].center;
        s[k] = r->dirfree[k].scale;
    }
    cJSON_AddStringToObject(root, "final_point", r->names[r->final_point]);
    cJSON *df = cJSON_AddObjectToObject(root, "dirfree");
    cJSON_AddNumberToObject(df, "robust", r->dirfree[0].robust);
    cJSON_AddItemToObject(df, "center", cJSON_CreateDoubleArray(c, r->L));
    cJSON_AddItemToObject(df, "scale", cJSON_CreateDoubleArray(s, r->L));
    free(c);
    free(s);
    cJSON *ag = cJSON_AddObjectToObject(root, "agebo");
    for (int a = 0; a < EVAL_N_AGEBO; a++)
        cJSON_AddItemToObject(ag, agebo_kind_name((agebo_kind)a), agebo_json(&r->agebo[a]));
    cJSON_AddNumberToObject(root, "tpr", EVAL_FIT_TPR);
    cJSON *sc = cJSON_AddObjectToObject(root, "scores");
    for (int k = 0; k < EVAL_N_FIT; k++) {
        cJSON *o = cJSON_AddObjectToObject(sc, eval_main_scores[k].key);
        cJSON_AddNumberToObject(o, "threshold", r->threshold[k]);
        cJSON_AddNumberToObject(o, "fit_accept", r->fit_accept[k]);
        cJSON_AddNumberToObject(o, "id_test_accept", r->test_accept[k]);
    }
}

int eval_fit_write(const char *path, const eval_result *r, const eval_info *info,
                   lir_error *err) {
    cJSON *root = cJSON_CreateObject();
    path_alias data;
    path_alias_of(&data, info->data_dir, "<data dir>");
    char rec[4400];
    cJSON_AddStringToObject(root, "format", FIT_FORMAT);
    cJSON_AddStringToObject(root, "about",
                            "lir eval's ID-only fit (held-out ID training images, no OOD data): "
                            "per point the direction-free centre and scale, the Ag-EBO models, "
                            "and per score the threshold that accepts tpr of the fit images as "
                            "ID (score <= threshold); read by lir predict --fit; format: "
                            "docs/method.md section 9");
    cJSON *c = cJSON_AddObjectToObject(root, "cfg");
    path_record(info->cfg, &data, 1, rec, sizeof rec);
    cJSON_AddStringToObject(c, "path", rec);
    cJSON_AddStringToObject(c, "sha256", info->cfg_sha256);
    cJSON *w = cJSON_AddObjectToObject(root, "weights");
    path_record(info->weights, &data, 1, rec, sizeof rec);
    cJSON_AddStringToObject(w, "path", rec);
    cJSON_AddStringToObject(w, "sha256", info->weights_sha256);
    cJSON_AddStringToObject(root, "id_set", info->id_set);
    cJSON_AddStringToObject(root, "id_loaded", info->id_name);
    cJSON_AddNumberToObject(root, "jpeg_all", info->jpeg_all);
    cJSON_AddNumberToObject(root, "classes", r->classes);
    ood_json_norm(root, "normalisation", &info->norm);
    cJSON_AddNumberToObject(root, "n_fit", r->n_fit);
    cJSON_AddStringToObject(root, "holdout", info->holdout);
    models_json(root, r);
    return ood_json_write(path, root, err);
}

/* ---- reading ---- */

/* The file being read and its first error (later reads do nothing once rc is -1). */
typedef struct {
    const char *path;
    lir_error *err;
    int rc;
} fit_reader;

/* Member key of object o (at: its dotted path for messages, "" at the top), when is()
 * accepts it; else the error, naming file, member and what was expected. */
static const cJSON *need(fit_reader *r, const cJSON *o, const char *at, const char *key,
                         cJSON_bool (*is)(const cJSON *const), const char *what) {
    if (r->rc) return NULL;
    const cJSON *v = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
    if (!v || !is(v)) {
        r->rc = lir_fail(r->err, "%s: \"%s%s%s\": %s %s", r->path, at, *at ? "." : "", key,
                         v ? "expected" : "missing, expected", what);
        return NULL;
    }
    return v;
}

static double get_num(fit_reader *r, const cJSON *o, const char *at, const char *key) {
    const cJSON *v = need(r, o, at, key, cJSON_IsNumber, "a number");
    return v ? v->valuedouble : NAN;
}

/* Exactly n numbers (malloc'd; NULL after an error). */
static double *get_nums(fit_reader *r, const cJSON *o, const char *at, const char *key, int n) {
    const cJSON *v = need(r, o, at, key, cJSON_IsArray, "an array of numbers");
    if (!v) return NULL;
    double *x = xmalloc((size_t)(n > 0 ? n : 1) * sizeof *x);
    int i = 0;
    for (const cJSON *e = v->child; e; e = e->next, i++)
        if (i >= n || !cJSON_IsNumber(e)) break;
        else x[i] = e->valuedouble;
    if (i != n || cJSON_GetArraySize(v) != n) {
        r->rc = lir_fail(r->err, "%s: \"%s%s%s\": expected %d numbers", r->path, at,
                         *at ? "." : "", key, n);
        free(x);
        return NULL;
    }
    return x;
}

static void get_str(fit_reader *r, const cJSON *o, const char *at, const char *key, char *out,
                    size_t size) {
    const cJSON *v = need(r, o, at, key, cJSON_IsString, "a string");
    if (v && strlen(v->valuestring) >= size)
        r->rc = lir_fail(r->err, "%s: \"%s%s%s\": longer than %zu characters", r->path, at,
                         *at ? "." : "", key, size - 1);
    else if (v)
        snprintf(out, size, "%s", v->valuestring);
}

/* A check on a value read: fails naming the member when ok is 0. */
static void want(fit_reader *r, int ok, const char *member, const char *what) {
    if (!r->rc && !ok) r->rc = lir_fail(r->err, "%s: \"%s\": %s", r->path, member, what);
}

static int is_sha256(const char *s) {
    return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

/* Format, provenance, ID set, classes and normalisation. */
static void read_header(fit_reader *r, const cJSON *root, ood_fit *f) {
    char format[32] = "";
    get_str(r, root, "", "format", format, sizeof format);
    if (!r->rc && strcmp(format, FIT_FORMAT))
        r->rc = lir_fail(r->err, "%s: format \"%s\": this lir reads \"%s\" (written by lir eval)",
                         r->path, format, FIT_FORMAT);
    const cJSON *c = need(r, root, "", "cfg", cJSON_IsObject, "an object");
    get_str(r, c, "cfg", "path", f->cfg, sizeof f->cfg);
    get_str(r, c, "cfg", "sha256", f->cfg_sha256, sizeof f->cfg_sha256);
    want(r, is_sha256(f->cfg_sha256), "cfg.sha256", "expected 64 lowercase hex digits");
    const cJSON *w = need(r, root, "", "weights", cJSON_IsObject, "an object");
    get_str(r, w, "weights", "path", f->weights, sizeof f->weights);
    get_str(r, w, "weights", "sha256", f->weights_sha256, sizeof f->weights_sha256);
    want(r, is_sha256(f->weights_sha256), "weights.sha256", "expected 64 lowercase hex digits");
    get_str(r, root, "", "id_set", f->id_set, sizeof f->id_set);
    get_str(r, root, "", "id_loaded", f->id_loaded, sizeof f->id_loaded);
    double jpeg = get_num(r, root, "", "jpeg_all"), classes = get_num(r, root, "", "classes");
    double n_fit = get_num(r, root, "", "n_fit");
    want(r, jpeg >= 0 && jpeg <= 100 && jpeg == floor(jpeg), "jpeg_all", "expected 0..100");
    want(r, classes >= 1 && classes <= 1e6 && classes == floor(classes), "classes",
         "expected a whole number >= 1");
    want(r, n_fit >= 2 && n_fit <= 1e9 && n_fit == floor(n_fit), "n_fit", "expected >= 2");
    f->jpeg_all = r->rc ? 0 : (int)jpeg;
    f->classes = r->rc ? 0 : (int)classes;
    f->n_fit = r->rc ? 0 : (int)n_fit;
    const cJSON *norm = need(r, root, "", "normalisation", cJSON_IsObject, "an object");
    double *mean = get_nums(r, norm, "normalisation", "mean", 3);
    double *sd = get_nums(r, norm, "normalisation", "std", 3);
    for (int i = 0; i < 3 && !r->rc; i++) {
        want(r, sd[i] > 0 && sd[i] < 1e6 && fabs(mean[i]) < 1e6, "normalisation",
             "expected std > 0 and finite means");
        f->norm.mean[i] = (float)mean[i];
        f->norm.std[i] = (float)sd[i];
    }
    free(mean);
    free(sd);
}

/* The point names (unique, in network order as written) and the final point. */
static void read_points(fit_reader *r, const cJSON *root, ood_fit *f) {
    const cJSON *p = need(r, root, "", "points", cJSON_IsArray, "an array of point names");
    int L = p ? cJSON_GetArraySize(p) : 0;
    want(r, L >= 1 && L <= FIT_MAX_POINTS, "points", "expected 1 to 4096 names");
    if (r->rc) return;
    f->L = L;
    f->names = xcalloc((size_t)L, sizeof *f->names);
    int k = 0;
    for (const cJSON *e = p->child; e && !r->rc; e = e->next, k++) {
        want(r, cJSON_IsString(e) && *e->valuestring && strlen(e->valuestring) < 64, "points",
             "expected names of 1 to 63 characters");
        if (r->rc) break;
        snprintf(f->names[k], sizeof f->names[k], "%s", e->valuestring);
        for (int j = 0; j < k && !r->rc; j++)
            if (!strcmp(f->names[j], f->names[k]))
                r->rc = lir_fail(r->err, "%s: \"points\": '%s' given twice", r->path, f->names[k]);
    }
    char final[64] = "";
    get_str(r, root, "", "final_point", final, sizeof final);
    f->final_point = -1;
    for (int j = 0; j < L && !r->rc; j++)
        if (!strcmp(f->names[j], final)) f->final_point = j;
    want(r, f->final_point >= 0, "final_point", "expected one of \"points\"");
}

static void read_dirfree(fit_reader *r, const cJSON *root, ood_fit *f) {
    const cJSON *d = need(r, root, "", "dirfree", cJSON_IsObject, "an object");
    double robust = get_num(r, d, "dirfree", "robust");
    want(r, robust == 0 || robust == 1, "dirfree.robust", "expected 0 or 1");
    double *c = get_nums(r, d, "dirfree", "center", f->L), *s = get_nums(r, d, "dirfree", "scale", f->L);
    if (!r->rc) {
        f->dirfree = xcalloc((size_t)f->L, sizeof *f->dirfree);
        for (int k = 0; k < f->L; k++) {
            want(r, s[k] > 0, "dirfree.scale", "expected scales > 0");
            f->dirfree[k] = (dirfree_model){c[k], s[k], (int)robust};
        }
    }
    free(c);
    free(s);
}

/* Ag-EBO model a: standardisation, signs and (Mahalanobis) the Cholesky factor. */
static void read_agebo(fit_reader *r, const cJSON *ag, agebo_model *m, int a, int L) {
    const char *name = agebo_kind_name((agebo_kind)a);
    char at[64];
    snprintf(at, sizeof at, "agebo.%s", name);
    const cJSON *o = need(r, ag, "agebo", name, cJSON_IsObject, "an object");
    agebo_init(m, (agebo_kind)a);
    double robust = get_num(r, o, at, "robust");
    m->shrink = get_num(r, o, at, "shrink");
    m->ridge = get_num(r, o, at, "ridge");
    want(r, robust == 0 || robust == 1, at, "expected robust 0 or 1");
    want(r, m->shrink >= 0 && m->shrink <= 1 && m->ridge >= 0, at,
         "expected shrink in 0..1 and ridge >= 0");
    m->robust = robust == 1;
    m->mu = get_nums(r, o, at, "mu", L);
    m->sigma = get_nums(r, o, at, "sigma", L);
    m->sign = get_nums(r, o, at, "sign", L);
    if (a == AGEBO_MAHAL) m->chol = get_nums(r, o, at, "chol", L * L);
    if (r->rc) return;
    m->L = L;
    for (int k = 0; k < L; k++) {
        want(r, m->sigma[k] > 0, at, "expected every sigma > 0");
        want(r, m->sign[k] == 1 || m->sign[k] == -1, at, "expected every sign +1 or -1");
        want(r, !m->chol || m->chol[(size_t)k * L + k] > 0, at,
             "expected a Cholesky factor with a positive diagonal");
    }
}

static void read_scores(fit_reader *r, const cJSON *root, ood_fit *f) {
    f->tpr = get_num(r, root, "", "tpr");
    want(r, f->tpr > 0 && f->tpr <= 1, "tpr", "expected 0 < tpr <= 1");
    const cJSON *sc = need(r, root, "", "scores", cJSON_IsObject, "an object");
    for (int s = 0; s < EVAL_N_FIT; s++) {
        char at[64];
        snprintf(at, sizeof at, "scores.%s", eval_main_scores[s].key);
        const cJSON *o = need(r, sc, "scores", eval_main_scores[s].key, cJSON_IsObject, "an object");
        f->threshold[s] = get_num(r, o, at, "threshold");
        f->test_accept[s] = get_num(r, o, at, "id_test_accept");
    }
}

int ood_fit_load(ood_fit *f, const char *path, lir_error *err) {
    memset(f, 0, sizeof *f);
    char *text = file_read_all(path, NULL, err);
    if (!text) return -1;
    cJSON *root = json_parse_strict(text, path, "fit", err);
    free(text);
    if (!root) return -1;
    fit_reader r = {path, err, 0};
    if (!cJSON_IsObject(root)) r.rc = lir_fail(err, "%s: expected a JSON object", path);
    read_header(&r, root, f);
    read_points(&r, root, f);
    read_dirfree(&r, root, f);
    const cJSON *ag = need(&r, root, "", "agebo", cJSON_IsObject, "an object");
    for (int a = 0; a < EVAL_N_AGEBO && !r.rc; a++) read_agebo(&r, ag, &f->agebo[a], a, f->L);
    read_scores(&r, root, f);
    cJSON_Delete(root);
    if (r.rc) ood_fit_free(f);
    return r.rc;
}

void ood_fit_free(ood_fit *f) {
    free(f->names);
    free(f->dirfree);
    for (int a = 0; a < EVAL_N_AGEBO; a++) agebo_free(&f->agebo[a]);
    memset(f, 0, sizeof *f);
}

int ood_fit_score(const ood_fit *f, int s, const float *energy, size_t n, float *out,
                  lir_error *err) {
    if (s < 0 || s >= EVAL_N_FIT) return lir_fail(err, "ood_fit_score: score %d has no fit", s);
    return score_of(s, f->L, f->final_point, f->dirfree, f->agebo, energy, n, out, err);
}
