/* Small self-contained SVG figures (no fonts or scripts loaded from anywhere): line plots and heat maps, written
 * as text that browsers, Inkscape and LaTeX pipelines open. */
#ifndef ND_IO_SVG_H
#define ND_IO_SVG_H
#include <stdio.h>
#include "../core/status.h"

typedef struct {
    const char *name;  /* legend label */
    const double *x, *y;
    int n;             /* points; NAN y values leave a gap */
} nd_svg_series;

/* A line plot with markers, axes with ~5 ticks each, axis labels, a title and a legend. ymin/ymax: NAN = from the
 * data. */
void nd_svg_line_plot(FILE *f, const char *title, const char *xlabel, const char *ylabel, const nd_svg_series *s,
                      int ns, double ymin, double ymax);
/* A heat map of v [rows][cols] (blue-white-red, symmetric around 0), with a title and axis labels. */
void nd_svg_heatmap(FILE *f, const char *title, const char *xlabel, const char *ylabel, const float *v, int rows,
                    int cols);
/* write a figure atomically: fn(f, ud) renders into path */
nd_status nd_svg_write(const char *path, void (*fn)(FILE *, void *), void *ud, nd_error *err);

/* ---- building blocks for multi-panel figures (the HTML report): an <svg> of any size holding several axes ----
 * Coordinates are pixels of the <svg>; each axes maps a data range onto its plot rectangle. Text is escaped. */
void nd_svg_xml_text(FILE *f, const char *s);
/* <svg width w height h> with a white background; standalone = 1 adds the xmlns attribute (a file of its own;
 * SVG inline in HTML needs none) */
void nd_svg_begin(FILE *f, int w, int h, int standalone);
void nd_svg_end(FILE *f);
/* text at (x, y); anchor "start", "middle" or "end"; size in px; bold 0/1; rotate (degrees, about (x, y)) */
void nd_svg_text(FILE *f, double x, double y, const char *anchor, double size, int bold, double rotate, const char *s);

typedef struct {
    FILE *f;
    double px, py, pw, ph;  /* plot rectangle (pixels): left, top, width, height */
    double x0, x1, y0, y1;  /* data range shown */
    int logy;               /* y on a log10 scale (y0, y1 > 0) */
    int no_yticks;          /* set after nd_svg_axes_make: the frame draws no y ticks (images, rasters) */
} nd_svg_axes;

/* finite min and max of v[i * stride], i < n; returns 0 if none is finite */
int nd_svg_range(const double *v, size_t n, size_t stride, double *lo, double *hi);
/* axes on the rectangle (px, py, pw, ph) showing [x0, x1] x [y0, y1] (equal ends are widened); pad_y > 0 adds that
 * fraction of the y span on both sides */
nd_svg_axes nd_svg_axes_make(FILE *f, double px, double py, double pw, double ph, double x0, double x1, double y0,
                             double y1, double pad_y, int logy);
double nd_svg_ax_x(const nd_svg_axes *a, double x);
double nd_svg_ax_y(const nd_svg_axes *a, double y);
/* left and bottom spines with outward ticks (~5 each, "nice" steps; decades when logy), tick labels, panel title
 * (above, left-aligned, bold), x label below, y label rotated on the left. NULL labels are left out; xticks = 0
 * leaves out the x tick labels (a panel stacked above another with the same x axis). */
void nd_svg_axes_frame(const nd_svg_axes *a, const char *title, const char *xlabel, const char *ylabel, int xticks);
/* a polyline through the finite points (NaN leaves a gap), clipped to the axes' x range; dash NULL = solid */
void nd_svg_axes_line(const nd_svg_axes *a, const double *x, const double *y, int n, size_t stride,
                      const char *color, double width, const char *dash);
/* circles of radius r (filled when fill, else outlined) */
void nd_svg_axes_points(const nd_svg_axes *a, const double *x, const double *y, int n, const char *color, double r,
                        int fill);
/* a vertical line at data x across the plot, with an optional label at its top */
void nd_svg_axes_vline(const nd_svg_axes *a, double x, const char *color, const char *dash, const char *label);
/* a shaded band x in [xa, xb] (opacity 0..1) */
void nd_svg_axes_vspan(const nd_svg_axes *a, double xa, double xb, const char *color, double opacity);
/* a legend box inside the axes' top-right corner (or top-left with left = 1); dashes[i] may be NULL */
void nd_svg_axes_legend(const nd_svg_axes *a, const char *const *names, const char *const *colors,
                        const char *const *dashes, int n, int left);
/* a spike raster: counts [T][N] (row-major, stride N) as one vertical tick per non-zero bin, neuron 0 at the top,
 * bin t spanning [t0 + t dt, t0 + (t + 1) dt); neurons j >= n_black drawn in `color2` */
void nd_svg_axes_raster(const nd_svg_axes *a, const float *counts, int T, int N, double t0, double dt, int n_black,
                        const char *color2);
/* an image of v[rows][cols] (row 0 at the top) filling the axes, with a sequential colour map (white -> dark
 * blue, "viridis"-like) over [vmin, vmax] */
void nd_svg_axes_image(const nd_svg_axes *a, const float *v, int rows, int cols, double vmin, double vmax);
/* a vertical colour bar for nd_svg_axes_image's map at (x, y, w, h) with ticks and a label */
void nd_svg_colorbar(FILE *f, double x, double y, double w, double h, double vmin, double vmax, const char *label);
/* the i-th colour of the categorical palette (10 colours, cycled) */
const char *nd_svg_color(int i);
#endif
