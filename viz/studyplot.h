/* Study plots: a figure against a setting, one line per agent, each
 * point a mean with its 95% confidence interval drawn as an error bar
 * (`recarena plot STUDY --x KEY --y FIGURE` and `recarena compare
 * --plot`). recarena computes the points from study.json or run folders
 * and hands them to recarena-view as a small CSV file:
 *
 *     series,x,label,mean,low,high
 *     a,0,0,101.5,95.2,107.8
 *     a,1,1,110,104,116
 *
 * one row per point, series in order of first appearance; label names
 * the x position (the setting's value, or a run's name when the x axis is
 * categorical); low = high = mean draws no bar. Drawn with the viewer's
 * chart code (chart.h) in the agent colours, offscreen into a PNG. */
#ifndef RECARENA_VIZ_STUDYPLOT_H
#define RECARENA_VIZ_STUDYPLOT_H

#include "viz/chart.h"
#include "viz/draw.h"

#include <SDL.h>
#include <stdbool.h>
#include <stddef.h>

#define VIZ_SP_MAX_SERIES 32
#define VIZ_SP_MAX_POINTS 256 /* per series, and x positions in all */
#define VIZ_SP_TEXT       96

typedef struct viz_sp_series {
    char name[VIZ_SP_TEXT];
    size_t n;
    double x[VIZ_SP_MAX_POINTS], mean[VIZ_SP_MAX_POINTS], low[VIZ_SP_MAX_POINTS],
        high[VIZ_SP_MAX_POINTS];
} viz_sp_series_t;

typedef struct viz_studyplot {
    size_t n_series;
    viz_sp_series_t series[VIZ_SP_MAX_SERIES];
    size_t n_labels; /* distinct x positions with their labels */
    double label_x[VIZ_SP_MAX_POINTS];
    char label[VIZ_SP_MAX_POINTS][VIZ_SP_TEXT];
    bool categorical; /* x positions are 0, 1, ... naming runs: labels under them */
    char title[256], x_label[VIZ_SP_TEXT], y_label[VIZ_SP_TEXT];
} viz_studyplot_t;

/* Reads the CSV at path (form above) into p (titles left empty). 0, or
 * ERR_EIO (cannot read) / ERR_EFORMAT (a bad line, named with its number)
 * with a message in err. */
int viz_studyplot_read(viz_studyplot_t *p, const char *path, char *err, size_t err_len);

/* The plot area and data ranges of p in a width x height picture: where
 * each point lands (viz_axes_px / viz_axes_py), for the tests. */
void viz_studyplot_axes(const viz_draw_t *d, const viz_studyplot_t *p, int width, int height,
                        viz_axes_t *out);

/* Draws p at the renderer's output size. 0 or ERR_EDISPLAY. */
int viz_studyplot_render(viz_draw_t *d, SDL_Renderer *r, const viz_studyplot_t *p);

/* p drawn offscreen into a new RGB888 surface (caller frees), NULL with
 * a message in err. */
SDL_Surface *viz_studyplot_surface(viz_draw_t *d, const viz_studyplot_t *p, int width, int height,
                                   char *err, size_t err_len);

#endif
