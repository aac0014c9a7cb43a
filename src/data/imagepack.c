/* imagepack.c: image sets made of image files (PNG or JPEG) listed in a MANIFEST,
 * prepared once into a pack file that later loads read directly: each file decoded,
 * checked against its listed SHA-256 and area-resampled (data.h, pack_spec), all in
 * one binary file written atomically. Pack layout (host byte order; a cache, not an
 * exchange format):
 *   "LIRPACK1", uint32 n, mode, size, min_side, skipped, uint8 key[32],
 *   n x {uint32 w, h, src_w, src_h, label, entry}, then each image's [3][h][w] bytes.
 * key is the SHA-256 of the spec and the entry list, so a changed MANIFEST or spec
 * rebuilds the pack. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"

static const char PACK_MAGIC[8] = {'L', 'I', 'R', 'P', 'A', 'C', 'K', '1'};
enum { PACK_HEAD = 8 + 5 * 4 + 32, PACK_REC = 6 * 4 };

void image_pack_free(image_pack *p) {
    if (!p) return;
    free(p->img);
    free(p->pix);
    free(p);
}

/* One MANIFEST line "<sha256>  <path>" (sha256sum's format, "*" before binary paths). */
static int manifest_line(char *line, const char *path, int no, pack_entry *e, lir_error *err) {
    size_t hl = strspn(line, "0123456789abcdef");
    char *rel = line + hl;
    if (hl != 64 || (*rel != ' ' && *rel != '\t'))
        return lir_fail(err, "%s: line %d: expected \"<sha256 in lowercase hex>  <path>\"", path,
                        no);
    rel += strspn(rel, " \t");
    if (*rel == '*') rel++;
    if (!*rel || strstr(rel, "..") || *rel == '/' || strlen(rel) >= sizeof e->rel)
        return lir_fail(err, "%s: line %d: bad path \"%s\" (relative, no \"..\", under %zu "
                        "characters)", path, no, rel, sizeof e->rel);
    memset(e, 0, sizeof *e);
    memcpy(e->sha256, line, 64);
    snprintf(e->rel, sizeof e->rel, "%s", rel);
    return 0;
}

int manifest_read(const char *path, pack_entry **out, int *n, lir_error *err) {
    char *text = file_read_all(path, NULL, err);
    if (!text) return -1;
    pack_entry *e = NULL;
    int k = 0, no = 0, rc = 0;
    for (char *l = text, *next; l && *l && rc == 0; l = next) {
        next = strchr(l, '\n');
        if (next) *next++ = 0;
        no++;
        size_t len = strlen(l);
        if (len && l[len - 1] == '\r') l[--len] = 0;
        if (!len || *l == '#') continue;
        e = xrealloc(e, (size_t)(k + 1) * sizeof *e);
        rc = manifest_line(l, path, no, &e[k], err);
        k++;
    }
    free(text);
    if (rc == 0 && k == 0) rc = lir_fail(err, "%s: lists no image file", path);
    if (rc < 0) {
        free(e);
        return -1;
    }
    *out = e;
    *n = k;
    return 0;
}

static void pack_key(const pack_spec *s, const pack_entry *e, int n, uint8_t key[32]) {
    sha256_ctx c;
    char line[700];
    sha256_init(&c);
    int l = snprintf(line, sizeof line, "LIRPACK1 %d %d %d%s\n", s->mode, s->size, s->min_side,
                     s->alpha == IMAGE_ALPHA_OVER_WHITE ? " over-white" : "");
    sha256_update(&c, line, (size_t)l);
    for (int i = 0; i < n; i++) {
        l = snprintf(line, sizeof line, "%s %d %s\n", e[i].sha256, e[i].label, e[i].rel);
        sha256_update(&c, line, (size_t)l);
    }
    sha256_final(&c, key);
}

static uint32_t get32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Reads a pack file built with this key; NULL (no message) when it is absent, built
 * from another list, or not a consistent pack: the caller then builds it anew. */
static image_pack *pack_read(const char *path, const pack_spec *spec, const uint8_t key[32]) {
    size_t len;
    uint8_t *b = (uint8_t *)file_read_all(path, &len, NULL);
    if (!b) return NULL;
    image_pack *p = NULL;
    uint32_t n = len >= PACK_HEAD ? get32(b + 8) : 0;
    if (len < PACK_HEAD || memcmp(b, PACK_MAGIC, 8) || memcmp(b + 28, key, 32) ||
        n > 10000000u || (size_t)n * PACK_REC > len - PACK_HEAD)
        goto done;
    p = xcalloc(1, sizeof *p);
    p->n = (int)n;
    p->spec = *spec; /* the key, which matched, covers the spec */
    p->skipped = (int)get32(b + 24);
    memcpy(p->key, key, 32);
    p->img = xcalloc(n ? n : 1, sizeof *p->img);
    size_t off = 0, rest = len - PACK_HEAD - (size_t)n * PACK_REC;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *r = b + PACK_HEAD + (size_t)i * PACK_REC;
        pack_image *m = &p->img[i];
        *m = (pack_image){(int)get32(r), (int)get32(r + 4), (int)get32(r + 8),
                          (int)get32(r + 12), (int)get32(r + 16), (int)get32(r + 20), off};
        if (m->w < 1 || m->h < 1 || m->w > IMAGE_MAX_SIDE || m->h > IMAGE_MAX_SIDE ||
            3 * (size_t)m->w * m->h > rest - off) {
            image_pack_free(p);
            p = NULL;
            goto done;
        }
        off += 3 * (size_t)m->w * m->h;
    }
    if (off != rest) {
        image_pack_free(p);
        p = NULL;
        goto done;
    }
    p->pix = xmalloc(off ? off : 1);
    memcpy(p->pix, b + len - rest, off);
    p->pix_bytes = off;
