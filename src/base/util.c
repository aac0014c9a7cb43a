/* util.c: error formatting, checked allocation, the seeded RNG, atomic file
 * writes and small file helpers shared by all modules. */
#define _POSIX_C_SOURCE 200809L
#include "base.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int lir_fail(lir_error *err, const char *fmt, ...) {
    if (err) {
        char raw[sizeof err->msg];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(raw, sizeof raw, fmt, ap);
        va_end(ap);
        lir_escape(raw, err->msg, sizeof err->msg);
    }
    return -1;
}

/* Length of the UTF-8 sequence at p that may be printed as it is, or 0 when its
 * first byte must be escaped (invalid, truncated, overlong or a C1 control). */
static size_t utf8_printable(const unsigned char *p) {
    unsigned char c = p[0];
    size_t len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
               : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xc0) != 0x80) return 0;
    if (len == 2 && c == 0xc2 && p[1] < 0xa0) return 0;         /* U+0080..U+009F */
    if (len == 3 && c == 0xe0 && p[1] < 0xa0) return 0;         /* overlong */
    if (len == 4 && ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f))) return 0;
    return len;
}

char *lir_escape(const char *s, char *buf, size_t n) {
    const unsigned char *p = (const unsigned char *)s;
    size_t w = 0;
    while (*p) {
        char piece[8];
        size_t in = 1, out = 1; /* bytes consumed, bytes written */
        if (*p >= 0x20 && *p < 0x7f) {
            piece[0] = (char)*p;
        } else if (*p >= 0x80 && (in = utf8_printable(p)) > 0) {
            memcpy(piece, p, in);
            out = in;
        } else {
            in = 1;
            out = (size_t)snprintf(piece, sizeof piece, "\\x%02x", *p);
        }
        /* keep room for "..." unless this is the last piece */
        if (w + out + (p[in] ? 4 : 1) > n) {
            snprintf(buf + (w + 4 <= n ? w : n - 4), 4, "...");
            return buf;
        }
        memcpy(buf + w, piece, out);
        w += out;
        p += in;
    }
    buf[w] = 0;
    return buf;
}

int lir_mul_u64(uint64_t a, uint64_t b, uint64_t *out) {
    return __builtin_mul_overflow(a, b, out) ? -1 : 0;
}

int lir_parse_bytes(const char *s, uint64_t *out) {
    char *end;
    if (!s || *s < '0' || *s > '9') return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s) return -1;
    int shift = 0;
    switch (*end) {
    case 'K': case 'k': shift = 10; end++; break;
    case 'M': case 'm': shift = 20; end++; break;
    case 'G': case 'g': shift = 30; end++; break;
    case 'T': case 't': shift = 40; end++; break;
    default: break;
    }
    if (shift && end[0] == 'i' && end[1] == 'B') end += 2;
    else if (*end == 'B') end++;
    if (*end || v == 0 || (shift && v > (UINT64_MAX >> shift))) return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

static void oom(size_t n) {
    fprintf(stderr, "lir: out of memory (asked for %zu bytes)\n", n);
    abort();
}

void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) oom(n);
    return p;
}

/* Blocks of 64 KiB and more (the network's tensors) start on a 64-byte line, as the
 * AVX-512 passes' loads of 16 floats want: calloc's start 16 bytes past one made
 * every such load touch two lines. */
void *xcalloc(size_t count, size_t size) {
    if (count && size > SIZE_MAX / count) oom(SIZE_MAX);
    const size_t n = (count ? count : 1) * (size ? size : 1);
    void *p = NULL;
    if (n < 65536) p = calloc(n, 1);
    else if (posix_memalign(&p, 64, n) == 0) memset(p, 0, n);
    else p = NULL;
    if (!p) oom(n);
    return p;
}

void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) oom(n);
    return q;
}

char *xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = xmalloc(n);
    memcpy(d, s, n);
    return d;
}

