/* layer_pool.c: max pooling with Darknet's padding rule, and global average pooling. */
#include <float.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "nn.h"

int maxpool_init(maxpool_layer *l, int c, int h, int w, int size, int stride, int padding,
                 int batch, lir_error *err) {
    memset(l, 0, sizeof(*l));
    if (c < 1 || h < 1 || w < 1 || size < 1 || stride < 1 || padding < 0 || batch < 1)
        return lir_fail(err,
                        "maxpool: invalid shape (c=%d h=%d w=%d size=%d stride=%d padding=%d "
                        "batch=%d)",
                        c, h, w, size, stride, padding, batch);
    if ((int64_t)h + padding < size || (int64_t)w + padding < size)
        return lir_fail(err, "maxpool: window %d larger than padded input %dx%d (padding %d)",
                        size, h, w, padding);
    const int64_t oh = ((int64_t)h + padding - size) / stride + 1;
    const int64_t ow = ((int64_t)w + padding - size) / stride + 1;
    if (oh > INT_MAX || ow > INT_MAX || oh * ow > INT_MAX / ((int64_t)batch * c))
        return lir_fail(err, "maxpool: output %lldx%lld for %d x %d channels holds more values "
                        "than an int counts", (long long)oh, (long long)ow, batch, c);
    l->c = c, l->h = h, l->w = w, l->size = size, l->stride = stride, l->padding = padding;
    l->batch = batch;
    l->oh = (int)oh;
    l->ow = (int)ow;
    l->argmax = xmalloc((size_t)batch * c * l->oh * l->ow * sizeof(int));
    l->max_threads = omp_get_num_procs();
    l->rows = xmalloc((size_t)l->max_threads * h * l->ow * sizeof(float));
    l->any = xmalloc((size_t)l->max_threads * l->ow);
    return 0;
}

void maxpool_free(maxpool_layer *l) {
    free(l->argmax), free(l->rows), free(l->any);
    memset(l, 0, sizeof(*l));
}

/* Window of output (oy, ox) starts at input (oy*stride - padding/2, ox*stride - padding/2).
 * A window with no in-image cell (possible only with odd settings) outputs 0, argmax -1. */
/* Inference (no argmax): the window maximum taken in two passes, along x into
 * rows[h][ow], then along y. Same values as the training path: a maximum does
 * not depend on the order it is taken in. */
static void maxpool_infer(maxpool_layer *l, const float *in, float *out) {
    const int off = -l->padding / 2, planes = l->batch * l->c;
    const int threads = omp_get_max_threads() < l->max_threads ? omp_get_max_threads()
                                                                 : l->max_threads;
#pragma omp parallel num_threads(threads)
    {
        float *rows = l->rows + (size_t)omp_get_thread_num() * l->h * l->ow;
        unsigned char *any = l->any + (size_t)omp_get_thread_num() * l->ow;
#pragma omp for schedule(static)
        for (int p = 0; p < planes; p++) {
            const float *src = in + (size_t)p * l->h * l->w;
            float *dst = out + (size_t)p * l->oh * l->ow;
            for (int ox = 0; ox < l->ow; ox++) {
                const int x0 = ox * l->stride + off;
                const int lo = x0 < 0 ? 0 : x0, hi = x0 + l->size < l->w ? x0 + l->size : l->w;
                any[ox] = lo < hi;
                for (int y = 0; y < l->h; y++) {
                    float best = -FLT_MAX;
                    for (int x = lo; x < hi; x++) best = src[y * l->w + x] > best ? src[y * l->w + x] : best;
                    rows[y * l->ow + ox] = best;
                }
            }
            for (int oy = 0; oy < l->oh; oy++) {
                const int y0 = oy * l->stride + off;
                const int lo = y0 < 0 ? 0 : y0, hi = y0 + l->size < l->h ? y0 + l->size : l->h;
                for (int ox = 0; ox < l->ow; ox++) {
                    float best = -FLT_MAX;
                    for (int y = lo; y < hi; y++)
                        best = rows[y * l->ow + ox] > best ? rows[y * l->ow + ox] : best;
                    dst[oy * l->ow + ox] = lo < hi && any[ox] ? best : 0.0f;
                }
            }
        }
    }
}

void maxpool_forward(maxpool_layer *l, const float *in, float *out, int train) {
    if (!train) {
        maxpool_infer(l, in, out);
        return;
    }
    const int off = -l->padding / 2, planes = l->batch * l->c;
#pragma omp parallel for schedule(static) if ((size_t)planes * l->oh * l->ow * l->size * l->size > 32768)
    for (int p = 0; p < planes; p++) {
        const int ch = p % l->c;
        const float *src = in + (size_t)p * l->h * l->w;
        float *dst = out + (size_t)p * l->oh * l->ow;
        int *arg = l->argmax + (size_t)p * l->oh * l->ow;
        for (int oy = 0; oy < l->oh; oy++)
            for (int ox = 0; ox < l->ow; ox++) {
                float best = -FLT_MAX;
                int best_i = -1;
                for (int ky = 0; ky < l->size; ky++) {
                    const int y = oy * l->stride + off + ky;
                    if (y < 0 || y >= l->h) continue;
                    for (int kx = 0; kx < l->size; kx++) {
                        const int x = ox * l->stride + off + kx;
                        if (x < 0 || x >= l->w) continue;
                        const float v = src[y * l->w + x];
                        if (best_i < 0 || v > best) best = v, best_i = y * l->w + x;
                    }
                }
                dst[oy * l->ow + ox] = best_i < 0 ? 0.0f : best;
                arg[oy * l->ow + ox] = best_i < 0 ? -1 : ch * l->h * l->w + best_i;
            }
    }
}

void maxpool_backward(maxpool_layer *l, const float *dout, float *din) {
    const int planes = l->batch * l->c;
    const size_t in_sample = (size_t)l->c * l->h * l->w, ohw = (size_t)l->oh * l->ow;
    /* argmax of plane p stays inside plane p of the input: planes never race. */
#pragma omp parallel for schedule(static) if (planes * ohw > 32768)
    for (int p = 0; p < planes; p++) {
        const int b = p / l->c;
        const int *arg = l->argmax + (size_t)p * ohw;
        const float *g = dout + (size_t)p * ohw;
        float *d = din + (size_t)b * in_sample;
        for (size_t i = 0; i < ohw; i++)
            if (arg[i] >= 0) d[arg[i]] += g[i];
    }
}

void avgpool_forward(const avgpool_layer *l, const float *in, float *out) {
    const int planes = l->batch * l->c, hw = l->h * l->w;
#pragma omp parallel for schedule(static) if (planes > 4096)
    for (int p = 0; p < planes; p++) {
        const float *src = in + (size_t)p * hw;
        float sum = 0;
        for (int i = 0; i < hw; i++) sum += src[i];
        out[p] = sum / hw;
    }
}

void avgpool_backward(const avgpool_layer *l, const float *dout, float *din) {
    const int planes = l->batch * l->c, hw = l->h * l->w;
#pragma omp parallel for schedule(static) if (planes > 4096)
    for (int p = 0; p < planes; p++) {
        const float g = dout[p] / hw;
        float *d = din + (size_t)p * hw;
        for (int i = 0; i < hw; i++) d[i] += g;
    }
}
