/* cfg.c: Darknet's cfg grammar. Each line is stripped of all whitespace (as
 * Darknet does); "[type]" opens a section, "#"/";" lines and blank lines are
 * skipped, everything else must be "key=value" inside a section. Sections and
 * options keep their line numbers for later messages. */
#include "nn.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Removes every space, tab, CR and LF in place (Darknet's strip()). */
static void cfg_strip(char *s) {
    char *w = s;
    for (char *r = s; *r; r++)
        if (*r != ' ' && *r != '\t' && *r != '\r' && *r != '\n') *w++ = *r;
    *w = 0;
}

static void cfg_add_section(cfg_file *c, const char *type, int line) {
    c->sections = xrealloc(c->sections, (size_t)(c->n_sections + 1) * sizeof *c->sections);
    cfg_section *s = &c->sections[c->n_sections++];
    s->type = xstrdup(type);
    s->line = line;
    s->n_options = 0;
    s->options = NULL;
}

/* Parses one stripped line; returns -1 with a message on a grammar error. */
static int cfg_parse_line(cfg_file *c, char *s, int line, lir_error *err) {
    if (s[0] == 0 || s[0] == '#' || s[0] == ';') return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return lir_fail(err, "%s:%d: control character 0x%02x in '%s' (a cfg is plain text)",
                            c->path, line, *p, s);
    if (s[0] == '[') {
        size_t n = strlen(s);
        if (n < 3 || s[n - 1] != ']')
            return lir_fail(err, "%s:%d: expected a section header like [convolutional], got '%s'",
                            c->path, line, s);
        s[n - 1] = 0;
        cfg_add_section(c, s + 1, line);
        return 0;
    }
    char *eq = strchr(s, '=');
    if (!eq || eq == s)
        return lir_fail(err, "%s:%d: expected key=value, got '%s'", c->path, line, s);
    if (c->n_sections == 0)
        return lir_fail(err, "%s:%d: option '%s' before the first [section]", c->path, line, s);
    *eq = 0;
    cfg_section *sec = &c->sections[c->n_sections - 1];
    for (int i = 0; i < sec->n_options; i++)
        if (!strcmp(sec->options[i].key, s))
            return lir_fail(err, "%s:%d: key '%s' given twice in [%s] (first at line %d)", c->path,
                            line, s, sec->type, sec->options[i].line);
    sec->options = xrealloc(sec->options, (size_t)(sec->n_options + 1) * sizeof *sec->options);
    cfg_option *o = &sec->options[sec->n_options++];
    o->key = xstrdup(s);
    o->value = xstrdup(eq + 1);
    o->line = line;
    o->used = 0;
    return 0;
}

cfg_file *cfg_parse_string(const char *text, const char *name, lir_error *err) {
    cfg_file *c = xcalloc(1, sizeof *c);
    c->path = xstrdup(name);
    char *buf = xstrdup(text);
    int line = 0;
    char *p = buf;
    while (*p) {
        char *end = strchr(p, '\n');
        if (end) *end = 0;
        line++;
        cfg_strip(p);
        if (cfg_parse_line(c, p, line, err) < 0) {
            free(buf);
            cfg_free(c);
            return NULL;
        }
        if (!end) break;
        p = end + 1;
    }
    free(buf);
    if (c->n_sections == 0) {
        lir_fail(err, "%s: no sections (expected [net] followed by layers)", name);
        cfg_free(c);
        return NULL;
    }
    return c;
}

cfg_file *cfg_parse_file(const char *path, lir_error *err) {
    size_t len;
    char *text = file_read_all(path, &len, err);
    if (!text) return NULL;
    if (strlen(text) != len) {
        lir_fail(err, "%s: contains a NUL byte (not a text cfg file)", path);
        free(text);
        return NULL;
    }
    cfg_file *c = cfg_parse_string(text, path, err);
    free(text);
    return c;
}

void cfg_free(cfg_file *c) {
    if (!c) return;
    for (int i = 0; i < c->n_sections; i++) {
        cfg_section *s = &c->sections[i];
        for (int j = 0; j < s->n_options; j++) {
            free(s->options[j].key);
            free(s->options[j].value);
        }
        free(s->options);
        free(s->type);
    }
    free(c->sections);
    free(c->path);
    free(c);
}

static cfg_option *cfg_find(cfg_section *s, const char *key) {
    for (int i = 0; i < s->n_options; i++)
        if (!strcmp(s->options[i].key, key)) {
            s->options[i].used = 1;
            return &s->options[i];
        }
    return NULL;
}

int cfg_get_int(const cfg_file *c, cfg_section *s, const char *key, int def, int *out,
                lir_error *err) {
    cfg_option *o = cfg_find(s, key);
    if (!o) {
        *out = def;
        return 0;
    }
    char *end;
    errno = 0;
    long v = strtol(o->value, &end, 10);
    if (end == o->value || *end || errno || v < INT_MIN || v > INT_MAX)
        return lir_fail(err, "%s:%d: %s: expected an integer, got '%s'", c->path, o->line, key,
                        o->value);
    *out = (int)v;
    return 0;
}

int cfg_get_float(const cfg_file *c, cfg_section *s, const char *key, float def, float *out,
                  lir_error *err) {
    cfg_option *o = cfg_find(s, key);
    if (!o) {
        *out = def;
        return 0;
    }
    char *end;
    errno = 0;
    float v = strtof(o->value, &end);
    if (end == o->value || *end || errno || !isfinite(v))
        return lir_fail(err, "%s:%d: %s: expected a number, got '%s'", c->path, o->line, key,
                        o->value);
    *out = v;
    return 0;
}

const char *cfg_get_str(cfg_section *s, const char *key, const char *def) {
    cfg_option *o = cfg_find(s, key);
    return o ? o->value : def;
}

int cfg_check_unused(const cfg_file *c, const cfg_section *s, lir_error *err) {
    for (int i = 0; i < s->n_options; i++)
        if (!s->options[i].used)
            return lir_fail(err, "%s:%d: unknown key '%s' in [%s]", c->path, s->options[i].line,
                            s->options[i].key, s->type);
    return 0;
}

int cfg_line_of(const cfg_section *s, const char *key) {
    for (int i = 0; i < s->n_options; i++)
        if (!strcmp(s->options[i].key, key)) return s->options[i].line;
    return s->line;
}
