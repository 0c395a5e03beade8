/* The viewer's charts, drawn into an SDL renderer (draw.h). */
#include "viz/draw.h"

#include <SDL_image.h>
#include <SDL_ttf.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define S_MARGIN      8  /* around the picture, pixels */
#define S_GAP         8  /* between panels */
#define S_FONT_SMALL  11 /* tick labels, footer, notes; points */
#define S_FONT_NORMAL 13 /* panel titles, legend */
#define S_FONT_LARGE  16 /* the title */
#define S_SWATCH_W    18 /* a legend row's colour swatch */
#define S_SWATCH_H    10
#define S_MAX_TICKS   200 /* axis ticks drawn at most, whatever the range */

struct viz_draw {
    TTF_Font *small, *normal, *large;
};

/* Tableau 10: distinct, and readable on white */
static const SDL_Color s_palette[] = {
    {31, 119, 180, 255},  {255, 127, 14, 255}, {44, 160, 44, 255},   {214, 39, 40, 255},
    {148, 103, 189, 255}, {140, 86, 75, 255},  {227, 119, 194, 255}, {127, 127, 127, 255},
    {188, 189, 34, 255},  {23, 190, 207, 255},
};

static const SDL_Color s_roles[VIZ_COLOUR_COUNT] = {
    [VIZ_COLOUR_BACKGROUND] = {236, 236, 236, 255}, [VIZ_COLOUR_PANEL] = {255, 255, 255, 255},
    [VIZ_COLOUR_FRAME] = {200, 200, 200, 255},      [VIZ_COLOUR_TEXT] = {33, 33, 33, 255},
    [VIZ_COLOUR_AXIS] = {90, 90, 90, 255},          [VIZ_COLOUR_GRID] = {232, 232, 232, 255},
    [VIZ_COLOUR_SEPARATOR] = {160, 160, 160, 255},  [VIZ_COLOUR_GINI] = {34, 34, 136, 255},
    [VIZ_COLOUR_COVERAGE] = {0, 153, 136, 255},     [VIZ_COLOUR_LORENZ] = {136, 34, 85, 255},
    [VIZ_COLOUR_EQUALITY] = {185, 185, 185, 255},   [VIZ_COLOUR_TOPIC] = {95, 125, 160, 255},
};

SDL_Color viz_colour(viz_colour_role_t role)
{
    return s_roles[role];
}

SDL_Color viz_agent_colour(uint32_t agent)
{
    return s_palette[agent % (sizeof s_palette / sizeof *s_palette)];
}

SDL_Color viz_agent_tint(uint32_t agent)
{
    /* 40 % of the colour over white */
    SDL_Color c = viz_agent_colour(agent);
    return (SDL_Color){(Uint8)(153 + c.r * 2 / 5), (Uint8)(153 + c.g * 2 / 5),
                       (Uint8)(153 + c.b * 2 / 5), 255};
}

/* ---- lifecycle ------------------------------------------------------ */

viz_draw_t *viz_draw_new(const char *font_path, char *err, size_t err_len)
{
    if (!font_path)
        font_path = VIZ_DEFAULT_FONT;
    if (access(font_path, R_OK) != 0) {
        snprintf(err, err_len,
                 "font %s not found (the default is DejaVu Sans, Debian package "
                 "fonts-dejavu-core)",
                 font_path);
        return NULL;
    }
    if (TTF_Init() != 0) {
        snprintf(err, err_len, "SDL_ttf: %s", TTF_GetError());
        return NULL;
    }
    viz_draw_t *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, err_len, "out of memory");
        TTF_Quit();
        return NULL;
    }
    d->small = TTF_OpenFont(font_path, S_FONT_SMALL);
    d->normal = TTF_OpenFont(font_path, S_FONT_NORMAL);
    d->large = TTF_OpenFont(font_path, S_FONT_LARGE);
    if (!d->small || !d->normal || !d->large) {
        snprintf(err, err_len, "cannot open font %s: %s", font_path, TTF_GetError());
        viz_draw_destroy(&d);
    }
    return d;
}

void viz_draw_destroy(viz_draw_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    viz_draw_t *d = *self_p;
    TTF_Font *fonts[] = {d->small, d->normal, d->large};
    for (int i = 0; i < 3; i++)
        if (fonts[i])
            TTF_CloseFont(fonts[i]);
    free(d);
    TTF_Quit();
    IMG_Quit();
    *self_p = NULL;
}

/* ---- layout --------------------------------------------------------- */

static int s_text_width(TTF_Font *font, const char *text)
{
    int w = 0, h = 0;
    TTF_SizeUTF8(font, text, &w, &h);
    return w;
}

static int s_max(int a, int b)
{
    return a > b ? a : b;
}

