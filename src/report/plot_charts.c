/* plot_charts.c: the three charts lir writes: the per-layer AUROC bar plot of
 * METHOD.md section 1, a heat map (points x OOD sets) and a line plot for training
 * curves. Each builds a canvas, draws with plot.c / font.c and saves a PNG. */
#include "report.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const plot_rgb PLOT_GREEN = {0, 128, 0}, PLOT_ORANGE = {255, 165, 0}, PLOT_RED = {255, 0, 0};
static const plot_rgb WHITE = {255, 255, 255}, BLACK = {0, 0, 0}, GRID = {225, 225, 225},
                      GREY = {160, 160, 160}, DARK = {60, 60, 60};

#define TITLE_SIZE 14
#define LABEL_SIZE 11
#define TICK_SIZE 10

static int save_and_free(plot_canvas *c, const char *path, lir_error *err) {
    int rc = plot_save_png(c, path, err);
    plot_canvas_free(c);
    return rc;
}

static void frame(plot_canvas *c, plot_rect a) {
    plot_line(c, a.x0, a.y0 + 0.5, a.x1, a.y0 + 0.5, 1, BLACK, 0, 0);
    plot_line(c, a.x0, a.y1 - 0.5, a.x1, a.y1 - 0.5, 1, BLACK, 0, 0);
    plot_line(c, a.x0 + 0.5, a.y0, a.x0 + 0.5, a.y1, 1, BLACK, 0, 0);
    plot_line(c, a.x1 - 0.5, a.y0, a.x1 - 0.5, a.y1, 1, BLACK, 0, 0);
}

/* ---- bar plot ---- */

static double bar_y(plot_rect a, double v) {
    double t = (v - 0.5) / 0.5;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    return a.y1 - t * (a.y1 - a.y0);
}

int plot_auroc_bars(const char *const *names, const double *values, int n, int ref,
                    const char *id_name, const char *ood_name, const char *path,
                    plot_rect *area, lir_error *err) {
    if (n <= 0 || ref < 0 || ref >= n)
        return lir_fail(err, "bar plot %s: need n > 0 and 0 <= ref < n (n %d, ref %d)", path, n,
                        ref);
    const int W = 1200, H = 600;
    /* x labels are slanted at 45 degrees: size them so neighbours do not touch, and
     * reserve the bottom margin for the longest one */
    double slot_guess = (W - 90.0) / n;
    double label_size = fmin(10, slot_guess * 0.7071 * 7 / 9.0 - 1);
    double longest = 0;
    for (int i = 0; i < n; i++) longest = fmax(longest, plot_text_width(names[i], label_size));
    double bottom = 16 + (longest + label_size) * 0.7071;
    if (bottom > 250) bottom = 250;
    plot_rect a = {75, 50, W - 15, H - bottom};
    double slot = (a.x1 - a.x0) / n;
    for (int pass = 0; pass < 2; pass++) /* widen the left margin until no label is cut */
        for (int i = 0; i < n; i++) {
            double need = 4 + (plot_text_width(names[i], label_size) - 0.3 * label_size) * 0.7071 -
                          (i + 0.5) * slot;
            if (need > a.x0 && need < W / 3.0) {
                a.x0 = ceil(need);
                slot = (a.x1 - a.x0) / n;
            }
        }
    plot_canvas *c = plot_canvas_new(W, H, WHITE);

    char title[512], buf[64];
    snprintf(title, sizeof title, "Per-layer AUROC Scores: %s (ID) vs. %s (OOD)", id_name,
             ood_name);
    plot_text(c, W / 2.0, 16, title, TITLE_SIZE, 0, 0.5, 0, BLACK);
    for (int k = 0; k <= 10; k++) { /* y ticks every 0.05 with grid lines */
        double v = 0.5 + 0.05 * k, y = bar_y(a, v);
        if (k > 0 && k < 10) plot_line(c, a.x0, y, a.x1, y, 1, GRID, 0, 0);
        plot_line(c, a.x0 - 5, y, a.x0, y, 1, BLACK, 0, 0);
        snprintf(buf, sizeof buf, "%.2f", v);
        plot_text(c, a.x0 - 8, y, buf, TICK_SIZE, 0, 1, 0.5, BLACK);
    }
    plot_text(c, a.x0 - 55, (a.y0 + a.y1) / 2, "AUROC", LABEL_SIZE, 90, 0.5, 0.5, BLACK);

    double ref_v = values[ref];
    for (int i = 0; i < n; i++) {
        double cx = a.x0 + (i + 0.5) * slot;
        if (!isnan(values[i])) {
            plot_rgb col = values[i] > ref_v ? PLOT_GREEN : PLOT_ORANGE;
            plot_fill_rect(c, cx - 0.35 * slot, bar_y(a, values[i]), cx + 0.35 * slot, a.y1, col);
        }
        plot_line(c, cx, a.y1, cx, a.y1 + 5, 1, BLACK, 0, 0);
        plot_text(c, cx + 0.3 * label_size, a.y1 + 9, names[i], label_size, 45, 1, 0, BLACK);
    }
    if (!isnan(ref_v)) {
        double y = bar_y(a, ref_v);
        plot_line(c, a.x0, y, a.x1, y, 2, PLOT_RED, 2, 3);
    }
    /* values above the bars (after the red line, so the line never hides them) */
    double value_size = fmin(10, (slot - 7) * 7 / 20); /* "0.00" leaves >= 7 px between bars */
    for (int i = 0; i < n; i++) {
        double cx = a.x0 + (i + 0.5) * slot;
        snprintf(buf, sizeof buf, isnan(values[i]) ? "nan" : "%.2f", values[i]);
        double y = isnan(values[i]) ? a.y1 : bar_y(a, values[i]);
        plot_text(c, cx, y - 4, buf, value_size, 0, 0.5, 1, BLACK);
    }
    frame(c, a);
    /* legend in the title band, right-aligned with the plot */
    double lw = plot_text_width("fc AUROC", LABEL_SIZE);
    double lx = a.x1 - lw - 48, ly = 24;
    plot_fill_rect(c, lx - 1, ly - 13, a.x1 + 1, ly + 13, GREY);
    plot_fill_rect(c, lx, ly - 12, a.x1, ly + 12, WHITE);
    plot_line(c, lx + 8, ly, lx + 36, ly, 2, PLOT_RED, 2, 3);
    plot_text(c, lx + 42, ly, "fc AUROC", LABEL_SIZE, 0, 0, 0.5, BLACK);
    if (area) *area = a;
    return save_and_free(c, path, err);
}

