/* dataset.c: the registry of dataset names, loading a split by name from the data
 * directory (with derived "@transform" suffixes), normalisers, the held-out
 * validation split and the conversion of uint8 images to the network's float input. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data.h"

typedef struct {
    const char *name;
    int classes;
    int train; /* images in the train split, 0: none */
} known_set;

static const known_set known[] = {
    {"cifar10", 10, 50000},  {"cifar100", 100, 50000},
    {"svhn", 10, 73257},     {"mnist", 10, 60000},
    {"fashionmnist", 10, 60000}, {"tinyimages300k", 1, 300000},
    {"photos", 1, PHOTOS_SET_SIZE}, {"photos-val", 1, 0}, {"photos-test", 1, 0},
    {"textures", 1, 0},      {"clipart-val", 1, 0}, {"dtd", 47, 0},
    {"gaussian", 1, 0},      {"uniform", 1, 0},
    {"blobs", 1, 0},
};
enum { N_KNOWN = sizeof known / sizeof known[0] };

static const char NPY_FILE[] = "tinyimages300k/300K_random_images.npy"; /* OpenOOD's layout */

const char *dataset_known_names(void) {
    return "cifar10, cifar100, svhn, mnist, fashionmnist, tinyimages300k, photos, photos-val, "
           "photos-test, textures, clipart-val, dtd, gaussian, uniform, blobs";
}

const char *dataset_default_split(const char *name) {
    size_t n = strcspn(name, "@");
    return (n == 6 && !strncmp(name, "photos", 6)) || (n == 14 && !strncmp(name, "tinyimages300k", 14))
               ? "train"
               : "test";
}

static const char *const cifar10_classes[10] = {"airplane", "automobile", "bird", "cat", "deer",
                                                "dog", "frog", "horse", "ship", "truck"};
static const char *const cifar100_classes[100] = {
    "apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle",
    "bottle", "bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle",
    "caterpillar", "cattle", "chair", "chimpanzee", "clock", "cloud", "cockroach", "couch",
    "crab", "crocodile", "cup", "dinosaur", "dolphin", "elephant", "flatfish", "forest", "fox",
    "girl", "hamster", "house", "kangaroo", "keyboard", "lamp", "lawn_mower", "leopard", "lion",
    "lizard", "lobster", "man", "maple_tree", "motorcycle", "mountain", "mouse", "mushroom",
    "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear", "pickup_truck", "pine_tree",
    "plain", "plate", "poppy", "porcupine", "possum", "rabbit", "raccoon", "ray", "road",
    "rocket", "rose", "sea", "seal", "shark", "shrew", "skunk", "skyscraper", "snail", "snake",
    "spider", "squirrel", "streetcar", "sunflower", "sweet_pepper", "table", "tank",
    "telephone", "television", "tiger", "tractor", "train", "trout", "tulip", "turtle",
    "wardrobe", "whale", "willow_tree", "wolf", "woman", "worm"};
static const char *const fashion_classes[10] = {"T-shirt/top", "trouser", "pullover", "dress",
                                                "coat", "sandal", "shirt", "sneaker", "bag",
                                                "ankle boot"};
static const char *const digit_classes[10] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};

const char *dataset_class_name(const char *name, int k) {
    static const struct {
        const char *name;
        const char *const *classes;
        int n;
    } tab[] = {{"cifar10", cifar10_classes, 10},      {"cifar100", cifar100_classes, 100},
               {"fashionmnist", fashion_classes, 10}, {"mnist", digit_classes, 10},
               {"svhn", digit_classes, 10}};
    size_t blen = strcspn(name, "@");
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (strlen(tab[i].name) == blen && !strncmp(tab[i].name, name, blen))
            return k >= 0 && k < tab[i].n ? tab[i].classes[k] : NULL;
    return NULL;
}

int dataset_expand(const char *name, char ***names, int *n, lir_error *err) {
    int count = corrupt_c_expand(name, 0, NULL, 0);
    if (count < 1) return lir_fail(err, "'%s': names no set", name);
    *names = xmalloc((size_t)count * sizeof **names);
    for (int k = 0; k < count; k++) {
        char buf[160];
        corrupt_c_expand(name, k, buf, sizeof buf);
        (*names)[k] = xstrdup(buf);
    }
    *n = count;
    return 0;
}

const char *dataset_dir(const char *dir) {
    if (dir && *dir) return dir;
    const char *env = getenv("LIR_DATA");
    return env && *env ? env : "data";
}

