/* fuzz_weights.c: libFuzzer target for the Darknet .weights reader: the input is
 * the file, loaded into the tiny network of fuzz_common.h (header versions, exact
 * size against the cfg, non-finite values refused). */
#include "fuzz_common.h"

#include <math.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static net *n;
    if (!n) n = fuzz_tiny_net(0);
    lir_error err;
    if (net_load_weights(n, fuzz_file(data, size), &err) == 0) {
        const layer *l = &n->layers[0];
        for (int i = 0; i < l->u.conv.n; i++)
            if (!isfinite(l->u.conv.biases[i])) abort(); /* accepted means finite */
    }
    return 0;
}
