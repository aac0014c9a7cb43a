/* test_corrupt_c.c: the CIFAR-10-C derived sets: parsing "c-<corruption>-<severity>"
 * and its refusals (unknown name, other spellings, severity outside 1..5, bad seed,
 * frost / spatter, wrong image shape), expanding "cifar10-c", and that a set made in
 * parallel equals its images made one at a time from (seed, index).
 * Tool mode for tests/test_corrupt_c.py:
 *   test_corrupt_c apply NAME SEVERITY SEED IN OUT DRAWS
 * reads images [n][3][32][32] from IN, writes them corrupted to OUT and, per image,
 * an int32 count and that many float32 draws to DRAWS. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "data/data.h"

static void texture(uint8_t *img, int seed) {
    rng_state r;
    rng_seed(&r, (uint64_t)seed);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < 32; y++)
            for (int x = 0; x < 32; x++)
                img[c * 1024 + y * 32 + x] =
                    (uint8_t)(60 + 40 * c + 3 * x + ((x / 8 + y / 8) % 2) * 50 + rng_below(&r, 20));
}

static void test_parse(void) {
    lir_error err;
    int kind, sev;
    uint64_t seed;
    CHECK(corrupt_c_count() == 17, "17 corruptions, got %d", corrupt_c_count());
    for (int k = 0; k < corrupt_c_count(); k++) {
        char spec[64];
        CHECK(corrupt_c_find(corrupt_c_name(k)) == k, "find(name(%d))", k);
        for (int s = 1; s <= 5; s++) {
            snprintf(spec, sizeof spec, "c-%s-%d", corrupt_c_name(k), s);
            CHECK(corrupt_c_parse(spec, &kind, &sev, &seed, &err) == 0 && kind == k && sev == s && seed == 1,
                  "parse %s: %s", spec, err.msg);
        }
    }
    CHECK(corrupt_c_name(-1) == NULL && corrupt_c_name(17) == NULL, "name out of range");
    CHECK(corrupt_c_parse("c-fog-3s7", &kind, &sev, &seed, &err) == 0 && sev == 3 && seed == 7, "seed: %s", err.msg);
    /* token named, known names listed */
    const char *bad[][2] = {{"c-gaussian-noise-3", "\"gaussian-noise\""}, {"c-Fog-3", "\"Fog\""},
                            {"c-fog-0", "\"0\""}, {"c-fog-6", "\"6\""}, {"c-fog-x", "\"x\""},
                            {"c-fog-3.5", "\"3.5\""}, {"c-fog", "c-fog"}, {"c-fog-", "\"\""},
                            {"c--3", "\"\""}, {"c-fog-3s", "c-fog-3s"}, {"c-fog-3s-1", "c-fog-3s-1"},
                            {"c-fog-3sx", "c-fog-3sx"}, {"cfog-3", "cfog-3"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(corrupt_c_parse(bad[i][0], &kind, &sev, &seed, &err) < 0 && strstr(err.msg, bad[i][1]) &&
                  strstr(err.msg, bad[i][0]),
              "refuse %s: %s", bad[i][0], err.msg);
    CHECK(corrupt_c_parse("c-gaussian-noise-3", &kind, &sev, &seed, &err) < 0 &&
              strstr(err.msg, "gaussian_noise, shot_noise") && strstr(err.msg, "saturate"),
          "lists the known names: %s", err.msg);
    CHECK(corrupt_c_parse("c-frost-2", &kind, &sev, &seed, &err) < 0 && strstr(err.msg, "frost photographs"),
          "frost: %s", err.msg);
    CHECK(corrupt_c_parse("c-spatter-2", &kind, &sev, &seed, &err) < 0 && strstr(err.msg, "spatter is not"),
          "spatter: %s", err.msg);
    dataset probe = {.n = 0};
    CHECK(dataset_transform(&probe, "c-fog-9", &err) < 0 && strstr(err.msg, "\"9\""), "transform: %s", err.msg);
    CHECK(dataset_transform(&probe, "c-fog-2", &err) == 0, "transform probe: %s", err.msg);
    /* parsed before anything is read: the message is the severity, not a missing file */
    dataset *d = dataset_load("cifar10@c-zoom_blur-0", "test", "/nonexistent", &err);
    CHECK(!d && strstr(err.msg, "\"0\"") && !strstr(err.msg, "not found"), "load refuses: %s", err.msg);
}

static void test_expand(void) {
    char buf[96];
    lir_error err;
    int n = corrupt_c_expand("cifar10-c", 0, NULL, 0);
    CHECK(n == 70, "cifar10-c stands for 14 x 5 sets, got %d", n);
    CHECK(corrupt_c_expand("cifar10-c", 0, buf, sizeof buf) == 70 && !strcmp(buf, "cifar10@c-gaussian_noise-1"),
          "first: %s", buf);
    corrupt_c_expand("cifar10-c", 69, buf, sizeof buf);
    CHECK(!strcmp(buf, "cifar10@c-jpeg_compression-5"), "last: %s", buf);
    corrupt_c_expand("cifar100-c", 42, buf, sizeof buf);
    CHECK(!strcmp(buf, "cifar100@c-fog-3"), "cifar100-c 42: %s", buf);
    int ok = 1, seen_extra = 0;
    for (int k = 0; k < n; k++) {
        corrupt_c_expand("cifar10-c", k, buf, sizeof buf);
        dataset probe = {.n = 0};
        ok &= !strncmp(buf, "cifar10@", 8) && dataset_transform(&probe, buf + 8, &err) == 0;
        seen_extra |= strstr(buf, "speckle") || strstr(buf, "saturate") || strstr(buf, "gaussian_blur");
    }
    CHECK(ok && !seen_extra, "every expanded name parses, no extra corruption");
    CHECK(corrupt_c_expand("cifar10", 0, buf, sizeof buf) == 1 && !strcmp(buf, "cifar10"), "plain: %s", buf);
    CHECK(corrupt_c_expand("cifar10@c-fog-3", 0, buf, sizeof buf) == 1 && !strcmp(buf, "cifar10@c-fog-3"),
          "derived: %s", buf);
    dataset *d = dataset_load("cifar10-c", "test", "/nonexistent", &err);
    CHECK(!d && strstr(err.msg, "cifar10-c") && strstr(err.msg, "70 sets"), "load cifar10-c: %s", err.msg);
}

/* A set made in parallel equals its images made alone; seeds and indices matter. */
static void test_sets(void) {
    enum { N = 40 };
    lir_error err;
    uint8_t *orig = xmalloc(N * 3072), *a = xmalloc(N * 3072), *b = xmalloc(3072);
    for (int i = 0; i < N; i++) texture(orig + i * 3072, i);
    dataset d = {.n = N, .c = 3, .h = 32, .w = 32, .images = a};
    snprintf(d.name, sizeof d.name, "synthetic");
    for (int k = 0; k < corrupt_c_count(); k++)
        for (int s = 1; s <= 5; s += 2) {
            char spec[64];
            snprintf(spec, sizeof spec, "c-%s-%ds5", corrupt_c_name(k), s);
            memcpy(a, orig, N * 3072);
            CHECK(dataset_transform(&d, spec, &err) == 0, "%s: %s", spec, err.msg);
            int same = 1, changed = 0;
            for (int i = 0; i < N; i += 13) {
                memcpy(b, orig + i * 3072, 3072);
                CHECK(corrupt_c_image(b, k, s, 5, i, NULL, &err) >= 0, "%s image %d", spec, i);
                same &= !memcmp(b, a + i * 3072, 3072);
                changed |= memcmp(b, orig + i * 3072, 3072) != 0;
            }
            CHECK(same, "%s: set image == image made alone", spec);
            CHECK(changed, "%s changes the images", spec);
        }
    memcpy(b, orig, 3072);
    corrupt_c_image(b, 0, 3, 5, 0, NULL, &err);
    memcpy(a, orig, 3072);
    corrupt_c_image(a, 0, 3, 6, 0, NULL, &err);
    CHECK(memcmp(a, b, 3072), "another seed, another noise");
    memcpy(a, orig, 3072);
    corrupt_c_image(a, 0, 3, 5, 1, NULL, &err);
    CHECK(memcmp(a, b, 3072), "another index, another noise");
    CHECK(corrupt_c_image(b, 0, 6, 5, 0, NULL, &err) < 0, "severity 6 refused");
    dataset g = {.n = 2, .c = 1, .h = 28, .w = 28, .images = a};
    snprintf(g.name, sizeof g.name, "mnist@c-fog-1");
    CHECK(dataset_transform(&g, "c-fog-1", &err) < 0 && strstr(err.msg, "mnist") && strstr(err.msg, "28x28"),
          "gray 28x28 refused: %s", err.msg);
    free(orig);
    free(a);
    free(b);
}

static int apply_tool(char **argv) {
    lir_error err;
    int kind = corrupt_c_find(argv[2]), sev = atoi(argv[3]);
    uint64_t seed = strtoull(argv[4], NULL, 10);
    size_t len;
    uint8_t *img = data_read_file(argv[5], &len, &err);
    if (!img || kind < 0 || len % 3072) {
        fprintf(stderr, "apply: bad corruption %s or input %s\n", argv[2], argv[5]);
        return 2;
    }
    FILE *fo = fopen(argv[6], "wb"), *fd = fopen(argv[7], "wb");
    float *draws = xmalloc(CORRUPT_C_MAX_DRAWS * sizeof(float));
    int rc = fo && fd ? 0 : 2;
    for (size_t i = 0; rc == 0 && i < len / 3072; i++) {
        int n = corrupt_c_image(img + i * 3072, kind, sev, seed, (int)i, draws, &err);
        if (n < 0) {
            fprintf(stderr, "apply: %s\n", err.msg);
            rc = 2;
            break;
        }
        int32_t n32 = n;
        fwrite(&n32, 4, 1, fd);
        fwrite(draws, sizeof(float), (size_t)n, fd);
    }
    if (rc == 0) fwrite(img, 1, len, fo);
    if (fo) fclose(fo);
    if (fd) fclose(fd);
    free(draws);
    free(img);
    return rc;
}

int main(int argc, char **argv) {
    if (argc == 8 && !strcmp(argv[1], "apply")) return apply_tool(argv);
    test_parse();
    test_expand();
    test_sets();
    return check_done("test_corrupt_c");
}
