/* Drawing the viewer's charts: a model (model.h, read only) and a view
 * (what to show) into an SDL_Renderer, the same code for a window and for
 * an offscreen surface (SDL_CreateSoftwareRenderer), which is how
 * `recarena plot`, screenshots and the tests make PNGs without a display.
 * Knows nothing of telemetry, files or events.
 *
 * One picture: a title (scenario, episode, tick), six panels in a 3 x 2
 * grid, and a footer (status and keys). Which six is the view's panel
 * set (docs/viewer.md):
 *
 *     overview  reward per tick  | market / click share | exposure diversity
 *               Lorenz curve     | exposure per topic   | agents (legend)
 *     learning  click rate       | regret               | market / click share
 *               reward per tick  | active users         | welfare
 *     episodes  the learning curves, one point per episode: click rate,
 *               regret, share, reward, welfare per request, diversity
 *
 * Every chart names its y axis and unit above it. Per-agent curves are
 * drawn in the agent's colour, thin and light for each tick's value,
 * thick and full for the smoothed one (the reward's moving average, the
 * rest of the episode so far), each labelled with the agent's name at its
 * end; curves that coincide on screen are drawn in alternating dashes so
 * that every agent's colour shows. Two themes: light (for screens and
 * reports) and high contrast (white on black, for projectors), and a
 * scale for the text and lines. Drawing primitives: chart.h; the panels:
 * panels.h. */
#ifndef RECARENA_VIZ_DRAW_H
#define RECARENA_VIZ_DRAW_H

#include "viz/model.h"

#include <SDL.h>
#include <stdbool.h>
#include <stddef.h>

/* DejaVu Sans, from Debian's fonts-dejavu-core. */
#define VIZ_DEFAULT_FONT    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
#define VIZ_DEFAULT_WIDTH   1280
#define VIZ_DEFAULT_HEIGHT  800
#define VIZ_MIN_SIZE        64    /* pixels, each side */
#define VIZ_MAX_SIZE        16384 /* pixels, each side */
#define VIZ_MIN_SCALE       0.5   /* of text and lines */
#define VIZ_MAX_SCALE       4.0
#define VIZ_PROJECTOR_SCALE 1.5 /* --projector: every label reads at 1280x720 */

typedef enum viz_theme {
    VIZ_THEME_LIGHT,    /* dark on light grey and white */
    VIZ_THEME_CONTRAST, /* white and bright colours on black (projectors) */
    VIZ_THEME_COUNT
} viz_theme_t;

typedef enum viz_panel {
    VIZ_PANEL_REWARD,             /* per-agent reward per tick, raw and moving average */
    VIZ_PANEL_SHARE,              /* market share (market mode) or click share (feed mode) */
    VIZ_PANEL_DIVERSITY,          /* exposure Gini and catalog coverage over time */
    VIZ_PANEL_LORENZ,             /* Lorenz curve of item exposure, latest snapshot */
    VIZ_PANEL_TOPICS,             /* exposure per topic, latest snapshot */
    VIZ_PANEL_LEGEND,             /* each agent: colour, name, algorithm, share, reward */
    VIZ_PANEL_CLICK_RATE,         /* per-agent clicks per request, per tick and episode so far */
    VIZ_PANEL_REGRET,             /* per-agent regret per request (n/a without the oracle) */
    VIZ_PANEL_USERS,              /* active users per tick */
    VIZ_PANEL_WELFARE,            /* welfare (utility consumed) per tick */
    VIZ_PANEL_EPISODE_CLICK_RATE, /* per agent, one point per episode */
    VIZ_PANEL_EPISODE_REGRET,
    VIZ_PANEL_EPISODE_SHARE,
    VIZ_PANEL_EPISODE_REWARD,
    VIZ_PANEL_EPISODE_WELFARE,   /* welfare per request, per episode */
    VIZ_PANEL_EPISODE_DIVERSITY, /* each agent's Gini; the system's Gini, coverage */
    VIZ_PANEL_COUNT
} viz_panel_t;

typedef enum viz_panel_set {
    VIZ_SET_OVERVIEW, /* reward, share, diversity, Lorenz, topics, agents */
    VIZ_SET_LEARNING, /* click rate, regret, share, reward, active users, welfare */
    VIZ_SET_EPISODES, /* the learning curves */
    VIZ_SET_COUNT
} viz_panel_set_t;

#define VIZ_SET_PANELS 6 /* panels in a set */

/* "overview", "learning", "episodes". */
const char *viz_panel_set_name(viz_panel_set_t set);
/* The set named name (as above); false if none is. */
bool viz_panel_set_parse(const char *name, viz_panel_set_t *out);
/* The set's VIZ_SET_PANELS panels, in grid order (row by row). */
const viz_panel_t *viz_panel_set_panels(viz_panel_set_t set);

/* Where everything goes in a picture of a given size. Panels not in the
 * set have shown false and empty rectangles. */
typedef struct viz_layout {
    SDL_Rect title;                  /* the title line */
    SDL_Rect footer;                 /* status and keys */
    bool shown[VIZ_PANEL_COUNT];     /* in the picture */
    SDL_Rect panel[VIZ_PANEL_COUNT]; /* each panel's frame, its title included */
    SDL_Rect plot[VIZ_PANEL_COUNT];  /* inside the axes; the legend: its rows */
    int legend_row_height;           /* pixels */
} viz_layout_t;

