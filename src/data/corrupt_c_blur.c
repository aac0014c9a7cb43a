/* corrupt_c_blur.c: the CIFAR-10-C corruptions built on spatial filters and warps:
 * gaussian / glass / defocus / motion / zoom blur, snow and elastic_transform, with
 * make_cifar_c.py's constants. The library operations they call are reimplemented:
 * scipy.ndimage's gaussian_filter, zoom and map_coordinates (order 1) in their own
 * summation order; OpenCV's GaussianBlur / filter2D / getAffineTransform /
 * warpAffine / cvtColor and ImageMagick's MotionBlurImage as documented. Where the
 * original's exact output is not reproduced the function's comment says so. */
#include <math.h>
#include <string.h>

#include "corrupt_c.h"

enum { EDGE_NEAREST, EDGE_REFLECT, EDGE_MIRROR }; /* scipy's names; mirror = OpenCV's
                                                     BORDER_REFLECT_101 */

static int edge(int i, int n, int mode) {
    if (i < 0) return mode == EDGE_NEAREST ? 0 : mode == EDGE_REFLECT ? -i - 1 : -i;
    if (i >= n) return mode == EDGE_NEAREST ? n - 1 : mode == EDGE_REFLECT ? 2 * n - 1 - i : 2 * n - 2 - i;
    return i;
}

/* NumPy's pairwise sum for n <= 128 (eight accumulators from 8 elements on). */
static double np_sum(const double *a, int n) {
    double res = 0.;
    if (n < 8) {
        for (int i = 0; i < n; i++) res += a[i];
        return res;
    }
    double r[8];
    memcpy(r, a, sizeof r);
    int i = 8;
    for (; i < n - n % 8; i += 8)
        for (int j = 0; j < 8; j++) r[j] += a[i + j];
    res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; i++) res += a[i];
    return res;
}

/* One line of n values (stride apart) into buf[rad .. rad+n), extended by rad on
 * each side as mode folds indices. */
static void extend_line(const double *x, int stride, int rad, int mode, double *buf) {
    for (int i = -rad; i < CC_N + rad; i++) buf[i + rad] = x[edge(i, CC_N, mode) * stride];
}

/* scipy.ndimage.gaussian_filter of a 32x32 plane in place: _gaussian_kernel1d's
 * weights (radius int(truncate * sigma + 0.5)), axis 0 then axis 1, each pass in
 * NI_Correlate1D's order for symmetric kernels (centre, then pairs from the outside
 * in). sigma <= 1e-15 leaves the plane as it is, as scipy does. */
static void gauss_plane(double *x, double sigma, double truncate, int mode) {
    if (sigma <= 1e-15) return;
    int rad = (int)(truncate * sigma + 0.5);
    rad = rad > CC_N - 1 ? CC_N - 1 : rad; /* at most 19 for the constants used */
    double phi[2 * CC_N], w[CC_N], buf[3 * CC_N];
    for (int i = -rad; i <= rad; i++) phi[i + rad] = exp(-0.5 / (sigma * sigma) * (double)(i * i));
    double sum = np_sum(phi, 2 * rad + 1);
    for (int j = 0; j <= rad; j++) w[j] = phi[rad + j] / sum;
    for (int pass = 0; pass < 2; pass++) /* axis 0: columns, stride 32; axis 1: rows */
        for (int l = 0; l < CC_N; l++) {
            double *line = pass == 0 ? x + l : x + l * CC_N;
            int stride = pass == 0 ? CC_N : 1;
            extend_line(line, stride, rad, mode, buf);
            const double *c = buf + rad;
            double a[CC_N]; /* each output's own sum, the outputs side by side */
            for (int i = 0; i < CC_N; i++) a[i] = c[i] * w[0];
            for (int j = rad; j >= 1; j--)
                for (int i = 0; i < CC_N; i++) a[i] += (c[i - j] + c[i + j]) * w[j];
            for (int i = 0; i < CC_N; i++) line[i * stride] = a[i];
        }
}

/* scipy's order-1 spline weights at fractional position t: 1 - t, then 1 - that. */
static void lin_w(double cc, int *i0, double w[2]) {
    double f = floor(cc);
    *i0 = (int)f;
    w[0] = 1.0 - (cc - f);
    w[1] = 1.0 - w[0];
}

