/* cmd_eval.c: `lir eval`: flags, loading the network and the datasets (OOD groups
 * expanded, unloadable group sets skipped with the reason), the training seed and config
 * hash from the weights' sidecar, the scoring passes, the fits on held-out ID training
 * images and the reports (ood.h). */
#include <cjson/cJSON.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ood/ood.h"
#include "train/train.h"

typedef struct {
    const char *in, *out, *cfg, *weights, *data, *outdir, *values, *precision;
    int batch, threads, holdout, jpeg_all, limit, save_energies, plots, validation;
    float margin;
    int seed;
} eval_args;

#define EVAL_MAX_NETS 16

/* Network copies to run side by side: --threads, 0 = OpenMP's thread count but at
 * most 8 (each copy holds its own activations: about 125 MB for cfg/resnet18.cfg at
 * batch 100, several times more for the CIFAR-style net). */
static int eval_networks(const eval_args *a) {
    int t = a->threads ? a->threads : omp_get_max_threads();
    if (!a->threads && t > 8) t = 8;
    return t < 1 ? 1 : t > EVAL_MAX_NETS ? EVAL_MAX_NETS : t;
}

/* Appends the files of (name, split) under dir with their SHA-256 to files, each file
 * once (derived sets, cifar10@..., read their base's files); sets that data does not
 * read from files of its own layout list no files here. */
static int add_files(const char *dir, const char *name, const char *split, eval_file **files,
                     int *n, lir_error *err) {
    char base[32], paths[8][DATASET_PATH];
    dataset_base_name(name, base, sizeof base);
    int k = dataset_files(name, split, dir, paths, 8);
    for (int i = 0; i < k; i++) {
        int seen = 0;
        for (int j = 0; j < *n; j++) seen |= !strcmp((*files)[j].path, paths[i]);
        if (seen) continue;
        *files = xrealloc(*files, (size_t)(*n + 1) * sizeof **files);
        eval_file *f = &(*files)[*n];
        snprintf(f->dataset, sizeof f->dataset, "%s %s", base, split);
        memcpy(f->path, paths[i], sizeof f->path);
        if (sha256_file(f->path, f->sha256, err) < 0) return -1;
        (*n)++;
    }
    return 0;
}

/* Says where the ID pixels come from (the PROVENANCE file scripts/get_data.sh writes),
 * plus the --jpeg-all round trip. */
static data_source id_provenance(const eval_args *a, char *out, size_t size) {
    char prov[2048], base[32];
    data_source src = dataset_provenance(a->in, a->data, prov, sizeof prov);
    dataset_base_name(a->in, base, sizeof base);
    size_t len = (size_t)snprintf(out, size, "%s: %s", base, prov);
    if (a->jpeg_all && len < size)
        snprintf(out + len, size - len,
                 "; --jpeg-all %d: every evaluated image (ID, held-out ID "
                 "and OOD) went through a JPEG quality %d round trip",
                 a->jpeg_all, a->jpeg_all);
    return src;
}

/* Loads name (with "@jpeg<q>" appended under --jpeg-all unless it already ends so). */
static dataset *load(const eval_args *a, const char *name, const char *split, lir_error *err) {
    char full[96], tail[24];
    snprintf(tail, sizeof tail, "@jpeg%d", a->jpeg_all);
    size_t n = strlen(name), t = strlen(tail);
    int has = n >= t && !strcmp(name + n - t, tail); /* already ends in that round trip */
    if (n + (a->jpeg_all && !has ? t : 0) >= sizeof full) {
        lir_fail(err, "dataset name too long (at most %zu characters%s): %s", sizeof full - 1,
                 a->jpeg_all && !has ? " with --jpeg-all's suffix" : "", name);
        return NULL;
    }
    if (a->jpeg_all && !has)
        snprintf(full, sizeof full, "%s%s", name, tail);
    else
        snprintf(full, sizeof full, "%s", name);
    return dataset_load(full, split, a->data, err);
}

