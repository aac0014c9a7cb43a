/* cmd_predict.c: `lir predict <cfg> <weights> <images...>`: classifies PNG or JPEG
 * images (or, with --raw, already-normalised float32 NCHW tensors) and prints per input
 * the top class by name (the --in set's class names) and index, its softmax
 * probability and the logit-level energy E = -logsumexp(logits); with --fit (the
 * fit.json `lir eval` writes for the same cfg and weights) also an OOD verdict from an
 * ID-only score and its threshold, and with --energies every point's energy.
 *
 * Images must already have the network's input size (32x32 for the shipped cfgs):
 * predict does not resize, so what is classified is exactly the file's pixels.
 * Pixels are scaled to [0,1] and normalised with the chosen in-distribution set's
 * mean/std, as in training and evaluation (docs/method.md section 3). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ood/ood.h"

/* Reads count images into x ([count][3][h][w], normalised). */
static int read_images(char **files, int count, const net *n, const data_norm *norm, float *x,
                     lir_error *err) {
    size_t plane = (size_t)n->h * n->w;
    for (int i = 0; i < count; i++) {
        uint8_t *pix;
        int w, h;
        if (image_read(files[i], &pix, &w, &h, err)) return -1;
        if (w != n->w || h != n->h) {
            free(pix);
            return lir_fail(err,
                            "%s: image is %dx%d, the network takes %dx%d (predict does not "
                            "resize: resize the image first)",
                            files[i], w, h, n->w, n->h);
        }
        float *xi = x + (size_t)i * 3 * plane;
        for (int c = 0; c < 3; c++) {
            float scale = 1.0f / (255.0f * norm->std[c]);
            float shift = norm->mean[c] / norm->std[c];
            for (size_t p = 0; p < plane; p++)
                xi[c * plane + p] = (float)pix[c * plane + p] * scale - shift;
        }
        free(pix);
    }
    return 0;
}

/* Reads a raw float32 file of count samples of the net's input shape; count 0: as
 * many as the file holds (it must hold a whole number of samples). */
static float *read_raw(const char *path, int *count, const net *n, lir_error *err) {
    size_t len;
    char *bytes = file_read_all(path, &len, err);
    if (!bytes) return NULL;
    size_t sample = (size_t)n->c * n->h * n->w * sizeof(float);
    if (*count == 0) {
        if (len == 0 || len % sample) {
            lir_fail(err,
                     "%s: %zu bytes is not a whole number of %dx%dx%d float32 samples "
                     "(%zu bytes each)",
                     path, len, n->c, n->h, n->w, sample);
            free(bytes);
            return NULL;
        }
        *count = (int)(len / sample);
    } else if (len != (size_t)*count * sample) {
        lir_fail(err, "%s: expected %d samples of %dx%dx%d float32 = %zu bytes, file has %zu",
                 path, *count, n->c, n->h, n->w, (size_t)*count * sample, len);
        free(bytes);
        return NULL;
    }
    float *x = xmalloc(len);
    memcpy(x, bytes, len);
    free(bytes);
    for (size_t i = 0; i < len / sizeof(float); i++)
        if (!isfinite(x[i])) {
            lir_fail(err, "%s: offset %zu (sample %zu): value %g is not finite", path,
                     i * sizeof(float), i * sizeof(float) / sample, x[i]);
            free(x);
            return NULL;
        }
    return x;
}

/* The label of output k: the set's class name when the network has exactly the set's
 * classes, else the index. */
static const char *class_label(const char *set, int classes, int k, char *buf, size_t n) {
    int named = dataset_class_name(set, classes - 1) && !dataset_class_name(set, classes);
    const char *name = named ? dataset_class_name(set, k) : NULL;
    if (name) return name;
    snprintf(buf, n, "%d", k);
    return buf;
}


/* What is printed besides the class. */
typedef struct {
    const char *set;    /* class names and (without a fit) normalisation */
    const ood_fit *fit; /* NULL: no verdict */
    int score;          /* the verdict's score, EVAL_MAIN_FC .. EVAL_MAIN_MAHAL */
    int energies;       /* print every point's energy */
} predict_opts;

