/* The viewer's panels (panels.h): a table says what each one shows, and
 * one function per kind of panel draws it: per-agent curves over time or
 * per episode, system curves over time or per episode, the Lorenz curve,
 * exposure per topic and the agents' legend. */
#include "viz/panels.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define S_MAX_CURVES (PROTO_MAX_AGENTS + 2)

typedef enum s_kind {
    S_AGENT_TIME,     /* a thin (per tick) and a thick curve per agent, over ticks */
    S_SYSTEM_TIME,    /* one or two curves of viz_point_t fields, over ticks */
    S_AGENT_EPISODE,  /* a curve per agent, one point per episode, then any system lines */
    S_SYSTEM_EPISODE, /* one or two curves of viz_episode_t fields, per episode */
    S_LORENZ,
    S_TOPICS,
    S_LEGEND,
} s_kind_t;

typedef enum s_range {
    S_RANGE_DATA, /* from the data's least (or 0) to its greatest */
    S_RANGE_ZERO, /* from 0 to the data's greatest */
    S_RANGE_UNIT, /* [0, 1] */
} s_range_t;

/* A system curve: a float field of viz_point_t or viz_episode_t. */
typedef struct s_line {
    size_t offset;
    viz_colour_role_t role;
    const char *label; /* at its end; NULL: none (the panel has one curve) */
} s_line_t;

typedef struct s_spec {
    const char *title, *y_label;
    s_kind_t kind;
    s_range_t range;
    size_t thin, thick; /* per-agent float arrays: offsetof(viz_model_t, ...); thin 0: none */
    const char *key;    /* the title row's right: what the thick curve is */
    s_line_t lines[2];
    int n_lines;
    bool needs_oracle; /* regret: n/a without it */
} s_spec_t;

#define S_MODEL(field) offsetof(viz_model_t, field)

static const s_spec_t s_specs[VIZ_PANEL_COUNT] = {
    [VIZ_PANEL_REWARD] = {"Reward per tick", "reward per tick (clicks, after sharing)",
                          S_AGENT_TIME, S_RANGE_DATA, S_MODEL(reward), S_MODEL(reward_average),
                          "thick: 20-tick mean"},
    [VIZ_PANEL_SHARE] = {"Market share", "share of requests (0 to 1)", S_AGENT_TIME, S_RANGE_UNIT,
                         S_MODEL(share), S_MODEL(share_running), "thick: episode so far"},
    [VIZ_PANEL_DIVERSITY] = {"Exposure diversity", "Gini, catalog coverage (0 to 1)", S_SYSTEM_TIME,
                             S_RANGE_UNIT,
                             .lines = {{offsetof(viz_point_t, coverage), VIZ_COLOUR_COVERAGE,
                                        "coverage"},
                                       {offsetof(viz_point_t, gini), VIZ_COLOUR_GINI, "Gini"}},
                             .n_lines = 2},
    [VIZ_PANEL_LORENZ] = {"Lorenz curve of item exposure", "cumulative share of impressions",
                          S_LORENZ},
    [VIZ_PANEL_TOPICS] = {"Exposure per topic", "share of impressions", S_TOPICS},
    [VIZ_PANEL_LEGEND] = {"Agents", "", S_LEGEND},
    [VIZ_PANEL_CLICK_RATE] = {"Click rate per agent", "clicks per request", S_AGENT_TIME,
                              S_RANGE_ZERO, S_MODEL(click_rate), S_MODEL(click_rate_running),
                              "thick: episode so far"},
    [VIZ_PANEL_REGRET] = {"Regret per agent", "clicks lost per request, vs the oracle",
                          S_AGENT_TIME, S_RANGE_ZERO, S_MODEL(regret_rate),
                          S_MODEL(regret_rate_running), "thick: episode so far",
                          .needs_oracle = true},
    [VIZ_PANEL_USERS] = {"Active users", "users in a session", S_SYSTEM_TIME, S_RANGE_ZERO,
                         .lines = {{offsetof(viz_point_t, active_users), VIZ_COLOUR_USERS}},
                         .n_lines = 1},
    [VIZ_PANEL_WELFARE] = {"Welfare", "utility users consumed per tick", S_SYSTEM_TIME,
                           S_RANGE_DATA,
                           .lines = {{offsetof(viz_point_t, welfare), VIZ_COLOUR_USERS}},
                           .n_lines = 1},
    [VIZ_PANEL_EPISODE_CLICK_RATE] = {"Click rate per episode", "clicks per request",
                                      S_AGENT_EPISODE, S_RANGE_ZERO, 0,
                                      S_MODEL(episode_click_rate)},
    [VIZ_PANEL_EPISODE_REGRET] = {"Regret per episode", "clicks lost per request, vs the oracle",
                                  S_AGENT_EPISODE, S_RANGE_ZERO, 0, S_MODEL(episode_regret),
                                  .needs_oracle = true},
    [VIZ_PANEL_EPISODE_SHARE] = {"Market share per episode", "share of requests (0 to 1)",
                                 S_AGENT_EPISODE, S_RANGE_UNIT, 0, S_MODEL(episode_share)},
    [VIZ_PANEL_EPISODE_REWARD] = {"Reward per episode", "reward per episode (clicks)",
                                  S_AGENT_EPISODE, S_RANGE_ZERO, 0, S_MODEL(episode_reward)},
    [VIZ_PANEL_EPISODE_WELFARE] =
        {"Welfare per episode", "utility per request", S_SYSTEM_EPISODE, S_RANGE_DATA,
         .lines = {{offsetof(viz_episode_t, welfare_per_request), VIZ_COLOUR_USERS}}, .n_lines = 1},
    /* each agent's Gini of its own slates, and the system's Gini and coverage */
    [VIZ_PANEL_EPISODE_DIVERSITY] =
        {"Exposure diversity per episode", "Gini per agent and of all; coverage", S_AGENT_EPISODE,
         S_RANGE_UNIT, 0, S_MODEL(episode_gini),
         .lines = {{offsetof(viz_episode_t, coverage), VIZ_COLOUR_COVERAGE, "coverage"},
                   {offsetof(viz_episode_t, gini), VIZ_COLOUR_GINI, "Gini, all"}},
         .n_lines = 2},
};

