/* corrupt_c.c: the CIFAR-10-C corruptions (Hendrycks & Dietterich 2019) as derived
 * sets: the table of names, parsing "c-<corruption>-<severity>[s<seed>]", expanding
 * "<base>-c" into every set, the per-image random source (lir's generator seeded
 * from seed, corruption, severity and image index, so any image can be made alone
 * and in any order) and the parallel loop over a loaded split. The corruptions
 * themselves are in corrupt_c_pixel.c and corrupt_c_blur.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corrupt_c.h"

typedef struct {
    const char *name;
    cc_fn fn;
    int benchmark; /* one of the 15 CIFAR-10-C benchmark corruptions (else one of
                      the 4 extra ones the paper keeps for validation) */
} cc_entry;

/* make_cifar_c.py's order: the 15 benchmark corruptions (less frost), then the extras
 * (less spatter). */
static const cc_entry table[] = {
    {"gaussian_noise", cc_gaussian_noise, 1}, {"shot_noise", cc_shot_noise, 1},
    {"impulse_noise", cc_impulse_noise, 1},   {"defocus_blur", cc_defocus_blur, 1},
    {"glass_blur", cc_glass_blur, 1},         {"motion_blur", cc_motion_blur, 1},
    {"zoom_blur", cc_zoom_blur, 1},           {"snow", cc_snow, 1},
    {"fog", cc_fog, 1},                       {"brightness", cc_brightness, 1},
    {"contrast", cc_contrast, 1},             {"elastic_transform", cc_elastic, 1},
    {"pixelate", cc_pixelate, 1},             {"jpeg_compression", cc_jpeg, 1},
    {"speckle_noise", cc_speckle_noise, 0},   {"gaussian_blur", cc_gaussian_blur, 0},
    {"saturate", cc_saturate, 0},
};
enum { N_CC = sizeof table / sizeof table[0] };

int corrupt_c_count(void) { return N_CC; }

const char *corrupt_c_name(int kind) { return kind >= 0 && kind < N_CC ? table[kind].name : NULL; }

int corrupt_c_find(const char *name) {
    for (int k = 0; k < N_CC; k++)
        if (!strcmp(name, table[k].name)) return k;
    return -1;
}

static void known_list(char *buf, size_t size) {
    buf[0] = 0;
    for (int k = 0; k < N_CC; k++)
        snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", k ? ", " : "", table[k].name);
}

static int bad_name(const char *spec, const char *name, size_t len, lir_error *err) {
    const char *why = "unknown corruption";
    if (len == 5 && !strncmp(name, "frost", 5))
        why = "frost is not generated (it needs the frost photographs of the original release):";
    else if (len == 7 && !strncmp(name, "spatter", 7))
        why = "spatter is not generated (its OpenCV Canny / distance-transform chain is not "
              "reimplemented):";
    char known[400];
    known_list(known, sizeof known);
    return lir_fail(err, "%s \"%.*s\" in \"%s\" (known: %s; write c-<corruption>-<severity 1..5>"
                    "[s<seed>] with the corruption's underscores, e.g. c-gaussian_noise-3)",
                    why, (int)(len < 64 ? len : 64), name, spec, known);
}

int corrupt_c_parse(const char *spec, int *kind, int *severity, uint64_t *seed, lir_error *err) {
    const char *dash = strncmp(spec, "c-", 2) ? NULL : strrchr(spec + 2, '-');
    if (!dash) {
        char known[400];
        known_list(known, sizeof known);
        return lir_fail(err, "bad corruption \"%s\": expected c-<corruption>-<severity 1..5>"
                        "[s<seed>], e.g. c-fog-3 (corruptions: %s)", spec, known);
    }
    size_t len = (size_t)(dash - spec - 2);
    char name[32];
    if (len >= sizeof name) return bad_name(spec, spec + 2, len, err);
    memcpy(name, spec + 2, len);
    name[len] = 0;
    int k = corrupt_c_find(name);
    if (k < 0) return bad_name(spec, name, len, err);
    char *e;
    long s = strtol(dash + 1, &e, 10);
    if (e == dash + 1 || (*e && *e != 's') || s < 1 || s > 5)
        return lir_fail(err, "bad severity \"%.*s\" in \"%s\": expected an integer 1..5",
                        (int)strcspn(dash + 1, "s"), dash + 1, spec);
    uint64_t sd = 1;
    if (*e == 's') {
        char *e2;
        sd = strtoull(e + 1, &e2, 10);
        if (e2 == e + 1 || *e2 || e[1] == '-')
            return lir_fail(err, "bad seed in \"%s\": expected s<non-negative integer>", spec);
    }
    *kind = k;
    *severity = (int)s;
    *seed = sd;
    return 0;
}

