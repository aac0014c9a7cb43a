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
    sgd_config sc = {0.9f, 5e-4f, 0, 1};
    sgd *o = sgd_create(n->tensors, n->n_tensors, &sc);
    size_t np = n->n_params, last = np - n->tensors[n->n_tensors - 1].n;
    memset(n->grads, 0, np * sizeof(float));
    CHECK(sgd_step(o, n->params, n->grads, np, 0.1f, &err) == 0 && o->nonfinite == 0,
          "finite step");
    CHECK(guard_finite(n, o, 1, 1, NULL, &err) == 0, "all finite: %s", err.msg);

    n->grads[last] = NAN; /* the arena's last tensor: the connected layer's biases */
    CHECK(sgd_step(o, n->params, n->grads, np, 0.1f, &err) == 0 && o->nonfinite == 1,
          "NaN gradient seen");
    CHECK(guard_finite(n, o, 1, 2, NULL, &err) < 0 &&
              strstr(err.msg, "layer 2 (connected, cfg line 13) biases") &&
              strstr(err.msg, "gradient 0") && strstr(err.msg, "nothing to resume"),
          "names the tensor, its gradient, no checkpoint: %s", err.msg);
    CHECK(guard_finite(n, o, 1, 2, "run/checkpoint.bin", &err) < 0 &&
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
    checkpoint_parts parts = {1, n, NULL, 0, o, &s};
    CHECK(checkpoint_save(path, &parts, &err) < 0 && strstr(err.msg, "is not finite") &&
              access(path, F_OK) != 0,
          "no checkpoint with NaN: %s", err.msg);

    /* a finite but huge step overflows to inf */
    for (size_t k = 0; k < np; k++) n->params[k] = 1, n->grads[k] = 0, o->vel[k] = 0;
    n->grads[0] = FLT_MAX;
    CHECK(sgd_step(o, n->params, n->grads, np, 100.0f, &err) == 0 && o->nonfinite == 1,
          "overflow seen");
    CHECK(guard_finite(n, o, 2, 4, NULL, &err) < 0 &&
              strstr(err.msg, "layer 0 (convolutional, cfg line 6) weights"),
          "the overflowing tensor named: %s", err.msg);
    n->params[0] = 1, o->vel[0] = 0, n->grads[0] = 0;
    /* batch-norm running statistics are checked too */
    CHECK(sgd_step(o, n->params, n->grads, np, 0.1f, &err) == 0 && o->nonfinite == 0,
          "finite again");
    n->layers[0].u.conv.rolling_var[1] = INFINITY;
    CHECK(guard_finite(n, o, 2, 5, NULL, &err) < 0 &&
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
