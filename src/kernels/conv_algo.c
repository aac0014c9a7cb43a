/* conv_algo.c: which convolution a stride-1 pad-1 3x3 layer runs: the direct one
 * (im2col / implicit GEMM) or Winograd (winograd.c, winograd_grad.c), in each
 * direction, from the environment variable
 * LIR_CONV=direct|winograd|auto (unset: auto; read once, overridable by conv_mode_set), and the
 * table of shapes `auto` gives to Winograd, measured with bench/bench_winograd.c
 * (bench/README.md). */
#include "kernels.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static const char *const mode_names[] = {"direct", "winograd", "auto"};
enum { N_MODES = sizeof mode_names / sizeof mode_names[0] };

static pthread_once_t mode_once = PTHREAD_ONCE_INIT;
static int env_mode = CONV_AUTO; /* LIR_CONV unset or empty */
static int env_bad;      /* LIR_CONV set to something else than a mode name */
static int forced = -1;  /* conv_mode_set; -1: none */

static void mode_init(void) {
    const char *v = getenv("LIR_CONV");
    if (!v || !*v) return; /* empty: as unset */
    const int m = conv_mode_parse(v);
    if (m < 0) env_bad = 1;
    else env_mode = m;
}

int conv_mode_parse(const char *s) {
    for (int i = 0; i < N_MODES; i++)
        if (!strcmp(s, mode_names[i])) return i;
    return -1;
}

const char *conv_mode_name(int mode) {
    return mode >= 0 && mode < N_MODES ? mode_names[mode] : "?";
}

int conv_mode(void) {
    pthread_once(&mode_once, mode_init);
    return forced >= 0 ? forced : env_mode;
}

void conv_mode_set(int mode) { forced = mode; }

int conv_check_env(lir_error *err) {
    pthread_once(&mode_once, mode_init);
    if (!env_bad) return 0;
    return lir_fail(err, "LIR_CONV=%s: expected direct, winograd or auto", getenv("LIR_CONV"));
}

/* `auto`: the fastest of direct, F(2x2) and F(4x4) in bench/bench_winograd.c on the
 * stride-1 3x3 layers of the two ResNet-18s (c = k), fp32, one thread, batch 64,
 * the median of three runs (bench/README.md), by map side and channels. Forward
 * and backward-data:
 *   map >= 8          F(4x4) both ways: 1.2-1.5x forward, 1.6-2.2x backward-data
 *                     (64 @ 32x32, 128 @ 16x16, 256 @ 8x8, 64 @ 8x8)
 *   4x4, 256+ ch.     F(2x2) forward (1.44x) and backward-data: 0.9x on the Intel
 *                     Xeon of 2026-12-01, but 1.5x (one thread) and 1.9x (two) on
 *                     the AMD Zen 4 of 2026-12-02
 *   4x4, fewer        direct forward (F(2x2) 0.96x), F(2x2) backward-data (1.45x)
 *   2x2, 1x1          direct (0.6x and 0.1x)
 * Backward-weights (preliminary: measured at load average 4-5, 2026-12-01):
 *   map >= 4          F(4x4): 1.9-2.6x (F(2x2) 1.5-2.1x); but on 4x4 maps of 256+
 *                     channels F(2x2): on the Zen 4, two threads, 2.8x against
 *                     F(4x4)'s 2.2x (one thread 2.0x and 1.6x)
 *   2x2               F(2x2): 1.34x
 *   1x1               direct (F(2x2) 0.3x)
 * Fewer than 16 channels (the stems' 3) stay direct: GEMMs that shallow run on
 * OpenBLAS and were not measured. Maps between the measured sides take the rule of
 * the side below. */
static int auto_tile(int dir, int c, int k, int h, int w) {
    const int side = h < w ? h : w, ch = c < k ? c : k;
    if (ch < 16 || side < 2) return 0;
    if (dir == 2) return side >= 8 || (side >= 4 && ch < 256) ? 4 : 2;
    if (side < 4) return 0;
    if (side >= 8) return 4;
    if (ch >= 256) return 2;
    return dir ? 2 : 0;
}

int conv_winograd_tile(int mode, int dir, int c, int k, int h, int w) {
    if (mode == CONV_WINOGRAD) return h >= 8 && w >= 8 ? 4 : 2;
    return mode == CONV_AUTO ? auto_tile(dir, c, k, h, w) : 0;
}

/* `auto` in bf16: F(4x4) in bf16 errs too much (layer_conv.c), so a layer given F(4x4)
 * would run F(2x2) in bf16. On the AMD Zen 4 of 2026-12-02 (bench/bench_winograd.c, one
 * thread, batch 32, bench/README.md) forward + backward-data + backward-weights took
 * 59 ms in fp32 F(4x4) against 82 ms at best in bf16 on 64 channels at 32x32, 40 against
 * 56 on 128 at 16x16, but 42 against 39 on 256 at 8x8: maps of 16 and more keep F(4x4)
 * in fp32. */
int conv_winograd_fp32_in_bf16(int mode, int h, int w) {
    return mode == CONV_AUTO && h >= 16 && w >= 16;
}
