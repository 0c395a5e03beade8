/* The viewer's chart toolkit, shared by its panels (panels.h) and the
 * picture around them (draw.h): a canvas (renderer, fonts, theme, line
 * widths), text, axes with tick labels, curves (solid or dashed, with
 * markers), labels at the curves' ends that stay apart, and the grouping
 * of curves that coincide so that each stays visible. Internal to viz/.
 *
 * Lines are drawn without blending or antialiasing, so a curve's pixels
 * have exactly its colour (the tests look for them); text is antialiased. */
#ifndef RECARENA_VIZ_CHART_H
#define RECARENA_VIZ_CHART_H

#include "viz/draw.h"

#include <SDL.h>
#include <SDL_ttf.h>
#include <stdbool.h>
#include <stddef.h>

/* What every drawing call needs. Borrowed from the viz_draw_t. */
typedef struct viz_canvas {
    SDL_Renderer *r;
    TTF_Font *small, *normal, *large; /* tick labels and notes; titles; the picture's title */
    viz_theme_t theme;
    int thin, thick; /* line widths, pixels */
    int marker;      /* side of a point marker (learning curves), pixels */
    int dash;        /* length of a dash of coinciding curves, pixels */
} viz_canvas_t;

/* The canvas of d on r (draw.c): its fonts, theme and line widths. */
viz_canvas_t viz_draw_canvas(const viz_draw_t *d, SDL_Renderer *r);

typedef enum viz_align { VIZ_ALIGN_LEFT, VIZ_ALIGN_CENTRE, VIZ_ALIGN_RIGHT } viz_align_t;

SDL_Color viz_chart_role(const viz_canvas_t *c, viz_colour_role_t role);
int viz_chart_text_width(TTF_Font *font, const char *text);
int viz_chart_line_height(TTF_Font *font);

/* Draws text with its top at y and x at its left, centre or right.
 * Returns the width drawn, 0 for nothing. */
int viz_chart_text(const viz_canvas_t *c, TTF_Font *font, int x, int y, viz_align_t align,
                   SDL_Color colour, const char *text);
void viz_chart_fill(const viz_canvas_t *c, SDL_Rect rect, SDL_Color colour);
/* A straight line width pixels wide (extra pixels right of and below it). */
void viz_chart_line(const viz_canvas_t *c, int x0, int y0, int x1, int y1, int width);

/* A note in the middle of a plot area ("no data yet"). */
void viz_chart_note(const viz_canvas_t *c, const SDL_Rect *area, const char *text);

/* A plot area and the data ranges it shows (x1 > x0, y1 > y0). */
typedef struct viz_axes {
    SDL_Rect area;
    double x0, x1, y0, y1;
} viz_axes_t;

int viz_axes_px(const viz_axes_t *a, double x); /* pixel column of x */
int viz_axes_py(const viz_axes_t *a, double y); /* pixel row of y */

/* Distance between axis ticks for about max_ticks ticks over [lo, hi]:
 * 1, 2 or 5 times a power of ten. */
double viz_chart_tick_step(double lo, double hi, int max_ticks);

/* [0, top] for values up to hi: top is hi rounded up to a tick, with
 * some room above so that a curve at the top is not on the frame. */
double viz_chart_top(double hi, int area_h);

/* Grid, tick marks and labels on both axes, and the x axis label;
 * x_integer: no ticks between whole numbers. */
void viz_chart_axes(const viz_canvas_t *c, const viz_axes_t *a, const char *x_label,
                    bool x_integer);

/* n values to draw as one curve. y: a float or double every y_stride
 * bytes; x: a double or uint32_t every x_stride bytes, or i * x_step
 * when x is NULL; group (optional, uint32_t every group_stride bytes):
 * the curve breaks where it changes (episodes). Missing values break it. */
typedef struct viz_series {
    size_t n;
    const char *x;
    size_t x_stride;
    bool x_u32;
    double x_step;
    const char *y;
    size_t y_stride;
    bool y_double;
    const char *group;
    size_t group_stride;
} viz_series_t;

/* How a curve is drawn: its colour and width; dashes of `dash` pixels,
 * drawn only in every dash_count-th slot from slot dash_index (dash_count
 * 0 or 1: solid); a square marker at each value (markers). */
typedef struct viz_stroke {
    SDL_Color colour;
    int width;
    int dash_count, dash_index;
    bool markers;
} viz_stroke_t;

void viz_chart_series(const viz_canvas_t *c, const viz_axes_t *a, const viz_series_t *s,
                      const viz_stroke_t *stroke);

/* The pixel of the curve's last value; false if it has none. */
bool viz_chart_series_end(const viz_axes_t *a, const viz_series_t *s, int *px, int *py);

/* Curves that coincide on screen: series i and j coincide when, wherever
 * both have a value, their pixels are at most tolerance rows apart (and
 * they share at least one). Sets, for each of the n series, how many
 * coincide with it (count[i], itself included) and its rank among them
 * (index[i]): dash_count and dash_index of its stroke. */
void viz_chart_coincide(const viz_axes_t *a, const viz_series_t *s, int n, int tolerance,
                        int *count, int *index);

/* A label at a curve's end: text in colour, its line's end at (x, y). */
typedef struct viz_label {
    int x, y;
    const char *text;
    SDL_Color colour;
} viz_label_t;

/* Draws the n labels (n <= PROTO_MAX_AGENTS + 2) just right of their
 * curves' ends, moved apart vertically so that none overlaps another,
 * inside [top, bottom) and left of right (clipped there). Reorders
 * labels. */
void viz_chart_end_labels(const viz_canvas_t *c, viz_label_t *labels, int n, int top, int bottom,
                          int right);

#endif
