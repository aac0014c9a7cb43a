/* corrupt_c_pixel.c: the CIFAR-10-C corruptions that work pixel by pixel or on the
 * whole image without a spatial filter: gaussian / shot / impulse / speckle noise,
 * brightness and saturate (skimage's HSV round trip), contrast, fog (plasma fractal),
 * pixelate (Pillow's box resize, in its fixed-point arithmetic) and JPEG. Constants:
 * make_cifar_c.py of github.com/hendrycks/robustness (ImageNet-C/create_c). Each
 * computes in double as NumPy does and truncates like its final np.uint8(). */
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "corrupt_c.h"

int cc_gaussian_noise(uint8_t *img, int s, crand *r, lir_error *err) {
    static const double C[5] = {0.04, 0.06, .08, .09, .10};
    for (int k = 0; k < 3 * CC_P; k++) img[k] = cc_store(img[k] / 255.0 + C[s] * cr_normal(r));
    return 0;
}

/* np.random.poisson(x * c) / c. The counts come from inverting Poisson CDFs, one per
 * severity and pixel value, tabulated once over lam +- (10 sqrt(lam) + 12) (the mass
 * outside is below 1e-20, far under the 2^-53 resolution of the uniform). */
static const double SHOT_C[5] = {500, 250, 100, 75, 50};
typedef struct {
    int first, n;
    const double *cdf;
    const int *guide;
} shot_cdf;
static shot_cdf shot_tab[5][256];
static pthread_once_t shot_once = PTHREAD_ONCE_INIT;

/* The CDF of Poisson(lam) over [first, first + n) into out (NULL: count only). */
static int poisson_cdf(double lam, int *first, double *out) {
    int lo = (int)floor(lam - 10 * sqrt(lam) - 12), hi = (int)ceil(lam + 10 * sqrt(lam) + 12);
    lo = lo < 0 ? 0 : lo;
    *first = lo;
    if (!out) return hi - lo + 1;
    int mode = (int)floor(lam);
    double sum = 0;
    out[mode - lo] = lam > 0 ? exp(mode * log(lam) - lam - lgamma(mode + 1.0)) : 1.0;
    for (int k = mode + 1; k <= hi; k++) out[k - lo] = out[k - 1 - lo] * lam / k;
    for (int k = mode - 1; k >= lo; k--) out[k - lo] = out[k + 1 - lo] * (k + 1) / lam;
    for (int k = lo; k <= hi; k++) sum += out[k - lo];
    double acc = 0;
    for (int k = lo; k <= hi; k++) out[k - lo] = (acc += out[k - lo]) / sum;
    out[hi - lo] = 1.0;
    return hi - lo + 1;
}

static void shot_init(void) {
    size_t total = 0;
    int first;
    for (int s = 0; s < 5; s++)
        for (int v = 0; v < 256; v++) total += (size_t)poisson_cdf(v / 255.0 * SHOT_C[s], &first, NULL);
    double *mem = xmalloc(total * sizeof(double)); /* both kept for the process's lifetime */
    int *guide = xmalloc(total * sizeof(int));
    for (int s = 0; s < 5; s++)
        for (int v = 0; v < 256; v++) {
            shot_cdf *t = &shot_tab[s][v];
            int n = t->n = poisson_cdf(v / 255.0 * SHOT_C[s], &t->first, mem);
            for (int j = 0, i = 0; j < n; j++) {
                while (mem[i] <= (double)j / n) i++;
                guide[j] = i;
            }
            t->cdf = mem;
            t->guide = guide;
            mem += n;
            guide += n;
        }
}

int cc_shot_noise(uint8_t *img, int s, crand *r, lir_error *err) {
    pthread_once(&shot_once, shot_init);
    for (int k = 0; k < 3 * CC_P; k++) {
        const shot_cdf *t = &shot_tab[s][img[k]];
        img[k] = cc_store((double)cr_inverse(r, t->cdf, t->guide, t->n, t->first) / SHOT_C[s]);
    }
    return 0;
}

/* skimage.util.random_noise(mode='s&p', amount=c): each value is flipped with
 * probability c, to 1 or 0 with equal odds. Draws: per value a uniform (flip when
 * below c), then for a flipped value one more (salt when below 0.5). */
int cc_impulse_noise(uint8_t *img, int s, crand *r, lir_error *err) {
    static const float C[5] = {.01f, .02f, .03f, .05f, .07f};
    for (int k = 0; k < 3 * CC_P; k++) {
        double x = img[k] / 255.0;
        if (cr_uniform(r) < C[s]) x = cr_uniform(r) < 0.5f ? 1.0 : 0.0;
        img[k] = cc_store(x);
    }
    return 0;
}

int cc_speckle_noise(uint8_t *img, int s, crand *r, lir_error *err) {
    static const double C[5] = {.06, .1, .12, .16, .2};
    for (int k = 0; k < 3 * CC_P; k++) {
        double x = img[k] / 255.0;
        img[k] = cc_store(x + x * (C[s] * cr_normal(r)));
    }
    return 0;
}

