/* augment.c: the training batch loader. A background thread (pthreads) converts
 * images to normalised floats and applies the standard CIFAR augmentation (random
 * 32x32 crop of the image zero-padded by 4 pixels, then a random horizontal flip,
 * optionally Cutout),
 * filling a small ring of batches ahead of the trainer. Everything random comes
 * from generators seeded by (seed, epoch) for the order and (seed, epoch, position)
 * for each image, so the stream does not depend on thread timing and can be
 * resumed exactly from (seed, epoch, position). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"

enum { NSLOT = 3 };

struct loader {
    const dataset *d;
    int *subset; /* indices into d, in subset order */
    int n, batch;
    data_norm norm;
    float fill[3]; /* normalised value of a zero (padding) pixel */
    loader_opts opts;
    uint64_t seed;
    int epoch, pos; /* consumer: where the next batch handed out starts */
    /* producer state */
    int p_epoch, p_pos;
    int *perm;
    float *tmp;
    float *x[NSLOT];
    int *y[NSLOT], cnt[NSLOT], len[NSLOT]; /* cnt: images of the batch, len: of its part */
    int head, filled, stop, started;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

static uint64_t mix(uint64_t seed, uint64_t a, uint64_t b) {
    return seed ^ (a + 1) * 0x9e3779b97f4a7c15ULL ^ (b + 1) * 0xc2b2ae3d27d4eb4fULL;
}

/* Epoch e's order: the subset shuffled by a generator seeded from (seed, e). */
static void make_perm(loader *l, int epoch) {
    memcpy(l->perm, l->subset, (size_t)l->n * sizeof(int));
    if (!l->opts.shuffle) return;
    rng_state r;
    rng_seed(&r, mix(l->seed, (uint64_t)epoch, 0xffffffffULL));
    for (int i = l->n - 1; i > 0; i--) {
        int j = (int)rng_below(&r, (uint32_t)i + 1);
        int t = l->perm[i];
        l->perm[i] = l->perm[j];
        l->perm[j] = t;
    }
}

void augment_crop_flip(const float *src, float *dst, int dy, int dx, int flip, const float fill[3]) {
    for (int c = 0; c < 3; c++) {
        const float *s = src + c * DATA_PLANE;
        float *o = dst + c * DATA_PLANE;
        for (int y = 0; y < DATA_SIDE; y++) {
            int sy = y + dy - 4;
            if (sy < 0 || sy >= DATA_SIDE) {
                for (int x = 0; x < DATA_SIDE; x++) o[y * DATA_SIDE + x] = fill[c];
                continue;
            }
            for (int x = 0; x < DATA_SIDE; x++) {
                int sx = (flip ? DATA_SIDE - 1 - x : x) + dx - 4;
                o[y * DATA_SIDE + x] = sx >= 0 && sx < DATA_SIDE ? s[sy * DATA_SIDE + sx] : fill[c];
            }
        }
    }
}

void augment_cutout(float *img, int cy, int cx, int size) {
    const int y0 = cy - size / 2 < 0 ? 0 : cy - size / 2, x0 = cx - size / 2 < 0 ? 0 : cx - size / 2;
    const int y1 = cy - size / 2 + size > DATA_SIDE ? DATA_SIDE : cy - size / 2 + size;
    const int x1 = cx - size / 2 + size > DATA_SIDE ? DATA_SIDE : cx - size / 2 + size;
    for (int c = 0; c < 3; c++)
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++) img[c * DATA_PLANE + y * DATA_SIDE + x] = 0.0f;
}

/* Fills slot with the batch at the producer's position (its part opts.part of
 * opts.parts) and advances it. */
static void produce(loader *l, int slot) {
    int m = l->n - l->p_pos < l->batch ? l->n - l->p_pos : l->batch, lo = 0, len = m;
    if (l->opts.parts > 1) {
        lo = (int)((long)m * l->opts.part / l->opts.parts);
        len = (int)((long)m * (l->opts.part + 1) / l->opts.parts) - lo;
    }
    const int *idx = l->perm + l->p_pos + lo;
    float *out = l->x[slot];
    dataset_batch_ex(l->d, idx, len, &l->norm, l->opts.augment ? l->tmp : out, 0);
    for (int i = 0; i < len; i++) {
        l->y[slot][i] = l->d->labels[idx[i]];
        if (!l->opts.augment) continue;
        rng_state r;
        rng_seed(&r, mix(l->seed, (uint64_t)l->p_epoch, (uint64_t)(l->p_pos + lo + i)));
        int dy = (int)rng_below(&r, 9), dx = (int)rng_below(&r, 9), flip = (int)rng_below(&r, 2);
        augment_crop_flip(l->tmp + (size_t)i * DATA_IMG, out + (size_t)i * DATA_IMG, dy, dx, flip, l->fill);
        if (l->opts.cutout) {
            /* drawn after the crop and flip, which stay what they were without it */
            int cy = (int)rng_below(&r, DATA_SIDE), cx = (int)rng_below(&r, DATA_SIDE);
            augment_cutout(out + (size_t)i * DATA_IMG, cy, cx, l->opts.cutout);
        }
    }
    l->cnt[slot] = m;
    l->len[slot] = len;
    l->p_pos += m;
    if (l->p_pos == l->n) {
        l->p_pos = 0;
        make_perm(l, ++l->p_epoch);
    }
}

