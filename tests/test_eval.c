/* test_eval.c: `lir eval` end to end. A tiny cfg with lir-made random weights and tiny
 * datasets in the official formats (CIFAR-10 binary, MNIST / FashionMNIST IDX) in a
 * temp dir; runs $LIR eval and checks the paper's console lines (format, network
 * order), every JSON field, each point's AUROC against a brute-force Mann-Whitney
 * recomputation from the saved energies, the PNG sizes, --jpeg-all provenance, and
 * the refusals (unknown dataset, missing data, missing or mismatched weights). */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "data/data.h"
#include "nn/nn.h"

static char tmp[64];
static const char *lir;

static const char *tiny_cfg(int filters) {
    static char buf[2048];
    snprintf(buf, sizeof buf,
             "[net]\nbatch=8\nwidth=32\nheight=32\nchannels=3\n\n"
             "[convolutional]\nname=conv1\nbn_name=bn1\nbatch_normalize=1\nfilters=%d\nsize=3\n"
             "stride=2\npad=1\nactivation=relu\n\n[maxpool]\nsize=2\nstride=2\n\n"
             "[convolutional]\nname=layer1.0.conv1\nbn_name=layer1.0.bn1\nbatch_normalize=1\n"
             "filters=%d\nsize=3\nstride=1\npad=1\nactivation=relu\n\n"
             "[convolutional]\nname=layer1.0.conv2\nbn_name=layer1.0.bn2\nbatch_normalize=1\n"
             "filters=%d\nsize=3\nstride=1\npad=1\nactivation=linear\n\n"
             "[shortcut]\nfrom=-3\nactivation=relu\n\n[avgpool]\n\n"
             "[connected]\nname=fc\noutput=10\nactivation=linear\n\n[softmax]\ngroups=1\n",
             filters, filters, filters);
    return buf;
}

static void write_file(const char *path, const void *buf, size_t n) {
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(buf, 1, n, f) == n, "cannot write %s", path);
    if (f) fclose(f);
}

static void write_cifar(const char *path, int n, rng_state *r) {
    unsigned char *b = malloc((size_t)n * 3073);
    for (int i = 0; i < n; i++) {
        b[(size_t)i * 3073] = (unsigned char)(i % 10);
        for (int j = 1; j < 3073; j++) b[(size_t)i * 3073 + j] = (unsigned char)rng_below(r, 256);
    }
    write_file(path, b, (size_t)n * 3073);
    free(b);
}

/* CIFAR-100 binary: coarse label, fine label, 3072 pixels per record. */
static void write_cifar100(const char *path, int n, rng_state *r) {
    unsigned char *b = malloc((size_t)n * 3074);
    for (int i = 0; i < n; i++) {
        b[(size_t)i * 3074] = (unsigned char)(i % 20);
        b[(size_t)i * 3074 + 1] = (unsigned char)(i % 100);
        for (int j = 2; j < 3074; j++) b[(size_t)i * 3074 + j] = (unsigned char)rng_below(r, 256);
    }
    write_file(path, b, (size_t)n * 3074);
    free(b);
}

static void be32(unsigned char *p, unsigned v) {
    p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v;
}

static void write_idx(const char *dir, int n, rng_state *r) {
    char path[256];
    size_t len = 16 + (size_t)n * 784;
    unsigned char *b = calloc(len, 1);
    be32(b, 0x803), be32(b + 4, n), be32(b + 8, 28), be32(b + 12, 28);
    for (size_t j = 16; j < len; j++) b[j] = rng_below(r, 4) ? 0 : (unsigned char)rng_below(r, 256);
    snprintf(path, sizeof path, "%s/t10k-images-idx3-ubyte", dir);
    write_file(path, b, len);
    be32(b, 0x801), be32(b + 4, n);
    for (int i = 0; i < n; i++) b[8 + i] = (unsigned char)(i % 10);
    snprintf(path, sizeof path, "%s/t10k-labels-idx1-ubyte", dir);
    write_file(path, b, 8 + (size_t)n);
    free(b);
}

