/* npy.c: reader for NumPy .npy files (format versions 1.0, 2.0 and 3.0) holding uint8
 * images N x 32 x 32 x 3 in C order (NHWC), the layout of the 300K Random Images file
 * of Outlier Exposure and OpenOOD; the images become lir's planar [n][3][32][32].
 * Layout: magic "\x93NUMPY", major, minor, header length (uint16 LE in 1.0, uint32 LE
 * in 2.0/3.0), then a Python dict literal with exactly the keys 'descr', 'fortran_order'
 * and 'shape', then the raw array. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data.h"

enum { NPY_IMG = DATA_IMG }; /* one (32, 32, 3) record is one network input */

typedef struct {
    const char *s, *end, *what;
    size_t base; /* file offset of s's start, for messages */
} npy_lex;

static void skip_space(npy_lex *x) {
    while (x->s < x->end && (*x->s == ' ' || *x->s == '\t' || *x->s == '\n' || *x->s == '\r'))
        x->s++;
}

static int lex_fail(npy_lex *x, const char *start, lir_error *err, const char *expected) {
    return lir_fail(err, "%s: offset %zu: bad .npy header dict: expected %s", x->what,
                    x->base + (size_t)(x->s - start), expected);
}

/* A quoted string ('...' or "...") into out. */
static int lex_string(npy_lex *x, const char *start, char *out, size_t n, lir_error *err) {
    skip_space(x);
    if (x->s >= x->end || (*x->s != '\'' && *x->s != '"'))
        return lex_fail(x, start, err, "a quoted string");
    char q = *x->s++;
    const char *b = x->s;
    while (x->s < x->end && *x->s != q) x->s++;
    if (x->s >= x->end) return lex_fail(x, start, err, "the end of a quoted string");
    size_t l = (size_t)(x->s - b);
    x->s++;
    snprintf(out, n, "%.*s", (int)(l < n ? l : n - 1), b);
    return l < n ? 0 : lex_fail(x, start, err, "a shorter string");
}

static int lex_char(npy_lex *x, const char *start, char c, lir_error *err) {
    skip_space(x);
    if (x->s >= x->end || *x->s != c) {
        char want[8] = {'\'', c, '\'', 0};
        return lex_fail(x, start, err, want);
    }
    x->s++;
    return 0;
}

/* A shape tuple "(a, b, ...)" of non-negative integers. */
static int lex_shape(npy_lex *x, const char *start, npy_info *h, lir_error *err) {
    if (lex_char(x, start, '(', err)) return -1;
    h->ndim = 0;
    for (;;) {
        skip_space(x);
        if (x->s < x->end && *x->s == ')') break;
        if (x->s >= x->end || *x->s < '0' || *x->s > '9')
            return lex_fail(x, start, err, "a non-negative integer in 'shape'");
        int64_t v = 0;
        while (x->s < x->end && *x->s >= '0' && *x->s <= '9') {
            if (v > (INT64_MAX - 9) / 10) return lex_fail(x, start, err, "a smaller dimension");
            v = v * 10 + (*x->s++ - '0');
        }
        if (h->ndim == NPY_MAX_DIMS) return lex_fail(x, start, err, "at most 8 dimensions");
        h->shape[h->ndim++] = v;
        skip_space(x);
        if (x->s < x->end && *x->s == ',') x->s++;
        else if (x->s >= x->end || *x->s != ')') return lex_fail(x, start, err, "',' or ')'");
    }
    x->s++;
    return 0;
}

