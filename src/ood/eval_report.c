/* eval_report.c: what `lir eval` writes: the console table (the paper's lines first),
 * the JSON with every metric and its provenance, the CSV, per-sample energies and the
 * plots (per-OOD-set bar plot of docs/method.md section 6, heat map across OOD sets).
 * Files are written atomically (tmp + rename). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ood.h"
#include "report/report.h"

static const char *base_names[EVAL_N_BASE] = {"msp", "maxlogit", "energy"};
static const char *base_titles[EVAL_N_BASE] = {"baseline MSP", "baseline max-logit",
                                               "baseline energy (logits)"};

/* ---- console ---- */

/* The value of the paper lines and bar plots. */
static double shown(const eval_result *r, const metrics_summary *m) {
    return r->seed_values ? m->auroc_seed : m->auroc;
}

static void console_row(FILE *f, const char *label, double flop, const metrics_summary *m,
                        const metrics_summary *dirfree) {
    char fl[16] = "";
    if (flop >= 0) snprintf(fl, sizeof fl, "%6.2f", 100 * flop);
    fprintf(f, "  %-34s %7s %7.4f %7.4f %8.4f %8.4f %8.4f %8.4f", label, fl, m->auroc,
            m->auroc_seed, m->fpr95_ood, m->fpr95_id, m->aupr_in, m->aupr_out);
    if (dirfree) fprintf(f, " %8.4f", dirfree->auroc);
    fprintf(f, "\n");
}

/* One early-exit line: the cheapest point within the margin of the best one. */
static void console_early(FILE *f, const eval_result *r, const char *what, int early, int best,
                          const metrics_summary *m) {
    if (early < 0) return;
    fprintf(f,
            "  early exit%s (oracle): %s reaches AUROC %.4f at %.2f%% of the FLOPs (best %.4f, "
            "margin %.3f)\n",
            what, r->names[early], m[early].auroc, 100 * r->flop_frac[early],
            best >= 0 ? m[best].auroc : NAN, r->margin);
}

/* The rows chosen per OOD set: best points (oracle), final layer, early exits (oracle). */
static void console_picks(FILE *f, const eval_result *r, const eval_ood *d) {
    char label[128];
    if (d->best >= 0) {
        snprintf(label, sizeof label, "best point %s (oracle)", r->names[d->best]);
        console_row(f, label, r->flop_frac[d->best], &d->point[d->best], &d->dirfree[d->best]);
    }
    if (d->best_dirfree >= 0) {
        int k = d->best_dirfree;
        snprintf(label, sizeof label, "best dirfree %s (oracle)", r->names[k]);
        console_row(f, label, r->flop_frac[k], &d->dirfree[k], NULL);
    }
    snprintf(label, sizeof label, "final layer %s", r->names[r->final_point]);
    console_row(f, label, r->flop_frac[r->final_point], &d->point[r->final_point],
                &d->dirfree[r->final_point]);
    console_early(f, r, "", d->early, d->best, d->point);
    console_early(f, r, " dirfree", d->early_dirfree, d->best_dirfree, d->dirfree);
}

/* What the columns of the per-set tables mean (before the first table). */
static void console_legend(FILE *f) {
    fprintf(f,
            "\nColumns: AUROC (OOD positive, ties 1/2); seedAUC = max(AUROC, 1 - AUROC), "
            "seed-compatible\n"
            "  (oracle: picks the direction with the test labels); FPR95o: FPR at 95%% TPR, "
            "OOD positive (share\n"
            "  of ID flagged); FPR95i: ID positive (share of OOD accepted); dirfree: AUROC of "
            "|E - median| /\n"
            "  (1.4826 MAD) fitted on held-out ID images; FLOPs%%: share of one image's forward "
            "FLOPs up to the\n"
            "  point's layer (2 per multiply-add, plus element-wise work; docs/method.md "
            "section 1).\n"
            "Oracle (chosen with the test labels of the OOD set): best point, best dirfree, "
            "early exits.\n");
}

