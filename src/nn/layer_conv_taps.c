/* layer_conv_taps.c: the kernel taps each output position of a convolution reads
 * (planned once at conv_init), and the im2col / col2im of a class of positions that
 * read the same taps (layer_conv_taps.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "layer_conv_taps.h"

/* Classes pay only when they save enough padding work for their smaller GEMMs:
 * the share of the global set's work that may remain. Measured (one core): 2x2
 * maps (44%) win; 4x4 maps (69%) win with 256+ input channels and lose with
 * 64-128, whose class GEMMs are shallow. */
static double class_max_share(int c) { return c >= 256 ? 0.75 : 0.6; }

void conv_taps_make(const conv_layer *l, tapset *ts) {
    const int kk = l->size * l->size, S = l->oh * l->ow;
    memset(ts, 0, sizeof(*ts));
    int *global = xmalloc(kk * sizeof(int));
    const int ng = im2col_active_taps(l->h, l->w, l->size, l->stride, l->pad, l->oh, l->ow, global);
    if (S > 1 && S <= 64 && kk <= 64) {
        /* tap mask of each position; classes in order of first appearance */
        uint64_t *mask = xcalloc(S, sizeof(uint64_t)), *cls = xmalloc(S * sizeof(uint64_t));
        int *of = xmalloc(S * sizeof(int)), sets = 0;
        long work = 0;
        for (int s = 0; s < S; s++) {
            for (int t = 0; t < kk; t++) {
                const int iy = s / l->ow * l->stride - l->pad + t / l->size;
                const int ix = s % l->ow * l->stride - l->pad + t % l->size;
                if (iy >= 0 && iy < l->h && ix >= 0 && ix < l->w) mask[s] |= 1ull << t, work++;
            }
            int k = 0;
            while (k < sets && cls[k] != mask[s]) k++;
            if (k == sets) cls[sets++] = mask[s];
            of[s] = k;
        }
        if (sets > 1 && work <= class_max_share(l->c) * S * ng) {
            ts->sets = sets;
            ts->count = xcalloc(sets, sizeof(int));
            ts->npos = xcalloc(sets, sizeof(int));
            ts->off = xcalloc(sets + 1, sizeof(int));
            ts->poff = xcalloc(sets + 1, sizeof(int));
            for (int k = 0; k < sets; k++)
                for (int t = 0; t < kk; t++) ts->count[k] += (int)(cls[k] >> t & 1);
            for (int s = 0; s < S; s++) ts->npos[of[s]]++;
            for (int k = 0; k < sets; k++) {
                ts->off[k + 1] = ts->off[k] + ts->count[k];
                ts->poff[k + 1] = ts->poff[k] + ts->npos[k];
            }
            ts->tap = xmalloc(ts->off[sets] * sizeof(int));
            ts->pos = xmalloc(S * sizeof(int));
            for (int k = 0, i = 0; k < sets; k++)
                for (int t = 0; t < kk; t++)
                    if (cls[k] >> t & 1) ts->tap[i++] = t;
            int *fill = xcalloc(sets, sizeof(int));
            for (int s = 0; s < S; s++) ts->pos[ts->poff[of[s]] + fill[of[s]]++] = s;
            free(fill);
        }
        free(mask), free(cls), free(of);
    }
    if (ts->sets) {
        free(global);
        return;
    }
    ts->global = 1;
    ts->sets = 1;
    ts->tap = global;
    ts->count = xmalloc(sizeof(int));
    ts->npos = xmalloc(sizeof(int));
    ts->off = xmalloc(2 * sizeof(int));
    ts->poff = xmalloc(2 * sizeof(int));
    ts->count[0] = ng, ts->npos[0] = S;
    ts->off[0] = ts->poff[0] = 0;
    ts->off[1] = ng, ts->poff[1] = S;
}

void conv_taps_free(tapset *ts) {
    if (!ts) return;
    free(ts->count), free(ts->off), free(ts->tap), free(ts->npos), free(ts->poff), free(ts->pos);
    free(ts);
}
/* at[j] = offset in an input plane of the pixel tap reads for output pos[j]. */
static void class_offsets(const conv_layer *l, int tap, const int *pos, int np, int *at) {
    const int dy = tap / l->size - l->pad, dx = tap % l->size - l->pad;
    for (int j = 0; j < np; j++)
        at[j] = (pos[j] / l->ow * l->stride + dy) * l->w + pos[j] % l->ow * l->stride + dx;
}

void conv_class_im2col(const conv_layer *l, const tapset *ts, int k, const float *in, int nb,
                       float *col) {
    const int cnt = ts->count[k], np = ts->npos[k];
    const int *tap = ts->tap + ts->off[k], *pos = ts->pos + ts->poff[k];
    const size_t in_size = (size_t)l->c * l->h * l->w;
    int at[64]; /* pixel each position reads for the tap (classes hold <= 64) */
    for (int t = 0; t < cnt; t++) {
        class_offsets(l, tap[t], pos, np, at);
        for (int ch = 0; ch < l->c; ch++) {
            const float *src = in + (size_t)ch * l->h * l->w;
            float *dst = col + ((size_t)ch * cnt + t) * nb * np;
            for (int b = 0; b < nb; b++)
                for (int j = 0; j < np; j++) dst[(size_t)b * np + j] = src[b * in_size + at[j]];
        }
    }
}

void conv_class_col2im(const conv_layer *l, const tapset *ts, int k, const float *col, int nb,
                       float *din) {
    const int cnt = ts->count[k], np = ts->npos[k];
    const int *tap = ts->tap + ts->off[k], *pos = ts->pos + ts->poff[k];
    const size_t in_size = (size_t)l->c * l->h * l->w;
    int at[64];
    for (int t = 0; t < cnt; t++) {
        class_offsets(l, tap[t], pos, np, at);
        for (int ch = 0; ch < l->c; ch++) {
            float *dst = din + (size_t)ch * l->h * l->w;
            const float *src = col + ((size_t)ch * cnt + t) * nb * np;
            for (int b = 0; b < nb; b++)
                for (int j = 0; j < np; j++) dst[b * in_size + at[j]] += src[(size_t)b * np + j];
        }
    }
}
