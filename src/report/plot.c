/* plot.c: the canvas under every chart. Drawing goes through cairo onto a recording
 * surface; plot_save replays that one recording into a PNG (image surface), an SVG and
 * a PDF (text set in a real font, DejaVu Sans through fontconfig), each written
 * atomically. So PNG and vector output come from the same drawing calls. */
#include "plot_style.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PLOT_FONT "DejaVu Sans"

struct plot_canvas {
    int w, h;
    cairo_surface_t *rec;
    cairo_t *cr;
};

/* Text metrics must not depend on the target: no hinting of metrics anywhere. */
static void font_setup(cairo_t *cr) {
    cairo_font_options_t *o = cairo_font_options_create();
    cairo_font_options_set_hint_metrics(o, CAIRO_HINT_METRICS_OFF);
    cairo_font_options_set_hint_style(o, CAIRO_HINT_STYLE_NONE);
    cairo_set_font_options(cr, o);
    cairo_font_options_destroy(o);
    cairo_select_font_face(cr, PLOT_FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
}

/* Sets the font so that a capital letter is `size` units high. */
static void font_size(cairo_t *cr, double size) {
    cairo_text_extents_t e;
    cairo_set_font_size(cr, 100);
    cairo_text_extents(cr, "H", &e);
    double cap = e.height > 0 ? e.height / 100 : 0.73;
    cairo_set_font_size(cr, size / cap);
}

static void set_colour(cairo_t *cr, plot_rgb col) {
    cairo_set_source_rgb(cr, col.r / 255.0, col.g / 255.0, col.b / 255.0);
}

plot_canvas *plot_canvas_new(int w, int h, plot_rgb background) {
    plot_canvas *c = xmalloc(sizeof *c);
    c->w = w;
    c->h = h;
    cairo_rectangle_t ext = {0, 0, w, h};
    c->rec = cairo_recording_surface_create(CAIRO_CONTENT_COLOR, &ext);
    c->cr = cairo_create(c->rec);
    font_setup(c->cr);
    set_colour(c->cr, background);
    cairo_paint(c->cr);
    return c;
}

void plot_canvas_free(plot_canvas *c) {
    if (!c) return;
    cairo_destroy(c->cr);
    cairo_surface_destroy(c->rec);
    free(c);
}

void plot_fill_rect(plot_canvas *c, double x0, double y0, double x1, double y1, plot_rgb col) {
    /* whole pixels, so that bars have crisp edges in the PNG */
    x0 = round(x0), x1 = round(x1), y0 = round(y0), y1 = round(y1);
    if (x1 <= x0 || y1 <= y0) return;
    set_colour(c->cr, col);
    cairo_rectangle(c->cr, x0, y0, x1 - x0, y1 - y0);
    cairo_fill(c->cr);
}

void plot_hatch_rect(plot_canvas *c, double x0, double y0, double x1, double y1, plot_rgb col,
                     double spacing, double width) {
    x0 = round(x0), x1 = round(x1), y0 = round(y0), y1 = round(y1);
    if (x1 <= x0 || y1 <= y0 || spacing <= 0) return;
    cairo_t *cr = c->cr;
    cairo_save(cr);
    cairo_rectangle(cr, x0, y0, x1 - x0, y1 - y0);
    cairo_clip(cr);
    set_colour(cr, col);
    cairo_set_line_width(cr, width);
    double h = y1 - y0;
    for (double x = x0 - h; x < x1; x += spacing) { /* lines rising to the right */
        cairo_move_to(cr, x, y1);
        cairo_line_to(cr, x + h, y0);
    }
    cairo_stroke(cr);
    cairo_restore(cr);
}

void plot_line(plot_canvas *c, double x0, double y0, double x1, double y1, double width,
               plot_rgb col, double dash, double gap) {
    cairo_t *cr = c->cr;
    cairo_save(cr);
    set_colour(cr, col);
    cairo_set_line_width(cr, width);
    if (dash > 0) {
        double d[2] = {dash, gap};
        cairo_set_dash(cr, d, 2, 0);
    }
    cairo_move_to(cr, x0, y0);
    cairo_line_to(cr, x1, y1);
    cairo_stroke(cr);
    cairo_restore(cr);
}

void plot_polyline(plot_canvas *c, const double *xy, int n, double width, plot_rgb col) {
    if (n < 2) return;
    cairo_t *cr = c->cr;
    cairo_save(cr);
    set_colour(cr, col);
    cairo_set_line_width(cr, width);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_move_to(cr, xy[0], xy[1]);
    for (int i = 1; i < n; i++) cairo_line_to(cr, xy[2 * i], xy[2 * i + 1]);
    cairo_stroke(cr);
    cairo_restore(cr);
}

void plot_dot(plot_canvas *c, double x, double y, double r, plot_rgb col) {
    set_colour(c->cr, col);
    cairo_new_sub_path(c->cr);
    cairo_arc(c->cr, x, y, r, 0, 2 * M_PI);
    cairo_fill(c->cr);
}

void plot_text(plot_canvas *c, double x, double y, const char *s, double size, double angle,
               double ax, double ay, plot_rgb col) {
    cairo_t *cr = c->cr;
    cairo_save(cr);
    font_size(cr, size);
    cairo_text_extents_t e;
    cairo_text_extents(cr, s, &e);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, -angle * M_PI / 180);
    /* origin at the baseline start; the anchor (ax, ay) on [0, width] x [-size, 0] */
    cairo_move_to(cr, -ax * e.x_advance, size * (1 - ay));
    set_colour(cr, col);
    cairo_show_text(cr, s);
    cairo_restore(cr);
}