/* The paper's lines and the wide table of OOD set d. */
static void console_set(FILE *f, const eval_result *r, const eval_info *info, const eval_ood *d) {
    fprintf(f, "\n%s (ID) vs. %s (OOD): AUROC per point, %s (OOD positive, energy as score)\n",
            info->id_name, d->name,
            r->seed_values ? "seed-compatible max(AUROC, 1 - AUROC) as the paper's script"
                           : "raw");
    if (d->note[0]) fprintf(f, "  note: %s\n", d->note);
    for (int k = 0; k < r->L; k++)
        fprintf(f, "  %-40s: AUROC = %.4f\n", r->names[k], shown(r, &d->point[k]));
    fprintf(f, "\n  %-34s %7s %7s %7s %8s %8s %8s %8s %8s\n", "point / score", "FLOPs%",
            "AUROC", "seedAUC", "FPR95o", "FPR95i", "AUPR-in", "AUPR-out", "dirfree");
    for (int k = 0; k < r->L; k++)
        console_row(f, r->names[k], r->flop_frac[k], &d->point[k], &d->dirfree[k]);
    fprintf(f, "  -- final layer and baselines (logits)\n");
    double ff = r->flop_frac[r->final_point];
    for (int b = 0; b < EVAL_N_BASE; b++) console_row(f, base_titles[b], ff, &d->base[b], NULL);
    fprintf(f, "  -- Ag-EBO over all %d points, fitted on held-out ID data only\n", r->L);
    for (int a = 0; a < EVAL_N_AGEBO; a++) {
        char label[64];
        snprintf(label, sizeof label, "Ag-EBO %s", agebo_kind_name((agebo_kind)a));
        console_row(f, label, ff, &d->agebo[a], NULL);
    }
    console_picks(f, r, d);
}

void eval_report_console(FILE *f, const eval_result *r, const eval_info *info) {
    fprintf(f, "ID %s test accuracy %.2f%% (%d images); fits on %d held-out ID images (%s)\n",
            info->id_name, 100 * r->id_accuracy, info->n_id, r->n_fit, info->holdout);
    if (info->id_provenance && *info->id_provenance)
        fprintf(f, "ID data: %s\n", info->id_provenance);
    console_legend(f);
    int condensed = 0;
    for (int o = 0; o < r->n_ood; o++) {
        if (eval_condensed(r, &r->ood[o]))
            condensed++;
        else
            console_set(f, r, info, &r->ood[o]);
    }
    if (condensed)
        fprintf(f, "\n%s (ID) vs. %d CIFAR-10-C sets: condensed in the summary (mean per "
                "corruption and per severity); every set's table is in results.csv and "
                "results.json\n", info->id_name, condensed);
    eval_report_summary(f, r, info);
    if (info->images_total > 0 && info->seconds_forward > 0 && info->cpu_forward > 0)
        fprintf(f,
                "forward+energies: %ld images in %.2f s = %.1f images/s (%d points, batch %d, "
                "%d parallel network%s); CPU %.2f s = %.1f images per CPU second\n",
                info->images_total, info->seconds_forward,
                info->images_total / info->seconds_forward, r->L, info->batch, info->networks,
                info->networks == 1 ? "" : "s", info->cpu_forward,
                info->images_total / info->cpu_forward);
}

/* ---- JSON ---- */

static cJSON *summary_json(const metrics_summary *m) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "auroc", m->auroc);
    cJSON_AddNumberToObject(o, "auroc_seed", m->auroc_seed);
    cJSON_AddNumberToObject(o, "fpr95_ood", m->fpr95_ood);
    cJSON_AddNumberToObject(o, "fpr95_id", m->fpr95_id);
    cJSON_AddNumberToObject(o, "aupr_in", m->aupr_in);
    cJSON_AddNumberToObject(o, "aupr_out", m->aupr_out);
    cJSON_AddNumberToObject(o, "threshold95", m->threshold95);
    return o;
}

/* A chosen point; note (NULL for none) says how it was chosen when that used the test
 * labels: such a pick is marked "oracle": true. */
