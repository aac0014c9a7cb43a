/* resize.c: area (box) resampling of planar uint8 images: every output pixel is the
 * mean of the source rectangle it covers, each source pixel weighted by the fraction
 * of it inside that rectangle (OpenCV's INTER_AREA when shrinking), so shrinking by
 * any factor, integer or not, neither aliases nor drops pixels. Separable: one
 * horizontal pass into floats, then one vertical pass. */
#include <math.h>
#include <stdlib.h>

#include "data.h"

/* Taps of one output pixel along one axis: source indices [i0, i0 + n) and weights. */
typedef struct {
    int i0, n;
    float *w; /* [n], summing to 1 */
} area_taps;

/* Output o covers [x0 + o * s, x0 + (o + 1) * s) with s = len / out, clipped to [0, in). */
static area_taps *taps_make(int in, double x0, double len, int out) {
    area_taps *t = xmalloc((size_t)out * sizeof *t);
    double s = len / out;
    for (int o = 0; o < out; o++) {
        double a = x0 + o * s, b = a + s;
        if (a < 0) a = 0;
        if (b > in) b = in;
        if (b <= a) { /* degenerate (outside the image): take the nearest pixel */
            int k = a >= in ? in - 1 : (int)a;
            a = k, b = k + 1;
        }
        int i0 = (int)floor(a), i1 = (int)ceil(b);
        t[o].i0 = i0;
        t[o].n = i1 - i0;
        t[o].w = xmalloc((size_t)t[o].n * sizeof(float));
        double sum = 0;
        for (int i = i0; i < i1; i++) {
            double lo = i > a ? i : a, hi = i + 1 < b ? i + 1 : b;
            t[o].w[i - i0] = (float)(hi - lo);
            sum += hi - lo;
        }
        for (int i = 0; i < t[o].n; i++) t[o].w[i] = (float)(t[o].w[i] / sum);
    }
    return t;
}

static void taps_free(area_taps *t, int out) {
    for (int o = 0; o < out; o++) free(t[o].w);
    free(t);
}

void image_resize_area(const uint8_t *src, int c, int h, int w, const image_box *box,
                       uint8_t *dst, int oh, int ow) {
    area_taps *tx = taps_make(w, box->x, box->w, ow), *ty = taps_make(h, box->y, box->h, oh);
    int r0 = ty[0].i0, r1 = ty[oh - 1].i0 + ty[oh - 1].n; /* source rows used */
    float *rows = xmalloc((size_t)(r1 - r0) * ow * sizeof(float));
    for (int ch = 0; ch < c; ch++) {
        const uint8_t *s = src + (size_t)ch * h * w;
        for (int y = r0; y < r1; y++) {
            const uint8_t *in = s + (size_t)y * w;
            float *o = rows + (size_t)(y - r0) * ow;
            for (int x = 0; x < ow; x++) {
                float acc = 0;
                for (int k = 0; k < tx[x].n; k++) acc += tx[x].w[k] * in[tx[x].i0 + k];
                o[x] = acc;
            }
        }
        uint8_t *d = dst + (size_t)ch * oh * ow;
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++) {
                float acc = 0;
                for (int k = 0; k < ty[y].n; k++)
                    acc += ty[y].w[k] * rows[(size_t)(ty[y].i0 + k - r0) * ow + x];
                long v = lrintf(acc);
                d[(size_t)y * ow + x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
    }
    free(rows);
    taps_free(tx, ow);
    taps_free(ty, oh);
}

void image_box_center(int w, int h, image_box *box) {
    int s = w < h ? w : h;
    box->x = (w - s) / 2.0;
    box->y = (h - s) / 2.0;
    box->w = box->h = s;
}