/* splitmix64 expands the seed into the generator state. */
static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void rng_seed(rng_state *r, uint64_t seed) {
    uint64_t x = seed;
    r->s[0] = splitmix64(&x);
    r->s[1] = splitmix64(&x);
    if (!r->s[0] && !r->s[1]) r->s[1] = 1;
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* xoroshiro128** */
uint64_t rng_next(rng_state *r) {
    uint64_t s0 = r->s[0], s1 = r->s[1];
    uint64_t result = rotl(s0 * 5, 7) * 9;
    s1 ^= s0;
    r->s[0] = rotl(s0, 24) ^ s1 ^ (s1 << 16);
    r->s[1] = rotl(s1, 37);
    return result;
}

uint32_t rng_below(rng_state *r, uint32_t n) {
    /* Lemire's multiply-shift with rejection: unbiased. */
    uint64_t m = (uint64_t)(uint32_t)(rng_next(r) >> 32) * n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        uint32_t t = (uint32_t)(-n) % n;
        while (low < t) {
            m = (uint64_t)(uint32_t)(rng_next(r) >> 32) * n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

float rng_uniform(rng_state *r) { return (float)(rng_next(r) >> 40) * (1.0f / 16777216.0f); }

float rng_normal(rng_state *r) {
    /* Box-Muller; u1 kept away from 0. */
    double u1 = ((double)(rng_next(r) >> 11) + 1.0) * (1.0 / 9007199254740993.0);
    double u2 = (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

int atomic_open(atomic_file *a, const char *path, lir_error *err) {
    if (strlen(path) >= sizeof a->path) return lir_fail(err, "%s: path too long", path);
    snprintf(a->path, sizeof a->path, "%s", path);
    snprintf(a->tmp, sizeof a->tmp, "%s.tmp", path);
    a->f = fopen(a->tmp, "wb");
    if (!a->f) return lir_fail(err, "%s: cannot create: %s", a->tmp, strerror(errno));
    return 0;
}

int atomic_close(atomic_file *a, lir_error *err) {
    int bad = ferror(a->f);
    if (fflush(a->f) != 0) bad = 1;
    if (!bad && fsync(fileno(a->f)) != 0) bad = 1;
    if (fclose(a->f) != 0) bad = 1;
    a->f = NULL;
    if (bad) {
        int e = errno;
        remove(a->tmp);
        return lir_fail(err, "%s: write failed: %s", a->tmp, strerror(e));
    }
    if (rename(a->tmp, a->path) != 0) {
        int e = errno;
        remove(a->tmp);
        return lir_fail(err, "%s: cannot rename to %s: %s", a->tmp, a->path, strerror(e));
    }
    return 0;
}

void atomic_abort(atomic_file *a) {
    if (a->f) fclose(a->f);
    a->f = NULL;
    remove(a->tmp);
}

FILE *file_open_read(const char *path, uint64_t *size, lir_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        lir_fail(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        int e = errno;
        fclose(f);
        lir_fail(err, "%s: cannot stat: %s", path, strerror(e));
        return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
        fclose(f);
        lir_fail(err, "%s: is a directory (expected a file)", path);
        return NULL;
    }
    if (size) *size = (uint64_t)st.st_size;
    return f;
}

char *file_read_all(const char *path, size_t *len, lir_error *err) {
    FILE *f = file_open_read(path, NULL, err);
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = xmalloc(cap);
    for (;;) {
        if (n + 1 >= cap) buf = xrealloc(buf, cap *= 2);
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) break;
    }
    if (ferror(f)) {
        int e = errno;
        fclose(f);
        free(buf);
        lir_fail(err, "%s: read error after %zu bytes: %s", path, n, strerror(e));
        return NULL;
    }
    fclose(f);
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

int read_exact(FILE *f, void *buf, size_t n, const char *path, const char *what, lir_error *err) {
    long off = ftell(f);
    errno = 0;
    size_t got = fread(buf, 1, n, f);
    if (got != n && ferror(f))
        return lir_fail(err, "%s: offset %ld: read error in %s: %s", path, off, what,
                        strerror(errno ? errno : EIO));
    if (got != n)
        return lir_fail(err, "%s: offset %ld: file ends while reading %s (wanted %zu bytes, got %zu)",
                        path, off, what, n, got);
    return 0;
}

double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int make_dirs(const char *path, lir_error *err) {
    char buf[4096];
    if (!*path || strlen(path) >= sizeof buf) return lir_fail(err, "'%s': bad directory name", path);
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1;; p++) {
        char c = *p;
        if (c != '/' && c != 0) continue;
        *p = 0;
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return lir_fail(err, "cannot create directory %s: %s", buf, strerror(errno));
        *p = c;
        if (!c) break;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return lir_fail(err, "cannot create directory %s: a file of that name is in the way",
                        path);
    return 0;
}

int vec_argmax(const float *v, int n) {
    int best = 0;
    for (int k = 1; k < n; k++)
        if (v[k] > v[best]) best = k;
    return best;
}

char *command_line(int argc, char **argv) {
    size_t len = 8;
    for (int i = 0; i < argc; i++) len += 4 * strlen(argv[i]) + 3;
    char *s = xcalloc(len, 1), *o = s + sprintf(s, "lir");
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int plain = a[0] != 0;
        for (const char *q = a; *q; q++)
            if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./=:,@+-", *q))
                plain = 0;
        *o++ = ' ';
        if (plain) {
            o += sprintf(o, "%s", a);
            continue;
        }
        *o++ = '\'';
        for (const char *q = a; *q; q++)
            o += *q == '\'' ? sprintf(o, "'\\''") : sprintf(o, "%c", *q);
        *o++ = '\'';
    }
    *o = 0;
    return s;
}
