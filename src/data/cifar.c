/* cifar.c: parser for the CIFAR-10 and CIFAR-100 "binary version" files.
 * CIFAR-10 record: 1 label byte + 3072 pixel bytes (1024 R, 1024 G, 1024 B, each
 * 32x32 row-major); CIFAR-100 record: coarse label + fine label + 3072 bytes. */
#include <stdlib.h>
#include <string.h>

#include "data.h"

enum { CIFAR_PIXELS = DATA_IMG }; /* one record's image is one network input */

int cifar_parse(const uint8_t *buf, size_t len, int cifar100, const char *what, dataset *d,
                lir_error *err) {
    size_t rec = (size_t)CIFAR_PIXELS + (cifar100 ? 2 : 1);
    int classes = cifar100 ? 100 : 10;
    if (len == 0) return lir_fail(err, "%s: empty file (expected %zu-byte records)", what, rec);
    if (len % rec != 0)
        return lir_fail(err,
                        "%s: size %zu is not a multiple of the %s record size %zu "
                        "(%zu whole records, %zu bytes left over: truncated or wrong file)",
                        what, len, cifar100 ? "CIFAR-100" : "CIFAR-10", rec, len / rec, len % rec);
    size_t add = len / rec;
    if (add > (size_t)(1 << 30) - (size_t)d->n)
        return lir_fail(err, "%s: too many records (%zu)", what, add);
    if (d->n > 0 && (d->c != 3 || d->h != DATA_SIDE || d->w != DATA_SIDE || d->classes != classes))
        return lir_fail(err, "%s: cannot append CIFAR records to a %dx%dx%d set", what, d->c,
                        d->h, d->w);
    /* Validate every label before touching d, so a failure leaves d as it was. */
    for (size_t i = 0; i < add; i++) {
        const uint8_t *r = buf + i * rec;
        if (cifar100 && r[0] >= 20)
            return lir_fail(err, "%s: offset %zu (record %zu): coarse label %d out of range 0..19",
                            what, i * rec, i, r[0]);
        int fine = r[cifar100 ? 1 : 0];
        if (fine >= classes)
            return lir_fail(err, "%s: offset %zu (record %zu): label %d out of range 0..%d", what,
                            i * rec + (cifar100 ? 1 : 0), i, fine, classes - 1);
    }
    size_t n0 = (size_t)d->n, n1 = n0 + add;
    d->images = xrealloc(d->images, n1 * CIFAR_PIXELS);
    d->labels = xrealloc(d->labels, n1 * sizeof(int));
    if (cifar100) d->coarse = xrealloc(d->coarse, n1 * sizeof(int));
    for (size_t i = 0; i < add; i++) {
        const uint8_t *r = buf + i * rec;
        if (cifar100) d->coarse[n0 + i] = r[0];
        d->labels[n0 + i] = r[cifar100 ? 1 : 0];
        memcpy(d->images + (n0 + i) * CIFAR_PIXELS, r + (cifar100 ? 2 : 1), CIFAR_PIXELS);
    }
    d->n = (int)n1;
    d->c = 3;
    d->h = d->w = DATA_SIDE;
    d->classes = classes;
    return 0;
}