static net *load_net(const eval_args *a, int classes, lir_error *err) {
    if (access(a->weights, R_OK) != 0) {
        char base[32];
        dataset_base_name(a->in, base, sizeof base);
        lir_fail(err,
                 "weights file %s not found: lir's shipped weights for %s are "
                 "weights/resnet18-%s.weights (with cfg/resnet18.cfg); train them with "
                 "`lir train` (see README.md) or pass --weights FILE",
                 a->weights, base, base);
        return NULL;
    }
    net_options opt = {a->batch, classes, 0, (uint64_t)a->seed};
    net *n = net_load_cfg(a->cfg, &opt, err);
    if (!n) return NULL;
    net_set_precision(n, precision_parse(a->precision));
    if (net_load_weights(n, a->weights, err) < 0) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        lir_fail(err, "weights %s do not fit %s: %s", a->weights, a->cfg, msg);
        net_free(n);
        return NULL;
    }
    net_hook_all(n);
    return n;
}

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
} eval_inputs;

/* Loads OOD set i of the plan into in->ood[i]; a set that may be skipped gets its reason
 * in in->why[i] instead (0 either way); -1 on any other failure. */
static int load_ood(const eval_args *a, eval_inputs *in, int i, lir_error *err) {
    if ((in->ood[i] = load(a, in->plan.sets[i].name, "test", err))) return 0;
    if (!ood_plan_may_skip(&in->plan, i, a->data)) return -1;
    char why[sizeof err->msg + 64];
    text_record(err->msg, dataset_dir(a->data), "<data dir>", why, sizeof why);
    in->why[i] = xstrdup(why);
    return 0;
}

/* Seed and training config hash from the weights' sidecar (<weights>.json, written by
 * `lir train`): the hash is config_hash of its settings with the seed set to 0, so runs
 * that differ only in seed share it. Missing or unreadable: unknown, with a note. */
static void read_sidecar(const char *weights, eval_inputs *in) {
    snprintf(in->sidecar, sizeof in->sidecar, "%s.json", weights);
    in->train_seed = -1;
    char *text = file_read_all(in->sidecar, NULL, NULL);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    free(text);
    if (!j) {
        snprintf(in->train_note, sizeof in->train_note, "no readable sidecar %s", in->sidecar);
        in->sidecar[0] = 0;
        return;
    }
    const cJSON *seed = cJSON_GetObjectItem(j, "seed"), *cfg = cJSON_GetObjectItem(j, "config");
    if (cJSON_IsNumber(seed)) in->train_seed = (long long)seed->valuedouble;
    char *ct = cJSON_IsObject(cfg) ? cJSON_PrintUnformatted(cfg) : NULL;
    train_config c;
    config_defaults(&c);
    lir_error e = {"its sidecar has no \"config\" object"};
    if (ct && config_apply_json(&c, ct, in->sidecar, &e) == 0) {
        c.seed = 0;
        snprintf(in->train_hash, sizeof in->train_hash, "%016llx",
                 (unsigned long long)config_hash(&c));
    } else {
        snprintf(in->train_note, sizeof in->train_note, "training config unknown: %s", e.msg);
    }
    if (in->train_seed < 0 && !in->train_note[0])
        snprintf(in->train_note, sizeof in->train_note, "no seed in %s", in->sidecar);
    cJSON_free(ct);
    cJSON_Delete(j);
}

/* The sets --validation accepts: model selection's, never a test OOD set. */
static const char *const VALIDATION_SETS[] = {"photos-val"};

static int validation_sets_check(const ood_plan *p, lir_error *err) {
    for (int i = 0; i < p->n; i++) {
        char base[32];
        int ok = 0;
        dataset_base_name(p->sets[i].name, base, sizeof base);
        for (size_t k = 0; k < sizeof VALIDATION_SETS / sizeof *VALIDATION_SETS; k++)
            ok |= !strcmp(base, VALIDATION_SETS[k]);
        int g = p->sets[i].group;
        if (!ok)
            return lir_fail(err, "--validation: %s%s%s%s is not a validation set (photos-val: "
                            "the photos held out of the outlier corpus); test OOD sets never "
                            "take part in model selection", p->sets[i].name,
                            g >= 0 ? " (OOD group " : "", g >= 0 ? ood_group_name(g) : "",
                            g >= 0 ? ")" : "");
    }
    return 0;
}

/* --validation: the ID side is the second half of the --holdout images of the train
 * split (in->id, a copy named <in>-val), the fits take the first half (in->fit_idx). */
