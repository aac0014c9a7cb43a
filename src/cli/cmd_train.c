/* cmd_train.c: `lir train <cfg>`: builds the run config (defaults < cfg [net] (or, with
 * --resume, the run's config.json) < --config JSON < flags < --set, then the cfg's
 * [hook] sections), runs or resumes training (train.c). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "nn/nn.h"
#include "train/train.h"

/* A flag that sets one config key; vname: the value's name in the usage (NULL: from
 * the key's type); unset: the default in words when the built-in one needs them. */
typedef struct {
    const char *flag, *key, *vname, *unset;
    const char *value;
} override;

static const override OVERRIDES[] = {
    {"epochs", "epochs", NULL, NULL, NULL},
    {"batch", "batch", NULL, NULL, NULL},
    {"lr", "lr", NULL, NULL, NULL},
    {"seed", "seed", NULL, NULL, NULL},
    {"init-weights", "init_weights", "<file>", "none (from scratch)", NULL},
    {"in", "dataset", "<set>", NULL, NULL},
    {"data", "data_dir", "<dir>", "$LIR_DATA, else ./data", NULL},
    {"outdir", "out_dir", "<dir>", NULL, NULL},
    {"outliers", "outliers", "none|synthetic|<set>", NULL, NULL},
    {"val-size", "val_size", NULL, NULL, NULL},
    {"stop-after-steps", "stop_after_steps", NULL, NULL, NULL},
    {"checkpoint-steps", "checkpoint_steps", NULL, NULL, NULL},
    {"progress-seconds", "progress_seconds", NULL, NULL, NULL},
};
enum { NOV = sizeof OVERRIDES / sizeof OVERRIDES[0], NOWN = 7, NSPECS = NOWN + NOV };

/* The flags of lir train and where they land. */
typedef struct {
    const char *config_path, *resume, *set;
    int print_config, print_hash, doc;
    uint64_t max_mem;
    override ov[NOV];
    char help[NOV][64], unset[NOV][96];
    arg_spec specs[NSPECS];
    arg_cmd cmd;
} train_args;

/* The flag table: seven of its own, then one per config key a flag sets (parsed as
 * text: config_set checks type and range). */
static void train_flags(train_args *a) {
    const arg_spec own[NOWN] = {
        {"config", ARG_STR, &a->config_path, NULL, "JSON run config (docs/train-config.md)",
         "<file>", "none: the cfg's [net] and built-in defaults"},
        {"resume", ARG_STR, &a->resume, NULL,
         "continue the run in this directory from its checkpoint.bin (uses its config.json)",
         "<dir>", "none: a new run"},
        {"set", ARG_STR, &a->set, NULL, "more settings (config keys)", "\"key=value;...\"",
         "none"},
        {"print-config", ARG_BOOL, &a->print_config, "0", "print the effective config and exit",
         NULL, NULL},
        {"config-doc", ARG_BOOL, &a->doc, "0", "print the config keys as a Markdown table and exit",
         NULL, NULL},
        {"print-hash", ARG_BOOL, &a->print_hash, "0",
         "print the hash of the settings that change the result (what checkpoints check; "
         "scripts/sweep.sh keys run folders by it) and exit", NULL, NULL},
        CLI_MAX_MEMORY_SPEC(&a->max_mem),
    };
    memcpy(a->specs, own, sizeof own);
    memcpy(a->ov, OVERRIDES, sizeof OVERRIDES);
    for (int i = 0; i < NOV; i++) {
        const override *o = &a->ov[i];
        const char *vname = "<str>", *def = "";
        config_key_usage(o->key, &vname, &def);
        snprintf(a->help[i], sizeof a->help[i], "config key %s", o->key);
        snprintf(a->unset[i], sizeof a->unset[i], "%s, or what the cfg / --config set",
                 o->unset ? o->unset : def);
        a->specs[NOWN + i] = (arg_spec){o->flag,   ARG_STR, &a->ov[i].value, NULL,
                                        a->help[i], o->vname ? o->vname : vname, a->unset[i]};
    }
    a->cmd = (arg_cmd){"train", "<cfg>",
                       "train or fine-tune a network, optionally with the R-EBO regulariser", 0, 1,
                       a->specs, NSPECS};
}

