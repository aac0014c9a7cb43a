/* optim.c: SGD with momentum / Nesterov / weight decay, learning-rate schedules,
 * and the optimiser state's checkpoint format (train.h). */
#include "train.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const policy_names[] = {"constant", "steps", "cosine", "onecycle", "poly"};
enum { N_POLICIES = sizeof policy_names / sizeof policy_names[0] };

void lr_schedule_init(lr_schedule *s, lr_policy policy, float base_lr) {
    memset(s, 0, sizeof *s);
    s->policy = policy;
    s->base_lr = base_lr;
    s->div_factor = 25.0f;
    s->final_div = 1e4f;
    s->pct_start = 0.3f;
    s->power = 4.0f;
}

int lr_policy_parse(const char *name) {
    for (int i = 0; i < N_POLICIES; i++)
        if (!strcmp(name, policy_names[i])) return i;
    return strcmp(name, "cos") ? -1 : LR_COSINE;
}

const char *lr_policy_name(lr_policy p) {
    return (unsigned)p < N_POLICIES ? policy_names[p] : "?";
}

/* Parses a comma-separated list of up to LR_MAX_STEPS numbers into out (as double). */
static int parse_list(const char *text, const char *what, double *out, lir_error *err) {
    int n = 0;
    const char *p = text;
    while (*p) {
        if (n == LR_MAX_STEPS)
            return lir_fail(err, "%s: more than %d values in '%s'", what, LR_MAX_STEPS, text);
        char *end;
        out[n] = strtod(p, &end);
        while (*end == ' ' || *end == '\t') end++;
        if (end == p || (*end && *end != ',') || !isfinite(out[n]))
            return lir_fail(err, "%s: expected comma-separated numbers, got '%s'", what, text);
        n++;
        p = *end ? end + 1 : end;
    }
    return n;
}

/* The lists into s, each step value times unit, rounded (unit 1: whole numbers only);
 * what: "steps" or "lr_steps" in messages. */
static int set_steps(lr_schedule *s, const char *steps, const char *scales, double unit,
                     const char *what, lir_error *err) {
    double st[LR_MAX_STEPS], sc[LR_MAX_STEPS];
    int ns = parse_list(steps, what, st, err);
    if (ns < 0) return -1;
    int nc = parse_list(scales, "scales", sc, err);
    if (nc < 0) return -1;
    if (ns != nc)
        return lir_fail(err, "%s has %d values but scales has %d ('%s' vs '%s')", what, ns, nc,
                        steps, scales);
    for (int i = 0; i < ns; i++) {
        double v = round(st[i] * unit);
        if ((unit == 1 && st[i] != floor(st[i])) || st[i] < 0 || v > 2e9)
            return lir_fail(err, "%s: value %d (%g) is not a %s", what, i + 1, st[i],
                            unit == 1 ? "step number" : "number of epochs within 2e9 steps");
        if (i > 0 && v <= s->steps[i - 1])
            return lir_fail(err, "%s: values must increase%s ('%s')", what,
                            unit == 1 ? "" : " as steps", steps);
        s->steps[i] = (int)v;
        s->scales[i] = (float)sc[i];
    }
    s->n_steps = ns;
    return 0;
}

int lr_schedule_set_steps(lr_schedule *s, const char *steps, const char *scales,
                          lir_error *err) {
    return set_steps(s, steps, scales, 1, "steps", err);
}

int lr_schedule_set_epoch_steps(lr_schedule *s, const char *epochs, const char *scales,
                                long steps_per_epoch, lir_error *err) {
    return set_steps(s, epochs, scales, (double)steps_per_epoch, "lr_steps", err);
}

/* torch's _annealing_cos: from start (pct 0) to end (pct 1). */
static double anneal_cos(double start, double end, double pct) {
    return end + (start - end) / 2.0 * (cos(M_PI * pct) + 1.0);
}

static double onecycle_at(const lr_schedule *s, long step, long total) {
    double max_lr = s->base_lr;
    double initial = max_lr / s->div_factor;
    double min_lr = initial / s->final_div;
    double end1 = (double)s->pct_start * (double)total - 1.0;
    double end2 = (double)total - 1.0;
    if (step <= end1) return anneal_cos(initial, max_lr, end1 > 0 ? step / end1 : 1.0);
    double pct = end2 > end1 ? (step - end1) / (end2 - end1) : 1.0;
    return anneal_cos(max_lr, min_lr, pct > 1.0 ? 1.0 : pct);
}

float lr_at(const lr_schedule *s, long step, long total) {
    double lr = s->base_lr;
    switch (s->policy) {
    case LR_CONSTANT:
        break;
    case LR_STEPS:
        for (int i = 0; i < s->n_steps && s->steps[i] <= step; i++) lr *= s->scales[i];
        break;
    case LR_COSINE: {
        long span = total - s->warmup;
        double t = span > 0 ? (double)(step - s->warmup) / (double)span : 1.0;
        if (t < 0) t = 0;
        if (t > 1) t = 1;
        lr = s->min_lr + (s->base_lr - s->min_lr) * 0.5 * (1.0 + cos(M_PI * t));
        break;
    }
    case LR_ONECYCLE:
        return (float)onecycle_at(s, step, total);
    case LR_POLY: {
        double t = total > 0 ? (double)step / (double)total : 1.0;
        lr = s->base_lr * pow(t < 1 ? 1 - t : 0, s->power);
        break;
    }
    }
    if (step < s->warmup) lr *= (double)(step + 1) / (double)s->warmup;
    return (float)lr;
}

