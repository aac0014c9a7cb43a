/* svhn.c: reader for SVHN's cropped-digit files (train/test/extra_32x32.mat),
 * which are MATLAB level-5 MAT files. Only what those files need is understood:
 * a 128-byte header (text, version 0x0100, endian mark "IM" or "MI"), then data
 * elements, each an 8-byte tag (type, byte count; or the 4-byte "small element"
 * form) padded to 8 bytes. miCOMPRESSED elements hold one zlib-compressed element.
 * A miMATRIX element holds array flags (class), dimensions, name and real part.
 * Variables: X (H x W x C x N uint8, column-major: pixel(n,c,h,w) = X[h,w,c,n])
 * and y (N x 1 numeric, 1..10 with 10 meaning digit 0). Other variables are skipped. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "data.h"

enum {
    MI_INT8 = 1, MI_UINT8 = 2, MI_INT16 = 3, MI_UINT16 = 4, MI_INT32 = 5, MI_UINT32 = 6,
    MI_SINGLE = 7, MI_DOUBLE = 9, MI_INT64 = 12, MI_UINT64 = 13, MI_MATRIX = 14,
    MI_COMPRESSED = 15
};
enum { MX_DOUBLE = 6, MX_UINT64 = 15, MX_UINT8 = 9 };

typedef struct {
    const char *what;
    int swap;          /* file is big-endian ("MI") */
    uint8_t *images;   /* X transposed to [n][c][h][w] */
    int xn, xc, xh, xw;
    int *labels;       /* y mapped to 0..9 */
    int yn;
} mat_ctx;

/* One data element inside buf. */
typedef struct {
    uint32_t type, nbytes;
    const uint8_t *data;
    size_t next; /* offset of the following element */
} mat_elem;

