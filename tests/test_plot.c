/* test_plot.c: draws the AUROC bar plot, a heat map, a line plot, a grouped bar chart
 * and some text into /tmp, decodes the PNGs with libpng and checks size, bar colours,
 * bar heights, the red dotted reference line, heat-map cell colours, line positions,
 * grouped bar positions, error bars and legend. */
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

static image decode(const char *path) {
    image im = {0, 0, NULL};
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
    const uint8_t *p = im->rgb + ((size_t)y * im->w + x) * 3;
    return (plot_rgb){p[0], p[1], p[2]};
}

static int same(plot_rgb a, plot_rgb b) { return a.r == b.r && a.g == b.g && a.b == b.b; }
static int dark(plot_rgb a) { return a.r + a.g + a.b < 200; }

static double bar_top(plot_rect a, double v) {
    double t = fmin(1, fmax(0, (v - 0.5) / 0.5));
    return a.y1 - t * (a.y1 - a.y0);
}

static void test_bars(const char *dir) {
    enum { N = 41, REF = 40 };
    const char *names[N];
    char store[N][32];
    double v[N];
    for (int i = 0; i < N; i++) {
        snprintf(store[i], sizeof store[i], i == REF ? "fc" : "layer%d.%d.downsample.1", i / 10,
                 i % 10);
        names[i] = store[i];
        v[i] = 0.52 + 0.46 * fabs(sin(i * 0.9));
    }
    v[REF] = 0.781;
    v[3] = 0.40;  /* below the axis: clipped, label still printed */
    v[4] = 0.781; /* equal to fc: orange */
    v[5] = 1.0;
    char path[512];
    snprintf(path, sizeof path, "%s/bars.png", dir);
    plot_rect a;
    lir_error err;
    CHECK(plot_auroc_bars(names, v, N, REF, "CIFAR-10", "SVHN", path, &a, &err) == 0, "%s",
          err.msg);
    image im = decode(path);
    CHECK(im.w == 1200 && im.h == 600, "bar plot size %dx%d", im.w, im.h);
    if (!im.rgb) return;
    double slot = (a.x1 - a.x0) / N, ref_y = bar_top(a, v[REF]);
    int ax_row = (int)a.y1 - 2;
    for (int i = 0; i < N; i++) {
        int cx = (int)(a.x0 + (i + 0.5) * slot);
        plot_rgb want = v[i] > v[REF] ? PLOT_GREEN : PLOT_ORANGE;
        if (v[i] <= 0.5) {
            CHECK(!same(px(&im, cx, ax_row), want), "clipped bar %d draws no bar", i);
            int ink = 0;
            for (int y = ax_row - 14; y < ax_row; y++)
                for (int x = cx - 6; x <= cx + 6; x++) ink += dark(px(&im, x, y));
            CHECK(ink > 5, "clipped bar %d still has its value label", i);
            continue;
        }
        CHECK(same(px(&im, cx, ax_row), want), "bar %d colour (%d,%d,%d) at the axis", i,
              px(&im, cx, ax_row).r, px(&im, cx, ax_row).g, px(&im, cx, ax_row).b);
        /* walk up a column that falls in a gap of the dotted red line */
        int gap_x = -1;
        for (int x = cx - (int)(0.3 * slot); x <= cx + (int)(0.3 * slot) && gap_x < 0; x++) {
            int clean = 1;
            for (int y = (int)floor(ref_y) - 2; y <= (int)floor(ref_y) + 2; y++) {
                plot_rgb p = px(&im, x, y);
                clean &= same(p, want) || same(p, (plot_rgb){255, 255, 255}) ||
                         same(p, (plot_rgb){225, 225, 225});
            }
            if (clean) gap_x = x;
        }
        CHECK(gap_x >= 0, "bar %d: the red line is dotted across it", i);
        int top = ax_row;
        while (gap_x >= 0 && top > 0 && same(px(&im, gap_x, top - 1), want)) top--;
        double expect = bar_top(a, v[i]);
        CHECK(fabs(top - expect) <= 1.5, "bar %d top row %d, expected %.1f", i, top, expect);
        /* the bar is about 0.7 slot wide and centred */
        int left = cx, right = cx;
        while (same(px(&im, left - 1, ax_row), want)) left--;
        while (same(px(&im, right + 1, ax_row), want)) right++;
        CHECK(fabs((left + right + 1) / 2.0 - (a.x0 + (i + 0.5) * slot)) <= 1.0,
              "bar %d centre %d..%d", i, left, right);
        CHECK(right - left + 1 >= 0.6 * slot && right - left + 1 <= 0.8 * slot, "bar %d width",
              i);
    }
    /* the red dotted line: the row through ref_y is red in places and not in others,
     * and no red 10 rows above or below */
    int row = (int)floor(ref_y), red = 0, gaps = 0, off = 0;
    for (int x = (int)a.x0 + 2; x < (int)a.x1 - 2; x++) {
        plot_rgb p = px(&im, x, row);
        if (same(p, PLOT_RED)) red++;
        else if (same(p, (plot_rgb){255, 255, 255})) gaps++;
        off += same(px(&im, x, row - 10), PLOT_RED) + same(px(&im, x, row + 10), PLOT_RED);
    }
    double width = a.x1 - a.x0;
    CHECK(red > 0.2 * width && red < 0.8 * width, "red dotted line: %d red pixels", red);
    CHECK(gaps > 0.05 * width, "dotted line has gaps (%d white)", gaps);
    CHECK(off == 0, "no red away from the fc row (%d)", off);
    int title_ink = 0, label_ink = 0;
    for (int y = 0; y < 40; y++)
        for (int x = 300; x < 900; x++) title_ink += dark(px(&im, x, y));
    for (int y = (int)a.y1 + 10; y < 600; y++)
        for (int x = 0; x < 1200; x++) label_ink += dark(px(&im, x, y));
    CHECK(title_ink > 500, "title drawn (%d dark pixels)", title_ink);
    CHECK(label_ink > 41 * 60, "x labels drawn (%d dark pixels)", label_ink);
    free(im.rgb);

    CHECK(plot_auroc_bars(names, v, N, N, "a", "b", path, NULL, &err) == -1, "bad ref rejected");
    CHECK(plot_auroc_bars(names, v, N, 0, "a", "b", "/nonexistent-dir/x.png", NULL, &err) == -1 &&
              strstr(err.msg, "/nonexistent-dir/x.png"),
          "unwritable path: %s", err.msg);
}

