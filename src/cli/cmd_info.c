/* cmd_info.c: `lir info <cfg>`: builds the network for inference and prints its
 * layer table (shapes, parameters, FLOPs) and hook points (net_print_info). */
#include "cli.h"
#include "nn/nn.h"

int cmd_info(int argc, char **argv) {
    int classes, batch, seed;
    const arg_spec specs[] = {
        {"classes", ARG_INT, &classes, "0", "outputs of the last [connected] layer (0: the cfg's)",
         NULL},
        {"batch", ARG_INT, &batch, "1", "batch size the buffers are built for", NULL},
        {"seed", ARG_INT, &seed, "1", "weight initialisation seed", NULL},
    };
    const arg_cmd cmd = {"info", "<cfg>",
                         "build a network (inference) and print its layers and hook points", 1,
                         1, specs, sizeof specs / sizeof specs[0]};
    char *pos[argc > 0 ? argc : 1];
    int npos;
    int rc = args_parse(&cmd, argc, argv, pos, &npos);
    if (rc != ARGS_RUN) return rc;
    lir_error err;
    if (classes < 0 || batch < 1) {
        lir_fail(&err, "--classes must be >= 0 and --batch >= 1");
        return cli_error("info", &err);
    }
    net_options opt = {.batch = batch, .classes = classes, .train = 0, .seed = (uint64_t)seed};
    net *n = net_load_cfg(pos[0], &opt, &err);
    if (!n) return cli_error("info", &err);
    net_print_info(n, stdout);
    net_free(n);
    return 0;
}
