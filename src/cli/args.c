/* args.c: table-driven flag parsing and usage text for lir's commands (declared in cli.h). */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *type_name(const arg_spec *s) {
    switch (s->type) {
    case ARG_INT: return "<int>";
    case ARG_FLOAT: return "<float>";
    case ARG_STR: return "<str>";
    case ARG_BOOL: return "";
    case ARG_CHOICE: return s->choices;
    }
    return "";
}

void args_usage(const arg_cmd *cmd, FILE *f) {
    fprintf(f, "usage: lir %s%s%s [options]\n", cmd->name, cmd->synopsis[0] ? " " : "",
            cmd->synopsis);
    fprintf(f, "  %s\n", cmd->summary);
    fprintf(f, "options:\n");
    int width = 0;
    for (int i = 0; i < cmd->n_specs; i++) {
        int w = (int)(strlen(cmd->specs[i].name) + strlen(type_name(&cmd->specs[i])) + 3);
        if (w > width) width = w;
    }
    if (width < 6) width = 6;
    for (int i = 0; i < cmd->n_specs; i++) {
        const arg_spec *s = &cmd->specs[i];
        char left[256];
        snprintf(left, sizeof left, "--%s %s", s->name, type_name(s));
        fprintf(f, "  %-*s  %s", width, left, s->help);
        if (s->type == ARG_BOOL)
            fprintf(f, " (default %s)\n", s->def && !strcmp(s->def, "1") ? "on" : "off");
        else if (s->def)
            fprintf(f, " (default %s)\n", s->def[0] ? s->def : "\"\"");
        else
            fprintf(f, " (default none)\n");
    }
    fprintf(f, "  %-*s  %s\n", width, "--help", "print this help and exit");
}

static int choice_ok(const char *choices, const char *v) {
    size_t n = strlen(v);
    const char *p = choices;
    while (*p) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && !strncmp(p, v, n)) return 1;
        if (!bar) break;
        p = bar + 1;
    }
    return 0;
}

/* Stores text v into s->dst; on a bad value writes what was expected into why. */
static int set_value(const arg_spec *s, const char *v, char *why, size_t why_n) {
    char *end;
    switch (s->type) {
    case ARG_INT: {
        errno = 0;
        long x = strtol(v, &end, 10);
        if (!*v || *end || errno || x < INT_MIN || x > INT_MAX) {
            snprintf(why, why_n, "expected an integer, got '%s'", v);
            return -1;
        }
        *(int *)s->dst = (int)x;
        return 0;
    }
    case ARG_FLOAT: {
        errno = 0;
        float x = strtof(v, &end);
        if (!*v || *end || errno || !isfinite(x)) {
            snprintf(why, why_n, "expected a finite number, got '%s'", v);
            return -1;
        }
        *(float *)s->dst = x;
        return 0;
    }
    case ARG_BOOL:
        if (strcmp(v, "0") && strcmp(v, "1")) {
            snprintf(why, why_n, "expected 0 or 1, got '%s'", v);
            return -1;
        }
        *(int *)s->dst = v[0] == '1';
        return 0;
    case ARG_CHOICE:
        if (!choice_ok(s->choices, v)) {
            snprintf(why, why_n, "expected one of %s, got '%s'", s->choices, v);
            return -1;
        }
        *(const char **)s->dst = v;
        return 0;
    case ARG_STR:
        *(const char **)s->dst = v;
        return 0;
    }
    return -1;
}

/* Prints "lir <cmd>: <message>" and the usage to stderr; returns exit status 2. */
static int usage_error(const arg_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int usage_error(const arg_cmd *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "lir %s: ", cmd->name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    args_usage(cmd, stderr);
    return 2;
}

static const arg_spec *find_spec(const arg_cmd *cmd, const char *name, size_t len) {
    for (int i = 0; i < cmd->n_specs; i++)
        if (strlen(cmd->specs[i].name) == len && !strncmp(cmd->specs[i].name, name, len))
            return &cmd->specs[i];
    return NULL;
}

int args_parse(const arg_cmd *cmd, int argc, char **argv, char **pos, int *npos) {
    char why[512];
    for (int i = 0; i < cmd->n_specs; i++) {
        const arg_spec *s = &cmd->specs[i];
        if (!s->def) {
            if (s->type == ARG_STR || s->type == ARG_CHOICE) *(const char **)s->dst = NULL;
            continue;
        }
        if (set_value(s, s->def, why, sizeof why)) {
            fprintf(stderr, "lir %s: bad default of --%s: %s\n", cmd->name, s->name, why);
            return 2;
        }
    }
    *npos = 0;
    int flags_done = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (flags_done || a[0] != '-' || !strcmp(a, "-")) {
            pos[(*npos)++] = argv[i];
            continue;
        }
        if (!strcmp(a, "--")) {
            flags_done = 1;
            continue;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            args_usage(cmd, stdout);
            return 0;
        }
        if (a[1] != '-') return usage_error(cmd, "unknown option '%s' (flags are --long)", a);
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const arg_spec *s = find_spec(cmd, name, len);
        if (!s) return usage_error(cmd, "unknown option '--%.*s'", (int)len, name);
        const char *v;
        if (eq) {
            v = eq + 1;
        } else if (s->type == ARG_BOOL) {
            v = "1";
        } else if (i + 1 < argc) {
            v = argv[++i];
        } else {
            return usage_error(cmd, "--%s needs a value (%s)", s->name, type_name(s));
        }
        if (set_value(s, v, why, sizeof why)) return usage_error(cmd, "--%s: %s", s->name, why);
    }
    if (*npos < cmd->min_pos || (cmd->max_pos >= 0 && *npos > cmd->max_pos)) {
        if (cmd->max_pos < 0)
            return usage_error(cmd, "expected at least %d argument(s) (%s), got %d",
                               cmd->min_pos, cmd->synopsis, *npos);
        if (cmd->min_pos == cmd->max_pos)
            return usage_error(cmd, "expected %d argument(s) (%s), got %d", cmd->min_pos,
                               cmd->synopsis, *npos);
        return usage_error(cmd, "expected %d to %d arguments (%s), got %d", cmd->min_pos,
                           cmd->max_pos, cmd->synopsis, *npos);
    }
    return ARGS_RUN;
}
