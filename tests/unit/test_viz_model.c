/* The viewer's data model (viz/model.h) and run-folder reader
 * (viz/rundir.h): shares, moving averages, Lorenz curve and Gini against
 * hand-computed values, mode inference, new runs, missing values, decoded
 * telemetry messages, the memory bound, and run folders good and bad. */
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

#include "viz/model.h"
#include "viz/rundir.h"
#include "test_support.h"

#define TOLERANCE 1e-6 /* series are floats */

static const char *const s_names[] = {"alpha", "beta", "gamma"};

/* Appends a tick of n agents (names alpha, beta, ...). */
static int s_add(viz_model_t *m, uint32_t episode, uint32_t tick, uint32_t requests, uint32_t n,
                 const int32_t *agent_requests, const int32_t *agent_clicks, const double *reward)
{
    double regret[3] = {0};
    proto_telemetry_tick_t t = {.episode = episode,
                                .tick = tick,
                                .requests = requests,
                                .gini = 0.5,
                                .coverage = 0.25,
                                .n_agents = n,
                                .agents = s_names,
                                .agent_requests = agent_requests,
                                .agent_clicks = agent_clicks,
                                .agent_reward = reward,
                                .agent_regret = regret};
    return viz_model_add_tick(m, &t);
}

/* A tick of two agents with regret, active users and welfare. */
static int s_add_full(viz_model_t *m, uint32_t episode, uint32_t tick, const int32_t *requests,
                      const int32_t *clicks, const double *reward, const double *regret,
                      uint32_t active_users, double welfare)
{
    proto_telemetry_tick_t t = {.episode = episode,
                                .tick = tick,
                                .active_users = active_users,
                                .requests = (uint32_t)(requests[0] + requests[1]),
                                .clicks = (uint32_t)(clicks[0] + clicks[1]),
                                .welfare = welfare,
                                .gini = 0.1 * (tick + 1),
                                .coverage = 0.5,
                                .n_agents = 2,
                                .agents = s_names,
                                .agent_requests = requests,
                                .agent_clicks = clicks,
                                .agent_reward = reward,
                                .agent_regret = regret};
    return viz_model_add_tick(m, &t);
}

static float s_at(const float *series, const viz_model_t *m, size_t point, uint32_t agent)
{
    return series[point * m->n_agents + agent];
}

static void test_shares_and_average_hand_computed(void **state)
{
    (void)state;
    viz_model_t m;
    viz_model_init(&m);
    const char *algorithms[] = {"random", "popularity"};
    assert_int_equal(viz_model_describe(&m, "hand", VIZ_MODE_MARKET, 2, 3, 2, s_names, algorithms),
                     0);
    /* tick 0: requests 1 and 3 -> share 1/4, 3/4; running the same */
    assert_int_equal(s_add(&m, 0, 0, 4, 2, (int32_t[]){1, 3}, (int32_t[]){1, 0}, (double[]){1, 0}),
                     0);
    /* tick 1: 3 and 1 -> 3/4, 1/4; running (1+3)/8, (3+1)/8 = 1/2 each */
    assert_int_equal(s_add(&m, 0, 1, 4, 2, (int32_t[]){3, 1}, (int32_t[]){0, 1}, (double[]){0, 1}),
                     0);
    /* tick 2: no requests: no share this tick, running unchanged */
    assert_int_equal(s_add(&m, 0, 2, 0, 2, (int32_t[]){0, 0}, (int32_t[]){0, 0}, (double[]){3, 2}),
                     0);
    ASSERT_NEAR(s_at(m.share, &m, 0, 0), 0.25, TOLERANCE);
    ASSERT_NEAR(s_at(m.share, &m, 0, 1), 0.75, TOLERANCE);
    ASSERT_NEAR(s_at(m.share, &m, 1, 0), 0.75, TOLERANCE);
    ASSERT_NEAR(s_at(m.share_running, &m, 1, 0), 0.5, TOLERANCE);
    ASSERT_NEAR(s_at(m.share_running, &m, 1, 1), 0.5, TOLERANCE);
    assert_true(isnan(s_at(m.share, &m, 2, 0)));
    ASSERT_NEAR(s_at(m.share_running, &m, 2, 0), 0.5, TOLERANCE);
    /* moving average of rewards 1, 0, 3 = 4/3; of 0, 1, 2 = 1 */
    ASSERT_NEAR(s_at(m.reward_average, &m, 0, 0), 1.0, TOLERANCE);
    ASSERT_NEAR(s_at(m.reward_average, &m, 1, 0), 0.5, TOLERANCE);
    ASSERT_NEAR(s_at(m.reward_average, &m, 2, 0), 4.0 / 3.0, TOLERANCE);
    ASSERT_NEAR(s_at(m.reward_average, &m, 2, 1), 1.0, TOLERANCE);
    ASSERT_NEAR(s_at(m.reward, &m, 2, 0), 3.0, TOLERANCE);
    /* a new episode: running sums and the average start again; with 3
     * ticks per episode, episode 1 tick 0 sits at x = 3 */
    assert_int_equal(s_add(&m, 1, 0, 4, 2, (int32_t[]){2, 2}, (int32_t[]){1, 1}, (double[]){7, 5}),
                     0);
    ASSERT_NEAR(s_at(m.share_running, &m, 3, 0), 0.5, TOLERANCE);
    ASSERT_NEAR(s_at(m.reward_average, &m, 3, 0), 7.0, TOLERANCE);
    assert_int_equal(m.episode_start, 3);
    ASSERT_NEAR(m.points[3].x_all, 3.0, 0);
    ASSERT_NEAR(m.points[3].gini, 0.5, TOLERANCE);
    ASSERT_NEAR(m.points[3].coverage, 0.25, TOLERANCE);
    assert_int_equal(viz_model_first_point(&m, true), 0);
    assert_int_equal(viz_model_first_point(&m, false), 3);
    assert_string_equal(m.algorithms[1], "popularity");
    assert_int_equal(m.ticks_received, 4);
    viz_model_fini(&m);
}

