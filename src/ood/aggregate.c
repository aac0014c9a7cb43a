/* aggregate.c: scores fitted on ID data only: the direction-free per-point score
 * |E - centre| / scale (dirfree_*) and the Ag-EBO aggregations over L hook points
 * (agebo_*: standardised sum, two-sided sum, Mahalanobis with a shrunk correlation and
 * our own Cholesky). */
#include "ood.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int double_cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of v[n] (v is reordered). */
static double median_inplace(double *v, size_t n) {
    qsort(v, n, sizeof *v, double_cmp);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Location and scale of x[i * stride], i < n. robust: median and 1.4826 MAD, else
 * mean and population std. A zero scale falls back to the other estimate, then to 1. */
static void locate(const float *x, size_t n, size_t stride, int robust, double *center,
                   double *scale) {
    double mean = 0, var = 0;
    for (size_t i = 0; i < n; i++) mean += x[i * stride];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++) {
        double d = x[i * stride] - mean;
        var += d * d;
    }
    double sd = sqrt(var / (double)n);
    double *v = xmalloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = x[i * stride];
    double med = median_inplace(v, n);
    for (size_t i = 0; i < n; i++) v[i] = fabs(v[i] - med);
    double mad = 1.4826 * median_inplace(v, n);
    free(v);
    *center = robust ? med : mean;
    double s = robust ? mad : sd, other = robust ? sd : mad;
    double tiny = 1e-12 * fmax(1.0, fabs(*center));
    *scale = s > tiny ? s : other > tiny ? other : 1.0;
}

static int check_finite(const float *x, size_t count, const char *what, lir_error *err) {
    for (size_t i = 0; i < count; i++)
        if (!isfinite(x[i])) return lir_fail(err, "%s: value %zu is not finite (%g)", what, i, x[i]);
    return 0;
}

int dirfree_fit(dirfree_model *m, const float *id_energies, size_t n, int robust,
                lir_error *err) {
    if (n < 2) return lir_fail(err, "dirfree_fit: need at least 2 ID energies, got %zu", n);
    if (check_finite(id_energies, n, "dirfree_fit", err)) return -1;
    m->robust = robust;
    locate(id_energies, n, 1, robust, &m->center, &m->scale);
    return 0;
}

void dirfree_score(const dirfree_model *m, const float *energies, size_t n, float *out) {
    for (size_t i = 0; i < n; i++) out[i] = (float)(fabs(energies[i] - m->center) / m->scale);
}

void dirfree_describe(const dirfree_model *m, char *buf, size_t size) {
    snprintf(buf, size,
             "direction-free |E - %s| / %s fitted on ID energies only (center %.6g, scale %.6g)",
             m->robust ? "median" : "mean", m->robust ? "(1.4826 MAD)" : "std", m->center,
             m->scale);
}

/* ---- Ag-EBO ---- */

void agebo_init(agebo_model *m, agebo_kind kind) {
    memset(m, 0, sizeof *m);
    m->kind = kind;
    m->shrink = AGEBO_DEFAULT_SHRINK;
    m->ridge = AGEBO_DEFAULT_RIDGE;
}

void agebo_free(agebo_model *m) {
    free(m->mu);
    free(m->sigma);
    free(m->sign);
    free(m->chol);
    m->mu = m->sigma = m->sign = m->chol = NULL;
}

int agebo_cholesky(const double *a, int n, double *l, lir_error *err) {
    memset(l, 0, (size_t)n * (size_t)n * sizeof *l);
    for (int j = 0; j < n; j++) {
        double d = a[(size_t)j * n + j];
        for (int k = 0; k < j; k++) d -= l[(size_t)j * n + k] * l[(size_t)j * n + k];
        if (!(d > 0))
            return lir_fail(err, "cholesky: matrix not positive definite at pivot %d (%g)", j, d);
        double ljj = sqrt(d);
        l[(size_t)j * n + j] = ljj;
        for (int i = j + 1; i < n; i++) {
            double s = a[(size_t)i * n + j];
            for (int k = 0; k < j; k++) s -= l[(size_t)i * n + k] * l[(size_t)j * n + k];
            l[(size_t)i * n + j] = s / ljj;
        }
    }
    return 0;
}

/* R_s = (1 - shrink) corr(z) + (shrink + ridge) I, then its Cholesky factor. */
static int fit_mahalanobis(agebo_model *m, const float *e, size_t n, lir_error *err) {
    int L = m->L;
    double *z = xmalloc((size_t)L * sizeof *z);
    double *r = xcalloc((size_t)L * L, sizeof *r);
    for (size_t i = 0; i < n; i++) {
        for (int a = 0; a < L; a++) z[a] = (e[i * L + a] - m->mu[a]) / m->sigma[a];
        for (int a = 0; a < L; a++)
            for (int b = 0; b <= a; b++) r[(size_t)a * L + b] += z[a] * z[b];
    }
    /* With robust centring the z's need not have mean 0 and unit variance; use the
     * empirical second moments around mu, normalised to a correlation. */
    for (int a = 0; a < L; a++)
        for (int b = 0; b <= a; b++) r[(size_t)a * L + b] /= (double)n;
    for (int a = 0; a < L; a++) z[a] = sqrt(r[(size_t)a * L + a]);
    for (int a = 0; a < L; a++)
        for (int b = 0; b <= a; b++) {
            double d = z[a] * z[b];
            double c = d > 0 ? r[(size_t)a * L + b] / d : (a == b);
            r[(size_t)a * L + b] = (1 - m->shrink) * c + (a == b ? m->shrink + m->ridge : 0);
        }
    /* The correlation was taken of z, so rescale the factor back: z was divided by
     * sigma, and the second moment per point is z[a]^2; fold it into sigma. */
    for (int a = 0; a < L; a++)
        if (z[a] > 0) m->sigma[a] *= z[a];
    m->chol = xmalloc((size_t)L * L * sizeof *m->chol);
    int rc = agebo_cholesky(r, L, m->chol, err);
    free(z);
    free(r);
    return rc;
}