void dataset_base_name(const char *name, char *out, size_t size) {
    snprintf(out, size, "%.*s", (int)strcspn(name, "@"), name);
}

/* Index into known[] of name's base, -1 if unknown. */
static int known_index(const char *name) {
    size_t blen = strcspn(name, "@");
    for (int i = 0; i < N_KNOWN; i++)
        if (strlen(known[i].name) == blen && !strncmp(known[i].name, name, blen)) return i;
    return -1;
}

int dataset_train_size(const char *name) {
    int k = known_index(name);
    return k < 0 ? 0 : known[k].train;
}

void dataset_free(dataset *d) {
    if (!d) return;
    free(d->images);
    free(d->labels);
    free(d->coarse);
    free(d);
}

/* Where a split of a file-format set lives: DIR/<sub>/<files>, read by the parser
 * `kind`; `want` is how the "not found" message names the files. */
enum { K_CIFAR10, K_CIFAR100, K_SVHN, K_IDX, MAX_FILES = 5 };
typedef struct {
    int kind;
    char sub[40];
    int n;
    char files[MAX_FILES][40];
    char want[160];
} split_layout;

/* 1 when base is not a file-format set (its layout is not in this table). */
static int layout_of(const char *base, const char *split, split_layout *L, lir_error *err) {
    int train = !strcmp(split, "train"), test = !strcmp(split, "test");
    int idx = !strcmp(base, "mnist") || !strcmp(base, "fashionmnist");
    memset(L, 0, sizeof *L);
    if (strcmp(base, "cifar10") && strcmp(base, "cifar100") && strcmp(base, "svhn") && !idx)
        return 1;
    if (!strcmp(base, "svhn")) {
        if (!train && !test && strcmp(split, "extra"))
            return lir_fail(err, "dataset svhn has splits train, test and extra, not \"%s\"",
                            split);
        L->kind = K_SVHN;
        snprintf(L->sub, sizeof L->sub, "svhn");
        snprintf(L->files[L->n++], sizeof L->files[0], "%.16s_32x32.mat", split);
        snprintf(L->want, sizeof L->want, "%s", L->files[0]);
        return 0;
    }
    if (!train && !test)
        return lir_fail(err, "dataset %s has splits train and test, not \"%s\"", base, split);
    if (!strcmp(base, "cifar10")) {
        L->kind = K_CIFAR10;
        snprintf(L->sub, sizeof L->sub, "cifar10/cifar-10-batches-bin");
        if (test) snprintf(L->files[L->n++], sizeof L->files[0], "test_batch.bin");
        for (int i = 1; train && i <= 5; i++)
            snprintf(L->files[L->n++], sizeof L->files[0], "data_batch_%d.bin", i);
        snprintf(L->want, sizeof L->want, "cifar-10-batches-bin/{data_batch_1..5,test_batch}.bin");
    } else if (!strcmp(base, "cifar100")) {
        L->kind = K_CIFAR100;
        snprintf(L->sub, sizeof L->sub, "cifar100/cifar-100-binary");
        snprintf(L->files[L->n++], sizeof L->files[0], "%s.bin", split);
        snprintf(L->want, sizeof L->want, "cifar-100-binary/{train,test}.bin");
    } else {
        const char *pre = train ? "train" : "t10k";
        L->kind = K_IDX;
        snprintf(L->sub, sizeof L->sub, "%s", base);
        snprintf(L->files[L->n++], sizeof L->files[0], "%s-images-idx3-ubyte", pre);
        snprintf(L->files[L->n++], sizeof L->files[0], "%s-labels-idx1-ubyte", pre);
        snprintf(L->want, sizeof L->want, "%s[.gz] and %s[.gz]", L->files[0], L->files[1]);
    }
    return 0;
}

/* The paths of a layout's files under dir (already resolved), into paths[0..L->n). */
static void layout_paths(const split_layout *L, const char *dir, char (*paths)[DATASET_PATH]) {
    for (int i = 0; i < L->n; i++) {
        snprintf(paths[i], DATASET_PATH, "%s/%s/%s", dir, L->sub, L->files[i]);
        if (L->kind == K_IDX && access(paths[i], R_OK) != 0) /* IDX files may be gzipped */
            snprintf(paths[i], DATASET_PATH, "%s/%s/%s.gz", dir, L->sub, L->files[i]);
    }
}

