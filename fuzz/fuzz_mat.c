/* fuzz_mat.c: libFuzzer target for the SVHN MATLAB v5 reader (plain and
 * zlib-compressed elements, both byte orders). */
#include <stdlib.h>

#include "data/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    dataset d = {0};
    lir_error err;
    if (svhn_parse(data, size, "fuzz", &d, &err) == 0) {
        volatile unsigned sum = 0;
        size_t n = (size_t)d.n * d.c * d.h * d.w;
        for (size_t i = 0; i < n; i++) sum += d.images[i];
        for (int i = 0; i < d.n; i++)
            if (d.labels[i] < 0 || d.labels[i] > 9) abort();
    }
    free(d.images);
    free(d.labels);
    return 0;
}
