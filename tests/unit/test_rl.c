/* The reinforcement-learning cores (agents/rl): exploration schedules,
 * slates and observations by hand, the team reward of a JOINT by hand,
 * the tracker's transitions tick by tick, the replay ring, a tabular Q
 * update and double-Q targets by hand, DQN and MADDPG on tiny problems
 * whose answer is known, and checkpoints that round-trip. */
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

#include "agents/rl/dqn.h"
#include "agents/rl/explore.h"
#include "agents/rl/joint.h"
#include "agents/rl/maddpg.h"
#include "agents/rl/observe.h"
#include "agents/rl/option.h"
#include "agents/rl/qtable.h"
#include "agents/rl/replay.h"
#include "agents/rl/runner.h"
#include "agents/rl/slate.h"
#include "agents/rl/tracker.h"
#include "core/err.h"
#include "test_support.h"

/* ---- exploration ----------------------------------------------------- */

static void test_linear_schedule_and_argmax(void **state)
{
    (void)state;
    ASSERT_NEAR(explore_linear(0, 1.0f, 0.1f, 100), 1.0, 1e-7);
    ASSERT_NEAR(explore_linear(50, 1.0f, 0.1f, 100), 0.55, 1e-6);
    ASSERT_NEAR(explore_linear(100, 1.0f, 0.1f, 100), 0.1, 1e-7);
    ASSERT_NEAR(explore_linear(1000, 1.0f, 0.1f, 100), 0.1, 1e-7);
    ASSERT_NEAR(explore_linear(5, 1.0f, 0.1f, 0), 0.1, 1e-7);

    const float v[] = {0.5f, 2.0f, -1.0f, 2.0f};
    assert_int_equal(explore_argmax(v, 4), 1); /* the lower index on ties */

    pcg32_t rng;
    pcg32_seed(&rng, 3, 4);
    for (int i = 0; i < 100; i++)
        assert_int_equal(explore_egreedy(&rng, v, 4, 0.0f), 1);
    int counts[4] = {0};
    for (int i = 0; i < 40000; i++)
        counts[explore_egreedy(&rng, v, 4, 1.0f)]++;
    for (int a = 0; a < 4; a++) /* uniform: 10000 each, sd ~87 */
        assert_true(abs(counts[a] - 10000) < 500);
}

/* ---- slates and observations ----------------------------------------- */

/* Six items 0..5 of topics 0, 0, 1, 1, 2, 2 with embeddings (i, -i). */
static const int32_t s_ids[] = {0, 1, 2, 3, 4, 5};
static const int32_t s_topics[] = {0, 0, 1, 1, 2, 2};
static const float s_emb[] = {0, 0, 1, -1, 2, -2, 3, -3, 4, -4, 5, -5};

static proto_items_t s_items(void)
{
    return (proto_items_t){.n = 6, .dim = 2, .ids = s_ids, .topics = s_topics, .embeddings = s_emb};
}

static void test_top_k_with_and_without_topic(void **state)
{
    (void)state;
    const int32_t ids[] = {3, 5, 7, 9, 11};
    const int32_t topics[] = {0, 1, 0, 1, 0};
    const float scores[] = {0.5f, 0.9f, 0.5f, 0.1f, 0.7f};
    const proto_items_t items = {.n = 5, .dim = 1, .ids = ids, .topics = topics};
    int32_t slate[5];

    assert_int_equal(slate_top_k(&items, scores, -1, 3, slate), 0);
    assert_int_equal(slate[0], 5);
    assert_int_equal(slate[1], 11);
    assert_int_equal(slate[2], 3); /* ties with 7: the lower row first */

    /* topic 1 has two items (5, 9); the best other item (11) fills up */
    assert_int_equal(slate_top_k(&items, scores, 1, 3, slate), 0);
    assert_int_equal(slate[0], 5);
    assert_int_equal(slate[1], 9);
    assert_int_equal(slate[2], 11);

    /* topic 0 has three: only they, best first */
    assert_int_equal(slate_top_k(&items, scores, 0, 3, slate), 0);
    assert_int_equal(slate[0], 11);
    assert_int_equal(slate[1], 3);
    assert_int_equal(slate[2], 7);

    assert_int_equal(slate_top_k(&items, scores, -1, 5, slate), 0);
    const proto_items_t few = {.n = 2, .dim = 1, .ids = ids, .topics = topics};
    slate[0] = -7;
    assert_int_equal(slate_top_k(&few, scores, -1, 3, slate), -1);
    assert_int_equal(slate[0], -7);
}

static void test_scores_rows_and_means(void **state)
{
    (void)state;
    proto_items_t items = s_items();
    float scores[6];
    const float query[] = {1.0f, 0.5f};
    slate_scores(&items, query, scores);
    for (int i = 0; i < 6; i++) /* i - 0.5 i */
        ASSERT_NEAR(scores[i], 0.5 * i, 1e-6);

    assert_int_equal(slate_item_row(&items, 4), 4);
    assert_int_equal(slate_item_row(&items, 6), -1);
    assert_int_equal(slate_item_row(&items, -1), -1);

    const int32_t slate[] = {1, 5, 42}; /* 42 is not live: skipped */
    float mean[2];
    slate_mean_embedding(&items, slate, 3, mean);
    ASSERT_NEAR(mean[0], 3.0, 1e-6);
    ASSERT_NEAR(mean[1], -3.0, 1e-6);
    const int32_t gone[] = {42, 43};
    slate_mean_embedding(&items, gone, 2, mean);
    ASSERT_NEAR(mean[0], 0.0, 0.0);
    ASSERT_NEAR(mean[1], 0.0, 0.0);

    /* topic 1: mean of (2, -2) and (3, -3) = (2.5, -2.5), unit length;
     * topic 3 has no items */
    float centroids[4 * 2];
    slate_topic_centroids(&items, 4, centroids);
    ASSERT_NEAR(centroids[2], 1.0 / sqrt(2.0), 1e-6);
    ASSERT_NEAR(centroids[3], -1.0 / sqrt(2.0), 1e-6);
    ASSERT_NEAR(centroids[6], 0.0, 0.0);
    ASSERT_NEAR(centroids[7], 0.0, 0.0);
}

