/* test_layer_misc.c: max pool (Darknet padding), average pool, shortcut, route,
 * connected and softmax-CE against direct formulas (forward) and central finite
 * differences (backward, see layer_check.h), accumulation included. */
#include <math.h>
#include <string.h>

#include "nn/activation.h"
#include "layer_check.h"
#include "nn/nn.h"

/* ---- max pool and average pool ---------------------------------------------- */

typedef struct {
    maxpool_layer *l;
    float *x, *r, *out;
} pool_ctx;

static double maxpool_loss(void *p, uint64_t *sig) {
    pool_ctx *c = p;
    const size_t n = (size_t)c->l->batch * c->l->c * c->l->oh * c->l->ow;
    maxpool_forward(c->l, c->x, c->out, 1);
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint64_t)c->l->argmax[i]) * 1099511628211ull;
    *sig = h;
    return dot(c->out, c->r, n);
}

static void test_maxpool(int h, int size, int stride, int padding, int want_oh) {
    maxpool_layer l;
    const int C = 3, B = 2;
    CHECK(maxpool_init(&l, C, h, h, size, stride, padding, B, NULL) == 0, "maxpool init");
    CHECK(l.oh == want_oh && l.ow == want_oh, "maxpool %dx%d/%d pad %d on %d: oh %d want %d",
          size, size, stride, padding, h, l.oh, want_oh);
    const size_t nin = (size_t)B * C * h * h, nout = (size_t)B * C * l.oh * l.ow;
    float *x = rand_buf(nin, 1.0f), *r = rand_buf(nout, 1.0f), *out = xmalloc(nout * 4);
    float *din = xcalloc(nin, 4);
    /* inference (separable, no argmax) first, then training (argmax) */
    float *infer = xmalloc(nout * 4);
    maxpool_forward(&l, x, infer, 0);
    maxpool_forward(&l, x, out, 1);
    CHECK(memcmp(infer, out, nout * 4) == 0, "maxpool %dx%d/%d pad %d: inference path differs",
          size, size, stride, padding);
    free(infer);
    /* direct: window at (oy*stride - padding/2, ...), out-of-image cells ignored */
    int ok = 1;
    for (int p = 0; p < B * C; p++)
        for (int oy = 0; oy < l.oh; oy++)
            for (int ox = 0; ox < l.ow; ox++) {
                float best = -INFINITY;
                for (int ky = 0; ky < size; ky++)
                    for (int kx = 0; kx < size; kx++) {
                        int y = oy * stride - padding / 2 + ky, xx = ox * stride - padding / 2 + kx;
                        if (y >= 0 && y < h && xx >= 0 && xx < h)
                            best = fmaxf(best, x[(size_t)p * h * h + y * h + xx]);
                    }
                if (out[((size_t)p * l.oh + oy) * l.ow + ox] != best) ok = 0;
            }
    CHECK(ok, "maxpool %dx%d/%d forward equals the direct maximum", size, size, stride);
    maxpool_backward(&l, r, din);
    float *once = copy_buf(din, nin);
    maxpool_backward(&l, r, din);
    check_doubled("maxpool dinput", din, once, nin);
    memcpy(din, once, nin * sizeof(float));
    free(once);
    pool_ctx ctx = {&l, x, r, out};
    /* Piecewise linear: away from ties (signature = argmax) the difference is exact up
     * to float rounding of L divided by 2h = 2e-3. */
    char nm[64];
    snprintf(nm, sizeof(nm), "maxpool %dx%d/%d dinput", size, size, stride);
    fd_check(nm, x, nin, din, maxpool_loss, &ctx, 1e-3f, 1e-3, 1e-3, 200);
    free(x), free(r), free(out), free(din);
    maxpool_free(&l);
}

typedef struct {
    const avgpool_layer *l;
    float *x, *r, *out;
} avg_ctx;

static double avgpool_loss(void *p, uint64_t *sig) {
    avg_ctx *c = p;
    avgpool_forward(c->l, c->x, c->out);
    *sig = 0;
    return dot(c->out, c->r, (size_t)c->l->batch * c->l->c);
}

