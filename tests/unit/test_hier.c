/* The hierarchical agent's cores without sockets: options held across a
 * user's requests (agents/rl/hier.h) tick by tick, their semi-Markov
 * transitions by hand (return, next state, terminal, broken chains), and
 * the ranker's topic restriction (agents/rl/pg.h): slates only from the
 * planner's topic, the whole catalog when the topic is short. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "proto/protocol.h"
#include "agents/rl/hier.h"
#include "agents/rl/pg.h"
#include "test_support.h"

#define OD 2

typedef struct rows {
    int n;
    float row[8][2 * OD + 3];
} rows_t;

static void s_collect(void *ctx, const float *row)
{
    rows_t *r = ctx;
    assert_true(r->n < 8);
    memcpy(r->row[r->n++], row, sizeof r->row[0]);
}

/* hold 2, gamma 0.5. User 7 starts topic 3 at tick 0 (obs a), clicks
 * (r 1), asks at tick 1 (held), gets r 0.5, asks at tick 2 with obs c:
 * the option ends there with R = 1 + 0.5 * 0.5 = 1.25 and next state c. */
static void test_option_return_by_hand(void **state)
{
    (void)state;
    hier_t *h = hier_new(OD, 2, 0.5f);
    assert_non_null(h);
    rows_t got = {0};
    const float a[OD] = {1, 2}, b[OD] = {3, 4}, c[OD] = {5, 6};
    const int32_t user[] = {7};
    const uint8_t go_on[] = {0}, end[] = {1};
    assert_int_equal(hier_current(h, 0, 7, a, s_collect, &got), -1); /* nothing held */
    assert_int_equal(hier_start(h, 0, 7, a, 3), 0);
    hier_feedback(h, 1, 1, user, (const float[]){1.0f}, go_on, s_collect, &got);
    assert_int_equal(hier_current(h, 1, 7, b, s_collect, &got), 3);
    hier_feedback(h, 2, 1, user, (const float[]){0.5f}, go_on, s_collect, &got);
    assert_int_equal(got.n, 0);
    assert_int_equal(hier_current(h, 2, 7, c, s_collect, &got), -1); /* ran its 2 requests */
    assert_int_equal(got.n, 1);
    const float want[] = {1, 2, 3, 1.25f, 5, 6, 0};
    for (int i = 0; i < 2 * OD + 3; i++)
        ASSERT_NEAR(got.row[0][i], want[i], 1e-6);
    /* a new option, cut short by the session's end after one request:
     * terminal, R = 2, next state zeros */
    assert_int_equal(hier_start(h, 2, 7, c, 1), 0);
    hier_feedback(h, 3, 1, user, (const float[]){2.0f}, end, s_collect, &got);
    assert_int_equal(got.n, 2);
    const float want2[] = {5, 6, 1, 2.0f, 0, 0, 1};
    for (int i = 0; i < 2 * OD + 3; i++)
        ASSERT_NEAR(got.row[1][i], want2[i], 1e-6);
    assert_int_equal(hier_current(h, 3, 7, a, s_collect, &got), -1);
    hier_destroy(&h);
    assert_null(h);
}

/* A chain that breaks is dropped: a request without the previous one's
 * feedback, a tick skipped, or a reset. */
static void test_broken_chains_are_dropped(void **state)
{
    (void)state;
    hier_t *h = hier_new(OD, 3, 0.9f);
    rows_t got = {0};
    const float a[OD] = {1, 1};
    const int32_t user[] = {4};
    const uint8_t go_on[] = {0};
    /* no feedback for tick 0's request */
    hier_start(h, 0, 4, a, 2);
    assert_int_equal(hier_current(h, 1, 4, a, s_collect, &got), -1);
    /* the user skips tick 1 */
    hier_start(h, 0, 4, a, 2);
    hier_feedback(h, 1, 1, user, (const float[]){1.0f}, go_on, s_collect, &got);
    assert_int_equal(hier_current(h, 2, 4, a, s_collect, &got), -1);
    /* feedback for a tick the option did not ask at is ignored */
    hier_start(h, 5, 4, a, 2);
    hier_feedback(h, 9, 1, user, (const float[]){1.0f}, (const uint8_t[]){1}, s_collect, &got);
    /* a reset forgets */
    hier_reset(h);
    assert_int_equal(hier_current(h, 6, 4, a, s_collect, &got), -1);
    assert_int_equal(got.n, 0);
    /* bad users refused; unknown users' feedback ignored */
    assert_int_equal(hier_start(h, 0, -1, a, 0), ERR_ERANGE);
    assert_int_equal(hier_start(h, 0, PROTO_MAX_USERS, a, 0), ERR_ERANGE);
    hier_feedback(h, 1, 1, (const int32_t[]){123456}, (const float[]){1.0f}, go_on, s_collect,
                  &got);
    assert_int_equal(got.n, 0);
    assert_null(hier_new(0, 1, 0.5f));
    assert_null(hier_new(OD, 0, 0.5f));
    assert_null(hier_new(OD, 1, 1.5f));
    hier_destroy(&h);
}

