/* eval.c: the scoring pass of `lir eval` (one forward per dataset, every point's
 * energy per sample), the ID-only fits (direction-free per point, Ag-EBO) and the
 * metric table of each OOD set. */
#include "ood.h"

#include "report/report.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* CPU time of the process, all threads: unlike wall time it hardly depends on what
 * else the machine runs. */
static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The progress line of a pass: bar, count and rate. */
static void progress_show(progress *pg, const char *what, int done, int total, double t0,
                          int force) {
    int width = 30, fill = total ? (int)((long)width * done / total) : width;
    char bar[31];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
    bar[width] = 0;
    double dt = now_seconds() - t0;
    progress_update(pg, force, "  %-24s [%s] %6d/%-6d %7.0f img/s", what, bar, done, total,
                    dt > 0 ? done / dt : 0.0);
}

/* What the threads of one pass share. */
typedef struct {
    const dataset *d;
    const int *idx;
    int count;
    const data_norm *norm;
    eval_pass *out;
    progress *pg;
    const char *what;
    double t0;
    int done; /* images finished (atomic) */
} pass_job;

/* Batches first, first + step, ... of the job through network n. */
static void pass_batches(net *n, int first, int step, pass_job *j) {
    const int B = n->batch, L = n->n_hooks, classes = n->classes, in = DATA_IMG;
    float *x = xcalloc((size_t)B * in, sizeof(float));
    int *bidx = xmalloc((size_t)B * sizeof(int));
    for (int s = first * B; s < j->count; s += step * B) {
        const int m = j->count - s < B ? j->count - s : B;
        for (int b = 0; b < m; b++) bidx[b] = j->idx ? j->idx[s + b] : s + b;
        dataset_batch(j->d, bidx, m, j->norm, x);
        if (m < B) memset(x + (size_t)m * in, 0, (size_t)(B - m) * in * sizeof(float));
        net_forward(n, x, 0);
        memcpy(j->out->logits + (size_t)s * classes, net_logits(n),
               (size_t)m * classes * sizeof(float));
        for (int b = 0; b < m; b++) {
            float *e = j->out->energy + (size_t)(s + b) * L;
            for (int k = 0; k < L; k++) e[k] = n->hooks[k].energy[b];
            j->out->labels[s + b] = j->d->labels[bidx[b]];
        }
        int done;
#pragma omp atomic capture
        done = j->done += m;
        if (first == 0) progress_show(j->pg, j->what, done, j->count, j->t0, 0);
    }
    free(x);
    free(bidx);
}

int eval_pass_run(net *const *nets, int n_nets, const dataset *d, const int *idx, int count,
                  const data_norm *norm, eval_pass *out, lir_error *err) {
    memset(out, 0, sizeof *out);
    net *n = nets[0];
    if (n->c != 3 || n->h != DATA_SIDE || n->w != DATA_SIDE)
        return lir_fail(err, "the network takes %dx%dx%d inputs; lir eval feeds 3x%dx%d images",
                        n->c, n->h, n->w, DATA_SIDE, DATA_SIDE);
    if (n->n_hooks < 1) return lir_fail(err, "the network has no hooked points");
    if (count < 1)
        return lir_fail(err, "dataset %s (%s) has no images to score", d->name, d->split);
    snprintf(out->name, sizeof out->name, "%s", d->name);
    snprintf(out->split, sizeof out->split, "%s", d->split);
    snprintf(out->note, sizeof out->note, "%s", d->note);
    out->n = count;
    out->L = n->n_hooks;
    out->classes = n->classes;
    out->energy = xmalloc((size_t)count * out->L * sizeof(float));
    out->logits = xmalloc((size_t)count * out->classes * sizeof(float));
    out->labels = xmalloc((size_t)count * sizeof(int));
    char what[72];
    snprintf(what, sizeof what, "%.48s %s", d->name, d->split);
    progress pg;
    progress_init(&pg, stderr, 10.0);
    pass_job j = {d, idx, count, norm, out, &pg, what, now_seconds(), 0};
    const double c0 = cpu_now();
    const int batches = (count + n->batch - 1) / n->batch;
    const int workers = n_nets < batches ? n_nets : batches;
    if (workers <= 1) {
        pass_batches(n, 0, 1, &j); /* one network, its layers use every thread */
    } else {
#pragma omp parallel num_threads(workers)
        {
            omp_set_num_threads(1); /* each network runs on its own thread */
            pass_batches(nets[omp_get_thread_num()], omp_get_thread_num(), omp_get_num_threads(),
                         &j);
        }
    }
    out->seconds = now_seconds() - j.t0;
    out->cpu_seconds = cpu_now() - c0;
    progress_show(&pg, what, count, count, j.t0, 1);
    progress_break(&pg);
    return 0;
}

