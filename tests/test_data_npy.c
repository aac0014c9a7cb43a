/* test_data_npy.c: the .npy reader on files NumPy writes (format 1.0, 2.0, 3.0) and on
 * broken ones (truncated, wrong dtype, Fortran order, wrong shape, huge or unknown
 * header, extra bytes): pixels land planar, errors name the file and what was wrong,
 * and loading the tinyimages300k set by name from a data folder. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "data/data.h"

static char root[] = "/tmp/lir_test_npyXXXXXX";

/* Runs a NumPy snippet with np imported and `d` = the data folder. */
static int py(const char *code) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c \"import numpy as np, struct; d='%s'; r=np.random.RandomState(3); "
             "a=r.randint(0,256,size=(5,32,32,3)).astype(np.uint8); %s\"",
             root, code);
    return system(cmd);
}

static void expect_npy_fail(const char *file, const char *part1, const char *part2) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", root, file);
    dataset d = {0};
    lir_error err = {{0}};
    int rc = npy_load_images(path, &d, &err);
    CHECK(rc < 0, "%s should be refused", file);
    CHECK(d.images == NULL, "%s: nothing allocated on failure", file);
    CHECK(strstr(err.msg, path) != NULL, "%s: message names the file: %s", file, err.msg);
    CHECK(strstr(err.msg, part1) != NULL, "%s: message lacks \"%s\": %s", file, part1, err.msg);
    if (part2)
        CHECK(strstr(err.msg, part2) != NULL, "%s: message lacks \"%s\": %s", file, part2, err.msg);
    free(d.images);
    free(d.labels);
}

/* Each version NumPy writes loads, with a[i, y, x, c] at images[i][c][y][x]. */
static void test_good(void) {
    CHECK(py("a.tofile(d+'/raw.bin'); [np.lib.format.write_array(open(d+'/v%d.npy' % v, 'wb'), a, "
             "version=(v, 0)) for v in (1, 2, 3)]") == 0,
          "numpy writes the fixtures");
    char path[256];
    snprintf(path, sizeof path, "%s/raw.bin", root);
    size_t rlen;
    lir_error err;
    uint8_t *raw = data_read_file(path, &rlen, &err);
    CHECK(raw && rlen == 5 * 3072, "raw NHWC bytes");
    for (int v = 1; v <= 3 && raw; v++) {
        snprintf(path, sizeof path, "%s/v%d.npy", root, v);
        dataset d = {0};
        int rc = npy_load_images(path, &d, &err);
        CHECK(rc == 0, "v%d: %s", v, rc ? err.msg : "");
        if (rc) continue;
        CHECK(d.n == 5 && d.c == 3 && d.h == 32 && d.w == 32 && d.classes == 1, "v%d shape", v);
        int ok = 1;
        for (int i = 0; i < 5; i++)
            for (int y = 0; y < 32; y++)
                for (int x = 0; x < 32; x++)
                    for (int c = 0; c < 3; c++)
                        ok &= d.images[i * 3072 + c * 1024 + y * 32 + x] ==
                              raw[i * 3072 + (y * 32 + x) * 3 + c];
        CHECK(ok && d.labels[4] == 0, "v%d: NHWC -> planar", v);
        size_t len;
        uint8_t *buf = data_read_file(path, &len, &err);
        dataset m = {0};
        CHECK(buf && npy_parse(buf, len, path, &m, &err) == 0 && m.n == 5 &&
                  !memcmp(m.images, d.images, 5 * 3072),
              "v%d: npy_parse from memory gives the same images", v);
        free(buf), free(m.images), free(m.labels), free(d.images), free(d.labels);
    }
    free(raw);
}

