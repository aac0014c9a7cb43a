/* report: what lir shows: the progress line and the figures (a cairo canvas, the
 * charts, PNG + SVG + PDF output). Includes base only. */
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

/* plot: a canvas drawn through cairo (rectangles, hatching, lines, dots, text in
 * DejaVu Sans) that plot_save writes as PNG, SVG and PDF from the same drawing, and
 * the charts lir draws: the per-point AUROC bar plot (docs/method.md), a heat map and
 * a line plot for training curves. Coordinates: x to the right, y downwards, one unit
 * is one PNG pixel (one point in SVG / PDF). */

typedef struct {
    uint8_t r, g, b;
} plot_rgb;

typedef struct plot_canvas plot_canvas;

typedef struct {
    double x0, y0, x1, y1; /* left, top, right, bottom */
} plot_rect;

/* ---- plot.c: canvas ---- */
plot_canvas *plot_canvas_new(int w, int h, plot_rgb background);
void plot_canvas_free(plot_canvas *c);
/* Fills [x0, x1) x [y0, y1), corners rounded to whole units (crisp edges in the PNG). */
void plot_fill_rect(plot_canvas *c, double x0, double y0, double x1, double y1, plot_rgb col);
/* Diagonal lines (rising to the right), `spacing` apart, clipped to the rectangle. */
void plot_hatch_rect(plot_canvas *c, double x0, double y0, double x1, double y1, plot_rgb col,
                     double spacing, double width);
/* Segment of the given width. dash > 0 draws dash-long pieces separated by gap-long
 * holes (from the segment's start); dash = 0: solid. */
void plot_line(plot_canvas *c, double x0, double y0, double x1, double y1, double width,
               plot_rgb col, double dash, double gap);
/* Connected segments through n points xy[2 * i], xy[2 * i + 1] (round joins). */
void plot_polyline(plot_canvas *c, const double *xy, int n, double width, plot_rgb col);
void plot_dot(plot_canvas *c, double x, double y, double r, plot_rgb col);
/* Text; size: height of a capital letter. angle: degrees counter-clockwise as seen
 * (45 for slanted axis labels). (ax, ay): the point of the text box that lands on
 * (x, y): ax 0 = start of the text, 1 = end; ay 0 = top of the capitals, 1 = baseline. */
void plot_text(plot_canvas *c, double x, double y, const char *s, double size, double angle,
               double ax, double ay, plot_rgb col);
double plot_text_width(const char *s, double size); /* advance along the baseline */
/* Writes <stem>.png, <stem>.svg and <stem>.pdf, each via "<file>.tmp" + rename. */
int plot_save(const plot_canvas *c, const char *stem, lir_error *err);

/* ---- plot_charts.c ---- */

extern const plot_rgb PLOT_GREEN, PLOT_ORANGE, PLOT_RED, PLOT_CHANCE, PLOT_HATCH;

/* The per-point AUROC bar plot. values are raw AUROC (axis 0 to 1, a dashed chance
 * line at 0.5) or, with seed_mode, max(AUROC, 1 - AUROC) (axis from 0.5, the title and
 * y label say so, bars with flipped[i] set are hatched). Bar i is green when values[i]
 * > values[ref] (strictly), orange otherwise; a red dotted line at values[ref]. The
 * title names the ID and OOD sets, the score and the weights; a legend row says what
 * every colour and line means. NaN values get no bar and the label "nan". */
typedef struct {
    const char *const *names; /* [n] point names, x labels */
    const double *values;     /* [n] */
    const unsigned char *flipped; /* [n] or NULL (seed mode: raw AUROC < 0.5) */
    int n, ref;               /* ref: the final layer, drawn as the red line */
    int seed_mode;
    const char *id_name, *ood_name;
    const char *weights; /* shown in the subtitle; NULL: not named */
} plot_bars;

/* Where things went: the plot rectangle, the values at its bottom and top edge
 * (y = area.y1 - (v - ymin) / (ymax - ymin) * (area.y1 - area.y0)), the labelled
 * ticks' range, and the topmost y any value label reaches. */
typedef struct {
    plot_rect area;
    double ymin, ymax, tick_lo, tick_hi, tick_step;
    double label_top;
} plot_bars_layout;

/* The layout plot_auroc_bars draws with (canvas 1200 x 600). */
void plot_bars_layout_of(const plot_bars *b, plot_bars_layout *lay);
/* Draws and saves <stem>.{png,svg,pdf}; lay (may be NULL) receives the layout. */
int plot_auroc_bars(const plot_bars *b, const char *stem, plot_bars_layout *lay, lir_error *err);

/* Diverging colour scale, t in [0, 1] (clamped): blue -> near-white at 0.5 -> red. */
plot_rgb plot_colormap(double t);

/* Heat map of values[rows][cols] (e.g. rows = hook points, cols = OOD sets), each cell
 * coloured plot_colormap((v - vmin) / (vmax - vmin)) (so the map's white is the
 * midpoint of [vmin, vmax]) and labelled with 2 decimals; a colour bar with ticks and
 * bar_label at the right. vmin >= vmax: the data's range. The canvas size follows the
 * number of cells. NaN cells are grey and say "nan". */
typedef struct {
    const char *title, *subtitle; /* subtitle may be NULL */
    const char *const *row_names;
    int rows;
    const char *const *col_names;
    int cols;
    const double *values;
    double vmin, vmax;
    const char *bar_label;
} plot_heat;

/* cells (may be NULL) receives the grid: cell (r, c) spans x0 + c * cw .. + cw,
 * y0 + r * ch .. + ch with cw = (x1 - x0) / cols, ch = (y1 - y0) / rows. */
int plot_heatmap(const plot_heat *h, const char *stem, plot_rect *cells, lir_error *err);

/* ---- plot_lines.c ---- */

/* Line plot (1000 x 600) of named series over x[n] (e.g. epochs), legend top right,
 * axes with round ticks; log_y: a logarithmic y axis (ticks at powers of ten; values
 * <= 0 are not drawn). NaN points break a line. */
typedef struct {
    const char *name;
    const double *y; /* [n] */
} plot_series;

typedef struct {
    const char *title, *xlabel, *ylabel;
    const double *x; /* [n] */
    int n;
    const plot_series *series;
    int n_series;
    int log_y;
} plot_chart;

plot_rgb plot_series_colour(int s); /* colour of series s (cycles through 8) */

/* area (may be NULL) receives the plot rectangle; the axes map the ticks' range
 * [xlo, xhi] x [ylo, yhi] (log10 of it with log_y) onto it, returned in range
 * (may be NULL) as {xlo, ylo, xhi, yhi}. */
int plot_lines(const plot_chart *ch, const char *stem, plot_rect *area, plot_rect *range,
               lir_error *err);

/* ---- plot_grouped.c ---- */

/* Grouped bar chart (<stem>.{png,svg,pdf}): for each of n_cat categories (e.g. OOD sets) n_series bars side by
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
                      const double *errs, double ymin, double ymax, const char *stem,
                      plot_rect *area, lir_error *err);

#endif
