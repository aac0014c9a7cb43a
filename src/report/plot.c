/* plot.c: the raster canvas under every chart: pixel blending, crisp rectangles,
 * anti-aliased (optionally dashed) lines by distance to the segment, and PNG output
 * with libpng's simplified API into an atomic_file. */
#include "report.h"

#include <math.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>

plot_canvas *plot_canvas_new(int w, int h, plot_rgb background) {
    plot_canvas *c = xmalloc(sizeof *c);
    c->w = w;
    c->h = h;
    c->rgb = xmalloc((size_t)w * h * 3);
    for (size_t i = 0; i < (size_t)w * h; i++) {
        c->rgb[3 * i] = background.r;
        c->rgb[3 * i + 1] = background.g;
        c->rgb[3 * i + 2] = background.b;
    }
    return c;
}

void plot_canvas_free(plot_canvas *c) {
    if (!c) return;
    free(c->rgb);
    free(c);
}

plot_rgb plot_get(const plot_canvas *c, int x, int y) {
    const uint8_t *p = c->rgb + ((size_t)y * c->w + x) * 3;
    return (plot_rgb){p[0], p[1], p[2]};
}

void plot_blend(plot_canvas *c, int x, int y, plot_rgb col, double alpha) {
    if (x < 0 || y < 0 || x >= c->w || y >= c->h || alpha <= 0) return;
    if (alpha > 1) alpha = 1;
    uint8_t *p = c->rgb + ((size_t)y * c->w + x) * 3;
    p[0] = (uint8_t)lround(p[0] + (col.r - p[0]) * alpha);
    p[1] = (uint8_t)lround(p[1] + (col.g - p[1]) * alpha);
    p[2] = (uint8_t)lround(p[2] + (col.b - p[2]) * alpha);
}

void plot_fill_rect(plot_canvas *c, double x0, double y0, double x1, double y1, plot_rgb col) {
    int i0 = (int)ceil(x0 - 0.5), i1 = (int)ceil(x1 - 0.5);
    int j0 = (int)ceil(y0 - 0.5), j1 = (int)ceil(y1 - 0.5);
    if (i0 < 0) i0 = 0;
    if (j0 < 0) j0 = 0;
    if (i1 > c->w) i1 = c->w;
    if (j1 > c->h) j1 = c->h;
    for (int j = j0; j < j1; j++)
        for (int i = i0; i < i1; i++) plot_blend(c, i, j, col, 1.0);
}

/* Length of [a0, a1] intersected with [b0, b1]. */
static double overlap(double a0, double a1, double b0, double b1) {
    return fmax(0, fmin(a1, b1) - fmax(a0, b0));
}

void plot_line(plot_canvas *c, double x0, double y0, double x1, double y1, double width,
               plot_rgb col, double dash, double gap) {
    double dx = x1 - x0, dy = y1 - y0, len = hypot(dx, dy);
    double r = 0.5 * width;
    int i0 = (int)floor(fmin(x0, x1) - r - 1), i1 = (int)ceil(fmax(x0, x1) + r + 1);
    int j0 = (int)floor(fmin(y0, y1) - r - 1), j1 = (int)ceil(fmax(y0, y1) + r + 1);
    if (i0 < 0) i0 = 0;
    if (j0 < 0) j0 = 0;
    if (i1 > c->w) i1 = c->w;
    if (j1 > c->h) j1 = c->h;
    for (int j = j0; j < j1; j++)
        for (int i = i0; i < i1; i++) {
            double px = i + 0.5 - x0, py = j + 0.5 - y0;
            double t = len > 0 ? (px * dx + py * dy) / len : 0; /* position along */
            double tc = t < 0 ? 0 : t > len ? len : t;
            double d = len > 0 ? hypot(px - tc * dx / len, py - tc * dy / len) : hypot(px, py);
            double a = r + 0.5 - d; /* coverage of a 1-px-wide pixel by the stroke */
            if (a <= 0) continue;
            if (dash > 0) { /* share of the pixel's extent along the line inside dashes */
                double period = dash + gap, m = fmod(tc, period);
                a *= fmin(1, overlap(m - 0.5, m + 0.5, 0, dash) +
                                 overlap(m - 0.5, m + 0.5, period, period + dash) +
                                 overlap(m - 0.5, m + 0.5, -period, dash - period));
            }
            plot_blend(c, i, j, col, a);
        }
}

int plot_save_png(const plot_canvas *c, const char *path, lir_error *err) {
    atomic_file af;
    if (atomic_open(&af, path, err)) return -1;
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)c->w;
    img.height = (png_uint_32)c->h;
    img.format = PNG_FORMAT_RGB;
    if (!png_image_write_to_stdio(&img, af.f, 0, c->rgb, c->w * 3, NULL)) {
        lir_fail(err, "%s: PNG encoding failed: %s", path, img.message);
        png_image_free(&img);
        atomic_abort(&af);
        return -1;
    }
    return atomic_close(&af, err);
}
