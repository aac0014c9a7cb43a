/* args.c: table-driven flag parsing and usage text for lir's commands (declared in cli.h). */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Flags lir renamed to one vocabulary: the old spelling is refused naming the new one.
 * cmd NULL: in every command. */
static const struct {
    const char *cmd, *old, *now, *note;
} renamed[] = {
    {"train", "weights", "init-weights", " (the weights to start from; lir eval's --weights "
                                         "is the network evaluated)"},
    {"train", "dataset", "in", " (the in-distribution set, as in lir eval)"},
    {"train", "data-dir", "data", ""},
    {"train", "out", "outdir", " (lir eval's --out names the OOD sets)"},
    {"predict", "norm", "in", " (the in-distribution set: its mean/std and class names)"},
    {"data info", "dir", "data", ""},
    {"data bench", "dir", "data", ""},
};

static const char *type_name(const arg_spec *s) {
    if (s->values) return s->values;
    switch (s->type) {
    case ARG_INT: return "<int>";
    case ARG_FLOAT: return "<float>";
    case ARG_STR: return "<str>";
    case ARG_BOOL:
    case ARG_CHOICE: return "";
    case ARG_BYTES: return "<size>";
    }
    return "";
}

/* "--name <type>", or "--[no-]name" for a bool. */
static void flag_text(const arg_spec *s, char *buf, size_t n) {
    if (s->type == ARG_BOOL) snprintf(buf, n, "--[no-]%s", s->name);
    else snprintf(buf, n, "--%s %s", s->name, type_name(s));
}

void args_usage(const arg_cmd *cmd, FILE *f) {
    fprintf(f, "usage: lir %s%s%s [options]\n", cmd->name, cmd->synopsis[0] ? " " : "",
            cmd->synopsis);
    fprintf(f, "  %s\n", cmd->summary);
    fprintf(f, "options:\n");
    int width = 6;
    char left[256];
    for (int i = 0; i < cmd->n_specs; i++) {
        flag_text(&cmd->specs[i], left, sizeof left);
        if ((int)strlen(left) > width) width = (int)strlen(left);
    }
    for (int i = 0; i < cmd->n_specs; i++) {
        const arg_spec *s = &cmd->specs[i];
        flag_text(s, left, sizeof left);
        fprintf(f, "  %-*s  %s", width, left, s->help);
        if (s->type == ARG_BOOL)
            fprintf(f, " (default %s)\n", s->def && !strcmp(s->def, "1") ? "on" : "off");
        else if (s->def)
            fprintf(f, " (default %s)\n", s->def[0] ? s->def : "\"\"");
        else if (s->unset && !strcmp(s->unset, ARG_REQUIRED))
            fprintf(f, " (required)\n");
        else if (s->unset)
            fprintf(f, " (default: %s)\n", s->unset);
        else
            fprintf(f, "\n");
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
        if (!choice_ok(s->values, v)) {
            snprintf(why, why_n, "expected one of %s, got '%s'", s->values, v);
            return -1;
        }
        *(const char **)s->dst = v;
        return 0;
    case ARG_STR:
        *(const char **)s->dst = v;
        return 0;
    case ARG_BYTES:
        if (!strcmp(v, "auto")) {
            *(uint64_t *)s->dst = 0;
            return 0;
        }
        if (lir_parse_bytes(v, (uint64_t *)s->dst)) {
            snprintf(why, why_n, "expected a size like 8G, 512M or auto, got '%s'", v);
            return -1;
        }
        return 0;
    }
    return -1;
}

/* Prints "lir <cmd>: <message>" and the usage to stderr; returns exit status 2. */
static int usage_error(const arg_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int usage_error(const arg_cmd *cmd, const char *fmt, ...) {
    char raw[1024], esc[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap); /* holds the user's words: printed escaped */
    va_end(ap);
    fprintf(stderr, "lir %s: %s\n", cmd->name, lir_escape(raw, esc, sizeof esc));
    args_usage(cmd, stderr);
    return 2;
}

static const arg_spec *find_spec(const arg_cmd *cmd, const char *name, size_t len) {
    for (int i = 0; i < cmd->n_specs; i++)
        if (strlen(cmd->specs[i].name) == len && !strncmp(cmd->specs[i].name, name, len))
            return &cmd->specs[i];
    return NULL;
}

/* An unknown --name: the message names its new spelling if lir renamed it. */
static int unknown_flag(const arg_cmd *cmd, const char *name, size_t len) {
    for (size_t i = 0; i < sizeof renamed / sizeof renamed[0]; i++)
        if ((!renamed[i].cmd || !strcmp(renamed[i].cmd, cmd->name)) &&
            strlen(renamed[i].old) == len && !strncmp(renamed[i].old, name, len))
            return usage_error(cmd, "--%s is now --%s%s", renamed[i].old, renamed[i].now,
                               renamed[i].note);
    return usage_error(cmd, "unknown option '--%.*s'", (int)len, name);
}

/* Finds the flag of "--name[=value]" (a = name): *s, and whether it was "--no-<bool>". */
static int lookup(const arg_cmd *cmd, const char *name, size_t len, const arg_spec **s,
                  int *negated) {
    *negated = 0;
    *s = find_spec(cmd, name, len);
    if (!*s && len > 3 && !strncmp(name, "no-", 3)) {
        *s = find_spec(cmd, name + 3, len - 3);
        if (*s && (*s)->type != ARG_BOOL)
            return usage_error(cmd, "--%.*s: --no- only goes with on/off flags", (int)len, name);
        *negated = *s != NULL;
    }
    return *s ? 0 : unknown_flag(cmd, name, len);
}

int args_parse(const arg_cmd *cmd, int argc, char **argv, char **pos, int *npos) {
    char why[512];
    int rc;
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
        const arg_spec *s;
        int negated;
        if ((rc = lookup(cmd, name, len, &s, &negated))) return rc;
        const char *v;
        if (negated && eq) {
            return usage_error(cmd, "--%.*s takes no value", (int)len, name);
        } else if (negated) {
            v = "0";
        } else if (eq) {
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
