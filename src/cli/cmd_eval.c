/* cli_eval.c: `lir eval`: flags, loading the network and the datasets, the scoring
 * passes, the fits on held-out ID training images and the reports (eval.h). */
#include <errno.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "ood/ood.h"

typedef struct {
    const char *in, *out, *cfg, *weights, *data, *outdir, *values;
    int batch, threads, holdout, jpeg_all, limit, save_energies, plots;
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

static int mkdir_p(const char *path, lir_error *err) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1;; p++) {
        char c = *p;
        if (c != '/' && c != 0) continue;
        *p = 0;
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return lir_fail(err, "cannot create directory %s: %s", buf, strerror(errno));
        *p = c;
        if (!c) return 0;
    }
}

/* The base name of a dataset name ("cifar10@jpeg75" -> "cifar10"). */
static void base_name(const char *name, char *out, size_t n) {
    snprintf(out, n, "%.*s", (int)strcspn(name, "@"), name);
}

/* Appends the files of (base, split) under dir with their SHA-256 to files. */
static int add_files(const char *dir, const char *name, const char *split, eval_file **files,
                     int *n, lir_error *err) {
    char base[32], stems[6][64];
    base_name(name, base, sizeof base);
    int k = 0;
    const char *sub = base;
    if (!strcmp(base, "cifar10")) {
        sub = "cifar10/cifar-10-batches-bin";
        if (!strcmp(split, "test"))
            snprintf(stems[k++], 64, "test_batch.bin");
        else
            for (int i = 1; i <= 5; i++) snprintf(stems[k++], 64, "data_batch_%d.bin", i);
    } else if (!strcmp(base, "cifar100")) {
        sub = "cifar100/cifar-100-binary";
        snprintf(stems[k++], 64, "%s.bin", split);
    } else if (!strcmp(base, "svhn")) {
        snprintf(stems[k++], 64, "%s_32x32.mat", split);
    } else {
        const char *pre = !strcmp(split, "test") ? "t10k" : "train";
        snprintf(stems[k++], 64, "%s-images-idx3-ubyte", pre);
        snprintf(stems[k++], 64, "%s-labels-idx1-ubyte", pre);
    }
    for (int i = 0; i < k; i++) {
        *files = xrealloc(*files, (size_t)(*n + 1) * sizeof **files);
        eval_file *f = &(*files)[*n];
        snprintf(f->dataset, sizeof f->dataset, "%s %s", base, split);
        snprintf(f->path, sizeof f->path, "%s/%s/%s", dir, sub, stems[i]);
        if (access(f->path, R_OK) != 0) /* IDX files may be gzipped */
            snprintf(f->path, sizeof f->path, "%s/%s/%s.gz", dir, sub, stems[i]);
        if (sha256_file(f->path, f->sha256, err) < 0) return -1;
        (*n)++;
    }
    return 0;
}

/* Says where the ID pixels come from (the PROVENANCE file scripts/get_data.sh writes),
 * plus the --jpeg-all round trip. */
static data_source id_provenance(const eval_args *a, char *out, size_t size) {
    char prov[2048];
    data_source src = dataset_provenance(a->in, a->data, prov, sizeof prov);
    size_t len = (size_t)snprintf(out, size, "%.*s: %s", (int)strcspn(a->in, "@"), a->in, prov);
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
    if (a->jpeg_all && !has)
        snprintf(full, sizeof full, "%s%s", name, tail);
    else
        snprintf(full, sizeof full, "%s", name);
    return dataset_load(full, split, a->data, err);
}