static void test_observation_and_state(void **state)
{
    (void)state;
    proto_items_t items = s_items();
    /* history: item 2 (topic 1), none, item 5 (topic 2), 99 (not live) */
    const int32_t history[] = {2, -1, 5, 99};
    const float features[] = {0.5f, -0.5f};
    float out[5];
    assert_int_equal(observe_dim(2, 3), 5);
    observe_vector(features, 2, history, 4, &items, 3, out);
    ASSERT_NEAR(out[0], 0.5, 0.0);
    ASSERT_NEAR(out[1], -0.5, 0.0);
    ASSERT_NEAR(out[2], 0.0, 0.0);
    ASSERT_NEAR(out[3], 0.25, 1e-7);
    ASSERT_NEAR(out[4], 0.25, 1e-7);

    /* centroids (1, 0), (0, 1), (-1, 0): features (0.2, 0.9) are nearest
     * topic 1; the last topic is item 2's, 1: state 1 * 4 + 1 */
    const float centroids[] = {1, 0, 0, 1, -1, 0};
    const float near1[] = {0.2f, 0.9f};
    assert_int_equal(observe_n_states(3), 12);
    assert_int_equal(observe_state(near1, 2, history, 4, &items, 3, centroids), 5);
    const int32_t empty[] = {-1, -1};
    const float near2[] = {-3.0f, 0.1f};
    assert_int_equal(observe_state(near2, 2, empty, 2, &items, 3, centroids), 2 * 4 + 3);
    assert_int_equal(observe_state(near2, 2, empty, 0, &items, 3, centroids), 2 * 4 + 3);
}

/* ---- JOINT: team rewards and other agents' actions -------------------- */

/* Three agents serve users 10, 11, 12 (agent 2 lists them as 12, 10, 11).
 * Clicks: user 10 on item 0 (topic 0, credited to agent 0), user 11 on
 * item 1 (topic 0, agent 1), user 12 on item 4 (topic 2, agent 2). With
 * reward sharing 1 and a bonus b = 3 over 3 topics, every agent's tick
 * reward is mean(own) + b * 2 / 3 = 1 + 2 = 3. */
static const int32_t s_users_a[] = {10, 11, 12};
static const int32_t s_users_c[] = {12, 10, 11};
static const int32_t s_slates_a[] = {0, 2, 1, 3, 4, 5};
static const int32_t s_slates_b[] = {2, 0, 3, 1, 5, 4};
static const int32_t s_slates_c[] = {4, 3, 0, 5, 1, 2};
static const int32_t s_clicked_a[] = {0, -1, -1};
static const int32_t s_clicked_b[] = {-1, 1, -1};
static const int32_t s_clicked_c[] = {0, -1, -1};

static proto_joint_t s_joint(proto_joint_agent_t *agents)
{
    agents[0] = (proto_joint_agent_t){.agent_index = 0,
                                      .n = 3,
                                      .dim = 2,
                                      .slate_size = 2,
                                      .user_ids = s_users_a,
                                      .slates = s_slates_a,
                                      .clicked = s_clicked_a,
                                      .reward = 3.0};
    agents[1] = (proto_joint_agent_t){.agent_index = 1,
                                      .n = 3,
                                      .dim = 2,
                                      .slate_size = 2,
                                      .user_ids = s_users_a,
                                      .slates = s_slates_b,
                                      .clicked = s_clicked_b,
                                      .reward = 3.0};
    agents[2] = (proto_joint_agent_t){.agent_index = 2,
                                      .n = 3,
                                      .dim = 2,
                                      .slate_size = 2,
                                      .user_ids = s_users_c,
                                      .slates = s_slates_c,
                                      .clicked = s_clicked_c,
                                      .reward = 3.0};
    return (proto_joint_t){.episode = 0, .tick = 4, .n_agents = 3, .agents = agents};
}

