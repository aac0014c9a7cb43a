/* guard: what stops a training run from going on (or writing results) silently
 * wrong: labels the classifier cannot represent, and parameters, gradients or
 * optimiser state that are no longer finite. */
#ifndef LIR_GUARD_H
#define LIR_GUARD_H

#include "data/data.h"

/* Refuses a classifier with fewer outputs than the labels of d need (they would
 * silently drop out of the loss and be read past the outputs in evaluation). */
int guard_labels_fit(const dataset *d, int classes, lir_error *err);

#endif
