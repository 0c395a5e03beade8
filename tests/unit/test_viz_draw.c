/* The viewer's pictures (viz/draw.h), drawn offscreen with SDL's software
 * renderer from a recorded telemetry sequence, checked pixel by pixel:
 * the size asked for, each panel's curves inside its plot area in the
 * right colours (the share curves at the height their values give),
 * legend and title text drawn, and no crash on empty data, one tick, NaN
 * values, many agents or odd sizes; and a run folder recarena wrote
 * (tests/data/run), as `recarena plot` draws it. The sequence also travels
 * through a real PUB socket to the subscriber (viz/subscriber.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <SDL_image.h>
#include <zmq.h>

#include "viz/draw.h"
#include "viz/model.h"
#include "viz/rundir.h"
#include "viz/subscriber.h"
#include "proto/transport.h"

#define S_AGENTS   3
#define S_EPISODES 2
#define S_TICKS    30
#define S_ITEMS    40
#define S_TOPICS   4
#define S_MAX_FRAMES                                                                               \
    (S_EPISODES * (S_TICKS + S_TICKS / 10 + 1)) /* ticks, exposures, episode summaries */

#define S_POLL_BUDGET_MS 50

static const char *const s_names[S_AGENTS] = {"alpha", "beta", "gamma"};
static const double s_shares[S_AGENTS] = {0.2, 0.3, 0.5}; /* of 100 requests a tick */

/* A recorded telemetry sequence: the frames a server publishes. */
typedef struct s_recording {
    int n;
    uint8_t *data[S_MAX_FRAMES];
    size_t size[S_MAX_FRAMES];
} s_recording_t;

typedef struct s_fixture {
    viz_draw_t *draw;
    s_recording_t recording;
} s_fixture_t;

static void s_record(s_recording_t *rec, proto_msg_t *msg)
{
    proto_buffer_t buf;
    proto_buffer_init(&buf);
    char err[PROTO_ERR_LEN];
    msg->seq = (uint64_t)rec->n;
    assert_int_equal(proto_encode(msg, &buf, err, sizeof err), 0);
    assert_true(rec->n < S_MAX_FRAMES);
    rec->data[rec->n] = buf.data; /* the recording owns it */
    rec->size[rec->n++] = buf.size;
}

/* 2 episodes of 30 ticks, 3 agents in a market with constant shares 0.2,
 * 0.3, 0.5 and rewards around 5, 15, 25 (episode 1: 10 more), exposure
 * snapshots after ticks 9, 19, 29 and episode summaries (with each
 * agent's exposure Gini, 0.1, 0.4, 0.7; episode 1: 0.05 more). */
static void s_make_recording(s_recording_t *rec)
{
    int64_t items[S_ITEMS], topics[S_TOPICS] = {0};
    for (uint32_t e = 0; e < S_EPISODES; e++) {
        for (uint32_t t = 0; t < S_TICKS; t++) {
            int32_t requests[S_AGENTS], clicks[S_AGENTS];
            double reward[S_AGENTS], regret[S_AGENTS];
            for (int a = 0; a < S_AGENTS; a++) {
                requests[a] = (int32_t)(100 * s_shares[a]);
                clicks[a] = requests[a] / 2; /* every agent's click rate is 0.5 */
                reward[a] = 5 + 10 * a + 10 * e + (t % 3);
                regret[a] = 0.1 * (a + 1) * requests[a] * (1 + 0.02 * t);
            }
            proto_msg_t msg = {.type = PROTO_MSG_TELEMETRY_TICK};
            msg.telemetry_tick = (proto_telemetry_tick_t){.episode = e,
                                                          .tick = t,
                                                          .active_users = 80 + t,
                                                          .requests = 100,
                                                          .clicks = 50,
                                                          .welfare = 10 + (t % 5),
                                                          .gini = 0.3 + 0.01 * t,
                                                          .coverage = 0.9,
                                                          .n_agents = S_AGENTS,
                                                          .agents = s_names,
                                                          .agent_requests = requests,
                                                          .agent_clicks = clicks,
                                                          .agent_reward = reward,
                                                          .agent_regret = regret};
            s_record(rec, &msg);
            if ((t + 1) % 10 != 0)
                continue;
            for (int i = 0; i < S_ITEMS; i++)
                items[i] = (int64_t)i * (t + 1); /* a straight Lorenz curve's worth */
            for (int k = 0; k < S_TOPICS; k++)
                topics[k] = (int64_t)(k + 1) * 100 * (t + 1);
            msg = (proto_msg_t){.type = PROTO_MSG_TELEMETRY_EXPOSURE};
            msg.telemetry_exposure = (proto_telemetry_exposure_t){.episode = e,
                                                                  .tick = t,
                                                                  .n_items = S_ITEMS,
                                                                  .items = items,
                                                                  .n_topics = S_TOPICS,
                                                                  .topics = topics};
            s_record(rec, &msg);
        }
        int64_t requests[S_AGENTS], clicks[S_AGENTS];
        double reward[S_AGENTS], regret[S_AGENTS] = {0}, share[S_AGENTS], gini[S_AGENTS];
        for (int a = 0; a < S_AGENTS; a++) {
            requests[a] = (int64_t)(100 * s_shares[a]) * S_TICKS;
            clicks[a] = requests[a] / 2;
            reward[a] = 1;
            share[a] = s_shares[a];
            gini[a] = 0.1 + 0.3 * a + 0.05 * e; /* apart from the system's 0.59 and 0.9 */
        }
        proto_msg_t msg = {.type = PROTO_MSG_TELEMETRY_EPISODE};
        msg.telemetry_episode = (proto_telemetry_episode_t){.episode = e,
                                                            .ticks = S_TICKS,
                                                            .n_agents = S_AGENTS,
                                                            .agents = s_names,
                                                            .agent_requests = requests,
                                                            .agent_clicks = clicks,
                                                            .agent_reward = reward,
                                                            .agent_regret = regret,
                                                            .agent_share = share,
                                                            .agent_gini = gini};
        s_record(rec, &msg);
    }
}

