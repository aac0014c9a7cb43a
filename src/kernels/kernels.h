/* kernels: the numeric kernels under the network: lir's own SGEMM micro-kernels, the
 * one GEMM interface (own kernel or OpenBLAS, the only BLAS caller), and convolution
 * lowering (tap plans, im2col / col2im, implicit-GEMM packing). Includes base only. */
#ifndef LIR_KERNELS_H
#define LIR_KERNELS_H

#include <stddef.h>

#include "base/base.h"

/* sgemm: lir's own single-threaded SGEMM (packed panels, register-blocked
 * AVX-512 or AVX2+FMA micro-kernels, chosen at run time). gemm() in gemm.c uses
 * it where it measured faster than OpenBLAS; tests and bench call it directly. */

/* Instruction sets of the micro-kernels. */
enum { SGEMM_NONE = 0, SGEMM_AVX2 = 1, SGEMM_AVX512 = 2 };

/* The best kernel this CPU runs (SGEMM_NONE: neither AVX2+FMA nor AVX-512F). */
int sgemm_best_isa(void);

/* C[m][n] = alpha * op(A)[m][k] * op(B)[k][n] + beta * C, row-major, as gemm()
 * (beta 0 never reads C), with the kernel `isa` (which the CPU must support).
 * Deterministic: each element sums its k products in the same order whatever
 * the shape of the call around it, so slicing C between threads changes nothing. */
void sgemm_own(int isa, int trans_a, int trans_b, int m, int n, int k, float alpha,
               const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);

/* A source of op(B) for sgemm_own_packed: writes op(B)[p0 + p][j0 + j] for
 * p < kc, j < nc as nr-column panels dst[j/nr][kc][nr] (64-byte aligned),
 * zero past column nc. */
typedef void (*sgemm_pack_fn)(const void *ctx, int p0, int j0, int kc, int nc, int nr, float *dst);

/* sgemm_own with op(B) packed by `pack` from `ctx` (an operand that is never
 * stored as a matrix, such as the im2col matrix of a convolution). */
void sgemm_own_packed(int isa, int trans_a, int m, int n, int k, float alpha, const float *a,
                      int lda, sgemm_pack_fn pack, const void *ctx, float beta, float *c,
                      int ldc);

/* gemm: the one GEMM interface (row-major sgemm on lir's own kernel or OpenBLAS). */

/* C[m][n] = alpha * op(A)[m][k] * op(B)[k][n] + beta * C, row-major;
 * op(X) = X^T when the trans flag is 1. */
void gemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
          const float *b, int ldb, float beta, float *c, int ldc);

/* C[m][n] = A[m][k] * B[k][n] with B packed by `pack` from `ctx` (see
 * sgemm_own_packed), split between the threads like gemm. Only on lir's own
 * kernel: returns 0, doing nothing, where gemm would take OpenBLAS for this
 * shape (the caller then builds B and calls gemm), 1 when done. */
int gemm_packed(int m, int n, int k, const float *a, int lda, sgemm_pack_fn pack, const void *ctx,
                float *c, int ldc);

/* The kernels gemm uses: "lir AVX-512, OpenBLAS Haswell" where our own AVX-512
 * kernel runs, else OpenBLAS's kernel set ("Haswell", "Cooperlake", ...). */
const char *gemm_kernels(void);

/* Most floats of scratch one convolution may use (its chunk of images is sized to
 * fit, at least one image). Default 2M floats = 8 MiB: the im2col matrix then stays
 * in the L3 cache, which measured ~10% faster than 64 MiB chunks on the 32x32
 * layers. Tests lower it to exercise chunking. */
extern size_t gemm_workspace_limit;

/* im2col: convolution lowering (im2col.c): the taps that reach the image, the batched
 * im2col of a chunk of images into one GEMM operand, and its adjoint. */

/* Kernel taps t = ky*size + kx that reach the image for at least one output
 * position; the others only ever read zero padding (8 of the 9 taps of a 3x3
 * pad-1 convolution on a 1x1 input), so a convolution may leave them out. Fills
 * taps[] (size*size ints, or NULL to count only) in order; returns their count. */
int im2col_active_taps(int h, int w, int size, int stride, int pad, int oh, int ow, int *taps);

/* in: nb images [nb][c][h][w] -> col [c*ntaps][nb*oh*ow], for the kernel taps
 * taps[0..ntaps) (t = ky*size + kx):
 * col[ch*ntaps + i][(b*oh + oy)*ow + ox]
 *   = in[b][ch][oy*stride - pad + ky][ox*stride - pad + kx], 0 outside the image. */
void im2col_batch(const float *in, int nb, int c, int h, int w, int size, int stride, int pad,
                  int oh, int ow, const int *taps, int ntaps, float *col);

/* The adjoint of im2col_batch (col2im): din[b][ch][y][x] += every col entry that im2col
 * copied from that pixel. col is scratch: entries that im2col would have set to
 * zero (padding) may be zeroed. */
void im2col_adjoint_add(float *col, int nb, int c, int h, int w, int size, int stride, int pad,
                        int oh, int ow, const int *taps, int ntaps, float *din);

/* conv_pack: the im2col matrix of a convolution packed straight from the images
 * into sgemm's B panels (implicit GEMM), so the forward GEMM needs no col buffer. */

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
