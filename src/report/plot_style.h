/* plot_style.h: what the charts share inside report: colours, text sizes and the
 * frame around a plot area (drawn in plot.c). */
#ifndef LIR_PLOT_STYLE_H
#define LIR_PLOT_STYLE_H

#include "report.h"

#define TITLE_SIZE 12
#define SUBTITLE_SIZE 9
#define LABEL_SIZE 9.5
#define TICK_SIZE 8

extern const plot_rgb PLOT_WHITE, PLOT_BLACK, PLOT_GRID, PLOT_GREY, PLOT_DARK;

/* Round step for about `target` intervals over [lo, hi]: 1, 2 or 5 times 10^k
 * (plot_lines.c), and the decimals its tick labels need. */
double plot_nice_step(double lo, double hi, int target);
int plot_step_decimals(double step);

/* One-unit black frame along the inside of a. */
void plot_frame(plot_canvas *c, plot_rect a);

/* A legend key of width 28 centred on (x, y): a line (dash as plot_line) */
void plot_key_line(plot_canvas *c, double x, double y, plot_rgb col, double width, double dash,
                   double gap);

#endif