static SDL_Rect s_rect(int x, int y, int w, int h)
{
    return (SDL_Rect){x, y, s_max(w, 0), s_max(h, 0)};
}

void viz_draw_layout(const viz_draw_t *d, int width, int height, viz_layout_t *o)
{
    int large = TTF_FontLineSkip(d->large), normal = TTF_FontLineSkip(d->normal),
        small = TTF_FontLineSkip(d->small);
    memset(o, 0, sizeof *o);
    o->title = s_rect(S_MARGIN, S_MARGIN / 2, width - 2 * S_MARGIN, large + 6);
    o->footer = s_rect(S_MARGIN, height - small - 6, width - 2 * S_MARGIN, small + 4);
    int top = o->title.y + o->title.h + S_GAP / 2;
    int grid_w = width - 2 * S_MARGIN, grid_h = o->footer.y - S_GAP / 2 - top;
    int panel_w = (grid_w - 2 * S_GAP) / 3, panel_h = (grid_h - S_GAP) / 2;
    int title_h = normal + 8, left = s_text_width(d->small, "-0.000") + 10, right = 14,
        bottom = 2 * small + 8;
    for (int p = 0; p < VIZ_PANEL_COUNT; p++) {
        SDL_Rect f = s_rect(S_MARGIN + (p % 3) * (panel_w + S_GAP),
                            top + (p / 3) * (panel_h + S_GAP), panel_w, panel_h);
        o->panel[p] = f;
        o->plot[p] =
            s_rect(f.x + left, f.y + title_h + 4, f.w - left - right, f.h - title_h - 4 - bottom);
    }
    SDL_Rect legend = o->panel[VIZ_PANEL_LEGEND];
    o->plot[VIZ_PANEL_LEGEND] =
        s_rect(legend.x + 10, legend.y + title_h, legend.w - 20, legend.h - title_h - bottom);
    o->legend_row_height = normal + small + 6; /* name, then figures */
}

bool viz_layout_legend_row(const viz_layout_t *layout, int i, SDL_Rect *row)
{
    const SDL_Rect *rows = &layout->plot[VIZ_PANEL_LEGEND];
    int h = layout->legend_row_height;
    *row = s_rect(rows->x, rows->y + i * h, rows->w, h);
    return i >= 0 && h > 0 && (i + 1) * h <= rows->h;
}

/* ---- primitives ----------------------------------------------------- */

typedef enum s_align { S_LEFT, S_CENTRE, S_RIGHT } s_align_t;

static void s_colour(SDL_Renderer *r, SDL_Color c)
{
    SDL_SetRenderDrawColor(r, c.r, c.g, c.b, c.a);
}

/* Draws text with its top at y and x at its left, centre or right.
 * Returns the width drawn, 0 for nothing. */
static int s_text(SDL_Renderer *r, TTF_Font *font, int x, int y, s_align_t align, SDL_Color c,
                  const char *text)
{
    if (!text || !text[0])
        return 0;
    SDL_Surface *s = TTF_RenderUTF8_Blended(font, text, c);
    if (!s)
        return 0;
    SDL_Rect dst = {x, y, s->w, s->h};
    dst.x -= align == S_CENTRE ? s->w / 2 : (align == S_RIGHT ? s->w : 0);
    SDL_Texture *t = SDL_CreateTextureFromSurface(r, s);
    if (t) {
        SDL_RenderCopy(r, t, NULL, &dst);
        SDL_DestroyTexture(t);
    }
    int w = s->w;
    SDL_FreeSurface(s);
    return w;
}

static void s_line(SDL_Renderer *r, int x0, int y0, int x1, int y1, bool thick)
{
    SDL_RenderDrawLine(r, x0, y0, x1, y1);
    if (thick) {
        SDL_RenderDrawLine(r, x0 + 1, y0, x1 + 1, y1);
        SDL_RenderDrawLine(r, x0, y0 + 1, x1, y1 + 1);
    }
}

static void s_fill(SDL_Renderer *r, SDL_Rect rect, SDL_Color c)
{
    s_colour(r, c);
    SDL_RenderFillRect(r, &rect);
}

/* ---- axes ----------------------------------------------------------- */

/* A plot area and the data ranges it shows. */
typedef struct s_axes {
    SDL_Rect area;
    double x0, x1, y0, y1; /* x1 > x0, y1 > y0 */
} s_axes_t;

static int s_pixel(double v)
{
    return (int)lround(fmin(fmax(v, -30000.0), 30000.0));
}

static int s_px(const s_axes_t *a, double x)
{
    return s_pixel(a->area.x + (x - a->x0) / (a->x1 - a->x0) * (a->area.w - 1));
}

