/* net_budget.h: the size checks of a network being built from a cfg (net.c): shape
 * arithmetic in 64 bits and a memory budget charged before each allocation, so a
 * cfg that asks for too much fails with its file and line instead of exhausting
 * memory or overflowing an int. */
#ifndef LIR_NET_BUDGET_H
#define LIR_NET_BUDGET_H

#include <stdint.h>

#include "nn.h"

typedef struct {
    const cfg_file *cfg;
    uint64_t used, max; /* bytes charged so far, the budget */
} net_budget;

void net_budget_init(net_budget *b, const cfg_file *cfg);

/* Output size along one axis of a window of k with stride s over in + pad cells
 * (pad: total padding of both sides), (in + pad - k) / s + 1, in 64 bits; fails
 * naming the line and `what` when the window does not fit or the size is out of
 * range. */
int net_out_dim(const net_budget *b, int line, const char *what, int64_t in, int64_t pad,
                int64_t k, int64_t s, int *out, lir_error *err);

/* Charges one tensor of a * b * c * d elements of `elem` bytes (the product taken
 * with overflow checks); fails naming the line when the network would go over the
 * budget or the tensor holds more than INT_MAX elements (the layers index with int). */
int net_budget_take(net_budget *b, int line, const char *what, uint64_t elem, uint64_t a,
                    uint64_t bb, uint64_t c, uint64_t d, lir_error *err);

#endif
