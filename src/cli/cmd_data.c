/* cmd_data.c: `lir data`, inspecting datasets and measuring the input pipeline.
 *   lir data info NAME [--split S] [--data D]     counts, shape, class counts, channel means;
 *                                                  for image-file sets also the files kept,
 *                                                  their sizes, the pack and sha256s
 *   lir data bench [NAME] [--data D] [--batch B] [--batches K] [--seed S]
 *                                                  load time, batch conversion and augmented
 *                                                  loader throughput in images/s
 *   lir data sha256 FILE...                        SHA-256 of files */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "data/data.h"

typedef struct {
    const char *name, *split, *dir;
    int batch, batches, seed;
} data_args;

static void data_usage(FILE *f) {
    fprintf(f,
            "usage: lir data info <name> [--split S] [--data DIR]\n"
            "       lir data bench [<name>] [--split train] [--data DIR] [--batch 128]\n"
            "                      [--batches 400] [--seed 1]\n"
            "       lir data sha256 <file>...\n"
            "  lir data <subcommand> --help lists its flags with their defaults.\n"
            "  <name>: %s, optionally with @jpeg<q>, @noise<sigma>[s<seed>], @blur<sigma>\n"
            "  DIR defaults to $LIR_DATA, else ./data\n",
            dataset_known_names());
}

/* Parses the flags of `lir data info|bench` (argv[0] is the subcommand); the loader
 * flags belong to bench only. */
static int data_parse(int argc, char **argv, data_args *a) {
    int info = !strcmp(argv[0], "info");
    a->batch = 128, a->batches = 400, a->seed = 1;
    const arg_spec specs[] = {
        {"split", ARG_STR, &a->split, info ? NULL : "train",
         "split: train, test (extra for svhn)", "<split>",
         "train for tinyimages300k and photos, else test"},
        {"data", ARG_STR, &a->dir, NULL, "data directory", "<dir>", "$LIR_DATA, else ./data"},
        {"batch", ARG_INT, &a->batch, "128", "images per batch", NULL, NULL},
        {"batches", ARG_INT, &a->batches, "400", "batches timed", NULL, NULL},
        {"seed", ARG_INT, &a->seed, "1", "loader seed", NULL, NULL},
    };
    const arg_cmd cmd = {info ? "data info" : "data bench", info ? "<name>" : "[<name>]",
                         info ? "image count, shape, class counts and channel means of a dataset"
                              : "time loading, batch conversion and the augmenting loader",
                         info ? 1 : 0, 1, specs, info ? 2 : (int)(sizeof specs / sizeof specs[0])};
    char *pos[argc > 0 ? argc : 1];
    int npos;
    int rc = args_parse(&cmd, argc, argv, pos, &npos);
    if (rc != ARGS_RUN) return rc;
    if (a->batch < 1 || a->batches < 1) {
        fprintf(stderr, "lir data: --batch and --batches must be positive\n");
        return 2;
    }
    a->name = npos ? pos[0] : "cifar10";
    if (!a->split) a->split = dataset_default_split(a->name);
    return ARGS_RUN;
}

/* For the sets made of image files: files kept, their sizes, the pack and checksums. */
static int pack_info(const data_args *a) {
    char base[32];
    snprintf(base, sizeof base, "%.*s", (int)strcspn(a->name, "@"), a->name);
    if (!imageset_files_folder(base) && strcmp(base, "dtd")) return 0;
    lir_error err;
    image_pack *p = imageset_open(base, a->dir, &err);
    if (!p) return cli_error("data", &err);
    int lo = 0, hi = 0;
    double px = 0;
    for (int i = 0; i < p->n; i++) {
        const pack_image *m = &p->img[i];
        double ar = (double)m->src_w * m->src_h;
        px += ar;
        if (ar < (double)p->img[lo].src_w * p->img[lo].src_h) lo = i;
        if (ar > (double)p->img[hi].src_w * p->img[hi].src_h) hi = i;
    }
    printf("images %d kept, %d skipped (shorter side under %d px); source sizes %dx%d to %dx%d, "
           "%.1f megapixels in all\n", p->n, p->skipped, p->spec.min_side, p->img[lo].src_w,
           p->img[lo].src_h, p->img[hi].src_w, p->img[hi].src_h, px / 1e6);
    char sha[65], files[1][DATASET_PATH];
    printf("pack %s: %s, %zu pixel bytes", p->path,
           p->spec.mode == PACK_SHORT ? "shorter side <= 256 px" : "32x32 centre crops",
           p->pix_bytes);
    if (p->cached && sha256_file(p->path, sha, NULL) == 0) printf(", sha256 %s", sha);
    printf("%s\n", p->built ? (p->cached ? " (built now)" : " (built now, could not be saved)")
                             : "");
    if (dataset_files(base, dataset_default_split(base), a->dir, files, 1) == 1 &&
        strstr(files[0], "MANIFEST") && sha256_file(files[0], sha, NULL) == 0)
        printf("manifest %s: sha256 %s (it lists each image file's sha256)\n", files[0], sha);
    image_pack_free(p);
    return 0;
}

static int data_info(const data_args *a) {
    lir_error err;
    dataset *d = dataset_load(a->name, a->split, a->dir, &err);
    if (!d) {
        return cli_error("data", &err);
    }
    printf("dataset %s split %s dir %s: %d images, %dx%dx%d, %d classes\n", d->name, d->split,
           dataset_dir(a->dir), d->n, d->c, d->h, d->w, d->classes);
    if (d->note[0]) printf("note %s\n", d->note);
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
    return pack_info(a);
}

static int data_bench(const data_args *a) {
    lir_error err;
    const char *name = a->name;
    double t0 = now_seconds();
    dataset *d = dataset_load(name, a->split, a->dir, &err);
    if (!d) {
        return cli_error("data", &err);
    }
    double t_load = now_seconds() - t0;
    printf("load %s/%s: %d images in %.3f s (%.0f images/s)\n", name, a->split, d->n, t_load,
           d->n / t_load);
    data_norm nm;
    if (data_norm_for(name, &nm, &err) < 0) {
        cli_error("data", &err);
        dataset_free(d);
        return 1;
    }
    float *out = xmalloc((size_t)a->batch * DATA_IMG * sizeof(float));
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
        cli_error("data", &err);
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
        data_usage(stderr);
        return 2;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h")) {
        data_usage(stdout);
        return 0;
    }
    if (!strcmp(sub, "sha256")) {
        if (argc == 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
            printf("usage: lir data sha256 <file>...\n  SHA-256 of each file, as sha256sum "
                   "prints it\n");
            return 0;
        }
        if (argc < 3) {
            data_usage(stderr);
            return 2;
        }
        int rc = 0;
        for (int i = 2; i < argc; i++) {
            char hex[65], esc[1024];
            lir_error err;
            if (sha256_file(argv[i], hex, &err) < 0) {
                rc = cli_error("data", &err);
                continue;
            }
            printf("%s  %s\n", hex, lir_escape(argv[i], esc, sizeof esc));
        }
        return rc;
    }
    if (strcmp(sub, "info") && strcmp(sub, "bench")) {
        char esc[256];
        fprintf(stderr, "lir data: unknown %s '%s'\n", sub[0] == '-' ? "option" : "subcommand",
                lir_escape(sub, esc, sizeof esc));
        data_usage(stderr);
        return 2;
    }
    data_args a;
    int rc = data_parse(argc - 1, argv + 1, &a);
    if (rc != ARGS_RUN) return rc;
    return !strcmp(sub, "info") ? data_info(&a) : data_bench(&a);
}
