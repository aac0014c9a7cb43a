/* conv_pack.c: packs blocks of a convolution's im2col matrix (gemm.h),
 * col[ch*ntaps + t][b*S + s], S = oh*ow, straight from the images into the
 * nr-column panels of sgemm_own_packed: the forward GEMM of a convolution then
 * reads each input pixel from cache instead of writing and re-reading col.
 * Two ways to fill a panel, both AVX-512 and both giving im2col's exact values:
 * - runs (stride 1): the panel's columns split into runs of pixels that lie
 *   side by side in the image; a run of one row k is one masked load from the
 *   image (lanes that fall in the padding load nothing and give 0) and one
 *   masked store;
 * - gather (other strides, or panels cut into many short runs such as 1x1
 *   maps): one masked gather per 16 columns and row. */
#include "kernels.h"

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>


#define MAX_SIZE 16 /* kernel side: masks per kx / ky fit fixed arrays */
#define MAX_RUNS 8  /* more runs per panel: gathers, 2 per row, take fewer instructions */
#define MAX_LANES 64 /* panel width (nr) the gather tables hold */

int conv_pack_ok(const conv_src *q) {
    return q->size <= MAX_SIZE && kernels_level() >= KERN_AVX512;
}

/* A run: `len` (<= 16) consecutive columns of one image, from panel column `at`,
 * whose pixels for row k lie side by side in the image (stride 1): along one
 * output row, or along the whole map when the output has the input's width
 * (lanes that wrap into the next row read a neighbour pixel that xm masks off).
 * Lane l of row k reads image float base + (ch*h + ky)*w + kx + l, if it is in
 * ym[ky] & xm[kx] (the lanes whose row / column lands inside the image). */
typedef struct {
    int at, len;
    ptrdiff_t base;
    __mmask16 ym[MAX_SIZE], xm[MAX_SIZE];
} run;

/* The runs of panel columns [j, j + width); returns their count, or -1 when
 * there are more than MAX_RUNS. */
static int panel_runs(const conv_src *q, int j, int width, run *r) {
    const int S = q->oh * q->ow, flat = q->ow == q->w;
    const ptrdiff_t chw = (ptrdiff_t)q->c * q->h * q->w;
    int n = 0;
    for (int i = 0; i < width;) {
        if (n == MAX_RUNS) return -1;
        const int col = j + i, b = col / S, s = col % S;
        int len = flat ? S - s : q->ow - s % q->ow;
        if (len > width - i) len = width - i;
        if (len > 16) len = 16;
        run *u = r + n++;
        u->at = i, u->len = len;
        u->base = b * chw + (ptrdiff_t)(s / q->ow - q->pad) * q->w + s % q->ow - q->pad;
        for (int v = 0; v < q->size; v++) u->ym[v] = u->xm[v] = 0;
        for (int l = 0; l < len; l++) {
            const int iy = (s + l) / q->ow - q->pad, ix = (s + l) % q->ow - q->pad;
            for (int v = 0; v < q->size; v++) {
                if (iy + v >= 0 && iy + v < q->h) u->ym[v] |= (__mmask16)(1u << l);
                if (ix + v >= 0 && ix + v < q->w) u->xm[v] |= (__mmask16)(1u << l);
            }
        }
        i += len;
    }
    return n;
}

/* The floats at image offset off: may lie outside the images where the masks
 * exclude every lane that would (AVX-512 masked loads do not touch them). */
static const float *at_offset(const float *in, ptrdiff_t off) {
    return (const float *)((uintptr_t)in + (uintptr_t)(off * (ptrdiff_t)sizeof(float)));
}

__attribute__((target("avx512f"))) static void pack_runs(const conv_src *q, const run *r,
                                                         int nruns, int p0, int kc, int nr,
                                                         float *dst) {
    const ptrdiff_t hw = (ptrdiff_t)q->h * q->w;
    for (int p = 0; p < kc; p++) {
        const int k = p0 + p, ch = k / q->ntaps, t = q->taps[k % q->ntaps];
        const int ky = t / q->size, kx = t % q->size;
        const ptrdiff_t off = ch * hw + (ptrdiff_t)ky * q->w + kx;
        float *d = dst + (size_t)p * nr;
        for (int i = 0; i < nruns; i++) {
            const run *u = r + i;
            const __mmask16 m = u->ym[ky] & u->xm[kx];
            const __m512 v = _mm512_maskz_loadu_ps(m, at_offset(q->in, u->base + off));
            _mm512_mask_storeu_ps(d + u->at, (__mmask16)((1u << u->len) - 1), v);
        }
    }
}

