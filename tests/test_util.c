/* test_util.c: the RNG is deterministic and in range; atomic writes replace the
 * file only on success; mkdir -p, argmax and the shell-quoted command line. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "base/base.h"

int main(void) {
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
