/* im2col.c: convolution lowering for the GEMMs of the convolution layer: which
 * kernel taps reach the image, the batched im2col that unrolls a chunk of images
 * into one GEMM operand, and its adjoint (col2im) that adds a column gradient back
 * onto the images. Each walks planes a whole image (or column row) apart and asks
 * for the next ones ahead (kernels_prefetch). */
#include "kernels.h"

#include <stddef.h>
#include <string.h>

/* Valid output range [lo, hi) of one axis for kernel offset k: the outputs o with
 * 0 <= o*stride - pad + k < len. */
static void valid_range(int k, int stride, int pad, int len, int on, int *lo, int *hi) {
    int first = pad - k; /* o*stride >= first */
    int l = first <= 0 ? 0 : (first + stride - 1) / stride;
    int last = len - 1 + pad - k; /* o*stride <= last */
    int h = last < 0 ? 0 : last / stride + 1;
    if (h > on) h = on;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

int im2col_active_taps(int h, int w, int size, int stride, int pad, int oh, int ow, int *taps) {
    int count = 0;
    for (int ky = 0; ky < size; ky++) {
        int ylo, yhi;
        valid_range(ky, stride, pad, h, oh, &ylo, &yhi);
        for (int kx = 0; kx < size; kx++) {
            int xlo, xhi;
            valid_range(kx, stride, pad, w, ow, &xlo, &xhi);
            if (ylo < yhi && xlo < xhi) {
                if (taps) taps[count] = ky * size + kx;
                count++;
            }
        }
    }
    return count;
}

/* Stride 1 with the output the size of the input ("same" padding): the tap reads
 * pixel i + dy*w + dx for output pixel i, so the valid block is one flat copy;
 * the columns outside [xlo, xhi), which that copy fills with pixels of the
 * neighbouring row, and the rows outside [ylo, yhi) are zeroed after it. Much
 * faster than row by row on small maps. planes: nb planes `step` floats apart. */
static void im2col_same(const float *planes, size_t step, int nb, int h, int w, int dy, int dx,
                        int ylo, int yhi, int xlo, int xhi, float *dst) {
    const size_t S = (size_t)h * w;
    const size_t first = (size_t)ylo * w + xlo, len = (size_t)(yhi - 1 - ylo) * w + xhi - xlo;
    const ptrdiff_t shift = (ptrdiff_t)dy * w + dx;
    for (int b = 0; b < nb; b++) {
        const float *src = planes + b * step;
        float *d = dst + b * S;
        if (b + KERNELS_AHEAD < nb)
            kernels_prefetch(src + KERNELS_AHEAD * step, S, KERNELS_AHEAD_LINES, 0);
        memset(d, 0, first * sizeof(float));
        memcpy(d + first, src + first + shift, len * sizeof(float));
        memset(d + first + len, 0, (S - first - len) * sizeof(float));
        for (int oy = ylo; oy < yhi; oy++) {
            for (int ox = 0; ox < xlo; ox++) d[(size_t)oy * w + ox] = 0;
            for (int ox = xhi; ox < w; ox++) d[(size_t)oy * w + ox] = 0;
        }
    }
}

/* The adjoint of im2col_same. Zeroes the col entries outside the valid columns
 * first (col is scratch the caller gives up), so that one flat add is exact. */
static void col2im_same(float *col, int nb, int h, int w, int dy, int dx, int ylo, int yhi,
                        int xlo, int xhi, float *planes, size_t step) {
    const size_t S = (size_t)h * w;
    const size_t first = (size_t)ylo * w + xlo, len = (size_t)(yhi - 1 - ylo) * w + xhi - xlo;
    const ptrdiff_t shift = (ptrdiff_t)dy * w + dx;
    for (int b = 0; b < nb; b++) {
        float *s = col + b * S, *d = planes + b * step + first + shift;
        if (b + KERNELS_AHEAD < nb)
            kernels_prefetch(d + KERNELS_AHEAD * step, len, KERNELS_AHEAD_LINES, 1);
        for (int oy = ylo; oy < yhi; oy++) {
            for (int ox = 0; ox < xlo; ox++) s[(size_t)oy * w + ox] = 0;
            for (int ox = xhi; ox < w; ox++) s[(size_t)oy * w + ox] = 0;
        }
        s += first;
        for (size_t i = 0; i < len; i++) d[i] += s[i];
    }
}

void im2col_batch(const float *in, int nb, int c, int h, int w, int size, int stride, int pad,
                  int oh, int ow, const int *taps, int ntaps, float *col) {
    const int rows = c * ntaps;
    const size_t ncol = (size_t)nb * oh * ow;
#pragma omp parallel for schedule(static) if (rows * ncol > 32768)
    for (int r = 0; r < rows; r++) {
        const int ch = r / ntaps, kx = taps[r % ntaps] % size, ky = taps[r % ntaps] / size;
        int ylo, yhi, xlo, xhi;
        valid_range(ky, stride, pad, h, oh, &ylo, &yhi);
        valid_range(kx, stride, pad, w, ow, &xlo, &xhi);
        float *dst = col + (size_t)r * ncol;
        if (stride == 1 && oh == h && ow == w && ylo < yhi && xlo < xhi) {
            im2col_same(in + (size_t)ch * h * w, (size_t)c * h * w, nb, h, w, ky - pad, kx - pad,
                        ylo, yhi, xlo, xhi, dst);
            continue;
        }
        for (int b = 0; b < nb; b++) {
            const float *src = in + ((size_t)b * c + ch) * h * w;
            float *d = dst + (size_t)b * oh * ow;
            if (b + KERNELS_AHEAD < nb)
                kernels_prefetch(src + (size_t)KERNELS_AHEAD * c * h * w, (size_t)h * w,
                                 KERNELS_AHEAD_LINES, 0);
            for (int oy = 0; oy < oh; oy++) {
                float *drow = d + (size_t)oy * ow;
                if (oy < ylo || oy >= yhi) {
                    memset(drow, 0, sizeof(float) * ow);
                    continue;
                }
                /* row start of the input, may lie left of the image: index from it
                 * only with ox >= xlo */
                const ptrdiff_t base = (ptrdiff_t)(oy * stride - pad + ky) * w - pad + kx;
                for (int ox = 0; ox < xlo; ox++) drow[ox] = 0;
                if (stride == 1) {
                    for (int ox = xlo; ox < xhi; ox++) drow[ox] = src[base + ox];
                } else {
                    for (int ox = xlo; ox < xhi; ox++) drow[ox] = src[base + ox * stride];
                }
                for (int ox = xhi; ox < ow; ox++) drow[ox] = 0;
            }
        }
    }
}

void im2col_adjoint_add(float *col, int nb, int c, int h, int w, int size, int stride, int pad,
                      int oh, int ow, const int *taps, int ntaps, float *din) {
    const size_t ncol = (size_t)nb * oh * ow;
    if (stride == 1 && oh == h && ow == w) {
        /* one thread per channel: a channel's rows write only its planes */
#pragma omp parallel for schedule(static) if (ncol * c * ntaps > 32768)
        for (int ch = 0; ch < c; ch++)
            for (int t = 0; t < ntaps; t++) {
                const int ky = taps[t] / size, kx = taps[t] % size;
                int ylo, yhi, xlo, xhi;
                valid_range(ky, stride, pad, h, oh, &ylo, &yhi);
                valid_range(kx, stride, pad, w, ow, &xlo, &xhi);
                if (ylo < yhi && xlo < xhi)
                    col2im_same(col + (size_t)(ch * ntaps + t) * ncol, nb, h, w, ky - pad,
                                kx - pad, ylo, yhi, xlo, xhi, din + (size_t)ch * h * w,
                                (size_t)c * h * w);
            }
        return;
    }
    /* One thread per (image, channel) plane: every write of a plane comes from
     * that channel's rows, so planes never race. */
#pragma omp parallel for schedule(static) if (ncol * c * ntaps > 32768)
    for (int p = 0; p < nb * c; p++) {
        const int b = p / c, ch = p % c;
        float *dst = din + (size_t)p * h * w;
        for (int t = 0; t < ntaps; t++) {
            const int ky = taps[t] / size, kx = taps[t] % size;
            int ylo, yhi, xlo, xhi;
            valid_range(ky, stride, pad, h, oh, &ylo, &yhi);
            valid_range(kx, stride, pad, w, ow, &xlo, &xhi);
            const float *src = col + (size_t)(ch * ntaps + t) * ncol + (size_t)b * oh * ow;
            if (t + KERNELS_AHEAD < ntaps)
                kernels_prefetch(src + KERNELS_AHEAD * ncol, (size_t)oh * ow,
                                 KERNELS_AHEAD_LINES, 0);
            for (int oy = ylo; oy < yhi; oy++) {
                const float *s = src + (size_t)oy * ow;
                const ptrdiff_t base = (ptrdiff_t)(oy * stride - pad + ky) * w - pad + kx;
                if (stride == 1) {
                    for (int ox = xlo; ox < xhi; ox++) dst[base + ox] += s[ox];
                } else {
                    for (int ox = xlo; ox < xhi; ox++) dst[base + ox * stride] += s[ox];
                }
            }
        }
    }
}
