/* train: `lir train`: the run configuration, SGD and schedules, outlier sources and
 * the training loop. Includes nn, data, report, base. */
#ifndef LIR_TRAIN_H
#define LIR_TRAIN_H

#include <stdint.h>
#include <stdio.h>

#include "data/data.h"
#include "nn/nn.h"
#include "report/report.h"
#include "base/base.h"

/* config: the run configuration of `lir train`: every setting with its type, range,
 * default and one line of documentation in one table (config.c), filled in this order:
 *   built-in defaults < the cfg's [net] section < a JSON run config < command-line flags.
 * Parsing is strict: unknown keys, wrong types and out-of-range values are refused
 * with a message naming the key. The effective config is written back as JSON. */



#define CONFIG_MAX_HOOKS 64
#define LR_MAX_STEPS 16

/* One regularised hook point (R-EBO, docs/method.md section 7): its point and its settings
 * as the net's hook takes them (lambda, loss kind, margins; the margins are set at the
 * start of a run when reg.calibrate). */
typedef struct {
    char point[64];
    hook_reg reg;
} config_hook;

typedef struct {
    /* data */
    char dataset[96];
    char data_dir[1024];
    int val_size;
    int allow_val_overlap; /* train although validation holds init_weights' training images */
    int augment;
    int cutout; /* side of the Cutout square, 0: off (with augment only) */
    int classes;
    /* optimisation */
    int epochs;
    int batch;
    float lr, momentum, weight_decay, min_lr;
    int nesterov;
    float label_smoothing; /* eps of the CE target (1 - eps) one-hot + eps / classes */
    char precision[8]; /* "fp32" or "bf16": of the conv and fc GEMMs */
    char policy[16];
    int warmup_epochs;
    char lr_steps[256];  /* epochs, "50,75" (decimals allowed: "5,7.5") */
    char lr_scales[256]; /* "0.1,0.1" */
    /* The cfg's steps= as fractions of its max_batches, n_cfg_steps of them, while no
     * later source set lr_steps (config_scale_cfg_steps turns them into lr_steps). */
    int n_cfg_steps;
    double cfg_step_frac[LR_MAX_STEPS];
    int64_t seed;
    char init_weights[1024];
    /* R-EBO */
    char outliers[96]; /* "none", or a source / mixture (see outlier below) */
    char outlier_split[16];
    int outlier_batch;
    char synthetic[128]; /* comma list of patch_shuffle, mix, noise */
    char eval_ood[512];  /* comma list of the planned evaluation's OOD sets */
    int calib_batches;
    float calib_quantile, calib_spread;
    int n_hooks;
    config_hook hooks[CONFIG_MAX_HOOKS];
    /* run control (not part of the config hash) */
    int bn_sync; /* data-parallel: batch statistics over all processes */
    char out_dir[1024];
    int checkpoint_steps;
    float progress_seconds;
    int stop_after_steps;
    int test_flip; /* final test: also with probabilities averaged over the mirror image */
} train_config;

/* Fills the settings a parsed cfg's [net] section gives (batch, learning_rate, momentum,
 * decay, policy, steps/scales, burn_in, max_batches) into c, the only reader of these
 * keys (the network builder accepts them unread; Darknet's power= is accepted and not
 * used). max_batches and burn_in count batches of the full train split of c->dataset
 * (the built-in cifar10: 50,000 images; a dataset set later does not rescale them);
 * steps are kept as fractions of max_batches (c->cfg_step_frac), so the schedule keeps
 * its shape when epochs change: see config_scale_cfg_steps. */
int config_from_cfg(train_config *c, const cfg_file *cfg, lir_error *err);

/* The rule of a cfg's steps=: each step s of a cfg with max_batches M fires at the
 * fraction s / M of the run, whatever its length, so lr_steps = (s / M) * c->epochs
 * epochs (printed with up to 9 significant digits, e.g. "5,7.5" for steps=19550,29325
 * at max_batches=39100 and 10 epochs). Call it once every source has been applied:
 * epochs from the cfg, a JSON config, --epochs or --set all scale the steps. An
 * lr_steps set by a later source (JSON, --set) is taken as given, in epochs, and ends
 * the rule (config_set / config_apply_json clear c->n_cfg_steps). */
void config_scale_cfg_steps(train_config *c);