static int s_py(const s_axes_t *a, double y)
{
    return s_pixel(a->area.y + a->area.h - 1 - (y - a->y0) / (a->y1 - a->y0) * (a->area.h - 1));
}

/* 1, 2 or 5 times a power of ten near x (round) or at least x. */
static double s_nice(double x, bool round)
{
    if (!(x > 0) || !isfinite(x))
        return 1;
    double exponent = floor(log10(x)), f = x / pow(10, exponent), n;
    if (round)
        n = f < 1.5 ? 1 : (f < 3 ? 2 : (f < 7 ? 5 : 10));
    else
        n = f <= 1 ? 1 : (f <= 2 ? 2 : (f <= 5 ? 5 : 10));
    return n * pow(10, exponent);
}

/* Distance between axis ticks for about max_ticks ticks over [lo, hi]. */
static double s_tick_step(double lo, double hi, int max_ticks)
{
    return s_nice(s_nice(hi - lo, false) / s_max(max_ticks - 1, 1), true);
}

static void s_format(double v, double step, char *buf, size_t size)
{
    if (fabs(v) < step * 1e-6)
        v = 0;
    if (fabs(v) >= 1e6 && step >= 1e5) {
        snprintf(buf, size, "%gM", v / 1e6);
    } else if (fabs(v) >= 1e4 && step >= 1e3) {
        snprintf(buf, size, "%gk", v / 1e3);
    } else {
        int decimals = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
        snprintf(buf, size, "%.*f", decimals < 6 ? decimals : 6, v);
    }
}

/* Grid, tick marks, tick labels and the x axis label. */
static void s_draw_axes(viz_draw_t *d, SDL_Renderer *r, const s_axes_t *a, const char *x_label,
                        bool x_integer)
{
    const SDL_Rect *area = &a->area;
    SDL_Color text = viz_colour(VIZ_COLOUR_TEXT);
    int small = TTF_FontLineSkip(d->small);
    char label[32];
    double step = s_tick_step(a->y0, a->y1, area->h / 40 + 1);
    double k0 = ceil(a->y0 / step - 1e-9), k1 = floor(a->y1 / step + 1e-9);
    for (double k = k0; k <= k1 && k - k0 < S_MAX_TICKS; k++) {
        int y = s_py(a, k * step);
        s_colour(r, viz_colour(VIZ_COLOUR_GRID));
        SDL_RenderDrawLine(r, area->x, y, area->x + area->w - 1, y);
        s_colour(r, viz_colour(VIZ_COLOUR_AXIS));
        SDL_RenderDrawLine(r, area->x - 4, y, area->x - 1, y);
        s_format(k * step, step, label, sizeof label);
        s_text(r, d->small, area->x - 6, y - small / 2, S_RIGHT, text, label);
    }
    step = s_tick_step(a->x0, a->x1, area->w / 70 + 1);
    if (x_integer && step < 1)
        step = 1;
    k0 = ceil(a->x0 / step - 1e-9);
    k1 = floor(a->x1 / step + 1e-9);
    int bottom = area->y + area->h;
    for (double k = k0; k <= k1 && k - k0 < S_MAX_TICKS; k++) {
        int x = s_px(a, k * step);
        s_colour(r, viz_colour(VIZ_COLOUR_GRID));
        SDL_RenderDrawLine(r, x, area->y, x, bottom - 1);
        s_colour(r, viz_colour(VIZ_COLOUR_AXIS));
        SDL_RenderDrawLine(r, x, bottom, x, bottom + 3);
        s_format(k * step, step, label, sizeof label);
        s_text(r, d->small, x, bottom + 4, S_CENTRE, text, label);
    }
    s_colour(r, viz_colour(VIZ_COLOUR_AXIS));
    SDL_RenderDrawLine(r, area->x - 1, area->y, area->x - 1, bottom);
    SDL_RenderDrawLine(r, area->x - 1, bottom, area->x + area->w - 1, bottom);
    s_text(r, d->small, area->x + area->w / 2, bottom + 4 + small, S_CENTRE, text, x_label);
}

/* ---- series --------------------------------------------------------- */

/* n values to draw as one curve: y from a strided float or double array,
 * x from the model's points (tick, or x_all) or i * x_step. */
typedef struct s_series {
    size_t n;
    const viz_point_t *points; /* NULL: x = i * x_step */
    bool all_episodes;
    double x_step;
    const char *y;
    size_t y_stride; /* bytes */
    bool y_double;
} s_series_t;