/* The dict literal: exactly the keys descr, fortran_order, shape, each once. */
static int parse_dict(npy_lex *x, const char *start, npy_info *h, lir_error *err) {
    int seen = 0;
    if (lex_char(x, start, '{', err)) return -1;
    for (;;) {
        skip_space(x);
        if (x->s < x->end && *x->s == '}') break;
        char key[32];
        if (lex_string(x, start, key, sizeof key, err) || lex_char(x, start, ':', err)) return -1;
        int bit = !strcmp(key, "descr") ? 1 : !strcmp(key, "fortran_order") ? 2
                : !strcmp(key, "shape") ? 4 : 0;
        if (!bit || (seen & bit))
            return lir_fail(err, "%s: .npy header: %s key '%s' (expected 'descr', "
                            "'fortran_order' and 'shape' once each)", x->what,
                            bit ? "repeated" : "unknown", key);
        seen |= bit;
        if (bit == 1 && lex_string(x, start, h->descr, sizeof h->descr, err)) return -1;
        if (bit == 4 && lex_shape(x, start, h, err)) return -1;
        if (bit == 2) {
            skip_space(x);
            size_t left = (size_t)(x->end - x->s);
            if (left >= 4 && !memcmp(x->s, "True", 4)) h->fortran_order = 1, x->s += 4;
            else if (left >= 5 && !memcmp(x->s, "False", 5)) h->fortran_order = 0, x->s += 5;
            else return lex_fail(x, start, err, "True or False for 'fortran_order'");
        }
        skip_space(x);
        if (x->s < x->end && *x->s == ',') x->s++;
        else if (x->s >= x->end || *x->s != '}') return lex_fail(x, start, err, "',' or '}'");
    }
    x->s++;
    if (seen != 7)
        return lir_fail(err, "%s: .npy header lacks '%s'", x->what,
                        !(seen & 1) ? "descr" : !(seen & 2) ? "fortran_order" : "shape");
    return 0;
}

