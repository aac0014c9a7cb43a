/* fuzz_fit.c: libFuzzer target for the ID fit `lir eval` writes and `lir predict --fit`
 * reads (fit.json: strict JSON, every member's type, length and range); an accepted fit
 * must score energy vectors with every one of its scores. */
#include <string.h>

#include "fuzz_common.h"
#include "ood/ood.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ood_fit f;
    lir_error err;
    if (ood_fit_load(&f, fuzz_file(data, size), &err) == 0) {
        float *e = calloc((size_t)f.L * 2, sizeof *e), out[2];
        for (int k = 0; k < f.L; k++) e[f.L + k] = (float)k - 1.5f;
        for (int s = 0; s < EVAL_N_FIT; s++)
            if (ood_fit_score(&f, s, e, 2, out, &err)) abort();
        free(e);
        ood_fit_free(&f);
    }
    return 0;
}
