/* outlier.h: outlier batches for R-EBO training (label -1, is_outlier = 1).
 * Two kinds of source:
 *   dataset   any set lir can load (config "outliers": name, "outlier_split"),
 *             shuffled and augmented like the ID data by its own seeded loader;
 *             refused when it is the ID set or one of the planned eval OOD sets.
 *   synthetic made on the fly from the ID training images, so R-EBO needs no extra
 *             data. Each outlier uses one transform chosen at random from the
 *             config's list:
 *               patch_shuffle  the 4x4 grid of 8x8 patches of one image permuted:
 *                              colours, textures and edges stay ID-like, the object's
 *                              layout is destroyed (a semantic outlier whose low-level
 *                              statistics match ID, the case deep layers must catch)
 *               mix            pixel blend (weight 0.35..0.65) of two images of
 *                              different classes: ID-like content, no single class
 *               noise          one image plus Gaussian noise, sigma 0.1..0.3 in [0,1]
 *                              units: a covariate-shift outlier, the kind the paper says
 *                              intermediate layers catch
 *             All randomness comes from one rng_state that checkpoints save. */
#ifndef LIR_OUTLIER_H
#define LIR_OUTLIER_H

#include <stdint.h>

#include "config.h"
#include "data.h"

typedef struct outlier_source outlier_source;

/* Position of a source for checkpoints: the synthetic generator's state or the
 * dataset loader's (epoch, position). */
typedef struct {
    rng_state rng;
    int epoch, position;
} outlier_pos;

/* id/train_idx/n_train: the ID training images synthetic outliers are made from;
 * norm: the ID normaliser (applied to outliers too); batch: outliers per call;
 * seed: stream seed; pos: where to start (NULL: the beginning). */
outlier_source *outlier_open(const train_config *c, const dataset *id, const int *train_idx,
                             int n_train, const data_norm *norm, int batch, uint64_t seed,
                             const outlier_pos *pos, lir_error *err);
/* Fills out [batch][3][32][32] with the next outliers. */
void outlier_next(outlier_source *o, float *out);
void outlier_position(const outlier_source *o, outlier_pos *pos);
void outlier_close(outlier_source *o);

/* Checks that name may serve as outlier source for ID set id_name given the
 * planned eval OOD list (comma separated): the base names (before '@') must differ. */
int outlier_check_name(const char *name, const char *id_name, const char *eval_ood,
                       lir_error *err);

/* The synthetic transforms on uint8 images [3][32][32]. */
void outlier_patch_shuffle(const uint8_t *src, uint8_t *dst, rng_state *r);
void outlier_mix(const uint8_t *a, const uint8_t *b, uint8_t *dst, float t);

#endif
