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
 * Accepted forms: `--name value`, `--name=value`; a bool flag takes no value:
 * `--name` sets it, `--no-name` clears it (`--name=0|1` also works). Flags and
 * positional arguments may be mixed; `--` ends the flags. Anything else starting with
 * '-' (except "-" itself) is an error; so is a flag lir renamed (args.c's table of
 * old spellings), with a message naming the new one.
 *
 * One vocabulary across commands: --in (the in-distribution set), --out (lir eval: the
 * OOD sets), --data (data directory), --outdir (output directory), --cfg / --weights
 * (the network evaluated), --init-weights (lir train: the starting point).
 */


typedef enum {
    ARG_INT,    /* dst: int*, decimal */
    ARG_FLOAT,  /* dst: float*, finite */
    ARG_STR,    /* dst: const char** (points into argv or at the default) */
    ARG_BOOL,   /* dst: int*, 0 or 1 */
    ARG_CHOICE, /* dst: const char**, one of `values` ("a|b|c") */
    ARG_BYTES   /* dst: uint64_t*, a byte count with K/M/G/T suffix, or "auto" (0) */
} arg_type;

/* unset text of a flag the command cannot run without */
#define ARG_REQUIRED "required"

typedef struct {
    const char *name;    /* without the leading "--" */
    arg_type type;
    void *dst;
    const char *def;     /* default as text; parsed into dst before the command line;
                            NULL for a string flag with no default (dst gets NULL) */
    const char *help;    /* one line */
    const char *values;  /* ARG_CHOICE: the choices "a|b|c"; other types: the value's
                            name in the usage, e.g. "<dir>" (NULL: by type, "<int>" ...) */
    const char *unset;   /* def NULL: what happens without the flag, shown as its default
                            (e.g. "$LIR_DATA, else ./data"); ARG_REQUIRED; NULL: none */
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
 * flag: "--name <type>" ("--[no-]name" for a bool), help, and "(default X)",
 * "(default: <unset>)" or "(required)". */
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

/* The --max-memory flag of every command that builds a network (dst: a uint64_t,
 * handed to net_set_max_memory after parsing). */
#define CLI_MAX_MEMORY_SPEC(dst)                                                        \
    {"max-memory", ARG_BYTES, (dst), "auto",                                            \
     "memory budget of one network built from the cfg (K/M/G/T suffixes; auto: 8G, or " \
     "3/4 of the RAM when that is less); a cfg needing more is refused", NULL, NULL}

/* Prints "lir <command>: <message>" to stderr and returns exit status 1. */
static inline int cli_error(const char *command, const lir_error *err) {
    fprintf(stderr, "lir %s: %s\n", command, err->msg);
    return 1;
}

#endif
