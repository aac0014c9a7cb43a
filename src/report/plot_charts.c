/* plot_charts.c: the per-point AUROC bar plot (docs/method.md, "Figures") and the heat
 * map across OOD sets. Each computes its layout, draws on a canvas (plot.c) and saves
 * PNG + SVG + PDF. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "plot_style.h"

const plot_rgb PLOT_GREEN = {0, 128, 0}, PLOT_ORANGE = {255, 165, 0}, PLOT_RED = {220, 0, 0},
               PLOT_CHANCE = {110, 110, 110}, PLOT_HATCH = {255, 255, 255};

static int save_and_free(plot_canvas *c, const char *stem, lir_error *err) {
    int rc = plot_save(c, stem, err);
    plot_canvas_free(c);
    return rc;
}

/* ---- bar plot ---- */

enum { BARS_W = 1200, BARS_H = 600 };
#define BAR_WIDTH 0.7 /* of a slot */
#define LABEL_GAP 9   /* from the axis to the slanted labels */

static double bars_y(const plot_bars_layout *l, double v) {
    double t = (v - l->ymin) / (l->ymax - l->ymin);
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    return l->area.y1 - t * (l->area.y1 - l->area.y0);
}

/* Cap height of the slanted x labels and of the values above the bars. */
static double bars_label_size(int n) { return fmin(8.5, ((BARS_W - 90.0) / n * 0.7071 - 2) / 1.4); }

static double bars_value_size(const plot_bars_layout *l, int n) {
    double slot = (l->area.x1 - l->area.x0) / n;
    return fmin(8, (slot - 6) / plot_text_width("0.00", 1));
}

void plot_bars_layout_of(const plot_bars *b, plot_bars_layout *l) {
    int n = b->n;
    double ls = bars_label_size(n), longest = 0;
    for (int i = 0; i < n; i++) longest = fmax(longest, plot_text_width(b->names[i], ls));
    double bottom = LABEL_GAP + 6 + (longest + 1.3 * ls) * 0.7071 + 28; /* + x-axis label */
    if (bottom > 260) bottom = 260;
    plot_rect a = {72, 72, BARS_W - 15, BARS_H - bottom};
    for (int pass = 0; pass < 2; pass++) /* widen the left margin until no label is cut */
        for (int i = 0; i < n; i++) {
            double slot = (a.x1 - a.x0) / n;
            double need = 4 + plot_text_width(b->names[i], ls) * 0.7071 - (i + 0.5) * slot;
            if (need > a.x0 && need < BARS_W / 3.0) a.x0 = ceil(need);
        }
    l->area = a;
    l->tick_hi = 1;
    if (b->seed_mode) l->tick_lo = 0.5, l->tick_step = 0.05;
    else l->tick_lo = 0, l->tick_step = 0.1;
    l->ymin = l->tick_lo;
    l->ymax = 1 + 0.1 * (1 - l->tick_lo); /* head room: labels of 0.99 stay clear of the frame */
    double vs = bars_value_size(l, n);
    l->label_top = a.y1;
    for (int i = 0; i < n; i++) {
        double y = isnan(b->values[i]) ? a.y1 : bars_y(l, b->values[i]);
        l->label_top = fmin(l->label_top, y - 4 - vs);
    }
}