static uint32_t rd32(const uint8_t *p, int swap) {
    if (swap) return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* Reads the element at off; where names the enclosing context for messages. */
static int mat_elem_at(const mat_ctx *m, const uint8_t *buf, size_t len, size_t off,
                       const char *where, mat_elem *e, lir_error *err) {
    if (len - off < 8)
        return lir_fail(err, "%s: %s offset %zu: file ends inside a data element tag", m->what,
                        where, off);
    uint32_t w0 = rd32(buf + off, m->swap);
    if (w0 >> 16) { /* small data element: byte count in the upper half, data in the tag */
        e->type = w0 & 0xffff;
        e->nbytes = w0 >> 16;
        if (e->nbytes > 4)
            return lir_fail(err, "%s: %s offset %zu: small data element claims %u bytes (max 4)",
                            m->what, where, off, e->nbytes);
        e->data = buf + off + 4;
        e->next = off + 8;
        return 0;
    }
    e->type = w0;
    e->nbytes = rd32(buf + off + 4, m->swap);
    if (e->nbytes > len - off - 8)
        return lir_fail(err,
                        "%s: %s offset %zu: %s element claims %u bytes but only %zu remain "
                        "(file truncated?)",
                        m->what, where, off,
                        e->type == MI_MATRIX       ? "miMATRIX"
                        : e->type == MI_COMPRESSED ? "miCOMPRESSED"
                                                   : "data",
                        e->nbytes, len - off - 8);
    e->data = buf + off + 8;
    size_t body = e->nbytes;
    if (e->type != MI_COMPRESSED) body = (body + 7) & ~(size_t)7;
    e->next = off + 8 + body;
    if (e->next > len) e->next = len; /* last element's padding may be missing */
    return 0;
}

static size_t mi_size(uint32_t type) {
    switch (type) {
    case MI_INT8: case MI_UINT8: return 1;
    case MI_INT16: case MI_UINT16: return 2;
    case MI_INT32: case MI_UINT32: case MI_SINGLE: return 4;
    case MI_DOUBLE: case MI_INT64: case MI_UINT64: return 8;
    default: return 0;
    }
}

/* Element i of numeric data of storage type t, as a double. */
static double mi_value(const uint8_t *p, uint32_t t, size_t i, int swap) {
    uint8_t b[8];
    size_t s = mi_size(t);
    for (size_t k = 0; k < s; k++) b[k] = p[i * s + (swap ? s - 1 - k : k)];
    switch (t) {
    case MI_INT8: return (int8_t)b[0];
    case MI_UINT8: return b[0];
    case MI_INT16: { int16_t v; memcpy(&v, b, 2); return v; }
    case MI_UINT16: { uint16_t v; memcpy(&v, b, 2); return v; }
    case MI_INT32: { int32_t v; memcpy(&v, b, 4); return v; }
    case MI_UINT32: { uint32_t v; memcpy(&v, b, 4); return v; }
    case MI_SINGLE: { float v; memcpy(&v, b, 4); return v; }
    case MI_DOUBLE: { double v; memcpy(&v, b, 8); return v; }
    case MI_INT64: { int64_t v; memcpy(&v, b, 8); return (double)v; }
    default: { uint64_t v; memcpy(&v, b, 8); return (double)v; }
    }
}

static int mat_take_x(mat_ctx *m, uint32_t cls, const int32_t *dims, int ndims,
                      const mat_elem *re, const char *where, lir_error *err) {
    if (m->images) return lir_fail(err, "%s: %s: variable X appears twice", m->what, where);
    if (cls != MX_UINT8 || re->type != MI_UINT8)
        return lir_fail(err, "%s: %s: variable X has class %u / data type %u, expected uint8 "
                        "(class 9, type 2)", m->what, where, cls, re->type);
    if (ndims != 3 && ndims != 4)
        return lir_fail(err, "%s: %s: variable X has %d dimensions, expected H x W x C x N",
                        m->what, where, ndims);
    int h = dims[0], w = dims[1], c = dims[2], n = ndims == 4 ? dims[3] : 1;
    if (h < 1 || w < 1 || h > 4096 || w > 4096 || (c != 1 && c != 3) || n < 1)
        return lir_fail(err, "%s: %s: variable X has shape %d x %d x %d x %d, expected "
                        "H x W x 3 x N", m->what, where, h, w, c, n);
    size_t img = (size_t)h * w * c;
    if ((size_t)re->nbytes != img * (size_t)n)
        return lir_fail(err, "%s: %s: variable X holds %u bytes, its shape %dx%dx%dx%d needs %zu",
                        m->what, where, re->nbytes, h, w, c, n, img * (size_t)n);
    uint8_t *out = xmalloc(img * (size_t)n);
    const uint8_t *src = re->data;
#pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++) {
            const uint8_t *s = src + (size_t)i * img + (size_t)ch * h * w; /* [w][h] */
            uint8_t *d = out + (size_t)i * img + (size_t)ch * h * w;       /* [h][w] */
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) d[y * w + x] = s[y + (size_t)h * x];
        }
    m->images = out;
    m->xn = n;
    m->xc = c;
    m->xh = h;
    m->xw = w;
    return 0;
}

static int mat_take_y(mat_ctx *m, uint32_t cls, const int32_t *dims, int ndims,
                      const mat_elem *re, const char *where, lir_error *err) {
    if (m->labels) return lir_fail(err, "%s: %s: variable y appears twice", m->what, where);
    if (cls < MX_DOUBLE || cls > MX_UINT64 || mi_size(re->type) == 0)
        return lir_fail(err, "%s: %s: variable y has class %u / data type %u, expected a numeric "
                        "array", m->what, where, cls, re->type);
    if (ndims != 2 || (dims[0] != 1 && dims[1] != 1))
        return lir_fail(err, "%s: %s: variable y must be an N x 1 vector", m->what, where);
    size_t n = (size_t)dims[0] * (size_t)dims[1];
    if ((size_t)re->nbytes != n * mi_size(re->type))
        return lir_fail(err, "%s: %s: variable y holds %u bytes, its %zu elements need %zu",
                        m->what, where, re->nbytes, n, n * mi_size(re->type));
    int *lab = xmalloc((n ? n : 1) * sizeof(int));
    for (size_t i = 0; i < n; i++) {
        double v = mi_value(re->data, re->type, i, m->swap);
        if (!(v >= 1 && v <= 10) || v != (double)(int)v) {
            free(lab);
            return lir_fail(err, "%s: %s: y(%zu) = %g, expected an integer label 1..10", m->what,
                            where, i + 1, v);
        }
        lab[i] = (int)v % 10;
    }
    m->labels = lab;
    m->yn = (int)n;
    return 0;
}