void eval_pass_free(eval_pass *p) {
    free(p->energy);
    free(p->logits);
    free(p->labels);
    memset(p, 0, sizeof *p);
}

double eval_accuracy(const eval_pass *p) {
    long ok = 0;
    for (int i = 0; i < p->n; i++) {
        ok += vec_argmax(p->logits + (size_t)i * p->classes, p->classes) == p->labels[i];
    }
    return p->n ? (double)ok / p->n : 0;
}

float *eval_column(const eval_pass *p, int k) {
    float *c = xmalloc((size_t)p->n * sizeof(float));
    for (int i = 0; i < p->n; i++) c[i] = p->energy[(size_t)i * p->L + k];
    return c;
}

void eval_result_init(eval_result *r, const net *n, double margin) {
    memset(r, 0, sizeof *r);
    int L = n->n_hooks;
    r->L = L;
    r->margin = margin;
    r->names = xcalloc((size_t)L, sizeof *r->names);
    r->shape = xcalloc((size_t)L * 3, sizeof(int));
    r->flop_frac = xcalloc((size_t)L, sizeof(double));
    double total = net_layer_flops(n, n->n_layers - 1);
    r->final_point = L - 1;
    r->classes = n->classes;
    for (int k = 0; k < L; k++) {
        const point *p = &n->points[n->hooks[k].point];
        snprintf(r->names[k], sizeof r->names[k], "%s", p->name);
        r->shape[3 * k] = p->c;
        r->shape[3 * k + 1] = p->h;
        r->shape[3 * k + 2] = p->w;
        r->flop_frac[k] = total > 0 ? net_layer_flops(n, p->layer) / total : 0;
        if (n->layers[p->layer].type == LAYER_CONNECTED) r->final_point = k;
    }
}

int eval_fit(eval_result *r, const eval_pass *fit, lir_error *err) {
    if (fit->L != r->L) return lir_fail(err, "fit pass has %d points, expected %d", fit->L, r->L);
    if (fit->n < 2)
        return lir_fail(err, "the held-out ID split needs at least 2 images (has %d)", fit->n);
    r->n_fit = fit->n;
    r->dirfree = xcalloc((size_t)r->L, sizeof(dirfree_model));
    for (int k = 0; k < r->L; k++) {
        float *col = eval_column(fit, k);
        int rc = dirfree_fit(&r->dirfree[k], col, (size_t)fit->n, DIRFREE_DEFAULT_ROBUST, err);
        free(col);
        if (rc < 0) return -1;
    }
    for (int a = 0; a < EVAL_N_AGEBO; a++) {
        agebo_init(&r->agebo[a], (agebo_kind)a);
        if (agebo_fit(&r->agebo[a], fit->energy, (size_t)fit->n, r->L, err) < 0) return -1;
    }
    return 0;
}

/* Metrics of id/ood score columns. */
static int summary(const float *id, int n_id, const float *ood, int n_ood, metrics_summary *m,
                   lir_error *err) {
    return metrics_compute(id, (size_t)n_id, ood, (size_t)n_ood, m, err);
}

/* Baseline score b of a pass into out[n]. */
static void baseline(const eval_pass *p, int b, float *out) {
    if (b == EVAL_BASE_MSP)
        metrics_score_msp(p->logits, (size_t)p->n, p->classes, out);
    else if (b == EVAL_BASE_MAXLOGIT)
        metrics_score_maxlogit(p->logits, (size_t)p->n, p->classes, out);
    else
        metrics_score_energy(p->logits, (size_t)p->n, p->classes, out);
}

