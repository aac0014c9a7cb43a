/* test_util.c: the RNG is deterministic and in range; atomic writes replace the
 * file only on success; mkdir -p, argmax, the shell-quoted command line; paths and
 * command lines are recorded without absolute paths; messages escape control
 * characters; byte counts parse; 64-bit products report overflow; a directory is
 * refused as a file. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "base/base.h"

/* Paths and command lines as results record them: nothing absolute survives. */
static void test_record(void) {
    char cwd[4096], buf[8300], path[8200];
    if (!getcwd(cwd, sizeof cwd)) return;
    path_alias al[2] = {{"/data/sets", "<data dir>"}, {"/data/sets/runs/x", "<run dir>"}};
    const struct {
        const char *in, *want;
    } cases[] = {{"cfg/resnet18.cfg", "cfg/resnet18.cfg"},
                 {"/data/sets", "<data dir>"},
                 {"/data/sets/", "<data dir>"},
                 {"/data/sets/cifar10/test_batch.bin", "<data dir>/cifar10/test_batch.bin"},
                 {"/data/sets/runs/x/final.weights", "<run dir>/final.weights"},
                 {"/data/setsX/a", ".../a"},
                 {"/elsewhere/w.weights", ".../w.weights"},
                 {"/elsewhere/mirror/", ".../mirror"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        path_record(cases[i].in, al, 2, buf, sizeof buf);
        CHECK(!strcmp(buf, cases[i].want), "path_record(%s) = %s, want %s", cases[i].in, buf,
              cases[i].want);
    }
    snprintf(path, sizeof path, "%s/weights/a.weights", cwd);
    path_record(path, al, 2, buf, sizeof buf);
    CHECK(!strcmp(buf, "weights/a.weights"), "inside the working directory: %s", buf);
    path_alias inside, rel;
    path_alias_of(&inside, path, "<data dir>"); /* a directory inside the working directory */
    path_record(path, &inside, 1, buf, sizeof buf);
    CHECK(!strcmp(buf, "<data dir>"), "an aliased directory inside the working directory: %s", buf);
    path_alias_of(&rel, "data/", "<data dir>"); /* relative, as --data data/ gives it */
    path_record("data/cifar10/test_batch.bin", &rel, 1, buf, sizeof buf);
    CHECK(!strcmp(buf, "<data dir>/cifar10/test_batch.bin"), "a relative data directory: %s", buf);
    text_record("not found in data/svhn/; run get_data.sh --data data (dataset data)", "data/",
                "<data dir>", buf, sizeof buf);
    CHECK(!strcmp(buf, "not found in <data dir>/svhn/; run get_data.sh --data <data dir> (dataset "
                       "<data dir>)"), "text_record replaces whole path words only: %s", buf);
    text_record("in /d/x and /d/x/y", "/d/x", "<data dir>", buf, 12);
    CHECK(!strcmp(buf, "in <data di"), "text_record truncates to the buffer: %s", buf);
    snprintf(path, sizeof path, "lir eval --data /data/sets --weights=%s/w.weights --cfg /x/y.cfg",
             cwd);
    char *cmd = command_record(path, al, 2);
    CHECK(!strcmp(cmd, "lir eval --data <data dir> --weights=w.weights --cfg .../y.cfg"),
          "command_record: %s", cmd);
    free(cmd);
}

int main(void) {
    test_record();
    rng_state a, b;
    rng_seed(&a, 42);
    rng_seed(&b, 42);
    int same = 1, in_range = 1;
    double sum = 0, sq = 0;
    for (int i = 0; i < 1000; i++)
        if (rng_next(&a) != rng_next(&b)) same = 0;
    for (int i = 0; i < 100000; i++) {
        uint32_t k = rng_below(&a, 7);
        if (k >= 7) in_range = 0;
        float u = rng_uniform(&b);
        if (u < 0 || u >= 1) in_range = 0;
        float z = rng_normal(&a);
        sum += z;
        sq += z * z;
    }
    CHECK(same, "same seed gives the same stream");
    CHECK(in_range, "rng_below/rng_uniform in range");
    CHECK_CLOSE(sum / 100000, 0.0, 0.02, 0, "normal mean");
    CHECK_CLOSE(sq / 100000, 1.0, 0.02, 0, "normal variance");
    rng_seed(&b, 43);
    CHECK(rng_next(&a) != rng_next(&b), "different seeds differ");

    char path[] = "/tmp/lir_test_util_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp");
    write(fd, "old", 3);
    close(fd);
    atomic_file af;
    lir_error err;
    CHECK(atomic_open(&af, path, &err) == 0, "atomic_open");
    fputs("new", af.f);
    atomic_abort(&af);
    size_t len;
    char *s = file_read_all(path, &len, &err);
    CHECK(s && len == 3 && !memcmp(s, "old", 3), "abort keeps the old file");
    free(s);
    CHECK(atomic_open(&af, path, &err) == 0, "atomic_open");
    fputs("newer", af.f);
    CHECK(atomic_close(&af, &err) == 0, "atomic_close");
    s = file_read_all(path, &len, &err);
    CHECK(s && len == 5 && !memcmp(s, "newer", 5), "close replaces the file");
    free(s);
    CHECK(access(af.tmp, F_OK) != 0, "no temporary left behind");
    unlink(path);
    CHECK(file_read_all("/nonexistent/x", &len, &err) == NULL && strstr(err.msg, "/nonexistent/x"),
          "missing file names the path");
    CHECK(file_read_all("/tmp", &len, &err) == NULL && strstr(err.msg, "is a directory"),
          "a directory is refused as such: %s", err.msg);

    char esc[32];
    CHECK(!strcmp(lir_escape("a\x1b[2J\a\n\x7f", esc, sizeof esc), "a\\x1b[2J\\x07\\x0a\\x7f"),
          "C0 controls and DEL escaped: %s", esc);
    CHECK(!strcmp(lir_escape("caf\xc3\xa9 \xc2\x9b \xff", esc, sizeof esc),
                  "caf\xc3\xa9 \\xc2\\x9b \\xff"),
          "UTF-8 kept, C1 and invalid bytes escaped: %s", esc);
    CHECK(!strcmp(lir_escape("0123456789abcdef", esc, 10), "012345..."), "truncation: %s", esc);
    lir_fail(&err, "%s: bad", "x\x1b]0;title\x07");
    CHECK(!strcmp(err.msg, "x\\x1b]0;title\\x07: bad"), "lir_fail escapes: %s", err.msg);

    uint64_t bytes = 0;
    CHECK(lir_parse_bytes("8G", &bytes) == 0 && bytes == 8ull << 30, "8G");
    CHECK(lir_parse_bytes("512MiB", &bytes) == 0 && bytes == 512ull << 20, "512MiB");
    CHECK(lir_parse_bytes("1000", &bytes) == 0 && bytes == 1000, "1000");
    CHECK(lir_parse_bytes("0", &bytes) < 0 && lir_parse_bytes("-1G", &bytes) < 0 &&
              lir_parse_bytes("8X", &bytes) < 0 && lir_parse_bytes("99999999999T", &bytes) < 0,
          "bad byte counts refused");
    CHECK(lir_mul_u64(1ull << 32, 1ull << 31, &bytes) == 0 && bytes == 1ull << 63, "product");
    CHECK(lir_mul_u64(1ull << 32, 1ull << 32, &bytes) < 0, "overflow reported");

    /* make_dirs: mkdir -p, fine when it exists, refused over a file */
    char dir[] = "/tmp/lir_test_dir_XXXXXX", deep[200], cmd[300];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(deep, sizeof deep, "%s/a/b/c", dir);
    struct stat st;
    CHECK(make_dirs(deep, &err) == 0 && stat(deep, &st) == 0 && S_ISDIR(st.st_mode),
          "make_dirs makes the parents (%s)", err.msg);
    CHECK(make_dirs(deep, &err) == 0, "make_dirs on an existing directory");
    snprintf(deep, sizeof deep, "%s/a/file", dir);
    FILE *f = fopen(deep, "w");
    if (f) fclose(f);
    CHECK(make_dirs(deep, &err) < 0 && strstr(err.msg, deep), "a file in the way: %s", err.msg);
    snprintf(deep, sizeof deep, "%s/a/file/sub", dir);
    CHECK(make_dirs(deep, &err) < 0 && strstr(err.msg, "cannot create directory"),
          "a file as a parent: %s", err.msg);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0, "cleanup");

    const float v[5] = {0.1f, 0.7f, -2.0f, 0.7f, 0.2f};
    CHECK(vec_argmax(v, 5) == 1 && vec_argmax(v, 1) == 0 && vec_argmax(v + 2, 3) == 1,
          "argmax: the first largest");

    char a0[] = "train", a1[] = "--set", a2[] = "lr=0.1;seed=2", a3[] = "it's", a4[] = "";
    char *argv[] = {a0, a1, a2, a3, a4};
    char *line = command_line(5, argv);
    CHECK(!strcmp(line, "lir train --set 'lr=0.1;seed=2' 'it'\\''s' ''"), "command line: %s", line);
    free(line);
    return check_done("test_util");
}