/* Click rate and regret per request, per tick and episode so far, and the
 * learning curve's rows, against hand-computed values. */
static void test_rates_and_episodes_hand_computed(void **state)
{
    (void)state;
    viz_model_t m;
    viz_model_init(&m);
    assert_int_equal(viz_model_describe(&m, "hand", VIZ_MODE_MARKET, 2, 2, 2, s_names, NULL), 0);
    assert_false(m.oracle_off);
    /* episode 0, tick 0: alpha 4 requests 1 click regret 2, beta 6 / 3 / 0.6 */
    assert_int_equal(s_add_full(&m, 0, 0, (int32_t[]){4, 6}, (int32_t[]){1, 3}, (double[]){1, 3},
                                (double[]){2, 0.6}, 10, 5),
                     0);
    /* tick 1: alpha 6 / 5 / 1, beta 0 requests */
    assert_int_equal(s_add_full(&m, 0, 1, (int32_t[]){6, 0}, (int32_t[]){5, 0}, (double[]){5, 0},
                                (double[]){1, 0}, 12, 7),
                     0);
    ASSERT_NEAR(s_at(m.click_rate, &m, 0, 0), 0.25, TOLERANCE);
    ASSERT_NEAR(s_at(m.click_rate, &m, 0, 1), 0.5, TOLERANCE);
    ASSERT_NEAR(s_at(m.regret_rate, &m, 0, 0), 0.5, TOLERANCE);
    ASSERT_NEAR(s_at(m.regret_rate, &m, 0, 1), 0.1, TOLERANCE);
    assert_true(isnan(s_at(m.click_rate, &m, 1, 1))); /* no requests: no rate */
    /* alpha so far: 6 clicks of 10 requests, regret 3 over 10 */
    ASSERT_NEAR(s_at(m.click_rate_running, &m, 1, 0), 0.6, TOLERANCE);
    ASSERT_NEAR(s_at(m.regret_rate_running, &m, 1, 0), 0.3, TOLERANCE);
    ASSERT_NEAR(s_at(m.click_rate_running, &m, 1, 1), 0.5, TOLERANCE);
    ASSERT_NEAR(m.points[1].active_users, 12, 0);
    ASSERT_NEAR(m.points[1].welfare, 7, TOLERANCE);
    assert_true(m.has_regret);
    /* the episode's row: 9 clicks of 16 requests, welfare 12 / 16, mean
     * active users 11; shares of requests 10/16 and 6/16; rewards 6, 3 */
    assert_int_equal(m.n_episodes, 1);
    assert_int_equal(m.episode[0].ticks, 2);
    ASSERT_NEAR(m.episode[0].click_rate, 9.0 / 16, TOLERANCE);
    ASSERT_NEAR(m.episode[0].welfare_per_request, 0.75, TOLERANCE);
    ASSERT_NEAR(m.episode[0].mean_active_users, 11, TOLERANCE);
    ASSERT_NEAR(m.episode[0].gini, 0.2, TOLERANCE);
    ASSERT_NEAR(m.episode_click_rate[0], 0.6, TOLERANCE);
    ASSERT_NEAR(m.episode_click_rate[1], 0.5, TOLERANCE);
    ASSERT_NEAR(m.episode_regret[0], 0.3, TOLERANCE);
    ASSERT_NEAR(m.episode_regret[1], 0.1, TOLERANCE);
    ASSERT_NEAR(m.episode_share[0], 10.0 / 16, TOLERANCE);
    ASSERT_NEAR(m.episode_reward[0], 6, TOLERANCE);
    ASSERT_NEAR(m.episode_reward[1], 3, TOLERANCE);
    /* episode 1 starts a second row; the sums start again */
    assert_int_equal(s_add_full(&m, 1, 0, (int32_t[]){2, 2}, (int32_t[]){2, 0}, (double[]){2, 0},
                                (double[]){0, 0}, 4, 1),
                     0);
    assert_int_equal(m.n_episodes, 2);
    assert_int_equal(m.episode[1].episode, 1);
    ASSERT_NEAR(m.episode_click_rate[2], 1.0, TOLERANCE);
    ASSERT_NEAR(m.episode_click_rate[3], 0.0, TOLERANCE);
    ASSERT_NEAR(m.episode_reward[2], 2, TOLERANCE);
    ASSERT_NEAR(m.episode_click_rate[0], 0.6, TOLERANCE); /* the first row stays */
    /* a deep copy has the rows too */
    viz_model_t copy;
    viz_model_init(&copy);
    assert_int_equal(viz_model_copy(&copy, &m), 0);
    assert_int_equal(copy.n_episodes, 2);
    assert_ptr_not_equal(copy.episode_reward, m.episode_reward);
    ASSERT_NEAR(copy.episode_reward[2], 2, TOLERANCE);
    viz_model_fini(&copy);
    /* a run without its oracle: regret all zero */
    viz_model_clear(&m);
    assert_int_equal(s_add_full(&m, 0, 0, (int32_t[]){4, 6}, (int32_t[]){1, 3}, (double[]){1, 3},
                                (double[]){0, 0}, 10, 5),
                     0);
    assert_false(m.has_regret);
    viz_model_fini(&m);
}