static int validation_ids(const eval_args *a, eval_inputs *in, lir_error *err) {
    const dataset *tr = in->train;
    int k = a->holdout < tr->n ? a->holdout : tr->n - 1, *tr_idx = NULL;
    if (data_holdout(tr->n, k, &tr_idx, &in->fit_idx, err) < 0) return -1;
    free(tr_idx);
    in->n_fit = k / 2;
    dataset *d = in->id = xcalloc(1, sizeof *d);
    *d = *tr;
    snprintf(d->name, sizeof d->name, "%s-val", a->in);
    d->n = k - in->n_fit;
    size_t img = (size_t)tr->c * tr->h * tr->w;
    d->images = xmalloc((size_t)d->n * img);
    d->labels = xmalloc((size_t)d->n * sizeof(int));
    d->coarse = NULL;
    for (int i = 0; i < d->n; i++) {
        int j = in->fit_idx[in->n_fit + i];
        memcpy(d->images + (size_t)i * img, tr->images + (size_t)j * img, img);
        d->labels[i] = tr->labels[j];
    }
    return 0;
}

/* Loads every dataset first (so a bad name fails before any pass), then the network,
 * checksums and the ID provenance. */
static int inputs_load(const eval_args *a, eval_inputs *in, lir_error *err) {
    const char *dir = dataset_dir(a->data);
    if (data_norm_for(a->in, &in->norm, err) < 0 || outlier_check_eval(a->weights, a->out, err) < 0)
        return -1;
    if (!(in->train = load(a, a->in, "train", err))) return -1;
    if (a->validation ? validation_ids(a, in, err) < 0 : !(in->id = load(a, a->in, "test", err)))
        return -1;
    if (ood_plan_make(&in->plan, a->out, a->in, err) < 0) return -1;
    in->ood = xcalloc((size_t)in->plan.n + 1, sizeof *in->ood);
    in->why = xcalloc((size_t)in->plan.n + 1, sizeof *in->why);
    if (a->validation && validation_sets_check(&in->plan, err) < 0) return -1;
    for (int i = 0; i < in->plan.n; i++) /* the sets one name stands for: one at a time, later */
        if (!in->plan.sets[i].lazy && load_ood(a, in, i, err) < 0) return -1;
    for (int k = 0; k < eval_networks(a); k++) {
        if (!(in->nets[k] = load_net(a, in->id->classes, err))) return -1;
        in->n_nets = k + 1;
    }
    in->n = in->nets[0];
    if (sha256_file(a->cfg, in->cfg_sha, err) < 0 || sha256_file(a->weights, in->w_sha, err) < 0 ||
        (!a->validation && add_files(dir, a->in, "test", &in->files, &in->n_files, err) < 0) ||
        add_files(dir, a->in, "train", &in->files, &in->n_files, err) < 0)
        return -1;
    for (int i = 0; i < in->plan.n; i++)
        if (in->ood[i] && add_files(dir, in->ood[i]->name, "test", &in->files, &in->n_files, err) < 0)
            return -1;
    in->source = id_provenance(a, in->prov, sizeof in->prov);
    read_sidecar(a->weights, in);
    return 0;
}

static void inputs_free(eval_inputs *in) {
    free(in->files);
    free(in->fit_idx);
    dataset_free(in->id);
    dataset_free(in->train);
    for (int i = 0; i < in->plan.n; i++) {
        dataset_free(in->ood[i]);
        free(in->why[i]);
    }
    free(in->ood);
    free(in->why);
    ood_plan_free(&in->plan);
    for (int k = 0; k < in->n_nets; k++) net_free(in->nets[k]);
}

static void add_time(eval_info *info, const eval_pass *p) {
    info->seconds_forward += p->seconds;
    info->cpu_forward += p->cpu_seconds;
    info->images_total += p->n;
}

/* The ID pass (the test split, or with --validation the held-out images in->id) and
 * the held-out ID training pass, then the fits. */
