/* checkpoint.c: atomic training checkpoints with a CRC-32, written only when every
 * value is finite and validated field by field on resume (format in checkpoint.h). */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "checkpoint.h"
#include "guard.h"

/* Fuzzing builds pass a wrong checksum so that the field checks behind it are reached
 * (a fuzzer cannot forge a CRC-32; libpng's checksums are ignored there too). */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
enum { IGNORE_CRC = 1 };
#else
enum { IGNORE_CRC = 0 };
#endif

static const char MAGIC[8] = {'L', 'I', 'R', 'C', 'K', 'P', 'T', '3'};
enum { CKPT_VERSION = 4, CKPT_HEADER = 24 }; /* 4: the band margins */

/* The training state as the file holds it: train_state's fields up to train_seconds,
 * then the margins in use of each regularised hook (config order: m_in, m_out, then the
 * band's m_in_lo, m_out_lo; format 3 lacked these two), then the record count and 8
 * bytes that are always 0 on writing (once a pointer; ignored on reading). Host order
 * and alignment. */
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

/* The network's tensors into fresh arrays (caller frees both); returns the count. */
static int net_tensors_alloc(const net *n, float ***t, size_t **len) {
    int nt = net_tensors(n, NULL, NULL);
    *t = xcalloc((size_t)nt + 1, sizeof **t);
    *len = xcalloc((size_t)nt + 1, sizeof **len);
    net_tensors(n, *t, *len);
    return nt;
}

static uint32_t crc_of(const uint8_t *p, size_t n) {
    uLong c = crc32(0L, Z_NULL, 0);
    while (n) {
        uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        c = crc32(c, p, k);
        p += k, n -= k;
    }
    return (uint32_t)c;
}

/* Payload bytes of a checkpoint with n_records epochs of history (sgd_save's layout:
 * magic, count, step, sizes, buffers). */
static uint64_t payload_bytes(const size_t *len, int nt, const sgd *o, int n_records) {
    uint64_t b = 8 + sizeof(disk_state) + 8 + (uint64_t)n_records * sizeof(epoch_record) + 4;
    for (int i = 0; i < nt; i++) b += 8 + 4 * (uint64_t)len[i];
    return b + 8 + 4 + 8 + 8 * (uint64_t)o->n_tensors + 4 * (uint64_t)o->n;
}

/* Names the first tensor or momentum buffer holding a non-finite value; 0 if none. */
static int find_nonfinite(float *const *t, const size_t *len, int nt, const sgd *o, char *what,
                          size_t n) {
    for (int i = 0; i < nt; i++) {
        long k = guard_first_nonfinite(t[i], len[i]);
        if (k >= 0) return snprintf(what, n, "tensor %d value %ld", i, k), 1;
    }
    long k = guard_first_nonfinite(o->vel, o->n);
    if (k >= 0) return snprintf(what, n, "momentum value %ld", k), 1;
    return 0;
}

static int put(FILE *f, const void *p, size_t n) { return fwrite(p, 1, n, f) == n ? 0 : -1; }

/* The payload into memory (*buf, *len; caller frees). */
static int payload_write(const checkpoint_parts *p, float *const *t, const size_t *len, int nt,
                         const char *path, char **buf, size_t *blen, lir_error *err) {
    const train_state *s = p->s;
    disk_state d;
    state_to_disk(p, &d);
    FILE *m = open_memstream(buf, blen);
    if (!m) return lir_fail(err, "%s: cannot make the checkpoint: %s", path, strerror(errno));
    int bad = put(m, &p->config_hash, sizeof p->config_hash) | put(m, &d, sizeof d) |
              put(m, &p->n->seen, sizeof p->n->seen);
    for (int i = 0; i < s->n_records && !bad; i++)
        bad |= put(m, &s->records[i], sizeof s->records[i]);
    uint32_t cnt = (uint32_t)nt;
    bad |= put(m, &cnt, sizeof cnt);
    for (int i = 0; i < nt && !bad; i++) {
        uint64_t l64 = len[i];
        bad |= put(m, &l64, sizeof l64) | put(m, t[i], len[i] * sizeof(float));
    }
    if (!bad && sgd_save(p->o, m, path, err)) bad = 2;
    if (fclose(m) != 0 && !bad) bad = 1;
    if (bad == 1) lir_fail(err, "%s: cannot make the checkpoint: %s", path, strerror(errno));
    return bad ? -1 : 0;
}

int checkpoint_save(const char *path, const checkpoint_parts *p, lir_error *err) {
    float **t;
    size_t *len, blen = 0;
    int nt = net_tensors_alloc(p->n, &t, &len), rc = -1;
    char what[96], *buf = NULL;
    if (find_nonfinite(t, len, nt, p->o, what, sizeof what)) {
        lir_fail(err, "%s: not written: %s is not finite", path, what);
    } else if (payload_write(p, t, len, nt, path, &buf, &blen, err) == 0) {
        uint32_t head[2] = {CKPT_VERSION, crc_of((const uint8_t *)buf, blen)};
        uint64_t size = blen;
        atomic_file a;
        if (atomic_open(&a, path, err) == 0) {
            if (put(a.f, MAGIC, 8) | put(a.f, head, sizeof head) | put(a.f, &size, 8) |
                put(a.f, buf, blen)) {
                int e = errno;
                atomic_abort(&a);
                lir_fail(err, "%s: write failed: %s", path, strerror(e ? e : EIO));
            } else {
                rc = atomic_close(&a, err);
            }
        }
    }
    free(buf);
    free(t);
    free(len);
    return rc;
}