/* Runs "$LIR eval <args>" with stdout/stderr into tmp/out.txt, tmp/err.txt. */
static int run_eval(const char *fmt, ...) {
    char args[2048], cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd,
             "%s eval --cfg %s/tiny.cfg --data %s/data %s >%s/out.txt 2>%s/err.txt", lir, tmp, tmp,
             args, tmp, tmp);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *slurp(const char *name) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tmp, name);
    return file_read_all(path, NULL, NULL);
}

/* energies CSV -> values[n][cols] (after index,label); returns n. */
static int read_energies(const char *name, int cols, float **out) {
    char *s = slurp(name);
    CHECK(s != NULL, "missing %s", name);
    if (!s) return 0;
    int n = 0, cap = 64;
    float *v = malloc((size_t)cap * cols * sizeof(float));
    char *line = strchr(s, '\n');
    while (line && line[1]) {
        char *p = line + 1;
        if (n == cap) v = realloc(v, (size_t)(cap *= 2) * cols * sizeof(float));
        strtol(p, &p, 10), p++, strtol(p, &p, 10);
        for (int k = 0; k < cols; k++) v[(size_t)n * cols + k] = strtof(p + 1, &p);
        n++;
        line = strchr(p, '\n');
    }
    free(s);
    *out = v;
    return n;
}

static double brute_auroc(const float *id, int ni, const float *ood, int no, int stride, int k) {
    double u = 0;
    for (int i = 0; i < ni; i++)
        for (int j = 0; j < no; j++) {
            float a = id[(size_t)i * stride + k], b = ood[(size_t)j * stride + k];
            u += b > a ? 1 : b == a ? 0.5 : 0;
        }
    return u / ((double)ni * no);
}

static int has(const cJSON *o, const char *path) {
    char buf[256], *save, *t;
    snprintf(buf, sizeof buf, "%s", path);
    for (t = strtok_r(buf, ".", &save); t && o; t = strtok_r(NULL, ".", &save))
        o = cJSON_GetObjectItemCaseSensitive(o, t);
    return o != NULL;
}

