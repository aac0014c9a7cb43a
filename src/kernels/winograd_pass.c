/* winograd_pass.c: the passes of a block of tiles of the Winograd convolution
 * (winograd.c) that move pixels: the windows pass (input patches B^T d B, and for the
 * weight gradient, winograd_grad.c, output-gradient tiles A dy A^T) and the output pass
 * (y = A^T M A into the maps), with their transforms; each in a baseline, an AVX2 and
 * an AVX-512 copy, chosen by the caller's level (winograd_isa). */
#include "sgemm_impl.h"
#include "winograd_impl.h"

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- the transforms: B^T (patches), A^T (outputs), A (output gradients) ----------
 * Each works on LANES tiles at once, lane l of every row. */

/* y[i*ys] = (B^T x)[i], i < a, for x[j*xs], j < a. */
INLINE void bt_lanes(int m, const float *x, int xs, float *y, int ys) {
    for (int l = 0; l < LANES; l++) {
        const float x0 = x[l], x1 = x[xs + l], x2 = x[2 * xs + l], x3 = x[3 * xs + l];
        if (m == 2) {
            y[l] = x0 - x2;
            y[ys + l] = x1 + x2;
            y[2 * ys + l] = x2 - x1;
            y[3 * ys + l] = x1 - x3;
        } else {
            const float x4 = x[4 * xs + l], x5 = x[5 * xs + l];
            const float p = x4 - 4 * x2, q = x3 - 4 * x1, r = x4 - x2, s = 2 * (x3 - x1);
            y[l] = 4 * x0 - 5 * x2 + x4;
            y[ys + l] = p + q;
            y[2 * ys + l] = p - q;
            y[3 * ys + l] = r + s;
            y[4 * ys + l] = r - s;
            y[5 * ys + l] = 4 * x1 - 5 * x3 + x5;
        }
    }
}

/* y[i*ys] = (A^T x)[i], i < m, for x[j*xs], j < a. */
INLINE void at_lanes(int m, const float *x, int xs, float *y, int ys) {
    for (int l = 0; l < LANES; l++) {
        const float x0 = x[l], x1 = x[xs + l], x2 = x[2 * xs + l], x3 = x[3 * xs + l];
        if (m == 2) {
            y[l] = x0 + x1 + x2;
            y[ys + l] = x1 - x2 - x3;
        } else {
            const float x4 = x[4 * xs + l], x5 = x[5 * xs + l];
            const float s12 = x1 + x2, d12 = x1 - x2, s34 = x3 + x4, d34 = x3 - x4;
            y[l] = x0 + s12 + s34;
            y[ys + l] = d12 + 2 * d34;
            y[2 * ys + l] = s12 + 4 * s34;
            y[3 * ys + l] = d12 + 8 * d34 + x5;
        }
    }
}

/* y[i*ys] = (A x)[i], i < m + 2, for x[j*xs], j < m: at_lanes' matrix transposed. */
INLINE void a_lanes(int m, const float *x, int xs, float *y, int ys) {
    for (int l = 0; l < LANES; l++) {
        const float x0 = x[l], x1 = x[xs + l];
        if (m == 2) {
            y[l] = x0;
            y[ys + l] = x0 + x1;
            y[2 * ys + l] = x0 - x1;
            y[3 * ys + l] = -x1;
        } else {
            const float x2 = x[2 * xs + l], x3 = x[3 * xs + l];
            const float p = x0 + x2, q = x1 + x3, r = x0 + 4 * x2, s = 2 * x1 + 8 * x3;
            y[l] = x0;
            y[ys + l] = p + q;
            y[2 * ys + l] = p - q;
            y[3 * ys + l] = r + s;
            y[4 * ys + l] = r - s;
            y[5 * ys + l] = x3;
        }
    }
}

/* v = B^T d B for the LANES patches d [a][a][LANES]; v [a][a][LANES]. */
INLINE void input_lanes(int m, lanes_t d, lanes_t v) {
    const int a = m + 2;
    lanes_t t;
    for (int j = 0; j < a; j++) bt_lanes(m, d[j], a * LANES, t[j], a * LANES);
    for (int i = 0; i < a; i++) bt_lanes(m, t[i * a], LANES, v[i * a], LANES);
}

