/* test_train_grad.c: the gradients of the training step's full loss
 * (train_forward_backward: CE on ID samples + lambda * R-EBO at three points, ID and
 * outliers in one batch laid out as the trainer lays them out) match central finite
 * differences of the loss it returns, for samples of every parameter tensor. */
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
    float lambdas[3] = {0.05f, 0.02f, 0.3f};
    hook_reg none = {0, 0, 0, 0};
    for (int k = 0; k < 3; k++) net_add_hook(n, pts[k], &none, &err);
    net_forward(n, x, 1);
    /* margins that make every hinge active: ID above m_in, outliers below m_out */
    for (int k = 0; k < 3; k++) {
        int p = net_find_point(n, pts[k]), h = 0;
        while (n->hooks[h].point != p) h++;
        float lo = 1e30f, hi = -1e30f;
        for (int b = 0; b < 6; b++) {
            lo = fminf(lo, n->hooks[h].energy[b]);
            hi = fmaxf(hi, n->hooks[h].energy[b]);
        }
        hook_reg reg = {lambdas[k], lo - 0.5f, hi + 0.5f, 0};
        net_add_hook(n, pts[k], &reg, &err);
    }
    double ce, base = train_forward_backward(n, x, labels, out, &ce);
    double reg_sum = 0;
    for (int k = 0; k < n->n_hooks; k++) reg_sum += n->hooks[k].reg.lambda * n->hooks[k].last_reg;
    CHECK(reg_sum > 0.01 * ce, "regulariser terms take part (CE %g, sum lambda R %g)", ce, reg_sum);
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
                fprintf(stderr, "tensor %d [%zu]: analytic %.6g, finite difference %.6g\n", t, i, a,
                        fd);
            }
            checked++;
        }
    }
    fprintf(stderr, "%d gradients checked, worst error %.2f of tolerance\n", checked, worst);
    CHECK(checked > 40, "enough gradients checked (%d)", checked);
    CHECK(bad == 0, "full-loss gradients match finite differences (%d mismatches)", bad);
    free(g);
    free(x);
    net_free(n);
    cfg_free(cfg);
    return check_done("test_train_grad");
}
