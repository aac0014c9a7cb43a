/* outlier.c: outlier sources for R-EBO (train.h says what each kind is): the parse of
 * the config's outliers spec ("photos:0.7+synthetic:0.3"), each part's generator and
 * the refusal of sets that the planned evaluation tests on. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train.h"

enum { T_SHUFFLE = 1, T_MIX = 2, T_NOISE = 4 };
enum { P_SYNTH, P_PHOTOS, P_DATASET };

typedef struct {
    char name[96];
    float weight;
    int kind, count, off; /* outliers per batch, first index in the batch */
    dataset *d;           /* P_DATASET: the set and its loader */
    loader *ld;
    int *labels;          /* [count] the loader's labels (unused: outliers have none) */
    image_pack *pack;     /* P_PHOTOS */
    rng_state rng;        /* P_SYNTH and P_PHOTOS */
} outlier_part;

struct outlier_source {
    int batch;
    data_norm norm;
    const dataset *id; /* P_SYNTH: the ID training images */
    const int *train_idx;
    int n_train;
    int kinds[3], n_kinds;
    outlier_part part[OUTLIER_MAX_PARTS];
    int n_parts;
    dataset scratch; /* [batch] uint8 outliers of the generated parts before normalisation */
};

int outlier_parse(const char *spec, outlier_spec *s, lir_error *err) {
    memset(s, 0, sizeof *s);
    char buf[256];
    snprintf(buf, sizeof buf, "%s", spec);
    double sum = 0;
    for (char *save = NULL, *tok = strtok_r(buf, "+", &save); tok; tok = strtok_r(NULL, "+", &save)) {
        while (*tok == ' ') tok++;
        if (s->n == OUTLIER_MAX_PARTS)
            return lir_fail(err, "config key 'outliers': more than %d parts in \"%s\"",
                            OUTLIER_MAX_PARTS, spec);
        char *colon = strchr(tok, ':'), *end = NULL;
        float w = 1;
        if (colon) {
            *colon = 0;
            w = strtof(colon + 1, &end);
            if (end == colon + 1 || *end || !(w > 0) || !isfinite(w))
                return lir_fail(err, "config key 'outliers': weight \"%s\" of %s is not a positive "
                                "number (syntax: name[:weight]+name[:weight], e.g. "
                                "photos:0.7+synthetic:0.3)", colon + 1, tok);
        }
        if (!*tok || strlen(tok) >= sizeof s->name[0] || !strcmp(tok, "none"))
            return lir_fail(err, "config key 'outliers': bad part \"%s\" in \"%s\"", tok, spec);
        for (int i = 0; i < s->n; i++)
            if (!strcmp(s->name[i], tok))
                return lir_fail(err, "config key 'outliers': %s appears twice in \"%s\"", tok, spec);
        snprintf(s->name[s->n], sizeof s->name[0], "%s", tok);
        s->weight[s->n++] = w;
        sum += w;
    }
    if (!s->n) return lir_fail(err, "config key 'outliers': no source in \"%s\"", spec);
    for (int i = 0; i < s->n; i++) s->weight[i] = (float)(s->weight[i] / sum);
    return 0;
}

