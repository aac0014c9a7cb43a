/* test_noalloc.c: once a network has run one training step (forward, loss backward
 * with hooks, optimiser step) and one inference forward, further steps allocate
 * nothing. Linked with malloc, calloc, realloc and free wrapped (-Wl,--wrap, see the
 * Makefile), the test counts the calls lir makes during the steps; OpenMP's own
 * allocations (its thread pool) are in libgomp and not counted. Run with one thread,
 * then with two, each time alone and as one of two data-parallel processes (batch norm
 * summed over processes through bn_sync, here a sum that doubles, as a twin process
 * would add; the gradient allreduce dist_sum_float, one process in this build); with
 * the direct convolution, then with Winograd (LIR_CONV). */
#include <omp.h>
#include <stdlib.h>

#include "check.h"
#include "net_fixture.h"
#include "nn/nn.h"
#include "train/train.h"

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
void __real_free(void *p);

static int counting;
static long calls;

void *__wrap_malloc(size_t size) {
    calls += counting;
    return __real_malloc(size);
}
void *__wrap_calloc(size_t n, size_t size) {
    calls += counting;
    return __real_calloc(n, size);
}
void *__wrap_realloc(void *p, size_t size) {
    calls += counting;
    return __real_realloc(p, size);
}
void __wrap_free(void *p) {
    calls += counting && p;
    __real_free(p);
}

static const char *CFG = NET_FIXTURE_CFG;

static void twin_sum(void *ctx, double *buf, int n) {
    for (int i = 0; i < n; i++) buf[i] *= 2;
}

/* One training step and one inference forward. */
static int step(net *n, sgd *o, const float *x, const int *labels,
                const unsigned char *outlier, lir_error *err) {
    net_forward(n, x, 1);
    net_zero_grads(n);
    net_loss_backward(n, labels, outlier);
    dist_sum_float(n->grads, n->n_params);
    if (sgd_step(o, n->params, n->grads, n->n_params, 0.01f, err)) return -1;
    net_forward(n, x, 0);
    return 0;
}

/* A network built under conv mode `mode` (LIR_CONV): the steps after the first
 * allocate nothing, on one thread and on two. */
static void check_mode(const cfg_file *cfg, int mode, const float *x, const int *labels,
                       const unsigned char *outlier) {
    lir_error err;
    conv_mode_set(mode);
    net_options no = {4, 5, 1, 3};
    net *n = net_build(cfg, &no, &err);
    CHECK(n != NULL, "net builds (%s)", n ? "" : err.msg);
    if (!n) return;
    int wino = 0;
    for (int i = 0; i < n->n_layers; i++)
        wino += n->layers[i].type == LAYER_CONV && n->layers[i].u.conv.wino_bwd &&
                n->layers[i].u.conv.wino_dw;
    CHECK((wino == 3) == (mode == CONV_WINOGRAD), "conv %s: %d Winograd layers",
          conv_mode_name(mode), wino);
    net_hook_all(n);
    hook_reg reg = {.lambda = 0.1f, .m_in = -3.0f, .m_out = 3.0f};
    CHECK(net_add_hook(n, "b1", &reg, &err) == 0 && net_add_hook(n, "c3", &reg, &err) == 0,
          "regularised hooks attach");
    sgd_config sc = {0.9f, 5e-4f, 0, 1};
    sgd *o = sgd_create(n->tensors, n->n_tensors, &sc);
    const bn_sync twin = {twin_sum, NULL, 2};
    for (int run = 0; run < 4; run++) {
        int threads = 1 + run % 2;
        omp_set_num_threads(threads);
        net_set_bn_sync(n, run >= 2 ? &twin : NULL);
        CHECK(step(n, o, x, labels, outlier, &err) == 0, "warm-up step (%s)", err.msg);
        calls = 0;
        counting = 1;
        int rc = step(n, o, x, labels, outlier, &err);
        rc |= step(n, o, x, labels, outlier, &err);
        counting = 0;
        CHECK(rc == 0 && calls == 0,
              "conv %s, %d thread(s)%s: two training steps and inference forwards after "
              "the first allocate nothing (%ld allocator calls)",
              conv_mode_name(mode), threads, run >= 2 ? ", BN synced" : "", calls);
    }
    sgd_free(o);
    net_free(n);
}

int main(void) {
    lir_error err;
    cfg_file *cfg = cfg_parse_string(CFG, "noalloc.cfg", &err);
    CHECK(cfg != NULL, "cfg parses (%s)", cfg ? "" : err.msg);
    if (!cfg) return check_done("test_noalloc");
    float x[4 * 3 * 8 * 8];
    rng_state r;
    rng_seed(&r, 5);
    for (size_t i = 0; i < sizeof x / sizeof *x; i++) x[i] = rng_normal(&r);
    int labels[4] = {0, 3, 1, -1};
    unsigned char outlier[4] = {0, 0, 0, 1};

    /* the counter counts: building a network allocates */
    net_options no = {4, 5, 1, 3};
    counting = 1;
    net_free(net_build(cfg, &no, &err));
    counting = 0;
    CHECK(calls > 0, "the wrapped allocator counts (%ld calls to build a network)", calls);

    check_mode(cfg, CONV_DIRECT, x, labels, outlier);
    check_mode(cfg, CONV_WINOGRAD, x, labels, outlier);
    conv_mode_set(-1);
    cfg_free(cfg);
    return check_done("test_noalloc");
}