static int s_setup(void **state)
{
    s_fixture_t *f = calloc(1, sizeof *f);
    char err[512];
    f->draw = viz_draw_new(NULL, err, sizeof err);
    if (!f->draw) {
        fprintf(stderr, "viz_draw_new: %s\n", err);
        free(f);
        return -1;
    }
    s_make_recording(&f->recording);
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture_t *f = *state;
    for (int i = 0; i < f->recording.n; i++)
        free(f->recording.data[i]);
    viz_draw_destroy(&f->draw);
    free(f);
    return 0;
}

/* The recording, decoded and applied as the subscriber would. */
static void s_replay(const s_recording_t *rec, viz_model_t *m)
{
    proto_msg_t msg;
    proto_msg_init(&msg);
    for (int i = 0; i < rec->n; i++) {
        assert_int_equal(proto_decode(rec->data[i], rec->size[i], NULL, &msg, NULL, 0), 0);
        assert_int_equal(viz_model_apply(m, &msg), 0);
    }
    proto_msg_fini(&msg);
}

/* ---- pixels ---------------------------------------------------------- */

static SDL_Color s_at(const SDL_Surface *s, int x, int y)
{
    const Uint32 *row = (const Uint32 *)((const Uint8 *)s->pixels + y * s->pitch);
    SDL_Color c = {0, 0, 0, 255};
    SDL_GetRGB(row[x], s->format, &c.r, &c.g, &c.b);
    return c;
}

static bool s_same(SDL_Color a, SDL_Color b)
{
    return a.r == b.r && a.g == b.g && a.b == b.b;
}

/* Pixels of exactly colour c inside rect. */
static int s_count(const SDL_Surface *s, SDL_Rect rect, SDL_Color c)
{
    int n = 0;
    for (int y = rect.y; y < rect.y + rect.h; y++)
        for (int x = rect.x; x < rect.x + rect.w; x++)
            n += s_same(s_at(s, x, y), c);
    return n;
}

/* The row of rect with the most pixels of colour c. */
static int s_busiest_row(const SDL_Surface *s, SDL_Rect rect, SDL_Color c)
{
    int best = rect.y, most = -1;
    for (int y = rect.y; y < rect.y + rect.h; y++) {
        int n = s_count(s, (SDL_Rect){rect.x, y, rect.w, 1}, c);
        if (n > most) {
            most = n;
            best = y;
        }
    }
    return best;
}

/* Pixels inside rect that are neither the panel's background nor colour
 * except (text, mostly). */
static int s_ink(const SDL_Surface *s, SDL_Rect rect, SDL_Color background, SDL_Color except)
{
    int n = 0;
    for (int y = rect.y; y < rect.y + rect.h; y++)
        for (int x = rect.x; x < rect.x + rect.w; x++) {
            SDL_Color c = s_at(s, x, y);
            n += !s_same(c, background) && !s_same(c, except);
        }
    return n;
}

static viz_view_t s_view(bool all)
{
    return (viz_view_t){.all_episodes = all, .status = "status line", .keys = "q: quit"};
}

static SDL_Surface *s_draw(s_fixture_t *f, int w, int h, const viz_model_t *m, bool all)
{
    char err[512] = "";
    viz_view_t view = s_view(all);
    SDL_Surface *s = viz_draw_surface(f->draw, w, h, m, &view, err, sizeof err);
    if (!s)
        fail_msg("viz_draw_surface: %s", err);
    assert_int_equal(s->w, w);
    assert_int_equal(s->h, h);
    return s;
}