static void test_team_rewards_by_hand(void **state)
{
    (void)state;
    proto_joint_agent_t agents[3];
    proto_joint_t joint = s_joint(agents);
    proto_items_t items = s_items();
    float r[3];
    /* C = 3 clicks, N = 3, R = 3, B = R - C / N = 2, T = 2 topics clicked
     * (topic 0 twice, topic 2 once): a click on topic 0 earns
     * 1/3 + 2 / (2 * 2), one on topic 2 earns 1/3 + 2 / (2 * 1) */
    for (uint32_t me = 0; me < 3; me++) {
        assert_int_equal(joint_team_rewards(&joint, me, &items, r), 0);
        const int32_t *users = agents[me].user_ids;
        double sum = 0.0;
        for (int i = 0; i < 3; i++) {
            double expected = users[i] == 12 ? 1.0 / 3 + 1.0 : 1.0 / 3 + 0.5;
            ASSERT_NEAR(r[i], expected, 1e-6);
            sum += r[i];
        }
        ASSERT_NEAR(sum, 3.0, 1e-5); /* feed mode: they add up to R */
    }
    assert_int_equal(joint_team_rewards(&joint, 3, &items, r), ERR_EINVAL);

    /* no bonus (R = C / N = 1): each click is worth 1 / N; a page without
     * a click gets 0 */
    const int32_t none[] = {-1, -1, -1};
    agents[2].clicked = none;
    agents[2].reward = 2.0 / 3; /* two clicks left: R = 2 / 3 */
    agents[0].reward = agents[1].reward = 2.0 / 3;
    assert_int_equal(joint_team_rewards(&joint, 0, &items, r), 0);
    ASSERT_NEAR(r[0], 1.0 / 3, 1e-6);
    ASSERT_NEAR(r[1], 1.0 / 3, 1e-6);
    ASSERT_NEAR(r[2], 0.0, 0.0);
}

static void test_other_actions_matched_by_user(void **state)
{
    (void)state;
    proto_joint_agent_t agents[3];
    proto_joint_t joint = s_joint(agents);
    proto_items_t items = s_items();
    float others[3 * 2 * 2]; /* (3 requests, 2 others x dim 2) */
    assert_int_equal(joint_other_actions(&joint, 0, &items, others), 0);
    /* user 10: agent 1's slate {2, 0}: mean (1, -1); agent 2 lists user 10
     * second, slate {0, 5}: mean (2.5, -2.5) */
    ASSERT_NEAR(others[0], 1.0, 1e-6);
    ASSERT_NEAR(others[1], -1.0, 1e-6);
    ASSERT_NEAR(others[2], 2.5, 1e-6);
    ASSERT_NEAR(others[3], -2.5, 1e-6);
    /* user 12: agent 1's {5, 4}: 4.5; agent 2's first row {4, 3}: 3.5 */
    ASSERT_NEAR(others[8], 4.5, 1e-6);
    ASSERT_NEAR(others[10], 3.5, 1e-6);

    /* agent 2's view: agent 0 then agent 1, for its users 12, 10, 11 */
    assert_int_equal(joint_other_actions(&joint, 2, &items, others), 0);
    ASSERT_NEAR(others[0], 4.5, 1e-6); /* agent 0, user 12: {4, 5} */
    ASSERT_NEAR(others[2], 4.5, 1e-6); /* agent 1, user 12: {5, 4} */
    ASSERT_NEAR(others[4], 1.0, 1e-6); /* agent 0, user 10: {0, 2} */

    /* a user another agent did not serve (market mode): zeros */
    const int32_t elsewhere[] = {20, 21, 22};
    agents[1].user_ids = elsewhere;
    assert_int_equal(joint_other_actions(&joint, 0, &items, others), 0);
    ASSERT_NEAR(others[0], 0.0, 0.0);
    ASSERT_NEAR(others[1], 0.0, 0.0);
    ASSERT_NEAR(others[2], 2.5, 1e-6);
}

/* ---- the tracker ----------------------------------------------------- */

#define MAX_ROWS 16

typedef struct sink {
    int n, width;
    float rows[MAX_ROWS][32];
} sink_t;

static void s_sink(void *ctx, const float *row)
{
    sink_t *s = ctx;
    assert_true(s->n < MAX_ROWS);
    memcpy(s->rows[s->n++], row, (size_t)s->width * sizeof *row);
}

static void s_expect_row(const sink_t *s, int i, const float *expected)
{
    for (int j = 0; j < s->width; j++)
        ASSERT_NEAR(s->rows[i][j], expected[j], 0.0);
}

