/* test_metrics.c: metrics and aggregations against hand-computed cases, then against
 * scikit-learn answers stored in tests/fixtures/metrics_sklearn.txt.
 * `test_metrics --fixture FILE` checks only the cases in FILE (used by
 * tests/test_metrics_sklearn.py with freshly generated random cases). */
#include <math.h>
#include <string.h>

#include "check.h"
#include "ood/ood.h"

#define N(a) (sizeof(a) / sizeof(a)[0])

static metrics_summary summary(const float *id, size_t n_id, const float *ood, size_t n_ood) {
    metrics_summary s;
    lir_error err;
    memset(&s, 0, sizeof s);
    int rc = metrics_compute(id, n_id, ood, n_ood, &s, &err);
    CHECK(rc == 0, "metrics_compute failed: %s", err.msg);
    return s;
}

static void test_auroc_hand(void) {
    float lo[] = {0, 1, 2}, hi[] = {5, 6};
    metrics_summary s = summary(lo, 3, hi, 2);
    CHECK_CLOSE(s.auroc, 1.0, 0, 0, "perfect separation AUROC");
    CHECK_CLOSE(s.fpr95_ood, 0.0, 0, 0, "perfect separation FPR95 (OOD+)");
    CHECK_CLOSE(s.fpr95_id, 0.0, 0, 0, "perfect separation FPR95 (ID+)");
    CHECK_CLOSE(s.aupr_out, 1.0, 0, 0, "perfect AUPR-out");
    CHECK_CLOSE(s.aupr_in, 1.0, 0, 0, "perfect AUPR-in");
    CHECK_CLOSE(s.threshold95, 5.0, 0, 0, "perfect threshold = lowest OOD score");

    s = summary(hi, 2, lo, 3);
    CHECK_CLOSE(s.auroc, 0.0, 0, 0, "reversed AUROC");
    CHECK_CLOSE(s.auroc_seed, 1.0, 0, 0, "reversed seed-compatible AUROC");
    CHECK_CLOSE(s.fpr95_ood, 1.0, 0, 0, "reversed FPR95");

    float same[] = {3, 3, 3, 3};
    s = summary(same, 4, same, 3);
    CHECK_CLOSE(s.auroc, 0.5, 0, 0, "all-equal AUROC");
    CHECK_CLOSE(s.fpr95_ood, 1.0, 0, 0, "all-equal FPR95: one threshold takes all");
    CHECK_CLOSE(s.aupr_out, 3.0 / 7, 1e-15, 0, "all-equal AUPR-out = OOD share");

    /* ties between the classes: id {0,1,1,2,3,3,3}, ood {1,3,3,4,5}:
     * U = (1 + 2/2) + 2 * (4 + 3/2) + 7 + 7 = 27, AUROC = 27 / 35 */
    float tid[] = {0, 1, 1, 2, 3, 3, 3}, tood[] = {1, 3, 3, 4, 5};
    double a;
    lir_error err;
    CHECK(metrics_auroc(tid, 7, tood, 5, &a, &err) == 0, "auroc: %s", err.msg);
    CHECK_CLOSE(a, 27.0 / 35, 1e-15, 0, "tied AUROC");

    float one_id[] = {0.5f}, one_ood[] = {0.25f};
    s = summary(one_id, 1, one_ood, 1);
    CHECK_CLOSE(s.auroc, 0.0, 0, 0, "n = 1 + 1 AUROC");
    CHECK_CLOSE(metrics_auroc_seed_compatible(0.3), 0.7, 1e-15, 0, "seed flip");
    CHECK_CLOSE(metrics_auroc_seed_compatible(0.8), 0.8, 0, 0, "seed keeps");
    const char *d = metrics_field_description("fpr95_ood");
    CHECK(d && strstr(d, "OOD positive") && !strchr(d, '"'), "fpr95_ood description");
    CHECK(metrics_field_description("fpr95") == NULL, "unknown field");
}

