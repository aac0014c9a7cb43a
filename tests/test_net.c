/* test_net.c: cfg/resnet18.cfg gives torchvision's ResNet-18 (41 default points in
 * order, shapes, parameter count), the CIFAR variant's shapes, and a full-network
 * gradient check (conv+BN, maxpool, shortcut, route, connected, softmax, CE plus
 * R-EBO hooks at several points, train mode) against finite differences. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "nn/nn.h"

static const char *NAMES41[41] = {
    "conv1", "bn1", "layer1.0.conv1", "layer1.0.bn1", "layer1.0.conv2", "layer1.0.bn2",
    "layer1.1.conv1", "layer1.1.bn1", "layer1.1.conv2", "layer1.1.bn2", "layer2.0.conv1",
    "layer2.0.bn1", "layer2.0.conv2", "layer2.0.bn2", "layer2.0.downsample.0",
    "layer2.0.downsample.1", "layer2.1.conv1", "layer2.1.bn1", "layer2.1.conv2", "layer2.1.bn2",
    "layer3.0.conv1", "layer3.0.bn1", "layer3.0.conv2", "layer3.0.bn2", "layer3.0.downsample.0",
    "layer3.0.downsample.1", "layer3.1.conv1", "layer3.1.bn1", "layer3.1.conv2", "layer3.1.bn2",
    "layer4.0.conv1", "layer4.0.bn1", "layer4.0.conv2", "layer4.0.bn2", "layer4.0.downsample.0",
    "layer4.0.downsample.1", "layer4.1.conv1", "layer4.1.bn1", "layer4.1.conv2", "layer4.1.bn2",
    "fc"};

/* Trainable scalars: the arena's size, checked against its tensors and against the
 * layers' pointers into it (-1 when they disagree). */
static long count_params(net *n) {
    size_t total = 0;
    for (int i = 0; i < n->n_tensors; i++) total += n->tensors[i].n;
    size_t off = 0;
    int inside = total == n->n_params;
    for (int i = 0; i < n->n_layers; i++) {
        const layer *l = &n->layers[i];
        const float *w = l->type == LAYER_CONV        ? l->u.conv.weights
                         : l->type == LAYER_CONNECTED ? l->u.fc.weights
                                                      : NULL;
        if (!w) continue;
        inside &= w == n->params + off;
        off += net_layer_params(l);
    }
    return inside && off == total ? (long)total : -1;
}

static int point_shape(const net *n, const char *name, int c, int h, int w) {
    int p = net_find_point(n, name);
    return p >= 0 && n->points[p].c == c && n->points[p].h == h && n->points[p].w == w;
}