/* hold 1: every request is its own option, the plain one-step
 * transition (s, topic, r, s', 0). */
static void test_hold_one_is_one_step(void **state)
{
    (void)state;
    hier_t *h = hier_new(OD, 1, 0.5f);
    rows_t got = {0};
    const float a[OD] = {1, 0}, b[OD] = {0, 1};
    hier_start(h, 3, 9, a, 4);
    hier_feedback(h, 4, 1, (const int32_t[]){9}, (const float[]){0.25f}, (const uint8_t[]){0},
                  s_collect, &got);
    assert_int_equal(hier_current(h, 4, 9, b, s_collect, &got), -1);
    assert_int_equal(got.n, 1);
    const float want[] = {1, 0, 4, 0.25f, 0, 1, 0};
    for (int i = 0; i < 2 * OD + 3; i++)
        ASSERT_NEAR(got.row[0][i], want[i], 1e-6);
    hier_destroy(&h);
}

/* The ranker's candidates: six items of topics 0, 0, 1, 1, 2, 2; an
 * observation ending with the one-hot of topic 1 draws slates of items
 * 12 and 13 only (k = 2); k = 3 is more than topic 1 holds, so the whole
 * catalog is drawn from. */
static void test_ranker_stays_in_the_topic(void **state)
{
    (void)state;
    static const int32_t ids[] = {10, 11, 12, 13, 14, 15};
    static const int32_t topics[] = {0, 0, 1, 1, 2, 2};
    static const int32_t providers[] = {0, 0, 0, 0, 0, 0};
    static const float emb[] = {1, 0, 0, 1, 1, 1, -1, 0, 0, -1, -1, -1};
    proto_items_t items = {
        .n = 6, .dim = 2, .ids = ids, .topics = topics, .providers = providers, .embeddings = emb};
    const float obs[5] = {0.3f, -0.2f, 0.0f, 1.0f, 0.0f}; /* 2 floats, then topic 1 */
    pcg32_t rng;
    pcg32_seed(&rng, 3, 3);
    for (int k = 2; k <= 3; k++) {
        pg_config_t cfg;
        pg_config_default(&cfg, 5, 2, k);
        cfg.hidden = 8;
        cfg.max_items = 8;
        cfg.temperature = 1.0f;
        cfg.n_topics = 3;
        pg_t *pg = pg_new(&cfg, &rng);
        assert_non_null(pg);
        int outside = 0;
        for (int t = 0; t < 200; t++) {
            int32_t slate[3];
            float beta[3];
            assert_int_equal(pg_act(pg, obs, &items, &rng, slate, beta), 0);
            for (int j = 0; j < k; j++)
                outside += slate[j] != 12 && slate[j] != 13;
        }
        if (k == 2)
            assert_int_equal(outside, 0);
        else
            assert_true(outside >= 200); /* a third item each time, at least */
        /* a logged slate item outside the topic counts for nothing */
        float row[2 * 5 + 2 * 3 + 2] = {0};
        memcpy(row, obs, sizeof obs);
        const float logged[3] = {12.0f, 14.0f, 13.0f};
        for (int j = 0; j < k; j++) {
            row[5 + j] = logged[j];
            row[5 + k + j] = 0.5f;
        }
        float adv = 1.0f;
        double loss = pg_actor_loss(pg, row, 1, &items, &adv, false);
        assert_true(isfinite(loss));
        pg_destroy(&pg);
    }
    pg_config_t cfg;
    pg_config_default(&cfg, 5, 2, 2);
    cfg.n_topics = 6; /* more than the observation */
    assert_null(pg_new(&cfg, &rng));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_option_return_by_hand),
        cmocka_unit_test(test_broken_chains_are_dropped),
        cmocka_unit_test(test_hold_one_is_one_step),
        cmocka_unit_test(test_ranker_stays_in_the_topic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
