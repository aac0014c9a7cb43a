/* kernels: the numeric kernels under the network: lir's own SGEMM micro-kernels, the
 * one GEMM interface (own kernel or OpenBLAS, the only BLAS caller), and convolution
 * lowering (tap plans, im2col / col2im, implicit-GEMM packing). Includes base only. */
#ifndef LIR_KERNELS_H
#define LIR_KERNELS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/base.h"

/* cpu: which kernels run. Every kernel that uses AVX2, AVX-512 or AVX512-BF16
 * instructions carries its own target attribute (the build assumes only the
 * x86-64-v2 baseline); the level is chosen at run time: the best this CPU runs,
 * capped by the environment variable LIR_KERNELS=generic|avx2|avx512|avx512bf16.
 *   generic     OpenBLAS for every fp32 GEMM, im2col for every convolution, bf16
 *               emulated (inputs rounded to bf16, fp32 GEMM)
 *   avx2        as generic (lir's AVX2+FMA SGEMM is there for tests and bench only:
 *               it ran at 0.7-1.0x OpenBLAS)
 *   avx512      lir's AVX-512 SGEMM (k >= 16) and implicit-GEMM convolution packing
 *   avx512bf16  also the bf16 GEMM on vdpbf16ps */
enum { KERN_GENERIC = 0, KERN_AVX2 = 1, KERN_AVX512 = 2, KERN_AVX512BF16 = 3 };

/* The best level this CPU (and its OS) runs. */
int kernels_cpu_level(void);
/* The level lir uses: kernels_cpu_level(), or LIR_KERNELS where that is lower (an
 * unknown LIR_KERNELS value gives generic; kernels_check_env reports it). */
int kernels_level(void);
/* "generic", "avx2", "avx512", "avx512bf16". */
const char *kernels_level_name(int level);
/* -1 with a message when LIR_KERNELS is set to anything but a level name. */
int kernels_check_env(lir_error *err);
/* Prints the CPU's level, LIR_KERNELS and the kernel each operation runs. */
void kernels_print(FILE *f);

/* sgemm: lir's own single-threaded SGEMM (packed panels, register-blocked
 * AVX-512 or AVX2+FMA micro-kernels). gemm() in gemm.c uses it where it measured
 * faster than OpenBLAS; tests and bench call it directly. `isa` is KERN_AVX2 or
 * KERN_AVX512 (KERN_AVX512BF16 runs the AVX-512 kernel), which the CPU must run. */

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

/* Precision of a GEMM's inputs: fp32, or bf16 (both operands rounded to bf16,
 * products summed in fp32, as PyTorch's CPU autocast does). The result C is fp32. */
enum { PREC_FP32 = 0, PREC_BF16 = 1 };
/* "fp32" -> PREC_FP32, "bf16" -> PREC_BF16, else -1. */
int precision_parse(const char *s);
const char *precision_name(int prec);

/* gemm and gemm_packed in precision `prec`. bf16 runs lir's AVX512-BF16 kernel at
 * level avx512bf16, whatever k; below it, gemm_prec rounds copies of A and B to
 * bf16 and runs the fp32 gemm on them (the same products, summed in another
 * order), and gemm_packed_prec returns 0. */
void gemm_prec(int prec, int trans_a, int trans_b, int m, int n, int k, float alpha,
               const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);
int gemm_packed_prec(int prec, int m, int n, int k, const float *a, int lda, sgemm_pack_fn pack,
                     const void *ctx, float *c, int ldc);

/* The kernels gemm uses, one line: "fp32 lir AVX-512 (k >= 16) + OpenBLAS
 * Cooperlake, bf16 lir AVX512-BF16" or "fp32 OpenBLAS Haswell, bf16 emulated". */
const char *gemm_kernels(void);
/* OpenBLAS's kernel set ("Haswell", "Cooperlake", ...). */
const char *gemm_blas_core(void);

/* bf16: bfloat16 numbers (the top 16 bits of a float32) and the bf16 GEMM kernel.
 * Conversion from float32 rounds to nearest, ties to even, as the AVX512-BF16
 * instructions do: NaN stays NaN (quiet, sign and top payload bits kept), infinities
 * stay, values that round beyond the largest bf16 become infinity, and zeros and
 * float32 subnormals become a zero of the same sign (vdpbf16ps reads bf16
 * subnormals as zero anyway). */
typedef uint16_t bf16;
bf16 bf16_from_float(float x);
float bf16_to_float(bf16 h);
/* dst[i][j] = x rounded to bf16 (as a float) for src[i][j], i < rows, j < cols;
 * src has leading dimension ld, dst is dense (leading dimension cols). */
void bf16_round_matrix(const float *src, int rows, int cols, int ld, float *dst);

/* sgemm_own and sgemm_own_packed with bf16 inputs on vdpbf16ps (AVX512-BF16, which
 * the CPU must run: kernels_cpu_level() == KERN_AVX512BF16): A and B are rounded to
 * bf16 while they are packed, pairs along k; products accumulate in fp32.
 * Deterministic like sgemm_own. */
void sbgemm_own(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                int lda, const float *b, int ldb, float beta, float *c, int ldc);
void sbgemm_own_packed(int trans_a, int m, int n, int k, float alpha, const float *a, int lda,
                       sgemm_pack_fn pack, const void *ctx, float beta, float *c, int ldc);

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

/* Whether conv_pack_b handles the shape (kernels up to 16x16, level avx512 or above). */
int conv_pack_ok(const conv_src *q);

/* An sgemm_pack_fn over a conv_src (ctx): the same values im2col_batch writes. */
void conv_pack_b(const void *ctx, int p0, int j0, int kc, int nc, int nr, float *dst);

#endif
