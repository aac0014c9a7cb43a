/* outlier.c: outlier sources for R-EBO (see train.h for the choice of transforms). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train.h"

enum { T_SHUFFLE = 1, T_MIX = 2, T_NOISE = 4 };

struct outlier_source {
    int batch;
    data_norm norm;
    /* dataset source */
    dataset *d;
    loader *ld;
    int *labels; /* [batch] the loader's labels (unused: outliers have none) */
    /* synthetic source */
    const dataset *id;
    const int *train_idx;
    int n_train;
    int kinds[3], n_kinds;
    rng_state rng;
    dataset scratch; /* [batch] uint8 outliers before normalisation */
};

int outlier_check_name(const char *name, const char *id_name, const char *eval_ood,
                       lir_error *err) {
    char b[96], idb[96];
    dataset_base_name(name, b, sizeof b);
    dataset_base_name(id_name, idb, sizeof idb);
    if (!strcmp(b, idb))
        return lir_fail(err,
                        "config key 'outliers': '%s' is the in-distribution set %s; use "
                        "\"synthetic\" or another dataset",
                        name, id_name);
    char list[512];
    snprintf(list, sizeof list, "%s", eval_ood);
    for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
        char eb[96];
        while (*tok == ' ') tok++;
        dataset_base_name(tok, eb, sizeof eb);
        if (!strcmp(b, eb))
            return lir_fail(err,
                            "config key 'outliers': '%s' is a test OOD set of the planned "
                            "evaluation (eval_ood: %s); training on it would leak the test set",
                            name, eval_ood);
    }
    return 0;
}

static int parse_kinds(outlier_source *o, const char *list, lir_error *err) {
    char buf[128];
    snprintf(buf, sizeof buf, "%s", list);
    int seen = 0;
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        while (*tok == ' ') tok++;
        int k = !strcmp(tok, "patch_shuffle") ? T_SHUFFLE
                : !strcmp(tok, "mix")         ? T_MIX
                : !strcmp(tok, "noise")       ? T_NOISE
                                              : 0;
        if (!k)
            return lir_fail(err,
                            "config key 'synthetic': unknown transform '%s' (known: "
                            "patch_shuffle, mix, noise)",
                            tok);
        if (!(seen & k)) o->kinds[o->n_kinds++] = k;
        seen |= k;
    }
    if (!o->n_kinds) return lir_fail(err, "config key 'synthetic': no transform given");
    return 0;
}

outlier_source *outlier_open(const train_config *c, const dataset *id, const int *train_idx,
                             int n_train, const data_norm *norm, int batch, uint64_t seed,
                             const outlier_pos *pos, lir_error *err) {
    outlier_source *o = xcalloc(1, sizeof *o);
    o->batch = batch;
    o->norm = *norm;
    if (!strcmp(c->outliers, "synthetic")) {
        if (parse_kinds(o, c->synthetic, err)) goto fail;
        o->id = id;
        o->train_idx = train_idx;
        o->n_train = n_train;
        if (pos) o->rng = pos->rng;
        else rng_seed(&o->rng, seed);
        o->scratch.n = batch;
        o->scratch.c = 3;
        o->scratch.h = o->scratch.w = DATA_SIDE;
        o->scratch.images = xmalloc((size_t)batch * DATA_IMG);
        if (id->c != 3 || id->h != DATA_SIDE || id->w != DATA_SIDE) {
            lir_fail(err, "synthetic outliers need 3x32x32 ID images (%s is %dx%dx%d)", id->name,
                     id->c, id->h, id->w);
            goto fail;
        }
        return o;
    }
    if (outlier_check_name(c->outliers, c->dataset, c->eval_ood, err)) goto fail;
    o->d = dataset_load(c->outliers, c->outlier_split, c->data_dir[0] ? c->data_dir : NULL, err);
    if (!o->d) goto fail;
    if (o->d->n < batch) {
        lir_fail(err, "outlier set %s has %d images, fewer than outlier_batch %d", c->outliers,
                 o->d->n, batch);
        goto fail;
    }
    o->labels = xmalloc((size_t)batch * sizeof *o->labels);
    loader_opts lo = {c->augment, 1, 0};
    o->ld = loader_start(o->d, NULL, o->d->n, batch, norm, lo, seed, pos ? pos->epoch : 0,
                         pos ? pos->position : 0, err);
    if (!o->ld) goto fail;
    return o;
fail:
    outlier_close(o);
    return NULL;
}

void outlier_patch_shuffle(const uint8_t *src, uint8_t *dst, rng_state *r) {
    int perm[16];
    for (int i = 0; i < 16; i++) perm[i] = i;
    for (int i = 15; i > 0; i--) {
        int j = (int)rng_below(r, (uint32_t)i + 1), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    for (int p = 0; p < 16; p++) {
        int sy = perm[p] / 4 * 8, sx = perm[p] % 4 * 8, dy = p / 4 * 8, dx = p % 4 * 8;
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 8; y++)
                memcpy(dst + c * DATA_PLANE + (dy + y) * DATA_SIDE + dx,
                       src + c * DATA_PLANE + (sy + y) * DATA_SIDE + sx, 8);
    }
}

void outlier_mix(const uint8_t *a, const uint8_t *b, uint8_t *dst, float t) {
    for (int i = 0; i < DATA_IMG; i++) dst[i] = (uint8_t)lrintf(t * a[i] + (1 - t) * b[i]);
}

/* One synthetic outlier into dst. */
static void synth_one(outlier_source *o, uint8_t *dst) {
    const dataset *d = o->id;
    int a = o->train_idx[rng_below(&o->rng, (uint32_t)o->n_train)];
    const uint8_t *ia = d->images + (size_t)a * DATA_IMG;
    int kind = o->kinds[rng_below(&o->rng, (uint32_t)o->n_kinds)];
    if (kind == T_SHUFFLE) {
        outlier_patch_shuffle(ia, dst, &o->rng);
    } else if (kind == T_MIX) {
        int b = a;
        /* a partner of another class (bounded tries: a one-class set mixes anyway) */
        for (int t = 0; t < 64 && d->labels[b] == d->labels[a]; t++)
            b = o->train_idx[rng_below(&o->rng, (uint32_t)o->n_train)];
        float w = 0.35f + 0.3f * rng_uniform(&o->rng);
        outlier_mix(ia, d->images + (size_t)b * DATA_IMG, dst, w);
    } else {
        memcpy(dst, ia, DATA_IMG);
        corrupt_noise(dst, 3, DATA_SIDE, DATA_SIDE, 0.1f + 0.2f * rng_uniform(&o->rng), &o->rng);
    }
}

void outlier_next(outlier_source *o, float *out) {
    if (o->ld) {
        /* a short batch ends the loader's epoch: take the next full one */
        while (loader_next(o->ld, out, o->labels) < o->batch) {
        }
        return;
    }
    for (int i = 0; i < o->batch; i++) synth_one(o, o->scratch.images + (size_t)i * DATA_IMG);
    dataset_batch(&o->scratch, NULL, o->batch, &o->norm, out);
}

void outlier_position(const outlier_source *o, outlier_pos *pos) {
    memset(pos, 0, sizeof *pos);
    pos->rng = o->rng;
    if (o->ld) loader_position(o->ld, &pos->epoch, &pos->position);
}

void outlier_close(outlier_source *o) {
    if (!o) return;
    if (o->ld) loader_stop(o->ld);
    dataset_free(o->d);
    free(o->scratch.images);
    free(o->labels);
    free(o);
}
