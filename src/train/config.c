/* config.c: the table of `lir train` settings, the strict parsers that fill a
 * train_config from text (flags), JSON (cJSON) and a cfg's [net] section. The table is the
 * single source of defaults, ranges, documentation and the effective-config dump. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config_hooks.h"
#include "nn/nn.h"
#include "train.h"

typedef enum { K_INT, K_I64, K_FLOAT, K_BOOL, K_STR } key_type;

typedef struct {
    const char *key;
    key_type type;
    size_t off, size; /* size: capacity of a string field */
    double min, max;
    const char *def;
    int hashed;        /* changes the training result; HASH_SET: in the hash only when
                          set to other than its default (keys added later, so that
                          earlier runs' hashes, checkpoints and sweep folders stay
                          valid) */
    const char *choices; /* K_STR: "a|b|c" or NULL */
    const char *doc;
} key_spec;

#define F(field) offsetof(train_config, field), sizeof(((train_config *)0)->field)
enum { HASH_SET = 2 };

static const key_spec KEYS[] = {
    {"dataset", K_STR, F(dataset), 0, 0, "cifar10", 1, NULL,
     "in-distribution set (cifar10, cifar100, ... as `lir data` names them), train split"},
    {"data_dir", K_STR, F(data_dir), 0, 0, "", 0, NULL,
     "data directory; empty: $LIR_DATA, else ./data"},
    {"val_size", K_INT, F(val_size), 0, 1e6, "5000", 1, NULL,
     "last N images of the train split held out for validation (0: none); with "
     "init_weights, none of them may be among the images the weights were trained on (their "
     "sidecar says which), unless allow_val_overlap"},
    {"allow_val_overlap", K_BOOL, F(allow_val_overlap), 0, 1, "false", 0, NULL,
     "train although the validation images include images init_weights was trained on "
     "(validation accuracy is then inflated; the sidecar records the overlap)"},
    {"augment", K_BOOL, F(augment), 0, 1, "true", 1, NULL,
     "random 32x32 crop of the 4-pixel zero-padded image + horizontal flip"},
    {"cutout", K_INT, F(cutout), 0, 32, "0", 1, NULL,
     "with augment: side of a square set to the mean colour (0 after normalisation) at a "
     "random centre of each ID training image, clipped at the border (Cutout, DeVries & "
     "Taylor 2017); 0: off"},
    {"classes", K_INT, F(classes), 0, 100000, "0", 1, NULL,
     "outputs of the last layer; 0: the dataset's class count"},
    {"epochs", K_INT, F(epochs), 1, 100000, "100", 1, NULL,
     "epochs; default from [net] max_batches (batches of the full train split)"},
    {"batch", K_INT, F(batch), 1, 65536, "128", 1, NULL,
     "in-distribution images per step; default [net] batch"},
    {"lr", K_FLOAT, F(lr), 0, 100, "0.1", 1, NULL, "base learning rate; default [net] learning_rate"},
    {"momentum", K_FLOAT, F(momentum), 0, 0.9999, "0.9", 1, NULL, "SGD momentum; default [net] momentum"},
    {"weight_decay", K_FLOAT, F(weight_decay), 0, 1, "0.0005", 1, NULL,
     "L2 weight decay on conv/fc weights (not biases, BN); default [net] decay"},
    {"nesterov", K_BOOL, F(nesterov), 0, 1, "false", 1, NULL, "Nesterov momentum"},
    {"label_smoothing", K_FLOAT, F(label_smoothing), 0, 0.999, "0", HASH_SET, NULL,
     "label smoothing eps: the cross-entropy target is (1 - eps) on the label + eps / classes "
     "on every class (Szegedy et al. 2016; PyTorch's cross_entropy(label_smoothing=eps)); "
     "0: one-hot"},
    {"precision", K_STR, F(precision), 0, 0, "fp32", 1, "fp32|bf16",
     "inputs of the conv and fc GEMMs (forward, backward-data, backward-weights): fp32, or "
     "bf16 (mixed precision: operands rounded to bf16, fp32 sums, weights and optimiser "
     "state fp32; `lir info --cpu` says whether the CPU runs it natively)"},
    {"policy", K_STR, F(policy), 0, 0, "cosine", 1, "constant|steps|cosine|onecycle|poly",
     "learning-rate schedule over all steps; default [net] policy"},
    {"min_lr", K_FLOAT, F(min_lr), 0, 100, "0", 1, NULL, "cosine: final learning rate"},
    {"warmup_epochs", K_INT, F(warmup_epochs), 0, 100000, "0", 1, NULL,
     "linear warm-up (not onecycle); default [net] burn_in in batches, rounded to epochs"},
    {"lr_steps", K_STR, F(lr_steps), 0, 0, "", 1, NULL,
     "policy steps: epochs where the rate is multiplied, \"50,75\" (decimals allowed); "
     "default [net] steps as fractions of max_batches times epochs (steps=19550,29325 at "
     "max_batches=39100: \"5,7.5\" for 10 epochs)"},
    {"lr_scales", K_STR, F(lr_scales), 0, 0, "", 1, NULL,
     "policy steps: the factors, \"0.1,0.1\"; default [net] scales"},
    {"seed", K_I64, F(seed), 0, 9007199254740991.0, "1", 1, NULL,
     "seed of weights init, data order, augmentation and outliers"},
    {"init_weights", K_STR, F(init_weights), 0, 0, "", 1, NULL,
     "Darknet .weights to start from (fine-tuning); empty: from scratch"},
    {"outliers", K_STR, F(outliers), 0, 0, "none", 1, NULL,
     "R-EBO outliers: none, synthetic, photos, a dataset name (never an eval_ood set), or a "
     "mixture such as photos:0.7+synthetic:0.3"},
    {"outlier_split", K_STR, F(outlier_split), 0, 0, "train", 1, NULL,
     "split of the dataset outlier sources"},
    {"outlier_batch", K_INT, F(outlier_batch), 1, 65536, "256", 1, NULL,
     "outlier images per step (Liu et al.: 128 ID + 256 outliers)"},
    {"synthetic", K_STR, F(synthetic), 0, 0, "patch_shuffle,mix,noise", 1, NULL,
     "synthetic outlier transforms, each outlier uses one chosen at random"},
    {"eval_ood", K_STR, F(eval_ood), 0, 0, "svhn,mnist,fashionmnist,cifar100", 1, NULL,
     "OOD sets of the planned evaluation: refused as outlier source"},
    {"calib_batches", K_INT, F(calib_batches), 1, 10000, "4", 1, NULL,
     "batches used to calibrate margins at the start of a run"},
    {"calib_quantile", K_FLOAT, F(calib_quantile), 0, 1, "0.5", 1, NULL,
     "calibrated margins: centre c = this quantile of ID energies (energy: m_in = c; band: "
     "[m_in_lo, m_in] = c -+ (q90 - q10) / 2)"},
    {"calib_spread", K_FLOAT, F(calib_spread), 0, 1000, "1", 1, NULL,
     "calibrated outlier margins: this times (q90 - q10) of ID energies beyond the ID margins "
     "(m_out = m_in + it; band: also m_out_lo = m_in_lo - it)"},
    {"bn_sync", K_BOOL, F(bn_sync), 0, 1, "true", 0, NULL,
     "data-parallel runs (mpirun -np K): batch norm normalises with the statistics of the "
     "whole batch, summed over the K processes, so K processes give the result of one; "
     "false: each process its own part's (less communication, a different result)"},
    {"test_flip", K_BOOL, F(test_flip), 0, 1, "false", 0, NULL,
     "final test evaluation: also the accuracy with each image's class probabilities "
     "averaged with those of its mirror image (horizontal-flip test-time augmentation), "
     "reported beside the plain accuracy as test_accuracy_flip"},
    {"out_dir", K_STR, F(out_dir), 0, 0, "runs/train", 0, NULL,
     "results: config.json, log.csv, curves_*.{png,svg,pdf}, checkpoint.bin, final.weights(.json)"},
    {"checkpoint_steps", K_INT, F(checkpoint_steps), 0, 1e9, "0", 0, NULL,
     "extra checkpoint every N steps inside an epoch (0: at epoch ends only)"},
    {"progress_seconds", K_FLOAT, F(progress_seconds), 0, 86400, "10", 0, NULL,
     "seconds between progress lines when stderr is not a terminal"},
    {"stop_after_steps", K_INT, F(stop_after_steps), 0, 2e9, "0", 0, NULL,
     "stop (with a checkpoint) after this many steps in total; 0: run to the end"},
};
#define N_KEYS ((int)(sizeof KEYS / sizeof KEYS[0]))