/* ---- heat map ---- */

plot_rgb plot_colormap(double t) {
    static const plot_rgb stops[5] = {
        {40, 30, 95}, {35, 95, 145}, {30, 150, 140}, {120, 200, 90}, {250, 230, 60}};
    if (!(t > 0)) t = 0;
    if (t > 1) t = 1;
    double x = t * 4;
    int k = x >= 4 ? 3 : (int)x;
    double f = x - k;
    plot_rgb a = stops[k], b = stops[k + 1];
    return (plot_rgb){(uint8_t)lround(a.r + (b.r - a.r) * f),
                      (uint8_t)lround(a.g + (b.g - a.g) * f),
                      (uint8_t)lround(a.b + (b.b - a.b) * f)};
}

int plot_heatmap(const char *title, const char *const *row_names, int rows,
                 const char *const *col_names, int cols, const double *values, double vmin,
                 double vmax, const char *path, plot_rect *cells, lir_error *err) {
    if (rows <= 0 || cols <= 0)
        return lir_fail(err, "heat map %s: empty (%d rows, %d columns)", path, rows, cols);
    if (!(vmin < vmax)) {
        vmin = INFINITY, vmax = -INFINITY;
        for (int i = 0; i < rows * cols; i++)
            if (!isnan(values[i])) vmin = fmin(vmin, values[i]), vmax = fmax(vmax, values[i]);
        if (!(vmin < vmax)) { /* all NaN or one value */
            vmin = isfinite(vmin) ? vmin - 0.5 : 0;
            vmax = vmin + 1;
        }
    }
    double row_w = 0, cw = 64, ch = 22;
    for (int r = 0; r < rows; r++) row_w = fmax(row_w, plot_text_width(row_names[r], TICK_SIZE));
    for (int k = 0; k < cols; k++)
        cw = fmax(cw, plot_text_width(col_names[k], TICK_SIZE) + 12);
    plot_rect g = {row_w + 20, 64, 0, 0};
    g.x1 = g.x0 + cols * cw;
    g.y1 = g.y0 + rows * ch;
    int W = (int)ceil(g.x1 + 110), H = (int)ceil(g.y1 + 20);
    double tw = plot_text_width(title, TITLE_SIZE) + 40;
    if (W < tw) W = (int)ceil(tw);
    plot_canvas *c = plot_canvas_new(W, H, WHITE);
    plot_text(c, W / 2.0, 16, title, TITLE_SIZE, 0, 0.5, 0, BLACK);
    char buf[64];
    for (int k = 0; k < cols; k++)
        plot_text(c, g.x0 + (k + 0.5) * cw, g.y0 - 8, col_names[k], TICK_SIZE, 0, 0.5, 1, BLACK);
    for (int r = 0; r < rows; r++) {
        double y = g.y0 + r * ch;
        plot_text(c, g.x0 - 8, y + ch / 2, row_names[r], TICK_SIZE, 0, 1, 0.5, BLACK);
        for (int k = 0; k < cols; k++) {
            double v = values[(size_t)r * cols + k], x = g.x0 + k * cw;
            plot_rgb col = isnan(v) ? GREY : plot_colormap((v - vmin) / (vmax - vmin));
            plot_fill_rect(c, x, y, x + cw, y + ch, col);
            double lum = 0.299 * col.r + 0.587 * col.g + 0.114 * col.b;
            snprintf(buf, sizeof buf, isnan(v) ? "nan" : "%.2f", v);
            plot_text(c, x + cw / 2, y + ch / 2, buf, TICK_SIZE, 0, 0.5, 0.5,
                      lum < 128 ? WHITE : BLACK);
        }
    }
    /* colour bar with 5 ticks */
    plot_rect bar = {g.x1 + 20, g.y0, g.x1 + 38, g.y1};
    for (int j = (int)bar.y0; j < (int)bar.y1; j++)
        plot_fill_rect(c, bar.x0, j, bar.x1, j + 1,
                       plot_colormap((bar.y1 - j - 0.5) / (bar.y1 - bar.y0)));
    frame(c, bar);
    for (int k = 0; k <= 4; k++) {
        double y = bar.y1 - k * (bar.y1 - bar.y0) / 4;
        plot_line(c, bar.x1, y, bar.x1 + 4, y, 1, BLACK, 0, 0);
        snprintf(buf, sizeof buf, "%.2f", vmin + k * (vmax - vmin) / 4);
        plot_text(c, bar.x1 + 7, y, buf, TICK_SIZE, 0, 0, 0.5, BLACK);
    }
    if (cells) *cells = g;
    return save_and_free(c, path, err);
}

