/* atomic_dir.c: output directories written whole or not at all (base.h): a run writes
 * into "<path>.tmp-<pid>" and the commit puts that folder in the place of path, replacing
 * an earlier run's directory as a whole. */
#include "base.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* path without trailing '/' into out; its last component must name a directory that
 * can be replaced (not "", ".", ".." or "/"). */
static int dir_path(const char *path, char *out, size_t size, lir_error *err) {
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/') n--;
    if (n >= size) return lir_fail(err, "output directory name too long: %.200s...", path);
    memcpy(out, path, n);
    out[n] = 0;
    const char *last = strrchr(out, '/');
    last = last ? last + 1 : out;
    if (!*last || !strcmp(last, ".") || !strcmp(last, ".."))
        return lir_fail(err, "output directory '%s': name a directory of its own (not '%s'): "
                        "it is replaced as a whole", path, *last ? last : "/");
    return 0;
}

/* 0 when path is absent (*exists = 0) or a directory of plain files that ours accepts
 * (*exists = 1); -1 otherwise, naming what is in the way. */
static int dir_scan(const char *path, atomic_dir_ours ours, int *exists, lir_error *err) {
    struct stat st;
    *exists = 0;
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT) return 0;
        return lir_fail(err, "output directory %s: %s", path, strerror(errno));
    }
    if (S_ISLNK(st.st_mode))
        return lir_fail(err, "output directory %s is a symbolic link: give the directory "
                        "itself (it is replaced as a whole)", path);
    if (!S_ISDIR(st.st_mode))
        return lir_fail(err, "output directory %s exists and is not a directory", path);
    DIR *dir = opendir(path);
    if (!dir) return lir_fail(err, "output directory %s: %s", path, strerror(errno));
    int rc = 0;
    char full[8400];
    for (struct dirent *e; rc == 0 && (e = readdir(dir));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(full, sizeof full, "%s/%s", path, e->d_name);
        int plain = lstat(full, &st) == 0 && S_ISREG(st.st_mode);
        if (!plain || !ours(e->d_name))
            rc = lir_fail(err, "output directory %s holds %s%s, which is not an output of this "
                          "command: the directory is replaced as a whole, so give a new one or "
                          "remove it first", path, e->d_name, plain ? "" : " (not a plain file)");
    }
    closedir(dir);
    *exists = 1;
    return rc;
}

int atomic_dir_check(const char *path, atomic_dir_ours ours, lir_error *err) {
    char p[4096];
    int exists;
    return dir_path(path, p, sizeof p, err) < 0 ? -1 : dir_scan(p, ours, &exists, err);
}

/* Removes the plain files of dir and dir itself (a folder dir_scan accepted). */
static int dir_remove(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    char full[8400];
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(full, sizeof full, "%s/%s", dir, e->d_name);
        unlink(full);
    }
    closedir(d);
    return rmdir(dir);
}

/* Removes "<path>.tmp-<pid>" and "<path>.old-<pid>" folders whose process is gone and
 * which hold only files ours accepts (left by a run that was killed). */
static void clean_stale(const atomic_dir *d) {
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", d->path);
    char *slash = strrchr(parent, '/');
    const char *base = slash ? slash + 1 : d->path;
    if (slash == parent) parent[1] = 0;
    else if (slash) *slash = 0;
    else snprintf(parent, sizeof parent, ".");
    DIR *dir = opendir(parent);
    if (!dir) return;
    size_t bn = strlen(base);
    char full[8400];
    for (struct dirent *e; (e = readdir(dir));) {
        const char *s = e->d_name;
        if (strncmp(s, base, bn) || (strncmp(s + bn, ".tmp-", 5) && strncmp(s + bn, ".old-", 5)))
            continue;
        char *end;
        long pid = strtol(s + bn + 5, &end, 10);
        int exists;
        if (*end || pid <= 0 || pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        snprintf(full, sizeof full, "%s/%s", parent, s);
        if (dir_scan(full, d->ours, &exists, NULL) == 0 && exists) dir_remove(full);
    }
    closedir(dir);
}

int atomic_dir_open(atomic_dir *d, const char *path, atomic_dir_ours ours, lir_error *err) {
    memset(d, 0, sizeof *d);
    d->ours = ours;
    int exists;
    if (dir_path(path, d->path, sizeof d->path, err) < 0 ||
        dir_scan(d->path, ours, &exists, err) < 0)
        return -1;
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", d->path);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = 0;
        if (make_dirs(parent, err) < 0) return -1;
    }
    clean_stale(d);
    snprintf(d->tmp, sizeof d->tmp, "%s.tmp-%ld", d->path, (long)getpid());
    if (mkdir(d->tmp, 0777) != 0)
        return lir_fail(err, "cannot create directory %s: %s", d->tmp, strerror(errno));
    d->open = 1;
    return 0;
}

/* Where the exchange of two directories is not available (another kernel or file
 * system): the old one moved aside, the new one in its place, the old one removed. */
static int commit_by_moves(atomic_dir *d, lir_error *err) {
    char old[4300];
    snprintf(old, sizeof old, "%s.old-%ld", d->path, (long)getpid());
    if (rename(d->path, old) != 0)
        return lir_fail(err, "cannot move %s aside: %s; the new results are in %s", d->path,
                        strerror(errno), d->tmp);
    if (rename(d->tmp, d->path) != 0) {
        int e = errno;
        rename(old, d->path);
        return lir_fail(err, "cannot rename %s to %s: %s; the new results are in %s", d->tmp,
                        d->path, strerror(e), d->tmp);
    }
    dir_remove(old);
    return 0;
}

int atomic_dir_commit(atomic_dir *d, lir_error *err) {
    int exists, rc;
    lir_error why;
    if (dir_scan(d->path, d->ours, &exists, &why) < 0)
        return lir_fail(err, "%s; the new results are in %s", why.msg, d->tmp);
    if (!exists) {
        rc = rename(d->tmp, d->path) == 0
                 ? 0
                 : lir_fail(err, "cannot rename %s to %s: %s; the new results are in %s",
                            d->tmp, d->path, strerror(errno), d->tmp);
    } else if (renameat2(AT_FDCWD, d->tmp, AT_FDCWD, d->path, RENAME_EXCHANGE) == 0) {
        dir_remove(d->tmp); /* now the earlier run's files */
        rc = 0;
    } else if (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP) {
        rc = commit_by_moves(d, err);
    } else {
        rc = lir_fail(err, "cannot exchange %s and %s: %s; the new results are in %s", d->tmp,
                      d->path, strerror(errno), d->tmp);
    }
    d->open = 0; /* done, or kept for the user */
    return rc;
}

void atomic_dir_abort(atomic_dir *d) {
    if (d->open) dir_remove(d->tmp);
    d->open = 0;
}
