/* plot_grouped.c: the grouped bar chart of `lir compare` (categories x series, error
 * bars, legend), drawn on a canvas (plot.c) and saved as PNG + SVG + PDF. */
#include <math.h>
#include <stdio.h>

#include "plot_style.h"

/* y axis of a grouped bar chart: grid, ticks and their labels, the axis title. */
static void grouped_axis(plot_canvas *c, plot_rect a, double ymin, double ymax,
                         const char *ylabel) {
    double step = plot_nice_step(ymin, ymax, 5);
    int d = plot_step_decimals(step);
    char buf[64];
    for (long k = (long)ceil(ymin / step - 1e-9); k * step <= ymax + 1e-9 * step; k++) {
        double v = k * step + 0.0, y = a.y1 - (v - ymin) / (ymax - ymin) * (a.y1 - a.y0);
        plot_line(c, a.x0, y, a.x1, y, 1, PLOT_GRID, 0, 0);
        plot_line(c, a.x0 - 5, y, a.x0, y, 1, PLOT_BLACK, 0, 0);
        snprintf(buf, sizeof buf, "%.*f", d, v);
        plot_text(c, a.x0 - 8, y, buf, TICK_SIZE, 0, 1, 0.5, PLOT_BLACK);
    }
    plot_text(c, 18, (a.y0 + a.y1) / 2, ylabel, LABEL_SIZE, 90, 0.5, 0.5, PLOT_BLACK);
}

int plot_grouped_bars(const char *title, const char *ylabel, const char *const *cats, int n_cat,
                      const char *const *series, int n_series, const double *values,
                      const double *errs, double ymin, double ymax, const char *stem,
                      plot_rect *area, lir_error *err) {
    if (n_cat <= 0 || n_series <= 0 || !(ymin < ymax))
        return lir_fail(err, "grouped bar chart %s: need categories, series and ymin < ymax",
                        stem);
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
    plot_canvas *c = plot_canvas_new(W, 600, PLOT_WHITE);
    plot_text(c, W / 2.0, 16, title, TITLE_SIZE, 0, 0.5, 0, PLOT_BLACK);
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
            plot_line(c, cx, GY(v - e), cx, GY(v + e), 1, PLOT_BLACK, 0, 0);
            plot_line(c, cx - w, GY(v - e), cx + w, GY(v - e), 1, PLOT_BLACK, 0, 0);
            plot_line(c, cx - w, GY(v + e), cx + w, GY(v + e), 1, PLOT_BLACK, 0, 0);
        }
        double cx = a.x0 + (k + 0.5) * slot;
        plot_line(c, cx, a.y1, cx, a.y1 + 5, 1, PLOT_BLACK, 0, 0);
        plot_text(c, cx + 0.3 * TICK_SIZE, a.y1 + 9, cats[k], TICK_SIZE, 45, 1, 0, PLOT_BLACK);
    }
#undef GY
    plot_frame(c, a);
    double lx = a.x1 + 14, ly = a.y0;
    for (int s = 0; s < n_series; s++) {
        double y = ly + 8 + 18 * s;
        plot_fill_rect(c, lx, y - 5, lx + 24, y + 5, plot_series_colour(s));
        plot_text(c, lx + 30, y, series[s], TICK_SIZE, 0, 0, 0.5, PLOT_DARK);
    }
    if (area) *area = a;
    int rc = plot_save(c, stem, err);
    plot_canvas_free(c);
    return rc;
}
