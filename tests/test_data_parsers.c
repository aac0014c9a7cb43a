/* test_data_parsers.c: the dataset loaders on tiny files in each official format
 * (CIFAR-10/100 binary, IDX plain and gzipped, SVHN MAT from scipy and hand-made
 * in both byte orders), loading by name from a data directory, and the error
 * messages for bad or missing input. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "data/data.h"

static char root[] = "/tmp/lir_test_dataXXXXXX";

static void write_file(const char *rel, const void *p, size_t n) {
    char path[512], cmd[600];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    snprintf(cmd, sizeof cmd, "mkdir -p \"$(dirname '%s')\"", path);
    CHECK(system(cmd) == 0, "mkdir for %s", path);
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(p, 1, n, f) == n, "write %s", path);
    if (f) fclose(f);
}

static void write_gz(const char *rel, const void *p, size_t n) {
    char path[512], cmd[600];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    snprintf(cmd, sizeof cmd, "mkdir -p \"$(dirname '%s')\"", path);
    CHECK(system(cmd) == 0, "mkdir for %s", path);
    gzFile g = gzopen(path, "wb");
    CHECK(g && gzwrite(g, p, (unsigned)n) == (int)n, "gzwrite %s", path);
    if (g) gzclose(g);
}

static uint8_t *read_rel(const char *rel, size_t *n) {
    lir_error err;
    uint8_t *b = data_read_file(rel, n, &err);
    CHECK(b != NULL, "%s", err.msg);
    return b;
}

/* Expects load to fail with a message containing every one of the given parts. */
static void expect_fail(const char *name, const char *split, const char *part1, const char *part2) {
    lir_error err = {{0}};
    dataset *d = dataset_load(name, split, root, &err);
    CHECK(d == NULL, "%s/%s should fail", name, split);
    dataset_free(d);
    CHECK(strstr(err.msg, part1) != NULL, "%s: message lacks \"%s\": %s", name, part1, err.msg);
    if (part2) CHECK(strstr(err.msg, part2) != NULL, "%s: message lacks \"%s\": %s", name, part2, err.msg);
}

static void test_cifar(void) {
    uint8_t rec[3073];
    for (int f = 0; f < 5; f++) {
        uint8_t file[2 * 3073];
        for (int r = 0; r < 2; r++) {
            rec[0] = (uint8_t)(f * 2 + r);
            for (int k = 0; k < 3072; k++) rec[1 + k] = (uint8_t)(k * 7 + f * 31 + r);
            memcpy(file + r * 3073, rec, 3073);
        }
        char rel[64];
        snprintf(rel, sizeof rel, "cifar10/cifar-10-batches-bin/data_batch_%d.bin", f + 1);
        write_file(rel, file, sizeof file);
    }
    lir_error err;
    dataset *d = dataset_load("cifar10", "train", root, &err);
    CHECK(d != NULL, "cifar10 train: %s", d ? "" : err.msg);
    if (d) {
        CHECK(d->n == 10 && d->c == 3 && d->h == 32 && d->classes == 10, "cifar10 shape n=%d", d->n);
        int ok = 1;
        for (int i = 0; i < 10; i++) {
            ok &= d->labels[i] == i;
            for (int k = 0; k < 3072; k++)
                ok &= d->images[(size_t)i * 3072 + k] == (uint8_t)(k * 7 + (i / 2) * 31 + i % 2);
        }
        CHECK(ok, "cifar10 train records joined in file order");
        CHECK(!strcmp(d->name, "cifar10") && !strcmp(d->split, "train"), "name/split recorded");
        dataset_free(d);
    }
    expect_fail("cifar10", "test", "test_batch", "get_data.sh cifar10");
    write_file("cifar10/cifar-10-batches-bin/test_batch.bin", rec, 3000); /* truncated */
    expect_fail("cifar10", "test", "test_batch.bin", "not a multiple of the CIFAR-10 record size 3073");
    rec[0] = 12;
    write_file("cifar10/cifar-10-batches-bin/test_batch.bin", rec, 3073);
    expect_fail("cifar10", "test", "label 12 out of range", "offset 0");
    expect_fail("cifar10", "validation", "splits train and test", NULL);

    uint8_t r100[3 * 3074];
    for (int r = 0; r < 3; r++) {
        r100[r * 3074] = (uint8_t)(19 - r);
        r100[r * 3074 + 1] = (uint8_t)(99 - r);
        memset(r100 + r * 3074 + 2, r * 50, 3072);
    }
    write_file("cifar100/cifar-100-binary/test.bin", r100, sizeof r100);
    d = dataset_load("cifar100", "test", root, &err);
    CHECK(d != NULL, "cifar100: %s", d ? "" : err.msg);
    if (d) {
        CHECK(d->n == 3 && d->classes == 100 && d->labels[2] == 97 && d->coarse && d->coarse[1] == 18 &&
                  d->images[2 * 3072 + 100] == 100, "cifar100 fine/coarse labels and pixels");
        dataset_free(d);
    }
    r100[3074] = 20; /* coarse label out of range */
    write_file("cifar100/cifar-100-binary/test.bin", r100, sizeof r100);
    expect_fail("cifar100", "test", "coarse label 20", "offset 3074");
    write_file("cifar100/cifar-100-binary/test.bin", r100, 3073 * 3); /* CIFAR-10 sized */
    expect_fail("cifar100", "test", "CIFAR-100 record size 3074", NULL);
}

