/* test_dist.c: the arithmetic data-parallel training rests on, without MPI. Two
 * "processes" (two threads, each with its own network, joined by a two-thread allreduce
 * in place of MPI's) each take half of a batch: ID images 0..1 / 2..3 and one outlier
 * each, batch norm summed over both (bn_sync). Their outputs, hook energies, losses,
 * BN running statistics and mean gradient must be those of one network on the whole
 * batch, up to float summation order; without the BN sync they are not. Also the
 * default build's dist functions: one process, and a clear refusal when an MPI
 * launcher's variables say there are more. */
#include <omp.h>
#include <pthread.h>
#include <string.h>

#include "check.h"
#include "net_fixture.h"
#include "nn/nn.h"
#include "train/train.h"

static const char *CFG = NET_FIXTURE_CFG;

enum { IMG = 3 * 8 * 8, HALF = 3 };

/* The two-thread allreduce: both threads post their buffer, both add the two in the
 * same order, then each copies the sum into its own. */
typedef struct {
    pthread_barrier_t bar;
    double *slot[2];
} pair;

typedef struct {
    pair *p;
    int me;
    bn_sync sync;
    net *n;
    const float *x;
    const int *labels;
    const unsigned char *is_out;
    double ce, total;
} proc;

static void pair_sum(void *ctx, double *buf, int n) {
    proc *q = ctx;
    double sum[64];
    if (n > 64) abort(); /* the test's network has at most 16 channels: 32 sums */
    q->p->slot[q->me] = buf;
    pthread_barrier_wait(&q->p->bar);
    for (int i = 0; i < n && i < 64; i++) sum[i] = q->p->slot[0][i] + q->p->slot[1][i];
    pthread_barrier_wait(&q->p->bar);
    memcpy(buf, sum, (size_t)n * sizeof(double));
}

static void *proc_run(void *arg) {
    proc *q = arg;
    q->total = train_forward_backward(q->n, q->x, q->labels, q->is_out, &q->ce);
    return NULL;
}

static net *make_net(const cfg_file *cfg, int batch) {
    lir_error err;
    net_options no = {batch, 5, 1, 11};
    net *n = net_build(cfg, &no, &err);
    hook_reg reg = {.lambda = 0.5f, .m_in = -4.0f, .m_out = -1.0f};
    if (!n || net_add_hook(n, "b1", &reg, &err) || net_add_hook(n, "fc", &reg, &err)) {
        fprintf(stderr, "net: %s\n", err.msg);
        exit(1);
    }
    return n;
}

/* Largest |a - b| over n values, and largest |b|. */
static double max_diff(const float *a, const float *b, size_t n, double *scale) {
    double d = 0;
    *scale = 0;
    for (size_t i = 0; i < n; i++) {
        d = fmax(d, fabs((double)a[i] - b[i]));
        *scale = fmax(*scale, fabs((double)b[i]));
    }
    return d;
}

/* Runs the two halves (synced or not) and compares them with the whole batch's net w;
 * returns the largest gradient difference relative to the largest gradient. */