static const key_spec *key_find(const char *key) {
    for (int i = 0; i < N_KEYS; i++)
        if (!strcmp(KEYS[i].key, key)) return &KEYS[i];
    return NULL;
}

static int choice_ok(const char *choices, const char *v) {
    size_t n = strlen(v);
    for (const char *p = choices; *p;) {
        const char *e = strchr(p, '|');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && !strncmp(p, v, n)) return 1;
        if (!e) break;
        p = e + 1;
    }
    return 0;
}

static const char *type_name(const key_spec *k) {
    switch (k->type) {
    case K_INT:
    case K_I64: return "an integer";
    case K_FLOAT: return "a number";
    case K_BOOL: return "true or false";
    case K_STR: return "a string";
    }
    return "?";
}

int config_key_usage(const char *key, const char **value_name, const char **def) {
    const key_spec *k = key_find(key);
    if (!k) return -1;
    static const char *const names[] = {"<int>", "<int>", "<float>", "true|false", "<str>"};
    *value_name = k->type == K_STR && k->choices ? k->choices : names[k->type];
    *def = k->def;
    return 0;
}

static int range_fail(const key_spec *k, const char *v, lir_error *err) {
    return lir_fail(err, "config key '%s': expected %s in %g..%g, got '%s'", k->key, type_name(k),
                    k->min, k->max, v);
}

