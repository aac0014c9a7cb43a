/* sgemm.c: lir's own single-threaded SGEMM in the usual packed design:
 * op(B) is copied block by block (KC x NC) into NR-column panels, op(A) (MC x KC)
 * into MR-row panels, both zero-padded to whole panels, and a register-blocked
 * micro-kernel computes one MR x NR tile of C from one panel of each. The AVX-512
 * and AVX2+FMA kernels are compiled with target attributes, so the build needs no
 * -mavx512f, and chosen at run time. The driver (sgemm_drive) also runs the bf16
 * kernel of sbgemm.c. */
#include <immintrin.h>
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "base/base.h"
#include "kernels.h"
#include "sgemm_impl.h"

/* The same arithmetic as the vector path (fmaf is exact-rounded like an FMA), so an
 * element gets bitwise the same value whether it lies in a full tile or an edge tile. */
void sgemm_edge_update(const float *tile, int ts, float *c, int ldc, int mr, int nr, float alpha,
                       float beta, int first) {
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++) {
            float *cp = c + (size_t)i * ldc + j;
            const float t = tile[i * ts + j];
            if (!first)
                *cp = fmaf(alpha, t, *cp);
            else if (beta == 0.0f)
                *cp = alpha * t;
            else
                *cp = fmaf(beta, *cp, alpha * t);
        }
}

/* AVX-512: 8 x 32 tile, 16 zmm accumulators; per k 2 loads of B, 8 broadcasts of A.
 * pa: [kc][8], pb: [kc][32], 64-byte aligned. */
__attribute__((target("avx512f"))) static void kernel_avx512(int kc, const void *pav,
                                                             const void *pbv, float *c, int ldc,
                                                             int mr, int nr, float alpha,
                                                             float beta, int first) {
    const float *pa = pav, *pb = pbv;
    __m512 acc[TILE_MR][TILE_NV];
    for (int i = 0; i < TILE_MR; i++)
        for (int v = 0; v < TILE_NV; v++) acc[i][v] = _mm512_setzero_ps();
    for (int p = 0; p < kc; p++) {
        __m512 bv[TILE_NV];
        for (int v = 0; v < TILE_NV; v++) bv[v] = _mm512_load_ps(pb + p * TILE_NR + 16 * v);
#pragma GCC unroll 8
        for (int i = 0; i < TILE_MR; i++) {
            const __m512 av = _mm512_set1_ps(pa[p * TILE_MR + i]);
            for (int v = 0; v < TILE_NV; v++) acc[i][v] = _mm512_fmadd_ps(av, bv[v], acc[i][v]);
        }
    }
    tile_update_avx512(acc, c, ldc, mr, nr, alpha, beta, first);
}

/* AVX2+FMA: 6 x 16 tile, 12 ymm accumulators; per k 2 loads of B, 6 broadcasts.
 * pa: [kc][6], pb: [kc][16], 32-byte aligned. */
#define K2_MR 6
#define K2_NV 2
#define K2_NR (8 * K2_NV)
__attribute__((target("avx2,fma"))) static void kernel_avx2(int kc, const void *pav,
                                                            const void *pbv, float *c, int ldc,
                                                            int mr, int nr, float alpha,
                                                            float beta, int first) {
    const float *pa = pav, *pb = pbv;
    __m256 acc[K2_MR][K2_NV];
    for (int i = 0; i < K2_MR; i++)
        for (int v = 0; v < K2_NV; v++) acc[i][v] = _mm256_setzero_ps();
    for (int p = 0; p < kc; p++) {
        __m256 bv[K2_NV];
        for (int v = 0; v < K2_NV; v++) bv[v] = _mm256_load_ps(pb + p * K2_NR + 8 * v);
#pragma GCC unroll 8
        for (int i = 0; i < K2_MR; i++) {
            const __m256 av = _mm256_set1_ps(pa[p * K2_MR + i]);
            for (int v = 0; v < K2_NV; v++) acc[i][v] = _mm256_fmadd_ps(av, bv[v], acc[i][v]);
        }
    }
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    if (mr == K2_MR && nr == K2_NR) {
        for (int i = 0; i < K2_MR; i++)
            for (int v = 0; v < K2_NV; v++) {
                float *cp = c + (size_t)i * ldc + 8 * v;
                __m256 r;
                if (!first)
                    r = _mm256_fmadd_ps(va, acc[i][v], _mm256_loadu_ps(cp));
                else if (beta == 0.0f)
                    r = _mm256_mul_ps(va, acc[i][v]);
                else
                    r = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cp), _mm256_mul_ps(va, acc[i][v]));
                _mm256_storeu_ps(cp, r);
            }
        return;
    }
    float tile[K2_MR * K2_NR];
    for (int i = 0; i < K2_MR; i++)
        for (int v = 0; v < K2_NV; v++) _mm256_storeu_ps(tile + i * K2_NR + 8 * v, acc[i][v]);
    sgemm_edge_update(tile, K2_NR, c, ldc, mr, nr, alpha, beta, first);
}

