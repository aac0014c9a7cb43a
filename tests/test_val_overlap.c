/* test_val_overlap.c: a fine-tune's validation images must not be images its
 * init_weights were trained on (issue 13; guard_val_overlap). The shipped fine-tune
 * configs (the cfg/ JSON files with init_weights: val_size 5000 from
 * weights/resnet18-cifar10.weights, whose sidecar lists three stages at val_size 5000)
 * pass; val_size 10000 is refused naming the overlap and the ways out, and
 * allow_val_overlap lets it pass with the count; sidecars of every shape:
 * "train_images", "config", "stages" (the run's dataset wins over another, the stage
 * reaching furthest counts), another dataset, none, not JSON. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "train/guard.h"

/* The shipped configs that fine-tune: each must still run under the rule. */
static void shipped_configs(void) {
    DIR *d = opendir("cfg");
    CHECK(d != NULL, "cfg/ readable (run from the repository root)");
    if (!d) return;
    int n = 0;
    lir_error err;
    train_config c;
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 5, ".json")) continue;
        char path[300];
        snprintf(path, sizeof path, "cfg/%s", e->d_name);
        config_defaults(&c);
        CHECK(config_load_file(&c, path, &err) == 0, "%s: %s", path, err.msg);
        if (!c.init_weights[0]) continue;
        n++;
        guard_base b;
        long ov = -1;
        int split = dataset_train_size(c.dataset);
        CHECK(guard_val_overlap(&c, split, &b, &ov, &err) == 0 && ov == 0,
              "%s (val_size %d from %s) runs: %s", path, c.val_size, c.init_weights, err.msg);
        CHECK(b.known && !strcmp(b.dataset, "cifar10") && b.first == 45000,
              "%s: its base trained on the first 45000 cifar10 images (%d %s %ld: %s)", path,
              b.known, b.dataset, b.first, b.note);
    }
    closedir(d);
    CHECK(n >= 7, "the fine-tune configs found: %d", n);

    config_defaults(&c);
    CHECK(config_load_file(&c, "cfg/energy-ft.json", &err) == 0, "energy-ft: %s", err.msg);
    c.val_size = 10000;
    guard_base b;
    long ov;
    CHECK(guard_val_overlap(&c, 50000, &b, &ov, &err) < 0 && ov == 5000 &&
              strstr(err.msg, "include 5000 that weights/resnet18-cifar10.weights was trained") &&
              strstr(err.msg, "inflated") && strstr(err.msg, "use val_size 5000 or less") &&
              strstr(err.msg, "allow_val_overlap=true"),
          "val_size 10000 refused: %s", err.msg);
    c.allow_val_overlap = 1;
    CHECK(guard_val_overlap(&c, 50000, &b, &ov, &err) == 0 && ov == 5000,
          "allow_val_overlap: passes with the overlap counted (%ld)", ov);
}

/* guard_val_overlap of a cifar10 run (split 200, val_size val) over a base whose sidecar
 * holds json (NULL: no sidecar): its return value, *b and *ov filled. */
static int over(const char *dir, const char *json, int val, guard_base *b, long *ov,
                lir_error *err) {
    train_config c;
    config_defaults(&c);
    c.val_size = val;
    snprintf(c.init_weights, sizeof c.init_weights, "%s/base.weights", dir);
    char path[300];
    snprintf(path, sizeof path, "%s/base.weights.json", dir);
    unlink(path);
    if (json) {
        FILE *f = fopen(path, "w");
        fputs(json, f);
        fclose(f);
    }
    return guard_val_overlap(&c, 200, b, ov, err);
}

static void sidecar_shapes(void) {
    char dir[] = "/tmp/lir_test_overlapXXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    guard_base b;
    long ov;
    lir_error err;
    const char *ti = "{\"train_images\": {\"dataset\": \"cifar10\", \"first\": 160}}";
    CHECK(over(dir, ti, 40, &b, &ov, &err) == 0 && b.known && b.first == 160 && ov == 0,
          "train_images: the last 40 are free");
    CHECK(over(dir, ti, 41, &b, &ov, &err) < 0 && ov == 1 && strstr(err.msg, "the first 160"),
          "train_images: one image too many refused: %s", err.msg);
    CHECK(over(dir, ti, 0, &b, &ov, &err) == 0 && ov == 0, "val_size 0: nothing to check");
    const char *huge = "{\"train_images\": {\"dataset\": \"cifar10\", \"first\": 1e300}}";
    CHECK(over(dir, huge, 10, &b, &ov, &err) < 0 && ov == 10,
          "a first beyond the split: every validation image overlaps (%ld)", ov);
    const char *neg = "{\"config\": {\"dataset\": \"cifar10\", \"val_size\": -1e300}}";
    CHECK(over(dir, neg, 10, &b, &ov, &err) < 0 && b.first == 200,
          "a negative val_size counts as none (%ld)", b.first);
    const char *st = "{\"stages\": [{\"config\": {\"dataset\": \"cifar100\", \"val_size\": 0}},"
                     " {\"config\": {\"dataset\": \"cifar10@jpeg75\", \"val_size\": 60}},"
                     " {\"config\": {\"dataset\": \"cifar10\", \"val_size\": 50}}]}";
    CHECK(over(dir, st, 50, &b, &ov, &err) == 0 && b.first == 150 && ov == 0,
          "stages: the cifar10 stage reaching furthest counts (%ld)", b.first);
    CHECK(over(dir, st, 60, &b, &ov, &err) < 0 && ov == 10, "stages: 10 overlap (%ld)", ov);
    const char *other = "{\"config\": {\"dataset\": \"cifar100\", \"val_size\": 0}}";
    CHECK(over(dir, other, 100, &b, &ov, &err) == 0 && b.known && !strcmp(b.dataset, "cifar100"),
          "a base of another dataset: no overlap");
    CHECK(over(dir, NULL, 100, &b, &ov, &err) == 0 && !b.known && strstr(b.note, "none"),
          "no sidecar: not known, said (%s)", b.note);
    CHECK(over(dir, "{\"config\": ", 100, &b, &ov, &err) == 0 && !b.known &&
              strstr(b.note, "not valid JSON"),
          "broken sidecar: not known, said (%s)", b.note);
    CHECK(over(dir, "{\"weights\": \"x\"}", 100, &b, &ov, &err) == 0 && !b.known &&
              strstr(b.note, "no dataset"),
          "a sidecar that does not say: not known, said (%s)", b.note);
    char path[300];
    snprintf(path, sizeof path, "%s/base.weights.json", dir);
    unlink(path);
    rmdir(dir);
}

int main(void) {
    shipped_configs();
    sidecar_shapes();
    return check_done("test_val_overlap");
}
