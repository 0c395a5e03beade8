/* ACT acceptance (sim/server_act.h) on hand-built ACTs against a small
 * world: 3 users in session, 1 agent, slates of 2 out of 6 items. Each
 * case checks the verdict's code, count, row and words, and which slates
 * the world holds afterwards. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sim/server_act.h"
#include "sim/world.h"

/* Ids 0..5 at tick 0; from tick 1 two items are born per tick, and an
 * item drawn to live one tick (mean lifetime 1) retires at tick 1. */
static world_t *s_world(void)
{
    world_config_t cfg;
    world_config_default(&cfg);
    cfg.n_agents = 1;
    cfg.n_users = 3;
    cfg.n_items = 6;
    cfg.n_topics = 2;
    cfg.dim = 2;
    cfg.slate_size = 2;
    cfg.item_arrival_rate = 2.0;
    cfg.item_lifetime = 1.0;
    cfg.initial_active = 1.0;
    cfg.session_budget = 1.0;
    cfg.consume_cost = 0.0;
    cfg.noclick_cost = 0.0;
    cfg.budget_gain = 0.0;
    world_t *w = world_new(&cfg, 7);
    assert_non_null(w);
    assert_int_equal(world_begin_tick(w), 0);
    assert_int_equal(world_requests(w, 0)->n, 3);
    return w;
}

/* An ACT for tick 0 answering users 0, 1, 2 with slates. */
static proto_act_t s_act(const int32_t *user_ids, const int32_t *slates)
{
    return (proto_act_t){
        .episode = 0, .tick = 0, .n = 3, .slate_size = 2, .user_ids = user_ids, .slates = slates};
}

static const int32_t s_users[3] = {0, 1, 2};

static void s_expect_no_slates(const world_t *w)
{
    for (int j = 0; j < 3; j++)
        assert_false(world_has_slate(w, 0, j));
}

static void test_valid_act_sets_every_slate(void **state)
{
    (void)state;
    world_t *w = s_world();
    const int32_t slates[6] = {0, 1, 2, 3, 5, 4};
    proto_act_t act = s_act(s_users, slates);
    server_act_verdict_t v;
    assert_int_equal(server_act_accept(w, 0, &act, &v), 0);
    assert_int_equal(v.rc, 0);
    assert_int_equal(v.refused, 0);
    assert_int_equal(v.first_row, -1);
    assert_memory_equal(world_slates(w, 0), slates, sizeof slates);
    world_tick_stats_t st;
    assert_int_equal(world_end_tick(w, &st), 0); /* nothing missing */
    world_destroy(&w);
}

static void test_echo_mismatch_refuses_the_whole_act(void **state)
{
    (void)state;
    world_t *w = s_world();
    const int32_t users[3] = {0, 2, 1}, slates[6] = {0, 1, 2, 3, 4, 5};
    proto_act_t act = s_act(users, slates);
    server_act_verdict_t v;
    assert_int_equal(server_act_accept(w, 0, &act, &v), ERR_EACTION);
    assert_int_equal(v.refused, 3);
    assert_int_equal(v.first_row, -1);
    assert_string_equal(v.why, "ACT.user_ids do not echo the STEP's requests in order");
    s_expect_no_slates(w);
    world_destroy(&w);
}

static void test_wrong_tick_refuses_the_whole_act(void **state)
{
    (void)state;
    world_t *w = s_world();
    const int32_t slates[6] = {0, 1, 2, 3, 4, 5};
    proto_act_t act = s_act(s_users, slates);
    act.tick = 1;
    server_act_verdict_t v;
    assert_int_equal(server_act_accept(w, 0, &act, &v), ERR_ESTATE);
    assert_int_equal(v.refused, 3);
    assert_string_equal(v.why, "ACT names episode 0 tick 1, the STEP was episode 0 tick 0");
    s_expect_no_slates(w);
    act.tick = 0;
    act.episode = 1;
    assert_int_equal(server_act_accept(w, 0, &act, &v), ERR_ESTATE);
    s_expect_no_slates(w);
    world_destroy(&w);
}