/* y = A^T x A for the LANES tiles x [a][a][LANES]; y [m][m][LANES]. */
INLINE void output_lanes(int m, lanes_t x, lanes_t y) {
    const int a = m + 2;
    lanes_t t; /* [m][a] */
    for (int j = 0; j < a; j++) at_lanes(m, x[j], a * LANES, t[j], a * LANES);
    for (int i = 0; i < m; i++) at_lanes(m, t[i * a], LANES, y[i * m], LANES);
}

/* v = A d A^T for the LANES output-gradient tiles d [m][m][LANES]; v [a][a][LANES]. */
INLINE void grad_lanes(int m, lanes_t d, lanes_t v) {
    const int a = m + 2;
    lanes_t t; /* [a][m] */
    for (int q = 0; q < m; q++) a_lanes(m, d[q], m * LANES, t[q], m * LANES);
    for (int i = 0; i < a; i++) a_lanes(m, t[i * m], LANES, v[i * a], LANES);
}

/* ---- a block of tiles -------------------------------------------------------------
 * The tiles of a block go LANES at a time (a group). The baseline passes copy a
 * group's patches and outputs pixel by pixel. The AVX-512 ones, where a group is
 * whole tile rows of a map 16 or 32 wide (the 32x32 and 16x16 layers of the CIFAR
 * net), move pixels between map rows and lanes with permutes of row registers, both
 * ways; elsewhere they read the patches with masked loads and a transposition in
 * registers (maps of 16 and wider) or one masked gather per patch position (narrower
 * maps), and turn F(4x4) outputs around in registers: pixels outside the map (or of
 * idle lanes) are masked off, read as zero and not written. On the AMD Zen 5 of
 * 2026-12-02 (one thread, CPU time, idle, batch 32) the permutes cut the F(4x4)
 * windows pass from 4.07 to 1.57 ms on 64 channels at 32x32 (output gradients: 3.70 to
 * 0.96) and from 1.15 to 0.66 on 128 at 16x16, against the masked loads. On the AMD
 * Zen 4 of 2026-12-02 (bench/bench_winograd.c, one thread, CPU time, three rounds
 * under load 2-3) the loads took 13-20% less time than the gathers per direction on
 * 64 channels at 32x32, 0-10% less on 128 at 16x16, as much on 256 at 8x8 in F(4x4)
 * and up to 10% more in F(2x2). Channel by channel, the passes ask for the pixels
 * KERNELS_AHEAD channels on (kernels_prefetch): a group's rows of one channel are a
 * few lines a whole plane away from the last, which the hardware prefetcher does not
 * follow. */

/* LANES consecutive tiles of a call from tile t0, n of them (the other lanes idle):
 * lane l's image b[l] and top-left output pixel (y0[l], x0[l]). */
typedef struct {
    int n;
    int b[LANES], y0[LANES], x0[LANES];
} tile_group;

/* Asks for the whole plane (h x w) of each image of the group's lanes in the channel
 * plane at base (images bs apart), for reading or (write) writing: the maps narrower
 * than 16, where a group spans whole images. */
INLINE void group_prefetch(const winograd_shape *p, const tile_group *g, const float *base,
                           size_t bs, int write) {
    for (int l = 0; l < g->n; l++)
        if (l == 0 || g->b[l] != g->b[l - 1])
            kernels_prefetch(base + (size_t)g->b[l] * bs, (size_t)p->h * p->w, KERNELS_AHEAD_LINES,
                             write);
}

static void group_make(const winograd_shape *p, long t0, int n, tile_group *g) {
    const long per = (long)p->tiles_y * p->tiles_x;
    g->n = n;
    for (int l = 0; l < n; l++) {
        const long t = t0 + l;
        const int r = (int)(t % per);
        g->b[l] = (int)(t / per);
        g->y0[l] = r / p->tiles_x * p->m;
        g->x0[l] = r % p->tiles_x * p->m;
    }
}

