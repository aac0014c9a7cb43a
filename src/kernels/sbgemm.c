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

/* One 8-row panel [kc2][8][2] element by element: the rows past h and the depth
 * past kc are zero. */
static void pack_a_rows_bf16(int trans_a, const float *a, int lda, int r0, int p0, int h,
                             int kc, bf16 *dst) {
    const int kp = (kc + 1) / 2 * 2;
    for (int i = 0; i < B_MR; i++)
        for (int p = 0; p < kp; p++) {
            float v = 0.0f;
            if (i < h && p < kc)
                v = trans_a ? a[(size_t)(p0 + p) * lda + r0 + i]
                            : a[(size_t)(r0 + i) * lda + p0 + p];
            dst[(size_t)(p / 2) * 2 * B_MR + 2 * i + p % 2] = bf16_from_float(v);
        }
}

/* A full 8-row panel of A (rows r0..r0+7 along k): each row's 32 k at a time rounded
 * in registers into 16 bf16 pairs (vcvtne2ps2bf16, the rounding of bf16_from_float),
 * then the pairs, as 32-bit words, transposed into [kc2][8]. */
__attribute__((target("avx512f,avx512bw,avx512bf16"))) static void pack_a_rows_n(
    const float *a, int lda, int r0, int p0, int kc, bf16 *dst) {
    uint32_t *out = (uint32_t *)dst, w[B_MR][16];
    const int kc2 = (kc + 1) / 2;
    for (int p = 0; p < kc; p += 32) {
        const int n = kc - p < 32 ? kc - p : 32;
        const __mmask16 m0 = n >= 16 ? 0xffff : (__mmask16)((1u << n) - 1);
        const __mmask16 m1 = n <= 16 ? 0 : n >= 32 ? 0xffff : (__mmask16)((1u << (n - 16)) - 1);
        for (int i = 0; i < B_MR; i++) {
            const float *row = a + (size_t)(r0 + i) * lda + p0 + p;
            const __m512 lo = _mm512_maskz_loadu_ps(m0, row);
            const __m512 hi = _mm512_maskz_loadu_ps(m1, row + 16);
            _mm512_storeu_si512(w[i], (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
        }
        const int q0 = p / 2, nq = kc2 - q0 < 16 ? kc2 - q0 : 16;
        for (int q = 0; q < nq; q++)
            for (int i = 0; i < B_MR; i++) out[(size_t)(q0 + q) * B_MR + i] = w[i][q];
    }
}

/* The same from A stored transposed (a[p][r0 + i]): rows 2q and 2q + 1 of 8 floats
 * are rounded together and their words interleaved, as convert_b_bf16 does. */
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16"))) static void pack_a_rows_t(
    const float *a, int lda, int r0, int p0, int kc, bf16 *dst) {
    static const uint16_t interleave[16] = {0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15};
    const __m256i idx = _mm256_loadu_si256((const __m256i *)interleave);
    for (int p = 0; p < kc; p += 2) {
        const __m256 lo = _mm256_loadu_ps(a + (size_t)(p0 + p) * lda + r0);
        const __m256 hi =
            p + 1 < kc ? _mm256_loadu_ps(a + (size_t)(p0 + p + 1) * lda + r0) : _mm256_setzero_ps();
        const __m256i both = (__m256i)_mm256_cvtne2ps_pbh(hi, lo);
        _mm256_storeu_si256((__m256i *)(dst + (size_t)p * B_MR),
                            _mm256_permutexvar_epi16(idx, both));
    }
}

/* op(A)[i0 + i][p0 + p] -> panels [kc2][8][2] of bf16, zero past row mc and depth
 * kc: full panels in registers, the last partial one element by element. */
static void pack_a_bf16(int trans_a, const float *a, int lda, int i0, int p0, int mc, int kc,
                        void *dstv) {
    bf16 *dst = dstv;
    const int kp = (kc + 1) / 2 * 2;
    for (int ir = 0; ir < mc; ir += B_MR, dst += (size_t)kp * B_MR) {
        const int h = mc - ir < B_MR ? mc - ir : B_MR;
        if (h < B_MR) pack_a_rows_bf16(trans_a, a, lda, i0 + ir, p0, h, kc, dst);
        else if (trans_a) pack_a_rows_t(a, lda, i0 + ir, p0, kc, dst);
        else pack_a_rows_n(a, lda, i0 + ir, p0, kc, dst);
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
