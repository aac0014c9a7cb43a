/* energy: the per-sample energy E = -logsumexp(a) of an activation and the R-EBO
 * regulariser on it (energy.c). Below the layers, which include it (the
 * convolution computes energies in its epilogue); nn.h includes it for the hooks. */
#ifndef LIR_ENERGY_H
#define LIR_ENERGY_H

/* R-EBO regulariser settings of one hook (docs/method.md section 7):
 *   R = mean_in max(0, E - m_in)^2 + mean_out max(0, m_out - E)^2, scaled by lambda. */
typedef struct {
    float lambda;
    float m_in, m_out;
    int calibrate; /* 1: margins to be set from the ID energy distribution at start */
} hook_reg;

/* E = -logsumexp of one sample's `size` activations. */
double energy_sample(const float *a, int size);

/* a: [batch][size] -> energy: [batch]. */
void energy_forward(const float *a, int batch, int size, float *energy);

/* R of the energies (without lambda), samples split by is_outlier (NULL: all
 * in-distribution); with grad (and lambda != 0) also adds lambda * dR/dE_b *
 * (-softmax(a_b)) to grad [batch][size]. */
double energy_reg_backward(const float *a, const float *energy, int batch, int size,
                           const unsigned char *is_outlier, const hook_reg *reg,
                           float *grad);

#endif
