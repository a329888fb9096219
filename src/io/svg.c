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

/* ---------------------------------------------------------------- multi-panel building blocks */
#undef W
#undef H
#undef L
#undef R
#undef T
#undef B

static const char *palette10[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
const char *nd_svg_color(int i) { return palette10[((i % 10) + 10) % 10]; }

void nd_svg_xml_text(FILE *f, const char *s) { xml_text(f, s ? s : ""); }

void nd_svg_begin(FILE *f, int w, int h, int standalone) {
    fprintf(f, "<svg %swidth=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"Helvetica, Arial, sans-serif\" "
               "font-size=\"12\">\n<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n",
            standalone ? "xmlns=\"http://www.w3.org/2000/svg\" " : "", w, h, w, h, w, h);
}
void nd_svg_end(FILE *f) { fputs("</svg>\n", f); }

void nd_svg_text(FILE *f, double x, double y, const char *anchor, double size, int bold, double rotate, const char *s) {
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"%g\"%s", x, y, anchor ? anchor : "start",
            size, bold ? " font-weight=\"bold\"" : "");
    if (rotate != 0) fprintf(f, " transform=\"rotate(%g %.1f %.1f)\"", rotate, x, y);
    fputc('>', f);
    xml_text(f, s ? s : "");
    fputs("</text>\n", f);
}

int nd_svg_range(const double *v, size_t n, size_t stride, double *lo, double *hi) {
    double a = INFINITY, b = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        double x = v[i * stride];
        if (!isfinite(x)) continue;
        a = fmin(a, x); b = fmax(b, x);
    }
    if (!isfinite(a)) return 0;
    *lo = a; *hi = b;
    return 1;
}

nd_svg_axes nd_svg_axes_make(FILE *f, double px, double py, double pw, double ph, double x0, double x1, double y0,
                             double y1, double pad_y, int logy) {
    nd_svg_axes a = {f, px, py, pw, ph, x0, x1, y0, y1, logy, 0};
    if (!isfinite(a.x0) || !isfinite(a.x1)) { a.x0 = 0; a.x1 = 1; }
    if (!isfinite(a.y0) || !isfinite(a.y1)) { a.y0 = logy ? 1 : 0; a.y1 = logy ? 10 : 1; }
    if (a.x1 <= a.x0) { double c = a.x0, h = fabs(c) > 0 ? 0.5 * fabs(c) : 0.5; a.x0 = c - h; a.x1 = c + h; }
    if (logy) {
        if (a.y0 <= 0) a.y0 = a.y1 > 0 ? a.y1 * 1e-3 : 1e-3;
        if (a.y1 <= a.y0) { a.y0 /= 2; a.y1 = a.y0 * 4; }
        if (pad_y > 0) {
            double l0 = log10(a.y0), l1 = log10(a.y1), p = pad_y * (l1 - l0);
            a.y0 = pow(10, l0 - p); a.y1 = pow(10, l1 + p);
        }
    } else {
        if (a.y1 <= a.y0) { double c = a.y0, h = fabs(c) > 0 ? 0.5 * fabs(c) : 0.5; a.y0 = c - h; a.y1 = c + h; }
        if (pad_y > 0) { double p = pad_y * (a.y1 - a.y0); a.y0 -= p; a.y1 += p; }
    }
    return a;
}

double nd_svg_ax_x(const nd_svg_axes *a, double x) { return a->px + (x - a->x0) / (a->x1 - a->x0) * a->pw; }
double nd_svg_ax_y(const nd_svg_axes *a, double y) {
    if (a->logy) {
        double l = y > 0 ? log10(y) : log10(a->y0) - 1, l0 = log10(a->y0), l1 = log10(a->y1);
        return a->py + a->ph - (l - l0) / (l1 - l0) * a->ph;
    }
    return a->py + a->ph - (y - a->y0) / (a->y1 - a->y0) * a->ph;
}

/* tick label without trailing noise: 0.30000000000000004 -> 0.3 */
static void tick_label(char *buf, size_t cap, double v, double step) {
    if (fabs(v) < 1e-9 * step) v = 0;
    snprintf(buf, cap, "%.4g", v);
}

