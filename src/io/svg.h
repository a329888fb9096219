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
#endif