static int score_id(const eval_args *a, eval_inputs *in, eval_pass *pid, eval_pass *pfit,
                    eval_result *r, char *holdout, size_t hsize, lir_error *err) {
    dataset *tr = in->train;
    int k = a->holdout < tr->n ? a->holdout : tr->n - 1;
    int *tr_idx = NULL, *val_idx = NULL;
    if (data_holdout(tr->n, k, &tr_idx, &val_idx, err) < 0) return -1;
    free(tr_idx);
    if (in->fit_idx) {
        k = in->n_fit;
        snprintf(holdout, hsize, "the %d images %d..%d of the %s train split (--validation: the "
                 "%d after them are the ID side)", k, tr->n - in->n_fit - in->id->n,
                 tr->n - in->id->n - 1, tr->name, in->id->n);
    } else {
        snprintf(holdout, hsize, "the last %d images of the %s train split (%d..%d)", k,
                 tr->name, tr->n - k, tr->n - 1);
    }
    const int *fit = in->fit_idx ? in->fit_idx : val_idx;
    int m = a->limit && a->limit < in->id->n ? a->limit : in->id->n;
    int rc = eval_pass_run(in->nets, in->n_nets, in->id, NULL, m, &in->norm, pid, err);
    if (rc == 0) rc = eval_pass_run(in->nets, in->n_nets, tr, fit, k, &in->norm, pfit, err);
    free(val_idx);
    dataset_free(in->train); /* 50,000 images no longer needed */
    in->train = NULL;
    if (rc < 0) return -1;
    eval_result_init(r, in->n, a->margin);
    r->seed_values = !strcmp(a->values, "seed");
    r->id_accuracy = eval_accuracy(pid);
    return eval_fit(r, pfit, err);
}

static int save_energies(const eval_args *a, const eval_result *r, const eval_pass *p,
                         const char *what, lir_error *err) {
    if (!a->save_energies) return 0;
    char path[4400];
    snprintf(path, sizeof path, "%s/energies_%s_%s.csv", a->outdir, p->name, what);
    return eval_report_energies(path, r, p, err);
}

static int write_reports(const eval_args *a, const eval_result *r, const eval_info *info,
                         lir_error *err) {
    char path[4400];
    eval_report_console(stdout, r, info);
    snprintf(path, sizeof path, "%s/results.json", a->outdir);
    if (eval_report_json(path, r, info, err) < 0) return -1;
    snprintf(path, sizeof path, "%s/results.csv", a->outdir);
    if (eval_report_csv(path, r, err) < 0) return -1;
    if (a->plots && eval_report_plots(a->outdir, r, info, err) < 0) return -1;
    printf("wrote %s/results.json, results.csv%s%s\n", a->outdir,
           a->plots ? ", auroc_scores_*.{png,svg,pdf}, auroc_heatmap_*.{png,svg,pdf}" : "",
           a->save_energies ? ", energies_*.csv" : "");
    return 0;
}

/* One OOD set against the ID pass: its pass, metrics and saved energies. */
static int score_one(const eval_args *a, eval_inputs *in, const dataset *d, int group,
                     const eval_pass *pid, eval_result *r, eval_info *info, lir_error *err) {
    eval_pass p;
    int m = a->limit && a->limit < d->n ? a->limit : d->n;
    if (eval_pass_run(in->nets, in->n_nets, d, NULL, m, &in->norm, &p, err) < 0) return -1;
    add_time(info, &p);
    int rc = eval_compare(r, pid, &p, err);
    if (rc == 0) r->ood[r->n_ood - 1].group = group;
    if (rc == 0) rc = save_energies(a, r, &p, "test", err);
    eval_pass_free(&p);
    return rc;
}

/* Every set of the plan in order: those loaded up front, the lazy ones loaded here one at
 * a time; a skipped set is listed with its reason. Fails when none could be scored. */
static int score_oods(const eval_args *a, eval_inputs *in, const eval_pass *pid, eval_result *r,
                      eval_info *info, lir_error *err) {
    const char *dir = dataset_dir(a->data);
    memcpy(r->asked, in->plan.asked, sizeof r->asked);
    for (int i = 0; i < in->plan.n; i++) {
        const ood_plan_set *s = &in->plan.sets[i];
        if (s->lazy && (load_ood(a, in, i, err) < 0 ||
                        (in->ood[i] && add_files(dir, s->name, "test", &in->files,
                                                 &in->n_files, err) < 0)))
            return -1;
        if (in->why[i]) {
            eval_skip(r, s->name, s->group, in->why[i]);
            continue;
        }
        int rc = score_one(a, in, in->ood[i], s->group, pid, r, info, err);
        dataset_free(in->ood[i]);
        in->ood[i] = NULL;
        if (rc < 0) return -1;
    }
    if (r->n_ood == 0)
        return lir_fail(err, "--out %s: no OOD set could be evaluated%s%s", a->out,
                        r->n_skipped ? "; first skipped: " : "",
                        r->n_skipped ? r->skipped[0].reason : "");
    return 0;
}

