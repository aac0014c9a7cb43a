/* peak.c: this machine's peak fp32 FMA and bf16 dot-product rates, on one core and
 * on all cores at once (OpenMP), in GFLOP/s (not a test). Build and run from the
 * repository root: `make bench-peak` (or build/bench/peak [runs]). Every figure
 * is the best of `runs` (default 200) runs of about 2 ms: on a machine shared with
 * other jobs that finds moments when the cores run only this; the load average
 * printed says how busy the machine was. */
#include <stdio.h>
#include <stdlib.h>

#include "peak.h"

static void row(const char *what, peak_loop loop, int cores, int runs) {
    const double one = peak_rate(loop, 1, runs, 2e-3), all = peak_rate(loop, cores, runs, 2e-3);
    printf("%-34s %12.1f %14.1f %10.2f\n", what, one, all, all / one);
}

int main(int argc, char **argv) {
    const int runs = argc > 1 ? atoi(argv[1]) : 200;
    const int cores = omp_get_num_procs(), level = kernels_cpu_level();
    FILE *f = fopen("/proc/loadavg", "r");
    char load[64] = "?";
    if (f) {
        if (!fgets(load, sizeof load, f)) load[0] = 0;
        fclose(f);
    }
    printf("# peak: %d cores, cpu level %s, load average %s", cores, kernels_level_name(level),
           load);
    printf("%-34s %12s %14s %10s\n", "instruction (GFLOP/s)", "one core", "all cores",
           "all/one");
    if (level >= KERN_AVX2) row("fp32 FMA ymm (vfmadd231ps, AVX2)", peak_fma256, cores, runs);
    if (level >= KERN_AVX512) row("fp32 FMA zmm (vfmadd231ps)", peak_fma512, cores, runs);
    if (level >= KERN_AVX512BF16) row("bf16 dot zmm (vdpbf16ps)", peak_dpbf16, cores, runs);
    if (level < KERN_AVX512BF16)
        printf("(this CPU runs no %s: rows above only)\n",
               level < KERN_AVX512 ? "AVX-512" : "AVX512-BF16");
    return 0;
}
