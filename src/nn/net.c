/* net.c: builds a network from a parsed Darknet cfg: [net] input shape and batch,
 * layers with shapes by Darknet's rules, their output buffers, the named points and
 * the [hook] sections. Running it is in net_run.c, weights I/O in weights.c, hook
 * attachment in hooks.c, energies in energy.c. */
#include "nn.h"
#include "net_budget.h"

#include <stdlib.h>
#include <string.h>

static const char *net_layer_type_names[] = {"convolutional", "maxpool",   "avgpool", "shortcut",
                                             "route",         "connected", "softmax"};

const char *net_layer_type_name(layer_type t) { return net_layer_type_names[t]; }

/* ---- [net] ------------------------------------------------------------------- */

/* Darknet's training keys of [net]. `lir train` reads them (train/config.c,
 * config_from_cfg, with the run config's defaults); building a network accepts them
 * without reading them, so every command takes the same cfg files. */
static const char *const net_training_keys[] = {"learning_rate", "momentum", "decay",
                                                "max_batches",   "burn_in",  "power",
                                                "policy",        "steps",    "scales"};

static int net_parse_net_section(const cfg_file *c, cfg_section *s, net *n, lir_error *err) {
    if (strcmp(s->type, "net") && strcmp(s->type, "network"))
        return lir_fail(err, "%s:%d: expected [net] as the first section, got [%s]", c->path,
                        s->line, s->type);
    int batch, subdivisions;
    if (cfg_get_int(c, s, "batch", 1, &batch, err) ||
        cfg_get_int(c, s, "subdivisions", 1, &subdivisions, err) ||
        cfg_get_int(c, s, "width", 0, &n->w, err) || cfg_get_int(c, s, "height", 0, &n->h, err) ||
        cfg_get_int(c, s, "channels", 0, &n->c, err))
        return -1;
    if (n->w <= 0 || n->h <= 0 || n->c <= 0)
        return lir_fail(err, "%s:%d: [net] needs width, height and channels > 0 (got %dx%dx%d)",
                        c->path, s->line, n->c, n->h, n->w);
    if (batch <= 0 || subdivisions <= 0 || batch % subdivisions)
        return lir_fail(err, "%s:%d: batch=%d must be > 0 and divisible by subdivisions=%d",
                        c->path, cfg_line_of(s, "batch"), batch, subdivisions);
    if (n->batch <= 0) n->batch = batch / subdivisions;
    for (size_t k = 0; k < sizeof net_training_keys / sizeof *net_training_keys; k++)
        cfg_get_str(s, net_training_keys[k], NULL); /* marks the key as known */
    return cfg_check_unused(c, s, err);
}

/* ---- points ------------------------------------------------------------------- */

static int net_add_point(net *n, const cfg_file *c, int line, const char *name, int li,
                         int ch, int h, int w, float *value, float *grad, int is_default,
                         lir_error *err) {
    if (strlen(name) >= sizeof n->points[0].name)
        return lir_fail(err, "%s:%d: point name '%s' too long (max 63 characters)", c->path,
                        line, name);
    if (net_find_point(n, name) >= 0)
        return lir_fail(err, "%s:%d: point name '%s' used twice", c->path, line, name);
    n->points = xrealloc(n->points, (size_t)(n->n_points + 1) * sizeof *n->points);
    point *p = &n->points[n->n_points++];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    p->layer = li;
    p->c = ch;
    p->h = h;
    p->w = w;
    p->value = value;
    p->grad = grad;
    p->is_default = is_default;
    return n->n_points - 1;
}

/* Resolves a Darknet layer reference (negative = relative to layer li). */
static int net_layer_ref(const cfg_file *c, int line, const char *key, long v, int li,
                         int *out, lir_error *err) {
    long idx = v < 0 ? li + v : v;
    if (idx < 0 || idx >= li)
        return lir_fail(err,
                        "%s:%d: %s=%ld refers to layer %ld, which does not exist (expected an "
                        "earlier layer, 0..%d)",
                        c->path, line, key, v, idx, li - 1);
    *out = (int)idx;
    return 0;
}

