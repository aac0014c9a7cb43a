/* test_data_limits.c: decompression bombs and lying headers are refused from the
 * header, before the data they promise is inflated (issue 10, item 2 and 8): a
 * gzipped IDX file that inflates past its header's size, an IDX header promising
 * 2^30 images, a gzipped CIFAR file past the format's limit, and MAT miCOMPRESSED
 * elements that claim more than deflate can produce, more than their dimensions
 * account for, or hold an unneeded variable (skipped without inflating it). The
 * bombs are made here from zeros: small on disk, large when inflated. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "data/data.h"

static char root[] = "/tmp/lir_test_limitsXXXXXX";

static void path_of(const char *rel, char *path, size_t n) {
    snprintf(path, n, "%s/%s", root, rel);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "mkdir -p \"$(dirname '%s')\"", path);
    CHECK(system(cmd) == 0, "mkdir for %s", path);
}

/* head, then zeros bytes of zeros, gzipped. */
static void write_gz_bomb(const char *rel, const void *head, size_t nh, size_t zeros) {
    char path[512];
    path_of(rel, path, sizeof path);
    gzFile g = gzopen(path, "wb9");
    CHECK(g != NULL, "gzopen %s", path);
    if (!g) return;
    if (nh) gzwrite(g, head, (unsigned)nh);
    static uint8_t z[1 << 20];
    for (size_t done = 0; done < zeros; done += sizeof z)
        gzwrite(g, z, (unsigned)(zeros - done < sizeof z ? zeros - done : sizeof z));
    gzclose(g);
}

static void expect_fail(const char *name, const char *part1, const char *part2) {
    lir_error err = {{0}};
    double t0 = now_seconds();
    dataset *d = dataset_load(name, "test", root, &err);
    CHECK(d == NULL, "%s should fail", name);
    dataset_free(d);
    CHECK(strstr(err.msg, part1) != NULL, "%s: message lacks \"%s\": %s", name, part1, err.msg);
    if (part2) CHECK(strstr(err.msg, part2) != NULL, "%s: message lacks \"%s\": %s", name, part2, err.msg);
    fprintf(stderr, "%s refused in %.3f s: %s\n", name, now_seconds() - t0, err.msg);
}

static void test_idx(void) {
    uint8_t h[16] = {0, 0, 8, 3, 0, 0, 0x27, 0x10, 0, 0, 0, 28, 0, 0, 0, 28}; /* 10000x28x28 */
    uint8_t l[8] = {0, 0, 8, 1, 0, 0, 0x27, 0x10};
    /* 64 MB of zeros after a header promising 7,840,000 bytes: about 64 KB on disk */
    write_gz_bomb("mnist/t10k-images-idx3-ubyte.gz", h, sizeof h, 64u << 20);
    write_gz_bomb("mnist/t10k-labels-idx1-ubyte.gz", l, sizeof l, 10000);
    expect_fail("mnist", "goes on past the 7840016 bytes its header promises", "decompression bomb");
    /* a header promising 2^30 images: named as such, not as a bad dimension 1 */
    uint8_t big[16] = {0, 0, 8, 3, 0x40, 0, 0, 0, 0, 0, 0, 28, 0, 0, 0, 28};
    write_gz_bomb("mnist/t10k-images-idx3-ubyte.gz", big, sizeof big, 4096);
    expect_fail("mnist", "offset 4: the header promises 1073741824 x 28 x 28 = 841813590016 bytes",
                "more than the 4294967296");
    /* the labels: valid images, a bomb of labels */
    write_gz_bomb("mnist/t10k-images-idx3-ubyte.gz", h, sizeof h, 7840000);
    write_gz_bomb("mnist/t10k-labels-idx1-ubyte.gz", l, sizeof l, 32u << 20);
    expect_fail("mnist", "t10k-labels-idx1-ubyte.gz: the data goes on past the 10008 bytes", NULL);
}

static void test_cifar(void) {
    for (int i = 1; i <= 5; i++) {
        char rel[128];
        snprintf(rel, sizeof rel, "cifar10/cifar-10-batches-bin/data_batch_%d.bin", i);
        write_gz_bomb(rel, NULL, 0, 3073);
    }
    write_gz_bomb("cifar10/cifar-10-batches-bin/test_batch.bin", NULL, 0, 190u << 20);
    expect_fail("cifar10", "goes on past the 184440000 bytes a file of this kind may hold", NULL);
}