/* Everything after the flags; returns 0 or -1 with err filled. */
static int eval_run(const eval_args *a, const char *command, lir_error *err) {
    eval_inputs in = {0};
    eval_pass pid = {0}, pfit = {0};
    eval_result r = {0};
    char holdout[256];
    int rc = -1;
    if (inputs_load(a, &in, err) < 0 ||
        score_id(a, &in, &pid, &pfit, &r, holdout, sizeof holdout, err) < 0 ||
        make_dirs(a->outdir, err) < 0 || save_energies(a, &r, &pid, "test", err) < 0 ||
        save_energies(a, &r, &pfit, "holdout", err) < 0)
        goto done;
    eval_info info = {.command = command,
                      .cfg = a->cfg,
                      .cfg_sha256 = in.cfg_sha,
                      .weights = a->weights,
                      .weights_sha256 = in.w_sha,
                      .data_dir = dataset_dir(a->data),
                      .id_name = in.id->name,
                      .id_provenance = in.prov,
                      .id_source = data_source_name(in.source),
                      .holdout = holdout,
                      .sidecar = in.sidecar,
                      .train_seed = in.train_seed,
                      .train_config_hash = in.train_hash,
                      .train_note = in.train_note,
                      .norm = in.norm,
                      .seed = (unsigned long long)a->seed,
                      .jpeg_all = a->jpeg_all,
                      .batch = in.n->batch,
                      .networks = in.n_nets,
                      .n_id = pid.n};
    add_time(&info, &pid);
    add_time(&info, &pfit);
    if (score_oods(a, &in, &pid, &r, &info, err) < 0) goto done;
    info.files = in.files; /* with the files of sets loaded late */
    info.n_files = in.n_files;
    rc = write_reports(a, &r, &info, err);
done:
    inputs_free(&in);
    eval_pass_free(&pid);
    eval_pass_free(&pfit);
    eval_result_free(&r);
    return rc;
}

/* An --out list with an empty name (",", "a,,b", "a,") would evaluate less than
 * asked: says so and returns 1. */
static int out_list_bad(const char *out) {
    if (*out && out[0] != ',' && out[strlen(out) - 1] != ',' && !strstr(out, ",,")) return 0;
    char esc[300];
    fprintf(stderr, "lir: eval: --out '%s': empty dataset name in the list\n",
            lir_escape(out, esc, sizeof esc));
    return 1;
}

/* Checks the flags (usage error: returns 2) and fills the defaults that depend on
 * --in into wdef / odef; ARGS_RUN when the command can run. */
static int eval_args_check(eval_args *a, char *wdef, size_t wn, char *odef, size_t on) {
    if (!a->out || !*a->out) {
        fprintf(stderr,
                "lir eval: --out is required (OOD groups near, far, covariate and sets, e.g. "
                "--out far or --out svhn,mnist; known sets: %s)\n",
                dataset_known_names());
        return 2;
    }
    if (out_list_bad(a->out)) return 2;
    if (a->batch < 1 || a->threads < 0 || a->threads > EVAL_MAX_NETS || a->holdout < 2 ||
        a->limit < 0 || a->jpeg_all < 0 || a->jpeg_all > 100 || !(a->margin >= 0)) {
        fprintf(stderr,
                "lir eval: need --batch >= 1, --threads 0..%d, --holdout >= 2, --limit >= 0, "
                "--jpeg-all 0..100, --margin >= 0\n",
                EVAL_MAX_NETS);
        return 2;
    }
    char base[32];
    dataset_base_name(a->in, base, sizeof base);
    if (!a->weights) {
        snprintf(wdef, wn, "weights/resnet18-%s.weights", base);
        a->weights = wdef;
    }
    if (!a->outdir) {
        snprintf(odef, on, "runs/eval-%s", a->in);
        a->outdir = odef;
    }
    return ARGS_RUN;
}

