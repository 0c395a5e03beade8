/* The world's keys for reproductions, against hand-computed cases: the
 * public reputation window, the random share of market users, late
 * entrants, the ideal policy, and request rewards after sharing and the
 * diversity bonus. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>

#include "sim/policy.h"
#include "sim/world_private.h"
#include "test_support.h"

static world_t *s_market(int window, double share, int enter1)
{
    world_config_t cfg;
    world_config_default(&cfg);
    cfg.n_users = 50;
    cfg.market_temperature = 0.0;
    cfg.reputation = WORLD_REPUTATION_PUBLIC;
    cfg.reputation_window = window;
    cfg.market_random_share = share;
    cfg.enter_tick[1] = enter1;
    assert_int_equal(world_config_validate(&cfg, NULL, NULL, 0), 0);
    world_t *w = world_new(&cfg, 3);
    assert_non_null(w);
    return w;
}

static void test_public_reputation_is_the_click_rate_of_the_last_pages(void **state)
{
    (void)state;
    world_t *w = s_market(3, 0.0, 0);
    assert_true(world_public_reputation(w, 0) == 0.0); /* no page yet */
    world_market_record(w, 0, true);
    ASSERT_NEAR(world_public_reputation(w, 0), 1.0, 1e-12);
    world_market_record(w, 0, false);
    ASSERT_NEAR(world_public_reputation(w, 0), 0.5, 1e-12);
    world_market_record(w, 0, true);
    world_market_record(w, 0, true); /* the window holds 0, 1, 1 */
    ASSERT_NEAR(world_public_reputation(w, 0), 2.0 / 3.0, 1e-12);
    world_market_record(w, 0, false); /* 1, 1, 0 */
    world_market_record(w, 0, false); /* 1, 0, 0 */
    ASSERT_NEAR(world_public_reputation(w, 0), 1.0 / 3.0, 1e-12);
    assert_true(world_public_reputation(w, 1) == 0.0);
    /* hard max on the public reputation: every user picks agent 0 */
    for (double u = 0.0; u < 1.0; u += 0.1)
        assert_int_equal(world_pick_platform(w, 0, u), 0);
    world_reset(w, 1);
    assert_true(world_public_reputation(w, 0) == 0.0);
    world_destroy(&w);
}

static void test_random_share_picks_uniformly_then_by_reputation(void **state)
{
    (void)state;
    world_t *w = s_market(10, 0.5, 0);
    world_market_record(w, 0, true); /* agent 0 is best-reputed */
    /* u < 0.5: uniform, floor(u / 0.5 * 2) */
    assert_int_equal(world_pick_platform(w, 0, 0.1), 0);
    assert_int_equal(world_pick_platform(w, 0, 0.3), 1);
    /* u >= 0.5: rescaled to (u - 0.5) / 0.5, then the hard max */
    assert_int_equal(world_pick_platform(w, 0, 0.6), 0);
    assert_int_equal(world_pick_platform(w, 0, 0.99), 0);
    world_destroy(&w);
}

static void test_late_entrant_is_not_picked_before_its_tick(void **state)
{
    (void)state;
    world_t *w = s_market(10, 1.0, 2); /* every user random; agent 1 enters at tick 2 */
    for (int t = 0; t < 2; t++) {
        assert_int_equal(world_begin_tick(w), 0);
        assert_int_equal(world_requests(w, 1)->n, 0);
        for (double u = 0.0; u < 1.0; u += 0.05)
            assert_int_equal(world_pick_platform(w, 0, u), 0);
        const world_requests_t *r = world_requests(w, 0);
        for (int j = 0; j < r->n; j++) {
            int32_t slate[5] = {0, 1, 2, 3, 4};
            assert_int_equal(world_set_slate(w, 0, j, slate), 0);
        }
        assert_int_equal(world_end_tick(w, NULL), 0);
    }
    /* from tick 2 on, half of the random users pick it */
    assert_int_equal(world_pick_platform(w, 0, 0.25), 0);
    assert_int_equal(world_pick_platform(w, 0, 0.75), 1);
    world_destroy(&w);
}

static void test_enter_tick_rules(void **state)
{
    (void)state;
    world_config_t cfg;
    world_config_default(&cfg);
    cfg.enter_tick[0] = 5;
    cfg.enter_tick[1] = 5;
    assert_int_equal(world_config_validate(&cfg, NULL, NULL, 0), ERR_EINVAL); /* nobody at 0 */
    cfg.enter_tick[0] = 0;
    assert_int_equal(world_config_validate(&cfg, NULL, NULL, 0), 0);
    cfg.mode = WORLD_MODE_FEED;
    int key = -2;
    assert_int_equal(world_config_validate(&cfg, &key, NULL, 0), ERR_EINVAL);
    assert_int_equal(key, SCENARIO_KEY_mode);
}