static void test_average_window(void **state)
{
    (void)state;
    viz_model_t m;
    viz_model_init(&m);
    /* reward = tick: at tick 24 the last 20 are 5..24, mean 14.5 */
    for (uint32_t t = 0; t < 25; t++)
        assert_int_equal(s_add(&m, 0, t, 1, 1, (int32_t[]){1}, (int32_t[]){0}, (double[]){t}), 0);
    ASSERT_NEAR(s_at(m.reward_average, &m, 24, 0), 14.5, TOLERANCE);
    ASSERT_NEAR(s_at(m.reward_average, &m, 19, 0), 9.5, TOLERANCE); /* 0..19 */
    /* one agent: its share is 1 */
    ASSERT_NEAR(s_at(m.share_running, &m, 24, 0), 1.0, TOLERANCE);
    viz_model_fini(&m);
}

static void test_missing_values(void **state)
{
    (void)state;
    viz_model_t m;
    viz_model_init(&m);
    /* a NaN reward is left out of the average; all NaN: NaN */
    assert_int_equal(
        s_add(&m, 0, 0, 2, 2, (int32_t[]){1, 1}, (int32_t[]){0, 0}, (double[]){NAN, 4}), 0);
    assert_int_equal(
        s_add(&m, 0, 1, 2, 2, (int32_t[]){1, 1}, (int32_t[]){0, 0}, (double[]){2, NAN}), 0);
    assert_true(isnan(s_at(m.reward_average, &m, 0, 0)));
    ASSERT_NEAR(s_at(m.reward_average, &m, 1, 0), 2.0, TOLERANCE);
    ASSERT_NEAR(s_at(m.reward_average, &m, 1, 1), 4.0, TOLERANCE);
    viz_model_fini(&m);
}

static void test_mode_inferred(void **state)
{
    (void)state;
    viz_model_t m;
    viz_model_init(&m);
    /* feed: both agents see all 10 requests, share is of clicks */
    assert_int_equal(
        s_add(&m, 0, 0, 10, 2, (int32_t[]){10, 10}, (int32_t[]){3, 1}, (double[]){3, 1}), 0);
    assert_int_equal(m.mode, VIZ_MODE_FEED);
    assert_false(m.mode_from_scenario);
    ASSERT_NEAR(s_at(m.share, &m, 0, 0), 0.75, TOLERANCE);
    viz_model_fini(&m);
    viz_model_init(&m);
    /* market: the agents' requests add up to the tick's */
    assert_int_equal(s_add(&m, 0, 0, 10, 2, (int32_t[]){4, 6}, (int32_t[]){3, 1}, (double[]){3, 1}),
                     0);
    assert_int_equal(m.mode, VIZ_MODE_MARKET);
    ASSERT_NEAR(s_at(m.share, &m, 0, 0), 0.4, TOLERANCE);
    viz_model_fini(&m);
}

static void test_late_join_and_new_run(void **state)
{
    (void)state;
    viz_model_t m;
    viz_model_init(&m);
    int32_t one[1] = {1}, none[1] = {0};
    /* ticks per episode unknown: episodes back to back from where we joined */
    assert_int_equal(s_add(&m, 0, 5, 1, 1, one, none, (double[]){1}), 0);
    assert_int_equal(s_add(&m, 0, 6, 1, 1, one, none, (double[]){1}), 0);
    assert_int_equal(s_add(&m, 1, 0, 1, 1, one, none, (double[]){1}), 0);
    assert_int_equal(s_add(&m, 1, 2, 1, 1, one, none, (double[]){1}), 0);
    ASSERT_NEAR(m.points[0].x_all, 5, 0);
    ASSERT_NEAR(m.points[1].x_all, 6, 0);
    ASSERT_NEAR(m.points[2].x_all, 7, 0);
    ASSERT_NEAR(m.points[3].x_all, 9, 0);
    /* a tick that does not follow: a new run, the series start again */
    assert_int_equal(s_add(&m, 0, 0, 1, 1, one, none, (double[]){1}), 0);
    assert_int_equal(m.n_points, 1);
    assert_int_equal(m.ticks_received, 1);
    /* other agents: replaced, series cleared */
    assert_int_equal(s_add(&m, 0, 1, 2, 2, (int32_t[]){1, 1}, (int32_t[]){0, 0}, (double[]){1, 1}),
                     0);
    assert_int_equal(m.n_agents, 2);
    assert_int_equal(m.n_points, 1);
    assert_string_equal(m.names[1], "beta");
    /* bad ticks leave the model alone */
    proto_telemetry_tick_t empty = {.n_agents = 0};
    assert_int_equal(viz_model_add_tick(&m, &empty), ERR_EINVAL);
    proto_telemetry_tick_t no_arrays = {.n_agents = 1, .agents = s_names};
    assert_int_equal(viz_model_add_tick(&m, &no_arrays), ERR_EINVAL);
    assert_int_equal(m.n_points, 1);
    viz_model_fini(&m);
}

