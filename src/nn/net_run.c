/* net_run.c: running a built network: forward over the layers (then each hook's
 * energies), the loss backward (softmax-CE, hook regularisers, layers in reverse),
 * FLOP counts and the `lir info` table. Building (and the parameter arena) is in
 * net.c. */
#include <stdlib.h>
#include <string.h>

#include "nn.h"

static const float *net_layer_input(const net *n, int k) {
    return k < 0 ? n->input : n->layers[k].out;
}

/* Energy buffers of the hooks on conv layer li's own conv_out / bn_out, which its
 * inference epilogue fills (NULL: no such hook). */
static void net_conv_energies(const net *n, int li, float **e_conv, float **e_bn) {
    const conv_layer *c = &n->layers[li].u.conv;
    *e_conv = *e_bn = NULL;
    for (int k = 0; k < n->n_hooks; k++) {
        const point *p = &n->points[n->hooks[k].point];
        if (!n->hooks[k].fused || p->layer != li) continue;
        if (p->value == c->conv_out) *e_conv = n->hooks[k].energy;
        else *e_bn = n->hooks[k].energy;
    }
}

const float *net_forward(net *n, const float *x, int train) {
    if (!n->train) train = 0;
    memcpy(n->input, x, (size_t)n->batch * n->c * n->h * n->w * sizeof(float));
    for (int i = 0; i < n->n_layers; i++) {
        layer *l = &n->layers[i];
        const float *in = net_layer_input(n, l->in[0]);
        switch (l->type) {
        case LAYER_CONV: {
            float *e_conv = NULL, *e_bn = NULL;
            if (!train) net_conv_energies(n, i, &e_conv, &e_bn);
            conv_forward(&l->u.conv, in, l->out, train, n->workspace, e_conv, e_bn);
            break;
        }
        case LAYER_MAXPOOL: maxpool_forward(&l->u.maxpool, in, l->out, train); break;
        case LAYER_AVGPOOL: avgpool_forward(&l->u.avgpool, in, l->out); break;
        case LAYER_SHORTCUT:
            shortcut_forward(&l->u.shortcut, in, net_layer_input(n, l->in[1]), l->out);
            break;
        case LAYER_ROUTE: {
            const float *ins[8];
            for (int k = 0; k < l->n_in; k++) ins[k] = net_layer_input(n, l->in[k]);
            route_forward(&l->u.route, ins, l->out);
            break;
        }
        case LAYER_CONNECTED: connected_forward(&l->u.fc, in, l->out); break;
        case LAYER_SOFTMAX: softmax_forward(&l->u.softmax, in, l->out); break;
        }
    }
    for (int k = 0; k < n->n_hooks; k++) {
        const point *p = &n->points[n->hooks[k].point];
        if (!train && n->hooks[k].fused) continue; /* done by the conv layer */
        energy_forward(p->value, n->batch, p->c * p->h * p->w, n->hooks[k].energy);
    }
    return n->layers[n->n_layers - 1].out;
}

const float *net_logits(const net *n) {
    const layer *last = &n->layers[n->n_layers - 1];
    if (last->type == LAYER_SOFTMAX) return net_layer_input(n, last->in[0]);
    return last->out;
}

static void zero_floats(float *p, size_t n) {
    if (p) memset(p, 0, n * sizeof(float));
}

/* Activation gradients belong to one backward pass: cleared at its start. A conv
 * layer's dconv_out / dbn_out only where a hook adds into them (dbn_add, dconv_add:
 * net_hooks_sync); elsewhere its backward overwrites them, in cache, instead of this
 * pass over the batch. */
static void net_zero_activation_grads(net *n) {
    for (int i = 0; i < n->n_layers; i++) {
        layer *l = &n->layers[i];
        size_t outs = (size_t)n->batch * l->oc * l->oh * l->ow;
        zero_floats(l->dout, outs);
        if (l->type != LAYER_CONV) continue;
        conv_layer *c = &l->u.conv;
        if (c->dbn_add) zero_floats(c->dbn_out, outs);
        if (c->dconv_add && c->dconv_out != c->dbn_out) zero_floats(c->dconv_out, outs);
    }
}

void net_zero_grads(net *n) { zero_floats(n->grads, n->n_params); }

static float *net_layer_dinput(net *n, int k) { return k < 0 ? NULL : n->layers[k].dout; }