/* Stores a number (already parsed) into an int/float/bool field after range checks. */
static int set_number(train_config *c, const key_spec *k, double v, const char *text,
                      lir_error *err) {
    char *dst = (char *)c + k->off;
    if (!isfinite(v) || v < k->min || v > k->max) return range_fail(k, text, err);
    if ((k->type == K_INT || k->type == K_I64 || k->type == K_BOOL) && v != floor(v))
        return range_fail(k, text, err);
    switch (k->type) {
    case K_INT: *(int *)dst = (int)v; break;
    case K_BOOL: *(int *)dst = v != 0; break;
    case K_I64: *(int64_t *)dst = (int64_t)v; break;
    case K_FLOAT: *(float *)dst = (float)v; break;
    case K_STR: break;
    }
    return 0;
}

static int set_string(train_config *c, const key_spec *k, const char *v, lir_error *err) {
    if (k->choices && !choice_ok(k->choices, v))
        return lir_fail(err, "config key '%s': expected one of %s, got '%s'", k->key, k->choices,
                        v);
    if (strlen(v) >= k->size)
        return lir_fail(err, "config key '%s': value longer than %zu characters", k->key,
                        k->size - 1);
    memcpy((char *)c + k->off, v, strlen(v) + 1);
    if (k->off == offsetof(train_config, lr_steps)) c->n_cfg_steps = 0; /* set: as given */
    return 0;
}

static int unknown_key(const char *key, const char *what, lir_error *err) {
    char known[2048] = "";
    for (int i = 0; i < N_KEYS; i++) {
        strncat(known, KEYS[i].key, sizeof known - strlen(known) - 3);
        if (i + 1 < N_KEYS) strncat(known, ", ", sizeof known - strlen(known) - 1);
    }
    return lir_fail(err, "%s: unknown config key '%s' (known: %s, hooks)", what, key, known);
}

