/* cmd_bench.c: `lir bench <cfg>`: times training steps and inference on synthetic
 * data (normal inputs, uniform labels) and prints images/s from the median
 * iteration time, the spread of the iteration times and the load average.
 *
 * train rows: forward (batch statistics), zero grads, softmax-CE backward and an SGD
 *   step (momentum 0.9, Nesterov off, weight decay 5e-4, lr 1e-3). With hooks "all"
 *   every default point carries an R-EBO regulariser (lambda 1e-3, half the batch
 *   marked as outliers (label -1), both margins at that point's mean energy of the first batch,
 *   so about half the samples are active on each side): the cost of regularised
 *   training.
 * infer rows: forward with running statistics; with hooks "all" the energy of every
 *   default point is computed for every sample (observe-only hooks).
 * Each row builds its own network so the rows do not share caches or state.
 * Columns: images/s from the median wall time per iteration; the wall times' spread:
 * fastest, first quartile, median, third quartile, slowest (quartiles interpolated
 * linearly between the sorted times, as numpy's default); the median CPU time per
 * iteration summed over all threads (user + system): on a machine shared with other
 * jobs, CPU time per image is the steadier measure of work done, wall time the one
 * users feel; last, the GEMM precision (--precision both times each row in fp32 and
 * then bf16, one after the other). The header says which kernels ran (gemm_kernels),
 * explains the columns and gives the load average (/proc/loadavg) before the first
 * row; a last line gives it after the last. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cli.h"
#include "nn/nn.h"
#include "train/train.h"

typedef struct {
    double min_s, q1_s, median_s, q3_s, max_s; /* wall clock per iteration */
    double cpu_s; /* median CPU time (all threads, user + system) per iteration */
    int hooked;   /* points with a hook */
} timing;

/* Wall clock and process CPU time of iterations, warm-up ones included. */
typedef struct {
    double *wall, *cpu;
    double wall0, cpu0;
} samples;

static double cpu_seconds(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + 1e-6 * (double)u.ru_utime.tv_usec +
           (double)u.ru_stime.tv_sec + 1e-6 * (double)u.ru_stime.tv_usec;
}

static void samples_init(samples *s, int n) {
    s->wall = xmalloc((size_t)n * sizeof *s->wall);
    s->cpu = xmalloc((size_t)n * sizeof *s->cpu);
}

static void samples_start(samples *s) {
    s->wall0 = now_seconds();
    s->cpu0 = cpu_seconds();
}

static void samples_stop(samples *s, int i) {
    s->wall[i] = now_seconds() - s->wall0;
    s->cpu[i] = cpu_seconds() - s->cpu0;
}