static int net_parse_activation(const cfg_file *c, cfg_section *s, int required, activation *a,
                                lir_error *err) {
    const char *v = cfg_get_str(s, "activation", NULL);
    if (!v) {
        if (required)
            return lir_fail(err,
                            "%s:%d: [%s] needs activation= (linear, relu or leaky; Darknet's "
                            "default, logistic, is not supported)",
                            c->path, s->line, s->type);
        *a = ACT_LINEAR;
        return 0;
    }
    int k = activation_parse(v);
    if (k < 0)
        return lir_fail(err, "%s:%d: activation: expected linear, relu or leaky, got '%s'",
                        c->path, cfg_line_of(s, "activation"), v);
    *a = (activation)k;
    return 0;
}

/* ---- layers --------------------------------------------------------------------- */

typedef struct {
    const cfg_file *cfg;
    net *n;
    int grads;
    rng_state rng;
    int last_fc; /* section index of the last [connected] (classes override), -1 if none */
    int classes;
    net_budget bud; /* sizes are checked and charged here before anything is allocated */
} build_ctx;

/* Charges a layer's float tensor of a*b*c*d elements, twice when gradients are kept. */
static int take_floats(build_ctx *b, int line, const char *what, int with_grad, uint64_t a,
                       uint64_t bb, uint64_t c, uint64_t d, lir_error *err) {
    int copies = with_grad && b->grads ? 2 : 1;
    return net_budget_take(&b->bud, line, what, sizeof(float) * (uint64_t)copies, a, bb, c, d,
                           err);
}

static int build_conv(build_ctx *b, cfg_section *s, int li, layer *l, lir_error *err) {
    const cfg_file *c = b->cfg;
    int filters, size, stride, pad, padding, bn;
    activation act = ACT_LINEAR;
    if (cfg_get_int(c, s, "filters", 1, &filters, err) ||
        cfg_get_int(c, s, "size", 1, &size, err) || cfg_get_int(c, s, "stride", 1, &stride, err) ||
        cfg_get_int(c, s, "pad", 0, &pad, err) || cfg_get_int(c, s, "padding", 0, &padding, err) ||
        cfg_get_int(c, s, "batch_normalize", 0, &bn, err) ||
        net_parse_activation(c, s, 1, &act, err))
        return -1;
    if (pad) padding = size / 2;
    if (filters <= 0 || size <= 0 || stride <= 0 || padding < 0 || (bn != 0 && bn != 1))
        return lir_fail(err,
                        "%s:%d: [convolutional] expected filters, size, stride > 0, padding >= 0 "
                        "and batch_normalize 0 or 1",
                        c->path, s->line);
    int oh, ow, ln = s->line, held = conv_held_images(b->n->batch, b->grads);
    const char *what = "[convolutional]";
    if (net_out_dim(&b->bud, ln, what, l->h, 2 * (int64_t)padding, size, stride, &oh, err) ||
        net_out_dim(&b->bud, ln, what, l->w, 2 * (int64_t)padding, size, stride, &ow, err) ||
        take_floats(b, ln, "[convolutional] weights", 1, filters, l->c, size, size, err) ||
        take_floats(b, ln, "[convolutional] per-filter values", 1, filters, bn ? 4 : 1, 1, 1,
                    err) ||
        take_floats(b, ln, "[convolutional] output", 1, held, filters, oh, ow, err) ||
        (bn && take_floats(b, ln, "[convolutional] batch-norm output", 1, held, filters, oh, ow,
                           err)))
        return -1;
    if (conv_init(&l->u.conv, l->c, l->h, l->w, filters, size, stride, padding, bn, act,
                  b->n->batch, b->grads, err))
        return -1;
    l->oc = filters;
    l->oh = oh;
    l->ow = ow;
    l->flops = 2.0 * filters * l->c * size * size * oh * ow + (bn ? 4.0 : 1.0) * filters * oh * ow;
    conv_layer *cv = &l->u.conv;
    char def[64];
    snprintf(def, sizeof def, "conv%d", li);
    int p = net_add_point(b->n, c, s->line, cfg_get_str(s, "name", def), li, filters, oh, ow,
                          cv->conv_out, cv->dconv_out, 1, err);
    if (p < 0) return -1;
    l->out_point = p;
    if (bn) {
        snprintf(def, sizeof def, "bn%d", li);
        p = net_add_point(b->n, c, s->line, cfg_get_str(s, "bn_name", def), li, filters, oh, ow,
                          cv->bn_out, cv->dbn_out, 1, err);
        if (p < 0) return -1;
        l->out_point = p;
    }
    return 0;
}