/* ---- line plot ---- */

/* Round step for about `target` intervals over [lo, hi]: 1, 2 or 5 times 10^k. */
static double nice_step(double lo, double hi, int target) {
    double raw = (hi - lo) / target, e = pow(10, floor(log10(raw))), f = raw / e;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * e;
}

static int step_decimals(double step) {
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
    double step = nice_step(*lo, *hi, 6);
    *lo = floor(*lo / step + 1e-9) * step;
    *hi = ceil(*hi / step - 1e-9) * step;
    return step;
}

static const plot_rgb palette[8] = {{31, 119, 180}, {230, 120, 20}, {44, 160, 44},
                                    {214, 39, 40},  {148, 103, 189}, {140, 86, 75},
                                    {220, 100, 180}, {90, 90, 90}};

plot_rgb plot_series_colour(int s) { return palette[(s % 8 + 8) % 8]; }

int plot_lines(const char *title, const char *xlabel, const char *ylabel, const double *x,
               int n, const plot_series *series, int n_series, const char *path,
               plot_rect *area, lir_error *err) {
    if (n <= 0 || n_series <= 0)
        return lir_fail(err, "line plot %s: nothing to draw (%d points, %d series)", path, n,
                        n_series);
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    for (int i = 0; i < n; i++) {
        if (isfinite(x[i])) xlo = fmin(xlo, x[i]), xhi = fmax(xhi, x[i]);
        for (int s = 0; s < n_series; s++)
            if (isfinite(series[s].y[i]) && isfinite(x[i]))
                ylo = fmin(ylo, series[s].y[i]), yhi = fmax(yhi, series[s].y[i]);
    }
    double xstep = nice_range(&xlo, &xhi), ystep = nice_range(&ylo, &yhi);
    const int W = 1000, H = 600;
    plot_rect a = {85, 50, W - 25, H - 60};
    plot_canvas *c = plot_canvas_new(W, H, WHITE);
    plot_text(c, W / 2.0, 16, title, TITLE_SIZE, 0, 0.5, 0, BLACK);
    char buf[64];
    int xd = step_decimals(xstep), yd = step_decimals(ystep);
#define PX(v) (a.x0 + ((v) - xlo) / (xhi - xlo) * (a.x1 - a.x0))
#define PY(v) (a.y1 - ((v) - ylo) / (yhi - ylo) * (a.y1 - a.y0))
    for (int k = 0; xlo + k * xstep <= xhi + 1e-9 * xstep; k++) {
        double v = xlo + k * xstep, px = PX(v);
        plot_line(c, px, a.y0, px, a.y1, 1, GRID, 0, 0);
        plot_line(c, px, a.y1, px, a.y1 + 5, 1, BLACK, 0, 0);
        snprintf(buf, sizeof buf, "%.*f", xd, v);
        plot_text(c, px, a.y1 + 9, buf, TICK_SIZE, 0, 0.5, 0, BLACK);
    }
    for (int k = 0; ylo + k * ystep <= yhi + 1e-9 * ystep; k++) {
        double v = ylo + k * ystep, py = PY(v);
        plot_line(c, a.x0, py, a.x1, py, 1, GRID, 0, 0);
        plot_line(c, a.x0 - 5, py, a.x0, py, 1, BLACK, 0, 0);
        snprintf(buf, sizeof buf, "%.*f", yd, v);
        plot_text(c, a.x0 - 8, py, buf, TICK_SIZE, 0, 1, 0.5, BLACK);
    }
    plot_text(c, (a.x0 + a.x1) / 2, H - 14, xlabel, LABEL_SIZE, 0, 0.5, 1, BLACK);
    plot_text(c, 18, (a.y0 + a.y1) / 2, ylabel, LABEL_SIZE, 90, 0.5, 0.5, BLACK);
    for (int s = 0; s < n_series; s++) {
        plot_rgb col = plot_series_colour(s);
        const double *y = series[s].y;
        for (int i = 0; i < n; i++) {
            if (!isfinite(x[i]) || !isfinite(y[i])) continue;
            if (i + 1 < n && isfinite(x[i + 1]) && isfinite(y[i + 1]))
                plot_line(c, PX(x[i]), PY(y[i]), PX(x[i + 1]), PY(y[i + 1]), 2, col, 0, 0);
            if (n <= 60) plot_line(c, PX(x[i]), PY(y[i]), PX(x[i]), PY(y[i]), 6, col, 0, 0);
        }
    }
#undef PX
#undef PY
    frame(c, a);
    double lw = 0;
    for (int s = 0; s < n_series; s++)
        lw = fmax(lw, plot_text_width(series[s].name, TICK_SIZE));
    double lx0 = a.x1 - lw - 56, ly0 = a.y0 + 8;
    plot_fill_rect(c, lx0 - 1, ly0 - 1, a.x1 - 7, ly0 + 8 + 18 * n_series + 1, GREY);
    plot_fill_rect(c, lx0, ly0, a.x1 - 8, ly0 + 8 + 18 * n_series, WHITE);
    for (int s = 0; s < n_series; s++) {
        double ly = ly0 + 13 + 18 * s;
        plot_line(c, lx0 + 8, ly, lx0 + 36, ly, 2, plot_series_colour(s), 0, 0);
        plot_text(c, lx0 + 42, ly, series[s].name, TICK_SIZE, 0, 0, 0.5, DARK);
    }
    if (area) *area = a;
    return save_and_free(c, path, err);
}