int config_set(train_config *c, const char *key, const char *value, lir_error *err) {
    const key_spec *k = key_find(key);
    if (!k) return unknown_key(key, "setting", err);
    if (k->type == K_STR) return set_string(c, k, value, err);
    double v;
    if (k->type == K_BOOL && (!strcmp(value, "true") || !strcmp(value, "false"))) {
        v = value[0] == 't';
    } else {
        char *end;
        errno = 0;
        v = strtod(value, &end);
        if (end == value || *end || errno) return range_fail(k, value, err);
    }
    return set_number(c, k, v, value, err);
}

void config_defaults(train_config *c) {
    memset(c, 0, sizeof *c);
    for (int i = 0; i < N_KEYS; i++) config_set(c, KEYS[i].key, KEYS[i].def, NULL);
}

int config_apply_json(train_config *c, const char *text, const char *what, lir_error *err) {
    cJSON *root = json_parse_strict(text, what, "config", err);
    if (!root) return -1;
    int rc = 0;
    if (!cJSON_IsObject(root)) {
        rc = lir_fail(err, "%s: expected a JSON object at the top level", what);
        goto done;
    }
    for (const cJSON *m = root->child; m && !rc; m = m->next) {
        if (!strcmp(m->string, "hooks")) {
            if (!cJSON_IsArray(m)) {
                rc = lir_fail(err, "%s: config key 'hooks': expected an array", what);
                break;
            }
            c->n_hooks = 0;
            int i = 0;
            for (const cJSON *h = m->child; h && !rc; h = h->next, i++)
                rc = config_parse_hook(c, h, i, what, err);
            continue;
        }
        const key_spec *k = key_find(m->string);
        if (!k) {
            rc = unknown_key(m->string, what, err);
        } else if (k->type == K_STR) {
            rc = cJSON_IsString(m) ? set_string(c, k, m->valuestring, err)
                                   : lir_fail(err, "%s: config key '%s': expected a string", what,
                                              k->key);
        } else if (k->type == K_BOOL) {
            rc = cJSON_IsBool(m) ? set_number(c, k, cJSON_IsTrue(m), "", err)
                                 : lir_fail(err, "%s: config key '%s': expected true or false",
                                            what, k->key);
        } else if (!cJSON_IsNumber(m)) {
            rc = lir_fail(err, "%s: config key '%s': expected %s in %g..%g", what, k->key,
                          type_name(k), k->min, k->max);
        } else {
            char txt[64];
            snprintf(txt, sizeof txt, "%.17g", m->valuedouble);
            rc = set_number(c, k, m->valuedouble, txt, err);
            if (rc) {
                char msg[1024];
                snprintf(msg, sizeof msg, "%s", err ? err->msg : "");
                rc = lir_fail(err, "%s: %s", what, msg);
            }
        }
    }
done:
    cJSON_Delete(root);
    return rc;
}

int config_load_file(train_config *c, const char *path, lir_error *err) {
    size_t len;
    char *text = file_read_all(path, &len, err);
    if (!text) return -1;
    if (strlen(text) != len) {
        lir_fail(err, "%s: byte %zu: a NUL byte (a JSON config is text)", path, strlen(text));
        free(text);
        return -1;
    }
    int rc = config_apply_json(c, text, path, err);
    free(text);
    return rc;
}

int config_check(const train_config *c, lir_error *err) {
    if (config_check_hooks(c, err)) return -1;
    if (c->n_hooks && !strcmp(c->outliers, "none")) {
        for (int i = 0; i < c->n_hooks; i++)
            if (c->hooks[i].reg.lambda > 0)
                return lir_fail(err,
                                "config key 'outliers': hook '%s' has lambda > 0 but outliers is "
                                "\"none\" (use \"synthetic\" or a dataset)",
                                c->hooks[i].point);
    }
    return 0;
}

/* The shortest decimal that reads back as the same float (0.9f prints as 0.9). */
double config_float(float v) {
    char buf[32];
    for (int prec = 6; prec <= 9; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtof(buf, NULL) == v) break;
    }
    return strtod(buf, NULL);
}