static void check_json(const char *points[], int L, const char *w_sha) {
    char *s = slurp("out/results.json");
    cJSON *j = s ? cJSON_Parse(s) : NULL;
    CHECK(j != NULL, "results.json missing or not JSON");
    free(s);
    if (!j) return;
    const char *fields[] = {"provenance.lir_version",
                            "provenance.command",
                            "provenance.seed",
                            "provenance.created_utc",
                            "provenance.cfg.path",
                            "provenance.cfg.sha256",
                            "provenance.weights.sha256",
                            "provenance.data.files",
                            "provenance.data.id_provenance",
                            "provenance.data.id_source",
                            "provenance.data.jpeg_all",
                            "provenance.data.holdout",
                            "provenance.data.normalisation.mean",
                            "conventions.auroc",
                            "conventions.fpr95_ood",
                            "conventions.fpr95_id",
                            "id.accuracy",
                            "id.n",
                            "id.n_fit",
                            "points",
                            "final_point",
                            "agebo_models.zsum",
                            "agebo_models.mahalanobis",
                            "ood",
                            "timing.forward_energy_seconds",
                            "timing.images"};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        CHECK(has(j, fields[i]), "JSON lacks %s", fields[i]);
    const cJSON *ws = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(j, "provenance"), "weights"), "sha256");
    CHECK(cJSON_IsString(ws) && !strcmp(ws->valuestring, w_sha), "weights sha256 recorded");
    const cJSON *data = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "provenance"), "data");
    const cJSON *src = cJSON_GetObjectItem(data, "id_source");
    CHECK(cJSON_IsString(src) && !strcmp(src->valuestring, "unknown"),
          "no PROVENANCE file: id_source unknown");
    const cJSON *prov = cJSON_GetObjectItem(data, "id_provenance");
    CHECK(cJSON_IsString(prov) && strstr(prov->valuestring, "cifar10: source=unknown (no "),
          "id_provenance: %s", cJSON_IsString(prov) ? prov->valuestring : "(missing)");
    const cJSON *files = cJSON_GetObjectItem(data, "files");
    /* cifar10 test, 5 train batches, mnist images + labels; cifar10@noise0.05 reads the
     * cifar10 test file again, listed once */
    CHECK(cJSON_GetArraySize(files) == 1 + 5 + 2, "data files: %d", cJSON_GetArraySize(files));
    const cJSON *pts = cJSON_GetObjectItem(j, "points");
    CHECK(cJSON_GetArraySize(pts) == L, "points: %d", cJSON_GetArraySize(pts));
    const cJSON *ood = cJSON_GetObjectItem(j, "ood");
    CHECK(cJSON_GetArraySize(ood) == 2, "two OOD sets");
    float *eid = NULL;
    int ni = read_energies("out/energies_cifar10_test.csv", L + 2, &eid);
    CHECK(ni == 30, "ID energies rows: %d", ni);
    const char *names[2] = {"mnist", "cifar10@noise0.05"};
    const int sizes[2] = {25, 30};
    int inexact = 0;
    for (int o = 0; o < 2 && o < cJSON_GetArraySize(ood); o++) {
        const cJSON *oj = cJSON_GetArrayItem(ood, o);
        CHECK(!strcmp(cJSON_GetObjectItem(oj, "name")->valuestring, names[o]), "OOD set %d", o);
        char file[128];
        float *eo = NULL;
        snprintf(file, sizeof file, "out/energies_%s_test.csv", names[o]);
        int no = read_energies(file, L + 2, &eo);
        CHECK(no == sizes[o], "%s energies rows: %d", names[o], no);
        const char *ofields[] = {"baselines.msp.auroc",      "baselines.maxlogit.fpr95_id",
                                 "baselines.energy.aupr_in", "agebo.zsum.auroc",
                                 "agebo.zabs.auroc",         "agebo.mahalanobis.aupr_out",
                                 "best_point.point",         "final_layer.auroc",
                                 "early_exit.flop_frac",     "early_exit.margin",
                                 "best_point_dirfree.point"};
        for (size_t i = 0; i < sizeof ofields / sizeof *ofields; i++)
            CHECK(has(oj, ofields[i]), "JSON ood lacks %s", ofields[i]);
        const cJSON *op = cJSON_GetObjectItem(oj, "points");
        CHECK(cJSON_GetArraySize(op) == L, "OOD points: %d", cJSON_GetArraySize(op));
        for (int k = 0; k < L && k < cJSON_GetArraySize(op) && ni && no; k++) {
            const cJSON *p = cJSON_GetArrayItem(op, k);
            const char *pf[] = {"auroc",   "auroc_seed", "fpr95_ood",    "fpr95_id",
                                "aupr_in", "aupr_out",   "dirfree.auroc"};
            for (size_t i = 0; i < sizeof pf / sizeof *pf; i++)
                CHECK(has(p, pf[i]), "point lacks %s", pf[i]);
            CHECK(!strcmp(cJSON_GetObjectItem(p, "name")->valuestring, points[k]), "point %d name",
                  k);
            double a = cJSON_GetObjectItem(p, "auroc")->valuedouble;
            CHECK_CLOSE(a, brute_auroc(eid, ni, eo, no, L + 2, k), 1e-12, 0,
                        "AUROC vs saved energies");
            CHECK_CLOSE(cJSON_GetObjectItem(p, "auroc_seed")->valuedouble, a > 0.5 ? a : 1 - a,
                        1e-12, 0, "seed-compatible AUROC");
            inexact += a > 0.02 && a < 0.98;
        }
        /* the MSP baseline from the saved msp column */
        const cJSON *msp = cJSON_GetObjectItem(
            cJSON_GetObjectItem(cJSON_GetObjectItem(oj, "baselines"), "msp"), "auroc");
        if (msp && ni && no)
            CHECK_CLOSE(msp->valuedouble, brute_auroc(eid, ni, eo, no, L + 2, L), 1e-12, 0,
                        "MSP AUROC");
        free(eo);
    }
    CHECK(inexact > 0, "some AUROC strictly between 0 and 1 (a non-trivial check)");
    free(eid);
    cJSON_Delete(j);
}