static void test_resnet18(void) {
    lir_error err;
    net_options opt = {2, 0, 0, 1};
    net *n = net_load_cfg("cfg/resnet18.cfg", &opt, &err);
    CHECK(n != NULL, "resnet18.cfg: %s", err.msg);
    if (!n) return;
    int k = 0, order_ok = 1;
    for (int p = 0; p < n->n_points; p++) {
        if (!n->points[p].is_default) continue;
        if (k >= 41 || strcmp(n->points[p].name, NAMES41[k])) {
            order_ok = 0;
            fprintf(stderr, "default point %d is '%s', want '%s'\n", k, n->points[p].name,
                    k < 41 ? NAMES41[k] : "(none)");
        }
        k++;
    }
    CHECK(order_ok && k == 41, "41 default points in torchvision order (got %d)", k);
    CHECK(point_shape(n, "conv1", 64, 16, 16) && point_shape(n, "bn1", 64, 16, 16), "stem");
    CHECK(n->layers[1].type == LAYER_MAXPOOL && n->layers[1].oc == 64 && n->layers[1].oh == 8 &&
              n->layers[1].ow == 8,
          "maxpool 64x8x8");
    CHECK(point_shape(n, "layer1.1.bn2", 64, 8, 8), "stage 1 8x8");
    CHECK(point_shape(n, "layer2.0.downsample.1", 128, 4, 4) &&
              point_shape(n, "layer2.1.bn2", 128, 4, 4),
          "stage 2 4x4");
    CHECK(point_shape(n, "layer3.1.bn2", 256, 2, 2), "stage 3 2x2");
    CHECK(point_shape(n, "layer4.1.bn2", 512, 1, 1), "stage 4 1x1");
    CHECK(point_shape(n, "fc", 10, 1, 1) && n->classes == 10, "fc 10");
    long np = count_params(n);
    CHECK(np == 11181642, "parameters %ld, torchvision resnet18(num_classes=10) has 11181642", np);
    size_t sum = 0;
    for (int i = 0; i < n->n_layers; i++) sum += net_layer_params(&n->layers[i]);
    CHECK(sum == (size_t)np, "net_layer_params sums to the total");
    double mf = net_layer_flops(n, n->n_layers - 1) / 1e6;
    CHECK(mf > 70 && mf < 80, "about 2 x 37 M multiply-adds per sample (%.1f MFLOPs)", mf);

    /* inference forward: probabilities, energies at all 41 hooks */
    net_hook_all(n);
    CHECK(n->n_hooks == 41, "net_hook_all hooks the default points (%d)", n->n_hooks);
    rng_state rng;
    rng_seed(&rng, 3);
    float *x = xmalloc(2 * 3 * 32 * 32 * sizeof(float));
    for (int i = 0; i < 2 * 3 * 32 * 32; i++) x[i] = rng_normal(&rng);
    const float *prob = net_forward(n, x, 0);
    for (int b = 0; b < 2; b++) {
        double s = 0;
        for (int j = 0; j < 10; j++) s += prob[b * 10 + j];
        CHECK_CLOSE(s, 1.0, 1e-5, 0, "probabilities sum to 1");
    }
    int finite = 1;
    for (int h = 0; h < n->n_hooks; h++)
        for (int b = 0; b < 2; b++) finite &= isfinite(n->hooks[h].energy[b]);
    CHECK(finite, "energies finite");
    /* the conv layers compute the energies of their conv / bn points in the inference
     * epilogue, where an inference-only net keeps no batch of conv / bn outputs: the
     * same values as energy_forward over the points of a training net (same seed)
     * after its inference forward, and the same probabilities */
    net_options topt = opt;
    topt.train = 1;
    net *t = net_load_cfg("cfg/resnet18.cfg", &topt, &err);
    CHECK(t != NULL, "training net: %s", err.msg);
    if (!t) {
        free(x);
        net_free(n);
        return;
    }
    const float *tprob = net_forward(t, x, 0);
    int fused = 0, same = !memcmp(prob, tprob, 2 * 10 * sizeof(float));
    for (int h = 0; h < n->n_hooks; h++) {
        const point *p = &t->points[n->hooks[h].point];
        float e[2];
        energy_forward(p->value, 2, p->c * p->h * p->w, e);
        fused += n->hooks[h].fused;
        same &= !memcmp(e, n->hooks[h].energy, sizeof e);
    }
    net_free(t);
    /* fused: the 20 conv points and the bn points of the 9 convolutions with ReLU (a
     * linear convolution's bn point is its output buffer) */
    CHECK(fused == 29 && same, "energies of the %d fused hooks equal energy_forward (same %d)",
          fused, same);
    int fc = net_find_point(n, "fc");
    const float *lg = net_logits(n);
    CHECK(lg == n->points[fc].value, "fc point holds the logits");
    double lse = 0;
    for (int j = 0; j < 10; j++) lse += exp(lg[j]);
    CHECK_CLOSE(n->hooks[n->n_hooks - 1].energy[0], -log(lse), 1e-4, 1e-5, "fc energy");
    free(x);
    net_free(n);

    opt.classes = 100;
    n = net_load_cfg("cfg/resnet18.cfg", &opt, &err);
    CHECK(n && count_params(n) == 11227812 && n->classes == 100, "100 classes: 11227812");
    net_free(n);

    opt.classes = 0;
    n = net_load_cfg("cfg/resnet18-cifar.cfg", &opt, &err);
    CHECK(n != NULL, "resnet18-cifar.cfg: %s", err.msg);
    if (!n) return;
    k = 0;
    for (int p = 0; p < n->n_points; p++)
        if (n->points[p].is_default) k += !strcmp(n->points[p].name, NAMES41[k < 40 ? k : 40]);
    CHECK(k == 41, "cifar cfg has the same 41 points");
    CHECK(point_shape(n, "bn1", 64, 32, 32) && point_shape(n, "layer1.1.bn2", 64, 32, 32) &&
              point_shape(n, "layer2.1.bn2", 128, 16, 16) &&
              point_shape(n, "layer3.1.bn2", 256, 8, 8) &&
              point_shape(n, "layer4.1.bn2", 512, 4, 4),
          "cifar shapes 32, 16, 8, 4");
    CHECK(count_params(n) == 11181642 - 64 * 3 * (49 - 9), "cifar stem parameters");
    CHECK(n->batch == 2, "batch from the options, [net] training keys accepted");
    net_free(n);
}

