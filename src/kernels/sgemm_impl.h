/* sgemm_impl.h: what the blocked GEMM driver of sgemm.c needs to know about a
 * micro-kernel (its tile, block sizes and panel layout), shared by the fp32
 * kernels (sgemm.c) and the bf16 kernel (sbgemm.c). Private to src/kernels. */
#ifndef LIR_SGEMM_IMPL_H
#define LIR_SGEMM_IMPL_H

#include <immintrin.h>
#include <stddef.h>

#include "kernels.h"

/* One mr x nr tile of C from an A panel and a B panel of depth kc (see pack_a_fn,
 * convert_b_fn for their layout): C = alpha * A B (+ beta C, first = 1) or
 * C += alpha * A B (first = 0, a later depth block); mr, nr <= the tile (edges). */
typedef void (*micro_kernel)(int kc, const void *pa, const void *pb, float *c, int ldc, int mr,
                             int nr, float alpha, float beta, int first);
/* op(A)[i0 + i][p0 + p] for i < mc, p < kc -> the kernel's mr-row panels at dst,
 * zero past row mc and past depth kc up to the panel depth. */
typedef void (*pack_a_fn)(int trans_a, const float *a, int lda, int i0, int p0, int mc, int kc,
                          void *dst);
/* One fp32 panel src[kc][nr] (from an sgemm_pack_fn) -> the kernel's B panel. */
typedef void (*convert_b_fn)(const float *src, int kc, int nr, void *dst);

/* A micro-kernel: a KC x NR panel of B stays in L1 while the MC x KC block of A
 * streams from L2. kstep: k of one packed row (1, or 2 for bf16 pairs: panel
 * depths round up to it); esize: bytes per packed element. convert_b NULL: the
 * kernel reads the fp32 panels of the sgemm_pack_fn as they are. */
typedef struct {
    int mr, nr, kc, mc, nc;
    int kstep, esize;
    micro_kernel kernel;
    pack_a_fn pack_a;
    convert_b_fn convert_b;
} sgemm_params;

/* 16 rows s[j*ldb + p] (j < 16, p < kc) -> d[p*NR + j]: a transposition in
 * registers, 16 x 16 at a time (AVX-512; also used by winograd_pass.c). */
void sgemm_transpose16(const float *s, int ldb, int kc, int NR, float *d);

/* The bf16 kernel (sbgemm.c). */
extern const sgemm_params sbgemm_params;

/* C = alpha * op(A) * op(B) + beta * C with the kernel kp, op(B) from pack
 * (sgemm_own_packed's contract), op(A) from a, or already packed at pa (not NULL:
 * sgemm_pack_a_whole's layout; a and lda are not read). pb not NULL: op(B) given
 * whole as the fp32 panels [n/nr][k][nr] pack would write (pack and ctx are not
 * read), which a kernel with convert_b converts; only for k within one depth block. */
void sgemm_drive(const sgemm_params *kp, int trans_a, int m, int n, int k, float alpha,
                 const float *a, int lda, const void *pa, const void *pb, sgemm_pack_fn pack,
                 const void *ctx, float beta, float *c, int ldc);
/* Bytes of op(A) [m][k] packed whole for kp, and the packing itself. */
size_t sgemm_packed_a_bytes(const sgemm_params *kp, int m, int k);
void sgemm_pack_a_whole(const sgemm_params *kp, int trans_a, int m, int k, const float *a,
                        int lda, void *pa);

/* The edge of C: tile[mr][nr] (row stride ts) holds the products. */
void sgemm_edge_update(const float *tile, int ts, float *c, int ldc, int mr, int nr, float alpha,
                       float beta, int first);

/* The C update of an 8 x 32 AVX-512 tile held in acc, mr x nr of it inside C
 * (both AVX-512 kernels end with it): vector stores for a full tile, else through
 * sgemm_edge_update, which does the same arithmetic element by element. */
#define TILE_MR 8
#define TILE_NV 2
#define TILE_NR (16 * TILE_NV)
__attribute__((target("avx512f"), always_inline)) static inline void
tile_update_avx512(__m512 acc[TILE_MR][TILE_NV], float *c, int ldc, int mr, int nr, float alpha,
                   float beta, int first) {
    if (mr < TILE_MR || nr < TILE_NR) {
        float tile[TILE_MR * TILE_NR];
        for (int i = 0; i < TILE_MR; i++)
            for (int v = 0; v < TILE_NV; v++)
                _mm512_storeu_ps(tile + i * TILE_NR + 16 * v, acc[i][v]);
        sgemm_edge_update(tile, TILE_NR, c, ldc, mr, nr, alpha, beta, first);
        return;
    }
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    for (int i = 0; i < TILE_MR; i++)
        for (int v = 0; v < TILE_NV; v++) {
            float *cp = c + (size_t)i * ldc + 16 * v;
            __m512 r;
            if (!first)
                r = _mm512_fmadd_ps(va, acc[i][v], _mm512_loadu_ps(cp));
            else if (beta == 0.0f)
                r = _mm512_mul_ps(va, acc[i][v]);
            else
                r = _mm512_fmadd_ps(vb, _mm512_loadu_ps(cp), _mm512_mul_ps(va, acc[i][v]));
            _mm512_storeu_ps(cp, r);
        }
}

#endif
