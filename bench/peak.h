/* peak.h: this machine's peak arithmetic rate per core: long independent chains of
 * one instruction, many accumulators so that neither its latency nor anything but
 * its throughput limits the loop (not a test). Included by bench/peak.c, which
 * prints the table, and by bench/bench_gemm.c, which reports kernels as a fraction
 * of it. Each kernel has its own target attribute (the build is x86-64-v2). */
#ifndef LIR_BENCH_PEAK_H
#define LIR_BENCH_PEAK_H

#include <immintrin.h>
#include <omp.h>

#include "kernels/kernels.h"

/* 24 chains: a zmm FMA has 4 cycles latency and 2 issue per cycle on current cores,
 * so 8 would do; 24 leave room on any core while fitting the 32 zmm registers. */
#define PEAK_CHAINS 24

/* iters x 24 vfmadd231ps zmm: returns the flops (16 lanes x 2 each). acc -> acc *
 * 0.999999 + 1e-6 stays near 1 (no overflow, no subnormals). */
__attribute__((target("avx512f"), unused)) static double peak_fma512(long iters, float *sink) {
    __m512 acc[PEAK_CHAINS];
    for (int i = 0; i < PEAK_CHAINS; i++) acc[i] = _mm512_set1_ps(1.0f + 0.01f * i);
    const __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-6f);
    for (long t = 0; t < iters; t++) {
#pragma GCC unroll 24
        for (int i = 0; i < PEAK_CHAINS; i++) acc[i] = _mm512_fmadd_ps(acc[i], x, y);
    }
    __m512 s = acc[0];
    for (int i = 1; i < PEAK_CHAINS; i++) s = _mm512_add_ps(s, acc[i]);
    *sink += _mm512_reduce_add_ps(s);
    return (double)iters * PEAK_CHAINS * 16 * 2;
}

/* iters x 12 vfmadd231ps ymm (AVX2 has 16 registers): 8 lanes x 2 flops each. */
__attribute__((target("avx2,fma"), unused)) static double peak_fma256(long iters, float *sink) {
    __m256 acc[12];
    for (int i = 0; i < 12; i++) acc[i] = _mm256_set1_ps(1.0f + 0.01f * i);
    const __m256 x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-6f);
    for (long t = 0; t < iters; t++) {
#pragma GCC unroll 12
        for (int i = 0; i < 12; i++) acc[i] = _mm256_fmadd_ps(acc[i], x, y);
    }
    __m256 s = acc[0];
    for (int i = 1; i < 12; i++) s = _mm256_add_ps(s, acc[i]);
    float v[8];
    _mm256_storeu_ps(v, s);
    for (int i = 0; i < 8; i++) *sink += v[i];
    return (double)iters * 12 * 8 * 2;
}

/* iters x 24 vdpbf16ps zmm: 16 lanes x 2 products x 2 flops = 64 flops each
 * (acc += 1 * 2^-20 + 1 * 2^-20 per lane: grows slowly, never overflows). */
__attribute__((target("avx512f,avx512bf16"), unused)) static double peak_dpbf16(long iters, float *sink) {
    __m512 acc[PEAK_CHAINS];
    for (int i = 0; i < PEAK_CHAINS; i++) acc[i] = _mm512_set1_ps(1.0f + 0.01f * i);
    const __m512bh a = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1.0f), _mm512_set1_ps(1.0f));
    const __m512bh b = _mm512_cvtne2ps_pbh(_mm512_set1_ps(0x1p-20f), _mm512_set1_ps(0x1p-20f));
    for (long t = 0; t < iters; t++) {
#pragma GCC unroll 24
        for (int i = 0; i < PEAK_CHAINS; i++) acc[i] = _mm512_dpbf16_ps(acc[i], a, b);
    }
    __m512 s = acc[0];
    for (int i = 1; i < PEAK_CHAINS; i++) s = _mm512_add_ps(s, acc[i]);
    *sink += _mm512_reduce_add_ps(s);
    return (double)iters * PEAK_CHAINS * 64;
}

typedef double (*peak_loop)(long iters, float *sink);

/* GFLOP/s of `loop` on `threads` threads at once (each running it): the best of
 * `reps` runs of about `secs` seconds each. On a machine shared with other jobs,
 * many short runs find moments when the cores are not shared, so the best one
 * measures the hardware rather than the load. */
static volatile float peak_sink;
static double peak_rate(peak_loop loop, int threads, int reps, double secs) {
    float sink = 0;
    long iters = 100;
    double t = 0;
    while (t < secs) { /* calibrate: iterations taking at least secs */
        iters *= 2;
        const double t0 = now_seconds();
        loop(iters, &sink);
        t = now_seconds() - t0;
    }
    double best = 0;
    for (int r = 0; r < reps; r++) {
        double flops = 0;
        const double t0 = now_seconds();
#pragma omp parallel num_threads(threads) reduction(+ : flops)
        {
            float s = 0;
            flops += loop(iters, &s);
            peak_sink = s; /* uses the result */
        }
        const double rate = flops / (now_seconds() - t0) * 1e-9;
        if (rate > best) best = rate;
    }
    peak_sink = sink;
    return best;
}

#endif
