/* bench_corrupt_c.c: times generating CIFAR-10-C from the CIFAR-10 test split (not a
 * test): every set "cifar10-c" stands for (14 corruptions x 5 severities), or with
 * "all" also the three extra corruptions, or the sets named (c-fog-3 ...). Build and run
 * from the repository root:
 *   make && cc -O3 -march=native -fopenmp -Isrc bench/bench_corrupt_c.c build/liblir.a \
 *      -lopenblas -lcjson -lpng -ljpeg -lz -lm -o build/bench_corrupt_c && \
 *      build/bench_corrupt_c [all | c-<corruption>-<severity>...]
 * The split is loaded once ($LIR_DATA); each set is a fresh copy corrupted in place by
 * dataset_transform (OpenMP over images). Prints per set the wall and process CPU
 * seconds and images/s, then the totals. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "data/data.h"

static double cpu_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int run_set(const dataset *clean, dataset *d, const char *spec, double *wall, double *cpu) {
    lir_error err;
    memcpy(d->images, clean->images, (size_t)clean->n * 3072);
    double w0 = now_seconds(), c0 = cpu_seconds();
    if (dataset_transform(d, spec, &err) < 0) {
        fprintf(stderr, "%s: %s\n", spec, err.msg);
        return -1;
    }
    *wall = now_seconds() - w0;
    *cpu = cpu_seconds() - c0;
    printf("%-28s %6.3f s wall %6.3f s cpu %8.0f images/s\n", spec, *wall, *cpu, clean->n / *wall);
    return 0;
}

int main(int argc, char **argv) {
    int all = argc > 1 && !strcmp(argv[1], "all");
    lir_error err;
    dataset *clean = dataset_load("cifar10", "test", NULL, &err);
    if (!clean) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    dataset d = *clean;
    d.images = xmalloc((size_t)clean->n * 3072);
    double wall = 0, cpu = 0, w, c;
    int sets = 0, n = corrupt_c_expand("cifar10-c", 0, NULL, 0);
    char name[96];
    for (int i = 1; !all && i < argc; i++, sets++, n = 0) {
        if (run_set(clean, &d, argv[i], &w, &c) < 0) return 1;
        wall += w, cpu += c;
    }
    for (int k = 0; k < n; k++, sets++) {
        corrupt_c_expand("cifar10-c", k, name, sizeof name);
        if (run_set(clean, &d, strchr(name, '@') + 1, &w, &c) < 0) return 1;
        wall += w, cpu += c;
    }
    for (int kind = 0; all && kind < corrupt_c_count(); kind++) {
        snprintf(name, sizeof name, "c-%s-1", corrupt_c_name(kind));
        if (strstr(name, "speckle") || strstr(name, "gaussian_blur") || strstr(name, "saturate"))
            for (int s = 1; s <= 5; s++, sets++) {
                snprintf(name, sizeof name, "c-%s-%d", corrupt_c_name(kind), s);
                if (run_set(clean, &d, name, &w, &c) < 0) return 1;
                wall += w, cpu += c;
            }
    }
    printf("%d sets of %d images: %.2f s wall (%.0f images/s), %.2f s cpu (%.0f images/s per core)\n", sets,
           clean->n, wall, sets * (double)clean->n / wall, cpu, sets * (double)clean->n / cpu);
    free(d.images);
    dataset_free(clean);
    return 0;
}