void nd_svg_axes_frame(const nd_svg_axes *a, const char *title, const char *xlabel, const char *ylabel, int xticks) {
    FILE *f = a->f;
    const double bx = a->py + a->ph, lx = a->px;
    char buf[64];
    fprintf(f, "<g stroke=\"#222\" stroke-width=\"1\"><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
               "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/></g>\n",
            lx, a->py, lx, bx, lx, bx, a->px + a->pw, bx);
    /* x ticks */
    double dx = tick_step(a->x0, a->x1);
    for (double v = ceil(a->x0 / dx - 1e-9) * dx; v <= a->x1 + 1e-9 * dx; v += dx) {
        double X = nd_svg_ax_x(a, v);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#222\"/>\n", X, bx, X, bx + 4);
        if (xticks) {
            tick_label(buf, sizeof buf, v, dx);
            nd_svg_text(f, X, bx + 16, "middle", 11, 0, 0, buf);
        }
    }
    /* y ticks; the y label goes left of the widest tick label */
    double wmax = 0;
    if (a->no_yticks) {
    } else if (a->logy) {
        int k0 = (int)floor(log10(a->y0)), k1 = (int)ceil(log10(a->y1));
        int every = k1 - k0 > 6 ? 2 : 1, few = log10(a->y1) - log10(a->y0) < 1.5;
        int lin = a->y1 < 4 * a->y0; /* less than a factor 4: linear steps on the log axis */
        double dl = tick_step(a->y0, a->y1);
        static const double m3[3] = {1, 2, 5};
        for (int k = k0; k <= k1; k++)
            for (int q = 0; q < (lin ? 1 : few ? 3 : 1); q++) {
                double v = m3[q] * pow(10, k);
                if (lin) {
                    if (k > k0) break;
                    for (double u = ceil(a->y0 / dl - 1e-9) * dl; u <= a->y1 + 1e-9 * dl; u += dl) {
                        double Y = nd_svg_ax_y(a, u);
                        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#222\"/>\n",
                                lx - 4, Y, lx, Y);
                        tick_label(buf, sizeof buf, u, dl);
                        wmax = fmax(wmax, 6.5 * (double)strlen(buf));
                        nd_svg_text(f, lx - 7, Y + 4, "end", 11, 0, 0, buf);
                    }
                    break;
                }
                if (v < a->y0 * (1 - 1e-9) || v > a->y1 * (1 + 1e-9)) continue;
                double Y = nd_svg_ax_y(a, v);
                fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#222\"/>\n", lx - 4, Y, lx,
                        Y);
                if (!few && (k - k0) % every) continue;
                if (few) snprintf(buf, sizeof buf, "%g", v);
                else snprintf(buf, sizeof buf, "1e%d", k);
                wmax = fmax(wmax, 6.5 * (double)strlen(buf));
                nd_svg_text(f, lx - 7, Y + 4, "end", 11, 0, 0, buf);
            }
    } else {
        double dy = tick_step(a->y0, a->y1);
        for (double v = ceil(a->y0 / dy - 1e-9) * dy; v <= a->y1 + 1e-9 * dy; v += dy) {
            double Y = nd_svg_ax_y(a, v);
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#222\"/>\n", lx - 4, Y, lx, Y);
            tick_label(buf, sizeof buf, v, dy);
            wmax = fmax(wmax, 6.5 * (double)strlen(buf));
            nd_svg_text(f, lx - 7, Y + 4, "end", 11, 0, 0, buf);
        }
    }
    if (title) nd_svg_text(f, a->px, a->py - 10, "start", 13, 1, 0, title);
    if (xlabel) nd_svg_text(f, a->px + a->pw / 2, bx + 34, "middle", 12, 0, 0, xlabel);
    if (ylabel) nd_svg_text(f, a->px - fmax(46, wmax + 20), a->py + a->ph / 2, "middle", 12, 0, -90, ylabel);
}