/* Panel columns [j, j + width) by gathers: per group of 16 lanes the offset of
 * each column's window corner relative to image b0 (the panel's first), and
 * masks of the lanes whose row / column ky / kx lands inside the image. */
__attribute__((target("avx512f"))) static void pack_gather(const conv_src *q, int j, int width,
                                                           int p0, int kc, int nr, float *dst) {
    const int S = q->oh * q->ow, groups = nr / 16, b0 = j / S;
    const ptrdiff_t hw = (ptrdiff_t)q->h * q->w, chw = q->c * hw;
    int32_t idx[MAX_LANES];
    __mmask16 ym[MAX_LANES / 16][MAX_SIZE], xm[MAX_LANES / 16][MAX_SIZE];
    for (int g = 0; g < groups; g++)
        for (int v = 0; v < q->size; v++) ym[g][v] = xm[g][v] = 0;
    for (int i = 0; i < groups * 16; i++) {
        idx[i] = 0;
        if (i >= width) continue;
        const int col = j + i, b = col / S, s = col % S;
        const int iy = s / q->ow * q->stride - q->pad, ix = s % q->ow * q->stride - q->pad;
        idx[i] = (int32_t)((b - b0) * chw + (ptrdiff_t)iy * q->w + ix);
        for (int v = 0; v < q->size; v++) {
            if (iy + v >= 0 && iy + v < q->h) ym[i / 16][v] |= (__mmask16)(1u << i % 16);
            if (ix + v >= 0 && ix + v < q->w) xm[i / 16][v] |= (__mmask16)(1u << i % 16);
        }
    }
    const float *in = q->in + b0 * chw;
    /* the span of image b0's plane the lanes read (the whole plane where they run on
     * into the next image, which is not asked for), asked for KERNELS_AHEAD channels
     * ahead as each channel's first tap comes up */
    ptrdiff_t lo = idx[0] < 0 ? 0 : idx[0];
    ptrdiff_t hi = idx[width - 1] + (ptrdiff_t)(q->size - 1) * (q->w + 1) + 1;
    if ((j + width - 1) / S != b0 || hi > hw) lo = 0, hi = hw;
    for (int p = 0; p < kc; p++) {
        const int k = p0 + p, ch = k / q->ntaps, t = q->taps[k % q->ntaps];
        const int ky = t / q->size, kx = t % q->size;
        const float *base = in + ch * hw + (ptrdiff_t)ky * q->w + kx;
        if (k % q->ntaps == 0 && ch + KERNELS_AHEAD < q->c)
            kernels_prefetch(in + (ch + KERNELS_AHEAD) * hw + lo, (size_t)(hi - lo),
                             KERNELS_AHEAD_LINES, 0);
        for (int g = 0; g < groups; g++) {
            const __m512i vi = _mm512_loadu_si512(idx + 16 * g);
            const __mmask16 m = ym[g][ky] & xm[g][kx];
            _mm512_store_ps(dst + (size_t)p * nr + 16 * g,
                            _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, vi, base, 4));
        }
    }
}

void conv_pack_b(const void *ctx, int p0, int j0, int kc, int nc, int nr, float *dst) {
    const conv_src *q = ctx;
    run r[MAX_RUNS];
    if (nr % 16 || nr > MAX_LANES) abort(); /* sgemm's AVX-512 panels: 32 columns */
    for (int jr = 0; jr < nc; jr += nr, dst += (size_t)kc * nr) {
        const int width = nc - jr < nr ? nc - jr : nr;
        const int nruns = q->stride == 1 ? panel_runs(q, j0 + jr, width, r) : -1;
        if (nruns < 0) {
            pack_gather(q, j0 + jr, width, p0, kc, nr, dst);
            continue;
        }
        if (width < nr) memset(dst, 0, (size_t)kc * nr * sizeof(float));
        pack_runs(q, r, nruns, p0, kc, nr, dst);
    }
}
