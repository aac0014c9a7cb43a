/* sgemm.h: lir's own single-threaded SGEMM (packed panels, register-blocked
 * AVX-512 or AVX2+FMA micro-kernels, chosen at run time). gemm() in gemm.c uses
 * it where it measured faster than OpenBLAS; tests and bench call it directly. */
#ifndef LIR_SGEMM_H
#define LIR_SGEMM_H

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

#endif