/* Every panel's curves where they belong, in the agents' colours. */
static void s_check_panels(const SDL_Surface *s, const viz_layout_t *l, uint32_t n_agents,
                           bool exposure)
{
    for (uint32_t a = 0; a < n_agents; a++) {
        SDL_Color full = viz_agent_colour(VIZ_THEME_LIGHT, a),
                  tint = viz_agent_tint(VIZ_THEME_LIGHT, a);
        if (s_count(s, l->plot[VIZ_PANEL_REWARD], full) < 20)
            fail_msg("agent %u: no average reward curve in its colour", a);
        if (s_count(s, l->plot[VIZ_PANEL_REWARD], tint) < 5)
            fail_msg("agent %u: no per-tick reward curve in its tint", a);
        if (s_count(s, l->plot[VIZ_PANEL_SHARE], full) < 20)
            fail_msg("agent %u: no share curve in its colour", a);
    }
    assert_true(s_count(s, l->plot[VIZ_PANEL_DIVERSITY],
                        viz_colour(VIZ_THEME_LIGHT, VIZ_COLOUR_GINI)) >= 20);
    assert_true(s_count(s, l->plot[VIZ_PANEL_DIVERSITY],
                        viz_colour(VIZ_THEME_LIGHT, VIZ_COLOUR_COVERAGE)) >= 20);
    if (!exposure)
        return;
    assert_true(s_count(s, l->plot[VIZ_PANEL_LORENZ],
                        viz_colour(VIZ_THEME_LIGHT, VIZ_COLOUR_LORENZ)) >= 50);
    assert_true(s_count(s, l->plot[VIZ_PANEL_LORENZ],
                        viz_colour(VIZ_THEME_LIGHT, VIZ_COLOUR_EQUALITY)) >= 50);
    assert_true(s_count(s, l->plot[VIZ_PANEL_TOPICS],
                        viz_colour(VIZ_THEME_LIGHT, VIZ_COLOUR_TOPIC)) >= 400);
}

/* Legend row a: the agent's swatch, and text beside it. */
static void s_check_legend(const SDL_Surface *s, const viz_layout_t *l, uint32_t a)
{
    SDL_Rect row;
    assert_true(viz_layout_legend_row(l, (int)a, &row));
    SDL_Color colour = viz_agent_colour(VIZ_THEME_LIGHT, a);
    if (s_count(s, row, colour) < 100)
        fail_msg("legend row %u: no swatch in the agent's colour", a);
    if (s_ink(s, row, viz_colour(VIZ_THEME_LIGHT, VIZ_COLOUR_PANEL), colour) < 200)
        fail_msg("legend row %u: no text", a);
}

/* ---- tests ----------------------------------------------------------- */

static void test_recorded_sequence(void **state)
{
    s_fixture_t *f = *state;
    viz_model_t m;
    viz_model_init(&m);
    s_replay(&f->recording, &m);
    assert_int_equal(m.n_points, S_EPISODES * S_TICKS);
    SDL_Surface *s = s_draw(f, 1280, 800, &m, true);
    viz_layout_t l;
    viz_draw_layout(f->draw, s->w, s->h, VIZ_SET_OVERVIEW, &l);
    s_check_panels(s, &l, S_AGENTS, true);
    for (uint32_t a = 0; a < S_AGENTS; a++)
        s_check_legend(s, &l, a);
    assert_true(s_ink(s, l.title, viz_colour(VIZ_THEME_LIGHT, VIZ_COLOUR_BACKGROUND),
                      viz_colour(VIZ_THEME_LIGHT, VIZ_COLOUR_TEXT)) > 200);
    assert_true(s_ink(s, l.footer, viz_colour(VIZ_THEME_LIGHT, VIZ_COLOUR_BACKGROUND),
                      viz_colour(VIZ_THEME_LIGHT, VIZ_COLOUR_TEXT)) > 50);
    /* the running shares are constant: each agent's thick line lies at a
     * height above the axis in proportion to its share (0.2 : 0.3 : 0.5),
     * within two pixels */
    const SDL_Rect *p = &l.plot[VIZ_PANEL_SHARE];
    int height[S_AGENTS];
    for (uint32_t a = 0; a < S_AGENTS; a++)
        height[a] = p->y + p->h - 1 - s_busiest_row(s, *p, viz_agent_colour(VIZ_THEME_LIGHT, a));
    for (uint32_t a = 0; a < S_AGENTS; a++) {
        double expected = s_shares[a] / s_shares[S_AGENTS - 1] * height[S_AGENTS - 1];
        if (fabs(height[a] - expected) > 2)
            fail_msg("agent %u: share line %d pixels up, expected %.1f", a, height[a], expected);
    }
    /* all episodes: a dashed line where episode 1 starts */
    assert_true(s_count(s, l.plot[VIZ_PANEL_REWARD],
                        viz_colour(VIZ_THEME_LIGHT, VIZ_COLOUR_SEPARATOR)) > 10);
    SDL_FreeSurface(s);

    /* this episode only: no separator, the same curves */
    s = s_draw(f, 1280, 800, &m, false);
    s_check_panels(s, &l, S_AGENTS, true);
    assert_int_equal(
        s_count(s, l.plot[VIZ_PANEL_REWARD], viz_colour(VIZ_THEME_LIGHT, VIZ_COLOUR_SEPARATOR)), 0);
    SDL_FreeSurface(s);
    viz_model_fini(&m);
}

/* Pixels of the agent's exact colour right of its curve's end, in panel
 * p: its name there. The curve ends at the plot's right edge (ticks) or,
 * per episode, at the last of S_EPISODES episodes, 3/4 of the way across
 * (the axis runs from episode -0.5 to 1.5); its marker is 6 pixels wide. */
