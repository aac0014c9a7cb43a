/* cmd_compare.c: `lir compare RUN...`: one table across the results.json of several
 * `lir eval` runs (ood.h compare_*): printed as Markdown and written with the CSV files
 * and the grouped bar plot into --outdir. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ood/ood.h"

int cmd_compare(int argc, char **argv) {
    const char *score_name, *metric, *outdir;
    int plots, all;
    const arg_spec specs[] = {
        {"score", ARG_CHOICE, &score_name, "fc",
         "score: fc = raw energy at the final layer, dirfree = direction-free score there, "
         "zsum / zabs / agebo = Ag-EBO zsum, zabs, Mahalanobis, best / best-dirfree = best "
         "point (oracle: chosen with the test labels)",
         "fc|dirfree|zsum|zabs|agebo|best|best-dirfree", NULL},
        {"metric", ARG_CHOICE, &metric, "auroc",
         "metric: auroc, fpr95_ood (FPR at 95% TPR, OOD positive) or fpr95_id (ID positive)",
         "auroc|fpr95_ood|fpr95_id", NULL},
        {"outdir", ARG_STR, &outdir, "runs/compare",
         "folder for compare.md, compare.csv, compare_mean.csv and compare.{png,svg,pdf}",
         "<dir>", NULL},
        {"plots", ARG_BOOL, &plots, "1",
         "write compare.{png,svg,pdf} (grouped bars of the seed means)", 0, NULL},
        {"all", ARG_BOOL, &all, "0",
         "print every set column; off: a group of more than 12 sets (cifar10-c) is printed "
         "only as its mean (the files always hold every column)",
         0, NULL},
    };
    const arg_cmd cmd = {"compare",
                         "<results.json | run folder>...",
                         "one table of OOD metrics across `lir eval` runs: per run, and mean +- "
                         "std over runs that differ only in seed",
                         1,
                         -1,
                         specs,
                         (int)(sizeof specs / sizeof specs[0])};
    char **pos = xmalloc((size_t)argc * sizeof(char *));
    int npos, st = args_parse(&cmd, argc, argv, pos, &npos);
    if (st != ARGS_RUN) {
        free(pos);
        return st;
    }
    lir_error err;
    compare_table t;
    int score, rc = compare_score_parse(score_name, &score, &err);
    if (rc == 0) rc = compare_load(&t, pos, npos, score, metric, &err);
    free(pos);
    if (rc < 0) return cli_error("compare", &err);
    compare_markdown(stdout, &t, !all);
    rc = make_dirs(outdir, &err);
    if (rc == 0) rc = compare_write(&t, outdir, plots, &err);
    if (rc == 0)
        printf("\nwrote %s/compare.md, compare.csv, compare_mean.csv%s\n", outdir,
               plots ? ", compare.{png,svg,pdf}" : "");
    compare_free(&t);
    return rc < 0 ? cli_error("compare", &err) : 0;
}