/* Python's float modulo: the result has the sign of the divisor (1). */
static double py_mod1(double a) {
    double m = fmod(a, 1.0);
    return m < 0 ? m + 1.0 : m == 0 ? 0.0 : m;
}

/* skimage.color.rgb2hsv; where two channels tie for the maximum, blue wins over green
 * over red (skimage assigns red, then green, then blue). */
static void rgb2hsv(const double rgb[3], double hsv[3]) {
    double r = rgb[0], g = rgb[1], b = rgb[2];
    double mx = r > g ? r : g, mn = r < g ? r : g;
    mx = b > mx ? b : mx;
    mn = b < mn ? b : mn;
    double delta = mx - mn, h = 0;
    if (delta != 0) {
        if (b == mx) h = 4. + (r - g) / delta;
        else if (g == mx) h = 2. + (b - r) / delta;
        else h = (g - b) / delta;
        h = py_mod1(h / 6.);
    }
    hsv[0] = h;
    hsv[1] = delta == 0 ? 0 : delta / mx;
    hsv[2] = mx;
}

/* skimage.color.hsv2rgb. */
static void hsv2rgb(const double hsv[3], double rgb[3]) {
    double hi = floor(hsv[0] * 6), f = hsv[0] * 6 - hi, sat = hsv[1], v = hsv[2];
    double p = v * (1 - sat), q = v * (1 - f * sat), t = v * (1 - (1 - f) * sat);
    const double sel[6][3] = {{v, t, p}, {q, v, p}, {p, v, t}, {p, q, v}, {t, p, v}, {v, p, q}};
    int i = (int)(uint8_t)hi % 6;
    memcpy(rgb, sel[i], sizeof sel[i]);
}

/* HSV round trip: channel ch becomes clip(value * mul + add, 0, 1). */
static void hsv_adjust(uint8_t *img, int ch, double mul, double add) {
    for (int k = 0; k < CC_P; k++) {
        double rgb[3] = {img[k] / 255.0, img[CC_P + k] / 255.0, img[2 * CC_P + k] / 255.0}, hsv[3];
        rgb2hsv(rgb, hsv);
        double v = ch == 2 ? hsv[ch] + add : hsv[ch] * mul + add;
        hsv[ch] = v < 0 ? 0 : v > 1 ? 1 : v;
        hsv2rgb(hsv, rgb);
        for (int c = 0; c < 3; c++) img[c * CC_P + k] = cc_store(rgb[c]);
    }
}

int cc_brightness(uint8_t *img, int s, crand *r, lir_error *err) {
    static const double C[5] = {.05, .1, .15, .2, .3};
    hsv_adjust(img, 2, 1, C[s]);
    return 0;
}

int cc_saturate(uint8_t *img, int s, crand *r, lir_error *err) {
    static const double C[5][2] = {{0.3, 0}, {0.1, 0}, {1.5, 0}, {2, 0.1}, {2.5, 0.2}};
    hsv_adjust(img, 1, C[s][0], C[s][1]);
    return 0;
}

/* Channel means summed in pixel order, as np.mean(x, axis=(0, 1)) does. */
int cc_contrast(uint8_t *img, int s, crand *r, lir_error *err) {
    static const double C[5] = {.75, .5, .4, .3, 0.15};
    for (int c = 0; c < 3; c++) {
        uint8_t *p = img + c * CC_P;
        double sum = 0;
        for (int k = 0; k < CC_P; k++) sum += p[k] / 255.0;
        double m = sum / CC_P;
        for (int k = 0; k < CC_P; k++) p[k] = cc_store((p[k] / 255.0 - m) * C[s] + m);
    }
    return 0;
}

/* np.random.uniform(-w, w) scaled by w, added to a quarter of the sum. */
static double wibbled(double sum, double w, crand *r) {
    return sum / 4 + w * (-w + (w - -w) * cr_uniform(r));
}

/* make_cifar_c.py's plasma_fractal(mapsize=32, wibbledecay): diamond-square with
 * wrap-around (np.roll) neighbours, scaled to [0, 1]. Draws: per step, the square
 * centres, then the two diamond sets, each in row-major order (1023 in all). */
static void plasma_fractal(double *m, double decay, crand *r) {
    double w = 100;
    m[0] = 0;
    for (int st = CC_N; st >= 2; st /= 2, w /= decay) {
        int n = CC_N / st, h = st / 2;
#define UL(i, j) m[((i) % n) * st * CC_N + ((j) % n) * st]
#define DR(i, j) m[((((i) + n) % n) * st + h) * CC_N + (((j) + n) % n) * st + h]
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                m[(i * st + h) * CC_N + j * st + h] =
                    wibbled((UL(i, j) + UL(i + 1, j)) + (UL(i, j + 1) + UL(i + 1, j + 1)), w, r);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                m[i * st * CC_N + j * st + h] =
                    wibbled((DR(i, j) + DR(i - 1, j)) + (UL(i, j) + UL(i, j + 1)), w, r);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                m[(i * st + h) * CC_N + j * st] =
                    wibbled((DR(i, j) + DR(i, j - 1)) + (UL(i, j) + UL(i + 1, j)), w, r);
#undef UL
#undef DR
    }
    double lo = m[0], hi;
    for (int k = 0; k < CC_P; k++) lo = m[k] < lo ? m[k] : lo;
    for (int k = 0; k < CC_P; k++) m[k] -= lo;
    hi = m[0];
    for (int k = 0; k < CC_P; k++) hi = m[k] > hi ? m[k] : hi;
    for (int k = 0; k < CC_P; k++) m[k] /= hi;
}