static void test_tracker_chains_a_users_requests(void **state)
{
    (void)state;
    tracker_t *tr = tracker_new(1, 1, 0);
    assert_non_null(tr);
    sink_t s = {.width = tracker_width(tr)};
    assert_int_equal(s.width, 5); /* obs, act, reward, next obs, done */
    const float o0 = 1, a0 = 2, o1 = 3, a1 = 4, o2 = 5, a2 = 6;
    const float r0 = 0.5f, r1 = 1.0f;
    const int32_t user[] = {300};
    const uint8_t going[] = {0}, ended[] = {1};

    /* tick 0: request, then the JOINT's reward */
    assert_int_equal(tracker_request(tr, 0, 300, &o0, &a0, s_sink, &s), 0);
    tracker_outcome(tr, 0, 300, &r0, NULL, s_sink, &s);
    assert_int_equal(s.n, 0);
    /* tick 1: feedback (session goes on), the next request completes it */
    tracker_feedback(tr, 1, 1, user, NULL, going, s_sink, &s);
    assert_int_equal(s.n, 0);
    assert_int_equal(tracker_request(tr, 1, 300, &o1, &a1, s_sink, &s), 0);
    assert_int_equal(s.n, 1);
    s_expect_row(&s, 0, (const float[]){1, 2, 0.5f, 3, 0});
    tracker_outcome(tr, 1, 300, &r1, NULL, s_sink, &s);
    /* tick 2: the session ended: a terminal transition */
    tracker_feedback(tr, 2, 1, user, NULL, ended, s_sink, &s);
    assert_int_equal(s.n, 2);
    s_expect_row(&s, 1, (const float[]){3, 4, 1, 0, 1});

    /* the user comes back at tick 5: nothing to complete; a record with
     * no reward (no JOINT came) is dropped, not guessed */
    assert_int_equal(tracker_request(tr, 5, 300, &o2, &a2, s_sink, &s), 0);
    assert_int_equal(tracker_request(tr, 6, 300, &o0, &a0, s_sink, &s), 0);
    assert_int_equal(s.n, 2);
    /* a gap of one tick breaks the chain too */
    tracker_outcome(tr, 6, 300, &r0, NULL, s_sink, &s);
    assert_int_equal(tracker_request(tr, 8, 300, &o1, &a1, s_sink, &s), 0);
    assert_int_equal(s.n, 2);

    /* own rewards from the feedback instead of the JOINT */
    tracker_reset(tr);
    const float own = 0.25f;
    assert_int_equal(tracker_request(tr, 0, 7, &o0, &a0, s_sink, &s), 0);
    tracker_feedback(tr, 1, 1, (const int32_t[]){7}, &own, ended, s_sink, &s);
    assert_int_equal(s.n, 3);
    s_expect_row(&s, 2, (const float[]){1, 2, 0.25f, 0, 1});

    /* reset forgets everything */
    assert_int_equal(tracker_request(tr, 0, 7, &o0, &a0, s_sink, &s), 0);
    tracker_outcome(tr, 0, 7, &r0, NULL, s_sink, &s);
    tracker_reset(tr);
    assert_int_equal(tracker_request(tr, 1, 7, &o1, &a1, s_sink, &s), 0);
    assert_int_equal(s.n, 3);

    assert_int_equal(tracker_request(tr, 0, -1, &o0, &a0, s_sink, &s), ERR_ERANGE);
    assert_int_equal(tracker_request(tr, 0, PROTO_MAX_USERS, &o0, &a0, s_sink, &s), ERR_ERANGE);
    tracker_destroy(&tr);
    assert_null(tr);
    tracker_destroy(&tr);
}

static void test_tracker_waits_for_the_next_others(void **state)
{
    (void)state;
    /* obs 1, act 1, others 2: row = o a x1 x2 r o' x1' x2' done (9) */
    tracker_t *tr = tracker_new(1, 1, 2);
    sink_t s = {.width = tracker_width(tr)};
    assert_int_equal(s.width, 9);
    const float o0 = 1, a0 = 2, o1 = 3, a1 = 4, r0 = 0.5f, r1 = 0.75f;
    const float x0[] = {10, 11}, x1[] = {12, 13};
    const uint8_t going[] = {0}, ended[] = {1};
    const int32_t user[] = {2};

    assert_int_equal(tracker_request(tr, 0, 2, &o0, &a0, s_sink, &s), 0);
    tracker_outcome(tr, 0, 2, &r0, x0, s_sink, &s);
    tracker_feedback(tr, 1, 1, user, NULL, going, s_sink, &s);
    assert_int_equal(tracker_request(tr, 1, 2, &o1, &a1, s_sink, &s), 0);
    assert_int_equal(s.n, 0); /* held: the others' next actions come with JOINT(1) */
    tracker_outcome(tr, 1, 2, &r1, x1, s_sink, &s);
    assert_int_equal(s.n, 1);
    s_expect_row(&s, 0, (const float[]){1, 2, 10, 11, 0.5f, 3, 12, 13, 0});
    tracker_feedback(tr, 2, 1, user, NULL, ended, s_sink, &s);
    assert_int_equal(s.n, 2);
    s_expect_row(&s, 1, (const float[]){3, 4, 12, 13, 0.75f, 0, 0, 0, 1});
    tracker_destroy(&tr);
}

/* ---- replay ---------------------------------------------------------- */

static void test_replay_ring_and_sampling(void **state)
{
    (void)state;
    replay_t *rb = replay_new(3, 2);
    assert_non_null(rb);
    for (int i = 0; i < 4; i++) {
        const float row[] = {(float)i, (float)(10 * i)};
        assert_int_equal(replay_push(rb, row), 0);
    }
    assert_int_equal(replay_size(rb), 3);
    /* row 0 was overwritten: 1, 2, 3 remain, oldest first */
    for (int i = 0; i < 3; i++) {
        ASSERT_NEAR(replay_row(rb, (size_t)i)[0], i + 1, 0.0);
        ASSERT_NEAR(replay_row(rb, (size_t)i)[1], 10 * (i + 1), 0.0);
    }
    pcg32_t rng;
    pcg32_seed(&rng, 1, 2);
    float out[3000 * 2];
    replay_sample(rb, &rng, 3000, out);
    int counts[4] = {0};
    for (int i = 0; i < 3000; i++) {
        int v = (int)out[2 * i];
        assert_true(v >= 1 && v <= 3);
        ASSERT_NEAR(out[2 * i + 1], 10 * v, 0.0);
        counts[v]++;
    }
    for (int v = 1; v <= 3; v++) /* 1000 each, sd ~26 */
        assert_true(abs(counts[v] - 1000) < 130);
    replay_destroy(&rb);
    assert_null(rb);

    /* storage grows as rows come, past its first allocation */
    rb = replay_new(5000, 1);
    for (int i = 0; i < 4500; i++)
        assert_int_equal(replay_push(rb, (const float[]){(float)i}), 0);
    assert_int_equal(replay_size(rb), 4500);
    for (int i = 0; i < 4500; i += 499)
        ASSERT_NEAR(replay_row(rb, (size_t)i)[0], i, 0.0);
    replay_destroy(&rb);
    assert_null(replay_new(0, 1));
    assert_null(replay_new(1, 0));
}

