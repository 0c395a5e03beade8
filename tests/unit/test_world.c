/* The world against hand-computed cases: choice probabilities, the
 * oracle, rewards with sharing, sessions, catalog churn, feed
 * interleaving, market routing, and replay from the seed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>

#include "core/metrics.h"
#include "core/pcg32.h"
#include "sim/policy.h"
#include "sim/streams.h"
#include "sim/world.h"
#include "test_support.h"

#define EPS 1e-6

/* A tiny world: 2-dim embeddings, 3 items, 1 user in session forever. */
static void s_tiny_config(world_config_t *cfg)
{
    world_config_default(cfg);
    cfg->n_agents = 1;
    cfg->ticks = 10;
    cfg->n_items = 3;
    cfg->n_topics = 3;
    cfg->dim = 2;
    cfg->slate_size = 2;
    cfg->n_users = 1;
    cfg->item_arrival_rate = 0.0;
    cfg->quality_weight = 0.0;
    cfg->choice_temperature = 1.0;
    cfg->no_click_score = 0.0;
    cfg->position_decay = 1.0;
    cfg->initial_active = 1.0;
    cfg->session_budget = 1.0;
    cfg->consume_cost = 0.0;
    cfg->noclick_cost = 0.0;
    cfg->budget_gain = 0.0;
    cfg->interest_drift = 0.0;
}

/* user interest (1,0); item 0 = (1,0) topic 0, item 1 = (0,1) topic 1,
 * item 2 = (-1,0) topic 2; all quality 0 */
static world_t *s_tiny_world(const world_config_t *cfg)
{
    world_t *w = world_new(cfg, 7);
    assert_non_null(w);
    const float x[2] = {1, 0}, e0[2] = {1, 0}, e1[2] = {0, 1}, e2[2] = {-1, 0};
    world_set_user_interest(w, 0, x);
    world_set_item(w, 0, 0, 0.0f, e0);
    world_set_item(w, 1, 1, 0.0f, e1);
    world_set_item(w, 2, 2, 0.0f, e2);
    return w;
}

static void test_choice_probabilities_by_hand(void **state)
{
    (void)state;
    world_config_t cfg;
    s_tiny_config(&cfg);
    world_t *w = s_tiny_world(&cfg);
    /* page [0, 1]: scores 1 and 0; examination 1 and 1/2 (decay 1);
     * v0 = e^0 = 1, v = e^1 * 1 = 2.718282, e^0 * 0.5 = 0.5;
     * total 4.218282: P = 0.644405, 0.118532, none 0.237064 */
    const int32_t page[2] = {0, 1};
    double probs[2];
    double none = world_choice_probs(w, 0, page, probs);
    ASSERT_NEAR(probs[0], 0.644405, EPS);
    ASSERT_NEAR(probs[1], 0.118532, EPS);
    ASSERT_NEAR(none, 0.237064, EPS);

    /* swapped positions: v = e^0 * 1 = 1, e^1 / 2 = 1.359141; total 3.359141 */
    const int32_t swapped[2] = {1, 0};
    none = world_choice_probs(w, 0, swapped, probs);
    ASSERT_NEAR(probs[0], 1.0 / 3.359141, EPS);
    ASSERT_NEAR(probs[1], 1.359141 / 3.359141, EPS);
    ASSERT_NEAR(none, 1.0 / 3.359141, EPS);
    world_destroy(&w);
    assert_null(w);
}

static void test_quality_and_temperature_enter_the_score(void **state)
{
    (void)state;
    world_config_t cfg;
    s_tiny_config(&cfg);
    cfg.quality_weight = 2.0;
    cfg.choice_temperature = 0.5;
    cfg.position_decay = 0.0;
    world_t *w = s_tiny_world(&cfg);
    const float e1[2] = {0, 1};
    world_set_item(w, 1, 1, 0.25f, e1);
    /* scores: item 0: 1; item 1: 0 + 2 * 0.25 = 0.5; no click 0; T = 0.5:
     * v = e^2, e^1, v0 = 1; total 1 + e + e^2 = 11.107338 */
    const int32_t page[2] = {0, 1};
    double probs[2];
    double none = world_choice_probs(w, 0, page, probs);
    ASSERT_NEAR(probs[0], 7.389056 / 11.107338, EPS);
    ASSERT_NEAR(probs[1], 2.718282 / 11.107338, EPS);
    ASSERT_NEAR(none, 1.0 / 11.107338, EPS);
    world_destroy(&w);
}

static void test_oracle_picks_the_best_slate(void **state)
{
    (void)state;
    world_config_t cfg;
    s_tiny_config(&cfg);
    world_t *w = s_tiny_world(&cfg);
    /* scores 1, 0, -1: best slate [0, 1] with P(click) = 0.644405 + 0.118532 */
    int32_t best[2];
    double p = world_oracle(w, 0, best);
    assert_int_equal(best[0], 0);
    assert_int_equal(best[1], 1);
    ASSERT_NEAR(p, 0.762937, EPS);
    world_destroy(&w);
}

