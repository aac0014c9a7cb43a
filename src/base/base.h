/* base: the pieces every subsystem shares (errors, checked allocation, RNG, atomic
 * file writes, file reading, clock, SHA-256). Includes nothing of lir. */
#ifndef LIR_BASE_H
#define LIR_BASE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* util: the small pieces every module shares: error reporting, allocation,
 * a seeded random generator, atomic file writes and a wall clock. */


#define LIR_VERSION "0.1.0"

/* One error path: a failing function fills err->msg and returns -1 (or NULL);
 * only main() prints it and exits. */
typedef struct {
    char msg[1024];
} lir_error;

/* Formats the message into err (if err is not NULL) and returns -1. */
int lir_fail(lir_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Allocation that aborts with a message on out-of-memory (the one failure we do
 * not try to recover from). xcalloc returns zeroed memory. */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/* Random numbers: xoshiro128+ style generator, fully determined by its seed.
 * The state is a plain struct so checkpoints can save and restore it. */
typedef struct {
    uint64_t s[2];
} rng_state;

void rng_seed(rng_state *r, uint64_t seed);
uint64_t rng_next(rng_state *r);
uint32_t rng_below(rng_state *r, uint32_t n); /* uniform in [0, n) */
float rng_uniform(rng_state *r);              /* uniform in [0, 1) */
float rng_normal(rng_state *r);               /* standard normal */

/* Atomic writes: open "<path>.tmp", write, then atomic_close renames it over path.
 * atomic_abort removes the temporary file. Nothing the user had is lost on failure. */
typedef struct {
    FILE *f;
    char path[4096];
    char tmp[4200];
} atomic_file;

int atomic_open(atomic_file *a, const char *path, lir_error *err);
int atomic_close(atomic_file *a, lir_error *err);
void atomic_abort(atomic_file *a);

/* Reads a whole file into memory (NUL-terminated for text use); *len gets its size. */
char *file_read_all(const char *path, size_t *len, lir_error *err);

/* Checked fread: fails with a message naming the file, offset and what was expected. */
int read_exact(FILE *f, void *buf, size_t n, const char *path, const char *what, lir_error *err);

double now_seconds(void); /* monotonic wall clock */

/* mkdir -p: creates path and every missing parent; -1 naming the directory that could
 * not be made, or path when it exists but is not a directory. */
int make_dirs(const char *path, lir_error *err);

/* Index of the first largest of v[0..n) (0 when n < 1): the top class of a logit or
 * probability row. */
int vec_argmax(const float *v, int n);

/* The command line "lir <argv[0]> <argv[1]> ...", each argument quoted for a POSIX shell
 * when it holds anything but letters, digits and _./=:,@+- (malloc'd), for the
 * records a run writes (a sidecar's or results.json's "command"). */
char *command_line(int argc, char **argv);

/* ---- checksums (sha256.c) ---- */
typedef struct {
    uint32_t h[8];
    uint64_t len;
    uint8_t buf[64];
    size_t fill;
} sha256_ctx;
void sha256_init(sha256_ctx *c);
void sha256_update(sha256_ctx *c, const void *data, size_t n);
void sha256_final(sha256_ctx *c, uint8_t out[32]);
/* Lowercase hex digest of a file into hex[65]. */
int sha256_file(const char *path, char hex[65], lir_error *err);

#endif
