/* guard.c: checks that stop a training run instead of letting it go on silently
 * wrong (guard.h). */
#include "guard.h"

int guard_labels_fit(const dataset *d, int classes, lir_error *err) {
    int top = -1;
    for (int i = 0; i < d->n; i++)
        if (d->labels[i] > top) top = d->labels[i];
    if (top < classes) return 0;
    return lir_fail(err,
                    "config key 'classes': %d, but the %s %s split has labels up to %d (the set "
                    "has %d classes); labels >= %d would be left out of the loss",
                    classes, d->name, d->split, top, d->classes, classes);
}
