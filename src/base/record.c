/* record.c: paths and command lines as results and sidecars record them, free of the
 * layout of the machine that made them (no absolute paths): relative to a named
 * directory ("<data dir>/..."), to the working directory, or shortened to ".../name". */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base.h"

/* Length of dir without trailing slashes (but "/" stays "/"). */
static size_t dir_len(const char *dir) {
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/') n--;
    return n;
}

/* path is dir itself (rest = "") or lies below it (rest = the part after "dir/"). */
static int below(const char *path, const char *dir, const char **rest) {
    size_t n = dir_len(dir);
    if (n == 0 || strncmp(path, dir, n)) return 0;
    if (path[n] == 0) {
        *rest = path + n;
        return 1;
    }
    if (path[n] != '/' && !(n == 1 && dir[0] == '/')) return 0;
    *rest = path + n + (path[n] == '/');
    return 1;
}

void path_record(const char *path, const path_alias *aliases, int n_alias, char *out, size_t n) {
    const char *rest, *r;
    int best = -1; /* the innermost aliased directory holding path */
    for (int i = 0; i < n_alias; i++)
        if (aliases[i].dir && aliases[i].dir[0] && below(path, aliases[i].dir, &r) &&
            (best < 0 || dir_len(aliases[i].dir) > dir_len(aliases[best].dir)))
            best = i, rest = r;
    if (best >= 0) {
        snprintf(out, n, "%s%s%s", aliases[best].as, *rest ? "/" : "", rest);
        return;
    }
    if (path[0] != '/') {
        snprintf(out, n, "%s", path);
        return;
    }
    char cwd[4096];
    if (getcwd(cwd, sizeof cwd) && below(path, cwd, &rest)) {
        snprintf(out, n, "%s", *rest ? rest : ".");
        return;
    }
    size_t end = dir_len(path), start = end; /* the last name, trailing slashes ignored */
    while (start > 0 && path[start - 1] != '/') start--;
    snprintf(out, n, ".../%.*s", (int)(end - start), path + start);
}

void path_alias_of(path_alias *a, const char *dir, const char *as) {
    a->dir = dir && dir[0] ? dir : NULL;
    a->as = as;
}

char *command_record(const char *command, const path_alias *aliases, int n_alias) {
    size_t cap = strlen(command) + 64, len = 0;
    char *out = xmalloc(cap);
    out[0] = 0;
    const char *p = command;
    while (*p) {
        size_t tok = strcspn(p, " "), pre = 0;
        char word[4096], rec[8400];
        snprintf(word, sizeof word, "%.*s", (int)tok, p);
        const char *eq = strchr(word, '=');
        if (word[0] == '-' && eq && eq[1] == '/') pre = (size_t)(eq + 1 - word); /* --x=/path */
        if (word[pre] == '/') {
            char head[4096];
            snprintf(head, sizeof head, "%.*s", (int)pre, word);
            char tail[4200];
            path_record(word + pre, aliases, n_alias, tail, sizeof tail);
            snprintf(rec, sizeof rec, "%s%s", head, tail);
        } else {
            snprintf(rec, sizeof rec, "%s", word);
        }
        size_t add = strlen(rec) + 1;
        if (len + add + 1 > cap) out = xrealloc(out, cap = 2 * (len + add + 1));
        memcpy(out + len, rec, add - 1);
        len += add - 1;
        p += tok;
        while (*p == ' ') out[len++] = *p++;
        out[len] = 0;
    }
    return out;
}

/* c may be part of a path name (so a match next to it is part of a longer word). */
static int path_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.' || c == '/';
}

void text_record(const char *text, const char *dir, const char *as, char *out, size_t n) {
    size_t dn = dir ? dir_len(dir) : 0, len = 0;
    if (n == 0) return;
    out[0] = 0;
    const char *start = text;
    while (*text && len + 1 < n) {
        int whole = dn && !strncmp(text, dir, dn) && (text == start || !path_char(text[-1])) &&
                    (text[dn] == '/' || !path_char(text[dn]));
        if (whole) {
            len += (size_t)snprintf(out + len, n - len, "%s", as);
            if (len >= n) len = n - 1;
            text += dn;
        } else {
            out[len++] = *text++;
            out[len] = 0;
        }
    }
}