/* Bilinear sampling at (cy, cx) of a 32x32 plane, indices outside folded by mode:
 * the four offsets and weights, computed once for the planes that share them. */
typedef struct {
    int o[4];
    double wy[2], wx[2];
} bl_taps;

static void bl_prepare(double cy, double cx, int mode, bl_taps *t) {
    int y0, x0;
    lin_w(cy, &y0, t->wy);
    lin_w(cx, &x0, t->wx);
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++)
            t->o[2 * a + b] = edge(y0 + a, CC_N, mode) * CC_N + edge(x0 + b, CC_N, mode);
}

/* Summed as scipy's NI_GeometricTransform does ((v * wy) * wx, row-major). */
static double bl_apply(const float *p, const bl_taps *t) {
    double a = 0;
    a += (double)p[t->o[0]] * t->wy[0] * t->wx[0];
    a += (double)p[t->o[1]] * t->wy[0] * t->wx[1];
    a += (double)p[t->o[2]] * t->wy[1] * t->wx[0];
    a += (double)p[t->o[3]] * t->wy[1] * t->wx[1];
    return a;
}

int cc_gaussian_blur(uint8_t *img, int s, crand *r, lir_error *err) {
    static const double C[5] = {.4, .6, 0.7, .8, 1};
    double x[CC_P];
    for (int c = 0; c < 3; c++) { /* skimage.filters.gaussian: mode nearest, truncate 4 */
        cc_to_double(img + c * CC_P, x, CC_P);
        gauss_plane(x, C[s], 4.0, EDGE_NEAREST);
        for (int k = 0; k < CC_P; k++) img[c * CC_P + k] = cc_store(x[k]);
    }
    return 0;
}

/* Gaussian blur, then pixels "locally shuffled" and blurred again. The original's
 * swap `x[h, w], x[h', w'] = x[h', w'], x[h, w]` on NumPy views copies x[h', w'] into
 * x[h, w] and leaves x[h', w'] as it was; that is what is done here. Offsets come
 * from np.random.randint(-d, d), i.e. -d..d-1; draws dx then dy per pixel. */
int cc_glass_blur(uint8_t *img, int s, crand *r, lir_error *err) {
    static const double C[5][3] = {{0.05, 1, 1}, {0.25, 1, 1}, {0.4, 1, 1}, {0.25, 1, 2}, {0.4, 1, 2}};
    int d = (int)C[s][1], iters = (int)C[s][2];
    double x[3][CC_P];
    cc_to_double(img, x[0], 3 * CC_P);
    for (int c = 0; c < 3; c++) {
        gauss_plane(x[c], C[s][0], 4.0, EDGE_NEAREST);
        for (int k = 0; k < CC_P; k++) img[c * CC_P + k] = (uint8_t)(x[c][k] * 255);
    }
    for (int it = 0; it < iters; it++)
        for (int h = CC_N - d; h > d; h--)
            for (int w = CC_N - d; w > d; w--) {
                int dx = cr_below(r, 2 * d) - d, dy = cr_below(r, 2 * d) - d;
                for (int c = 0; c < 3; c++)
                    img[c * CC_P + h * CC_N + w] = img[c * CC_P + (h + dy) * CC_N + w + dx];
            }
    for (int c = 0; c < 3; c++) {
        cc_to_double(img + c * CC_P, x[c], CC_P);
        gauss_plane(x[c], C[s][0], 4.0, EDGE_NEAREST);
        for (int k = 0; k < CC_P; k++) img[c * CC_P + k] = cc_store(x[c][k]);
    }
    return 0;
}

/* disk(radius, alias_blur): the aliased disk x^2 + y^2 <= r^2 in float32 divided by its
 * count, smoothed by cv2.GaussianBlur(ksize 3, sigma alias_blur), whose kernel
 * getGaussianKernel computes in double and stores as float32. The disk never exceeds
 * radius 1.5, so the kernel fits 5x5 (the original's 17x17 is zero outside). */