const char *viz_panel_title(const viz_model_t *m, viz_panel_t p)
{
    bool feed = m->mode == VIZ_MODE_FEED;
    if (p == VIZ_PANEL_SHARE && feed)
        return "Click share (feed mode)";
    if (p == VIZ_PANEL_EPISODE_SHARE && feed)
        return "Click share per episode";
    return s_specs[p].title;
}

const char *viz_panel_y_label(const viz_model_t *m, viz_panel_t p)
{
    if ((p == VIZ_PANEL_SHARE || p == VIZ_PANEL_EPISODE_SHARE) && m->mode == VIZ_MODE_FEED)
        return "share of clicks (0 to 1)";
    return s_specs[p].y_label;
}

bool viz_panel_has_end_labels(viz_panel_t p)
{
    s_kind_t k = s_specs[p].kind;
    return k == S_AGENT_TIME || k == S_AGENT_EPISODE || s_specs[p].n_lines > 1;
}

static const float *s_agent_values(const viz_model_t *m, size_t offset)
{
    const float *values;
    memcpy(&values, (const char *)m + offset, sizeof values);
    return values;
}

/* ---- x axes: ticks or episodes -------------------------------------- */

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

/* The episode panels' x range: every episode of the run when known, half
 * an episode of room either side so that no point sits on the frame. */
static void s_episode_range(const viz_model_t *m, double *x0, double *x1)
{
    double first = m->n_episodes ? m->episode[0].episode : 0,
           last = m->n_episodes ? m->episode[m->n_episodes - 1].episode : 0;
    if (m->episodes)
        last = fmax(last, (double)m->episodes - 1);
    *x0 = first - 0.5;
    *x1 = last + 0.5;
}

/* Dashed lines where episodes start, labelled "ep N" (all episodes). */
static void s_draw_separators(const viz_canvas_t *c, const viz_axes_t *a, const viz_model_t *m,
                              size_t first)
{
    SDL_Color colour = viz_chart_role(c, VIZ_COLOUR_SEPARATOR);
    char label[32];
    for (size_t i = first + 1; i < m->n_points; i++) {
        if (m->points[i].episode == m->points[i - 1].episode)
            continue;
        int x = viz_axes_px(a, m->points[i].x_all);
        if (x < a->area.x || x >= a->area.x + a->area.w)
            continue;
        SDL_SetRenderDrawColor(c->r, colour.r, colour.g, colour.b, 255);
        for (int y = a->area.y; y < a->area.y + a->area.h; y += 6)
            SDL_RenderDrawLine(c->r, x, y, x, y + 2);
        snprintf(label, sizeof label, "ep %u", (unsigned)m->points[i].episode);
        viz_chart_text(c, c->small, x + 3, a->area.y + 1, VIZ_ALIGN_LEFT, colour, label);
    }
}

