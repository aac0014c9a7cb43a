/* fuzz_common.h: what the libFuzzer targets share: the input as a file (for the
 * readers that take a path), the tiny network the .weights and checkpoint targets
 * load into, and the seed writer's access to the same network. */
#ifndef LIR_FUZZ_COMMON_H
#define LIR_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "nn/nn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a file: an in-memory file (memfd) rewritten for every input, named
 * by a /proc/self/fd path that fopen and gzopen open afresh at offset 0. */
static inline const char *fuzz_file(const uint8_t *data, size_t size) {
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("lir_fuzz", 0);
        if (fd < 0) abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) || (size && pwrite(fd, data, size, 0) != (ssize_t)size)) abort();
    return path;
}

/* A conv with batch norm, a maxpool, a conv without, avgpool, connected, softmax:
 * every array kind a .weights file or a checkpoint holds. */
static const char FUZZ_TINY_CFG[] =
    "[net]\nbatch=2\nwidth=8\nheight=8\nchannels=3\n"
    "[convolutional]\nbatch_normalize=1\nfilters=4\nsize=3\npad=1\nactivation=relu\n"
    "[maxpool]\nsize=2\nstride=2\n"
    "[convolutional]\nfilters=4\nsize=1\nactivation=leaky\n"
    "[avgpool]\n[connected]\noutput=3\nactivation=linear\n[softmax]\n";

static inline net *fuzz_tiny_net(int train) {
    lir_error err;
    cfg_file *c = cfg_parse_string(FUZZ_TINY_CFG, "tiny.cfg", &err);
    if (!c) abort();
    net_options o = {2, 0, train, 7};
    net *n = net_build(c, &o, &err);
    cfg_free(c);
    if (!n) abort();
    return n;
}

#endif
