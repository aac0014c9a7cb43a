/* bench_winograd.c: the convolution layer on every stride-1 3x3 shape of the two
 * ResNet-18s, direct (im2col / implicit GEMM) against Winograd F(2x2) and F(4x4)
 * (not a test). Build and run from the repository root:
 *   make bench && build/bench/bench_winograd [seconds [batch [fp32|bf16 [block [only]]]]]
 * Defaults: 0.5 s per measurement, batch 32, fp32, block floats: winograd_block_floats'
 * default (0 too); only: the rows whose "net c" contains it ("cifar 128").
 * Per shape and algorithm (in every direction): the forward (training, batch norm),
 * backward-weights as the backward without the input gradient (it includes the
 * backward through ReLU and batch norm, the same for every algorithm), and
 * backward-data as the backward with the input gradient minus the backward without
 * it; each the fastest of `seconds` of calls per
 * algorithm, the algorithms taking turns call by call (on a shared machine the
 * fastest call is the least disturbed one, and the turns spread the disturbance
 * over all), timed in CPU seconds of the process (time the job was not running does
 * not count; LIR_BENCH_WALL=1: wall seconds), reported as ms and as
 * GFLOP/s-equivalent:
 * the direct convolution's FLOPs (2 * batch * n * c * 9 * h * w) / time, and that as a
 * percentage of this machine's peak (bench/peak.h, measured first: on one core for
 * CPU time, on the threads used for wall time; the fp32 FMA peak for fp32, the
 * vdpbf16ps peak for bf16; Winograd does fewer multiplications than the direct
 * convolution, so it can pass 100%). One thread (OMP_NUM_THREADS sets more). */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/kernels.h"
#include "nn/nn.h"
#include "peak.h"

typedef struct {
    const char *net;
    int c, h;
} shape;

static const shape shapes[] = {
    {"cifar", 64, 32}, {"cifar", 128, 16}, {"cifar", 256, 8}, {"cifar", 512, 4},
    {"paper", 64, 8},  {"paper", 128, 4},  {"paper", 256, 2}, {"paper", 512, 1},
};

typedef struct {
    double fwd, bwd, bwd_w; /* best seconds: forward, backward, backward without din */
} timing;

static float *buf(size_t n, rng_state *r) {
    float *p = xmalloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) p[i] = rng_uniform(r) - 0.5f;
    return p;
}

