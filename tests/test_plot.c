/* test_plot.c: draws the AUROC bar plot (raw and seed-compatible, on a fixture with
 * values below 0.5), a heat map, line plots (linear and log), a grouped bar chart and
 * text into /tmp, decodes the PNGs with libpng and checks axis ranges, bar colours and
 * heights, the fc and chance lines, hatching of flipped bars, heat-map colours, line
 * positions, grouped bar positions, error bars and legend, that SVG and PDF come with
 * them (text in a real font) and that files are replaced atomically.
 * LIR_PLOT_KEEP=dir keeps the figures there. */
#include <math.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "report/report.h"

typedef struct {
    int w, h;
    uint8_t *rgb;
} image;

static image decode(const char *stem) {
    image im = {0, 0, NULL};
    char path[600];
    snprintf(path, sizeof path, "%s.png", stem);
    png_image p;
    memset(&p, 0, sizeof p);
    p.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&p, path)) {
        CHECK(0, "cannot read %s: %s", path, p.message);
        return im;
    }
    p.format = PNG_FORMAT_RGB;
    im.w = (int)p.width;
    im.h = (int)p.height;
    im.rgb = xmalloc(PNG_IMAGE_SIZE(p));
    CHECK(png_image_finish_read(&p, NULL, im.rgb, 0, NULL), "decode %s: %s", path, p.message);
    return im;
}

static plot_rgb px(const image *im, int x, int y) {
    if (x < 0 || y < 0 || x >= im->w || y >= im->h) return (plot_rgb){255, 255, 255};
    const uint8_t *p = im->rgb + ((size_t)y * im->w + x) * 3;
    return (plot_rgb){p[0], p[1], p[2]};
}

static int same(plot_rgb a, plot_rgb b) { return a.r == b.r && a.g == b.g && a.b == b.b; }
static int dark(plot_rgb a) { return a.r + a.g + a.b < 200; }
static int reddish(plot_rgb a) { return a.r > 150 && a.g < 100 && a.b < 100; }

/* The file's bytes contain s. */
static int file_has(const char *stem, const char *ext, const char *s) {
    char path[600];
    snprintf(path, sizeof path, "%s.%s", stem, ext);
    size_t n;
    lir_error err;
    char *b = file_read_all(path, &n, &err);
    if (!b) return 0;
    int found = memmem(b, n, s, strlen(s)) != NULL;
    free(b);
    return found;
}

static double ypix(const plot_bars_layout *l, double v) {
    return l->area.y1 - (v - l->ymin) / (l->ymax - l->ymin) * (l->area.y1 - l->area.y0);
}

enum { N = 41, REF = 40 };

static void fixture(const char **names, char store[N][32], double *raw) {
    for (int i = 0; i < N; i++) {
        snprintf(store[i], sizeof store[i], i == REF ? "fc" : "layer%d.%d.downsample.1", i / 10,
                 i % 10);
        names[i] = store[i];
        raw[i] = 0.2 + 0.75 * fabs(sin(i * 0.9)); /* 0.2 .. 0.95, many below 0.5 */
    }
    raw[REF] = 0.10; /* the final layer far below chance */
    raw[1] = 0.99;   /* its label must stay clear of the frame */
    raw[2] = 1.0;
    raw[3] = 0.04;
    raw[7] = NAN;
}

/* Bar i: colour at the axis, top where the layout says, nothing above the top. */
static void check_bar(const image *im, const plot_bars_layout *l, int i, double v, plot_rgb want,
                      double ref_y, int hatched) {
    double slot = (l->area.x1 - l->area.x0) / N, cx = l->area.x0 + (i + 0.5) * slot;
    double top = ypix(l, v);
    int x = (int)cx, bar = 0, other = 0;
    for (int y = (int)top + 3; y < (int)l->area.y1 - 2; y++)
        for (int xx = x - 3; xx <= x + 3; xx++) {
            if (fabs(y + 0.5 - ref_y) < 3) continue; /* the fc line is drawn over the bars */
            bar += same(px(im, xx, y), want);
            other += !same(px(im, xx, y), want);
        }
    CHECK(bar > 0, "bar %d (%.2f) has its colour", i, v);
    if (!hatched)
        CHECK(other == 0, "bar %d (%.2f) is one colour inside (%d other pixels)", i, v, other);
    else
        CHECK(other > bar / 20, "flipped bar %d is hatched (%d of %d)", i, other, bar + other);
    CHECK(!same(px(im, x, (int)top - 2), want), "bar %d (%.2f) ends at its value (y %.1f)", i, v,
          top);
}