/* Whether key k of c holds what its default sets (dflt: config_defaults). */
static int at_default(const key_spec *k, const train_config *c, const train_config *dflt) {
    const char *a = (const char *)c + k->off, *b = (const char *)dflt + k->off;
    return k->type == K_STR ? !strcmp(a, b) : !memcmp(a, b, k->size);
}

/* Every key of c, or (dflt not NULL: for the hash) the keys that change the result. */
static cJSON *to_json(const train_config *c, const train_config *dflt) {
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; i < N_KEYS; i++) {
        const key_spec *k = &KEYS[i];
        if (dflt && (!k->hashed || (k->hashed == HASH_SET && at_default(k, c, dflt)))) continue;
        const char *p = (const char *)c + k->off;
        switch (k->type) {
        case K_INT: cJSON_AddNumberToObject(o, k->key, *(const int *)p); break;
        case K_I64: cJSON_AddNumberToObject(o, k->key, (double)*(const int64_t *)p); break;
        case K_FLOAT: cJSON_AddNumberToObject(o, k->key, config_float(*(const float *)p)); break;
        case K_BOOL: cJSON_AddBoolToObject(o, k->key, *(const int *)p); break;
        case K_STR: cJSON_AddStringToObject(o, k->key, p); break;
        }
    }
    cJSON *hooks = cJSON_AddArrayToObject(o, "hooks");
    for (int i = 0; i < c->n_hooks; i++) cJSON_AddItemToArray(hooks, config_hook_json(&c->hooks[i], 0));
    return o;
}

char *config_to_json(const train_config *c) {
    cJSON *o = to_json(c, NULL);
    char *s = cJSON_Print(o);
    cJSON_Delete(o);
    char *r = xstrdup(s);
    cJSON_free(s);
    return r;
}

uint64_t config_hash(const train_config *c) {
    train_config *dflt = xmalloc(sizeof *dflt);
    config_defaults(dflt);
    cJSON *o = to_json(c, dflt);
    free(dflt);
    char *s = cJSON_PrintUnformatted(o);
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const char *p = s; *p; p++) h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
    cJSON_free(s);
    cJSON_Delete(o);
    return h;
}

void config_print_doc(FILE *f) {
    fprintf(f, "| key | type | default | range | meaning |\n|---|---|---|---|---|\n");
    for (int i = 0; i < N_KEYS; i++) {
        const key_spec *k = &KEYS[i];
        char range[64] = "";
        if (k->choices) {
            snprintf(range, sizeof range, "%s", k->choices);
            for (char *q = range; *q; q++)
                if (*q == '|') *q = '/'; /* '|' would split the Markdown cell */
        }
        else if (k->type == K_INT || k->type == K_I64 || k->type == K_FLOAT)
            snprintf(range, sizeof range, "%.16g..%.16g", k->min, k->max);
        const char *t = k->type == K_STR ? "string" : k->type == K_BOOL ? "bool"
                        : k->type == K_FLOAT ? "number" : "integer";
        fprintf(f, "| `%s` | %s | %s%s%s | %s | %s |\n", k->key, t, k->def[0] ? "`" : "", k->def[0] ? k->def : "(empty)", k->def[0] ? "`" : "", range, k->doc);
    }
}

/* ---- the cfg's [net] section ----------------------------------------------------- */

static int set_num(train_config *c, const char *key, double v, lir_error *err) {
    char buf[64];
    snprintf(buf, sizeof buf, "%.9g", v);
    return config_set(c, key, buf, err);
}

/* policy, and Darknet's rule that steps= and scales= come together and only with
 * policy=steps; the lists are checked even when no max_batches lets them be used. */