/* data drawn inside a nested <svg> on the plot rectangle, which clips it (no clip-path reference needed) */
static void clip_begin(const nd_svg_axes *a) {
    fprintf(a->f, "<svg x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" viewBox=\"%.1f %.1f %.1f %.1f\">\n",
            a->px, a->py - 2, a->pw + 2, a->ph + 4, a->px, a->py - 2, a->pw + 2, a->ph + 4);
}
static void clip_end(const nd_svg_axes *a) { fputs("</svg>\n", a->f); }

void nd_svg_axes_line(const nd_svg_axes *a, const double *x, const double *y, int n, size_t stride,
                      const char *color, double width, const char *dash) {
    FILE *f = a->f;
    int open = 0;
    clip_begin(a);
    for (int i = 0; i <= n; i++) {
        int ok = i < n && isfinite(x[i]) && isfinite(y[i * stride]) && x[i] >= a->x0 - 1e-12 &&
                 x[i] <= a->x1 + 1e-12 && (!a->logy || y[i * stride] > 0);
        if (ok && !open) {
            fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%g\" stroke-linejoin=\"round\"%s%s%s "
                       "points=\"", color, width, dash ? " stroke-dasharray=\"" : "", dash ? dash : "", dash ? "\"" : "");
            open = 1;
        }
        if (ok) fprintf(f, "%.1f,%.1f ", nd_svg_ax_x(a, x[i]), nd_svg_ax_y(a, y[i * stride]));
        else if (open) { fputs("\"/>\n", f); open = 0; }
    }
    clip_end(a);
}

void nd_svg_axes_points(const nd_svg_axes *a, const double *x, const double *y, int n, const char *color, double r,
                        int fill) {
    for (int i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i])) continue;
        fprintf(a->f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%g\" fill=\"%s\" stroke=\"%s\"/>\n", nd_svg_ax_x(a, x[i]),
                nd_svg_ax_y(a, y[i]), r, fill ? color : "white", color);
    }
}

void nd_svg_axes_vline(const nd_svg_axes *a, double x, const char *color, const char *dash, const char *label) {
    if (!isfinite(x) || x < a->x0 || x > a->x1) return;
    double X = nd_svg_ax_x(a, x);
    fprintf(a->f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"1.5\"%s%s%s/>\n",
            X, a->py, X, a->py + a->ph, color, dash ? " stroke-dasharray=\"" : "", dash ? dash : "", dash ? "\"" : "");
    if (label) {
        fprintf(a->f, "<g fill=\"%s\">", color);
        nd_svg_text(a->f, X, a->py - 2, "middle", 10, 0, 0, label);
        fputs("</g>\n", a->f);
    }
}

void nd_svg_axes_vspan(const nd_svg_axes *a, double xa, double xb, const char *color, double opacity) {
    xa = fmax(xa, a->x0); xb = fmin(xb, a->x1);
    if (!(xb > xa)) return;
    fprintf(a->f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" fill-opacity=\"%g\"/>\n",
            nd_svg_ax_x(a, xa), a->py, nd_svg_ax_x(a, xb) - nd_svg_ax_x(a, xa), a->ph, color, opacity);
}

void nd_svg_axes_legend(const nd_svg_axes *a, const char *const *names, const char *const *colors,
                        const char *const *dashes, int n, int left) {
    if (n <= 0) return;
    size_t wmax = 0;
    for (int i = 0; i < n; i++) wmax = strlen(names[i]) > wmax ? strlen(names[i]) : wmax;
    double w = 34 + 6.2 * (double)wmax, h = 8 + 16 * n;
    double x = left ? a->px + 8 : a->px + a->pw - w - 4, y = a->py + 4;
    fprintf(a->f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"white\" fill-opacity=\"0.85\" "
                  "stroke=\"#bbb\"/>\n", x, y, w, h);
    for (int i = 0; i < n; i++) {
        double yy = y + 12 + 16 * i;
        const char *d = dashes ? dashes[i] : NULL;
        fprintf(a->f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"%s%s%s/>\n",
                x + 5, yy, x + 27, yy, colors[i], d ? " stroke-dasharray=\"" : "", d ? d : "", d ? "\"" : "");
        nd_svg_text(a->f, x + 31, yy + 4, "start", 11, 0, 0, names[i]);
    }
}