static int row_count(const image *im, const plot_bars_layout *l, double y,
                     int (*pred)(plot_rgb)) {
    int n = 0;
    for (int x = (int)l->area.x0 + 2; x < (int)l->area.x1 - 2; x++)
        n += pred(px(im, x, (int)floor(y))) || pred(px(im, x, (int)floor(y) - 1)) ||
             pred(px(im, x, (int)floor(y) + 1));
    return n;
}

static int chance_grey(plot_rgb a) { return a.r == a.g && a.g == a.b && a.r < 200 && a.r > 60; }

static void test_bars_raw(const char *dir) {
    const char *names[N];
    char store[N][32];
    double v[N];
    fixture(names, store, v);
    char stem[512];
    snprintf(stem, sizeof stem, "%s/bars", dir);
    plot_bars b = {names, v, NULL, N, REF, 0, "CIFAR-10", "SVHN", "net.weights"};
    plot_bars_layout l;
    lir_error err;
    CHECK(plot_auroc_bars(&b, stem, &l, &err) == 0, "%s", err.msg);
    CHECK(l.ymin == 0 && l.tick_lo == 0 && l.tick_hi == 1 && l.ymax > 1.05,
          "raw axis 0..1 with head room (%g %g %g %g)", l.ymin, l.tick_lo, l.tick_hi, l.ymax);
    CHECK(l.label_top > l.area.y0 + 2, "value labels clear of the frame (%.1f vs %.1f)",
          l.label_top, l.area.y0);
    image im = decode(stem);
    CHECK(im.w == 1200 && im.h == 600, "bar plot size %dx%d", im.w, im.h);
    if (!im.rgb) return;
    for (int i = 0; i < N; i++) {
        if (isnan(v[i]) || fabs(ypix(&l, v[i]) - ypix(&l, v[REF])) < 5 ||
            fabs(ypix(&l, v[i]) - ypix(&l, 0.5)) < 5 || ypix(&l, v[i]) > l.area.y1 - 8)
            continue; /* a line runs through its top, or it is too short to look at */
        check_bar(&im, &l, i, v[i], v[i] > v[REF] ? PLOT_GREEN : PLOT_ORANGE,
                  ypix(&l, v[REF]), 0);
    }
    double width = l.area.x1 - l.area.x0;
    int red_fc = row_count(&im, &l, ypix(&l, v[REF]), reddish);
    int red_half = row_count(&im, &l, ypix(&l, 0.5), reddish);
    CHECK(red_fc > 0.15 * width, "red fc line where fc is (%d px at %.2f)", red_fc, v[REF]);
    CHECK(red_half == 0, "no red line at 0.5 (%d px)", red_half);
    CHECK(row_count(&im, &l, ypix(&l, 0.5), chance_grey) > 0.05 * width, "chance line at 0.5");
    int title_ink = 0;
    for (int y = 0; y < 28; y++)
        for (int x = 300; x < 900; x++) title_ink += dark(px(&im, x, y));
    CHECK(title_ink > 500, "title drawn (%d dark pixels)", title_ink);
    free(im.rgb);
    CHECK(file_has(stem, "svg", "<svg") && file_has(stem, "svg", "1200"), "SVG written");
    CHECK(file_has(stem, "pdf", "%PDF") && file_has(stem, "pdf", "DejaVuSans"),
          "PDF written with its text in DejaVu Sans");
    CHECK(!file_has(stem, "pdf", "CreationDate"), "PDF without a creation date");
}

static void test_bars_seed(const char *dir) {
    const char *names[N];
    char store[N][32];
    double raw[N], v[N];
    unsigned char flipped[N];
    fixture(names, store, raw);
    for (int i = 0; i < N; i++) {
        v[i] = raw[i] < 0.5 ? 1 - raw[i] : raw[i];
        flipped[i] = raw[i] < 0.5;
    }
    char stem[512];
    snprintf(stem, sizeof stem, "%s/bars_seed", dir);
    plot_bars b = {names, v, flipped, N, REF, 1, "CIFAR-10", "SVHN", NULL};
    plot_bars_layout l;
    lir_error err;
    CHECK(plot_auroc_bars(&b, stem, &l, &err) == 0, "%s", err.msg);
    CHECK(l.ymin == 0.5 && l.tick_lo == 0.5 && l.tick_hi == 1, "seed axis from 0.5 (%g)", l.ymin);
    image im = decode(stem);
    if (!im.rgb) return;
    int hatched = 0;
    for (int i = 0; i < N; i++) {
        if (isnan(v[i]) || fabs(ypix(&l, v[i]) - ypix(&l, v[REF])) < 5 ||
            ypix(&l, v[i]) > l.area.y1 - 12)
            continue;
        check_bar(&im, &l, i, v[i], v[i] > v[REF] ? PLOT_GREEN : PLOT_ORANGE,
                  ypix(&l, v[REF]), flipped[i]);
        hatched += flipped[i];
    }
    CHECK(hatched >= 5, "fixture has flipped bars to look at (%d)", hatched);
    free(im.rgb);

    b.ref = N;
    CHECK(plot_auroc_bars(&b, stem, NULL, &err) == -1, "bad ref rejected");
    b.ref = 0;
    CHECK(plot_auroc_bars(&b, "/nonexistent-dir/x", NULL, &err) == -1 &&
              strstr(err.msg, "/nonexistent-dir/x.png"),
          "unwritable path: %s", err.msg);
}

