/* net_budget.c: size checks and the memory budget of a network built from a cfg
 * (net_budget.h), and the process-wide budget the commands set (--max-memory). */
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "net_budget.h"

static uint64_t budget_bytes; /* 0: the default */

void net_set_max_memory(uint64_t bytes) { budget_bytes = bytes; }

uint64_t net_max_memory(void) {
    if (budget_bytes) return budget_bytes;
    uint64_t def = (uint64_t)8 << 30;
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0) {
        uint64_t ram = (uint64_t)pages * (uint64_t)page / 4 * 3;
        if (ram < def) def = ram;
    }
    return def;
}

void net_budget_init(net_budget *b, const cfg_file *cfg) {
    b->cfg = cfg;
    b->used = 0;
    b->max = net_max_memory();
}

int net_out_dim(const net_budget *b, int line, const char *what, int64_t in, int64_t pad,
                int64_t k, int64_t s, int *out, lir_error *err) {
    if (in + pad < k)
        return lir_fail(err, "%s:%d: %s: window %lld larger than the padded input %lld",
                        b->cfg->path, line, what, (long long)k, (long long)(in + pad));
    int64_t o = (in + pad - k) / s + 1;
    if (o > INT_MAX)
        return lir_fail(err,
                        "%s:%d: %s: output size %lld out of range (input %lld + padding %lld, "
                        "window %lld, stride %lld)",
                        b->cfg->path, line, what, (long long)o, (long long)in, (long long)pad,
                        (long long)k, (long long)s);
    *out = (int)o;
    return 0;
}

/* "1.5 GiB" style size into buf. */
static const char *human(uint64_t v, char *buf, size_t n) {
    const char *unit[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double x = (double)v;
    int u = 0;
    while (x >= 1024 && u < 6) x /= 1024, u++;
    snprintf(buf, n, u ? "%.1f %s" : "%.0f %s", x, unit[u]);
    return buf;
}

int net_budget_take(net_budget *b, int line, const char *what, uint64_t elem, uint64_t a,
                    uint64_t bb, uint64_t c, uint64_t d, lir_error *err) {
    uint64_t f[4] = {a, bb, c, d}, count = 1, bytes = 0, total = 0;
    char shape[128] = "", need[32], lim[32];
    int over = 0;
    for (int i = 0; i < 4; i++) {
        over |= lir_mul_u64(count, f[i], &count);
        if (f[i] != 1 || (i == 3 && !shape[0]))
            snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%s%llu",
                     shape[0] ? " x " : "", (unsigned long long)f[i]);
    }
    over = over || lir_mul_u64(count, elem, &bytes) || __builtin_add_overflow(b->used, bytes, &total);
    if (over || total > b->max)
        return lir_fail(err,
                        "%s:%d: %s (%s values) needs %s%s, which takes the network over its "
                        "memory budget of %s (--max-memory)",
                        b->cfg->path, line, what, shape, over ? "more than " : "",
                        over ? "16 EiB" : human(bytes, need, sizeof need),
                        human(b->max, lim, sizeof lim));
    if (count > INT_MAX)
        return lir_fail(err, "%s:%d: %s (%s) would hold %llu values, more than the %d one "
                        "tensor may hold", b->cfg->path, line, what, shape,
                        (unsigned long long)count, INT_MAX);
    b->used = total;
    return 0;
}