/* ---- tabular Q ------------------------------------------------------- */

static void test_qtable_update_by_hand(void **state)
{
    (void)state;
    qtable_t *q = qtable_new(3, 2, 0.5f, 0.9f, 0.0f);
    assert_non_null(q);
    float *next = qtable_values(q, 1);
    next[0] = 1.0f;
    next[1] = 3.0f;
    /* target 1 + 0.9 * max(1, 3) = 3.7; Q = 0 + 0.5 * 3.7 */
    ASSERT_NEAR(qtable_update(q, 0, 1, 1.0f, 1, false), 3.7, 1e-6);
    ASSERT_NEAR(qtable_values(q, 0)[1], 1.85, 1e-6);
    /* done: the target is the reward alone: 1.85 + 0.5 (-1 - 1.85) */
    ASSERT_NEAR(qtable_update(q, 0, 1, -1.0f, 1, true), -2.85, 1e-6);
    ASSERT_NEAR(qtable_values(q, 0)[1], 0.425, 1e-6);
    ASSERT_NEAR(qtable_values(q, 0)[0], 0.0, 0.0);

    pcg32_t rng;
    pcg32_seed(&rng, 9, 9);
    assert_int_equal(qtable_act(q, 1, 0.0f, &rng), 1);
    assert_null(qtable_new(0, 2, 0.5f, 0.9f, 0.0f));
    assert_null(qtable_new(2, 2, 0.0f, 0.9f, 0.0f));
    assert_null(qtable_new(2, 2, 0.5f, 1.5f, 0.0f));
    qtable_destroy(&q);
    assert_null(q);
}

/* ---- DQN ------------------------------------------------------------- */

static void test_double_q_targets_by_hand(void **state)
{
    (void)state;
    const float online[] = {5, 1, 0, 2};     /* (2, 2) */
    const float target[] = {10, 20, 30, 40}; /* (2, 2) */
    const float reward[] = {1, 2}, done[] = {0, 0}, ended[] = {0, 1};
    float y[2];
    /* double Q: row 0 picks action 0 by the online net: 1 + 0.5 * 10;
     * row 1 picks action 1: 2 + 0.5 * 40 */
    dqn_targets(online, target, reward, done, 2, 2, 0.5f, true, y);
    ASSERT_NEAR(y[0], 6.0, 1e-6);
    ASSERT_NEAR(y[1], 22.0, 1e-6);
    /* plain max over the target net: 1 + 0.5 * 20 */
    dqn_targets(online, target, reward, done, 2, 2, 0.5f, false, y);
    ASSERT_NEAR(y[0], 11.0, 1e-6);
    ASSERT_NEAR(y[1], 22.0, 1e-6);
    /* a terminal transition is its reward */
    dqn_targets(online, target, reward, ended, 2, 2, 0.5f, true, y);
    ASSERT_NEAR(y[1], 2.0, 0.0);
}

/* A two-state, two-action bandit: obs one-hot of the state, reward 1 for
 * the action equal to the state, every transition terminal. */
static void s_fill_bandit(dqn_t *d)
{
    for (int rep = 0; rep < 16; rep++)
        for (int s = 0; s < 2; s++)
            for (int a = 0; a < 2; a++) {
                const float row[] = {s == 0, s == 1, (float)a, a == s ? 1.0f : 0.0f, 0, 0, 1};
                assert_int_equal(dqn_push(d, row), 0);
            }
}

static void test_dqn_learns_a_tiny_bandit(void **state)
{
    (void)state;
    dqn_config_t cfg;
    dqn_config_default(&cfg, 2, 2);
    cfg.batch = 32;
    cfg.lr = 1e-2f;
    cfg.act_batch = 2;
    assert_int_equal(dqn_row_width(&cfg), 7);
    pcg32_t rng;
    pcg32_seed(&rng, 5, 6);
    dqn_t *d = dqn_new(&cfg, &rng);
    assert_non_null(d);
    float loss = -1.0f;
    assert_int_equal(dqn_train_step(d, &rng, &loss), 0); /* empty buffer */
    s_fill_bandit(d);
    assert_int_equal(dqn_buffer_size(d), 64);
    float first = 0.0f;
    for (int i = 0; i < 400; i++) {
        assert_int_equal(dqn_train_step(d, &rng, &loss), 1);
        if (i == 0)
            first = loss;
    }
    assert_true(loss < first);
    const float obs[] = {1, 0, 0, 1};
    const float *q = dqn_q_values(d, obs, 2);
    ASSERT_NEAR(q[0], 1.0, 0.1);
    ASSERT_NEAR(q[1], 0.0, 0.1);
    ASSERT_NEAR(q[2], 0.0, 0.1);
    ASSERT_NEAR(q[3], 1.0, 0.1);
    dqn_destroy(&d);
    assert_null(d);
}

/* ---- MADDPG ---------------------------------------------------------- */

static maddpg_t *s_maddpg(int obs_dim, int act_dim, int n_others, uint64_t seed)
{
    maddpg_config_t cfg;
    maddpg_config_default(&cfg, obs_dim, act_dim, n_others);
    cfg.batch = 64;
    cfg.act_batch = 16;
    cfg.buffer = 4096;
    pcg32_t rng;
    pcg32_seed(&rng, seed, 1);
    maddpg_t *m = maddpg_new(&cfg, &rng);
    assert_non_null(m);
    return m;
}

