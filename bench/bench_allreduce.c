/* bench_allreduce.c: the gradient allreduce of data-parallel training alone (not a
 * test): dist_sum_float (one MPI_Allreduce, sum, in place) on float arrays from 4 KiB to
 * 64 MiB, each size repeated, on the processes mpirun starts. Prints per size the
 * median time and the algorithm bandwidth 4 n / t and the bus bandwidth 2 (K-1)/K *
 * 4 n / t (what each process sends and receives in a ring allreduce: comparable across
 * K). Built by `make MPI=1 bench` (the default build has one process: nothing to time):
 *   mpirun --oversubscribe --allow-run-as-root -np 2 build-mpi/bench/bench_allreduce [reps]
 */
#include <stdio.h>
#include <stdlib.h>

#include "base/base.h"
#include "train/train.h"

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    int reps = argc > 1 ? atoi(argv[1]) : 7;
    lir_error err;
    if (dist_start(&err)) {
        fprintf(stderr, "bench_allreduce: %s\n", err.msg);
        return 1;
    }
    int k = dist_size();
    if (k == 1) {
        printf("bench_allreduce: one process (%s): nothing to time; run it under mpirun\n",
               dist_kind());
        dist_stop(0);
        return 0;
    }
    if (reps < 1) reps = 1;
    size_t max_n = (size_t)16 << 20; /* 64 MiB of floats */
    float *buf = xmalloc(max_n * sizeof(float));
    double *t = xmalloc((size_t)reps * sizeof(double));
    for (size_t i = 0; i < max_n; i++) buf[i] = 1e-6f;
    if (dist_rank() == 0)
        printf("%d processes\n%12s %12s %12s %12s\n", k, "bytes", "median ms", "algo GB/s",
               "bus GB/s");
    for (size_t n = 1024; n <= max_n; n *= 4) {
        dist_sum_float(buf, n); /* warm-up */
        for (int r = 0; r < reps; r++) {
            double t0 = dist_sum_seconds();
            dist_sum_float(buf, n);
            t[r] = dist_sum_seconds() - t0;
        }
        qsort(t, (size_t)reps, sizeof *t, cmp_double);
        double med = t[reps / 2], bytes = 4.0 * (double)n;
        if (dist_rank() == 0)
            printf("%12.0f %12.3f %12.3f %12.3f\n", bytes, 1e3 * med, bytes / med / 1e9,
                   2.0 * (k - 1) / k * bytes / med / 1e9);
    }
    free(buf);
    free(t);
    dist_stop(0);
    return 0;
}
