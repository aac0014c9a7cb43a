/* test_groups.c: the OOD groups of `lir eval --out` (ood/groups.c): which sets each group
 * holds for an ID set, the expansion of a mixed list (groups and set names, each set
 * once, a group's set keeps its group), and the skip rule: a group's set is skipped when
 * its name is unknown or its data folder is absent, never when named on its own or when
 * the folder exists (a corrupt file is an error). */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "ood/ood.h"

/* Index of name in the plan, -1 if absent; *count gets how often it occurs. */
static int find(const ood_plan *p, const char *name, int *count) {
    int at = -1;
    *count = 0;
    for (int i = 0; i < p->n; i++)
        if (!strcmp(p->sets[i].name, name)) at = i, (*count)++;
    return at;
}

static void test_table(void) {
    CHECK(ood_group_find("near") == OOD_GROUP_NEAR && ood_group_find("far") == OOD_GROUP_FAR &&
              ood_group_find("covariate") == OOD_GROUP_COVARIATE,
          "group names");
    CHECK(ood_group_find("mnist") == -1 && ood_group_find("") == -1, "a set is not a group");
    CHECK(!strcmp(ood_group_sets(OOD_GROUP_NEAR, "cifar10"), "cifar100"), "near of cifar10");
    CHECK(!strcmp(ood_group_sets(OOD_GROUP_NEAR, "cifar100"), "cifar10"), "near of cifar100");
    CHECK(!strcmp(ood_group_sets(OOD_GROUP_NEAR, "cifar10@jpeg75"), "cifar100"),
          "the ID set's name before '@' decides");
    const char *far = ood_group_sets(OOD_GROUP_FAR, "cifar100");
    const char *want[] = {"svhn", "mnist", "fashionmnist", "textures", "photos-test",
                          "gaussian", "uniform", "blobs"};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        CHECK(strstr(far, want[i]) != NULL, "far holds %s: %s", want[i], far);
    CHECK(!strcmp(ood_group_sets(OOD_GROUP_COVARIATE, "cifar10"), "cifar10-c"),
          "covariate of cifar10");
    CHECK(!*ood_group_sets(OOD_GROUP_COVARIATE, "cifar100"), "no covariate set for cifar100");
}

static void test_plan(void) {
    ood_plan p;
    lir_error err;
    const char *lists[2] = {"far,mnist", "mnist,far"};
    for (int k = 0; k < 2; k++) {
        CHECK(ood_plan_make(&p, lists[k], "cifar10", &err) == 0, "%s", err.msg);
        int count, i = find(&p, "mnist", &count);
        CHECK(count == 1, "%s: mnist once (%d)", lists[k], count);
        CHECK(i >= 0 && p.sets[i].group == OOD_GROUP_FAR, "%s: mnist in far", lists[k]);
        CHECK(p.asked[OOD_GROUP_FAR] && !p.asked[OOD_GROUP_NEAR], "%s: far asked", lists[k]);
        find(&p, "svhn", &count);
        CHECK(count == 1, "%s: svhn from the group", lists[k]);
        ood_plan_free(&p);
    }
    CHECK(ood_plan_make(&p, "near,cifar10@jpeg75", "cifar10", &err) == 0, "%s", err.msg);
    int count, i = find(&p, "cifar10@jpeg75", &count);
    CHECK(i >= 0 && p.sets[i].group == -1 && !p.sets[i].lazy, "a set named alone has no group");
    i = find(&p, "cifar100", &count);
    CHECK(i >= 0 && p.sets[i].group == OOD_GROUP_NEAR, "near brings cifar100");
    ood_plan_free(&p);
    /* covariate: cifar10-c, or every set it stands for once the CIFAR-10-C sets exist */
    CHECK(ood_plan_make(&p, "covariate", "cifar10", &err) == 0, "%s", err.msg);
    CHECK(p.n >= 1, "covariate has sets");
    for (int k = 0; k < p.n; k++)
        CHECK(!strncmp(p.sets[k].name, "cifar10", 7) && p.sets[k].group == OOD_GROUP_COVARIATE &&
                  p.sets[k].lazy == (p.n > 1),
              "covariate set %s", p.sets[k].name);
    ood_plan_free(&p);
    CHECK(ood_plan_make(&p, "covariate", "cifar100", &err) == 0 && p.n == 0 &&
              p.asked[OOD_GROUP_COVARIATE],
          "a group without sets for the ID set is still asked for");
    ood_plan_free(&p);
    CHECK(ood_plan_make(&p, ",", "cifar10", &err) == -1 && strstr(err.msg, "no OOD set"),
          "an empty list: %s", err.msg);
}

static void test_skip(void) {
    char dir[] = "/tmp/lir_groups_XXXXXX", sub[64];
    if (!mkdtemp(dir)) check_skip("cannot create a temporary directory");
    snprintf(sub, sizeof sub, "%s/mnist", dir);
    CHECK(mkdir(sub, 0777) == 0, "mkdir %s", sub);
    char sub2[64];
    snprintf(sub2, sizeof sub2, "%s/nosuchset", dir);
    CHECK(mkdir(sub2, 0777) == 0, "mkdir %s", sub2);
    ood_plan_set sets[] = {{"svhn", OOD_GROUP_FAR, 0},      {"mnist", OOD_GROUP_FAR, 0},
                           {"svhn", -1, 0},                  {"nosuchset", OOD_GROUP_FAR, 0},
                           {"mnist@blur1", OOD_GROUP_FAR, 0}, {"nosuchset", -1, 0}};
    ood_plan p = {sets, 6, {0, 1, 0}};
    CHECK(ood_plan_may_skip(&p, 0, dir) == 1, "a group's set without its folder is skipped");
    CHECK(ood_plan_may_skip(&p, 1, dir) == 0, "a group's set whose folder exists is an error");
    CHECK(ood_plan_may_skip(&p, 2, dir) == 0, "a set named alone is an error");
    CHECK(ood_plan_may_skip(&p, 3, dir) == 1, "a group's set unknown to this build is skipped");
    CHECK(ood_plan_may_skip(&p, 4, dir) == 0, "a derived set's folder is its base name's");
    CHECK(ood_plan_may_skip(&p, 5, dir) == 0, "an unknown set named alone is an error");
    rmdir(sub);
    rmdir(sub2);
    CHECK(rmdir(dir) == 0, "temporary directory removed");
}

int main(void) {
    test_table();
    test_plan();
    test_skip();
    return check_done("test_groups");
}