/* The hooks the output needs: the fit's points (checked against the network), or the
 * default points for --energies; none otherwise. */
static int predict_hooks(net *n, const predict_opts *o, const char *cfg, const char *fit_path,
                         lir_error *err) {
    if (!o->fit) {
        if (o->energies) net_hook_all(n);
        return 0;
    }
    const ood_fit *f = o->fit;
    if (n->classes != f->classes)
        return lir_fail(err, "--fit %s: fitted for %d classes, the network has %d", fit_path,
                        f->classes, n->classes);
    size_t len = 1;
    for (int k = 0; k < f->L; k++) len += strlen(f->names[k]) + 1;
    char *list = xcalloc(len, 1);
    for (int k = 0; k < f->L; k++) {
        if (k) strcat(list, ",");
        strcat(list, f->names[k]);
    }
    int rc = net_hook_points(n, list, err);
    free(list);
    if (rc < 0) return lir_fail(err, "--fit %s does not fit %s: %s", fit_path, cfg, err->msg);
    int same = n->n_hooks == f->L;
    for (int k = 0; same && k < f->L; k++)
        same = !strcmp(n->points[n->hooks[k].point].name, f->names[k]);
    if (!same)
        return lir_fail(err, "--fit %s: its %d points are not in %s's network order (or the "
                        "logits' point is missing)", fit_path, f->L, cfg);
    return 0;
}

/* Prints sample b's line: input, class, index, probability, energy, verdict; then with
 * --energies every point's energy (and direction-free score). e: its energies [L]. */
static void print_sample(const net *n, const predict_opts *o, const char *input, int b,
                         const float *e, float energy, float score) {
    const float *l = net_logits(n) + (size_t)b * n->classes;
    char esc[512], buf[16];
    int top = vec_argmax(l, n->classes);
    double prob = exp((double)l[top] + energy); /* softmax: e^(l - logsumexp) */
    printf("%s\t%s\t%d\t%.6f\t%.6f", lir_escape(input, esc, sizeof esc),
           class_label(o->set, n->classes, top, buf, sizeof buf), top, prob, energy);
    if (o->fit)
        printf("\tOOD: %s (%s score %.6g, threshold %.6g)",
               score > o->fit->threshold[o->score] ? "yes" : "no",
               eval_main_scores[o->score].title, score, o->fit->threshold[o->score]);
    printf("\n");
    for (int k = 0; o->energies && k < n->n_hooks; k++) {
        printf("  %-28s E = %.6f", n->points[n->hooks[k].point].name, e[k]);
        if (o->fit) {
            float z;
            dirfree_score(&o->fit->dirfree[k], &e[k], 1, &z);
            printf("  dirfree = %.4f", z);
        }
        printf("\n");
    }
}

/* Runs count samples of x through n in batches and prints them; refuses (before
 * printing that sample) an output that is not finite. */
static int classify(net *n, const float *x, int count, char **names, const char *raw,
                    const predict_opts *o, lir_error *err) {
    int rc = 0, L = n->n_hooks;
    size_t in = (size_t)n->c * n->h * n->w;
    float *batch = xcalloc((size_t)n->batch * in, sizeof *batch);
    float *energy = xmalloc((size_t)n->batch * sizeof *energy);
    float *e = xmalloc((size_t)n->batch * (L ? L : 1) * sizeof *e);
    float *score = xcalloc((size_t)n->batch, sizeof *score);
    printf("input\tclass\tindex\tprob\tenergy%s\n", o->fit ? "\tverdict" : "");
    for (int start = 0; start < count && !rc; start += n->batch) {
        int m = count - start < n->batch ? count - start : n->batch;
        memcpy(batch, x + (size_t)start * in, (size_t)m * in * sizeof *batch);
        memset(batch + (size_t)m * in, 0, (size_t)(n->batch - m) * in * sizeof *batch);
        net_forward(n, batch, 0);
        energy_forward(net_logits(n), n->batch, n->classes, energy);
        for (int b = 0; b < m; b++)
            for (int k = 0; k < L; k++) e[(size_t)b * L + k] = n->hooks[k].energy[b];
        if (o->fit) rc = ood_fit_score(o->fit, o->score, e, (size_t)m, score, err);
        for (int b = 0; b < m && !rc; b++) {
            char what[600];
            if (raw) snprintf(what, sizeof what, "%s:%d", raw, start + b);
            else snprintf(what, sizeof what, "%s", names[start + b]);
            if (!isfinite(energy[b]) || (o->fit && !isfinite(score[b])))
                rc = lir_fail(err, "%s%s: the network's output is not finite (do the weights "
                              "hold NaN or inf values?)", raw ? "sample " : "", what);
            else
                print_sample(n, o, what, b, e + (size_t)b * L, energy[b], score[b]);
        }
    }
    free(batch);
    free(energy);
    free(e);
    free(score);
    return rc;
}

