/* test_optim.c: SGD updates and learning-rate schedules against values worked out
 * by hand (in the comments), and the optimiser state's save/load checks.
 *
 * With --trace it instead runs a scenario read from stdin and prints the results,
 * for tests/test_optim_torch.py to compare with torch.optim.SGD and torch's
 * schedulers:
 *   sgd  <momentum> <wd> <nesterov> <accumulate> <n_tensors>
 *        <size> <decay>      (per tensor)
 *        <w...>              (all tensors' initial values)
 *        <n_steps>, then per step: <lr> <dw...>
 *     -> prints the final w values, one per line
 *   lr   <policy> <base_lr> <total> <warmup> <min_lr> <div> <final_div> <pct_start>
 *        <power> <n_steps> [<step> <scale>]...
 *     -> prints lr_at(step, total) for step = 0..total-1
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "train/train.h"

static void test_updates(void) {
    lir_error err;
    /* three tensors of one element, back to back: decay, no decay, decay */
    float w[3] = {1, 1, 1}, dw[3];
    param_tensor p[3] = {{1, 1}, {1, 0}, {1, 1}};
    sgd_config cfg = {.momentum = 0.9f, .weight_decay = 0.1f, .nesterov = 0, .accumulate = 1};
    sgd *o = sgd_create(p, 2, &cfg);
    /* step 1, lr 0.5, dw 1:
     *   decay:    g = 1 + 0.1*1 = 1.1, v = 1.1, w = 1 - 0.55 = 0.45
     *   no decay: g = 1, v = 1, w = 0.5 */
    dw[0] = dw[1] = 1;
    CHECK(sgd_step(o, w, dw, 2, 0.5f, &err) == 0, "step: %s", err.msg);
    CHECK_CLOSE(w[0], 0.45, 1e-6, 0, "plain decay step 1");
    CHECK_CLOSE(w[1], 0.5, 1e-6, 0, "plain no-decay step 1");
    /* step 2, dw 2:
     *   decay:    g = 2 + 0.1*0.45 = 2.045, v = 0.99 + 2.045 = 3.035, w = 0.45 - 1.5175
     *   no decay: g = 2, v = 0.9 + 2 = 2.9, w = 0.5 - 1.45 */
    dw[0] = dw[1] = 2;
    CHECK(sgd_step(o, w, dw, 2, 0.5f, &err) == 0, "step: %s", err.msg);
    CHECK_CLOSE(w[0], -1.0675, 1e-6, 0, "plain decay step 2");
    CHECK_CLOSE(w[1], -0.95, 1e-6, 0, "plain no-decay step 2");
    CHECK(o->step == 2, "step counter %ld", o->step);
    /* a block of another size is refused */
    CHECK(sgd_step(o, w, dw, 3, 0.5f, &err) == -1, "3 parameters accepted by a 2-parameter "
                                                  "optimiser");
    sgd_free(o);

    /* Nesterov, same inputs:
     * step 1: g = 1.1, v = 1.1, w = 1 - 0.5*(1.1 + 0.99) = -0.045
     * step 2: g = 2 - 0.0045 = 1.9955, v = 0.99 + 1.9955 = 2.9855,
     *         w = -0.045 - 0.5*(1.9955 + 2.68695) = -2.386225 */
    w[0] = 1;
    cfg.nesterov = 1;
    o = sgd_create(p, 1, &cfg);
    dw[0] = 1;
    sgd_step(o, w, dw, 1, 0.5f, &err);
    CHECK_CLOSE(w[0], -0.045, 1e-6, 0, "nesterov step 1");
    dw[0] = 2;
    sgd_step(o, w, dw, 1, 0.5f, &err);
    CHECK_CLOSE(w[0], -2.386225, 1e-6, 0, "nesterov step 2");
    sgd_free(o);

    /* accumulate 4, no momentum, no decay: dw 8 is the sum of 4 micro-batches,
     * g = 2, w = 1 - 0.25*2 = 0.5 */
    w[1] = 1;
    dw[1] = 8;
    sgd_config acc = {.momentum = 0, .weight_decay = 0.1f, .nesterov = 0, .accumulate = 4};
    o = sgd_create(&p[1], 1, &acc);
    sgd_step(o, w + 1, dw + 1, 1, 0.25f, &err);
    CHECK_CLOSE(w[1], 0.5, 1e-7, 0, "accumulated step");
    sgd_free(o);
}