/* Where a group's lanes read or write a window of rows x rows pixels starting at
 * (y0 - shift, x0 - shift): off[l] = its first pixel in a strided channel plane
 * (image stride bs), ym[i] / xm[j] the lanes whose row i / column j lies inside the
 * map. */
typedef struct {
    int32_t off[LANES];
    uint16_t ym[MAX_A], xm[MAX_A];
} lane_window;

static void window_make(const winograd_shape *p, const tile_group *g, size_t bs, int shift,
                        int rows, lane_window *lw) {
    for (int i = 0; i < rows; i++) lw->ym[i] = lw->xm[i] = 0;
    for (int l = 0; l < LANES; l++) {
        const int y0 = l < g->n ? g->y0[l] - shift : 0, x0 = l < g->n ? g->x0[l] - shift : 0;
        lw->off[l] = l < g->n ? (int32_t)(g->b[l] * bs + (ptrdiff_t)y0 * p->w + x0) : 0;
        for (int i = 0; l < g->n && i < rows; i++) {
            if (y0 + i >= 0 && y0 + i < p->h) lw->ym[i] |= (uint16_t)(1u << l);
            if (x0 + i >= 0 && x0 + i < p->w) lw->xm[i] |= (uint16_t)(1u << l);
        }
    }
}

/* The transform of the windows d of the group at j into channel ch of dst (lanes
 * j..j+LANES, which lie together in both layouts): B^T d B of input patches, or
 * (grad) A d A^T of output-gradient tiles. */
INLINE void window_store(int m, int grad, const windows_dst *dst, lanes_t d, int ch, int j) {
    const int aa = (m + 2) * (m + 2);
    lanes_t v;
    if (grad) grad_lanes(m, d, v);
    else input_lanes(m, d, v);
    float *to = dst->base + (size_t)(j / dst->pw) * dst->ps + (size_t)ch * dst->cs + j % dst->pw;
    for (int xi = 0; xi < aa; xi++) memcpy(to + (size_t)xi * dst->xs, v[xi], sizeof v[xi]);
}

/* Into dst (windows_dst): the transformed windows of tiles t0..t0+nt of every
 * channel of io: d[i][j][l] = pixel (y0 - shift + i, x0 - shift + j) of lane l's
 * image, zero outside, i, j < rows: the input patches (a x a from one pixel up and
 * left, c channels) or (grad) the output-gradient tiles (m x m, k channels). */
INLINE void windows_base(int m, int grad, const winograd_shape *p, const winograd_io *io, long t0,
                         int nt, const windows_dst *dst) {
    const int rows = grad ? m : m + 2, shift = !grad, chans = grad ? p->k : p->c;
    const int h = p->h, w = p->w;
    lanes_t d;
    tile_group g;
    for (int j = 0; j < nt; j += LANES) {
        group_make(p, t0 + j, nt - j < LANES ? nt - j : LANES, &g);
        memset(d, 0, sizeof d);
        for (int ch = 0; ch < chans; ch++) {
            const float *src = io->data + (size_t)ch * io->cs;
            for (int l = 0; l < g.n; l++) {
                const float *s = src + (size_t)g.b[l] * io->bs;
                for (int i = 0; i < rows; i++) {
                    const int y = g.y0[l] - shift + i;
                    for (int q = 0; q < rows; q++) {
                        const int x = g.x0[l] - shift + q;
                        d[i * rows + q][l] =
                            y >= 0 && y < h && x >= 0 && x < w ? s[y * w + x] : 0;
                    }
                }
            }
            window_store(m, grad, dst, d, ch, j);
        }
    }
}

/* The AVX-512 passes. On maps narrower than 16 (many lanes at a border) one masked
 * gather per window position: lanes whose pixel lies outside the map, and idle
 * lanes, masked off and read as zero. */