static bool s_series_at(const s_series_t *s, size_t i, double *x, double *y)
{
    if (s->points)
        *x = s->all_episodes ? s->points[i].x_all : (double)s->points[i].tick;
    else
        *x = (double)i * s->x_step;
    const char *p = s->y + i * s->y_stride;
    if (s->y_double) {
        double v;
        memcpy(&v, p, sizeof v);
        *y = v;
    } else {
        float v;
        memcpy(&v, p, sizeof v);
        *y = v;
    }
    return isfinite(*x) && isfinite(*y);
}

/* A curve, broken where values are missing and where episodes meet. Points that fall on one pixel
 * column are drawn as one vertical line from their least to their
 * greatest value, so the cost follows the width, not the number of
 * points; a lone point is a dot. */
static void s_draw_series(SDL_Renderer *r, const s_axes_t *a, const s_series_t *s, SDL_Color c,
                          bool thick)
{
    s_colour(r, c);
    SDL_RenderSetClipRect(r, &a->area);
    bool open = false;
    int col_x = 0, col_lo = 0, col_hi = 0, col_last = 0;
    for (size_t i = 0; i < s->n; i++) {
        double x, y;
        bool new_episode = s->points && i > 0 && s->points[i].episode != s->points[i - 1].episode;
        if (new_episode && open)
            s_line(r, col_x, col_lo, col_x, col_hi, thick);
        open = open && !new_episode;
        if (!s_series_at(s, i, &x, &y)) {
            if (open)
                s_line(r, col_x, col_lo, col_x, col_hi, thick);
            open = false;
            continue;
        }
        int px = s_px(a, x), py = s_py(a, y);
        if (open && px == col_x) {
            col_lo = py < col_lo ? py : col_lo;
            col_hi = py > col_hi ? py : col_hi;
            col_last = py;
            continue;
        }
        if (open) {
            s_line(r, col_x, col_lo, col_x, col_hi, thick);
            s_line(r, col_x, col_last, px, py, thick);
        }
        open = true;
        col_x = px;
        col_lo = col_hi = col_last = py;
    }
    if (open)
        s_line(r, col_x, col_lo, col_x, col_hi, thick);
    SDL_RenderSetClipRect(r, NULL);
}

/* A per-agent series of the model: column agent of the (n_points,
 * n_agents) array values, from point first on. */
static s_series_t s_agent_series(const viz_model_t *m, const float *values, uint32_t agent,
                                 size_t first, bool all_episodes)
{
    return (s_series_t){.n = m->n_points - first,
                        .points = m->points + first,
                        .all_episodes = all_episodes,
                        .y = (const char *)(values + first * m->n_agents + agent),
                        .y_stride = m->n_agents * sizeof *values};
}

/* ---- panels --------------------------------------------------------- */

static void s_panel_frame(viz_draw_t *d, SDL_Renderer *r, const SDL_Rect *panel, const char *title)
{
    s_fill(r, *panel, viz_colour(VIZ_COLOUR_PANEL));
    s_colour(r, viz_colour(VIZ_COLOUR_FRAME));
    SDL_RenderDrawRect(r, panel);
    s_text(r, d->normal, panel->x + 8, panel->y + 4, S_LEFT, viz_colour(VIZ_COLOUR_TEXT), title);
}

/* A note in the middle of a plot area ("no data yet"). */
static void s_note(viz_draw_t *d, SDL_Renderer *r, const SDL_Rect *area, const char *text)
{
    s_text(r, d->normal, area->x + area->w / 2, area->y + area->h / 2 - 8, S_CENTRE,
           viz_colour(VIZ_COLOUR_SEPARATOR), text);
}

/* The x range of the time panels: the whole episode (or run) when the
 * scenario says how long it is, else the ticks received. */
static void s_time_range(const viz_model_t *m, bool all, size_t first, double *x0, double *x1)
{
    bool known = all ? m->ticks && m->episodes : m->ticks;
    *x0 = 0;
    *x1 = all ? (double)m->episodes * m->ticks - 1 : (double)m->ticks - 1;
    if (m->n_points > first) {
        const viz_point_t *p0 = &m->points[first], *p1 = &m->points[m->n_points - 1];
        double first_x = all ? p0->x_all : p0->tick, last_x = all ? p1->x_all : p1->tick;
        if (!known) {
            *x0 = first_x;
            *x1 = last_x;
        }
        *x0 = fmin(*x0, first_x);
        *x1 = fmax(*x1, last_x);
    }
    if (!(*x1 > *x0))
        *x1 = *x0 + 1;
}