static int s_end_label_ink(const SDL_Surface *s, const viz_layout_t *l, viz_panel_t p,
                           bool episodes, SDL_Color colour)
{
    const SDL_Rect *plot = &l->plot[p], *f = &l->panel[p];
    int x = episodes ? plot->x + (plot->w - 1) * 3 / 4 + 5 : plot->x + plot->w;
    SDL_Rect right = {x, f->y, f->x + f->w - x, f->h};
    return s_count(s, right, colour);
}

/* The learning and episodes sets: each new panel's curves in its plot in
 * the right colours, and the agents named at their curves' ends. All
 * agents have the same click rate (0.5): their curves coincide, and each
 * agent's colour still shows (dashes). */
static void test_panel_sets(void **state)
{
    s_fixture_t *f = *state;
    viz_model_t m;
    viz_model_init(&m);
    s_replay(&f->recording, &m);
    assert_int_equal(m.n_episodes, S_EPISODES);
    char err[512];
    for (viz_panel_set_t set = VIZ_SET_LEARNING; set <= VIZ_SET_EPISODES; set++) {
        viz_view_t view = s_view(true);
        view.panels = set;
        SDL_Surface *s = viz_draw_surface(f->draw, 1280, 800, &m, &view, err, sizeof err);
        assert_non_null(s);
        viz_layout_t l;
        viz_draw_layout(f->draw, s->w, s->h, set, &l);
        bool time = set == VIZ_SET_LEARNING;
        viz_panel_t agent_panels[2][5] = {
            {VIZ_PANEL_CLICK_RATE, VIZ_PANEL_REGRET, VIZ_PANEL_SHARE, VIZ_PANEL_REWARD},
            {VIZ_PANEL_EPISODE_CLICK_RATE, VIZ_PANEL_EPISODE_REGRET, VIZ_PANEL_EPISODE_SHARE,
             VIZ_PANEL_EPISODE_REWARD, VIZ_PANEL_EPISODE_DIVERSITY}};
        int least = time ? 20 : 15;                /* episodes: two points, markers and a line */
        for (int i = 0; i < (time ? 4 : 5); i++) { /* episodes: each agent's Gini too */
            viz_panel_t p = agent_panels[!time][i];
            assert_true(l.shown[p]);
            for (uint32_t a = 0; a < S_AGENTS; a++) {
                SDL_Color colour = viz_agent_colour(VIZ_THEME_LIGHT, a);
                int n = s_count(s, l.plot[p], colour);
                if (n < least)
                    fail_msg("set %s panel %d agent %u: %d pixels of its colour",
                             viz_panel_set_name(set), (int)p, a, n);
                if (s_end_label_ink(s, &l, p, !time, colour) < 5)
                    fail_msg("set %s panel %d agent %u: no label at the curve's end",
                             viz_panel_set_name(set), (int)p, a);
            }
        }
        SDL_Color users = viz_colour(VIZ_THEME_LIGHT, VIZ_COLOUR_USERS);
        if (time) {
            assert_true(s_count(s, l.plot[VIZ_PANEL_USERS], users) >= 20);
            assert_true(s_count(s, l.plot[VIZ_PANEL_WELFARE], users) >= 20);
            assert_false(l.shown[VIZ_PANEL_LORENZ]);
        } else {
            assert_true(s_count(s, l.plot[VIZ_PANEL_EPISODE_WELFARE], users) >= 15);
            assert_true(s_count(s, l.plot[VIZ_PANEL_EPISODE_DIVERSITY],
                                viz_colour(VIZ_THEME_LIGHT, VIZ_COLOUR_GINI)) >= 15);
            assert_true(s_count(s, l.plot[VIZ_PANEL_EPISODE_DIVERSITY],
                                viz_colour(VIZ_THEME_LIGHT, VIZ_COLOUR_COVERAGE)) >= 15);
        }
        SDL_FreeSurface(s);
    }
    viz_panel_set_t set;
    assert_true(viz_panel_set_parse("episodes", &set));
    assert_int_equal(set, VIZ_SET_EPISODES);
    assert_false(viz_panel_set_parse("everything", &set));
    viz_model_fini(&m);
}

/* Coverage at 1.0 lies below the plot's top edge, on a grid line one can
 * see, not on the frame. */
static void test_coverage_below_the_top(void **state)
{
    s_fixture_t *f = *state;
    viz_model_t m;
    viz_model_init(&m);
    s_replay(&f->recording, &m);
    for (size_t i = 0; i < m.n_points; i++)
        m.points[i].coverage = 1.0f;
    SDL_Surface *s = s_draw(f, 1280, 800, &m, true);
    viz_layout_t l;
    viz_draw_layout(f->draw, s->w, s->h, VIZ_SET_OVERVIEW, &l);
    const SDL_Rect *p = &l.plot[VIZ_PANEL_DIVERSITY];
    int row = s_busiest_row(s, *p, viz_colour(VIZ_THEME_LIGHT, VIZ_COLOUR_COVERAGE));
    assert_true(row - p->y >= 10);
    SDL_FreeSurface(s);
    viz_model_fini(&m);
}