int npy_parse_header(const uint8_t *buf, size_t len, const char *what, npy_info *h,
                     lir_error *err) {
    memset(h, 0, sizeof *h);
    if (len < 10 || memcmp(buf, "\x93NUMPY", 6))
        return lir_fail(err, "%s: offset 0: not a NumPy .npy file (magic \"\\x93NUMPY\" missing)",
                        what);
    h->major = buf[6];
    h->minor = buf[7];
    if (h->major < 1 || h->major > 3 || h->minor != 0)
        return lir_fail(err, "%s: offset 6: .npy format version %d.%d (known: 1.0, 2.0, 3.0)",
                        what, h->major, h->minor);
    size_t pre = h->major == 1 ? 10 : 12, hlen;
    if (len < pre) return lir_fail(err, "%s: file ends inside the .npy preamble", what);
    hlen = h->major == 1 ? (size_t)(buf[8] | buf[9] << 8)
                         : (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 |
                               (size_t)buf[11] << 24;
    if (hlen > NPY_MAX_HEADER)
        return lir_fail(err, "%s: offset 8: .npy header length %zu exceeds the limit of %d bytes",
                        what, hlen, NPY_MAX_HEADER);
    if (hlen > len - pre)
        return lir_fail(err, "%s: offset 8: .npy header length %zu but only %zu bytes follow "
                        "(file truncated?)", what, hlen, len - pre);
    h->data_offset = pre + hlen;
    npy_lex x = {(const char *)buf + pre, (const char *)buf + pre + hlen, what, pre};
    if (parse_dict(&x, (const char *)buf + pre, h, err)) return -1;
    skip_space(&x);
    if (x.s != x.end)
        return lir_fail(err, "%s: offset %zu: unexpected text after the .npy header dict", what,
                        (size_t)(x.s - (const char *)buf));
    return 0;
}

/* Checks that the header describes uint8 N x 32 x 32 x 3 in C order and that the file
 * (file_size bytes) holds exactly that much data; *n gets N. */
static int npy_check_images(const npy_info *h, size_t file_size, const char *what, int *n,
                            lir_error *err) {
    if (strcmp(h->descr, "|u1") && strcmp(h->descr, "<u1") && strcmp(h->descr, ">u1") &&
        strcmp(h->descr, "u1"))
        return lir_fail(err, "%s: .npy dtype '%s', expected '|u1' (uint8 images)", what,
                        h->descr);
    if (h->fortran_order)
        return lir_fail(err, "%s: .npy array is in Fortran order; expected C order "
                        "(fortran_order False)", what);
    if (h->ndim != 4 || h->shape[1] != 32 || h->shape[2] != 32 || h->shape[3] != 3) {
        char s[160] = "(";
        for (int i = 0; i < h->ndim; i++)
            snprintf(s + strlen(s), sizeof s - strlen(s), "%s%lld", i ? ", " : "",
                     (long long)h->shape[i]);
        return lir_fail(err, "%s: .npy shape %s), expected (N, 32, 32, 3) (N images, NHWC)",
                        what, s);
    }
    if (h->shape[0] > INT_MAX / 2)
        return lir_fail(err, "%s: .npy holds %lld images, more than lir can index", what,
                        (long long)h->shape[0]);
    size_t need = (size_t)h->shape[0] * NPY_IMG, have = file_size - h->data_offset;
    if (have != need)
        return lir_fail(err, "%s: .npy data is %zu bytes after the header at offset %zu, shape "
                        "(%lld, 32, 32, 3) needs %zu (%s)", what, have, h->data_offset,
                        (long long)h->shape[0], need, have < need ? "truncated" : "extra bytes");
    *n = (int)h->shape[0];
    return 0;
}

/* NHWC images -> planar [3][32][32] each. */
static void npy_to_planar(const uint8_t *src, uint8_t *dst, int n) {
    for (int i = 0; i < n; i++)
        for (int p = 0; p < DATA_PLANE; p++)
            for (int c = 0; c < 3; c++)
                dst[(size_t)i * NPY_IMG + c * DATA_PLANE + p] = src[(size_t)i * NPY_IMG + p * 3 + c];
}

static void npy_fill(dataset *d, int n, uint8_t *images) {
    d->images = images;
    d->labels = xcalloc((size_t)(n ? n : 1), sizeof(int));
    d->n = n;
    d->c = 3;
    d->h = d->w = DATA_SIDE;
    d->classes = 1;
}

int npy_parse(const uint8_t *buf, size_t len, const char *what, dataset *d, lir_error *err) {
    npy_info h;
    int n;
    if (npy_parse_header(buf, len, what, &h, err) || npy_check_images(&h, len, what, &n, err))
        return -1;
    uint8_t *img = xmalloc((size_t)(n ? n : 1) * NPY_IMG);
    npy_to_planar(buf + h.data_offset, img, n);
    npy_fill(d, n, img);
    return 0;
}

int npy_load_images(const char *path, dataset *d, lir_error *err) {
    uint64_t fsize;
    FILE *f = file_open_read(path, &fsize, err);
    if (!f) return -1;
    size_t head_len = 12 + NPY_MAX_HEADER;
    uint8_t *head = xmalloc(head_len);
    size_t got = fread(head, 1, head_len, f);
    npy_info h;
    int n, rc = -1;
    /* header and size checked against the file before the image buffer is allocated */
    if (npy_parse_header(head, got, path, &h, err) ||
        npy_check_images(&h, (size_t)fsize, path, &n, err) ||
        fseek(f, (long)h.data_offset, SEEK_SET) != 0)
        goto done;
    enum { CHUNK = 4096 };
    uint8_t *img = xmalloc((size_t)(n ? n : 1) * NPY_IMG);
    uint8_t *chunk = xmalloc((size_t)CHUNK * NPY_IMG);
    for (int i = 0; i < n; i += CHUNK) {
        int k = n - i < CHUNK ? n - i : CHUNK;
        char what[64];
        snprintf(what, sizeof what, "images %d..%d", i, i + k - 1);
        if (read_exact(f, chunk, (size_t)k * NPY_IMG, path, what, err)) {
            free(img);
            free(chunk);
            goto done;
        }
        npy_to_planar(chunk, img + (size_t)i * NPY_IMG, k);
    }
    free(chunk);
    npy_fill(d, n, img);
    rc = 0;
done:
    free(head);
    fclose(f);
    return rc;
}
