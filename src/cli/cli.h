/* cli: the command-line layer: the shared flag parser and one entry point per
 * command. Includes everything below it. */
#ifndef LIR_CLI_H
#define LIR_CLI_H

#include <stdio.h>

#include "base/base.h"

/* args: the flag parser every command shares. A command describes its flags in
 * one table (name, type, destination, default, help); the same table fills the
 * defaults, parses the command line and prints the usage text, so the usage can
 * never disagree with what is parsed.
 *
 * Accepted forms: `--name value`, `--name=value`; a bool flag takes no value
 * (`--name`, or `--name=0|1`). Flags and positional arguments may be mixed; `--`
 * ends the flags. Anything else starting with '-' (except "-" itself) is an error.
 */


typedef enum {
    ARG_INT,    /* dst: int*, decimal */
    ARG_FLOAT,  /* dst: float*, finite */
    ARG_STR,    /* dst: const char** (points into argv or at the default) */
    ARG_BOOL,   /* dst: int*, 0 or 1 */
    ARG_CHOICE  /* dst: const char**, one of `choices` ("a|b|c") */
} arg_type;

typedef struct {
    const char *name;    /* without the leading "--" */
    arg_type type;
    void *dst;
    const char *def;     /* default as text; parsed into dst before the command line;
                            NULL for a string flag with no default (dst gets NULL) */
    const char *help;    /* one line */
    const char *choices; /* ARG_CHOICE only */
} arg_spec;

typedef struct {
    const char *name;     /* command name, e.g. "bench" */
    const char *synopsis; /* positional part, e.g. "<cfg> <weights> <files...>" */
    const char *summary;  /* one line saying what the command does */
    int min_pos, max_pos; /* positional argument count; max_pos < 0: unbounded */
    const arg_spec *specs;
    int n_specs;
} arg_cmd;

/* args_parse's result when the command should go on and run. */
#define ARGS_RUN (-1)

/* Parses argv[1..argc-1] (argv[0] is the command name). On success returns ARGS_RUN
 * with the positional arguments in pos[0..*npos-1] (pos must hold argc entries).
 * Otherwise returns the exit status the command must return: 0 after --help / -h
 * (usage on stdout), 2 after a usage error (message and usage on stderr). */
int args_parse(const arg_cmd *cmd, int argc, char **argv, char **pos, int *npos);

/* Prints "usage: lir <name> <synopsis> [options]", the summary and one line per
 * flag with its type and default. */
void args_usage(const arg_cmd *cmd, FILE *f);

/* cli: lir's commands, one cmd_<name>.c each, listed in main.c's table. Each takes the
 * arguments after "lir" (argv[0] is the command name), parses its flags with args_parse
 * and returns the process exit status: 0 success, 1 error, 2 usage error. Every
 * message on stderr starts "lir <command>: " ("lir: " only where no command is known:
 * an unknown command, out of memory). */

int cmd_info(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_data(int argc, char **argv);
int cmd_compare(int argc, char **argv);

/* Prints "lir <command>: <message>" to stderr and returns exit status 1. */
static inline int cli_error(const char *command, const lir_error *err) {
    fprintf(stderr, "lir %s: %s\n", command, err->msg);
    return 1;
}

#endif
