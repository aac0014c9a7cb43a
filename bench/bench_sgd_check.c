/* bench_sgd_check.c: the cost of the per-step non-finite check (not a test): times
 * sgd_step, whose update loop also ORs together "weight or velocity not finite", against
 * the same loop without that check, over a cfg's parameter arena, 200 steps each,
 * interleaved, and prints both medians. Build and run from the repository root:
 *   make && cc -O3 -march=native -fopenmp -Isrc bench/bench_sgd_check.c build/liblir.a \
 *      -lopenblas -lcjson -lpng -ljpeg -lz -lm -o build/bench_sgd_check && \
 *      build/bench_sgd_check cfg/resnet18.cfg */
#include <stdio.h>
#include <stdlib.h>

#include "nn/nn.h"
#include "train/train.h"

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* sgd_step's plain-momentum loop as it was before the check. */
static void step_unchecked(sgd *o, float *restrict w, const float *restrict dw, size_t n,
                           float lr) {
    const float scale = 1.0f / (float)o->cfg.accumulate, mu = o->cfg.momentum;
    const float wd = o->cfg.weight_decay;
    const unsigned char *restrict decay = o->decay;
    float *restrict v = o->vel;
    const long len = (long)n;
#pragma omp parallel for schedule(static) if (len > 65536)
    for (long i = 0; i < len; i++) {
        float g = scale * dw[i] + (decay[i] ? wd : 0.0f) * w[i];
        float vi = mu * v[i] + g;
        v[i] = vi;
        w[i] -= lr * vi;
    }
    o->step++;
}

int main(int argc, char **argv) {
    if (argc != 2) return fprintf(stderr, "usage: bench_sgd_check <cfg>\n"), 2;
    lir_error err;
    net_options no = {8, 10, 1, 1};
    net *n = net_load_cfg(argv[1], &no, &err);
    if (!n) return fprintf(stderr, "%s\n", err.msg), 1;
    for (size_t k = 0; k < n->n_params; k++) n->grads[k] = 1e-3f * (float)(k % 7);
    sgd_config sc = {0.9f, 5e-4f, 0, 1};
    sgd *o = sgd_create(n->tensors, n->n_tensors, &sc);
    enum { R = 200 };
    static double with[R], without[R];
    for (int r = 0; r < R; r++)
        for (int k = 0; k < 2; k++) { /* alternate which goes first */
            int checked = (k + r) % 2 == 0;
            double t0 = now_seconds();
            if (checked) sgd_step(o, n->params, n->grads, n->n_params, 1e-3f, &err);
            else step_unchecked(o, n->params, n->grads, n->n_params, 1e-3f);
            (checked ? with : without)[r] = now_seconds() - t0;
        }
    qsort(with, R, sizeof *with, cmp_double);
    qsort(without, R, sizeof *without, cmp_double);
    printf("%zu parameters, %d steps each: with the check median %.2f ms (q10 %.2f), "
           "without %.2f ms (q10 %.2f)\n",
           n->n_params, R, 1e3 * with[R / 2], 1e3 * with[R / 10], 1e3 * without[R / 2],
           1e3 * without[R / 10]);
    sgd_free(o);
    net_free(n);
    return 0;
}