/* Dashed lines where episodes start, labelled "ep N" (all episodes). */
static void s_draw_separators(viz_draw_t *d, SDL_Renderer *r, const s_axes_t *a,
                              const viz_model_t *m, size_t first)
{
    SDL_Color c = viz_colour(VIZ_COLOUR_SEPARATOR);
    char label[32];
    for (size_t i = first + 1; i < m->n_points; i++) {
        if (m->points[i].episode == m->points[i - 1].episode)
            continue;
        int x = s_px(a, m->points[i].x_all);
        if (x < a->area.x || x >= a->area.x + a->area.w)
            continue;
        s_colour(r, c);
        for (int y = a->area.y; y < a->area.y + a->area.h; y += 6)
            SDL_RenderDrawLine(r, x, y, x, y + 2);
        snprintf(label, sizeof label, "ep %u", (unsigned)m->points[i].episode);
        s_text(r, d->small, x + 3, a->area.y + 1, S_LEFT, c, label);
    }
}

/* A time panel's axes, separators and empty note; true if there are
 * curves to draw and room for them. */
static bool s_time_axes(viz_draw_t *d, SDL_Renderer *r, const SDL_Rect *area, const viz_model_t *m,
                        const viz_view_t *v, size_t first, double y0, double y1, s_axes_t *a)
{
    if (area->w < 8 || area->h < 8)
        return false;
    *a = (s_axes_t){.area = *area, .y0 = y0, .y1 = y1};
    s_time_range(m, v->all_episodes, first, &a->x0, &a->x1);
    s_draw_axes(d, r, a, v->all_episodes ? "tick (episodes back to back)" : "tick", true);
    if (v->all_episodes)
        s_draw_separators(d, r, a, m, first);
    if (m->n_points > first)
        return true;
    s_note(d, r, area, "no data yet");
    return false;
}

static void s_draw_reward(viz_draw_t *d, SDL_Renderer *r, const viz_layout_t *layout,
                          const viz_model_t *m, const viz_view_t *v, size_t first)
{
    double lo = 0, hi = 0;
    for (size_t i = first * m->n_agents; i < m->n_points * m->n_agents; i++) {
        if (isfinite(m->reward[i])) {
            lo = fmin(lo, m->reward[i]);
            hi = fmax(hi, m->reward[i]);
        }
    }
    if (!(hi - lo > 1e-12))
        hi = lo + 1;
    const SDL_Rect *area = &layout->plot[VIZ_PANEL_REWARD];
    double step = s_tick_step(lo, hi, area->h / 40 + 1);
    s_axes_t a;
    if (!s_time_axes(d, r, area, m, v, first, floor(lo / step) * step, ceil(hi / step) * step, &a))
        return;
    for (uint32_t k = 0; k < m->n_agents; k++) {
        s_series_t s = s_agent_series(m, m->reward, k, first, v->all_episodes);
        s_draw_series(r, &a, &s, viz_agent_tint(k), false);
    }
    for (uint32_t k = 0; k < m->n_agents; k++) {
        s_series_t s = s_agent_series(m, m->reward_average, k, first, v->all_episodes);
        s_draw_series(r, &a, &s, viz_agent_colour(k), true);
    }
}

static void s_draw_share(viz_draw_t *d, SDL_Renderer *r, const viz_layout_t *layout,
                         const viz_model_t *m, const viz_view_t *v, size_t first)
{
    s_axes_t a;
    if (!s_time_axes(d, r, &layout->plot[VIZ_PANEL_SHARE], m, v, first, 0, 1, &a))
        return;
    for (uint32_t k = 0; k < m->n_agents; k++) {
        s_series_t s = s_agent_series(m, m->share, k, first, v->all_episodes);
        s_draw_series(r, &a, &s, viz_agent_tint(k), false);
    }
    for (uint32_t k = 0; k < m->n_agents; k++) {
        s_series_t s = s_agent_series(m, m->share_running, k, first, v->all_episodes);
        s_draw_series(r, &a, &s, viz_agent_colour(k), true);
    }
}

/* Each panel's title. */
static const char *s_panel_title(const viz_model_t *m, viz_panel_t p)
{
    static const char *const titles[VIZ_PANEL_COUNT] = {
        [VIZ_PANEL_REWARD] = "Reward per tick",
        [VIZ_PANEL_SHARE] = "Market share (of requests)",
        [VIZ_PANEL_DIVERSITY] = "Exposure diversity",
        [VIZ_PANEL_LORENZ] = "Lorenz curve of item exposure",
        [VIZ_PANEL_TOPICS] = "Exposure per topic",
        [VIZ_PANEL_LEGEND] = "Agents",
    };
    if (p == VIZ_PANEL_SHARE && m->mode == VIZ_MODE_FEED)
        return "Click share (feed mode)";
    return titles[p];
}

/* Room in panel p's title row right of its title, up to 8 pixels from
 * the frame. */
static int s_title_room(viz_draw_t *d, const viz_layout_t *layout, const viz_model_t *m,
                        viz_panel_t p)
{
    return layout->panel[p].w - 16 - s_text_width(d->normal, s_panel_title(m, p)) - 16;
}