static void bars_axes(plot_canvas *c, const plot_bars *b, const plot_bars_layout *l) {
    plot_rect a = l->area;
    char buf[32];
    int nt = (int)lround((l->tick_hi - l->tick_lo) / l->tick_step);
    for (int k = 0; k <= nt; k++) {
        double v = l->tick_lo + k * l->tick_step, y = round(bars_y(l, v)) + 0.5;
        if (k > 0) plot_line(c, a.x0, y, a.x1, y, 1, PLOT_GRID, 0, 0);
        plot_line(c, a.x0 - 5, y, a.x0, y, 1, PLOT_BLACK, 0, 0);
        snprintf(buf, sizeof buf, "%.*f", b->seed_mode ? 2 : 1, v);
        plot_text(c, a.x0 - 8, y, buf, TICK_SIZE, 0, 1, 0.5, PLOT_BLACK);
    }
    const char *ylabel = b->seed_mode ? "max(AUROC, 1 - AUROC), seed-compatible"
                                      : "AUROC (raw, OOD positive)";
    plot_text(c, a.x0 - 48, (a.y0 + a.y1) / 2, ylabel, LABEL_SIZE, 90, 0.5, 0.5, PLOT_BLACK);
    plot_text(c, (a.x0 + a.x1) / 2, BARS_H - 8, "hook point (network order)", LABEL_SIZE, 0, 0.5,
              1, PLOT_BLACK);
    if (!b->seed_mode) {
        double y = bars_y(l, 0.5);
        plot_line(c, a.x0, y, a.x1, y, 1.5, PLOT_CHANCE, 6, 4);
    }
}

static void bars_draw(plot_canvas *c, const plot_bars *b, const plot_bars_layout *l) {
    plot_rect a = l->area;
    double slot = (a.x1 - a.x0) / b->n, ls = bars_label_size(b->n), ref_v = b->values[b->ref];
    for (int i = 0; i < b->n; i++) {
        double cx = a.x0 + (i + 0.5) * slot, v = b->values[i];
        double x0 = cx - BAR_WIDTH / 2 * slot, x1 = cx + BAR_WIDTH / 2 * slot;
        if (!isnan(v)) {
            plot_fill_rect(c, x0, bars_y(l, v), x1, a.y1, v > ref_v ? PLOT_GREEN : PLOT_ORANGE);
            if (b->seed_mode && b->flipped && b->flipped[i])
                plot_hatch_rect(c, x0, bars_y(l, v), x1, a.y1, PLOT_HATCH, 6, 1.5);
        }
        plot_line(c, cx, a.y1, cx, a.y1 + 5, 1, PLOT_BLACK, 0, 0);
        plot_text(c, cx + 0.3 * ls, a.y1 + LABEL_GAP, b->names[i], ls, 45, 1, 0, PLOT_BLACK);
    }
    if (!isnan(ref_v)) plot_line(c, a.x0, bars_y(l, ref_v), a.x1, bars_y(l, ref_v), 2, PLOT_RED, 2, 3);
    /* values above the bars, after the lines so that no line hides them */
    double vs = bars_value_size(l, b->n);
    char buf[32];
    for (int i = 0; i < b->n; i++) {
        double v = b->values[i], y = isnan(v) ? a.y1 : bars_y(l, v);
        snprintf(buf, sizeof buf, isnan(v) ? "nan" : "%.2f", v);
        plot_text(c, a.x0 + (i + 0.5) * slot, y - 4, buf, vs, 0, 0.5, 1, PLOT_BLACK);
    }
}

/* One legend row centred over the plot: key (28 wide) + text per entry. */
static void bars_legend(plot_canvas *c, const plot_bars *b, const plot_bars_layout *l) {
    char fc[64];
    snprintf(fc, sizeof fc, isnan(b->values[b->ref]) ? "%s AUROC (nan)" : "%s AUROC = %.2f",
             b->names[b->ref], b->values[b->ref]);
    const char *text[5] = {"above the final layer", "at or below it", fc,
                           b->seed_mode ? "flipped: raw AUROC < 0.5" : "chance (0.5)"};
    int n = 4;
    double w = 0;
    for (int k = 0; k < n; k++) w += 28 + 6 + plot_text_width(text[k], LABEL_SIZE) + 22;
    double x = (l->area.x0 + l->area.x1 - w + 22) / 2, y = 56;
    for (int k = 0; k < n; k++) {
        double kx = x + 14;
        if (k < 2) plot_fill_rect(c, kx - 8, y - 6, kx + 8, y + 6, k ? PLOT_ORANGE : PLOT_GREEN);
        else if (k == 2) plot_key_line(c, kx, y, PLOT_RED, 2, 2, 3);
        else if (!b->seed_mode) plot_key_line(c, kx, y, PLOT_CHANCE, 1.5, 6, 4);
        else {
            plot_fill_rect(c, kx - 8, y - 6, kx + 8, y + 6, PLOT_GREY);
            plot_hatch_rect(c, kx - 8, y - 6, kx + 8, y + 6, PLOT_HATCH, 6, 1.5);
        }
        plot_text(c, x + 34, y, text[k], LABEL_SIZE, 0, 0, 0.5, PLOT_BLACK);
        x += 28 + 6 + plot_text_width(text[k], LABEL_SIZE) + 22;
    }
}