/* One tick of the tiny world with slate [0, 1]; returns the stats. */
static world_tick_stats_t s_tiny_tick(world_t *w, const int32_t *slate)
{
    world_tick_stats_t st;
    assert_int_equal(world_begin_tick(w), 0);
    const world_requests_t *r = world_requests(w, 0);
    assert_int_equal(r->n, 1);
    assert_int_equal(world_set_slate(w, 0, 0, slate), 0);
    assert_int_equal(world_end_tick(w, &st), 0);
    return st;
}

static void test_regret_is_oracle_minus_shown(void **state)
{
    (void)state;
    world_config_t cfg;
    s_tiny_config(&cfg);
    world_t *w = s_tiny_world(&cfg);
    /* showing the worst slate [2, 1]: scores -1, 0: v = e^-1 = 0.367879,
     * 0.5; P(click) = 0.867879 / 1.867879 = 0.464633; oracle 0.762937 */
    const int32_t worst[2] = {2, 1};
    world_tick_stats_t st = s_tiny_tick(w, worst);
    ASSERT_NEAR(st.agent_regret[0], 0.762937 - 0.464633, EPS);
    world_destroy(&w);
}

static void test_satiation_rises_and_decays(void **state)
{
    (void)state;
    world_config_t cfg;
    s_tiny_config(&cfg);
    cfg.satiation_gain = 0.5;
    cfg.satiation_decay = 0.5;
    cfg.no_click_score = -50.0; /* the user always clicks */
    cfg.choice_temperature = 0.01;
    world_t *w = s_tiny_world(&cfg);
    const int32_t slate[2] = {0, 1};
    world_tick_stats_t st = s_tiny_tick(w, slate); /* tick 0: clicks item 0 */
    assert_int_equal(st.clicks, 1);
    assert_int_equal(world_clicks(w)[0], 1);
    ASSERT_NEAR(world_user_satiation(w, 0)[0], 0.5, EPS);
    /* next tick: satiation of topic 0 decays to 0.25 before the choice,
     * score of item 0 = 1 - 0.25 = 0.75 > 0: still clicked, then +0.5 */
    s_tiny_tick(w, slate);
    ASSERT_NEAR(world_user_satiation(w, 0)[0], 0.75, EPS);
    world_destroy(&w);
}

static void test_interest_drifts_toward_consumed_items(void **state)
{
    (void)state;
    world_config_t cfg;
    s_tiny_config(&cfg);
    cfg.interest_drift = 0.5;
    cfg.no_click_score = -50.0;
    cfg.choice_temperature = 0.01;
    cfg.slate_size = 1;
    world_t *w = s_tiny_world(&cfg);
    const int32_t slate[1] = {1}; /* item (0, 1) */
    s_tiny_tick(w, slate);
    /* x = (1,0) + 0.5 ((0,1) - (1,0)) = (0.5, 0.5), normalised (0.7071, 0.7071) */
    const float *x = world_user_interest(w, 0);
    ASSERT_NEAR(x[0], 0.707107, EPS);
    ASSERT_NEAR(x[1], 0.707107, EPS);
    world_destroy(&w);
}

/* welfare_initial is the utility against the interests at the episode's
 * start: the same as welfare on the first click, then apart once the
 * interests drift. One user, slate [1] (item (0, 1)), always clicked. */
static void test_welfare_against_initial_interests(void **state)
{
    (void)state;
    world_config_t cfg;
    s_tiny_config(&cfg);
    cfg.interest_drift = 0.5;
    cfg.no_click_score = -50.0;
    cfg.choice_temperature = 0.01;
    cfg.slate_size = 1;
    world_t *w = world_new(&cfg, 7);
    assert_non_null(w);
    const float e1[2] = {0, 1};
    world_set_item(w, 1, 1, 0.0f, e1);
    float x0[2];
    memcpy(x0, world_user_interest(w, 0), sizeof x0); /* the drawn, initial interest */
    const int32_t slate[1] = {1};
    world_tick_stats_t st = s_tiny_tick(w, slate);
    ASSERT_NEAR(st.welfare, x0[1], EPS);
    ASSERT_NEAR(st.welfare_initial, x0[1], EPS);
    /* drifted: x1 = normalise(x0 + 0.5 (e1 - x0)) = normalise(0.5 x0[0], 0.5 x0[1] + 0.5) */
    double a = 0.5 * x0[0], b = 0.5 * x0[1] + 0.5;
    double x1 = b / sqrt(a * a + b * b);
    st = s_tiny_tick(w, slate);
    ASSERT_NEAR(st.welfare, x1, EPS);
    ASSERT_NEAR(st.welfare_initial, x0[1], EPS);
    world_episode_metrics_t m;
    assert_int_equal(world_episode_metrics(w, &m), 0);
    ASSERT_NEAR(m.welfare, x0[1] + x1, EPS);
    ASSERT_NEAR(m.welfare_initial, 2 * x0[1], EPS);
    world_destroy(&w);
}

