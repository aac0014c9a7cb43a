/* progress.c: the throttled progress line (see report.h). */
#include <stdarg.h>
#include <unistd.h>

#include "report.h"
#include "base/base.h"

void progress_init(progress *p, FILE *f, double interval) {
    p->f = f;
    p->tty = isatty(fileno(f));
    p->interval = interval;
    p->last = -1e30;
    p->open = 0;
}

void progress_update(progress *p, int force, const char *fmt, ...) {
    double now = now_seconds();
    double gap = p->tty ? 0.2 : p->interval;
    if (!force && now - p->last < gap) return;
    p->last = now;
    va_list ap;
    va_start(ap, fmt);
    if (p->tty) {
        fputs("\r", p->f);
        vfprintf(p->f, fmt, ap);
        fputs("\033[K", p->f); /* clear what a longer previous line left */
        p->open = 1;
    } else {
        vfprintf(p->f, fmt, ap);
        fputc('\n', p->f);
    }
    va_end(ap);
    fflush(p->f);
}

void progress_break(progress *p) {
    if (p->open) {
        fputc('\n', p->f);
        fflush(p->f);
        p->open = 0;
    }
}

void progress_duration(double s, char *buf, size_t n) {
    if (!(s >= 0) || s > 1e8) {
        snprintf(buf, n, "?");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, n, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60) snprintf(buf, n, "%ldm%02lds", t / 60, t % 60);
    else snprintf(buf, n, "%lds", t);
}
