/* fuzz_idx.c: libFuzzer target for the IDX parser. The first byte picks the image
 * or the label parser; the rest is the file contents. */
#include <stdlib.h>

#include "data/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    lir_error err;
    if (data[0] & 1) {
        dataset d = {0};
        if (idx_parse_images(data + 1, size - 1, "fuzz", &d, &err) == 0) {
            volatile unsigned sum = 0;
            size_t n = (size_t)d.n * d.h * d.w;
            for (size_t i = 0; i < n; i++) sum += d.images[i];
        }
        free(d.images);
    } else {
        int *labels = NULL;
        if (idx_parse_labels(data + 1, size - 1, "fuzz", -1, 10, &labels, &err) == 0 && !labels)
            abort();
        free(labels);
    }
    return 0;
}
