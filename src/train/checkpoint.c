/* checkpoint.c: atomic training checkpoints (format in checkpoint.h). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"

static const char MAGIC[8] = {'L', 'I', 'R', 'C', 'K', 'P', 'T', '3'};

/* The training state as the file holds it: train_state's fields up to train_seconds,
 * then the margins in use of each regularised hook (config order: m_in, m_out, then the
 * band's m_in_lo, m_out_lo), then the record count and 8 bytes that are always 0 on
 * writing (once a pointer; ignored on reading). Host order and alignment, as LIRCKPT3
 * has it (LIRCKPT2 lacked the band margins). */
typedef struct {
    long step;
    int epoch, position;
    outlier_pos opos;
    double sum_loss, sum_ce, sum_reg[CONFIG_MAX_HOOKS];
    long epoch_steps, correct, seen;
    double epoch_seconds, train_seconds;
    int n_hooks;
    float m_in[CONFIG_MAX_HOOKS], m_out[CONFIG_MAX_HOOKS];
    float m_in_lo[CONFIG_MAX_HOOKS], m_out_lo[CONFIG_MAX_HOOKS];
    int n_records;
    uint64_t unused;
} disk_state;

/* train_state and disk_state share their first PREFIX bytes field by field. */
#define PREFIX offsetof(disk_state, n_hooks)
_Static_assert(offsetof(train_state, n_records) == PREFIX &&
                   offsetof(train_state, train_seconds) == offsetof(disk_state, train_seconds),
               "train_state must start like disk_state");

static void state_to_disk(const checkpoint_parts *p, disk_state *d) {
    memset(d, 0, sizeof *d);
    memcpy(d, p->s, PREFIX);
    d->n_hooks = p->n_hooks;
    for (int i = 0; i < p->n_hooks; i++) {
        const hook_reg *r = &p->n->hooks[p->hooks[i]].reg;
        d->m_in[i] = r->m_in;
        d->m_out[i] = r->m_out;
        d->m_in_lo[i] = r->m_in_lo;
        d->m_out_lo[i] = r->m_out_lo;
    }
    d->n_records = p->s->n_records;
}

static void disk_to_state(const disk_state *d, const checkpoint_parts *p) {
    memcpy(p->s, d, PREFIX);
    for (int i = 0; i < p->n_hooks; i++) {
        hook_reg *r = &p->n->hooks[p->hooks[i]].reg;
        r->m_in = d->m_in[i];
        r->m_out = d->m_out[i];
        r->m_in_lo = d->m_in_lo[i];
        r->m_out_lo = d->m_out_lo[i];
    }
    p->s->n_records = d->n_records;
}

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

int checkpoint_save(const char *path, const checkpoint_parts *p, lir_error *err) {
    const net *n = p->n;
    const train_state *s = p->s;
    disk_state d;
    state_to_disk(p, &d);
    atomic_file a;
    if (atomic_open(&a, path, err)) return -1;
    FILE *f = a.f;
    int bad = put(f, MAGIC, 8) | put(f, &p->config_hash, sizeof p->config_hash) |
              put(f, &d, sizeof d) | put(f, &n->seen, sizeof n->seen);
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
    if (sgd_save(p->o, f, path, err)) {
        atomic_abort(&a);
        return -1;
    }
    return atomic_close(&a, err);
}

/* Magic, config hash and training state (into p, margins into the net's hooks). */
static int load_state(FILE *f, const char *path, const checkpoint_parts *p, lir_error *err) {
    char magic[8];
    uint64_t h;
    disk_state d;
    if (read_exact(f, magic, 8, path, "magic", err)) return -1;
    if (!memcmp(magic, "LIRCKPT1", 8))
        return lir_fail(err, "%s: a checkpoint of an older lir (format LIRCKPT1, before outlier "
                        "mixtures); it cannot be resumed: start the run again", path);
    if (memcmp(magic, MAGIC, 8))
        return lir_fail(err, "%s: offset 0: not a lir checkpoint of this version (magic is not LIRCKPT3)", path);
    if (read_exact(f, &h, sizeof h, path, "config hash", err)) return -1;
    if (h != p->config_hash)
        return lir_fail(err,
                        "%s: the checkpoint was made with a different config (hash %016llx, now "
                        "%016llx); resume with the run's own config.json",
                        path, (unsigned long long)h, (unsigned long long)p->config_hash);
    if (read_exact(f, &d, sizeof d, path, "training state", err) ||
        read_exact(f, &p->n->seen, sizeof p->n->seen, path, "images seen", err))
        return -1;
    if (d.n_records < 0 || d.n_records > 10000000 || d.n_hooks != p->n_hooks)
        return lir_fail(err, "%s: offset 16: corrupt training state (%d records, margins of %d "
                        "hooks for %d)", path, d.n_records, d.n_hooks, p->n_hooks);
    disk_to_state(&d, p);
    return 0;
}

/* The network's tensors, each checked against its size in the network. */
static int load_tensors(FILE *f, const char *path, net *n, lir_error *err) {
    int nt = net_tensors(n, NULL, NULL), rc = -1;
    float **t = xcalloc((size_t)nt + 1, sizeof *t);
    size_t *len = xcalloc((size_t)nt + 1, sizeof *len);
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
    rc = 0;
done:
    free(t);
    free(len);
    return rc;
}

int checkpoint_load(const char *path, const checkpoint_parts *p, lir_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return lir_fail(err, "%s: cannot open checkpoint", path);
    train_state *s = p->s;
    memset(s, 0, sizeof *s);
    int rc = load_state(f, path, p, err);
    if (!rc) {
        s->records = xcalloc((size_t)s->n_records + 1, sizeof *s->records);
        if (s->n_records)
            rc = read_exact(f, s->records, (size_t)s->n_records * sizeof *s->records, path,
                            "epoch history", err);
    }
    if (!rc) rc = load_tensors(f, path, p->n, err);
    if (!rc) rc = sgd_load(p->o, f, path, err);
    fclose(f);
    if (rc) {
        free(s->records);
        s->records = NULL;
        s->n_records = 0;
    }
    return rc ? -1 : 0;
}
