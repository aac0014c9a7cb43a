/* cmd_eval.c: `lir eval`: flags, the scoring passes, the fits on held-out ID training
 * images and their thresholds, and the reports (ood.h), written into a results
 * directory whole or not at all (atomic_dir). Loading: eval_inputs.c. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "eval_inputs.h"

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
    int k = eval_holdout_size(a, tr->n);
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
    if (in->fit_overlap) {
        size_t len = strlen(holdout);
        snprintf(holdout + len, hsize - len, "; the weights were trained on %ld of them "
                 "(--allow-fit-overlap)", in->fit_overlap);
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
    return eval_fit(r, pfit, err) < 0 ? -1 : eval_thresholds(r, pfit, pid, err);
}

static int save_energies(const eval_args *a, const eval_inputs *in, const eval_result *r,
                         const eval_pass *p, const char *what, lir_error *err) {
    if (!a->save_energies) return 0;
    char path[4400];
    snprintf(path, sizeof path, "%s/energies_%s_%s.csv", in->out.tmp, p->name, what);
    return eval_report_energies(path, r, p, err);
}

/* The console report as text (also console.txt), ending with the files written and the
 * three-line summary; caller frees. */
static char *console_text(const eval_args *a, const eval_result *r, const eval_info *info) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        fprintf(stderr, "lir: out of memory\n");
        exit(1);
    }
    eval_report_console(f, r, info);
    fprintf(f, "wrote %s: results.json, results.csv, fit.json, console.txt%s%s\n", a->outdir,
            a->plots ? ", auroc_scores_*.{png,svg,pdf}, auroc_heatmap_*.{png,svg,pdf}" : "",
            a->save_energies ? ", energies_*.csv" : "");
    eval_report_final(f, r, info);
    fclose(f);
    return text;
}

/* Every report into the temporary folder, then that folder in the place of --outdir;
 * the console report printed once it is there. */
static int write_reports(const eval_args *a, eval_inputs *in, const eval_result *r,
                         const eval_info *info, lir_error *err) {
    const char *dir = in->out.tmp;
    char path[4400];
    snprintf(path, sizeof path, "%s/results.json", dir);
    if (eval_report_json(path, r, info, err) < 0) return -1;
    snprintf(path, sizeof path, "%s/results.csv", dir);
    if (eval_report_csv(path, r, info, err) < 0) return -1;
    snprintf(path, sizeof path, "%s/fit.json", dir);
    if (eval_fit_write(path, r, info, err) < 0) return -1;
    if (a->plots && eval_report_plots(dir, r, info, err) < 0) return -1;
    char *text = console_text(a, r, info);
    atomic_file f;
    snprintf(path, sizeof path, "%s/console.txt", dir);
    int rc = atomic_open(&f, path, err);
    if (rc == 0) {
        fputs(text, f.f);
        rc = atomic_close(&f, err);
    }
    if (rc == 0) rc = atomic_dir_commit(&in->out, err);
    if (rc == 0) fputs(text, stdout);
    free(text);
    return rc;
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
    if (rc == 0) rc = save_energies(a, in, r, &p, "test", err);
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
        if (s->lazy && (eval_load_ood(a, in, i, err) < 0 ||
                        (in->ood[i] && eval_add_files(dir, s->name, "test", &in->files,
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
    char holdout[400];
    int rc = -1;
    if (atomic_dir_check(a->outdir, eval_output_name, err) < 0 || eval_inputs_load(a, &in, err) < 0 ||
        score_id(a, &in, &pid, &pfit, &r, holdout, sizeof holdout, err) < 0 ||
        atomic_dir_open(&in.out, a->outdir, eval_output_name, err) < 0 ||
        save_energies(a, &in, &r, &pid, "test", err) < 0 ||
        save_energies(a, &in, &r, &pfit, "holdout", err) < 0)
        goto done;
    eval_info info = {.command = command,
                      .cfg = a->cfg,
                      .cfg_sha256 = in.cfg_sha,
                      .weights = a->weights,
                      .weights_sha256 = in.w_sha,
                      .data_dir = dataset_dir(a->data),
                      .outdir = a->outdir,
                      .id_set = a->in,
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
    rc = write_reports(a, &in, &r, &info, err);
done:
    atomic_dir_abort(&in.out);
    eval_inputs_free(&in);
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

/* runs/eval-<in>-<weights>: the weights' file name without ".weights"; for the
 * final.weights of a `lir train` run, its folder's name before it ("<run>-final"). */
static void default_outdir(const eval_args *a, char *out, size_t size) {
    char w[256], parent[256] = "";
    const char *slash = strrchr(a->weights, '/');
    snprintf(w, sizeof w, "%s", slash ? slash + 1 : a->weights);
    size_t n = strlen(w);
    if (n > 8 && !strcmp(w + n - 8, ".weights")) w[n - 8] = 0;
    if (!strcmp(w, "final") && slash) {
        const char *p = slash;
        while (p > a->weights && p[-1] != '/') p--;
        snprintf(parent, sizeof parent, "%.*s-", (int)(slash - p), p);
        if (!strcmp(parent, ".-") || !strcmp(parent, "..-") || !strcmp(parent, "-")) parent[0] = 0;
    }
    /* each part at most 64 characters, so the name fits the caller's 256 */
    snprintf(out, size, "runs/eval-%.64s-%.64s%.64s", a->in, parent, w);
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
        default_outdir(a, odef, on);
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
        {"outdir", ARG_STR, &a->outdir, NULL,
         "output directory, written whole or not at all: an earlier run's directory is "
         "replaced at the end, a directory holding other files is refused", "<dir>",
         "runs/eval-<in>-<weights file name without .weights; for a run's final.weights: "
         "<run folder>-final>"},
        {"points", ARG_STR, &a->points, NULL,
         "the points scored, comma-separated: names as `lir info <cfg>` prints them, "
         "\"default\", \"all\"; the final layer's point is always scored", "<list>",
         "default (the cfg's default points)"},
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
         "name validation sets only (photos-val, clipart-val)",
         0, NULL},
        {"allow-fit-overlap", ARG_BOOL, &a->allow_fit_overlap, "0",
         "evaluate although the weights' sidecar says they were trained on some of the "
         "--holdout images (the fits then describe training images; results.json records "
         "how many)",
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