static void test_exposure_lorenz_and_gini(void **state)
{
    (void)state;
    viz_model_t m;
    viz_model_init(&m);
    /* sorted {0,1,2,3}, total 6: Lorenz 0, 0, 1/6, 3/6, 6/6; Gini with
     * weights 2i - 5 = -3,-1,1,3: (0 - 1 + 2 + 9) / (4 * 6) = 5/12 */
    int64_t items[4] = {3, 0, 2, 1}, topics[2] = {4, 2};
    proto_telemetry_exposure_t e = {
        .episode = 1, .tick = 9, .n_items = 4, .items = items, .n_topics = 2, .topics = topics};
    assert_int_equal(viz_model_set_exposure(&m, &e), 0);
    assert_true(m.has_exposure);
    assert_int_equal(m.n_items, 4);
    const double lorenz[5] = {0, 0, 1.0 / 6, 3.0 / 6, 1};
    for (int i = 0; i < 5; i++)
        ASSERT_NEAR(m.lorenz[i], lorenz[i], 1e-12);
    ASSERT_NEAR(m.exposure_gini, 5.0 / 12.0, 1e-12);
    assert_int_equal(m.exposure_total, 6);
    assert_int_equal(m.topics[0], 4);
    assert_int_equal(m.exposure_episode, 1);
    assert_int_equal(m.exposure_tick, 9);
    /* no exposure yet: Gini 0, the line of equality */
    int64_t zero[2] = {0, 0};
    e = (proto_telemetry_exposure_t){.n_items = 2, .items = zero, .n_topics = 2, .topics = zero};
    assert_int_equal(viz_model_set_exposure(&m, &e), 0);
    ASSERT_NEAR(m.exposure_gini, 0, 0);
    ASSERT_NEAR(m.lorenz[1], 0.5, 1e-12);
    /* no items at all */
    e = (proto_telemetry_exposure_t){.n_items = 0};
    assert_int_equal(viz_model_set_exposure(&m, &e), 0);
    assert_int_equal(m.n_items, 0);
    assert_int_equal(m.exposures_received, 3);
    viz_model_fini(&m);
}

/* Encodes msg and decodes it again, as the subscriber receives it. */
static void s_roundtrip(const proto_msg_t *msg, proto_msg_t *out)
{
    proto_buffer_t buf;
    proto_buffer_init(&buf);
    char err[PROTO_ERR_LEN];
    assert_int_equal(proto_encode(msg, &buf, err, sizeof err), 0);
    assert_int_equal(proto_decode(buf.data, buf.size, NULL, out, err, sizeof err), 0);
    proto_buffer_fini(&buf);
}

static void test_decoded_messages(void **state)
{
    (void)state;
    viz_model_t m;
    viz_model_init(&m);
    assert_int_equal(viz_model_describe(&m, "wire", VIZ_MODE_UNKNOWN, 2, 10, 2, s_names, NULL), 0);
    proto_msg_t decoded;
    proto_msg_init(&decoded);
    proto_msg_t msg = {.type = PROTO_MSG_TELEMETRY_TICK};
    msg.telemetry_tick = (proto_telemetry_tick_t){
        .episode = 1,
        .tick = 4,
        .requests = 8,
        .clicks = 3,
        .gini = 0.25,
        .coverage = 0.75,
        .n_agents = 2,
        .agents = s_names,
        .agent_requests = (int32_t[]){6, 2},
        .agent_clicks = (int32_t[]){2, 1},
        .agent_reward = (double[]){2, 1},
        .agent_regret = (double[]){0, 0},
    };
    s_roundtrip(&msg, &decoded);
    assert_int_equal(viz_model_apply(&m, &decoded), 0);
    assert_int_equal(m.n_points, 1);
    assert_int_equal(m.mode, VIZ_MODE_MARKET);
    ASSERT_NEAR(s_at(m.share, &m, 0, 0), 0.75, TOLERANCE);
    ASSERT_NEAR(m.points[0].x_all, 14, 0); /* episode 1 of 10 ticks, tick 4 */
    ASSERT_NEAR(m.points[0].coverage, 0.75, TOLERANCE);

    msg = (proto_msg_t){.type = PROTO_MSG_TELEMETRY_EXPOSURE};
    msg.telemetry_exposure = (proto_telemetry_exposure_t){.episode = 1,
                                                          .tick = 4,
                                                          .n_items = 3,
                                                          .items = (int64_t[]){0, 0, 5},
                                                          .n_topics = 1,
                                                          .topics = (int64_t[]){5}};
    s_roundtrip(&msg, &decoded);
    assert_int_equal(viz_model_apply(&m, &decoded), 0);
    ASSERT_NEAR(m.exposure_gini, 2.0 / 3.0, 1e-12); /* (n-1)/n: all on one item */

    assert_false(m.run_complete);
    msg = (proto_msg_t){.type = PROTO_MSG_TELEMETRY_EPISODE};
    msg.telemetry_episode = (proto_telemetry_episode_t){
        .episode = 1,
        .ticks = 10,
        .n_agents = 2,
        .agents = s_names,
        .agent_requests = (int64_t[]){6, 2},
        .agent_clicks = (int64_t[]){2, 1},
        .agent_reward = (double[]){2, 1},
        .agent_regret = (double[]){0, 0},
        .agent_share = (double[]){0.75, 0.25},
    };
    s_roundtrip(&msg, &decoded);
    assert_int_equal(viz_model_apply(&m, &decoded), 0);
    assert_true(m.run_complete);
    assert_int_equal(m.episodes_received, 1);
    /* without agent_gini (a 1.0 server), the agents' Gini stays unknown */
    assert_int_equal(m.n_episodes, 1);
    assert_true(isnan(m.episode_gini[0]) && isnan(m.episode_gini[1]));
    msg.telemetry_episode.agent_gini = (double[]){0.125, 0.75};
    s_roundtrip(&msg, &decoded);
    assert_int_equal(viz_model_apply(&m, &decoded), 0);
    ASSERT_NEAR(m.episode_gini[0], 0.125, 0);
    ASSERT_NEAR(m.episode_gini[1], 0.75, 0);
    /* another episode's, or other agents', leave the row alone */
    msg.telemetry_episode.episode = 0;
    msg.telemetry_episode.agent_gini = (double[]){0.5, 0.5};
    s_roundtrip(&msg, &decoded);
    assert_int_equal(viz_model_apply(&m, &decoded), 0);
    msg.telemetry_episode.episode = 1;
    msg.telemetry_episode.agents = (const char *const[]){"alpha", "other"};
    s_roundtrip(&msg, &decoded);
    assert_int_equal(viz_model_apply(&m, &decoded), 0);
    ASSERT_NEAR(m.episode_gini[0], 0.125, 0);
    ASSERT_NEAR(m.episode_gini[1], 0.75, 0);
    /* other message types are not the model's business */
    msg = (proto_msg_t){.type = PROTO_MSG_PING};
    assert_int_equal(viz_model_apply(&m, &msg), 0);
    proto_msg_fini(&decoded);
    viz_model_fini(&m);
}

