/* fuzz_cifar.c: libFuzzer target for the CIFAR binary parser. The first byte picks
 * CIFAR-10 or CIFAR-100; the rest is parsed twice (the second call appends). */
#include <stdlib.h>

#include "data/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    dataset d = {0};
    lir_error err;
    int c100 = data[0] & 1;
    if (cifar_parse(data + 1, size - 1, c100, "fuzz", &d, &err) == 0) {
        if (cifar_parse(data + 1, size - 1, c100, "fuzz", &d, &err) == 0 && d.n % 2) abort();
        for (int i = 0; i < d.n; i++)
            if (d.labels[i] < 0 || d.labels[i] >= d.classes) abort();
    }
    free(d.images);
    free(d.labels);
    free(d.coarse);
    return 0;
}