/* ---- full-network gradient check ------------------------------------------------ */

static const char *SMALL =
    "[net]\nbatch=6\nwidth=6\nheight=6\nchannels=2\n"
    "[convolutional]\nname=c0\nbn_name=b0\nbatch_normalize=1\nfilters=4\nsize=3\npad=1\n"
    "activation=leaky\n"
    "[maxpool]\nsize=2\nstride=2\n"
    "[convolutional]\nbatch_normalize=1\nfilters=4\nsize=3\npad=1\nactivation=linear\n"
    "[shortcut]\nfrom=-2\nactivation=relu\n"
    "[route]\nlayers=-1,-3\n"
    "[convolutional]\nfilters=3\nsize=1\nactivation=leaky\n"
    "[connected]\nname=fc\noutput=3\nactivation=linear\n"
    "[hook]\nlambda=0.5\n" /* default point: the previous layer's output, fc */
    "[softmax]\n"
    "[hook]\npoint=c0\nlambda=0.3\n"
    "[hook]\npoint=b0\nlambda=0.2\n"
    "[hook]\npoint=bn2\nlambda=0.4\n"
    "[hook]\npoint=route4\nlambda=0.1\n";

static double total_loss(net *n, const float *x, const int *labels,
                         const unsigned char *out) {
    const float *prob = net_forward(n, x, 1);
    double ce = 0;
    int nl = 0;
    for (int b = 0; b < n->batch; b++) {
        if (out[b]) continue;
        ce -= log(prob[b * n->classes + labels[b]]);
        nl++;
    }
    double loss = nl ? ce / nl : 0;
    for (int h = 0; h < n->n_hooks; h++) {
        const point *p = &n->points[n->hooks[h].point];
        loss += n->hooks[h].reg.lambda *
                energy_reg_backward(p->value, n->hooks[h].energy, n->batch, p->c * p->h * p->w,
                                    out, &n->hooks[h].reg, NULL);
    }
    return loss;
}

static float median4(const float *e, const unsigned char *out, int want_out, int batch) {
    float v[16];
    int k = 0;
    for (int b = 0; b < batch; b++)
        if (out[b] == want_out) v[k++] = e[b];
    for (int i = 0; i < k; i++)
        for (int j = i + 1; j < k; j++)
            if (v[j] < v[i]) { float t = v[i]; v[i] = v[j]; v[j] = t; }
    return k % 2 ? v[k / 2] : 0.5f * (v[k / 2 - 1] + v[k / 2]);
}

