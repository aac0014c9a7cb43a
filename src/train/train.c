/* train.c: the `lir train` loop. One step: ID batch (augmenting loader) and, for
 * R-EBO, outlier batch (outlier.c) in one forward in train mode; CE on the ID part
 * plus lambda_l * R_l at every regularised hook, all through net_loss_backward; a
 * finite-loss check; one SGD step at the schedule's rate. Each epoch: validation on
 * the held-out part, log + plots (train_report.c), atomic checkpoint. At the end:
 * test accuracy, final .weights and its JSON sidecar.
 * Data-parallel (dist: `mpirun -np K`): every process holds the network and takes part
 * 1/K of each batch (its loader makes only that part, with the augmentation of the
 * whole batch); batch norm sees the whole batch (bn_sync), the gradients and the step's
 * loss terms are summed over the processes before the step, so all processes take the
 * same step, the one a single process takes on the whole batch. Validation and test
 * batches are dealt round the processes. Process 0 alone prints and writes files. */
#include <math.h>
#include <omp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "guard.h"
#include "data/data.h"
#include "nn/nn.h"
#include "train.h"
#include "report/report.h"
#include "train_report.h"
#include "trainer.h"

/* SIGINT / SIGTERM ask the loop to stop after the current step with a checkpoint. */
static volatile sig_atomic_t stop_signal;
static void on_signal(int sig) { stop_signal = sig; }

/* ---- setup ----------------------------------------------------------------------- */

static int schedule_build(trainer *t, lir_error *err) {
    const train_config *c = t->c;
    int p = lr_policy_parse(c->policy);
    lr_schedule_init(&t->sched, (lr_policy)p, c->lr);
    t->sched.warmup = (int)((long)c->warmup_epochs * t->spe);
    t->sched.min_lr = c->min_lr;
    if (p == LR_STEPS) {
        if (!c->lr_steps[0])
            return lir_fail(err, "config key 'lr_steps': policy steps needs lr_steps and lr_scales");
        lir_error e2;
        if (lr_schedule_set_epoch_steps(&t->sched, c->lr_steps, c->lr_scales, t->spe, &e2))
            return lir_fail(err, "config keys 'lr_steps'/'lr_scales': %s", e2.msg);
    }
    return 0;
}

/* The config's hooks (the cfg's [hook] sections among them, config_add_cfg_hooks) onto
 * the net, once; their settings, margins included, live in the net's hook_reg from here
 * on, where the loss reads them, calibration sets them and checkpoints keep them. */
static int hooks_attach(trainer *t, lir_error *err) {
    const train_config *c = t->c;
    for (int i = 0; i < c->n_hooks; i++) {
        const config_hook *ch = &c->hooks[i];
        lir_error e2;
        if (net_add_hook(t->n, ch->point, &ch->reg, &e2))
            return lir_fail(err, "config hook %d: %s (see `lir info`)", i, e2.msg);
    }
    for (int i = 0; i < c->n_hooks; i++) t->hook[i] = net_find_hook(t->n, c->hooks[i].point);
    return 0;
}

/* ---- evaluation ------------------------------------------------------------------ */

/* Mean CE and accuracy (%) of images idx[0..n) of d (idx NULL: 0..n-1) in inference
 * mode; the batches are dealt round the processes. acc_flip not NULL: also the
 * accuracy of each image's probabilities averaged with its mirror image's. */
