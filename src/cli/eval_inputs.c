/* eval_inputs.c: `lir eval`'s inputs: the datasets (OOD groups expanded, unloadable
 * group sets skipped with the reason), the network copies hooked on --points, file
 * checksums, the ID provenance, and the training seed and config hash from the weights'
 * sidecar; --validation's ID side and fit split. */
#include <cjson/cJSON.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eval_inputs.h"
#include "train/train.h"

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
int eval_add_files(const char *dir, const char *name, const char *split, eval_file **files,
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
    if (!a->points) {
        net_hook_all(n);
    } else if (net_hook_points(n, a->points, err) < 0) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        lir_fail(err, "--points: %s; `lir info %s` lists the points", msg, a->cfg);
        net_free(n);
        return NULL;
    }
    return n;
}


/* Loads OOD set i of the plan into in->ood[i]; a set that may be skipped gets its reason
 * in in->why[i] instead (0 either way); -1 on any other failure. */
int eval_load_ood(const eval_args *a, eval_inputs *in, int i, lir_error *err) {
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
static const char *const VALIDATION_SETS[] = {"photos-val", "clipart-val"};

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
                            "the photos held out of the outlier corpus; clipart-val: clip art); "
                            "test OOD sets never take part in model selection", p->sets[i].name,
                            g >= 0 ? " (OOD group " : "", g >= 0 ? ood_group_name(g) : "",
                            g >= 0 ? ")" : "");
    }
    return 0;
}

int eval_holdout_size(const eval_args *a, int n) {
    return a->holdout < n ? a->holdout : n - 1;
}

/* The held-out images (the fits', and --validation's ID side) must be images the
 * weights were not trained on, as their sidecar says: else the fits would describe
 * training images, on which a network is more confident than on unseen ones. Refused
 * unless --allow-fit-overlap; in->fit_overlap gets the count. */
static int fit_overlap_check(const eval_args *a, eval_inputs *in, lir_error *err) {
    const int n = in->train->n, k = eval_holdout_size(a, n);
    guard_base b;
    in->fit_overlap = guard_base_read(a->weights, a->in, n, k, &b);
    if (!in->fit_overlap || a->allow_fit_overlap) return 0;
    char keep[96] = "none (train it with val_size > 0 to keep some)";
    if (n - b.first >= 2) snprintf(keep, sizeof keep, "%ld", n - b.first);
    return lir_fail(err,
                    "--holdout: the held-out ID images (the last %d of the %d in the %s train "
                    "split: the fits of the direction-free and Ag-EBO scores and fit.json's "
                    "thresholds%s) include %ld that %s was trained on (its sidecar %s.json: "
                    "the first %ld), so the fits would describe training images, not unseen "
                    "ones; use --holdout %s or less, the images its training held out, or "
                    "--allow-fit-overlap to evaluate anyway, with the overlap recorded in "
                    "results.json",
                    k, n, a->in, a->validation ? ", and --validation's ID side" : "",
                    in->fit_overlap, a->weights, a->weights, b.first, keep);
}

/* --validation: the ID side is the second half of the --holdout images of the train
 * split (in->id, a copy named <in>-val), the fits take the first half (in->fit_idx). */
static int validation_ids(const eval_args *a, eval_inputs *in, lir_error *err) {
    const dataset *tr = in->train;
    int k = eval_holdout_size(a, tr->n), *tr_idx = NULL;
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
int eval_inputs_load(const eval_args *a, eval_inputs *in, lir_error *err) {
    const char *dir = dataset_dir(a->data);
    if (data_norm_for(a->in, &in->norm, err) < 0 || outlier_check_eval(a->weights, a->out, err) < 0)
        return -1;
    if (!(in->train = load(a, a->in, "train", err)) || fit_overlap_check(a, in, err) < 0)
        return -1;
    if (a->validation ? validation_ids(a, in, err) < 0 : !(in->id = load(a, a->in, "test", err)))
        return -1;
    if (ood_plan_make(&in->plan, a->out, a->in, err) < 0) return -1;
    in->ood = xcalloc((size_t)in->plan.n + 1, sizeof *in->ood);
    in->why = xcalloc((size_t)in->plan.n + 1, sizeof *in->why);
    if (a->validation && validation_sets_check(&in->plan, err) < 0) return -1;
    for (int i = 0; i < in->plan.n; i++) /* the sets one name stands for: one at a time, later */
        if (!in->plan.sets[i].lazy && eval_load_ood(a, in, i, err) < 0) return -1;
    for (int k = 0; k < eval_networks(a); k++) {
        if (!(in->nets[k] = load_net(a, in->id->classes, err))) return -1;
        in->n_nets = k + 1;
    }
    in->n = in->nets[0];
    if (sha256_file(a->cfg, in->cfg_sha, err) < 0 || sha256_file(a->weights, in->w_sha, err) < 0 ||
        (!a->validation && eval_add_files(dir, a->in, "test", &in->files, &in->n_files, err) < 0) ||
        eval_add_files(dir, a->in, "train", &in->files, &in->n_files, err) < 0)
        return -1;
    for (int i = 0; i < in->plan.n; i++)
        if (in->ood[i] && eval_add_files(dir, in->ood[i]->name, "test", &in->files, &in->n_files, err) < 0)
            return -1;
    in->source = id_provenance(a, in->prov, sizeof in->prov);
    read_sidecar(a->weights, in);
    return 0;
}

void eval_inputs_free(eval_inputs *in) {
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