static int build_connected(build_ctx *b, cfg_section *s, int si, int li, layer *l,
                           lir_error *err) {
    const cfg_file *c = b->cfg;
    int outputs;
    activation act = ACT_LINEAR;
    if (cfg_get_int(c, s, "output", 1, &outputs, err) ||
        net_parse_activation(c, s, 1, &act, err))
        return -1;
    if (si == b->last_fc && b->classes > 0) outputs = b->classes;
    if (outputs <= 0)
        return lir_fail(err, "%s:%d: output: expected > 0, got %d", c->path,
                        cfg_line_of(s, "output"), outputs);
    if (take_floats(b, s->line, "[connected] weights", 1, outputs,
                    (uint64_t)l->c * l->h * l->w, 1, 1, err) ||
        take_floats(b, s->line, "[connected] biases", 1, outputs, 1, 1, 1, err))
        return -1;
    int inputs = l->c * l->h * l->w;
    if (connected_init(&l->u.fc, inputs, outputs, act, b->n->batch, b->grads, err))
        return -1;
    l->oc = outputs;
    l->oh = l->ow = 1;
    l->flops = 2.0 * inputs * outputs + outputs;
    return 0;
}

static int build_maxpool(build_ctx *b, cfg_section *s, layer *l, lir_error *err) {
    const cfg_file *c = b->cfg;
    int size, stride, padding;
    if (cfg_get_int(c, s, "stride", 1, &stride, err) ||
        cfg_get_int(c, s, "size", stride, &size, err) ||
        cfg_get_int(c, s, "padding", size - 1, &padding, err))
        return -1;
    if (size <= 0 || stride <= 0 || padding < 0 || (int64_t)l->h + padding < size ||
        (int64_t)l->w + padding < size)
        return lir_fail(err,
                        "%s:%d: [maxpool] expected size, stride > 0, padding >= 0 and a window "
                        "that fits the %dx%d input",
                        c->path, s->line, l->h, l->w);
    if (net_out_dim(&b->bud, s->line, "[maxpool]", l->h, padding, size, stride, &l->oh, err) ||
        net_out_dim(&b->bud, s->line, "[maxpool]", l->w, padding, size, stride, &l->ow, err) ||
        net_budget_take(&b->bud, s->line, "[maxpool] argmax", sizeof(int), b->n->batch, l->c,
                        l->oh, l->ow, err))
        return -1;
    if (maxpool_init(&l->u.maxpool, l->c, l->h, l->w, size, stride, padding, b->n->batch, err))
        return -1;
    l->oc = l->c;
    l->flops = (double)size * size * l->oc * l->oh * l->ow;
    return 0;
}