static void evaluate(trainer *t, const dataset *d, const int *idx, int n, double *loss,
                     double *acc, double *acc_flip) {
    net *nt = t->n;
    int B = nt->batch, classes = nt->classes;
    double ce = 0, correct = 0, correct_flip = 0;
    int *lab = xmalloc((size_t)B * sizeof *lab), *ids = xmalloc((size_t)B * sizeof *ids);
    float *keep = acc_flip ? xmalloc((size_t)B * classes * sizeof(float)) : NULL;
    float *mirror = acc_flip ? xcalloc((size_t)B * DATA_IMG, sizeof(float)) : NULL;
    for (int i = t->rank * B; i < n; i += B * t->parts) {
        int m = n - i < B ? n - i : B;
        for (int j = 0; j < m; j++) ids[j] = idx ? idx[i + j] : i + j;
        dataset_batch(d, ids, m, &t->norm, t->x);
        for (int j = 0; j < m; j++) lab[j] = d->labels[ids[j]];
        memset(t->x + (size_t)m * DATA_IMG, 0, (size_t)(B - m) * DATA_IMG * sizeof(float));
        const float *prob = net_forward(nt, t->x, 0);
        for (int j = 0; j < m; j++) {
            const float *pj = prob + (size_t)j * classes;
            correct += vec_argmax(pj, classes) == lab[j];
            ce -= log(fmax(pj[lab[j]], 1e-30));
        }
        if (!keep) continue;
        memcpy(keep, prob, (size_t)m * classes * sizeof(float));
        /* the augmentation's crop and flip, with the crop at the centre: the mirror image */
        const float none[3] = {0, 0, 0};
        for (int j = 0; j < m; j++)
            augment_crop_flip(t->x + (size_t)j * DATA_IMG, mirror + (size_t)j * DATA_IMG, 4, 4, 1,
                              none);
        const float *mirrored = net_forward(nt, mirror, 0);
        for (int j = 0; j < m; j++) {
            float *kj = keep + (size_t)j * classes;
            for (int k = 0; k < classes; k++) kj[k] += mirrored[(size_t)j * classes + k];
            correct_flip += vec_argmax(kj, classes) == lab[j];
        }
    }
    free(lab);
    free(ids);
    free(keep);
    free(mirror);
    double sums[3] = {ce, correct, correct_flip};
    dist_sum_double(sums, 3);
    ce = sums[0], correct = sums[1], correct_flip = sums[2];
    *loss = n ? ce / n : NAN;
    *acc = n ? 100.0 * correct / n : NAN;
    if (acc_flip) *acc_flip = n ? 100.0 * correct_flip / n : NAN;
}

/* ---- the loop -------------------------------------------------------------------- */

/* See train.h. */
double train_forward_backward(net *n, const float *x, const int *labels,
                              const unsigned char *is_outlier, double *ce_out) {
    const float *prob = net_forward(n, x, 1);
    net_zero_grads(n);
    double ce = net_loss_backward(n, labels, is_outlier);
    double total = ce;
    for (int k = 0; k < n->n_hooks; k++)
        if (n->hooks[k].reg.lambda != 0) total += n->hooks[k].reg.lambda * n->hooks[k].last_reg;
    /* the CE clamps log(p) away from -inf, so a NaN network shows in its output */
    int bad_out = 0;
    for (size_t i = 0; i < (size_t)n->batch * n->classes; i++) bad_out |= !isfinite(prob[i]);
    *ce_out = ce;
    return bad_out ? NAN : total;
}

/* The step's loss terms over the processes: their means over each part of the batch
 * averaged (equal parts: the means over the whole batch; the hooks' R written back to
 * last_reg), the correct counts summed, and whether a stop signal reached any process
 * (t->stop_all). A non-finite term anywhere is non-finite everywhere. */
static void step_reduce(trainer *t, double *total, double *ce, long *correct) {
    int k = t->c->n_hooks;
    double v[CONFIG_MAX_HOOKS + 4] = {*total, *ce, (double)*correct, stop_signal != 0};
    for (int i = 0; i < k; i++) v[4 + i] = hook_at(t, i)->last_reg;
    dist_sum_double(v, k + 4);
    *total = v[0] / t->parts, *ce = v[1] / t->parts, *correct = (long)v[2];
    t->stop_all = v[3] > 0;
    for (int i = 0; i < k; i++) hook_at(t, i)->last_reg = v[4 + i] / t->parts;
}

/* One optimiser step on the batch in t->x / t->labels; fills the running sums. With
 * several processes the gradient arena is summed over them (one allreduce) and the
 * optimiser scales it by 1/parts (sgd_config.accumulate). */
