/* train_report.c: config.json, log.csv, training-curve plots and the weights sidecar
 * of a training run (see train_report.h). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/data.h"
#include "kernels/kernels.h"
#include "report/report.h"
#include "config_hooks.h"
#include "train_report.h"

static int write_text(const char *path, const char *text, lir_error *err) {
    atomic_file a;
    if (atomic_open(&a, path, err)) return -1;
    if (fputs(text, a.f) < 0) {
        atomic_abort(&a);
        return lir_fail(err, "%s: write failed", path);
    }
    return atomic_close(&a, err);
}

int train_report_config(const train_config *c, lir_error *err) {
    char path[1100];
    snprintf(path, sizeof path, "%s/config.json", c->out_dir);
    char *js = config_to_json(c);
    size_t n = strlen(js);
    js = xrealloc(js, n + 2);
    strcpy(js + n, "\n");
    int rc = write_text(path, js, err);
    free(js);
    return rc;
}

int train_report_log(const train_config *c, const train_state *s, lir_error *err) {
    char path[1100];
    snprintf(path, sizeof path, "%s/log.csv", c->out_dir);
    atomic_file a;
    if (atomic_open(&a, path, err)) return -1;
    FILE *f = a.f;
    fprintf(f, "epoch,step,lr,train_loss,train_ce,train_acc,val_loss,val_acc,images_per_s,seconds");
    for (int i = 0; i < c->n_hooks; i++) fprintf(f, ",reg_%s", c->hooks[i].point);
    fputc('\n', f);
    for (int e = 0; e < s->n_records; e++) {
        const epoch_record *r = &s->records[e];
        fprintf(f, "%d,%ld,%.6g,%.6f,%.6f,%.4f,%.6f,%.4f,%.1f,%.2f", r->epoch, r->step, r->lr,
                r->train_loss, r->train_ce, r->train_acc, r->val_loss, r->val_acc, r->images_per_s,
                r->seconds);
        for (int i = 0; i < c->n_hooks; i++) fprintf(f, ",%.6g", r->reg[i]);
        fputc('\n', f);
    }
    if (ferror(f)) {
        atomic_abort(&a);
        return lir_fail(err, "%s: write failed", path);
    }
    return atomic_close(&a, err);
}

int train_report_plots(const train_config *c, const train_state *s, lir_error *err) {
    int n = s->n_records;
    double *x = xmalloc((size_t)(n + 1) * 6 * sizeof(double));
    double *tl = x + n, *vl = tl + n, *ce = vl + n, *ta = ce + n, *va = ta + n;
    for (int e = 0; e < n; e++) {
        const epoch_record *r = &s->records[e];
        x[e] = r->epoch;
        tl[e] = r->train_loss;
        ce[e] = r->train_ce;
        vl[e] = r->val_loss;
        ta[e] = r->train_acc;
        va[e] = r->val_acc;
    }
    plot_series loss[3] = {{"train loss", tl}, {"train CE", ce}, {"val CE", vl}};
    plot_series acc[2] = {{"train", ta}, {"validation", va}};
    plot_chart lc = {"Training loss", "epoch", "loss", x, n, loss, 3, 0};
    plot_chart ac = {"Accuracy", "epoch", "accuracy (%)", x, n, acc, 2, 0};
    char stem[1100];
    snprintf(stem, sizeof stem, "%s/curves_loss", c->out_dir);
    int rc = plot_lines(&lc, stem, NULL, NULL, err);
    snprintf(stem, sizeof stem, "%s/curves_acc", c->out_dir);
    if (!rc) rc = plot_lines(&ac, stem, NULL, NULL, err);
    if (!rc && c->n_hooks) {
        /* R of each hook (without lambda), one series per point, on a log axis: the
         * terms span decades and reach 0 once a point separates */
        double *reg = xmalloc((size_t)(n + 1) * c->n_hooks * sizeof(double));
        plot_series *rs = xmalloc((size_t)c->n_hooks * sizeof *rs);
        for (int i = 0; i < c->n_hooks; i++) {
            for (int e = 0; e < n; e++) reg[(size_t)i * n + e] = s->records[e].reg[i];
            rs[i].name = c->hooks[i].point;
            rs[i].y = reg + (size_t)i * n;
        }
        plot_chart rc_chart = {"R-EBO terms (without lambda)", "epoch", "R", x, n, rs,
                               c->n_hooks, 1};
        snprintf(stem, sizeof stem, "%s/curves_reg", c->out_dir);
        rc = plot_lines(&rc_chart, stem, NULL, NULL, err);
        free(rs);
        free(reg);
    }
    free(x);
    return rc;
}

/* key: the file's SHA-256, or null when it cannot be read. */
static void add_sha256(cJSON *o, const char *key, const char *path) {
    char hex[65];
    if (sha256_file(path, hex, NULL) == 0) cJSON_AddStringToObject(o, key, hex);
    else cJSON_AddNullToObject(o, key);
}

static cJSON *num_or_null(double v) { return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull(); }

/* "train_images": the images of the train split these weights have been fitted to,
 * this run's and (by its sidecar) its init_weights', so that a fine-tune of them can
 * check its validation images (guard_val_overlap). */