/* A large tensor (OpenMP path) gives the same values as the scalar formula. */
static void test_large(void) {
    lir_error err;
    size_t n = 200003;
    float *w = xmalloc(n * sizeof *w), *dw = xmalloc(n * sizeof *dw);
    rng_state r;
    rng_seed(&r, 7);
    for (size_t i = 0; i < n; i++) {
        w[i] = rng_normal(&r);
        dw[i] = rng_normal(&r);
    }
    float w0 = w[12345], g0 = dw[12345];
    param_tensor p = {n, 1};
    sgd_config cfg = {.momentum = 0.9f, .weight_decay = 5e-4f, .nesterov = 1, .accumulate = 1};
    sgd *o = sgd_create(&p, 1, &cfg);
    sgd_step(o, w, dw, n, 0.1f, &err);
    float g = g0 + 5e-4f * w0;
    CHECK_CLOSE(w[12345], w0 - 0.1f * (g + 0.9f * g), 1e-6, 1e-6, "large tensor element");
    CHECK_CLOSE(o->vel[12345], g, 1e-7, 1e-6, "large tensor momentum");
    sgd_free(o);
    free(w);
    free(dw);
}

static void test_schedules(void) {
    lir_error err;
    lr_schedule s;
    lr_schedule_init(&s, LR_CONSTANT, 0.1f);
    CHECK_CLOSE(lr_at(&s, 500, 1000), 0.1, 1e-8, 0, "constant");

    /* Darknet steps 2,4 scales .1,.5: rate 1 before step 2, 0.1 from 2, 0.05 from 4 */
    lr_schedule_init(&s, LR_STEPS, 1.0f);
    CHECK(lr_schedule_set_steps(&s, "2, 4", ".1,.5", &err) == 0, "steps: %s", err.msg);
    CHECK_CLOSE(lr_at(&s, 1, 10), 1.0, 1e-7, 0, "steps before first");
    CHECK_CLOSE(lr_at(&s, 2, 10), 0.1, 1e-7, 0, "steps at first");
    CHECK_CLOSE(lr_at(&s, 3, 10), 0.1, 1e-7, 0, "steps between");
    CHECK_CLOSE(lr_at(&s, 4, 10), 0.05, 1e-7, 0, "steps at second");
    CHECK(lr_schedule_set_steps(&s, "2,4", ".1", &err) == -1, "mismatched lists accepted");
    CHECK(strstr(err.msg, "scales has 1") != NULL, "message: %s", err.msg);
    CHECK(lr_schedule_set_steps(&s, "4,2", ".1,.1", &err) == -1, "decreasing steps accepted");
    CHECK(lr_schedule_set_steps(&s, "2.5", ".1", &err) == -1, "a fractional batch step accepted");
    /* lr_steps in epochs, decimals allowed: epochs 5 and 7.5 at 10 steps per epoch */
    CHECK(lr_schedule_set_epoch_steps(&s, "5,7.5", ".1,.1", 10, &err) == 0 && s.n_steps == 2 &&
              s.steps[0] == 50 && s.steps[1] == 75,
          "epoch steps 5,7.5 at 10 per epoch: %d,%d (%s)", s.steps[0], s.steps[1], err.msg);
    CHECK(lr_schedule_set_epoch_steps(&s, "0.5,0.6", ".1,.1", 2, &err) == -1 &&
              strstr(err.msg, "increase as steps"),
          "epochs that fall on one step refused: %s", err.msg);
    CHECK(lr_schedule_set_epoch_steps(&s, "-1", ".1", 2, &err) == -1, "negative epoch accepted");
    CHECK(lr_schedule_set_steps(&s, "2,x", ".1,.1", &err) == -1, "bad number accepted");

    /* cosine, base 1, min 0, 10 steps: step 0 -> 1, step 5 -> 0.5, past the end -> 0 */
    lr_schedule_init(&s, LR_COSINE, 1.0f);
    CHECK_CLOSE(lr_at(&s, 0, 10), 1.0, 1e-7, 0, "cosine start");
    CHECK_CLOSE(lr_at(&s, 5, 10), 0.5, 1e-7, 0, "cosine middle");
    CHECK_CLOSE(lr_at(&s, 20, 10), 0.0, 1e-7, 0, "cosine past end");
    /* warm-up 2 of 12: step 0 -> 1/2, step 1 -> 1, step 7 -> t = 5/10 -> 0.5;
     * min_lr 0.2: step 7 -> 0.2 + 0.8*0.5 = 0.6 */
    s.warmup = 2;
    CHECK_CLOSE(lr_at(&s, 0, 12), 0.5, 1e-7, 0, "warm-up step 0");
    CHECK_CLOSE(lr_at(&s, 1, 12), 1.0, 1e-7, 0, "warm-up step 1");
    CHECK_CLOSE(lr_at(&s, 7, 12), 0.5, 1e-7, 0, "after warm-up");
    s.min_lr = 0.2f;
    CHECK_CLOSE(lr_at(&s, 7, 12), 0.6, 1e-6, 0, "cosine min_lr");

    /* one-cycle, max 1, 100 steps, pct 0.3: phase 1 ends at step 29;
     * step 0 -> 1/25, step 29 -> 1, step 64 (half of phase 2) -> (1 + 4e-6)/2,
     * step 99 -> 0.04/1e4 */
    lr_schedule_init(&s, LR_ONECYCLE, 1.0f);
    CHECK_CLOSE(lr_at(&s, 0, 100), 0.04, 1e-7, 0, "one-cycle start");
    CHECK_CLOSE(lr_at(&s, 29, 100), 1.0, 1e-7, 0, "one-cycle peak");
    CHECK_CLOSE(lr_at(&s, 64, 100), 0.500002, 1e-7, 0, "one-cycle middle of phase 2");
    CHECK_CLOSE(lr_at(&s, 99, 100), 4e-6, 1e-10, 0, "one-cycle end");

    /* poly, power 2, 10 steps: step 5 -> 0.25, step 10 -> 0 */
    lr_schedule_init(&s, LR_POLY, 1.0f);
    s.power = 2;
    CHECK_CLOSE(lr_at(&s, 5, 10), 0.25, 1e-7, 0, "poly middle");
    CHECK_CLOSE(lr_at(&s, 10, 10), 0.0, 1e-7, 0, "poly end");

    CHECK(lr_policy_parse("cosine") == LR_COSINE, "parse cosine");
    CHECK(lr_policy_parse("cos") == LR_COSINE, "parse cos");
    CHECK(lr_policy_parse("poly") == LR_POLY, "parse poly");
    CHECK(lr_policy_parse("sgdr") == -1, "unknown policy parsed");
    CHECK(!strcmp(lr_policy_name(LR_STEPS), "steps"), "policy name");
}