int dataset_files(const char *name, const char *split, const char *dir,
                  char (*paths)[DATASET_PATH], int cap) {
    char base[32], all[MAX_FILES][DATASET_PATH];
    dataset_base_name(name, base, sizeof base);
    dir = dataset_dir(dir);
    split_layout L;
    int rc = layout_of(base, split, &L, NULL);
    if (rc < 0) return 0;
    if (rc == 0) {
        layout_paths(&L, dir, all);
    } else {
        L.n = 1;
        if (!strcmp(base, "tinyimages300k")) snprintf(all[0], DATASET_PATH, "%s/%s", dir, NPY_FILE);
        else if (!strcmp(base, "dtd")) snprintf(all[0], DATASET_PATH, "%s/dtd/dtd32.pack", dir);
        else if (imageset_files_folder(base))
            snprintf(all[0], DATASET_PATH, "%s/%s/MANIFEST", dir, imageset_files_folder(base));
        else L.n = 0;
    }
    int k = L.n < cap ? L.n : cap;
    for (int i = 0; i < k; i++) memcpy(paths[i], all[i], DATASET_PATH);
    return k;
}

/* Reads one file and hands it to the parser picked by kind. */
static int parse_file(const char *path, int kind, dataset *d, lir_error *err) {
    size_t len;
    uint8_t *buf = kind == K_IDX
                       ? data_read_file_limited(path, IDX_HEAD_IMAGES, idx_images_size,
                                                DATA_MAX_BYTES, &len, err)
                       : data_read_file_limited(path, 0, NULL, kind == K_SVHN ? DATA_MAX_BYTES
                                                : (uint64_t)CIFAR_MAX_RECORDS * 3074, &len, err);
    if (!buf) return -1;
    int rc;
    switch (kind) {
    case K_CIFAR10: rc = cifar_parse(buf, len, 0, path, d, err); break;
    case K_CIFAR100: rc = cifar_parse(buf, len, 1, path, d, err); break;
    case K_SVHN: rc = svhn_parse(buf, len, path, d, err); break;
    default: rc = idx_parse_images(buf, len, path, d, err); break;
    }
    free(buf);
    return rc;
}

/* Reads the files of a file-format set's split (all checked to exist first) into d. */
static int load_files(const char *base, const char *split, const char *dir, dataset *d,
                      lir_error *err) {
    split_layout L;
    char paths[MAX_FILES][DATASET_PATH];
    if (layout_of(base, split, &L, err) < 0) return -1;
    layout_paths(&L, dir, paths);
    for (int i = 0; i < L.n; i++)
        if (access(paths[i], R_OK) != 0)
            return lir_fail(err,
                            "dataset %s (split %s) not found: expected %s in %s/%s/; fetch it "
                            "with `scripts/get_data.sh %s --data %s` (or set LIR_MIRROR to a "
                            "local mirror)",
                            base, split, L.want, dir, base, base, dir);
    if (L.kind != K_IDX) {
        for (int i = 0; i < L.n; i++)
            if (parse_file(paths[i], L.kind, d, err) < 0) return -1;
        return 0;
    }
    if (parse_file(paths[0], L.kind, d, err) < 0) return -1;
    size_t len;
    uint8_t *buf = data_read_file_limited(paths[1], IDX_HEAD_LABELS, idx_labels_size,
                                          DATA_MAX_BYTES, &len, err);
    if (!buf) return -1;
    int rc = idx_parse_labels(buf, len, paths[1], d->n, 10, &d->labels, err);
    free(buf);
    d->classes = 10;
    return rc;
}

/* tinyimages300k: DIR/tinyimages300k/300K_random_images.npy (as OpenOOD lays it out). */
static int load_npy(const char *dir, const char *split, dataset *d, lir_error *err) {
    if (strcmp(split, "train"))
        return lir_fail(err, "dataset tinyimages300k has only the split train (an outlier set "
                        "for training), not \"%s\"", split);
    char path[DATASET_PATH];
    snprintf(path, sizeof path, "%s/%s", dir, NPY_FILE);
    if (access(path, R_OK) != 0)
        return lir_fail(err, "dataset tinyimages300k not found: expected %s; it cannot be "
                        "downloaded here: `scripts/get_data.sh tinyimages300k` says where to get "
                        "it", path);
    return npy_load_images(path, d, err);
}

/* A split of a known set, by the loader of its kind, into d. */
static int load_split(const char *base, const char *split, const char *dir, dataset *d,
                      lir_error *err) {
    int rc;
    if (!strcmp(base, "tinyimages300k")) return load_npy(dir, split, d, err);
    if ((rc = imageset_load(base, split, dir, d, err)) != 1) return rc;
    if ((rc = synth_load(base, split, d, err)) != 1) return rc;
    return load_files(base, split, dir, d, err);
}