static void test_fpr_edges(void) {
    float ood[20], id[] = {1.5f, 2, 2.5f, 0};
    for (int i = 0; i < 20; i++) ood[i] = (float)(i + 1);
    double fpr, t;
    lir_error err;
    /* 19 of 20 OOD needed: t* = 2, ID >= 2: {2, 2.5} -> 0.5 */
    CHECK(metrics_fpr_at_tpr_ood(id, 4, ood, 20, 0.95, &fpr, &t, &err) == 0, "%s", err.msg);
    CHECK_CLOSE(fpr, 0.5, 0, 0, "FPR95 exact 19/20");
    CHECK_CLOSE(t, 2.0, 0, 0, "threshold is the 2nd lowest OOD score");
    /* tpr = 1: t* = 1, ID >= 1: 3 of 4 */
    CHECK(metrics_fpr_at_tpr_ood(id, 4, ood, 20, 1.0, &fpr, &t, &err) == 0, "%s", err.msg);
    CHECK_CLOSE(fpr, 0.75, 0, 0, "FPR at TPR 1");
    /* a tie group straddling 95%: OOD {1,1,3..20}, TPR(3) = 0.9, TPR(1) = 1 -> t* = 1 */
    ood[1] = 1;
    float id2[] = {0, 1, 2};
    CHECK(metrics_fpr_at_tpr_ood(id2, 3, ood, 20, 0.95, &fpr, &t, &err) == 0, "%s", err.msg);
    CHECK_CLOSE(t, 1.0, 0, 0, "tie group is not split");
    CHECK_CLOSE(fpr, 2.0 / 3, 1e-15, 0, "FPR95 with a straddling tie");
    /* ID positive: accept score <= t; 20 ID scores 1..20, 95% -> t* = 19;
     * OOD {0, 19, 19.5, 25}: accepted 0 and 19 -> 0.5 */
    float idp[20], oodp[] = {0, 19, 19.5f, 25};
    for (int i = 0; i < 20; i++) idp[i] = (float)(i + 1);
    CHECK(metrics_fpr_at_tpr_id(idp, 20, oodp, 4, 0.95, &fpr, &t, &err) == 0, "%s", err.msg);
    CHECK_CLOSE(t, 19.0, 0, 0, "ID-positive threshold");
    CHECK_CLOSE(fpr, 0.5, 0, 0, "ID-positive FPR95");
    CHECK(metrics_fpr_at_tpr_ood(id, 4, ood, 20, 0.0, &fpr, &t, &err) == -1, "TPR 0 rejected");
}

static void test_aupr_and_errors(void) {
    /* descending: 3 (OOD) P=1 R=.5; 2 (ID) R same; 1 (OOD) P=2/3 R=1 -> .5 + .5*2/3 */
    float id[] = {2}, ood[] = {3, 1};
    double ap;
    lir_error err;
    CHECK(metrics_aupr_out(id, 1, ood, 2, &ap, &err) == 0, "%s", err.msg);
    CHECK_CLOSE(ap, 0.5 + 1.0 / 3, 1e-15, 0, "AUPR-out hand");
    /* ID positive, ascending: 1 (OOD) R=0; 2 (ID) P=1/2 R=1 -> 0.5 */
    CHECK(metrics_aupr_in(id, 1, ood, 2, &ap, &err) == 0, "%s", err.msg);
    CHECK_CLOSE(ap, 0.5, 1e-15, 0, "AUPR-in hand");

    float bad[] = {1, NAN};
    CHECK(metrics_aupr_out(bad, 2, ood, 2, &ap, &err) == -1 && strstr(err.msg, "ID score 1"),
          "NaN named: %s", err.msg);
    CHECK(metrics_auroc(id, 1, ood, 0, &ap, &err) == -1 && strstr(err.msg, "0 OOD"),
          "empty class: %s", err.msg);
}

static void test_baselines(void) {
    float logits[] = {1, 2, 3, 1000, 1000, -1000, -50, -60, -70};
    float out[3];
    metrics_score_energy(logits, 3, 3, out);
    CHECK_CLOSE(out[0], -(3 + log(1 + exp(-1.0) + exp(-2.0))), 1e-5, 0, "energy");
    CHECK_CLOSE(out[1], -(1000 + log(2.0)), 1e-3, 0, "energy stable at 1000");
    CHECK_CLOSE(out[2], -(-50 + log(1 + exp(-10.0) + exp(-20.0))), 1e-5, 0, "energy at -50");
    metrics_score_msp(logits, 3, 3, out);
    CHECK_CLOSE(out[0], -1 / (1 + exp(-1.0) + exp(-2.0)), 1e-6, 0, "msp");
    CHECK_CLOSE(out[1], -0.5, 1e-6, 0, "msp stable");
    metrics_score_maxlogit(logits, 3, 3, out);
    CHECK(out[0] == -3 && out[1] == -1000 && out[2] == 50, "maxlogit %g %g %g", out[0], out[1],
          out[2]);
}