/* Built-in defaults (see docs/train-config.md). */
void config_defaults(train_config *c);

/* Sets one top-level key from text (a flag value or cfg value); -1 naming the key
 * and the accepted range. "hooks" cannot be set this way. */
int config_set(train_config *c, const char *key, const char *value, lir_error *err);
/* For a flag that sets key: the value's name in usage texts ("<int>", "<float>",
 * "<str>", "true|false" or the choices) and the built-in default; -1: unknown key. */
int config_key_usage(const char *key, const char **value_name, const char **def);

/* Applies a JSON document (an object) over c; what names it in messages. */
int config_apply_json(train_config *c, const char *text, const char *what, lir_error *err);
int config_load_file(train_config *c, const char *path, lir_error *err);

/* Checks the cross-key rules (e.g. m_out > m_in for hooks with fixed margins). */
int config_check(const train_config *c, lir_error *err);

/* Adds (or replaces, by point name) a hook; -1 when the table is full. */
int config_add_hook(train_config *c, const config_hook *h, lir_error *err);

/* The cfg's [hook] sections that regularise (lambda > 0 or calibrate=1) join c's hooks,
 * in network order, after the ones c has; a hook c already has on the same point wins.
 * This is how cfg hooks reach a run: the trainer attaches c's hooks, and only those. */
int config_add_cfg_hooks(train_config *c, const cfg_file *cfg, lir_error *err);

/* The effective config as a JSON text (malloc'd). */
char *config_to_json(const train_config *c);

/* FNV-1a hash of every setting that changes the training result (run-control keys
 * out_dir, checkpoint_steps, progress_seconds, stop_after_steps and data_dir excluded). */
uint64_t config_hash(const train_config *c);

/* The shortest decimal that reads back as the same float, as a double (for JSON:
 * 0.01f prints as 0.01, not 0.0099999998). */
double config_float(float v);

/* Markdown table of every key (type, default, range, meaning), for the docs. */
void config_print_doc(FILE *f);

/* optim: SGD with momentum (PyTorch's torch.optim.SGD update, dampening 0) and
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
/* The same with the steps given in epochs (decimals allowed, "5,7.5"): each becomes
 * step round(epoch * steps_per_epoch); -1 with a message unless they are >= 0 and
 * still increase as steps. */
int lr_schedule_set_epoch_steps(lr_schedule *s, const char *epochs, const char *scales,
                                long steps_per_epoch, lir_error *err);
/* Rate for step (0-based) of a run of total steps. */
float lr_at(const lr_schedule *s, long step, long total);

/* ---- SGD ------------------------------------------------------------------------- */
typedef struct {
    float momentum;     /* mu */
    float weight_decay; /* wd, applied to tensors with decay = 1 only */
    int nesterov;
    int accumulate;     /* k >= 1 micro-batches summed into dw per step: g scaled by 1/k */
} sgd_config;

/* The parameters it updates are one block of tensors back to back (a net's
 * parameter arena: net.params, net.grads, net.tensors). */
typedef struct {
    sgd_config cfg;
    int n_tensors;
    size_t *sizes;        /* [n_tensors] elements per tensor (checked on load) */
    size_t n;             /* elements of all tensors */
    float *vel;           /* [n] momentum, tensors back to back, zero at start */
    unsigned char *decay; /* [n] 1 where weight decay applies (the tensor's flag) */
    long step;            /* steps taken so far */
    int nonfinite;        /* 1 when the last step left a weight or velocity that is not
                             finite (a non-finite gradient shows there too), else 0 */
} sgd;

/* Momentum for the n_tensors tensors t, back to back. */
sgd *sgd_create(const param_tensor *t, int n_tensors, const sgd_config *cfg);
void sgd_free(sgd *o);
/* One update of all n parameters w with gradients dw at rate lr, one loop over the
 * block; increments o->step. n must be the optimiser's (checked: -1 with a message). */
int sgd_step(sgd *o, float *w, const float *dw, size_t n, float lr, lir_error *err);

/* Optimiser state for checkpoints: magic "LIRSGD01", uint32 tensor count, int64 step,
 * uint64 size of each tensor, then the momentum of each tensor in order as float32
 * (host order).
 * Load checks the magic, count and every size against o, naming file and offset. */