static void test_maddpg_shapes(void **state)
{
    (void)state;
    maddpg_config_t cfg;
    maddpg_config_default(&cfg, 26, 16, 2);
    /* the reference sizes */
    assert_int_equal(cfg.hidden, 64);
    assert_int_equal(cfg.batch, 1024);
    ASSERT_NEAR(cfg.gamma, 0.95, 1e-7);
    ASSERT_NEAR(cfg.tau, 0.01, 1e-9);
    ASSERT_NEAR(cfg.clip, 0.5, 0.0);
    assert_int_equal(maddpg_critic_in(&cfg), 26 + 3 * 16);
    assert_int_equal(maddpg_row_width(&cfg), 2 * 26 + 16 + 2 * 32 + 2);
    maddpg_config_default(&cfg, 26, 16, 0);
    assert_int_equal(maddpg_critic_in(&cfg), 26 + 16);

    maddpg_t *m = s_maddpg(3, 2, 1, 1);
    nn_mlp_t *actor = maddpg_actor(m), *critic = maddpg_critic(m);
    assert_int_equal(nn_mlp_in(actor), 3);
    assert_int_equal(nn_mlp_out(actor), 2);
    assert_int_equal(nn_mlp_activation(actor, 2), NN_LINEAR); /* then z / |z| */
    assert_int_equal(nn_mlp_size(actor, 1), 64);
    assert_int_equal(nn_mlp_size(actor, 2), 64);
    assert_int_equal(nn_mlp_in(critic), 3 + 2 + 2);
    assert_int_equal(nn_mlp_out(critic), 1);
    const float obs[] = {0.1f, -0.2f, 0.3f, 1, 1, 1};
    const float *act = maddpg_act(m, obs, 2);
    for (int i = 0; i < 2; i++) /* unit vectors */
        ASSERT_NEAR(act[2 * i] * act[2 * i] + act[2 * i + 1] * act[2 * i + 1], 1.0, 1e-5);
    maddpg_destroy(&m);
    assert_null(m);
    maddpg_destroy(&m);
}

/* actor_hide_from/n: the actor ignores the hidden columns (rows that
 * differ only there get the same action, even after training on them),
 * the critic does not; a range past the observation is refused. */
static void test_maddpg_actor_hide(void **state)
{
    (void)state;
    maddpg_config_t cfg;
    maddpg_config_default(&cfg, 3, 2, 1);
    cfg.batch = 8;
    cfg.act_batch = 4;
    cfg.buffer = 64;
    pcg32_t rng;
    pcg32_seed(&rng, 5, 1);
    cfg.actor_hide_from = 2;
    cfg.actor_hide_n = 2;
    assert_null(maddpg_new(&cfg, &rng));
    cfg.actor_hide_from = -1;
    cfg.actor_hide_n = 1;
    assert_null(maddpg_new(&cfg, &rng));
    cfg.actor_hide_from = 1;
    cfg.actor_hide_n = 2;
    maddpg_t *m = maddpg_new(&cfg, &rng);
    assert_non_null(m);
    assert_int_equal(nn_mlp_in(maddpg_actor(m)), 3);
    assert_int_equal(nn_mlp_in(maddpg_critic(m)), 3 + 2 + 2);
    /* rows 0 and 1 differ in the hidden columns only, row 2 in column 0 */
    const float obs[] = {0.5f, 0.0f, 0.0f, 0.5f, 3.0f, -2.0f, -0.5f, 0.0f, 0.0f};
    /* transitions whose reward is the hidden column 1, so a critic that sees it learns it */
    float row[14];
    for (int i = 0; i < 64; i++) {
        for (int j = 0; j < 14; j++)
            row[j] = (float)pcg32_normal(&rng);
        row[7] = row[1]; /* reward */
        row[13] = 1.0f;  /* done */
        assert_int_equal(maddpg_push(m, row), 0);
    }
    for (int step = 0; step < 5; step++) {
        assert_int_equal(maddpg_train_step(m, &rng, NULL), 1);
        const float *act = maddpg_act(m, obs, 3);
        ASSERT_NEAR(act[0], act[2], 0.0);
        ASSERT_NEAR(act[1], act[3], 0.0);
        assert_true(act[0] != act[4] || act[1] != act[5]);
    }
    maddpg_destroy(&m);
}

/* Transitions of a one-step problem (gamma 0, done 1) with a random
 * observation, a random own action a (a unit vector of 2 dimensions) and
 * the other agent's action x = (+-0.5, 0), rewarded r = f(a, x). */
static void s_fill_maddpg(maddpg_t *m, int n_others, float (*f)(const float *, const float *),
                          pcg32_t *rng)
{
    for (int i = 0; i < 1024; i++) {
        float angle = 6.2831853f * pcg32_uniform_f(rng);
        float a[2] = {cosf(angle), sinf(angle)};
        float x[2] = {pcg32_uniform_f(rng) < 0.5f ? -0.5f : 0.5f, 0.0f};
        float row[12];
        int j = 0;
        row[j++] = 2.0f * pcg32_uniform_f(rng) - 1.0f; /* obs */
        row[j++] = a[0];
        row[j++] = a[1];
        for (int k = 0; k < 2 * n_others; k++)
            row[j++] = x[k];
        row[j++] = f(a, x);
        row[j++] = 0.0f; /* next obs */
        for (int k = 0; k < 2 * n_others; k++)
            row[j++] = 0.0f;
        row[j++] = 1.0f;                       /* done */
        assert_int_equal(j, 6 + 4 * n_others); /* maddpg_row_width */
        assert_int_equal(maddpg_push(m, row), 0);
    }
}

