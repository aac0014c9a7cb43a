/* imageset.c: the sets made of image files (data.h: photos, photos-val, photos-test,
 * textures, clipart-val, dtd): where their files are listed, how they are packed, random
 * photo crops, the fixed-seed crop sets, the photos held out of photos for photos-val and
 * the check that photos-test shares no package and no file with photos. */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data.h"

/* Which photos of a MANIFEST a set takes (PHOTOS_VAL_EVERY in data.h). */
enum { PART_ALL, PART_TRAIN, PART_VAL };

typedef struct {
    const char *name, *split, *pack;
    pack_spec spec;
    int classes;
    int dtd;            /* files found by scanning DTD's archive layout, not a MANIFEST */
    uint64_t seed;      /* crop sets: seed of the fixed crops */
    const char *folder; /* where the files are, under the data folder (NULL: name) */
    int part;
} set_def;

static const set_def sets[] = {
    {"photos", "train", "photos256-train.pack", {PACK_SHORT, 256, 64, IMAGE_ALPHA_DROP}, 1, 0,
     0x70686f746f73ULL, NULL, PART_TRAIN},
    {"photos-val", "test", "photos256-val.pack", {PACK_SHORT, 256, 64, IMAGE_ALPHA_DROP}, 1, 0,
     0x76616c6964ULL, "photos", PART_VAL},
    {"photos-test", "test", "photos256.pack", {PACK_SHORT, 256, 64, IMAGE_ALPHA_DROP}, 1, 0,
     0x74657374ULL, NULL, PART_ALL},
    {"textures", "test", "textures32.pack", {PACK_CENTER, 32, 32, IMAGE_ALPHA_DROP}, 1, 0, 0, NULL,
     PART_ALL},
    {"clipart-val", "test", "clipart32w.pack", {PACK_CENTER, 32, 32, IMAGE_ALPHA_OVER_WHITE}, 1, 0,
     0, NULL, PART_ALL},
    {"dtd", "test", "dtd32.pack", {PACK_CENTER, 32, 32, IMAGE_ALPHA_DROP}, 47, 1, 0, NULL,
     PART_ALL},
};
enum { N_SETS = sizeof sets / sizeof sets[0] };

static const set_def *set_find(const char *name) {
    for (int i = 0; i < N_SETS; i++)
        if (!strcmp(sets[i].name, name)) return &sets[i];
    return NULL;
}

const char *imageset_files_folder(const char *name) {
    const set_def *s = set_find(name);
    return s && !s->dtd ? (s->folder ? s->folder : s->name) : NULL;
}

static int dir_filter(const struct dirent *d) { return d->d_name[0] != '.'; }

static int has_jpeg_ext(const char *n) {
    size_t l = strlen(n);
    return (l > 4 && !strcasecmp(n + l - 4, ".jpg")) || (l > 5 && !strcasecmp(n + l - 5, ".jpeg"));
}

/* DTD: <setdir>/dtd/images/<class>/<file>.jpg (or <setdir>/images/...), classes and
 * files in name order, label = class index. */
static int dtd_scan(const char *setdir, pack_entry **out, int *n, lir_error *err) {
    char root[4400];
    const char *sub = "dtd/images";
    snprintf(root, sizeof root, "%s/%s", setdir, sub);
    if (access(root, R_OK) != 0) {
        sub = "images";
        snprintf(root, sizeof root, "%s/%s", setdir, sub);
    }
    struct dirent **cls;
    int nc = scandir(root, &cls, dir_filter, alphasort), k = 0;
    if (nc <= 0)
        return lir_fail(err, "dataset dtd not found: expected %s/dtd/images/<class>/*.jpg (the "
                        "layout of dtd-r1.0.1.tar.gz unpacked in %s); see scripts/get_data.sh dtd",
                        setdir, setdir);
    pack_entry *e = NULL;
    for (int c = 0; c < nc; c++) {
        char cdir[4700];
        snprintf(cdir, sizeof cdir, "%s/%s", root, cls[c]->d_name);
        struct dirent **f;
        int nf = scandir(cdir, &f, dir_filter, alphasort);
        for (int i = 0; i < nf; i++) {
            if (has_jpeg_ext(f[i]->d_name)) {
                e = xrealloc(e, (size_t)(k + 1) * sizeof *e);
                memset(&e[k], 0, sizeof *e);
                snprintf(e[k].rel, sizeof e[k].rel, "%s/%.200s/%.200s", sub, cls[c]->d_name,
                         f[i]->d_name);
                e[k++].label = c;
            }
            free(f[i]);
        }
        if (nf > 0) free(f);
        free(cls[c]);
    }
    free(cls);
    if (nc > 47 || k == 0) {
        free(e);
        return lir_fail(err, "%s: %d class folders with %d JPEG files; DTD has 47 classes of "
                        "JPEG images", root, nc, k);
    }
    *out = e;
    *n = k;
    return 0;
}