static void test_heatmap(const char *dir) {
    const char *rows[3] = {"conv1", "layer1.0.bn1", "fc"}, *cols[2] = {"SVHN", "CIFAR-100"};
    double v[6] = {0.5, 0.9, 1.0, NAN, 0.75, 0.6};
    char path[512];
    snprintf(path, sizeof path, "%s/heat.png", dir);
    plot_rect g;
    lir_error err;
    for (int pass = 0; pass < 2; pass++) {
        double lo = pass ? 0 : 0.5, hi = pass ? 0 : 1.0; /* pass 1: data range 0.5..1 */
        CHECK(plot_heatmap("AUROC", rows, 3, cols, 2, v, lo, hi, path, &g, &err) == 0, "%s",
              err.msg);
        image im = decode(path);
        if (!im.rgb) return;
        double cw = (g.x1 - g.x0) / 2, ch = (g.y1 - g.y0) / 3;
        for (int r = 0; r < 3; r++)
            for (int k = 0; k < 2; k++) {
                double x = v[r * 2 + k];
                plot_rgb want = isnan(x) ? (plot_rgb){160, 160, 160}
                                         : plot_colormap((x - 0.5) / 0.5);
                plot_rgb got = px(&im, (int)(g.x0 + k * cw + 3), (int)(g.y0 + r * ch + 3));
                CHECK(same(got, want), "cell %d,%d colour (%d,%d,%d) want (%d,%d,%d)", r, k,
                      got.r, got.g, got.b, want.r, want.g, want.b);
                int ink = 0; /* the value label in the middle of the cell */
                for (int y = (int)(g.y0 + r * ch + 6); y < (int)(g.y0 + (r + 1) * ch - 6); y++)
                    for (int xx = (int)(g.x0 + k * cw + 8); xx < (int)(g.x0 + (k + 1) * cw - 8);
                         xx++)
                        ink += !same(px(&im, xx, y), want);
                CHECK(ink > 20, "cell %d,%d has a label (%d)", r, k, ink);
            }
        free(im.rgb);
    }
    plot_rgb lo = plot_colormap(0), hi = plot_colormap(1);
    CHECK(lo.r + lo.g + lo.b < hi.r + hi.g + hi.b, "colour scale goes from dark to light");
}