/* --raw: samples from a float32 file; opt->batch is set here. */
static int predict_raw(const char *cfg, const char *weights, const char *raw, int count,
                       int batch, net_options *opt, const predict_opts *o, const char *fit,
                       lir_error *err) {
    /* the sample count decides the batch and needs the cfg's input shape: build once
     * with batch 1 to learn it */
    net *probe = net_load_cfg(cfg, opt, err);
    if (!probe) return -1;
    float *x = read_raw(raw, &count, probe, err);
    net_free(probe);
    if (!x) return -1;
    opt->batch = count < batch ? count : batch;
    net *n = net_load_cfg(cfg, opt, err);
    int rc = !n || net_load_weights(n, weights, err) || predict_hooks(n, o, cfg, fit, err) ? -1 : 0;
    if (rc == 0) rc = classify(n, x, count, NULL, raw, o, err);
    net_free(n);
    free(x);
    return rc;
}

static int predict_images(const char *cfg, const char *weights, char **files, int nfiles,
                          net_options *opt, const data_norm *norm, const predict_opts *o,
                          const char *fit, lir_error *err) {
    net *n = net_load_cfg(cfg, opt, err);
    if (!n) return -1;
    if (n->c != 3) {
        int c = n->c;
        net_free(n);
        return lir_fail(err, "%s: network input has %d channels; image input is RGB (3)", cfg, c);
    }
    float *x = xmalloc((size_t)nfiles * 3 * n->h * n->w * sizeof *x);
    int rc = net_load_weights(n, weights, err) || predict_hooks(n, o, cfg, fit, err) ||
             read_images(files, nfiles, n, norm, x, err);
    if (!rc) rc = classify(n, x, nfiles, files, NULL, o, err);
    net_free(n);
    free(x);
    return rc ? -1 : 0;
}

/* One file's sha256 against the one the fit recorded. */
static int same_file(const char *fit_path, const char *what, const char *path,
                     const char *recorded, const char *sha, lir_error *err) {
    char mine[65];
    if (sha256_file(path, mine, err) < 0) return -1;
    if (!strcmp(mine, sha)) return 0;
    return lir_fail(err, "--fit %s was fitted for the %s %s (sha256 %.12s...), not for %s "
                    "(sha256 %.12s...): `lir eval` of this cfg and these weights writes the "
                    "fit.json that goes with them", fit_path, what, recorded, sha, path, mine);
}

/* Loads --fit and checks it against the cfg, the weights and --in (NULL: the fit's). */
static int fit_open(ood_fit *f, const char *path, const char *cfg, const char *weights,
                    const char **set, lir_error *err) {
    if (ood_fit_load(f, path, err) < 0) return -1;
    char base[32];
    if (*set) dataset_base_name(*set, base, sizeof base);
    if (same_file(path, "weights", weights, f->weights, f->weights_sha256, err) < 0 ||
        same_file(path, "cfg", cfg, f->cfg, f->cfg_sha256, err) < 0 ||
        (*set && strcmp(base, f->id_set) &&
         lir_fail(err, "--in %s, but --fit %s was fitted with ID set %s (its normalisation): "
                  "leave --in out or pass --in %s", *set, path, f->id_set, f->id_set) < 0)) {
        ood_fit_free(f);
        return -1;
    }
    if (f->jpeg_all)
        fprintf(stderr, "lir predict: note: %s was fitted on images through a JPEG quality %d "
                "round trip (lir eval --jpeg-all); the files here are classified as they are\n",
                path, f->jpeg_all);
    *set = f->id_set;
    return 0;
}