INLINE_AVX512 void windows_gather_avx512(int m, int grad, const winograd_shape *p,
                                         const winograd_io *io, long t0, int nt,
                                         const windows_dst *dst) {
    const int rows = grad ? m : m + 2, shift = !grad, chans = grad ? p->k : p->c;
    lanes_t d;
    tile_group g;
    lane_window lw;
    for (int j = 0; j < nt; j += LANES) {
        group_make(p, t0 + j, nt - j < LANES ? nt - j : LANES, &g);
        window_make(p, &g, io->bs, shift, rows, &lw);
        const __m512i off = _mm512_loadu_si512(lw.off);
        for (int ch = 0; ch < chans; ch++) {
            const float *src = io->data + (size_t)ch * io->cs;
            if (ch + KERNELS_AHEAD < chans)
                group_prefetch(p, &g, src + (size_t)KERNELS_AHEAD * io->cs, io->bs, 0);
            for (int i = 0; i < rows; i++)
                for (int q = 0; q < rows; q++) {
                    const __m512i at = _mm512_add_epi32(off, _mm512_set1_epi32(i * p->w + q));
                    _mm512_storeu_ps(d[i * rows + q],
                                     _mm512_mask_i32gather_ps(_mm512_setzero_ps(),
                                                              lw.ym[i] & lw.xm[q], at, src, 4));
                }
            window_store(m, grad, dst, d, ch, j);
        }
    }
}

/* The AVX2 pass: as windows_gather_avx512, a group's 16 lanes as two halves of 8,
 * each window position one masked gather per half; the masks of a group's
 * positions made once, for all its channels. */
INLINE_AVX2 void windows_gather_avx2(int m, int grad, const winograd_shape *p,
                                     const winograd_io *io, long t0, int nt,
                                     const windows_dst *dst) {
    const int rows = grad ? m : m + 2, shift = !grad, chans = grad ? p->k : p->c;
    const __m256i bit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128), zero = _mm256_setzero_si256();
    lanes_t d;
    tile_group g;
    lane_window lw;
    __m256i mask[MAX_A * MAX_A][2], at[MAX_A * MAX_A][2];
    for (int j = 0; j < nt; j += LANES) {
        group_make(p, t0 + j, nt - j < LANES ? nt - j : LANES, &g);
        window_make(p, &g, io->bs, shift, rows, &lw);
        for (int h = 0; h < 2; h++) {
            const __m256i off = _mm256_loadu_si256((const __m256i *)(lw.off + 8 * h));
            for (int i = 0; i < rows; i++)
                for (int q = 0; q < rows; q++) {
                    const int lanes = (lw.ym[i] & lw.xm[q]) >> (8 * h) & 0xff;
                    const __m256i on = _mm256_and_si256(_mm256_set1_epi32(lanes), bit);
                    mask[i * rows + q][h] = _mm256_cmpgt_epi32(on, zero);
                    at[i * rows + q][h] = _mm256_add_epi32(off, _mm256_set1_epi32(i * p->w + q));
                }
        }
        for (int ch = 0; ch < chans; ch++) {
            const float *src = io->data + (size_t)ch * io->cs;
            for (int x = 0; x < rows * rows; x++)
                for (int h = 0; h < 2; h++)
                    _mm256_storeu_ps(d[x] + 8 * h,
                                     _mm256_mask_i32gather_ps(_mm256_setzero_ps(), src, at[x][h],
                                                              _mm256_castsi256_ps(mask[x][h]), 4));
            window_store(m, grad, dst, d, ch, j);
        }
    }
}

/* On maps of 16 and wider each lane's window row by row with one masked load (the
 * lane's rows and columns outside the map, and idle lanes, masked off and read as
 * zero) into w [LANES][48] (16 floats stored, the next row overwriting the surplus),
 * then turned around in registers into d [a*a][LANES] (sgemm_transpose16, 16 window
 * positions at a time): the group of tiles at j, every channel. */