/* ---- series of the model -------------------------------------------- */

/* Point fields from point first on: y at offset in each viz_point_t. */
static viz_series_t s_point_series(const viz_model_t *m, size_t first, bool all, const char *y,
                                   size_t y_stride)
{
    const viz_point_t *p = m->points + first;
    return (viz_series_t){.n = m->n_points - first,
                          .x = all ? (const char *)&p->x_all : (const char *)&p->tick,
                          .x_stride = sizeof *p,
                          .x_u32 = !all,
                          .y = y,
                          .y_stride = y_stride,
                          .group = (const char *)&p->episode,
                          .group_stride = sizeof *p};
}

/* Column agent of a (n_points, n_agents) array, from point first on. */
static viz_series_t s_agent_time(const viz_model_t *m, const float *values, uint32_t agent,
                                 size_t first, bool all)
{
    return s_point_series(m, first, all, (const char *)(values + first * m->n_agents + agent),
                          m->n_agents * sizeof *values);
}

/* Column agent of a (n_episodes, n_agents) array, or with values NULL
 * the float at offset in each viz_episode_t. */
static viz_series_t s_episode_series(const viz_model_t *m, const float *values, uint32_t agent,
                                     size_t offset)
{
    viz_series_t s = {.n = m->n_episodes,
                      .x = (const char *)&m->episode->episode,
                      .x_stride = sizeof *m->episode,
                      .x_u32 = true};
    if (values) {
        s.y = (const char *)(values + agent);
        s.y_stride = m->n_agents * sizeof *values;
    } else {
        s.y = (const char *)m->episode + offset;
        s.y_stride = sizeof *m->episode;
    }
    return s;
}

/* Least and greatest finite y of n series. */
static void s_extent(const viz_series_t *s, int n, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (int k = 0; k < n; k++)
        for (size_t i = 0; i < s[k].n; i++) {
            double y;
            if (s[k].y_double)
                memcpy(&y, s[k].y + i * s[k].y_stride, sizeof y);
            else {
                float v;
                memcpy(&v, s[k].y + i * s[k].y_stride, sizeof v);
                y = v;
            }
            if (isfinite(y)) {
                *lo = fmin(*lo, y);
                *hi = fmax(*hi, y);
            }
        }
}

/* The y range a panel's range rule gives the n series, in area. */
static void s_y_range(s_range_t rule, const viz_series_t *s, int n, const SDL_Rect *area,
                      int line_height, double *y0, double *y1)
{
    double lo, hi;
    s_extent(s, n, &lo, &hi);
    if (rule == S_RANGE_UNIT || !isfinite(hi))
        lo = 0, hi = 1;
    lo = rule == S_RANGE_DATA ? fmin(lo, 0) : 0;
    if (!(hi - lo > 1e-12))
        hi = lo + 1;
    double step = viz_chart_tick_step(lo, hi, area->h / (3 * line_height) + 1);
    *y0 = floor(lo / step + 1e-9) * step;
    *y1 =
        lo < 0 ? ceil(hi / step - 1e-9) * step + step / 2 : viz_chart_top(hi - *y0, area->h) + *y0;
}

/* ---- curves panels -------------------------------------------------- */

/* The labels at the curves' ends, inside the panel, right of the plot. */
static void s_end_labels(const viz_canvas_t *c, const viz_layout_t *layout, viz_panel_t p,
                         viz_label_t *labels, int n)
{
    const SDL_Rect *f = &layout->panel[p], *area = &layout->plot[p];
    viz_chart_end_labels(c, labels, n, area->y - viz_chart_line_height(c->small) / 2,
                         area->y + area->h, f->x + f->w - 2);
}

/* n curves: the coinciding ones dashed, each with its stroke; labels at
 * the ends of those with text. */