int plot_auroc_bars(const plot_bars *b, const char *stem, plot_bars_layout *lay, lir_error *err) {
    if (b->n <= 0 || b->ref < 0 || b->ref >= b->n)
        return lir_fail(err, "bar plot %s: need n > 0 and 0 <= ref < n (n %d, ref %d)", stem,
                        b->n, b->ref);
    plot_bars_layout l;
    plot_bars_layout_of(b, &l);
    plot_canvas *c = plot_canvas_new(BARS_W, BARS_H, PLOT_WHITE);
    char title[512], sub[512];
    snprintf(title, sizeof title, "Energy AUROC per hook point: %s (ID) vs. %s (OOD), %s",
             b->id_name, b->ood_name,
             b->seed_mode ? "seed-compatible max(AUROC, 1 - AUROC)" : "raw");
    snprintf(sub, sizeof sub,
             "score E = -logsumexp(activation) at each point, OOD = positive class%s%s",
             b->weights ? "; weights " : "", b->weights ? b->weights : "");
    plot_text(c, BARS_W / 2.0, 10, title, TITLE_SIZE, 0, 0.5, 0, PLOT_BLACK);
    plot_text(c, BARS_W / 2.0, 31, sub, SUBTITLE_SIZE, 0, 0.5, 0, PLOT_DARK);
    bars_axes(c, b, &l);
    bars_draw(c, b, &l);
    plot_frame(c, l.area);
    bars_legend(c, b, &l);
    if (lay) *lay = l;
    return save_and_free(c, stem, err);
}

/* ---- heat map ---- */