static void test_dirfree(void) {
    float id[] = {1, 2, 3, 4, 100}, q[] = {6, 0};
    dirfree_model m;
    float out[2];
    lir_error err;
    CHECK(dirfree_fit(&m, id, 5, 1, &err) == 0, "%s", err.msg);
    CHECK_CLOSE(m.center, 3, 0, 0, "median");
    CHECK_CLOSE(m.scale, 1.4826, 1e-12, 0, "1.4826 MAD");
    dirfree_score(&m, q, 2, out);
    CHECK_CLOSE(out[0], 3 / 1.4826, 1e-6, 0, "robust score above");
    CHECK_CLOSE(out[1], 3 / 1.4826, 1e-6, 0, "robust score below (same distance)");
    CHECK(dirfree_fit(&m, id, 5, 0, &err) == 0, "%s", err.msg);
    CHECK_CLOSE(m.center, 22, 1e-12, 0, "mean");
    CHECK_CLOSE(m.scale, sqrt(7610.0 / 5), 1e-9, 0, "population std");
    float flat[] = {2, 2, 2};
    CHECK(dirfree_fit(&m, flat, 3, 1, &err) == 0 && m.scale == 1.0, "constant -> scale 1");
    char buf[256];
    dirfree_describe(&m, buf, sizeof buf);
    CHECK(strstr(buf, "median") && !strchr(buf, '"'), "describe: %s", buf);
}

static void test_agebo(void) {
    /* two points: A {1, 3} (mean 2, std 1), B {10, 30} (mean 20, std 10) */
    float id[] = {1, 10, 3, 30}, q[] = {4, 0, 2, 40};
    float out[2];
    lir_error err;
    agebo_model m;
    agebo_init(&m, AGEBO_ZSUM);
    CHECK(agebo_fit(&m, id, 2, 2, &err) == 0, "%s", err.msg);
    CHECK(agebo_score(&m, q, 2, out, &err) == 0, "%s", err.msg);
    CHECK_CLOSE(out[0], 0, 1e-6, 0, "zsum (2 - 2)");
    CHECK_CLOSE(out[1], 2, 1e-6, 0, "zsum (0 + 2)");
    m.kind = AGEBO_ZABS;
    CHECK(agebo_score(&m, q, 2, out, &err) == 0, "%s", err.msg);
    CHECK_CLOSE(out[0], 4, 1e-6, 0, "zabs |2| + |-2|");
    agebo_free(&m);
    CHECK(agebo_score(&m, q, 2, out, &err) == -1, "unfitted model rejected");

    /* robust standardisation, one point: median 3, 1.4826 MAD */
    float rid[] = {1, 2, 3, 4, 100}, rq[] = {6};
    agebo_init(&m, AGEBO_ZSUM);
    m.robust = 1;
    CHECK(agebo_fit(&m, rid, 5, 1, &err) == 0, "%s", err.msg);
    CHECK(agebo_score(&m, rq, 1, out, &err) == 0, "%s", err.msg);
    CHECK_CLOSE(out[0], 3 / 1.4826, 1e-6, 0, "robust zsum");
    agebo_free(&m);

    /* Mahalanobis: ID (1,2), (-1,-2), (1,0), (-1,0): mean 0, population covariance
     * [[1,1],[1,2]], inverse [[2,-1],[-1,1]]. d^2(1,1) = 1, d^2(1,0) = 2, d^2(2,-1) = 13. */
    float mid[] = {1, 2, -1, -2, 1, 0, -1, 0}, mq[] = {1, 1, 1, 0, 2, -1, 0, 0};
    float mout[4];
    agebo_init(&m, AGEBO_MAHAL);
    m.shrink = 0;
    m.ridge = 0;
    CHECK(agebo_fit(&m, mid, 4, 2, &err) == 0, "%s", err.msg);
    CHECK(agebo_score(&m, mq, 4, mout, &err) == 0, "%s", err.msg);
    CHECK_CLOSE(mout[0], 1, 1e-6, 0, "mahalanobis (1,1)");
    CHECK_CLOSE(mout[1], sqrt(2.0), 1e-6, 0, "mahalanobis (1,0)");
    CHECK_CLOSE(mout[2], sqrt(13.0), 1e-5, 0, "mahalanobis (2,-1)");
    CHECK_CLOSE(mout[3], 0, 1e-6, 0, "mahalanobis at the mean");
    char buf[512];
    agebo_describe(&m, buf, sizeof buf);
    CHECK(strstr(buf, "mahalanobis") && strstr(buf, "4 ID samples"), "describe: %s", buf);
    agebo_free(&m);

    /* collinear points (singular covariance) still fit thanks to shrinkage */
    float col[] = {1, 2, 2, 4, 3, 6};
    agebo_init(&m, AGEBO_MAHAL);
    CHECK(agebo_fit(&m, col, 3, 2, &err) == 0, "shrinkage makes singular fit: %s", err.msg);
    agebo_free(&m);
    m.shrink = 0;
    m.ridge = 0;
    CHECK(agebo_fit(&m, col, 3, 2, &err) == -1, "no shrinkage: singular rejected");

    agebo_kind k;
    CHECK(agebo_kind_parse("zabs", &k, &err) == 0 && k == AGEBO_ZABS, "parse zabs");
    CHECK(agebo_kind_parse("sum", &k, &err) == -1 && strstr(err.msg, "sum"), "parse bad");
    CHECK(!strcmp(agebo_kind_name(AGEBO_MAHAL), "mahalanobis"), "kind name");

    double a[] = {4, 2, 2, 3}, l[4];
    CHECK(agebo_cholesky(a, 2, l, &err) == 0, "%s", err.msg);
    CHECK_CLOSE(l[0], 2, 1e-15, 0, "chol l00");
    CHECK_CLOSE(l[2], 1, 1e-15, 0, "chol l10");
    CHECK_CLOSE(l[3], sqrt(2.0), 1e-15, 0, "chol l11");
}