static cJSON *pick_json(const eval_result *r, int k, const metrics_summary *m, const char *note) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "point", k >= 0 ? r->names[k] : "");
    cJSON_AddNumberToObject(o, "index", k);
    cJSON_AddNumberToObject(o, "flop_frac", k >= 0 ? r->flop_frac[k] : NAN);
    cJSON_AddNumberToObject(o, "auroc", k >= 0 ? m[k].auroc : NAN);
    cJSON_AddBoolToObject(o, "oracle", note != NULL);
    if (note) cJSON_AddStringToObject(o, "note", note);
    return o;
}

static cJSON *early_json(const eval_result *r, int k, const metrics_summary *m, const char *what) {
    char note[256];
    snprintf(note, sizeof note,
             "oracle: cheapest point whose %s AUROC is within the margin of the best point's, "
             "both measured with the test OOD labels", what);
    cJSON *o = pick_json(r, k, m, note);
    cJSON_AddNumberToObject(o, "margin", r->margin);
    return o;
}

static cJSON *ood_json(const eval_result *r, const eval_ood *d) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", d->name);
    if (d->group >= 0)
        cJSON_AddStringToObject(o, "group", ood_group_name(d->group));
    else
        cJSON_AddNullToObject(o, "group");
    cJSON_AddNumberToObject(o, "n", d->n);
    if (d->note[0]) cJSON_AddStringToObject(o, "note", d->note);
    cJSON *pts = cJSON_AddArrayToObject(o, "points");
    for (int k = 0; k < r->L; k++) {
        cJSON *p = summary_json(&d->point[k]);
        cJSON_AddItemToObject(p, "dirfree", summary_json(&d->dirfree[k]));
        cJSON_InsertItemInArray(pts, k, p);
        cJSON_AddStringToObject(p, "name", r->names[k]);
    }
    cJSON *base = cJSON_AddObjectToObject(o, "baselines");
    for (int b = 0; b < EVAL_N_BASE; b++)
        cJSON_AddItemToObject(base, base_names[b], summary_json(&d->base[b]));
    cJSON *ag = cJSON_AddObjectToObject(o, "agebo");
    for (int a = 0; a < EVAL_N_AGEBO; a++)
        cJSON_AddItemToObject(ag, agebo_kind_name((agebo_kind)a), summary_json(&d->agebo[a]));
    cJSON_AddItemToObject(o, "final_layer", pick_json(r, r->final_point, d->point, NULL));
    cJSON_AddItemToObject(o, "best_point",
                          pick_json(r, d->best, d->point,
                                    "oracle: highest raw AUROC, chosen with the test OOD labels"));
    cJSON_AddItemToObject(o, "best_point_dirfree",
                          pick_json(r, d->best_dirfree, d->dirfree,
                                    "oracle: highest direction-free AUROC, chosen with the test "
                                    "OOD labels"));
    cJSON_AddItemToObject(o, "early_exit", early_json(r, d->early, d->point, "raw"));
    cJSON_AddItemToObject(o, "early_exit_dirfree",
                          early_json(r, d->early_dirfree, d->dirfree, "direction-free"));
    return o;
}

