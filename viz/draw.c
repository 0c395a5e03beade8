/* The viewer's charts, drawn into an SDL renderer (draw.h). */
#include "viz/draw.h"

#include "viz/chart.h"
#include "viz/panels.h"

#include <SDL_image.h>
#include <SDL_ttf.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_MARGIN      8  /* around the picture, pixels (times the scale) */
#define S_GAP         8  /* between panels */
#define S_FONT_SMALL  11 /* tick labels, axis labels, footer, notes; points (times the scale) */
#define S_FONT_NORMAL 13 /* panel titles, legend */
#define S_FONT_LARGE  16 /* the title */

struct viz_draw {
    char *font_path;
    double scale;
    viz_theme_t theme;
    TTF_Font *small, *normal, *large;
};

/* Tableau 10: distinct, and readable on white */
static const SDL_Color s_light_palette[] = {
    {31, 119, 180, 255},  {255, 127, 14, 255}, {44, 160, 44, 255},   {214, 39, 40, 255},
    {148, 103, 189, 255}, {140, 86, 75, 255},  {227, 119, 194, 255}, {127, 127, 127, 255},
    {188, 189, 34, 255},  {23, 190, 207, 255},
};

/* bright on black, as distinct as the light ones */
static const SDL_Color s_contrast_palette[] = {
    {255, 221, 0, 255},   {86, 180, 255, 255},  {255, 128, 0, 255}, {0, 230, 118, 255},
    {255, 102, 204, 255}, {190, 160, 255, 255}, {255, 80, 80, 255}, {0, 229, 255, 255},
    {200, 255, 80, 255},  {240, 240, 240, 255},
};

#define S_PALETTE_SIZE (sizeof s_light_palette / sizeof *s_light_palette)

static const SDL_Color s_roles[VIZ_THEME_COUNT][VIZ_COLOUR_COUNT] =
    {
        [VIZ_THEME_LIGHT] =
            {
                [VIZ_COLOUR_BACKGROUND] = {236, 236, 236, 255},
                [VIZ_COLOUR_PANEL] = {255, 255, 255, 255},
                [VIZ_COLOUR_FRAME] = {200, 200, 200, 255},
                [VIZ_COLOUR_TEXT] = {33, 33, 33, 255},
                [VIZ_COLOUR_AXIS] = {90, 90, 90, 255},
                [VIZ_COLOUR_GRID] = {232, 232, 232, 255},
                [VIZ_COLOUR_SEPARATOR] = {160, 160, 160, 255},
                [VIZ_COLOUR_GINI] = {34, 34, 136, 255},
                [VIZ_COLOUR_COVERAGE] = {0, 153, 136, 255},
                [VIZ_COLOUR_LORENZ] = {136, 34, 85, 255},
                [VIZ_COLOUR_EQUALITY] = {185, 185, 185, 255},
                [VIZ_COLOUR_TOPIC] = {95, 125, 160, 255},
                [VIZ_COLOUR_USERS] = {60, 60, 60, 255},
            },
        [VIZ_THEME_CONTRAST] =
            {
                [VIZ_COLOUR_BACKGROUND] = {0, 0, 0, 255},
                [VIZ_COLOUR_PANEL] = {0, 0, 0, 255},
                [VIZ_COLOUR_FRAME] = {150, 150, 150, 255},
                [VIZ_COLOUR_TEXT] = {255, 255, 255, 255},
                [VIZ_COLOUR_AXIS] = {230, 230, 230, 255},
                [VIZ_COLOUR_GRID] = {64, 64, 64, 255},
                [VIZ_COLOUR_SEPARATOR] = {190, 190, 190, 255},
                [VIZ_COLOUR_GINI] = {255, 221, 0, 255},
                [VIZ_COLOUR_COVERAGE] = {0, 229, 255, 255},
                [VIZ_COLOUR_LORENZ] = {255, 102, 204, 255},
                [VIZ_COLOUR_EQUALITY] = {140, 140, 140, 255},
                [VIZ_COLOUR_TOPIC] = {86, 180, 255, 255},
                [VIZ_COLOUR_USERS] = {255, 255, 255, 255},
            },
};