static int train_step(trainer *t, float lr, lir_error *err) {
    net *n = t->n;
    double ce;
    double total = train_forward_backward(n, t->x, t->labels, t->ob ? t->is_out : NULL, &ce);
    const float *prob = n->layers[n->n_layers - 1].out;
    long correct = 0;
    for (int j = 0; j < t->lidb; j++)
        correct += vec_argmax(prob + (size_t)j * n->classes, n->classes) == t->labels[j];
    step_reduce(t, &total, &ce, &correct);
    char note[1200];
    if (!isfinite(total)) {
        char msg[512] = "";
        for (int i = 0; i < t->c->n_hooks && strlen(msg) < 400; i++)
            snprintf(msg + strlen(msg), sizeof msg - strlen(msg), ", R[%s] %g", t->c->hooks[i].point,
                     hook_at(t, i)->last_reg);
        return lir_fail(err, "non-finite loss at epoch %d, step %ld (CE %g%s); stopped (try a "
                        "lower lr)%s", t->s.epoch + 1, t->s.step + 1, ce, msg,
                        guard_ckpt_note(t->have_ckpt ? t->ckpt : NULL, note, sizeof note));
    }
    for (int i = 0; i < t->c->n_hooks; i++) t->s.sum_reg[i] += hook_at(t, i)->last_reg;
    t->s.correct += correct;
    t->s.seen += t->idb;
    t->s.sum_loss += total;
    t->s.sum_ce += ce;
    t->s.epoch_steps++;
    dist_sum_float(n->grads, n->n_params);
    if (sgd_step(t->o, n->params, n->grads, n->n_params, lr, err) ||
        guard_finite(n, t->o, t->s.epoch + 1, t->s.step + 1, t->have_ckpt ? t->ckpt : NULL, err))
        return -1;
    n->seen += (uint64_t)(t->idb + t->ob);
    t->s.step++;
    return 0;
}

/* Process 0 writes the checkpoint (the processes hold the same state). */
static int save_checkpoint(trainer *t, lir_error *err) {
    trainer_bn_average(t);
    if (t->rank == 0 && checkpoint_save(t->ckpt, &t->ck, err)) return -1;
    t->have_ckpt = 1;
    return 0;
}

/* Closes the epoch: validation, record, log, plots, checkpoint. */
static int end_epoch(trainer *t, float lr, lir_error *err) {
    train_state *s = &t->s;
    epoch_record r;
    memset(&r, 0, sizeof r);
    r.epoch = s->epoch + 1;
    r.step = s->step;
    r.lr = lr;
    r.train_loss = s->sum_loss / s->epoch_steps;
    r.train_ce = s->sum_ce / s->epoch_steps;
    r.train_acc = 100.0 * s->correct / s->seen;
    for (int i = 0; i < t->c->n_hooks; i++) r.reg[i] = s->sum_reg[i] / s->epoch_steps;
    r.seconds = s->epoch_seconds;
    r.images_per_s = (double)s->epoch_steps * (t->idb + t->ob) / fmax(s->epoch_seconds, 1e-9);
    r.val_loss = r.val_acc = NAN;
    trainer_bn_average(t);
    if (t->n_val) evaluate(t, t->train, t->val_idx, t->n_val, &r.val_loss, &r.val_acc, NULL);
    char note[1200];
    if (t->n_val && !isfinite(r.val_loss))
        return lir_fail(err, "non-finite validation loss after epoch %d; stopped%s", r.epoch,
                        guard_ckpt_note(t->have_ckpt ? t->ckpt : NULL, note, sizeof note));
    s->records = xrealloc(s->records, (size_t)(s->n_records + 1) * sizeof *s->records);
    s->records[s->n_records++] = r;
    s->epoch++;
    s->position = 0;
    s->sum_loss = s->sum_ce = 0;
    memset(s->sum_reg, 0, sizeof s->sum_reg);
    s->epoch_steps = s->correct = s->seen = 0;
    s->epoch_seconds = 0;
    fprintf(t->out, "epoch %d/%d: loss %.4f (ce %.4f) train acc %.2f%%  val loss %.4f acc "
            "%.2f%%  lr %.3g  %.0f img/s  %.0fs\n",
            r.epoch, t->c->epochs, r.train_loss, r.train_ce, r.train_acc, r.val_loss, r.val_acc,
            r.lr, r.images_per_s, r.seconds);
    fflush(t->out);
    if (t->rank == 0 && (train_report_log(t->c, s, err) || train_report_plots(t->c, s, err)))
        return -1;
    return save_checkpoint(t, err);
}

/* What the loop keeps across steps: the progress line, and the wall time of every step
 * of this session and of its gradient allreduce, for the throughput summary. */