static void utc_now(char *buf, size_t n) {
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* path as results record it (base/record.c): the data directory as "<data dir>" when
 * outside the working directory, no absolute path of this machine. */
static void add_path(cJSON *o, const char *key, const char *path, const path_alias *data) {
    char buf[4400];
    path_record(path ? path : "", data, 1, buf, sizeof buf);
    cJSON_AddStringToObject(o, key, buf);
}

static cJSON *provenance_json(const eval_info *info) {
    cJSON *o = cJSON_CreateObject();
    char now[32];
    utc_now(now, sizeof now);
    path_alias data;
    path_alias_of(&data, info->data_dir, "<data dir>");
    cJSON_AddStringToObject(o, "lir_version", LIR_VERSION);
    cJSON_AddStringToObject(o, "created_utc", now);
    char *command = command_record(info->command, &data, 1);
    cJSON_AddStringToObject(o, "command", command);
    free(command);
    cJSON_AddNumberToObject(o, "seed", (double)info->seed);
    cJSON *c = cJSON_AddObjectToObject(o, "cfg");
    add_path(c, "path", info->cfg, &data);
    cJSON_AddStringToObject(c, "sha256", info->cfg_sha256);
    cJSON *w = cJSON_AddObjectToObject(o, "weights");
    add_path(w, "path", info->weights, &data);
    cJSON_AddStringToObject(w, "sha256", info->weights_sha256);
    add_path(w, "sidecar", info->sidecar, &data);
    if (info->train_seed >= 0)
        cJSON_AddNumberToObject(w, "train_seed", (double)info->train_seed);
    else
        cJSON_AddNullToObject(w, "train_seed");
    cJSON_AddStringToObject(w, "train_config_hash",
                            info->train_config_hash ? info->train_config_hash : "");
    char *note = command_record(info->train_note ? info->train_note : "", &data, 1);
    cJSON_AddStringToObject(w, "train_note", note); /* names the sidecar: no absolute path */
    free(note);
    cJSON *d = cJSON_AddObjectToObject(o, "data");
    add_path(d, "dir", info->data_dir, &data);
    cJSON_AddStringToObject(d, "id", info->id_name);
    cJSON_AddStringToObject(d, "id_provenance", info->id_provenance);
    cJSON_AddStringToObject(d, "id_source", info->id_source);
    cJSON_AddNumberToObject(d, "jpeg_all", info->jpeg_all);
    cJSON_AddStringToObject(d, "holdout", info->holdout);
    ood_json_norm(d, "normalisation", &info->norm);
    cJSON *files = cJSON_AddArrayToObject(d, "files");
    for (int i = 0; i < info->n_files; i++) {
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "dataset", info->files[i].dataset);
        add_path(f, "path", info->files[i].path, &data);
        cJSON_AddStringToObject(f, "sha256", info->files[i].sha256);
        cJSON_AddItemToArray(files, f);
    }
    return o;
}

static cJSON *conventions_json(void) {
    static const char *fields[] = {"auroc",    "auroc_seed", "fpr95_ood",  "fpr95_id",
                                   "aupr_out", "aupr_in",    "threshold95"};
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        cJSON_AddStringToObject(o, fields[i], metrics_field_description(fields[i]));
    cJSON_AddStringToObject(o, "energy",
                            "E = -log sum_i exp(a_i) over the whole flattened "
                            "activation of a point, temperature 1; higher = more OOD");
    cJSON_AddStringToObject(o, "dirfree",
                            "the same metrics for |E - centre| / scale at each "
                            "point, fitted on held-out ID training images only");
    cJSON_AddStringToObject(o, "baselines",
                            "final layer scores from the logits: msp = -max "
                            "softmax, maxlogit = -max logit, energy = -logsumexp(logits)");
    cJSON_AddStringToObject(o, "flop_frac", EVAL_FLOP_CONVENTION);
    cJSON_AddStringToObject(o, "oracle",
                            "true for a value chosen with the test OOD labels (best points, "
                            "early exits, auroc_seed's direction): a reference, not a detector");
    cJSON_AddStringToObject(o, "groups",
                            "per group named in --out: the mean of each main score over the "
                            "group's evaluated sets (OpenOOD's near/far rows); skipped sets are "
                            "listed with the reason and are in no mean");
    cJSON_AddStringToObject(o, "train_config_hash",
                            "config_hash of the training settings in the weights' sidecar "
                            "with the seed set to 0: runs that share it differ at most in seed");
    return o;
}

/* The thresholds of fit.json: per ID-only score, the one accepting EVAL_FIT_TPR of the
 * held-out fit images, and what it accepts of them and of the ID test images. */
static cJSON *id_fit_json(const eval_result *r) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "file", "fit.json");
    cJSON_AddNumberToObject(o, "tpr", EVAL_FIT_TPR);
    cJSON_AddStringToObject(o, "rule", "a score above the threshold is called OOD; the "
                            "threshold accepts tpr of the held-out ID fit images (score <= it)");
    for (int s = 0; s < EVAL_N_FIT; s++) {
        cJSON *x = cJSON_AddObjectToObject(o, eval_main_scores[s].key);
        cJSON_AddNumberToObject(x, "threshold", r->threshold[s]);
        cJSON_AddNumberToObject(x, "fit_accept", r->fit_accept[s]);
        cJSON_AddNumberToObject(x, "id_test_accept", r->test_accept[s]);
    }
    return o;
}