static int cfg_policy(train_config *c, const cfg_file *f, cfg_section *s, lir_error *err) {
    const char *pol = cfg_get_str(s, "policy", NULL);
    const char *steps = cfg_get_str(s, "steps", NULL), *scales = cfg_get_str(s, "scales", NULL);
    int p = pol ? lr_policy_parse(pol) : LR_CONSTANT;
    if (p < 0)
        return lir_fail(err, "%s:%d: policy=%s: lir trains with constant, steps, cos, poly",
                        f->path, cfg_line_of(s, "policy"), pol);
    if (pol) snprintf(c->policy, sizeof c->policy, "%s", lr_policy_name((lr_policy)p));
    if ((p == LR_STEPS) != (steps != NULL) || (steps != NULL) != (scales != NULL))
        return lir_fail(err, "%s:%d: policy=steps needs both steps= and scales= (and only it)",
                        f->path, cfg_line_of(s, "policy"));
    lr_schedule tmp;
    lir_error e2;
    if (steps && lr_schedule_set_steps(&tmp, steps, scales, &e2))
        return lir_fail(err, "%s:%d: %s", f->path, cfg_line_of(s, "steps"), e2.msg);
    return 0;
}

/* steps= (batch numbers) as fractions of max_batches, then as epochs of c->epochs. */
static void cfg_steps(train_config *c, cfg_section *s, int max_batches) {
    const char *steps = cfg_get_str(s, "steps", NULL), *scales = cfg_get_str(s, "scales", NULL);
    if (!steps || max_batches <= 0) return;
    lr_schedule tmp;
    lr_schedule_set_steps(&tmp, steps, scales, NULL); /* checked by cfg_policy */
    for (int i = 0; i < tmp.n_steps; i++) c->cfg_step_frac[i] = (double)tmp.steps[i] / max_batches;
    snprintf(c->lr_scales, sizeof c->lr_scales, "%s", scales);
    c->n_cfg_steps = tmp.n_steps;
    config_scale_cfg_steps(c);
}

void config_scale_cfg_steps(train_config *c) {
    if (!c->n_cfg_steps) return;
    char buf[256] = "";
    for (int i = 0; i < c->n_cfg_steps; i++) {
        size_t l = strlen(buf);
        snprintf(buf + l, sizeof buf - l, "%s%.9g", i ? "," : "", c->cfg_step_frac[i] * c->epochs);
    }
    memcpy(c->lr_steps, buf, sizeof c->lr_steps);
}

int config_from_cfg(train_config *c, const cfg_file *f, lir_error *err) {
    cfg_section *s = &f->sections[0];
    if (f->n_sections == 0 || strcmp(s->type, "net"))
        return lir_fail(err, "%s: the first section must be [net]", f->path);
    int batch, max_batches, burn_in;
    float lr, mom, decay;
    if (cfg_get_int(f, s, "batch", c->batch, &batch, err) ||
        cfg_get_int(f, s, "max_batches", 0, &max_batches, err) ||
        cfg_get_int(f, s, "burn_in", 0, &burn_in, err) ||
        cfg_get_float(f, s, "learning_rate", c->lr, &lr, err) ||
        cfg_get_float(f, s, "momentum", c->momentum, &mom, err) ||
        cfg_get_float(f, s, "decay", c->weight_decay, &decay, err))
        return -1;
    lir_error e2;
    if (set_num(c, "batch", batch, &e2) || set_num(c, "lr", lr, &e2) ||
        set_num(c, "momentum", mom, &e2) || set_num(c, "weight_decay", decay, &e2))
        return lir_fail(err, "%s:%d: [net]: %s", f->path, s->line, e2.msg);
    /* max_batches and burn_in count batches of the ID set's full train split */
    int n_train = dataset_train_size(c->dataset);
    if (n_train <= 0)
        return lir_fail(err, "%s: [net]: unknown dataset '%s' to count max_batches in", f->path,
                        c->dataset);
    double per_epoch = (double)n_train / batch;
    if (max_batches > 0) c->epochs = (int)fmax(1, lround(max_batches / per_epoch));
    if (burn_in > 0) c->warmup_epochs = (int)lround(burn_in / per_epoch);
    if (cfg_policy(c, f, s, err)) return -1;
    cfg_steps(c, s, max_batches);
    return 0;
}