/* Without the oracle the regret panels say n/a and draw no curves. */
static void test_regret_without_oracle(void **state)
{
    s_fixture_t *f = *state;
    viz_model_t m;
    viz_model_init(&m);
    s_replay(&f->recording, &m);
    m.oracle_off = true;
    char err[512];
    viz_view_t view = s_view(true);
    view.panels = VIZ_SET_LEARNING;
    SDL_Surface *s = viz_draw_surface(f->draw, 1280, 800, &m, &view, err, sizeof err);
    assert_non_null(s);
    viz_layout_t l;
    viz_draw_layout(f->draw, s->w, s->h, VIZ_SET_LEARNING, &l);
    for (uint32_t a = 0; a < S_AGENTS; a++)
        assert_int_equal(s_count(s, l.plot[VIZ_PANEL_REGRET], viz_agent_colour(VIZ_THEME_LIGHT, a)),
                         0);
    assert_true(s_count(s, l.plot[VIZ_PANEL_REGRET],
                        viz_colour(VIZ_THEME_LIGHT, VIZ_COLOUR_SEPARATOR)) > 20);
    SDL_FreeSurface(s);
    viz_model_fini(&m);
}

/* Projector mode at 1280x720: white on black, text 1.5 times larger (a
 * tick label's line at least 16 pixels), every panel still with a plot
 * area that holds its curves, in every set. */
static void test_projector(void **state)
{
    s_fixture_t *f = *state;
    viz_model_t m;
    viz_model_init(&m);
    s_replay(&f->recording, &m);
    char err[512];
    assert_int_equal(viz_draw_set_style(f->draw, 9, VIZ_THEME_CONTRAST, err, sizeof err),
                     ERR_EINVAL);
    assert_non_null(strstr(err, "scale 9"));
    assert_int_equal(
        viz_draw_set_style(f->draw, VIZ_PROJECTOR_SCALE, VIZ_THEME_CONTRAST, err, sizeof err), 0);
    for (viz_panel_set_t set = 0; set < VIZ_SET_COUNT; set++) {
        viz_view_t view = s_view(true);
        view.panels = set;
        SDL_Surface *s = viz_draw_surface(f->draw, 1280, 720, &m, &view, err, sizeof err);
        assert_non_null(s);
        viz_layout_t l;
        viz_draw_layout(f->draw, 1280, 720, set, &l);
        assert_true(l.footer.h >= 16 + 4);
        assert_true(s_same(s_at(s, 2, 2), viz_colour(VIZ_THEME_CONTRAST, VIZ_COLOUR_BACKGROUND)));
        assert_true(s_ink(s, l.title, viz_colour(VIZ_THEME_CONTRAST, VIZ_COLOUR_BACKGROUND),
                          viz_colour(VIZ_THEME_CONTRAST, VIZ_COLOUR_BACKGROUND)) > 400);
        const viz_panel_t *panels = viz_panel_set_panels(set);
        for (int i = 0; i < VIZ_SET_PANELS; i++) {
            viz_panel_t p = panels[i];
            assert_true(l.plot[p].w >= 200 && l.plot[p].h >= 150);
            if (p == VIZ_PANEL_LEGEND || p == VIZ_PANEL_LORENZ || p == VIZ_PANEL_TOPICS ||
                p == VIZ_PANEL_USERS || p == VIZ_PANEL_WELFARE || p == VIZ_PANEL_DIVERSITY ||
                p == VIZ_PANEL_EPISODE_WELFARE || p == VIZ_PANEL_EPISODE_DIVERSITY)
                continue;
            for (uint32_t a = 0; a < S_AGENTS; a++)
                if (s_count(s, l.plot[p], viz_agent_colour(VIZ_THEME_CONTRAST, a)) < 15)
                    fail_msg("projector, set %s, panel %d: no curve of agent %u",
                             viz_panel_set_name(set), (int)p, a);
        }
        SDL_FreeSurface(s);
    }
    assert_int_equal(viz_draw_set_style(f->draw, 1.0, VIZ_THEME_LIGHT, err, sizeof err), 0);
    viz_model_fini(&m);
}

static void test_empty_model(void **state)
{
    s_fixture_t *f = *state;
    viz_model_t m;
    viz_model_init(&m);
    for (viz_panel_set_t set = 0; set < VIZ_SET_COUNT; set++) {
        char err[512];
        viz_view_t view = s_view(true);
        view.panels = set;
        SDL_Surface *s = viz_draw_surface(f->draw, 800, 500, &m, &view, err, sizeof err);
        assert_non_null(s);
        viz_layout_t l;
        viz_draw_layout(f->draw, s->w, s->h, set, &l);
        /* the title says it waits; each chart says there is no data */
        assert_true(s_ink(s, l.title, viz_colour(VIZ_THEME_LIGHT, VIZ_COLOUR_BACKGROUND),
                          viz_colour(VIZ_THEME_LIGHT, VIZ_COLOUR_TEXT)) > 100);
        for (int p = 0; p < VIZ_PANEL_COUNT; p++)
            if (l.shown[p] &&
                s_count(s, l.plot[p], viz_colour(VIZ_THEME_LIGHT, VIZ_COLOUR_SEPARATOR)) <= 5)
                fail_msg("set %s, panel %d: no note", viz_panel_set_name(set), p);
        SDL_FreeSurface(s);
    }
    viz_model_fini(&m);
}