/* The sampled per-tick Jaccard: two users who consumed {1} and {1} give
 * 1; then {1, 0} and {1}: 1/2, whichever pairs are drawn. */
static void test_sampled_jaccard_by_hand(void **state)
{
    (void)state;
    world_config_t cfg;
    s_tiny_config(&cfg);
    cfg.n_users = 2;
    cfg.no_click_score = -50.0;
    cfg.choice_temperature = 0.01;
    cfg.slate_size = 1;
    world_t *w = s_tiny_world(&cfg);
    pcg32_t rng;
    pcg32_stream(&rng, 1, 12, 0);
    double j = -1.0;
    assert_int_equal(world_sample_jaccard(w, 10, &rng, &j), 0);
    ASSERT_NEAR(j, 0.0, EPS); /* nothing consumed: no pair counts */
    for (int t = 0; t < 2; t++) {
        world_tick_stats_t st;
        assert_int_equal(world_begin_tick(w), 0);
        const world_requests_t *r = world_requests(w, 0);
        assert_int_equal(r->n, 2);
        for (int q = 0; q < 2; q++) {
            int32_t item = t == 1 && r->user_ids[q] == 0 ? 0 : 1;
            assert_int_equal(world_set_slate(w, 0, q, &item), 0);
        }
        assert_int_equal(world_end_tick(w, &st), 0);
        assert_int_equal(st.clicks, 2);
        assert_int_equal(world_sample_jaccard(w, 10, &rng, &j), 0);
        ASSERT_NEAR(j, t == 0 ? 1.0 : 0.5, EPS);
    }
    world_destroy(&w);
}

static void test_sessions_end_when_the_budget_runs_out(void **state)
{
    (void)state;
    world_config_t cfg;
    world_config_default(&cfg);
    cfg.n_agents = 1;
    cfg.n_users = 300;
    cfg.initial_active = 1.0;
    cfg.session_budget = 1.0;
    cfg.consume_cost = 1.0;
    cfg.noclick_cost = 1.0;
    cfg.budget_gain = 0.0;
    cfg.return_base = 0.0;
    cfg.return_gain = 0.0;
    world_t *w = world_new(&cfg, 3);
    policy_t *p = policy_new(POLICY_RANDOM, 3, 0, cfg.slate_size);
    world_tick_stats_t st;
    /* every session lasts one page; nobody returns */
    world_begin_tick(w);
    assert_int_equal(policy_act(p, w, 0), 0);
    world_end_tick(w, &st);
    assert_int_equal(st.requests, 300);
    assert_int_equal(st.session_ends, 300);
    const world_feedback_t *fb = world_feedback(w, 0);
    assert_int_equal(fb->n, 300);
    for (int i = 0; i < fb->n; i++)
        assert_int_equal(fb->session_end[i], 1);
    world_begin_tick(w);
    assert_int_equal(world_requests(w, 0)->n, 0);
    assert_int_equal(world_end_tick(w, &st), 0);
    world_episode_metrics_t m;
    assert_int_equal(world_episode_metrics(w, &m), 0);
    ASSERT_NEAR(m.churn, 1.0, EPS);
    ASSERT_NEAR(m.mean_active_users, 150.0, EPS);
    policy_destroy(&p);
    world_destroy(&w);
}

static void test_bad_slates_are_refused(void **state)
{
    (void)state;
    world_config_t cfg;
    s_tiny_config(&cfg);
    world_t *w = s_tiny_world(&cfg);
    world_tick_stats_t st;
    assert_int_equal(world_end_tick(w, &st), ERR_ESTATE);
    world_begin_tick(w);
    assert_int_equal(world_begin_tick(w), ERR_ESTATE); /* already in a tick */
    const int32_t dup[2] = {1, 1}, out[2] = {0, 3}, neg[2] = {-1, 0};
    assert_int_equal(world_set_slate(w, 0, 0, dup), ERR_EDUP);
    assert_int_equal(world_set_slate(w, 0, 0, out), ERR_EITEM);
    assert_int_equal(world_set_slate(w, 0, 0, neg), ERR_EITEM);
    assert_false(world_has_slate(w, 0, 0)); /* nothing stored */
    const int32_t good[2] = {0, 1};
    assert_int_equal(world_set_slate(w, 0, 1, good), ERR_EINVAL); /* one request: row 0 only */
    assert_int_equal(world_set_slate(w, 1, 0, good), ERR_EINVAL); /* one agent */
    assert_int_equal(world_end_tick(w, &st), ERR_EMISSED);
    assert_int_equal(world_set_slate(w, 0, 0, good), 0);
    assert_true(world_has_slate(w, 0, 0));
    assert_int_equal(world_end_tick(w, &st), 0);
    assert_int_equal(world_set_slate(w, 0, 0, good), ERR_ESTATE); /* between ticks */
    world_destroy(&w);
}

