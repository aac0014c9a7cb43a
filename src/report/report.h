/* report: what lir shows: the progress line and the raster figures (canvas, charts,
 * PNG output). Includes base only. */
#ifndef LIR_REPORT_H
#define LIR_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "base/base.h"

/* progress: one progress line for long commands (train, eval). On a terminal the
 * line is rewritten in place with '\r' (at most every 0.2 s); in a log file (not a
 * TTY) a full line is printed every `interval` seconds, so logs stay readable. */


typedef struct {
    FILE *f;
    int tty;
    double interval; /* seconds between lines in a log */
    double last;     /* time of the last line written */
    int open;        /* a '\r' line is on screen and needs a newline before other output */
} progress;

/* interval: seconds between lines when f is not a terminal. */
void progress_init(progress *p, FILE *f, double interval);
/* Shows the line (printf format) if it is due; force = 1 shows it now. */
void progress_update(progress *p, int force, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Ends an open terminal line so that other output starts on a fresh line. */
void progress_break(progress *p);

/* "1h02m" / "4m05s" / "12s" into buf. */
void progress_duration(double seconds, char *buf, size_t n);

/* plot: a small RGB raster canvas (rectangles, anti-aliased lines, dotted lines,
 * scaled / rotated anti-aliased text in our own bitmap font), PNG output through
 * libpng written atomically, and the charts lir draws: the per-layer AUROC bar plot
 * (METHOD.md section 1), a heat map and a line plot for training curves.
 * Pixel coordinates: x to the right, y downwards, pixel (i, j) covers
 * [i, i+1) x [j, j+1). */



typedef struct {
    uint8_t r, g, b;
} plot_rgb;

typedef struct {
    int w, h;
    uint8_t *rgb; /* [h][w][3] */
} plot_canvas;

typedef struct {
    double x0, y0, x1, y1; /* left, top, right, bottom in pixels */
} plot_rect;

/* ---- plot.c: canvas ---- */
plot_canvas *plot_canvas_new(int w, int h, plot_rgb background);
void plot_canvas_free(plot_canvas *c);
plot_rgb plot_get(const plot_canvas *c, int x, int y);
/* Blends col over pixel (x, y) with opacity alpha in [0, 1]; outside pixels ignored. */
void plot_blend(plot_canvas *c, int x, int y, plot_rgb col, double alpha);
/* Fills every pixel whose centre lies in [x0, x1) x [y0, y1) (crisp edges). */
void plot_fill_rect(plot_canvas *c, double x0, double y0, double x1, double y1, plot_rgb col);
/* Anti-aliased segment of the given width. dash > 0 draws dash-long pieces separated
 * by gap-long holes (measured along the segment from its start); dash = 0: solid. */
void plot_line(plot_canvas *c, double x0, double y0, double x1, double y1, double width,
               plot_rgb col, double dash, double gap);
/* Writes the canvas as an 8-bit RGB PNG via "<path>.tmp" + rename. */
int plot_save_png(const plot_canvas *c, const char *path, lir_error *err);

/* ---- font.c: text in our 5x7 (+2 descender rows) bitmap font, ASCII 32..126 ----
 * size: height of a capital letter in pixels (any value; drawn anti-aliased).
 * angle: degrees counter-clockwise as seen on screen (45 for slanted axis labels).
 * (ax, ay): the point of the text box that lands on (x, y): ax 0 = start of the text,
 * 1 = end; ay 0 = top of the capitals, 1 = baseline. Other bytes draw as '?'. */
void plot_text(plot_canvas *c, double x, double y, const char *s, double size, double angle,
               double ax, double ay, plot_rgb col);
double plot_text_width(const char *s, double size); /* length along the baseline, px */

/* ---- plot_charts.c ---- */

/* METHOD.md bar plot, 1200x600: bar i is centred at x = area.x0 + (i + 0.5) *
 * (area.x1 - area.x0) / n and rises from the axis (area.y1) to
 * y = area.y1 - clamp((v - 0.5) / 0.5, 0, 1) * (area.y1 - area.y0). Green when
 * v > values[ref] (strictly), orange otherwise; red dotted line at values[ref].
 * Title "Per-layer AUROC Scores: <id_name> (ID) vs. <ood_name> (OOD)". NaN values get
 * no bar and the label "nan". area (may be NULL) receives the plot rectangle. */
int plot_auroc_bars(const char *const *names, const double *values, int n, int ref,
                    const char *id_name, const char *ood_name, const char *path,
                    plot_rect *area, lir_error *err);

extern const plot_rgb PLOT_GREEN, PLOT_ORANGE, PLOT_RED;

/* Sequential colour scale, t in [0, 1] (clamped): dark blue -> teal -> yellow. */
plot_rgb plot_colormap(double t);

/* Heat map of values[rows][cols] (e.g. rows = hook points, cols = OOD sets), each cell
 * coloured plot_colormap((v - vmin) / (vmax - vmin)) and labelled with 2 decimals; a
 * colour bar with ticks at the right. vmin >= vmax: use the data's range. The canvas
 * size follows the number of cells. cells (may be NULL) receives the rectangle of the
 * grid: cell (r, c) spans x0 + c * cw .. + cw, y0 + r * ch .. + ch with
 * cw = (x1 - x0) / cols, ch = (y1 - y0) / rows. NaN cells are grey and say "nan". */
int plot_heatmap(const char *title, const char *const *row_names, int rows,
                 const char *const *col_names, int cols, const double *values, double vmin,
                 double vmax, const char *path, plot_rect *cells, lir_error *err);

/* Line plot (1000x600) of several named series over x[n] (e.g. epochs), legend top
 * right, axes with "nice" ticks. NaN points break a line. area (may be NULL) receives
 * the plot rectangle; the axes map [xmin, xmax] x [ymin, ymax] of the ticks' range. */
typedef struct {
    const char *name;
    const double *y; /* [n] */
} plot_series;

plot_rgb plot_series_colour(int s); /* colour of series s (cycles through 8) */

int plot_lines(const char *title, const char *xlabel, const char *ylabel, const double *x,
               int n, const plot_series *series, int n_series, const char *path,
               plot_rect *area, lir_error *err);

/* Grouped bar chart: for each of n_cat categories (e.g. OOD sets) n_series bars side by
 * side (e.g. runs), bar (s, c) with height values[s * n_cat + c] on a y axis from ymin
 * to ymax (values outside are clipped; NaN: no bar), in plot_series_colour(s), with an
 * error bar of +- errs[s * n_cat + c] when errs is not NULL and the entry is finite and
 * positive. Category labels slanted below the axis, the series legend right of the plot.
 * The canvas is 600 high and wide enough for the bars (at least 900). Geometry, with
 * a the plot rectangle (area, may be NULL, receives it), slot = (a.x1 - a.x0) / n_cat and
 * bw = 0.8 * slot / n_series: bar (s, c) spans x from a.x0 + c * slot + 0.1 * slot +
 * s * bw to that + bw, and y from a.y1 - (v - ymin) / (ymax - ymin) * (a.y1 - a.y0)
 * down to a.y1. */
int plot_grouped_bars(const char *title, const char *ylabel, const char *const *cats, int n_cat,
                      const char *const *series, int n_series, const double *values,
                      const double *errs, double ymin, double ymax, const char *path,
                      plot_rect *area, lir_error *err);

#endif