static int build_shortcut(build_ctx *b, cfg_section *s, int li, layer *l, lir_error *err) {
    const cfg_file *c = b->cfg;
    const char *from = cfg_get_str(s, "from", NULL);
    if (!from) return lir_fail(err, "%s:%d: [shortcut] needs from=", c->path, s->line);
    int line = cfg_line_of(s, "from"), v;
    if (cfg_get_int(c, s, "from", 0, &v, err)) return -1;
    activation act = ACT_LINEAR;
    if (net_parse_activation(c, s, 0, &act, err) ||
        net_layer_ref(c, line, "from", v, li, &l->in[1], err))
        return -1;
    l->n_in = 2;
    const layer *f = &b->n->layers[l->in[1]];
    if (f->oc != l->c || f->oh != l->h || f->ow != l->w)
        return lir_fail(err,
                        "%s:%d: [shortcut] from=%d: layer %d output is %dx%dx%d but the previous "
                        "layer output is %dx%dx%d (expected equal shapes)",
                        c->path, line, v, l->in[1], f->oc, f->oh, f->ow, l->c, l->h, l->w);
    shortcut_layer *sc = &l->u.shortcut;
    sc->c = l->c;
    sc->h = l->h;
    sc->w = l->w;
    sc->batch = b->n->batch;
    sc->act = act;
    l->oc = l->c;
    l->oh = l->h;
    l->ow = l->w;
    l->flops = 2.0 * l->c * l->h * l->w;
    return 0;
}

static int build_route(build_ctx *b, cfg_section *s, int li, layer *l, lir_error *err) {
    const cfg_file *c = b->cfg;
    const char *list = cfg_get_str(s, "layers", NULL);
    if (!list || !*list) return lir_fail(err, "%s:%d: [route] needs layers=", c->path, s->line);
    int line = cfg_line_of(s, "layers");
    const char *p = list;
    l->n_in = 0;
    route_layer *r = &l->u.route;
    while (*p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || (*end && *end != ','))
            return lir_fail(err, "%s:%d: layers: expected a comma list of integers, got '%s'",
                            c->path, line, list);
        if (l->n_in == 8) return lir_fail(err, "%s:%d: layers: at most 8 inputs", c->path, line);
        int idx = 0;
        if (net_layer_ref(c, line, "layers", v, li, &idx, err)) return -1;
        const layer *f = &b->n->layers[idx];
        if (l->n_in && (f->oh != r->h || f->ow != r->w))
            return lir_fail(err,
                            "%s:%d: [route] layer %d is %dx%d but layer %d is %dx%d (expected the "
                            "same height and width)",
                            c->path, line, idx, f->oh, f->ow, l->in[0], r->h, r->w);
        r->h = f->oh;
        r->w = f->ow;
        r->c[l->n_in] = f->oc;
        l->in[l->n_in++] = idx;
        p = *end ? end + 1 : end;
    }
    r->n = l->n_in;
    r->batch = b->n->batch;
    const layer *f0 = &b->n->layers[l->in[0]];
    l->c = f0->oc;
    l->h = f0->oh;
    l->w = f0->ow;
    int64_t oc = 0;
    for (int k = 0; k < r->n; k++) oc += r->c[k];
    if (take_floats(b, line, "[route] output", 1, (uint64_t)b->n->batch, (uint64_t)oc,
                    (uint64_t)r->h, (uint64_t)r->w, err))
        return -1;
    l->oc = (int)oc;
    l->oh = r->h;
    l->ow = r->w;
    l->flops = 0;
    return 0;
}