static int s_draw_curves(const viz_canvas_t *c, const viz_axes_t *a, const viz_series_t *s,
                         const SDL_Color *colours, const char *const *texts, int n, int width,
                         bool markers, viz_label_t *labels)
{
    int count[S_MAX_CURVES], index[S_MAX_CURVES], n_labels = 0;
    viz_chart_coincide(a, s, n, width, count, index);
    for (int k = 0; k < n; k++) {
        viz_stroke_t stroke = {colours[k], width, count[k], index[k], markers};
        viz_chart_series(c, a, &s[k], &stroke);
        int x, y;
        if (labels && texts && texts[k] && viz_chart_series_end(a, &s[k], &x, &y))
            labels[n_labels++] = (viz_label_t){x, y, texts[k], colours[k]};
    }
    return n_labels;
}

/* The note a panel without data shows; NULL if it has data. */
static const char *s_missing(const s_spec_t *spec, const viz_model_t *m, bool empty)
{
    if (spec->needs_oracle && m->oracle_off)
        return "n/a: the oracle is off (world.oracle = false)";
    if (spec->needs_oracle && !empty && !m->has_regret)
        return "n/a: no regret in the data (oracle off?)";
    return empty ? "no data yet" : NULL;
}

static void s_draw_curves_panel(const viz_canvas_t *c, viz_panel_t p, const viz_layout_t *layout,
                                const viz_model_t *m, const viz_view_t *v)
{
    const s_spec_t *spec = &s_specs[p];
    const SDL_Rect *area = &layout->plot[p];
    if (area->w < 8 || area->h < 8)
        return;
    bool time = spec->kind == S_AGENT_TIME || spec->kind == S_SYSTEM_TIME;
    bool agents = spec->kind == S_AGENT_TIME || spec->kind == S_AGENT_EPISODE;
    size_t first = viz_model_first_point(m, v->all_episodes);
    bool empty = time ? m->n_points <= first : m->n_episodes == 0;
    /* the curves: thick (and thin) per agent, or the system's lines */
    viz_series_t thick[S_MAX_CURVES], thin[S_MAX_CURVES];
    SDL_Color colours[S_MAX_CURVES], tints[S_MAX_CURVES];
    const char *texts[S_MAX_CURVES];
    int n = 0;
    bool has_thin = agents && spec->thin && time;
    for (uint32_t k = 0; !empty && agents && k < m->n_agents; k++, n++) {
        const float *values = s_agent_values(m, spec->thick);
        thick[n] = time ? s_agent_time(m, values, k, first, v->all_episodes)
                        : s_episode_series(m, values, k, 0);
        if (has_thin)
            thin[n] = s_agent_time(m, s_agent_values(m, spec->thin), k, first, v->all_episodes);
        colours[n] = viz_agent_colour(c->theme, k);
        tints[n] = viz_agent_tint(c->theme, k);
        texts[n] = m->names[k];
    }
    for (int k = 0; !empty && k < spec->n_lines; k++, n++) { /* after the agents' */
        const s_line_t *line = &spec->lines[k];
        thick[n] = time ? s_point_series(m, first, v->all_episodes,
                                         (const char *)(m->points + first) + line->offset,
                                         sizeof *m->points)
                        : s_episode_series(m, NULL, 0, line->offset);
        colours[n] = viz_chart_role(c, line->role);
        texts[n] = line->label;
    }
    viz_axes_t a = {.area = *area};
    int small = viz_chart_line_height(c->small);
    s_y_range(spec->range, thick, n, area, small, &a.y0, &a.y1);
    if (has_thin) {
        double y0, y1;
        s_y_range(spec->range, thin, n, area, small, &y0, &y1);
        a.y0 = fmin(a.y0, y0);
        a.y1 = fmax(a.y1, y1);
    }
    if (time)
        s_time_range(m, v->all_episodes, first, &a.x0, &a.x1);
    else
        s_episode_range(m, &a.x0, &a.x1);
    const char *missing = s_missing(spec, m, empty);
    if (missing && !empty) {
        viz_chart_note(c, area, missing);
        return;
    }
    viz_chart_axes(c, &a,
                   !time ? "episode" : (v->all_episodes ? "tick (episodes back to back)" : "tick"),
                   true);
    if (time && v->all_episodes)
        s_draw_separators(c, &a, m, first);
    if (missing) {
        viz_chart_note(c, area, missing);
        return;
    }
    if (has_thin)
        s_draw_curves(c, &a, thin, tints, NULL, n, c->thin, false, NULL);
    viz_label_t labels[S_MAX_CURVES];
    int n_labels = s_draw_curves(c, &a, thick, colours, texts, n, c->thick, !time, labels);
    s_end_labels(c, layout, p, labels, n_labels);
}