double net_loss_backward(net *n, const int *labels, const unsigned char *is_outlier) {
    if (!n->train) return 0;
    net_zero_activation_grads(n);
    layer *last = &n->layers[n->n_layers - 1];
    double ce = 0;
    if (last->type == LAYER_SOFTMAX && labels) {
        int *lab = n->labels;
        for (int b = 0; b < n->batch; b++) lab[b] = is_outlier && is_outlier[b] ? -1 : labels[b];
        int n_lab;
        ce = softmax_ce_loss(&last->u.softmax, last->out, lab, &n_lab);
        softmax_ce_backward(&last->u.softmax, last->out, lab, net_layer_dinput(n, last->in[0]));
    }
    for (int k = 0; k < n->n_hooks; k++) {
        hook *h = &n->hooks[k];
        const point *p = &n->points[h->point];
        h->last_reg = energy_reg_backward(p->value, h->energy, n->batch, p->c * p->h * p->w,
                                          is_outlier, &h->reg, p->grad);
    }
    for (int i = n->n_layers - 1; i >= 0; i--) {
        layer *l = &n->layers[i];
        const float *in = net_layer_input(n, l->in[0]);
        float *din = net_layer_dinput(n, l->in[0]);
        switch (l->type) {
        case LAYER_CONV:
            conv_backward(&l->u.conv, in, l->out, l->dout, din, n->workspace);
            break;
        case LAYER_MAXPOOL:
            if (din) maxpool_backward(&l->u.maxpool, l->dout, din);
            break;
        case LAYER_AVGPOOL:
            if (din) avgpool_backward(&l->u.avgpool, l->dout, din);
            break;
        case LAYER_SHORTCUT:
            shortcut_backward(&l->u.shortcut, l->out, l->dout, din,
                              net_layer_dinput(n, l->in[1]));
            break;
        case LAYER_ROUTE: {
            float *dins[8];
            for (int k = 0; k < l->n_in; k++) dins[k] = net_layer_dinput(n, l->in[k]);
            route_backward(&l->u.route, l->dout, dins);
            break;
        }
        case LAYER_CONNECTED: connected_backward(&l->u.fc, in, l->out, l->dout, din); break;
        case LAYER_SOFTMAX: break; /* handled by the CE gradient above (last layer only) */
        }
    }
    return ce;
}

/* ---- cost ------------------------------------------------------------------------ */

double net_layer_flops(const net *n, int i) {
    double f = 0;
    for (int k = 0; k <= i && k < n->n_layers; k++) f += n->layers[k].flops;
    return f;
}

void net_print_info(const net *n, FILE *f) {
    fprintf(f, "input %dx%dx%d, batch %d, %d layers, %d points, %d hooks\n", n->c, n->h, n->w,
            n->batch, n->n_layers, n->n_points, n->n_hooks);
    fprintf(f, "%4s  %-14s %-24s %14s    %-14s %10s %10s\n", "idx", "type", "name", "input", "output",
            "params", "MFLOPs");
    size_t total_p = 0;
    for (int i = 0; i < n->n_layers; i++) {
        const layer *l = &n->layers[i];
        char in[32], out[32];
        snprintf(in, sizeof in, "%dx%dx%d", l->c, l->h, l->w);
        snprintf(out, sizeof out, "%dx%dx%d", l->oc, l->oh, l->ow);
        const char *name = "";
        for (int p = 0; p < n->n_points; p++)
            if (n->points[p].layer == i) {
                name = n->points[p].name;
                break;
            }
        size_t np = net_layer_params(l);
        total_p += np;
        fprintf(f, "%4d  %-14s %-24s %14s -> %-14s %10zu %10.3f\n", i, net_layer_type_name(l->type),
                name, in, out, np, l->flops / 1e6);
    }
    double total_f = net_layer_flops(n, n->n_layers - 1);
    fprintf(f, "total: %zu parameters, %.3f MFLOPs per sample\n\n", total_p, total_f / 1e6);
    fprintf(f, "%4s  %-24s %-14s %8s  %s\n", "pt", "name", "shape", "FLOPs%", "");
    for (int p = 0; p < n->n_points; p++) {
        const point *pt = &n->points[p];
        char shape[32];
        snprintf(shape, sizeof shape, "%dx%dx%d", pt->c, pt->h, pt->w);
        int hooked = 0;
        for (int k = 0; k < n->n_hooks; k++)
            if (n->hooks[k].point == p) hooked = 1;
        fprintf(f, "%4d  %-24s %-14s %7.2f%%  %s%s\n", p, pt->name, shape,
                total_f > 0 ? 100.0 * net_layer_flops(n, pt->layer) / total_f : 0.0,
                pt->is_default ? "default" : "", hooked ? " hooked" : "");
    }
    int n_def = 0;
    for (int p = 0; p < n->n_points; p++) n_def += n->points[p].is_default;
    fprintf(f, "%d points (%d default)\n", n->n_points, n_def);
}