/* Builds layer li from section s; l->c/h/w/in[0] are already the previous output. */
static int build_layer(build_ctx *b, cfg_section *s, int si, int li, lir_error *err) {
    const cfg_file *c = b->cfg;
    net *n = b->n;
    layer *l = &n->layers[li];
    l->cfg_line = s->line;
    l->out_point = -1;
    int rc;
    const char *t = s->type;
    if (!strcmp(t, "convolutional") || !strcmp(t, "conv")) {
        l->type = LAYER_CONV;
        rc = build_conv(b, s, li, l, err);
    } else if (!strcmp(t, "connected")) {
        l->type = LAYER_CONNECTED;
        rc = build_connected(b, s, si, li, l, err);
    } else if (!strcmp(t, "maxpool") || !strcmp(t, "max")) {
        l->type = LAYER_MAXPOOL;
        rc = build_maxpool(b, s, l, err);
    } else if (!strcmp(t, "avgpool") || !strcmp(t, "avg")) {
        l->type = LAYER_AVGPOOL;
        l->u.avgpool = (avgpool_layer){l->c, l->h, l->w, n->batch};
        l->oc = l->c;
        l->oh = l->ow = 1;
        l->flops = (double)l->c * l->h * l->w;
        rc = 0;
    } else if (!strcmp(t, "shortcut")) {
        l->type = LAYER_SHORTCUT;
        rc = build_shortcut(b, s, li, l, err);
    } else if (!strcmp(t, "route")) {
        l->type = LAYER_ROUTE;
        rc = build_route(b, s, li, l, err);
    } else if (!strcmp(t, "softmax") || !strcmp(t, "soft")) {
        l->type = LAYER_SOFTMAX;
        int groups;
        rc = cfg_get_int(c, s, "groups", 1, &groups, err);
        if (!rc && groups != 1)
            rc = lir_fail(err, "%s:%d: groups: only groups=1 is supported, got %d", c->path,
                          cfg_line_of(s, "groups"), groups);
        l->u.softmax = (softmax_layer){l->c * l->h * l->w, n->batch, 0.0f};
        l->oc = l->c;
        l->oh = l->h;
        l->ow = l->w;
        l->flops = 3.0 * l->c * l->h * l->w;
    } else if (!strcmp(t, "net") || !strcmp(t, "network")) {
        return lir_fail(err, "%s:%d: [%s] may only be the first section", c->path, s->line, t);
    } else {
        return lir_fail(err,
                        "%s:%d: unknown section [%s] (expected net, convolutional, maxpool, "
                        "avgpool, shortcut, route, connected, softmax or hook)",
                        c->path, s->line, t);
    }
    if (rc) return -1;
    char what[64];
    snprintf(what, sizeof what, "[%s] output", s->type);
    if (l->type != LAYER_ROUTE &&
        take_floats(b, s->line, what, 1, (uint64_t)n->batch, l->oc, l->oh, l->ow, err))
        return -1;
    size_t outs = (size_t)n->batch * l->oc * l->oh * l->ow;
    l->out = xcalloc(outs, sizeof(float));
    l->dout = b->grads ? xcalloc(outs, sizeof(float)) : NULL;
    /* the layer output is its own point unless it equals the bn/conv point (linear conv) */
    if (l->type != LAYER_CONV || l->u.conv.act != ACT_LINEAR) {
        char def[64];
        snprintf(def, sizeof def, "%s%d", net_layer_type_name(l->type), li);
        const char *nm = l->type == LAYER_CONV ? def : cfg_get_str(s, "name", def);
        int p = net_add_point(n, c, s->line, nm, li, l->oc, l->oh, l->ow, l->out, l->dout,
                              l->type == LAYER_CONNECTED, err);
        if (p < 0) return -1;
        l->out_point = p;
    } else {
        /* the linear conv's output buffer is read by the next layers; keep the point on
         * the layer's own buffer (same values) so hooks see exactly what flows on */
        n->points[l->out_point].value = l->out;
        n->points[l->out_point].grad = l->dout;
    }
    if (l->type == LAYER_SOFTMAX && li != n->n_layers - 1)
        return lir_fail(err, "%s:%d: [softmax] must be the last layer", c->path, s->line);
    return cfg_check_unused(c, s, err);
}

/* ---- the parameter arena ------------------------------------------------------------ */

/* The trainable tensors of layer l in arena order; returns their count (<= 3). */
static int layer_tensors(const layer *l, param_tensor *t) {
    if (l->type == LAYER_CONV) return conv_params(&l->u.conv, t);
    if (l->type == LAYER_CONNECTED) return connected_params(&l->u.fc, t);
    return 0;
}

size_t net_layer_params(const layer *l) {
    param_tensor t[3];
    size_t count = 0;
    for (int k = layer_tensors(l, t) - 1; k >= 0; k--) count += t[k].n;
    return count;
}

/* One block for all parameters and one for their gradients; each layer's tensors
 * are pointed into them and initialised from rng, in layer order. */
