/* test_weights.c: Darknet .weights save/load round trip (identical outputs), the
 * exact byte layout and size, the old uint32 "seen" header, and refusal of
 * truncated, extended and mismatched files with a message naming the sizes. */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "nn/nn.h"

static const char *CFG =
    "[net]\nbatch=3\nwidth=8\nheight=8\nchannels=3\n"
    "[convolutional]\nbatch_normalize=1\nfilters=4\nsize=3\npad=1\nactivation=relu\n"
    "[maxpool]\nsize=2\nstride=2\n"
    "[convolutional]\nfilters=5\nsize=3\nstride=2\npad=1\nactivation=leaky\n"
    "[connected]\noutput=7\nactivation=linear\n"
    "[softmax]\n";

static net *build(uint64_t seed, int classes, lir_error *err) {
    cfg_file *c = cfg_parse_string(CFG, "w.cfg", err);
    if (!c) return NULL;
    net_options opt = {0, classes, 0, seed};
    net *n = net_build(c, &opt, err);
    cfg_free(c);
    return n;
}

static size_t file_size(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 ? (size_t)st.st_size : 0;
}

int main(void) {
    lir_error err;
    net *a = build(1, 0, &err), *b = build(2, 0, &err);
    CHECK(a && b, "build: %s", err.msg);
    if (!a || !b) return check_done("test_weights");
    rng_state rng;
    rng_seed(&rng, 9);
    conv_layer *c0 = &a->layers[0].u.conv;
    for (int i = 0; i < c0->n; i++) {
        c0->rolling_mean[i] = 0.3f * rng_normal(&rng);
        c0->rolling_var[i] = 0.5f + rng_uniform(&rng);
        c0->scales[i] = 1 + 0.2f * rng_normal(&rng);
        c0->biases[i] = 0.1f * rng_normal(&rng);
    }
    a->seen = 123456789012ULL;
    float x[3 * 192];
    for (int i = 0; i < 3 * 192; i++) x[i] = rng_normal(&rng);
    float ya[21], yb[21];
    memcpy(ya, net_forward(a, x, 0), sizeof ya);
    memcpy(yb, net_forward(b, x, 0), sizeof yb);
    CHECK(memcmp(ya, yb, sizeof ya) != 0, "different seeds differ before loading");

    char dir[] = "/tmp/lir_test_weights_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char path[256], bad[256];
    snprintf(path, sizeof path, "%s/a.weights", dir);
    snprintf(bad, sizeof bad, "%s/bad.weights", dir);
    CHECK(net_save_weights(a, path, &err) == 0, "save: %s", err.msg);
    /* 20-byte header + conv0 (4 + 3*4 + 4*3*9) + conv2 (5 + 5*4*9) + fc (7 + 7*20) floats */
    size_t want = 20 + 4 * (4 + 12 + 108 + 5 + 180 + 7 + 140);
    CHECK(file_size(path) == want, "file size %zu, want %zu", file_size(path), want);
    CHECK(net_load_weights(b, path, &err) == 0, "load: %s", err.msg);
    memcpy(yb, net_forward(b, x, 0), sizeof yb);
    CHECK(memcmp(ya, yb, sizeof ya) == 0, "identical outputs after the round trip");
    CHECK(b->seen == 123456789012ULL, "seen round trip");

    size_t len;
    char *data = file_read_all(path, &len, &err);
    int32_t hdr[3];
    memcpy(hdr, data, 12);
    CHECK(hdr[0] == 0 && hdr[1] == 2 && hdr[2] == 0, "header 0.2.0");
    float first;
    memcpy(&first, data + 20, 4);
    CHECK(first == c0->biases[0], "conv biases come first");
    memcpy(&first, data + 20 + 16, 4);
    CHECK(first == c0->scales[0], "then BN scales");

    /* truncated by one float: refused, naming sizes and the last layer */
    FILE *f = fopen(bad, "wb");
    fwrite(data, 1, len - 4, f);
    fclose(f);
    CHECK(net_load_weights(b, bad, &err) == -1 && strstr(err.msg, "too short") &&
              strstr(err.msg, "layer 3") && strstr(err.msg, "connected"),
          "truncated file: %s", err.msg);
    char sz[64];
    snprintf(sz, sizeof sz, "needs exactly %zu", want);
    CHECK(strstr(err.msg, sz) != NULL, "message names the expected size: %s", err.msg);
    /* truncated inside the first layer */
    f = fopen(bad, "wb");
    fwrite(data, 1, 40, f);
    fclose(f);
    CHECK(net_load_weights(b, bad, &err) == -1 && strstr(err.msg, "layer 0"),
          "short file names layer 0: %s", err.msg);
    /* extended */
    f = fopen(bad, "wb");
    fwrite(data, 1, len, f);
    fwrite(data, 1, 4, f);
    fclose(f);
    CHECK(net_load_weights(b, bad, &err) == -1 && strstr(err.msg, "too long"),
          "extended file: %s", err.msg);
    /* another classes count: size mismatch */
    net *c = build(1, 5, &err);
    CHECK(c && net_load_weights(c, path, &err) == -1 && strstr(err.msg, "too long"),
          "wrong classes refused: %s", err.msg);
    net_free(c);
    /* old header: minor 1 with uint32 seen */
    f = fopen(bad, "wb");
    int32_t old[3] = {0, 1, 0};
    uint32_t seen32 = 777;
    fwrite(old, 4, 3, f);
    fwrite(&seen32, 4, 1, f);
    fwrite(data + 20, 1, len - 20, f);
    fclose(f);
    net *d = build(3, 0, &err);
    CHECK(d && net_load_weights(d, bad, &err) == 0 && d->seen == 777, "old header: %s", err.msg);
    if (d) CHECK(memcmp(net_forward(d, x, 0), ya, sizeof ya) == 0, "old header: same outputs");
    net_free(d);
    /* transposed-weights marker refused */
    memcpy(data, (int32_t[]){1001}, 4);
    f = fopen(bad, "wb");
    fwrite(data, 1, len, f);
    fclose(f);
    CHECK(net_load_weights(b, bad, &err) == -1 && strstr(err.msg, "not supported"),
          "major >= 1000 refused: %s", err.msg);
    CHECK(net_load_weights(b, "/nonexistent/x.weights", &err) == -1 &&
              strstr(err.msg, "/nonexistent/x.weights"),
          "missing file: %s", err.msg);
    free(data);
    unlink(bad);
    unlink(path);
    rmdir(dir);
    net_free(a);
    net_free(b);
    return check_done("test_weights");
}
