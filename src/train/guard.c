/* guard.c: checks that stop a training run instead of letting it go on silently
 * wrong (guard.h). The per-step finiteness test of weights and velocities is fused
 * into the SGD update (optim.c); this file finds and names what went wrong. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "guard.h"

int guard_labels_fit(const dataset *d, int classes, lir_error *err) {
    int top = -1;
    for (int i = 0; i < d->n; i++)
        if (d->labels[i] > top) top = d->labels[i];
    if (top < classes) return 0;
    return lir_fail(err,
                    "config key 'classes': %d, but the %s %s split has labels up to %d (the set "
                    "has %d classes); labels >= %d would be left out of the loss",
                    classes, d->name, d->split, top, d->classes, classes);
}

long guard_first_nonfinite(const float *a, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(a[i])) return (long)i;
    return -1;
}

const char *guard_ckpt_note(const char *ckpt, char *buf, size_t n) {
    if (ckpt) snprintf(buf, n, "; the last good checkpoint %s is kept", ckpt);
    else snprintf(buf, n, "; no checkpoint was written, so there is nothing to resume");
    return buf;
}

/* "layer 3 (convolutional, cfg line 20) weights" for the array at w into buf. */
static void name_array(const net *n, const float *w, char *buf, size_t size) {
    snprintf(buf, size, "a parameter tensor");
    for (int i = 0; i < n->n_layers; i++) {
        const layer *l = &n->layers[i];
        const char *what = NULL;
        if (l->type == LAYER_CONV) {
            const conv_layer *c = &l->u.conv;
            what = w == c->weights        ? "weights"
                   : w == c->biases       ? (c->batch_normalize ? "batch-norm beta" : "biases")
                   : w == c->scales       ? "batch-norm gamma"
                   : w == c->rolling_mean ? "batch-norm running mean"
                   : w == c->rolling_var  ? "batch-norm running variance"
                                          : NULL;
        } else if (l->type == LAYER_CONNECTED) {
            what = w == l->u.fc.weights ? "weights" : w == l->u.fc.biases ? "biases" : NULL;
        }
        if (what) {
            snprintf(buf, size, "layer %d (%s, cfg line %d) %s", i, net_layer_type_name(l->type),
                     l->cfg_line, what);
            return;
        }
    }
}

/* The arena tensor holding element i (tensors lie back to back): its start, its size. */
static size_t tensor_at(const net *n, size_t i, size_t *len) {
    size_t off = 0;
    *len = 0;
    for (int k = 0; k < n->n_tensors; k++) {
        *len = n->tensors[k].n;
        if (i - off < *len) break;
        off += *len;
    }
    return off;
}

int guard_finite(const net *n, const sgd *o, int epoch, long step, const char *ckpt,
                 lir_error *err) {
    const float *bad = NULL;
    char what[160], note[1200], detail[160] = "";
    if (o->nonfinite) {
        long w = guard_first_nonfinite(n->params, n->n_params);
        long v = guard_first_nonfinite(o->vel, o->n);
        long first = w >= 0 && (v < 0 || w <= v) ? w : v;
        if (first >= 0) {
            size_t len, off = tensor_at(n, (size_t)first, &len);
            bad = n->params + off;
            snprintf(detail, sizeof detail, " (first non-finite in this tensor: weight %ld, "
                     "velocity %ld, gradient %ld; -1: none)",
                     guard_first_nonfinite(n->params + off, len),
                     guard_first_nonfinite(o->vel + off, len),
                     n->grads ? guard_first_nonfinite(n->grads + off, len) : -1);
        }
    }
    for (int i = 0; !bad && i < n->n_layers; i++) {
        const conv_layer *c = &n->layers[i].u.conv;
        if (n->layers[i].type != LAYER_CONV || !c->batch_normalize) continue;
        if (guard_first_nonfinite(c->rolling_mean, (size_t)c->n) >= 0) bad = c->rolling_mean;
        else if (guard_first_nonfinite(c->rolling_var, (size_t)c->n) >= 0) bad = c->rolling_var;
    }
    if (!bad && !o->nonfinite) return 0;
    if (bad) name_array(n, bad, what, sizeof what);
    else snprintf(what, sizeof what, "the parameters");
    return lir_fail(err,
                    "non-finite values at epoch %d, step %ld: %s%s; stopped before writing "
                    "them anywhere (try a lower lr)%s",
                    epoch, step, what, detail, guard_ckpt_note(ckpt, note, sizeof note));
}

