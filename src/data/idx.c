/* idx.c: parser for the IDX files of MNIST and Fashion-MNIST, and their size rule
 * (the exact file size a header promises, for the limited reader in stream.c).
 * IDX: 2 zero bytes, type byte (0x08 = uint8), number of dimensions, then each
 * dimension as a big-endian uint32, then the data. */
#include <stdlib.h>
#include <string.h>

#include "data.h"

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Checks the magic and dimensions (the first 4 + 4 * want_dims bytes): dims get the
 * sizes, *total the data bytes they promise (at most DATA_MAX_BYTES); returns the
 * header size. */
static int idx_dims(const uint8_t *buf, size_t len, const char *what, int want_dims,
                    uint32_t *dims, uint64_t *total, lir_error *err) {
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
    uint64_t t = 1;
    int over = 0;
    char shape[64] = "";
    for (int i = 0; i < want_dims; i++) {
        dims[i] = be32(buf + 4 + 4 * i);
        over |= lir_mul_u64(t, dims[i], &t);
        snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%s%u", i ? " x " : "",
                 dims[i]);
    }
    if (over || t > DATA_MAX_BYTES)
        return lir_fail(err,
                        "%s: offset 4: the header promises %s = %s%llu bytes of data, more "
                        "than the %llu a dataset file may hold",
                        what, shape, over ? "over " : "",
                        over ? (unsigned long long)UINT64_MAX : (unsigned long long)t,
                        (unsigned long long)DATA_MAX_BYTES);
    *total = t;
    return (int)hdr;
}

/* Checks the header against the buffer and returns the data offset. */
static int idx_header(const uint8_t *buf, size_t len, const char *what, int want_dims,
                      uint32_t *dims, size_t *count, lir_error *err) {
    uint64_t total = 0;
    int hdr = idx_dims(buf, len, what, want_dims, dims, &total, err);
    if (hdr < 0) return -1;
    if (len - (size_t)hdr != total)
        return lir_fail(err, "%s: data size %zu bytes after the header does not match the header's "
                        "dimensions (%llu bytes expected)%s",
                        what, len - hdr, (unsigned long long)total,
                        len - hdr < total ? ": file truncated" : "");
    *count = (size_t)total;
    return hdr;
}

/* The exact file size a header promises (header + data). */
static int idx_file_size(const uint8_t *head, size_t n, const char *what, int want_dims,
                         uint64_t *size, lir_error *err) {
    uint32_t dims[3];
    uint64_t total = 0;
    int hdr = idx_dims(head, n, what, want_dims, dims, &total, err);
    if (hdr < 0) return -1;
    *size = (uint64_t)hdr + total;
    return 0;
}

int idx_images_size(const uint8_t *head, size_t n, const char *what, uint64_t *size,
                    lir_error *err) {
    return idx_file_size(head, n, what, 3, size, err);
}

int idx_labels_size(const uint8_t *head, size_t n, const char *what, uint64_t *size,
                    lir_error *err) {
    return idx_file_size(head, n, what, 1, size, err);
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