/* --set "key=value;key=value". */
static int apply_set(train_config *c, const char *set, lir_error *err) {
    char *s = xstrdup(set), *save = NULL;
    int rc = 0;
    for (char *kv = strtok_r(s, ";", &save); kv && !rc; kv = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq) {
            rc = lir_fail(err, "--set: expected key=value, got '%s'", kv);
            break;
        }
        *eq = 0;
        rc = config_set(c, kv, eq + 1, err);
    }
    free(s);
    return rc;
}

/* The effective config of the run, source after source (see the file's comment). */
static int config_build(const train_args *a, const cfg_file *cfg, train_config *c,
                        lir_error *err) {
    config_defaults(c);
    if (a->resume) {
        char p[1100];
        snprintf(p, sizeof p, "%s/config.json", a->resume);
        if (config_load_file(c, p, err)) return -1;
        c->stop_after_steps = 0; /* a stop is for one invocation; a flag may set a new one */
    } else if (config_from_cfg(c, cfg, err)) {
        return -1;
    }
    if (a->config_path && config_load_file(c, a->config_path, err)) return -1;
    for (int i = 0; i < NOV; i++) {
        lir_error e2;
        if (a->ov[i].value && config_set(c, a->ov[i].key, a->ov[i].value, &e2))
            return lir_fail(err, "--%s: %s", a->ov[i].flag, e2.msg);
    }
    if ((a->set && apply_set(c, a->set, err)) || config_add_cfg_hooks(c, cfg, err)) return -1;
    if (a->resume && strlen(a->resume) >= sizeof c->out_dir)
        return lir_fail(err, "--resume: longer than %zu characters", sizeof c->out_dir - 1);
    if (a->resume) strcpy(c->out_dir, a->resume);
    config_scale_cfg_steps(c); /* the cfg's steps at the run's final epochs */
    return config_check(c, err);
}

/* Everything after the flags: 0, or -1 with err filled. */
static int train_main(const train_args *a, const char *cfg_path, int argc, char **argv,
                      lir_error *err) {
    cfg_file *cfg = cfg_parse_file(cfg_path, err);
    if (!cfg) return -1;
    train_config *c = xmalloc(sizeof *c);
    int rc = config_build(a, cfg, c, err);
    if (!rc && a->print_config) {
        char *js = config_to_json(c);
        printf("%s\n", js);
        free(js);
    } else if (!rc && a->print_hash) {
        printf("%016llx\n", (unsigned long long)config_hash(c));
    } else if (!rc) {
        char *command = command_line(argc, argv);
        train_options opt = {cfg_path, cfg, command, a->resume != NULL};
        rc = train_run(&opt, c, err);
        free(command);
    }
    free(c);
    cfg_free(cfg);
    return rc;
}

int cmd_train(int argc, char **argv) {
    /* line by line, also into a file: the effective config, "resumed from" and each
     * epoch's line keep their place among the progress lines on (unbuffered) stderr */
    setvbuf(stdout, NULL, _IOLBF, 0);
    train_args *a = xcalloc(1, sizeof *a);
    train_flags(a);
    char **pos = xmalloc((size_t)argc * sizeof *pos);
    int npos, rc = args_parse(&a->cmd, argc, argv, pos, &npos);
    if (rc == ARGS_RUN && a->doc) {
        config_print_doc(stdout);
        rc = 0;
    } else if (rc == ARGS_RUN && npos != 1) {
        fprintf(stderr, "lir train: missing <cfg>\n");
        args_usage(&a->cmd, stderr);
        rc = 2;
    } else if (rc == ARGS_RUN) {
        lir_error err;
        net_set_max_memory(a->max_mem);
        rc = train_main(a, pos[0], argc, argv, &err) ? cli_error("train", &err) : 0;
        if (dist_stop(rc != 0)) { /* a failure of this process alone: stop the others */
            fprintf(stderr, "lir train: process %d of %d: the other processes did not end "
                    "with this one within %d s; aborting the run\n", dist_rank(), dist_size(),
                    DIST_STOP_WAIT);
            dist_abort();
        }
    }
    free(pos);
    free(a);
    return rc;
}
