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

/* Formats the message into err (if err is not NULL) and returns -1. Control
 * characters in the result (from paths, cfg lines, names the user supplied) are
 * escaped as lir_escape does, so a message can never drive the terminal. */
int lir_fail(lir_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Copies s into buf (size n >= 4) with every byte that could act on a terminal
 * written as \xHH: C0 controls (also newline and tab), DEL, C1 controls (also as
 * UTF-8 U+0080..U+009F) and bytes that are not valid UTF-8. A result that does not
 * fit ends in "...". Returns buf. */
char *lir_escape(const char *s, char *buf, size_t n);

/* a * b (and a * b * c) in 64 bits; 0 with *out set, or -1 on overflow. */
int lir_mul_u64(uint64_t a, uint64_t b, uint64_t *out);

/* Parses a byte count: a whole number with an optional K, M, G or T suffix
 * (powers of 1024, optionally followed by "iB" or "B"); -1 if malformed or 0. */
int lir_parse_bytes(const char *s, uint64_t *out);

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

/* Opens a file for reading; fails with the reason (strerror) or "is a directory"
 * (which fopen alone accepts). When size is not NULL it gets the file's size. */
FILE *file_open_read(const char *path, uint64_t *size, lir_error *err);

/* Reads a whole file into memory (NUL-terminated for text use); *len gets its size. */
char *file_read_all(const char *path, size_t *len, lir_error *err);

/* Checked fread: fails with a message naming the file, offset and what was expected
 * (a read error is reported with its reason, an early end as the file ending). */
int read_exact(FILE *f, void *buf, size_t n, const char *path, const char *what, lir_error *err);

double now_seconds(void); /* monotonic wall clock */

/* ---- paths in results (record.c) ----
 * Results and sidecars hold no absolute path of the machine that made them. A path is
 * recorded as: "<as>/rest" when it lies in an aliased directory (e.g. the data
 * directory as "<data dir>"; the innermost one when several hold it); as given when relative; relative to the working
 * directory when below it; else ".../<file name>" (files also carry their sha256). */
typedef struct {
    const char *dir; /* absolute directory, or NULL (alias unused) */
    const char *as;  /* what to write instead, e.g. "<data dir>" */
} path_alias;

void path_record(const char *path, const path_alias *aliases, int n_alias, char *out, size_t n);
/* The alias of a directory (e.g. as "<data dir>"): a path below dir, written the way dir
 * is (both absolute or both relative), is recorded as the alias, also when dir lies in the
 * working directory: where the data lives is the machine's business. */
void path_alias_of(path_alias *a, const char *dir, const char *as);
/* A command line (words separated by spaces) with every absolute path word, also after
 * "--flag=", recorded by path_record. Caller frees. */
char *command_record(const char *command, const path_alias *aliases, int n_alias);
/* text (e.g. an error message kept in results) with every occurrence of dir (trailing
 * slashes ignored) written as the alias `as`, into out (n bytes, truncated). */
void text_record(const char *text, const char *dir, const char *as, char *out, size_t n);

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

/* ---- strict JSON (json.c) ----
 * Parses text as one JSON value and nothing after it (but white space), with no
 * "\u0000" escape in a string and no key given twice in an object; errors start with
 * what (the file) and name the byte or the key ("<what>: <key_noun> key 'k' given
 * twice"). The caller frees the result with cJSON_Delete. */
struct cJSON;
struct cJSON *json_parse_strict(const char *text, const char *what, const char *key_noun,
                                lir_error *err);

/* ---- output directories written whole or not at all (atomic_dir.c) ----
 * A run that writes several files into one directory writes them into a sibling
 * "<path>.tmp-<pid>" (atomic_dir_open, which makes the parents) and atomic_dir_commit
 * puts that folder in the place of path at the end: an earlier run's directory there
 * is replaced as a whole (exchanged in one step where the file system can, else moved
 * aside first) and removed, so no file of an earlier run is left beside new results,
 * and a run that fails leaves path as it was (atomic_dir_abort removes the temporary
 * folder). path may already exist only as a directory of plain files that ours(name)
 * accepts (the outputs of an earlier run); anything else there is refused before the
 * run starts and again at the commit, so a directory of other files is never removed.
 * Temporary folders of runs that were killed (their process is gone) holding only such
 * files are removed by the next atomic_dir_open of the same path. */
typedef int (*atomic_dir_ours)(const char *name);
typedef struct {
    char path[4096]; /* the directory, without trailing '/' */
    char tmp[4200];  /* where the run writes: "<path>.tmp-<pid>" */
    atomic_dir_ours ours;
    int open;
} atomic_dir;
/* Whether path may be replaced: absent, or a directory holding only files ours accepts. */
int atomic_dir_check(const char *path, atomic_dir_ours ours, lir_error *err);
int atomic_dir_open(atomic_dir *d, const char *path, atomic_dir_ours ours, lir_error *err);
/* On failure d->tmp is kept (the message says where the results are). */
int atomic_dir_commit(atomic_dir *d, lir_error *err);
void atomic_dir_abort(atomic_dir *d);

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