static int best_of(const metrics_summary *m, int L) {
    int best = -1;
    for (int k = 0; k < L; k++)
        if (!isnan(m[k].auroc) && (best < 0 || m[k].auroc > m[best].auroc)) best = k;
    return best;
}

static int early_of(const metrics_summary *m, const double *flop_frac, int L, double margin) {
    double *a = xmalloc((size_t)L * sizeof(double));
    for (int k = 0; k < L; k++) a[k] = m[k].auroc;
    int e = metrics_early_exit(a, flop_frac, L, margin);
    free(a);
    return e;
}

int eval_compare(eval_result *r, const eval_pass *id, const eval_pass *ood, lir_error *err) {
    if (id->L != r->L || ood->L != r->L || id->classes != ood->classes)
        return lir_fail(err, "passes of %s and %s do not match the network", id->name, ood->name);
    if (!r->dirfree) return lir_fail(err, "eval_compare before eval_fit");
    r->ood = xrealloc(r->ood, (size_t)(r->n_ood + 1) * sizeof *r->ood);
    eval_ood *o = &r->ood[r->n_ood++];
    memset(o, 0, sizeof *o);
    snprintf(o->name, sizeof o->name, "%s", ood->name);
    snprintf(o->note, sizeof o->note, "%s", ood->note);
    o->n = ood->n;
    o->group = -1;
    o->point = xcalloc((size_t)r->L, sizeof(metrics_summary));
    o->dirfree = xcalloc((size_t)r->L, sizeof(metrics_summary));
    int ni = id->n, no = ood->n, rc = 0;
    float *si = xmalloc((size_t)ni * sizeof(float)), *so = xmalloc((size_t)no * sizeof(float));
    for (int k = 0; k < r->L && rc == 0; k++) {
        float *ci = eval_column(id, k), *co = eval_column(ood, k);
        rc = summary(ci, ni, co, no, &o->point[k], err);
        dirfree_score(&r->dirfree[k], ci, (size_t)ni, si);
        dirfree_score(&r->dirfree[k], co, (size_t)no, so);
        if (rc == 0) rc = summary(si, ni, so, no, &o->dirfree[k], err);
        free(ci);
        free(co);
    }
    for (int b = 0; b < EVAL_N_BASE && rc == 0; b++) {
        baseline(id, b, si);
        baseline(ood, b, so);
        rc = summary(si, ni, so, no, &o->base[b], err);
    }
    for (int a = 0; a < EVAL_N_AGEBO && rc == 0; a++) {
        rc = agebo_score(&r->agebo[a], id->energy, (size_t)ni, si, err);
        if (rc == 0) rc = agebo_score(&r->agebo[a], ood->energy, (size_t)no, so, err);
        if (rc == 0) rc = summary(si, ni, so, no, &o->agebo[a], err);
    }
    free(si);
    free(so);
    if (rc < 0) return -1;
    o->best = best_of(o->point, r->L);
    o->best_dirfree = best_of(o->dirfree, r->L);
    o->early = early_of(o->point, r->flop_frac, r->L, r->margin);
    o->early_dirfree = early_of(o->dirfree, r->flop_frac, r->L, r->margin);
    return 0;
}

void eval_result_free(eval_result *r) {
    for (int i = 0; i < r->n_ood; i++) {
        free(r->ood[i].point);
        free(r->ood[i].dirfree);
    }
    free(r->ood);
    free(r->skipped);
    for (int a = 0; a < EVAL_N_AGEBO; a++) agebo_free(&r->agebo[a]);
    free(r->dirfree);
    free(r->names);
    free(r->shape);
    free(r->flop_frac);
    memset(r, 0, sizeof *r);
}

void eval_skip(eval_result *r, const char *name, int group, const char *reason) {
    r->skipped = xrealloc(r->skipped, (size_t)(r->n_skipped + 1) * sizeof *r->skipped);
    eval_skipped *s = &r->skipped[r->n_skipped++];
    snprintf(s->name, sizeof s->name, "%s", name);
    s->group = group;
    snprintf(s->reason, sizeof s->reason, "%s", reason);
}
