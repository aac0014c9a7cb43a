/* config.h: the run configuration of `lir train`: every setting with its type, range,
 * default and one line of documentation in one table (config.c), filled in this order:
 *   built-in defaults < the cfg's [net] section < a JSON run config < command-line flags.
 * Parsing is strict: unknown keys, wrong types and out-of-range values are refused
 * with a message naming the key. The effective config is written back as JSON. */
#ifndef LIR_CONFIG_H
#define LIR_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "util.h"

#define CONFIG_MAX_HOOKS 64

/* One regularised hook point (R-EBO, METHOD.md section 2). */
typedef struct {
    char point[64];
    float lambda;
    float m_in, m_out; /* ignored (set at start) when calibrate = 1 */
    int calibrate;
} config_hook;

typedef struct {
    /* data */
    char dataset[96];
    char data_dir[1024];
    int val_size;
    int augment;
    int cutout; /* side of the Cutout square, 0: off (with augment only) */
    int classes;
    /* optimisation */
    int epochs;
    int batch;
    float lr, momentum, weight_decay, min_lr;
    int nesterov;
    char policy[16];
    int warmup_epochs;
    char lr_steps[256];  /* epochs, "50,75" */
    char lr_scales[256]; /* "0.1,0.1" */
    int64_t seed;
    char init_weights[1024];
    /* R-EBO */
    char outliers[96]; /* "none", "synthetic" or a dataset name */
    char outlier_split[16];
    int outlier_batch;
    char synthetic[128]; /* comma list of patch_shuffle, mix, noise */
    char eval_ood[512];  /* comma list of the planned evaluation's OOD sets */
    int calib_batches;
    float calib_quantile, calib_spread;
    int n_hooks;
    config_hook hooks[CONFIG_MAX_HOOKS];
    /* run control (not part of the config hash) */
    char out_dir[1024];
    int checkpoint_steps;
    float progress_seconds;
    int stop_after_steps;
} train_config;

/* Fills the settings a cfg's [net] section gives (batch, learning_rate, momentum,
 * decay, policy, steps/scales, burn_in, max_batches) into c. max_batches and burn_in
 * count batches of the full CIFAR train split (50,000 images); steps are taken as
 * fractions of max_batches, so the schedule keeps its shape when epochs change. */
int config_from_cfg(train_config *c, const char *cfg_path, lir_error *err);

/* Built-in defaults (see docs/train-config.md). */
void config_defaults(train_config *c);

/* Sets one top-level key from text (a flag value or cfg value); -1 naming the key
 * and the accepted range. "hooks" cannot be set this way. */
int config_set(train_config *c, const char *key, const char *value, lir_error *err);

/* Applies a JSON document (an object) over c; what names it in messages. */
int config_apply_json(train_config *c, const char *text, const char *what, lir_error *err);
int config_load_file(train_config *c, const char *path, lir_error *err);

/* Checks the cross-key rules (e.g. m_out > m_in for hooks with fixed margins). */
int config_check(const train_config *c, lir_error *err);

/* Adds (or replaces, by point name) a hook; -1 when the table is full. */
int config_add_hook(train_config *c, const config_hook *h, lir_error *err);

/* The effective config as a JSON text (malloc'd). */
char *config_to_json(const train_config *c);

/* FNV-1a hash of every setting that changes the training result (run-control keys
 * out_dir, checkpoint_steps, progress_seconds, stop_after_steps and data_dir excluded). */
uint64_t config_hash(const train_config *c);

/* The shortest decimal that reads back as the same float, as a double (for JSON:
 * 0.01f prints as 0.01, not 0.0099999998). */
double config_float(float v);

/* Markdown table of every key (type, default, range, meaning), for the docs. */
void config_print_doc(FILE *f);

#endif
