/* groups.c: the OOD groups of `lir eval --out` (near, far, covariate, as OpenOOD groups
 * its test sets) in one table, and the plan: the list of sets a comma list of group and
 * set names stands for, with the rule for which sets may be skipped when they cannot be
 * loaded. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ood.h"

static const char *group_names[OOD_N_GROUPS] = {"near", "far", "covariate"};

/* THE group table: the sets of each group for an ID set ("*": any ID set). A name may
 * stand for several sets (dataset_expand: "cifar10-c" is every corruption at every
 * severity). Sets this build does not know, or whose data is absent, are skipped with
 * the reason when a group brings them in. */
static const struct {
    int group;
    const char *id, *sets;
} group_table[] = {
    {OOD_GROUP_NEAR, "cifar10", "cifar100"},
    {OOD_GROUP_NEAR, "cifar100", "cifar10"},
    {OOD_GROUP_FAR, "*", "svhn,mnist,fashionmnist,textures,photos-test,gaussian,uniform,blobs"},
    {OOD_GROUP_COVARIATE, "cifar10", "cifar10-c"},
};

const char *ood_group_name(int g) { return g >= 0 && g < OOD_N_GROUPS ? group_names[g] : ""; }

int ood_group_find(const char *name) {
    for (int g = 0; g < OOD_N_GROUPS; g++)
        if (!strcmp(name, group_names[g])) return g;
    return -1;
}

const char *ood_group_sets(int g, const char *id) {
    size_t blen = strcspn(id, "@");
    for (size_t i = 0; i < sizeof group_table / sizeof group_table[0]; i++) {
        const char *t = group_table[i].id;
        if (group_table[i].group == g &&
            (!strcmp(t, "*") || (strlen(t) == blen && !strncmp(t, id, blen))))
            return group_table[i].sets;
    }
    return "";
}

/* Adds name to the plan (once: a set named again keeps the first entry, which takes
 * the group if it had none). */
static int plan_add(ood_plan *p, const char *name, int group, int lazy, lir_error *err) {
    if (strlen(name) >= sizeof p->sets[0].name)
        return lir_fail(err, "--out: set name too long: %s", name);
    for (int i = 0; i < p->n; i++)
        if (!strcmp(p->sets[i].name, name)) {
            if (p->sets[i].group < 0) p->sets[i].group = group;
            return 0;
        }
    p->sets = xrealloc(p->sets, (size_t)(p->n + 1) * sizeof *p->sets);
    ood_plan_set *s = &p->sets[p->n++];
    snprintf(s->name, sizeof s->name, "%s", name);
    s->group = group;
    s->lazy = lazy;
    return 0;
}

/* Adds the sets name stands for (dataset_expand). */
static int plan_expand(ood_plan *p, const char *name, int group, lir_error *err) {
    char **names = NULL;
    int n = 0, rc = dataset_expand(name, &names, &n, err);
    for (int i = 0; i < n; i++) {
        if (rc == 0) rc = plan_add(p, names[i], group, n > 1, err);
        free(names[i]);
    }
    free(names);
    return rc;
}

int ood_plan_make(ood_plan *p, const char *list, const char *id, lir_error *err) {
    memset(p, 0, sizeof *p);
    char *copy = xstrdup(list), *save = NULL;
    int rc = 0;
    for (char *t = strtok_r(copy, ",", &save); t && rc == 0; t = strtok_r(NULL, ",", &save)) {
        int g = ood_group_find(t);
        if (g < 0) {
            rc = plan_expand(p, t, -1, err);
            continue;
        }
        p->asked[g] = 1;
        char *sets = xstrdup(ood_group_sets(g, id)), *s2 = NULL;
        for (char *s = strtok_r(sets, ",", &s2); s && rc == 0; s = strtok_r(NULL, ",", &s2))
            rc = plan_expand(p, s, g, err);
        free(sets);
    }
    free(copy);
    int asked = 0;
    for (int g = 0; g < OOD_N_GROUPS; g++) asked |= p->asked[g];
    if (rc == 0 && p->n == 0 && !asked)
        rc = lir_fail(err, "--out names no OOD set (\"%s\")", list);
    if (rc < 0) ood_plan_free(p);
    return rc;
}

void ood_plan_free(ood_plan *p) {
    free(p->sets);
    memset(p, 0, sizeof *p);
}

/* Whether base (a name before any '@') is in dataset_known_names()'s list. */
static int known_base(const char *base, size_t blen) {
    const char *k = dataset_known_names();
    while (*k) {
        size_t len = strcspn(k, ", ");
        if (len == blen && !strncmp(k, base, blen)) return 1;
        k += len;
        k += strspn(k, ", ");
    }
    return 0;
}

int ood_plan_may_skip(const ood_plan *p, int i, const char *dir) {
    const char *name = p->sets[i].name;
    if (p->sets[i].group < 0) return 0;
    size_t blen = strcspn(name, "@");
    if (!known_base(name, blen)) return 1;
    char path[4200];
    struct stat st;
    snprintf(path, sizeof path, "%s/%.*s", dataset_dir(dir), (int)blen, name);
    return stat(path, &st) != 0 || !S_ISDIR(st.st_mode);
}
