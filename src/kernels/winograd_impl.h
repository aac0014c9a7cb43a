/* winograd_impl.h: what the Winograd convolution (winograd.c), its passes over a
 * block of tiles (winograd_pass.c) and its weight gradient (winograd_grad.c) share.
 * Internal to src/kernels. */
#ifndef LIR_WINOGRAD_IMPL_H
#define LIR_WINOGRAD_IMPL_H

#include "kernels.h"

#include <stdint.h>

/* Tiles (or filters) go LANES at a time, one per vector lane (a group). */
enum { LANES = 16, MAX_A = 6 };

/* The fixed-size scratch of a lane group: patches or tiles [a*a][LANES]. */
typedef float lanes_t[MAX_A * MAX_A][LANES];

/* The passes' bodies are inlined with m a constant into a baseline, an AVX2 and an
 * AVX-512 copy (KERNELS_COPIES), chosen by kernels_level(); the windows pass also has
 * an AVX2 and an AVX-512 version of its own (INLINE_AVX2, INLINE_AVX512), the
 * output pass an AVX-512 one. */
#define INLINE __attribute__((always_inline)) static inline
#define INLINE_AVX2 __attribute__((always_inline, target("avx2"))) static inline
#define INLINE_AVX512 __attribute__((always_inline, target("avx512f"))) static inline

/* The passes' level for a call over nb images of in and out: the kernels level
 * (KERN_AVX512BF16 runs the AVX-512 passes), but generic where the AVX2 and AVX-512
 * windows passes' 32-bit pixel offsets from a channel's start would not reach. */
static inline int winograd_isa(int nb, const winograd_io *in, const winograd_io *out) {
    const int level = kernels_level();
    if ((size_t)nb * in->bs >= INT32_MAX || (size_t)nb * out->bs >= INT32_MAX) return KERN_GENERIC;
    return level >= KERN_AVX512 ? KERN_AVX512 : level;
}

/* Where a windows pass stores transform point xi of channel ch of a block's tile j:
 * base[xi*xs + (j/pw)*ps + ch*cs + j%pw]. Plain, [channels][a*a][block]: pw the
 * block (ps unused), cs = a*a*block, xs = block. In the fp32 GEMM kernel's panels
 * of B for point xi, [a*a][block/nr][channels][nr] (gemm_b_panel): pw = cs = nr,
 * ps = channels*nr, xs = channels*block. */
typedef struct {
    float *base;
    size_t xs, ps, cs;
    int pw;
} windows_dst;

/* The transformed windows of tiles t0..t0+nt (numbered over the images of a call:
 * image-major, then tile rows, then columns) of every channel of io, into dst: the
 * input patches B^T d B (c channels), or with grad = 1 the output-gradient tiles
 * A dy A^T (k channels; zero where a tile overhangs the map). The last group's lanes
 * past nt hold zeros; panel columns past it are not written. isa: the passes' level
 * (winograd_isa). */
void winograd_block_windows(const winograd_shape *p, const winograd_io *io, int grad, long t0,
                            int nt, int isa, const windows_dst *dst);

/* dst for V or dM [chans][a*a][block] in the plain layout, or (nr > 0) in the GEMM
 * kernel's panels of width nr. */
static inline windows_dst winograd_windows_dst(const winograd_shape *p, int chans, int nr,
                                               float *v) {
    const size_t aa = (size_t)p->a * p->a;
    if (nr > 0) return (windows_dst){v, (size_t)chans * p->block, (size_t)chans * nr, nr, nr};
    return (windows_dst){v, p->block, 0, aa * p->block, p->block};
}

/* The output tiles t0..t0+nt of every output channel, y = A^T M A from
 * M [k][a*a][block], stored into out or (accumulate) added to it, inside the map only.
 * isa: as winograd_block_windows'. */
void winograd_block_output(const winograd_shape *p, const float *M, long t0, int nt,
                           const winograd_io *out, int accumulate, int isa);

#endif
