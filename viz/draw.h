/* Drawing the viewer's charts: a model (model.h, read only) and a view
 * (what to show) into an SDL_Renderer, the same code for a window and for
 * an offscreen surface (SDL_CreateSoftwareRenderer), which is how
 * `recarena plot`, screenshots and the tests make PNGs without a display.
 * Knows nothing of telemetry, files or events.
 *
 * One picture: a title (scenario, episode, tick), six panels in a 3 x 2
 * grid, and a footer (status and keys):
 *
 *     reward per tick   | market / click share | exposure diversity
 *     Lorenz curve      | exposure per topic   | agents (legend)
 *
 * Per-agent curves are drawn in the agent's colour: thin and light for
 * each tick's value, thick and full for the smoothed one (the reward's
 * moving average, the share of the episode so far). Lines are drawn
 * without blending or antialiasing, so a curve's pixels have exactly its
 * colour (the tests look for them); text is antialiased. */
#ifndef RECARENA_VIZ_DRAW_H
#define RECARENA_VIZ_DRAW_H

#include "viz/model.h"

#include <SDL.h>
#include <stdbool.h>
#include <stddef.h>

/* DejaVu Sans, from Debian's fonts-dejavu-core. */
#define VIZ_DEFAULT_FONT   "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
#define VIZ_DEFAULT_WIDTH  1280
#define VIZ_DEFAULT_HEIGHT 800
#define VIZ_MIN_SIZE       64    /* pixels, each side */
#define VIZ_MAX_SIZE       16384 /* pixels, each side */

typedef enum viz_panel {
    VIZ_PANEL_REWARD,    /* per-agent reward per tick, raw and moving average */
    VIZ_PANEL_SHARE,     /* market share (market mode) or click share (feed mode) */
    VIZ_PANEL_DIVERSITY, /* exposure Gini and catalog coverage over time */
    VIZ_PANEL_LORENZ,    /* Lorenz curve of item exposure, latest snapshot */
    VIZ_PANEL_TOPICS,    /* exposure per topic, latest snapshot */
    VIZ_PANEL_LEGEND,    /* each agent: colour, name, algorithm, share, reward */
    VIZ_PANEL_COUNT
} viz_panel_t;

/* Where everything goes in a picture of a given size. */
typedef struct viz_layout {
    SDL_Rect title;                  /* the title line */
    SDL_Rect footer;                 /* status and keys */
    SDL_Rect panel[VIZ_PANEL_COUNT]; /* each panel's frame, its title included */
    SDL_Rect plot[VIZ_PANEL_COUNT];  /* inside the axes; the legend: its rows */
    int legend_row_height;           /* pixels */
} viz_layout_t;

/* What to show of the model. */
typedef struct viz_view {
    bool all_episodes;  /* every episode back to back, or the latest only */
    bool paused;        /* said in the title; the caller freezes the model */
    const char *status; /* footer, left (source, counts); NULL: none */
    const char *keys;   /* footer, right (key help); NULL: none */
} viz_view_t;

typedef enum viz_colour_role {
    VIZ_COLOUR_BACKGROUND, /* around the panels */
    VIZ_COLOUR_PANEL,      /* inside a panel */
    VIZ_COLOUR_FRAME,
    VIZ_COLOUR_TEXT,
    VIZ_COLOUR_AXIS,
    VIZ_COLOUR_GRID,
    VIZ_COLOUR_SEPARATOR, /* episode starts */
    VIZ_COLOUR_GINI,
    VIZ_COLOUR_COVERAGE,
    VIZ_COLOUR_LORENZ,
    VIZ_COLOUR_EQUALITY, /* the Lorenz panel's diagonal */
    VIZ_COLOUR_TOPIC,
    VIZ_COLOUR_COUNT
} viz_colour_role_t;

SDL_Color viz_colour(viz_colour_role_t role);
SDL_Color viz_agent_colour(uint32_t agent); /* smoothed curves, legend (10, then repeating) */
SDL_Color viz_agent_tint(uint32_t agent);   /* per-tick curves: the colour, lightened */

typedef struct viz_draw viz_draw_t;

/* Opens the font at font_path (VIZ_DEFAULT_FONT, or NULL for it) in the
 * sizes the pictures use, initialising SDL_ttf and SDL_image. No display
 * is needed. NULL on failure with a message in err (a missing font names
 * the Debian package). Caller owns the result. */
viz_draw_t *viz_draw_new(const char *font_path, char *err, size_t err_len);

/* Accepts NULL and nulls *self_p. */
void viz_draw_destroy(viz_draw_t **self_p);

/* The layout of a width x height picture. */
void viz_draw_layout(const viz_draw_t *d, int width, int height, viz_layout_t *out);

/* Row i of the legend (agent i's swatch and text); false if it does not fit. */
bool viz_layout_legend_row(const viz_layout_t *layout, int i, SDL_Rect *row);

/* Draws the picture of m as v says, at the renderer's output size (a
 * window's drawable or a surface), without presenting it. Borrows all.
 * 0, or VIZ_ESDL if the renderer fails (text that cannot be rendered is
 * left out). */
int viz_draw_render(viz_draw_t *d, SDL_Renderer *r, const viz_model_t *m, const viz_view_t *v);

/* The picture as a new 32-bit RGB surface (SDL_PIXELFORMAT_RGB888) of width x height, drawn
 * offscreen by the software renderer. NULL on failure with a message in
 * err. Caller owns the result (SDL_FreeSurface). */
SDL_Surface *viz_draw_surface(viz_draw_t *d, int width, int height, const viz_model_t *m,
                              const viz_view_t *v, char *err, size_t err_len);

/* The picture, written to path as PNG. 0, or VIZ_ESDL / VIZ_EIO with a
 * message in err. */
int viz_draw_png(viz_draw_t *d, int width, int height, const viz_model_t *m, const viz_view_t *v,
                 const char *path, char *err, size_t err_len);

#endif
