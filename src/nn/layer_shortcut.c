/* layer_shortcut.c: residual addition out = act(a + b) of two equal-shape tensors. */
#include <stddef.h>

#include "activation.h"
#include "nn.h"

void shortcut_forward(const shortcut_layer *l, const float *a, const float *b, float *out) {
    const ptrdiff_t n = (ptrdiff_t)l->batch * l->c * l->h * l->w;
#pragma omp parallel for schedule(static) if (n > 65536)
    for (ptrdiff_t i = 0; i < n; i++) out[i] = a[i] + b[i];
    activation_forward(l->act, out, out, (size_t)n);
}

/* g = dout * act'(out); da += g, db += g (either may be NULL). */
void shortcut_backward(const shortcut_layer *l, const float *out, const float *dout,
                       float *da, float *db) {
    const size_t n = (size_t)l->batch * l->c * l->h * l->w;
    if (da) activation_backward(l->act, out, dout, da, n);
    if (db) activation_backward(l->act, out, dout, db, n);
}
