/* test_data_corrupt.c: derived OOD transforms (JPEG round trip, Gaussian noise,
 * Gaussian blur, the "@" spec syntax) and SHA-256 against its published vectors. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "data/data.h"

static double mean_abs_diff(const uint8_t *a, const uint8_t *b, size_t n, int *maxd) {
    double s = 0;
    *maxd = 0;
    for (size_t i = 0; i < n; i++) {
        int d = abs(a[i] - b[i]);
        s += d;
        if (d > *maxd) *maxd = d;
    }
    return s / (double)n;
}

static void test_jpeg(void) {
    lir_error err;
    uint8_t img[3 * 1024], orig[3 * 1024];
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < 32; y++)
            for (int x = 0; x < 32; x++)
                orig[c * 1024 + y * 32 + x] = (uint8_t)(40 + c * 30 + 2 * y + 2 * x + ((x * y) % 7) * 3);
    int maxd;
    memcpy(img, orig, sizeof img);
    CHECK(corrupt_jpeg(img, 3, 32, 32, 75, &err) == 0, "jpeg75: %s", err.msg);
    double m75 = mean_abs_diff(img, orig, sizeof img, &maxd);
    CHECK(m75 > 0.2 && m75 < 8, "jpeg75 changes the image a little: mean |diff| %.3f", m75);
    memcpy(img, orig, sizeof img);
    CHECK(corrupt_jpeg(img, 3, 32, 32, 10, &err) == 0, "jpeg10");
    double m10 = mean_abs_diff(img, orig, sizeof img, &maxd);
    CHECK(m10 > m75, "quality 10 loses more than 75 (%.3f vs %.3f)", m10, m75);
    memcpy(img, orig, sizeof img);
    CHECK(corrupt_jpeg(img, 3, 32, 32, 100, &err) == 0, "jpeg100");
    double m100 = mean_abs_diff(img, orig, sizeof img, &maxd);
    CHECK(m100 < m75 && maxd <= 8, "quality 100 is close (mean %.3f, max %d)", m100, maxd);
    /* Same as PIL's JPEG round trip (tests/fixtures/make_jpeg_fixture.py). */
    size_t n1, n2;
    uint8_t *in = data_read_file("tests/fixtures/jpeg_in.bin", &n1, &err);
    uint8_t *pil = data_read_file("tests/fixtures/jpeg_q75_pil.bin", &n2, &err);
    CHECK(in && pil && n1 == 2 * 3072 && n2 == n1, "jpeg fixture: %s", err.msg);
    if (in && pil && n1 == 2 * 3072 && n2 == n1) {
        for (int i = 0; i < 2; i++) CHECK(corrupt_jpeg(in + i * 3072, 3, 32, 32, 75, &err) == 0, "jpeg fixture");
        double m = mean_abs_diff(in, pil, n1, &maxd);
        CHECK(maxd <= 1, "jpeg75 vs PIL: mean |diff| %.4f, max %d", m, maxd);
    }
    free(in);
    free(pil);
    uint8_t g[28 * 28], g0[28 * 28];
    for (int i = 0; i < 28 * 28; i++) g0[i] = g[i] = (uint8_t)((i % 28) * 9);
    CHECK(corrupt_jpeg(g, 1, 28, 28, 75, &err) == 0, "gray jpeg: %s", err.msg);
    double mg = mean_abs_diff(g, g0, sizeof g, &maxd);
    CHECK(mg > 0 && mg < 10, "gray jpeg75 mean |diff| %.3f", mg);
    CHECK(corrupt_jpeg(g, 2, 28, 14, 75, &err) < 0, "2 channels refused");
}