int agebo_fit(agebo_model *m, const float *id_energies, size_t n, int L, lir_error *err) {
    if (L <= 0) return lir_fail(err, "agebo_fit: need at least one point, got L = %d", L);
    if (n < 2) return lir_fail(err, "agebo_fit: need at least 2 ID samples, got %zu", n);
    if (m->kind < AGEBO_ZSUM || m->kind > AGEBO_MAHAL)
        return lir_fail(err, "agebo_fit: unknown aggregation kind %d", (int)m->kind);
    if (!(m->shrink >= 0 && m->shrink <= 1) || !(m->ridge >= 0))
        return lir_fail(err, "agebo_fit: shrink %g must be in [0, 1] and ridge %g >= 0",
                        m->shrink, m->ridge);
    if (check_finite(id_energies, n * (size_t)L, "agebo_fit", err)) return -1;
    agebo_free(m);
    m->L = L;
    m->n_fit = n;
    m->mu = xmalloc((size_t)L * sizeof *m->mu);
    m->sigma = xmalloc((size_t)L * sizeof *m->sigma);
    m->sign = xmalloc((size_t)L * sizeof *m->sign);
    for (int l = 0; l < L; l++) {
        locate(id_energies + l, n, (size_t)L, m->robust, &m->mu[l], &m->sigma[l]);
        m->sign[l] = 1.0; /* higher energy = more OOD at every point, by definition */
    }
    if (m->kind == AGEBO_MAHAL && fit_mahalanobis(m, id_energies, n, err)) {
        agebo_free(m);
        return -1;
    }
    return 0;
}

int agebo_score(const agebo_model *m, const float *energies, size_t n, float *out,
                lir_error *err) {
    if (!m->mu) return lir_fail(err, "agebo_score: model is not fitted");
    int L = m->L;
#pragma omp parallel for if (n > 2048)
    for (size_t i = 0; i < n; i++) {
        const float *e = energies + i * (size_t)L;
        double s = 0;
        if (m->kind == AGEBO_MAHAL) {
            double y[L]; /* forward substitution: chol * y = z, distance^2 = |y|^2 */
            for (int a = 0; a < L; a++) {
                double v = (e[a] - m->mu[a]) / m->sigma[a];
                for (int b = 0; b < a; b++) v -= m->chol[(size_t)a * L + b] * y[b];
                y[a] = v / m->chol[(size_t)a * L + a];
                s += y[a] * y[a];
            }
            s = sqrt(s);
        } else {
            for (int a = 0; a < L; a++) {
                double z = (e[a] - m->mu[a]) / m->sigma[a];
                s += m->kind == AGEBO_ZABS ? fabs(z) : m->sign[a] * z;
            }
        }
        out[i] = (float)s;
    }
    return 0;
}

static const char *const agebo_names[] = {"zsum", "zabs", "mahalanobis"};

const char *agebo_kind_name(agebo_kind kind) {
    return kind >= AGEBO_ZSUM && kind <= AGEBO_MAHAL ? agebo_names[kind] : "unknown";
}

int agebo_kind_parse(const char *name, agebo_kind *kind, lir_error *err) {
    for (int k = AGEBO_ZSUM; k <= AGEBO_MAHAL; k++)
        if (!strcmp(name, agebo_names[k])) {
            *kind = (agebo_kind)k;
            return 0;
        }
    return lir_fail(err, "unknown aggregation '%s' (expected zsum, zabs or mahalanobis)", name);
}

void agebo_describe(const agebo_model *m, char *buf, size_t size) {
    const char *stats = m->robust ? "median/1.4826 MAD" : "mean/std";
    switch (m->kind) {
    case AGEBO_ZSUM:
        snprintf(buf, size,
                 "Ag-EBO zsum: sum over %d points of +(E_l - mu_l)/sigma_l, %s fitted on %zu ID "
                 "samples only, sign +1 at every point (higher energy = more OOD)",
                 m->L, stats, m->n_fit);
        break;
    case AGEBO_ZABS:
        snprintf(buf, size,
                 "Ag-EBO zabs: sum over %d points of |E_l - mu_l|/sigma_l, %s fitted on %zu ID "
                 "samples only (two-sided)",
                 m->L, stats, m->n_fit);
        break;
    default:
        snprintf(buf, size,
                 "Ag-EBO mahalanobis: distance of the %d-point energy vector to the ID centre, "
                 "ID correlation shrunk towards identity (shrink %g, ridge %g), %s, %zu ID "
                 "samples only",
                 m->L, m->shrink, m->ridge, stats, m->n_fit);
    }
}
