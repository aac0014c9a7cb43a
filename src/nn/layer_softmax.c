/* layer_softmax.c: per-sample softmax and the cross-entropy loss over labelled
 * samples (label < 0 or >= inputs: no class, no CE term), with optional label
 * smoothing. */
#include <float.h>
#include <math.h>

#include "nn.h"

void softmax_forward(const softmax_layer *l, const float *in, float *out) {
    const int n = l->inputs;
    for (int b = 0; b < l->batch; b++) {
        const float *x = in + (size_t)b * n;
        float *y = out + (size_t)b * n;
        float m = x[0];
        for (int i = 1; i < n; i++) m = x[i] > m ? x[i] : m;
        double sum = 0;
        for (int i = 0; i < n; i++) sum += y[i] = expf(x[i] - m);
        const float inv = (float)(1.0 / sum);
        for (int i = 0; i < n; i++) y[i] *= inv;
    }
}

static int labelled(const softmax_layer *l, int label) { return label >= 0 && label < l->inputs; }

/* -log p, a probability that underflowed counted as FLT_MIN */
static double neg_log(float p) { return -log(p > FLT_MIN ? p : FLT_MIN); }

double softmax_ce_loss(const softmax_layer *l, const float *prob, const int *labels,
                       int *n_labelled) {
    const double eps = l->smoothing;
    double loss = 0;
    int count = 0;
    for (int b = 0; b < l->batch; b++) {
        if (!labelled(l, labels[b])) continue;
        const float *p = prob + (size_t)b * l->inputs;
        if (eps > 0) {
            double all = 0;
            for (int j = 0; j < l->inputs; j++) all += neg_log(p[j]);
            loss += (1 - eps) * neg_log(p[labels[b]]) + eps * all / l->inputs;
        } else {
            loss += neg_log(p[labels[b]]);
        }
        count++;
    }
    if (n_labelled) *n_labelled = count;
    return count ? loss / count : 0.0;
}

/* dCE/dlogit_j = (prob_j - target_j) / count for each labelled sample, target_j =
 * (1 - eps) [j == label] + eps / inputs. */
void softmax_ce_backward(const softmax_layer *l, const float *prob, const int *labels,
                         float *din) {
    int count = 0;
    for (int b = 0; b < l->batch; b++) count += labelled(l, labels[b]);
    if (!count) return;
    const float scale = 1.0f / count, off = l->smoothing / l->inputs;
    const float on = 1.0f - l->smoothing + off;
    for (int b = 0; b < l->batch; b++) {
        if (!labelled(l, labels[b])) continue;
        const float *p = prob + (size_t)b * l->inputs;
        float *d = din + (size_t)b * l->inputs;
        for (int j = 0; j < l->inputs; j++) d[j] += scale * (p[j] - (j == labels[b] ? on : off));
    }
}