static void test_heatmap(const char *dir) {
    const char *rows[3] = {"conv1", "layer1.0.bn1", "fc"}, *cols[2] = {"SVHN", "CIFAR-100"};
    double v[6] = {0.5, 0.9, 0.1, NAN, 0.75, 0.3};
    char stem[512];
    snprintf(stem, sizeof stem, "%s/heat", dir);
    plot_heat h = {"AUROC", "sub", rows, 3, cols, 2, v, 0, 1, "AUROC (0.5 = chance)"};
    plot_rect g;
    lir_error err;
    CHECK(plot_heatmap(&h, stem, &g, &err) == 0, "%s", err.msg);
    image im = decode(stem);
    if (!im.rgb) return;
    double cw = (g.x1 - g.x0) / 2, ch = (g.y1 - g.y0) / 3;
    for (int r = 0; r < 3; r++)
        for (int k = 0; k < 2; k++) {
            double x = v[r * 2 + k];
            plot_rgb want = isnan(x) ? (plot_rgb){160, 160, 160} : plot_colormap(x);
            plot_rgb got = px(&im, (int)(g.x0 + k * cw + 3), (int)(g.y0 + r * ch + 3));
            CHECK(same(got, want), "cell %d,%d colour (%d,%d,%d) want (%d,%d,%d)", r, k, got.r,
                  got.g, got.b, want.r, want.g, want.b);
            int ink = 0; /* the value label in the middle of the cell */
            for (int y = (int)(g.y0 + r * ch + 5); y < (int)(g.y0 + (r + 1) * ch - 5); y++)
                for (int xx = (int)(g.x0 + k * cw + 8); xx < (int)(g.x0 + (k + 1) * cw - 8); xx++)
                    ink += !same(px(&im, xx, y), want);
            CHECK(ink > 20, "cell %d,%d has a label (%d)", r, k, ink);
        }
    int label_ink = 0; /* the colour bar's label, right of its tick labels */
    for (int y = (int)g.y0; y < im.h; y++)
        for (int x = (int)g.x1 + 90; x < im.w; x++) label_ink += dark(px(&im, x, y));
    CHECK(label_ink > 30, "colour bar labelled (%d)", label_ink);
    free(im.rgb);
    plot_rgb lo = plot_colormap(0), mid = plot_colormap(0.5), hi = plot_colormap(1);
    CHECK(lo.b > lo.r && hi.r > hi.b, "diverging: blue below, red above");
    CHECK(mid.r > 240 && mid.g > 240 && mid.b > 240, "near white at the centre");
}

