/* cmd_info.c: `lir info <cfg>`: builds the network for inference and prints its
 * layer table (shapes, parameters, FLOPs) and hook points (net_print_info);
 * `lir info --cpu` prints which kernels this CPU runs (kernels_print) and whether this
 * lir trains over MPI (dist_kind). */
#include "cli.h"
#include "nn/nn.h"
#include "train/train.h"

int cmd_info(int argc, char **argv) {
    int classes, batch, seed, cpu;
    uint64_t max_mem;
    const arg_spec specs[] = {
        {"cpu", ARG_BOOL, &cpu, "0",
         "print the CPU's kernel level, LIR_KERNELS, the kernel of each operation and "
         "whether lir train runs over MPI", NULL,
         NULL},
        {"classes", ARG_INT, &classes, "0", "outputs of the last [connected] layer (0: the cfg's)",
         NULL, NULL},
        {"batch", ARG_INT, &batch, "1", "batch size the buffers are built for", NULL, NULL},
        {"seed", ARG_INT, &seed, "1", "weight initialisation seed", NULL, NULL},
        CLI_MAX_MEMORY_SPEC(&max_mem),
    };
    const arg_cmd cmd = {"info", "[<cfg>]",
                         "build a network (inference) and print its layers and hook points", 0,
                         1, specs, sizeof specs / sizeof specs[0]};
    char *pos[argc > 0 ? argc : 1];
    int npos;
    int rc = args_parse(&cmd, argc, argv, pos, &npos);
    if (rc != ARGS_RUN) return rc;
    if (npos == 0 && !cpu) {
        fprintf(stderr, "lir info: expected a cfg, or --cpu\n");
        args_usage(&cmd, stderr);
        return 2;
    }
    if (cpu) {
        kernels_print(stdout);
        printf("%-16s%s\n", "data-parallel:", dist_kind());
    }
    if (npos == 0) return 0;
    lir_error err;
    if (classes < 0 || batch < 1) {
        lir_fail(&err, "--classes must be >= 0 and --batch >= 1");
        return cli_error("info", &err);
    }
    net_set_max_memory(max_mem);
    net_options opt = {.batch = batch, .classes = classes, .train = 0, .seed = (uint64_t)seed};
    net *n = net_load_cfg(pos[0], &opt, &err);
    if (!n) return cli_error("info", &err);
    net_print_info(n, stdout);
    printf("memory: %.1f MiB of buffers for batch %d (inference; budget %.0f MiB)\n",
           (double)n->memory / (1 << 20), n->batch, (double)net_max_memory() / (1 << 20));
    net_free(n);
    return 0;
}
