/* sbgemm.c: bfloat16: conversion from float32 (round to nearest even, as the
 * AVX512-BF16 instructions round) and the bf16 GEMM micro-kernel on vdpbf16ps
 * (AVX512-BF16) with its panel packing, run by sgemm.c's blocked driver.
 *
 * Panels hold bf16 pairs along k: an A panel of depth kc is [kc2][8][2] and a B
 * panel [kc2][32][2] (kc2 = (kc + 1) / 2, the odd last k padded with zero), so one
 * vdpbf16ps takes a 32-bit broadcast of A's pair (a[i][2q], a[i][2q+1]) and 16
 * columns' pairs of B and adds a[i][2q] b[2q][j] + a[i][2q+1] b[2q+1][j] to each
 * fp32 accumulator. bf16 x bf16 products are exact in fp32, so the rounding of the
 * inputs is the only loss besides fp32 summation. */
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kernels.h"
#include "sgemm_impl.h"

bf16 bf16_from_float(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (bf16)(u >> 16 | 0x0040u); /* quiet NaN */
    if ((u & 0x7f800000u) == 0) return (bf16)(u >> 16 & 0x8000u);          /* zero, subnormal */
    return (bf16)((u + 0x7fffu + (u >> 16 & 1u)) >> 16); /* ties to even; may carry to inf */
}

float bf16_to_float(bf16 h) {
    const uint32_t u = (uint32_t)h << 16;
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

void bf16_round_matrix(const float *src, int rows, int cols, int ld, float *dst) {
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++)
            dst[(size_t)i * cols + j] = bf16_to_float(bf16_from_float(src[(size_t)i * ld + j]));
}

#define B_MR TILE_MR
#define B_NR TILE_NR

/* op(A)[i0 + i][p0 + p] -> panels [kc2][8][2] of bf16, zero past row mc and depth
 * kc. A is small next to the work on it (m x k conversions for m x n x k products,
 * n >= 32), so this runs element by element, reading A along its rows. */
static void pack_a_bf16(int trans_a, const float *a, int lda, int i0, int p0, int mc, int kc,
                        void *dstv) {
    bf16 *dst = dstv;
    const int kp = (kc + 1) / 2 * 2;
    for (int ir = 0; ir < mc; ir += B_MR, dst += (size_t)kp * B_MR) {
        const int h = mc - ir < B_MR ? mc - ir : B_MR;
        for (int i = 0; i < B_MR; i++)
            for (int p = 0; p < kp; p++) {
                float v = 0.0f;
                if (i < h && p < kc)
                    v = trans_a ? a[(size_t)(p0 + p) * lda + i0 + ir + i]
                                : a[(size_t)(i0 + ir + i) * lda + p0 + p];
                dst[(size_t)(p / 2) * 2 * B_MR + 2 * i + p % 2] = bf16_from_float(v);
            }
    }
}

/* An fp32 panel src[kc][32] -> [kc2][32][2] of bf16: rows 2q and 2q + 1 are
 * rounded together (vcvtne2ps2bf16) and their words interleaved (vpermw). */
__attribute__((target("avx512f,avx512bw,avx512bf16"))) static void convert_b_bf16(const float *src,
                                                                                 int kc, int nr,
                                                                                 void *dstv) {
    static const uint16_t interleave[32] = {0, 16, 1, 17, 2,  18, 3,  19, 4,  20, 5,
                                            21, 6, 22, 7, 23, 8,  24, 9,  25, 10, 26,
                                            11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
    const __m512i idx = _mm512_loadu_si512(interleave);
    bf16 *dst = dstv;
    for (int p = 0; p < kc; p += 2) {
        const float *r0 = src + (size_t)p * nr, *r1 = r0 + nr;
        for (int j = 0; j < nr; j += 16) {
            const __m512 lo = _mm512_load_ps(r0 + j);
            const __m512 hi = p + 1 < kc ? _mm512_load_ps(r1 + j) : _mm512_setzero_ps();
            const __m512i both = (__m512i)_mm512_cvtne2ps_pbh(hi, lo); /* lo words first */
            _mm512_store_si512(dst + (size_t)p * nr + 2 * j, _mm512_permutexvar_epi16(idx, both));
        }
    }
}

/* 8 x 32 tile, 16 zmm accumulators; per pair of k 2 loads of B, 8 broadcasts of
 * A's pairs, 16 vdpbf16ps. pa: [kc2][8][2], pb: [kc2][32][2], 64-byte aligned. */
__attribute__((target("avx512f,avx512bw,avx512bf16"))) static void kernel_bf16(
    int kc, const void *pav, const void *pbv, float *c, int ldc, int mr, int nr, float alpha,
    float beta, int first) {
    const bf16 *pa = pav, *pb = pbv;
    __m512 acc[TILE_MR][TILE_NV];
    for (int i = 0; i < TILE_MR; i++)
        for (int v = 0; v < TILE_NV; v++) acc[i][v] = _mm512_setzero_ps();
    const int pairs = (kc + 1) / 2;
    for (int q = 0; q < pairs; q++) {
        __m512bh bv[TILE_NV];
        for (int v = 0; v < TILE_NV; v++)
            bv[v] = (__m512bh)_mm512_load_si512(pb + (size_t)q * 2 * B_NR + 32 * v);
#pragma GCC unroll 8
        for (int i = 0; i < TILE_MR; i++) {
            int32_t pair;
            memcpy(&pair, pa + (size_t)q * 2 * B_MR + 2 * i, sizeof pair);
            const __m512bh av = (__m512bh)_mm512_set1_epi32(pair);
            for (int v = 0; v < TILE_NV; v++) acc[i][v] = _mm512_dpbf16_ps(acc[i][v], av, bv[v]);
        }
    }
    tile_update_avx512(acc, c, ldc, mr, nr, alpha, beta, first);
}

/* Depth blocks of 256 like the fp32 kernel: a B panel is 16 KiB (its fp32 form
 * before conversion 32 KiB), an A block 64 KiB. */
const sgemm_params sbgemm_params = {B_MR, B_NR, 256, 128, 2048, 2, 2,
                                    kernel_bf16, pack_a_bf16, convert_b_bf16};