static void test_gradients(void) {
    lir_error err;
    cfg_file *c = cfg_parse_string(SMALL, "small.cfg", &err);
    CHECK(c != NULL, "small cfg: %s", err.msg);
    if (!c) return;
    net_options opt = {0, 0, 1, 5};
    net *n = net_build(c, &opt, &err);
    cfg_free(c);
    CHECK(n != NULL, "small net: %s", err.msg);
    if (!n) return;
    CHECK(n->n_hooks == 5 && !strcmp(n->points[n->hooks[4].point].name, "fc"),
          "5 hooks, the default one on fc");
    rng_state rng;
    rng_seed(&rng, 11);
    int B = n->batch, insz = 2 * 6 * 6;
    float x[6 * 72];
    for (int i = 0; i < B * insz; i++) x[i] = rng_normal(&rng);
    int labels[6] = {0, 2, 1, -1, 1, -1};
    unsigned char out[6] = {0, 0, 0, 1, 0, 1};
    /* non-trivial BN affine parameters and fc weights */
    for (size_t i = 0; i < n->n_params; i++) n->params[i] += 0.2f * rng_normal(&rng);
    /* the arena's tensors: first element of each */
    const int np = n->n_tensors < 64 ? n->n_tensors : 64;
    size_t at[64], off = 0;
    for (int t = 0; t < np; t++) at[t] = off, off += n->tensors[t].n;
    /* margins at the medians: each hook has active and inactive samples */
    net_forward(n, x, 1);
    for (int h = 0; h < n->n_hooks; h++) {
        n->hooks[h].reg.m_in = median4(n->hooks[h].energy, out, 0, B);
        n->hooks[h].reg.m_out = median4(n->hooks[h].energy, out, 1, B);
    }
    double l0 = total_loss(n, x, labels, out);
    net_zero_grads(n);
    net_forward(n, x, 1);
    double ce = net_loss_backward(n, labels, out);
    double lb = ce;
    for (int h = 0; h < n->n_hooks; h++) lb += n->hooks[h].reg.lambda * n->hooks[h].last_reg;
    CHECK_CLOSE(lb, l0, 1e-6, 1e-5, "loss reported by backward");
    int regs = 0;
    for (int h = 0; h < n->n_hooks; h++) regs += n->hooks[h].last_reg > 0;
    CHECK(regs == n->n_hooks, "every hook contributes (%d)", regs);

    float *saved = xmalloc(n->n_params * sizeof(float));
    memcpy(saved, n->grads, n->n_params * sizeof(float));
    int checked = 0, bad = 0;
    double worst = 0; /* largest error as a fraction of the tolerance */
    const float eps = 3e-3f; /* truncation error ~eps^2 dominates float noise here */
    for (int t = 0; t < np; t++) {
        const size_t len = n->tensors[t].n;
        float *w = n->params + at[t];
        int tries = len < 8 ? (int)len : 8;
        for (int k = 0; k < tries; k++) {
            size_t i = len <= 8 ? (size_t)k : rng_below(&rng, (uint32_t)len);
            float keep = w[i];
            w[i] = keep + eps;
            double lp = total_loss(n, x, labels, out);
            w[i] = keep - eps;
            double lm = total_loss(n, x, labels, out);
            w[i] = keep;
            double fd = (lp - lm) / (2.0 * eps);
            double g = saved[at[t] + i];
            checked++;
            double ratio = fabs(g - fd) / (2e-3 + 3e-2 * fabs(fd));
            worst = ratio > worst ? ratio : worst;
            if (ratio > 1) {
                bad++;
                fprintf(stderr, "param tensor %d [%zu]: backward %.6g, finite difference %.6g\n",
                        t, i, g, fd);
            }
        }
    }
    fprintf(stderr, "gradient check: %d entries, worst error %.2f of the tolerance\n", checked,
            worst);
    CHECK(bad == 0 && checked > 40, "full-network gradient: %d of %d differ", bad, checked);

    /* accumulation: a second backward without zeroing doubles the gradients */
    net_forward(n, x, 1);
    net_loss_backward(n, labels, out);
    int doubled = 1;
    for (size_t i = 0; i < n->n_params; i++)
        if (!(fabsf(n->grads[i] - 2 * saved[i]) <= 1e-5f + 1e-4f * fabsf(saved[i]))) {
            if (doubled) fprintf(stderr, "parameter %zu: %.8g after two backward calls, "
                                 "%.8g after one\n", i, n->grads[i], saved[i]);
            doubled = 0;
        }
    CHECK(doubled, "gradients accumulate over backward calls");
    free(saved);
    net_free(n);
}

/* Used by tests/test_torch.py: test_net --forward CFG WEIGHTS INPUT OUTPUT BATCH runs
 * an inference forward on INPUT ([BATCH][c*h*w] float32) and writes every default
 * point's values, in network order, to OUTPUT. The net is built for training, whose
 * points hold the whole batch (an inference net's conv / bn points do not). */
static int forward_tool(char **argv) {
    lir_error err;
    net_options opt = {atoi(argv[6]), 0, 1, 1};
    net *n = net_load_cfg(argv[2], &opt, &err);
    if (!n || net_load_weights(n, argv[3], &err)) {
        fprintf(stderr, "%s\n", err.msg);
        net_free(n);
        return 1;
    }
    size_t nin = (size_t)n->batch * n->c * n->h * n->w;
    float *x = xmalloc(nin * sizeof(float));
    FILE *f = fopen(argv[4], "rb");
    int ok = f && fread(x, sizeof(float), nin, f) == nin;
    if (f) fclose(f);
    FILE *o = ok ? fopen(argv[5], "wb") : NULL;
    if (o) {
        net_forward(n, x, 0);
        for (int p = 0; p < n->n_points; p++) {
            const point *pt = &n->points[p];
            size_t cnt = (size_t)n->batch * pt->c * pt->h * pt->w;
            if (pt->is_default) ok &= fwrite(pt->value, sizeof(float), cnt, o) == cnt;
        }
        ok &= fclose(o) == 0;
    }
    free(x);
    net_free(n);
    if (!o || !ok) fprintf(stderr, "forward tool: cannot read %s or write %s\n", argv[4], argv[5]);
    return o && ok ? 0 : 1;
}