INLINE_AVX512 void windows_rows_avx512(int m, int grad, const winograd_shape *p,
                                       const winograd_io *io, const tile_group *g, int j,
                                       const windows_dst *dst) {
    const int rows = grad ? m : m + 2, shift = !grad, chans = grad ? p->k : p->c;
    const int kp = (rows * rows + 15) / 16 * 16;
    _Alignas(64) float w[LANES][48] = {{0}}, d[48][LANES];
    lane_window lw;
    __mmask16 rm[LANES][MAX_A];
    window_make(p, g, io->bs, shift, rows, &lw);
    for (int l = 0; l < LANES; l++) {
        unsigned cols = 0;
        for (int q = 0; q < rows; q++) cols |= (lw.xm[q] >> l & 1u) << q;
        for (int i = 0; i < rows; i++) rm[l][i] = (__mmask16)(lw.ym[i] >> l & 1u ? cols : 0);
    }
    for (int ch = 0; ch < chans; ch++) {
        const float *src = io->data + (size_t)ch * io->cs;
        for (int l = 0; l < LANES; l++)
            for (int i = 0; i < rows; i++)
                _mm512_storeu_ps(w[l] + i * rows,
                                 _mm512_maskz_loadu_ps(rm[l][i], src + lw.off[l] + i * p->w));
        sgemm_transpose16(w[0], 48, kp, LANES, d[0]);
        window_store(m, grad, dst, d, ch, j);
    }
}

/* Whether the permute pass takes the group: on maps 16 or 32 wide cut into whole
 * tiles, a full group of one image starting a tile row, so whole tile rows (16 / tx
 * of them, tx = w / m tiles a row: 1, 2 or 4). */
static int windows_permutable(const winograd_shape *p, const tile_group *g) {
    return (p->w == 16 || p->w == 32) && p->tiles_x * p->m == p->w && g->n == LANES &&
           g->x0[0] == 0 && g->b[0] == g->b[LANES - 1];
}

/* The permute pass (a group windows_permutable takes, every channel): window position
 * (i, q) of all lanes is one masked two-table permute (vpermt2ps) of row registers,
 * or two and a blend. A pair of tables holds one map row of 32 (both halves) or two
 * rows of 16 (two tile rows); the group needs two pairs for F(4x4) windows and one for
 * F(2x2). A lane's column index picks its pixel; columns outside the map, rows outside
 * it (a zero register) and the lanes of the other pair are masked to zero. */
INLINE_AVX512 void windows_permute_avx512(int m, int grad, const winograd_shape *p,
                                          const winograd_io *io, const tile_group *g, int j,
                                          const windows_dst *dst) {
    const int rows = grad ? m : m + 2, shift = !grad, chans = grad ? p->k : p->c;
    /* tx = w / m tiles a tile row, 16 m / w tile rows a group, pairs = m / 2 pairs of
     * tables of 32 / w map rows each */
    const int w = p->w, tx = w / m, pairs = m / 2, rows_a_pair = 32 / w;
    _Alignas(64) int32_t idx[MAX_A][LANES];
    __mmask16 keep[2][MAX_A], lanes1 = 0; /* keep[pair][q]: lanes with pixel (i, q) in the map */
    int32_t off[2][MAX_A][2];            /* the tables' first pixels of window row i */
    __mmask16 in_map[2][MAX_A][2];      /* 0xffff where that map row exists, else 0 */
    for (int q = 0; q < rows; q++) {
        keep[0][q] = keep[1][q] = 0;
        for (int l = 0; l < LANES; l++) {
            const int x = (l % tx) * m - shift + q, pair = l / tx / rows_a_pair;
            idx[q][l] = (l / tx % rows_a_pair) * 16 + (x & (32 / rows_a_pair - 1));
            if (x >= 0 && x < w) keep[pair][q] |= (__mmask16)(1u << l);
        }
    }
    for (int l = 0; l < LANES; l++)
        if (l / tx / rows_a_pair) lanes1 |= (__mmask16)(1u << l);
    for (int k = 0; k < pairs; k++)
        for (int i = 0; i < rows; i++)
            for (int h = 0; h < 2; h++) {
                const int r = k * rows_a_pair + (rows_a_pair == 2 ? h : 0); /* tile row */
                const int y = g->y0[r * tx] - shift + i;
                off[k][i][h] = (int32_t)(g->b[0] * io->bs + (ptrdiff_t)y * w) +
                               (rows_a_pair == 1 ? 16 * h : 0);
                in_map[k][i][h] = y >= 0 && y < p->h ? 0xffff : 0;
            }
    lanes_t d;
    for (int ch = 0; ch < chans; ch++) {
        const float *src = io->data + (size_t)ch * io->cs;
        if (ch + KERNELS_AHEAD < chans) {
            const float *ahead = src + (size_t)KERNELS_AHEAD * io->cs;
            for (int k = 0; k < pairs; k++)
                for (int i = 0; i < rows; i++)
                    for (int h = 0; h < 2; h++)
                        if (in_map[k][i][h]) kernels_prefetch(ahead + off[k][i][h], 16, 1, 0);
        }
        for (int i = 0; i < rows; i++) {
            __m512 lo[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()}, hi[2] = {lo[0], lo[1]};
            for (int k = 0; k < pairs; k++) {
                lo[k] = _mm512_maskz_loadu_ps(in_map[k][i][0], src + off[k][i][0]);
                hi[k] = _mm512_maskz_loadu_ps(in_map[k][i][1], src + off[k][i][1]);
            }
            for (int q = 0; q < rows; q++) {
                const __m512i at = _mm512_load_si512(idx[q]);
                __m512 v = _mm512_maskz_permutex2var_ps(keep[0][q], lo[0], at, hi[0]);
                if (pairs == 2)
                    v = _mm512_mask_blend_ps(
                        lanes1, v, _mm512_maskz_permutex2var_ps(keep[1][q], lo[1], at, hi[1]));
                _mm512_storeu_ps(d[i * rows + q], v);
            }
        }
        window_store(m, grad, dst, d, ch, j);
    }
}

