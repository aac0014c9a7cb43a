/* test_train_grad.c: the gradients of the training step's full loss
 * (train_forward_backward: CE on ID samples + lambda * R at three hook points, ID and
 * outliers in one batch laid out as the trainer lays them out) match central finite
 * differences of the loss it returns, for samples of every parameter tensor: once with
 * the energy hinge at every point, once with the band at the intermediate points and
 * Outlier Exposure at the logits. Outlier Exposure elsewhere is refused. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "nn/nn.h"
#include "train/train.h"

static const char *CFG =
    "[net]\nbatch=6\nwidth=8\nheight=8\nchannels=3\n\n"
    "[convolutional]\nname=conv1\nbn_name=bn1\nbatch_normalize=1\nfilters=4\nsize=3\nstride=1\n"
    "pad=1\nactivation=relu\n\n"
    "[convolutional]\nname=conv2\nbn_name=bn2\nbatch_normalize=1\nfilters=6\nsize=3\nstride=2\n"
    "pad=1\nactivation=relu\n\n"
    "[avgpool]\n\n[connected]\nname=fc\noutput=4\nactivation=linear\n\n[softmax]\n";

/* Min and max of the batch's energies at a point. */
static void energy_range(const net *n, const char *name, float *lo, float *hi) {
    int p = net_find_point(n, name), h = 0;
    while (n->hooks[h].point != p) h++;
    *lo = 1e30f, *hi = -1e30f;
    for (int b = 0; b < n->batch; b++) {
        *lo = fminf(*lo, n->hooks[h].energy[b]);
        *hi = fmaxf(*hi, n->hooks[h].energy[b]);
    }
}

/* The analytic gradient of every tensor (a sample of its entries) against central
 * finite differences of the loss train_forward_backward returns. */
static void fd_check(net *n, const float *x, const int *labels, const unsigned char *out,
                     const char *what) {
    double ce, base = train_forward_backward(n, x, labels, out, &ce);
    double reg_sum = 0;
    for (int k = 0; k < n->n_hooks; k++) {
        reg_sum += n->hooks[k].reg.lambda * n->hooks[k].last_reg;
        CHECK(n->hooks[k].last_reg > 0, "%s: hook %d has active terms", what, k);
    }
    CHECK(reg_sum > 0.01 * ce, "%s: regulariser terms take part (CE %g, sum lambda R %g)", what,
          ce, reg_sum);
    CHECK_CLOSE(base, ce + reg_sum, 1e-9, 1e-9, "loss = CE + sum lambda R");
    /* analytic gradients, copied before the finite differences overwrite them */
    float *g = malloc(n->n_params * sizeof(float));
    memcpy(g, n->grads, n->n_params * sizeof(float));
    const float h = 2e-3f;
    int checked = 0, bad = 0;
    double worst = 0;
    size_t at = 0;
    for (int t = 0; t < n->n_tensors; at += n->tensors[t].n, t++) {
        const size_t len = n->tensors[t].n;
        float *w = n->params + at;
        for (size_t i = 0; i < len; i += 1 + len / 7) {
            float w0 = w[i];
            w[i] = w0 + h;
            double lp = train_forward_backward(n, x, labels, out, &ce);
            w[i] = w0 - h;
            double lm = train_forward_backward(n, x, labels, out, &ce);
            w[i] = w0;
            double fd = (lp - lm) / (2.0 * h), a = g[at + i];
            double tol = 3e-3 + 3e-2 * fabs(fd);
            double e = fabs(a - fd) / tol;
            worst = e > worst ? e : worst;
            if (e > 1) {
                bad++;
                fprintf(stderr, "%s: tensor %d [%zu]: analytic %.6g, finite difference %.6g\n",
                        what, t, i, a, fd);
            }
            checked++;
        }
    }
    fprintf(stderr, "%s: %d gradients checked, worst error %.2f of tolerance\n", what, checked,
            worst);
    CHECK(checked > 40, "%s: enough gradients checked (%d)", what, checked);
    CHECK(bad == 0, "%s: full-loss gradients match finite differences (%d mismatches)", what, bad);
    free(g);
}

int main(void) {
    lir_error err;
    cfg_file *cfg = cfg_parse_string(CFG, "grad.cfg", &err);
    CHECK(cfg != NULL, "cfg parses (%s)", err.msg);
    if (!cfg) return check_done("test_train_grad");
    net_options no = {6, 4, 1, 3};
    net *n = net_build(cfg, &no, &err);
    CHECK(n != NULL, "net builds (%s)", err.msg);
    if (!n) return check_done("test_train_grad");
    /* 4 ID samples then 2 outliers, as the trainer lays out a batch */
    int labels[6] = {0, 1, 2, 3, -1, -1};
    unsigned char out[6] = {0, 0, 0, 0, 1, 1};
    size_t nx = (size_t)6 * 3 * 8 * 8;
    float *x = malloc(nx * sizeof *x);
    rng_state r;
    rng_seed(&r, 11);
    for (size_t i = 0; i < nx; i++) x[i] = rng_normal(&r);
    const char *pts[3] = {"bn1", "conv2", "fc"};
    float lambdas[3] = {0.05f, 0.02f, 0.3f}, lo[3], hi[3];
    hook_reg none = {0};
    for (int k = 0; k < 3; k++) net_add_hook(n, pts[k], &none, &err);
    net_forward(n, x, 1);
    for (int k = 0; k < 3; k++) energy_range(n, pts[k], &lo[k], &hi[k]);
    /* hinge margins that make every term active: ID above m_in, outliers below m_out */
    for (int k = 0; k < 3; k++) {
        hook_reg reg = {.lambda = lambdas[k], .m_in = lo[k] - 0.5f, .m_out = hi[k] + 0.5f};
        net_add_hook(n, pts[k], &reg, &err);
    }
    fd_check(n, x, labels, out, "energy hinge");
    /* band: an ID band around the middle of the batch's range (some ID energies
     * outside it), an outer interval reaching past the range (outliers inside) */
    for (int k = 0; k < 2; k++) {
        float mid = 0.5f * (lo[k] + hi[k]), w = hi[k] - lo[k];
        hook_reg reg = {.lambda = lambdas[k], .loss = HOOK_LOSS_BAND, .m_in_lo = mid - 0.1f * w,
                        .m_in = mid + 0.1f * w, .m_out_lo = lo[k] - w, .m_out = hi[k] + w};
        net_add_hook(n, pts[k], &reg, &err);
    }
    hook_reg oe = {.lambda = 0.5f, .loss = HOOK_LOSS_OE};
    CHECK(net_add_hook(n, "fc", &oe, &err) == 0, "oe at the logits (%s)", err.msg);
    fd_check(n, x, labels, out, "band + oe");
    CHECK(net_add_hook(n, "conv2", &oe, &err) == -1 && strstr(err.msg, "logits"),
          "oe at an intermediate point is refused (%s)", err.msg);
    free(x);
    net_free(n);
    cfg_free(cfg);
    return check_done("test_train_grad");
}