SDL_Color viz_colour(viz_theme_t theme, viz_colour_role_t role)
{
    return s_roles[theme][role];
}

SDL_Color viz_agent_colour(viz_theme_t theme, uint32_t agent)
{
    const SDL_Color *palette = theme == VIZ_THEME_CONTRAST ? s_contrast_palette : s_light_palette;
    return palette[agent % S_PALETTE_SIZE];
}

SDL_Color viz_agent_tint(viz_theme_t theme, uint32_t agent)
{
    /* 40 % of the colour over the panel's (white or black) */
    SDL_Color c = viz_agent_colour(theme, agent), p = viz_colour(theme, VIZ_COLOUR_PANEL);
    return (SDL_Color){(Uint8)(p.r * 3 / 5 + c.r * 2 / 5), (Uint8)(p.g * 3 / 5 + c.g * 2 / 5),
                       (Uint8)(p.b * 3 / 5 + c.b * 2 / 5), 255};
}

/* ---- panel sets ----------------------------------------------------- */

static const char *const s_set_names[VIZ_SET_COUNT] = {"overview", "learning", "episodes"};

static const viz_panel_t s_sets[VIZ_SET_COUNT][VIZ_SET_PANELS] = {
    [VIZ_SET_OVERVIEW] = {VIZ_PANEL_REWARD, VIZ_PANEL_SHARE, VIZ_PANEL_DIVERSITY, VIZ_PANEL_LORENZ,
                          VIZ_PANEL_TOPICS, VIZ_PANEL_LEGEND},
    [VIZ_SET_LEARNING] = {VIZ_PANEL_CLICK_RATE, VIZ_PANEL_REGRET, VIZ_PANEL_SHARE, VIZ_PANEL_REWARD,
                          VIZ_PANEL_USERS, VIZ_PANEL_WELFARE},
    [VIZ_SET_EPISODES] = {VIZ_PANEL_EPISODE_CLICK_RATE, VIZ_PANEL_EPISODE_REGRET,
                          VIZ_PANEL_EPISODE_SHARE, VIZ_PANEL_EPISODE_REWARD,
                          VIZ_PANEL_EPISODE_WELFARE, VIZ_PANEL_EPISODE_DIVERSITY},
};

const char *viz_panel_set_name(viz_panel_set_t set)
{
    return s_set_names[set];
}

bool viz_panel_set_parse(const char *name, viz_panel_set_t *out)
{
    for (int i = 0; i < VIZ_SET_COUNT; i++)
        if (name && strcmp(name, s_set_names[i]) == 0) {
            *out = (viz_panel_set_t)i;
            return true;
        }
    return false;
}

const viz_panel_t *viz_panel_set_panels(viz_panel_set_t set)
{
    return s_sets[set];
}

/* ---- lifecycle ------------------------------------------------------ */

static void s_close_fonts(viz_draw_t *d)
{
    TTF_Font **fonts[] = {&d->small, &d->normal, &d->large};
    for (int i = 0; i < 3; i++) {
        if (*fonts[i])
            TTF_CloseFont(*fonts[i]);
        *fonts[i] = NULL;
    }
}

/* Opens the three sizes at scale; false (and d's fonts as they were) on
 * failure, with a message in err. */
static bool s_open_fonts(viz_draw_t *d, double scale, char *err, size_t err_len)
{
    TTF_Font *small = TTF_OpenFont(d->font_path, (int)lround(S_FONT_SMALL * scale));
    TTF_Font *normal = TTF_OpenFont(d->font_path, (int)lround(S_FONT_NORMAL * scale));
    TTF_Font *large = TTF_OpenFont(d->font_path, (int)lround(S_FONT_LARGE * scale));
    if (!small || !normal || !large) {
        snprintf(err, err_len, "cannot open font %s: %s", d->font_path, TTF_GetError());
        TTF_Font *fonts[] = {small, normal, large};
        for (int i = 0; i < 3; i++)
            if (fonts[i])
                TTF_CloseFont(fonts[i]);
        return false;
    }
    s_close_fonts(d);
    d->small = small;
    d->normal = normal;
    d->large = large;
    d->scale = scale;
    return true;
}

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
    char *path = strdup(font_path);
    if (!d || !path) {
        snprintf(err, err_len, "out of memory");
        free(d);
        free(path);
        TTF_Quit();
        return NULL;
    }
    d->font_path = path;
    d->theme = VIZ_THEME_LIGHT;
    if (!s_open_fonts(d, 1.0, err, err_len))
        viz_draw_destroy(&d);
    return d;
}

