/* fuzz_npy.c: libFuzzer target for the .npy reader (header dict parse, version,
 * length bounds, dtype/order/shape checks, NHWC -> planar). The input is the file. */
#include <stdlib.h>

#include "data/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    dataset d = {0};
    lir_error err;
    npy_info h;
    if (npy_parse_header(data, size, "fuzz", &h, &err) == 0 &&
        (h.data_offset > size || h.ndim < 0 || h.ndim > NPY_MAX_DIMS))
        abort();
    if (npy_parse(data, size, "fuzz", &d, &err) == 0) {
        if (d.n < 0 || (size_t)d.n * 3072 + h.data_offset != size) abort();
        volatile unsigned sum = 0;
        for (size_t i = 0; i < (size_t)d.n * 3072; i++) sum += d.images[i];
    }
    free(d.images);
    free(d.labels);
    return 0;
}
