/* check.h: the test harness. CHECK records a failure with file and line and keeps
 * going; check_done() prints a summary and returns the exit status (1 on any
 * failure), so a failing test can never exit 0. check_skip() exits 77 with a reason
 * (the runner counts it as skipped, never as passed). */
#ifndef LIR_CHECK_H
#define LIR_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int check_failures_, check_count_;

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        check_count_++;                                                    \
        if (!(cond)) {                                                     \
            check_failures_++;                                             \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);           \
            fprintf(stderr, __VA_ARGS__);                                  \
            fputc('\n', stderr);                                           \
        }                                                                  \
    } while (0)

/* |a - b| <= atol + rtol * |b| */
#define CHECK_CLOSE(a, b, atol, rtol, what)                                              \
    do {                                                                                 \
        double a_ = (a), b_ = (b);                                                       \
        CHECK(fabs(a_ - b_) <= (atol) + (rtol) * fabs(b_), "%s: got %.9g, want %.9g", \
              (what), a_, b_);                                                           \
    } while (0)

/* ||a - b|| / ||b||, the relative L2 difference of two float arrays. */
static inline double rel_l2(const float *a, const float *b, size_t n) {
    double d = 0, s = 0;
    for (size_t i = 0; i < n; i++) {
        d += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        s += (double)b[i] * b[i];
    }
    return sqrt(d / (s + 1e-300));
}

static inline int check_done(const char *name) {
    fprintf(stderr, "%s: %d checks, %d failed\n", name, check_count_, check_failures_);
    return check_failures_ ? 1 : (check_count_ ? 0 : 1);
}

static inline void check_skip(const char *reason) {
    fprintf(stderr, "SKIP: %s\n", reason);
    exit(77);
}

#endif
