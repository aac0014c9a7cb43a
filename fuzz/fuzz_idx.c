/* fuzz_idx.c: libFuzzer target for the IDX parser and the limited file reader in
 * front of it. The first byte picks images or labels (bit 0) and memory or the
 * file path (bit 1: the rest is a file, gzip or plain, read by
 * data_read_file_limited with the IDX size rule, as MNIST loads); the rest is the
 * file contents. */
#include <stdlib.h>

#include "data/data.h"
#include "fuzz_common.h"

static void parse(const uint8_t *buf, size_t len, int images) {
    lir_error err;
    if (images) {
        dataset d = {0};
        if (idx_parse_images(buf, len, "fuzz", &d, &err) == 0) {
            volatile unsigned sum = 0;
            size_t n = (size_t)d.n * d.h * d.w;
            for (size_t i = 0; i < n; i++) sum += d.images[i];
        }
        free(d.images);
    } else {
        int *labels = NULL;
        if (idx_parse_labels(buf, len, "fuzz", -1, 10, &labels, &err) == 0 && !labels) abort();
        free(labels);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    int images = data[0] & 1;
    if (!(data[0] & 2)) {
        parse(data + 1, size - 1, images);
        return 0;
    }
    lir_error err;
    size_t len;
    uint8_t *buf = data_read_file_limited(fuzz_file(data + 1, size - 1),
                                          images ? IDX_HEAD_IMAGES : IDX_HEAD_LABELS,
                                          images ? idx_images_size : idx_labels_size,
                                          (uint64_t)64 << 20, &len, &err);
    if (buf) parse(buf, len, images);
    free(buf);
    return 0;
}