INLINE_AVX512 void windows_avx512(int m, int grad, const winograd_shape *p, const winograd_io *io,
                                  long t0, int nt, const windows_dst *dst) {
    if (p->w < 16) {
        windows_gather_avx512(m, grad, p, io, t0, nt, dst);
        return;
    }
    tile_group g;
    for (int j = 0; j < nt; j += LANES) {
        group_make(p, t0 + j, nt - j < LANES ? nt - j : LANES, &g);
        if (windows_permutable(p, &g)) windows_permute_avx512(m, grad, p, io, &g, j, dst);
        else windows_rows_avx512(m, grad, p, io, &g, j, dst);
    }
}

/* y [m][m][LANES] = the output tiles of channel ko of the group at j, from M. */
INLINE void output_load(int m, const winograd_shape *p, const float *M, int ko, int j, lanes_t y) {
    const int aa = (m + 2) * (m + 2);
    lanes_t x;
    const float *src = M + (size_t)ko * aa * p->block + j;
    for (int xi = 0; xi < aa; xi++) memcpy(x[xi], src + (size_t)xi * p->block, sizeof x[xi]);
    output_lanes(m, x, y);
}

/* The output tiles of the group's lanes, tr[l] = lane l's tile [m][m], stored into
 * channel plane dst of image 0 (image b at + b*bs), or added to it (accumulate),
 * inside the map only. */
INLINE void tiles_store(int m, const winograd_shape *p, const tile_group *g, float tr[][16],
                        float *dst, size_t bs, int accumulate) {
    const int w = p->w;
    for (int l = 0; l < g->n; l++) {
        const int y0 = g->y0[l], x0 = g->x0[l];
        float *restrict o = dst + (size_t)g->b[l] * bs + (size_t)y0 * w + x0;
        const float *restrict t = tr[l];
        if (y0 + m <= p->h && x0 + m <= w) { /* a whole tile: rows of m floats */
            for (int i = 0; i < m; i++) {
                if (!accumulate) memcpy(o + i * w, t + i * m, m * sizeof(float));
                else
                    for (int q = 0; q < m; q++) o[i * w + q] += t[i * m + q];
            }
            continue;
        }
        const int my = p->h - y0 < m ? p->h - y0 : m, mx = w - x0 < m ? w - x0 : m;
        for (int i = 0; i < my; i++)
            for (int q = 0; q < mx; q++)
                o[i * w + q] = t[i * m + q] + (accumulate ? o[i * w + q] : 0);
    }
}