/* The contents of one miMATRIX element. */
static int mat_matrix(mat_ctx *m, const uint8_t *buf, size_t len, const char *where,
                      lir_error *err) {
    mat_elem fl = {0}, dm = {0}, nm = {0}, re = {0};
    if (mat_elem_at(m, buf, len, 0, where, &fl, err) < 0) return -1;
    if (fl.type != MI_UINT32 || fl.nbytes != 8)
        return lir_fail(err, "%s: %s: matrix does not start with array flags", m->what, where);
    uint32_t flags = rd32(fl.data, m->swap), cls = flags & 0xff;
    if (fl.next >= len || mat_elem_at(m, buf, len, fl.next, where, &dm, err) < 0)
        return len <= fl.next ? lir_fail(err, "%s: %s: matrix ends before its dimensions",
                                         m->what, where) : -1;
    if (dm.type != MI_INT32 || dm.nbytes < 8 || dm.nbytes % 4 || dm.nbytes > 4 * 32)
        return lir_fail(err, "%s: %s: bad matrix dimensions element", m->what, where);
    int ndims = (int)(dm.nbytes / 4);
    int32_t dims[32];
    for (int i = 0; i < ndims; i++) {
        dims[i] = (int32_t)rd32(dm.data + 4 * i, m->swap);
        if (dims[i] < 0) return lir_fail(err, "%s: %s: negative dimension", m->what, where);
    }
    if (dm.next >= len || mat_elem_at(m, buf, len, dm.next, where, &nm, err) < 0)
        return len <= dm.next ? lir_fail(err, "%s: %s: matrix ends before its name", m->what,
                                         where) : -1;
    if (nm.type != MI_INT8 || nm.nbytes > 63)
        return lir_fail(err, "%s: %s: bad matrix name element", m->what, where);
    char name[64];
    memcpy(name, nm.data, nm.nbytes);
    name[nm.nbytes] = 0;
    int is_x = !strcmp(name, "X"), is_y = !strcmp(name, "y");
    if (!is_x && !is_y) return 0;
    if (cls < MX_DOUBLE || cls > MX_UINT64 || (flags & 0x800))
        return lir_fail(err, "%s: %s: variable %s has class %u, expected a real numeric array",
                        m->what, where, name, cls);
    if (nm.next >= len || mat_elem_at(m, buf, len, nm.next, where, &re, err) < 0)
        return len <= nm.next ? lir_fail(err, "%s: %s: variable %s has no data", m->what, where,
                                         name) : -1;
    return is_x ? mat_take_x(m, cls, dims, ndims, &re, where, err)
                : mat_take_y(m, cls, dims, ndims, &re, where, err);
}

/* Deflate turns one input byte into at most 1032 output bytes (a 258-byte match
 * per 2 bits), so an element claiming more than that per compressed byte is a lie. */
enum { DEFLATE_MAX_RATIO = 1032, MAT_PEEK = 256 };

/* The tag at *off of b[0..len): type, byte count, data offset; *off moves past the
 * padded element. 0 when the tag and (want_data) its data fit, else 1. */
static int peek_tag(const mat_ctx *m, const uint8_t *b, size_t len, size_t *off, int want_data,
                    uint32_t *type, uint32_t *nbytes, size_t *data) {
    if (len < 8 || *off > len - 8) return 1;
    uint32_t w0 = rd32(b + *off, m->swap);
    if (w0 >> 16) {
        *type = w0 & 0xffff, *nbytes = w0 >> 16, *data = *off + 4, *off += 8;
        return 0;
    }
    *type = w0, *nbytes = rd32(b + *off + 4, m->swap), *data = *off + 8;
    *off += 8 + (((size_t)*nbytes + 7) & ~(size_t)7);
    return want_data && *data + *nbytes > len;
}

/* From the first bytes of a matrix body: 0 = a variable other than X and y (not
 * needed), 1 = X or y, whose body needs *need bytes as its dimensions and data tag
 * say, 2 = too short to tell; -1 when the parts contradict each other. */
