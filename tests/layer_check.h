/* layer_check.h: helpers shared by the layer tests: random buffers, and the
 * central-difference gradient check with kink detection (see fd_check).
 *
 * Gradient checks use L = sum(out * r) for a fixed random r, so dL/dout = r. The
 * layers run in float32; L is summed in double. Each finite difference perturbs
 * one value by +-h; if the "kink signature" of the layer (the sign pattern of the
 * pre-activations, the argmax of a max pool) differs at x+h or x-h from x, a kink
 * of ReLU/max lies in between: the step shrinks to h/4, then h/16, else the point
 * is skipped (at most a quarter may be).
 * A gradient passes when |analytic - fd| <= atol * max|analytic| + rtol * |fd|. */
#ifndef LIR_LAYER_CHECK_H
#define LIR_LAYER_CHECK_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "base/base.h"
#include "nn/nn.h"

static rng_state rng; /* seeded by each test's main */

static inline float *rand_buf(size_t n, float scale) {
    float *p = xmalloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) p[i] = scale * (2.0f * rng_uniform(&rng) - 1.0f);
    return p;
}

static inline double dot(const float *a, const float *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

/* FNV-1a over one bit per value: x > 0. */
static inline uint64_t sign_hash(const float *x, size_t n, uint64_t h) {
    for (size_t i = 0; i < n; i++) h = (h ^ (uint64_t)(x[i] > 0)) * 1099511628211ull;
    return h;
}

static inline double max_abs(const float *x, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fabs(x[i]) > m ? fabs(x[i]) : m;
    return m;
}

/* Backward accumulates: after a second identical call, grad holds twice the first
 * call's values (`once`, a copy taken in between). */
static inline void check_doubled(const char *what, const float *grad, const float *once, size_t n) {
    double e = 0;
    for (size_t i = 0; i < n; i++) e = fmax(e, fabs(grad[i] - 2 * once[i]) / (1 + fabs(once[i])));
    CHECK(e < 1e-6, "%s: a second backward does not double the gradient (%g)", what, e);
}

static inline float *copy_buf(const float *x, size_t n) {
    float *p = xmalloc(n * sizeof(float));
    memcpy(p, x, n * sizeof(float));
    return p;
}

/* Trainable scalars of a layer's tensors. */
static inline size_t tensors_size(const param_tensor *t, int k) {
    size_t n = 0;
    for (int i = 0; i < k; i++) n += t[i].n;
    return n;
}

/* A convolution whose trainable tensors get a block of their own (in a net they
 * live in its arena): conv_init, then conv_bind_params over fresh memory. */
static inline int conv_make(conv_layer *l, int c, int h, int w, int n, int size, int stride,
                            int pad, int bn, activation act, int batch, int grads, rng_state *r,
                            lir_error *err) {
    if (conv_init(l, c, h, w, n, size, stride, pad, bn, act, batch, grads, err)) return -1;
    param_tensor t[3];
    const size_t np = tensors_size(t, conv_params(l, t));
    conv_bind_params(l, xcalloc(np, sizeof(float)), grads ? xcalloc(np, sizeof(float)) : NULL, r);
    return 0;
}

static inline void conv_unmake(conv_layer *l) {
    free(l->weights), free(l->dweights);
    conv_free(l);
}

/* The same for a connected layer. */
static inline int connected_make(connected_layer *l, int inputs, int outputs, activation act,
                                 int batch, int grads, rng_state *r, lir_error *err) {
    if (connected_init(l, inputs, outputs, act, batch, grads, err)) return -1;
    param_tensor t[2];
    const size_t np = tensors_size(t, connected_params(l, t));
    connected_bind_params(l, xcalloc(np, sizeof(float)), grads ? xcalloc(np, sizeof(float)) : NULL,
                          r);
    return 0;
}

static inline void connected_unmake(connected_layer *l) {
    free(l->weights), free(l->dweights);
    connected_free(l);
}

/* A loss L(current values) and its kink signature. */
typedef double (*loss_fn)(void *ctx, uint64_t *sig);

/* Central differences of L over up to max_n entries of x (all if fewer) against
 * analytic. */
static inline void fd_check(const char *what, float *x, size_t n, const float *analytic, loss_fn f,
                     void *ctx, float h, double atol, double rtol, size_t max_n) {
    uint64_t sig0, sp, sm;
    f(ctx, &sig0);
    const double scale = max_abs(analytic, n);
    size_t tried = 0, skipped = 0, bad = 0;
    const size_t count = n < max_n ? n : max_n;
    for (size_t t = 0; t < count; t++) {
        const size_t i = n <= max_n ? t : rng_below(&rng, (uint32_t)n);
        const float save = x[i];
        double fd = 0;
        int found = 0;
        /* a kink between x-h and x+h: retry with a 4x and a 16x smaller step */
        for (float step = h; step >= h / 16 && !found; step /= 4) {
            const float xp = save + step, xm = save - step;
            x[i] = xp;
            const double lp = f(ctx, &sp);
            x[i] = xm;
            const double lm = f(ctx, &sm);
            x[i] = save;
            if (sp == sig0 && sm == sig0) {
                fd = (lp - lm) / ((double)xp - (double)xm);
                found = 1;
            }
        }
        tried++;
        if (!found) {
            skipped++;
            continue;
        }
        if (fabs(analytic[i] - fd) > atol * scale + rtol * fabs(fd)) {
            if (bad < 5)
                fprintf(stderr, "  %s[%zu]: analytic %.7g, finite difference %.7g\n", what, i,
                        analytic[i], fd);
            bad++;
        }
    }
    f(ctx, &sig0); /* leave the layer's buffers at the unperturbed point */
    CHECK(bad == 0, "%s: %zu of %zu gradients off", what, bad, tried - skipped);
    CHECK(skipped * 4 <= tried, "%s: %zu of %zu points on kinks", what, skipped, tried);
}

#endif
