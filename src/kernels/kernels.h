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
 *   avx2        as generic, with the elementwise and Winograd passes compiled for
 *               AVX2 (KERNELS_COPIES; lir's AVX2+FMA SGEMM is there for tests and
 *               bench only: it ran at 0.7-1.0x OpenBLAS)
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

/* One pass compiled three times from its body (an always-inline function called with
 * the same arguments): for the build's baseline, for AVX2 and for AVX-512; the
 * compiler vectorizes each copy for its registers. Floating-point contraction is off
 * (ISO C mode), so the copies do the same operations in the same order: the same
 * bits at every level. KERNELS_COPIES(ret, name, (params), {body}) defines
 * name_base, name_avx2 and name_avx512; KERNELS_PICK(name) is the copy of the
 * kernels level. */
#define KERNELS_COPIES(ret, name, params, ...)                                              \
    static ret name##_base params __VA_ARGS__                                               \
    __attribute__((target("avx2"))) static ret name##_avx2 params __VA_ARGS__               \
    __attribute__((target("avx512f"))) static ret name##_avx512 params __VA_ARGS__
#define KERNELS_PICK(name)                                                                  \
    (kernels_level() >= KERN_AVX512 ? name##_avx512                                         \
     : kernels_level() >= KERN_AVX2 ? name##_avx2                                           \
                                    : name##_base)
/* Asks the cache for the first n floats from p (at most `lines` cache lines; write:
 * for writing), ahead of a pass that will read them. The passes over a channel's
 * planes image by image jump by a whole image between planes, which the hardware
 * prefetcher does not follow: they ask for a later image's planes while working on
 * this one. A hint only: the results do not change. */
__attribute__((always_inline)) static inline void kernels_prefetch(const float *p, size_t n,
                                                                   int lines, int write) {
    if (n == 0) return;
    size_t i = 0;
    for (int k = 0; i < n && k < lines; i += 16, k++) {
        if (write) __builtin_prefetch(p + i, 1, 3);
        else __builtin_prefetch(p + i, 0, 3);
    }
    if (i >= n) {
        if (write) __builtin_prefetch(p + n - 1, 1, 3);
        else __builtin_prefetch(p + n - 1, 0, 3);
    }
}
/* Images ahead the passes ask for (kernels_prefetch), and lines per plane. */
enum { KERNELS_AHEAD = 2, KERNELS_AHEAD_LINES = 16 };

/* -1 with a message when LIR_KERNELS is set to anything but a level name, or
 * LIR_CONV to anything but a convolution mode (conv_check_env). */
int kernels_check_env(lir_error *err);
/* Prints the CPU's level, LIR_KERNELS and the kernel each operation runs, and
 * LIR_CONV's convolution mode. */
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

/* gemm_prec with op(A) packed once for many calls (the same filters against many
 * blocks of B): gemm_pack_a_bytes is 0 where gemm_prec would not run lir's own
 * kernel for this precision and depth k (OpenBLAS, emulated bf16; the caller then
 * calls gemm_prec), else the bytes gemm_pack_a writes for op(A) [m][k].
 * gemm_prepacked: C[m][n] = A * B[k][n] (B not transposed, beta 0), with the same
 * sums as gemm_prec gives, split between the threads like gemm. */
size_t gemm_pack_a_bytes(int prec, int m, int k);
void gemm_pack_a(int prec, int trans_a, int m, int k, const float *a, int lda, void *pa);
void gemm_prepacked(int prec, int m, int n, int k, const void *pa, const float *b, int ldb,
                    float *c, int ldc);
/* gemm_prepacked with B [k][n] given as the fp32 panels its packing would make,
 * [n/nr][k][nr] (64-byte aligned, columns past n in the last panel not read into C),
 * nr = gemm_b_panel(prec, k): 0 where precision prec at depth k does not take B so
 * (OpenBLAS, emulated bf16, or k deeper than one depth block of lir's kernel). The
 * same sums as gemm_prepacked. */
int gemm_b_panel(int prec, int k);
void gemm_prepacked_b(int prec, int m, int n, int k, const void *pa, const float *pb, float *c,
                      int ldc);

/* 1 where gemm_prec in precision prec at depth k runs lir's own kernels: they give
 * an element of C the same bits wherever it lies in C, so a caller may cut its work
 * by the number of threads; 0 where it runs OpenBLAS, whose bits can change with
 * the element's place (a column in the remainder of its kernel's width), so results
 * stay the same for any number of threads only if the caller's GEMM shapes do not
 * depend on it. */
int gemm_place_exact(int prec, int k);

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

/* The AVX-512 fp32 (use_bf16 = 0) or the bf16 kernel with op(A) packed beforehand:
 * the bytes of op(A) [m][k] packed, the packing, and C[m][n] = A B (B [k][n] not
 * transposed, beta 0), B from b, or (pb not NULL) given whole as the fp32 panels its
 * packing would make (the bf16 kernel rounds them into its own), which serves where
 * sgemm_own_b_panel(use_bf16, k), their width, is not 0 (k is one depth block). The
 * same sums as sgemm_own / sbgemm_own. */
size_t sgemm_own_packed_a_bytes(int use_bf16, int m, int k);
void sgemm_own_pack_a(int use_bf16, int trans_a, int m, int k, const float *a, int lda,
                      void *pa);
void sgemm_own_prepacked(int use_bf16, int m, int n, int k, const void *pa, const float *b,
                         int ldb, const float *pb, float *c, int ldc);
int sgemm_own_b_panel(int use_bf16, int k);

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


/* winograd: Winograd convolution F(m x m, 3 x 3) of stride-1 pad-1 3x3 convolutions
 * (winograd.c), its weight gradient (winograd_grad.c), and the choice between it and
 * the direct convolution (conv_algo.c). */

/* A convolution of c input and k output channels on h x w maps (the output has the
 * input's size), in output tiles of m x m (m = 2 or 4), a = m + 2, whose tiles run
 * in blocks of `block` (a multiple of 16). */
typedef struct {
    int m, a, c, k, h, w;
    int tiles_y, tiles_x;
    int block;
} winograd_shape;

/* The most floats of V and M of one block (one thread's scratch) winograd_plan
 * chooses: default 2^22 (16 MiB). Bench changes it. */
extern size_t winograd_block_floats;
/* 1 (default): winograd_conv's windows pass writes V straight into the GEMM's fp32
 * panels of B where the kernel takes them (gemm_b_panel); 0: always through the plain
 * V and the GEMM's packing. The results are the same bits; tests compare the two. */
extern int winograd_b_panels;
/* Fills p. block: tiles per GEMM batch; 0: max(c, k) tiles, or fewer where their V
 * and M would take more than winograd_block_floats. A block's GEMMs read all the
 * filters (a*a*k*c) for a*a*k*c*block multiply-adds, so blocks of ~c tiles keep the
 * filters' share of the memory traffic small (bench/README.md: 512 channels on 4x4
 * maps ran 1.5x faster in blocks of 64 tiles than of 16). Rounded up to a multiple
 * of 16. -1 for an m other than 2 or 4 or a non-positive size. */
int winograd_plan(winograd_shape *p, int m, int c, int k, int h, int w, int block);
/* Floats of the transformed filters U [a*a][k][c]. */
size_t winograd_filter_floats(const winograd_shape *p);
/* Floats of scratch per thread of winograd_conv: V [c][a*a][block], M [k][a*a][block]
 * and 16 to start V on 64 bytes. */
size_t winograd_scratch_floats(const winograd_shape *p);

/* Bytes of the transformed filters packed for the GEMMs in precision prec
 * (gemm_pack_a), 0 where gemm_prec would not run lir's own kernel. */
size_t winograd_packed_bytes(const winograd_shape *p, int prec);

/* u [a*a][k][c] = G g G^T of every filter g: g (ko, ci) = weights[ko][ci][3][3], or
 * with transposed = 1 weights[ci][ko] turned by 180 degrees (weights [c][k][3][3]:
 * the filters of a backward-data pass, whose output channels are the forward's
 * input channels); and, where packed is not NULL and winograd_packed_bytes is not
 * 0, u packed there for the GEMMs in precision prec. */
void winograd_filter(const winograd_shape *p, int prec, const float *weights, int transposed,
                     float *u, void *packed);

/* Maps of a batch, strided: channel ch of image b starts at data + ch*cs + b*bs,
 * rows of w floats back to back (NCHW: cs = h*w, bs = channels*h*w). */
typedef struct {
    float *data;
    size_t cs, bs;
} winograd_io;

/* out (k channels of nb images) = the convolution of in (c channels) with the
 * filters u (winograd_filter), stored or, with accumulate = 1, added to out. The
 * GEMMs run in precision prec: on the filters packed by winograd_filter (packed not
 * NULL, for this prec), else on u (gemm_prec). Blocks of tiles are shared between up to
 * `threads` OpenMP threads (1 inside a parallel region), each with its own scratch:
 * scratch holds threads * winograd_scratch_floats(p) floats. in and out must not
 * overlap. Allocates nothing (at precision bf16 below level avx512bf16 gemm_prec
 * does). */
void winograd_conv(const winograd_shape *p, int prec, const float *u, const void *packed,
                   const winograd_io *in, int nb, const winograd_io *out, int accumulate,
                   int threads, float *scratch);

/* Floats of scratch per thread of winograd_weight_grad: V and M as winograd_conv's,
 * then the thread's dU [a*a][k][c] (winograd_filter_floats). */
size_t winograd_weight_scratch_floats(const winograd_shape *p);
/* The weight gradient of winograd_conv (winograd_grad.c), its exact adjoint up to
 * rounding: for in (c channels of nb images) and dy, the gradient of its output (k
 * channels), dweights [k][c][3][3] += dL/dweights, from dM = A dy A^T per output
 * tile, dU[xi] = sum over the tiles of dM[xi] V[xi]^T (a*a GEMMs per block of tiles
 * in precision prec) and G^T dU G. Blocks of tiles are shared between up to
 * `threads` OpenMP threads (1 inside a parallel region), each summing into its own
 * dU: scratch holds threads * winograd_weight_scratch_floats(p) floats. Allocates
 * nothing (at precision bf16 below level avx512bf16 gemm_prec does). */
void winograd_weight_grad(const winograd_shape *p, int prec, const winograd_io *in,
                          const winograd_io *dy, int nb, float *dweights, int threads,
                          float *scratch);

/* Which convolution stride-1 pad-1 3x3 layers use, from the environment variable
 * LIR_CONV (read once; conv_mode_set overrides it):
 *   direct    im2col / implicit GEMM for every layer (the default)
 *   winograd  Winograd for forward, backward-data and backward-weights of every such
 *             layer
 *   auto      per layer shape and direction, from the table in conv_algo.c (measured,
 *             bench/bench_winograd.c) */
enum { CONV_DIRECT = 0, CONV_WINOGRAD = 1, CONV_AUTO = 2 };
int conv_mode(void);
/* Overrides LIR_CONV for the layers built from now on (tests, bench). */
void conv_mode_set(int mode);
/* "direct" -> CONV_DIRECT, "winograd", "auto"; else -1. */
int conv_mode_parse(const char *s);
const char *conv_mode_name(int mode);
/* -1 with a message when LIR_CONV is set to anything but a mode name. */
int conv_check_env(lir_error *err);
/* The Winograd tile m (2 or 4) a stride-1 pad-1 3x3 convolution of c -> k channels
 * on h x w maps uses in direction dir (0 forward, 1 backward-data, 2 backward-weights)
 * under `mode`, or 0 for the direct convolution. winograd: m = 4 on maps of 8 and more, else 2. */
int conv_winograd_tile(int mode, int dir, int c, int k, int h, int w);
/* 1 when such a layer on h x w maps, running in bf16, should keep F(4x4) in fp32
 * rather than take F(2x2) in bf16 (auto, by measurement), 0 otherwise. */
int conv_winograd_fp32_in_bf16(int mode, int h, int w);

#endif