static void test_avgpool(void) {
    avgpool_layer l = {.c = 4, .h = 3, .w = 5, .batch = 2};
    const size_t nin = 2 * 4 * 15;
    float *x = rand_buf(nin, 1.0f), *r = rand_buf(8, 1.0f), *out = xmalloc(8 * 4);
    float *din = xcalloc(nin, 4);
    avgpool_forward(&l, x, out);
    double s = 0;
    for (int i = 0; i < 15; i++) s += x[15 * 5 + i];
    CHECK_CLOSE(out[5], s / 15, 1e-6, 1e-6, "avgpool mean of plane 5");
    avgpool_backward(&l, r, din);
    float *once = copy_buf(din, nin);
    avgpool_backward(&l, r, din);
    check_doubled("avgpool dinput", din, once, nin);
    memcpy(din, once, nin * sizeof(float));
    free(once);
    avg_ctx ctx = {&l, x, r, out};
    /* linear: exact up to float rounding over 2h = 2e-2 */
    fd_check("avgpool dinput", x, nin, din, avgpool_loss, &ctx, 1e-2f, 1e-3, 1e-3, 200);
    free(x), free(r), free(out), free(din);
}

/* ---- shortcut, route ---------------------------------------------------------- */

typedef struct {
    const shortcut_layer *l;
    float *a, *b, *r, *out;
} sc_ctx;

static double shortcut_loss(void *p, uint64_t *sig) {
    sc_ctx *c = p;
    const size_t n = (size_t)c->l->batch * c->l->c * c->l->h * c->l->w;
    shortcut_forward(c->l, c->a, c->b, c->out);
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint64_t)(c->a[i] + c->b[i] > 0)) * 1099511628211ull;
    *sig = h;
    return dot(c->out, c->r, n);
}

static void test_shortcut(activation act) {
    shortcut_layer l = {.c = 3, .h = 4, .w = 4, .batch = 2, .act = act};
    const size_t n = 2 * 3 * 16;
    float *a = rand_buf(n, 1.0f), *b = rand_buf(n, 1.0f), *r = rand_buf(n, 1.0f);
    float *out = xmalloc(n * 4), *da = xcalloc(n, 4), *db = xcalloc(n, 4);
    shortcut_forward(&l, a, b, out);
    int ok = 1;
    for (size_t i = 0; i < n; i++) {
        float s = a[i] + b[i];
        float want = act == ACT_RELU ? fmaxf(s, 0) : act == ACT_LEAKY && s < 0 ? 0.1f * s : s;
        ok &= fabsf(out[i] - want) <= 1e-7f;
    }
    CHECK(ok, "shortcut %s forward", activation_name(act));
    shortcut_backward(&l, out, r, da, db);
    float *once_a = copy_buf(da, n), *once_b = copy_buf(db, n);
    shortcut_backward(&l, out, r, da, db);
    check_doubled("shortcut da", da, once_a, n);
    check_doubled("shortcut db", db, once_b, n);
    memcpy(da, once_a, n * sizeof(float));
    memcpy(db, once_b, n * sizeof(float));
    free(once_a), free(once_b);
    shortcut_backward(&l, out, r, NULL, NULL); /* no input needs a gradient: no-op */
    sc_ctx ctx = {&l, a, b, r, out};
    /* piecewise linear; kinks (sign of a+b) skipped; exact up to rounding / 2e-2 */
    fd_check("shortcut da", a, n, da, shortcut_loss, &ctx, 1e-2f, 1e-3, 1e-3, 200);
    fd_check("shortcut db", b, n, db, shortcut_loss, &ctx, 1e-2f, 1e-3, 1e-3, 200);
    free(a), free(b), free(r), free(out), free(da), free(db);
}

static void test_route(void) {
    route_layer l = {.n = 2, .c = {2, 3}, .h = 2, .w = 3, .batch = 2};
    const size_t n0 = 2 * 2 * 6, n1 = 2 * 3 * 6, no = n0 + n1;
    float *a = rand_buf(n0, 1.0f), *b = rand_buf(n1, 1.0f), *out = xmalloc(no * 4);
    float *g = rand_buf(no, 1.0f), *da = xcalloc(n0, 4), *db = xcalloc(n1, 4);
    const float *in[2] = {a, b};
    route_forward(&l, in, out);
    /* sample s: 12 floats of a, then 18 of b */
    int ok = 1;
    for (int s = 0; s < 2; s++) {
        for (int i = 0; i < 12; i++) ok &= out[s * 30 + i] == a[s * 12 + i];
        for (int i = 0; i < 18; i++) ok &= out[s * 30 + 12 + i] == b[s * 18 + i];
    }
    CHECK(ok, "route concatenates channels per sample");
    /* route is a permutation, so its gradient is exact: din += the matching slice. */
    float *const d[2] = {da, db};
    route_backward(&l, g, d);
    route_backward(&l, g, d);
    ok = 1;
    for (int s = 0; s < 2; s++) {
        for (int i = 0; i < 12; i++) ok &= da[s * 12 + i] == 2 * g[s * 30 + i];
        for (int i = 0; i < 18; i++) ok &= db[s * 18 + i] == 2 * g[s * 30 + 12 + i];
    }
    CHECK(ok, "route backward routes (and accumulates) the slices");
    free(a), free(b), free(out), free(g), free(da), free(db);
}

