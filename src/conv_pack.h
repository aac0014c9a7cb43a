/* conv_pack.h: the im2col matrix of a convolution packed straight from the images
 * into sgemm's B panels (implicit GEMM), so the forward GEMM needs no col buffer. */
#ifndef LIR_CONV_PACK_H
#define LIR_CONV_PACK_H

/* nb images [nb][c][h][w] seen as im2col_batch's col [c*ntaps][nb*oh*ow]. */
typedef struct {
    const float *in;
    int c, h, w, size, stride, pad, oh, ow;
    const int *taps; /* kernel taps ky*size + kx, as in im2col_batch */
    int ntaps;
} conv_src;

/* Whether conv_pack_b handles the shape (kernels up to 16x16, AVX-512 CPU). */
int conv_pack_ok(const conv_src *q);

/* An sgemm_pack_fn over a conv_src (ctx): the same values im2col_batch writes. */
void conv_pack_b(const void *ctx, int p0, int j0, int kc, int nc, int nr, float *dst);

#endif