/* world_set_slates: each row judged as world_set_slate judges it; the
 * refused rows left unset, the first one named. 4 users, 3 items, k = 2. */
static void test_slates_set_in_one_pass(void **state)
{
    (void)state;
    world_config_t cfg;
    s_tiny_config(&cfg);
    cfg.n_users = 4;
    world_t *w = s_tiny_world(&cfg);
    const int32_t slates[4][2] = {{0, 1}, {2, 2}, {1, 2}, {3, 0}};
    int refused = -1, first = -2;
    assert_int_equal(world_set_slates(w, 0, &slates[0][0], &refused, &first), ERR_ESTATE);
    assert_int_equal(refused, 0); /* outside a tick: nothing judged */
    world_begin_tick(w);
    assert_int_equal(world_requests(w, 0)->n, 4);
    assert_int_equal(world_set_slates(w, 1, &slates[0][0], &refused, &first), ERR_EINVAL);
    assert_int_equal(world_set_slates(w, 0, &slates[0][0], &refused, &first), ERR_EDUP);
    assert_int_equal(refused, 2); /* rows 1 (item 2 twice) and 3 (item 3 out of range) */
    assert_int_equal(first, 1);
    assert_true(world_has_slate(w, 0, 0));
    assert_false(world_has_slate(w, 0, 1));
    assert_true(world_has_slate(w, 0, 2));
    assert_false(world_has_slate(w, 0, 3));
    const int32_t *set = world_slates(w, 0);
    assert_int_equal(set[0], 0);
    assert_int_equal(set[1], 1);
    assert_int_equal(set[4], 1);
    assert_int_equal(set[5], 2);
    const int32_t good[4][2] = {{1, 0}, {0, 2}, {2, 1}, {0, 1}};
    assert_int_equal(world_set_slates(w, 0, &good[0][0], &refused, &first), 0);
    assert_int_equal(refused, 0);
    assert_int_equal(first, -1);
    for (int row = 0; row < 4; row++) {
        assert_true(world_has_slate(w, 0, row));
        assert_int_equal(set[2 * row], good[row][0]);
        assert_int_equal(set[2 * row + 1], good[row][1]);
    }
    world_tick_stats_t st;
    assert_int_equal(world_end_tick(w, &st), 0); /* every request has its slate, counted once */
    world_destroy(&w);
}

/* The random policy's slate by the textbook algorithms, for comparison:
 * Floyd's sampling, a drawn index told by scanning those drawn before,
 * then Fisher-Yates, all with pcg32_bounded. */
static void s_reference_slate(pcg32_t *rng, const int32_t *live, int n_live, int k, int32_t *slate)
{
    int32_t drawn[PROTO_MAX_SLATE];
    for (int j = n_live - k, filled = 0; j < n_live; j++, filled++) {
        int32_t r = (int32_t)pcg32_bounded(rng, (uint32_t)j + 1);
        for (int q = 0; q < filled; q++)
            if (drawn[q] == r)
                r = j;
        drawn[filled] = r;
        slate[filled] = live[r];
    }
    for (int i = k - 1; i > 0; i--) {
        int j = (int)pcg32_bounded(rng, (uint32_t)i + 1);
        int32_t tmp = slate[i];
        slate[i] = slate[j];
        slate[j] = tmp;
    }
}

/* The random policy draws the same slates at any catalog size: with marks
 * per live index (small catalogs), by comparison above 65,536 live items,
 * with the live list the identity (no item retired) or not (items
 * retiring); every slate is the reference's, and the world accepts it. */