static void test_copy_is_deep(void **state)
{
    (void)state;
    viz_model_t m, copy;
    viz_model_init(&m);
    viz_model_init(&copy);
    assert_int_equal(s_add(&m, 0, 0, 2, 1, (int32_t[]){2}, (int32_t[]){1}, (double[]){1}), 0);
    int64_t items[2] = {1, 3};
    proto_telemetry_exposure_t e = {.n_items = 2, .items = items, .n_topics = 2, .topics = items};
    assert_int_equal(viz_model_set_exposure(&m, &e), 0);
    assert_int_equal(viz_model_copy(&copy, &m), 0);
    for (uint32_t t = 1; t < 300; t++) /* the original grows and moves */
        assert_int_equal(s_add(&m, 0, t, 2, 1, (int32_t[]){2}, (int32_t[]){1}, (double[]){5}), 0);
    assert_int_equal(copy.n_points, 1);
    ASSERT_NEAR(copy.reward[0], 1, 0);
    assert_int_equal(copy.topics[1], 3);
    /* a copy grows like any model */
    assert_int_equal(s_add(&copy, 0, 1, 2, 1, (int32_t[]){2}, (int32_t[]){1}, (double[]){2}), 0);
    assert_int_equal(copy.n_points, 2);
    viz_model_fini(&copy);
    viz_model_fini(&m);
}

static void test_memory_bound(void **state)
{
    (void)state;
    /* 64 agents: at most VIZ_MAX_VALUES / 64 points; one more drops the
     * older half */
    viz_model_t m;
    viz_model_init(&m);
    static const char *names[PROTO_MAX_AGENTS];
    static char storage[PROTO_MAX_AGENTS][8];
    int32_t requests[PROTO_MAX_AGENTS], clicks[PROTO_MAX_AGENTS] = {0};
    double reward[PROTO_MAX_AGENTS], regret[PROTO_MAX_AGENTS] = {0};
    for (int a = 0; a < PROTO_MAX_AGENTS; a++) {
        snprintf(storage[a], sizeof storage[a], "a%d", a);
        names[a] = storage[a];
        requests[a] = 1;
        reward[a] = a;
    }
    size_t limit = VIZ_MAX_VALUES / PROTO_MAX_AGENTS;
    proto_telemetry_tick_t t = {.requests = PROTO_MAX_AGENTS,
                                .n_agents = PROTO_MAX_AGENTS,
                                .agents = names,
                                .agent_requests = requests,
                                .agent_clicks = clicks,
                                .agent_reward = reward,
                                .agent_regret = regret};
    for (size_t i = 0; i <= limit; i++) {
        t.tick = (uint32_t)i;
        assert_int_equal(viz_model_add_tick(&m, &t), 0);
    }
    assert_int_equal(m.n_points, limit / 2 + 1);
    assert_int_equal(m.points[0].tick, limit / 2);
    assert_int_equal(m.points[m.n_points - 1].tick, limit);
    ASSERT_NEAR(s_at(m.reward, &m, m.n_points - 1, 63), 63, 0);
    assert_int_equal(m.episode_start, 0);
    viz_model_fini(&m);
}

/* ---- run folders ----------------------------------------------------- */

typedef struct s_folder {
    char dir[64];
} s_folder_t;

static void s_write(const s_folder_t *f, const char *name, const char *text)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", f->dir, name);
    FILE *out = fopen(path, "w");
    assert_non_null(out);
    fputs(text, out);
    fclose(out);
}