sgd *sgd_create(const param_tensor *t, int n_tensors, const sgd_config *cfg) {
    sgd *o = xcalloc(1, sizeof *o);
    o->cfg = *cfg;
    if (o->cfg.accumulate < 1) o->cfg.accumulate = 1;
    o->n_tensors = n_tensors;
    o->sizes = xcalloc(n_tensors ? (size_t)n_tensors : 1, sizeof *o->sizes);
    for (int i = 0; i < n_tensors; i++) o->n += o->sizes[i] = t[i].n;
    o->vel = xcalloc(o->n ? o->n : 1, sizeof(float));
    o->decay = xmalloc(o->n ? o->n : 1);
    size_t off = 0;
    for (int i = 0; i < n_tensors; off += t[i].n, i++)
        memset(o->decay + off, t[i].decay != 0, t[i].n);
    return o;
}

void sgd_free(sgd *o) {
    if (!o) return;
    free(o->vel);
    free(o->decay);
    free(o->sizes);
    free(o);
}

int sgd_step(sgd *o, float *restrict w, const float *restrict dw, size_t n, float lr,
             lir_error *err) {
    if (n != o->n)
        return lir_fail(err, "sgd_step: %zu parameters, the optimiser was made for %zu", n, o->n);
    const float scale = 1.0f / (float)o->cfg.accumulate, mu = o->cfg.momentum;
    const float wd = o->cfg.weight_decay;
    const unsigned char *restrict decay = o->decay;
    float *restrict v = o->vel;
    const long len = (long)n;
    /* g = scale * dw + wd * w (wd 0 where no decay), v = mu * v + g, then
     * w -= lr * v, or with Nesterov w -= lr * (g + mu * v). bad: a new weight or
     * velocity is not finite (x - x is 0 for finite x, NaN otherwise; a non-finite
     * gradient makes its velocity non-finite), found while the values are in
     * registers with an integer OR that vectorises. */
    int bad = 0;
    if (o->cfg.nesterov) {
#pragma omp parallel for schedule(static) reduction(| : bad) if (len > 65536)
        for (long i = 0; i < len; i++) {
            float g = scale * dw[i] + (decay[i] ? wd : 0.0f) * w[i];
            float vi = mu * v[i] + g;
            float wi = w[i] - lr * (g + mu * vi);
            v[i] = vi;
            w[i] = wi;
            bad |= (wi - wi != 0.0f) | (vi - vi != 0.0f);
        }
    } else {
#pragma omp parallel for schedule(static) reduction(| : bad) if (len > 65536)
        for (long i = 0; i < len; i++) {
            float g = scale * dw[i] + (decay[i] ? wd : 0.0f) * w[i];
            float vi = mu * v[i] + g;
            float wi = w[i] - lr * vi;
            v[i] = vi;
            w[i] = wi;
            bad |= (wi - wi != 0.0f) | (vi - vi != 0.0f);
        }
    }
    o->nonfinite = bad;
    o->step++;
    return 0;
}

static const char sgd_magic[8] = {'L', 'I', 'R', 'S', 'G', 'D', '0', '1'};

int sgd_save(const sgd *o, FILE *f, const char *path, lir_error *err) {
    uint32_t n = (uint32_t)o->n_tensors;
    int64_t step = o->step;
    int ok = fwrite(sgd_magic, 1, 8, f) == 8 && fwrite(&n, sizeof n, 1, f) == 1 &&
             fwrite(&step, sizeof step, 1, f) == 1;
    for (int i = 0; ok && i < o->n_tensors; i++) {
        uint64_t sz = o->sizes[i];
        ok = fwrite(&sz, sizeof sz, 1, f) == 1;
    }
    /* the tensors' momentum buffers in order: the block */
    if (ok) ok = fwrite(o->vel, sizeof(float), o->n, f) == o->n;
    if (!ok)
        return lir_fail(err, "%s: write error in optimiser state: %s", path,
                        strerror(errno ? errno : EIO));
    return 0;
}

int sgd_load(sgd *o, FILE *f, const char *path, lir_error *err) {
    char magic[8];
    uint32_t n;
    int64_t step;
    long start = ftell(f);
    if (read_exact(f, magic, 8, path, "optimiser state magic", err)) return -1;
    if (memcmp(magic, sgd_magic, 8))
        return lir_fail(err, "%s: offset %ld: not an SGD optimiser state (bad magic)", path,
                        start);
    if (read_exact(f, &n, sizeof n, path, "optimiser tensor count", err) ||
        read_exact(f, &step, sizeof step, path, "optimiser step", err))
        return -1;
    if ((int64_t)n != o->n_tensors)
        return lir_fail(err, "%s: optimiser state has %u tensors, the network has %d", path, n,
                        o->n_tensors);
    if (step < 0)
        return lir_fail(err, "%s: optimiser state has negative step %lld", path,
                        (long long)step);
    for (int i = 0; i < o->n_tensors; i++) {
        uint64_t sz;
        if (read_exact(f, &sz, sizeof sz, path, "optimiser tensor size", err)) return -1;
        if (sz != o->sizes[i])
            return lir_fail(err,
                            "%s: optimiser tensor %d has %llu elements, the network's has %zu",
                            path, i, (unsigned long long)sz, o->sizes[i]);
    }
    /* Read into a fresh block so a failed load leaves o unchanged. */
    float *vel = xmalloc((o->n ? o->n : 1) * sizeof(float));
    if (read_exact(f, vel, o->n * sizeof(float), path, "momentum buffers", err)) {
        free(vel);
        return -1;
    }
    free(o->vel);
    o->vel = vel;
    o->step = (long)step;
    return 0;
}
