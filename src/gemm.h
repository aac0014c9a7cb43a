/* gemm.h: the one interface to OpenBLAS (row-major sgemm) and the batched
 * im2col / col2im that turn a convolution over a chunk of images into one GEMM. */
#ifndef LIR_GEMM_H
#define LIR_GEMM_H

#include <stddef.h>

#include "util.h"

/* C[m][n] = alpha * op(A)[m][k] * op(B)[k][n] + beta * C, row-major;
 * op(X) = X^T when the trans flag is 1. */
void gemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
          const float *b, int ldb, float beta, float *c, int ldc);

/* The name of the kernel set OpenBLAS uses ("Haswell", "Cooperlake", ...). */
const char *gemm_kernels(void);

/* Lets OpenBLAS detect this CPU's kernels again, ignoring an OPENBLAS_CORETYPE from
 * the environment (this workplace sets OPENBLAS_CORETYPE=Haswell, which keeps an
 * AVX-512 CPU on AVX2 kernels: sgemm runs ~1.7x slower). Only before the first gemm
 * and with no other thread in BLAS; -1 with a message if this OpenBLAS cannot. */
int gemm_detect_kernels(lir_error *err);

/* in: nb images [nb][c][h][w] -> col [c*size*size][nb*oh*ow]:
 * col[(ch*size + ky)*size + kx][(b*oh + oy)*ow + ox]
 *   = in[b][ch][oy*stride - pad + ky][ox*stride - pad + kx], 0 outside the image. */
void im2col_batch(const float *in, int nb, int c, int h, int w, int size, int stride, int pad,
                  int oh, int ow, float *col);

/* The adjoint of im2col_batch: din[b][ch][y][x] += every col entry that im2col
 * copied from that pixel. */
void col2im_batch_add(const float *col, int nb, int c, int h, int w, int size, int stride,
                      int pad, int oh, int ow, float *din);

/* Most floats of scratch one convolution may use (its chunk of images is sized to
 * fit, at least one image). Default 2M floats = 8 MiB: the im2col matrix then stays
 * in the L3 cache, which measured ~10% faster than 64 MiB chunks on the 32x32
 * layers. Tests lower it to exercise chunking. */
extern size_t gemm_workspace_limit;

#endif