double plot_text_width(const char *s, double size) {
    cairo_surface_t *sf = cairo_image_surface_create(CAIRO_FORMAT_A8, 1, 1);
    cairo_t *cr = cairo_create(sf);
    font_setup(cr);
    font_size(cr, size);
    cairo_text_extents_t e;
    cairo_text_extents(cr, s, &e);
    cairo_destroy(cr);
    cairo_surface_destroy(sf);
    return e.x_advance;
}

/* ---- output ---- */

static cairo_status_t write_stream(void *closure, const unsigned char *data, unsigned int n) {
    return fwrite(data, 1, n, (FILE *)closure) == n ? CAIRO_STATUS_SUCCESS
                                                    : CAIRO_STATUS_WRITE_ERROR;
}

static cairo_status_t replay(const plot_canvas *c, cairo_surface_t *target) {
    cairo_t *cr = cairo_create(target);
    cairo_set_source_surface(cr, c->rec, 0, 0);
    cairo_paint(cr);
    cairo_status_t st = cairo_status(cr);
    cairo_destroy(cr);
    return st;
}

/* Writes one format into an open file; returns cairo's status. */
static cairo_status_t write_format(const plot_canvas *c, const char *ext, FILE *f) {
    cairo_surface_t *s;
    if (!strcmp(ext, "png"))
        s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, c->w, c->h);
    else if (!strcmp(ext, "svg"))
        s = cairo_svg_surface_create_for_stream(write_stream, f, c->w, c->h);
    else {
        s = cairo_pdf_surface_create_for_stream(write_stream, f, c->w, c->h);
        /* no creation date: the same figure gives the same bytes */
        cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "lir");
        cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATE_DATE, "");
    }
    cairo_status_t st = replay(c, s);
    if (st == CAIRO_STATUS_SUCCESS && !strcmp(ext, "png"))
        st = cairo_surface_write_to_png_stream(s, write_stream, f);
    cairo_surface_finish(s);
    if (st == CAIRO_STATUS_SUCCESS) st = cairo_surface_status(s);
    cairo_surface_destroy(s);
    return st;
}

int plot_save(const plot_canvas *c, const char *stem, lir_error *err) {
    static const char *ext[3] = {"png", "svg", "pdf"};
    for (int k = 0; k < 3; k++) {
        char path[4100];
        if ((size_t)snprintf(path, sizeof path, "%s.%s", stem, ext[k]) >= sizeof path)
            return lir_fail(err, "%s: figure path too long", stem);
        atomic_file af;
        if (atomic_open(&af, path, err)) return -1;
        cairo_status_t st = write_format(c, ext[k], af.f);
        if (st != CAIRO_STATUS_SUCCESS) {
            atomic_abort(&af);
            return lir_fail(err, "%s: writing the figure failed: %s", path,
                            cairo_status_to_string(st));
        }
        if (atomic_close(&af, err)) return -1;
    }
    return 0;
}

/* ---- shared by the charts (plot_style.h) ---- */

const plot_rgb PLOT_WHITE = {255, 255, 255}, PLOT_BLACK = {0, 0, 0},
               PLOT_GRID = {225, 225, 225}, PLOT_GREY = {160, 160, 160},
               PLOT_DARK = {60, 60, 60};

void plot_frame(plot_canvas *c, plot_rect a) {
    plot_line(c, a.x0, a.y0 + 0.5, a.x1, a.y0 + 0.5, 1, PLOT_BLACK, 0, 0);
    plot_line(c, a.x0, a.y1 - 0.5, a.x1, a.y1 - 0.5, 1, PLOT_BLACK, 0, 0);
    plot_line(c, a.x0 + 0.5, a.y0, a.x0 + 0.5, a.y1, 1, PLOT_BLACK, 0, 0);
    plot_line(c, a.x1 - 0.5, a.y0, a.x1 - 0.5, a.y1, 1, PLOT_BLACK, 0, 0);
}

void plot_key_line(plot_canvas *c, double x, double y, plot_rgb col, double width, double dash,
                   double gap) {
    plot_line(c, x - 14, y, x + 14, y, width, col, dash, gap);
}
