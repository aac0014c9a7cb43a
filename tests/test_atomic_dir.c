/* test_atomic_dir.c: output directories written whole or not at all (atomic_dir in
 * base.h): a new directory appears only at the commit; an earlier run's directory is
 * replaced as a whole (no file of it left); an aborted run leaves the old one as it was
 * and no temporary folder; a directory holding other files (or a subfolder, or a
 * symbolic link) is refused and left untouched, also when such a file appears during
 * the run; names like "." are refused; the folder of a killed run is removed by the
 * next run, the one of a live process is not. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "base/base.h"

static int ours(const char *name) { return !strncmp(name, "out", 3); }

static void put(const char *dir, const char *name, const char *text) {
    char p[8300];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static int exists(const char *dir, const char *name) {
    char p[8300];
    snprintf(p, sizeof p, "%s%s%s", dir, name ? "/" : "", name ? name : "");
    return access(p, F_OK) == 0;
}

/* Entries of dir starting with prefix. */
static int count(const char *dir, const char *prefix) {
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) n += !strncmp(e->d_name, prefix, strlen(prefix));
    if (d) closedir(d);
    return n;
}

/* A pid that is no longer running: a child that has exited and been reaped. */
static long dead_pid(void) {
    pid_t p = fork();
    if (p == 0) _exit(0);
    waitpid(p, NULL, 0);
    return (long)p;
}

int main(void) {
    char root[] = "/tmp/lir_atomic_dir_XXXXXX";
    if (!mkdtemp(root)) return check_done("test_atomic_dir");
    char res[4200], p[8300];
    snprintf(res, sizeof res, "%s/sub/res", root);
    lir_error err;
    atomic_dir d;

    /* a new directory (and its parent) appears only at the commit */
    CHECK(atomic_dir_open(&d, res, ours, &err) == 0, "open: %s", err.msg);
    put(d.tmp, "out1", "one");
    CHECK(!exists(res, NULL), "the directory exists before the commit");
    CHECK(atomic_dir_commit(&d, &err) == 0, "commit: %s", err.msg);
    CHECK(exists(res, "out1"), "committed: out1 in place");
    snprintf(p, sizeof p, "%s/sub", root);
    CHECK(count(p, "res.") == 0, "no temporary folder left");

    /* replaced as a whole: the earlier run's out1 is gone */
    CHECK(atomic_dir_open(&d, res, ours, &err) == 0, "second open: %s", err.msg);
    put(d.tmp, "out2", "two");
    CHECK(exists(res, "out1"), "old results in place during the run");
    CHECK(atomic_dir_commit(&d, &err) == 0, "second commit: %s", err.msg);
    CHECK(exists(res, "out2") && !exists(res, "out1"), "old file left beside the new results");
    CHECK(count(p, "res.") == 0, "no temporary or old folder left after a replacement");

    /* aborted: the old directory as it was, no temporary folder */
    CHECK(atomic_dir_open(&d, res, ours, &err) == 0, "third open: %s", err.msg);
    put(d.tmp, "out3", "three");
    atomic_dir_abort(&d);
    CHECK(exists(res, "out2") && !exists(res, "out3") && count(p, "res.") == 0, "abort");

    /* other files: refused before and at the commit, nothing removed */
    put(res, "notes.txt", "mine");
    CHECK(atomic_dir_check(res, ours, &err) < 0 && strstr(err.msg, "notes.txt"),
          "a foreign file is refused: %s", err.msg);
    CHECK(atomic_dir_open(&d, res, ours, &err) < 0, "open over a foreign file");
    snprintf(p, sizeof p, "%s/notes.txt", res);
    unlink(p);
    CHECK(atomic_dir_open(&d, res, ours, &err) == 0, "open: %s", err.msg);
    put(res, "notes.txt", "appeared during the run");
    CHECK(atomic_dir_commit(&d, &err) < 0 && strstr(err.msg, d.tmp), "commit keeps the results "
          "when a foreign file appeared: %s", err.msg);
    CHECK(exists(res, "notes.txt") && exists(res, "out2") && exists(d.tmp, NULL),
          "nothing removed, the new results kept in %s", d.tmp);
    snprintf(p, sizeof p, "rm -r '%s'", d.tmp);
    CHECK(system(p) == 0, "cleanup");
    snprintf(p, sizeof p, "%s/notes.txt", res);
    unlink(p);
    snprintf(p, sizeof p, "%s/outdir", res);
    mkdir(p, 0777);
    CHECK(atomic_dir_check(res, ours, &err) < 0 && strstr(err.msg, "not a plain file"),
          "a subfolder is refused: %s", err.msg);
    rmdir(p);
    snprintf(p, sizeof p, "%s/link", root);
    CHECK(symlink(res, p) == 0 && atomic_dir_check(p, ours, &err) < 0 &&
              strstr(err.msg, "symbolic link"), "a link is refused: %s", err.msg);
    CHECK(atomic_dir_check(".", ours, &err) < 0 && atomic_dir_check("a/..", ours, &err) < 0 &&
              atomic_dir_check("/", ours, &err) < 0, "'.', '..' and '/' are refused");
    CHECK(atomic_dir_check("runs/new/", ours, &err) == 0, "an absent directory is fine");

    /* a killed run's folder is removed by the next run; a live process's is kept */
    char stale[8400], live[8400];
    snprintf(stale, sizeof stale, "%s.tmp-%ld", res, dead_pid());
    snprintf(live, sizeof live, "%s.tmp-%ld", res, (long)getppid());
    mkdir(stale, 0777);
    mkdir(live, 0777);
    put(stale, "out9", "stale");
    CHECK(atomic_dir_open(&d, res, ours, &err) == 0, "open: %s", err.msg);
    CHECK(!exists(stale, NULL), "the killed run's folder %s is left", stale);
    CHECK(exists(live, NULL), "the folder of a running process was removed");
    atomic_dir_abort(&d);
    rmdir(live);

    snprintf(p, sizeof p, "rm -rf '%s'", root);
    CHECK(system(p) == 0, "cleanup");
    return check_done("test_atomic_dir");
}