static void net_make_params(net *n, rng_state *rng) {
    param_tensor t[3];
    for (int i = 0; i < n->n_layers; i++) {
        n->n_tensors += layer_tensors(&n->layers[i], t);
        n->n_params += net_layer_params(&n->layers[i]);
    }
    n->tensors = xcalloc(n->n_tensors ? (size_t)n->n_tensors : 1, sizeof *n->tensors);
    n->params = xcalloc(n->n_params ? n->n_params : 1, sizeof(float));
    n->grads = n->train ? xcalloc(n->n_params ? n->n_params : 1, sizeof(float)) : NULL;
    size_t off = 0;
    for (int i = 0, k = 0; i < n->n_layers; i++) {
        layer *l = &n->layers[i];
        float *p = n->params + off, *g = n->grads ? n->grads + off : NULL;
        k += layer_tensors(l, n->tensors + k);
        if (l->type == LAYER_CONV) conv_bind_params(&l->u.conv, p, g, rng);
        else if (l->type == LAYER_CONNECTED) connected_bind_params(&l->u.fc, p, g, rng);
        off += net_layer_params(l);
    }
}

/* ---- building ---------------------------------------------------------------------- */

static int is_layer_section(const cfg_section *s) { return strcmp(s->type, "hook") != 0; }

/* A [hook] section: settings (loss=energy|band|oe, lambda, margins m_in, m_out and for
 * band m_in_lo, m_out_lo, calibrate) plus the point it observes (default: the output of
 * the layer before it). Resolved after all layers exist so names may point forward. */
static int build_hook(net *n, const cfg_file *c, cfg_section *s, int li, lir_error *err) {
    hook_reg reg = {0};
    int cal;
    if (cfg_get_float(c, s, "lambda", 0, &reg.lambda, err) ||
        cfg_get_float(c, s, "m_in", 0, &reg.m_in, err) ||
        cfg_get_float(c, s, "m_out", 0, &reg.m_out, err) ||
        cfg_get_float(c, s, "m_in_lo", 0, &reg.m_in_lo, err) ||
        cfg_get_float(c, s, "m_out_lo", 0, &reg.m_out_lo, err) ||
        cfg_get_int(c, s, "calibrate", 0, &cal, err))
        return -1;
    reg.calibrate = cal != 0;
    const char *loss = cfg_get_str(s, "loss", "energy");
    if ((reg.loss = hook_loss_parse(loss)) < 0)
        return lir_fail(err, "%s:%d: [hook] loss=%s: expected energy, band or oe", c->path,
                        cfg_line_of(s, "loss"), loss);
    const char *pname = cfg_get_str(s, "point", NULL);
    if (cfg_check_unused(c, s, err)) return -1;
    if (!pname) {
        if (li == 0)
            return lir_fail(err, "%s:%d: [hook] before any layer needs point=<name>", c->path,
                            s->line);
        pname = n->points[n->layers[li - 1].out_point].name;
    }
    lir_error e2;
    if (net_add_hook(n, pname, &reg, &e2))
        return lir_fail(err, "%s:%d: [hook] point=%s: %s (see `lir info` for names)", c->path,
                        cfg_line_of(s, "point"), pname, e2.msg);
    return 0;
}