static void defocus_kernel(double radius, double alias, double k5[5][5]) {
    float d[7][7] = {{0}}, row[7][7] = {{0}};
    int count = 0;
    for (int y = -2; y <= 2; y++)
        for (int x = -2; x <= 2; x++) count += x * x + y * y <= radius * radius;
    for (int y = -2; y <= 2; y++)
        for (int x = -2; x <= 2; x++)
            d[y + 3][x + 3] = x * x + y * y <= radius * radius ? 1.0f / (float)count : 0;
    double t = exp(4.0 * (-0.125 / (alias * alias))), mul = 1.0 / (2 * t + 1.0);
    float go = (float)(t * mul), gc = (float)(1.0 * mul);
    for (int y = 1; y < 6; y++)
        for (int x = 1; x < 6; x++) row[y][x] = d[y][x] * gc + (d[y][x - 1] + d[y][x + 1]) * go;
    for (int y = 1; y < 6; y++)
        for (int x = 1; x < 6; x++) k5[y - 1][x - 1] = row[y][x] * gc + (row[y - 1][x] + row[y + 1][x]) * go;
}

/* cv2.filter2D with BORDER_REFLECT_101 (it uses a DFT for the original's 17x17
 * kernel; here each pixel sums the nonzero taps of the 5x5 support, row-major). */
int cc_defocus_blur(uint8_t *img, int s, crand *r, lir_error *err) {
    static const double C[5][2] = {{0.3, 0.4}, {0.4, 0.5}, {0.5, 0.6}, {1, 0.2}, {1.5, 0.1}};
    enum { W = CC_N + 4 };
    double k[5][5], kw[25], pad[W * W];
    int off[25], nk = 0;
    defocus_kernel(C[s][0], C[s][1], k);
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 5; j++)
            if (k[i][j] != 0) kw[nk] = k[i][j], off[nk++] = i * W + j;
    for (int c = 0; c < 3; c++) {
        uint8_t *p = img + c * CC_P;
        for (int y = 0; y < W; y++)
            for (int x = 0; x < W; x++)
                pad[y * W + x] =
                    p[edge(y - 2, CC_N, EDGE_MIRROR) * CC_N + edge(x - 2, CC_N, EDGE_MIRROR)] / 255.0;
        for (int y = 0; y < CC_N; y++) {
            double a[CC_N] = {0}; /* each pixel's own sum, the pixels side by side */
            for (int t = 0; t < nk; t++) {
                const double *src = pad + y * W + off[t];
                for (int x = 0; x < CC_N; x++) a[x] += kw[t] * src[x];
            }
            for (int x = 0; x < CC_N; x++) p[y * CC_N + x] = cc_store(a[x]);
        }
    }
    return 0;
}

/* ImageMagick 6's MotionBlurImage(radius, sigma, angle) of 8-bit planes: width
 * 2 ceil(radius) + 1 one-sided taps exp(-i^2 / 2 sigma^2), normalised, at offsets
 * (ceil(i cos a - 0.5), ceil(i sin a - 0.5)), edge pixels repeated (the default
 * virtual-pixel method). Values are taken to 16-bit quantum (v * 257), rounded back
 * to a quantum and scaled to 8 bits as a Q16 non-HDRI build does. */
typedef struct {
    int width, oy[64], xs[64][CC_N];
    double k[64];
} motion_taps;

static void motion_prepare(double radius, double sigma, double angle, motion_taps *t) {
    int w = (int)(2.0 * ceil(radius) + 1.0);
    double norm = 0;
    t->width = w = w > 64 ? 64 : w;
    for (int i = 0; i < w; i++) /* MagickSQ2PI = sqrt(2 pi) */
        norm += t->k[i] = exp(-((double)i * i) / (2.0 * sigma * sigma)) / (2.5066282746310002 * sigma);
    for (int i = 0; i < w; i++) t->k[i] /= norm;
    double a = 3.14159265358979323846264338327950288419716939937510 * angle / 180.0;
    double px = w * sin(a), py = w * cos(a), hyp = hypot(px, py);
    for (int i = 0; i < w; i++) {
        int ox = (int)ceil((double)(i * py) / hyp - 0.5);
        t->oy[i] = (int)ceil((double)(i * px) / hyp - 0.5);
        for (int x = 0; x < CC_N; x++) t->xs[i][x] = edge(x + ox, CC_N, EDGE_NEAREST);
    }
}