/* A key in a panel's title row, right-aligned: a short line, then text;
 * returns the x where the next key (to its left) ends. */
static int s_key(viz_draw_t *d, SDL_Renderer *r, int right, int y, SDL_Color c, const char *text)
{
    int w = s_text_width(d->small, text);
    s_text(r, d->small, right - w, y, S_LEFT, viz_colour(VIZ_COLOUR_TEXT), text);
    int line_y = y + TTF_FontLineSkip(d->small) / 2;
    s_colour(r, c);
    s_line(r, right - w - 20, line_y, right - w - 6, line_y, true);
    return right - w - 30;
}

static void s_draw_diversity(viz_draw_t *d, SDL_Renderer *r, const viz_layout_t *layout,
                             const viz_model_t *m, const viz_view_t *v, size_t first)
{
    const SDL_Rect *panel = &layout->panel[VIZ_PANEL_DIVERSITY];
    int keys = s_text_width(d->small, "coverage") + s_text_width(d->small, "Gini") + 60;
    if (keys <= s_title_room(d, layout, m, VIZ_PANEL_DIVERSITY)) {
        int right = s_key(d, r, panel->x + panel->w - 8, panel->y + 5,
                          viz_colour(VIZ_COLOUR_COVERAGE), "coverage");
        s_key(d, r, right, panel->y + 5, viz_colour(VIZ_COLOUR_GINI), "Gini");
    }
    s_axes_t a;
    if (!s_time_axes(d, r, &layout->plot[VIZ_PANEL_DIVERSITY], m, v, first, 0, 1, &a))
        return;
    s_series_t s = {.n = m->n_points - first,
                    .points = m->points + first,
                    .all_episodes = v->all_episodes,
                    .y_stride = sizeof *m->points};
    s.y = (const char *)&m->points[first].coverage;
    s_draw_series(r, &a, &s, viz_colour(VIZ_COLOUR_COVERAGE), true);
    s.y = (const char *)&m->points[first].gini;
    s_draw_series(r, &a, &s, viz_colour(VIZ_COLOUR_GINI), true);
}

/* Panel p's subtitle, right-aligned in its title row if there is room. */
static void s_subtitle(viz_draw_t *d, SDL_Renderer *r, const viz_layout_t *layout,
                       const viz_model_t *m, viz_panel_t p, const char *text)
{
    const SDL_Rect *panel = &layout->panel[p];
    if (s_text_width(d->small, text) <= s_title_room(d, layout, m, p))
        s_text(r, d->small, panel->x + panel->w - 8, panel->y + 6, S_RIGHT,
               viz_colour(VIZ_COLOUR_TEXT), text);
}

static void s_draw_lorenz(viz_draw_t *d, SDL_Renderer *r, const viz_layout_t *layout,
                          const viz_model_t *m)
{
    const SDL_Rect *area = &layout->plot[VIZ_PANEL_LORENZ];
    bool data = m->has_exposure && m->n_items > 0;
    if (data) {
        char text[96];
        snprintf(text, sizeof text, "Gini %.3f", m->exposure_gini);
        s_subtitle(d, r, layout, m, VIZ_PANEL_LORENZ, text);
    }
    if (area->w < 8 || area->h < 8)
        return;
    s_axes_t a = {.area = *area, .x0 = 0, .x1 = 1, .y0 = 0, .y1 = 1};
    s_draw_axes(d, r, &a, "share of items, least shown first", false);
    s_colour(r, viz_colour(VIZ_COLOUR_EQUALITY));
    SDL_RenderDrawLine(r, s_px(&a, 0), s_py(&a, 0), s_px(&a, 1), s_py(&a, 1));
    if (!data) {
        s_note(d, r, area, "no snapshot yet");
        return;
    }
    char when[64];
    snprintf(when, sizeof when, "episode %u, through tick %u", (unsigned)m->exposure_episode,
             (unsigned)m->exposure_tick);
    s_text(r, d->small, area->x + 6, area->y + 4, S_LEFT, viz_colour(VIZ_COLOUR_SEPARATOR), when);
    s_series_t s = {.n = m->n_items + 1,
                    .x_step = 1.0 / (double)m->n_items,
                    .y = (const char *)m->lorenz,
                    .y_stride = sizeof *m->lorenz,
                    .y_double = true};
    s_draw_series(r, &a, &s, viz_colour(VIZ_COLOUR_LORENZ), true);
}

