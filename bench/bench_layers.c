/* bench_layers.c: times conv forward / backward on the layer shapes of the two
 * ResNet-18 variants (not a test). Build and run from the repository root:
 *   make bench && build/bench/bench_layers [reps [workspace floats (0: default) [cifar|imagenet]]]
 * Prints GFLOP/s per shape and the conv-only images/s of each network
 * (training: batch 128 forward + backward; inference: batch 256 forward).
 * Environment: LIR_BENCH_CPU=1 times process CPU seconds (see clock_now). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/kernels.h"
#include "nn/nn.h"

typedef struct {
    const char *net;
    int c, h, n, size, stride, pad, count;
    int first; /* the stem: no input gradient */
} shape;

static const shape shapes[] = {
    {"cifar", 3, 32, 64, 3, 1, 1, 1, 1},     {"cifar", 64, 32, 64, 3, 1, 1, 4, 0},
    {"cifar", 64, 32, 128, 3, 2, 1, 1, 0},   {"cifar", 128, 16, 128, 3, 1, 1, 3, 0},
    {"cifar", 64, 32, 128, 1, 2, 0, 1, 0},   {"cifar", 128, 16, 256, 3, 2, 1, 1, 0},
    {"cifar", 256, 8, 256, 3, 1, 1, 3, 0},   {"cifar", 128, 16, 256, 1, 2, 0, 1, 0},
    {"cifar", 256, 8, 512, 3, 2, 1, 1, 0},   {"cifar", 512, 4, 512, 3, 1, 1, 3, 0},
    {"cifar", 256, 8, 512, 1, 2, 0, 1, 0},   {"imagenet", 3, 32, 64, 7, 2, 3, 1, 1},
    {"imagenet", 64, 8, 64, 3, 1, 1, 4, 0},  {"imagenet", 64, 8, 128, 3, 2, 1, 1, 0},
    {"imagenet", 128, 4, 128, 3, 1, 1, 3, 0}, {"imagenet", 64, 8, 128, 1, 2, 0, 1, 0},
    {"imagenet", 128, 4, 256, 3, 2, 1, 1, 0}, {"imagenet", 256, 2, 256, 3, 1, 1, 3, 0},
    {"imagenet", 128, 4, 256, 1, 2, 0, 1, 0}, {"imagenet", 256, 2, 512, 3, 2, 1, 1, 0},
    {"imagenet", 512, 1, 512, 3, 1, 1, 3, 0}, {"imagenet", 256, 2, 512, 1, 2, 0, 1, 0},
};

/* With LIR_BENCH_CPU=1 in the environment, times are process CPU seconds instead of
 * wall seconds: with OMP_NUM_THREADS=1 that measures the work itself, robust to
 * other programs sharing the cores. */
static int use_cpu_clock;
static double clock_now(void) {
    if (!use_cpu_clock) return now_seconds();
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static float *buf(size_t n, rng_state *r) {
    float *p = xmalloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) p[i] = rng_uniform(r) - 0.5f;
    return p;
}