static void motion_apply(const uint8_t *in, uint8_t *out, const motion_taps *t) {
    double v257[256];
    for (int v = 0; v < 256; v++) v257[v] = 257.0 * v;
    for (int y = 0; y < CC_N; y++) {
        double q[CC_N] = {0};
        for (int i = 0; i < t->width; i++) { /* per pixel, the taps in order */
            const uint8_t *row = in + edge(y + t->oy[i], CC_N, EDGE_NEAREST) * CC_N;
            for (int x = 0; x < CC_N; x++) q[x] += t->k[i] * v257[row[t->xs[i][x]]];
        }
        for (int x = 0; x < CC_N; x++) {
            unsigned Q = q[x] <= 0 ? 0 : q[x] >= 65535 ? 65535 : (unsigned)(q[x] + 0.5);
            out[y * CC_N + x] = (uint8_t)(((Q + 128u) - ((Q + 128u) >> 8)) >> 8);
        }
    }
}

int cc_motion_blur(uint8_t *img, int s, crand *r, lir_error *err) {
    static const double C[5][2] = {{6, 1}, {6, 1.5}, {6, 2}, {8, 2}, {9, 2.5}};
    motion_taps t;
    motion_prepare(C[s][0], C[s][1], -45 + (45 - -45) * (double)cr_uniform(r), &t);
    uint8_t tmp[CC_P];
    for (int c = 0; c < 3; c++) {
        motion_apply(img + c * CC_P, tmp, &t);
        memcpy(img + c * CC_P, tmp, CC_P);
    }
    return 0;
}

/* make_cifar_c.py's clipped_zoom: the centre ceil(32 / z) square, scipy.ndimage.zoom
 * (order=1) to round(ch * z) (sample o at o (ch-1) / (out-1)), the centre 32x32 of
 * that. The taps are the same along both axes and for every plane. */
typedef struct {
    int top, i0[CC_N], i1[CC_N];
    double w0[CC_N], w1[CC_N];
} zoom_taps;

static void zoom_prepare(double z, zoom_taps *t) {
    int ch = (int)ceil(CC_N / z), zo = (int)rint(ch * z), trim = (zo - CC_N) / 2;
    double ratio = zo > 1 ? (double)(ch - 1) / (zo - 1) : 0, w[2];
    t->top = (CC_N - ch) / 2;
    for (int o = 0; o < CC_N; o++) {
        lin_w((o + trim) * ratio, &t->i0[o], w);
        t->i1[o] = t->i0[o] + 1 < ch ? t->i0[o] + 1 : ch - 1;
        t->w0[o] = w[0], t->w1[o] = w[1];
    }
}

/* One plane, summed in scipy's order ((v * wy) * wx, row-major over the 2x2). The
 * source columns each output column reads are gathered once per source row. */
static void clipped_zoom(const double *restrict in, double *restrict out, const zoom_taps *restrict t) {
    const double *crop = in + t->top * CC_N + t->top;
    double g0[CC_N][CC_N], g1[CC_N][CC_N];
    for (int x = 0; x < CC_N; x++) /* x outside: plain loads, no emulated vector gathers */
        for (int j = 0, a = t->i0[x], b = t->i1[x]; j <= t->i1[CC_N - 1]; j++, a += CC_N, b += CC_N) {
            g0[j][x] = crop[a];
            g1[j][x] = crop[b];
        }
    for (int y = 0; y < CC_N; y++) {
        const double *a0 = g0[t->i0[y]], *a1 = g1[t->i0[y]], *b0 = g0[t->i1[y]], *b1 = g1[t->i1[y]];
        double wy0 = t->w0[y], wy1 = t->w1[y];
        for (int x = 0; x < CC_N; x++) {
            double a = a0[x] * wy0 * t->w0[x];
            a += a1[x] * wy0 * t->w1[x];
            a += b0[x] * wy1 * t->w0[x];
            a += b1[x] * wy1 * t->w1[x];
            out[y * CC_N + x] = a;
        }
    }
}

