/* test_args.c: the shared flag parser: defaults from the table, both value forms,
 * bools (--name / --no-name), choices, positional counts, `--`, --help, the usage text,
 * and each usage error (exit 2). */
#include <stdarg.h>
#include <string.h>

#include "cli/cli.h"
#include "check.h"

static int n_i;
static float f;
static const char *s, *ch;
static int b;
static const arg_spec specs[] = {
    {"num", ARG_INT, &n_i, "7", "an int", NULL, NULL},
    {"rate", ARG_FLOAT, &f, "0.5", "a float", NULL, NULL},
    {"name", ARG_STR, &s, NULL, "a string", NULL, NULL},
    {"mode", ARG_CHOICE, &ch, "fast", "a choice", "fast|slow", NULL},
    {"verbose", ARG_BOOL, &b, "0", "a bool", NULL, NULL},
};
static const arg_cmd cmd = {"demo", "<a> [b]", "a demo", 1, 2, specs, 5};

/* Parses a NULL-terminated list (without the command name), stderr silenced. */
static int parse(char **pos, int *npos, const char *a0, ...) {
    char *argv[16] = {"demo"};
    int argc = 1;
    va_list ap;
    va_start(ap, a0);
    for (const char *a = a0; a && argc < 15; a = va_arg(ap, const char *)) argv[argc++] = (char *)a;
    va_end(ap);
    FILE *saved_err = stderr, *saved_out = stdout;
    stderr = stdout = fopen("/dev/null", "w");
    int rc = args_parse(&cmd, argc, argv, pos, npos);
    fclose(stderr);
    stderr = saved_err;
    stdout = saved_out;
    return rc;
}

int main(void) {
    char *pos[16];
    int npos;
    CHECK(parse(pos, &npos, "x", NULL) == ARGS_RUN, "defaults");
    CHECK(n_i == 7 && f == 0.5f && s == NULL && !strcmp(ch, "fast") && b == 0,
          "defaults: %d %g %s %s %d", n_i, f, s ? s : "(null)", ch, b);
    CHECK(npos == 1 && !strcmp(pos[0], "x"), "positional");

    CHECK(parse(pos, &npos, "--num", "-3", "x", "--rate=1e-3", "--name", "hi", "--mode=slow",
                "--verbose", "y", NULL) == ARGS_RUN,
          "all flags");
    CHECK(n_i == -3 && f == 1e-3f && s && !strcmp(s, "hi") && !strcmp(ch, "slow") && b == 1,
          "values: %d %g %s %s %d", n_i, f, s ? s : "(null)", ch, b);
    CHECK(npos == 2 && !strcmp(pos[1], "y"), "positionals around flags");
    CHECK(parse(pos, &npos, "x", "--verbose=0", NULL) == ARGS_RUN && b == 0, "--verbose=0");
    CHECK(parse(pos, &npos, "x", "--verbose", "--no-verbose", NULL) == ARGS_RUN && b == 0,
          "--no-verbose clears a bool");
    CHECK(parse(pos, &npos, "x", "--no-verbose=1", NULL) == 2, "--no-verbose takes no value");
    CHECK(parse(pos, &npos, "x", "--no-num", NULL) == 2, "--no- on a valued flag");
    CHECK(parse(pos, &npos, "x", "--", "--num", NULL) == ARGS_RUN && npos == 2 &&
              !strcmp(pos[1], "--num"),
          "-- ends the flags");
    CHECK(parse(pos, &npos, "-", NULL) == ARGS_RUN && npos == 1, "'-' is positional");

    CHECK(parse(pos, &npos, "--help", NULL) == 0, "--help exits 0");
    CHECK(parse(pos, &npos, "x", "-h", NULL) == 0, "-h exits 0");
    CHECK(parse(pos, &npos, NULL) == 2, "too few positionals");
    CHECK(parse(pos, &npos, "a", "b", "c", NULL) == 2, "too many positionals");
    CHECK(parse(pos, &npos, "x", "--bogus", NULL) == 2, "unknown flag");
    CHECK(parse(pos, &npos, "x", "-n", "3", NULL) == 2, "short flag");
    CHECK(parse(pos, &npos, "x", "--num", NULL) == 2, "missing value");
    CHECK(parse(pos, &npos, "x", "--num", "3.5", NULL) == 2, "non-integer");
    CHECK(parse(pos, &npos, "x", "--num", "99999999999", NULL) == 2, "int overflow");
    CHECK(parse(pos, &npos, "x", "--rate", "nan", NULL) == 2, "nan rate");
    CHECK(parse(pos, &npos, "x", "--rate=", NULL) == 2, "empty rate");
    CHECK(parse(pos, &npos, "x", "--mode", "medium", NULL) == 2, "bad choice");
    CHECK(parse(pos, &npos, "x", "--mode", "fas", NULL) == 2, "choice prefix");
    CHECK(parse(pos, &npos, "x", "--verbose=yes", NULL) == 2, "bad bool");
    CHECK(parse(pos, &npos, "x", "--numx", "1", NULL) == 2, "flag prefix match");

    /* usage lists every flag with its default */
    char buf[4096] = {0};
    FILE *m = fmemopen(buf, sizeof buf - 1, "w");
    args_usage(&cmd, m);
    fclose(m);
    CHECK(strstr(buf, "usage: lir demo <a> [b] [options]") != NULL, "usage line: %s", buf);
    CHECK(strstr(buf, "--num <int>") && strstr(buf, "(default 7)"), "num line: %s", buf);
    CHECK(strstr(buf, "--mode fast|slow") && strstr(buf, "(default fast)"), "mode: %s", buf);
    CHECK(!strstr(buf, "(default none)") && strstr(buf, "--name <str>      a string\n") &&
              strstr(buf, "--[no-]verbose    a bool (default off)"),
          "no default / bool: %s", buf);
    return check_done("test_args");
}