static void test_one_tick(void **state)
{
    s_fixture_t *f = *state;
    viz_model_t m;
    viz_model_init(&m);
    proto_msg_t msg;
    proto_msg_init(&msg);
    assert_int_equal(proto_decode(f->recording.data[0], f->recording.size[0], NULL, &msg, NULL, 0),
                     0);
    assert_int_equal(viz_model_apply(&m, &msg), 0);
    proto_msg_fini(&msg);
    for (int all = 0; all < 2; all++) {
        SDL_Surface *s = s_draw(f, 1024, 640, &m, all);
        viz_layout_t l;
        viz_draw_layout(f->draw, s->w, s->h, VIZ_SET_OVERVIEW, &l);
        for (uint32_t a = 0; a < S_AGENTS; a++) {
            /* a lone point is a dot */
            assert_true(
                s_count(s, l.plot[VIZ_PANEL_REWARD], viz_agent_colour(VIZ_THEME_LIGHT, a)) >= 3);
            assert_true(s_count(s, l.plot[VIZ_PANEL_SHARE], viz_agent_colour(VIZ_THEME_LIGHT, a)) >=
                        3);
            s_check_legend(s, &l, a);
        }
        SDL_FreeSurface(s);
    }
    viz_model_fini(&m);
}

static void test_nan_values(void **state)
{
    s_fixture_t *f = *state;
    viz_model_t m;
    viz_model_init(&m);
    int32_t requests[2] = {10, 10}, clicks[2] = {1, 2};
    double regret[2] = {0};
    for (uint32_t t = 0; t < 40; t++) {
        /* agent 0's reward and the Gini are missing on every third tick;
         * agent 1's reward always */
        double reward[2] = {t % 3 ? (double)t : NAN, NAN};
        proto_telemetry_tick_t tick = {.tick = t,
                                       .requests = 20,
                                       .gini = t % 3 ? 0.5 : NAN,
                                       .coverage = 0.5,
                                       .n_agents = 2,
                                       .agents = s_names,
                                       .agent_requests = requests,
                                       .agent_clicks = clicks,
                                       .agent_reward = reward,
                                       .agent_regret = regret};
        assert_int_equal(viz_model_add_tick(&m, &tick), 0);
    }
    SDL_Surface *s = s_draw(f, 1280, 800, &m, true);
    viz_layout_t l;
    viz_draw_layout(f->draw, s->w, s->h, VIZ_SET_OVERVIEW, &l);
    assert_true(s_count(s, l.plot[VIZ_PANEL_REWARD], viz_agent_colour(VIZ_THEME_LIGHT, 0)) > 20);
    assert_int_equal(s_count(s, l.plot[VIZ_PANEL_REWARD], viz_agent_colour(VIZ_THEME_LIGHT, 1)), 0);
    assert_true(
        s_count(s, l.plot[VIZ_PANEL_DIVERSITY], viz_colour(VIZ_THEME_LIGHT, VIZ_COLOUR_GINI)) > 20);
    SDL_FreeSurface(s);
    viz_model_fini(&m);
}

static void test_sizes(void **state)
{
    s_fixture_t *f = *state;
    viz_model_t m;
    viz_model_init(&m);
    s_replay(&f->recording, &m);
    const int sizes[][2] = {{VIZ_MIN_SIZE, VIZ_MIN_SIZE}, {320, 200}, {1920, 1080}, {3000, 300}};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        SDL_FreeSurface(s_draw(f, sizes[i][0], sizes[i][1], &m, true));
    char err[256];
    viz_view_t view = {.all_episodes = true};
    assert_null(viz_draw_surface(f->draw, 10, 10, &m, &view, err, sizeof err));
    assert_non_null(strstr(err, "10x10"));
    viz_model_fini(&m);
}