/* A JSON number as an image count: clamped to 0..2^31 before the conversion. */
static long json_count(const cJSON *v) {
    double d = v->valuedouble;
    return d > 0 ? (long)fmin(d, 2147483648.0) : 0;
}

/* A config object's (dataset, val_size) into b when it is of the run's dataset (id, a
 * base name) or b has none yet: the images it fitted, the first n_split - val_size. */
static void base_from_config(const cJSON *conf, const char *id, int n_split, guard_base *b) {
    const cJSON *ds = cJSON_GetObjectItemCaseSensitive(conf, "dataset");
    const cJSON *vs = cJSON_GetObjectItemCaseSensitive(conf, "val_size");
    if (!cJSON_IsString(ds) || !cJSON_IsNumber(vs)) return;
    char name[96];
    dataset_base_name(ds->valuestring, name, sizeof name);
    int ours = !strcmp(name, id), have_ours = b->known && !strcmp(b->dataset, id);
    long first = ours ? (long)n_split - json_count(vs) : 0;
    if (first < 0) first = 0;
    /* the run's dataset wins over another; of the run's, the one reaching furthest */
    if ((have_ours && (!ours || first <= b->first)) || (b->known && !ours)) return;
    b->known = 1;
    snprintf(b->dataset, sizeof b->dataset, "%s", name);
    b->first = first;
}

/* b from the parsed sidecar js (see guard_base). */
static void base_from_sidecar(const cJSON *js, const char *id, int n_split, guard_base *b) {
    const cJSON *ti = cJSON_GetObjectItemCaseSensitive(js, "train_images");
    const cJSON *ds = cJSON_GetObjectItemCaseSensitive(ti, "dataset");
    const cJSON *first = cJSON_GetObjectItemCaseSensitive(ti, "first");
    if (cJSON_IsString(ds) && cJSON_IsNumber(first)) {
        b->known = 1;
        dataset_base_name(ds->valuestring, b->dataset, sizeof b->dataset);
        b->first = json_count(first);
        return;
    }
    base_from_config(cJSON_GetObjectItemCaseSensitive(js, "config"), id, n_split, b);
    const cJSON *stages = cJSON_GetObjectItemCaseSensitive(js, "stages");
    for (const cJSON *st = cJSON_IsArray(stages) ? stages->child : NULL; st; st = st->next)
        base_from_config(cJSON_GetObjectItemCaseSensitive(st, "config"), id, n_split, b);
    if (!b->known) snprintf(b->note, sizeof b->note, "it names no dataset and val_size");
}

long guard_base_read(const char *weights, const char *dataset_name, int n_split, int last,
                     guard_base *b) {
    memset(b, 0, sizeof *b);
    char path[1100], id[96];
    snprintf(path, sizeof path, "%s.json", weights);
    dataset_base_name(dataset_name, id, sizeof id);
    char *text = file_read_all(path, NULL, NULL);
    cJSON *js = text ? cJSON_Parse(text) : NULL;
    if (js) base_from_sidecar(js, id, n_split, b);
    else snprintf(b->note, sizeof b->note, "%s", text ? "it is not valid JSON" : "there is none");
    free(text);
    cJSON_Delete(js);
    long first_last = (long)n_split - last; /* the last images: first_last .. n_split - 1 */
    if (!b->known || strcmp(b->dataset, id) || last <= 0 || first_last >= b->first) return 0;
    return (b->first < n_split ? b->first : n_split) - first_last;
}

int guard_val_overlap(const train_config *c, int n_split, guard_base *b, long *overlap,
                      lir_error *err) {
    memset(b, 0, sizeof *b);
    *overlap = 0;
    if (!c->init_weights[0]) return 0;
    char path[1100];
    snprintf(path, sizeof path, "%s.json", c->init_weights);
    *overlap = guard_base_read(c->init_weights, c->dataset, n_split, c->val_size, b);
    if (!*overlap || c->allow_val_overlap) return 0;
    return lir_fail(err,
                    "config key 'val_size': the validation images (the last %d of the %d in the "
                    "%s train split) include %ld that %s was trained on (its sidecar %s: the "
                    "first %ld), so validation accuracy would be inflated (a fine-tune that did "
                    "so reported 91.7%% validation against 84.3%% test accuracy); use val_size "
                    "%ld or less, the images its training held out, or allow_val_overlap=true "
                    "(--set allow_val_overlap=true) to train anyway, with the overlap recorded "
                    "in the sidecar",
                    c->val_size, n_split, c->dataset, *overlap, c->init_weights, path, b->first,
                    (long)n_split - b->first > 0 ? (long)n_split - b->first : 0);
}