/* 16 rows s[j*ldb + p] (j < 16, p < kc) -> d[p*NR + j], 16 x 16 blocks transposed
 * in registers (the transposed B of the weight gradient; element by element it
 * cost as much as the multiply). Lane = 128 bits; after the unpacks and
 * shuffle_ps, u[4g + q] lane l holds rows 4g..4g+3 at column 4l + q; the two
 * shuffle_f32x4 steps then transpose those 4 x 4 lane blocks. */
__attribute__((target("avx512f"))) void sgemm_transpose16(const float *s, int ldb, int kc, int NR,
                                                          float *d) {
    int p = 0;
    for (; p + 16 <= kc; p += 16) {
        __m512 r[16], t[16], u[16];
        for (int j = 0; j < 16; j++) r[j] = _mm512_loadu_ps(s + (size_t)j * ldb + p);
        for (int j = 0; j < 16; j += 2) {
            t[j] = _mm512_unpacklo_ps(r[j], r[j + 1]);
            t[j + 1] = _mm512_unpackhi_ps(r[j], r[j + 1]);
        }
        for (int g = 0; g < 16; g += 4) {
            u[g] = _mm512_shuffle_ps(t[g], t[g + 2], 0x44);
            u[g + 1] = _mm512_shuffle_ps(t[g], t[g + 2], 0xEE);
            u[g + 2] = _mm512_shuffle_ps(t[g + 1], t[g + 3], 0x44);
            u[g + 3] = _mm512_shuffle_ps(t[g + 1], t[g + 3], 0xEE);
        }
        for (int q = 0; q < 4; q++) {
            const __m512 v0 = _mm512_shuffle_f32x4(u[q], u[4 + q], 0x44);
            const __m512 v1 = _mm512_shuffle_f32x4(u[q], u[4 + q], 0xEE);
            const __m512 v2 = _mm512_shuffle_f32x4(u[8 + q], u[12 + q], 0x44);
            const __m512 v3 = _mm512_shuffle_f32x4(u[8 + q], u[12 + q], 0xEE);
            _mm512_storeu_ps(d + (size_t)(p + q) * NR, _mm512_shuffle_f32x4(v0, v2, 0x88));
            _mm512_storeu_ps(d + (size_t)(p + 4 + q) * NR, _mm512_shuffle_f32x4(v0, v2, 0xDD));
            _mm512_storeu_ps(d + (size_t)(p + 8 + q) * NR, _mm512_shuffle_f32x4(v1, v3, 0x88));
            _mm512_storeu_ps(d + (size_t)(p + 12 + q) * NR, _mm512_shuffle_f32x4(v1, v3, 0xDD));
        }
    }
    for (; p < kc; p++)
        for (int j = 0; j < 16; j++) d[(size_t)p * NR + j] = s[(size_t)j * ldb + p];
}

/* op(B)[p0 + p][j0 + j] for p < kc, j < nc -> NR-column panels dst[jr/NR][kc][NR],
 * zero past column nc. isa: the kernel's (KERN_AVX512 transposes in registers). */