int eval_report_json(const char *path, const eval_result *r, const eval_info *info,
                     lir_error *err) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "provenance", provenance_json(info));
    cJSON_AddItemToObject(root, "conventions", conventions_json());
    cJSON *id = cJSON_AddObjectToObject(root, "id");
    cJSON_AddStringToObject(id, "name", info->id_name);
    cJSON_AddNumberToObject(id, "n", info->n_id);
    cJSON_AddNumberToObject(id, "accuracy", r->id_accuracy);
    cJSON_AddNumberToObject(id, "n_fit", r->n_fit);
    cJSON *pts = cJSON_AddArrayToObject(root, "points");
    char desc[512];
    for (int k = 0; k < r->L; k++) {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "name", r->names[k]);
        cJSON_AddItemToObject(p, "shape", cJSON_CreateIntArray(r->shape + 3 * k, 3));
        cJSON_AddNumberToObject(p, "flop_frac", r->flop_frac[k]);
        cJSON_AddNumberToObject(p, "dirfree_center", r->dirfree[k].center);
        cJSON_AddNumberToObject(p, "dirfree_scale", r->dirfree[k].scale);
        cJSON_AddItemToArray(pts, p);
    }
    cJSON_AddStringToObject(root, "final_point", r->names[r->final_point]);
    cJSON_AddItemToObject(root, "id_fit", id_fit_json(r));
    cJSON_AddStringToObject(root, "paper_lines_and_bar_plots",
                            r->seed_values ? "auroc_seed" : "auroc");
    cJSON *ag = cJSON_AddObjectToObject(root, "agebo_models");
    for (int a = 0; a < EVAL_N_AGEBO; a++) {
        agebo_describe(&r->agebo[a], desc, sizeof desc);
        cJSON_AddStringToObject(ag, agebo_kind_name((agebo_kind)a), desc);
    }
    cJSON *oods = cJSON_AddArrayToObject(root, "ood");
    for (int o = 0; o < r->n_ood; o++) cJSON_AddItemToArray(oods, ood_json(r, &r->ood[o]));
    eval_summary_json(root, r, info->id_name);
    cJSON *t = cJSON_AddObjectToObject(root, "timing");
    cJSON_AddNumberToObject(t, "images", (double)info->images_total);
    cJSON_AddNumberToObject(t, "batch", info->batch);
    cJSON_AddNumberToObject(t, "forward_energy_seconds", info->seconds_forward);
    cJSON_AddNumberToObject(t, "forward_energy_cpu_seconds", info->cpu_forward);
    cJSON_AddNumberToObject(t, "networks", info->networks);
    return ood_json_write(path, root, err);
}

void ood_json_norm(cJSON *o, const char *key, const data_norm *norm) {
    cJSON *n = cJSON_AddObjectToObject(o, key);
    cJSON_AddItemToObject(n, "mean", cJSON_CreateFloatArray(norm->mean, 3));
    cJSON_AddItemToObject(n, "std", cJSON_CreateFloatArray(norm->std, 3));
}

int ood_json_write(const char *path, cJSON *root, lir_error *err) {
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    atomic_file a;
    int rc = atomic_open(&a, path, err);
    if (rc == 0) {
        fputs(text, a.f);
        fputc('\n', a.f);
        rc = atomic_close(&a, err);
    }
    free(text);
    return rc;
}

/* ---- CSV ---- */

