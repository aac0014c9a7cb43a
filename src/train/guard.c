/* guard.c: checks that stop a training run instead of letting it go on silently
 * wrong (guard.h). The per-step finiteness test of weights and velocities is fused
 * into the SGD update (optim.c); this file finds and names what went wrong. */
#include <math.h>
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