/* Keeps the entries of s's part: photo i of the MANIFEST is held out for photos-val when
 * i % PHOTOS_VAL_EVERY == PHOTOS_VAL_EVERY - 1, the others are photos'. */
static int keep_part(const set_def *s, pack_entry *e, int *n, lir_error *err) {
    int k = 0, all = *n;
    for (int i = 0; i < all; i++)
        if (s->part == PART_ALL || (i % PHOTOS_VAL_EVERY == PHOTOS_VAL_EVERY - 1) == (s->part == PART_VAL))
            e[k++] = e[i];
    *n = k;
    if (k == 0)
        return lir_fail(err, "dataset %s: the photos corpus lists %d photos; every %dth is held "
                        "out for photos-val, so it needs at least %d", s->name, all,
                        PHOTOS_VAL_EVERY, PHOTOS_VAL_EVERY);
    return 0;
}

static int set_entries(const set_def *s, const char *setdir, const char *dir, pack_entry **e,
                       int *n, lir_error *err) {
    if (s->dtd) return dtd_scan(setdir, e, n, err);
    char path[4400];
    snprintf(path, sizeof path, "%s/MANIFEST", setdir);
    const char *fetch = s->folder ? s->folder : s->name;
    if (access(path, R_OK) != 0)
        return lir_fail(err, "dataset %s not found: expected %s (written by `scripts/get_data.sh "
                        "%s --data %s`, which takes the images from Debian packages)",
                        s->name, path, fetch, dir);
    if (manifest_read(path, e, n, err) < 0) return -1;
    if (keep_part(s, *e, n, err) == 0) return 0;
    free(*e);
    return -1;
}

image_pack *imageset_open(const char *name, const char *dir, lir_error *err) {
    const set_def *s = set_find(name);
    if (!s) {
        lir_fail(err, "%s is not an image set (photos, photos-val, photos-test, textures, "
                 "clipart-val, dtd)", name);
        return NULL;
    }
    dir = dataset_dir(dir);
    char setdir[4200];
    snprintf(setdir, sizeof setdir, "%s/%s", dir, s->folder ? s->folder : s->name);
    pack_entry *e;
    int n;
    if (set_entries(s, setdir, dir, &e, &n, err) < 0) return NULL;
    image_pack *p = image_pack_open(setdir, s->pack, e, n, &s->spec, err);
    free(e);
    return p;
}

void photo_crop(const image_pack *p, rng_state *r, uint8_t *dst) {
    const pack_image *m = &p->img[rng_below(r, (uint32_t)p->n)];
    int s = m->w < m->h ? m->w : m->h;
    double lo = log(s < PHOTOS_CROP_MIN ? s : PHOTOS_CROP_MIN), hi = log(s);
    double side = exp(lo + (hi - lo) * rng_uniform(r));
    if (side > s) side = s;
    image_box b = {rng_uniform(r) * (m->w - side), rng_uniform(r) * (m->h - side), side, side};
    image_resize_area(p->pix + m->off, 3, m->h, m->w, &b, dst, DATA_SIDE, DATA_SIDE);
    if (rng_below(r, 2))
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < DATA_SIDE; y++) {
                uint8_t *row = dst + c * DATA_PLANE + y * DATA_SIDE;
                for (int x = 0; x < DATA_SIDE / 2; x++) {
                    uint8_t t = row[x];
                    row[x] = row[DATA_SIDE - 1 - x];
                    row[DATA_SIDE - 1 - x] = t;
                }
            }
}

