/* dist_mpi.c: the processes of a data-parallel training run as MPI ranks (`make MPI=1`;
 * see train.h, dist). MPI is started only when an MPI launcher started lir, so the MPI
 * build run on its own is one process, as the default build. Only the main thread
 * calls MPI (MPI_THREAD_FUNNELED). Errors in MPI calls abort the job (MPI's default
 * handler); a process that fails waits a while for the others to end with it (they do
 * when the failure is the same everywhere, say a stop signal) and else aborts the job
 * (dist_stop, dist_abort): it never leaves them waiting in a collective call. */
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "train.h"

static int started, mpi_on, rank, size = 1;
static MPI_Comm stop_comm;
static double sum_seconds;
static bn_sync sync_;

static int launched(void) {
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK");
}

static void bn_sum(void *ctx, double *buf, int n) { dist_sum_double(buf, n); }

int dist_start(lir_error *err) {
    if (started) return 0;
    started = 1;
    if (!launched()) return 0;
    int provided;
    if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return lir_fail(err, "MPI_Init_thread failed");
    mpi_on = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Comm_dup(MPI_COMM_WORLD, &stop_comm);
    sync_ = (bn_sync){bn_sum, NULL, size};
    return 0;
}

int dist_rank(void) { return rank; }
int dist_size(void) { return size; }

/* The end meets in a barrier on a communicator of its own (stop_comm), so that it never
 * pairs with a collective call of the training another process may be waiting in. */
int dist_stop(int failed) {
    if (!mpi_on) return 0;
    MPI_Request req;
    int done = 0;
    MPI_Ibarrier(stop_comm, &req);
    for (double t0 = MPI_Wtime(); !done && (!failed || MPI_Wtime() - t0 < DIST_STOP_WAIT);) {
        MPI_Test(&req, &done, MPI_STATUS_IGNORE);
        if (!done) nanosleep(&(struct timespec){0, 10000000}, NULL);
    }
    if (!done) return -1;
    MPI_Comm_free(&stop_comm);
    MPI_Finalize();
    mpi_on = 0;
    return 0;
}

void dist_abort(void) {
    if (mpi_on) MPI_Abort(MPI_COMM_WORLD, 1);
}

void dist_sum_float(float *buf, size_t n) {
    if (size == 1) return;
    double t0 = MPI_Wtime();
    for (size_t i = 0; i < n; i += INT_MAX / 2) {
        int m = n - i < INT_MAX / 2 ? (int)(n - i) : INT_MAX / 2;
        MPI_Allreduce(MPI_IN_PLACE, buf + i, m, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    }
    sum_seconds += MPI_Wtime() - t0;
}

void dist_sum_double(double *buf, int n) {
    if (size > 1) MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}

void dist_gather_float(const float *mine, int n, float *all) {
    if (size == 1) {
        for (int i = 0; i < n; i++) all[i] = mine[i];
        return;
    }
    MPI_Allgather(mine, n, MPI_FLOAT, all, n, MPI_FLOAT, MPI_COMM_WORLD);
}

int dist_same(uint64_t v) {
    if (size == 1) return 1;
    unsigned long long lo = v, hi = v;
    MPI_Allreduce(MPI_IN_PLACE, &lo, 1, MPI_UNSIGNED_LONG_LONG, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(MPI_IN_PLACE, &hi, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, MPI_COMM_WORLD);
    return lo == hi;
}

double dist_sum_seconds(void) { return sum_seconds; }
const bn_sync *dist_bn_sync(void) { return size > 1 ? &sync_ : NULL; }

const char *dist_kind(void) {
    static char buf[MPI_MAX_LIBRARY_VERSION_STRING + 64];
    char v[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    MPI_Get_library_version(v, &len);
    v[strcspn(v, ",\n")] = 0;
    snprintf(buf, sizeof buf, "MPI (%s): mpirun -np K lir train", v);
    return buf;
}