static int wall;
static double clock_now(void) {
    if (wall) return now_seconds();
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* One layer of the shape with Winograd tile m (0: direct) in every direction, its
 * buffers, and its best times so far. */
typedef struct {
    conv_layer l;
    float *params, *grads, *ws, *x, *dout, *out, *din;
    timing best;
} variant;

static void variant_make(variant *v, const shape *s, int m, int batch, int prec, rng_state *r) {
    lir_error err;
    conv_mode_set(CONV_DIRECT);
    if (conv_init(&v->l, s->c, s->h, s->h, s->c, 3, 1, 1, 1, ACT_RELU, batch, 1, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        exit(1);
    }
    v->l.wino_fwd = v->l.wino_bwd = v->l.wino_dw = m; /* before the workspace is sized */
    v->l.precision = prec;
    param_tensor t[3];
    size_t np = 0;
    for (int k = conv_params(&v->l, t) - 1; k >= 0; k--) np += t[k].n;
    v->params = xcalloc(np, sizeof(float)), v->grads = xcalloc(np, sizeof(float));
    conv_bind_params(&v->l, v->params, v->grads, r);
    v->ws = xmalloc(conv_workspace_size(&v->l) * sizeof(float));
    const size_t nx = (size_t)batch * s->c * s->h * s->h;
    v->x = buf(nx, r), v->dout = buf(nx, r);
    v->out = xmalloc(nx * sizeof(float)), v->din = xcalloc(nx, sizeof(float));
    v->best = (timing){1e30, 1e30, 1e30};
}

static void variant_free(variant *v) {
    conv_free(&v->l);
    free(v->params), free(v->grads), free(v->ws), free(v->x), free(v->dout), free(v->out);
    free(v->din);
}

/* One call of each kind (forward, backward, backward without din), keeping the
 * fastest of each. */
static void variant_round(variant *v) {
    double *best[3] = {&v->best.fwd, &v->best.bwd, &v->best.bwd_w};
    for (int what = 0; what < 3; what++) {
        const double t0 = clock_now();
        if (what == 0) conv_forward(&v->l, v->x, v->out, 1, v->ws, NULL, NULL);
        else conv_backward(&v->l, v->x, v->out, v->dout, what == 1 ? v->din : NULL, v->ws);
        const double t = clock_now() - t0;
        if (t < *best[what]) *best[what] = t;
    }
}

int main(int argc, char **argv) {
    const double secs = argc > 1 ? atof(argv[1]) : 0.5;
    const int batch = argc > 2 ? atoi(argv[2]) : 32;
    const int prec = argc > 3 ? precision_parse(argv[3]) : PREC_FP32;
    if (argc > 4 && atol(argv[4]) > 0) winograd_block_floats = (size_t)atol(argv[4]);
    const char *only = argc > 5 ? argv[5] : NULL;
    wall = getenv("LIR_BENCH_WALL") && atoi(getenv("LIR_BENCH_WALL"));
    if (prec < 0 || batch < 1) {
        fprintf(stderr, "usage: bench_winograd [seconds [batch [fp32|bf16 [block [only]]]]]\n");
        return 2;
    }
    if (!getenv("OMP_NUM_THREADS")) omp_set_num_threads(1);
    rng_state r;
    rng_seed(&r, 1);
    const int threads = omp_get_max_threads(), level = kernels_level();
    /* CPU time sums the threads' time: its rate is one core's; wall time: all of them */
    const int pt = wall ? threads : 1;
    double peak = 0;
    if (prec == PREC_BF16 && level >= KERN_AVX512BF16)
        peak = peak_rate(peak_dpbf16, pt, 200, 2e-3);
    else if (prec == PREC_FP32 && level >= KERN_AVX512)
        peak = peak_rate(peak_fma512, pt, 200, 2e-3);
    printf("# kernels level %s: %s; %s; batch %d; %d thread(s); block %zu floats; %s time\n",
           kernels_level_name(level), gemm_kernels(), precision_name(prec), batch, threads,
           winograd_block_floats, wall ? "wall" : "CPU");
    printf("# GFLOP/s-equivalent = direct FLOPs / time; %% = of the peak on %d core(s), "
           "%.1f GFLOP/s (%s; 0: not measured at this level; CPU time: one core's); "
           "bwd-weights = backward without the input gradient (ReLU and BN backward "
           "included), bwd-data = backward - that\n",
           pt, peak, prec == PREC_BF16 ? "vdpbf16ps" : "fp32 FMA zmm");
    printf("%-5s %4s %5s  %-6s %8s %8s %5s %8s %8s %5s %8s %8s %5s %7s %7s %7s\n", "net", "c=n",
           "map", "algo", "fwd ms", "fwd GF/s", "%", "bwdd ms", "bwdd GF/s", "%", "bwdw ms",
           "bwdw GF/s", "%", "fwd x", "bwdd x", "bwdw x");
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const shape *s = &shapes[i];
        char name[32];
        snprintf(name, sizeof name, "%s %d", s->net, s->c);
        if (only && !strstr(name, only)) continue;
        const double flop = 2.0 * batch * s->c * s->c * 9 * s->h * s->h;
        /* rounds over the variants in turn until each had `secs` of calls */
        variant v[3];
        int nv = 0;
        for (int m = 0; m <= 4; m += 2)
            if (m < 4 || s->h >= 4) variant_make(&v[nv++], s, m, batch, prec, &r);
        /* an untimed round first: the first calls fault in the fresh buffers (the
         * 512-channel layers' packed filters are 9-38 MB), which took longer than a
         * 0.3 s budget and stood as the best time */
        for (int k = 0; k < nv; k++) {
            variant_round(&v[k]);
            v[k].best = (timing){1e30, 1e30, 1e30};
        }
        const double t0 = clock_now();
        do
            for (int k = 0; k < nv; k++) variant_round(&v[k]);
        while (clock_now() - t0 < secs * nv);
        const timing direct = v[0].best;
        for (int k = 0; k < nv; k++) {
            const timing t = v[k].best;
            const double bd = t.bwd - t.bwd_w, bd0 = direct.bwd - direct.bwd_w;
            char algo[16];
            snprintf(algo, sizeof algo, k ? "F(%d)" : "direct", 2 * k);
            const double gf = flop / t.fwd * 1e-9, gd = bd > 0 ? flop / bd * 1e-9 : 0,
                         gw = flop / t.bwd_w * 1e-9, pc = peak > 0 ? 100 / peak : 0;
            printf("%-5s %4d %2dx%-2d  %-6s %8.2f %8.1f %5.0f %8.2f %8.1f %5.0f %8.2f %8.1f %5.0f "
                   "%6.2fx %6.2fx %6.2fx\n",
                   s->net, s->c, s->h, s->h, algo, t.fwd * 1e3, gf, gf * pc, bd * 1e3, gd, gd * pc,
                   t.bwd_w * 1e3, gw, gw * pc, direct.fwd / t.fwd, bd > 0 ? bd0 / bd : 0,
                   direct.bwd_w / t.bwd_w);
            variant_free(&v[k]);
        }
        fflush(stdout);
    }
    conv_mode_set(-1);
    return 0;
}
