/* cli_train.c: `lir train <cfg>`: builds the run config (defaults < cfg [net] <
 * --config JSON < flags), runs or resumes training (train.c). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "train/train.h"

/* A flag that sets one config key; vname: the value's name in the usage (NULL: from
 * the key's type); unset: the default in words when the built-in one needs them. */
typedef struct {
    const char *flag, *key, *vname, *unset;
    const char *value;
} override;

/* "lir train ..." with arguments quoted for a POSIX shell where needed. */
static char *command_line(int argc, char **argv) {
    size_t len = 8;
    for (int i = 0; i < argc; i++) len += 4 * strlen(argv[i]) + 3;
    char *s = xcalloc(len, 1), *o = s + sprintf(s, "lir");
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int plain = a[0] != 0;
        for (const char *q = a; *q; q++)
            if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./=:,@+-", *q))
                plain = 0;
        *o++ = ' ';
        if (plain) {
            o += sprintf(o, "%s", a);
            continue;
        }
        *o++ = '\'';
        for (const char *q = a; *q; q++)
            o += *q == '\'' ? sprintf(o, "'\\''") : sprintf(o, "%c", *q);
        *o++ = '\'';
    }
    *o = 0;
    return s;
}

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
enum { NOV = sizeof OVERRIDES / sizeof OVERRIDES[0], NFIXED = 5 };

/* The flags of lir train and where they land. */
typedef struct {
    const char *config_path, *resume, *set;
    int print_config, doc;
    override ov[NOV];
    arg_spec specs[NFIXED + NOV];
    char help[NOV][64], unset[NOV][96];
} train_flags;

static void train_flags_init(train_flags *f) {
    const arg_spec fixed[NFIXED] = {
        {"config", ARG_STR, &f->config_path, NULL, "JSON run config (docs/train-config.md)",
         "<file>", "none: the cfg's [net] and built-in defaults"},
        {"resume", ARG_STR, &f->resume, NULL,
         "continue the run in this directory from its checkpoint.bin (uses its config.json)",
         "<dir>", "none: a new run"},
        {"set", ARG_STR, &f->set, NULL, "more settings (config keys)", "\"key=value;...\"",
         "none"},
        {"print-config", ARG_BOOL, &f->print_config, "0", "print the effective config and exit",
         NULL, NULL},
        {"config-doc", ARG_BOOL, &f->doc, "0", "print the config keys as a Markdown table and exit",
         NULL, NULL},
    };
    memcpy(f->specs, fixed, sizeof fixed);
    memcpy(f->ov, OVERRIDES, sizeof OVERRIDES);
    for (int i = 0; i < NOV; i++) { /* parsed as text: config_set checks type and range */
        const override *o = &f->ov[i];
        const char *vname = "<str>", *def = "";
        config_key_usage(o->key, &vname, &def);
        snprintf(f->help[i], sizeof f->help[i], "config key %s", o->key);
        snprintf(f->unset[i], sizeof f->unset[i], "%s, or what the cfg / --config set",
                 o->unset ? o->unset : def);
        f->specs[NFIXED + i] = (arg_spec){o->flag,   ARG_STR, &f->ov[i].value, NULL,
                                          f->help[i], o->vname ? o->vname : vname, f->unset[i]};
    }
}

/* --set "key=value;key=value" */
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

/* The effective config: defaults < cfg [net] (or the resumed run's config.json) <
 * --config < flags < --set. */
static int build_config(train_config *c, const train_flags *f, const char *cfg, lir_error *err) {
    config_defaults(c);
    if (f->resume) {
        char p[1100];
        snprintf(p, sizeof p, "%s/config.json", f->resume);
        if (config_load_file(c, p, err)) return -1;
        c->stop_after_steps = 0; /* a stop is for one invocation; a flag may set a new one */
    } else if (config_from_cfg(c, cfg, err)) {
        return -1;
    }
    if (f->config_path && config_load_file(c, f->config_path, err)) return -1;
    for (int i = 0; i < NOV; i++)
        if (f->ov[i].value && config_set(c, f->ov[i].key, f->ov[i].value, err)) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err->msg);
            return lir_fail(err, "--%s: %s", f->ov[i].flag, msg);
        }
    if (f->set && apply_set(c, f->set, err)) return -1;
    if (f->resume && strlen(f->resume) < sizeof c->out_dir) strcpy(c->out_dir, f->resume);
    return config_check(c, err);
}

int cmd_train(int argc, char **argv) {
    train_flags f;
    train_flags_init(&f);
    arg_cmd cmd = {"train", "<cfg>",
                   "train or fine-tune a network, optionally with the R-EBO regulariser", 0, 1,
                   f.specs, NFIXED + NOV};
    char **pos = xmalloc((size_t)argc * sizeof *pos);
    int npos, rc = args_parse(&cmd, argc, argv, pos, &npos);
    if (rc == ARGS_RUN && f.doc) {
        config_print_doc(stdout);
        rc = 0;
    } else if (rc == ARGS_RUN && npos != 1) {
        fprintf(stderr, "lir train: missing <cfg>\n");
        args_usage(&cmd, stderr);
        rc = 2;
    }
    if (rc != ARGS_RUN) {
        free(pos);
        return rc;
    }
    lir_error err;
    train_config *c = xmalloc(sizeof *c);
    train_options opt = {pos[0], NULL, f.resume != NULL};
    char *command = NULL;
    rc = build_config(c, &f, pos[0], &err);
    if (!rc && f.print_config) {
        char *js = config_to_json(c);
        printf("%s\n", js);
        free(js);
    } else if (!rc) {
        command = command_line(argc, argv);
        opt.command = command;
        rc = train_run(&opt, c, &err);
    }
    if (rc) fprintf(stderr, "lir train: %s\n", err.msg);
    free(command);
    free(c);
    free(pos);
    return rc ? 1 : 0;
}