/* The package= names of <setdir>/PROVENANCE as " a b c " (empty when absent). */
static void set_packages(const char *setdir, char *out, size_t size) {
    char path[4400];
    snprintf(path, sizeof path, "%s/PROVENANCE", setdir);
    char *text = file_read_all(path, NULL, NULL);
    snprintf(out, size, " ");
    for (char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
        if (!strncmp(l, "package=", 8) && strlen(out) + 2 < size)
            snprintf(out + strlen(out), size - strlen(out), "%.*s ", (int)strcspn(l + 8, " \n"),
                     l + 8);
    free(text);
}

/* photos-test must share no package and no file (by SHA-256) with photos. */
static int photos_disjoint(const char *dir, const pack_entry *t, int nt, char *note, size_t size,
                           lir_error *err) {
    char pdir[4200], tdir[4200], path[4400], ptrain[1024], ptest[1024];
    snprintf(pdir, sizeof pdir, "%s/photos", dir);
    snprintf(tdir, sizeof tdir, "%s/photos-test", dir);
    snprintf(path, sizeof path, "%s/MANIFEST", pdir);
    if (access(path, R_OK) != 0) {
        snprintf(note, size, "disjointness from photos not checked: %.300s absent", path);
        return 0;
    }
    pack_entry *p;
    int np;
    if (manifest_read(path, &p, &np, err) < 0) return -1;
    set_packages(pdir, ptrain, sizeof ptrain);
    set_packages(tdir, ptest, sizeof ptest);
    int rc = 0;
    for (int i = 0; i < nt && rc == 0; i++)
        for (int j = 0; j < np && rc == 0; j++)
            if (!strcmp(t[i].sha256, p[j].sha256))
                rc = lir_fail(err, "photos-test is not disjoint from photos: %s/%s and %s/%s are "
                              "the same file (sha256 %s)", tdir, t[i].rel, pdir, p[j].rel,
                              t[i].sha256);
    for (char *q = ptest + 1; rc == 0 && *q; q += strcspn(q, " ") + 1) {
        char name[128];
        snprintf(name, sizeof name, " %.*s ", (int)strcspn(q, " "), q);
        if (strstr(ptrain, name))
            rc = lir_fail(err, "photos-test is not disjoint from photos: both take images from "
                          "Debian package%s", name);
    }
    free(p);
    if (rc == 0)
        snprintf(note, size, "disjoint from photos (checked: no shared file among %d vs %d "
                 "SHA-256s; packages%.200svs%.200s)", nt, np, ptest, ptrain);
    return rc;
}

/* PHOTOS_SET_SIZE crops of the pack from the set's fixed seed. */
static void crop_set(const image_pack *p, uint64_t seed, dataset *d) {
    rng_state r;
    rng_seed(&r, seed);
    d->n = PHOTOS_SET_SIZE;
    d->images = xmalloc((size_t)d->n * 3072);
    for (int i = 0; i < d->n; i++) photo_crop(p, &r, d->images + (size_t)i * 3072);
    d->labels = xcalloc((size_t)d->n, sizeof(int));
}

static void pack_set(const image_pack *p, dataset *d) {
    d->n = p->n;
    d->images = xmalloc((size_t)p->n * 3072);
    d->labels = xmalloc((size_t)p->n * sizeof(int));
    for (int i = 0; i < p->n; i++) {
        memcpy(d->images + (size_t)i * 3072, p->pix + p->img[i].off, 3072);
        d->labels[i] = p->img[i].label;
    }
}

int imageset_load(const char *base, const char *split, const char *dir, dataset *d,
                  lir_error *err) {
    const set_def *s = set_find(base);
    if (!s) return 1;
    if (strcmp(split, s->split))
        return lir_fail(err, "dataset %s has only the split %s, not \"%s\"", base, s->split, split);
    dir = dataset_dir(dir);
    char setdir[4200];
    snprintf(setdir, sizeof setdir, "%s/%s", dir, s->folder ? s->folder : s->name);
    pack_entry *e;
    int n;
    if (set_entries(s, setdir, dir, &e, &n, err) < 0) return -1;
    int rc = !strcmp(base, "photos-test") ? photos_disjoint(dir, e, n, d->note, sizeof d->note,
                                                            err) : 0;
    image_pack *p = rc == 0 ? image_pack_open(setdir, s->pack, e, n, &s->spec, err) : NULL;
    free(e);
    if (!p) return -1;
    if (s->spec.mode == PACK_SHORT) crop_set(p, s->seed, d);
    else pack_set(p, d);
    image_pack_free(p);
    d->c = 3;
    d->h = d->w = DATA_SIDE;
    d->classes = s->classes;
    return 0;
}