/* Used by tests/test_torch.py: test_net --grad CFG WEIGHTS INPUT LABELS OUTPUT BATCH
 * [POINT LAMBDA M_IN M_OUT]... (band:POINT LAMBDA M_IN_LO,M_IN M_OUT_LO,M_OUT for the
 * band loss) runs a training forward and net_loss_backward on INPUT
 * with int32 LABELS (-1: outlier) and hooks on the given points, and writes the CE,
 * each hook's R, then the gradients in .weights order (conv: biases, [scales],
 * weights; connected: biases, weights) as float32 to OUTPUT. */
static int grad_tool(int argc, char **argv) {
    lir_error err;
    net_options opt = {atoi(argv[7]), 0, 1, 1};
    net *n = net_load_cfg(argv[2], &opt, &err);
    if (!n || net_load_weights(n, argv[3], &err)) {
        fprintf(stderr, "%s\n", err.msg);
        net_free(n);
        return 1;
    }
    for (int a = 8; a + 3 < argc; a += 4) {
        hook_reg reg = {.lambda = (float)atof(argv[a + 1]), .m_in = (float)atof(argv[a + 2]),
                        .m_out = (float)atof(argv[a + 3])};
        const char *pname = argv[a];
        if (!strncmp(pname, "band:", 5)) { /* band:POINT LAMBDA M_IN_LO,M_IN M_OUT_LO,M_OUT */
            pname += 5;
            reg.loss = HOOK_LOSS_BAND;
            sscanf(argv[a + 2], "%f,%f", &reg.m_in_lo, &reg.m_in);
            sscanf(argv[a + 3], "%f,%f", &reg.m_out_lo, &reg.m_out);
        }
        if (net_add_hook(n, pname, &reg, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            net_free(n);
            return 1;
        }
    }
    size_t nin = (size_t)n->batch * n->c * n->h * n->w;
    float *x = xmalloc(nin * sizeof(float));
    int *labels = xmalloc((size_t)n->batch * sizeof(int));
    unsigned char *out = xmalloc((size_t)n->batch);
    FILE *f = fopen(argv[4], "rb");
    int ok = f && fread(x, sizeof(float), nin, f) == nin;
    if (f) fclose(f);
    f = fopen(argv[5], "rb");
    ok = ok && f && fread(labels, sizeof(int), (size_t)n->batch, f) == (size_t)n->batch;
    if (f) fclose(f);
    FILE *o = ok ? fopen(argv[6], "wb") : NULL;
    if (o) {
        for (int b = 0; b < n->batch; b++) out[b] = labels[b] < 0;
        net_forward(n, x, 1);
        net_zero_grads(n);
        float v = (float)net_loss_backward(n, labels, out);
        fwrite(&v, sizeof v, 1, o);
        for (int h = 0; h < n->n_hooks; h++) {
            v = (float)n->hooks[h].last_reg;
            fwrite(&v, sizeof v, 1, o);
        }
        for (int i = 0; i < n->n_layers; i++) {
            layer *l = &n->layers[i];
            if (l->type == LAYER_CONV) {
                conv_layer *c = &l->u.conv;
                fwrite(c->dbiases, sizeof(float), (size_t)c->n, o);
                if (c->batch_normalize) fwrite(c->dscales, sizeof(float), (size_t)c->n, o);
                fwrite(c->dweights, sizeof(float), (size_t)c->n * c->c * c->size * c->size, o);
            } else if (l->type == LAYER_CONNECTED) {
                fwrite(l->u.fc.dbiases, sizeof(float), (size_t)l->u.fc.outputs, o);
                fwrite(l->u.fc.dweights, sizeof(float),
                       (size_t)l->u.fc.outputs * l->u.fc.inputs, o);
            }
        }
        ok = !ferror(o);
        ok &= fclose(o) == 0;
    }
    free(x);
    free(labels);
    free(out);
    net_free(n);
    if (!o || !ok) fprintf(stderr, "grad tool: cannot read inputs or write %s\n", argv[6]);
    return o && ok ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc == 7 && !strcmp(argv[1], "--forward")) return forward_tool(argv);
    if (argc >= 8 && !strcmp(argv[1], "--grad")) return grad_tool(argc, argv);
    test_resnet18();
    test_gradients();
    return check_done("test_net");
}
