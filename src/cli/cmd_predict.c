/* cmd_predict.c: `lir predict <cfg> <weights> <images...>`: classifies PNG or JPEG
 * images (or, with --raw, already-normalised float32 NCHW tensors) and prints per input
 * the top class by name (the --in set's class names) and index, its softmax
 * probability and the logit-level energy E = -logsumexp(logits).
 *
 * Images must already have the network's input size (32x32 for the shipped cfgs):
 * predict does not resize, so what is classified is exactly the file's pixels.
 * Pixels are scaled to [0,1] and normalised with the chosen in-distribution set's
 * mean/std, as in training and evaluation (docs/method.md section 3). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "data/data.h"
#include "nn/nn.h"

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

/* Runs count samples of x through n in batches and prints one line per sample;
 * refuses (before printing that sample) an output that is not finite. */
static int classify(net *n, const float *x, int count, char **names, const char *raw,
                    const char *set, lir_error *err) {
    int rc = 0;
    size_t in = (size_t)n->c * n->h * n->w;
    float *batch = xcalloc((size_t)n->batch * in, sizeof *batch);
    float *energy = xmalloc((size_t)n->batch * sizeof *energy);
    char buf[16];
    printf("input\tclass\tindex\tprob\tenergy\n");
    for (int start = 0; start < count && !rc; start += n->batch) {
        int m = count - start < n->batch ? count - start : n->batch;
        memcpy(batch, x + (size_t)start * in, (size_t)m * in * sizeof *batch);
        memset(batch + (size_t)m * in, 0, (size_t)(n->batch - m) * in * sizeof *batch);
        net_forward(n, batch, 0);
        const float *logits = net_logits(n);
        energy_forward(logits, n->batch, n->classes, energy);
        for (int b = 0; b < m && !rc; b++) {
            const float *l = logits + (size_t)b * n->classes;
            char esc[512];
            if (!isfinite(energy[b])) {
                char what[64] = "";
                if (raw) snprintf(what, sizeof what, " (sample %d)", start + b);
                rc = lir_fail(err, "%s%s: the network's output is not finite (do the weights "
                              "hold NaN or inf values?)", raw ? raw : names[start + b], what);
                break;
            }
            int top = vec_argmax(l, n->classes);
            double prob = exp((double)l[top] + energy[b]); /* softmax: e^(l - logsumexp) */
            const char *label = class_label(set, n->classes, top, buf, sizeof buf);
            if (raw) printf("%s:%d", lir_escape(raw, esc, sizeof esc), start + b);
            else printf("%s", lir_escape(names[start + b], esc, sizeof esc));
            printf("\t%s\t%d\t%.6f\t%.6f\n", label, top, prob, energy[b]);
        }
    }
    free(batch);
    free(energy);
    return rc;
}

/* --raw: samples from a float32 file; opt->batch is set here. */
static int predict_raw(const char *cfg, const char *weights, const char *raw, int count,
                       int batch, net_options *opt, const char *set, lir_error *err) {
    /* the sample count decides the batch and needs the cfg's input shape: build once
     * with batch 1 to learn it */
    net *probe = net_load_cfg(cfg, opt, err);
    if (!probe) return -1;
    float *x = read_raw(raw, &count, probe, err);
    net_free(probe);
    if (!x) return -1;
    opt->batch = count < batch ? count : batch;
    net *n = net_load_cfg(cfg, opt, err);
    int rc = !n || net_load_weights(n, weights, err) ? -1 : 0;
    if (rc == 0) rc = classify(n, x, count, NULL, raw, set, err);
    net_free(n);
    free(x);
    return rc;
}

static int predict_images(const char *cfg, const char *weights, char **files, int nfiles,
                          net_options *opt, const data_norm *norm, const char *set,
                          lir_error *err) {
    net *n = net_load_cfg(cfg, opt, err);
    if (!n) return -1;
    if (n->c != 3) {
        int c = n->c;
        net_free(n);
        return lir_fail(err, "%s: network input has %d channels; image input is RGB (3)", cfg, c);
    }
    float *x = xmalloc((size_t)nfiles * 3 * n->h * n->w * sizeof *x);
    int rc = net_load_weights(n, weights, err) || read_images(files, nfiles, n, norm, x, err);
    if (!rc) rc = classify(n, x, nfiles, files, NULL, set, err);
    net_free(n);
    free(x);
    return rc ? -1 : 0;
}

int cmd_predict(int argc, char **argv) {
    const char *norm_name, *raw;
    int classes, count, batch;
    uint64_t max_mem;
    const arg_spec specs[] = {
        {"in", ARG_CHOICE, &norm_name, "cifar10",
         "in-distribution set: its mean/std normalise the pixels, its class names label the "
         "outputs", "cifar10|cifar100|svhn|mnist|fashionmnist", NULL},
        {"classes", ARG_INT, &classes, "0", "outputs of the last [connected] layer (0: the cfg's)",
         NULL, NULL},
        {"raw", ARG_STR, &raw, NULL,
         "read already-normalised float32 NCHW samples from this file instead of images",
         "<file>", "none: image files"},
        {"n", ARG_INT, &count, "0", "samples in the --raw file (0: all it holds)", NULL, NULL},
        {"batch", ARG_INT, &batch, "64", "largest batch per forward pass", NULL, NULL},
        CLI_MAX_MEMORY_SPEC(&max_mem),
    };
    const arg_cmd cmd = {"predict", "<cfg> <weights> <images (PNG or JPEG)...>",
                         "classify images: top class, its probability, logit energy", 2, -1,
                         specs, sizeof specs / sizeof specs[0]};
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
    data_norm norm;
    if (data_norm_for(norm_name, &norm, &err)) return cli_error("predict", &err);
    net_set_max_memory(max_mem);
    net_options opt = {.batch = 1, .classes = classes, .train = 0, .seed = 1};
    if (raw) rc = predict_raw(pos[0], pos[1], raw, count, batch, &opt, norm_name, &err);
    else {
        opt.batch = nfiles < batch ? nfiles : batch;
        rc = predict_images(pos[0], pos[1], pos + 2, nfiles, &opt, &norm, norm_name, &err);
    }
    return rc ? cli_error("predict", &err) : 0;
}