/* The header and the payload's size and checksum; *payload gets the payload. */
static int read_checked(const char *path, const size_t *len, int nt, const sgd *o,
                        const ckpt_run *run, uint8_t **payload, size_t *plen, lir_error *err) {
    uint64_t fsize, size;
    uint32_t head[2];
    char magic[8];
    FILE *f = file_open_read(path, &fsize, err);
    if (!f) return -1;
    int rc = -1;
    if (read_exact(f, magic, 8, path, "the magic", err)) goto done;
    if (!memcmp(magic, "LIRCKPT1", 8) || !memcmp(magic, "LIRCKPT2", 8)) {
        lir_fail(err, "%s: checkpoint format %c of an older lir (no checksum; format 1 also "
                 "before outlier mixtures) cannot be verified; start the run again", path,
                 magic[7]);
        goto done;
    }
    if (memcmp(magic, MAGIC, 8)) {
        lir_fail(err, "%s: offset 0: not a lir checkpoint (magic is not LIRCKPT3)", path);
        goto done;
    }
    if (read_exact(f, head, sizeof head, path, "the header", err) ||
        read_exact(f, &size, 8, path, "the header", err))
        goto done;
    uint64_t base = payload_bytes(len, nt, o, 0), rec = sizeof(epoch_record);
    if (head[0] != CKPT_VERSION) {
        lir_fail(err, "%s: offset 8: format version %u, this lir reads %d", path, head[0],
                 CKPT_VERSION);
    } else if (size != fsize - CKPT_HEADER || fsize < CKPT_HEADER) {
        lir_fail(err, "%s: offset 16: the header says %llu payload bytes, the file holds %llu "
                 "(truncated, or bytes after the end)", path, (unsigned long long)size,
                 (unsigned long long)(fsize - CKPT_HEADER));
    } else if (size < base || (size - base) % rec || (size - base) / rec > (uint64_t)run->epochs) {
        lir_fail(err, "%s: %llu payload bytes do not fit this network and run (%llu plus %llu "
                 "per epoch of history, at most %d epochs)", path, (unsigned long long)size,
                 (unsigned long long)base, (unsigned long long)rec, run->epochs);
    } else {
        *payload = xmalloc(size ? size : 1);
        *plen = size;
        if (read_exact(f, *payload, size, path, "the payload", err) == 0) {
            uint32_t crc = crc_of(*payload, size);
            if (crc == head[1] || IGNORE_CRC) rc = 0;
            else lir_fail(err, "%s: checksum mismatch (CRC-32 %08x, the header says %08x): the "
                          "checkpoint is damaged", path, crc, head[1]);
        }
    }
done:
    fclose(f);
    return rc;
}

/* Sums, margins and the epoch history: finite where they must be. */
static int check_values(const train_state *s, const disk_state *d, const ckpt_run *r,
                        const char *path, lir_error *err) {
    int bad = !isfinite(s->sum_loss) || !isfinite(s->sum_ce) || !(s->epoch_seconds >= 0) ||
              !(s->train_seconds >= 0) || !isfinite(s->epoch_seconds + s->train_seconds);
    for (int i = 0; i < d->n_hooks; i++)
        bad |= !isfinite(s->sum_reg[i]) || !isfinite(d->m_in[i]) || !isfinite(d->m_out[i]) ||
               !isfinite(d->m_in_lo[i]) || !isfinite(d->m_out_lo[i]);
    if (bad) return lir_fail(err, "%s: non-finite running sums or margins", path);
    for (int i = 0; i < s->n_records; i++) {
        const epoch_record *e = &s->records[i];
        bad = e->epoch != i + 1 || e->step != (long)(i + 1) * r->steps_per_epoch ||
              !isfinite(e->lr + e->train_loss + e->train_ce + e->train_acc + e->seconds +
                        e->images_per_s) ||
              (r->validation ? !isfinite(e->val_loss + e->val_acc)
                             : !isnan(e->val_loss) || !isnan(e->val_acc));
        for (int k = 0; k < d->n_hooks; k++) bad |= !isfinite(e->reg[k]);
        if (bad)
            return lir_fail(err, "%s: epoch record %d is not that of epoch %d at step %ld with "
                            "finite values", path, i, i + 1, (long)(i + 1) * r->steps_per_epoch);
    }
    return 0;
}