void ood_csv_field(FILE *f, const char *s) {
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* The columns every row starts with: run, weights, ood, group. */
typedef struct {
    const char *run, *weights, *ood, *group;
} csv_lead;

static void csv_row(FILE *f, const csv_lead *l, const char *kind, const char *name, double flop,
                    const metrics_summary *m) {
    const char *lead[4] = {l->run, l->weights, l->ood, l->group};
    for (int i = 0; i < 4; i++) {
        ood_csv_field(f, lead[i]);
        fputc(',', f);
    }
    fprintf(f, "%s,", kind);
    ood_csv_field(f, name);
    fprintf(f, ",%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g\n", flop, m->auroc, m->auroc_seed,
            m->fpr95_ood, m->fpr95_id, m->aupr_in, m->aupr_out);
}

int eval_report_csv(const char *path, const eval_result *r, const eval_info *info,
                    lir_error *err) {
    atomic_file a;
    if (atomic_open(&a, path, err) < 0) return -1;
    FILE *f = a.f;
    path_alias data;
    path_alias_of(&data, info->data_dir, "<data dir>");
    char run[4400], weights[4400];
    path_record(info->outdir ? info->outdir : "", &data, 1, run, sizeof run);
    path_record(info->weights ? info->weights : "", &data, 1, weights, sizeof weights);
    fprintf(f, "run,weights,ood,group,kind,name,flop_frac,auroc,auroc_seed,fpr95_ood,fpr95_id,"
               "aupr_in,aupr_out\n");
    for (int o = 0; o < r->n_ood; o++) {
        const eval_ood *d = &r->ood[o];
        csv_lead l = {run, weights, d->name, d->group >= 0 ? ood_group_name(d->group) : ""};
        for (int k = 0; k < r->L; k++)
            csv_row(f, &l, "point", r->names[k], r->flop_frac[k], &d->point[k]);
        for (int k = 0; k < r->L; k++)
            csv_row(f, &l, "dirfree", r->names[k], r->flop_frac[k], &d->dirfree[k]);
        double ff = r->flop_frac[r->final_point];
        for (int b = 0; b < EVAL_N_BASE; b++)
            csv_row(f, &l, "baseline", base_names[b], ff, &d->base[b]);
        for (int g = 0; g < EVAL_N_AGEBO; g++)
            csv_row(f, &l, "agebo", agebo_kind_name((agebo_kind)g), ff, &d->agebo[g]);
    }
    return atomic_close(&a, err);
}

/* The files lir eval writes into its results directory (and their ".tmp" while one is
 * being written): the only files a directory it replaces may hold. */
int eval_output_name(const char *name) {
    static const char *const exact[] = {"results.json", "results.csv", "fit.json", "console.txt"};
    static const struct {
        const char *prefix, *ends; /* ends: the allowed endings, each 4 characters */
    } pattern[] = {{"auroc_scores_", ".png.svg.pdf"},
                   {"auroc_heatmap_", ".png.svg.pdf"},
                   {"energies_", ".csv"}};
    char s[1024];
    size_t n = strlen(name);
    if (n >= sizeof s) return 0;
    memcpy(s, name, n + 1);
    if (n > 4 && !strcmp(s + n - 4, ".tmp")) s[n -= 4] = 0;
    for (size_t i = 0; i < sizeof exact / sizeof *exact; i++)
        if (!strcmp(s, exact[i])) return 1;
    for (size_t i = 0; i < sizeof pattern / sizeof *pattern; i++) {
        size_t p = strlen(pattern[i].prefix);
        if (n < p + 5 || strncmp(s, pattern[i].prefix, p)) continue;
        for (const char *e = pattern[i].ends; *e; e += 4)
            if (!strncmp(s + n - 4, e, 4)) return 1;
    }
    return 0;
}

int eval_report_energies(const char *path, const eval_result *r, const eval_pass *p,
                         lir_error *err) {
    atomic_file a;
    if (atomic_open(&a, path, err) < 0) return -1;
    FILE *f = a.f;
    fprintf(f, "index,label");
    for (int k = 0; k < r->L; k++) fprintf(f, ",%s", r->names[k]);
    fprintf(f, ",msp,maxlogit\n");
    float *msp = xmalloc((size_t)p->n * sizeof(float)), *ml = xmalloc((size_t)p->n * sizeof(float));
    metrics_score_msp(p->logits, (size_t)p->n, p->classes, msp);
    metrics_score_maxlogit(p->logits, (size_t)p->n, p->classes, ml);
    for (int i = 0; i < p->n; i++) {
        fprintf(f, "%d,%d", i, p->labels[i]);
        const float *e = p->energy + (size_t)i * p->L;
        for (int k = 0; k < p->L; k++) fprintf(f, ",%.9g", e[k]);
        fprintf(f, ",%.9g,%.9g\n", msp[i], ml[i]);
    }
    free(msp);
    free(ml);
    return atomic_close(&a, err);
}

/* ---- plots ---- */

static const char *file_basename(const char *path) {
    const char *b = path ? strrchr(path, '/') : NULL;
    return b ? b + 1 : path;
}

/* The bar plot of OOD set o: shown values, and which were flipped in seed mode. */
static int plot_bars_of(const char *dir, const eval_result *r, const eval_info *info, int o,
                        lir_error *err) {
    const eval_ood *d = &r->ood[o];
    const char **names = xmalloc((size_t)r->L * sizeof(char *));
    double *v = xmalloc((size_t)r->L * sizeof(double));
    unsigned char *flipped = xmalloc((size_t)r->L);
    for (int k = 0; k < r->L; k++) {
        names[k] = r->names[k];
        v[k] = shown(r, &d->point[k]);
        flipped[k] = r->seed_values && d->point[k].auroc < 0.5;
    }
    plot_bars b = {names, v, flipped, r->L, r->final_point, r->seed_values,
                   info->id_name, d->name, file_basename(info->weights)};
    char stem[4400];
    snprintf(stem, sizeof stem, "%s/auroc_scores_%s_%s", dir, info->id_name, d->name);
    int rc = plot_auroc_bars(&b, stem, NULL, err);
    free(names);
    free(v);
    free(flipped);
    return rc;
}

/* Raw AUROC of every point, Ag-EBO and MSP (rows) against every OOD set (columns). */
static int plot_heat_of(const char *dir, const eval_result *r, const eval_info *info,
                        lir_error *err) {
    int L = r->L, rows = L + EVAL_N_AGEBO + 1, cols = r->n_ood;
    const char **names = xmalloc((size_t)rows * sizeof(char *));
    const char **cn = xmalloc((size_t)cols * sizeof(char *));
    double *heat = xmalloc((size_t)rows * cols * sizeof(double));
    char agname[EVAL_N_AGEBO][48];
    for (int k = 0; k < L; k++) names[k] = r->names[k];
    for (int a = 0; a < EVAL_N_AGEBO; a++) {
        snprintf(agname[a], sizeof agname[a], "Ag-EBO %s", agebo_kind_name((agebo_kind)a));
        names[L + a] = agname[a];
    }
    names[L + EVAL_N_AGEBO] = "MSP (logits)";
    for (int o = 0; o < cols; o++) {
        const eval_ood *d = &r->ood[o];
        cn[o] = d->name;
        for (int k = 0; k < L; k++) heat[(size_t)k * cols + o] = d->point[k].auroc;
        for (int a = 0; a < EVAL_N_AGEBO; a++) heat[(size_t)(L + a) * cols + o] = d->agebo[a].auroc;
        heat[(size_t)(L + EVAL_N_AGEBO) * cols + o] = d->base[EVAL_BASE_MSP].auroc;
    }
    char title[256], sub[512], stem[4400];
    snprintf(title, sizeof title, "Raw AUROC per point and OOD set, ID %s", info->id_name);
    snprintf(sub, sizeof sub, "energy score at each point, OOD = positive class; weights %s",
             file_basename(info->weights));
    plot_heat h = {title, sub, names, rows, cn, cols, heat, 0.0, 1.0,
                   "AUROC (0.5 = chance; below: OOD has the lower energy)"};
    snprintf(stem, sizeof stem, "%s/auroc_heatmap_%s", dir, info->id_name);
    int rc = plot_heatmap(&h, stem, NULL, err);
    free(names);
    free(cn);
    free(heat);
    return rc;
}

int eval_report_plots(const char *dir, const eval_result *r, const eval_info *info,
                      lir_error *err) {
    for (int o = 0; o < r->n_ood; o++)
        if (plot_bars_of(dir, r, info, o, err)) return -1;
    return r->n_ood > 0 ? plot_heat_of(dir, r, info, err) : 0;
}
