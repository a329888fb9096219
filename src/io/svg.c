#define _POSIX_C_SOURCE 200809L
#include "svg.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define W 640
#define H 420
#define L 70 /* margins */
#define R 150
#define T 40
#define B 55

static const char *palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf", "#7f7f7f"};

static void xml_text(FILE *f, const char *s) {
    for (; *s; s++) {
        if (*s == '<') fputs("&lt;", f);
        else if (*s == '>') fputs("&gt;", f);
        else if (*s == '&') fputs("&amp;", f);
        else fputc(*s, f);
    }
}

/* a "nice" tick step for the range */
static double tick_step(double lo, double hi) {
    double span = hi - lo, raw = span / 5, p = pow(10, floor(log10(raw))), m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

static void header(FILE *f, const char *title) {
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
               "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
               "<text x=\"%d\" y=\"24\" font-size=\"15\" text-anchor=\"middle\">", W, H, W, H, (W - R + L) / 2);
    xml_text(f, title);
    fputs("</text>\n", f);
}

static void labels(FILE *f, const char *xlabel, const char *ylabel) {
    fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">", (W - R + L) / 2, H - 12);
    xml_text(f, xlabel);
    fprintf(f, "</text>\n<text transform=\"translate(18 %d) rotate(-90)\" text-anchor=\"middle\">", (H - B + T) / 2);
    xml_text(f, ylabel);
    fputs("</text>\n", f);
}

void nd_svg_line_plot(FILE *f, const char *title, const char *xlabel, const char *ylabel, const nd_svg_series *s,
                      int ns, double ymin, double ymax) {
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (int k = 0; k < ns; k++)
        for (int i = 0; i < s[k].n; i++) {
            if (!isfinite(s[k].x[i]) || !isfinite(s[k].y[i])) continue;
            x0 = fmin(x0, s[k].x[i]); x1 = fmax(x1, s[k].x[i]);
            y0 = fmin(y0, s[k].y[i]); y1 = fmax(y1, s[k].y[i]);
        }
    if (!isfinite(x0)) { x0 = 0; x1 = 1; y0 = 0; y1 = 1; }
    if (isfinite(ymin)) y0 = ymin;
    if (isfinite(ymax)) y1 = ymax;
    if (x1 <= x0) { x0 -= 0.5; x1 += 0.5; }
    if (y1 <= y0) { y0 -= 0.5; y1 += 0.5; }
    double pad = 0.05 * (y1 - y0);
    if (!isfinite(ymin)) y0 -= pad;
    if (!isfinite(ymax)) y1 += pad;
    header(f, title);
    const double pw = W - L - R, ph = H - T - B;
#define PX(x) (L + ((x) - x0) / (x1 - x0) * pw)
#define PY(y) (T + ph - ((y) - y0) / (y1 - y0) * ph)
    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%g\" height=\"%g\" fill=\"none\" stroke=\"#444\"/>\n", L, T, pw, ph);
    double dx = tick_step(x0, x1), dy = tick_step(y0, y1);
    for (double v = ceil(x0 / dx) * dx; v <= x1 + 1e-9 * dx; v += dx)
        fprintf(f, "<line x1=\"%.1f\" y1=\"%g\" x2=\"%.1f\" y2=\"%g\" stroke=\"#444\"/><text x=\"%.1f\" y=\"%g\" "
                   "text-anchor=\"middle\">%g</text>\n", PX(v), T + ph, PX(v), T + ph + 5, PX(v), T + ph + 19, v);
    for (double v = ceil(y0 / dy) * dy; v <= y1 + 1e-9 * dy; v += dy)
        fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%g\" y2=\"%.1f\" stroke=\"#ddd\"/><text x=\"%d\" y=\"%.1f\" "
                   "text-anchor=\"end\">%g</text>\n", L, PY(v), L + pw, PY(v), L - 6, PY(v) + 4, v);
    for (int k = 0; k < ns; k++) {
        const char *col = palette[k % 8];
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", col);
        for (int i = 0; i < s[k].n; i++)
            if (isfinite(s[k].y[i]) && isfinite(s[k].x[i])) fprintf(f, "%.1f,%.1f ", PX(s[k].x[i]), PY(s[k].y[i]));
        fputs("\"/>\n", f);
        for (int i = 0; i < s[k].n; i++)
            if (isfinite(s[k].y[i]) && isfinite(s[k].x[i]))
                fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/>\n", PX(s[k].x[i]), PY(s[k].y[i]), col);
        fprintf(f, "<line x1=\"%g\" y1=\"%d\" x2=\"%g\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"/><text x=\"%g\" "
                   "y=\"%d\">", L + pw + 12, T + 10 + 18 * k, L + pw + 32, T + 10 + 18 * k, col, L + pw + 38,
                T + 14 + 18 * k);
        xml_text(f, s[k].name ? s[k].name : "");
        fputs("</text>\n", f);
    }
#undef PX
#undef PY
    labels(f, xlabel, ylabel);
    fputs("</svg>\n", f);
}

void nd_svg_heatmap(FILE *f, const char *title, const char *xlabel, const char *ylabel, const float *v, int rows,
                    int cols) {
    double amax = 0;
    for (size_t i = 0; i < (size_t)rows * cols; i++)
        if (isfinite(v[i])) amax = fmax(amax, fabs(v[i]));
    if (amax == 0) amax = 1;
    header(f, title);
    const double pw = W - L - R, ph = H - T - B, cw = pw / cols, ch = ph / rows;
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            double x = v[(size_t)r * cols + c] / amax; /* -1 blue .. 0 white .. 1 red */
            int red = x > 0 ? 255 : (int)lround(255 * (1 + x)), blue = x < 0 ? 255 : (int)lround(255 * (1 - x));
            int green = (int)lround(255 * (1 - fabs(x)));
            if (!isfinite(x)) red = green = blue = 200;
            fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"rgb(%d,%d,%d)\"/>\n",
                    L + c * cw, T + r * ch, cw + 0.05, ch + 0.05, red, green, blue);
        }
    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%g\" height=\"%g\" fill=\"none\" stroke=\"#444\"/>\n", L, T, pw, ph);
    fprintf(f, "<text x=\"%g\" y=\"%d\">red +%.3g</text><text x=\"%g\" y=\"%d\">blue -%.3g</text>\n", L + pw + 10,
            T + 14, amax, L + pw + 10, T + 32, amax);
    labels(f, xlabel, ylabel);
    fputs("</svg>\n", f);
}

nd_status nd_svg_write(const char *path, void (*fn)(FILE *, void *), void *ud, nd_error *err) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return nd_fail(err, ND_ERR_IO, "%s: cannot write", path);
    fn(f, ud);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
        unlink(tmp);
        return nd_fail(err, ND_ERR_IO, "%s: write failed", path);
    }
    return ND_OK;
}