static void pack_b(int isa, int trans_b, const float *b, int ldb, int p0, int j0, int kc, int nc,
                   int NR, float *dst) {
    const int wide = isa >= KERN_AVX512 && NR % 16 == 0;
    if (!trans_b) {
        /* row by row, each read sequentially across all panels (prefetch-friendly) */
        for (int p = 0; p < kc; p++) {
            const float *s = b + (size_t)(p0 + p) * ldb + j0;
            for (int jr = 0; jr < nc; jr += NR) {
                const int w = nc - jr < NR ? nc - jr : NR;
                float *d = dst + (size_t)jr * kc + (size_t)p * NR;
                for (int j = 0; j < w; j++) d[j] = s[jr + j];
                for (int j = w; j < NR; j++) d[j] = 0.0f;
            }
        }
        return;
    }
    for (int jr = 0; jr < nc; jr += NR, dst += (size_t)kc * NR) {
        const int w = nc - jr < NR ? nc - jr : NR;
        int j = 0;
        if (wide)
            for (; j + 16 <= w; j += 16)
                sgemm_transpose16(b + (size_t)(j0 + jr + j) * ldb + p0, ldb, kc, NR, dst + j);
        for (; j < w; j++) {
            const float *s = b + (size_t)(j0 + jr + j) * ldb + p0;
            for (int p = 0; p < kc; p++) dst[(size_t)p * NR + j] = s[p];
        }
        for (int p = 0; p < kc; p++)
            for (int z = w; z < NR; z++) dst[(size_t)p * NR + z] = 0.0f;
    }
}

/* 8 rows s[i*lda + p] (i < 8, p < kc) -> d[p*8 + i] (an A panel of the AVX-512
 * kernel), 8 x 8 blocks transposed in registers as in sgemm_transpose16, lanes of 128
 * bits: u[4g + q] lane l holds rows 4g..4g+3 at column 4l + q. */
__attribute__((target("avx2"))) static void pack_at8(const float *s, int lda, int kc, float *d) {
    int p = 0;
    for (; p + 8 <= kc; p += 8) {
        __m256 r[8], t[8], u[8];
        for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(s + (size_t)i * lda + p);
        for (int i = 0; i < 8; i += 2) {
            t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
            t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
        }
        for (int g = 0; g < 8; g += 4) {
            u[g] = _mm256_shuffle_ps(t[g], t[g + 2], 0x44);
            u[g + 1] = _mm256_shuffle_ps(t[g], t[g + 2], 0xEE);
            u[g + 2] = _mm256_shuffle_ps(t[g + 1], t[g + 3], 0x44);
            u[g + 3] = _mm256_shuffle_ps(t[g + 1], t[g + 3], 0xEE);
        }
        for (int q = 0; q < 4; q++) {
            _mm256_storeu_ps(d + (size_t)(p + q) * 8, _mm256_permute2f128_ps(u[q], u[4 + q], 0x20));
            _mm256_storeu_ps(d + (size_t)(p + 4 + q) * 8,
                             _mm256_permute2f128_ps(u[q], u[4 + q], 0x31));
        }
    }
    for (; p < kc; p++)
        for (int i = 0; i < 8; i++) d[(size_t)p * 8 + i] = s[(size_t)i * lda + p];
}

/* op(A)[i0 + i][p0 + p] for i < mc, p < kc -> MR-row panels dst[ir/MR][kc][MR],
 * zero past row mc. isa: the kernel's (KERN_AVX512 transposes in registers). */
static void pack_a(int isa, int trans_a, const float *a, int lda, int i0, int p0, int mc, int kc,
                   int MR, float *dst) {
    const int wide = isa >= KERN_AVX512;
    for (int ir = 0; ir < mc; ir += MR, dst += (size_t)kc * MR) {
        const int h = mc - ir < MR ? mc - ir : MR;
        if (trans_a) {
            for (int p = 0; p < kc; p++) {
                const float *s = a + (size_t)(p0 + p) * lda + i0 + ir;
                float *d = dst + (size_t)p * MR;
                for (int i = 0; i < h; i++) d[i] = s[i];
                for (int i = h; i < MR; i++) d[i] = 0.0f;
            }
        } else if (MR == 8 && h == 8 && wide) {
            pack_at8(a + (size_t)(i0 + ir) * lda + p0, lda, kc, dst);
        } else {
            for (int i = 0; i < h; i++) {
                const float *s = a + (size_t)(i0 + ir + i) * lda + p0;
                for (int p = 0; p < kc; p++) dst[(size_t)p * MR + i] = s[p];
            }
            for (int p = 0; p < kc; p++)
                for (int i = h; i < MR; i++) dst[(size_t)p * MR + i] = 0.0f;
        }
    }
}

static int min_int(int x, int y) { return x < y ? x : y; }

static void pack_a_avx512(int trans_a, const float *a, int lda, int i0, int p0, int mc, int kc,
                          void *dst) {
    pack_a(KERN_AVX512, trans_a, a, lda, i0, p0, mc, kc, TILE_MR, dst);
}