/* What to show of the model. */
typedef struct viz_view {
    bool all_episodes;      /* every episode back to back, or the latest only */
    bool paused;            /* said in the title; the caller freezes the model */
    viz_panel_set_t panels; /* which panels (0: the overview) */
    const char *status;     /* footer, left (source, counts); NULL: none */
    const char *keys;       /* footer, right (key help); NULL: none */
} viz_view_t;

typedef enum viz_colour_role {
    VIZ_COLOUR_BACKGROUND, /* around the panels */
    VIZ_COLOUR_PANEL,      /* inside a panel */
    VIZ_COLOUR_FRAME,
    VIZ_COLOUR_TEXT,
    VIZ_COLOUR_AXIS,
    VIZ_COLOUR_GRID,
    VIZ_COLOUR_SEPARATOR, /* episode starts, notes */
    VIZ_COLOUR_GINI,
    VIZ_COLOUR_COVERAGE,
    VIZ_COLOUR_LORENZ,
    VIZ_COLOUR_EQUALITY, /* the Lorenz panel's diagonal */
    VIZ_COLOUR_TOPIC,
    VIZ_COLOUR_USERS, /* active users, welfare */
    VIZ_COLOUR_COUNT
} viz_colour_role_t;

SDL_Color viz_colour(viz_theme_t theme, viz_colour_role_t role);
/* Smoothed curves, labels, legend (10, then repeating). */
SDL_Color viz_agent_colour(viz_theme_t theme, uint32_t agent);
/* Per-tick curves: the colour, towards the panel's colour. */
SDL_Color viz_agent_tint(viz_theme_t theme, uint32_t agent);

typedef struct viz_draw viz_draw_t;

/* Opens the font at font_path (VIZ_DEFAULT_FONT, or NULL for it) in the
 * sizes the pictures use, initialising SDL_ttf and SDL_image. No display
 * is needed. NULL on failure with a message in err (a missing font names
 * the Debian package). Caller owns the result. */
viz_draw_t *viz_draw_new(const char *font_path, char *err, size_t err_len);

/* Accepts NULL and nulls *self_p. */
void viz_draw_destroy(viz_draw_t **self_p);

/* Text and lines scale times their usual size (in [VIZ_MIN_SCALE,
 * VIZ_MAX_SCALE]; the font is opened again), in theme. 0, or ERR_EINVAL
 * (scale out of range) / ERR_EDISPLAY with a message in err, d unchanged. */
int viz_draw_set_style(viz_draw_t *d, double scale, viz_theme_t theme, char *err, size_t err_len);
double viz_draw_scale(const viz_draw_t *d);
viz_theme_t viz_draw_theme(const viz_draw_t *d);

/* The layout of a width x height picture of the panel set. */
void viz_draw_layout(const viz_draw_t *d, int width, int height, viz_panel_set_t set,
                     viz_layout_t *out);

/* Row i of the legend (agent i's swatch and text); false if it does not fit. */
bool viz_layout_legend_row(const viz_layout_t *layout, int i, SDL_Rect *row);

/* Draws the picture of m as v says, at the renderer's output size (a
 * window's drawable or a surface), without presenting it. Borrows all.
 * 0, or ERR_EDISPLAY if the renderer fails (text that cannot be rendered is
 * left out). */
int viz_draw_render(viz_draw_t *d, SDL_Renderer *r, const viz_model_t *m, const viz_view_t *v);

/* The picture as a new 32-bit RGB surface (SDL_PIXELFORMAT_RGB888) of width x height, drawn
 * offscreen by the software renderer. NULL on failure with a message in
 * err. Caller owns the result (SDL_FreeSurface). */
SDL_Surface *viz_draw_surface(viz_draw_t *d, int width, int height, const viz_model_t *m,
                              const viz_view_t *v, char *err, size_t err_len);

/* Picture files: the type comes from the name's ending (any case). */
typedef enum viz_image_type {
    VIZ_IMAGE_UNKNOWN,
    VIZ_IMAGE_PNG,  /* .png */
    VIZ_IMAGE_JPEG, /* .jpg, .jpeg (IMG_SaveJPG, quality VIZ_JPEG_QUALITY) */
} viz_image_type_t;
#define VIZ_IMAGE_ENDINGS "'.png', '.jpg' or '.jpeg'"
#define VIZ_JPEG_QUALITY  90 /* 0..100: SDL_image's JPEG quality */

/* The type that path's name asks for. */
viz_image_type_t viz_image_type(const char *path);

/* Writes s (borrowed) to path as its name asks (viz_image_type). 0, or
 * ERR_EINVAL (an unknown ending) / ERR_EIO with a message in err. */
int viz_image_save(SDL_Surface *s, const char *path, char *err, size_t err_len);

/* The picture, written to path as PNG or JPEG by its name's ending
 * (viz_image_save). 0, or ERR_EINVAL (an unknown ending, checked before
 * drawing) / ERR_EDISPLAY / ERR_EIO with a message in err. */
int viz_draw_png(viz_draw_t *d, int width, int height, const viz_model_t *m, const viz_view_t *v,
                 const char *path, char *err, size_t err_len);

#endif