static void test_idx(void) {
    enum { N = 3 };
    uint8_t img[16 + N * 784], lab[8 + N];
    uint8_t ih[16] = {0, 0, 8, 3, 0, 0, 0, N, 0, 0, 0, 28, 0, 0, 0, 28};
    uint8_t lh[8] = {0, 0, 8, 1, 0, 0, 0, N};
    memcpy(img, ih, 16);
    memcpy(lab, lh, 8);
    for (int i = 0; i < N * 784; i++) img[16 + i] = (uint8_t)(i % 251);
    for (int i = 0; i < N; i++) lab[8 + i] = (uint8_t)(9 - i);
    write_file("mnist/t10k-images-idx3-ubyte", img, sizeof img);  /* plain */
    write_gz("mnist/t10k-labels-idx1-ubyte.gz", lab, sizeof lab); /* gzipped */
    write_gz("fashionmnist/t10k-images-idx3-ubyte.gz", img, sizeof img);
    write_gz("fashionmnist/t10k-labels-idx1-ubyte.gz", lab, sizeof lab);
    const char *names[2] = {"mnist", "fashionmnist"};
    for (int k = 0; k < 2; k++) {
        lir_error err;
        dataset *d = dataset_load(names[k], "test", root, &err);
        CHECK(d != NULL, "%s: %s", names[k], d ? "" : err.msg);
        if (!d) continue;
        CHECK(d->n == N && d->c == 1 && d->h == 28 && d->w == 28 && d->labels[0] == 9 &&
                  d->labels[2] == 7 && !memcmp(d->images, img + 16, N * 784),
              "%s contents", names[k]);
        dataset_free(d);
    }
    expect_fail("mnist", "train", "train-images-idx3-ubyte[.gz]", "get_data.sh mnist");
    /* wrong magic */
    img[2] = 9;
    write_file("mnist/t10k-images-idx3-ubyte", img, sizeof img);
    expect_fail("mnist", "test", "t10k-images-idx3-ubyte: offset 0: wrong IDX magic", NULL);
    img[2] = 8;
    /* truncated */
    write_file("mnist/t10k-images-idx3-ubyte", img, sizeof img - 5);
    expect_fail("mnist", "test", "does not match the header's dimensions", "truncated");
    /* label count differs from image count */
    write_file("mnist/t10k-images-idx3-ubyte", img, sizeof img);
    lab[7] = N - 1;
    write_gz("mnist/t10k-labels-idx1-ubyte.gz", lab, sizeof lab - 1);
    expect_fail("mnist", "test", "2 labels but the image file has 3 images", NULL);
    /* damaged gzip: cut the compressed file short */
    char path[512];
    snprintf(path, sizeof path, "%s/fashionmnist/t10k-images-idx3-ubyte.gz", root);
    CHECK(truncate(path, 40) == 0, "truncate");
    expect_fail("fashionmnist", "test", "t10k-images-idx3-ubyte.gz", "truncated");
    lab[7] = N; /* leave valid mnist files for test_names */
    write_gz("mnist/t10k-labels-idx1-ubyte.gz", lab, sizeof lab);
}

/* ---- a minimal MAT v5 writer (either byte order) for hand-made cases ---- */
typedef struct {
    uint8_t b[8192];
    size_t n;
    int be;
} mw;