/* Copies the i-th "@" transform spec of name (after its '@') into spec. */
static int transform_spec(const char *name, const char *at, char *spec, size_t size,
                          lir_error *err) {
    size_t sl = strcspn(at + 1, "@");
    if (sl >= size) return lir_fail(err, "%s: transform spec too long", name);
    memcpy(spec, at + 1, sl);
    spec[sl] = 0;
    return 0;
}

dataset *dataset_load(const char *name, const char *split, const char *dir, lir_error *err) {
    const char *at = strchr(name, '@');
    size_t blen = at ? (size_t)(at - name) : strlen(name);
    int k = blen < 32 ? known_index(name) : -1;
    if (k < 0 && corrupt_c_expand(name, 0, NULL, 0) > 1) {
        lir_fail(err, "\"%s\" stands for %d sets, %.*s@c-<corruption>-<severity 1..5>: load "
                 "them one at a time (e.g. %.*s@c-fog-3)", name, corrupt_c_expand(name, 0, NULL, 0),
                 (int)(blen - 2), name, (int)(blen - 2), name);
        return NULL;
    }
    if (k < 0) {
        lir_fail(err, "unknown dataset \"%.*s\" (known: %s; derived sets add @jpeg<q>, "
                 "@noise<sigma>[s<seed>], @blur<sigma> or @c-<corruption>-<severity>, e.g. "
                 "cifar10@jpeg75; <name>-c stands for all CIFAR-10-C sets)",
                 (int)(blen < 64 ? blen : 64), name, dataset_known_names());
        return NULL;
    }
    if (strlen(name) >= sizeof((dataset *)0)->name) {
        lir_fail(err, "dataset name too long: %s", name);
        return NULL;
    }
    /* Check the transform specs before the (possibly long) load: on an empty set
     * dataset_transform only parses. */
    dataset probe = {.n = 0};
    char spec[64];
    for (const char *p = at; p; p = strchr(p + 1, '@'))
        if (transform_spec(name, p, spec, sizeof spec, err) < 0 ||
            dataset_transform(&probe, spec, err) < 0)
            return NULL;
    dataset *d = xcalloc(1, sizeof *d);
    snprintf(d->name, sizeof d->name, "%s", name);
    snprintf(d->split, sizeof d->split, "%.15s", split);
    int rc = load_split(known[k].name, split, dataset_dir(dir), d, err);
    d->classes = known[k].classes;
    /* Derived transforms, applied left to right. */
    for (const char *p = at; rc == 0 && p; p = strchr(p + 1, '@'))
        rc = transform_spec(name, p, spec, sizeof spec, err) < 0 ? -1
                                                                 : dataset_transform(d, spec, err);
    if (rc < 0) {
        dataset_free(d);
        return NULL;
    }
    return d;
}

void dataset_sha256(const dataset *d, char hex[65]) {
    sha256_ctx h;
    uint8_t out[32];
    sha256_init(&h);
    sha256_update(&h, d->images, (size_t)d->n * d->c * d->h * d->w);
    for (int i = 0; i < d->n; i++) {
        int32_t l = d->labels[i];
        sha256_update(&h, &l, sizeof l);
    }
    sha256_final(&h, out);
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", out[i]);
}

/* Copies the value of the first line starting with key into out ("" if none). */
static void provenance_value(const char *text, const char *key, char *out, size_t size) {
    size_t k = strlen(key);
    out[0] = 0;
    for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
        if (strncmp(l, key, k)) continue;
        snprintf(out, size, "%.*s", (int)strcspn(l + k, "\r\n"), l + k);
        return;
    }
}

