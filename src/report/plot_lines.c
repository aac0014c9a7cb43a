/* plot_lines.c: the line plot for training curves (loss, accuracy, R-EBO terms), with a
 * linear or logarithmic y axis, drawn on a canvas (plot.c) and saved as PNG+SVG+PDF. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "plot_style.h"

double plot_nice_step(double lo, double hi, int target) {
    double raw = (hi - lo) / target, e = pow(10, floor(log10(raw))), f = raw / e;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * e;
}

int plot_step_decimals(double step) {
    int d = (int)-floor(log10(step) + 1e-9);
    return d < 0 ? 0 : d > 6 ? 6 : d;
}

/* Expands [*lo, *hi] to multiples of the nice step; returns the step. */
static double nice_range(double *lo, double *hi) {
    if (!(*lo < *hi)) {
        double pad = *lo == 0 || !isfinite(*lo) ? 1 : 0.5 * fabs(*lo);
        if (!isfinite(*lo)) *lo = 0;
        *hi = *lo + pad;
        *lo -= pad;
    }
    double step = plot_nice_step(*lo, *hi, 6);
    *lo = floor(*lo / step + 1e-9) * step;
    *hi = ceil(*hi / step - 1e-9) * step;
    return step;
}

static const plot_rgb palette[8] = {{31, 119, 180}, {230, 120, 20}, {44, 160, 44},
                                    {214, 39, 40},  {148, 103, 189}, {140, 86, 75},
                                    {220, 100, 180}, {90, 90, 90}};

plot_rgb plot_series_colour(int s) { return palette[(s % 8 + 8) % 8]; }

/* The value a series point is plotted at (log10 on a log axis); NaN if not drawn. */
static double plotted(const plot_chart *ch, double y) {
    if (!isfinite(y)) return NAN;
    if (!ch->log_y) return y;
    return y > 0 ? log10(y) : NAN;
}

/* Data range of x and of the plotted y, as nice tick ranges (decades on a log axis). */
static void lines_range(const plot_chart *ch, plot_rect *r, double *xstep, double *ystep) {
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    for (int i = 0; i < ch->n; i++) {
        if (!isfinite(ch->x[i])) continue;
        xlo = fmin(xlo, ch->x[i]), xhi = fmax(xhi, ch->x[i]);
        for (int s = 0; s < ch->n_series; s++) {
            double y = plotted(ch, ch->series[s].y[i]);
            if (!isnan(y)) ylo = fmin(ylo, y), yhi = fmax(yhi, y);
        }
    }
    *xstep = nice_range(&xlo, &xhi);
    if (ch->log_y) {
        if (!isfinite(ylo)) ylo = 0, yhi = 0;
        ylo = floor(ylo + 1e-9);
        yhi = ceil(yhi - 1e-9);
        if (yhi <= ylo) yhi = ylo + 1;
        *ystep = ceil((yhi - ylo) / 8); /* at most 8 decades labelled */
    } else {
        *ystep = nice_range(&ylo, &yhi);
    }
    *r = (plot_rect){xlo, ylo, xhi, yhi};
}

static void tick_label(char *buf, size_t n, double v, int log_y, int decimals) {
    if (log_y) snprintf(buf, n, "%g", pow(10, v));
    else snprintf(buf, n, "%.*f", decimals, v);
}

