/* main.c: lir's command table. */
#include <stdio.h>
#include <string.h>

#include "data.h"
#include "util.h"

int main(int argc, char **argv) {
    if (argc >= 2 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version"))) {
        printf("lir %s\n", LIR_VERSION);
        return 0;
    }
    if (argc >= 2 && !strcmp(argv[1], "data")) return cmd_data(argc - 1, argv + 1);
    fprintf(stderr, "usage: lir <command> [options]\n");
    return 2;
}