int cmd_predict(int argc, char **argv) {
    const char *set, *raw, *fit_path, *score;
    int classes, count, batch, energies;
    uint64_t max_mem;
    const arg_spec specs[] = {
        {"in", ARG_CHOICE, &set, NULL,
         "in-distribution set: its mean/std normalise the pixels, its class names label the "
         "outputs", "cifar10|cifar100|svhn|mnist|fashionmnist", "the --fit's ID set, else cifar10"},
        {"classes", ARG_INT, &classes, "0",
         "outputs of the last [connected] layer (0: the --fit's, else the cfg's)", NULL, NULL},
        {"raw", ARG_STR, &raw, NULL,
         "read already-normalised float32 NCHW samples from this file instead of images",
         "<file>", "none: image files"},
        {"n", ARG_INT, &count, "0", "samples in the --raw file (0: all it holds)", NULL, NULL},
        {"batch", ARG_INT, &batch, "64", "largest batch per forward pass", NULL, NULL},
        {"fit", ARG_STR, &fit_path, NULL,
         "the fit.json `lir eval` wrote for this cfg and these weights: adds an OOD verdict "
         "(score above the threshold that accepts 95% of held-out ID images)", "<file>",
         "none: no verdict"},
        {"score", ARG_CHOICE, &score, "agebo",
         "the verdict's score (with --fit): agebo = Ag-EBO Mahalanobis, zsum, zabs, dirfree "
         "(at fc), fc (raw energy)", "agebo|zsum|zabs|dirfree|fc", NULL},
        {"energies", ARG_BOOL, &energies, "0",
         "print every point's energy under each input (the --fit's points with their "
         "direction-free scores, else the default points)", NULL, NULL},
        CLI_MAX_MEMORY_SPEC(&max_mem),
    };
    const arg_cmd cmd = {"predict", "<cfg> <weights> <images (PNG or JPEG)...>",
                         "classify images: top class, its probability, logit energy; with "
                         "--fit an OOD verdict", 2, -1, specs, sizeof specs / sizeof specs[0]};
    char *pos[argc > 0 ? argc : 1];
    int npos;
    int rc = args_parse(&cmd, argc, argv, pos, &npos);
    if (rc != ARGS_RUN) return rc;
    if (image_sniff(pos[1]) != IMAGE_UNKNOWN) {
        fprintf(stderr, "lir predict: %s is an image, not a weights file: the weights are "
                        "missing (lir predict <cfg> <weights> <images...>)\n", pos[1]);
        return 2;
    }
    int nfiles = npos - 2;
    if (raw ? nfiles != 0 : nfiles == 0) {
        fprintf(stderr, "lir predict: give either image files or --raw FILE (not both)\n");
        args_usage(&cmd, stderr);
        return 2;
    }
    lir_error err;
    if (classes < 0 || count < 0 || batch < 1) {
        lir_fail(&err, "--classes and --n must be >= 0, --batch >= 1");
        return cli_error("predict", &err);
    }
    ood_fit fit = {0};
    predict_opts o = {NULL, fit_path ? &fit : NULL, 0, energies};
    if (compare_score_parse(score, &o.score, &err) < 0 ||
        (fit_path && fit_open(&fit, fit_path, pos[0], pos[1], &set, &err) < 0))
        return cli_error("predict", &err);
    o.set = set ? set : "cifar10";
    data_norm norm = fit.norm;
    if (!fit_path && data_norm_for(o.set, &norm, &err)) return cli_error("predict", &err);
    net_set_max_memory(max_mem);
    net_options opt = {.batch = 1, .classes = classes ? classes : fit.classes, .seed = 1};
    if (raw) {
        rc = predict_raw(pos[0], pos[1], raw, count, batch, &opt, &o, fit_path, &err);
    } else {
        opt.batch = nfiles < batch ? nfiles : batch;
        rc = predict_images(pos[0], pos[1], pos + 2, nfiles, &opt, &norm, &o, fit_path, &err);
    }
    ood_fit_free(&fit);
    return rc ? cli_error("predict", &err) : 0;
}
