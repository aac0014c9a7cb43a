/* progress.h: one progress line for long commands (train, eval). On a terminal the
 * line is rewritten in place with '\r' (at most every 0.2 s); in a log file (not a
 * TTY) a full line is printed every `interval` seconds, so logs stay readable. */
#ifndef LIR_PROGRESS_H
#define LIR_PROGRESS_H

#include <stdio.h>

typedef struct {
    FILE *f;
    int tty;
    double interval; /* seconds between lines in a log */
    double last;     /* time of the last line written */
    int open;        /* a '\r' line is on screen and needs a newline before other output */
} progress;

/* interval: seconds between lines when f is not a terminal. */
void progress_init(progress *p, FILE *f, double interval);
/* Shows the line (printf format) if it is due; force = 1 shows it now. */
void progress_update(progress *p, int force, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Ends an open terminal line so that other output starts on a fresh line. */
void progress_break(progress *p);

/* "1h02m" / "4m05s" / "12s" into buf. */
void progress_duration(double seconds, char *buf, size_t n);

#endif