int cc_fog(uint8_t *img, int s, crand *r, lir_error *err) {
    static const double C[5][2] = {{.2, 3}, {.5, 3}, {0.75, 2.5}, {1, 2}, {1.5, 1.75}};
    double p[CC_P];
    plasma_fractal(p, C[s][1], r);
    uint8_t mx = 0;
    for (int k = 0; k < 3 * CC_P; k++) mx = img[k] > mx ? img[k] : mx;
    double max_val = mx / 255.0;
    for (int c = 0; c < 3; c++)
        for (int k = 0; k < CC_P; k++) {
            double x = img[c * CC_P + k] / 255.0 + C[s][0] * p[k];
            img[c * CC_P + k] = cc_store(x * max_val / (max_val + C[s][0]));
        }
    return 0;
}

/* Pillow's resample of one axis with the BOX filter for an 8-bit image: per output
 * sample the input range [xmin, xmin + cnt) and fixed-point weights (22 fraction
 * bits), rounded half up; Pillow's precompute_coeffs / normalize_coeffs_8bpc. */
#define PIL_BITS 22
typedef struct {
    int xmin, cnt, k[4];
} pil_tap;

static void pil_box_taps(int in, int out, pil_tap *t) {
    double scale = (double)in / out, fscale = scale < 1.0 ? 1.0 : scale;
    double support = 0.5 * fscale, ss = 1.0 / fscale;
    for (int o = 0; o < out; o++) {
        double center = (o + 0.5) * scale, w[4], ww = 0;
        int xmin = (int)(center - support + 0.5), xmax = (int)(center + support + 0.5);
        xmin = xmin < 0 ? 0 : xmin;
        xmax = (xmax > in ? in : xmax) - xmin;
        xmax = xmax > 4 ? 4 : xmax; /* at most 3 for the scales used here (<= 1.6) */
        for (int x = 0; x < xmax; x++) {
            double a = (x + xmin - center + 0.5) * ss;
            ww += w[x] = a > -0.5 && a <= 0.5 ? 1.0 : 0.0;
        }
        t[o].xmin = xmin;
        t[o].cnt = xmax;
        for (int x = 0; x < xmax; x++)
            t[o].k[x] = (int)(0.5 + (ww != 0 ? w[x] / ww : w[x]) * (1 << PIL_BITS));
    }
}

static uint8_t pil_clip8(int v) {
    v >>= PIL_BITS;
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* PIL Image.resize((ow, oh), BOX) of one plane in [ih][iw]: horizontal pass first,
 * then vertical, each rounded to uint8 as Pillow does. */
static void pil_box_resize(const uint8_t *in, int ih, int iw, uint8_t *out, int oh, int ow) {
    pil_tap tx[CC_N], ty[CC_N];
    uint8_t tmp[CC_N * CC_N];
    pil_box_taps(iw, ow, tx);
    pil_box_taps(ih, oh, ty);
    for (int y = 0; y < ih; y++)
        for (int o = 0; o < ow; o++) {
            int acc = 1 << (PIL_BITS - 1);
            for (int x = 0; x < tx[o].cnt; x++) acc += in[y * iw + tx[o].xmin + x] * tx[o].k[x];
            tmp[y * ow + o] = pil_clip8(acc);
        }
    for (int o = 0; o < oh; o++)
        for (int x = 0; x < ow; x++) {
            int acc = 1 << (PIL_BITS - 1);
            for (int y = 0; y < ty[o].cnt; y++) acc += tmp[(ty[o].xmin + y) * ow + x] * ty[o].k[y];
            out[o * ow + x] = pil_clip8(acc);
        }
}

int cc_pixelate(uint8_t *img, int s, crand *r, lir_error *err) {
    static const double C[5] = {0.95, 0.9, 0.85, 0.75, 0.65};
    int m = (int)(CC_N * C[s]);
    uint8_t small[CC_N * CC_N];
    for (int c = 0; c < 3; c++) {
        pil_box_resize(img + c * CC_P, CC_N, CC_N, small, m, m);
        pil_box_resize(small, m, m, img + c * CC_P, CC_N, CC_N);
    }
    return 0;
}

int cc_jpeg(uint8_t *img, int s, crand *r, lir_error *err) {
    static const int C[5] = {80, 65, 58, 50, 40};
    return corrupt_jpeg(img, 3, CC_N, CC_N, C[s], err);
}
