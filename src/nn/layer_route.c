/* layer_route.c: concatenation of up to 8 inputs along channels (NCHW, per sample). */
#include <string.h>

#include "nn.h"

static int route_channels(const route_layer *l) {
    int total = 0;
    for (int i = 0; i < l->n; i++) total += l->c[i];
    return total;
}

/* out[b] = [in[0][b] | in[1][b] | ...], each block c[i]*h*w floats. */
void route_forward(const route_layer *l, const float *const *in, float *out) {
    const size_t hw = (size_t)l->h * l->w, out_sample = route_channels(l) * hw;
    for (int b = 0; b < l->batch; b++) {
        size_t off = 0;
        for (int i = 0; i < l->n; i++) {
            const size_t len = l->c[i] * hw;
            memcpy(out + b * out_sample + off, in[i] + b * len, len * sizeof(float));
            off += len;
        }
    }
}

/* din[i][b] += the matching block of dout[b]; din[i] may be NULL. */
void route_backward(const route_layer *l, const float *dout, float *const *din) {
    const size_t hw = (size_t)l->h * l->w, out_sample = route_channels(l) * hw;
    for (int b = 0; b < l->batch; b++) {
        size_t off = 0;
        for (int i = 0; i < l->n; i++) {
            const size_t len = l->c[i] * hw;
            if (din[i]) {
                const float *g = dout + b * out_sample + off;
                float *d = din[i] + b * len;
                for (size_t k = 0; k < len; k++) d[k] += g[k];
            }
            off += len;
        }
    }
}