static void test_random_slates_alike_at_any_size(void **state)
{
    (void)state;
    const struct {
        int n_items;
        double lifetime;
    } cases[] = {{1000, 0.0}, {1000, 20.0}, {80000, 0.0}, {80000, 20.0}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        world_config_t cfg;
        world_config_default(&cfg);
        cfg.n_agents = 1;
        cfg.n_users = 30;
        cfg.n_items = cases[c].n_items;
        cfg.dim = 4;
        cfg.item_arrival_rate = cases[c].lifetime > 0.0 ? 1.0 : 0.0; /* the check asks for births */
        cfg.item_lifetime = cases[c].lifetime;
        cfg.initial_active = 1.0;
        cfg.ticks = 4;
        world_t *w = world_new(&cfg, 11);
        assert_non_null(w);
        policy_t *p = policy_new(POLICY_RANDOM, 11, 0, cfg.slate_size);
        pcg32_t ref;
        pcg32_stream(&ref, 11, SIM_STREAM_POLICY, 0); /* agent 0, episode 0 */
        bool churned = false;
        for (int t = 0; t < cfg.ticks; t++) {
            assert_int_equal(world_begin_tick(w), 0);
            int n_live;
            const int32_t *live = world_live_items(w, &n_live);
            churned = churned || n_live < world_item_count(w);
            assert_int_equal(policy_act(p, w, 0), 0);
            const world_requests_t *r = world_requests(w, 0);
            const int32_t *set = world_slates(w, 0);
            for (int j = 0; j < r->n; j++) {
                int32_t expect[PROTO_MAX_SLATE];
                s_reference_slate(&ref, live, n_live, cfg.slate_size, expect);
                for (int i = 0; i < cfg.slate_size; i++)
                    assert_int_equal(set[(size_t)j * cfg.slate_size + i], expect[i]);
            }
            world_tick_stats_t st;
            assert_int_equal(world_end_tick(w, &st), 0);
        }
        /* the retiring cases did leave holes in the live list */
        assert_true(churned == (cases[c].lifetime > 0.0));
        policy_destroy(&p);
        world_destroy(&w);
    }
}

/* Above 65,536 item ids the slate check compares ids instead of marking
 * them: the same codes, the first bad position deciding, dead items
 * refused. */
static void test_bad_slates_refused_in_a_large_catalog(void **state)
{
    (void)state;
    world_config_t cfg;
    world_config_default(&cfg);
    cfg.n_agents = 1;
    cfg.n_users = 4;
    cfg.n_items = 80000;
    cfg.dim = 4;
    cfg.slate_size = 4;
    cfg.item_arrival_rate = 1.0;
    cfg.item_lifetime = 5.0;
    cfg.initial_active = 1.0;
    cfg.ticks = 3;
    world_t *w = world_new(&cfg, 3);
    assert_non_null(w);
    world_tick_stats_t st;
    policy_t *p = policy_new(POLICY_RANDOM, 3, 0, cfg.slate_size);
    assert_int_equal(world_begin_tick(w), 0);
    assert_int_equal(policy_act(p, w, 0), 0);
    assert_int_equal(world_end_tick(w, &st), 0);
    assert_int_equal(world_begin_tick(w), 0); /* tick 1: items of lifetime 1 retire */
    int n_retired;
    const int32_t *retired = world_retired(w, &n_retired);
    assert_true(n_retired > 1000); /* about 80,000 (1 - e^-1/5) = 14,500 */
    int32_t dead = retired[0];
    assert_false(world_item(w, dead)->alive);
    int32_t a[4], n_alive = 0;
    for (int32_t id = 0; n_alive < 4; id++)
        if (world_item(w, id)->alive)
            a[n_alive++] = id;
    int32_t n_ids = world_item_count(w);              /* the first id not issued */
    const int32_t dup[4] = {a[0], a[1], a[0], n_ids}; /* dup at 2 before the bad id at 3 */
    const int32_t out[4] = {a[0], n_ids, a[0], a[1]}; /* bad id at 1 before the dup at 2 */
    const int32_t neg[4] = {a[0], a[1], a[2], -1};
    const int32_t last_dup[4] = {a[0], a[1], a[2], a[0]};
    const int32_t gone[4] = {a[0], a[1], dead, a[2]};
    const int32_t dup_then_gone[4] = {a[0], a[0], dead, a[1]};
    assert_int_equal(world_set_slate(w, 0, 0, dup), ERR_EDUP);
    assert_int_equal(world_set_slate(w, 0, 0, out), ERR_EITEM);
    assert_int_equal(world_set_slate(w, 0, 0, neg), ERR_EITEM);
    assert_int_equal(world_set_slate(w, 0, 0, last_dup), ERR_EDUP);
    assert_int_equal(world_set_slate(w, 0, 0, gone), ERR_EITEM);
    assert_int_equal(world_set_slate(w, 0, 0, dup_then_gone), ERR_EDUP);
    assert_false(world_has_slate(w, 0, 0));
    assert_int_equal(world_set_slate(w, 0, 0, a), 0);
    assert_true(world_has_slate(w, 0, 0));
    policy_destroy(&p);
    world_destroy(&w);
}

/* A tick's intra-list diversity is the mean over its pages of
 * metrics_intra_list_diversity on the world's embeddings, bit for bit,
 * whether the world keeps unit rows (small catalogs) or inverse norms
 * (above 4 MiB of unit rows: 32,768 items at dim 16, 43,690 at dim 12). */
