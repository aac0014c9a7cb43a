/* layer_conv_bn: the per-channel passes of the convolution layer around its
 * GEMMs (layer_conv_bn.c): bias / batch norm / activation after the forward GEMM,
 * and their backward before the backward GEMMs. Internal to layer_conv*.c. */
#ifndef LIR_LAYER_CONV_BN_H
#define LIR_LAYER_CONV_BN_H

#include "nn.h"

/* Scale and shift of a forward that does not normalise with batch statistics
 * (running statistics, or the plain bias): ac[ch] = a, ac[n + ch] = c. */
void conv_epilogue_affine(const conv_layer *l, float *ac);

/* Epilogue of one chunk: g [n][nb*S] -> conv_out of images b0..b0+nb (NCHW).
 * sums != NULL (BN training): also sums[ch] += sum x, sums[n+ch] += sum x^2, the
 * rest waits for the batch statistics. Otherwise the chunk is finished here with
 * the affine ac: bn_out = a*x + c, out = act(bn_out), and each image's energy of
 * conv_out / bn_out into e_conv / e_bn [B] where not NULL. tid: the calling thread
 * among those running chunks (0 when the chunks run one at a time): an
 * inference-only layer's conv_out / bn_out hold one image per thread. */
void conv_forward_epilogue(conv_layer *l, const float *g, int b0, int nb, float *out,
                           double *sums, const float *ac, float *e_conv, float *e_bn, int tid);

/* BN training: batch statistics from the sums (biased variance to normalise,
 * unbiased for the running variance), then bn_out and out over the batch. */
void conv_bn_train_finish(conv_layer *l, const double *sums, float *out);

/* Whether the backward leaves dbn_out unwritten: with BN and no hook adding into it,
 * the gather pass computes dconv_out from out and dout directly. */
static inline int conv_bn_fused(const conv_layer *l) {
    return l->batch_normalize && !l->dbn_add;
}

/* Backward through activation and BN, per channel over the whole batch:
 * dbn_out += act'(out) * dout (unless conv_bn_fused), parameter gradients, and
 * coef[ch*4 ..] for conv_backward_gather. */
void conv_backward_prologue(conv_layer *l, const float *out, const float *dout, float *coef);

/* For images b0..b0+nb: with BN, dconv_out (+= with dconv_add) = its part of the BN
 * backward, from dbn_out, or (conv_bn_fused) from act'(out) * dout; then (g not NULL)
 * g [n][nb*S] = dconv_out in the GEMM layout. */
void conv_backward_gather(conv_layer *l, const float *out, const float *dout, const float *coef,
                          int b0, int nb, float *g);

#endif
