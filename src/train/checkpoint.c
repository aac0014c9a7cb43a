/* checkpoint.c: atomic training checkpoints (format in checkpoint.h). */
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"

static const char MAGIC[8] = {'L', 'I', 'R', 'C', 'K', 'P', 'T', '2'};

/* The tensors a checkpoint holds, in order: per conv layer biases, [scales, rolling
 * mean, rolling var], weights; per connected layer biases, weights. Fills t and len
 * unless NULL (count only); returns the count. */
static int net_tensors(const net *n, float **t, size_t *len) {
    int k = 0;
    for (int i = 0; i < n->n_layers; i++) {
        const layer *l = &n->layers[i];
        float *p[5] = {NULL};
        size_t s[5] = {0};
        if (l->type == LAYER_CONV) {
            const conv_layer *c = &l->u.conv;
            p[0] = c->biases, p[1] = c->scales, p[2] = c->rolling_mean;
            p[3] = c->rolling_var, p[4] = c->weights;
            s[0] = s[1] = s[2] = s[3] = (size_t)c->n;
            s[4] = (size_t)c->n * c->c * c->size * c->size;
        } else if (l->type == LAYER_CONNECTED) {
            const connected_layer *f = &l->u.fc;
            p[0] = f->biases, s[0] = (size_t)f->outputs;
            p[1] = f->weights, s[1] = (size_t)f->outputs * f->inputs;
        }
        for (int j = 0; j < 5; j++) {
            if (!p[j]) continue;
            if (t) t[k] = p[j], len[k] = s[j];
            k++;
        }
    }
    return k;
}

static int put(FILE *f, const void *p, size_t n) { return fwrite(p, 1, n, f) == n ? 0 : -1; }

int checkpoint_save(const char *path, uint64_t hash, const net *n, const sgd *o,
                    const train_state *s, lir_error *err) {
    atomic_file a;
    if (atomic_open(&a, path, err)) return -1;
    FILE *f = a.f;
    int bad = put(f, MAGIC, 8) | put(f, &hash, sizeof hash) | put(f, s, sizeof *s) |
              put(f, &n->seen, sizeof n->seen);
    for (int i = 0; i < s->n_records && !bad; i++)
        bad |= put(f, &s->records[i], sizeof s->records[i]);
    int nt = net_tensors(n, NULL, NULL);
    float **t = xcalloc((size_t)nt + 1, sizeof *t);
    size_t *len = xcalloc((size_t)nt + 1, sizeof *len);
    net_tensors(n, t, len);
    uint32_t cnt = (uint32_t)nt;
    bad |= put(f, &cnt, sizeof cnt);
    for (int i = 0; i < nt && !bad; i++) {
        uint64_t l64 = len[i];
        bad |= put(f, &l64, sizeof l64) | put(f, t[i], len[i] * sizeof(float));
    }
    free(t);
    free(len);
    if (bad) {
        atomic_abort(&a);
        return lir_fail(err, "%s: write failed (disk full?)", path);
    }
    if (sgd_save(o, f, path, err)) {
        atomic_abort(&a);
        return -1;
    }
    return atomic_close(&a, err);
}

int checkpoint_load(const char *path, uint64_t hash, net *n, sgd *o, train_state *s,
                    lir_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return lir_fail(err, "%s: cannot open checkpoint", path);
    char magic[8];
    uint64_t h;
    int rc = -1;
    float **t = NULL;
    size_t *len = NULL;
    memset(s, 0, sizeof *s);
    if (read_exact(f, magic, 8, path, "magic", err)) goto done;
    if (!memcmp(magic, "LIRCKPT1", 8)) {
        lir_fail(err, "%s: a checkpoint of an older lir (format LIRCKPT1, before outlier "
                 "mixtures); it cannot be resumed: start the run again", path);
        goto done;
    }
    if (memcmp(magic, MAGIC, 8)) {
        lir_fail(err, "%s: offset 0: not a lir checkpoint (magic is not LIRCKPT2)", path);
        goto done;
    }
    if (read_exact(f, &h, sizeof h, path, "config hash", err)) goto done;
    if (h != hash) {
        lir_fail(err,
                 "%s: the checkpoint was made with a different config (hash %016llx, now %016llx);"
                 " resume with the run's own config.json",
                 path, (unsigned long long)h, (unsigned long long)hash);
        goto done;
    }
    if (read_exact(f, s, sizeof *s, path, "training state", err) ||
        read_exact(f, &n->seen, sizeof n->seen, path, "images seen", err))
        goto done;
    if (s->n_records < 0 || s->n_records > 10000000 || s->n_hooks < 0 ||
        s->n_hooks > CONFIG_MAX_HOOKS) {
        lir_fail(err, "%s: offset 16: corrupt training state", path);
        s->records = NULL;
        goto done;
    }
    s->records = xcalloc((size_t)s->n_records + 1, sizeof *s->records);
    if (s->n_records &&
        read_exact(f, s->records, (size_t)s->n_records * sizeof *s->records, path, "epoch history",
                   err))
        goto done;
    int nt = net_tensors(n, NULL, NULL);
    t = xcalloc((size_t)nt + 1, sizeof *t);
    len = xcalloc((size_t)nt + 1, sizeof *len);
    net_tensors(n, t, len);
    uint32_t cnt;
    if (read_exact(f, &cnt, sizeof cnt, path, "tensor count", err)) goto done;
    if ((int)cnt != nt) {
        lir_fail(err, "%s: offset %ld: checkpoint has %u tensors, the network %d", path,
                 ftell(f) - 4, cnt, nt);
        goto done;
    }
    for (int i = 0; i < nt; i++) {
        uint64_t l64;
        if (read_exact(f, &l64, sizeof l64, path, "tensor size", err)) goto done;
        if (l64 != len[i]) {
            lir_fail(err, "%s: offset %ld: tensor %d has %llu values, the network needs %zu",
                     path, ftell(f) - 8, i, (unsigned long long)l64, len[i]);
            goto done;
        }
        if (read_exact(f, t[i], len[i] * sizeof(float), path, "tensor data", err)) goto done;
    }
    if (sgd_load(o, f, path, err)) goto done;
    rc = 0;
done:
    free(t);
    free(len);
    fclose(f);
    if (rc) {
        free(s->records);
        s->records = NULL;
        s->n_records = 0;
    }
    return rc;
}