/* The training state against the run's schedule. */
static int check_state(const train_state *s, const disk_state *d, const sgd *o,
                       const ckpt_run *r, const char *path, lir_error *err) {
    long spe = r->steps_per_epoch;
    if (s->epoch < 0 || s->epoch > r->epochs)
        return lir_fail(err, "%s: epoch %d outside this run's 0..%d", path, s->epoch, r->epochs);
    if (s->epoch_steps < 0 || s->epoch_steps >= spe || (s->epoch == r->epochs && s->epoch_steps))
        return lir_fail(err, "%s: %ld steps into epoch %d, outside this run's 0..%ld", path,
                        s->epoch_steps, s->epoch + 1, spe - 1);
    if (s->step != (long)s->epoch * spe + s->epoch_steps || o->step != s->step)
        return lir_fail(err, "%s: step %ld (optimiser: %ld) is not epoch %d's step %ld at %ld "
                        "steps per epoch", path, s->step, o->step, s->epoch + 1, s->epoch_steps,
                        spe);
    int bad_part = 0;
    for (int i = 0; i < OUTLIER_MAX_PARTS; i++)
        bad_part |= s->opos.part[i].epoch < 0 || s->opos.part[i].position < 0;
    if (s->position != s->epoch_steps * r->id_batch || s->seen != s->epoch_steps * r->id_batch ||
        s->correct < 0 || s->correct > s->seen || bad_part)
        return lir_fail(err, "%s: loader positions or counts do not match %ld steps of %d images",
                        path, s->epoch_steps, r->id_batch);
    if (s->n_records != s->epoch)
        return lir_fail(err, "%s: %d epoch records, this run needs %d", path, s->n_records,
                        s->epoch);
    return check_values(s, d, r, path, err);
}

/* Reads the payload (checksum already verified) into p (margins into the net's
 * hooks) and d (the state as stored). */
static int read_payload(FILE *m, const char *path, const checkpoint_parts *p, float **t,
                        const size_t *len, int nt, disk_state *d, lir_error *err) {
    uint64_t h;
    uint32_t cnt;
    train_state *s = p->s;
    if (read_exact(m, &h, sizeof h, path, "config hash", err)) return -1;
    if (h != p->config_hash)
        return lir_fail(err,
                        "%s: the checkpoint was made with a different config (hash %016llx, now "
                        "%016llx); resume with the run's own config.json",
                        path, (unsigned long long)h, (unsigned long long)p->config_hash);
    if (read_exact(m, d, sizeof *d, path, "training state", err) ||
        read_exact(m, &p->n->seen, sizeof p->n->seen, path, "images seen", err))
        return -1;
    if (d->n_records < 0 || d->n_records > 100000 || d->n_hooks != p->n_hooks)
        return lir_fail(err, "%s: corrupt training state (%d records, margins of %d hooks for "
                        "%d)", path, d->n_records, d->n_hooks, p->n_hooks);
    disk_to_state(d, p);
    s->records = xcalloc((size_t)s->n_records + 1, sizeof *s->records);
    if (read_exact(m, s->records, (size_t)s->n_records * sizeof *s->records, path,
                   "epoch history", err) ||
        read_exact(m, &cnt, sizeof cnt, path, "tensor count", err))
        return -1;
    if ((int)cnt != nt) return lir_fail(err, "%s: %u tensors, the network has %d", path, cnt, nt);
    for (int i = 0; i < nt; i++) {
        uint64_t l64;
        if (read_exact(m, &l64, sizeof l64, path, "tensor size", err)) return -1;
        if (l64 != len[i])
            return lir_fail(err, "%s: tensor %d has %llu values, the network needs %zu", path,
                            i, (unsigned long long)l64, len[i]);
        if (read_exact(m, t[i], len[i] * sizeof(float), path, "tensor data", err)) return -1;
    }
    return sgd_load(p->o, m, path, err);
}

/* Parses the verified payload and checks what it holds. */
static int parse_checked(uint8_t *payload, size_t plen, const char *path,
                         const checkpoint_parts *p, const ckpt_run *run, float **t,
                         const size_t *len, int nt, lir_error *err) {
    FILE *m = fmemopen(payload, plen, "rb");
    if (!m) return lir_fail(err, "%s: cannot read the payload: %s", path, strerror(errno));
    disk_state d;
    int rc = read_payload(m, path, p, t, len, nt, &d, err);
    long at = ftell(m);
    fclose(m);
    char what[96];
    if (rc) return -1;
    if (at != (long)plen)
        return lir_fail(err, "%s: %ld bytes after the end of the checkpoint", path,
                        (long)plen - at);
    if (find_nonfinite(t, len, nt, p->o, what, sizeof what))
        return lir_fail(err, "%s: %s is not finite", path, what);
    return check_state(p->s, &d, p->o, run, path, err);
}

int checkpoint_load(const char *path, const checkpoint_parts *p, const ckpt_run *run,
                    lir_error *err) {
    float **t;
    size_t *len, plen = 0;
    int nt = net_tensors_alloc(p->n, &t, &len), rc = -1;
    uint8_t *payload = NULL;
    train_state *s = p->s;
    memset(s, 0, sizeof *s);
    if (read_checked(path, len, nt, p->o, run, &payload, &plen, err) == 0)
        rc = parse_checked(payload, plen, path, p, run, t, len, nt, err);
    free(payload);
    free(t);
    free(len);
    if (rc) {
        free(s->records);
        s->records = NULL;
        s->n_records = 0;
    }
    return rc;
}