static void test_early_exit(void) {
    double au[] = {0.7, 0.9, 0.88, 0.91, NAN}, fl[] = {0.1, 0.3, 0.2, 1.0, 0.05};
    CHECK(metrics_early_exit(au, fl, 5, 0.02) == 1, "margin 0.02");
    CHECK(metrics_early_exit(au, fl, 5, 0.05) == 2, "margin 0.05");
    CHECK(metrics_early_exit(au, fl, 5, 0.3) == 0, "margin 0.3");
    CHECK(metrics_early_exit(au, fl, 5, 0.0) == 3, "margin 0");
    double nan2[] = {NAN, NAN};
    CHECK(metrics_early_exit(nan2, fl, 2, 0.1) == -1, "all NaN");
}

/* Fixture: "case NAME N_ID N_OOD AUROC FPR95_OOD FPR95_ID AUPR_OUT AUPR_IN", then a
 * line of ID scores and a line of OOD scores. Returns the number of cases checked. */
static int run_fixture(const char *path) {
    lir_error err;
    size_t len;
    char *text = file_read_all(path, &len, &err);
    CHECK(text != NULL, "fixture: %s", err.msg);
    if (!text) return 0;
    int cases = 0;
    char *p = text;
    while ((p = strstr(p, "case ")) != NULL) {
        char name[64];
        size_t n_id, n_ood;
        double want[5];
        int used = 0;
        if (sscanf(p, "case %63s %zu %zu %lf %lf %lf %lf %lf%n", name, &n_id, &n_ood, &want[0],
                   &want[1], &want[2], &want[3], &want[4], &used) != 8) {
            CHECK(0, "fixture %s: bad case line at byte %td", path, p - text);
            break;
        }
        p += used;
        float *id = xmalloc(n_id * sizeof *id), *ood = xmalloc(n_ood * sizeof *ood);
        for (size_t i = 0; i < n_id + n_ood; i++) {
            char *end;
            double v = strtod(p, &end);
            CHECK(end != p, "fixture %s case %s: score %zu missing", path, name, i);
            if (end == p) break;
            p = end;
            *(i < n_id ? &id[i] : &ood[i - n_id]) = (float)v;
        }
        metrics_summary s = summary(id, n_id, ood, n_ood);
        char what[128];
        const double got[5] = {s.auroc, s.fpr95_ood, s.fpr95_id, s.aupr_out, s.aupr_in};
        const char *names[5] = {"auroc", "fpr95_ood", "fpr95_id", "aupr_out", "aupr_in"};
        for (int k = 0; k < 5; k++) {
            snprintf(what, sizeof what, "%s %s", name, names[k]);
            CHECK_CLOSE(got[k], want[k], 1e-12, 1e-12, what);
        }
        free(id);
        free(ood);
        cases++;
    }
    free(text);
    return cases;
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "--fixture")) {
        int cases = run_fixture(argv[2]);
        CHECK(cases > 0, "no cases in %s", argv[2]);
        fprintf(stderr, "%d fixture cases\n", cases);
        return check_done("test_metrics --fixture");
    }
    test_auroc_hand();
    test_fpr_edges();
    test_aupr_and_errors();
    test_baselines();
    test_dirfree();
    test_agebo();
    test_early_exit();
    int cases = run_fixture("tests/fixtures/metrics_sklearn.txt");
    CHECK(cases >= 10, "committed fixture has %d cases", cases);
    return check_done("test_metrics");
}