plot_rgb plot_colormap(double t) {
    /* ColorBrewer RdBu, 5 classes, blue at 0 and red at 1 */
    static const plot_rgb stops[5] = {
        {5, 113, 176}, {146, 197, 222}, {247, 247, 247}, {244, 165, 130}, {202, 0, 32}};
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

static void heat_range(const plot_heat *h, double *lo, double *hi) {
    *lo = h->vmin, *hi = h->vmax;
    if (*lo < *hi) return;
    *lo = INFINITY, *hi = -INFINITY;
    for (int i = 0; i < h->rows * h->cols; i++)
        if (!isnan(h->values[i])) *lo = fmin(*lo, h->values[i]), *hi = fmax(*hi, h->values[i]);
    if (!(*lo < *hi)) { /* all NaN or one value */
        *lo = isfinite(*lo) ? *lo - 0.5 : 0;
        *hi = *lo + 1;
    }
}

static void heat_cells(plot_canvas *c, const plot_heat *h, plot_rect g, double lo, double hi) {
    double cw = (g.x1 - g.x0) / h->cols, ch = (g.y1 - g.y0) / h->rows;
    char buf[32];
    for (int k = 0; k < h->cols; k++)
        plot_text(c, g.x0 + (k + 0.5) * cw, g.y0 - 8, h->col_names[k], TICK_SIZE, 0, 0.5, 1,
                  PLOT_BLACK);
    for (int r = 0; r < h->rows; r++) {
        double y = g.y0 + r * ch;
        plot_text(c, g.x0 - 8, y + ch / 2, h->row_names[r], TICK_SIZE, 0, 1, 0.5, PLOT_BLACK);
        for (int k = 0; k < h->cols; k++) {
            double v = h->values[(size_t)r * h->cols + k], x = g.x0 + k * cw;
            plot_rgb col = isnan(v) ? PLOT_GREY : plot_colormap((v - lo) / (hi - lo));
            plot_fill_rect(c, x, y, x + cw, y + ch, col);
            double lum = 0.299 * col.r + 0.587 * col.g + 0.114 * col.b;
            snprintf(buf, sizeof buf, isnan(v) ? "nan" : "%.2f", v);
            plot_text(c, x + cw / 2, y + ch / 2, buf, TICK_SIZE, 0, 0.5, 0.5,
                      lum < 128 ? PLOT_WHITE : PLOT_BLACK);
        }
    }
}

/* The colour bar beside grid g: as tall as the grid, or as its label if that is longer. */
static plot_rect heat_bar_rect(const plot_heat *h, plot_rect g) {
    double len = plot_text_width(h->bar_label, LABEL_SIZE) + 10;
    return (plot_rect){g.x1 + 20, g.y0, g.x1 + 38, fmax(g.y1, g.y0 + len)};
}

static void heat_bar(plot_canvas *c, const plot_heat *h, plot_rect g, double lo, double hi) {
    plot_rect bar = heat_bar_rect(h, g);
    for (int j = (int)bar.y0; j < (int)bar.y1; j++)
        plot_fill_rect(c, bar.x0, j, bar.x1, j + 1,
                       plot_colormap((bar.y1 - j - 0.5) / (bar.y1 - bar.y0)));
    plot_frame(c, bar);
    char buf[32];
    for (int k = 0; k <= 4; k++) {
        double y = bar.y1 - k * (bar.y1 - bar.y0) / 4;
        plot_line(c, bar.x1, y, bar.x1 + 4, y, 1, PLOT_BLACK, 0, 0);
        snprintf(buf, sizeof buf, "%.2f", lo + k * (hi - lo) / 4);
        plot_text(c, bar.x1 + 7, y, buf, TICK_SIZE, 0, 0, 0.5, PLOT_BLACK);
    }
    plot_text(c, bar.x1 + 44, (bar.y0 + bar.y1) / 2, h->bar_label, LABEL_SIZE, 90, 0.5, 0,
              PLOT_BLACK);
}

int plot_heatmap(const plot_heat *h, const char *stem, plot_rect *cells, lir_error *err) {
    if (h->rows <= 0 || h->cols <= 0)
        return lir_fail(err, "heat map %s: empty (%d rows, %d columns)", stem, h->rows, h->cols);
    double lo, hi;
    heat_range(h, &lo, &hi);
    double row_w = 0, cw = 64, ch = 20;
    for (int r = 0; r < h->rows; r++)
        row_w = fmax(row_w, plot_text_width(h->row_names[r], TICK_SIZE));
    for (int k = 0; k < h->cols; k++)
        cw = fmax(cw, plot_text_width(h->col_names[k], TICK_SIZE) + 12);
    plot_rect g = {row_w + 20, h->subtitle ? 78 : 64, 0, 0};
    g.x1 = g.x0 + h->cols * cw;
    g.y1 = g.y0 + h->rows * ch;
    double bar_w = 110 + fmin(LABEL_SIZE * 1.4, 20);
    int W = (int)ceil(g.x1 + bar_w), H = (int)ceil(heat_bar_rect(h, g).y1 + 20);
    double tw = fmax(plot_text_width(h->title, TITLE_SIZE),
                     h->subtitle ? plot_text_width(h->subtitle, SUBTITLE_SIZE) : 0) + 40;
    if (W < tw) W = (int)ceil(tw);
    plot_canvas *c = plot_canvas_new(W, H, PLOT_WHITE);
    plot_text(c, W / 2.0, 12, h->title, TITLE_SIZE, 0, 0.5, 0, PLOT_BLACK);
    if (h->subtitle) plot_text(c, W / 2.0, 33, h->subtitle, SUBTITLE_SIZE, 0, 0.5, 0, PLOT_DARK);
    heat_cells(c, h, g, lo, hi);
    heat_bar(c, h, g, lo, hi);
    if (cells) *cells = g;
    return save_and_free(c, stem, err);
}