static const char s_ticks_header[] = "episode,tick,active_users,requests,clicks,ctr,session_ends,"
                                     "returns,items_live,welfare,ild,topics_consumed_share,gini,"
                                     "coverage,entropy\n";

/* A run folder of 2 episodes x 2 ticks, feed mode, agents alpha (a
 * policy) and beta (a process). */
static int s_folder_setup(void **state)
{
    s_folder_t *f = calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/recarena-viz-XXXXXX");
    if (!f || !mkdtemp(f->dir))
        return -1;
    s_write(f, "scenario.ini",
            "[run]\nname = tiny\nepisodes = 2\nticks = 2\n[world]\nmode = feed\nn_users = 10\n"
            "n_items = 6\nn_topics = 3\nslate_size = 2\n[agent.alpha]\npolicy = random\n"
            "[agent.beta]\ncommand = build/agents/recarena-bandit --algo ucb1\n");
    char ticks[1024];
    snprintf(ticks, sizeof ticks,
             "%s0,0,5,5,2,0.4,0,5,6,1,1,1,0.5,0.5,1\n0,1,5,5,3,0.6,0,0,6,1,1,1,0.4,0.75,1\n"
             "1,0,5,4,1,0.25,0,5,6,1,1,1,0.6,0.25,1\n1,1,5,4,2,0.5,0,0,6,1,1,1,0.3,nan,1\n",
             s_ticks_header);
    s_write(f, "ticks.csv", ticks);
    s_write(f, "agents.csv",
            "episode,tick,agent,requests,clicks,reward,regret\n"
            "0,0,alpha,5,1,1,0\n0,0,beta,5,1,1,0\n0,1,alpha,5,3,3,0\n0,1,beta,5,0,0,0\n"
            "1,0,alpha,4,0,0,0\n1,0,beta,4,1,1,0\n1,1,alpha,4,1,nan,0\n1,1,beta,4,1,1,0\n");
    s_write(f, "exposure.csv",
            "episode,item,topic,exposures\n0,0,0,4\n0,1,1,6\n1,0,0,1\n1,1,2,3\n1,2,2,4\n");
    *state = f;
    return 0;
}