static void w_bytes(mw *m, const void *p, size_t n) {
    memcpy(m->b + m->n, p, n);
    m->n += n;
}
static void w32(mw *m, uint32_t v) {
    uint8_t b[4];
    for (int i = 0; i < 4; i++) b[i] = (uint8_t)(v >> (m->be ? 24 - 8 * i : 8 * i));
    w_bytes(m, b, 4);
}
static void w_pad(mw *m) {
    while (m->n % 8) m->b[m->n++] = 0;
}
static void w_header(mw *m) {
    memset(m->b, ' ', 116);
    memcpy(m->b, "MATLAB 5.0 MAT-file, written by test_data_parsers", 50);
    memset(m->b + 116, 0, 8);
    m->b[124] = m->be ? 1 : 0;
    m->b[125] = m->be ? 0 : 1;
    m->b[126] = m->be ? 'M' : 'I';
    m->b[127] = m->be ? 'I' : 'M';
    m->n = 128;
}
/* Numeric matrix; data is count values of es bytes in native order (swapped for BE). */
static void w_matrix(mw *m, const char *name, uint32_t cls, const int *dims, int nd, uint32_t type,
                     const void *data, size_t es, size_t count) {
    size_t nl = strlen(name), db = es * count;
    size_t body = 16 + 8 + ((4 * (size_t)nd + 7) & ~7u) + (nl <= 4 ? 8 : 8 + ((nl + 7) & ~7u)) +
                  (db <= 4 ? 8 : 8 + ((db + 7) & ~7u));
    w32(m, 14);
    w32(m, (uint32_t)body);
    w32(m, 6), w32(m, 8), w32(m, cls), w32(m, 0);
    w32(m, 5), w32(m, 4 * (uint32_t)nd);
    for (int i = 0; i < nd; i++) w32(m, (uint32_t)dims[i]);
    w_pad(m);
    if (nl <= 4) { /* small data element */
        w32(m, (uint32_t)nl << 16 | 1);
        uint8_t z[4] = {0};
        memcpy(z, name, nl);
        w_bytes(m, z, 4);
    } else {
        w32(m, 1), w32(m, (uint32_t)nl);
        w_bytes(m, name, nl);
        w_pad(m);
    }
    if (db <= 4) w32(m, (uint32_t)db << 16 | type);
    else w32(m, type), w32(m, (uint32_t)db);
    const uint8_t *p = data;
    for (size_t i = 0; i < count; i++)
        for (size_t k = 0; k < es; k++) m->b[m->n++] = p[i * es + (m->be ? es - 1 - k : k)];
    if (db <= 4) m->n += 4 - db;
    w_pad(m);
}

static int parse_mat(const mw *m, dataset *d, lir_error *err) {
    memset(d, 0, sizeof *d);
    return svhn_parse(m->b, m->n, "hand.mat", d, err);
}

