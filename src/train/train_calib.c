/* train_calib.c: the parts of a training run around the loop: calibration of the
 * regularised hooks' margins from ID energies of training-mode forwards (gathered from
 * every process), the outlier batch's part of this process, and the batch-norm running
 * statistics: saved and restored around calibration, averaged over processes that do
 * not share batch statistics, hashed with the weights to check that all processes hold
 * the same state. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/data.h"
#include "nn/nn.h"
#include "trainer.h"

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* See trainer.h. */
size_t trainer_bn_stats(net *n, float *buf, int save) {
    size_t k = 0;
    for (int i = 0; i < n->n_layers; i++) {
        conv_layer *l = &n->layers[i].u.conv;
        if (n->layers[i].type != LAYER_CONV || !l->batch_normalize) continue;
        if (buf && save) {
            memcpy(buf + k, l->rolling_mean, l->n * sizeof(float));
            memcpy(buf + k + l->n, l->rolling_var, l->n * sizeof(float));
        } else if (buf) {
            memcpy(l->rolling_mean, buf + k, l->n * sizeof(float));
            memcpy(l->rolling_var, buf + k + l->n, l->n * sizeof(float));
        }
        k += 2 * (size_t)l->n;
    }
    return k;
}

void trainer_outliers_next(trainer *t, outlier_source *os, float *dst) {
    if (t->parts == 1) {
        outlier_next(os, dst);
        return;
    }
    outlier_next(os, t->obuf);
    memcpy(dst, t->obuf + (size_t)t->rank * t->lob * DATA_IMG,
           (size_t)t->lob * DATA_IMG * sizeof(float));
}

/* e [n_hooks][cnt] of each process -> [n_hooks][parts * cnt] of all (malloc'd; e freed). */
static float *calib_gather(trainer *t, float *e, int cnt) {
    if (t->parts == 1) return e;
    size_t per = (size_t)t->c->n_hooks * cnt;
    float *all = xmalloc(per * t->parts * sizeof(float)), *g = xmalloc(per * t->parts * sizeof(float));
    dist_gather_float(e, (int)per, all);
    for (int p = 0; p < t->parts; p++)
        for (int i = 0; i < t->c->n_hooks; i++)
            memcpy(g + ((size_t)i * t->parts + p) * cnt, all + p * per + (size_t)i * cnt,
                   (size_t)cnt * sizeof(float));
    free(all);
    free(e);
    return g;
}

/* The ID energies of calib_batches training-mode forwards of ID (and outlier) batches,
 * exactly as training batches look, at every config hook: [n_hooks][calib_batches *
 * idb] (malloc'd; of all processes), NULL on failure. BN running statistics are
 * restored afterwards, so the forwards leave the network unchanged. */
static float *calib_energies(trainer *t, lir_error *err) {
    const train_config *c = t->c;
    float *saved = xmalloc((trainer_bn_stats(t->n, NULL, 0) + 1) * sizeof(float));
    trainer_bn_stats(t->n, saved, 1);
    /* margins from ID images without Cutout */
    loader_opts lo = {c->augment, 1, 0, t->rank, t->parts};
    uint64_t seed = (uint64_t)c->seed ^ 0x5ca1ab1eULL;
    loader *ld = loader_start(t->train, t->tr_idx, t->n_tr, t->idb, &t->norm, lo, seed, 0, 0, err);
    outlier_source *os = NULL;
    if (ld && t->ob)
        os = outlier_open(c, t->train, t->tr_idx, t->n_tr, &t->norm, t->ob, seed, NULL, err);
    if (!ld || (t->ob && !os)) {
        if (ld) loader_stop(ld);
        free(saved);
        return NULL;
    }
    int cnt = c->calib_batches * t->lidb;
    float *e = xmalloc((size_t)c->n_hooks * cnt * sizeof(float));
    for (int b = 0; b < c->calib_batches; b++) {
        while (loader_next(ld, t->x, t->labels) < t->idb) {
        }
        if (os) trainer_outliers_next(t, os, t->x + (size_t)t->lidb * DATA_IMG);
        net_forward(t->n, t->x, 1);
        for (int i = 0; i < c->n_hooks; i++)
            memcpy(e + (size_t)i * cnt + (size_t)b * t->lidb, hook_at(t, i)->energy,
                   (size_t)t->lidb * sizeof(float));
    }
    loader_stop(ld);
    outlier_close(os);
    trainer_bn_stats(t->n, saved, 0);
    free(saved);
    return calib_gather(t, e, cnt);
}

/* Margins of hooks with calibrate, from the ID energies of calib_energies by the rule
 * of their loss kind (hook_reg_calibrate: centre calib_quantile, unit q90 - q10). */
int trainer_calibrate(trainer *t, lir_error *err) {
    const train_config *c = t->c;
    int any = 0;
    for (int i = 0; i < c->n_hooks; i++) any |= c->hooks[i].reg.calibrate;
    if (!any) return 0;
    float *e = calib_energies(t, err);
    if (!e) return -1;
    int cnt = c->calib_batches * t->idb;
    for (int i = 0; i < c->n_hooks; i++) {
        if (!c->hooks[i].reg.calibrate) continue;
        float *ei = e + (size_t)i * cnt;
        for (int k = 0; k < cnt; k++)
            if (!isfinite(ei[k])) {
                free(e);
                return lir_fail(err, "calibration: non-finite ID energy at point %s",
                                c->hooks[i].point);
            }
        qsort(ei, (size_t)cnt, sizeof(float), cmp_float);
        hook_reg *r = &hook_at(t, i)->reg;
        hook_reg_calibrate(r, ei, cnt, c->calib_quantile, c->calib_spread);
        fprintf(t->out, "calibrated %-28s %-6s ID energy median %.4g, q10..q90 %.4g..%.4g: ", c->hooks[i].point,
               hook_loss_name(r->loss), energy_quantile(ei, cnt, 0.5), energy_quantile(ei, cnt, 0.1),
               energy_quantile(ei, cnt, 0.9));
        if (r->loss == HOOK_LOSS_BAND)
            fprintf(t->out, "m_out_lo %.5g m_in_lo %.5g ", r->m_out_lo, r->m_in_lo);
        fprintf(t->out, "m_in %.5g m_out %.5g\n", r->m_in, r->m_out);
    }
    free(e);
    return 0;
}

/* See trainer.h. */
void trainer_bn_average(trainer *t) {
    if (!t->bnbuf) return;
    size_t k = trainer_bn_stats(t->n, t->bnbuf, 1);
    dist_sum_float(t->bnbuf, k);
    for (size_t i = 0; i < k; i++) t->bnbuf[i] /= (float)t->parts;
    trainer_bn_stats(t->n, t->bnbuf, 0);
}

/* See trainer.h. */
uint64_t trainer_state_hash(const trainer *t) {
    uint64_t h = 0xcbf29ce484222325ULL;
    size_t nb = trainer_bn_stats(t->n, NULL, 0), k = 0;
    const float *parts[3] = {t->n->params, t->o->vel, NULL};
    size_t len[3] = {t->n->n_params, t->o->n, 0};
    float *bn = xmalloc((nb + 1) * sizeof(float));
    trainer_bn_stats(t->n, bn, 1);
    parts[2] = bn, len[2] = nb;
    for (int p = 0; p < 3; p++)
        for (k = 0; k < len[p] * sizeof(float); k++)
            h = (h ^ ((const unsigned char *)parts[p])[k]) * 0x100000001b3ULL;
    free(bn);
    return h;
}