/* ---- grouped bar chart ---- */

/* y axis of a grouped bar chart: grid, ticks and their labels, the axis title. */
static void grouped_axis(plot_canvas *c, plot_rect a, double ymin, double ymax,
                         const char *ylabel) {
    double step = nice_step(ymin, ymax, 5);
    int d = step_decimals(step);
    char buf[64];
    for (long k = (long)ceil(ymin / step - 1e-9); k * step <= ymax + 1e-9 * step; k++) {
        double v = k * step + 0.0, y = a.y1 - (v - ymin) / (ymax - ymin) * (a.y1 - a.y0);
        plot_line(c, a.x0, y, a.x1, y, 1, GRID, 0, 0);
        plot_line(c, a.x0 - 5, y, a.x0, y, 1, BLACK, 0, 0);
        snprintf(buf, sizeof buf, "%.*f", d, v);
        plot_text(c, a.x0 - 8, y, buf, TICK_SIZE, 0, 1, 0.5, BLACK);
    }
    plot_text(c, 18, (a.y0 + a.y1) / 2, ylabel, LABEL_SIZE, 90, 0.5, 0.5, BLACK);
}

int plot_grouped_bars(const char *title, const char *ylabel, const char *const *cats, int n_cat,
                      const char *const *series, int n_series, const double *values,
                      const double *errs, double ymin, double ymax, const char *path,
                      plot_rect *area, lir_error *err) {
    if (n_cat <= 0 || n_series <= 0 || !(ymin < ymax))
        return lir_fail(err, "grouped bar chart %s: need categories, series and ymin < ymax",
                        path);
    double longest = 0, legend_w = 0;
    for (int k = 0; k < n_cat; k++) longest = fmax(longest, plot_text_width(cats[k], TICK_SIZE));
    for (int s = 0; s < n_series; s++)
        legend_w = fmax(legend_w, plot_text_width(series[s], TICK_SIZE));
    legend_w = fmin(legend_w, 400) + 50;
    double slot_w = fmax(24, 8.0 * n_series + 10);
    int W = (int)ceil(fmax(900, 90 + n_cat * slot_w + legend_w + 20));
    double bottom = fmin(260, 20 + (longest + TICK_SIZE) * 0.7071);
    plot_rect a = {75, 50, W - legend_w - 20, 600 - bottom};
    double slot = (a.x1 - a.x0) / n_cat, bw = 0.8 * slot / n_series;
    plot_canvas *c = plot_canvas_new(W, 600, WHITE);
    plot_text(c, W / 2.0, 16, title, TITLE_SIZE, 0, 0.5, 0, BLACK);
    grouped_axis(c, a, ymin, ymax, ylabel);
#define GY(v) (a.y1 - (fmin(ymax, fmax(ymin, (v))) - ymin) / (ymax - ymin) * (a.y1 - a.y0))
    for (int k = 0; k < n_cat; k++) {
        for (int s = 0; s < n_series; s++) {
            double v = values[(size_t)s * n_cat + k], x = a.x0 + k * slot + 0.1 * slot + s * bw;
            if (isnan(v)) continue;
            plot_fill_rect(c, x, GY(v), x + bw, a.y1, plot_series_colour(s));
            double e = errs ? errs[(size_t)s * n_cat + k] : NAN;
            if (!(isfinite(e) && e > 0)) continue;
            double cx = floor(x + bw / 2) + 0.5, w = fmax(1.5, bw / 4); /* on a pixel centre */
            plot_line(c, cx, GY(v - e), cx, GY(v + e), 1, BLACK, 0, 0);
            plot_line(c, cx - w, GY(v - e), cx + w, GY(v - e), 1, BLACK, 0, 0);
            plot_line(c, cx - w, GY(v + e), cx + w, GY(v + e), 1, BLACK, 0, 0);
        }
        double cx = a.x0 + (k + 0.5) * slot;
        plot_line(c, cx, a.y1, cx, a.y1 + 5, 1, BLACK, 0, 0);
        plot_text(c, cx + 0.3 * TICK_SIZE, a.y1 + 9, cats[k], TICK_SIZE, 45, 1, 0, BLACK);
    }
#undef GY
    frame(c, a);
    double lx = a.x1 + 14, ly = a.y0;
    for (int s = 0; s < n_series; s++) {
        double y = ly + 8 + 18 * s;
        plot_fill_rect(c, lx, y - 5, lx + 24, y + 5, plot_series_colour(s));
        plot_text(c, lx + 30, y, series[s], TICK_SIZE, 0, 0, 0.5, DARK);
    }
    if (area) *area = a;
    return save_and_free(c, path, err);
}