static int mat_peek(const mat_ctx *m, const uint8_t *b, size_t len, size_t *need,
                    const char *where, lir_error *err) {
    uint32_t t, nb;
    size_t off = 0, data, ddims, nd;
    if (peek_tag(m, b, len, &off, 1, &t, &nb, &data)) return 2; /* array flags */
    if (peek_tag(m, b, len, &off, 1, &t, &nb, &ddims)) return 2; /* dimensions */
    if (t != MI_INT32 || nb < 8 || nb % 4 || nb > 4 * 32) return 2; /* mat_matrix says why */
    nd = nb / 4;
    if (peek_tag(m, b, len, &off, 1, &t, &nb, &data)) return 2; /* name */
    int is_x = nb == 1 && b[data] == 'X', is_y = nb == 1 && b[data] == 'y';
    if (!is_x && !is_y) return 0;
    if (peek_tag(m, b, len, &off, 0, &t, &nb, &data)) return 2; /* real part tag */
    uint64_t count = 1;
    int over = 0;
    for (size_t i = 0; i < nd; i++)
        over |= lir_mul_u64(count, rd32(b + ddims + 4 * i, m->swap) & 0x7fffffffu, &count);
    if (!mi_size(t) || over || lir_mul_u64(count, mi_size(t), &count) || count != nb)
        return lir_fail(err, "%s: %s: variable %c holds %u bytes of data type %u, which its "
                        "dimensions do not account for", m->what, where, is_x ? 'X' : 'y', nb, t);
    *need = data + nb;
    return 1;
}

/* Inflates until *have reaches target or the stream ends; Z_STREAM_END, Z_OK or a
 * zlib error code. */
static int inflate_to(z_stream *z, uint8_t **out, size_t *cap, size_t *have, size_t target) {
    int ret = Z_OK;
    while (*have < target && ret != Z_STREAM_END) {
        if (*have == *cap) {
            *cap = *cap * 2 < target ? *cap * 2 : target;
            *out = xrealloc(*out, *cap);
        }
        size_t room = *cap - *have;
        if (room > (1u << 30)) room = 1u << 30;
        z->next_out = *out + *have;
        z->avail_out = (uInt)room;
        ret = inflate(z, Z_NO_FLUSH);
        *have = (size_t)(z->next_out - *out);
        if (ret != Z_OK && ret != Z_STREAM_END && !(ret == Z_BUF_ERROR && z->avail_in)) return ret;
    }
    return ret == Z_STREAM_END ? ret : Z_OK;
}

/* Checks the inner tag's claim once known and, for a matrix, its header; *limit
 * becomes the bytes to inflate, *skip 1 for a variable that is not needed. */
static int mat_claim(const mat_ctx *m, const mat_elem *e, const uint8_t *out, size_t have,
                     size_t off, size_t *limit, int *skip, lir_error *err) {
    uint32_t w0 = rd32(out, m->swap);
    if (w0 >> 16) {
        *limit = 8;
        return 0;
    }
    uint32_t claim = rd32(out + 4, m->swap);
    if ((uint64_t)claim + 8 > (uint64_t)e->nbytes * DEFLATE_MAX_RATIO + 64)
        return lir_fail(err, "%s: offset %zu: a compressed element of %u bytes claims %u bytes "
                        "inflated, more than deflate can produce from it", m->what, off,
                        e->nbytes, claim);
    *limit = 8 + (size_t)claim;
    if (w0 != MI_MATRIX || have < 16) return 0;
    char where[64];
    snprintf(where, sizeof where, "element at offset %zu", off);
    size_t need = 0, body = have - 8 < claim ? have - 8 : claim;
    int k = mat_peek(m, out + 8, body, &need, where, err);
    if (k < 0) return -1;
    if (k == 0) *skip = 1;
    if (k == 1 && (need > claim || claim - need > 7))
        return lir_fail(err, "%s: %s: the matrix claims %u bytes but its parts need %zu",
                        m->what, where, claim, need);
    return 0;
}

/* Inflates a miCOMPRESSED body; the output is one element, no longer than its tag
 * says, checked against its own header before the bulk is inflated. *skip = 1 when
 * it holds a variable other than X and y (inflated only as far as its name). */
