/* stream.c: reading a dataset file into memory, gzip-compressed or plain (zlib's
 * gz* functions), with limits fixed before the data arrives: a format's size rule
 * reads the first bytes and says exactly how many bytes the (inflated) file must
 * hold, and reading stops the moment the stream goes past that, so a small
 * compressed file cannot inflate into gigabytes (a decompression bomb). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "data.h"

/* Reads up to want bytes; returns the count, or -1 with a message. */
static long gz_take(gzFile g, uint8_t *dst, size_t want, size_t done, const char *path,
                    lir_error *err) {
    size_t got = 0;
    while (got < want) {
        size_t chunk = want - got < (1u << 30) ? want - got : (1u << 30);
        int r = gzread(g, dst + got, (unsigned)chunk);
        if (r < 0) {
            int code;
            const char *msg = gzerror(g, &code);
            return lir_fail(err, "%s: %s after %zu bytes: %s", path,
                            code == Z_ERRNO ? "read error" : "gzip data damaged", done + got,
                            code == Z_ERRNO ? strerror(errno ? errno : EIO) : msg);
        }
        if (r == 0) break;
        got += (size_t)r;
    }
    return (long)got;
}

/* Reads the stream into *buf (capacity *cap, grown up to limit + 1 bytes); *n gets
 * the bytes read. Fails as soon as more than limit bytes arrive. */
static int gz_read_upto(gzFile g, uint8_t **buf, size_t *cap, size_t *n, uint64_t limit,
                        const char *path, const char *why, lir_error *err) {
    for (;;) {
        if (*n > limit)
            return lir_fail(err,
                            "%s: the data goes on past the %llu bytes %s (stopped reading "
                            "there: a decompression bomb or a damaged file)",
                            path, (unsigned long long)limit, why);
        if (*n == *cap) {
            *cap = *cap * 2 > limit + 1 ? (size_t)limit + 1 : *cap * 2;
            *buf = xrealloc(*buf, *cap);
        }
        size_t end = *cap < limit + 1 ? *cap : (size_t)limit + 1;
        long got = gz_take(g, *buf + *n, end - *n, *n, path, err);
        if (got < 0) return -1;
        if (got == 0) return 0;
        *n += (size_t)got;
    }
}

uint8_t *data_read_file_limited(const char *path, size_t head, data_size_rule rule,
                                uint64_t max, size_t *len, lir_error *err) {
    FILE *f = file_open_read(path, NULL, err);
    if (!f) return NULL;
    int fd = dup(fileno(f));
    fclose(f);
    gzFile g = fd >= 0 ? gzdopen(fd, "rb") : NULL;
    if (!g) {
        if (fd >= 0) close(fd);
        lir_fail(err, "%s: cannot open: %s", path, strerror(errno ? errno : ENOMEM));
        return NULL;
    }
    gzbuffer(g, 1 << 20);
    size_t cap = head > 4096 ? head : 4096, n = 0;
    uint8_t *buf = xmalloc(cap);
    uint64_t limit = max;
    const char *why = "a file of this kind may hold";
    long got = gz_take(g, buf, head, 0, path, err);
    if (got < 0) goto fail;
    n = (size_t)got;
    if (rule && n == head) {
        if (rule(buf, n, path, &limit, err) < 0) goto fail;
        why = "its header promises";
    }
    if (limit > max) {
        lir_fail(err, "%s: the header promises %llu bytes, more than the %llu a file of this "
                 "kind may hold", path, (unsigned long long)limit, (unsigned long long)max);
        goto fail;
    }
    if (gz_read_upto(g, &buf, &cap, &n, limit, path, why, err) < 0) goto fail;
    int code;
    const char *msg = gzerror(g, &code);
    if (code != Z_OK) {
        lir_fail(err, "%s: gzip data damaged or truncated after %zu bytes: %s", path, n, msg);
        goto fail;
    }
    gzclose(g);
    *len = n;
    return buf;
fail:
    gzclose(g);
    free(buf);
    return NULL;
}

uint8_t *data_read_file(const char *path, size_t *len, lir_error *err) {
    return data_read_file_limited(path, 0, NULL, DATA_MAX_BYTES, len, err);
}
