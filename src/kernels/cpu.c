/* cpu.c: which kernels run: the instruction-set level of this CPU (cpuid and the
 * OS's register-state support, through __builtin_cpu_supports), capped by the
 * environment variable LIR_KERNELS, both read once; and the description of the
 * kernels that `lir info --cpu` prints (with LIR_CONV's choice, conv_algo.c); the
 * names of the GEMM precisions. */
#include "kernels.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static const char *const level_names[] = {"generic", "avx2", "avx512", "avx512bf16"};
enum { N_LEVELS = sizeof level_names / sizeof level_names[0] };

static pthread_once_t levels_once = PTHREAD_ONCE_INIT;
static int cpu_level;
static int env_level = -1; /* -1: LIR_KERNELS unset */
static int env_bad;        /* LIR_KERNELS set to something else than a level name */

static int detect_cpu(void) {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return KERN_GENERIC;
    if (!__builtin_cpu_supports("avx512f")) return KERN_AVX2;
    /* the bf16 packing also permutes 16-bit words (AVX512BW), some of it in ymm (VL) */
    if (!__builtin_cpu_supports("avx512bf16") || !__builtin_cpu_supports("avx512bw") ||
        !__builtin_cpu_supports("avx512vl"))
        return KERN_AVX512;
    return KERN_AVX512BF16;
}

static void levels_init(void) {
    cpu_level = detect_cpu();
    const char *v = getenv("LIR_KERNELS");
    if (!v || !*v) return; /* empty: as unset */
    env_level = KERN_GENERIC;
    env_bad = 1;
    for (int i = 0; i < N_LEVELS; i++)
        if (!strcmp(v, level_names[i])) env_level = i, env_bad = 0;
}

int kernels_cpu_level(void) {
    pthread_once(&levels_once, levels_init);
    return cpu_level;
}

int kernels_level(void) {
    pthread_once(&levels_once, levels_init);
    return env_level >= 0 && env_level < cpu_level ? env_level : cpu_level;
}

const char *kernels_level_name(int level) {
    return level >= 0 && level < N_LEVELS ? level_names[level] : "?";
}

int kernels_check_env(lir_error *err) {
    pthread_once(&levels_once, levels_init);
    if (!env_bad) return conv_check_env(err);
    return lir_fail(err, "LIR_KERNELS=%s: expected generic, avx2, avx512 or avx512bf16",
                    getenv("LIR_KERNELS"));
}

int precision_parse(const char *s) {
    if (!strcmp(s, "fp32")) return PREC_FP32;
    if (!strcmp(s, "bf16")) return PREC_BF16;
    return -1;
}

const char *precision_name(int prec) { return prec == PREC_BF16 ? "bf16" : "fp32"; }

void kernels_print(FILE *f) {
    const int cpu = kernels_cpu_level(), level = kernels_level();
    const char *env = getenv("LIR_KERNELS");
    fprintf(f, "cpu level:      %s\n", kernels_level_name(cpu));
    fprintf(f, "LIR_KERNELS:    %s\n", env ? env : "(unset)");
    fprintf(f, "kernels level:  %s%s\n", kernels_level_name(level),
            env && !env_bad && env_level > cpu ? " (LIR_KERNELS asks more than this CPU runs)"
                                               : "");
    fprintf(f, "fp32 GEMM:      %s\n",
            level >= KERN_AVX512 ? "lir AVX-512 8x32 (k >= 16), OpenBLAS below"
                                 : "OpenBLAS");
    fprintf(f, "bf16 GEMM:      %s\n",
            level >= KERN_AVX512BF16
                ? "lir AVX512-BF16 8x32 (vdpbf16ps, fp32 accumulation)"
                : "emulated: inputs rounded to bf16, then the fp32 GEMM");
    fprintf(f, "conv forward:   %s\n",
            level >= KERN_AVX512 ? "implicit GEMM (AVX-512 masked loads / gathers into panels)"
                                 : "im2col + GEMM");
    fprintf(f, "passes:         %s\n",
            level >= KERN_AVX512 ? "AVX-512 (batch norm, activations, energies, Winograd transforms)"
            : level >= KERN_AVX2 ? "AVX2 (batch norm, activations, energies, Winograd transforms)"
                                 : "the build's baseline (x86-64-v2)");
    fprintf(f, "OpenBLAS core:  %s (its own choice; OPENBLAS_CORETYPE overrides it)\n",
            gemm_blas_core());
    const char *conv = getenv("LIR_CONV");
    fprintf(f, "LIR_CONV:       %s\n", conv ? conv : "(unset: auto)");
    fprintf(f, "conv 3x3 /1:    %s (direct: as conv forward; winograd: Winograd F(4x4) on maps "
            "of 8 and more, F(2x2) below and in bf16; auto, the default: by layer shape, "
            "direction and precision)\n",
            conv_mode_name(conv_mode()));
}