static float s_reward_first(const float *a, const float *x)
{
    (void)x;
    return a[0];
}

static float s_reward_product(const float *a, const float *x)
{
    return a[0] * x[0];
}

/* Q(o, a) = a_0: the critic's gradient points along (1, 0) everywhere, so
 * the actor's unit action must turn toward (1, 0). */
static void test_actor_climbs_the_critic(void **state)
{
    (void)state;
    maddpg_t *m = s_maddpg(1, 2, 0, 3);
    pcg32_t rng;
    pcg32_seed(&rng, 4, 4);
    assert_int_equal(maddpg_train_step(m, &rng, NULL), 0);
    s_fill_maddpg(m, 0, s_reward_first, &rng);
    const float obs[] = {-0.9f, -0.3f, 0.3f, 0.9f};
    const float *act = maddpg_act(m, obs, 4);
    for (int i = 0; i < 4; i++) /* unit vectors */
        ASSERT_NEAR(act[2 * i] * act[2 * i] + act[2 * i + 1] * act[2 * i + 1], 1.0, 1e-5);
    maddpg_stats_t st = {0};
    for (int i = 0; i < 300; i++)
        assert_int_equal(maddpg_train_step(m, &rng, &st), 1);
    act = maddpg_act(m, obs, 4);
    for (int i = 0; i < 4; i++)
        assert_true(act[2 * i] > 0.99f);
    assert_true(st.critic_loss < 0.05f); /* Q(o, a) = a_0 is easy to fit */
    assert_true(st.mean_q > 0.9f);
    maddpg_destroy(&m);
}

/* r = a_0 x_0 with x_0 = +-0.5: only a critic that sees the other agent's
 * action can tell the two cases apart. */
static void test_centralized_critic_sees_the_other_action(void **state)
{
    (void)state;
    for (int n_others = 0; n_others <= 1; n_others++) {
        maddpg_t *m = s_maddpg(1, 2, n_others, 7);
        pcg32_t rng;
        pcg32_seed(&rng, 8, 8);
        s_fill_maddpg(m, n_others, s_reward_product, &rng);
        for (int i = 0; i < 300; i++)
            assert_int_equal(maddpg_train_step(m, &rng, NULL), 1);
        /* Q(o = 0, a = (1, 0), x = (+-0.5, 0)) */
        const float plus[] = {0.0f, 1.0f, 0.0f, 0.5f, 0.0f};
        const float minus[] = {0.0f, 1.0f, 0.0f, -0.5f, 0.0f};
        nn_mlp_t *critic = maddpg_critic(m);
        float q_plus = nn_mlp_forward(critic, plus, 1)[0];
        float q_minus = nn_mlp_forward(critic, minus, 1)[0];
        if (n_others) {
            ASSERT_NEAR(q_plus, 0.5, 0.15);
            ASSERT_NEAR(q_minus, -0.5, 0.15);
        } else {
            /* the local critic sees (o, a) only: E[a_0 x_0 | a] = 0 */
            ASSERT_NEAR(q_plus, 0.0, 0.15);
        }
        maddpg_destroy(&m);
    }
}

/* ---- checkpoints ----------------------------------------------------- */

static void test_checkpoints_round_trip(void **state)
{
    (void)state;
    char dir[] = "/tmp/recarena-test-rl-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char actor[256], critic[256], qfile[256];
    rl_runner_t run;
    rl_runner_init(&run, "test", NULL, NULL);
    strcpy(run.name, "ag"); /* as rl_runner_setup copies it from WELCOME */
    assert_int_equal(rl_runner_checkpoint_path(&run, dir, "actor", actor, sizeof actor), 0);
    assert_int_equal(rl_runner_checkpoint_path(&run, dir, "critic", critic, sizeof critic), 0);
    assert_int_equal(rl_runner_checkpoint_path(&run, dir, "q", qfile, sizeof qfile), 0);
    assert_int_equal(strcmp(qfile + strlen(dir), "/ag-q.bin"), 0);
    char tiny[8];
    assert_int_equal(rl_runner_checkpoint_path(&run, dir, "q", tiny, sizeof tiny), -1);

    maddpg_t *a = s_maddpg(3, 2, 1, 11), *b = s_maddpg(3, 2, 1, 12);
    const float obs[] = {0.1f, 0.2f, 0.3f};
    float act_a[2];
    memcpy(act_a, maddpg_act(a, obs, 1), sizeof act_a);
    char err[256] = "";
    assert_int_equal(maddpg_save(a, actor, critic, err, sizeof err), 0);
    assert_true(maddpg_act(b, obs, 1)[0] != act_a[0]);
    assert_int_equal(maddpg_load(b, actor, critic, err, sizeof err), 0);
    ASSERT_NEAR(maddpg_act(b, obs, 1)[0], act_a[0], 0.0);
    ASSERT_NEAR(maddpg_act(b, obs, 1)[1], act_a[1], 0.0);
    /* another shape is refused, with the path named */
    maddpg_t *c = s_maddpg(4, 2, 1, 13);
    assert_int_equal(maddpg_load(c, actor, critic, err, sizeof err), ERR_EIO);
    assert_non_null(strstr(err, actor));

    dqn_config_t cfg;
    dqn_config_default(&cfg, 3, 4);
    cfg.act_batch = 1;
    pcg32_t rng;
    pcg32_seed(&rng, 1, 1);
    dqn_t *d1 = dqn_new(&cfg, &rng), *d2 = dqn_new(&cfg, &rng);
    float q1[4];
    memcpy(q1, dqn_q_values(d1, obs, 1), sizeof q1);
    assert_int_equal(dqn_save(d1, qfile, err, sizeof err), 0);
    assert_int_equal(dqn_load(d2, qfile, err, sizeof err), 0);
    const float *q2 = dqn_q_values(d2, obs, 1);
    for (int i = 0; i < 4; i++)
        ASSERT_NEAR(q2[i], q1[i], 0.0);
    assert_int_equal(dqn_load(d2, actor, err, sizeof err), ERR_EIO);

    maddpg_destroy(&a);
    maddpg_destroy(&b);
    maddpg_destroy(&c);
    dqn_destroy(&d1);
    dqn_destroy(&d2);
    unlink(actor);
    unlink(critic);
    unlink(qfile);
    rmdir(dir);
}

