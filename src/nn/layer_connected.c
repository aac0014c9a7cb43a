/* layer_connected.c: fully connected layer out = act(in * W^T + b) through gemm, in
 * the layer's precision. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "activation.h"
#include "kernels/kernels.h"
#include "nn.h"

int connected_init(connected_layer *l, int inputs, int outputs, activation act, int batch,
                   int grads, lir_error *err) {
    memset(l, 0, sizeof(*l));
    if (inputs < 1 || outputs < 1 || batch < 1)
        return lir_fail(err, "connected: invalid shape (inputs=%d outputs=%d batch=%d)", inputs,
                        outputs, batch);
    l->inputs = inputs, l->outputs = outputs, l->batch = batch, l->act = act;
    if (grads && act != ACT_LINEAR) l->g = xmalloc((size_t)batch * outputs * sizeof(float));
    return 0;
}

int connected_params(const connected_layer *l, param_tensor *p) {
    p[0] = (param_tensor){(size_t)l->inputs * l->outputs, 1};
    p[1] = (param_tensor){(size_t)l->outputs, 0};
    return 2;
}

void connected_bind_params(connected_layer *l, float *params, float *grads, rng_state *rng) {
    const size_t nw = (size_t)l->inputs * l->outputs;
    l->weights = params;
    l->biases = params + nw;
    l->dweights = grads;
    l->dbiases = grads ? grads + nw : NULL;
    /* He (Kaiming) uniform for ReLU: U(-b, b), b = sqrt(6 / fan_in); bias 0. */
    const float bound = sqrtf(6.0f / (float)l->inputs);
    for (size_t i = 0; i < nw; i++) l->weights[i] = (2.0f * rng_uniform(rng) - 1.0f) * bound;
    for (int i = 0; i < l->outputs; i++) l->biases[i] = 0.0f;
}

void connected_free(connected_layer *l) {
    free(l->g);
    memset(l, 0, sizeof(*l));
}

void connected_forward(connected_layer *l, const float *in, float *out) {
    const int B = l->batch, no = l->outputs;
    /* out [B][no] = bias + in [B][ni] * W^T */
    for (int b = 0; b < B; b++) memcpy(out + (size_t)b * no, l->biases, no * sizeof(float));
    gemm_prec(l->precision, 0, 1, B, no, l->inputs, 1.0f, in, l->inputs, l->weights, l->inputs,
              1.0f, out, no);
    activation_forward(l->act, out, out, (size_t)B * no);
}

void connected_backward(connected_layer *l, const float *in, const float *out,
                        const float *dout, float *din) {
    const int B = l->batch, no = l->outputs, ni = l->inputs;
    const size_t n = (size_t)B * no;
    /* g = dout * act'(out); linear needs no copy. */
    const float *g = dout;
    if (l->act != ACT_LINEAR) {
        memset(l->g, 0, n * sizeof(float));
        activation_backward(l->act, out, dout, l->g, n);
        g = l->g;
    }
    for (int b = 0; b < B; b++)
        for (int o = 0; o < no; o++) l->dbiases[o] += g[(size_t)b * no + o];
    /* dW [no][ni] += g^T [no][B] * in [B][ni]; din [B][ni] += g [B][no] * W [no][ni] */
    gemm_prec(l->precision, 1, 0, no, ni, B, 1.0f, g, no, in, ni, 1.0f, l->dweights, ni);
    if (din) gemm_prec(l->precision, 0, 0, B, ni, no, 1.0f, g, no, l->weights, ni, 1.0f, din, ni);
}
