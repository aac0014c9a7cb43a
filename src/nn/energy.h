/* energy: the per-sample energy E = -logsumexp(a) of an activation and the hook
 * losses on it (energy.c). Below the layers, which include it (the convolution
 * computes energies in its epilogue); nn.h includes it for the hooks. */
#ifndef LIR_ENERGY_H
#define LIR_ENERGY_H

/* Loss kinds of a hook (R is the term lambda multiplies; means over the ID samples
 * and over the outliers of the batch, each mean 0 when the batch has none):
 *   HOOK_LOSS_ENERGY  one-sided squared hinge (Liu et al. 2020 at the logits, R-EBO
 *                     at any point, docs/method.md section 7):
 *                       R = mean_in relu(E - m_in)^2 + mean_out relu(m_out - E)^2
 *   HOOK_LOSS_BAND    two-sided: ID energies pulled into the band [m_in_lo, m_in],
 *                     outliers pushed out of the wider interval [m_out_lo, m_out] on
 *                     whichever side is nearer:
 *                       R = mean_in (relu(E - m_in)^2 + relu(m_in_lo - E)^2)
 *                         + mean_out relu(min(E - m_out_lo, m_out - E))^2
 *                     with m_out_lo < m_in_lo <= m_in < m_out. The hinge is this
 *                     loss with both lower edges at -infinity.
 *   HOOK_LOSS_OE      Outlier Exposure (Hendrycks et al. 2019), at the logits only:
 *                     cross-entropy of the outliers' softmax against the uniform
 *                     distribution over the K values, no ID term:
 *                       R = mean_out (logsumexp(a) - mean_i a_i) = mean_out (-E - mean a)
 *                     (>= log K, reached by constant logits). */
typedef enum { HOOK_LOSS_ENERGY, HOOK_LOSS_BAND, HOOK_LOSS_OE } hook_loss;

/* Settings of one hook; a zero-initialised hook_reg observes only (lambda 0). */
typedef struct {
    float lambda;
    float m_in, m_out; /* energy, band: upper edges of the ID band and of the outer interval */
    int calibrate;     /* 1: margins to be set from the ID energy distribution at start */
    int loss;          /* hook_loss */
    float m_in_lo, m_out_lo; /* band: lower edges */
} hook_reg;

/* "energy", "band", "oe"; NULL for another value. */
const char *hook_loss_name(int loss);
/* The hook_loss of a name, -1 if unknown. */
int hook_loss_parse(const char *name);

/* The calibrated margins of r's loss kind from n ID energies sorted ascending, with
 * Q(p) their p-quantile (linear interpolation), centre c = Q(quantile) and unit
 * s = max(Q(0.9) - Q(0.1), 1e-3 (|c| + 1)):
 *   energy: m_in = c,                       m_out = c + spread s
 *   band:   [m_in_lo, m_in] = c -+ s/2,      [m_out_lo, m_out] = [m_in_lo - spread s, m_in + spread s]
 *   oe:     no margins (unchanged).
 * Sets r->calibrate to 0. */
void hook_reg_calibrate(hook_reg *r, const float *sorted, int n, double quantile, double spread);

/* p-quantile of n values sorted ascending (linear interpolation between ranks). */
float energy_quantile(const float *sorted, int n, double p);

/* E = -logsumexp of one sample's `size` activations. */
double energy_sample(const float *a, int size);

/* a: [batch][size] -> energy: [batch]. */
void energy_forward(const float *a, int batch, int size, float *energy);

/* R of the hook's loss kind (without lambda) on activations a [batch][size] with
 * their energies, samples split by is_outlier (NULL: all in-distribution); with grad
 * (and lambda != 0) also adds lambda * dR/da to grad [batch][size]: for energy and
 * band lambda * dR/dE_b * (-softmax(a_b)), for oe lambda / n_out * (softmax(a_b) - 1/size). */
double energy_reg_backward(const float *a, const float *energy, int batch, int size,
                           const unsigned char *is_outlier, const hook_reg *reg,
                           float *grad);

#endif