static void s_draw_topics(viz_draw_t *d, SDL_Renderer *r, const viz_layout_t *layout,
                          const viz_model_t *m)
{
    const SDL_Rect *area = &layout->plot[VIZ_PANEL_TOPICS];
    bool data = m->has_exposure && m->n_topics > 0 && m->exposure_total > 0;
    double top = 0;
    for (uint32_t k = 0; data && k < m->n_topics; k++)
        top = fmax(top, (double)m->topics[k] / (double)m->exposure_total);
    if (data)
        s_subtitle(d, r, layout, m, VIZ_PANEL_TOPICS, "share of impressions");
    if (area->w < 8 || area->h < 8)
        return;
    double step = s_tick_step(0, top > 0 ? top : 1, area->h / 40 + 1);
    s_axes_t a = {.area = *area,
                  .x0 = -0.5,
                  .x1 = (m->n_topics ? m->n_topics : 1) - 0.5,
                  .y0 = 0,
                  .y1 = top > 0 ? ceil(top / step) * step : 1};
    s_draw_axes(d, r, &a, "topic", true);
    if (!data) {
        s_note(d, r, area, "no snapshot yet");
        return;
    }
    int slot = s_px(&a, 1) - s_px(&a, 0), bar = s_max(slot * 7 / 10, 1);
    SDL_RenderSetClipRect(r, area);
    for (uint32_t k = 0; k < m->n_topics; k++) {
        int y = s_py(&a, (double)m->topics[k] / (double)m->exposure_total), y0 = s_py(&a, 0);
        s_fill(r, s_rect(s_px(&a, k) - bar / 2, y, bar, y0 - y + 1), viz_colour(VIZ_COLOUR_TOPIC));
    }
    SDL_RenderSetClipRect(r, NULL);
}

static void s_draw_legend(viz_draw_t *d, SDL_Renderer *r, const viz_layout_t *layout,
                          const viz_model_t *m)
{
    SDL_Color text = viz_colour(VIZ_COLOUR_TEXT);
    const SDL_Rect *panel = &layout->panel[VIZ_PANEL_LEGEND];
    int normal = TTF_FontLineSkip(d->normal), small = TTF_FontLineSkip(d->small);
    char line[256], stats[96];
    if (m->n_agents == 0)
        s_note(d, r, &layout->plot[VIZ_PANEL_LEGEND], "no agents yet");
    SDL_RenderSetClipRect(r, panel);
    for (uint32_t k = 0; k < m->n_agents; k++) {
        SDL_Rect row;
        bool last_row = !viz_layout_legend_row(layout, (int)k + 1, &row) && k + 1 < m->n_agents;
        if (!viz_layout_legend_row(layout, (int)k, &row))
            break;
        int text_y = row.y + 2;
        if (last_row) {
            snprintf(line, sizeof line, "+ %u more agents", (unsigned)(m->n_agents - k));
            s_text(r, d->normal, row.x, text_y, S_LEFT, text, line);
            break;
        }
        s_fill(r, s_rect(row.x, text_y + (normal - S_SWATCH_H) / 2, S_SWATCH_W, S_SWATCH_H),
               viz_agent_colour(k));
        if (m->algorithms[k][0])
            snprintf(line, sizeof line, "%s (%s)", m->names[k], m->algorithms[k]);
        else
            snprintf(line, sizeof line, "%s", m->names[k]);
        s_text(r, d->normal, row.x + S_SWATCH_W + 6, text_y, S_LEFT, text, line);
        if (m->n_points == 0)
            continue;
        double share = m->share_running[(m->n_points - 1) * m->n_agents + k], reward = 0;
        for (size_t i = m->episode_start; i < m->n_points; i++) {
            float x = m->reward[i * m->n_agents + k];
            reward += isfinite(x) ? x : 0;
        }
        if (isfinite(share))
            snprintf(stats, sizeof stats, "share %.3f \xc2\xb7 episode reward %.0f", share, reward);
        else
            snprintf(stats, sizeof stats, "episode reward %.0f", reward);
        s_text(r, d->small, row.x + S_SWATCH_W + 6, text_y + normal, S_LEFT, text, stats);
    }
    int y = panel->y + panel->h - 2 * small - 6;
    s_text(r, d->small, panel->x + 10, y, S_LEFT, text,
           "thin: each tick \xc2\xb7 thick: 20-tick mean (reward),");
    s_text(r, d->small, panel->x + 10, y + small, S_LEFT, text,
           m->mode == VIZ_MODE_FEED ? "share of clicks in the episode so far (share)"
                                    : "share of requests in the episode so far (share)");
    SDL_RenderSetClipRect(r, NULL);
}

