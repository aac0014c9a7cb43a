/* make_seeds.c: writes the seeds that need lir itself to make them: .weights files
 * (current and old header) and a checkpoint of the tiny network of fuzz_common.h,
 * into the directory given (fuzz/seeds). Built and run by `make fuzz-seeds`. */
#include <string.h>

#include "fuzz_common.h"
#include "train/checkpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    (void)data, (void)size;
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    char path[512];
    lir_error err;
    net *n = fuzz_tiny_net(1);
    snprintf(path, sizeof path, "%s/weights/tiny.weights", argv[1]);
    if (net_save_weights(n, path, &err)) return fprintf(stderr, "%s\n", err.msg), 1;
    /* the old header: major 0, minor 1, revision 0, uint32 seen */
    size_t len;
    char *w = file_read_all(path, &len, &err);
    snprintf(path, sizeof path, "%s/weights/tiny_v01.weights", argv[1]);
    FILE *f = fopen(path, "wb");
    int32_t hdr[4] = {0, 1, 0, 5};
    if (!w || !f || fwrite(hdr, 4, 4, f) != 4 || fwrite(w + 20, 1, len - 20, f) != len - 20)
        return 1;
    fclose(f);
    free(w);
    sgd_config sc = {0.9f, 5e-4f, 0, 1};
    sgd *o = sgd_create(n->tensors, n->n_tensors, &sc);
    train_state s;
    memset(&s, 0, sizeof s);
    epoch_record r = {1, 3, 0.1, 1.5, 1.4, 40, {0}, 1.2, 50, 100, 2};
    s.step = 3, s.epoch = 1, s.n_records = 1, s.records = &r;
    o->step = 3; /* the run of fuzz_checkpoint.c: 4 epochs of 3 steps of 2 images */
    snprintf(path, sizeof path, "%s/checkpoint/tiny.ckpt", argv[1]);
    checkpoint_parts parts = {0x1234, n, NULL, 0, o, &s};
    if (checkpoint_save(path, &parts, &err)) return fprintf(stderr, "%s\n", err.msg), 1;
    sgd_free(o);
    net_free(n);
    return 0;
}
