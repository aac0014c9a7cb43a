/* cli.h: lir's commands. Each takes the arguments after "lir" (argv[0] is the
 * command name), parses its flags with args.h and returns the process exit status:
 * 0 success, 1 error (message on stderr with a "lir: " prefix), 2 usage error. */
#ifndef LIR_CLI_H
#define LIR_CLI_H

#include <stdio.h>

#include "util.h"

int cmd_info(int argc, char **argv);    /* cli_info.c */
int cmd_predict(int argc, char **argv); /* cli_predict.c */
int cmd_bench(int argc, char **argv);   /* cli_bench.c */
int cmd_train(int argc, char **argv);   /* cli_train.c (registered when it lands) */
int cmd_eval(int argc, char **argv);    /* cli_eval.c (registered when it lands) */
int cmd_data(int argc, char **argv);    /* cli_data.c (registered when it lands) */

/* Prints "lir: <message>" to stderr and returns exit status 1. */
static inline int cli_error(const lir_error *err) {
    fprintf(stderr, "lir: %s\n", err->msg);
    return 1;
}

#endif