/* ---- connected, softmax --------------------------------------------------------- */

typedef struct {
    connected_layer *l;
    float *x, *r, *out;
} fc_ctx;

static double connected_loss(void *p, uint64_t *sig) {
    fc_ctx *c = p;
    const size_t n = (size_t)c->l->batch * c->l->outputs;
    connected_forward(c->l, c->x, c->out);
    *sig = sign_hash(c->out, n, 14695981039346656037ull);
    return dot(c->out, c->r, n);
}

static void test_connected(activation act) {
    connected_layer l;
    const int B = 3, ni = 12, no = 5;
    CHECK(connected_make(&l, ni, no, act, B, 1, &rng, NULL) == 0, "connected init");
    for (int i = 0; i < no; i++) CHECK(l.biases[i] == 0, "connected bias starts at 0");
    for (int i = 0; i < no; i++) l.biases[i] = 0.2f * (2 * rng_uniform(&rng) - 1);
    float *x = rand_buf((size_t)B * ni, 1.0f), *r = rand_buf((size_t)B * no, 1.0f);
    float *out = xmalloc((size_t)B * no * 4), *din = xcalloc((size_t)B * ni, 4);
    connected_forward(&l, x, out);
    double e = 0;
    for (int b = 0; b < B; b++)
        for (int o = 0; o < no; o++) {
            double s = l.biases[o];
            for (int i = 0; i < ni; i++) s += (double)x[b * ni + i] * l.weights[o * ni + i];
            if (act == ACT_RELU) s = s > 0 ? s : 0;
            e = fmax(e, fabs(out[b * no + o] - s));
        }
    CHECK(e < 1e-5, "connected %s forward differs from direct by %g", activation_name(act), e);
    connected_backward(&l, x, out, r, din);
    const size_t nx = (size_t)B * ni, nw = (size_t)ni * no;
    float *ox = copy_buf(din, nx), *ow = copy_buf(l.dweights, nw), *ob = copy_buf(l.dbiases, no);
    connected_backward(&l, x, out, r, din);
    check_doubled("connected dinput", din, ox, nx);
    check_doubled("connected dweights", l.dweights, ow, nw);
    check_doubled("connected dbiases", l.dbiases, ob, no);
    memcpy(din, ox, nx * sizeof(float));
    memcpy(l.dweights, ow, nw * sizeof(float));
    memcpy(l.dbiases, ob, no * sizeof(float));
    free(ox), free(ow), free(ob);
    fc_ctx ctx = {&l, x, r, out};
    /* linear between kinks: exact up to rounding / 2h = 2e-2 */
    char nm[64];
    snprintf(nm, sizeof(nm), "connected %s", activation_name(act));
    fd_check(nm, x, (size_t)B * ni, din, connected_loss, &ctx, 1e-2f, 1e-3, 1e-3, 100);
    fd_check(nm, l.weights, (size_t)ni * no, l.dweights, connected_loss, &ctx, 1e-2f, 1e-3,
             1e-3, 100);
    fd_check(nm, l.biases, no, l.dbiases, connected_loss, &ctx, 1e-2f, 1e-3, 1e-3, 100);
    connected_layer li;
    CHECK(connected_make(&li, ni, no, act, B, 0, &rng, NULL) == 0 && !li.dweights &&
              !li.dbiases,
          "inference connected layer has no gradients");
    param_tensor p[2];
    CHECK(connected_params(&l, p) == 2 && p[0].n == (size_t)ni * no && p[0].decay &&
              !p[1].decay,
          "connected params");
    connected_unmake(&li);
    free(x), free(r), free(out), free(din);
    connected_unmake(&l);
}

typedef struct {
    const softmax_layer *l;
    float *x, *prob;
    const int *labels;
} sm_ctx;

static double softmax_loss(void *p, uint64_t *sig) {
    sm_ctx *c = p;
    softmax_forward(c->l, c->x, c->prob);
    *sig = 0;
    return softmax_ce_loss(c->l, c->prob, c->labels, NULL);
}