static void test_option_values(void **state)
{
    (void)state;
    float f = 0.0f;
    size_t z = 0;
    assert_int_equal(option_float("0.25", 0.0, 1.0, &f), 0);
    ASSERT_NEAR(f, 0.25, 0.0);
    assert_int_equal(option_float("1.5", 0.0, 1.0, &f), ERR_ERANGE);
    assert_int_equal(option_float("nan", 0.0, 1.0, &f), ERR_ERANGE);
    assert_int_equal(option_float("0.5x", 0.0, 1.0, &f), ERR_ESYNTAX);
    ASSERT_NEAR(f, 0.25, 0.0); /* untouched on error */
    assert_int_equal(option_size("100000", 1, 1000000, &z), 0);
    assert_int_equal(z, 100000);
    assert_int_equal(option_size("0", 1, 10, &z), ERR_ERANGE);
    assert_int_equal(option_size("11", 1, 10, &z), ERR_ERANGE);
    assert_int_equal(option_size("-1", 0, 10, &z), ERR_ESYNTAX);
    assert_int_equal(z, 100000);

    /* the options every RL agent takes */
    rl_runner_t run;
    rl_runner_init(&run, "test", NULL, NULL);
    int rc = 1;
    assert_int_equal(run.reward, RL_REWARD_SERVER);
    assert_true(rl_runner_option(&run, "reward", "own", &rc));
    assert_int_equal(rc, 0);
    assert_int_equal(run.reward, RL_REWARD_CLICKS);
    assert_true(rl_runner_option(&run, "reward", "team", &rc));
    assert_int_equal(run.reward, RL_REWARD_TEAM);
    assert_true(rl_runner_option(&run, "reward", "clicks", &rc));
    assert_int_equal(run.reward, RL_REWARD_CLICKS);
    assert_true(rl_runner_option(&run, "reward", "server", &rc));
    assert_int_equal(run.reward, RL_REWARD_SERVER);
    assert_true(rl_runner_option(&run, "reward", "mine", &rc));
    assert_int_equal(rc, ERR_ESYNTAX);
    assert_int_equal(run.reward, RL_REWARD_SERVER);
    assert_true(rl_runner_option(&run, "train-every", "12", &rc));
    assert_int_equal(rc, 0);
    assert_int_equal(run.train_every, 12);
    assert_true(rl_runner_option(&run, "train-every", "0", &rc));
    assert_int_equal(rc, ERR_ERANGE);
    assert_int_equal(run.train_every, 12);
    assert_true(rl_runner_option(&run, "save", "ckpt", &rc));
    assert_string_equal(run.save_dir, "ckpt");
    assert_true(rl_runner_option(&run, "load", "", &rc));
    assert_null(run.load_dir);
    assert_false(rl_runner_option(&run, "gamma", "0.5", &rc));

    /* the training cadence: one step per train_every new transitions */
    run.new_transitions = 25;
    assert_true(rl_runner_train_due(&run));
    assert_true(rl_runner_train_due(&run));
    assert_false(rl_runner_train_due(&run));
    assert_int_equal(run.new_transitions, 1);
}

int main(void)
{
    nn_blas_set_threads(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linear_schedule_and_argmax),
        cmocka_unit_test(test_top_k_with_and_without_topic),
        cmocka_unit_test(test_scores_rows_and_means),
        cmocka_unit_test(test_observation_and_state),
        cmocka_unit_test(test_team_rewards_by_hand),
        cmocka_unit_test(test_other_actions_matched_by_user),
        cmocka_unit_test(test_tracker_chains_a_users_requests),
        cmocka_unit_test(test_tracker_waits_for_the_next_others),
        cmocka_unit_test(test_replay_ring_and_sampling),
        cmocka_unit_test(test_qtable_update_by_hand),
        cmocka_unit_test(test_double_q_targets_by_hand),
        cmocka_unit_test(test_dqn_learns_a_tiny_bandit),
        cmocka_unit_test(test_maddpg_shapes),
        cmocka_unit_test(test_maddpg_actor_hide),
        cmocka_unit_test(test_actor_climbs_the_critic),
        cmocka_unit_test(test_centralized_critic_sees_the_other_action),
        cmocka_unit_test(test_checkpoints_round_trip),
        cmocka_unit_test(test_option_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