data_source dataset_provenance(const char *name, const char *dir, char *buf, size_t size) {
    char path[4200], shown[4300], source[16], from[1024], note[1024];
    char base[96];
    dataset_base_name(name, base, sizeof base);
    snprintf(path, sizeof path, "%s/%s/PROVENANCE", dataset_dir(dir), base);
    path_alias data;
    path_alias_of(&data, dataset_dir(dir), "<data dir>");
    path_record(path, &data, 1, shown, sizeof shown);
    char *text = file_read_all(path, NULL, NULL);
    if (!text) {
        snprintf(buf, size, "source=unknown (no %s: not fetched by scripts/get_data.sh)", shown);
        return DATA_SOURCE_UNKNOWN;
    }
    provenance_value(text, "source=", source, sizeof source);
    provenance_value(text, "fetched_from=", from, sizeof from);
    provenance_value(text, "note=", note, sizeof note);
    if (!strcmp(source, "debian")) {
        int n = snprintf(buf, size, "source=debian (packages");
        for (const char *l = strstr(text, "\npackage="); l && n >= 0 && (size_t)n < size;
             l = strstr(l + 1, "\npackage="))
            n += snprintf(buf + n, size - (size_t)n, " %.*s", (int)strcspn(l + 9, "\n"), l + 9);
        if (n >= 0 && (size_t)n < size) snprintf(buf + n, size - (size_t)n, "): %s", note);
        free(text);
        return DATA_SOURCE_DEBIAN;
    }
    free(text);
    char from_shown[1100]; /* the mirror, without this machine's layout */
    path_record(from, NULL, 0, from_shown, sizeof from_shown);
    if (!strcmp(source, "mirror")) {
        snprintf(buf, size, "source=mirror (fetched from %s): %s", from_shown,
                 *note ? note : "not the official files");
        return DATA_SOURCE_MIRROR;
    }
    if (!strcmp(source, "official")) {
        snprintf(buf, size, "source=official (published md5, fetched from %s)", from_shown);
        return DATA_SOURCE_OFFICIAL;
    }
    snprintf(buf, size, "source=unknown (%s has no source=official|mirror line)", shown);
    return DATA_SOURCE_UNKNOWN;
}

const char *data_source_name(data_source s) {
    return s == DATA_SOURCE_MIRROR ? "mirror" : s == DATA_SOURCE_OFFICIAL ? "official"
           : s == DATA_SOURCE_DEBIAN ? "debian" : "unknown";
}

int data_norm_for(const char *id_name, data_norm *out, lir_error *err) {
    /* cifar10/cifar100: the paper's values (docs/method.md section 3); svhn, mnist, fashionmnist: the commonly published
     * training-set statistics. */
    static const struct {
        const char *name;
        data_norm n;
    } tab[] = {
        {"cifar10", {{0.4914f, 0.4822f, 0.4465f}, {0.2470f, 0.2435f, 0.2616f}}},
        {"cifar100", {{0.5071f, 0.4865f, 0.4409f}, {0.2673f, 0.2564f, 0.2761f}}},
        {"svhn", {{0.4377f, 0.4438f, 0.4728f}, {0.1980f, 0.2010f, 0.1970f}}},
        {"mnist", {{0.1307f, 0.1307f, 0.1307f}, {0.3081f, 0.3081f, 0.3081f}}},
        {"fashionmnist", {{0.2860f, 0.2860f, 0.2860f}, {0.3530f, 0.3530f, 0.3530f}}},
    };
    size_t blen = strcspn(id_name, "@");
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (strlen(tab[i].name) == blen && !strncmp(tab[i].name, id_name, blen)) {
            *out = tab[i].n;
            return 0;
        }
    return lir_fail(err, "no normaliser for \"%s\" (known: %s)", id_name, dataset_known_names());
}

void data_norm_compute(const dataset *d, data_norm *out) {
    size_t plane = (size_t)d->h * d->w;
    double s[3] = {0}, q[3] = {0};
    for (int c = 0; c < d->c; c++) {
        double sum = 0, sq = 0;
#pragma omp parallel for reduction(+ : sum, sq)
        for (int i = 0; i < d->n; i++) {
            const uint8_t *p = d->images + ((size_t)i * d->c + c) * plane;
            uint64_t a = 0, b = 0;
            for (size_t k = 0; k < plane; k++) {
                a += p[k];
                b += (uint64_t)p[k] * p[k];
            }
            sum += (double)a;
            sq += (double)b;
        }
        s[c] = sum;
        q[c] = sq;
    }
    double cnt = (double)d->n * (double)plane;
    for (int c = 0; c < 3; c++) {
        int sc = d->c == 1 ? 0 : c;
        double m = cnt > 0 ? s[sc] / cnt / 255.0 : 0;
        double v = cnt > 0 ? q[sc] / cnt / (255.0 * 255.0) - m * m : 0;
        out->mean[c] = (float)m;
        out->std[c] = (float)sqrt(v > 0 ? v : 0);
    }
}