static net *load_net(const eval_args *a, int classes, lir_error *err) {
    if (access(a->weights, R_OK) != 0) {
        char base[32];
        base_name(a->in, base, sizeof base);
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
    dataset *id, *train, *ood[32];
    int n_ood, n_files;
    data_source source;
    eval_file *files;
    net *n, *nets[EVAL_MAX_NETS]; /* n = nets[0]; copies for side-by-side passes */
    int n_nets;
    data_norm norm;
    char cfg_sha[65], w_sha[65], prov[2400];
} eval_inputs;

/* Loads every dataset first (so a bad name fails before any pass), then the network,
 * checksums and the ID provenance. */
static int inputs_load(const eval_args *a, eval_inputs *in, lir_error *err) {
    const char *dir = dataset_dir(a->data);
    if (data_norm_for(a->in, &in->norm, err) < 0) return -1;
    if (!(in->id = load(a, a->in, "test", err)) || !(in->train = load(a, a->in, "train", err)))
        return -1;
    char *outs = xstrdup(a->out), *save = NULL;
    int rc = 0;
    for (char *t = strtok_r(outs, ",", &save); t && rc == 0; t = strtok_r(NULL, ",", &save)) {
        if (in->n_ood == 32)
            rc = lir_fail(err, "--out: at most 32 OOD sets");
        else if (!(in->ood[in->n_ood] = load(a, t, "test", err)))
            rc = -1;
        else
            in->n_ood++;
    }
    free(outs);
    if (rc < 0) return -1;
    for (int k = 0; k < eval_networks(a); k++) {
        if (!(in->nets[k] = load_net(a, in->id->classes, err))) return -1;
        in->n_nets = k + 1;
    }
    in->n = in->nets[0];
    if (sha256_file(a->cfg, in->cfg_sha, err) < 0 || sha256_file(a->weights, in->w_sha, err) < 0 ||
        add_files(dir, a->in, "test", &in->files, &in->n_files, err) < 0 ||
        add_files(dir, a->in, "train", &in->files, &in->n_files, err) < 0)
        return -1;
    for (int o = 0; o < in->n_ood; o++)
        if (add_files(dir, in->ood[o]->name, "test", &in->files, &in->n_files, err) < 0) return -1;
    in->source = id_provenance(a, in->prov, sizeof in->prov);
    return 0;
}

static void inputs_free(eval_inputs *in) {
    free(in->files);
    dataset_free(in->id);
    dataset_free(in->train);
    for (int o = 0; o < in->n_ood; o++) dataset_free(in->ood[o]);
    for (int k = 0; k < in->n_nets; k++) net_free(in->nets[k]);
}

static void add_time(eval_info *info, const eval_pass *p) {
    info->seconds_forward += p->seconds;
    info->cpu_forward += p->cpu_seconds;
    info->images_total += p->n;
}

/* The ID test pass and the held-out ID training pass, then the fits. */
static int score_id(const eval_args *a, eval_inputs *in, eval_pass *pid, eval_pass *pfit,
                    eval_result *r, char *holdout, size_t hsize, lir_error *err) {
    dataset *tr = in->train;
    int k = a->holdout < tr->n ? a->holdout : tr->n - 1;
    int *tr_idx = NULL, *val_idx = NULL;
    if (data_holdout(tr->n, k, &tr_idx, &val_idx, err) < 0) return -1;
    free(tr_idx);
    snprintf(holdout, hsize, "the last %d images of the %s train split (%d..%d)", k, tr->name,
             tr->n - k, tr->n - 1);
    int m = a->limit && a->limit < in->id->n ? a->limit : in->id->n;
    int rc = eval_pass_run(in->nets, in->n_nets, in->id, NULL, m, &in->norm, pid, err);
    if (rc == 0) rc = eval_pass_run(in->nets, in->n_nets, tr, val_idx, k, &in->norm, pfit, err);
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

/* Everything after the flags; returns 0 or -1 with err filled. */
static int eval_run(const eval_args *a, const char *command, lir_error *err) {
    eval_inputs in = {0};
    eval_pass pid = {0}, pfit = {0};
    eval_result r = {0};
    char holdout[256];
    int rc = -1;
    if (inputs_load(a, &in, err) < 0 ||
        score_id(a, &in, &pid, &pfit, &r, holdout, sizeof holdout, err) < 0 ||
        mkdir_p(a->outdir, err) < 0 || save_energies(a, &r, &pid, "test", err) < 0 ||
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
                      .files = in.files,
                      .n_files = in.n_files,
                      .holdout = holdout,
                      .norm = in.norm,
                      .seed = (unsigned long long)a->seed,
                      .jpeg_all = a->jpeg_all,
                      .batch = in.n->batch,
                      .networks = in.n_nets,
                      .n_id = pid.n};
    add_time(&info, &pid);
    add_time(&info, &pfit);
    for (int o = 0; o < in.n_ood; o++) {
        eval_pass p;
        const dataset *d = in.ood[o];
        int m = a->limit && a->limit < d->n ? a->limit : d->n;
        if (eval_pass_run(in.nets, in.n_nets, d, NULL, m, &in.norm, &p, err) < 0) goto done;
        add_time(&info, &p);
        int bad = eval_compare(&r, &pid, &p, err) < 0 || save_energies(a, &r, &p, "test", err) < 0;
        eval_pass_free(&p);
        dataset_free(in.ood[o]);
        in.ood[o] = NULL;
        if (bad) goto done;
    }
    rc = write_reports(a, &r, &info, err);
done:
    inputs_free(&in);
    eval_pass_free(&pid);
    eval_pass_free(&pfit);
    eval_result_free(&r);
    return rc;
}

int cmd_eval(int argc, char **argv) {
    eval_args a;
    const arg_spec specs[] = {
        {"in", ARG_STR, &a.in, "cifar10", "in-distribution dataset (its test split is scored)", 0},
        {"out", ARG_STR, &a.out, NULL,
         "OOD sets, comma-separated, e.g. svhn,mnist,cifar10@jpeg75 (required)", 0},
        {"cfg", ARG_STR, &a.cfg, "cfg/resnet18.cfg", "network cfg", 0},
        {"weights", ARG_STR, &a.weights, NULL, "weights file; unset: weights/resnet18-<in>.weights",
         0},
        {"data", ARG_STR, &a.data, NULL, "data directory; unset: $LIR_DATA, else ./data", 0},
        {"outdir", ARG_STR, &a.outdir, NULL, "output directory; unset: runs/eval-<in>", 0},
        {"batch", ARG_INT, &a.batch, "100", "images per forward pass", 0},
        {"threads", ARG_INT, &a.threads, "0",
         "threads, each running its own copy of the network on every n-th batch (0: "
         "OMP_NUM_THREADS or all cores, at most 8; 1: one copy whose layers use all threads)",
         0},
        {"holdout", ARG_INT, &a.holdout, "5000", "held-out ID train images for the ID-only fits",
         0},
        {"values", ARG_CHOICE, &a.values, "raw",
         "paper lines and bar plots: raw AUROC, or seed = max(AUROC, 1 - AUROC) as the paper's "
         "script",
         "raw|seed"},
        {"margin", ARG_FLOAT, &a.margin, "0.01", "early exit: AUROC margin below the best point",
         0},
        {"jpeg-all", ARG_INT, &a.jpeg_all, "0",
         "JPEG round trip at this quality for every image (0 = off)", 0},
        {"limit", ARG_INT, &a.limit, "0",
         "score only the first N test images of each set (0 = all)", 0},
        {"save-energies", ARG_BOOL, &a.save_energies, "0",
         "write energies_<set>_{test,holdout}.csv: index,label,E per point,msp,maxlogit", 0},
        {"plots", ARG_BOOL, &a.plots, "1", "write the PNG plots", 0},
        {"seed", ARG_INT, &a.seed, "1", "seed of the network builder (weights are loaded over it)",
         0},
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
    if (st != ARGS_RUN) return st;
    if (!a.out || !*a.out) {
        fprintf(stderr,
                "lir: eval: --out is required (OOD sets, e.g. --out svhn,mnist; known: %s)\n",
                dataset_known_names());
        return 2;
    }
    if (a.batch < 1 || a.threads < 0 || a.threads > EVAL_MAX_NETS || a.holdout < 2 || a.limit < 0 || a.jpeg_all < 0 || a.jpeg_all > 100 ||
        !(a.margin >= 0)) {
        fprintf(stderr,
                "lir: eval: need --batch >= 1, --threads 0..%d, --holdout >= 2, --limit >= 0, "
                "--jpeg-all 0..100, --margin >= 0\n",
                EVAL_MAX_NETS);
        return 2;
    }
    char wdef[256], odef[256], base[32];
    base_name(a.in, base, sizeof base);
    if (!a.weights) {
        snprintf(wdef, sizeof wdef, "weights/resnet18-%s.weights", base);
        a.weights = wdef;
    }
    if (!a.outdir) {
        snprintf(odef, sizeof odef, "runs/eval-%s", a.in);
        a.outdir = odef;
    }
    size_t len = 4;
    for (int i = 0; i < argc; i++) len += strlen(argv[i]) + 1;
    char *command = xmalloc(len + 8);
    strcpy(command, "lir");
    for (int i = 0; i < argc; i++) {
        strcat(command, " ");
        strcat(command, argv[i]);
    }
    lir_error err;
    int rc = eval_run(&a, command, &err);
    free(command);
    return rc < 0 ? cli_error(&err) : 0;
}