static void *producer(void *arg) {
    loader *l = arg;
    pthread_mutex_lock(&l->mu);
    for (;;) {
        while (!l->stop && l->filled == NSLOT) pthread_cond_wait(&l->cv, &l->mu);
        if (l->stop) break;
        int slot = (l->head + l->filled) % NSLOT;
        pthread_mutex_unlock(&l->mu); /* the slot is ours until filled is raised */
        produce(l, slot);
        pthread_mutex_lock(&l->mu);
        l->filled++;
        pthread_cond_broadcast(&l->cv);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

loader *loader_start(const dataset *d, const int *subset, int n_subset, int batch,
                     const data_norm *norm, loader_opts opts, uint64_t seed, int epoch,
                     int position, lir_error *err) {
    int n = subset ? n_subset : d->n;
    if (n < 1) {
        lir_fail(err, "loader: no images to load (subset of %d)", n);
        return NULL;
    }
    if (opts.parts > 1 && (opts.part < 0 || opts.part >= opts.parts || batch % opts.parts)) {
        lir_fail(err, "loader: batch %d does not split into %d equal parts (part %d)", batch,
                 opts.parts, opts.part);
        return NULL;
    }
    if (batch < 1 || epoch < 0 || position < 0 || position >= n) {
        lir_fail(err, "loader: bad batch %d / epoch %d / position %d (subset of %d images)",
                 batch, epoch, position, n);
        return NULL;
    }
    for (int i = 0; subset && i < n; i++)
        if (subset[i] < 0 || subset[i] >= d->n) {
            lir_fail(err, "loader: subset index %d is outside %s (%d images)", subset[i],
                     d->name, d->n);
            return NULL;
        }
    loader *l = xcalloc(1, sizeof *l);
    l->d = d;
    l->n = n;
    l->batch = batch;
    l->norm = *norm;
    l->opts = opts;
    l->seed = seed;
    l->epoch = l->p_epoch = epoch;
    l->pos = l->p_pos = position;
    l->subset = xmalloc((size_t)n * sizeof(int));
    for (int i = 0; i < n; i++) l->subset[i] = subset ? subset[i] : i;
    l->perm = xmalloc((size_t)n * sizeof(int));
    make_perm(l, epoch);
    for (int c = 0; c < 3; c++) l->fill[c] = -norm->mean[c] / norm->std[c];
    l->tmp = xmalloc((size_t)batch * DATA_IMG * sizeof(float));
    for (int s = 0; s < NSLOT; s++) {
        l->x[s] = xmalloc((size_t)batch * DATA_IMG * sizeof(float));
        l->y[s] = xmalloc((size_t)batch * sizeof(int));
    }
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    if (pthread_create(&l->thread, NULL, producer, l) != 0) {
        lir_fail(err, "loader: cannot start the background thread");
        loader_stop(l);
        return NULL;
    }
    l->started = 1;
    return l;
}

int loader_next(loader *l, float *out, int *labels) {
    pthread_mutex_lock(&l->mu);
    while (l->filled == 0) pthread_cond_wait(&l->cv, &l->mu);
    int slot = l->head, m = l->cnt[slot], len = l->len[slot];
    pthread_mutex_unlock(&l->mu);
    memcpy(out, l->x[slot], (size_t)len * DATA_IMG * sizeof(float));
    if (labels) memcpy(labels, l->y[slot], (size_t)len * sizeof(int));
    pthread_mutex_lock(&l->mu);
    l->head = (l->head + 1) % NSLOT;
    l->filled--;
    l->pos += m;
    if (l->pos == l->n) {
        l->pos = 0;
        l->epoch++;
    }
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    return m;
}

void loader_position(const loader *l, int *epoch, int *position) {
    *epoch = l->epoch;
    *position = l->pos;
}

void loader_stop(loader *l) {
    if (!l) return;
    if (l->started) {
        pthread_mutex_lock(&l->mu);
        l->stop = 1;
        pthread_cond_broadcast(&l->cv);
        pthread_mutex_unlock(&l->mu);
        pthread_join(l->thread, NULL);
    }
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    for (int s = 0; s < NSLOT; s++) {
        free(l->x[s]);
        free(l->y[s]);
    }
    free(l->tmp);
    free(l->perm);
    free(l->subset);
    free(l);
}
