/* cfg.h: Darknet's cfg grammar: "[section]" headers, "key=value" lines, comments
 * starting with '#' or ';', blank lines. The parser keeps line numbers so that
 * every later error can name file and line. Which keys a section may have is
 * checked by the network builder (net.c), not here. */
#ifndef LIR_CFG_H
#define LIR_CFG_H

#include "util.h"

typedef struct {
    char *key, *value;
    int line;
    int used; /* set by the cfg_get_* calls; unused keys are reported as errors */
} cfg_option;

typedef struct {
    char *type; /* "net", "convolutional", ... (without brackets) */
    int line;
    int n_options;
    cfg_option *options;
} cfg_section;

typedef struct {
    char *path;
    int n_sections;
    cfg_section *sections;
} cfg_file;

cfg_file *cfg_parse_file(const char *path, lir_error *err);
cfg_file *cfg_parse_string(const char *text, const char *name, lir_error *err);
void cfg_free(cfg_file *c);

/* Typed getters: return 0 and set *out (to def when the key is absent), or -1 with
 * "<file>:<line>: <key>: expected ..." when the value does not parse. */
int cfg_get_int(const cfg_file *c, cfg_section *s, const char *key, int def, int *out,
                lir_error *err);
int cfg_get_float(const cfg_file *c, cfg_section *s, const char *key, float def, float *out,
                  lir_error *err);
/* Returns the value or def; never fails. */
const char *cfg_get_str(cfg_section *s, const char *key, const char *def);
/* Line of the key's option, or of the section header when the key is absent. */
int cfg_line_of(const cfg_section *s, const char *key);
/* -1 with "<file>:<line>: unknown key '<k>' in [<type>]" for the first unused key. */
int cfg_check_unused(const cfg_file *c, const cfg_section *s, lir_error *err);

#endif
