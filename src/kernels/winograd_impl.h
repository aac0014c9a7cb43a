/* winograd_impl.h: what the Winograd convolution (winograd.c) and its weight
 * gradient (winograd_grad.c) share: groups of LANES tiles, one tile per vector
 * lane, and the gathers of their windows of pixels. Internal to src/kernels. */
#ifndef LIR_WINOGRAD_IMPL_H
#define LIR_WINOGRAD_IMPL_H

#include "kernels.h"

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum { LANES = 16, MAX_A = 6 };

/* The fixed-size scratch of a lane group: patches or tiles [a*a][LANES]. */
typedef float lanes_t[MAX_A * MAX_A][LANES];

/* The bodies are inlined with m a constant into a baseline and an AVX-512 copy of
 * each pass, chosen by kernels_level(). */
#define INLINE __attribute__((always_inline)) static inline
#define INLINE_AVX512 __attribute__((always_inline, target("avx512f"))) static inline

/* LANES consecutive tiles of a call from tile t0, n of them (the other lanes idle):
 * lane l's image b[l] and top-left output pixel (y0[l], x0[l]). The tiles of all
 * images of a call are numbered together: image-major, then tile rows, then
 * columns. */
typedef struct {
    int n;
    int b[LANES], y0[LANES], x0[LANES];
} tile_group;

static inline void group_make(const winograd_shape *p, long t0, int n, tile_group *g) {
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

static inline void window_make(const winograd_shape *p, const tile_group *g, size_t bs, int shift,
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

/* d[i*rows + q][l] = pixel (y0 - shift + i, x0 - shift + q) of lane l's image in the
 * channel plane src (image stride bs), zero outside the map; idle lanes are left
 * as they are. The baseline copies pixel by pixel, the AVX-512 pass (window lw from
 * window_make with the same shift and rows) with one masked gather per position,
 * as conv_pack.c packs the im2col matrix: lanes whose pixel lies outside the map
 * (or idle lanes) are masked off and read as zero. */
INLINE void window_gather_base(const winograd_shape *p, const tile_group *g, const float *src,
                               size_t bs, int shift, int rows, lanes_t d) {
    const int h = p->h, w = p->w;
    for (int l = 0; l < g->n; l++) {
        const float *s = src + (size_t)g->b[l] * bs;
        for (int i = 0; i < rows; i++) {
            const int y = g->y0[l] - shift + i;
            for (int q = 0; q < rows; q++) {
                const int x = g->x0[l] - shift + q;
                d[i * rows + q][l] = y >= 0 && y < h && x >= 0 && x < w ? s[y * w + x] : 0;
            }
        }
    }
}

INLINE_AVX512 void window_gather_avx512(const winograd_shape *p, const lane_window *lw,
                                        const float *src, int rows, lanes_t d) {
    const __m512i off = _mm512_loadu_si512(lw->off);
    for (int i = 0; i < rows; i++)
        for (int q = 0; q < rows; q++) {
            const __m512i at = _mm512_add_epi32(off, _mm512_set1_epi32(i * p->w + q));
            _mm512_storeu_ps(d[i * rows + q], _mm512_mask_i32gather_ps(
                                                  _mm512_setzero_ps(), lw->ym[i] & lw->xm[q],
                                                  at, src, 4));
        }
}

/* Whether a call over nb images of in and out may take the AVX-512 passes: they
 * index pixels with 32-bit offsets from a channel's start. */
static inline int winograd_wide(int nb, const winograd_io *in, const winograd_io *out) {
    return kernels_level() >= KERN_AVX512 && (size_t)nb * in->bs < INT32_MAX &&
           (size_t)nb * out->bs < INT32_MAX;
}

/* V [c][a*a][block]: the transformed input patches B^T d B of tiles t0..t0+nt of
 * every channel of in (winograd.c); wide: the AVX-512 pass. */
void winograd_block_input(const winograd_shape *p, const winograd_io *in, long t0, int nt,
                          int wide, float *V);

#endif