/* ---- MAT: one miCOMPRESSED element around a matrix, written by hand ---- */
typedef struct {
    uint8_t b[1 << 16];
    size_t n;
} buf;

static void put32(buf *m, uint32_t v) {
    memcpy(m->b + m->n, &v, 4); /* little-endian file ("IM") on a little-endian host */
    m->n += 4;
}

/* The start of a matrix element: tag claiming `claim` bytes, flags (class), 4
 * dims, a 1-character name, the real part's tag (uint8, nbytes). */
static void matrix_head(buf *m, uint32_t claim, uint32_t cls, const int *dims, char name,
                        uint32_t type, uint32_t nbytes) {
    put32(m, 14), put32(m, claim);
    put32(m, 6), put32(m, 8), put32(m, cls), put32(m, 0);
    put32(m, 5), put32(m, 16);
    for (int i = 0; i < 4; i++) put32(m, (uint32_t)dims[i]);
    put32(m, 1u << 16 | 1), put32(m, (uint32_t)(uint8_t)name);
    put32(m, type), put32(m, nbytes);
}

/* A MAT file whose one element is the deflated head followed by zeros. */
static void write_mat(const buf *head, size_t zeros) {
    z_stream z;
    memset(&z, 0, sizeof z);
    deflateInit(&z, 9);
    size_t cap = zeros / 500 + 4096, n = 0;
    uint8_t *out = malloc(cap), *zbuf = calloc(1, 1 << 20);
    z.next_in = (Bytef *)head->b;
    z.avail_in = (uInt)head->n;
    size_t left = zeros;
    int ret;
    do {
        if (!z.avail_in && left) {
            size_t c = left < (1u << 20) ? left : (1u << 20);
            z.next_in = zbuf, z.avail_in = (uInt)c, left -= c;
        }
        z.next_out = out + n, z.avail_out = (uInt)(cap - n);
        ret = deflate(&z, left || z.avail_in ? Z_NO_FLUSH : Z_FINISH);
        n = cap - z.avail_out;
    } while (ret != Z_STREAM_END && n < cap);
    deflateEnd(&z);
    CHECK(ret == Z_STREAM_END, "deflate finished (%zu bytes)", n);
    char path[512];
    path_of("svhn/test_32x32.mat", path, sizeof path);
    FILE *f = fopen(path, "wb");
    uint8_t hdr[128];
    memset(hdr, ' ', 116);
    memcpy(hdr, "MATLAB 5.0 MAT-file", 19);
    memset(hdr + 116, 0, 8);
    hdr[124] = 0, hdr[125] = 1, hdr[126] = 'I', hdr[127] = 'M';
    uint32_t tag[2] = {15, (uint32_t)n};
    CHECK(f && fwrite(hdr, 1, 128, f) == 128 && fwrite(tag, 4, 2, f) == 2 &&
              fwrite(out, 1, n, f) == n,
          "write %s", path);
    if (f) fclose(f);
    free(out);
    free(zbuf);
}

static void test_mat(void) {
    int dx[4] = {32, 32, 3, 10};
    buf m = {.n = 0};
    /* a 4 GB claim from a few hundred compressed bytes */
    matrix_head(&m, 0xf0000000u, 9, dx, 'X', 2, 0xeffffff0u);
    write_mat(&m, 4096);
    expect_fail("svhn", "claims 4026531840 bytes inflated, more than deflate can produce", NULL);
    /* X of 10 images whose data tag claims 48 MB (the claim itself consistent) */
    m.n = 0;
    matrix_head(&m, 56 + (48u << 20), 9, dx, 'X', 2, 48u << 20);
    write_mat(&m, 48u << 20);
    expect_fail("svhn", "variable X holds 50331648 bytes of data type 2, which its dimensions",
                NULL);
    /* a matrix claiming more than its parts */
    m.n = 0;
    matrix_head(&m, 56 + 30720 + 4096, 9, dx, 'X', 2, 30720);
    write_mat(&m, 30720 + 4096);
    expect_fail("svhn", "the matrix claims 34872 bytes but its parts need 30776", NULL);
    /* an unneeded variable of 48 MB is skipped after its name: the file then fails
     * only for lacking X */
    m.n = 0;
    matrix_head(&m, 56 + (48u << 20), 6, (int[]){1 << 20, 6, 1, 1}, 'n', 9, 48u << 20);
    write_mat(&m, 48u << 20);
    expect_fail("svhn", "variable X not found", NULL);
}

int main(void) {
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    test_idx();
    test_cifar();
    test_mat();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", root);
    return check_done("test_data_limits");
}