static void test_svhn(void) {
    size_t n1, n2, ne;
    uint8_t *plain = read_rel("tests/fixtures/svhn_small.mat", &n1);
    uint8_t *comp = read_rel("tests/fixtures/svhn_small_z.mat", &n2);
    uint8_t *exp = read_rel("tests/fixtures/svhn_small_expected.bin", &ne);
    if (!plain || !comp || !exp) return;
    write_file("svhn/test_32x32.mat", plain, n1);
    write_file("svhn/train_32x32.mat", comp, n2);
    const char *splits[2] = {"test", "train"};
    for (int k = 0; k < 2; k++) {
        lir_error err;
        dataset *d = dataset_load("svhn", splits[k], root, &err);
        CHECK(d != NULL, "svhn %s: %s", splits[k], d ? "" : err.msg);
        if (!d) continue;
        int ok = d->n == 5 && d->c == 3 && d->h == 32 && d->w == 32 && d->classes == 10;
        for (int i = 0; ok && i < 5; i++) ok &= d->labels[i] == exp[i];
        CHECK(ok && !memcmp(d->images, exp + 5, 5 * 3072), "svhn %s (%s) matches scipy's X, y",
              splits[k], k ? "miCOMPRESSED" : "uncompressed");
        dataset_free(d);
    }
    expect_fail("svhn", "extra", "extra_32x32.mat", "get_data.sh svhn");
    write_file("svhn/test_32x32.mat", plain, 3000);
    expect_fail("svhn", "test", "svhn/test_32x32.mat", "file truncated");
    write_file("svhn/train_32x32.mat", comp, n2 - 400);
    expect_fail("svhn", "train", "svhn/train_32x32.mat", "offset");
    write_file("svhn/test_32x32.mat", exp, 600);
    expect_fail("svhn", "test", "not a MATLAB 5 MAT-file", NULL);

    /* Hand-made files in both byte orders: X 4x3x3xN uint8, y numeric. */
    uint8_t x[4 * 3 * 3 * 2];
    for (int i = 0; i < (int)sizeof x; i++) x[i] = (uint8_t)(i * 5 + 1);
    for (int be = 0; be < 2; be++) {
        mw m = {.be = be};
        lir_error err;
        dataset d;
        w_header(&m);
        double yd[2] = {10, 4};
        int dx[4] = {4, 3, 3, 2}, dy[2] = {2, 1};
        w_matrix(&m, "other_var", 6, dy, 2, 9, yd, 8, 2); /* skipped */
        w_matrix(&m, "y", 6, dy, 2, 9, yd, 8, 2);
        w_matrix(&m, "X", 9, dx, 4, 2, x, 1, sizeof x);
        int rc = parse_mat(&m, &d, &err);
        CHECK(rc == 0, "hand-made %s MAT: %s", be ? "big-endian" : "little-endian", rc ? err.msg : "");
        if (rc == 0) {
            /* pixel(n,c,h,w) = X[h + 4*w + 12*c + 36*n] */
            int ok = d.n == 2 && d.c == 3 && d.h == 4 && d.w == 3 && d.labels[0] == 0 && d.labels[1] == 4;
            for (int n = 0; ok && n < 2; n++)
                for (int c = 0; c < 3; c++)
                    for (int h = 0; h < 4; h++)
                        for (int w = 0; w < 3; w++)
                            ok &= d.images[((n * 3 + c) * 4 + h) * 3 + w] == x[h + 4 * w + 12 * c + 36 * n];
            CHECK(ok, "hand-made %s MAT contents", be ? "big-endian" : "little-endian");
            free(d.images);
            free(d.labels);
        }
        /* one image (MATLAB drops the trailing singleton: X is 4x3x3), y uint8 in a small element */
        m.n = 0;
        w_header(&m);
        int dx3[3] = {4, 3, 3}, dy1[2] = {1, 1};
        uint8_t y8 = 7;
        w_matrix(&m, "X", 9, dx3, 3, 2, x, 1, 36);
        w_matrix(&m, "y", 9, dy1, 2, 2, &y8, 1, 1);
        rc = parse_mat(&m, &d, &err);
        CHECK(rc == 0 && d.n == 1 && d.labels[0] == 7, "single-image MAT: %s", rc ? err.msg : "");
        if (rc == 0) free(d.images), free(d.labels);
    }
    /* Variables missing or of the wrong type/shape. */
    mw m = {.be = 0};
    lir_error err;
    dataset d;
    double yd[2] = {1, 2}, bad_y[2] = {1, 11};
    int dx[4] = {4, 3, 3, 2}, dy[2] = {2, 1}, dx2[4] = {4, 3, 2, 2};
    w_header(&m);
    w_matrix(&m, "X", 9, dx, 4, 2, x, 1, sizeof x);
    CHECK(parse_mat(&m, &d, &err) < 0 && strstr(err.msg, "hand.mat") && strstr(err.msg, "variable y not found"),
          "missing y: %s", err.msg);
    m.n = 0;
    w_header(&m);
    w_matrix(&m, "y", 6, dy, 2, 9, yd, 8, 2);
    CHECK(parse_mat(&m, &d, &err) < 0 && strstr(err.msg, "variable X not found"), "missing X: %s", err.msg);
    double xd[72] = {0};
    w_matrix(&m, "X", 6, dx, 4, 9, xd, 8, 72);
    CHECK(parse_mat(&m, &d, &err) < 0 && strstr(err.msg, "X has class 6") && strstr(err.msg, "expected uint8"),
          "X of type double: %s", err.msg);
    m.n = 0;
    w_header(&m);
    w_matrix(&m, "y", 6, dy, 2, 9, yd, 8, 2);
    w_matrix(&m, "X", 9, dx2, 4, 2, x, 1, 48);
    CHECK(parse_mat(&m, &d, &err) < 0 && strstr(err.msg, "shape 4 x 3 x 2 x 2"), "X with 2 channels: %s",
          err.msg);
    m.n = 0;
    w_header(&m);
    w_matrix(&m, "y", 6, dy, 2, 9, bad_y, 8, 2);
    w_matrix(&m, "X", 9, dx, 4, 2, x, 1, sizeof x);
    CHECK(parse_mat(&m, &d, &err) < 0 && strstr(err.msg, "y(2) = 11"), "label 11: %s", err.msg);
    m.n = 0;
    w_header(&m);
    int dy3[2] = {3, 1};
    double y3[3] = {1, 2, 3};
    w_matrix(&m, "y", 6, dy3, 2, 9, y3, 8, 3);
    w_matrix(&m, "X", 9, dx, 4, 2, x, 1, sizeof x);
    CHECK(parse_mat(&m, &d, &err) < 0 && strstr(err.msg, "X holds 2 images but y holds 3"), "count: %s",
          err.msg);
    m.b[126] = 'X';
    CHECK(parse_mat(&m, &d, &err) < 0 && strstr(err.msg, "offset 126"), "endian mark: %s", err.msg);
    free(plain);
    free(comp);
    free(exp);
}