static void test_bad(void) {
    CHECK(py("f=open(d+'/v1.npy','rb').read(); open(d+'/trunc.npy','wb').write(f[:-100]); "
             "open(d+'/extra.npy','wb').write(f+b'x'); open(d+'/magic.npy','wb').write(b'X'+f[1:]); "
             "open(d+'/hdr_trunc.npy','wb').write(f[:40]); "
             "np.save(d+'/f4.npy', a.astype(np.float32)); np.save(d+'/fortran.npy', np.asfortranarray(a)); "
             "np.save(d+'/nchw.npy', a.transpose(0,3,1,2).copy()); "
             "h=(\\\"{'descr': '|u1', 'fortran_order': False, 'shape': (5, 32, 32, 3), }\\\").ljust(100000)+'\\\\n'; "
             "open(d+'/huge.npy','wb').write(b'\\\\x93NUMPY\\\\x02\\\\x00'+struct.pack('<I',len(h))+h.encode()+a.tobytes()); "
             "h=(\\\"{'descr': '|u1', 'fortran_order': False, 'shape': (5, 32, 32, 3), 'x': 1}\\\").ljust(117)+'\\\\n'; "
             "open(d+'/key.npy','wb').write(b'\\\\x93NUMPY\\\\x01\\\\x00'+struct.pack('<H',len(h))+h.encode()+a.tobytes()); "
             "open(d+'/ver.npy','wb').write(b'\\\\x93NUMPY\\\\x04\\\\x00'+f[8:])") == 0,
          "numpy writes the broken fixtures");
    expect_npy_fail("trunc.npy", "needs 15360", "truncated");
    expect_npy_fail("extra.npy", "extra bytes", NULL);
    expect_npy_fail("magic.npy", "not a NumPy .npy file", "offset 0");
    expect_npy_fail("hdr_trunc.npy", "header length", "file truncated");
    expect_npy_fail("f4.npy", "dtype '<f4'", "'|u1'");
    expect_npy_fail("fortran.npy", "Fortran order", NULL);
    expect_npy_fail("nchw.npy", "shape (5, 3, 32, 32)", "(N, 32, 32, 3)");
    expect_npy_fail("huge.npy", "header length 100001 exceeds the limit", NULL);
    expect_npy_fail("key.npy", "unknown key 'x'", NULL);
    expect_npy_fail("ver.npy", "format version 4.0", NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/missing.npy", root);
    dataset d = {0};
    lir_error err;
    CHECK(npy_load_images(path, &d, &err) < 0 && strstr(err.msg, "cannot open"), "missing file");
}

/* Header text edge cases straight through the parser. */
static void test_header_text(void) {
    const char *good = "{\"descr\":\"|u1\",\"fortran_order\":False,\"shape\":(0,32,32,3)}";
    const char *bad[] = {"{'descr': '|u1', 'fortran_order': False}",
                         "{'descr': '|u1', 'descr': '|u1', 'fortran_order': False, 'shape': (1,)}",
                         "{'descr': '|u1', 'fortran_order': Maybe, 'shape': (1,)}",
                         "{'descr': '|u1', 'fortran_order': False, 'shape': (1, -2)}",
                         "{'descr': '|u1', 'fortran_order': False, 'shape': (1,2,3,4,5,6,7,8,9)}",
                         "{'descr': '|u1 , 'fortran_order': False, 'shape': (1,)}"};
    uint8_t buf[512];
    for (int i = -1; i < (int)(sizeof bad / sizeof bad[0]); i++) {
        const char *h = i < 0 ? good : bad[i];
        size_t hl = strlen(h);
        memcpy(buf, "\x93NUMPY\x01\x00", 8);
        buf[8] = (uint8_t)hl, buf[9] = 0;
        memcpy(buf + 10, h, hl);
        npy_info info;
        lir_error err;
        int rc = npy_parse_header(buf, 10 + hl, "hdr", &info, &err);
        if (i < 0) {
            CHECK(rc == 0 && info.ndim == 4 && info.shape[0] == 0 && !strcmp(info.descr, "|u1"),
                  "double-quoted header without spaces: %s", rc ? err.msg : "");
            dataset d = {0};
            CHECK(npy_parse(buf, 10 + hl, "hdr", &d, &err) == 0 && d.n == 0, "zero images load");
            free(d.images), free(d.labels);
        } else {
            CHECK(rc < 0 && strstr(err.msg, "hdr: ") == err.msg, "bad header %d refused: %s", i,
                  rc < 0 ? err.msg : "accepted");
        }
    }
}

static void test_by_name(void) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "mkdir -p %s/tinyimages300k && cp %s/v2.npy %s/tinyimages300k/300K_random_images.npy",
             root, root, root);
    CHECK(system(cmd) == 0, "place the set");
    lir_error err;
    dataset *d = dataset_load("tinyimages300k", "train", root, &err);
    CHECK(d && d->n == 5 && !strcmp(d->name, "tinyimages300k"), "by name: %s", d ? "" : err.msg);
    dataset_free(d);
    d = dataset_load("tinyimages300k@noise0.1", "train", root, &err);
    CHECK(d && d->n == 5, "derived transforms apply: %s", d ? "" : err.msg);
    dataset_free(d);
    CHECK(!dataset_load("tinyimages300k", "test", root, &err) && strstr(err.msg, "only the split train"),
          "split test refused: %s", err.msg);
    CHECK(!strcmp(dataset_default_split("tinyimages300k"), "train"), "default split");
    snprintf(cmd, sizeof cmd, "rm %s/tinyimages300k/300K_random_images.npy", root);
    CHECK(system(cmd) == 0, "remove the set");
    CHECK(!dataset_load("tinyimages300k", "train", root, &err) &&
              strstr(err.msg, "300K_random_images.npy") && strstr(err.msg, "get_data.sh tinyimages300k"),
          "missing set says where to get it: %s", err.msg);
}

int main(void) {
    if (system("/usr/bin/python3 -c 'import numpy' 2>/dev/null") != 0)
        check_skip("NumPy under /usr/bin/python3 is needed to write the .npy fixtures");
    if (!mkdtemp(root)) return 1;
    test_good();
    test_bad();
    test_header_text();
    test_by_name();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    if (system(cmd)) return 1;
    return check_done("test_data_npy");
}