static void pack_a_avx2(int trans_a, const float *a, int lda, int i0, int p0, int mc, int kc,
                        void *dst) {
    pack_a(KERN_AVX2, trans_a, a, lda, i0, p0, mc, kc, K2_MR, dst);
}

/* A KC x NR panel of B (32 KiB for AVX-512) stays in the 48 KiB L1 while the MC x KC
 * block of A (128 KiB) streams from L2. */
static const sgemm_params params_avx512 = {TILE_MR, TILE_NR, 256, 128, 2048, 1, 4,
                                           kernel_avx512, pack_a_avx512, NULL};
static const sgemm_params params_avx2 = {K2_MR, K2_NR, 256, 120, 2048, 1, 4,
                                         kernel_avx2, pack_a_avx2, NULL};

/* Blocking beyond the kernel's: op(A) is packed whole when it takes at most
 * A_WHOLE_BYTES, and then B goes in blocks of B_BLOCK_BYTES: both stay in the
 * 1 MiB L2 together. */
#define A_WHOLE_BYTES (256 * 1024)
#define B_BLOCK_BYTES (256 * 1024)

/* Depth d rounded up to whole packed rows of the kernel. */
static int depth_pad(const sgemm_params *kp, int d) {
    return (d + kp->kstep - 1) / kp->kstep * kp->kstep;
}

/* The packed blocks (B, A and an fp32 block of scratch) live in one buffer per
 * thread, grown to the largest request and kept while the thread lives (freed by
 * a key destructor when it exits), so a GEMM allocates nothing once its thread has
 * run one as large: a training or inference step allocates nothing after the
 * first. */
static _Thread_local struct {
    char *raw;
    size_t bytes;
} panels;
static pthread_key_t panels_key;
static pthread_once_t panels_once = PTHREAD_ONCE_INIT;

static void panels_release(void *p) {
    (void)p;
    free(panels.raw);
    panels.raw = NULL;
    panels.bytes = 0;
}

static void panels_key_make(void) { pthread_key_create(&panels_key, panels_release); }

/* This thread's buffer cut into *bp, *ap and *scratch, each 64-byte aligned. */
static void panels_get(size_t b_bytes, size_t a_bytes, size_t s_bytes, void **bp, void **ap,
                       float **scratch) {
    const size_t b = (b_bytes + 63) / 64 * 64, a = (a_bytes + 63) / 64 * 64;
    const size_t need = b + a + s_bytes + 64;
    if (need > panels.bytes) {
        pthread_once(&panels_once, panels_key_make);
        free(panels.raw);
        panels.raw = xmalloc(need);
        panels.bytes = need;
        pthread_setspecific(panels_key, &panels);
    }
    char *base = panels.raw + (64 - (uintptr_t)panels.raw % 64) % 64;
    *bp = base;
    *ap = base + b;
    *scratch = (float *)(base + b + a);
}

/* Block [pc, pc + kc) x [jc, jc + nc) of op(B) -> the kernel's panels at bp. A
 * kernel with its own panel layout gets each panel through one fp32 panel: of
 * scratch, which stays in L1 between the two steps, or (pb not NULL) of B given
 * whole as fp32 panels of depth kc (sgemm_drive). */
static void pack_block_b(const sgemm_params *kp, sgemm_pack_fn pack, const void *ctx,
                         const float *pb, int pc, int jc, int kc, int nc, float *scratch,
                         void *bp) {
    if (!kp->convert_b) {
        pack(ctx, pc, jc, kc, nc, kp->nr, bp);
        return;
    }
    const size_t panel = (size_t)depth_pad(kp, kc) * kp->nr * kp->esize;
    for (int jr = 0; jr < nc; jr += kp->nr) {
        const float *src = pb ? pb + (size_t)(jc + jr) * kc : scratch;
        if (!pb) pack(ctx, pc, jc + jr, kc, min_int(kp->nr, nc - jr), kp->nr, scratch);
        kp->convert_b(src, kc, kp->nr, (char *)bp + (size_t)(jr / kp->nr) * panel);
    }
}

/* How sgemm_drive cuts a call. Depth blocks: k split into equal blocks of at most
 * kp->kc (rounded up to whole packed rows), a function of k alone, so every
 * element sums in the same order whatever m and n are. A small op(A) (the weights
 * of a layer with few filters) is packed once for all of B, which then goes in
 * blocks that stay in L2 beside it; otherwise A is packed per MC x KC block for
 * each large NC block of B. */
