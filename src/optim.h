/* optim.h: SGD with momentum (PyTorch's torch.optim.SGD update, dampening 0) and
 * learning-rate schedules written as pure functions of (step, total steps), so a
 * resumed run only needs its step counter plus the momentum buffers (sgd_save /
 * sgd_load).
 *
 * Update of every element, g = grad_scale * dw (+ wd * w on tensors with decay=1):
 *     v = mu * v + g
 *     plain:     w -= lr * v
 *     Nesterov:  w -= lr * (g + mu * v)
 * which is torch.optim.SGD(momentum=mu, dampening=0, weight_decay=wd, nesterov=..)
 * (its first step sets v = g, the same as v starting at 0). With mu = 0 it is
 * w -= lr * g. grad_scale is 1/k when k micro-batches were accumulated into dw.
 */
#ifndef LIR_OPTIM_H
#define LIR_OPTIM_H

#include <stdio.h>

#include "layers.h"
#include "util.h"

/* ---- learning-rate schedules ---------------------------------------------------- */
typedef enum {
    LR_CONSTANT, /* base_lr */
    LR_STEPS,    /* Darknet "steps": base_lr times every scales[i] with steps[i] <= step */
    LR_COSINE,   /* min_lr + (base_lr - min_lr) * (1 + cos(pi * t)) / 2,
                    t = (step - warmup) / (total - warmup) (torch CosineAnnealingLR,
                    T_max = total - warmup, eta_min = min_lr) */
    LR_ONECYCLE, /* torch OneCycleLR (anneal cos, two phases, no momentum cycling):
                    base_lr/div_factor -> base_lr over pct_start*total - 1 steps, then
                    cos down to base_lr/(div_factor*final_div) at step total - 1 */
    LR_POLY      /* Darknet "poly" / torch PolynomialLR: base_lr * (1 - step/total)^power */
} lr_policy;

#define LR_MAX_STEPS 16

typedef struct {
    lr_policy policy;
    float base_lr;
    /* Linear warm-up (all policies but one-cycle): for step < warmup the rate is
     * the policy's rate times (step + 1) / warmup. */
    int warmup;
    int n_steps;                 /* LR_STEPS */
    int steps[LR_MAX_STEPS];     /* increasing step numbers */
    float scales[LR_MAX_STEPS];
    float min_lr;                /* LR_COSINE */
    float div_factor, final_div; /* LR_ONECYCLE (torch defaults 25, 1e4) */
    float pct_start;             /* LR_ONECYCLE (torch default 0.3) */
    float power;                 /* LR_POLY (Darknet default 4) */
} lr_schedule;

/* Fills the schedule with a policy and defaults: no warm-up, min_lr 0, one-cycle
 * torch defaults, poly power 4. */
void lr_schedule_init(lr_schedule *s, lr_policy policy, float base_lr);
/* Parses "constant", "steps", "cosine" (or Darknet-style "cos"), "onecycle", "poly";
 * -1 if unknown. */
int lr_policy_parse(const char *name);
const char *lr_policy_name(lr_policy p);
/* Parses Darknet's "steps=a,b,c" / "scales=x,y,z" lists into s; -1 with a message. */
int lr_schedule_set_steps(lr_schedule *s, const char *steps, const char *scales,
                          lir_error *err);
/* Rate for step (0-based) of a run of total steps. */
float lr_at(const lr_schedule *s, long step, long total);

/* ---- SGD ------------------------------------------------------------------------- */
typedef struct {
    float momentum;     /* mu */
    float weight_decay; /* wd, applied to tensors with decay = 1 only */
    int nesterov;
    int accumulate;     /* k >= 1 micro-batches summed into dw per step: g scaled by 1/k */
} sgd_config;

typedef struct {
    sgd_config cfg;
    int n;          /* number of tensors */
    size_t *sizes;  /* [n] elements per tensor (checked on every step and load) */
    float **vel;    /* [n] momentum buffers, zero at start */
    long step;      /* steps taken so far */
} sgd;

/* Momentum buffers shaped like the n tensors of p. */
sgd *sgd_create(const param_tensor *p, int n, const sgd_config *cfg);
void sgd_free(sgd *o);
/* One update of all tensors with rate lr; increments o->step. The tensors must be the
 * ones given to sgd_create (same count and sizes, checked: -1 with a message). */
int sgd_step(sgd *o, param_tensor *p, int n, float lr, lir_error *err);

/* Optimiser state for checkpoints: magic "LIRSGD01", uint32 tensor count, int64 step,
 * uint64 size of each tensor, then each momentum buffer as float32 (host order).
 * Load checks the magic, count and every size against o, naming file and offset. */
int sgd_save(const sgd *o, FILE *f, const char *path, lir_error *err);
int sgd_load(sgd *o, FILE *f, const char *path, lir_error *err);

#endif