static void test_softmax(void) {
    softmax_layer l = {.inputs = 6, .batch = 4};
    const int labels[4] = {2, -1, 5, 0};
    float *x = rand_buf(24, 3.0f), *prob = xmalloc(24 * 4), *din = xcalloc(24, 4);
    softmax_forward(&l, x, prob);
    double s = 0;
    for (int i = 0; i < 6; i++) s += prob[6 + i];
    CHECK_CLOSE(s, 1.0, 1e-6, 0, "softmax sums to 1");
    int nl = -1;
    double ce = softmax_ce_loss(&l, prob, labels, &nl);
    CHECK(nl == 3, "label -1 is not counted (%d labelled)", nl);
    double want = 0;
    for (int b = 0; b < 4; b++) {
        if (labels[b] < 0) continue;
        double m = -INFINITY, z = 0;
        for (int i = 0; i < 6; i++) m = fmax(m, x[b * 6 + i]);
        for (int i = 0; i < 6; i++) z += exp(x[b * 6 + i] - m);
        want += m + log(z) - x[b * 6 + labels[b]];
    }
    CHECK_CLOSE(ce, want / 3, 1e-6, 1e-6, "mean CE over labelled samples");
    softmax_ce_backward(&l, prob, labels, din);
    float *once = copy_buf(din, 24);
    softmax_ce_backward(&l, prob, labels, din);
    check_doubled("softmax-CE dlogits", din, once, 24);
    memcpy(din, once, 24 * sizeof(float));
    free(once);
    int zero = 1;
    for (int i = 0; i < 6; i++) zero &= din[6 + i] == 0;
    CHECK(zero, "the outlier sample gets no CE gradient");
    sm_ctx ctx = {&l, x, prob, labels};
    /* smooth; h = 1e-3 on logits of scale 3: truncation O(h^2), rounding of the float
     * probabilities (~1e-7) over 2h gives ~1e-4 absolute: atol 2e-3 of max, rtol 1e-2 */
    fd_check("softmax-CE dlogits", x, 24, din, softmax_loss, &ctx, 1e-3f, 2e-3, 1e-2, 24);
    const int none[4] = {-1, -1, -1, -1};
    CHECK(softmax_ce_loss(&l, prob, none, &nl) == 0 && nl == 0, "no labelled samples: CE 0");

    /* label smoothing eps = 0.1: the target (1 - eps) one-hot + eps / 6, i.e. PyTorch's
     * (1 - eps) CE + eps * mean_j(-log p_j); its gradient by the same central differences */
    l.smoothing = 0.1f;
    softmax_forward(&l, x, prob);
    want = 0;
    for (int b = 0; b < 4; b++) {
        if (labels[b] < 0) continue;
        double m = -INFINITY, z = 0, all = 0;
        for (int i = 0; i < 6; i++) m = fmax(m, x[b * 6 + i]);
        for (int i = 0; i < 6; i++) z += exp(x[b * 6 + i] - m);
        for (int i = 0; i < 6; i++) all += m + log(z) - x[b * 6 + i];
        want += 0.9 * (m + log(z) - x[b * 6 + labels[b]]) + 0.1 * all / 6;
    }
    CHECK_CLOSE(softmax_ce_loss(&l, prob, labels, NULL), want / 3, 1e-6, 1e-6,
                "label-smoothed CE over labelled samples");
    memset(din, 0, 24 * sizeof(float));
    softmax_ce_backward(&l, prob, labels, din);
    fd_check("label-smoothed softmax-CE dlogits", x, 24, din, softmax_loss, &ctx, 1e-3f, 2e-3,
             1e-2, 24);
    free(x), free(prob), free(din);
}

static void test_activation_names(void) {
    CHECK(activation_parse("relu") == ACT_RELU && activation_parse("leaky") == ACT_LEAKY &&
              activation_parse("linear") == ACT_LINEAR && activation_parse("mish") == -1,
          "activation_parse");
    CHECK(!strcmp(activation_name(ACT_LEAKY), "leaky"), "activation_name");
}

int main(void) {
    rng_seed(&rng, 4321);
    test_maxpool(16, 3, 2, 2, 8); /* ResNet stem pool: 3x3/2, Darknet padding 2 */
    test_maxpool(7, 3, 2, 2, 4);
    test_maxpool(8, 2, 2, 1, 4);  /* 2x2/2 with Darknet's default padding 1 */
    test_maxpool(8, 2, 2, 0, 4);
    test_maxpool(7, 2, 2, 1, 4);
    test_avgpool();
    test_shortcut(ACT_RELU);
    test_shortcut(ACT_LINEAR);
    test_shortcut(ACT_LEAKY);
    test_route();
    test_connected(ACT_LINEAR);
    test_connected(ACT_RELU);
    test_softmax();
    test_activation_names();
    return check_done("test_layer_misc");
}