static void lines_axes(plot_canvas *c, const plot_chart *ch, plot_rect a, plot_rect r,
                       double xstep, double ystep) {
    char buf[64];
    int xd = plot_step_decimals(xstep), yd = ch->log_y ? 0 : plot_step_decimals(ystep);
    for (int k = 0; r.x0 + k * xstep <= r.x1 + 1e-9 * xstep; k++) {
        double v = r.x0 + k * xstep, px = a.x0 + (v - r.x0) / (r.x1 - r.x0) * (a.x1 - a.x0);
        plot_line(c, px, a.y0, px, a.y1, 1, PLOT_GRID, 0, 0);
        plot_line(c, px, a.y1, px, a.y1 + 5, 1, PLOT_BLACK, 0, 0);
        tick_label(buf, sizeof buf, v, 0, xd);
        plot_text(c, px, a.y1 + 9, buf, TICK_SIZE, 0, 0.5, 0, PLOT_BLACK);
    }
    for (int k = 0; r.y0 + k * ystep <= r.y1 + 1e-9 * ystep; k++) {
        double v = r.y0 + k * ystep, py = a.y1 - (v - r.y0) / (r.y1 - r.y0) * (a.y1 - a.y0);
        plot_line(c, a.x0, py, a.x1, py, 1, PLOT_GRID, 0, 0);
        plot_line(c, a.x0 - 5, py, a.x0, py, 1, PLOT_BLACK, 0, 0);
        tick_label(buf, sizeof buf, v, ch->log_y, yd);
        plot_text(c, a.x0 - 8, py, buf, TICK_SIZE, 0, 1, 0.5, PLOT_BLACK);
    }
    plot_text(c, (a.x0 + a.x1) / 2, 600 - 14, ch->xlabel, LABEL_SIZE, 0, 0.5, 1, PLOT_BLACK);
    char yl[256];
    snprintf(yl, sizeof yl, "%s%s", ch->ylabel, ch->log_y ? " (log scale)" : "");
    plot_text(c, 20, (a.y0 + a.y1) / 2, yl, LABEL_SIZE, 90, 0.5, 0.5, PLOT_BLACK);
}

/* Each series as polylines broken at points that are not drawn; dots when few. */
static void lines_series(plot_canvas *c, const plot_chart *ch, plot_rect a, plot_rect r) {
    double *xy = xmalloc((size_t)ch->n * 2 * sizeof(double));
    for (int s = 0; s < ch->n_series; s++) {
        plot_rgb col = plot_series_colour(s);
        int m = 0;
        for (int i = 0; i <= ch->n; i++) {
            double y = i < ch->n ? plotted(ch, ch->series[s].y[i]) : NAN;
            if (i < ch->n && isfinite(ch->x[i]) && !isnan(y)) {
                xy[2 * m] = a.x0 + (ch->x[i] - r.x0) / (r.x1 - r.x0) * (a.x1 - a.x0);
                xy[2 * m + 1] = a.y1 - (y - r.y0) / (r.y1 - r.y0) * (a.y1 - a.y0);
                if (ch->n <= 60) plot_dot(c, xy[2 * m], xy[2 * m + 1], 3, col);
                m++;
                continue;
            }
            plot_polyline(c, xy, m, 2, col);
            m = 0;
        }
    }
    free(xy);
}

static void lines_legend(plot_canvas *c, const plot_chart *ch, plot_rect a) {
    double lw = 0;
    for (int s = 0; s < ch->n_series; s++)
        lw = fmax(lw, plot_text_width(ch->series[s].name, TICK_SIZE));
    double lx0 = a.x1 - lw - 56, ly0 = a.y0 + 8;
    plot_fill_rect(c, lx0 - 1, ly0 - 1, a.x1 - 7, ly0 + 8 + 18 * ch->n_series + 1, PLOT_GREY);
    plot_fill_rect(c, lx0, ly0, a.x1 - 8, ly0 + 8 + 18 * ch->n_series, PLOT_WHITE);
    for (int s = 0; s < ch->n_series; s++) {
        double ly = ly0 + 13 + 18 * s;
        plot_key_line(c, lx0 + 22, ly, plot_series_colour(s), 2, 0, 0);
        plot_text(c, lx0 + 42, ly, ch->series[s].name, TICK_SIZE, 0, 0, 0.5, PLOT_DARK);
    }
}

int plot_lines(const plot_chart *ch, const char *stem, plot_rect *area, plot_rect *range,
               lir_error *err) {
    if (ch->n <= 0 || ch->n_series <= 0)
        return lir_fail(err, "line plot %s: nothing to draw (%d points, %d series)", stem, ch->n,
                        ch->n_series);
    plot_rect r;
    double xstep, ystep;
    lines_range(ch, &r, &xstep, &ystep);
    const int W = 1000, H = 600;
    plot_rect a = {85, 50, W - 25, H - 60};
    plot_canvas *c = plot_canvas_new(W, H, PLOT_WHITE);
    plot_text(c, W / 2.0, 16, ch->title, TITLE_SIZE, 0, 0.5, 0, PLOT_BLACK);
    lines_axes(c, ch, a, r, xstep, ystep);
    lines_series(c, ch, a, r);
    plot_frame(c, a);
    lines_legend(c, ch, a);
    if (area) *area = a;
    if (range) *range = r;
    int rc = plot_save(c, stem, err);
    plot_canvas_free(c);
    return rc;
}