static double halves_vs_whole(const cfg_file *cfg, net *w, double w_ce, double w_total,
                              const float *x, const int *lab, int synced) {
    pair p;
    pthread_barrier_init(&p.bar, NULL, 2);
    proc q[2];
    float xs[2][HALF * IMG];
    int ls[2][HALF];
    unsigned char os[2][HALF] = {{0, 0, 1}, {0, 0, 1}};
    for (int k = 0; k < 2; k++) {
        /* process k: ID images 2k, 2k+1 and outlier k of the whole batch [4 ID][2 out] */
        memcpy(xs[k], x + (size_t)2 * k * IMG, 2 * IMG * sizeof(float));
        memcpy(xs[k] + 2 * IMG, x + (size_t)(4 + k) * IMG, IMG * sizeof(float));
        ls[k][0] = lab[2 * k], ls[k][1] = lab[2 * k + 1], ls[k][2] = -1;
        q[k] = (proc){&p, k, {pair_sum, &q[k], 2}, make_net(cfg, HALF), xs[k], ls[k], os[k], 0, 0};
        if (synced) net_set_bn_sync(q[k].n, &q[k].sync);
    }
    pthread_t th[2];
    for (int k = 0; k < 2; k++) pthread_create(&th[k], NULL, proc_run, &q[k]);
    for (int k = 0; k < 2; k++) pthread_join(th[k], NULL);
    double scale, d;
    float *g = xmalloc(w->n_params * sizeof(float));
    for (size_t i = 0; i < w->n_params; i++) g[i] = (q[0].n->grads[i] + q[1].n->grads[i]) / 2;
    double gd = max_diff(g, w->grads, w->n_params, &scale) / scale;
    if (synced) {
        CHECK(gd < 1e-5, "mean gradient of the halves = the whole batch's (max rel diff %.3g)", gd);
        const float *pw = w->layers[w->n_layers - 1].out;
        for (int k = 0; k < 2; k++) {
            const float *pk = q[k].n->layers[q[k].n->n_layers - 1].out;
            d = fmax(max_diff(pk, pw + 2 * k * 5, 10, &scale), max_diff(pk + 10, pw + (4 + k) * 5, 5, &scale));
            CHECK(d < 1e-6, "process %d: its outputs are the whole batch's (max diff %.3g)", k, d);
            d = max_diff(q[k].n->hooks[0].energy, w->hooks[0].energy + 2 * k, 2, &scale);
            CHECK(d < 1e-5 * fmax(scale, 1), "process %d: b1 energies (max diff %.3g)", k, d);
            const conv_layer *lk = &q[k].n->layers[0].u.conv, *lw = &w->layers[0].u.conv;
            d = fmax(max_diff(lk->rolling_mean, lw->rolling_mean, 8, &scale),
                     max_diff(lk->rolling_var, lw->rolling_var, 8, &scale));
            CHECK(d < 1e-6, "process %d: BN running statistics (max diff %.3g)", k, d);
        }
        CHECK_CLOSE((q[0].ce + q[1].ce) / 2, w_ce, 1e-6, 1e-6, "mean CE of the halves");
        CHECK_CLOSE((q[0].total + q[1].total) / 2, w_total, 1e-6, 1e-6, "mean loss of the halves");
        for (int h = 0; h < 2; h++)
            CHECK_CLOSE((q[0].n->hooks[h].last_reg + q[1].n->hooks[h].last_reg) / 2,
                        w->hooks[h].last_reg, 1e-6, 1e-6, "mean R of a hook");
    }
    free(g);
    for (int k = 0; k < 2; k++) net_free(q[k].n);
    pthread_barrier_destroy(&p.bar);
    return gd;
}

int main(void) {
    lir_error err;
    omp_set_num_threads(1);
    cfg_file *cfg = cfg_parse_string(CFG, "dist.cfg", &err);
    CHECK(cfg != NULL, "cfg parses");
    if (!cfg) return check_done("test_dist");
    float x[6 * IMG];
    rng_state r;
    rng_seed(&r, 3);
    for (size_t i = 0; i < sizeof x / sizeof *x; i++) x[i] = rng_normal(&r);
    int lab[6] = {0, 3, 1, 4, -1, -1};
    unsigned char out[6] = {0, 0, 0, 0, 1, 1};
    net *w = make_net(cfg, 6);
    double ce, total = train_forward_backward(w, x, lab, out, &ce);
    CHECK(isfinite(total), "the whole batch's loss is finite");
    double synced = halves_vs_whole(cfg, w, ce, total, x, lab, 1);
    double apart = halves_vs_whole(cfg, w, ce, total, x, lab, 0);
    fprintf(stderr, "gradient max rel diff: synced %.3g, without sync %.3g\n", synced, apart);
    CHECK(apart > 100 * synced && apart > 1e-3,
          "without the BN sync the halves do not give the whole batch's gradient (%.3g vs "
          "%.3g synced)", apart, synced);
    net_free(w);
    cfg_free(cfg);

    if (!strncmp(dist_kind(), "none", 4)) { /* the default build */
        CHECK(dist_start(&err) == 0 && dist_size() == 1 && dist_rank() == 0, "one process");
        setenv("OMPI_COMM_WORLD_SIZE", "4", 1);
        CHECK(dist_start(&err) == -1 && strstr(err.msg, "built without MPI; rebuild with make MPI=1"),
              "started by mpirun, the build without MPI refuses: %s", err.msg);
        unsetenv("OMPI_COMM_WORLD_SIZE");
    }
    return check_done("test_dist");
}