static void test_names(void) {
    expect_fail("imagenet", "test", "unknown dataset \"imagenet\"", "cifar10, cifar100, svhn, mnist, fashionmnist");
    expect_fail("mnist@sharpen2", "test", "unknown transform \"sharpen2\"", NULL);
    expect_fail("mnist@jpeg0", "test", "jpeg<quality 1..100>", NULL);
    expect_fail("mnist@noise2", "test", "noise<sigma 0..1>", NULL);
    lir_error err;
    dataset *d = dataset_load("mnist@blur1.0@jpeg90", "test", root, &err);
    CHECK(d != NULL && !strcmp(d->name, "mnist@blur1.0@jpeg90"), "chained transforms: %s", d ? "" : err.msg);
    dataset_free(d);
    char paths[8][DATASET_PATH], want[DATASET_PATH], base[32];
    CHECK(dataset_files("mnist@jpeg75", "test", root, paths, 8) == 2, "mnist: two files");
    snprintf(want, sizeof want, "%s/mnist/t10k-images-idx3-ubyte", root);
    CHECK(!strncmp(paths[0], want, strlen(want)) && strstr(paths[1], "t10k-labels-idx1-ubyte"),
          "IDX file layout: %s, %s", paths[0], paths[1]);
    CHECK(dataset_files("cifar10", "train", "D", paths, 8) == 5 &&
              !strcmp(paths[4], "D/cifar10/cifar-10-batches-bin/data_batch_5.bin"),
          "CIFAR-10 train layout: %s", paths[4]);
    CHECK(dataset_files("cifar10", "train", "D", paths, 2) == 2, "at most cap paths");
    CHECK(dataset_files("svhn", "extra", "D", paths, 8) == 1 &&
              !strcmp(paths[0], "D/svhn/extra_32x32.mat"),
          "SVHN layout: %s", paths[0]);
    CHECK(dataset_files("cifar100", "extra", "D", paths, 8) == 0, "no files for a bad split");
    CHECK(dataset_files("gaussian", "test", "D", paths, 8) == 0, "no files for a generated set");
    dataset_base_name("cifar10@blur1@jpeg75", base, sizeof base);
    CHECK(!strcmp(base, "cifar10"), "base name: %s", base);
    CHECK(dataset_train_size("cifar10@jpeg75") == 50000 && dataset_train_size("imagenet") == 0,
          "train split sizes");
    setenv("LIR_DATA", root, 1);
    CHECK(!strcmp(dataset_dir(NULL), root) && !strcmp(dataset_dir("x"), "x"), "LIR_DATA / dir argument");
    d = dataset_load("mnist", "test", NULL, &err);
    CHECK(d != NULL, "load via LIR_DATA: %s", d ? "" : err.msg);
    dataset_free(d);
    unsetenv("LIR_DATA");
    CHECK(!strcmp(dataset_dir(NULL), "data"), "default dir");
    int *t, *v;
    CHECK(data_holdout(10, 3, &t, &v, &err) == 0 && t[6] == 6 && v[0] == 7 && v[2] == 9, "holdout");
    free(t), free(v);
    CHECK(data_holdout(10, 10, &t, &v, &err) < 0, "holdout of everything fails");
}

int main(void) {
    if (!mkdtemp(root)) check_skip("cannot create a temporary directory");
    test_cifar();
    test_idx();
    test_names(); /* uses the mnist files test_idx leaves valid */
    test_svhn();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    CHECK(system(cmd) == 0, "cleanup");
    return check_done("test_data_parsers");
}