/* ---- snapshot panels and the legend --------------------------------- */

/* Room in panel p's title row right of its title, up to 8 pixels from
 * the frame. */
static int s_title_room(const viz_canvas_t *c, const viz_layout_t *layout, const viz_model_t *m,
                        viz_panel_t p)
{
    return layout->panel[p].w - 32 - viz_chart_text_width(c->normal, viz_panel_title(m, p));
}

/* Panel p's subtitle, right-aligned in its title row if there is room. */
static void s_subtitle(const viz_canvas_t *c, const viz_layout_t *layout, const viz_model_t *m,
                       viz_panel_t p, const char *text)
{
    const SDL_Rect *panel = &layout->panel[p];
    int dy = (viz_chart_line_height(c->normal) - viz_chart_line_height(c->small)) / 2;
    if (viz_chart_text_width(c->small, text) <= s_title_room(c, layout, m, p))
        viz_chart_text(c, c->small, panel->x + panel->w - 8, panel->y + 4 + dy, VIZ_ALIGN_RIGHT,
                       viz_chart_role(c, VIZ_COLOUR_TEXT), text);
}

static void s_draw_lorenz(const viz_canvas_t *c, const viz_layout_t *layout, const viz_model_t *m)
{
    const SDL_Rect *area = &layout->plot[VIZ_PANEL_LORENZ];
    bool data = m->has_exposure && m->n_items > 0;
    if (data) {
        char text[96];
        snprintf(text, sizeof text, "Gini %.3f", m->exposure_gini);
        s_subtitle(c, layout, m, VIZ_PANEL_LORENZ, text);
    }
    if (area->w < 8 || area->h < 8)
        return;
    viz_axes_t a = {.area = *area, .x0 = 0, .x1 = 1, .y0 = 0, .y1 = 1};
    viz_chart_axes(c, &a, "share of items, least shown first", false);
    SDL_Color equality = viz_chart_role(c, VIZ_COLOUR_EQUALITY);
    SDL_SetRenderDrawColor(c->r, equality.r, equality.g, equality.b, 255);
    SDL_RenderDrawLine(c->r, viz_axes_px(&a, 0), viz_axes_py(&a, 0), viz_axes_px(&a, 1),
                       viz_axes_py(&a, 1));
    if (!data) {
        viz_chart_note(c, area, "no snapshot yet");
        return;
    }
    char when[64];
    snprintf(when, sizeof when, "episode %u, through tick %u", (unsigned)m->exposure_episode,
             (unsigned)m->exposure_tick);
    viz_chart_text(c, c->small, area->x + 6, area->y + 4, VIZ_ALIGN_LEFT,
                   viz_chart_role(c, VIZ_COLOUR_SEPARATOR), when);
    viz_series_t s = {.n = m->n_items + 1,
                      .x_step = 1.0 / (double)m->n_items,
                      .y = (const char *)m->lorenz,
                      .y_stride = sizeof *m->lorenz,
                      .y_double = true};
    viz_stroke_t stroke = {.colour = viz_chart_role(c, VIZ_COLOUR_LORENZ), .width = c->thick};
    viz_chart_series(c, &a, &s, &stroke);
}

static void s_draw_topics(const viz_canvas_t *c, const viz_layout_t *layout, const viz_model_t *m)
{
    const SDL_Rect *area = &layout->plot[VIZ_PANEL_TOPICS];
    bool data = m->has_exposure && m->n_topics > 0 && m->exposure_total > 0;
    double top = 0;
    for (uint32_t k = 0; data && k < m->n_topics; k++)
        top = fmax(top, (double)m->topics[k] / (double)m->exposure_total);
    if (area->w < 8 || area->h < 8)
        return;
    viz_axes_t a = {.area = *area,
                    .x0 = -0.5,
                    .x1 = (m->n_topics ? m->n_topics : 1) - 0.5,
                    .y0 = 0,
                    .y1 = viz_chart_top(top, area->h)};
    viz_chart_axes(c, &a, "topic", true);
    if (!data) {
        viz_chart_note(c, area, "no snapshot yet");
        return;
    }
    int slot = viz_axes_px(&a, 1) - viz_axes_px(&a, 0), bar = slot * 7 / 10 > 1 ? slot * 7 / 10 : 1;
    SDL_RenderSetClipRect(c->r, area);
    for (uint32_t k = 0; k < m->n_topics; k++) {
        int y = viz_axes_py(&a, (double)m->topics[k] / (double)m->exposure_total),
            y0 = viz_axes_py(&a, 0);
        SDL_Rect r = {viz_axes_px(&a, k) - bar / 2, y, bar, y0 - y + 1};
        viz_chart_fill(c, r, viz_chart_role(c, VIZ_COLOUR_TOPIC));
    }
    SDL_RenderSetClipRect(c->r, NULL);
}