/* Parses the flags into a; returns ARGS_RUN, or the exit status after --help or a
 * usage error. */
static int eval_parse(int argc, char **argv, eval_args *a) {
    uint64_t max_mem;
    const arg_spec specs[] = {
        {"in", ARG_STR, &a->in, "cifar10", "in-distribution dataset (its test split is scored)",
         "<set>", NULL},
        {"out", ARG_STR, &a->out, NULL,
         "OOD groups and sets, comma-separated: near, far, covariate (sets this build lacks "
         "or whose data is absent are skipped with the reason) and set names, e.g. "
         "far,cifar10@jpeg75",
         "<list>", ARG_REQUIRED},
        {"cfg", ARG_STR, &a->cfg, "cfg/resnet18.cfg", "network cfg", "<file>", NULL},
        {"weights", ARG_STR, &a->weights, NULL, "the weights evaluated", "<file>",
         "weights/resnet18-<in>.weights"},
        {"data", ARG_STR, &a->data, NULL, "data directory", "<dir>", "$LIR_DATA, else ./data"},
        {"outdir", ARG_STR, &a->outdir, NULL, "output directory", "<dir>", "runs/eval-<in>"},
        {"batch", ARG_INT, &a->batch, "100", "images per forward pass", 0, NULL},
        {"threads", ARG_INT, &a->threads, "0",
         "threads, each running its own copy of the network on every n-th batch (0: "
         "OMP_NUM_THREADS or all cores, at most 8; 1: one copy whose layers use all threads)",
         0, NULL},
        {"holdout", ARG_INT, &a->holdout, "5000", "held-out ID train images for the ID-only fits",
         0, NULL},
        {"values", ARG_CHOICE, &a->values, "raw",
         "paper lines and bar plots: raw AUROC, or seed = max(AUROC, 1 - AUROC) as the paper's "
         "script",
         "raw|seed", NULL},
        {"margin", ARG_FLOAT, &a->margin, "0.01", "early exit: AUROC margin below the best point",
         0, NULL},
        {"jpeg-all", ARG_INT, &a->jpeg_all, "0",
         "JPEG round trip at this quality for every image (0 = off)", 0, NULL},
        {"limit", ARG_INT, &a->limit, "0",
         "score only the first N test images of each set (0 = all)", 0, NULL},
        {"save-energies", ARG_BOOL, &a->save_energies, "0",
         "write energies_<set>_{test,holdout}.csv: index,label,E per point,msp,maxlogit", 0, NULL},
        {"plots", ARG_BOOL, &a->plots, "1", "write the figures (PNG, SVG and PDF)", 0, NULL},
        {"seed", ARG_INT, &a->seed, "1", "seed of the network builder (weights are loaded over it)",
         0, NULL},
        {"precision", ARG_CHOICE, &a->precision, "fp32",
         "inputs of the conv and fc GEMMs: fp32, or bf16 (rounded operands, fp32 sums)",
         "fp32|bf16", NULL},
        {"validation", ARG_BOOL, &a->validation, "0",
         "model selection without test data: the ID side is the second half of the --holdout "
         "images of the ID train split (the first half fits the ID-only scores) and --out may "
         "name validation sets only (photos-val)",
         0, NULL},
        CLI_MAX_MEMORY_SPEC(&max_mem),
    };
    const arg_cmd cmd = {"eval",
                         "",
                         "per-point energy OOD analysis of a network (docs/method.md)",
                         0,
                         0,
                         specs,
                         (int)(sizeof specs / sizeof specs[0])};
    char **pos = xmalloc((size_t)argc * sizeof(char *));
    int npos, st = args_parse(&cmd, argc, argv, pos, &npos);
    free(pos);
    if (st == ARGS_RUN) net_set_max_memory(max_mem);
    return st;
}

int cmd_eval(int argc, char **argv) {
    eval_args a;
    char wdef[256], odef[256];
    int st = eval_parse(argc, argv, &a);
    if (st == ARGS_RUN) st = eval_args_check(&a, wdef, sizeof wdef, odef, sizeof odef);
    if (st != ARGS_RUN) return st;
    char *command = command_line(argc, argv);
    lir_error err;
    int rc = eval_run(&a, command, &err);
    free(command);
    return rc < 0 ? cli_error("eval", &err) : 0;
}
