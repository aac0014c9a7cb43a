/* winograd_grad.c: the weight gradient of the Winograd convolution (winograd.c), the
 * exact adjoint of its forward. With the forward's M[k][xi][t] = sum_c U[xi][k][c]
 * V[c][xi][t] and y_kt = A^T M_kt A, for the output gradient dy:
 *   dM[k][xi][t] = (A dy_kt A^T)[xi]               (output-gradient tiles, zero where
 *                                                   a tile overhangs the map)
 *   dU[xi][k][c] = sum_t dM[k][xi][t] V[c][xi][t]  (one GEMM per point xi over the
 *                                                   tiles, fp32 or bf16)
 *   dg_kc += G^T dU_kc G                           (added to the weight gradient)
 * V and dM come from winograd_pass.c's windows pass (winograd_block_windows). The tiles run
 * in the forward's blocks, each thread a run of consecutive blocks into its own dU;
 * the threads' dU are summed in thread order while they are transformed back, so a
 * call's result depends on the number of threads only through that order. */
#include "winograd_impl.h"

#include <omp.h>
#include <string.h>

/* y[i*ys] = (G^T x)[i], i < 3, for x[j*xs], j < m + 2 (G as in winograd.c). */
INLINE void gt_lanes(int m, const float *x, int xs, float *y, int ys) {
    for (int l = 0; l < LANES; l++) {
        const float x0 = x[l], x1 = x[xs + l], x2 = x[2 * xs + l], x3 = x[3 * xs + l];
        if (m == 2) {
            const float s = .5f * (x1 + x2);
            y[l] = x0 + s;
            y[ys + l] = .5f * (x1 - x2);
            y[2 * ys + l] = s + x3;
        } else {
            const float x4 = x[4 * xs + l], x5 = x[5 * xs + l];
            const float s12 = x1 + x2, d12 = x1 - x2, s34 = x3 + x4, d34 = x3 - x4;
            y[l] = .25f * x0 - 1.f / 6 * s12 + 1.f / 24 * s34;
            y[ys + l] = -1.f / 6 * d12 + 1.f / 12 * d34;
            y[2 * ys + l] = 1.f / 6 * (s34 - s12) + x5;
        }
    }
}

/* The tiles t0..t0+nt through V and dM into the thread's du [a*a][k][c]:
 * du[xi] = beta * du[xi] + dM[xi] V[xi]^T (beta 0 never reads du). */
static void block_weights(const winograd_shape *p, int prec, const winograd_io *in,
                          const winograd_io *dy, long t0, int nt, int isa, float beta,
                          float *scratch, float *du) {
    const int aa = p->a * p->a, B = p->block, ld = aa * B;
    float *V = scratch, *dM = scratch + (size_t)p->c * ld;
    const windows_dst v = winograd_windows_dst(p, p->c, 0, V),
                      dm = winograd_windows_dst(p, p->k, 0, dM);
    winograd_block_windows(p, in, 0, t0, nt, isa, &v);
    winograd_block_windows(p, dy, 1, t0, nt, isa, &dm);
    for (int xi = 0; xi < aa; xi++)
        gemm_prec(prec, 0, 1, p->k, p->c, nt, 1.0f, dM + xi * B, ld, V + xi * B, ld, beta,
                  du + (size_t)xi * p->k * p->c, p->c);
}

/* dweights[f][3][3] += G^T dU_f G for the filters f0..f0+n (f = ko*c + ci), dU_f
 * the sum of the `parts` threads' du [a*a][k*c], `stride` floats apart. */
INLINE void filter_grad_body(int m, const winograd_shape *p, const float *du, size_t stride,
                             int parts, size_t f0, int n, float *dweights) {
    const int a = m + 2, aa = a * a;
    const size_t kc = (size_t)p->k * p->c;
    lanes_t x, t, g; /* x [a][a] = dU, t [3][a] = G^T x, g [3][3] = t G */
    memset(x, 0, sizeof x);
    for (int part = 0; part < parts; part++)
        for (int xi = 0; xi < aa; xi++) {
            const float *src = du + part * stride + xi * kc + f0;
            for (int l = 0; l < n; l++) x[xi][l] += src[l];
        }
    for (int j = 0; j < a; j++) gt_lanes(m, x[j], a * LANES, t[j], a * LANES);
    for (int i = 0; i < 3; i++) gt_lanes(m, t[i * a], LANES, g[i * 3], LANES);
    for (int l = 0; l < n; l++)
        for (int i = 0; i < 9; i++) dweights[(f0 + l) * 9 + i] += g[i][l];
}

KERNELS_COPIES(void, filter_grad, (const winograd_shape *p, const float *du, size_t stride,
                                   int parts, size_t f0, int n, float *dw),
               {
                   if (p->m == 4) filter_grad_body(4, p, du, stride, parts, f0, n, dw);
                   else filter_grad_body(2, p, du, stride, parts, f0, n, dw);
               })

size_t winograd_weight_scratch_floats(const winograd_shape *p) {
    return winograd_scratch_floats(p) + winograd_filter_floats(p);
}

/* Thread tid of nth takes blocks [blocks*tid/nth, blocks*(tid+1)/nth): at least one
 * each, as nth <= blocks. */
void winograd_weight_grad(const winograd_shape *p, int prec, const winograd_io *in,
                          const winograd_io *dy, int nb, float *dweights, int threads,
                          float *scratch) {
    const long tiles = (long)nb * p->tiles_y * p->tiles_x;
    const long blocks = (tiles + p->block - 1) / p->block;
    const size_t per = winograd_weight_scratch_floats(p), vm = winograd_scratch_floats(p);
    const int isa = winograd_isa(nb, in, dy);
    if (blocks == 0) return;
    if (threads < 1 || omp_in_parallel()) threads = 1;
    const int team = threads > blocks ? (int)blocks : threads;
    int parts = 1;
#pragma omp parallel num_threads(team) if (team > 1)
    {
        const int nth = omp_get_num_threads(), tid = omp_get_thread_num();
        const long lo = blocks * tid / nth, hi = blocks * (tid + 1) / nth;
        float *s = scratch + (size_t)tid * per;
        if (tid == 0) parts = nth;
        for (long bi = lo; bi < hi; bi++) {
            const long t0 = bi * p->block;
            const int nt = tiles - t0 < p->block ? (int)(tiles - t0) : p->block;
            block_weights(p, prec, in, dy, t0, nt, isa, bi > lo ? 1.0f : 0.0f, s, s + vm);
        }
    }
    const size_t kc = (size_t)p->k * p->c;
    const long groups = (long)((kc + LANES - 1) / LANES);
    void (*run)(const winograd_shape *, const float *, size_t, int, size_t, int, float *) =
        KERNELS_PICK(filter_grad);
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1 && kc >= 16384)
    for (long gi = 0; gi < groups; gi++) {
        const size_t f0 = (size_t)gi * LANES;
        const int n = kc - f0 < LANES ? (int)(kc - f0) : LANES;
        run(p, scratch + vm, per, parts, f0, n, dweights);
    }
}