static void test_many_agents(void **state)
{
    s_fixture_t *f = *state;
    viz_model_t m;
    viz_model_init(&m);
    static char storage[PROTO_MAX_AGENTS][16];
    const char *names[PROTO_MAX_AGENTS];
    int32_t requests[PROTO_MAX_AGENTS], clicks[PROTO_MAX_AGENTS] = {0};
    double reward[PROTO_MAX_AGENTS], regret[PROTO_MAX_AGENTS] = {0};
    for (int a = 0; a < PROTO_MAX_AGENTS; a++) {
        snprintf(storage[a], sizeof storage[a], "agent%02d", a);
        names[a] = storage[a];
        requests[a] = 1;
        reward[a] = a;
    }
    proto_telemetry_tick_t tick = {.requests = PROTO_MAX_AGENTS,
                                   .n_agents = PROTO_MAX_AGENTS,
                                   .agents = names,
                                   .agent_requests = requests,
                                   .agent_clicks = clicks,
                                   .agent_reward = reward,
                                   .agent_regret = regret};
    for (uint32_t t = 0; t < 5; t++) {
        tick.tick = t;
        assert_int_equal(viz_model_add_tick(&m, &tick), 0);
    }
    SDL_Surface *s = s_draw(f, 1280, 800, &m, true);
    viz_layout_t l;
    viz_draw_layout(f->draw, s->w, s->h, VIZ_SET_OVERVIEW, &l);
    /* the rows that fit, the last saying how many more there are */
    SDL_Rect row;
    int fit = 0;
    while (viz_layout_legend_row(&l, fit, &row))
        fit++;
    assert_true(fit > 2 && fit < PROTO_MAX_AGENTS);
    s_check_legend(s, &l, 0);
    viz_layout_legend_row(&l, fit - 1, &row);
    assert_true(s_ink(s, row, viz_colour(VIZ_THEME_LIGHT, VIZ_COLOUR_PANEL),
                      viz_colour(VIZ_THEME_LIGHT, VIZ_COLOUR_PANEL)) > 100);
    SDL_FreeSurface(s);
    viz_model_fini(&m);
}

static void test_png(void **state)
{
    s_fixture_t *f = *state;
    viz_model_t m;
    viz_model_init(&m);
    s_replay(&f->recording, &m);
    char dir[] = "/tmp/recarena-viz-XXXXXX", path[64], err[512];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/picture.png", dir);
    viz_view_t view = s_view(true);
    assert_int_equal(viz_draw_png(f->draw, 640, 400, &m, &view, path, err, sizeof err), 0);
    SDL_Surface *png = IMG_Load(path);
    assert_non_null(png);
    SDL_Surface *drawn = s_draw(f, 640, 400, &m, true);
    SDL_Surface *read = SDL_ConvertSurfaceFormat(png, drawn->format->format, 0);
    assert_non_null(read);
    assert_int_equal(read->w, 640);
    assert_int_equal(read->h, 400);
    for (int y = 0; y < 400; y += 7)
        for (int x = 0; x < 640; x += 5)
            assert_true(s_same(s_at(read, x, y), s_at(drawn, x, y)));
    SDL_FreeSurface(read);
    SDL_FreeSurface(drawn);
    SDL_FreeSurface(png);
    assert_int_equal(
        viz_draw_png(f->draw, 640, 400, &m, &view, "/nonexistent/x.png", err, sizeof err), ERR_EIO);
    assert_non_null(strstr(err, "/nonexistent/x.png"));
    unlink(path);
    rmdir(dir);
    viz_model_fini(&m);
}

/* A name ending in .jpg or .jpeg gets a JPEG (lossy: near the drawn
 * picture, not equal), any other ending but .png is refused before drawing. */
static void test_jpeg_and_unknown_types(void **state)
{
    s_fixture_t *f = *state;
    assert_int_equal(viz_image_type("a.png"), VIZ_IMAGE_PNG);
    assert_int_equal(viz_image_type("a.JPG"), VIZ_IMAGE_JPEG);
    assert_int_equal(viz_image_type("dir.png/a.jpeg"), VIZ_IMAGE_JPEG);
    assert_int_equal(viz_image_type("a.gif"), VIZ_IMAGE_UNKNOWN);
    assert_int_equal(viz_image_type(".png"), VIZ_IMAGE_UNKNOWN);
    assert_int_equal(viz_image_type("png"), VIZ_IMAGE_UNKNOWN);

    viz_model_t m;
    viz_model_init(&m);
    s_replay(&f->recording, &m);
    char dir[] = "/tmp/recarena-viz-XXXXXX", path[64], err[512];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/picture.jpg", dir);
    viz_view_t view = s_view(true);
    assert_int_equal(viz_draw_png(f->draw, 640, 400, &m, &view, path, err, sizeof err), 0);
    FILE *in = fopen(path, "rb");
    assert_non_null(in);
    unsigned char magic[3] = {0};
    assert_int_equal(fread(magic, 1, 3, in), 3);
    fclose(in);
    assert_memory_equal(magic, "\xff\xd8\xff", 3); /* a JPEG's SOI marker */
    SDL_Surface *jpeg = IMG_Load(path);
    assert_non_null(jpeg);
    assert_int_equal(jpeg->w, 640);
    assert_int_equal(jpeg->h, 400);
    SDL_FreeSurface(jpeg);
    unlink(path);

    snprintf(path, sizeof path, "%s/picture.gif", dir);
    assert_int_equal(viz_draw_png(f->draw, 640, 400, &m, &view, path, err, sizeof err), ERR_EINVAL);
    assert_non_null(strstr(err, "unknown picture type"));
    assert_int_equal(access(path, F_OK), -1);
    rmdir(dir);
    viz_model_fini(&m);
}

