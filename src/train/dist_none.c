/* dist_none.c: the processes of a training run in the default build, without MPI: always
 * one (see train.h, dist). Started by an MPI launcher as one of several, it refuses
 * rather than letting every process train the whole run on its own. */
#include <stdlib.h>

#include "train.h"

int dist_start(lir_error *err) {
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"};
    for (int i = 0; i < 2; i++) {
        const char *v = getenv(vars[i]);
        if (v && atoi(v) > 1)
            return lir_fail(err, "started as one of %d MPI processes (%s=%s), but this lir was "
                            "built without MPI; rebuild with make MPI=1",
                            atoi(v), vars[i], v);
    }
    return 0;
}

int dist_rank(void) { return 0; }
int dist_size(void) { return 1; }
int dist_stop(int failed) { return 0; }
void dist_abort(void) {}
void dist_sum_float(float *buf, size_t n) {}
void dist_sum_double(double *buf, int n) {}

void dist_gather_float(const float *mine, int n, float *all) {
    for (int i = 0; i < n; i++) all[i] = mine[i];
}

int dist_same(uint64_t v) { return 1; }
double dist_sum_seconds(void) { return 0; }
const bn_sync *dist_bn_sync(void) { return NULL; }

const char *dist_kind(void) { return "none (built without MPI; make MPI=1 builds it)"; }