/* The paper's lines: "  <name padded to 40>: AUROC = 0.xxxx", L per OOD set, network order. */
static void check_console(const char *points[], int L) {
    char *s = slurp("out.txt");
    CHECK(s != NULL, "no stdout");
    if (!s) return;
    CHECK(strstr(s, "\nID data: cifar10: source=unknown (no ") != NULL,
          "console does not say the ID provenance is unknown");
    int seen = 0;
    for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n")) {
        if (strlen(line) < 44 || strncmp(line + 42, ": AUROC = ", 10)) continue;
        char want[64];
        snprintf(want, sizeof want, "  %-40s", points[seen % L]);
        CHECK(!strncmp(line, want, 42), "line %d: \"%s\" should start \"%s\"", seen, line, want);
        double v = atof(line + 52);
        CHECK(strlen(line) == 58 && line[53] == '.' && v >= 0 && v <= 1 &&
                  strspn(line + 54, "0123456789") == 4,
              "value format: \"%s\"", line);
        seen++;
    }
    CHECK(seen == 2 * L, "paper lines: %d, want %d", seen, 2 * L);
    free(s);
}

/* After a --values seed run: every paper line equals the JSON's auroc_seed (4 decimals). */
static void check_seed_lines(int L) {
    char *s = slurp("out.txt"), *js = slurp("seed/results.json");
    cJSON *j = js ? cJSON_Parse(js) : NULL;
    CHECK(s && j, "seed run output");
    int seen = 0, below = 0;
    for (char *line = s ? strtok(s, "\n") : NULL; line && j; line = strtok(NULL, "\n")) {
        if (strlen(line) < 44 || strncmp(line + 42, ": AUROC = ", 10)) continue;
        const cJSON *o = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "ood"), seen / L);
        const cJSON *p = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "points"), seen % L);
        double seed = cJSON_GetObjectItem(p, "auroc_seed")->valuedouble;
        below += cJSON_GetObjectItem(p, "auroc")->valuedouble < 0.5;
        char want[16];
        snprintf(want, sizeof want, "%.4f", seed);
        CHECK(!strcmp(line + 52, want), "seed line \"%s\", want %s", line, want);
        seen++;
    }
    CHECK(seen == 2 * L, "seed run paper lines: %d", seen);
    CHECK(below > 0, "some raw AUROC below 0.5, so --values seed changes something");
    free(s);
    free(js);
    cJSON_Delete(j);
}

static void check_error(int rc, const char *needle, const char *what) {
    char *e = slurp("err.txt");
    CHECK(rc != 0, "%s: exit status %d", what, rc);
    CHECK(e && strstr(e, needle), "%s: stderr lacks \"%s\": %s", what, needle, e ? e : "");
    free(e);
}

/* dataset_provenance on PROVENANCE files as scripts/get_data.sh writes them. */
static void check_provenance_file(void) {
    char path[1100], dir[1024], buf[2048];
    snprintf(dir, sizeof dir, "%s/data", tmp);
    snprintf(path, sizeof path, "%s/mnist/PROVENANCE", dir);
    const char *mirror = "# comment\nsource=mirror\nfetched_from=/m\n"
                         "file=a.gz sha256=00 md5=11 check=mirror-sha256\nnote=JPEG rebuild\n";
    write_file(path, mirror, strlen(mirror));
    data_source s = dataset_provenance("mnist@noise0.1", dir, buf, sizeof buf);
    CHECK(s == DATA_SOURCE_MIRROR && !strcmp(buf, "source=mirror (fetched from .../m): JPEG rebuild"),
          "mirror PROVENANCE: %d '%s'", (int)s, buf);
    const char *official = "source=official\nfetched_from=official hosts\n";
    write_file(path, official, strlen(official));
    s = dataset_provenance("mnist", dir, buf, sizeof buf);
    CHECK(s == DATA_SOURCE_OFFICIAL && strstr(buf, "source=official") &&
              !strcmp(data_source_name(s), "official"),
          "official PROVENANCE: %d '%s'", (int)s, buf);
    write_file(path, "source=maybe\n", 13);
    s = dataset_provenance("mnist", dir, buf, sizeof buf);
    CHECK(s == DATA_SOURCE_UNKNOWN && strstr(buf, "no source=official|mirror line"),
          "bad source line: %d '%s'", (int)s, buf);
    s = dataset_provenance("fashionmnist", dir, buf, sizeof buf);
    CHECK(s == DATA_SOURCE_UNKNOWN && strstr(buf, "source=unknown (no ") &&
              !strcmp(data_source_name(s), "unknown"),
          "missing PROVENANCE: %d '%s'", (int)s, buf);
}