static void test_wrong_slate_count_or_length_refuses_the_whole_act(void **state)
{
    (void)state;
    world_t *w = s_world();
    const int32_t slates[9] = {0, 1, 2, 3, 4, 5, 0, 1, 2};
    proto_act_t act = s_act(s_users, slates);
    act.n = 2;
    server_act_verdict_t v;
    assert_int_equal(server_act_accept(w, 0, &act, &v), ERR_ESHAPE);
    assert_int_equal(v.refused, 3);
    assert_string_equal(v.why, "ACT has 2 slates for 3 requests");
    act.n = 3;
    act.slate_size = 3;
    assert_int_equal(server_act_accept(w, 0, &act, &v), ERR_ESHAPE);
    assert_string_equal(v.why, "ACT has slates of 3 items, the slate size is 2");
    s_expect_no_slates(w);
    world_destroy(&w);
}

static void test_unknown_id_refuses_that_slate_only(void **state)
{
    (void)state;
    world_t *w = s_world();
    const int32_t slates[6] = {0, 1, 2, 6, -1, 3}; /* ids 0..5 exist */
    proto_act_t act = s_act(s_users, slates);
    server_act_verdict_t v;
    assert_int_equal(server_act_accept(w, 0, &act, &v), ERR_EITEM);
    assert_int_equal(v.refused, 2);
    assert_int_equal(v.first_row, 1);
    assert_string_equal(v.why, "slate 1 (user 1) holds an id that is out of range or retired");
    assert_true(world_has_slate(w, 0, 0));
    assert_false(world_has_slate(w, 0, 1));
    assert_false(world_has_slate(w, 0, 2));
    world_destroy(&w);
}

static void test_duplicate_id_refuses_that_slate_only(void **state)
{
    (void)state;
    world_t *w = s_world();
    const int32_t slates[6] = {4, 4, 2, 3, 0, 1};
    proto_act_t act = s_act(s_users, slates);
    server_act_verdict_t v;
    assert_int_equal(server_act_accept(w, 0, &act, &v), ERR_EDUP);
    assert_int_equal(v.refused, 1);
    assert_int_equal(v.first_row, 0);
    assert_string_equal(v.why, "slate 0 (user 0) repeats an item");
    assert_false(world_has_slate(w, 0, 0));
    assert_true(world_has_slate(w, 0, 1));
    assert_true(world_has_slate(w, 0, 2));
    world_destroy(&w);
}

static void test_retired_id_refuses_that_slate_only(void **state)
{
    (void)state;
    world_t *w = s_world();
    const int32_t first[6] = {0, 1, 0, 1, 0, 1};
    proto_act_t act = s_act(s_users, first);
    server_act_verdict_t v;
    assert_int_equal(server_act_accept(w, 0, &act, &v), 0);
    world_tick_stats_t st;
    assert_int_equal(world_end_tick(w, &st), 0);
    assert_int_equal(world_begin_tick(w), 0);
    int n_retired, n_live;
    const int32_t *retired = world_retired(w, &n_retired);
    const int32_t *live = world_live_items(w, &n_live);
    assert_true(n_retired > 0); /* lifetime 1: P(an item lives 1 tick) = 1 - 1/e */
    assert_true(n_live >= 2);
    int32_t dead = retired[0];
    const int32_t slates[6] = {live[0], live[1], live[1], dead, live[1], live[0]};
    act = s_act(s_users, slates);
    act.tick = 1;
    assert_int_equal(world_requests(w, 0)->n, 3);
    assert_int_equal(server_act_accept(w, 0, &act, &v), ERR_EITEM);
    assert_int_equal(v.refused, 1);
    assert_int_equal(v.first_row, 1);
    assert_false(world_has_slate(w, 0, 1));
    assert_true(world_has_slate(w, 0, 2));
    world_destroy(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_act_sets_every_slate),
        cmocka_unit_test(test_echo_mismatch_refuses_the_whole_act),
        cmocka_unit_test(test_wrong_tick_refuses_the_whole_act),
        cmocka_unit_test(test_wrong_slate_count_or_length_refuses_the_whole_act),
        cmocka_unit_test(test_unknown_id_refuses_that_slate_only),
        cmocka_unit_test(test_duplicate_id_refuses_that_slate_only),
        cmocka_unit_test(test_retired_id_refuses_that_slate_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