done:
    free(b);
    return p;
}

static int pack_write(const image_pack *p, const char *path, lir_error *err) {
    atomic_file a;
    if (atomic_open(&a, path, err)) return -1;
    uint32_t head[5] = {(uint32_t)p->n, (uint32_t)p->spec.mode, (uint32_t)p->spec.size,
                        (uint32_t)p->spec.min_side, (uint32_t)p->skipped};
    int bad = fwrite(PACK_MAGIC, 1, 8, a.f) != 8 || fwrite(head, 4, 5, a.f) != 5 ||
              fwrite(p->key, 1, 32, a.f) != 32;
    for (int i = 0; i < p->n && !bad; i++) {
        const pack_image *m = &p->img[i];
        uint32_t r[6] = {(uint32_t)m->w,      (uint32_t)m->h,     (uint32_t)m->src_w,
                         (uint32_t)m->src_h, (uint32_t)m->label, (uint32_t)m->entry};
        bad = fwrite(r, 4, 6, a.f) != 6;
    }
    if (!bad && p->pix_bytes) bad = fwrite(p->pix, 1, p->pix_bytes, a.f) != p->pix_bytes;
    if (bad) {
        atomic_abort(&a);
        return lir_fail(err, "%s: write failed (disk full?)", path);
    }
    return atomic_close(&a, err);
}

/* Decodes and prepares one listed file; *keep 0 when it is under min_side. */
static int pack_add(image_pack *p, const char *setdir, const pack_entry *e, int entry,
                    size_t *cap, lir_error *err) {
    char path[4700], hex[65];
    snprintf(path, sizeof path, "%s/%s", setdir, e->rel);
    if (e->sha256[0]) {
        if (sha256_file(path, hex, err) < 0) return -1;
        if (strcmp(hex, e->sha256))
            return lir_fail(err, "%s: SHA-256 %s, but the set's list says %s (file changed or "
                            "damaged; fetch the set again)", path, hex, e->sha256);
    }
    uint8_t *src;
    int w, h;
    if (image_read_alpha(path, p->spec.alpha, &src, &w, &h, err) < 0) return -1;
    int s = w < h ? w : h, ow = w, oh = h;
    if (s < p->spec.min_side) {
        p->skipped++;
        free(src);
        return 0;
    }
    image_box box = {0, 0, w, h};
    if (p->spec.mode == PACK_CENTER) {
        image_box_center(w, h, &box);
        ow = oh = p->spec.size;
    } else if (s > p->spec.size) {
        double f = (double)p->spec.size / s;
        ow = w == s ? p->spec.size : (int)(w * f + 0.5);
        oh = h == s ? p->spec.size : (int)(h * f + 0.5);
    }
    size_t need = 3 * (size_t)ow * oh;
    while (p->pix_bytes + need > *cap) *cap = *cap ? *cap * 2 : need * 16;
    p->pix = xrealloc(p->pix, *cap);
    image_resize_area(src, 3, h, w, &box, p->pix + p->pix_bytes, oh, ow);
    free(src);
    p->img = xrealloc(p->img, (size_t)(p->n + 1) * sizeof *p->img);
    p->img[p->n++] = (pack_image){ow, oh, w, h, e->label, entry, p->pix_bytes};
    p->pix_bytes += need;
    return 0;
}

image_pack *image_pack_open(const char *setdir, const char *packname, const pack_entry *e, int n,
                            const pack_spec *spec, lir_error *err) {
    uint8_t key[32];
    char path[4700];
    pack_key(spec, e, n, key);
    snprintf(path, sizeof path, "%s/%s", setdir, packname);
    image_pack *p = pack_read(path, spec, key);
    if (p) {
        snprintf(p->path, sizeof p->path, "%s", path);
        p->cached = 1;
        return p;
    }
    p = xcalloc(1, sizeof *p);
    p->spec = *spec;
    memcpy(p->key, key, 32);
    snprintf(p->path, sizeof p->path, "%s", path);
    size_t cap = 0;
    for (int i = 0; i < n; i++)
        if (pack_add(p, setdir, &e[i], i, &cap, err) < 0) {
            image_pack_free(p);
            return NULL;
        }
    if (p->n == 0) {
        lir_fail(err, "%s: none of the %d listed images is at least %d pixels on its shorter "
                 "side", setdir, n, spec->min_side);
        image_pack_free(p);
        return NULL;
    }
    p->built = 1;
    /* a read-only data folder still works: the pack is then rebuilt on every load */
    p->cached = pack_write(p, path, NULL) == 0;
    return p;
}