static void test_lines(const char *dir) {
    double x[11], up[11], down[11], small[11];
    for (int i = 0; i <= 10; i++) x[i] = i, up[i] = i, down[i] = 10 - i, small[i] = pow(10, -i / 3.0);
    down[6] = NAN;
    small[4] = 0; /* not drawn on a log axis */
    plot_series s[2] = {{"train loss", up}, {"val loss", down}};
    char stem[512];
    snprintf(stem, sizeof stem, "%s/lines", dir);
    plot_rect a, r;
    lir_error err;
    plot_chart ch = {"curves", "epoch", "loss", x, 11, s, 2, 0};
    CHECK(plot_lines(&ch, stem, &a, &r, &err) == 0, "%s", err.msg);
    CHECK(r.x0 == 0 && r.x1 == 10 && r.y0 == 0 && r.y1 == 10, "ticks span 0..10");
    image im = decode(stem);
    CHECK(im.w == 1000 && im.h == 600, "line plot size %dx%d", im.w, im.h);
    if (!im.rgb) return;
    int x2 = (int)(a.x0 + 0.2 * (a.x1 - a.x0)), y2 = (int)(a.y1 - 0.2 * (a.y1 - a.y0));
    int y8 = (int)(a.y1 - 0.8 * (a.y1 - a.y0));
    CHECK(same(px(&im, x2, y2), plot_series_colour(0)), "series 0 through (2, 2)");
    CHECK(same(px(&im, x2, y8), plot_series_colour(1)), "series 1 through (2, 8)");
    int x6 = (int)(a.x0 + 0.6 * (a.x1 - a.x0)), y4 = (int)(a.y1 - 0.4 * (a.y1 - a.y0));
    CHECK(!same(px(&im, x6, y4), plot_series_colour(1)), "NaN point leaves a gap");
    free(im.rgb);

    plot_series ls[1] = {{"R", small}};
    plot_chart lg = {"R", "epoch", "R", x, 11, ls, 1, 1};
    snprintf(stem, sizeof stem, "%s/lines_log", dir);
    CHECK(plot_lines(&lg, stem, &a, &r, &err) == 0, "%s", err.msg);
    CHECK(r.y0 == -4 && r.y1 == 0, "log axis spans 1e-4..1 (%g..%g)", r.y0, r.y1);
    im = decode(stem);
    if (!im.rgb) return;
    int x3 = (int)(a.x0 + 0.3 * (a.x1 - a.x0)), y3 = (int)(a.y1 - 3.0 / 4 * (a.y1 - a.y0));
    CHECK(same(px(&im, x3, y3), plot_series_colour(0)), "1e-1 at a quarter from the top");
    free(im.rgb);
}

/* Grouped bars: colour, position and height of every bar, no bar for NaN, the error
 * bar's whisker above a bar, the legend swatches. */
static void test_grouped(const char *dir) {
    enum { C = 3, S = 2 };
    const char *cats[C] = {"svhn", "mnist", "mean far"}, *series[S] = {"lambda 0", "lambda 0.1"};
    double v[S * C] = {0.9, 0.25, 0.6, 0.5, NAN, 1.2}, e[S * C] = {0.05, 0, NAN, 0.1, 0, 0};
    char path[512];
    snprintf(path, sizeof path, "%s/grouped", dir);
    plot_rect a;
    lir_error err;
    CHECK(plot_grouped_bars("AUROC", "AUROC", cats, C, series, S, v, e, 0, 1, path, &a, &err) ==
              0,
          "%s", err.msg);
    image im = decode(path);
    CHECK(im.w >= 900 && im.h == 600, "grouped bar chart size %dx%d", im.w, im.h);
    if (!im.rgb) return;
    double slot = (a.x1 - a.x0) / C, bw = 0.8 * slot / S;
    for (int s = 0; s < S; s++)
        for (int c = 0; c < C; c++) {
            double x0 = a.x0 + c * slot + 0.1 * slot + s * bw, val = v[s * C + c];
            int cx = (int)(x0 + 0.1 * bw), row = (int)a.y1 - 3; /* off the error bar */
            plot_rgb want = plot_series_colour(s);
            if (isnan(val)) {
                CHECK(!same(px(&im, cx, row), want), "NaN bar %d,%d drawn", s, c);
                continue;
            }
            CHECK(same(px(&im, cx, row), want), "bar %d,%d colour", s, c);
            int top = row;
            while (top > 0 && same(px(&im, cx, top - 1), want)) top--;
            double expect = a.y1 - fmin(1, val) * (a.y1 - a.y0);
            CHECK(fabs(top - expect) <= 1.5, "bar %d,%d top %d, expected %.1f", s, c, top, expect);
            int left = cx, right = cx;
            while (same(px(&im, left - 1, row), want)) left--;
            while (same(px(&im, right + 1, row), want)) right++;
            CHECK(fabs(left - x0) <= 1.0 && fabs(right + 1 - (x0 + bw)) <= 1.0,
                  "bar %d,%d spans %d..%d, expected %.1f..%.1f", s, c, left, right, x0, x0 + bw);
        }
    /* bar (0, 0) = 0.9 +- 0.05: dark whisker pixels at its centre up to 0.95 */
    int cx = (int)floor(a.x0 + 0.1 * slot + 0.5 * bw), ink = 0;
    double y95 = a.y1 - 0.95 * (a.y1 - a.y0), y90 = a.y1 - 0.9 * (a.y1 - a.y0);
    for (int y = (int)y95 + 1; y < (int)y90 - 1; y++) ink += dark(px(&im, cx, y));
    CHECK(ink >= (int)(y90 - y95) - 3, "error bar above bar 0,0 (%d dark pixels)", ink);
    int sw0 = 0, sw1 = 0; /* legend swatches right of the plot */
    for (int y = (int)a.y0; y < (int)a.y0 + 60; y++)
        for (int x = (int)a.x1 + 2; x < im.w; x++) {
            sw0 += same(px(&im, x, y), plot_series_colour(0));
            sw1 += same(px(&im, x, y), plot_series_colour(1));
        }
    CHECK(sw0 > 100 && sw1 > 100, "legend swatches (%d, %d pixels)", sw0, sw1);
    free(im.rgb);
    CHECK(plot_grouped_bars("t", "y", cats, C, series, S, v, NULL, 1, 1, path, NULL, &err) == -1,
          "ymin >= ymax rejected");
}

