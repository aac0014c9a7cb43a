/* test_guard.c: non-finite values never leave a training run unnoticed (issue 10,
 * item 1): a NaN gradient or an overflowing step marks the optimiser's tensor
 * (sgd.nonfinite), guard_finite names the layer and array and the checkpoint only
 * when one exists, a batch-norm statistic gone non-finite is found too, and neither
 * a .weights file nor a checkpoint is written with a non-finite value in it. */
#include <float.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "train/checkpoint.h"
#include "train/guard.h"

static const char *CFG = "[net]\nbatch=2\nwidth=4\nheight=4\nchannels=1\n"
                         "[convolutional]\nbatch_normalize=1\nfilters=2\nsize=3\npad=1\n"
                         "activation=relu\n[avgpool]\n[connected]\noutput=3\n"
                         "activation=linear\n[softmax]\n";

int main(void) {
    lir_error err;
    cfg_file *c = cfg_parse_string(CFG, "g.cfg", &err);
    net_options no = {2, 0, 1, 3};
    net *n = c ? net_build(c, &no, &err) : NULL;
    CHECK(n != NULL, "tiny net: %s", err.msg);
    if (!n) return check_done("test_guard");
    param_tensor p[16];
    int np = net_params(n, p, 16);
    sgd_config sc = {0.9f, 5e-4f, 0, 1};
    sgd *o = sgd_create(p, np, &sc);
    for (int i = 0; i < np; i++) memset(p[i].dw, 0, p[i].n * sizeof(float));
    CHECK(sgd_step(o, p, np, 0.1f, &err) == 0 && o->nonfinite == -1, "finite step");
    CHECK(guard_finite(n, o, p, np, 1, 1, NULL, &err) == 0, "all finite: %s", err.msg);

    p[np - 1].dw[0] = NAN; /* the connected layer's biases' gradient */
    CHECK(sgd_step(o, p, np, 0.1f, &err) == 0 && o->nonfinite == np - 1, "NaN gradient seen (%d)",
          o->nonfinite);
    CHECK(guard_finite(n, o, p, np, 1, 2, NULL, &err) < 0 &&
              strstr(err.msg, "layer 2 (connected, cfg line 13) biases") &&
              strstr(err.msg, "gradient 0") && strstr(err.msg, "nothing to resume"),
          "names the tensor, its gradient, no checkpoint: %s", err.msg);
    CHECK(guard_finite(n, o, p, np, 1, 2, "run/checkpoint.bin", &err) < 0 &&
              strstr(err.msg, "the last good checkpoint run/checkpoint.bin is kept"),
          "names the checkpoint when there is one: %s", err.msg);

    char dir[] = "/tmp/lir_test_guardXXXXXX", path[256];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(path, sizeof path, "%s/w.weights", dir);
    CHECK(net_save_weights(n, path, &err) < 0 && strstr(err.msg, "not written") &&
              access(path, F_OK) != 0,
          "no .weights with NaN: %s", err.msg);
    train_state s;
    memset(&s, 0, sizeof s);
    snprintf(path, sizeof path, "%s/c.ckpt", dir);
    CHECK(checkpoint_save(path, 1, n, o, &s, &err) < 0 && strstr(err.msg, "is not finite") &&
              access(path, F_OK) != 0,
          "no checkpoint with NaN: %s", err.msg);

    /* a finite but huge step overflows to inf */
    for (int i = 0; i < np; i++) {
        for (size_t k = 0; k < p[i].n; k++) p[i].w[k] = 1, p[i].dw[k] = 0;
        memset(o->vel[i], 0, p[i].n * sizeof(float));
    }
    p[0].dw[0] = FLT_MAX;
    CHECK(sgd_step(o, p, np, 100.0f, &err) == 0 && o->nonfinite == 0, "overflow seen (%d)",
          o->nonfinite);
    p[0].w[0] = 1, o->vel[0][0] = 0;
    /* batch-norm running statistics are checked too */
    p[0].dw[0] = 0;
    CHECK(sgd_step(o, p, np, 0.1f, &err) == 0 && o->nonfinite == -1, "finite again");
    n->layers[0].u.conv.rolling_var[1] = INFINITY;
    CHECK(guard_finite(n, o, p, np, 2, 5, NULL, &err) < 0 &&
              strstr(err.msg, "batch-norm running variance"),
          "running variance: %s", err.msg);
    snprintf(path, sizeof path, "%s/w2.weights", dir);
    CHECK(net_save_weights(n, path, &err) < 0 && access(path, F_OK) != 0, "no .weights with inf");

    dataset d = {.n = 3, .classes = 10};
    int labels[3] = {0, 9, 4};
    d.labels = labels;
    snprintf(d.name, sizeof d.name, "cifar10");
    snprintf(d.split, sizeof d.split, "train");
    CHECK(guard_labels_fit(&d, 10, &err) == 0, "10 classes fit");
    CHECK(guard_labels_fit(&d, 3, &err) < 0 && strstr(err.msg, "labels up to 9"), "3 refused: %s",
          err.msg);
    rmdir(dir);
    sgd_free(o);
    net_free(n);
    cfg_free(c);
    return check_done("test_guard");
}