int corrupt_c_expand(const char *name, int k, char *buf, size_t size) {
    size_t n = strlen(name);
    if (n < 3 || strcmp(name + n - 2, "-c") || strchr(name, '@')) {
        if (buf && k == 0) snprintf(buf, size, "%s", name);
        return 1;
    }
    int total = 0;
    for (int i = 0; i < N_CC; i++) {
        if (!table[i].benchmark) continue;
        for (int s = 1; s <= 5; s++, total++)
            if (buf && total == k) snprintf(buf, size, "%.*s@c-%s-%d", (int)(n - 2), name, table[i].name, s);
    }
    return total;
}

/* ---- the per-image random source ---- */

static void cr_log(crand *r, float v) {
    if (r->log) r->log[r->n] = v;
    r->n++;
}

float cr_uniform(crand *r) {
    float u = rng_uniform(&r->rng);
    cr_log(r, u);
    return u;
}

static double cr_double(crand *r) { /* [0,1), 53 bits; not logged */
    return (double)(rng_next(&r->rng) >> 11) * (1.0 / 9007199254740992.0);
}

/* Marsaglia's polar method: pairs of normals from a point uniform in the unit disc. */
float cr_normal(crand *r) {
    float z;
    if (r->has_spare) {
        z = r->spare;
        r->has_spare = 0;
    } else {
        double u, v, q;
        do {
            u = 2.0 * cr_double(r) - 1.0;
            v = 2.0 * cr_double(r) - 1.0;
            q = u * u + v * v;
        } while (q >= 1.0 || q == 0.0);
        double f = sqrt(-2.0 * log(q) / q);
        z = (float)(u * f);
        r->spare = (float)(v * f);
        r->has_spare = 1;
    }
    cr_log(r, z);
    return z;
}

int cr_below(crand *r, int n) {
    int v = (int)rng_below(&r->rng, (uint32_t)n);
    cr_log(r, (float)v);
    return v;
}

int cr_inverse(crand *r, const double *cdf, const int *guide, int n, int first) {
    double u = cr_double(r);
    int i = guide[(int)(u * n)];
    while (u >= cdf[i]) i++;
    cr_log(r, (float)(first + i));
    return first + i;
}

void cc_to_double(const uint8_t *img, double *x, int n) {
    for (int k = 0; k < n; k++) x[k] = img[k] / 255.0;
}

int corrupt_c_image(uint8_t *img, int kind, int severity, uint64_t seed, int index, float *draws,
                    lir_error *err) {
    if (kind < 0 || kind >= N_CC || severity < 1 || severity > 5)
        return lir_fail(err, "corrupt_c_image: corruption %d severity %d out of range", kind, severity);
    crand r = {.log = draws};
    uint64_t h = seed * 0x9e3779b97f4a7c15ULL + (uint64_t)(kind * 8 + severity);
    rng_seed(&r.rng, h * 0xbf58476d1ce4e5b9ULL + (uint64_t)index);
    if (table[kind].fn(img, severity - 1, &r, err) < 0) return -1;
    return r.n;
}

int corrupt_c_transform(dataset *d, const char *spec, lir_error *err) {
    int kind, sev;
    uint64_t seed;
    if (corrupt_c_parse(spec, &kind, &sev, &seed, err) < 0) return -1;
    if (d->n == 0) return 0;
    if (d->c != 3 || d->h != CC_N || d->w != CC_N)
        return lir_fail(err, "%s: the CIFAR-10-C corruptions are defined for 32x32 RGB images, "
                        "not %dx%d with %d channel(s)", d->name, d->h, d->w, d->c);
    int bad = 0;
    lir_error first = {{0}};
#pragma omp parallel for schedule(dynamic, 32)
    for (int i = 0; i < d->n; i++) {
        lir_error e1;
        if (corrupt_c_image(d->images + (size_t)i * 3 * CC_P, kind, sev, seed, i, NULL, &e1) < 0) {
#pragma omp critical
            {
                if (!bad) first = e1;
                bad = 1;
            }
        }
    }
    return bad ? lir_fail(err, "%s: %s", d->name, first.msg) : 0;
}