/* The output tiles of the group g at j, every output channel, from M [k][a*a][block]:
 * stored, or added to what out holds (accumulate), inside the map only. The AVX-512
 * copy (wide) turns an F(4x4) group's 16 x 16 outputs around in registers. */
INLINE void output_group(int m, int wide, const winograd_shape *p, const float *M,
                         const tile_group *g, int j, const winograd_io *out, int accumulate) {
    lanes_t y;
    _Alignas(64) float tr[LANES][16]; /* lane l's tile [m][m] */
    for (int ko = 0; ko < p->k; ko++) {
        if (p->w < 16 && ko + KERNELS_AHEAD < p->k)
            group_prefetch(p, g, out->data + (size_t)(ko + KERNELS_AHEAD) * out->cs, out->bs, 1);
        output_load(m, p, M, ko, j, y);
        if (wide && m == 4) {
            sgemm_transpose16(y[0], LANES, LANES, 16, tr[0]);
        } else {
            for (int l = 0; l < g->n; l++)
                for (int v = 0; v < m * m; v++) tr[l][v] = y[v][l];
        }
        tiles_store(m, p, g, tr, out->data + (size_t)ko * out->cs, out->bs, accumulate);
    }
}

/* The output tiles t0..t0+nt of every output channel (output_group). */
INLINE void output_body(int m, const winograd_shape *p, const float *M, long t0, int nt,
                        const winograd_io *out, int accumulate) {
    tile_group g;
    for (int j = 0; j < nt; j += LANES) {
        group_make(p, t0 + j, nt - j < LANES ? nt - j : LANES, &g);
        output_group(m, 0, p, M, &g, j, out, accumulate);
    }
}

/* The output pass of a group windows_permutable takes: each 16 pixels of an output
 * row are a two-table permute (vpermt2ps) of the tiles' rows y[i][q] (q = 0, 1; F(2x2))
 * or two and a blend (q = 0, 1 and 2, 3; F(4x4)); rows below the map are not written. */
INLINE_AVX512 void output_permute_avx512(int m, const winograd_shape *p, const float *M,
                                         const tile_group *g, int j, const winograd_io *out,
                                         int accumulate) {
    const int w = p->w, tx = w / m, tile_rows = LANES / tx, vecs = w / 16;
    _Alignas(64) int32_t idx[4][2][LANES]; /* [tile row][16 pixels of the row][pixel] */
    for (int r = 0; r < tile_rows; r++)
        for (int v = 0; v < vecs; v++)
            for (int x = 0; x < LANES; x++) idx[r][v][x] = (x & 1) * 16 + r * tx + (16 * v + x) / m;
    lanes_t y;
    for (int ko = 0; ko < p->k; ko++) {
        output_load(m, p, M, ko, j, y);
        float *plane = out->data + (size_t)ko * out->cs + (size_t)g->b[0] * out->bs;
        if (ko + KERNELS_AHEAD < p->k) {
            const float *ahead = plane + (size_t)KERNELS_AHEAD * out->cs;
            for (int r = 0; r < tile_rows; r++)
                for (int i = 0; i < m && g->y0[r * tx] + i < p->h; i++)
                    kernels_prefetch(ahead + (size_t)(g->y0[r * tx] + i) * w, (size_t)w, vecs, 1);
        }
        for (int r = 0; r < tile_rows; r++)
            for (int i = 0; i < m && g->y0[r * tx] + i < p->h; i++) {
                float *row = plane + (size_t)(g->y0[r * tx] + i) * w;
                for (int v = 0; v < vecs; v++) {
                    const __m512i at = _mm512_load_si512(idx[r][v]);
                    const float *yi = y[i * m];
                    __m512 o = _mm512_permutex2var_ps(_mm512_loadu_ps(yi), at,
                                                      _mm512_loadu_ps(yi + LANES));
                    if (m == 4)
                        o = _mm512_mask_blend_ps(
                            0xcccc, o,
                            _mm512_permutex2var_ps(_mm512_loadu_ps(yi + 2 * LANES), at,
                                                   _mm512_loadu_ps(yi + 3 * LANES)));
                    if (accumulate) o = _mm512_add_ps(_mm512_loadu_ps(row + 16 * v), o);
                    _mm512_storeu_ps(row + 16 * v, o);
                }
            }
    }
}

