/* weights.c: Darknet .weights files. Header: int32 major, minor, revision, then
 * images seen (uint64 when major*10+minor >= 2, else uint32). Body, per layer in
 * order: [convolutional] biases[n], if BN scales[n] rolling_mean[n] rolling_var[n],
 * then weights[n*c*size*size]; [connected] biases[out], weights[out*in]. Loading
 * checks the exact byte size against the cfg before reading anything, and refuses
 * non-finite values; saving refuses them too (nothing is written). */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "nn.h"

/* The float arrays of one layer in file order; returns their count (0..5). */
static int weights_arrays(layer *l, float **arr, size_t *len) {
    if (l->type == LAYER_CONV) {
        conv_layer *c = &l->u.conv;
        int k = 0;
        arr[k] = c->biases, len[k++] = (size_t)c->n;
        if (c->batch_normalize) {
            arr[k] = c->scales, len[k++] = (size_t)c->n;
            arr[k] = c->rolling_mean, len[k++] = (size_t)c->n;
            arr[k] = c->rolling_var, len[k++] = (size_t)c->n;
        }
        arr[k] = c->weights, len[k++] = (size_t)c->n * c->c * c->size * c->size;
        return k;
    }
    if (l->type == LAYER_CONNECTED) {
        connected_layer *f = &l->u.fc;
        arr[0] = f->biases, len[0] = (size_t)f->outputs;
        arr[1] = f->weights, len[1] = (size_t)f->outputs * f->inputs;
        return 2;
    }
    return 0;
}

static size_t weights_layer_bytes(layer *l) {
    float *arr[5];
    size_t len[5], total = 0;
    int k = weights_arrays(l, arr, len);
    for (int j = 0; j < k; j++) total += len[j] * sizeof(float);
    return total;
}

int net_load_weights(net *n, const char *path, lir_error *err) {
    uint64_t size;
    FILE *f = file_open_read(path, &size, err);
    if (!f) return -1;
    size_t actual = (size_t)size;
    int32_t hdr[3];
    if (read_exact(f, hdr, sizeof hdr, path, "the header (major, minor, revision)", err)) {
        fclose(f);
        return -1;
    }
    if (hdr[0] < 0 || hdr[1] < 0 || hdr[0] >= 1000 || hdr[1] >= 1000) {
        fclose(f);
        return lir_fail(err,
                        "%s: header version %d.%d.%d not supported (expected major.minor "
                        "below 1000, e.g. 0.2.0)",
                        path, hdr[0], hdr[1], hdr[2]);
    }
    size_t seen_bytes = hdr[0] * 10 + hdr[1] >= 2 ? 8 : 4;
    size_t expected = sizeof hdr + seen_bytes;
    for (int i = 0; i < n->n_layers; i++) expected += weights_layer_bytes(&n->layers[i]);
    if (actual != expected) {
        char where[256] = "";
        if (actual < expected) {
            size_t off = sizeof hdr + seen_bytes;
            for (int i = 0; i < n->n_layers; i++) {
                size_t b = weights_layer_bytes(&n->layers[i]);
                if (off + b > actual) {
                    snprintf(where, sizeof where,
                             "; it ends inside layer %d (%s, cfg line %d), which needs bytes "
                             "%zu..%zu",
                             i, net_layer_type_name(n->layers[i].type), n->layers[i].cfg_line, off,
                             off + b);
                    break;
                }
                off += b;
            }
        }
        fclose(f);
        return lir_fail(err,
                        "%s: %zu bytes, but this cfg needs exactly %zu (header %zu + weights); "
                        "file is %s%s",
                        path, actual, expected, sizeof hdr + seen_bytes,
                        actual < expected ? "too short" : "too long (wrong cfg or classes?)",
                        where);
    }
    if (seen_bytes == 8) {
        uint64_t seen;
        if (read_exact(f, &seen, 8, path, "images seen (uint64)", err)) goto fail;
        n->seen = seen;
    } else {
        uint32_t seen;
        if (read_exact(f, &seen, 4, path, "images seen (uint32)", err)) goto fail;
        n->seen = seen;
    }
    for (int i = 0; i < n->n_layers; i++) {
        float *arr[5];
        size_t len[5];
        int k = weights_arrays(&n->layers[i], arr, len);
        for (int j = 0; j < k; j++) {
            char what[96];
            snprintf(what, sizeof what, "layer %d (%s) array %d", i,
                     net_layer_type_name(n->layers[i].type), j);
            long off = ftell(f);
            if (read_exact(f, arr[j], len[j] * sizeof(float), path, what, err)) goto fail;
            for (size_t e = 0; e < len[j]; e++)
                if (!isfinite(arr[j][e])) {
                    lir_fail(err, "%s: offset %ld: %s (cfg line %d), value %zu is %g; a network "
                             "with non-finite weights is refused",
                             path, off + (long)(e * sizeof(float)), what,
                             n->layers[i].cfg_line, e, arr[j][e]);
                    goto fail;
                }
        }
    }
    fclose(f);
    return 0;
fail:
    fclose(f);
    return -1;
}

int net_save_weights(const net *n, const char *path, lir_error *err) {
    for (int i = 0; i < n->n_layers; i++) {
        float *arr[5];
        size_t len[5];
        int k = weights_arrays(&n->layers[i], arr, len);
        for (int j = 0; j < k; j++)
            for (size_t e = 0; e < len[j]; e++)
                if (!isfinite(arr[j][e]))
                    return lir_fail(err, "%s: not written: layer %d (%s, cfg line %d) array %d "
                                    "value %zu is %g", path, i, net_layer_type_name(n->layers[i].type),
                                    n->layers[i].cfg_line, j, e, arr[j][e]);
    }
    atomic_file af;
    if (atomic_open(&af, path, err)) return -1;
    int32_t hdr[3] = {0, 2, 0};
    uint64_t seen = n->seen;
    int ok = fwrite(hdr, sizeof hdr, 1, af.f) == 1 && fwrite(&seen, 8, 1, af.f) == 1;
    for (int i = 0; ok && i < n->n_layers; i++) {
        float *arr[5];
        size_t len[5];
        int k = weights_arrays(&n->layers[i], arr, len);
        for (int j = 0; ok && j < k; j++) ok = fwrite(arr[j], sizeof(float), len[j], af.f) == len[j];
    }
    if (!ok) {
        int e = errno;
        atomic_abort(&af);
        return lir_fail(err, "%s: write failed: %s", path, strerror(e));
    }
    return atomic_close(&af, err);
}