int main(void) {
    lir = getenv("LIR") ? getenv("LIR") : "./lir";
    if (access(lir, X_OK) != 0) check_skip("no lir binary (set LIR)");
    snprintf(tmp, sizeof tmp, "/tmp/lir_eval_XXXXXX");
    CHECK(mkdtemp(tmp) != NULL, "mkdtemp");
    char path[1024], cmd[512];
    lir_error err;
    /* network: tiny cfg, random weights; a second cfg with other widths for a mismatch */
    snprintf(path, sizeof path, "%s/tiny.cfg", tmp);
    write_file(path, tiny_cfg(4), strlen(tiny_cfg(4)));
    net_options opt = {8, 10, 0, 7};
    net *n = net_load_cfg(path, &opt, &err);
    CHECK(n != NULL, "tiny cfg: %s", err.msg);
    if (!n) return check_done("test_eval");
    snprintf(path, sizeof path, "%s/w.weights", tmp);
    CHECK(net_save_weights(n, path, &err) == 0, "save weights: %s", err.msg);
    char w_sha[65];
    CHECK(sha256_file(path, w_sha, &err) == 0, "sha256");
    net_hook_all(n);
    int L = n->n_hooks;
    const char *points[16];
    for (int k = 0; k < L && k < 16; k++) points[k] = n->points[n->hooks[k].point].name;
    CHECK(L == 7, "tiny net hooks: %d", L);
    snprintf(path, sizeof path, "%s/other.cfg", tmp);
    write_file(path, tiny_cfg(6), strlen(tiny_cfg(6)));
    net *other = net_load_cfg(path, &opt, &err);
    snprintf(path, sizeof path, "%s/other.weights", tmp);
    CHECK(other && net_save_weights(other, path, &err) == 0, "other weights");
    /* data in the official formats */
    rng_state r;
    rng_seed(&r, 3);
    snprintf(path, sizeof path,
             "mkdir -p %s/data/cifar10/cifar-10-batches-bin %s/data/mnist "
             "%s/data/fashionmnist",
             tmp, tmp, tmp);
    CHECK(system(path) == 0, "mkdir");
    for (int i = 1; i <= 5; i++) {
        snprintf(path, sizeof path, "%s/data/cifar10/cifar-10-batches-bin/data_batch_%d.bin", tmp,
                 i);
        write_cifar(path, 4, &r);
    }
    snprintf(path, sizeof path, "%s/data/cifar10/cifar-10-batches-bin/test_batch.bin", tmp);
    write_cifar(path, 30, &r);
    snprintf(path, sizeof path, "%s/data/mnist", tmp);
    write_idx(path, 25, &r);
    snprintf(path, sizeof path, "%s/data/fashionmnist", tmp);
    write_idx(path, 20, &r);

    int rc = run_eval(
        "--in cifar10 --out mnist,cifar10@noise0.05 --weights %s/w.weights --outdir %s/out "
        "--holdout 10 --batch 8 --save-energies",
        tmp, tmp);
    CHECK(rc == 0, "lir eval exit %d", rc);
    if (rc != 0) {
        char *e = slurp("err.txt");
        fprintf(stderr, "%s\n", e ? e : "");
        free(e);
    }
    check_console(points, L);
    check_json(points, L, w_sha);
    check_provenance_file();
    int w, h;
    uint8_t *pix;
    snprintf(path, sizeof path, "%s/out/auroc_scores_cifar10_mnist.png", tmp);
    CHECK(image_read(path, &pix, &w, &h, &err) == 0 && w == 1200 && h == 600,
          "bar plot 1200x600");
    if (w == 1200) free(pix);
    const char *figs[2] = {"auroc_scores_cifar10_mnist", "auroc_heatmap_cifar10"};
    const char *ext[3] = {"png", "svg", "pdf"};
    for (int k = 0; k < 6; k++) {
        snprintf(path, sizeof path, "%s/out/%s.%s", tmp, figs[k / 3], ext[k % 3]);
        CHECK(access(path, R_OK) == 0, "figure %s.%s written", figs[k / 3], ext[k % 3]);
    }
    snprintf(path, sizeof path, "%s/out/results.csv", tmp);
    CHECK(access(path, R_OK) == 0, "CSV written");

    /* --values seed: the paper lines show max(AUROC, 1 - AUROC), as the paper's script */
    rc = run_eval(
        "--in cifar10 --out mnist,cifar10@noise0.05 --weights %s/w.weights --outdir %s/seed "
        "--holdout 10 --batch 8 --values seed --plots=0",
        tmp, tmp);
    CHECK(rc == 0, "--values seed: exit %d", rc);
    check_seed_lines(L);
    /* --jpeg-all: names and provenance say so */
    rc = run_eval("--in cifar10 --out mnist --weights %s/w.weights --outdir %s/jpg --holdout 10 "
                  "--jpeg-all 75",
                  tmp, tmp);
    char *js = slurp("jpg/results.json");
    CHECK(rc == 0 && js && strstr(js, "\"jpeg_all\":\t75") && strstr(js, "mnist@jpeg75") &&
              strstr(js, "JPEG quality 75 round trip"),
          "--jpeg-all recorded");
    free(js);
    /* ID CIFAR-100: 100 classes (the cfg's 10 overridden), CIFAR-100 normalisation */
    net_options opt100 = {8, 100, 0, 7};
    snprintf(path, sizeof path, "%s/tiny.cfg", tmp);
    net *n100 = net_load_cfg(path, &opt100, &err);
    snprintf(path, sizeof path, "%s/w100.weights", tmp);
    CHECK(n100 && net_save_weights(n100, path, &err) == 0, "100-class weights");
    if (n100) net_free(n100);
    snprintf(path, sizeof path, "mkdir -p %s/data/cifar100/cifar-100-binary", tmp);
    CHECK(system(path) == 0, "mkdir");
    snprintf(path, sizeof path, "%s/data/cifar100/cifar-100-binary/train.bin", tmp);
    write_cifar100(path, 20, &r);
    snprintf(path, sizeof path, "%s/data/cifar100/cifar-100-binary/test.bin", tmp);
    write_cifar100(path, 16, &r);
    rc = run_eval("--in cifar100 --out cifar10,mnist --weights %s/w100.weights --outdir %s/c100 "
                  "--holdout 5 --batch 8 --plots=0",
                  tmp, tmp);
    CHECK(rc == 0, "--in cifar100: exit %d", rc);
    js = slurp("c100/results.json");
    cJSON *j100 = js ? cJSON_Parse(js) : NULL;
    free(js);
    const cJSON *mean = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(j100, "provenance"), "data"),
                            "normalisation"),
        "mean");
    CHECK(mean && fabs(cJSON_GetArrayItem(mean, 0)->valuedouble - 0.5071) < 1e-6,
          "CIFAR-100 normalisation");
    CHECK(j100 && cJSON_GetObjectItem(cJSON_GetObjectItem(j100, "id"), "n")->valueint == 16,
          "CIFAR-100 test images scored");
    cJSON_Delete(j100);
    rc = run_eval("--in cifar100 --out mnist --weights %s/w.weights --outdir %s/x --holdout 5", tmp,
                  tmp);
    check_error(rc, "do not fit", "10-class weights for a 100-class ID set");
    /* refusals */
    rc = run_eval("--out nosuch --weights %s/w.weights --outdir %s/x --holdout 10", tmp, tmp);
    check_error(rc, "known: cifar10, cifar100, svhn, mnist, fashionmnist", "unknown dataset");
    rc = run_eval("--out svhn --weights %s/w.weights --outdir %s/x --holdout 10", tmp, tmp);
    check_error(rc, "get_data.sh", "missing data");
    rc = run_eval("--out mnist --weights %s/none.weights --outdir %s/x --holdout 10", tmp, tmp);
    check_error(rc, "not found", "missing weights");
    check_error(rc, "lir train", "missing weights says how to get them");
    rc = run_eval("--out mnist --weights %s/other.weights --outdir %s/x --holdout 10", tmp, tmp);
    check_error(rc, "do not fit", "mismatched weights");
    rc = run_eval("--weights %s/w.weights", tmp);
    check_error(rc, "--out is required", "no --out");

    net_free(n);
    if (other) net_free(other);
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    CHECK(system(cmd) == 0, "cleanup");
    return check_done("test_eval");
}
