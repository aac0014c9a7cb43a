/* main.c: lir's command table. `lir <command> [options]` runs a command from the
 * table below; `lir help [command]` and `lir --version` are answered here. It also
 * picks the OpenMP wait policy (prefer_passive_wait). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "base/base.h"
#include "kernels/kernels.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"info", cmd_info, "print a network's layers, shapes, FLOPs and hook points"},
    {"predict", cmd_predict, "classify PNG images or raw float32 tensors"},
    {"bench", cmd_bench, "time training steps and inference on synthetic data"},
    {"data", cmd_data, "inspect, checksum and benchmark datasets"},
    {"train", cmd_train, "train or fine-tune a network (optionally with R-EBO) from a cfg"},
    {"eval", cmd_eval, "per-point energy OOD analysis: AUROC per hook point, baselines, Ag-EBO"},
    {"compare", cmd_compare, "one table of OOD metrics across eval runs (mean +- std over seeds)"},
};
enum { N_COMMANDS = sizeof commands / sizeof commands[0] };

static void usage(FILE *f) {
    fprintf(f, "usage: lir <command> [options]    (lir <command> --help for its options)\n");
    fprintf(f, "commands:\n");
    for (int i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "  %-10s %s\n", "help", "list the commands, or `lir help <command>`");
    fprintf(f, "  %-10s %s\n", "--version", "print the version");
}

static const command *find(const char *name) {
    for (int i = 0; i < N_COMMANDS; i++)
        if (!strcmp(commands[i].name, name)) return &commands[i];
    return NULL;
}

/* lir's kernels run many short OpenMP parallel regions. With libgomp's default
 * wait policy idle threads spin between regions; on this 2-core machine shared with
 * other jobs the spinning threads take the time slices the working ones need:
 * `lir bench` inference on cfg/resnet18.cfg ran 2.3-3x slower than with PASSIVE
 * (machine load 4-6). So when the user has not chosen a policy lir sets PASSIVE and
 * executes itself again, once; OMP_WAIT_POLICY=active (or any value) in the
 * environment keeps libgomp's choice.
 * Why a re-exec: libgomp reads OMP_WAIT_POLICY once, in its constructor, before main,
 * and offers no call to change the policy later. A constructor of lir's own runs after
 * libgomp's (a library is initialised before the program that needs it). An entry in
 * .preinit_array runs before it, but glibc's own initialisation, which follows, resets
 * environ to the kernel's array, so the variable set there is gone when libgomp looks:
 * tried with OMP_DISPLAY_ENV=verbose, GOMP_SPINCOUNT stayed 300000 (spinning), while
 * after the re-exec it is 0 as PASSIVE sets it. */
static void prefer_passive_wait(char **argv) {
    if (getenv("OMP_WAIT_POLICY") || setenv("OMP_WAIT_POLICY", "PASSIVE", 1)) return;
    execv("/proc/self/exe", argv); /* returns only on failure: run on as we are */
}

int main(int argc, char **argv) {
    prefer_passive_wait(argv);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    lir_error err;
    if (kernels_check_env(&err)) { /* a misspelt LIR_KERNELS / LIR_CONV must not pass */
        fprintf(stderr, "lir: %s\n", err.msg);
        return 2;
    }
    const char *name = argv[1];
    char esc[256];
    if (!strcmp(name, "--version") || !strcmp(name, "version")) {
        printf("lir %s\n", LIR_VERSION);
        return 0;
    }
    if (!strcmp(name, "help") || !strcmp(name, "--help") || !strcmp(name, "-h")) {
        if (argc < 3) {
            usage(stdout);
            return 0;
        }
        const command *c = find(argv[2]);
        if (!c) {
            fprintf(stderr, "lir: unknown command '%s'\n", lir_escape(argv[2], esc, sizeof esc));
            usage(stderr);
            return 2;
        }
        static char help_flag[] = "--help";
        char *help_argv[] = {argv[2], help_flag, NULL};
        return c->run(2, help_argv);
    }
    const command *c = find(name);
    if (!c) {
        fprintf(stderr, "lir: unknown command '%s'\n", lir_escape(name, esc, sizeof esc));
        usage(stderr);
        return 2;
    }
    return c->run(argc - 1, argv + 1);
}