int sgd_save(const sgd *o, FILE *f, const char *path, lir_error *err);
int sgd_load(sgd *o, FILE *f, const char *path, lir_error *err);

/* outlier: outlier batches for R-EBO training (label -1, is_outlier = 1).
 * The config key "outliers" names one source or a mixture "a[:w]+b[:w]" (at most
 * OUTLIER_MAX_PARTS parts, weights > 0, normalised; unweighted parts weigh 1). Each
 * batch takes a fixed number of outliers from each part: floor(w * batch), the rest
 * going to the largest remainders, parts in the order given. Kinds of part:
 *   dataset   any set lir can load (name, config "outlier_split"; e.g. tinyimages300k),
 *             shuffled and augmented like the ID data by its own seeded loader;
 *   photos    endless random crops of the photos corpus (data.h: photo_crop), from
 *             the part's own rng_state;
 *   synthetic made on the fly from the ID training images, so R-EBO needs no extra
 *             data. Each outlier uses one transform chosen at random from the
 *             config's list:
 *               patch_shuffle  the 4x4 grid of 8x8 patches of one image permuted:
 *                              colours, textures and edges stay ID-like, the object's
 *                              layout is destroyed (a semantic outlier whose low-level
 *                              statistics match ID, the case deep layers must catch)
 *               mix            pixel blend (weight 0.35..0.65) of two images of
 *                              different classes: ID-like content, no single class
 *               noise          one image plus Gaussian noise, sigma 0.1..0.3 in [0,1]
 *                              units: a covariate-shift outlier, the kind the paper says
 *                              intermediate layers catch
 * Part i is seeded with seed + i * 0x9e3779b97f4a7c15 (part 0: the seed itself, so a
 * single source gives the stream it gave before mixtures existed); its generator state
 * or loader position is saved in checkpoints (outlier_pos). A dataset or photos part is
 * refused when it is the ID set or one of the planned eval OOD sets. */



#define OUTLIER_MAX_PARTS 4

typedef struct outlier_source outlier_source;

/* The parsed "outliers" spec: part names and normalised weights. */
typedef struct {
    int n;
    char name[OUTLIER_MAX_PARTS][96];
    float weight[OUTLIER_MAX_PARTS];
} outlier_spec;
int outlier_parse(const char *spec, outlier_spec *s, lir_error *err);

/* Position of each part for checkpoints: its generator's state (synthetic, photos) or
 * its dataset loader's (epoch, position). */
typedef struct {
    rng_state rng;
    int epoch, position;
} outlier_part_pos;
typedef struct {
    outlier_part_pos part[OUTLIER_MAX_PARTS];
} outlier_pos;

/* id/train_idx/n_train: the ID training images synthetic outliers are made from;
 * norm: the ID normaliser (applied to outliers too); batch: outliers per call;
 * seed: stream seed; pos: where to start (NULL: the beginning). */
outlier_source *outlier_open(const train_config *c, const dataset *id, const int *train_idx,
                             int n_train, const data_norm *norm, int batch, uint64_t seed,
                             const outlier_pos *pos, lir_error *err);
/* Fills out [batch][3][32][32] with the next outliers. */
void outlier_next(outlier_source *o, float *out);
void outlier_position(const outlier_source *o, outlier_pos *pos);
void outlier_close(outlier_source *o);

/* Checks that spec (one source or a mixture) may serve as outliers for ID set
 * id_name given the planned eval OOD list (comma separated): each part's base name
 * (before '@') must differ from both. */
int outlier_check_name(const char *spec, const char *id_name, const char *eval_ood,
                       lir_error *err);
/* `lir eval`'s side of the same rule: when <weights>.json (the training sidecar) names
 * outlier sources, none of them may be among the OOD sets of out_list (comma
 * separated); a missing or unreadable sidecar passes (nothing is known). */
int outlier_check_eval(const char *weights, const char *out_list, lir_error *err);

/* The synthetic transforms on uint8 images [3][32][32]. */
void outlier_patch_shuffle(const uint8_t *src, uint8_t *dst, rng_state *r);
void outlier_mix(const uint8_t *a, const uint8_t *b, uint8_t *dst, float t);

