/* test_config.c: the strict JSON run config (unknown keys, types, ranges refused with
 * the key named; flags override the file; the effective config reads back to the same
 * settings and hash; run-control keys do not change the hash), the hooks' loss kinds
 * and their margins, and the outlier-source rules and synthetic transforms. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "train/train.h"

/* Applies text to fresh defaults; returns rc and leaves the message in err. */
static int apply(const char *text, train_config *c, lir_error *err) {
    config_defaults(c);
    return config_apply_json(c, text, "t.json", err);
}

static void expect_refused(const char *text, const char *needle) {
    train_config c;
    lir_error err = {""};
    int rc = apply(text, &c, &err);
    if (!rc) rc = config_check(&c, &err);
    CHECK(rc != 0, "refused: %s", text);
    CHECK(strstr(err.msg, needle) != NULL, "message '%s' names '%s'", err.msg, needle);
}

int main(void) {
    train_config c, d;
    lir_error err;
    config_defaults(&c);
    CHECK(config_check(&c, &err) == 0, "defaults are valid");
    CHECK(c.outlier_batch == 256 && c.batch == 128, "Liu et al. batch defaults 128 + 256");

    expect_refused("{\"lr_rate\": 0.1}", "'lr_rate'");
    expect_refused("{\"epochs\": 0}", "'epochs'");
    expect_refused("{\"epochs\": 2.5}", "'epochs'");
    expect_refused("{\"lr\": \"fast\"}", "'lr'");
    expect_refused("{\"augment\": 1}", "'augment'");
    expect_refused("{\"policy\": \"sgdr\"}", "'policy'");
    expect_refused("{\"momentum\": 1.5}", "'momentum'");
    expect_refused("[1, 2]", "object");
    expect_refused("{\"epochs\": 3,}", "JSON");
    /* strict JSON (issue 10, item 7): trailing data, keys given twice, NUL in strings */
    expect_refused("{\"epochs\": 2} garbage", "byte 14: trailing data after the JSON value");
    expect_refused("{\"epochs\": 2}{}", "trailing data");
    expect_refused("{\"epochs\": 2, \"epochs\": 3}", "config key 'epochs' given twice");
    expect_refused("{\"outliers\": \"synthetic\", \"hooks\": [{\"point\": \"fc\", \"lambda\": 1, "
                   "\"calibrate\": true, \"lambda\": 2}]}",
                   "config key 'lambda' given twice");
    expect_refused("{\"out_dir\": \"a\\u0000b\"}", "byte 14: \\u0000 in a string");
    CHECK(apply("{\"out_dir\": \"a\\\\u0000b\"} \n\t", &c, &err) == 0 &&
              !strcmp(c.out_dir, "a\\u0000b"),
          "an escaped backslash before u0000 is text (%s)", err.msg);
    expect_refused("{\"outliers\": \"synthetic\", \"hooks\": [{\"point\": \"fc\", \"lamda\": 1}]}",
                   "'hooks[0].lamda'");
    expect_refused("{\"outliers\": \"synthetic\", \"hooks\": [{\"point\": \"fc\", \"lambda\": 1}]}",
                   "m_in");
    expect_refused("{\"outliers\": \"synthetic\", \"hooks\": [{\"point\": \"fc\", \"lambda\": 1, "
                   "\"m_in\": -5, \"m_out\": -23}]}",
                   "m_out");
    expect_refused("{\"hooks\": [{\"point\": \"fc\", \"lambda\": 0.1, \"calibrate\": true}]}",
                   "'outliers'");

    /* a valid file, then a flag over it */
    const char *good = "{\"epochs\": 7, \"lr\": 0.001, \"policy\": \"cosine\", \"augment\": false,"
                       " \"outliers\": \"synthetic\", \"seed\": 42, \"hooks\": ["
                       "{\"point\": \"fc\", \"lambda\": 0.1, \"m_in\": -23, \"m_out\": -5},"
                       "{\"point\": \"layer1.0.bn2\", \"lambda\": 0.01, \"calibrate\": true}]}";
    CHECK(apply(good, &c, &err) == 0, "valid config accepted (%s)", err.msg);
    CHECK(config_check(&c, &err) == 0, "valid config passes checks (%s)", err.msg);
    CHECK(c.epochs == 7 && c.augment == 0 && c.seed == 42 && c.n_hooks == 2, "values stored");
    CHECK_CLOSE(c.hooks[0].reg.m_in, -23, 0, 0, "m_in");
    CHECK(c.hooks[1].reg.calibrate == 1, "calibrate stored");
    CHECK(config_set(&c, "epochs", "9", &err) == 0 && c.epochs == 9, "flag overrides file");
    CHECK(config_set(&c, "batch", "12x", &err) != 0 && strstr(err.msg, "'batch'"),
          "bad flag value names the key");
    CHECK(config_set(&c, "no_such", "1", &err) != 0 && strstr(err.msg, "'no_such'"),
          "unknown flag key named");

    /* the effective config reads back to the same settings */
    uint64_t h = config_hash(&c);
    char *js = config_to_json(&c);
    CHECK(apply(js, &d, &err) == 0, "effective config reads back (%s)", err.msg);
    char *js2 = config_to_json(&d);
    CHECK(!strcmp(js, js2), "same JSON after a round trip");
    CHECK(config_hash(&d) == h, "same hash after a round trip");
    CHECK(strstr(js, "\"momentum\":\t0.9,") != NULL, "floats print as written (0.9)");
    free(js);
    free(js2);
    config_set(&d, "out_dir", "/elsewhere", &err);
    config_set(&d, "stop_after_steps", "5", &err);
    CHECK(config_hash(&d) == h, "run-control keys do not change the hash");
    config_set(&d, "lr", "0.002", &err);
    CHECK(config_hash(&d) != h, "lr changes the hash");

    /* hook loss kinds: energy (default), band (two lower margins more), oe (none) */
    const char *O = "{\"outliers\": \"photos\", \"hooks\": [";
    char buf[512];
#define HOOKS(...) (snprintf(buf, sizeof buf, "%s%s]}", O, __VA_ARGS__), buf)
    expect_refused(HOOKS("{\"point\": \"fc\", \"loss\": \"hinge\", \"lambda\": 1}"), "'hooks[0].loss'");
    expect_refused(HOOKS("{\"point\": \"fc\", \"loss\": \"oe\", \"lambda\": 0.5, \"m_in\": 1}"),
                   "no margins");
    expect_refused(HOOKS("{\"point\": \"fc\", \"loss\": \"oe\", \"lambda\": 0.5, \"calibrate\": true}"),
                   "no margins");
    expect_refused(HOOKS("{\"point\": \"fc\", \"lambda\": 1, \"m_in\": 1, \"m_out\": 2, \"m_in_lo\": 0}"),
                   "\"band\" only");
    expect_refused(HOOKS("{\"point\": \"b\", \"loss\": \"band\", \"lambda\": 1, \"m_in\": 1, \"m_out\": 2}"),
                   "m_in_lo");
    expect_refused(HOOKS("{\"point\": \"b\", \"loss\": \"band\", \"lambda\": 1, \"m_in\": 1, "
                         "\"m_out\": 4, \"m_in_lo\": -1, \"m_out_lo\": 0}"),
                   "m_out_lo < m_in_lo <= m_in < m_out");
    CHECK(apply(HOOKS("{\"point\": \"b\", \"loss\": \"band\", \"lambda\": 0.01, \"m_in\": 1, "
                      "\"m_out\": 4, \"m_in_lo\": -1, \"m_out_lo\": -4},"
                      "{\"point\": \"c\", \"loss\": \"band\", \"lambda\": 0.01, \"calibrate\": true},"
                      "{\"point\": \"fc\", \"loss\": \"oe\", \"lambda\": 0.5}"),
                &c, &err) == 0 && config_check(&c, &err) == 0,
          "band and oe hooks accepted (%s)", err.msg);
    CHECK(c.hooks[0].reg.loss == HOOK_LOSS_BAND && c.hooks[0].reg.m_out_lo == -4 &&
              c.hooks[0].reg.m_in_lo == -1 && c.hooks[2].reg.loss == HOOK_LOSS_OE,
          "loss kinds and band margins stored");
    js = config_to_json(&c);
    CHECK(apply(js, &d, &err) == 0 && config_hash(&d) == config_hash(&c),
          "band and oe read back with the same hash (%s)", err.msg);
    CHECK(strstr(js, "\"loss\":\t\"band\"") && !strstr(js, "\"loss\":\t\"energy\""),
          "kinds other than energy are named: %s", js);
    free(js);
    apply(HOOKS("{\"point\": \"fc\", \"lambda\": 0.1, \"m_in\": -23, \"m_out\": -5}"), &c, &err);
    apply(HOOKS("{\"point\": \"fc\", \"loss\": \"energy\", \"lambda\": 0.1, \"m_in\": -23, \"m_out\": -5}"),
          &d, &err);
    CHECK(config_hash(&c) == config_hash(&d), "\"loss\": \"energy\" is the default");
#undef HOOKS

    /* the cfg's [net] section: read once, here, with the config's defaults */
    cfg_file *f = cfg_parse_string("[net]\nbatch=128\nwidth=32\nheight=32\nchannels=3\n"
                                   "learning_rate=0.05\nmax_batches=39100\nburn_in=782\n"
                                   "policy=steps\nsteps=19550,29325\nscales=0.1,0.1\n",
                                   "n.cfg", &err);
    config_defaults(&c);
    CHECK(f && config_from_cfg(&c, f, &err) == 0, "[net] read (%s)", err.msg);
    CHECK(c.lr == 0.05f, "learning_rate");
    CHECK(c.momentum == 0.9f, "momentum: the config's default");
    CHECK(c.epochs == 100 && c.warmup_epochs == 2, "max_batches 39100 at batch 128 = 100 epochs "
          "of the 50,000 cifar10 images, burn_in 2 epochs (%d, %d)", c.epochs, c.warmup_epochs);
    CHECK(!strcmp(c.policy, "steps") && !strcmp(c.lr_steps, "50,75") &&
              !strcmp(c.lr_scales, "0.1,0.1"),
          "steps as epochs: %s / %s", c.lr_steps, c.lr_scales);
    /* the steps are fractions of max_batches: they scale with the run's final epochs
     * (--epochs 10: 5 and 7.5), unless a later source sets lr_steps itself */
    CHECK(config_set(&c, "epochs", "10", &err) == 0, "epochs 10");
    config_scale_cfg_steps(&c);
    CHECK(!strcmp(c.lr_steps, "5,7.5"), "cfg steps at 10 epochs: %s, want 5,7.5", c.lr_steps);
    CHECK(config_set(&c, "epochs", "4", &err) == 0, "epochs 4");
    config_scale_cfg_steps(&c);
    CHECK(!strcmp(c.lr_steps, "2,3"), "cfg steps at 4 epochs: %s, want 2,3", c.lr_steps);
    CHECK(config_apply_json(&c, "{\"lr_steps\": \"1,2\", \"epochs\": 8}", "j", &err) == 0,
          "lr_steps from JSON (%s)", err.msg);
    config_scale_cfg_steps(&c);
    CHECK(!strcmp(c.lr_steps, "1,2"), "a JSON lr_steps is taken as given: %s", c.lr_steps);
    cfg_free(f);
    const char *bad[][2] = {
        {"policy=steps\nsteps=10,20\nscales=.1\n", "n.cfg:7:"},
        {"policy=steps\n", "needs both steps= and scales="},
        {"policy=cos\nsteps=10\nscales=.1\n", "only it"},
        {"policy=sgdr\n", "n.cfg:6: policy=sgdr"},
        {"learning_rate=fast\n", "n.cfg:6: learning_rate"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[256];
        snprintf(text, sizeof text, "[net]\nbatch=2\nwidth=8\nheight=8\nchannels=3\n%s", bad[i][0]);
        f = cfg_parse_string(text, "n.cfg", &err);
        config_defaults(&c);
        CHECK(f && config_from_cfg(&c, f, &err) < 0 && strstr(err.msg, bad[i][1]),
              "[net] refused: '%s' names '%s'", err.msg, bad[i][1]);
        cfg_free(f);
    }

    /* the cfg's [hook] sections join the config's hooks once, in network order, after the
     * config's own; a config hook on the same point wins; observe-only ones stay out */
    f = cfg_parse_string("[net]\nbatch=2\nwidth=8\nheight=8\nchannels=3\n"
                         "[convolutional]\nname=c0\nbn_name=b0\nbatch_normalize=1\nfilters=4\n"
                         "size=3\npad=1\nactivation=linear\n"
                         "[hook]\nlambda=0.5\nm_in=-3\nm_out=-1\n" /* default point: b0 */
                         "[hook]\npoint=fc\nlambda=0.2\ncalibrate=1\n"
                         "[hook]\npoint=c0\nlambda=0\n"
                         "[avgpool]\n[connected]\nname=fc\noutput=2\nactivation=linear\n",
                         "h.cfg", &err);
    CHECK(apply("{\"outliers\": \"synthetic\", \"hooks\": [{\"point\": \"fc\", \"lambda\": 0.1, "
                "\"m_in\": -6, \"m_out\": -2}]}", &c, &err) == 0, "hooks json (%s)", err.msg);
    CHECK(f && config_add_cfg_hooks(&c, f, &err) == 0, "cfg hooks read (%s)", err.msg);
    CHECK(c.n_hooks == 2 && !strcmp(c.hooks[0].point, "fc") && c.hooks[0].reg.lambda == 0.1f &&
              !c.hooks[0].reg.calibrate && !strcmp(c.hooks[1].point, "b0") &&
              c.hooks[1].reg.lambda == 0.5f && c.hooks[1].reg.m_in == -3 && c.hooks[1].reg.m_out == -1,
          "config hooks: %d, %s, %s", c.n_hooks, c.hooks[0].point, c.hooks[1].point);
    CHECK(config_add_cfg_hooks(&c, f, &err) == 0 && c.n_hooks == 2, "reading them again adds none");
    cfg_free(f);

    /* outlier sources */
    const char *ood = "svhn,mnist,fashionmnist";
    CHECK(outlier_check_name("svhn", "cifar10", ood, &err) != 0 && strstr(err.msg, "test OOD"),
          "eval OOD set refused (%s)", err.msg);
    CHECK(outlier_check_name("svhn@noise0.1", "cifar10", ood, &err) != 0,
          "derived eval OOD set refused");
    CHECK(outlier_check_name("cifar10@blur1", "cifar10", ood, &err) != 0, "ID set refused");
    CHECK(outlier_check_name("cifar100", "cifar10", ood, &err) == 0, "other set accepted");

    /* synthetic transforms */
    uint8_t a[3072], b[3072], o[3072];
    for (int i = 0; i < 3072; i++) a[i] = (uint8_t)(i * 7 + i / 97), b[i] = (uint8_t)(255 - a[i]);
    rng_state r;
    rng_seed(&r, 3);
    outlier_patch_shuffle(a, o, &r);
    int moved = 0, found_all = 1;
    for (int p = 0; p < 16; p++) {
        int dy = p / 4 * 8, dx = p % 4 * 8, found = 0;
        for (int q = 0; q < 16 && !found; q++) {
            int sy = q / 4 * 8, sx = q % 4 * 8, same = 1;
            for (int ch = 0; ch < 3 && same; ch++)
                for (int y = 0; y < 8 && same; y++)
                    same = !memcmp(o + ch * 1024 + (dy + y) * 32 + dx,
                                   a + ch * 1024 + (sy + y) * 32 + sx, 8);
            if (same) found = 1, moved += q != p;
        }
        found_all &= found;
    }
    CHECK(found_all, "patch shuffle output is made of the input's 8x8 patches");
    CHECK(moved > 8, "patch shuffle moves most patches (%d of 16)", moved);
    outlier_mix(a, b, o, 0.25f);
    int ok = 1;
    for (int i = 0; i < 3072; i++) ok &= abs((int)o[i] - (int)lrintf(0.25f * a[i] + 0.75f * b[i])) == 0;
    CHECK(ok, "mix is the pixel blend");
    return check_done("test_config");
}
