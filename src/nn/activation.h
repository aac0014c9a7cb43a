/* activation: element-wise activations shared by conv, shortcut and connected
 * layers (the activation enum itself is in nn.h). */
#ifndef LIR_ACTIVATION_H
#define LIR_ACTIVATION_H

#include <stddef.h>

#include "nn.h"

#define LEAKY_SLOPE 0.1f /* Darknet's leaky ReLU slope */

/* act(x) of one value. */
static inline float activation_apply(activation a, float x) {
    if (a == ACT_RELU) return x > 0 ? x : 0.0f;
    if (a == ACT_LEAKY) return x > 0 ? x : LEAKY_SLOPE * x;
    return x;
}

/* act'(y) * dy of one value, the derivative read from the activation's output y. */
static inline float activation_grad(activation a, float y, float dy) {
    if (a == ACT_RELU) return y > 0 ? dy : 0.0f;
    if (a == ACT_LEAKY) return y > 0 ? dy : LEAKY_SLOPE * dy;
    return dy;
}

/* dx[i] += act'(y[i]) * dy[i], i < n, inlined into each caller (activation_backward,
 * the convolution's backward prologue), which compile it for their targets. */
__attribute__((always_inline)) static inline void activation_backward_body(activation a,
                                                                           const float *y,
                                                                           const float *dy,
                                                                           float *dx,
                                                                           ptrdiff_t n) {
    switch (a) {
    case ACT_LINEAR:
        for (ptrdiff_t i = 0; i < n; i++) dx[i] += dy[i];
        break;
    case ACT_RELU:
        for (ptrdiff_t i = 0; i < n; i++) dx[i] += y[i] > 0 ? dy[i] : 0.0f;
        break;
    case ACT_LEAKY:
        for (ptrdiff_t i = 0; i < n; i++) dx[i] += y[i] > 0 ? dy[i] : LEAKY_SLOPE * dy[i];
        break;
    }
}

/* y[i] = act(x[i]); y may alias x. */
void activation_forward(activation a, const float *x, float *y, size_t n);
/* dx[i] += dy[i] * act'(x[i]), with the derivative read from the activation's
 * OUTPUT y (sign of y = sign of x for relu and leaky). */
void activation_backward(activation a, const float *y, const float *dy, float *dx, size_t n);

#endif
