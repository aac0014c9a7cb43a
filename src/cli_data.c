/* cli_data.c: `lir data`, inspecting datasets and measuring the input pipeline.
 *   lir data info NAME [--split S] [--dir D]      counts, shape, class counts, channel means
 *   lir data bench [NAME] [--dir D] [--batch B] [--batches K] [--seed S]
 *                                                  load time, batch conversion and augmented
 *                                                  loader throughput in images/s
 *   lir data sha256 FILE...                        SHA-256 of files */
#include <stdlib.h>
#include <string.h>

#include "data.h"

static void usage_to(FILE *f) {
    fprintf(f,
            "usage: lir data info NAME [--split train|test|extra] [--dir DIR]\n"
            "       lir data bench [NAME] [--dir DIR] [--batch 128] [--batches 400] [--seed 1]\n"
            "       lir data sha256 FILE...\n"
            "NAME: %s, optionally with @jpeg<q>, @noise<sigma>[s<seed>], @blur<sigma>\n"
            "DIR defaults to $LIR_DATA, else ./data\n",
            dataset_known_names());
}

static void usage(void) { usage_to(stderr); }

typedef struct {
    const char *name, *split, *dir;
    int batch, batches;
    unsigned long long seed;
} data_args;

static int parse_args(int argc, char **argv, data_args *a) {
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i];
        int has = i + 1 < argc;
        if (!strcmp(o, "--split") && has) a->split = argv[++i];
        else if (!strcmp(o, "--dir") && has) a->dir = argv[++i];
        else if (!strcmp(o, "--batch") && has) a->batch = atoi(argv[++i]);
        else if (!strcmp(o, "--batches") && has) a->batches = atoi(argv[++i]);
        else if (!strcmp(o, "--seed") && has) a->seed = strtoull(argv[++i], NULL, 10);
        else if (o[0] != '-' && !a->name) a->name = o;
        else {
            fprintf(stderr, "lir data: unexpected argument \"%s\"\n", o);
            return -1;
        }
    }
    if (a->batch < 1 || a->batches < 1) {
        fprintf(stderr, "lir data: --batch and --batches must be positive\n");
        return -1;
    }
    return 0;
}

static int data_info(const data_args *a) {
    lir_error err;
    dataset *d = dataset_load(a->name, a->split, a->dir, &err);
    if (!d) {
        fprintf(stderr, "lir data: %s\n", err.msg);
        return 1;
    }
    printf("dataset %s split %s dir %s: %d images, %dx%dx%d, %d classes\n", d->name, d->split,
           dataset_dir(a->dir), d->n, d->c, d->h, d->w, d->classes);
    int *cnt = xcalloc((size_t)d->classes, sizeof(int));
    for (int i = 0; i < d->n; i++) cnt[d->labels[i]]++;
    printf("class_counts");
    for (int k = 0; k < d->classes; k++) printf(" %d", cnt[k]);
    data_norm m;
    data_norm_compute(d, &m);
    printf("\nchannel_mean_255");
    for (int c = 0; c < d->c; c++) printf(" %.3f", 255.0 * m.mean[c]);
    printf("\nchannel_std_255");
    for (int c = 0; c < d->c; c++) printf(" %.3f", 255.0 * m.std[c]);
    printf("\n");
    free(cnt);
    dataset_free(d);
    return 0;
}

static int data_bench(const data_args *a) {
    lir_error err;
    const char *name = a->name ? a->name : "cifar10";
    double t0 = now_seconds();
    dataset *d = dataset_load(name, a->split, a->dir, &err);
    if (!d) {
        fprintf(stderr, "lir data: %s\n", err.msg);
        return 1;
    }
    double t_load = now_seconds() - t0;
    printf("load %s/%s: %d images in %.3f s (%.0f images/s)\n", name, a->split, d->n, t_load,
           d->n / t_load);
    data_norm nm;
    if (data_norm_for(name, &nm, &err) < 0) {
        fprintf(stderr, "lir data: %s\n", err.msg);
        dataset_free(d);
        return 1;
    }
    float *out = xmalloc((size_t)a->batch * 3 * 1024 * sizeof(float));
    int *labels = xmalloc((size_t)a->batch * sizeof(int));
    int *idx = xmalloc((size_t)a->batch * sizeof(int));
    /* Plain conversion (evaluation path), OpenMP over images. */
    t0 = now_seconds();
    long done = 0;
    for (int b = 0; b < a->batches; b++) {
        for (int i = 0; i < a->batch; i++) idx[i] = (int)(((long)b * a->batch + i) % d->n);
        dataset_batch(d, idx, a->batch, &nm, out);
        done += a->batch;
    }
    double t = now_seconds() - t0;
    printf("dataset_batch (normalise, batch %d): %ld images in %.3f s = %.0f images/s\n", a->batch,
           done, t, done / t);
    /* Augmented, shuffled stream from the background thread, as training sees it. */
    loader_opts opts = {.augment = 1, .shuffle = 1};
    t0 = now_seconds();
    loader *l = loader_start(d, NULL, 0, a->batch, &nm, opts, a->seed, 0, 0, &err);
    if (!l) {
        fprintf(stderr, "lir data: %s\n", err.msg);
        free(out), free(labels), free(idx);
        dataset_free(d);
        return 1;
    }
    done = 0;
    for (int b = 0; b < a->batches; b++) done += loader_next(l, out, labels);
    t = now_seconds() - t0;
    loader_stop(l);
    printf("loader (shuffle + crop 4 + flip + normalise, batch %d, 1 background thread): "
           "%ld images in %.3f s = %.0f images/s\n",
           a->batch, done, t, done / t);
    free(out);
    free(labels);
    free(idx);
    dataset_free(d);
    return 0;
}

int cmd_data(int argc, char **argv) {
    if (argc < 2) {
        usage();
        return 2;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h")) {
        usage_to(stdout);
        return 0;
    }
    if (sub[0] == '-') {
        fprintf(stderr, "lir data: unknown option '%s'\n", sub);
        usage();
        return 2;
    }
    if (!strcmp(sub, "sha256")) {
        if (argc < 3) {
            usage();
            return 2;
        }
        int rc = 0;
        for (int i = 2; i < argc; i++) {
            char hex[65];
            lir_error err;
            if (sha256_file(argv[i], hex, &err) < 0) {
                fprintf(stderr, "lir data: %s\n", err.msg);
                rc = 1;
                continue;
            }
            printf("%s  %s\n", hex, argv[i]);
        }
        return rc;
    }
    data_args a = {.split = NULL, .batch = 128, .batches = 400, .seed = 1};
    if (parse_args(argc - 2, argv + 2, &a) < 0) {
        usage();
        return 2;
    }
    if (!strcmp(sub, "info")) {
        if (!a.name) {
            usage();
            return 2;
        }
        if (!a.split) a.split = "test";
        return data_info(&a);
    }
    if (!strcmp(sub, "bench")) {
        if (!a.split) a.split = "train";
        return data_bench(&a);
    }
    usage();
    return 2;
}
