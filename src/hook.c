/* hook.c: per-sample energy at a point, E = -log sum_i exp(a_i) over the whole
 * flattened activation, the R-EBO regulariser's gradient with respect to the
 * activation, and attaching hooks to a network's named points. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"

/* -(m + log sum exp(a - m)) of one sample, accumulated in double. */
static double energy_one(const float *a, int size) {
    float m = a[0];
    for (int i = 1; i < size; i++) m = a[i] > m ? a[i] : m;
    double s = 0;
    for (int i = 0; i < size; i++) s += exp((double)(a[i] - m));
    return -((double)m + log(s));
}

/* a: [batch][size] -> energy: [batch] */
void energy_forward(const float *a, int batch, int size, float *energy) {
#pragma omp parallel for schedule(static)
    for (int b = 0; b < batch; b++) energy[b] = (float)energy_one(a + (size_t)b * size, size);
}

double energy_reg_backward(const float *a, const float *energy, int batch, int size,
                           const unsigned char *is_outlier, const hook_reg *reg,
                           float *grad) {
    int n_in = 0, n_out = 0;
    for (int b = 0; b < batch; b++) {
        if (is_outlier && is_outlier[b]) n_out++;
        else n_in++;
    }
    double r_in = 0, r_out = 0;
    for (int b = 0; b < batch; b++) {
        if (is_outlier && is_outlier[b]) {
            double d = reg->m_out - (double)energy[b];
            if (d > 0) r_out += d * d;
        } else {
            double d = (double)energy[b] - reg->m_in;
            if (d > 0) r_in += d * d;
        }
    }
    double r = (n_in ? r_in / n_in : 0) + (n_out ? r_out / n_out : 0);
    if (!grad || reg->lambda == 0) return r;
#pragma omp parallel for schedule(static)
    for (int b = 0; b < batch; b++) {
        double dr_de;
        if (is_outlier && is_outlier[b]) {
            double d = reg->m_out - (double)energy[b];
            dr_de = d > 0 ? -2.0 * d / n_out : 0;
        } else {
            double d = (double)energy[b] - reg->m_in;
            dr_de = d > 0 ? 2.0 * d / n_in : 0;
        }
        if (dr_de == 0) continue;
        const float *ab = a + (size_t)b * size;
        float *gb = grad + (size_t)b * size;
        /* dE/da = -softmax(a); softmax recomputed in double from a, not from the float E */
        double e = energy_one(ab, size);
        float c = (float)(-reg->lambda * dr_de);
        for (int i = 0; i < size; i++) gb[i] += c * (float)exp((double)ab[i] + e);
    }
    return r;
}

int net_find_point(const net *n, const char *name) {
    for (int i = 0; i < n->n_points; i++)
        if (!strcmp(n->points[i].name, name)) return i;
    return -1;
}

static int hook_of_point(const net *n, int p) {
    for (int i = 0; i < n->n_hooks; i++)
        if (n->hooks[i].point == p) return i;
    return -1;
}

/* Appends a hook (or replaces the settings of the one already on the point). */
static void hook_attach(net *n, int p, const hook_reg *reg) {
    int h = hook_of_point(n, p);
    if (h < 0) {
        /* keep hooks in network (point) order */
        n->hooks = xrealloc(n->hooks, (size_t)(n->n_hooks + 1) * sizeof *n->hooks);
        h = n->n_hooks;
        while (h > 0 && n->hooks[h - 1].point > p) {
            n->hooks[h] = n->hooks[h - 1];
            h--;
        }
        n->n_hooks++;
        n->hooks[h].point = p;
        n->hooks[h].energy = xcalloc((size_t)n->batch, sizeof(float));
        n->hooks[h].last_reg = 0;
    }
    n->hooks[h].reg = *reg;
}

void net_hook_all(net *n) {
    hook_reg none = {0, 0, 0, 0};
    for (int p = 0; p < n->n_points; p++)
        if (n->points[p].is_default && hook_of_point(n, p) < 0) hook_attach(n, p, &none);
}

int net_add_hook(net *n, const char *point_name, const hook_reg *reg, lir_error *err) {
    int p = net_find_point(n, point_name);
    if (p < 0) return lir_fail(err, "no point named '%s' in the network", point_name);
    hook_attach(n, p, reg);
    return 0;
}