net *net_build(const cfg_file *cfg, const net_options *opt, lir_error *err) {
    net_options def = {0, 0, 0, 0};
    if (!opt) opt = &def;
    net *n = xcalloc(1, sizeof *n);
    n->batch = opt->batch;
    n->train = opt->train != 0;
    if (net_parse_net_section(cfg, &cfg->sections[0], n, err)) goto fail;
    build_ctx b = {cfg, n, n->train, {{0, 0}}, -1, opt->classes, {0}};
    rng_seed(&b.rng, opt->seed);
    net_budget_init(&b.bud, cfg);
    if (net_budget_take(&b.bud, cfg->sections[0].line, "the network input", sizeof(float),
                        (uint64_t)n->batch, n->c, n->h, n->w, err))
        goto fail;
    int n_layers = 0;
    for (int i = 1; i < cfg->n_sections; i++) {
        if (!is_layer_section(&cfg->sections[i])) continue;
        n_layers++;
        if (!strcmp(cfg->sections[i].type, "connected")) b.last_fc = i;
    }
    if (n_layers == 0) {
        lir_fail(err, "%s: no layers after [net]", cfg->path);
        goto fail;
    }
    n->layers = xcalloc((size_t)n_layers, sizeof *n->layers);
    n->n_layers = n_layers;
    int li = 0;
    for (int i = 1; i < cfg->n_sections; i++) {
        cfg_section *s = &cfg->sections[i];
        if (!is_layer_section(s)) continue;
        layer *l = &n->layers[li];
        l->n_in = 1;
        l->in[0] = li - 1;
        if (li == 0) {
            l->c = n->c;
            l->h = n->h;
            l->w = n->w;
        } else {
            l->c = n->layers[li - 1].oc;
            l->h = n->layers[li - 1].oh;
            l->w = n->layers[li - 1].ow;
        }
        if (build_layer(&b, s, i, li, err)) goto fail;
        li++;
    }
    net_make_params(n, &b.rng);
    li = 0;
    for (int i = 1; i < cfg->n_sections; i++) {
        cfg_section *s = &cfg->sections[i];
        if (is_layer_section(s)) li++;
        else if (build_hook(n, cfg, s, li, err)) goto fail;
    }
    n->classes = n->layers[n->n_layers - 1].oc * n->layers[n->n_layers - 1].oh *
                 n->layers[n->n_layers - 1].ow;
    int ws_line = cfg->sections[0].line;
    for (int i = 0; i < n->n_layers; i++) {
        if (n->layers[i].type != LAYER_CONV) continue;
        size_t ws = conv_workspace_size(&n->layers[i].u.conv);
        if (ws > n->workspace_size) n->workspace_size = ws, ws_line = n->layers[i].cfg_line;
    }
    if (net_budget_take(&b.bud, ws_line, "the convolution workspace", sizeof(float),
                        n->workspace_size, 1, 1, 1, err))
        goto fail;
    n->memory = b.bud.used;
    n->workspace = xcalloc(n->workspace_size ? n->workspace_size : 1, sizeof(float));
    n->input = xcalloc((size_t)n->batch * n->c * n->h * n->w, sizeof(float));
    n->labels = xcalloc((size_t)n->batch, sizeof *n->labels);
    net_hooks_sync(n);
    return n;
fail:
    net_free(n);
    return NULL;
}

void net_set_precision(net *n, int prec) {
    n->precision = prec;
    for (int i = 0; i < n->n_layers; i++) {
        if (n->layers[i].type == LAYER_CONV) n->layers[i].u.conv.precision = prec;
        if (n->layers[i].type == LAYER_CONNECTED) n->layers[i].u.fc.precision = prec;
    }
}

void net_set_bn_sync(net *n, const bn_sync *s) {
    for (int i = 0; i < n->n_layers; i++)
        if (n->layers[i].type == LAYER_CONV) n->layers[i].u.conv.sync = s;
}

net *net_load_cfg(const char *path, const net_options *opt, lir_error *err) {
    cfg_file *c = cfg_parse_file(path, err);
    if (!c) return NULL;
    net *n = net_build(c, opt, err);
    cfg_free(c);
    return n;
}

void net_free(net *n) {
    if (!n) return;
    for (int i = 0; i < n->n_layers; i++) {
        layer *l = &n->layers[i];
        if (l->type == LAYER_CONV) conv_free(&l->u.conv);
        else if (l->type == LAYER_MAXPOOL) maxpool_free(&l->u.maxpool);
        else if (l->type == LAYER_CONNECTED) connected_free(&l->u.fc);
        free(l->out);
        free(l->dout);
    }
    for (int i = 0; i < n->n_hooks; i++) free(n->hooks[i].energy);
    free(n->hooks);
    free(n->points);
    free(n->layers);
    free(n->workspace);
    free(n->input);
    free(n->labels);
    free(n->params);
    free(n->grads);
    free(n->tensors);
    free(n);
}