typedef struct {
    int kc_step, nc_step, a_whole, nc_max, mc_max;
} blocking;

static blocking blocking_for(const sgemm_params *kp, int m, int n, int k) {
    blocking bl;
    const int kblocks = (k + kp->kc - 1) / kp->kc;
    bl.kc_step = depth_pad(kp, (k + kblocks - 1) / kblocks);
    const int MR = kp->mr, NR = kp->nr, m_pad = (m + MR - 1) / MR * MR;
    const size_t row_bytes = (size_t)bl.kc_step * kp->esize; /* one row of a panel */
    bl.a_whole = (size_t)m_pad * row_bytes <= A_WHOLE_BYTES;
    bl.nc_step = kp->nc;
    if (bl.a_whole) {
        bl.nc_step = (int)(B_BLOCK_BYTES / row_bytes) / NR * NR;
        if (bl.nc_step < NR) bl.nc_step = NR;
        if (bl.nc_step > kp->nc) bl.nc_step = kp->nc;
    }
    bl.nc_max = min_int(bl.nc_step, (n + NR - 1) / NR * NR);
    bl.mc_max = bl.a_whole ? m_pad : min_int(kp->mc, m_pad);
    return bl;
}

/* k = 0: C = beta * C (beta 0 never reads C). */
static void scale_c(int m, int n, float beta, float *c, int ldc) {
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            float *cp = c + (size_t)i * ldc + j;
            *cp = beta == 0.0f ? 0.0f : beta * *cp;
        }
}

/* op(A) packed whole (pa): per depth block of blocking_for, all m rows (rounded up to
 * whole panels) as pack_a writes them, the blocks back to back. */
size_t sgemm_packed_a_bytes(const sgemm_params *kp, int m, int k) {
    const blocking bl = blocking_for(kp, m, 1, k);
    const size_t m_pad = (size_t)(m + kp->mr - 1) / kp->mr * kp->mr;
    size_t bytes = 0;
    for (int pc = 0; pc < k; pc += bl.kc_step)
        bytes += m_pad * depth_pad(kp, min_int(bl.kc_step, k - pc)) * kp->esize;
    return bytes;
}

void sgemm_pack_a_whole(const sgemm_params *kp, int trans_a, int m, int k, const float *a,
                        int lda, void *pa) {
    const blocking bl = blocking_for(kp, m, 1, k);
    const size_t m_pad = (size_t)(m + kp->mr - 1) / kp->mr * kp->mr;
    char *dst = pa;
    for (int pc = 0; pc < k; pc += bl.kc_step) {
        const int kc = min_int(bl.kc_step, k - pc);
        kp->pack_a(trans_a, a, lda, 0, pc, m, kc, dst);
        dst += m_pad * depth_pad(kp, kc) * kp->esize;
    }
}

void sgemm_drive(const sgemm_params *kp, int trans_a, int m, int n, int k, float alpha,
                 const float *a, int lda, const void *pa, const void *pb, sgemm_pack_fn pack,
                 const void *ctx, float beta, float *c, int ldc) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        scale_c(m, n, beta, c, ldc);
        return;
    }
    const blocking bl = blocking_for(kp, m, n, k);
    const int MR = kp->mr, NR = kp->nr;
    const size_t row_bytes = (size_t)bl.kc_step * kp->esize;
    const size_t m_pad = (size_t)(m + MR - 1) / MR * MR;
    void *bp, *ap;
    float *scratch;
    panels_get(pb && !kp->convert_b ? 0 : row_bytes * bl.nc_max, pa ? 0 : row_bytes * bl.mc_max,
               kp->convert_b ? (size_t)bl.kc_step * NR * sizeof(float) : 0, &bp, &ap, &scratch);
    const char *pa_block = pa; /* the depth block's packed A (pa given) */
    for (int pc = 0; pc < k; pc += bl.kc_step) {
        const int kc = min_int(bl.kc_step, k - pc);
        const size_t kb = (size_t)depth_pad(kp, kc) * kp->esize; /* bytes per panel row */
        if (pa) ap = (void *)pa_block, pa_block += m_pad * kb;
        else if (bl.a_whole) kp->pack_a(trans_a, a, lda, 0, pc, m, kc, ap);
        for (int jc = 0; jc < n; jc += bl.nc_step) {
            const int nc = min_int(bl.nc_step, n - jc);
            if (pb && !kp->convert_b) bp = (void *)((const char *)pb + (size_t)jc * kb);
            else pack_block_b(kp, pack, ctx, pb, pc, jc, kc, nc, scratch, bp);
            for (int ic = 0; ic < m; ic += kp->mc) {
                const int mc = min_int(kp->mc, m - ic);
                const char *apc = (const char *)ap + ic * kb;
                if (!pa && !bl.a_whole) {
                    kp->pack_a(trans_a, a, lda, ic, pc, mc, kc, ap);
                    apc = ap;
                }
                for (int jr = 0; jr < nc; jr += NR)
                    for (int ir = 0; ir < mc; ir += MR)
                        kp->kernel(kc, apc + ir * kb, (const char *)bp + jr * kb,
                                   c + (size_t)(ic + ir) * ldc + jc + jr, ldc,
                                   min_int(MR, mc - ir), min_int(NR, nc - jr), alpha, beta,
                                   pc == 0);
            }
        }
    }
}