/* tests/data/run, a run folder recarena wrote, as `recarena plot` draws it. */
static void test_run_folder(void **state)
{
    s_fixture_t *f = *state;
    viz_model_t m;
    viz_model_init(&m);
    char err[1024] = "";
    assert_int_equal(viz_rundir_load(&m, RECARENA_SOURCE_DIR "/tests/data/run", VIZ_ALL_EPISODES,
                                     err, sizeof err),
                     0);
    SDL_Surface *s = s_draw(f, 1280, 800, &m, true);
    viz_layout_t l;
    viz_draw_layout(f->draw, s->w, s->h, VIZ_SET_OVERVIEW, &l);
    s_check_panels(s, &l, 3, true);
    for (uint32_t a = 0; a < 3; a++)
        s_check_legend(s, &l, a);
    SDL_FreeSurface(s);
    viz_model_fini(&m);
}

static void test_missing_font(void **state)
{
    (void)state;
    char err[512];
    assert_null(viz_draw_new("/nonexistent/font.ttf", err, sizeof err));
    assert_non_null(strstr(err, "fonts-dejavu-core"));
}

/* The recording through a real PUB socket: the subscriber gets all of it
 * once subscribed, counts a gap in seq as lost, and skips garbage. */
static void test_live_subscriber(void **state)
{
    s_fixture_t *f = *state;
    char dir[] = "/tmp/recarena-viz-XXXXXX", endpoint[128], err[512];
    assert_non_null(mkdtemp(dir));
    snprintf(endpoint, sizeof endpoint, "ipc://%s/telemetry", dir);
    void *ctx = zmq_ctx_new();
    void *pub = transport_pub(ctx, endpoint, err, sizeof err);
    assert_non_null(pub);
    viz_subscriber_t *sub = viz_subscriber_new(endpoint, err, sizeof err);
    assert_non_null(sub);
    viz_model_t m;
    viz_model_init(&m);
    SDL_Delay(VIZ_SUBSCRIBE_SETTLE_MS);
    for (int i = 0; i < f->recording.n; i++)
        assert_int_equal(
            transport_send(pub, f->recording.data[i], f->recording.size[i], ZMQ_DONTWAIT), 0);
    int64_t deadline = transport_now_ms() + 10000;
    while (viz_subscriber_stats(sub)->received < (uint64_t)f->recording.n &&
           transport_now_ms() < deadline)
        assert_true(viz_subscriber_poll(sub, &m, 100, S_POLL_BUDGET_MS) >= 0);
    const viz_subscriber_stats_t *stats = viz_subscriber_stats(sub);
    assert_int_equal(stats->received, f->recording.n);
    assert_int_equal(stats->lost, 0);
    assert_int_equal(m.n_points, S_EPISODES * S_TICKS);
    assert_int_equal(m.episodes_received, S_EPISODES);
    SDL_Surface *s = s_draw(f, 1280, 800, &m, true);
    viz_layout_t l;
    viz_draw_layout(f->draw, s->w, s->h, VIZ_SET_OVERVIEW, &l);
    s_check_panels(s, &l, S_AGENTS, true);
    SDL_FreeSurface(s);
    /* garbage, then the first tick again with seq + 5: bad 1, lost 4 */
    assert_int_equal(transport_send(pub, "garbage", 7, ZMQ_DONTWAIT), 0);
    proto_msg_t msg;
    proto_msg_init(&msg);
    assert_int_equal(proto_decode(f->recording.data[0], f->recording.size[0], NULL, &msg, NULL, 0),
                     0);
    msg.seq = (uint64_t)f->recording.n + 4;
    proto_buffer_t buf;
    proto_buffer_init(&buf);
    assert_int_equal(proto_encode(&msg, &buf, err, sizeof err), 0);
    assert_int_equal(transport_send(pub, buf.data, buf.size, ZMQ_DONTWAIT), 0);
    deadline = transport_now_ms() + 10000;
    while (stats->received < (uint64_t)f->recording.n + 1 && transport_now_ms() < deadline)
        assert_true(viz_subscriber_poll(sub, &m, 100, S_POLL_BUDGET_MS) >= 0);
    assert_int_equal(stats->bad, 1);
    assert_int_equal(stats->lost, 4);
    assert_int_equal(m.n_points, 1); /* tick (0, 0) again: a new run */
    proto_buffer_fini(&buf);
    proto_msg_fini(&msg);
    viz_model_fini(&m);
    viz_subscriber_destroy(&sub);
    zmq_close(pub);
    zmq_ctx_term(ctx);
    char path[160];
    snprintf(path, sizeof path, "%s/telemetry", dir);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recorded_sequence),
        cmocka_unit_test(test_panel_sets),
        cmocka_unit_test(test_coverage_below_the_top),
        cmocka_unit_test(test_regret_without_oracle),
        cmocka_unit_test(test_projector),
        cmocka_unit_test(test_empty_model),
        cmocka_unit_test(test_one_tick),
        cmocka_unit_test(test_nan_values),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_many_agents),
        cmocka_unit_test(test_png),
        cmocka_unit_test(test_jpeg_and_unknown_types),
        cmocka_unit_test(test_run_folder),
        cmocka_unit_test(test_missing_font),
        cmocka_unit_test(test_live_subscriber),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
