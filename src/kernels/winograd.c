/* winograd.c: Winograd convolution F(m x m, 3 x 3), m = 2 or 4 (Lavin & Gray 2016),
 * for stride-1 pad-1 3x3 convolutions, in the manner of llm.c: plain functions over
 * caller-owned buffers whose sizes query functions give.
 *
 * The output maps are cut into m x m tiles; tile t reads an a x a input patch
 * (a = m + 2, zero outside the map). With the transform matrices B^T [a][a],
 * G [a][3] and A^T [m][a], each of the a*a transform points xi is one GEMM over the
 * channels:
 *   U[xi][k][c] = (G g_kc G^T)[xi]            (filters, winograd_filter)
 *   V[c][xi][t] = (B^T d_ct B)[xi]            (input patches)
 *   M[k][xi][t] = sum_c U[xi][k][c] V[c][xi][t]    (GEMMs, fp32 or bf16)
 *   y_kt = A^T M_kt A                         (output tiles)
 * The tiles of all images of a call are numbered together (image-major, then tile
 * rows, then columns) and run in blocks of `block` tiles (winograd_plan), each
 * thread a block at a time through its own V and M. The GEMMs run on the filters
 * packed once per call (gemm_pack_a, gemm_prepacked) where lir's own kernel serves
 * the precision, else through gemm_prec. The transforms work on LANES tiles at
 * once, one tile per vector lane. The passes that read patches into V and write
 * the output tiles from M are in winograd_pass.c; the weight gradient, the adjoint of
 * this convolution, is in winograd_grad.c (its output-gradient tiles dM = A dy A^T
 * come from winograd_pass.c too, like the input patches). */
#include "winograd_impl.h"

#include <omp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

size_t winograd_block_floats = (size_t)1 << 22;

int winograd_plan(winograd_shape *p, int m, int c, int k, int h, int w, int block) {
    if ((m != 2 && m != 4) || c < 1 || k < 1 || h < 1 || w < 1) return -1;
    if (block <= 0) {
        const size_t per_tile = (size_t)(m + 2) * (m + 2) * ((size_t)c + k);
        const size_t fit = winograd_block_floats / per_tile;
        block = c > k ? c : k;
        if ((size_t)block > fit) block = (int)fit;
    }
    p->m = m, p->a = m + 2;
    p->c = c, p->k = k, p->h = h, p->w = w;
    p->tiles_y = (h + m - 1) / m, p->tiles_x = (w + m - 1) / m;
    if (block < LANES) block = LANES;
    p->block = (block + LANES - 1) / LANES * LANES;
    return 0;
}

size_t winograd_filter_floats(const winograd_shape *p) {
    return (size_t)p->a * p->a * p->k * p->c;
}

/* A block's V is [c][a*a][block] and its M [k][a*a][block]: the GEMM of point xi
 * reads rows a*a*block apart, and a transform touches one channel's a*a rows,
 * which lie together. Or V as the GEMM's panels (block_run). 16 floats more: room
 * to start V on 64 bytes, as the GEMM kernel reads its panels. */
size_t winograd_scratch_floats(const winograd_shape *p) {
    return (size_t)p->a * p->a * ((size_t)p->c + p->k) * p->block + 16;
}

/* ---- the filter transform G (B^T, A^T and A: winograd_pass.c) -------------------
 * It works on LANES filters at once, lane l of every row; the body is inlined with m
 * a constant into a baseline, an AVX2 and an AVX-512 copy, chosen by kernels_level(). */

/* y[i*ys] = (G x)[i], i < m + 2, for x[j*xs], j < 3. */
INLINE void g_lanes(int m, const float *x, int xs, float *y, int ys) {
    for (int l = 0; l < LANES; l++) {
        const float x0 = x[l], x1 = x[xs + l], x2 = x[2 * xs + l];
        if (m == 2) {
            const float s = .5f * (x0 + x2);
            y[l] = x0;
            y[ys + l] = s + .5f * x1;
            y[2 * ys + l] = s - .5f * x1;
            y[3 * ys + l] = x2;
        } else {
            const float p = -1.f / 6 * (x0 + x2), q = 1.f / 24 * x0 + 1.f / 6 * x2;
            y[l] = .25f * x0;
            y[ys + l] = p - 1.f / 6 * x1;
            y[2 * ys + l] = p + 1.f / 6 * x1;
            y[3 * ys + l] = q + 1.f / 12 * x1;
            y[4 * ys + l] = q - 1.f / 12 * x1;
            y[5 * ys + l] = x2;
        }
    }
}

/* u = G g G^T for the LANES filters g [3][3][LANES]; u [a][a][LANES]. */
INLINE void filter_lanes(int m, lanes_t g, lanes_t u) {
    const int a = m + 2;
    lanes_t t; /* [a][3] */
    for (int j = 0; j < 3; j++) g_lanes(m, g[j], 3 * LANES, t[j], 3 * LANES);
    for (int i = 0; i < a; i++) g_lanes(m, t[i * 3], LANES, u[i * a], LANES);
}