void viz_draw_destroy(viz_draw_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    viz_draw_t *d = *self_p;
    s_close_fonts(d);
    free(d->font_path);
    free(d);
    TTF_Quit();
    IMG_Quit();
    *self_p = NULL;
}

int viz_draw_set_style(viz_draw_t *d, double scale, viz_theme_t theme, char *err, size_t err_len)
{
    if (!(scale >= VIZ_MIN_SCALE && scale <= VIZ_MAX_SCALE) || theme < 0 ||
        theme >= VIZ_THEME_COUNT) {
        snprintf(err, err_len, "scale %g: must be in [%g, %g]", scale, VIZ_MIN_SCALE,
                 VIZ_MAX_SCALE);
        return ERR_EINVAL;
    }
    if (scale != d->scale && !s_open_fonts(d, scale, err, err_len))
        return ERR_EDISPLAY;
    d->theme = theme;
    return 0;
}

double viz_draw_scale(const viz_draw_t *d)
{
    return d->scale;
}

viz_theme_t viz_draw_theme(const viz_draw_t *d)
{
    return d->theme;
}

/* ---- layout --------------------------------------------------------- */

static int s_max(int a, int b)
{
    return a > b ? a : b;
}

static SDL_Rect s_rect(int x, int y, int w, int h)
{
    return (SDL_Rect){x, y, s_max(w, 0), s_max(h, 0)};
}

/* Pixels for n at the drawing's scale. */
static int s_px(const viz_draw_t *d, int n)
{
    return (int)lround(n * d->scale);
}

void viz_draw_layout(const viz_draw_t *d, int width, int height, viz_panel_set_t set,
                     viz_layout_t *o)
{
    int large = TTF_FontLineSkip(d->large), normal = TTF_FontLineSkip(d->normal),
        small = TTF_FontLineSkip(d->small), margin = s_px(d, S_MARGIN), gap = s_px(d, S_GAP);
    memset(o, 0, sizeof *o);
    o->title = s_rect(margin, margin / 2, width - 2 * margin, large + 6);
    o->footer = s_rect(margin, height - small - 6, width - 2 * margin, small + 4);
    int top = o->title.y + o->title.h + gap / 2;
    int grid_w = width - 2 * margin, grid_h = o->footer.y - gap / 2 - top;
    int panel_w = (grid_w - 2 * gap) / 3, panel_h = (grid_h - gap) / 2;
    /* title row, the y axis label's row; tick labels left; x labels below */
    int title_h = normal + 8, y_label_h = small + 2,
        left = viz_chart_text_width(d->small, "-0.000") + small / 3 + 6,
        bottom = 2 * small + small / 3 + 4;
    int labels = viz_chart_text_width(d->small, "thompson00") + s_px(d, 6);
    const viz_panel_t *panels = viz_panel_set_panels(set);
    for (int i = 0; i < VIZ_SET_PANELS; i++) {
        viz_panel_t p = panels[i];
        SDL_Rect f = s_rect(margin + (i % 3) * (panel_w + gap), top + (i / 3) * (panel_h + gap),
                            panel_w, panel_h);
        int right = viz_panel_has_end_labels(p) ? s_max(labels, s_px(d, 14)) : s_px(d, 14);
        if (right > f.w / 3)
            right = f.w / 3;
        o->shown[p] = true;
        o->panel[p] = f;
        o->plot[p] = s_rect(f.x + left, f.y + title_h + y_label_h + 4, f.w - left - right,
                            f.h - title_h - y_label_h - 4 - bottom);
        if (p == VIZ_PANEL_LEGEND)
            o->plot[p] = s_rect(f.x + 10, f.y + title_h, f.w - 20, f.h - title_h - bottom);
    }
    o->legend_row_height = normal + small + 6; /* name, then figures */
}

