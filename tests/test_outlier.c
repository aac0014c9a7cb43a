/* test_outlier.c: outlier sources and mixtures: the spec parse (weights, errors), the
 * fixed split of a batch between parts, a photos + synthetic + dataset mixture that is
 * deterministic and resumes exactly from its saved position, the refusal of eval OOD
 * sets per part, and lir eval's refusal of a test set the network was trained on. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/data.h"
#include "image_fixture.h"
#include "train/train.h"

static void test_parse(void) {
    outlier_spec s;
    lir_error err;
    CHECK(outlier_parse("photos:0.7+synthetic:0.3", &s, &err) == 0 && s.n == 2 &&
              !strcmp(s.name[0], "photos") && fabsf(s.weight[0] - 0.7f) < 1e-6f,
          "weighted mixture parsed");
    CHECK(outlier_parse("photos+synthetic+svhn@noise0.1", &s, &err) == 0 && s.n == 3 &&
              fabsf(s.weight[2] - 1.0f / 3) < 1e-6f && !strcmp(s.name[2], "svhn@noise0.1"),
          "unweighted parts weigh the same");
    const char *bad[] = {"photos:0", "photos:x", "photos:-1+synthetic", "photos+photos", "+",
                         "a+b+c+d+e", "photos:"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(outlier_parse(bad[i], &s, &err) < 0 && strstr(err.msg, "config key 'outliers'"),
              "\"%s\" refused: %s", bad[i], err.msg);
    CHECK(outlier_check_name("photos+svhn", "cifar10", "mnist,svhn", &err) < 0 &&
              strstr(err.msg, "'svhn' is a test OOD set"),
          "an eval OOD set inside a mixture refused: %s", err.msg);
    CHECK(outlier_check_name("photos:2+cifar10@noise0.1", "cifar10", "", &err) < 0 &&
              strstr(err.msg, "in-distribution"),
          "the ID set inside a mixture refused");
    CHECK(outlier_check_name("photos+synthetic", "cifar10", "photos-test,textures", &err) == 0,
          "photos with photos-test in the evaluation is allowed (disjoint sets)");
}

/* A tiny ID set for the synthetic part. */
static dataset *tiny_id(void) {
    dataset *d = xcalloc(1, sizeof *d);
    d->n = 16, d->c = 3, d->h = d->w = 32, d->classes = 2;
    snprintf(d->name, sizeof d->name, "tiny");
    d->images = xmalloc(16 * 3072);
    d->labels = xmalloc(16 * sizeof(int));
    for (int i = 0; i < 16 * 3072; i++) d->images[i] = (uint8_t)(i * 7 % 251);
    for (int i = 0; i < 16; i++) d->labels[i] = i % 2;
    return d;
}

static void test_mixture(void) {
    sh("mkdir -p %s/photos/images", root);
    uint8_t *img = pattern(120, 90, 3);
    write_image("photos/images/p.jpg", img, 120, 90);
    free(img);
    sh("cd %s/photos && sha256sum images/p.jpg > MANIFEST", root);
    train_config c;
    config_defaults(&c);
    snprintf(c.data_dir, sizeof c.data_dir, "%s", root);
    snprintf(c.outliers, sizeof c.outliers, "photos:2+synthetic+gaussian");
    snprintf(c.outlier_split, sizeof c.outlier_split, "test");
    snprintf(c.eval_ood, sizeof c.eval_ood, "svhn");
    dataset *id = tiny_id();
    int idx[16];
    for (int i = 0; i < 16; i++) idx[i] = i;
    data_norm nm = {{0.5f, 0.5f, 0.5f}, {0.25f, 0.25f, 0.25f}};
    enum { B = 10, SZ = B * 3072 };
    lir_error err;
    outlier_source *o = outlier_open(&c, id, idx, 16, &nm, B, 42, NULL, &err);
    CHECK(o != NULL, "mixture opens: %s", o ? "" : err.msg);
    if (!o) return;
    float *ref = malloc(3 * SZ * sizeof(float)), *got = malloc(3 * SZ * sizeof(float));
    for (int k = 0; k < 3; k++) outlier_next(o, ref + (size_t)k * SZ);
    outlier_close(o);
    /* photos 5, synthetic 3 (2.5 -> 2 + remainder), gaussian 2: the gaussian part is
     * normalised images of mean 127.5, the photo part comes first */
    o = outlier_open(&c, id, idx, 16, &nm, B, 42, NULL, &err);
    outlier_pos pos;
    outlier_next(o, got);
    outlier_position(o, &pos);
    outlier_close(o);
    CHECK(!memcmp(got, ref, SZ * sizeof(float)), "same seed, same first batch");
    o = outlier_open(&c, id, idx, 16, &nm, B, 42, &pos, &err);
    CHECK(o != NULL, "reopened at the saved position");
    if (o) {
        outlier_next(o, got + SZ);
        outlier_next(o, got + 2 * SZ);
        outlier_close(o);
        CHECK(!memcmp(got + SZ, ref + SZ, 2 * SZ * sizeof(float)),
              "resumed from the saved position: the same batches 2 and 3");
    }
    CHECK(memcmp(ref, ref + SZ, SZ * sizeof(float)) != 0, "batches differ");
    o = outlier_open(&c, id, idx, 16, &nm, B, 43, NULL, &err);
    outlier_next(o, got);
    outlier_close(o);
    CHECK(memcmp(got, ref, 5 * 3072 * sizeof(float)) != 0, "another seed, other photo crops");
    snprintf(c.outliers, sizeof c.outliers, "photos:0.99+synthetic:0.01");
    CHECK(!outlier_open(&c, id, idx, 16, &nm, B, 42, NULL, &err) && strstr(err.msg, "gets no image"),
          "a part with no image per batch refused: %s", err.msg);
    free(ref);
    free(got);
    dataset_free(id);
}

static void test_eval_refusal(void) {
    char w[600];
    snprintf(w, sizeof w, "%s/net.weights.json", root);
    FILE *f = fopen(w, "w");
    fprintf(f, "{\"config\": {\"outliers\": \"photos:0.5+synthetic:0.5\"}}");
    fclose(f);
    snprintf(w, sizeof w, "%s/net.weights", root);
    lir_error err;
    CHECK(outlier_check_eval(w, "svhn, photos@jpeg75", &err) < 0 && strstr(err.msg, "photos@jpeg75") &&
              strstr(err.msg, "both outlier source and test set"),
          "eval on a set the network was trained on refused: %s", err.msg);
    CHECK(outlier_check_eval(w, "svhn,photos-test,synthetic", &err) == 0, "other sets pass");
    snprintf(w, sizeof w, "%s/none.weights", root);
    CHECK(outlier_check_eval(w, "photos", &err) == 0, "no sidecar: nothing known, passes");
}

int main(void) {
    if (!mkdtemp(root)) return 1;
    test_parse();
    test_mixture();
    test_eval_refusal();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    if (system(cmd)) return 1;
    return check_done("test_outlier");
}