typedef struct {
    progress pr;
    double *times, *reduce;
    long n, cap;
} loop_state;

static void loop_time(loop_state *L, double dt, double reduce) {
    if (L->n == L->cap) {
        L->cap = L->cap ? 2 * L->cap : 1024;
        L->times = xrealloc(L->times, (size_t)L->cap * sizeof *L->times);
        L->reduce = xrealloc(L->reduce, (size_t)L->cap * sizeof *L->reduce);
    }
    L->reduce[L->n] = reduce;
    L->times[L->n++] = dt;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Prints images/s over all steps and at the median step (the figure to compare with
 * `lir bench`, which reports medians); with several processes also the gradient
 * allreduce: its median and its share of the step time (process 0's). */
static void loop_throughput(const trainer *t, loop_state *L, int per_step) {
    if (!L->n) return;
    double sum = 0, red = 0;
    for (long i = 0; i < L->n; i++) sum += L->times[i], red += L->reduce[i];
    qsort(L->times, (size_t)L->n, sizeof *L->times, cmp_double);
    qsort(L->reduce, (size_t)L->n, sizeof *L->reduce, cmp_double);
    double med = L->times[L->n / 2];
    fprintf(t->out, "throughput: %ld steps of %d images, %.1f images/s overall, median step "
            "%.1f ms = %.1f images/s\n",
            L->n, per_step, L->n * per_step / sum, 1e3 * med, per_step / med);
    if (t->parts > 1)
        fprintf(t->out, "allreduce: %d processes, %zu gradients, median %.1f ms per step, "
                "%.1f%% of the step time\n", t->parts, t->n->n_params,
                1e3 * L->reduce[L->n / 2], 100 * red / sum);
}

/* The median of the last (up to) RECENT step times: the progress line's rate, which
 * a pause of the process (a stopped job, a slow validation) or a change of the
 * machine's load moves only while it lasts. */
enum { RECENT = 64 };

static double loop_recent_step(const loop_state *L) {
    double w[RECENT];
    const long k = L->n < RECENT ? L->n : RECENT;
    memcpy(w, L->times + (L->n - k), (size_t)k * sizeof *w);
    qsort(w, (size_t)k, sizeof *w, cmp_double);
    return w[k / 2];
}

/* The progress line after a step: loss, its CE part and acc are means over this
 * epoch's steps so far; images/s (ID and outlier images of a step) and the ETA from
 * the median of the recent steps. */
static void loop_progress(trainer *t, loop_state *L, float lr) {
    const train_state *s = &t->s;
    const double step = fmax(loop_recent_step(L), 1e-9);
    char eta[32];
    progress_duration(step * (double)(t->total - s->step), eta, sizeof eta);
    progress_update(&L->pr, 0,
                    "epoch %d/%d step %ld/%ld epoch-mean loss %.4f (ce %.4f) acc %.1f%% "
                    "%.0f img/s%s lr %.3g ETA %s",
                    s->epoch + 1, t->c->epochs, s->epoch_steps, t->spe,
                    s->sum_loss / s->epoch_steps, s->sum_ce / s->epoch_steps,
                    100.0 * s->correct / s->seen, (t->idb + t->ob) / step,
                    t->ob ? " (ID+outliers)" : "", lr, eta);
}

/* One step on the next ID (and outlier) batch, then the loader positions to
 * checkpoint, the step's time and the progress line; *lr gets the step's rate. */
static int loop_step(trainer *t, loader *ld, loop_state *L, float *lr, lir_error *err) {
    train_state *s = &t->s;
    double ts = now_seconds(), r0 = dist_sum_seconds();
    loader_next(ld, t->x, t->labels);
    if (t->outl) trainer_outliers_next(t, t->outl, t->x + (size_t)t->lidb * DATA_IMG);
    *lr = lr_at(&t->sched, s->step, t->total);
    if (train_step(t, *lr, err)) return -1;
    int le, lp;
    loader_position(ld, &le, &lp);
    if (le == s->epoch) s->position = lp; /* else the epoch is complete */
    if (t->outl) outlier_position(t->outl, &s->opos);
    double dt = now_seconds() - ts;
    loop_time(L, dt, dist_sum_seconds() - r0);
    s->epoch_seconds += dt;
    s->train_seconds += dt;
    loop_progress(t, L, *lr);
    return 0;
}

/* Runs steps until the last epoch ends or a stop is asked (a signal, stop_after_steps);
 * *stopped = 1 when stopped early. Each step is followed by exactly one of: the epoch's
 * end (validation, log, checkpoint), a checkpoint (every checkpoint_steps, or before a
 * stop), nothing. One stop test, one way out. */
static int train_loop(trainer *t, int *stopped, lir_error *err) {
    train_config *c = t->c;
    train_state *s = &t->s;
    loop_state L = {0};
    progress_init(&L.pr, t->rank ? t->out : stderr, c->progress_seconds);
    loader_opts lo = {c->augment, 1, c->augment ? c->cutout : 0, t->rank, t->parts};
    loader *ld = NULL;
    float lr = 0;
    int rc = 0; /* 1: stopped early, -1: error */
    while (rc == 0 && s->epoch < c->epochs) {
        if (!ld && !(ld = loader_start(t->train, t->tr_idx, t->n_tr, t->idb, &t->norm, lo,
                                       (uint64_t)c->seed, s->epoch, s->position, err))) {
            rc = -1;
            break;
        }
        if (loop_step(t, ld, &L, &lr, err)) {
            rc = -1;
            break;
        }
        int stop = t->stop_all || (c->stop_after_steps && s->step >= c->stop_after_steps);
        if (s->epoch_steps == t->spe) {
            loader_stop(ld);
            ld = NULL;
            progress_break(&L.pr);
            rc = end_epoch(t, lr, err);
        } else if (stop || (c->checkpoint_steps && s->step % c->checkpoint_steps == 0)) {
            rc = save_checkpoint(t, err);
        }
        if (rc == 0 && stop && s->epoch < c->epochs) rc = 1;
    }
    loader_stop(ld);
    progress_break(&L.pr);
    if (rc >= 0) loop_throughput(t, &L, t->idb + t->ob);
    free(L.times);
    free(L.reduce);
    *stopped = rc == 1;
    return rc < 0 ? -1 : 0;
}

/* Test accuracy, final .weights and its sidecar. */
static int finish(trainer *t, lir_error *err) {
    const train_config *c = t->c;
    dataset *test = dataset_load(c->dataset, "test", c->data_dir[0] ? c->data_dir : NULL, err);
    if (!test) return -1;
    if (guard_labels_fit(test, t->n->classes, err)) {
        dataset_free(test);
        return -1;
    }
    report_final r;
    memset(&r, 0, sizeof r);
    trainer_bn_average(t);
    r.test_acc_flip = NAN;
    evaluate(t, test, NULL, test->n, &r.test_loss, &r.test_acc,
             c->test_flip ? &r.test_acc_flip : NULL);
    r.n_test = test->n;
    r.threads = omp_get_max_threads();
    dataset_sha256(t->train, r.train_sha256);
    dataset_sha256(test, r.test_sha256);
    dataset_free(test);
    r.cfg_path = t->opt->cfg_path;
    r.command = t->opt->command;
    r.processes = t->parts;
    snprintf(r.weights, sizeof r.weights, "%s/final.weights", c->out_dir);
    fprintf(t->out, "test: loss %.4f accuracy %.2f%% (%d images)\n", r.test_loss, r.test_acc,
            r.n_test);
    if (c->test_flip)
        fprintf(t->out, "test: accuracy %.2f%% with each image's probabilities averaged with its "
                        "mirror image's (test_flip)\n", r.test_acc_flip);
    r.n = t->n;
    r.hooks = t->hook;
    char id[96];
    dataset_base_name(c->dataset, id, sizeof id);
    r.trained_first = t->n_tr;
    if (t->base.known && !strcmp(t->base.dataset, id) && t->base.first > r.trained_first)
        r.trained_first = t->base.first;
    r.val_overlap = t->val_overlap;
    if (t->rank) return 0;
    if (net_save_weights(t->n, r.weights, err)) return -1;
    if (train_report_sidecar(c, &t->s, &r, err)) return -1;
    printf("wrote %s and %s.json\n", r.weights, r.weights);
    return 0;
}

/* The processes of the run: each one's part of the batch, its output, BN sync. */
static int trainer_parts(trainer *t, lir_error *err) {
    t->out = t->rank ? fopen("/dev/null", "w") : stdout;
    if (!t->out) return lir_fail(err, "process %d: cannot open /dev/null", t->rank);
    t->lidb = t->idb / t->parts;
    t->lob = t->ob / t->parts;
    if (t->idb % t->parts || t->ob % t->parts)
        return lir_fail(err, "config keys 'batch' %d and 'outlier_batch' %d must split into %d "
                        "equal parts, one per process (mpirun -np %d)",
                        t->idb, t->ob, t->parts, t->parts);
    if (t->parts > 1 && t->ob) t->obuf = xmalloc((size_t)t->ob * DATA_IMG * sizeof(float));
    return 0;
}

/* After the network: BN sync or the buffer to average BN statistics with. */
static void trainer_net_parts(trainer *t) {
    if (t->parts == 1) return;
    if (t->c->bn_sync) net_set_bn_sync(t->n, dist_bn_sync());
    else t->bnbuf = xmalloc((trainer_bn_stats(t->n, NULL, 0) + 1) * sizeof(float));
}

static int trainer_setup(trainer *t, lir_error *err) {
    train_config *c = t->c;
    const char *dir = c->data_dir[0] ? c->data_dir : NULL;
    if (strcmp(c->outliers, "none") && strcmp(c->outliers, "synthetic") &&
        outlier_check_name(c->outliers, c->dataset, c->eval_ood, err))
        return -1;
    t->train = dataset_load(c->dataset, "train", dir, err);
    if (!t->train) return -1;
    if (data_norm_for(c->dataset, &t->norm, err)) return -1;
    if (data_holdout(t->train->n, c->val_size, &t->tr_idx, &t->val_idx, err) ||
        guard_val_overlap(c, t->train->n, &t->base, &t->val_overlap, err))
        return -1;
    t->n_tr = t->train->n - c->val_size;
    t->n_val = c->val_size;
    t->idb = c->batch;
    t->ob = strcmp(c->outliers, "none") ? c->outlier_batch : 0;
    if (t->n_tr < t->idb)
        return lir_fail(err, "config key 'batch': %d is more than the %d training images", t->idb,
                        t->n_tr);
    t->spe = t->n_tr / t->idb; /* a short last batch is dropped */
    t->total = t->spe * c->epochs;
    if (trainer_parts(t, err)) return -1;
    net_options no = {t->lidb + t->lob, c->classes ? c->classes : t->train->classes, 1,
                      (uint64_t)c->seed};
    t->n = net_build(t->opt->cfg, &no, err);
    if (!t->n) return -1;
    net_set_precision(t->n, precision_parse(c->precision));
    if (t->n->layers[t->n->n_layers - 1].type != LAYER_SOFTMAX)
        return lir_fail(err, "%s: training needs a network that ends in [softmax]",
                        t->opt->cfg_path);
    t->n->layers[t->n->n_layers - 1].u.softmax.smoothing = c->label_smoothing;
    if (guard_labels_fit(t->train, t->n->classes, err)) return -1;
    if (c->init_weights[0] && net_load_weights(t->n, c->init_weights, err)) return -1;
    if (hooks_attach(t, err) || config_check(c, err) || schedule_build(t, err)) return -1;
    trainer_net_parts(t);
    sgd_config sc = {c->momentum, c->weight_decay, c->nesterov, t->parts};
    t->o = sgd_create(t->n->tensors, t->n->n_tensors, &sc);
    size_t B = (size_t)t->n->batch;
    t->x = xcalloc(B * DATA_IMG, sizeof(float));
    t->labels = xcalloc(B, sizeof(int));
    t->is_out = xcalloc(B, 1);
    for (size_t b = (size_t)t->lidb; b < B; b++) t->labels[b] = -1, t->is_out[b] = 1;
    t->ck = (checkpoint_parts){config_hash(c), t->n, t->hook, c->n_hooks, t->o, &t->s};
    snprintf(t->ckpt, sizeof t->ckpt, "%s/checkpoint.bin", c->out_dir);
    return make_dirs(c->out_dir, err);
}

static void trainer_free(trainer *t) {
    outlier_close(t->outl);
    if (t->out && t->out != stdout) fclose(t->out);
    free(t->obuf);
    free(t->bnbuf);
    free(t->x);
    free(t->labels);
    free(t->is_out);
    sgd_free(t->o);
    net_free(t->n);
    dataset_free(t->train);
    free(t->tr_idx);
    free(t->val_idx);
    free(t->s.records);
}

/* The effective config, the data split and its processes, and what is known of the
 * validation images (process 0 alone prints). */
static void print_header(const trainer *t) {
    const train_config *c = t->c;
    char *js = config_to_json(c);
    fprintf(t->out, "effective config (%s/config.json):\n%s\n", c->out_dir, js);
    free(js);
    fprintf(t->out, "%s: %d train / %d validation images, %ld steps of %d ID + %d outlier "
            "images per epoch, %ld steps", c->dataset, t->n_tr, t->n_val, t->spe, t->idb, t->ob,
            t->total);
    if (t->parts > 1)
        fprintf(t->out, ", on %d processes (%d + %d images each, batch norm %s)", t->parts,
                t->lidb, t->lob, c->bn_sync ? "over all" : "per process");
    fprintf(t->out, "\n");
    if (c->init_weights[0] && !t->base.known)
        fprintf(t->out, "note: not checked whether the validation images were among those %s "
                "was trained on: its sidecar %s.json does not say (%s)\n",
                c->init_weights, c->init_weights, t->base.note);
    if (t->val_overlap && t->rank == 0)
        fprintf(stderr, "lir train: warning: %ld of the %d validation images were in the "
                "training images of %s (allow_val_overlap): validation accuracy is inflated\n",
                t->val_overlap, t->n_val, c->init_weights);
}

/* Setup, then a new run's config file and calibration or the checkpoint's state, and the
 * outlier source; the processes checked to hold the same state. */
static int run_start(trainer *t, lir_error *err) {
    const train_config *c = t->c;
    if (trainer_setup(t, err)) return -1;
    print_header(t);
    if (t->opt->resume) {
        ckpt_run run = {c->epochs, t->spe, t->idb, t->n_val > 0};
        if (checkpoint_load(t->ckpt, &t->ck, &run, err)) return -1;
        t->have_ckpt = 1;
        fprintf(t->out, "resumed from %s at epoch %d, step %ld\n", t->ckpt, t->s.epoch + 1,
                t->s.step);
    } else {
        memset(&t->s, 0, sizeof t->s);
        if ((t->rank == 0 && train_report_config(c, err)) || trainer_calibrate(t, err)) return -1;
    }
    if (!dist_same(trainer_state_hash(t)))
        return lir_fail(err, "the %d processes do not hold the same network after setup (do "
                        "they read the same --init-weights / checkpoint files?)", t->parts);
    if (t->ob) {
        t->outl = outlier_open(c, t->train, t->tr_idx, t->n_tr, &t->norm, t->ob,
                               (uint64_t)c->seed ^ 0x0a71e5ULL,
                               t->opt->resume ? &t->s.opos : NULL, err);
        if (!t->outl) return -1;
    }
    return 0;
}

int train_run(const train_options *opt, train_config *c, lir_error *err) {
    trainer t;
    memset(&t, 0, sizeof t);
    t.c = c;
    t.opt = opt;
    int rc = -1;
    if (dist_start(err)) goto done;
    t.parts = dist_size();
    t.rank = dist_rank();
    if (run_start(&t, err)) goto done;
    int stopped;
    stop_signal = 0;
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    int lrc = train_loop(&t, &stopped, err);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (lrc) goto done;
    if (stopped && t.stop_all) {
        lir_fail(err, "interrupted by signal %d after step %ld; checkpoint written, continue with "
                 "--resume %s", stop_signal ? (int)stop_signal : SIGTERM, t.s.step, c->out_dir);
        goto done;
    }
    if (stopped) {
        fprintf(t.out, "stopped after %ld steps as asked, with a checkpoint; continue with "
                "--resume %s\n", t.s.step, c->out_dir);
        rc = 0;
        goto done;
    }
    rc = finish(&t, err);
done:
    if (rc && t.parts > 1) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        lir_fail(err, "process %d of %d: %s", t.rank, t.parts, msg);
    }
    trainer_free(&t);
    return rc;
}