/* Opens path, seeks to off and loads the optimiser state from there. */
static int load_at(sgd *o, const char *path, long off, lir_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return lir_fail(err, "cannot open %s", path);
    int rc = fseek(f, off, SEEK_SET) ? -1 : sgd_load(o, f, path, err);
    fclose(f);
    return rc;
}

static void test_state_io(void) {
    lir_error err;
    float w[5] = {1, 2, 3, 4, 5}, dw[5] = {.5f, -1, 2, 0, 1};
    param_tensor p[2] = {{2, 1}, {3, 0}};
    sgd_config cfg = {.momentum = 0.9f, .weight_decay = 0.01f, .nesterov = 0, .accumulate = 1};
    sgd *a = sgd_create(p, 2, &cfg);
    sgd_step(a, w, dw, 5, 0.1f, &err);
    sgd_step(a, w, dw, 5, 0.1f, &err);

    char path[] = "/tmp/lir_optim_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp");
    FILE *f = fdopen(fd, "wb");
    fputs("prefix", f); /* state may sit inside a larger checkpoint */
    CHECK(sgd_save(a, f, path, &err) == 0, "save: %s", err.msg);
    long end = ftell(f);
    fclose(f);

    sgd *b = sgd_create(p, 2, &cfg);
    CHECK(load_at(b, path, 6, &err) == 0, "load: %s", err.msg);
    CHECK(b->step == 2, "loaded step %ld", b->step);
    for (size_t i = 0; i < 5; i++)
        CHECK(a->vel[i] == b->vel[i], "momentum element %zu differs", i);
    /* a resumed step matches an uninterrupted one */
    float w2[5];
    memcpy(w2, w, sizeof w);
    sgd_step(a, w, dw, 5, 0.1f, &err);
    sgd_step(b, w2, dw, 5, 0.1f, &err);
    CHECK(!memcmp(w, w2, sizeof w), "resumed step differs");

    /* a network of other shape: refused, naming the tensor */
    param_tensor r[2] = {{3, 1}, {2, 0}};
    sgd *c = sgd_create(r, 2, &cfg);
    CHECK(load_at(c, path, 6, &err) == -1, "mismatched sizes accepted");
    CHECK(strstr(err.msg, "tensor 0 has 2 elements") != NULL, "message: %s", err.msg);
    sgd_free(c);
    c = sgd_create(p, 1, &cfg);
    CHECK(load_at(c, path, 6, &err) == -1, "mismatched count accepted");
    CHECK(strstr(err.msg, "2 tensors") != NULL, "message: %s", err.msg);
    sgd_free(c);
    /* truncated: the last float missing; b keeps its buffers */
    CHECK(truncate(path, end - 1) == 0, "truncate");
    float before = b->vel[4];
    CHECK(load_at(b, path, 6, &err) == -1, "truncated state accepted");
    CHECK(strstr(err.msg, "file ends") != NULL && strstr(err.msg, path), "message: %s",
          err.msg);
    CHECK(b->vel[4] == before, "failed load changed the buffers");
    /* bad magic */
    CHECK(load_at(b, path, 0, &err) == -1, "bad magic accepted");
    CHECK(strstr(err.msg, "bad magic") != NULL, "message: %s", err.msg);
    unlink(path);
    sgd_free(a);
    sgd_free(b);
}