static void test_ideal_policy_ranks_by_true_utility(void **state)
{
    (void)state;
    world_config_t cfg;
    world_config_default(&cfg);
    cfg.n_agents = 1;
    cfg.n_items = 3;
    cfg.n_topics = 3;
    cfg.dim = 2;
    cfg.slate_size = 2;
    cfg.n_users = 1;
    cfg.item_arrival_rate = 0.0;
    world_t *w = world_new(&cfg, 7);
    const float x[2] = {1, 0}, e0[2] = {1, 0}, e1[2] = {0, 1}, e2[2] = {-1, 0};
    world_set_user_interest(w, 0, x);
    /* utilities x . e + q: 1 + 0, 0 + 0.5, -1 + 3 */
    world_set_item(w, 0, 0, 0.0f, e0);
    world_set_item(w, 1, 1, 0.5f, e1);
    world_set_item(w, 2, 2, 3.0f, e2);
    int32_t slate[2];
    policy_ideal_slate(w, 0, slate);
    assert_int_equal(slate[0], 2);
    assert_int_equal(slate[1], 0);
    world_set_item(w, 2, 2, 0.0f, e2); /* now 1, 0.5, -1 */
    policy_ideal_slate(w, 0, slate);
    assert_int_equal(slate[0], 0);
    assert_int_equal(slate[1], 1);
    policy_kind_t kind;
    assert_int_equal(policy_kind_parse("ideal", &kind), 0);
    assert_int_equal(kind, POLICY_IDEAL);
    world_destroy(&w);
}

/* Feed mode, 2 agents, one user who always clicks: with sharing a = 0.5
 * and bonus b = 2 over 4 topics, the clicked page's credited agent gets
 * (1 - a) + a / 2 + b / 4 = 1.25 and the other a / 2 + b / 4 = 0.75;
 * each equals its tick reward. */
static void test_request_rewards_after_sharing_and_bonus(void **state)
{
    (void)state;
    world_config_t cfg;
    world_config_default(&cfg);
    cfg.mode = WORLD_MODE_FEED;
    cfg.n_users = 1;
    cfg.initial_active = 1.0;
    cfg.n_items = 20;
    cfg.n_topics = 4;
    cfg.slate_size = 4;
    cfg.no_click_score = -100.0; /* P(no click) ~ e^-500 */
    cfg.consume_cost = cfg.noclick_cost = cfg.budget_gain = 0.0;
    cfg.reward_sharing = 0.5;
    cfg.diversity_bonus = 2.0;
    world_t *w = world_new(&cfg, 8);
    const int32_t a_slate[4] = {1, 2, 3, 4}, b_slate[4] = {5, 6, 7, 8};
    world_tick_stats_t st;
    world_begin_tick(w);
    world_set_slate(w, 0, 0, a_slate);
    world_set_slate(w, 1, 0, b_slate);
    assert_int_equal(world_end_tick(w, &st), 0);
    assert_int_equal(st.clicks, 1);
    for (int a = 0; a < 2; a++) {
        const world_feedback_t *fb = world_feedback(w, a);
        double expected = fb->clicked[0] >= 0 ? 1.25 : 0.75;
        ASSERT_NEAR(fb->reward[0], expected, 1e-6);
        ASSERT_NEAR(fb->tick_reward, expected, 1e-9);
    }
    world_destroy(&w);
}

/* Market mode: an agent's request rewards sum to its tick reward. */
static void test_market_request_rewards_sum_to_the_tick_reward(void **state)
{
    (void)state;
    world_config_t cfg;
    world_config_default(&cfg);
    cfg.n_users = 300;
    cfg.reward_sharing = 0.7;
    cfg.diversity_bonus = 1.5;
    world_t *w = world_new(&cfg, 5);
    policy_t *p[2] = {policy_new(POLICY_RANDOM, 5, 0, 5), policy_new(POLICY_POPULARITY, 5, 1, 5)};
    for (int t = 0; t < 5; t++) {
        world_begin_tick(w);
        for (int a = 0; a < 2; a++)
            assert_int_equal(policy_act(p[a], w, a), 0);
        assert_int_equal(world_end_tick(w, NULL), 0);
        for (int a = 0; a < 2; a++) {
            const world_feedback_t *fb = world_feedback(w, a);
            double sum = 0.0;
            for (int j = 0; j < fb->n; j++)
                sum += fb->reward[j];
            if (fb->n > 0)
                ASSERT_NEAR(sum, fb->tick_reward, 1e-4);
        }
    }
    policy_destroy(&p[0]);
    policy_destroy(&p[1]);
    world_destroy(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_public_reputation_is_the_click_rate_of_the_last_pages),
        cmocka_unit_test(test_random_share_picks_uniformly_then_by_reputation),
        cmocka_unit_test(test_late_entrant_is_not_picked_before_its_tick),
        cmocka_unit_test(test_enter_tick_rules),
        cmocka_unit_test(test_ideal_policy_ranks_by_true_utility),
        cmocka_unit_test(test_request_rewards_after_sharing_and_bonus),
        cmocka_unit_test(test_market_request_rewards_sum_to_the_tick_reward),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