static void samples_free(samples *s) {
    free(s->wall);
    free(s->cpu);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The p-quantile of the sorted t[0..n): linear between neighbours (numpy's default). */
static double quantile(const double *t, int n, double p) {
    double pos = p * (n - 1);
    int i = (int)pos;
    return i + 1 < n ? t[i] + (pos - i) * (t[i + 1] - t[i]) : t[n - 1];
}

/* Summarises the iterations after the first `skip` (the warm-up). */
static void summarise(samples *s, int skip, int iters, timing *out) {
    double *w = s->wall + skip, *c = s->cpu + skip;
    qsort(w, (size_t)iters, sizeof *w, cmp_double);
    qsort(c, (size_t)iters, sizeof *c, cmp_double);
    out->min_s = w[0];
    out->q1_s = quantile(w, iters, 0.25);
    out->median_s = quantile(w, iters, 0.5);
    out->q3_s = quantile(w, iters, 0.75);
    out->max_s = w[iters - 1];
    out->cpu_s = quantile(c, iters, 0.5);
}

static float *random_input(const net *n, rng_state *r) {
    size_t len = (size_t)n->batch * n->c * n->h * n->w;
    float *x = xmalloc(len * sizeof *x);
    for (size_t i = 0; i < len; i++) x[i] = rng_normal(r);
    return x;
}

/* Sets every hook's regulariser: lambda 1e-3, margins at the mean energy of x. */
static void arm_hooks(net *n, const float *x) {
    net_forward(n, x, 1);
    for (int i = 0; i < n->n_hooks; i++) {
        double mean = 0;
        for (int b = 0; b < n->batch; b++) mean += n->hooks[i].energy[b];
        mean /= n->batch;
        n->hooks[i].reg.lambda = 1e-3f;
        n->hooks[i].reg.m_in = (float)mean;
        n->hooks[i].reg.m_out = (float)mean;
    }
}

/* The network of cfg with its GEMMs in precision prec. */
static net *load_net(const char *cfg, const net_options *opt, int prec, lir_error *err) {
    net *n = net_load_cfg(cfg, opt, err);
    if (n) net_set_precision(n, prec);
    return n;
}

static int time_train(const char *cfg, const net_options *opt, int prec, int hooks, int iters,
                      int warmup, timing *out, lir_error *err) {
    net *n = load_net(cfg, opt, prec, err);
    if (!n) return -1;
    rng_state r;
    rng_seed(&r, opt->seed + 1);
    float *x = random_input(n, &r);
    int *labels = xmalloc((size_t)n->batch * sizeof *labels);
    unsigned char *outlier = xmalloc((size_t)n->batch);
    for (int b = 0; b < n->batch; b++) {
        outlier[b] = (unsigned char)(hooks && b % 2); /* outliers have no class */
        labels[b] = outlier[b] ? -1 : (int)rng_below(&r, (uint32_t)n->classes);
    }
    if (hooks) {
        net_hook_all(n);
        arm_hooks(n, x);
    }
    sgd_config sc = {.momentum = 0.9f, .weight_decay = 5e-4f, .nesterov = 0, .accumulate = 1};
    sgd *o = sgd_create(n->tensors, n->n_tensors, &sc);
    samples s;
    samples_init(&s, iters + warmup);
    int rc = 0;
    for (int i = 0; i < iters + warmup && rc == 0; i++) {
        samples_start(&s);
        net_forward(n, x, 1);
        net_zero_grads(n);
        net_loss_backward(n, labels, hooks ? outlier : NULL);
        rc = sgd_step(o, n->params, n->grads, n->n_params, 1e-3f, err);
        samples_stop(&s, i);
    }
    if (rc == 0) summarise(&s, warmup, iters, out);
    out->hooked = n->n_hooks;
    samples_free(&s);
    sgd_free(o);
    free(outlier);
    free(labels);
    free(x);
    net_free(n);
    return rc;
}

static int time_infer(const char *cfg, const net_options *opt, int prec, int hooks, int iters,
                      int warmup, timing *out, lir_error *err) {
    net *n = load_net(cfg, opt, prec, err);
    if (!n) return -1;
    rng_state r;
    rng_seed(&r, opt->seed + 2);
    float *x = random_input(n, &r);
    if (hooks) net_hook_all(n);
    samples s;
    samples_init(&s, iters + warmup);
    for (int i = 0; i < iters + warmup; i++) {
        samples_start(&s);
        net_forward(n, x, 0);
        samples_stop(&s, i);
    }
    summarise(&s, warmup, iters, out);
    out->hooked = n->n_hooks;
    samples_free(&s);
    free(x);
    net_free(n);
    return 0;
}

static void print_row(const char *mode, int batch, const timing *t, int prec) {
    printf("%-6s %6d %6d %10.1f %9.2f %9.2f %10.2f %9.2f %9.2f %9.2f %5s\n", mode, t->hooked,
           batch, batch / t->median_s, 1e3 * t->min_s, 1e3 * t->q1_s, 1e3 * t->median_s,
           1e3 * t->q3_s, 1e3 * t->max_s, 1e3 * t->cpu_s, precision_name(prec));
    fflush(stdout);
}

/* "# load average <when>: 1.02 0.87 0.60 (1, 5, 15 minutes; /proc/loadavg), N cores";
 * *load1 gets the 1-minute figure (-1 when /proc/loadavg cannot be read). */
static void print_load(const char *when, double *load1) {
    double l[3];
    FILE *f = fopen("/proc/loadavg", "r");
    int ok = f && fscanf(f, "%lf %lf %lf", &l[0], &l[1], &l[2]) == 3;
    if (f) fclose(f);
    *load1 = ok ? l[0] : -1;
    if (ok)
        printf("# load average %s: %.2f %.2f %.2f (1, 5, 15 minutes; /proc/loadavg), %d cores\n",
               when, l[0], l[1], l[2], omp_get_num_procs());
    else
        printf("# load average %s: unknown (/proc/loadavg not readable)\n", when);
}

/* The header: settings, kernels, load average, what the columns mean. */
static void print_header(const char *cfg, int threads, int iters, int warmup, double mflop) {
    const char *wait = getenv("OMP_WAIT_POLICY");
    printf("# lir bench %s: %d threads (OMP_WAIT_POLICY %s), %d iterations after %d warm-up, "
           "%.1f MFLOP per image forward\n",
           cfg, threads, wait ? wait : "unset", iters, warmup, mflop);
    printf("# kernels level %s: %s; conv %s (LIR_CONV)\n", kernels_level_name(kernels_level()),
           gemm_kernels(), conv_mode_name(conv_mode()));
    double load1;
    print_load("before", &load1);
    if (load1 >= 0.5)
        printf("# note: %.1f tasks on average were running or waiting for a core over the last "
               "minute: other work\n#   shares the CPUs, so wall times (and images/s) are "
               "unreliable; cpu_ms is the steadier measure\n",
               load1);
    printf("# images/s = batch / median_ms; min_ms q1_ms median_ms q3_ms max_ms: the wall time "
           "per iteration\n#   over the %d timed ones (fastest, quartiles, slowest; q3 - q1 "
           "is the IQR)\n"
           "# cpu_ms: the median CPU time per iteration summed over all of lir's threads (user "
           "+ system,\n#   getrusage): the work done, which other jobs inflate far less than "
           "wall time; cpu_ms / median_ms\n#   is the number of cores kept busy, at most %d "
           "(with OMP_WAIT_POLICY active, waiting threads spin and count)\n",
           iters, threads);
    printf("%-6s %6s %6s %10s %9s %9s %10s %9s %9s %9s %5s\n", "mode", "hooks", "batch",
           "images/s", "min_ms", "q1_ms", "median_ms", "q3_ms", "max_ms", "cpu_ms", "prec");
}

/* The rows of one hook setting: training and / or inference, in each precision. */
static int bench_rows(const char *cfg, const net_options *base, int batch, int infer_batch,
                      int hooks, int do_train, int do_infer, const int *precs, int n_prec,
                      int iters, int warmup, lir_error *err) {
    for (int m = 0; m < 2; m++) {
        if (!(m ? do_infer : do_train)) continue;
        for (int p = 0; p < n_prec; p++) {
            net_options o = *base;
            o.batch = m ? infer_batch : batch;
            o.train = !m;
            timing t;
            if ((m ? time_infer : time_train)(cfg, &o, precs[p], hooks, iters, warmup, &t, err))
                return -1;
            print_row(m ? "infer" : "train", o.batch, &t, precs[p]);
        }
    }
    return 0;
}

int cmd_bench(int argc, char **argv) {
    int batch, infer_batch, iters, warmup, threads, classes, seed;
    const char *mode, *hooks, *precision;
    uint64_t max_mem;
    const arg_spec specs[] = {
        {"batch", ARG_INT, &batch, "128", "training batch size", NULL, NULL},
        {"infer-batch", ARG_INT, &infer_batch, "256", "inference batch size", NULL, NULL},
        {"iters", ARG_INT, &iters, "10",
         "timed iterations per row (their fastest, quartiles, median and slowest reported)",
         NULL, NULL},
        {"warmup", ARG_INT, &warmup, "2", "untimed iterations before them", NULL, NULL},
        {"mode", ARG_CHOICE, &mode, "both", "what to time", "train|infer|both", NULL},
        {"hooks", ARG_CHOICE, &hooks, "both",
         "rows without hooks, with hooks at all default points, or both", "none|all|both", NULL},
        {"threads", ARG_INT, &threads, "0", "OpenMP threads (0: OMP_NUM_THREADS or all cores)",
         NULL, NULL},
        {"classes", ARG_INT, &classes, "0", "outputs of the last [connected] layer (0: the cfg's)",
         NULL, NULL},
        {"seed", ARG_INT, &seed, "1", "seed of weights and synthetic data", NULL, NULL},
        {"precision", ARG_CHOICE, &precision, "fp32",
         "inputs of the conv and fc GEMMs: fp32, bf16 (rounded operands, fp32 sums), or "
         "both (each row in fp32, then in bf16)",
         "fp32|bf16|both", NULL},
        CLI_MAX_MEMORY_SPEC(&max_mem),
    };
    const arg_cmd cmd = {"bench", "<cfg>",
                         "time training steps and inference on synthetic data: images/s, "
                         "the spread of iteration times, cpu_ms (the median CPU time per "
                         "iteration of all threads: the work, steadier than wall time on a "
                         "busy machine) and the load average before and after", 1,
                         1, specs, sizeof specs / sizeof specs[0]};
    char *pos[argc > 0 ? argc : 1];
    int npos;
    int rc = args_parse(&cmd, argc, argv, pos, &npos);
    if (rc != ARGS_RUN) return rc;
    lir_error err;
    if (batch < 1 || infer_batch < 1 || iters < 1 || warmup < 0 || threads < 0 || classes < 0) {
        lir_fail(&err, "batch sizes and --iters must be >= 1; --warmup, --threads, "
                       "--classes >= 0");
        return cli_error("bench", &err);
    }
    if (threads > 0) omp_set_num_threads(threads); /* the kernels' one thread pool */
    net_set_max_memory(max_mem);
    int do_train = strcmp(mode, "infer") != 0, do_infer = strcmp(mode, "train") != 0;
    int hook_set[2], n_set = 0;
    if (strcmp(hooks, "all")) hook_set[n_set++] = 0;
    if (strcmp(hooks, "none")) hook_set[n_set++] = 1;

    net_options probe_opt = {.batch = 1, .classes = classes, .train = 0, .seed = (uint64_t)seed};
    net *probe = net_load_cfg(pos[0], &probe_opt, &err);
    if (!probe) return cli_error("bench", &err);
    double mflop = net_layer_flops(probe, probe->n_layers - 1) / 1e6;
    net_free(probe);
    int precs[2], n_prec = 0;
    if (strcmp(precision, "bf16")) precs[n_prec++] = PREC_FP32;
    if (strcmp(precision, "fp32")) precs[n_prec++] = PREC_BF16;
    print_header(pos[0], threads > 0 ? threads : omp_get_max_threads(), iters, warmup, mflop);
    const net_options base = {.classes = classes, .seed = (uint64_t)seed};
    for (int h = 0; h < n_set; h++)
        if (bench_rows(pos[0], &base, batch, infer_batch, hook_set[h], do_train, do_infer, precs,
                       n_prec, iters, warmup, &err))
            return cli_error("bench", &err);
    double load1;
    print_load("after", &load1);
    return 0;
}