static int read_num(double *x) { return scanf("%lf", x) == 1 ? 0 : -1; }

static int trace_sgd(void) {
    double mu, wd, nest, acc, nt;
    if (read_num(&mu) || read_num(&wd) || read_num(&nest) || read_num(&acc) || read_num(&nt))
        return 2;
    int n = (int)nt;
    param_tensor *p = xcalloc((size_t)n, sizeof *p);
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        double sz, d;
        if (read_num(&sz) || read_num(&d)) return 2;
        p[i].n = (size_t)sz;
        p[i].decay = (int)d;
        total += p[i].n;
    }
    float *w = xmalloc(total * sizeof *w), *dw = xmalloc(total * sizeof *dw);
    for (size_t i = 0; i < total; i++) {
        double x;
        if (read_num(&x)) return 2;
        w[i] = (float)x;
    }
    sgd_config cfg = {(float)mu, (float)wd, (int)nest, (int)acc};
    sgd *o = sgd_create(p, n, &cfg);
    double steps;
    if (read_num(&steps)) return 2;
    lir_error err;
    for (int s = 0; s < (int)steps; s++) {
        double lr, x;
        if (read_num(&lr)) return 2;
        for (size_t i = 0; i < total; i++) {
            if (read_num(&x)) return 2;
            dw[i] = (float)x;
        }
        if (sgd_step(o, w, dw, total, (float)lr, &err)) return 2;
    }
    for (size_t i = 0; i < total; i++) printf("%.9g\n", w[i]);
    sgd_free(o);
    free(w);
    free(dw);
    free(p);
    return 0;
}

static int trace_lr(void) {
    char name[32];
    double base, total, warm, minlr, div, fdiv, pct, power, ns;
    if (scanf("%31s", name) != 1 || read_num(&base) || read_num(&total) || read_num(&warm) ||
        read_num(&minlr) || read_num(&div) || read_num(&fdiv) || read_num(&pct) ||
        read_num(&power) || read_num(&ns))
        return 2;
    int policy = lr_policy_parse(name);
    if (policy < 0) return 2;
    lr_schedule s;
    lr_schedule_init(&s, (lr_policy)policy, (float)base);
    s.warmup = (int)warm;
    s.min_lr = (float)minlr;
    s.div_factor = (float)div;
    s.final_div = (float)fdiv;
    s.pct_start = (float)pct;
    s.power = (float)power;
    s.n_steps = (int)ns;
    for (int i = 0; i < s.n_steps; i++) {
        double st, sc;
        if (read_num(&st) || read_num(&sc)) return 2;
        s.steps[i] = (int)st;
        s.scales[i] = (float)sc;
    }
    for (long t = 0; t < (long)total; t++) printf("%.9g\n", lr_at(&s, t, (long)total));
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "--trace")) {
        char kind[8];
        if (scanf("%7s", kind) != 1) return 2;
        return !strcmp(kind, "sgd") ? trace_sgd() : !strcmp(kind, "lr") ? trace_lr() : 2;
    }
    test_updates();
    test_large();
    test_schedules();
    test_state_io();
    return check_done("test_optim");
}
