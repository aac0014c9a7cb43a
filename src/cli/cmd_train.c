/* cli_train.c: `lir train <cfg>`: builds the run config (defaults < cfg [net] <
 * --config JSON < flags), runs or resumes training (train.c). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "train/train.h"

typedef struct {
    const char *flag, *key;
    const char *value;
} override;

int cmd_train(int argc, char **argv) {
    const char *config_path, *resume, *set;
    int print_config, doc;
    override ov[] = {
        {"epochs", "epochs", NULL},         {"batch", "batch", NULL},
        {"lr", "lr", NULL},                 {"seed", "seed", NULL},
        {"weights", "init_weights", NULL},  {"dataset", "dataset", NULL},
        {"data-dir", "data_dir", NULL},     {"out", "out_dir", NULL},
        {"outliers", "outliers", NULL},     {"val-size", "val_size", NULL},
        {"stop-after-steps", "stop_after_steps", NULL},
        {"checkpoint-steps", "checkpoint_steps", NULL},
        {"progress-seconds", "progress_seconds", NULL},
    };
    enum { NOV = sizeof ov / sizeof ov[0] };
    arg_spec specs[NOV + 5] = {
        {"config", ARG_STR, &config_path, NULL, "JSON run config (docs/train-config.md)", NULL},
        {"resume", ARG_STR, &resume, NULL,
         "continue the run in this directory from its checkpoint.bin (uses its config.json)", NULL},
        {"set", ARG_STR, &set, NULL, "more settings: \"key=value;key=value\" (config keys)", NULL},
        {"print-config", ARG_BOOL, &print_config, "0", "print the effective config and exit", NULL},
        {"config-doc", ARG_BOOL, &doc, "0", "print the config keys as a Markdown table and exit",
         NULL},
    };
    char help[NOV][64];
    for (int i = 0; i < NOV; i++) {
        snprintf(help[i], sizeof help[i], "sets config key %s", ov[i].key);
        specs[5 + i] = (arg_spec){ov[i].flag, ARG_STR, &ov[i].value, NULL, help[i], NULL};
    }
    arg_cmd cmd = {"train", "<cfg>",
                   "train or fine-tune a network, optionally with the R-EBO regulariser", 0, 1,
                   specs, NOV + 5};
    char **pos = xmalloc((size_t)argc * sizeof *pos);
    int npos, rc = args_parse(&cmd, argc, argv, pos, &npos);
    if (rc != ARGS_RUN) {
        free(pos);
        return rc;
    }
    if (doc) {
        config_print_doc(stdout);
        free(pos);
        return 0;
    }
    if (npos != 1) {
        fprintf(stderr, "lir train: missing <cfg>\n");
        args_usage(&cmd, stderr);
        free(pos);
        return 2;
    }
    lir_error err;
    train_config *c = xmalloc(sizeof *c);
    config_defaults(c);
    cfg_file *cfg = cfg_parse_file(pos[0], &err);
    train_options opt = {pos[0], cfg, NULL, resume != NULL};
    char *command = NULL;
    rc = 1;
    if (!cfg) goto fail;
    if (resume) {
        char p[1100];
        snprintf(p, sizeof p, "%s/config.json", resume);
        if (config_load_file(c, p, &err)) goto fail;
        c->stop_after_steps = 0; /* a stop is for one invocation; a flag may set a new one */
    } else if (config_from_cfg(c, cfg, &err)) {
        goto fail;
    }
    if (config_path && config_load_file(c, config_path, &err)) goto fail;
    for (int i = 0; i < NOV; i++)
        if (ov[i].value && config_set(c, ov[i].key, ov[i].value, &err)) {
            fprintf(stderr, "lir train: --%s: %s\n", ov[i].flag, err.msg);
            goto out;
        }
    if (set) {
        char *s = xstrdup(set), *save = NULL;
        for (char *kv = strtok_r(s, ";", &save); kv; kv = strtok_r(NULL, ";", &save)) {
            char *eq = strchr(kv, '=');
            if (!eq) {
                lir_fail(&err, "--set: expected key=value, got '%s'", kv);
                free(s);
                goto fail;
            }
            *eq = 0;
            if (config_set(c, kv, eq + 1, &err)) {
                free(s);
                goto fail;
            }
        }
        free(s);
    }
    if (config_add_cfg_hooks(c, cfg, &err)) goto fail;
    if (resume && strlen(resume) < sizeof c->out_dir) strcpy(c->out_dir, resume);
    if (config_check(c, &err)) goto fail;
    if (print_config) {
        char *js = config_to_json(c);
        printf("%s\n", js);
        free(js);
        rc = 0;
        goto out;
    }
    command = command_line(argc, argv);
    opt.command = command;
    if (train_run(&opt, c, &err)) goto fail;
    rc = 0;
    goto out;
fail:
    fprintf(stderr, "lir train: %s\n", err.msg);
out:
    cfg_free(cfg);
    free(command);
    free(c);
    free(pos);
    return rc;
}