static void test_ild_alike_at_any_size(void **state)
{
    (void)state;
    const struct {
        int n_items, dim;
    } cases[] = {{1000, 16}, {40000, 16}, {1000, 12}, {60000, 12}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        world_config_t cfg;
        world_config_default(&cfg);
        cfg.n_agents = 1;
        cfg.n_users = 40;
        cfg.n_items = cases[c].n_items;
        cfg.dim = cases[c].dim;
        cfg.slate_size = 10;
        cfg.initial_active = 1.0;
        cfg.ticks = 3;
        world_t *w = world_new(&cfg, 21);
        assert_non_null(w);
        policy_t *p = policy_new(POLICY_RANDOM, 21, 0, cfg.slate_size);
        for (int t = 0; t < cfg.ticks; t++) {
            assert_int_equal(world_begin_tick(w), 0);
            assert_int_equal(policy_act(p, w, 0), 0);
            const world_requests_t *r = world_requests(w, 0);
            const int32_t *slates = world_slates(w, 0); /* one agent: the pages */
            double sum = 0.0;
            for (int j = 0; j < r->n; j++)
                sum += metrics_intra_list_diversity(world_embeddings(w),
                                                    &slates[(size_t)j * cfg.slate_size],
                                                    (size_t)cfg.slate_size, (size_t)cfg.dim);
            double expect = r->n ? sum / r->n : 0.0;
            world_tick_stats_t st;
            assert_int_equal(world_end_tick(w, &st), 0);
            assert_true(r->n > 0);
            assert_memory_equal(&st.ild, &expect, sizeof expect);
        }
        policy_destroy(&p);
        world_destroy(&w);
    }
}

static void test_items_arrive_and_retire(void **state)
{
    (void)state;
    world_config_t cfg;
    world_config_default(&cfg);
    cfg.n_agents = 1;
    cfg.n_users = 50;
    cfg.n_items = 20;
    cfg.item_arrival_rate = 2.0;
    cfg.item_lifetime = 5.0;
    cfg.ticks = 60;
    world_t *w = world_new(&cfg, 5);
    policy_t *p = policy_new(POLICY_RANDOM, 5, 0, cfg.slate_size);
    int retired_total = 0;
    for (int t = 0; t < cfg.ticks; t++) {
        world_tick_stats_t st;
        world_begin_tick(w);
        int n_born, n_retired;
        world_born(w, &n_born);
        const int32_t *retired = world_retired(w, &n_retired);
        assert_int_equal(n_born, t == 0 ? 0 : 2); /* rate 2.0 is exactly 2 per tick */
        for (int i = 0; i < n_retired; i++)
            assert_false(world_item(w, retired[i])->alive);
        retired_total += n_retired;
        int n_live;
        world_live_items(w, &n_live);
        assert_true(n_live >= cfg.slate_size);
        assert_int_equal(policy_act(p, w, 0), 0);
        world_end_tick(w, &st);
    }
    assert_int_equal(world_item_count(w), 20 + 2 * 59);
    assert_true(retired_total > 20);
    /* a retired item cannot be recommended */
    world_begin_tick(w);
    (void)w;
    policy_destroy(&p);
    world_destroy(&w);
}

/* Runs cfg with the given policies for all ticks; returns a checksum of
 * every tick's figures. */
static double s_run(const world_config_t *cfg, uint64_t seed, const policy_kind_t *kinds,
                    int32_t *first_requests)
{
    world_t *w = world_new(cfg, seed);
    assert_non_null(w);
    policy_t *p[WORLD_MAX_AGENTS];
    for (int a = 0; a < cfg->n_agents; a++)
        p[a] = policy_new(kinds[a], seed, a, cfg->slate_size);
    double sum = 0.0;
    for (int t = 0; t < cfg->ticks; t++) {
        world_tick_stats_t st;
        world_begin_tick(w);
        for (int a = 0; a < cfg->n_agents; a++) {
            const world_requests_t *r = world_requests(w, a);
            if (first_requests && a == 0)
                first_requests[t] = r->n ? r->user_ids[0] * 7919 + r->n : -1;
            assert_int_equal(policy_act(p[a], w, a), 0);
        }
        assert_int_equal(world_end_tick(w, &st), 0);
        sum = sum * 1.000001 + st.clicks + 3 * st.welfare + 5 * st.agent_requests[0] + st.ild;
    }
    for (int a = 0; a < cfg->n_agents; a++)
        policy_destroy(&p[a]);
    world_destroy(&w);
    return sum;
}

