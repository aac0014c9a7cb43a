/* config_hooks: the hooks of a run config (config_hooks.c), for config.c: one JSON hook
 * object parsed into the list, the margin rules, one hook written back as JSON. */
#ifndef LIR_CONFIG_HOOKS_H
#define LIR_CONFIG_HOOKS_H

#include <cjson/cJSON.h>

#include "train.h"

/* Element i of "hooks" ({"point", "loss", "lambda", margins, "calibrate"}) added to c
 * (or replacing the hook on the same point); what names the file in messages. */
int config_parse_hook(train_config *c, const cJSON *o, int i, const char *what, lir_error *err);
/* Margins given (not calibrated) in the order of their loss kind. */
int config_check_hooks(const train_config *c, lir_error *err);
/* The hook as config.json writes it: only the keys of its loss kind ("loss" itself
 * only when not energy, unless name_loss). */
cJSON *config_hook_json(const config_hook *h, int name_loss);

#endif