static void s_draw_title(viz_draw_t *d, SDL_Renderer *r, const viz_layout_t *layout,
                         const viz_model_t *m, const viz_view_t *v)
{
    char left[256], right[160];
    const char *name = m->scenario[0] ? m->scenario : "telemetry";
    if (m->n_points > 0) {
        const viz_point_t *p = &m->points[m->n_points - 1];
        snprintf(left, sizeof left, "recarena \xc2\xb7 %s \xc2\xb7 episode %u \xc2\xb7 tick %u",
                 name, (unsigned)p->episode, (unsigned)p->tick);
    } else {
        snprintf(left, sizeof left, "recarena \xc2\xb7 %s \xc2\xb7 waiting for data", name);
    }
    snprintf(right, sizeof right, "%s mode \xc2\xb7 %s%s%s",
             m->mode == VIZ_MODE_FEED ? "feed" : "market",
             v->all_episodes ? "all episodes" : "this episode",
             m->run_complete ? " \xc2\xb7 run complete" : "", v->paused ? " \xc2\xb7 PAUSED" : "");
    SDL_Color text = viz_colour(VIZ_COLOUR_TEXT);
    const SDL_Rect *t = &layout->title;
    SDL_RenderSetClipRect(r, t);
    s_text(r, d->large, t->x, t->y + 3, S_LEFT, text, left);
    s_text(r, d->normal, t->x + t->w, t->y + 5, S_RIGHT, text, right);
    const SDL_Rect *f = &layout->footer;
    SDL_RenderSetClipRect(r, f);
    s_text(r, d->small, f->x, f->y + 2, S_LEFT, text, v->status);
    s_text(r, d->small, f->x + f->w, f->y + 2, S_RIGHT, text, v->keys);
    SDL_RenderSetClipRect(r, NULL);
}

int viz_draw_render(viz_draw_t *d, SDL_Renderer *r, const viz_model_t *m, const viz_view_t *v)
{
    int w, h;
    if (SDL_GetRendererOutputSize(r, &w, &h) != 0)
        return VIZ_ESDL;
    SDL_SetRenderDrawBlendMode(r, SDL_BLENDMODE_NONE);
    SDL_RenderSetClipRect(r, NULL);
    s_colour(r, viz_colour(VIZ_COLOUR_BACKGROUND));
    if (SDL_RenderClear(r) != 0)
        return VIZ_ESDL;
    viz_layout_t layout;
    viz_draw_layout(d, w, h, &layout);
    size_t first = viz_model_first_point(m, v->all_episodes);
    for (int p = 0; p < VIZ_PANEL_COUNT; p++)
        s_panel_frame(d, r, &layout.panel[p], s_panel_title(m, (viz_panel_t)p));
    s_draw_title(d, r, &layout, m, v);
    s_draw_reward(d, r, &layout, m, v, first);
    s_draw_share(d, r, &layout, m, v, first);
    s_draw_diversity(d, r, &layout, m, v, first);
    s_draw_lorenz(d, r, &layout, m);
    s_draw_topics(d, r, &layout, m);
    s_draw_legend(d, r, &layout, m);
    return 0;
}

SDL_Surface *viz_draw_surface(viz_draw_t *d, int width, int height, const viz_model_t *m,
                              const viz_view_t *v, char *err, size_t err_len)
{
    if (width < VIZ_MIN_SIZE || height < VIZ_MIN_SIZE || width > VIZ_MAX_SIZE ||
        height > VIZ_MAX_SIZE) {
        snprintf(err, err_len, "picture size %dx%d: each side must be in [%d, %d]", width, height,
                 VIZ_MIN_SIZE, VIZ_MAX_SIZE);
        return NULL;
    }
    SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, width, height, 32, SDL_PIXELFORMAT_RGB888);
    SDL_Renderer *r = s ? SDL_CreateSoftwareRenderer(s) : NULL;
    if (!r) {
        snprintf(err, err_len, "cannot draw offscreen: %s", SDL_GetError());
        SDL_FreeSurface(s);
        return NULL;
    }
    int rc = viz_draw_render(d, r, m, v);
    SDL_DestroyRenderer(r);
    if (rc != 0) {
        snprintf(err, err_len, "cannot draw offscreen: %s", SDL_GetError());
        SDL_FreeSurface(s);
        return NULL;
    }
    return s;
}

int viz_draw_png(viz_draw_t *d, int width, int height, const viz_model_t *m, const viz_view_t *v,
                 const char *path, char *err, size_t err_len)
{
    SDL_Surface *s = viz_draw_surface(d, width, height, m, v, err, err_len);
    if (!s)
        return VIZ_ESDL;
    int rc = 0;
    if (IMG_SavePNG(s, path) != 0) {
        snprintf(err, err_len, "cannot write %s: %s", path, IMG_GetError());
        rc = VIZ_EIO;
    }
    SDL_FreeSurface(s);
    return rc;
}