int data_holdout(int n, int k, int **train_idx, int **val_idx, lir_error *err) {
    if (k < 0 || k >= n)
        return lir_fail(err, "validation size %d must be in 0..%d (train split has %d images)", k,
                        n - 1, n);
    int *t = xmalloc((size_t)(n - k) * sizeof(int));
    int *v = xmalloc((size_t)(k ? k : 1) * sizeof(int));
    for (int i = 0; i < n - k; i++) t[i] = i;
    for (int i = 0; i < k; i++) v[i] = n - k + i;
    *train_idx = t;
    *val_idx = v;
    return 0;
}

/* Per-channel table value -> ((v / 255) - mean) / std, in the same float operations
 * as torchvision's ToTensor + Normalize. */
static void norm_lut(const data_norm *nm, float lut[3][256]) {
    for (int c = 0; c < 3; c++)
        for (int v = 0; v < 256; v++) lut[c][v] = ((float)v / 255.0f - nm->mean[c]) / nm->std[c];
}

/* Bilinear taps along one axis (PyTorch align_corners=False). */
typedef struct {
    int i0, i1;
    float l0, l1;
} tap;

static void bilinear_taps(int in, tap *t) {
    float scale = (float)in / (float)DATA_SIDE;
    for (int o = 0; o < DATA_SIDE; o++) {
        float r = scale * ((float)o + 0.5f) - 0.5f;
        if (r < 0) r = 0;
        int i0 = (int)r;
        t[o].i0 = i0;
        t[o].i1 = i0 + (i0 < in - 1 ? 1 : 0);
        t[o].l1 = r - (float)i0;
        t[o].l0 = 1.0f - t[o].l1;
    }
}

void dataset_batch_ex(const dataset *d, const int *idx, int n, const data_norm *norm, float *out,
                      int parallel) {
    float lut[3][256], unit[256]; /* unit[v] = v / 255, ToTensor's scaling */
    norm_lut(norm, lut);
    for (int v = 0; v < 256; v++) unit[v] = (float)v / 255.0f;
    size_t isz = (size_t)d->c * d->h * d->w;
    int native = d->h == DATA_SIDE && d->w == DATA_SIDE;
    tap ty[DATA_SIDE], tx[DATA_SIDE];
    if (!native) {
        bilinear_taps(d->h, ty);
        bilinear_taps(d->w, tx);
    }
    /* The conversion is memory-bound (~0.4 M images/s on one Zen 3 core): an OpenMP
     * region per 128-image batch costs more than it saves, and far more when other
     * work holds the cores (measured: 12 k images/s instead of 470 k), so only big
     * conversions go parallel. */
#pragma omp parallel for schedule(static) if (parallel && n >= 4096)
    for (int i = 0; i < n; i++) {
        const uint8_t *src = d->images + (size_t)(idx ? idx[i] : i) * isz;
        float *o = out + (size_t)i * DATA_IMG;
        if (native) {
            for (int c = 0; c < 3; c++) {
                const uint8_t *s = src + (d->c == 1 ? 0 : c) * DATA_PLANE;
                for (int k = 0; k < DATA_PLANE; k++) o[c * DATA_PLANE + k] = lut[c][s[k]];
            }
            continue;
        }
        for (int ch = 0; ch < d->c; ch++) {
            const uint8_t *s = src + (size_t)ch * d->h * d->w;
            float r[DATA_PLANE];
            for (int y = 0; y < DATA_SIDE; y++) {
                const uint8_t *a = s + (size_t)ty[y].i0 * d->w, *b = s + (size_t)ty[y].i1 * d->w;
                for (int x = 0; x < DATA_SIDE; x++) {
                    float x00 = unit[a[tx[x].i0]], x01 = unit[a[tx[x].i1]];
                    float x10 = unit[b[tx[x].i0]], x11 = unit[b[tx[x].i1]];
                    r[y * DATA_SIDE + x] = ty[y].l0 * (tx[x].l0 * x00 + tx[x].l1 * x01) +
                                    ty[y].l1 * (tx[x].l0 * x10 + tx[x].l1 * x11);
                }
            }
            int c0 = d->c == 1 ? 0 : ch, c1 = d->c == 1 ? 3 : ch + 1;
            for (int c = c0; c < c1; c++)
                for (int k = 0; k < DATA_PLANE; k++) o[c * DATA_PLANE + k] = (r[k] - norm->mean[c]) / norm->std[c];
        }
    }
}

void dataset_batch(const dataset *d, const int *idx, int n, const data_norm *norm, float *out) {
    dataset_batch_ex(d, idx, n, norm, out, 1);
}