int main(int argc, char **argv) {
    const int reps = argc > 1 ? atoi(argv[1]) : 3;
    use_cpu_clock = getenv("LIR_BENCH_CPU") && atoi(getenv("LIR_BENCH_CPU"));
    printf("GEMM kernels: %s\n", gemm_kernels());
    if (argc > 2 && atol(argv[2]) > 0) gemm_workspace_limit = (size_t)atol(argv[2]);
    const char *only = argc > 3 ? argv[3] : NULL; /* "cifar" or "imagenet" */
    rng_state rng;
    rng_seed(&rng, 1);
    double t_train[2] = {0, 0}, t_inf[2] = {0, 0};
    printf("%-9s %4s %3s %4s %s  %8s %8s %8s %9s %9s\n", "net", "c", "hw", "n", "k/s", "fwd GF/s",
           "bwd GF/s", "inf GF/s", "train ms", "infer ms");
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        const shape *s = &shapes[i];
        const int which = s->net[0] == 'i';
        if (only && strcmp(only, s->net)) continue;
        conv_layer tr, inf;
        conv_init(&tr, s->c, s->h, s->h, s->n, s->size, s->stride, s->pad, 1, ACT_RELU, 128, 1,
                  NULL);
        conv_init(&inf, s->c, s->h, s->h, s->n, s->size, s->stride, s->pad, 1, ACT_RELU, 256, 0,
                  NULL);
        /* one set of parameters for both (they have the same shape) */
        param_tensor t[3];
        size_t np = 0;
        for (int k = conv_params(&tr, t) - 1; k >= 0; k--) np += t[k].n;
        float *params = xcalloc(np, sizeof(float)), *grads = xcalloc(np, sizeof(float));
        conv_bind_params(&tr, params, grads, &rng);
        conv_bind_params(&inf, params, NULL, &rng);
        size_t wsn = conv_workspace_size(&tr) > conv_workspace_size(&inf) ? conv_workspace_size(&tr)
                                                                         : conv_workspace_size(&inf);
        float *ws = xmalloc(wsn * sizeof(float));
        size_t nin = (size_t)256 * s->c * s->h * s->h, nout = (size_t)256 * s->n * tr.oh * tr.ow;
        float *x = buf(nin, &rng), *dout = buf(nout, &rng), *out = xmalloc(nout * 4);
        float *din = xcalloc(nin, 4);
        const double flop = 2.0 * s->n * s->c * s->size * s->size * tr.oh * tr.ow;
        double tf = 1e9, tb = 1e9, ti = 1e9;
        for (int r = 0; r < reps; r++) {
            double t0 = clock_now();
            conv_forward(&tr, x, out, 1, ws, NULL, NULL);
            double t1 = clock_now();
            conv_backward(&tr, x, out, dout, s->first ? NULL : din, ws);
            double t2 = clock_now();
            conv_forward(&inf, x, out, 0, ws, NULL, NULL);
            double t3 = clock_now();
            tf = t1 - t0 < tf ? t1 - t0 : tf;
            tb = t2 - t1 < tb ? t2 - t1 : tb;
            ti = t3 - t2 < ti ? t3 - t2 : ti;
        }
        const double bflop = flop * (s->first ? 1 : 2);
        printf("%-9s %4d %3d %4d %d/%d  %8.1f %8.1f %8.1f %9.1f %9.1f\n", s->net, s->c, s->h,
               s->n, s->size, s->stride, flop * 128 / tf * 1e-9, bflop * 128 / tb * 1e-9,
               flop * 256 / ti * 1e-9, (tf + tb) * 1e3, ti * 1e3);
        t_train[which] += s->count * (tf + tb);
        t_inf[which] += s->count * ti;
        conv_free(&tr), conv_free(&inf);
        free(params), free(grads);
        free(ws), free(x), free(dout), free(out), free(din);
    }
    /* raw sgemm through the wrapper, for the achievable rate */
    const int dims[][3] = {{64, 16384, 576}, {256, 4096, 2304}, {512, 2048, 4608}};
    for (int d = 0; d < 3; d++) {
        const int m = dims[d][0], n = dims[d][1], k = dims[d][2];
        float *a = buf((size_t)m * k, &rng), *b = buf((size_t)k * n, &rng);
        float *c = xmalloc((size_t)m * n * 4);
        double best = 1e9;
        for (int r = 0; r < reps + 1; r++) {
            double t0 = clock_now();
            gemm(0, 0, m, n, k, 1, a, k, b, n, 0, c, n);
            double t = clock_now() - t0;
            best = t < best ? t : best;
        }
        printf("raw sgemm %dx%dx%d: %.1f GFLOP/s\n", m, n, k, 2.0 * m * n * k / best * 1e-9);
        free(a), free(b), free(c);
    }
    for (int n = 0; n < 2; n++)
        printf("%s: conv-only training %.1f img/s, inference %.1f img/s\n",
               n ? "imagenet-style" : "cifar-style", 128 / t_train[n], 256 / t_inf[n]);
    return 0;
}