/* Filters f0..f0+n (f = ko*c + ci) -> u[xi][f]. */
INLINE void filter_body(int m, const winograd_shape *p, const float *weights, int transposed,
                        size_t f0, int n, float *u) {
    const int aa = (m + 2) * (m + 2);
    const size_t kc = (size_t)p->k * p->c;
    lanes_t g, t;
    for (int l = 0; l < LANES; l++) {
        const size_t f = f0 + (size_t)(l < n ? l : 0);
        const int ko = (int)(f / p->c), ci = (int)(f % p->c);
        /* transposed: filter (ko, ci) = weights[ci][ko] turned by 180 degrees */
        const float *src = transposed ? weights + ((size_t)ci * p->k + ko) * 9 : weights + f * 9;
        for (int i = 0; i < 9; i++) g[i][l] = src[transposed ? 8 - i : i];
    }
    filter_lanes(m, g, t);
    for (int xi = 0; xi < aa; xi++) memcpy(u + xi * kc + f0, t[xi], n * sizeof(float));
}

KERNELS_COPIES(void, filter, (const winograd_shape *p, const float *w, int tr, size_t f0, int n,
                              float *u),
               {
                   if (p->m == 4) filter_body(4, p, w, tr, f0, n, u);
                   else filter_body(2, p, w, tr, f0, n, u);
               })

size_t winograd_packed_bytes(const winograd_shape *p, int prec) {
    return (size_t)p->a * p->a * gemm_pack_a_bytes(prec, p->k, p->c);
}

void winograd_filter(const winograd_shape *p, int prec, const float *weights, int transposed,
                     float *u, void *packed) {
    const size_t kc = (size_t)p->k * p->c;
    const long groups = (long)((kc + LANES - 1) / LANES);
    void (*run)(const winograd_shape *, const float *, int, size_t, int, float *) =
        KERNELS_PICK(filter);
#pragma omp parallel for schedule(static) if (!omp_in_parallel() && kc >= 16384)
    for (long gi = 0; gi < groups; gi++) {
        const size_t f0 = (size_t)gi * LANES;
        const int n = kc - f0 < LANES ? (int)(kc - f0) : LANES;
        run(p, weights, transposed, f0, n, u);
    }
    const size_t bytes = gemm_pack_a_bytes(prec, p->k, p->c);
    if (!packed || !bytes) return;
    const int aa = p->a * p->a;
#pragma omp parallel for schedule(static) if (!omp_in_parallel() && kc >= 16384)
    for (int xi = 0; xi < aa; xi++)
        gemm_pack_a(prec, 0, p->k, p->c, u + xi * kc, p->c, (char *)packed + xi * bytes);
}

int winograd_b_panels = 1;

/* The tiles t0..t0+nt through V, the a*a GEMMs and M. With the filters packed for
 * lir's own kernel (and winograd_b_panels), the windows pass writes V as the fp32
 * panels of B its GEMMs would pack (gemm_b_panel), which they then take as they are
 * (fp32) or round into their own (bf16). */
static void block_run(const winograd_shape *p, int prec, const float *u, const void *packed,
                      const winograd_io *in, long t0, int nt, const winograd_io *out,
                      int accumulate, int isa, float *scratch) {
    const int aa = p->a * p->a, B = p->block, k = p->k, c = p->c, ld = aa * B;
    float *V = (float *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63), *M = V + (size_t)c * ld;
    const size_t bytes = packed ? gemm_pack_a_bytes(prec, k, c) : 0;
    const int nr = bytes && winograd_b_panels ? gemm_b_panel(prec, c) : 0;
    const int panels = nr > 0 && B % nr == 0;
    const windows_dst v = winograd_windows_dst(p, c, panels ? nr : 0, V);
    winograd_block_windows(p, in, 0, t0, nt, isa, &v);
    for (int xi = 0; xi < aa; xi++) {
        if (panels)
            gemm_prepacked_b(prec, k, nt, c, (const char *)packed + xi * bytes, V + xi * v.xs,
                             M + xi * B, ld);
        else if (bytes)
            gemm_prepacked(prec, k, nt, c, (const char *)packed + xi * bytes, V + xi * B, ld,
                           M + xi * B, ld);
        else
            gemm_prec(prec, 0, 0, k, nt, c, 1.0f, u + (size_t)xi * k * c, c, V + xi * B, ld, 0.0f,
                      M + xi * B, ld);
    }
    winograd_block_output(p, M, t0, nt, out, accumulate, isa);
}

void winograd_conv(const winograd_shape *p, int prec, const float *u, const void *packed,
                   const winograd_io *in, int nb, const winograd_io *out, int accumulate,
                   int threads, float *scratch) {
    const long tiles = (long)nb * p->tiles_y * p->tiles_x;
    const long blocks = (tiles + p->block - 1) / p->block;
    const size_t per = winograd_scratch_floats(p);
    const int isa = winograd_isa(nb, in, out);
    if (blocks == 0) return;
    if (threads < 1 || omp_in_parallel()) threads = 1;
    if (threads > blocks) threads = (int)blocks;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
    for (long bi = 0; bi < blocks; bi++) {
        const long t0 = bi * p->block;
        const int nt = tiles - t0 < p->block ? (int)(tiles - t0) : p->block;
        block_run(p, prec, u, packed, in, t0, nt, out, accumulate, isa,
                  scratch + (size_t)omp_get_thread_num() * per);
    }
}