static void test_text(const char *dir) {
    double w = plot_text_width("MMMM", 14);
    CHECK(w > plot_text_width("iiii", 14) && fabs(plot_text_width("MMMM", 28) - 2 * w) < 1e-6,
          "text width follows the glyphs and scales with the size (%g)", w);
    plot_canvas *c = plot_canvas_new(200, 200, (plot_rgb){255, 255, 255});
    plot_text(c, 10, 20, "MMMM", 14, 0, 0, 0, (plot_rgb){0, 0, 0});
    plot_text(c, 100, 150, "IIIIIIII", 14, 45, 0, 1, (plot_rgb){0, 0, 0});
    char stem[512];
    snprintf(stem, sizeof stem, "%s/text", dir);
    lir_error err;
    CHECK(plot_save(c, stem, &err) == 0, "%s", err.msg);
    plot_canvas_free(c);
    image im = decode(stem);
    if (!im.rgb) return;
    int inside = 0, outside = 0;
    for (int y = 0; y < 100; y++)
        for (int x = 0; x < 100; x++) {
            int ink = dark(px(&im, x, y));
            int in_box = x >= 9 && x <= 11 + w && y >= 19 && y <= 35;
            inside += ink && in_box;
            outside += ink && !in_box;
        }
    CHECK(inside > 100 && outside == 0, "text inside its box (%d in, %d out)", inside, outside);
    int diag = 0; /* 45 degrees from (100, 150): ink along the up-right diagonal */
    for (int d = -1; d <= 1; d++) diag += dark(px(&im, 130 + d, 118)) + dark(px(&im, 130, 118 + d));
    CHECK(diag > 0, "rotated text on the diagonal");
    CHECK(!dark(px(&im, 130, 149)) && !dark(px(&im, 100, 120)), "rotated text slanted");
    free(im.rgb);
}

/* A figure written over an older one replaces it whole, leaving no temporary file. */
static void test_atomic(const char *dir) {
    char stem[512], path[600];
    snprintf(stem, sizeof stem, "%s/text", dir);
    snprintf(path, sizeof path, "%s.png", stem);
    FILE *f = fopen(path, "w");
    fputs("old contents", f);
    fclose(f);
    plot_canvas *c = plot_canvas_new(20, 10, (plot_rgb){0, 0, 255});
    lir_error err;
    CHECK(plot_save(c, stem, &err) == 0, "%s", err.msg);
    plot_canvas_free(c);
    image im = decode(stem);
    CHECK(im.w == 20 && im.h == 10 && same(px(&im, 5, 5), (plot_rgb){0, 0, 255}),
          "old file replaced");
    free(im.rgb);
    snprintf(path, sizeof path, "%s.png.tmp", stem);
    CHECK(access(path, F_OK) != 0, "no temporary file left");
}

int main(void) {
    char dir[] = "/tmp/lir_plot_XXXXXX";
    if (!mkdtemp(dir)) check_skip("cannot create a temporary directory");
    test_bars_raw(dir);
    test_bars_seed(dir);
    test_heatmap(dir);
    test_lines(dir);
    test_grouped(dir);
    test_text(dir);
    test_atomic(dir);
    const char *keep = getenv("LIR_PLOT_KEEP");
    const char *stems[8] = {"bars", "bars_seed", "heat",   "lines",
                            "lines_log", "text", "grouped", NULL};
    const char *ext[3] = {"png", "svg", "pdf"};
    for (int i = 0; stems[i]; i++)
        for (int k = 0; k < 3; k++) {
            char p[700], q[1400];
            snprintf(p, sizeof p, "%s/%s.%s", dir, stems[i], ext[k]);
            snprintf(q, sizeof q, "%s/%s.%s", keep ? keep : "", stems[i], ext[k]);
            if (keep) rename(p, q);
            remove(p);
        }
    CHECK(rmdir(dir) == 0, "temporary directory left clean (no .tmp files)");
    return check_done("test_plot");
}