static int s_folder_teardown(void **state)
{
    s_folder_t *f = *state;
    const char *files[] = {"scenario.ini", "ticks.csv", "agents.csv", "exposure.csv"};
    char path[128];
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", f->dir, files[i]);
        unlink(path);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static void test_rundir_load(void **state)
{
    s_folder_t *f = *state;
    viz_model_t m;
    viz_model_init(&m);
    char err[1024] = "";
    assert_int_equal(viz_rundir_load(&m, f->dir, VIZ_ALL_EPISODES, err, sizeof err), 0);
    assert_string_equal(m.scenario, "tiny");
    assert_int_equal(m.mode, VIZ_MODE_FEED);
    assert_true(m.mode_from_scenario);
    assert_int_equal(m.episodes, 2);
    assert_int_equal(m.ticks, 2);
    assert_int_equal(m.n_agents, 2);
    assert_string_equal(m.algorithms[0], "random");
    assert_string_equal(m.algorithms[1], "bandit ucb1"); /* "recarena-" and "--algo" dropped */
    assert_false(m.oracle_off);
    assert_int_equal(m.n_points, 4);
    ASSERT_NEAR(m.points[0].active_users, 5, 0);
    ASSERT_NEAR(m.points[0].welfare, 1, TOLERANCE);
    /* alpha at tick (0,1): 3 clicks of 5 requests */
    ASSERT_NEAR(s_at(m.click_rate, &m, 1, 0), 0.6, TOLERANCE);
    assert_int_equal(m.n_episodes, 2);
    /* feed: share of clicks; tick (0,0): 1 and 1; episode 0 so far after
     * tick 1: 4 of 5 */
    ASSERT_NEAR(s_at(m.share, &m, 0, 0), 0.5, TOLERANCE);
    ASSERT_NEAR(s_at(m.share_running, &m, 1, 0), 0.8, TOLERANCE);
    ASSERT_NEAR(m.points[1].coverage, 0.75, TOLERANCE);
    assert_true(isnan(m.points[3].coverage));
    assert_true(isnan(s_at(m.reward, &m, 3, 0)));
    ASSERT_NEAR(m.points[2].x_all, 2, 0);
    /* the exposure of the last episode: {1, 3, 4} by id, topics {1, 0, 7} */
    assert_true(m.has_exposure);
    assert_int_equal(m.exposure_episode, 1);
    assert_int_equal(m.exposure_tick, 1);
    assert_int_equal(m.n_items, 3);
    assert_int_equal(m.n_topics, 3);
    assert_int_equal(m.topics[2], 7);
    assert_int_equal(m.exposure_total, 8);
    /* one episode only */
    assert_int_equal(viz_rundir_load(&m, f->dir, 0, err, sizeof err), 0);
    assert_int_equal(m.n_points, 2);
    assert_int_equal(m.points[1].episode, 0);
    assert_int_equal(m.exposure_episode, 0);
    assert_int_equal(m.topics[1], 6);
    assert_int_equal(viz_rundir_load(&m, f->dir, 5, err, sizeof err), ERR_EINVAL);
    assert_non_null(strstr(err, "no episode 5"));
    assert_int_equal(m.n_points, 0);
    /* world.oracle = false: the regret panels say n/a */
    s_write(f, "scenario.ini",
            "[run]\nname = tiny\nepisodes = 2\nticks = 2\n[world]\nmode = feed\nn_topics = 3\n"
            "oracle = false\n[agent.alpha]\npolicy = random\n[agent.beta]\npolicy = random\n");
    assert_int_equal(viz_rundir_load(&m, f->dir, VIZ_ALL_EPISODES, err, sizeof err), 0);
    assert_true(m.oracle_off);
    assert_false(m.has_regret);
    viz_model_fini(&m);
}

static void test_rundir_without_exposure(void **state)
{
    s_folder_t *f = *state;
    char path[128], err[1024];
    snprintf(path, sizeof path, "%s/exposure.csv", f->dir);
    unlink(path);
    viz_model_t m;
    viz_model_init(&m);
    assert_int_equal(viz_rundir_load(&m, f->dir, VIZ_ALL_EPISODES, err, sizeof err), 0);
    assert_int_equal(m.n_points, 4);
    assert_false(m.has_exposure);
    /* ticks.csv missing: an I/O error naming the file, not a format error */
    snprintf(path, sizeof path, "%s/ticks.csv", f->dir);
    unlink(path);
    assert_int_equal(viz_rundir_load(&m, f->dir, VIZ_ALL_EPISODES, err, sizeof err), ERR_EIO);
    assert_non_null(strstr(err, "ticks.csv"));
    assert_int_equal(m.n_points, 0);
    viz_model_fini(&m);
}

/* Loading fails with an error naming the file and line, and m is empty. */
static void s_expect_error(const s_folder_t *f, const char *file, const char *text,
                           const char *expected)
{
    s_write(f, file, text);
    viz_model_t m;
    viz_model_init(&m);
    char err[1024] = "";
    assert_int_equal(viz_rundir_load(&m, f->dir, VIZ_ALL_EPISODES, err, sizeof err), ERR_EFORMAT);
    if (!strstr(err, expected))
        fail_msg("error '%s' does not say '%s'", err, expected);
    assert_int_equal(m.n_points, 0);
    viz_model_fini(&m);
}

static void test_rundir_errors(void **state)
{
    s_folder_t *f = *state;
    s_expect_error(f, "agents.csv",
                   "episode,tick,agent,requests,clicks,reward,regret\n0,0,alpha,5,1,1,0\n"
                   "0,0,gamma,5,1,1,0\n",
                   "agents.csv:3: expected episode 0 tick 0 agent beta");
    s_expect_error(f, "agents.csv",
                   "episode,tick,agent,requests,clicks,reward,regret\n0,0,alpha,5,1,1,0\n",
                   "agents.csv: ends before episode 0 tick 0");
    s_expect_error(f, "agents.csv", "episode,tick,name\n", "no column 'agent'");
    s_write(f, "agents.csv",
            "episode,tick,agent,requests,clicks,reward,regret\n"
            "0,0,alpha,5,1,1,0\n0,0,beta,5,1,1,0\n");
    s_expect_error(f, "ticks.csv", "episode,tick,requests,clicks,gini,coverage\n0,0,5,2,high,1\n",
                   "ticks.csv:2: expected a number, got 'high'");
    s_expect_error(f, "ticks.csv", "episode,tick,requests,clicks,gini,coverage\n0,-1,5,2,1,1\n",
                   "ticks.csv:2: expected an integer");
    s_expect_error(f, "ticks.csv", "episode,tick,requests,clicks,gini,coverage\n0,0,5\n",
                   "ticks.csv:2: expected 6 fields");
    s_write(f, "ticks.csv", "episode,tick,requests,clicks,gini,coverage\n0,0,5,2,1,1\n");
    s_expect_error(f, "exposure.csv", "episode,item,topic,exposures\n0,0,3,1\n",
                   "exposure.csv:2: expected an integer in [0, 2], got '3'");
    s_expect_error(f, "exposure.csv", "episode,item,topic,exposures\n0,99999999,0,1\n",
                   "exposure.csv:2: expected an integer in [0, 19999999]");
    s_expect_error(f, "summary.json", "{\"episodes\": [", "summary.json:1: ");
    s_expect_error(f, "summary.json",
                   "{\"episodes\": [{\"episode\": 0, \"agents\": [{\"name\": \"alpha\", "
                   "\"gini\": 1.5}, {\"name\": \"beta\", \"gini\": 0.1}]}]}",
                   "summary.json: episodes[0].agents[0].gini: expected a number in [0, 1]");
    s_expect_error(f, "summary.json", "{\"episodes\": [{\"episode\": \"first\"}]}",
                   "summary.json: episodes[0].episode: expected an episode index");
    /* a valid one (and no exposure.csv, the last one above being bad) */
    char path[160];
    snprintf(path, sizeof path, "%s/exposure.csv", f->dir);
    unlink(path);
    s_write(f, "summary.json",
            "{\"episodes\": [{\"episode\": 0, \"agents\": [{\"name\": \"alpha\", "
            "\"gini\": 0.25}, {\"name\": \"beta\", \"gini\": 0}]}]}");
    viz_model_t loaded;
    viz_model_init(&loaded);
    char why[1024] = "";
    assert_int_equal(viz_rundir_load(&loaded, f->dir, VIZ_ALL_EPISODES, why, sizeof why), 0);
    assert_int_equal(loaded.n_episodes, 1);
    ASSERT_NEAR(loaded.episode_gini[0], 0.25, 0);
    ASSERT_NEAR(loaded.episode_gini[1], 0, 0);
    viz_model_fini(&loaded);
    snprintf(path, sizeof path, "%s/summary.json", f->dir);
    unlink(path);
    s_expect_error(f, "scenario.ini", "[run]\nticks = many\n", "scenario.ini");
    viz_model_t m;
    viz_model_init(&m);
    char err[1024];
    assert_int_not_equal(viz_rundir_load(&m, "/nonexistent/run", VIZ_ALL_EPISODES, err, sizeof err),
                         0);
    assert_non_null(strstr(err, "/nonexistent/run/scenario.ini"));
    viz_model_fini(&m);
}

/* tests/data/run, a run folder recarena wrote (its scenario.ini makes it
 * again): the shares at each episode's end and the Gini of its exposure
 * agree with what the run computed itself (summary.json). */
static void test_rundir_matches_summary(void **state)
{
    (void)state;
    const char *dir = RECARENA_SOURCE_DIR "/tests/data/run";
    const double share[2][3] = {{0.365217391, 0.308695652, 0.326086957},
                                {0.249204666, 0.553552492, 0.197242842}};
    const double gini[2] = {0.384704269, 0.604574572};
    viz_model_t m;
    viz_model_init(&m);
    char err[1024] = "";
    for (long e = 0; e < 2; e++) {
        assert_int_equal(viz_rundir_load(&m, dir, e, err, sizeof err), 0);
        assert_int_equal(m.n_points, 20);
        for (uint32_t a = 0; a < 3; a++)
            ASSERT_NEAR(s_at(m.share_running, &m, 19, a), share[e][a], 1e-6);
        ASSERT_NEAR(m.exposure_gini, gini[e], 1e-8);
    }
    assert_int_equal(viz_rundir_load(&m, dir, VIZ_ALL_EPISODES, err, sizeof err), 0);
    assert_int_equal(m.n_points, 40);
    /* the learning curve's rows: summary.json's per-episode figures (its
     * regret is a sum over requests, the row's per request) */
    const double ctr[2][3] = {{0.360119048, 0.538732394, 0.376666667},
                              {0.408510638, 0.46743295, 0.38172043}};
    const double reward[2][3] = {{121, 153, 113}, {96, 244, 71}};
    const double regret[2][3] = {{156.865786 / 336, 95.0867045 / 284, 135.869423 / 300},
                                 {101.556157 / 235, 173.27052 / 522, 89.0477599 / 186}};
    const double welfare_per_request[2] = {0.318218714, 0.333040622};
    const double mean_active_users[2] = {46, 47.15};
    /* each agent's exposure Gini of its own slates: summary.json's alone */
    const double agent_gini[2][3] = {{0.19460532, 0.91809415, 0.154294294},
                                     {0.250337312, 0.92545868, 0.257365154}};
    assert_int_equal(m.n_episodes, 2);
    assert_true(m.has_regret);
    for (int e = 0; e < 2; e++) {
        assert_int_equal(m.episode[e].ticks, 20);
        ASSERT_NEAR(m.episode[e].welfare_per_request, welfare_per_request[e], 1e-6);
        ASSERT_NEAR(m.episode[e].mean_active_users, mean_active_users[e], 1e-5);
        ASSERT_NEAR(m.episode[e].gini, m.points[20 * e + 19].gini, 0);
        for (int a = 0; a < 3; a++) {
            ASSERT_NEAR(m.episode_click_rate[e * 3 + a], ctr[e][a], 1e-6);
            ASSERT_NEAR(m.episode_reward[e * 3 + a], reward[e][a], 1e-6);
            ASSERT_NEAR(m.episode_regret[e * 3 + a], regret[e][a], 1e-6);
            ASSERT_NEAR(m.episode_share[e * 3 + a], share[e][a], 1e-6);
            ASSERT_NEAR(m.episode_gini[e * 3 + a], agent_gini[e][a], 1e-6);
        }
    }
    assert_string_equal(m.scenario, "fixture");
    assert_string_equal(m.names[2], "random2");
    assert_string_equal(m.algorithms[1], "popularity");
    ASSERT_NEAR(s_at(m.share_running, &m, 39, 1), share[1][1], 1e-6);
    ASSERT_NEAR(m.exposure_gini, gini[1], 1e-8);
    viz_model_fini(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shares_and_average_hand_computed),
        cmocka_unit_test(test_rates_and_episodes_hand_computed),
        cmocka_unit_test(test_average_window),
        cmocka_unit_test(test_missing_values),
        cmocka_unit_test(test_mode_inferred),
        cmocka_unit_test(test_late_join_and_new_run),
        cmocka_unit_test(test_exposure_lorenz_and_gini),
        cmocka_unit_test(test_decoded_messages),
        cmocka_unit_test(test_copy_is_deep),
        cmocka_unit_test(test_memory_bound),
        cmocka_unit_test_setup_teardown(test_rundir_load, s_folder_setup, s_folder_teardown),
        cmocka_unit_test_setup_teardown(test_rundir_without_exposure, s_folder_setup,
                                        s_folder_teardown),
        cmocka_unit_test_setup_teardown(test_rundir_errors, s_folder_setup, s_folder_teardown),
        cmocka_unit_test(test_rundir_matches_summary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