/* dist: the processes of a data-parallel training run (`mpirun -np K lir train`). Built
 * with MPI (`make MPI=1`: dist_mpi.c) they are the MPI ranks; the default build
 * (dist_none.c) is always one process and refuses to start as one of several. Every
 * process holds the whole network and optimiser and 1/K of each batch; the calls below
 * are collective: every process makes them in the same order. With one process they
 * do nothing. */

/* Once per process, before any other: MPI_Init when started by an MPI launcher
 * (OMPI_COMM_WORLD_SIZE, PMI_SIZE or PMIX_RANK set), else one process. The default build
 * refuses with a message when such a variable says there are more processes. */
int dist_start(lir_error *err);
int dist_rank(void);
int dist_size(void);
/* At the end of the process, after its messages: waits for the other processes to end
 * too, then MPI_Finalize; 0. With failed, it waits DIST_STOP_WAIT seconds at most (a
 * process that failed alone leaves the others waiting in a collective call) and returns
 * -1 when they did not come: the caller says so and calls dist_abort. */
#define DIST_STOP_WAIT 30
int dist_stop(int failed);
/* MPI_Abort: every process of the run ends (with several processes; else nothing). */
void dist_abort(void);
/* buf[0..n) := its sum over the processes. */
void dist_sum_float(float *buf, size_t n);
void dist_sum_double(double *buf, int n);
/* all[p * n .. (p + 1) * n) := process p's mine[0..n). */
void dist_gather_float(const float *mine, int n, float *all);
/* 1 when every process passed the same v, else 0. */
int dist_same(uint64_t v);
/* Wall seconds spent in dist_sum_float so far (the gradient allreduce). */
double dist_sum_seconds(void);
/* What runs the processes: "MPI (<library version>), mpirun -np K lir train" or
 * "none (built without MPI; make MPI=1)". */
const char *dist_kind(void);
/* The batch-norm synchronisation of the processes (net_set_bn_sync), NULL with one. */
const bn_sync *dist_bn_sync(void);

/* train: `lir train`: the training loop (train.c) on a Darknet cfg with a
 * train_config (config.c): ID batches from the augmenting loader plus, for R-EBO,
 * outlier batches (outlier.c) in the same forward; CE + sum_l lambda_l R_l through
 * net_loss_backward; SGD with a schedule; per-epoch validation, CSV log, curve plots,
 * atomic checkpoints (checkpoint.h) and exact resume; final test accuracy, Darknet
 * .weights and a JSON sidecar. */


/* What weights were trained on, as their sidecar <weights>.json says (guard.c): the
 * first `first` images of the train split of `dataset` (a base name: cifar10@jpeg75 is
 * cifar10). Read from its "train_images" (written by lir train since this rule exists:
 * the run's own and its base's, whichever reaches further), else from its "config" and
 * each of its "stages"' configs (dataset, val_size: the first n - val_size images, n
 * being the split's size). A fine-tune checks its validation images against its
 * init_weights' (guard.h), `lir eval` its held-out fit images against the weights'. */
typedef struct {
    int known;        /* 0: no sidecar, or one that does not say (why: in note) */
    char dataset[96];
    long first;
    char note[160];
} guard_base;

/* Reads what weights were trained on into b, for a run on dataset_name whose train split
 * has n_split images; returns how many of its last `last` images they were trained on
 * (0: none, or unknown: b->known 0, why in b->note). */
long guard_base_read(const char *weights, const char *dataset_name, int n_split, int last,
                     guard_base *b);

typedef struct {
    const char *cfg_path;
    const cfg_file *cfg; /* cfg_path parsed (once, by the caller) */
    const char *command; /* the command line, for the sidecar */
    int resume;          /* continue from <out_dir>/checkpoint.bin */
} train_options;

/* One training step's forward and backward on x ([net->batch][c*h*w]; outliers have
 * label -1 and is_outlier 1; is_outlier NULL: all ID): zeroes, then accumulates every
 * gradient. Returns the loss the gradients belong to, CE + sum over hooks of
 * lambda * R (NaN when the network's output is not finite); *ce gets the CE alone. */
double train_forward_backward(net *n, const float *x, const int *labels,
                              const unsigned char *is_outlier, double *ce);

/* Runs (or resumes) a training run with config c; results in c->out_dir. */
int train_run(const train_options *opt, train_config *c, lir_error *err);

#endif
