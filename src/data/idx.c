/* idx.c: parser for the IDX files of MNIST and Fashion-MNIST, and the file
 * reader all loaders share (gzip-compressed or plain, via zlib's gz* functions).
 * IDX: 2 zero bytes, type byte (0x08 = uint8), number of dimensions, then each
 * dimension as a big-endian uint32, then the data. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "data.h"

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Checks the header and returns the data offset; dims get the sizes. */
static int idx_header(const uint8_t *buf, size_t len, const char *what, int want_dims,
                      uint32_t *dims, size_t *count, lir_error *err) {
    if (len < 4)
        return lir_fail(err, "%s: file too short for an IDX header (%zu bytes)", what, len);
    if (buf[0] != 0 || buf[1] != 0 || buf[2] != 0x08 || buf[3] != want_dims)
        return lir_fail(err,
                        "%s: offset 0: wrong IDX magic %02x %02x %02x %02x (expected 00 00 08 %02x: "
                        "uint8 data with %d dimension%s)",
                        what, buf[0], buf[1], buf[2], buf[3], want_dims, want_dims,
                        want_dims == 1 ? "" : "s");
    size_t hdr = 4 + 4 * (size_t)want_dims;
    if (len < hdr)
        return lir_fail(err, "%s: file ends inside the IDX header (%zu of %zu bytes)", what, len,
                        hdr);
    size_t total = 1;
    for (int i = 0; i < want_dims; i++) {
        dims[i] = be32(buf + 4 + 4 * i);
        if (dims[i] > (1u << 30) || (dims[i] && total > ((size_t)1 << 34) / dims[i]))
            return lir_fail(err, "%s: offset %d: dimension %d is implausibly large (%u)", what,
                            4 + 4 * i, i, dims[i]);
        total *= dims[i];
    }
    if (len - hdr != total)
        return lir_fail(err, "%s: data size %zu bytes after the header does not match the header's "
                        "dimensions (%zu bytes expected)%s",
                        what, len - hdr, total, len - hdr < total ? ": file truncated" : "");
    *count = total;
    return (int)hdr;
}

int idx_parse_images(const uint8_t *buf, size_t len, const char *what, dataset *d, lir_error *err) {
    uint32_t dims[3];
    size_t total = 0;
    int off = idx_header(buf, len, what, 3, dims, &total, err);
    if (off < 0) return -1;
    if (dims[0] == 0 || dims[1] == 0 || dims[2] == 0 || dims[1] > 4096 || dims[2] > 4096)
        return lir_fail(err, "%s: unusable image dimensions %u x %u x %u", what, dims[0], dims[1],
                        dims[2]);
    d->images = xmalloc(total);
    memcpy(d->images, buf + off, total);
    d->n = (int)dims[0];
    d->c = 1;
    d->h = (int)dims[1];
    d->w = (int)dims[2];
    return 0;
}

int idx_parse_labels(const uint8_t *buf, size_t len, const char *what, int expect_n, int classes,
                     int **labels, lir_error *err) {
    uint32_t dims[1];
    size_t total = 0;
    int off = idx_header(buf, len, what, 1, dims, &total, err);
    if (off < 0) return -1;
    if (expect_n >= 0 && total != (size_t)expect_n)
        return lir_fail(err, "%s: %zu labels but the image file has %d images", what, total,
                        expect_n);
    for (size_t i = 0; i < total; i++)
        if (buf[off + i] >= classes)
            return lir_fail(err, "%s: offset %zu: label %d out of range 0..%d", what,
                            (size_t)off + i, buf[off + i], classes - 1);
    int *l = xmalloc(total * sizeof(int));
    for (size_t i = 0; i < total; i++) l[i] = buf[off + i];
    *labels = l;
    return 0;
}

uint8_t *data_read_file(const char *path, size_t *len, lir_error *err) {
    gzFile g = gzopen(path, "rb");
    if (!g) {
        lir_fail(err, "%s: cannot open: %s", path, errno ? strerror(errno) : "zlib error");
        return NULL;
    }
    gzbuffer(g, 1 << 20);
    size_t cap = 1 << 20, n = 0;
    uint8_t *buf = xmalloc(cap);
    for (;;) {
        if (n == cap) buf = xrealloc(buf, cap *= 2);
        size_t want = cap - n;
        if (want > (1u << 30)) want = 1u << 30;
        int got = gzread(g, buf + n, (unsigned)want);
        if (got < 0) {
            int code;
            const char *msg = gzerror(g, &code);
            lir_fail(err, "%s: read error after %zu bytes: %s", path, n, msg);
            gzclose(g);
            free(buf);
            return NULL;
        }
        if (got == 0) break;
        n += (size_t)got;
    }
    int code;
    const char *msg = gzerror(g, &code);
    if (code != Z_OK) {
        lir_fail(err, "%s: gzip data damaged or truncated after %zu bytes: %s", path, n, msg);
        gzclose(g);
        free(buf);
        return NULL;
    }
    gzclose(g);
    *len = n;
    return buf;
}