static void test_noise_blur(void) {
    enum { N = 3 * 32 * 32 * 20 };
    uint8_t *a = xmalloc(N), *b = xmalloc(N);
    memset(a, 128, N);
    memset(b, 128, N);
    rng_state r1, r2;
    rng_seed(&r1, 9);
    rng_seed(&r2, 9);
    corrupt_noise(a, 3, 32, 640, 0.1f, &r1);
    corrupt_noise(b, 3, 32, 640, 0.1f, &r2);
    CHECK(!memcmp(a, b, N), "noise is reproducible from its seed");
    double s = 0, q = 0;
    for (int i = 0; i < N; i++) {
        double d = a[i] - 128.0;
        s += d;
        q += d * d;
    }
    double mean = s / N, sd = sqrt(q / N - mean * mean);
    CHECK(fabs(mean) < 0.5 && fabs(sd - 25.5) < 1.0, "noise sigma 0.1: mean %.3f sd %.3f (want 0, 25.5)", mean, sd);

    uint8_t img[3 * 16 * 16];
    memset(img, 77, sizeof img);
    corrupt_blur(img, 3, 16, 16, 1.5f);
    int flat = 1;
    for (size_t i = 0; i < sizeof img; i++) flat &= img[i] == 77;
    CHECK(flat, "blur keeps a constant image");
    uint8_t imp[15 * 15] = {0};
    imp[7 * 15 + 7] = 255;
    corrupt_blur(imp, 1, 15, 15, 1.0f);
    int sum = 0, sym = 1;
    for (int y = 0; y < 15; y++)
        for (int x = 0; x < 15; x++) {
            sum += imp[y * 15 + x];
            sym &= imp[y * 15 + x] == imp[x * 15 + y] && imp[y * 15 + x] == imp[y * 15 + 14 - x];
        }
    /* centre weight of a sigma 1 kernel (radius 3) is 0.39905^2 * 255 = 40.6 */
    CHECK(imp[7 * 15 + 7] == 41 && abs(sum - 255) <= 12 && sym, "blur impulse: centre %d sum %d",
          imp[7 * 15 + 7], sum);
    free(a);
    free(b);
}

static void test_specs(void) {
    lir_error err;
    dataset d = {.n = 4, .c = 3, .h = 8, .w = 8};
    size_t n = 4 * 3 * 64;
    uint8_t *orig = xmalloc(n), *p = xmalloc(n), *q = xmalloc(n);
    for (size_t i = 0; i < n; i++) orig[i] = (uint8_t)(i * 13);
    memcpy(p, orig, n);
    d.images = p;
    CHECK(dataset_transform(&d, "noise0.05s7", &err) == 0, "noise spec: %s", err.msg);
    memcpy(q, orig, n);
    d.images = q;
    CHECK(dataset_transform(&d, "noise0.05s7", &err) == 0 && !memcmp(p, q, n), "same seed, same set");
    memcpy(q, orig, n);
    CHECK(dataset_transform(&d, "noise0.05s8", &err) == 0 && memcmp(p, q, n), "other seed, other set");
    memcpy(q, orig, n);
    CHECK(dataset_transform(&d, "blur0.8", &err) == 0 && memcmp(orig, q, n), "blur spec");
    memcpy(q, orig, n);
    CHECK(dataset_transform(&d, "jpeg50", &err) == 0 && memcmp(orig, q, n), "jpeg spec");
    const char *bad[] = {"jpeg", "jpeg101", "jpeg7x", "noise", "noise-0.1", "noise0.1s", "noise0.1x",
                         "blur0", "blur", "blur99", "gamma2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(dataset_transform(&d, bad[i], &err) < 0 && strstr(err.msg, bad[i]), "bad spec %s: %s",
              bad[i], err.msg);
    free(orig);
    free(p);
    free(q);
}

static void hex_of(const void *data, size_t n, char hex[65]) {
    sha256_ctx c;
    uint8_t d[32];
    sha256_init(&c);
    /* feed in uneven pieces to exercise the buffering */
    const uint8_t *b = data;
    size_t step = 1;
    while (n) {
        size_t k = step < n ? step : n;
        sha256_update(&c, b, k);
        b += k;
        n -= k;
        step = step * 3 + 1;
    }
    sha256_final(&c, d);
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

static void test_sha256(void) {
    char hex[65];
    hex_of("", 0, hex);
    CHECK(!strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"), "sha256('') %s", hex);
    hex_of("abc", 3, hex);
    CHECK(!strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"), "sha256(abc) %s", hex);
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    hex_of(two, strlen(two), hex);
    CHECK(!strcmp(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"), "sha256(2 blocks) %s", hex);
    char *m = xmalloc(1000000);
    memset(m, 'a', 1000000);
    char path[] = "/tmp/lir_sha_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0 && write(fd, m, 1000000) == 1000000, "temp file");
    if (fd >= 0) close(fd);
    lir_error err;
    CHECK(sha256_file(path, hex, &err) == 0 &&
              !strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
          "sha256_file(a x 1e6) %s", hex);
    unlink(path);
    CHECK(sha256_file(path, hex, &err) < 0 && strstr(err.msg, path), "missing file: %s", err.msg);
    free(m);
}

int main(void) {
    test_jpeg();
    test_noise_blur();
    test_specs();
    test_sha256();
    return check_done("test_data_corrupt");
}
