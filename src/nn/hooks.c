/* hooks.c: attaching hooks to a network's named points (the energy maths they
 * use is in energy.c). */
#include <stdlib.h>
#include <string.h>

#include "nn.h"

int net_find_point(const net *n, const char *name) {
    for (int i = 0; i < n->n_points; i++)
        if (!strcmp(n->points[i].name, name)) return i;
    return -1;
}

static int hook_of_point(const net *n, int p) {
    for (int i = 0; i < n->n_hooks; i++)
        if (n->hooks[i].point == p) return i;
    return -1;
}

/* Whether point p is a convolution's own conv_out or bn_out buffer, whose energies
 * the layer's inference epilogue can compute (net_forward hands it the hook's
 * energy buffer). */
static int point_is_conv_buffer(const net *n, int p) {
    const point *pt = &n->points[p];
    const layer *l = &n->layers[pt->layer];
    return l->type == LAYER_CONV &&
           (pt->value == l->u.conv.conv_out || pt->value == l->u.conv.bn_out);
}

/* Whether a hook reads buf (a point's value) or adds into it (a point's gradient). */
static int buffer_hooked(const net *n, const float *buf) {
    for (int k = 0; k < n->n_hooks; k++) {
        const point *p = &n->points[n->hooks[k].point];
        if (p->value == buf || p->grad == buf) return 1;
    }
    return 0;
}

void net_hooks_sync(net *n) {
    for (int i = 0; i < n->n_layers; i++) {
        if (n->layers[i].type != LAYER_CONV) continue;
        conv_layer *c = &n->layers[i].u.conv;
        c->skip_bn_out = !buffer_hooked(n, c->bn_out);
        c->dbn_add = buffer_hooked(n, c->dbn_out); /* one flag when they alias */
        c->dconv_add = buffer_hooked(n, c->dconv_out);
    }
}

/* Appends a hook (or replaces the settings of the one already on the point). */
static void hook_attach(net *n, int p, const hook_reg *reg) {
    int h = hook_of_point(n, p);
    if (h < 0) {
        /* keep hooks in network (point) order */
        n->hooks = xrealloc(n->hooks, (size_t)(n->n_hooks + 1) * sizeof *n->hooks);
        h = n->n_hooks;
        while (h > 0 && n->hooks[h - 1].point > p) {
            n->hooks[h] = n->hooks[h - 1];
            h--;
        }
        n->n_hooks++;
        n->hooks[h].point = p;
        n->hooks[h].energy = xcalloc((size_t)n->batch, sizeof(float));
        n->hooks[h].last_reg = 0;
        n->hooks[h].fused = point_is_conv_buffer(n, p);
        net_hooks_sync(n);
    }
    n->hooks[h].reg = *reg;
}

void net_hook_all(net *n) {
    hook_reg none = {0};
    for (int p = 0; p < n->n_points; p++)
        if (n->points[p].is_default && hook_of_point(n, p) < 0) hook_attach(n, p, &none);
}

int net_find_hook(const net *n, const char *point_name) {
    int p = net_find_point(n, point_name);
    return p < 0 ? -1 : hook_of_point(n, p);
}

int net_add_hook(net *n, const char *point_name, const hook_reg *reg, lir_error *err) {
    int p = net_find_point(n, point_name);
    if (p < 0) return lir_fail(err, "no point named '%s' in the network", point_name);
    if (reg->loss == HOOK_LOSS_OE && n->points[p].value != net_logits(n))
        return lir_fail(err, "point '%s': loss \"oe\" (Outlier Exposure) applies to the logits "
                        "only (the last layer's output before softmax)", point_name);
    hook_attach(n, p, reg);
    return 0;
}

/* Marks the points of one list token in want[]: "default", "all" or a point name. */
static int mark_points(const net *n, const char *tok, unsigned char *want, lir_error *err) {
    int all = !strcmp(tok, "all"), def = !strcmp(tok, "default");
    if (all || def) {
        for (int p = 0; p < n->n_points; p++) want[p] |= all || n->points[p].is_default;
        return 0;
    }
    int p = net_find_point(n, tok);
    if (p < 0)
        return lir_fail(err, "no point named '%s' in the network (it has %d points; a list "
                        "also takes \"default\" and \"all\")", tok, n->n_points);
    want[p] = 1;
    return 0;
}

int net_hook_points(net *n, const char *list, lir_error *err) {
    unsigned char *want = xcalloc((size_t)n->n_points, 1);
    char tok[128];
    int rc = 0;
    for (const char *s = list; rc == 0;) {
        size_t len = strcspn(s, ",");
        if (len == 0 || len >= sizeof tok) {
            rc = lir_fail(err, "point list '%s': %s", list,
                          len ? "a name longer than 127 characters" : "an empty name");
            break;
        }
        memcpy(tok, s, len);
        tok[len] = 0;
        rc = mark_points(n, tok, want, err);
        if (!s[len]) break;
        s += len + 1;
    }
    if (rc == 0) {
        for (int i = 0; i < n->n_hooks; i++) free(n->hooks[i].energy);
        n->n_hooks = 0;
        hook_reg none = {0};
        const float *logits = net_logits(n);
        for (int p = 0; p < n->n_points; p++)
            if (want[p] || n->points[p].value == logits) hook_attach(n, p, &none);
    }
    free(want);
    return rc;
}