static void test_same_seed_replays_bit_for_bit(void **state)
{
    (void)state;
    world_config_t cfg;
    world_config_default(&cfg);
    cfg.ticks = 40;
    cfg.n_users = 500;
    cfg.item_lifetime = 100.0;
    const policy_kind_t kinds[2] = {POLICY_RANDOM, POLICY_POPULARITY};
    double a = s_run(&cfg, 11, kinds, NULL), b = s_run(&cfg, 11, kinds, NULL);
    assert_memory_equal(&a, &b, sizeof a);
    double c = s_run(&cfg, 12, kinds, NULL);
    assert_true(a != c);
    cfg.mode = WORLD_MODE_FEED;
    a = s_run(&cfg, 11, kinds, NULL);
    b = s_run(&cfg, 11, kinds, NULL);
    assert_memory_equal(&a, &b, sizeof a);
}

static void test_arrivals_do_not_depend_on_agents(void **state)
{
    (void)state;
    /* With return probability independent of satisfaction and sessions
     * that never end, which users ask and when is fixed by the seed. */
    world_config_t cfg;
    world_config_default(&cfg);
    cfg.n_agents = 1;
    cfg.ticks = 30;
    cfg.n_users = 400;
    cfg.return_gain = 0.0;
    cfg.return_base = 0.05;
    cfg.consume_cost = 0.0;
    cfg.noclick_cost = 0.0;
    cfg.budget_gain = 0.0;
    int32_t with_random[30], with_popular[30];
    const policy_kind_t random_kind[1] = {POLICY_RANDOM}, popular_kind[1] = {POLICY_POPULARITY};
    double a = s_run(&cfg, 21, random_kind, with_random);
    double b = s_run(&cfg, 21, popular_kind, with_popular);
    assert_memory_equal(with_random, with_popular, sizeof with_random);
    assert_true(a != b); /* but what they clicked differs */
}

static void test_reward_sharing_and_diversity_bonus(void **state)
{
    (void)state;
    world_config_t cfg;
    world_config_default(&cfg);
    cfg.ticks = 5;
    cfg.n_users = 400;
    cfg.reward_sharing = 0.25;
    cfg.diversity_bonus = 2.0;
    world_t *w = world_new(&cfg, 9);
    policy_t *p[2] = {policy_new(POLICY_RANDOM, 9, 0, 5), policy_new(POLICY_POPULARITY, 9, 1, 5)};
    for (int t = 0; t < cfg.ticks; t++) {
        world_tick_stats_t st;
        world_begin_tick(w);
        for (int a = 0; a < 2; a++) {
            assert_int_equal(policy_act(p[a], w, a), 0);
        }
        world_end_tick(w, &st);
        double mean = (st.agent_clicks[0] + st.agent_clicks[1]) / 2.0;
        for (int a = 0; a < 2; a++) {
            double expected =
                0.75 * st.agent_clicks[a] + 0.25 * mean + 2.0 * st.topics_consumed_share;
            ASSERT_NEAR(st.agent_reward[a], expected, 1e-9);
            ASSERT_NEAR(world_feedback(w, a)->tick_reward, expected, 1e-9);
        }
        assert_int_equal(st.agent_requests[0] + st.agent_requests[1], st.requests);
        assert_int_equal(st.agent_clicks[0] + st.agent_clicks[1], st.clicks);
    }
    policy_destroy(&p[0]);
    policy_destroy(&p[1]);
    world_destroy(&w);
}

static void test_market_hardmax_splits_ties_and_follows_reputation(void **state)
{
    (void)state;
    world_config_t cfg;
    world_config_default(&cfg);
    cfg.n_users = 2000;
    cfg.initial_active = 1.0;
    cfg.market_temperature = 0.0;
    world_t *w = world_new(&cfg, 4);
    world_begin_tick(w);
    /* all reputations start equal: ties broken uniformly, ~1000 each
     * (sd 22) */
    int n0 = world_requests(w, 0)->n, n1 = world_requests(w, 1)->n;
    assert_int_equal(n0 + n1, 2000);
    assert_true(n0 > 880 && n0 < 1120);
    world_destroy(&w);
}