/* The average of the image and its clipped zooms by np.arange(1, 1 + 0.01 (n - 0.5),
 * 0.01), in float32; arange's values are 1 + i ((1 + 0.01) - 1). */
int cc_zoom_blur(uint8_t *img, int s, crand *r, lir_error *err) {
    static const int N[5] = {7, 12, 16, 21, 26};
    const double step = (1.0 + 0.01) - 1.0;
    float x[CC_P], acc[CC_P];
    double xd[CC_P], z[CC_P];
    zoom_taps taps[26];
    for (int i = 0; i < N[s]; i++) zoom_prepare(1.0 + i * step, &taps[i]);
    for (int c = 0; c < 3; c++) {
        uint8_t *p = img + c * CC_P;
        for (int k = 0; k < CC_P; k++) {
            x[k] = (float)(p[k] / 255.0);
            xd[k] = x[k];
            acc[k] = 0;
        }
        for (int i = 0; i < N[s]; i++) {
            clipped_zoom(xd, z, &taps[i]);
            for (int k = 0; k < CC_P; k++) acc[k] += (float)z[k];
        }
        for (int k = 0; k < CC_P; k++) p[k] = cc_storef((x[k] + acc[k]) / (float)(N[s] + 1));
    }
    return 0;
}

/* A snow layer (normal noise, clipped zoom, thresholded, stored as 8-bit) motion-blurred
 * at an angle in [-135, -45), added twice (once turned 180 degrees) to the image
 * brightened towards cv2's gray (0.299 R + 0.587 G + 0.114 B, float32). Draws: 1024
 * normals (row-major), then the angle. */
int cc_snow(uint8_t *img, int s, crand *r, lir_error *err) {
    static const double C[5][7] = {{0.1, 0.2, 1, 0.6, 8, 3, 0.95},
                                   {0.1, 0.2, 1, 0.5, 10, 4, 0.9},
                                   {0.15, 0.3, 1.75, 0.55, 10, 4, 0.9},
                                   {0.25, 0.3, 2.25, 0.6, 12, 6, 0.85},
                                   {0.3, 0.3, 1.25, 0.65, 14, 12, 0.8}};
    const double *c = C[s];
    double layer[CC_P], zl[CC_P];
    uint8_t l8[CC_P], blur[CC_P];
    for (int k = 0; k < CC_P; k++) layer[k] = c[0] + c[1] * cr_normal(r);
    zoom_taps taps;
    zoom_prepare(c[2], &taps);
    clipped_zoom(layer, zl, &taps);
    for (int k = 0; k < CC_P; k++) {
        double v = zl[k] < c[3] ? 0 : zl[k];
        l8[k] = (uint8_t)((v < 0 ? 0 : v > 1 ? 1 : v) * 255);
    }
    motion_taps mt;
    motion_prepare(c[4], c[5], -135 + (-45 - -135) * (double)cr_uniform(r), &mt);
    motion_apply(l8, blur, &mt);
    float keep = (float)c[6], mix = (float)(1 - c[6]);
    for (int k = 0; k < CC_P; k++) {
        float rgb[3], gray;
        for (int ch = 0; ch < 3; ch++) rgb[ch] = (float)img[ch * CC_P + k] / 255.0f;
        gray = rgb[0] * 0.299f + rgb[1] * 0.587f + rgb[2] * 0.114f;
        float lift = gray * 1.5f + 0.5f;
        for (int ch = 0; ch < 3; ch++) {
            float x = keep * rgb[ch] + mix * (rgb[ch] > lift ? rgb[ch] : lift);
            img[ch * CC_P + k] = cc_store((double)x + blur[k] / 255.0 + blur[CC_P - 1 - k] / 255.0);
        }
    }
    return 0;
}

/* cv2.getAffineTransform(p1, p2) (solved here by Cramer's rule) and its inverse as
 * cv2.invertAffineTransform computes it: inv maps output pixels to input points. */