static void train_images_json(cJSON *o, const train_config *c, const report_final *r) {
    cJSON *ti = cJSON_AddObjectToObject(o, "train_images");
    char id[96];
    dataset_base_name(c->dataset, id, sizeof id);
    cJSON_AddStringToObject(ti, "what", "the first `first` images of the dataset's train "
                            "split were trained on, by this run or the weights it started "
                            "from; this run's validation images were its last val_size");
    cJSON_AddStringToObject(ti, "dataset", id);
    cJSON_AddNumberToObject(ti, "first", (double)r->trained_first);
    cJSON_AddNumberToObject(ti, "val_size", c->val_size);
    if (r->val_overlap)
        cJSON_AddNumberToObject(ti, "val_overlap", (double)r->val_overlap);
}

int train_report_sidecar(const train_config *c, const train_state *s, const report_final *r,
                   lir_error *err) {
    cJSON *o = cJSON_CreateObject();
    const char *base = strrchr(r->weights, '/');
    path_alias dirs[2];
    path_alias_of(&dirs[0], dataset_dir(c->data_dir[0] ? c->data_dir : NULL), "<data dir>");
    path_alias_of(&dirs[1], c->out_dir, "<run dir>");
    char buf[4400];
    cJSON_AddStringToObject(o, "weights", base ? base + 1 : r->weights);
    path_record(r->cfg_path, dirs, 2, buf, sizeof buf);
    cJSON_AddStringToObject(o, "cfg", buf);
    add_sha256(o, "cfg_sha256", r->cfg_path);
    cJSON_AddStringToObject(o, "dataset", c->dataset);
    cJSON_AddItemToObject(o, "test_accuracy", num_or_null(r->test_acc));
    cJSON_AddItemToObject(o, "test_accuracy_flip", num_or_null(r->test_acc_flip));
    cJSON_AddItemToObject(o, "test_loss", num_or_null(r->test_loss));
    cJSON_AddNumberToObject(o, "test_images", r->n_test);
    const epoch_record *last = s->n_records ? &s->records[s->n_records - 1] : NULL;
    cJSON_AddItemToObject(o, "val_accuracy", num_or_null(last ? last->val_acc : NAN));
    cJSON_AddNumberToObject(o, "epochs", s->n_records);
    cJSON_AddNumberToObject(o, "steps", (double)s->step);
    cJSON_AddNumberToObject(o, "seed", (double)c->seed);
    cJSON_AddNumberToObject(o, "training_seconds", s->train_seconds);
    cJSON_AddNumberToObject(o, "threads", r->threads);
    cJSON_AddNumberToObject(o, "processes", r->processes);
    /* results depend on these by rounding only, but a bit-exact rerun needs them */
    cJSON_AddStringToObject(o, "kernels", kernels_level_name(kernels_level()));
    cJSON_AddStringToObject(o, "conv", conv_mode_name(conv_mode()));
    cJSON *sums = cJSON_AddObjectToObject(o, "data_sha256");
    cJSON_AddStringToObject(sums, "what", "SHA-256 of the loaded split: uint8 images then int32 labels");
    cJSON_AddStringToObject(sums, "train", r->train_sha256);
    cJSON_AddStringToObject(sums, "test", r->test_sha256);
    train_images_json(o, c, r);
    char *command = command_record(r->command ? r->command : "", dirs, 2);
    cJSON_AddStringToObject(o, "command", command);
    free(command);
    cJSON *hooks = cJSON_AddArrayToObject(o, "hooks");
    for (int i = 0; i < c->n_hooks; i++) {
        /* the margins in use (the net's), calibrate as the config asked */
        config_hook h = {.reg = r->n->hooks[r->hooks[i]].reg};
        snprintf(h.point, sizeof h.point, "%s", c->hooks[i].point);
        h.reg.calibrate = c->hooks[i].reg.calibrate;
        cJSON_AddItemToArray(hooks, config_hook_json(&h, 1));
    }
    char *cj = config_to_json(c);
    cJSON *conf = cJSON_Parse(cj);
    free(cj);
    static const char *const path_keys[3] = {"data_dir", "out_dir", "init_weights"};
    for (int k = 0; k < 3; k++) { /* the copy in the sidecar holds no absolute path */
        cJSON *v = cJSON_GetObjectItemCaseSensitive(conf, path_keys[k]);
        if (!cJSON_IsString(v) || !v->valuestring[0]) continue;
        path_record(v->valuestring, dirs, 2, buf, sizeof buf);
        cJSON_SetValuestring(v, buf);
    }
    if (c->init_weights[0]) add_sha256(o, "init_weights_sha256", c->init_weights);
    cJSON_AddItemToObject(o, "config", conf);
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    size_t n = strlen(text);
    char *withnl = xmalloc(n + 2);
    memcpy(withnl, text, n);
    strcpy(withnl + n, "\n");
    cJSON_free(text);
    char path[1200];
    snprintf(path, sizeof path, "%s.json", r->weights);
    int rc = write_text(path, withnl, err);
    free(withnl);
    return rc;
}