static void test_feed_interleaves_and_credits(void **state)
{
    (void)state;
    world_config_t cfg;
    world_config_default(&cfg);
    cfg.mode = WORLD_MODE_FEED;
    cfg.n_users = 1;
    cfg.initial_active = 1.0;
    cfg.slate_size = 4;
    cfg.n_items = 20;
    cfg.consume_cost = 0.0;
    cfg.noclick_cost = 0.0;
    cfg.budget_gain = 0.0;
    world_t *w = world_new(&cfg, 8);
    const int32_t a_slate[4] = {1, 2, 3, 4}, b_slate[4] = {5, 6, 7, 8};
    world_tick_stats_t st;
    world_begin_tick(w);
    assert_int_equal(world_requests(w, 0)->n, 1);
    assert_int_equal(world_requests(w, 1)->n, 1);
    world_set_slate(w, 0, 0, a_slate);
    world_set_slate(w, 1, 0, b_slate);
    world_end_tick(w, &st);
    /* team draft over two rounds: each agent's top two items are shown */
    const uint32_t *exposure = world_exposure(w);
    uint32_t expected[9] = {0, 1, 1, 0, 0, 1, 1, 0, 0};
    for (int i = 0; i < 9; i++)
        assert_int_equal(exposure[i], expected[i]);
    /* a click is credited to the agent whose item was clicked, with its
     * position in that agent's own slate */
    for (int a = 0; a < 2; a++) {
        const world_feedback_t *fb = world_feedback(w, a);
        assert_int_equal(fb->n, 1);
        if (fb->clicked[0] >= 0) {
            assert_true(fb->clicked[0] < 2);
            assert_int_equal(st.agent_clicks[a], 1);
            ASSERT_NEAR(fb->reward[0], 1.0, 0.0);
        } else {
            assert_int_equal(st.agent_clicks[a], 0);
        }
    }
    world_destroy(&w);
}

static void test_reset_restores_the_initial_world(void **state)
{
    (void)state;
    world_config_t cfg;
    world_config_default(&cfg);
    cfg.n_users = 100;
    cfg.interest_drift = 0.5;
    world_t *w = world_new(&cfg, 2);
    float x0[16];
    memcpy(x0, world_user_interest(w, 3), sizeof x0);
    policy_t *p = policy_new(POLICY_POPULARITY, 2, 0, 5);
    for (int t = 0; t < 20; t++) {
        world_tick_stats_t st;
        world_begin_tick(w);
        for (int a = 0; a < 2; a++) {
            assert_int_equal(policy_act(p, w, a), 0);
        }
        world_end_tick(w, &st);
    }
    assert_int_equal(world_tick(w), 20);
    assert_int_equal(world_reset(w, 1), 0);
    assert_int_equal(world_tick(w), 0);
    assert_int_equal(world_episode(w), 1);
    assert_memory_equal(world_user_interest(w, 3), x0, sizeof x0);
    assert_int_equal(world_item_count(w), cfg.n_items);
    assert_int_equal(world_exposure(w)[0] + world_clicks(w)[0], 0);
    policy_destroy(&p);
    world_destroy(&w);
}

static void test_config_check_names_the_key(void **state)
{
    (void)state;
    world_config_t cfg;
    world_config_default(&cfg);
    char err[256];
    assert_int_equal(world_config_check(&cfg, err, sizeof err), 0);
    cfg.slate_size = 600;
    cfg.n_items = 500;
    assert_int_equal(world_config_check(&cfg, err, sizeof err), ERR_EINVAL);
    assert_string_equal(err, "world.slate_size: 600 is out of range [1, 256]");
    cfg.slate_size = 20;
    cfg.n_items = 10;
    assert_int_equal(world_config_check(&cfg, err, sizeof err), ERR_EINVAL);
    assert_true(strncmp(err, "world.slate_size: 20 exceeds world.n_items (10)", 47) == 0);
    world_config_default(&cfg);
    cfg.choice_temperature = NAN;
    assert_int_equal(world_config_check(&cfg, err, sizeof err), ERR_EINVAL);
    assert_true(strncmp(err, "world.choice_temperature:", 25) == 0);
    assert_null(world_new(&cfg, 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_choice_probabilities_by_hand),
        cmocka_unit_test(test_quality_and_temperature_enter_the_score),
        cmocka_unit_test(test_oracle_picks_the_best_slate),
        cmocka_unit_test(test_regret_is_oracle_minus_shown),
        cmocka_unit_test(test_satiation_rises_and_decays),
        cmocka_unit_test(test_interest_drifts_toward_consumed_items),
        cmocka_unit_test(test_welfare_against_initial_interests),
        cmocka_unit_test(test_sampled_jaccard_by_hand),
        cmocka_unit_test(test_sessions_end_when_the_budget_runs_out),
        cmocka_unit_test(test_bad_slates_are_refused),
        cmocka_unit_test(test_slates_set_in_one_pass),
        cmocka_unit_test(test_random_slates_alike_at_any_size),
        cmocka_unit_test(test_bad_slates_refused_in_a_large_catalog),
        cmocka_unit_test(test_ild_alike_at_any_size),
        cmocka_unit_test(test_items_arrive_and_retire),
        cmocka_unit_test(test_same_seed_replays_bit_for_bit),
        cmocka_unit_test(test_arrivals_do_not_depend_on_agents),
        cmocka_unit_test(test_reward_sharing_and_diversity_bonus),
        cmocka_unit_test(test_market_hardmax_splits_ties_and_follows_reputation),
        cmocka_unit_test(test_feed_interleaves_and_credits),
        cmocka_unit_test(test_reset_restores_the_initial_world),
        cmocka_unit_test(test_config_check_names_the_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