static void s_draw_legend(const viz_canvas_t *c, const viz_layout_t *layout, const viz_model_t *m)
{
    SDL_Color text = viz_chart_role(c, VIZ_COLOUR_TEXT);
    const SDL_Rect *panel = &layout->panel[VIZ_PANEL_LEGEND];
    int normal = viz_chart_line_height(c->normal), small = viz_chart_line_height(c->small);
    int swatch_w = normal * 3 / 2, swatch_h = normal * 3 / 4;
    char line[256], stats[96];
    if (m->n_agents == 0)
        viz_chart_note(c, &layout->plot[VIZ_PANEL_LEGEND], "no agents yet");
    SDL_RenderSetClipRect(c->r, panel);
    for (uint32_t k = 0; k < m->n_agents; k++) {
        SDL_Rect row;
        bool last_row = !viz_layout_legend_row(layout, (int)k + 1, &row) && k + 1 < m->n_agents;
        if (!viz_layout_legend_row(layout, (int)k, &row))
            break;
        int text_y = row.y + 2;
        if (last_row) {
            snprintf(line, sizeof line, "+ %u more agents", (unsigned)(m->n_agents - k));
            viz_chart_text(c, c->normal, row.x, text_y, VIZ_ALIGN_LEFT, text, line);
            break;
        }
        SDL_Rect swatch = {row.x, text_y + (normal - swatch_h) / 2, swatch_w, swatch_h};
        viz_chart_fill(c, swatch, viz_agent_colour(c->theme, k));
        if (m->algorithms[k][0])
            snprintf(line, sizeof line, "%s (%s)", m->names[k], m->algorithms[k]);
        else
            snprintf(line, sizeof line, "%s", m->names[k]);
        viz_chart_text(c, c->normal, row.x + swatch_w + 6, text_y, VIZ_ALIGN_LEFT, text, line);
        if (m->n_points == 0)
            continue;
        size_t last = (m->n_points - 1) * m->n_agents + k;
        double share = m->share_running[last], rate = m->click_rate_running[last];
        int used = 0;
        if (isfinite(share))
            used = snprintf(stats, sizeof stats, "share %.2f \xc2\xb7 ", share);
        if (isfinite(rate))
            used += snprintf(stats + used, sizeof stats - (size_t)used, "click rate %.2f \xc2\xb7 ",
                             rate);
        snprintf(stats + used, sizeof stats - (size_t)used, "reward %.0f", m->sum_reward[k]);
        viz_chart_text(c, c->small, row.x + swatch_w + 6, text_y + normal, VIZ_ALIGN_LEFT, text,
                       stats);
    }
    int y = panel->y + panel->h - 2 * small - 6;
    viz_chart_text(c, c->small, panel->x + 10, y, VIZ_ALIGN_LEFT, text,
                   "figures of the episode so far");
    viz_chart_text(c, c->small, panel->x + 10, y + small, VIZ_ALIGN_LEFT, text,
                   "thin curves: each tick \xc2\xb7 thick: smoothed");
    SDL_RenderSetClipRect(c->r, NULL);
}

void viz_panel_draw(const viz_canvas_t *c, viz_panel_t p, const viz_layout_t *layout,
                    const viz_model_t *m, const viz_view_t *v)
{
    switch (s_specs[p].kind) {
    case S_LORENZ:
        s_draw_lorenz(c, layout, m);
        break;
    case S_TOPICS:
        s_draw_topics(c, layout, m);
        break;
    case S_LEGEND:
        s_draw_legend(c, layout, m);
        break;
    default:
        if (s_specs[p].key)
            s_subtitle(c, layout, m, p, s_specs[p].key);
        s_draw_curves_panel(c, p, layout, m, v);
        break;
    }
}
