/* activation.c: activation names and the element-wise forward / backward loops. */
#include "activation.h"

#include <string.h>

int activation_parse(const char *s) {
    if (!strcmp(s, "linear")) return ACT_LINEAR;
    if (!strcmp(s, "relu")) return ACT_RELU;
    if (!strcmp(s, "leaky")) return ACT_LEAKY;
    return -1;
}

const char *activation_name(activation a) {
    switch (a) {
    case ACT_LINEAR: return "linear";
    case ACT_RELU: return "relu";
    case ACT_LEAKY: return "leaky";
    }
    return "?";
}

void activation_forward(activation a, const float *x, float *y, size_t n) {
    const ptrdiff_t nn = (ptrdiff_t)n;
    switch (a) {
    case ACT_LINEAR:
        if (x != y) memcpy(y, x, n * sizeof(float));
        break;
    case ACT_RELU:
#pragma omp parallel for schedule(static) if (nn > 65536)
        for (ptrdiff_t i = 0; i < nn; i++) y[i] = x[i] > 0 ? x[i] : 0;
        break;
    case ACT_LEAKY:
#pragma omp parallel for schedule(static) if (nn > 65536)
        for (ptrdiff_t i = 0; i < nn; i++) y[i] = x[i] > 0 ? x[i] : LEAKY_SLOPE * x[i];
        break;
    }
}

/* activation_backward_body over one block, compiled for each kernels level. */
KERNELS_COPIES(void, backward, (activation a, const float *y, const float *dy, float *dx,
                                ptrdiff_t n),
               { activation_backward_body(a, y, dy, dx, n); })

void activation_backward(activation a, const float *y, const float *dy, float *dx, size_t n) {
    void (*run)(activation, const float *, const float *, float *, ptrdiff_t) =
        KERNELS_PICK(backward);
    const ptrdiff_t nn = (ptrdiff_t)n, step = 16384;
#pragma omp parallel for schedule(static) if (nn > 65536)
    for (ptrdiff_t lo = 0; lo < nn; lo += step)
        run(a, y + lo, dy + lo, dx + lo, nn - lo < step ? nn - lo : step);
}