static uint8_t *mat_inflate(const mat_ctx *m, const mat_elem *e, size_t off, size_t *out_len,
                            int *skip, lir_error *err) {
    z_stream z;
    memset(&z, 0, sizeof z);
    *skip = 0;
    if (inflateInit(&z) != Z_OK) {
        lir_fail(err, "%s: offset %zu: zlib init failed", m->what, off);
        return NULL;
    }
    z.next_in = (Bytef *)e->data;
    z.avail_in = e->nbytes;
    size_t cap = 4096, have = 0, limit = 8 + MAT_PEEK;
    uint8_t *out = xmalloc(cap);
    int ret = inflate_to(&z, &out, &cap, &have, limit);
    if (ret == Z_OK || ret == Z_STREAM_END) {
        if (have >= 8 && mat_claim(m, e, out, have, off, &limit, skip, err) < 0) ret = -100;
        else if (have >= 8 && !*skip && ret != Z_STREAM_END)
            ret = inflate_to(&z, &out, &cap, &have, limit);
    }
    inflateEnd(&z);
    if (ret != Z_OK && ret != Z_STREAM_END) {
        free(out);
        if (ret != -100)
            lir_fail(err, "%s: offset %zu: compressed element is %s", m->what, off,
                     ret == Z_BUF_ERROR ? "truncated" : "corrupt (zlib error)");
        return NULL;
    }
    if (!*skip && (have < 8 || have < limit)) {
        free(out);
        lir_fail(err, "%s: offset %zu: compressed element ends after %zu of %zu bytes", m->what,
                 off, have, have < 8 ? (size_t)8 : limit);
        return NULL;
    }
    *out_len = *skip ? have : limit;
    return out;
}

static void mat_ctx_free(mat_ctx *m) {
    free(m->images);
    free(m->labels);
}

int svhn_parse(const uint8_t *buf, size_t len, const char *what, dataset *d, lir_error *err) {
    mat_ctx m = {.what = what};
    if (len >= 10 && !memcmp(buf, "MATLAB 7.3", 10))
        return lir_fail(err, "%s: MATLAB v7.3 (HDF5) file; expected a MATLAB 5 MAT-file", what);
    if (len < 128 || memcmp(buf, "MATLAB 5.0 MAT-file", 19))
        return lir_fail(err, "%s: offset 0: not a MATLAB 5 MAT-file (header text \"MATLAB 5.0 "
                        "MAT-file\" missing or file shorter than 128 bytes)", what);
    if (buf[126] == 'I' && buf[127] == 'M') m.swap = 0;
    else if (buf[126] == 'M' && buf[127] == 'I') m.swap = 1;
    else return lir_fail(err, "%s: offset 126: bad endian indicator (expected \"IM\" or \"MI\")",
                         what);
    unsigned version = m.swap ? (unsigned)buf[124] << 8 | buf[125] : (unsigned)buf[125] << 8 | buf[124];
    if (version != 0x0100)
        return lir_fail(err, "%s: offset 124: MAT version 0x%04x, expected 0x0100", what, version);
    for (size_t off = 128; len - off >= 8;) {
        mat_elem e;
        if (mat_elem_at(&m, buf, len, off, "top level", &e, err) < 0) goto fail;
        char where[64];
        snprintf(where, sizeof where, "element at offset %zu", off);
        if (e.type == MI_COMPRESSED) {
            size_t ilen;
            int skip;
            uint8_t *inner = mat_inflate(&m, &e, off, &ilen, &skip, err);
            if (!inner) goto fail;
            mat_elem ie;
            int rc = skip ? 0 : mat_elem_at(&m, inner, ilen, 0, where, &ie, err);
            if (rc == 0 && !skip && ie.type == MI_MATRIX)
                rc = mat_matrix(&m, ie.data, ie.nbytes, where, err);
            free(inner);
            if (rc < 0) goto fail;
        } else if (e.type == MI_MATRIX) {
            if (mat_matrix(&m, e.data, e.nbytes, where, err) < 0) goto fail;
        }
        off = e.next;
    }
    if (!m.images || !m.labels) {
        lir_fail(err, "%s: variable %s not found (SVHN files hold X: 32x32x3xN uint8 and y: Nx1)",
                 what, !m.images ? "X" : "y");
        goto fail;
    }
    if (m.xn != m.yn) {
        lir_fail(err, "%s: X holds %d images but y holds %d labels", what, m.xn, m.yn);
        goto fail;
    }
    d->images = m.images;
    d->labels = m.labels;
    d->n = m.xn;
    d->c = m.xc;
    d->h = m.xh;
    d->w = m.xw;
    d->classes = 10;
    return 0;
fail:
    mat_ctx_free(&m);
    return -1;
}
