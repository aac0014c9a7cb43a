/* fuzz_cfg.c: libFuzzer target for the cfg grammar and the network builder (every
 * shape check and the memory budget, kept at 16 MiB so an accepted network stays
 * small), then one inference forward of zeros through whatever was accepted. */
#include <omp.h>
#include <string.h>

#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    omp_set_num_threads(1);
    net_set_max_memory((uint64_t)16 << 20);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    lir_error err;
    cfg_file *c = cfg_parse_string(text, "fuzz.cfg", &err);
    free(text);
    if (!c) return 0;
    net_options o = {1, 0, 0, 1};
    net *n = net_build(c, &o, &err);
    cfg_free(c);
    if (!n) return 0;
    float *x = calloc((size_t)n->c * n->h * n->w, sizeof(float));
    net_hook_all(n);
    net_forward(n, x, 0);
    free(x);
    net_free(n);
    return 0;
}