static void test_lines(const char *dir) {
    double x[11], up[11], down[11];
    for (int i = 0; i <= 10; i++) x[i] = i, up[i] = i, down[i] = 10 - i;
    down[6] = NAN;
    plot_series s[2] = {{"train loss", up}, {"val loss", down}};
    char path[512];
    snprintf(path, sizeof path, "%s/lines.png", dir);
    plot_rect a;
    lir_error err;
    CHECK(plot_lines("curves", "epoch", "loss", x, 11, s, 2, path, &a, &err) == 0, "%s", err.msg);
    image im = decode(path);
    CHECK(im.w == 1000 && im.h == 600, "line plot size %dx%d", im.w, im.h);
    if (!im.rgb) return;
    /* ticks span exactly 0..10 on both axes */
    int x2 = (int)(a.x0 + 0.2 * (a.x1 - a.x0)), y2 = (int)(a.y1 - 0.2 * (a.y1 - a.y0));
    int y8 = (int)(a.y1 - 0.8 * (a.y1 - a.y0));
    CHECK(same(px(&im, x2, y2), plot_series_colour(0)), "series 0 through (2, 2)");
    CHECK(same(px(&im, x2, y8), plot_series_colour(1)), "series 1 through (2, 8)");
    int x6 = (int)(a.x0 + 0.6 * (a.x1 - a.x0)), y4 = (int)(a.y1 - 0.4 * (a.y1 - a.y0));
    CHECK(!same(px(&im, x6, y4), plot_series_colour(1)), "NaN point leaves a gap");
    free(im.rgb);
}

/* Grouped bars: colour, position and height of every bar, no bar for NaN, the error
 * bar's whisker above a bar, the legend swatches. */
static void test_grouped(const char *dir) {
    enum { C = 3, S = 2 };
    const char *cats[C] = {"svhn", "mnist", "mean far"}, *series[S] = {"lambda 0", "lambda 0.1"};
    double v[S * C] = {0.9, 0.25, 0.6, 0.5, NAN, 1.2}, e[S * C] = {0.05, 0, NAN, 0.1, 0, 0};
    char path[512];
    snprintf(path, sizeof path, "%s/grouped.png", dir);
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

static void test_text(void) {
    plot_canvas *c = plot_canvas_new(200, 200, (plot_rgb){255, 255, 255});
    double w = plot_text_width("MMMM", 14);
    CHECK_CLOSE(w, (4 * 5 + 3) * 2.0, 1e-9, 0, "width of MMMM at 2x");
    CHECK(plot_text_width("0.87", 14) < plot_text_width("0887", 14), "'.' is narrow");
    plot_text(c, 10, 20, "MMMM", 14, 0, 0, 0, (plot_rgb){0, 0, 0});
    int inside = 0, outside = 0;
    for (int y = 0; y < 200; y++)
        for (int x = 0; x < 200; x++) {
            int ink = dark(plot_get(c, x, y));
            int in_box = x >= 10 && x < 10 + w && y >= 20 && y < 34;
            inside += ink && in_box;
            outside += ink && !in_box;
        }
    CHECK(inside > 100 && outside == 0, "text inside its box (%d in, %d out)", inside, outside);
    /* 45 degrees from (100, 150): ink lies along the up-right diagonal */
    plot_text(c, 100, 150, "IIIIIIII", 14, 45, 0, 1, (plot_rgb){0, 0, 0});
    CHECK(dark(plot_get(c, 130, 118)) || dark(plot_get(c, 131, 118)) ||
              dark(plot_get(c, 130, 117)),
          "rotated text on the diagonal");
    CHECK(!dark(plot_get(c, 130, 149)) && !dark(plot_get(c, 100, 120)),
          "rotated text not horizontal or vertical");
    plot_canvas_free(c);
}

int main(void) {
    char dir[] = "/tmp/lir_plot_XXXXXX";
    if (!mkdtemp(dir)) check_skip("cannot create a temporary directory");
    test_bars(dir);
    test_heatmap(dir);
    test_lines(dir);
    test_grouped(dir);
    test_text();
    const char *keep = getenv("LIR_PLOT_KEEP");
    const char *files[4] = {"bars.png", "heat.png", "lines.png", "grouped.png"};
    for (int i = 0; i < 4; i++) {
        char p[600];
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        if (keep) {
            char q[1200];
            snprintf(q, sizeof q, "%s/%s", keep, files[i]);
            rename(p, q);
        }
        remove(p);
    }
    CHECK(rmdir(dir) == 0, "temporary directory left clean (no .tmp files)");
    return check_done("test_plot");
}