static void affine_inverse(const float p1[3][2], const float p2[3][2], double inv[6]) {
    double det = 0, m[6];
    for (int i = 0; i < 3; i++) det += p1[i][0] * (p1[(i + 1) % 3][1] - p1[(i + 2) % 3][1]);
    for (int o = 0; o < 2; o++) { /* row o: a x + b y + c = p2[.][o] */
        double a = 0, b = 0, c = 0;
        for (int i = 0; i < 3; i++) {
            int j = (i + 1) % 3, k = (i + 2) % 3;
            a += p2[i][o] * (p1[j][1] - p1[k][1]);
            b += p2[i][o] * (p1[k][0] - p1[j][0]);
            c += p2[i][o] * ((double)p1[j][0] * p1[k][1] - (double)p1[k][0] * p1[j][1]);
        }
        m[3 * o] = a / det, m[3 * o + 1] = b / det, m[3 * o + 2] = c / det;
    }
    double d = m[0] * m[4] - m[1] * m[3];
    d = d != 0 ? 1.0 / d : 0.0;
    inv[0] = m[4] * d, inv[1] = -m[1] * d, inv[3] = -m[3] * d, inv[4] = m[0] * d;
    inv[2] = -inv[0] * m[2] - inv[1] * m[5];
    inv[5] = -inv[3] * m[2] - inv[4] * m[5];
}

/* A random displacement field: uniform(-1, 1), gaussian (mode reflect, truncate 3),
 * times alpha, stored as float32 (1024 draws). */
static void displacement(double alpha, double sigma, float *out, crand *r) {
    double u[CC_P];
    for (int k = 0; k < CC_P; k++) u[k] = -1 + (1 - -1) * (double)cr_uniform(r);
    gauss_plane(u, sigma, 3.0, EDGE_REFLECT);
    for (int k = 0; k < CC_P; k++) out[k] = (float)(u[k] * alpha);
}

/* A random affine warp of the corner triangle (26,26), (26,6), (6,6) by up to c2
 * pixels (cv2.warpAffine, bilinear, BORDER_REFLECT_101; cv2 rounds source positions
 * to 1/32 pixel, here they are exact), then a smooth random displacement sampled by
 * map_coordinates(order=1, mode='reflect'). float32 like the original. Draws: the
 * six corner offsets, then the dx field, then the dy field. */
int cc_elastic(uint8_t *img, int s, crand *r, lir_error *err) {
    static const double C[5][3] = {{32 * 0, 32 * 0, 32 * 0.08},       {32 * 0.05, 32 * 0.2, 32 * 0.07},
                                   {32 * 0.08, 32 * 0.06, 32 * 0.06}, {32 * 0.1, 32 * 0.04, 32 * 0.05},
                                   {32 * 0.1, 32 * 0.03, 32 * 0.03}};
    const double *c = C[s];
    const float p1[3][2] = {{26, 26}, {26, 6}, {6, 6}};
    float p2[3][2], x[3][CC_P], w[3][CC_P], dx[CC_P], dy[CC_P];
    double inv[6];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 2; j++)
            p2[i][j] = p1[i][j] + (float)(-c[2] + (c[2] - -c[2]) * (double)cr_uniform(r));
    affine_inverse(p1, p2, inv);
    for (int ch = 0; ch < 3; ch++)
        for (int k = 0; k < CC_P; k++) x[ch][k] = (float)img[ch * CC_P + k] / 255.0f;
    for (int y = 0; y < CC_N; y++)
        for (int xx = 0; xx < CC_N; xx++) {
            bl_taps t;
            bl_prepare(inv[3] * xx + inv[4] * y + inv[5], inv[0] * xx + inv[1] * y + inv[2], EDGE_MIRROR, &t);
            for (int ch = 0; ch < 3; ch++) w[ch][y * CC_N + xx] = (float)bl_apply(x[ch], &t);
        }
    displacement(c[0], c[1], dx, r);
    displacement(c[0], c[1], dy, r);
    for (int k = 0; k < CC_P; k++) {
        bl_taps t;
        bl_prepare(k / CC_N + (double)dy[k], k % CC_N + (double)dx[k], EDGE_REFLECT, &t);
        for (int ch = 0; ch < 3; ch++) img[ch * CC_P + k] = cc_storef((float)bl_apply(w[ch], &t));
    }
    return 0;
}