/* op(B) of a plain matrix as an sgemm_pack_fn. */
typedef struct {
    int isa, trans_b, ldb;
    const float *b;
} plain_b;

static void plain_pack_b(const void *ctx, int p0, int j0, int kc, int nc, int nr, float *dst) {
    const plain_b *q = ctx;
    pack_b(q->isa, q->trans_b, q->b, q->ldb, p0, j0, kc, nc, nr, dst);
}

static const sgemm_params *params_for(int isa) {
    return isa >= KERN_AVX512 ? &params_avx512 : &params_avx2;
}

void sgemm_own(int isa, int trans_a, int trans_b, int m, int n, int k, float alpha,
               const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc) {
    const plain_b q = {isa, trans_b, ldb, b};
    sgemm_drive(params_for(isa), trans_a, m, n, k, alpha, a, lda, NULL, NULL, plain_pack_b, &q,
                beta, c, ldc);
}

void sgemm_own_packed(int isa, int trans_a, int m, int n, int k, float alpha, const float *a,
                      int lda, sgemm_pack_fn pack, const void *ctx, float beta, float *c,
                      int ldc) {
    sgemm_drive(params_for(isa), trans_a, m, n, k, alpha, a, lda, NULL, NULL, pack, ctx, beta, c,
                ldc);
}

void sbgemm_own(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                int lda, const float *b, int ldb, float beta, float *c, int ldc) {
    const plain_b q = {KERN_AVX512, trans_b, ldb, b};
    sgemm_drive(&sbgemm_params, trans_a, m, n, k, alpha, a, lda, NULL, NULL, plain_pack_b, &q, beta,
                c, ldc);
}

void sbgemm_own_packed(int trans_a, int m, int n, int k, float alpha, const float *a, int lda,
                       sgemm_pack_fn pack, const void *ctx, float beta, float *c, int ldc) {
    sgemm_drive(&sbgemm_params, trans_a, m, n, k, alpha, a, lda, NULL, NULL, pack, ctx, beta, c,
                ldc);
}

static const sgemm_params *prepack_params(int use_bf16) {
    return use_bf16 ? &sbgemm_params : &params_avx512;
}

size_t sgemm_own_packed_a_bytes(int use_bf16, int m, int k) {
    return sgemm_packed_a_bytes(prepack_params(use_bf16), m, k);
}

void sgemm_own_pack_a(int use_bf16, int trans_a, int m, int k, const float *a, int lda,
                      void *pa) {
    sgemm_pack_a_whole(prepack_params(use_bf16), trans_a, m, k, a, lda, pa);
}

void sgemm_own_prepacked(int use_bf16, int m, int n, int k, const void *pa, const float *b,
                         int ldb, const float *pb, float *c, int ldc) {
    const plain_b q = {KERN_AVX512, 0, ldb, b};
    sgemm_drive(prepack_params(use_bf16), 0, m, n, k, 1.0f, NULL, 0, pa, pb, plain_pack_b, &q,
                0.0f, c, ldc);
}

/* A whole B as fp32 panels serves where k is one depth block. */
int sgemm_own_b_panel(int use_bf16, int k) {
    const sgemm_params *kp = prepack_params(use_bf16);
    return blocking_for(kp, 1, 1, k).kc_step >= k ? kp->nr : 0;
}