bool viz_layout_legend_row(const viz_layout_t *layout, int i, SDL_Rect *row)
{
    const SDL_Rect *rows = &layout->plot[VIZ_PANEL_LEGEND];
    int h = layout->legend_row_height;
    *row = s_rect(rows->x, rows->y + i * h, rows->w, h);
    return layout->shown[VIZ_PANEL_LEGEND] && i >= 0 && h > 0 && (i + 1) * h <= rows->h;
}

/* The canvas the panels draw on: d's fonts and theme, lines scaled. */
static viz_canvas_t s_canvas(const viz_draw_t *d, SDL_Renderer *r)
{
    return (viz_canvas_t){.r = r,
                          .small = d->small,
                          .normal = d->normal,
                          .large = d->large,
                          .theme = d->theme,
                          .thin = s_max(s_px(d, 1), 1),
                          .thick = s_max(s_px(d, 2), 2),
                          .marker = s_max(s_px(d, 6), 4),
                          .dash = s_max(s_px(d, 10), 6)};
}

viz_canvas_t viz_draw_canvas(const viz_draw_t *d, SDL_Renderer *r)
{
    return s_canvas(d, r);
}

static void s_draw_title(const viz_canvas_t *c, const viz_layout_t *layout, const viz_model_t *m,
                         const viz_view_t *v)
{
    char left[256], right[200];
    const char *name = m->scenario[0] ? m->scenario : "telemetry";
    if (m->n_points > 0) {
        const viz_point_t *p = &m->points[m->n_points - 1];
        snprintf(left, sizeof left, "recarena \xc2\xb7 %s \xc2\xb7 episode %u \xc2\xb7 tick %u",
                 name, (unsigned)p->episode, (unsigned)p->tick);
    } else {
        snprintf(left, sizeof left, "recarena \xc2\xb7 %s \xc2\xb7 waiting for data", name);
    }
    snprintf(right, sizeof right, "%s \xc2\xb7 %s mode \xc2\xb7 %s%s%s",
             viz_panel_set_name(v->panels), m->mode == VIZ_MODE_FEED ? "feed" : "market",
             v->all_episodes ? "all episodes" : "this episode",
             m->run_complete ? " \xc2\xb7 run complete" : "", v->paused ? " \xc2\xb7 PAUSED" : "");
    SDL_Color text = viz_chart_role(c, VIZ_COLOUR_TEXT);
    const SDL_Rect *t = &layout->title;
    int dy = (viz_chart_line_height(c->large) - viz_chart_line_height(c->normal)) / 2;
    SDL_RenderSetClipRect(c->r, t);
    viz_chart_text(c, c->large, t->x, t->y + 3, VIZ_ALIGN_LEFT, text, left);
    viz_chart_text(c, c->normal, t->x + t->w, t->y + 3 + dy, VIZ_ALIGN_RIGHT, text, right);
    const SDL_Rect *f = &layout->footer;
    SDL_RenderSetClipRect(c->r, f);
    viz_chart_text(c, c->small, f->x, f->y + 2, VIZ_ALIGN_LEFT, text, v->status);
    viz_chart_text(c, c->small, f->x + f->w, f->y + 2, VIZ_ALIGN_RIGHT, text, v->keys);
    SDL_RenderSetClipRect(c->r, NULL);
}