INLINE_AVX512 void output_avx512(int m, const winograd_shape *p, const float *M, long t0, int nt,
                                 const winograd_io *out, int accumulate) {
    tile_group g;
    for (int j = 0; j < nt; j += LANES) {
        group_make(p, t0 + j, nt - j < LANES ? nt - j : LANES, &g);
        if (windows_permutable(p, &g)) output_permute_avx512(m, p, M, &g, j, out, accumulate);
        else output_group(m, 1, p, M, &g, j, out, accumulate);
    }
}

/* A windows pass called with m and grad as constants, so that each of its four
 * specialisations unrolls its loops. */
#define WINDOWS_CONST(pass)                                                                       \
    do {                                                                                          \
        if (p->m == 4 && grad) pass(4, 1, p, io, t0, nt, dst);                                    \
        else if (p->m == 4) pass(4, 0, p, io, t0, nt, dst);                                       \
        else if (grad) pass(2, 1, p, io, t0, nt, dst);                                            \
        else pass(2, 0, p, io, t0, nt, dst);                                                      \
    } while (0)

static void block_windows_base(const winograd_shape *p, const winograd_io *io, int grad, long t0,
                               int nt, const windows_dst *dst) {
    WINDOWS_CONST(windows_base);
}

__attribute__((target("avx2"))) static void block_windows_avx2(const winograd_shape *p,
                                                               const winograd_io *io, int grad,
                                                               long t0, int nt,
                                                               const windows_dst *dst) {
    WINDOWS_CONST(windows_gather_avx2);
}

__attribute__((target("avx512f"))) static void block_windows_avx512(const winograd_shape *p,
                                                                    const winograd_io *io, int grad,
                                                                    long t0, int nt,
                                                                    const windows_dst *dst) {
    WINDOWS_CONST(windows_avx512);
}

void winograd_block_windows(const winograd_shape *p, const winograd_io *io, int grad, long t0,
                            int nt, int isa, const windows_dst *dst) {
    if (isa >= KERN_AVX512) block_windows_avx512(p, io, grad, t0, nt, dst);
    else if (isa == KERN_AVX2) block_windows_avx2(p, io, grad, t0, nt, dst);
    else block_windows_base(p, io, grad, t0, nt, dst);
}

/* The output pass; the AVX-512 copy turns F(4x4) tiles around in registers. */
static void block_output_base(const winograd_shape *p, const float *M, long t0, int nt,
                              const winograd_io *out, int acc) {
    if (p->m == 4) output_body(4, p, M, t0, nt, out, acc);
    else output_body(2, p, M, t0, nt, out, acc);
}

__attribute__((target("avx2"))) static void block_output_avx2(const winograd_shape *p,
                                                              const float *M, long t0, int nt,
                                                              const winograd_io *out, int acc) {
    if (p->m == 4) output_body(4, p, M, t0, nt, out, acc);
    else output_body(2, p, M, t0, nt, out, acc);
}

__attribute__((target("avx512f"))) static void block_output_avx512(const winograd_shape *p,
                                                                   const float *M, long t0, int nt,
                                                                   const winograd_io *out,
                                                                   int acc) {
    if (p->m == 4) output_avx512(4, p, M, t0, nt, out, acc);
    else output_avx512(2, p, M, t0, nt, out, acc);
}

void winograd_block_output(const winograd_shape *p, const float *M, long t0, int nt,
                           const winograd_io *out, int accumulate, int isa) {
    if (isa >= KERN_AVX512) block_output_avx512(p, M, t0, nt, out, accumulate);
    else if (isa == KERN_AVX2) block_output_avx2(p, M, t0, nt, out, accumulate);
    else block_output_base(p, M, t0, nt, out, accumulate);
}