void nd_svg_axes_raster(const nd_svg_axes *a, const float *counts, int T, int N, double t0, double dt, int n_black,
                        const char *color2) {
    const double rh = a->ph / (N > 0 ? N : 1);
    for (int pass = 0; pass < 2; pass++) {
        int j0 = pass ? n_black : 0, j1 = pass ? N : n_black;
        if (j1 <= j0) continue;
        fprintf(a->f, "<path stroke=\"%s\" stroke-width=\"%.2f\" d=\"", pass ? color2 : "black",
                fmax(0.8, fmin(2.0, 0.5 * (nd_svg_ax_x(a, t0 + dt) - nd_svg_ax_x(a, t0)))));
        for (int j = j0; j < j1; j++)
            for (int t = 0; t < T; t++) {
                if (!(counts[(size_t)t * N + j] > 0)) continue;
                double X = nd_svg_ax_x(a, t0 + (t + 0.5) * dt), Y = a->py + j * rh;
                fprintf(a->f, "M%.1f %.1fv%.1f", X, Y + 0.1 * rh, 0.8 * rh);
            }
        fputs("\"/>\n", a->f);
    }
}

/* white -> yellow-green -> teal -> dark blue-purple (a perceptually ordered map, reversed viridis-like) */
static void cmap(double u, int rgb[3]) {
    static const double stops[6][3] = {{255, 255, 255}, {253, 231, 37}, {94, 201, 98},
                                       {33, 145, 140},  {59, 82, 139},  {68, 1, 84}};
    if (!isfinite(u)) { rgb[0] = rgb[1] = rgb[2] = 200; return; }
    u = fmin(1, fmax(0, u)) * 5;
    int k = (int)floor(u);
    if (k >= 5) k = 4;
    double w = u - k;
    for (int c = 0; c < 3; c++) rgb[c] = (int)lround((1 - w) * stops[k][c] + w * stops[k + 1][c]);
}

void nd_svg_axes_image(const nd_svg_axes *a, const float *v, int rows, int cols, double vmin, double vmax) {
    if (!(vmax > vmin)) vmax = vmin + 1;
    const double cw = a->pw / cols, ch = a->ph / rows;
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            int rgb[3];
            cmap((v[(size_t)r * cols + c] - vmin) / (vmax - vmin), rgb);
            fprintf(a->f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"#%02x%02x%02x\"/>\n",
                    a->px + c * cw, a->py + r * ch, cw + 0.3, ch + 0.3, rgb[0], rgb[1], rgb[2]);
        }
}

void nd_svg_colorbar(FILE *f, double x, double y, double w, double h, double vmin, double vmax, const char *label) {
    if (!(vmax > vmin)) vmax = vmin + 1;
    const int n = 32;
    for (int i = 0; i < n; i++) {
        int rgb[3];
        cmap((i + 0.5) / n, rgb);
        fprintf(f, "<rect x=\"%.1f\" y=\"%.2f\" width=\"%.1f\" height=\"%.2f\" fill=\"#%02x%02x%02x\"/>\n", x,
                y + h - (i + 1) * h / n, w, h / n + 0.3, rgb[0], rgb[1], rgb[2]);
    }
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#222\"/>\n", x, y, w, h);
    double d = tick_step(vmin, vmax);
    char buf[64];
    for (double v = ceil(vmin / d - 1e-9) * d; v <= vmax + 1e-9 * d; v += d) {
        double Y = y + h - (v - vmin) / (vmax - vmin) * h;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#222\"/>\n", x + w, Y, x + w + 3, Y);
        tick_label(buf, sizeof buf, v, d);
        nd_svg_text(f, x + w + 5, Y + 4, "start", 10, 0, 0, buf);
    }
    if (label) nd_svg_text(f, x + w + 42, y + h / 2, "middle", 11, 0, -90, label);
}