/* A panel's frame, title and y axis label. */
static void s_draw_frame(const viz_canvas_t *c, const viz_layout_t *layout, const viz_model_t *m,
                         viz_panel_t p)
{
    const SDL_Rect *f = &layout->panel[p];
    viz_chart_fill(c, *f, viz_chart_role(c, VIZ_COLOUR_PANEL));
    SDL_Color frame = viz_chart_role(c, VIZ_COLOUR_FRAME),
              text = viz_chart_role(c, VIZ_COLOUR_TEXT);
    SDL_SetRenderDrawColor(c->r, frame.r, frame.g, frame.b, 255);
    SDL_RenderDrawRect(c->r, f);
    SDL_RenderSetClipRect(c->r, f);
    viz_chart_text(c, c->normal, f->x + 8, f->y + 4, VIZ_ALIGN_LEFT, text, viz_panel_title(m, p));
    viz_chart_text(c, c->small, f->x + 8, f->y + viz_chart_line_height(c->normal) + 8,
                   VIZ_ALIGN_LEFT, text, viz_panel_y_label(m, p));
    SDL_RenderSetClipRect(c->r, NULL);
}

int viz_draw_render(viz_draw_t *d, SDL_Renderer *r, const viz_model_t *m, const viz_view_t *v)
{
    int w, h;
    if (SDL_GetRendererOutputSize(r, &w, &h) != 0)
        return ERR_EDISPLAY;
    viz_canvas_t c = s_canvas(d, r);
    SDL_SetRenderDrawBlendMode(r, SDL_BLENDMODE_NONE);
    SDL_RenderSetClipRect(r, NULL);
    SDL_Color background = viz_chart_role(&c, VIZ_COLOUR_BACKGROUND);
    SDL_SetRenderDrawColor(r, background.r, background.g, background.b, 255);
    if (SDL_RenderClear(r) != 0)
        return ERR_EDISPLAY;
    viz_layout_t layout;
    viz_draw_layout(d, w, h, v->panels, &layout);
    s_draw_title(&c, &layout, m, v);
    const viz_panel_t *panels = viz_panel_set_panels(v->panels);
    for (int i = 0; i < VIZ_SET_PANELS; i++) {
        s_draw_frame(&c, &layout, m, panels[i]);
        viz_panel_draw(&c, panels[i], &layout, m, v);
    }
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

viz_image_type_t viz_image_type(const char *path)
{
    static const struct {
        const char *ending;
        viz_image_type_t type;
    } endings[] = {{".png", VIZ_IMAGE_PNG}, {".jpg", VIZ_IMAGE_JPEG}, {".jpeg", VIZ_IMAGE_JPEG}};
    size_t n = strlen(path);
    for (size_t i = 0; i < sizeof endings / sizeof endings[0]; i++) {
        size_t e = strlen(endings[i].ending);
        if (n > e && SDL_strcasecmp(path + n - e, endings[i].ending) == 0)
            return endings[i].type;
    }
    return VIZ_IMAGE_UNKNOWN;
}

int viz_image_save(SDL_Surface *s, const char *path, char *err, size_t err_len)
{
    int rc;
    switch (viz_image_type(path)) {
    case VIZ_IMAGE_PNG:
        rc = IMG_SavePNG(s, path);
        break;
    case VIZ_IMAGE_JPEG:
        rc = IMG_SaveJPG(s, path, VIZ_JPEG_QUALITY);
        break;
    default:
        snprintf(err, err_len, "%s: unknown picture type (the name must end in %s)", path,
                 VIZ_IMAGE_ENDINGS);
        return ERR_EINVAL;
    }
    if (rc != 0) {
        snprintf(err, err_len, "cannot write %s: %s", path, IMG_GetError());
        return ERR_EIO;
    }
    return 0;
}

int viz_draw_png(viz_draw_t *d, int width, int height, const viz_model_t *m, const viz_view_t *v,
                 const char *path, char *err, size_t err_len)
{
    if (viz_image_type(path) == VIZ_IMAGE_UNKNOWN) {
        snprintf(err, err_len, "%s: unknown picture type (the name must end in %s)", path,
                 VIZ_IMAGE_ENDINGS);
        return ERR_EINVAL;
    }
    SDL_Surface *s = viz_draw_surface(d, width, height, m, v, err, err_len);
    if (!s)
        return ERR_EDISPLAY;
    int rc = viz_image_save(s, path, err, err_len);
    SDL_FreeSurface(s);
    return rc;
}
