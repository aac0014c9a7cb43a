/* cmd_predict.c: `lir predict <cfg> <weights> <files...>`: classifies PNG images
 * (or, with --raw, already-normalised float32 NCHW tensors) and prints per input
 * the top class, its softmax probability and the logit-level energy
 * E = -logsumexp(logits).
 *
 * PNGs must already have the network's input size (32x32 for the shipped cfgs):
 * predict does not resize, so what is classified is exactly the file's pixels.
 * Pixels are scaled to [0,1] and normalised with the chosen in-distribution set's
 * mean/std, as in training and evaluation (METHOD.md). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "data/data.h"
#include "nn/nn.h"

/* Reads count PNGs into x ([count][3][h][w], normalised). */
static int read_pngs(char **files, int count, const net *n, const data_norm *norm, float *x,
                     lir_error *err) {
    size_t plane = (size_t)n->h * n->w;
    for (int i = 0; i < count; i++) {
        uint8_t *pix;
        int w, h;
        if (image_read_png(files[i], &pix, &w, &h, err)) return -1;
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
    return x;
}

/* Runs count samples of x through n in batches and prints one line per sample. */
static void classify(net *n, const float *x, int count, char **names, const char *raw) {
    size_t in = (size_t)n->c * n->h * n->w;
    float *batch = xcalloc((size_t)n->batch * in, sizeof *batch);
    float *energy = xmalloc((size_t)n->batch * sizeof *energy);
    printf("input\tclass\tprob\tenergy\n");
    for (int start = 0; start < count; start += n->batch) {
        int m = count - start < n->batch ? count - start : n->batch;
        memcpy(batch, x + (size_t)start * in, (size_t)m * in * sizeof *batch);
        memset(batch + (size_t)m * in, 0, (size_t)(n->batch - m) * in * sizeof *batch);
        net_forward(n, batch, 0);
        const float *logits = net_logits(n);
        energy_forward(logits, n->batch, n->classes, energy);
        for (int b = 0; b < m; b++) {
            const float *l = logits + (size_t)b * n->classes;
            int top = vec_argmax(l, n->classes);
            double prob = exp((double)l[top] + energy[b]); /* softmax: e^(l - logsumexp) */
            if (raw)
                printf("%s:%d\t%d\t%.6f\t%.6f\n", raw, start + b, top, prob, energy[b]);
            else
                printf("%s\t%d\t%.6f\t%.6f\n", names[start + b], top, prob, energy[b]);
        }
    }
    free(batch);
    free(energy);
}

int cmd_predict(int argc, char **argv) {
    const char *norm_name, *raw;
    int classes, count, batch;
    const arg_spec specs[] = {
        {"norm", ARG_CHOICE, &norm_name, "cifar10",
         "in-distribution set whose mean/std normalise the PNG pixels", "cifar10|cifar100"},
        {"classes", ARG_INT, &classes, "0", "outputs of the last [connected] layer (0: the cfg's)",
         NULL},
        {"raw", ARG_STR, &raw, NULL,
         "read already-normalised float32 NCHW samples from this file instead of PNGs", NULL},
        {"n", ARG_INT, &count, "0", "samples in the --raw file (0: all it holds)", NULL},
        {"batch", ARG_INT, &batch, "64", "largest batch per forward pass", NULL},
    };
    const arg_cmd cmd = {"predict", "<cfg> <weights> <files.png...>",
                         "classify images: top class, its probability, logit energy", 2, -1,
                         specs, sizeof specs / sizeof specs[0]};
    char *pos[argc > 0 ? argc : 1];
    int npos;
    int rc = args_parse(&cmd, argc, argv, pos, &npos);
    if (rc != ARGS_RUN) return rc;
    int nfiles = npos - 2;
    if (raw ? nfiles != 0 : nfiles == 0) {
        fprintf(stderr, "lir predict: give either PNG files or --raw FILE (not both)\n");
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

    /* The input count decides the batch; the raw count needs the cfg's input shape,
     * so build once with batch 1 only to learn it when needed. */
    net_options opt = {.batch = 1, .classes = classes, .train = 0, .seed = 1};
    if (raw) {
        net *probe = net_load_cfg(pos[0], &opt, &err);
        if (!probe) return cli_error("predict", &err);
        float *x = read_raw(raw, &count, probe, &err);
        net_free(probe);
        if (!x) return cli_error("predict", &err);
        opt.batch = count < batch ? count : batch;
        net *n = net_load_cfg(pos[0], &opt, &err);
        if (!n || net_load_weights(n, pos[1], &err)) {
            if (n) net_free(n);
            free(x);
            return cli_error("predict", &err);
        }
        classify(n, x, count, NULL, raw);
        net_free(n);
        free(x);
        return 0;
    }
    opt.batch = nfiles < batch ? nfiles : batch;
    net *n = net_load_cfg(pos[0], &opt, &err);
    if (!n) return cli_error("predict", &err);
    if (n->c != 3) {
        lir_fail(&err, "%s: network input has %d channels; PNG input is RGB (3)", pos[0], n->c);
        net_free(n);
        return cli_error("predict", &err);
    }
    float *x = xmalloc((size_t)nfiles * 3 * n->h * n->w * sizeof *x);
    if (net_load_weights(n, pos[1], &err) || read_pngs(pos + 2, nfiles, n, &norm, x, &err)) {
        net_free(n);
        free(x);
        return cli_error("predict", &err);
    }
    classify(n, x, nfiles, pos + 2, NULL);
    net_free(n);
    free(x);
    return 0;
}
