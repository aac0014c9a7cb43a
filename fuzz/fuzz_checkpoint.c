/* fuzz_checkpoint.c: libFuzzer target for the training checkpoint reader: the
 * input is the file, restored into the tiny network of fuzz_common.h with its SGD
 * state (every field validated; a failed load must leave nothing allocated). */
#include "fuzz_common.h"
#include "train/checkpoint.h"

enum { FUZZ_HASH = 0x1234 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static net *n;
    static sgd *o;
    if (!n) {
        n = fuzz_tiny_net(1);
        sgd_config sc = {0.9f, 5e-4f, 0, 1};
        o = sgd_create(n->tensors, n->n_tensors, &sc);
    }
    train_state s;
    lir_error err;
    ckpt_run run = {4, 3, 2, 1}; /* 4 epochs of 3 steps of 2 images, validation */
    checkpoint_parts parts = {FUZZ_HASH, n, NULL, 0, o, &s};
    if (checkpoint_load(fuzz_file(data, size), &parts, &run, &err) == 0)
        free(s.records);
    return 0;
}
