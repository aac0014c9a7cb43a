/* test_data_preproc.c: lir's batch conversion against torchvision. The fixture
 * (tests/fixtures/make_preproc_fixture.py) holds tiny CIFAR and IDX files and the
 * floats torchvision's ToTensor / repeat / Resize(32) / Normalize give for them. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "data/data.h"

static dataset *load_fixture(const char *path, int idx, lir_error *err) {
    size_t len;
    uint8_t *buf = data_read_file(path, &len, err);
    if (!buf) return NULL;
    dataset *d = xcalloc(1, sizeof *d);
    int rc = idx ? idx_parse_images(buf, len, path, d, err) : cifar_parse(buf, len, 0, path, d, err);
    free(buf);
    if (rc < 0) {
        dataset_free(d);
        return NULL;
    }
    return d;
}

int main(void) {
    lir_error err;
    dataset *c = load_fixture("tests/fixtures/preproc_cifar.bin", 0, &err);
    CHECK(c != NULL, "cifar fixture: %s", err.msg);
    dataset *g = load_fixture("tests/fixtures/preproc_idx3", 1, &err);
    CHECK(g != NULL, "idx fixture: %s", err.msg);
    size_t elen;
    float *want = (float *)data_read_file("tests/fixtures/preproc_expected.bin", &elen, &err);
    CHECK(want != NULL && elen == 10 * 3072 * sizeof(float), "expected floats: %s",
          want ? "wrong size" : err.msg);
    if (!c || !g || !want || elen != 10 * 3072 * sizeof(float)) return check_done("test_data_preproc");
    CHECK(c->n == 3 && c->labels[0] == 2 && c->labels[2] == 4, "cifar fixture labels");
    CHECK(g->n == 2 && g->c == 1 && g->h == 28 && g->w == 28, "idx fixture shape");

    const char *ids[2] = {"cifar10", "cifar100"};
    float out[3 * 3072];
    for (int k = 0; k < 2; k++) {
        data_norm nm;
        CHECK(data_norm_for(ids[k], &nm, &err) == 0, "norm %s", ids[k]);
        const float *w = want + (size_t)k * 5 * 3072;
        double worst = 0;
        int rev[3] = {2, 1, 0}; /* through an index list, reversed */
        dataset_batch(c, rev, 3, &nm, out);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3072; j++) {
                double e = fabs(out[i * 3072 + j] - w[rev[i] * 3072 + j]);
                if (e > worst) worst = e;
            }
        dataset_batch(g, NULL, 2, &nm, out);
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3072; j++) {
                double e = fabs(out[i * 3072 + j] - w[(3 + i) * 3072 + j]);
                if (e > worst) worst = e;
            }
        CHECK(worst <= 1e-5, "%s: max |lir - torchvision| = %g > 1e-5", ids[k], worst);
        fprintf(stderr, "%s normaliser: max |lir - torchvision| = %.3g\n", ids[k], worst);
    }
    /* The normaliser of a derived name is its base's; unknown names fail. */
    data_norm a, b;
    CHECK(data_norm_for("cifar10@jpeg75", &a, &err) == 0 && data_norm_for("cifar10", &b, &err) == 0 &&
              !memcmp(&a, &b, sizeof a), "derived name normaliser");
    CHECK(data_norm_for("imagenet", &a, &err) < 0 && strstr(err.msg, "cifar100"), "unknown norm: %s",
          err.msg);
    /* data_norm_compute on a constant image. */
    dataset k = {.n = 1, .c = 1, .h = 2, .w = 2};
    uint8_t px[4] = {51, 51, 51, 51};
    k.images = px;
    data_norm_compute(&k, &a);
    CHECK_CLOSE(a.mean[2], 0.2, 1e-6, 0, "computed mean");
    CHECK_CLOSE(a.std[0], 0.0, 1e-4, 0, "computed std");
    free(want);
    dataset_free(c);
    dataset_free(g);
    return check_done("test_data_preproc");
}