/* Refuses one source name that is the ID set or a planned eval OOD set. */
static int check_one(const char *name, const char *id_name, const char *eval_ood,
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
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
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

int outlier_check_name(const char *name, const char *id_name, const char *eval_ood,
                       lir_error *err) {
    outlier_spec s;
    if (outlier_parse(name, &s, err)) return -1;
    for (int i = 0; i < s.n; i++)
        if (strcmp(s.name[i], "synthetic") && check_one(s.name[i], id_name, eval_ood, err))
            return -1;
    return 0;
}

int outlier_check_eval(const char *weights, const char *out_list, lir_error *err) {
    char path[4200];
    snprintf(path, sizeof path, "%s.json", weights);
    char *text = file_read_all(path, NULL, NULL);
    cJSON *js = text ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(js, "config");
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(cfg, "outliers");
    outlier_spec s = {0};
    int rc = 0;
    if (cJSON_IsString(o) && strcmp(o->valuestring, "none") && outlier_parse(o->valuestring, &s, NULL) == 0)
        for (int i = 0; i < s.n && rc == 0; i++) {
            char b[96], list[1024];
            dataset_base_name(s.name[i], b, sizeof b);
            snprintf(list, sizeof list, "%s", out_list);
            for (char *save = NULL, *t = strtok_r(list, ",", &save); t && rc == 0;
                 t = strtok_r(NULL, ",", &save)) {
                char tb[96];
                dataset_base_name(t + strspn(t, " "), tb, sizeof tb);
                if (strcmp(s.name[i], "synthetic") && !strcmp(b, tb))
                    rc = lir_fail(err, "--out %s: the network was trained with it as outlier "
                                  "source (%s: config outliers \"%s\"); a set cannot be both "
                                  "outlier source and test set", t, path, o->valuestring);
            }
        }
    cJSON_Delete(js);
    return rc;
}

static int parse_kinds(outlier_source *o, const char *list, lir_error *err) {
    char buf[128];
    snprintf(buf, sizeof buf, "%s", list);
    int seen = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
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

/* Outliers per batch for each part: floor(weight * batch), the rest to the largest
 * remainders (the first part on ties), so the split is fixed and needs no randomness. */
static int split_batch(outlier_source *o, lir_error *err) {
    int given = 0;
    double rem[OUTLIER_MAX_PARTS];
    for (int i = 0; i < o->n_parts; i++) {
        double x = o->part[i].weight * (double)o->batch;
        o->part[i].count = (int)floor(x);
        rem[i] = x - o->part[i].count;
        given += o->part[i].count;
    }
    for (; given < o->batch; given++) {
        int best = 0;
        for (int i = 1; i < o->n_parts; i++)
            if (rem[i] > rem[best]) best = i;
        o->part[best].count++;
        rem[best] = -1;
    }
    for (int i = 0, off = 0; i < o->n_parts; off += o->part[i++].count) {
        o->part[i].off = off;
        if (!o->part[i].count)
            return lir_fail(err, "config key 'outliers': part %s gets no image of an "
                            "outlier_batch of %d; raise its weight or the batch",
                            o->part[i].name, o->batch);
    }
    return 0;
}

static int open_synth(outlier_source *o, const train_config *c, lir_error *err) {
    if (o->n_kinds) return 0; /* one synthetic part at most (names are unique) */
    if (parse_kinds(o, c->synthetic, err)) return -1;
    if (o->id->c != 3 || o->id->h != DATA_SIDE || o->id->w != DATA_SIDE)
        return lir_fail(err, "synthetic outliers need 3x32x32 ID images (%s is %dx%dx%d)",
                        o->id->name, o->id->c, o->id->h, o->id->w);
    return 0;
}

/* Opens part p (its seed: the source's seed for the first part, as before mixtures). */
static int open_part(outlier_source *o, outlier_part *p, const train_config *c, uint64_t seed,
                     const outlier_part_pos *pos, lir_error *err) {
    const char *dir = c->data_dir[0] ? c->data_dir : NULL;
    p->kind = !strcmp(p->name, "synthetic") ? P_SYNTH : !strcmp(p->name, "photos") ? P_PHOTOS
                                                                                    : P_DATASET;
    if (pos) p->rng = pos->rng;
    else rng_seed(&p->rng, seed);
    if (p->kind == P_SYNTH) return open_synth(o, c, err);
    if (p->kind == P_PHOTOS) return (p->pack = imageset_open("photos", dir, err)) ? 0 : -1;
    p->d = dataset_load(p->name, c->outlier_split, dir, err);
    if (!p->d) return -1;
    if (p->d->n < p->count)
        return lir_fail(err, "outlier set %s has %d images, fewer than its %d per batch", p->name,
                        p->d->n, p->count);
    p->labels = xmalloc((size_t)p->count * sizeof *p->labels);
    loader_opts lo = {.augment = c->augment, .shuffle = 1};
    p->ld = loader_start(p->d, NULL, p->d->n, p->count, &o->norm, lo, seed,
                         pos ? pos->epoch : 0, pos ? pos->position : 0, err);
    return p->ld ? 0 : -1;
}

outlier_source *outlier_open(const train_config *c, const dataset *id, const int *train_idx,
                             int n_train, const data_norm *norm, int batch, uint64_t seed,
                             const outlier_pos *pos, lir_error *err) {
    outlier_source *o = xcalloc(1, sizeof *o);
    o->batch = batch;
    o->norm = *norm;
    o->id = id;
    o->train_idx = train_idx;
    o->n_train = n_train;
    outlier_spec s;
    if (outlier_parse(c->outliers, &s, err) || outlier_check_name(c->outliers, c->dataset,
                                                                  c->eval_ood, err))
        goto fail;
    o->n_parts = s.n;
    for (int i = 0; i < s.n; i++) {
        snprintf(o->part[i].name, sizeof o->part[i].name, "%s", s.name[i]);
        o->part[i].weight = s.weight[i];
    }
    if (split_batch(o, err)) goto fail;
    for (int i = 0; i < o->n_parts; i++)
        if (open_part(o, &o->part[i], c, seed + (uint64_t)i * 0x9e3779b97f4a7c15ULL,
                      pos ? &pos->part[i] : NULL, err))
            goto fail;
    o->scratch.n = batch;
    o->scratch.c = 3;
    o->scratch.h = o->scratch.w = DATA_SIDE;
    o->scratch.images = xmalloc((size_t)batch * DATA_IMG);
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
static void synth_one(outlier_source *o, rng_state *r, uint8_t *dst) {
    const dataset *d = o->id;
    int a = o->train_idx[rng_below(r, (uint32_t)o->n_train)];
    const uint8_t *ia = d->images + (size_t)a * DATA_IMG;
    int kind = o->kinds[rng_below(r, (uint32_t)o->n_kinds)];
    if (kind == T_SHUFFLE) {
        outlier_patch_shuffle(ia, dst, r);
    } else if (kind == T_MIX) {
        int b = a;
        /* a partner of another class (bounded tries: a one-class set mixes anyway) */
        for (int t = 0; t < 64 && d->labels[b] == d->labels[a]; t++)
            b = o->train_idx[rng_below(r, (uint32_t)o->n_train)];
        float w = 0.35f + 0.3f * rng_uniform(r);
        outlier_mix(ia, d->images + (size_t)b * DATA_IMG, dst, w);
    } else {
        memcpy(dst, ia, DATA_IMG);
        corrupt_noise(dst, 3, DATA_SIDE, DATA_SIDE, 0.1f + 0.2f * rng_uniform(r), r);
    }
}

void outlier_next(outlier_source *o, float *out) {
    for (int i = 0; i < o->n_parts; i++) {
        outlier_part *p = &o->part[i];
        float *dst = out + (size_t)p->off * DATA_IMG;
        if (p->ld) {
            /* a short batch ends the loader's epoch: take the next full one */
            while (loader_next(p->ld, dst, p->labels) < p->count) {
            }
            continue;
        }
        uint8_t *raw = o->scratch.images + (size_t)p->off * DATA_IMG;
        for (int k = 0; k < p->count; k++) {
            if (p->kind == P_SYNTH) synth_one(o, &p->rng, raw + (size_t)k * DATA_IMG);
            else photo_crop(p->pack, &p->rng, raw + (size_t)k * DATA_IMG);
        }
        dataset scratch = o->scratch;
        scratch.images = raw;
        scratch.n = p->count;
        dataset_batch(&scratch, NULL, p->count, &o->norm, dst);
    }
}

void outlier_position(const outlier_source *o, outlier_pos *pos) {
    memset(pos, 0, sizeof *pos);
    for (int i = 0; i < o->n_parts; i++) {
        pos->part[i].rng = o->part[i].rng;
        if (o->part[i].ld) loader_position(o->part[i].ld, &pos->part[i].epoch, &pos->part[i].position);
    }
}

void outlier_close(outlier_source *o) {
    if (!o) return;
    for (int i = 0; i < o->n_parts; i++) {
        outlier_part *p = &o->part[i];
        if (p->ld) loader_stop(p->ld);
        dataset_free(p->d);
        image_pack_free(p->pack);
        free(p->labels);
    }
    free(o->scratch.images);
    free(o);
}
