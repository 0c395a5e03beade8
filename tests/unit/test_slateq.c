/* The SlateQ core (agents/rl/slateq.h) without sockets: the conditional-
 * logit choice model and its SGD step by hand, its fit recovering known
 * weights, the decomposed slate value, top-k and greedy slates by hand
 * (and a case where they differ), SARSA targets by hand, and Qbar
 * learning the value of a loop whose answer is r / (1 - gamma). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agents/rl/slateq.h"
#include "test_support.h"

/* dim 2, f = (1, 2), e = (0.5, -1), share 0.5, w = (1, 1, 2, 0.1):
 * u = 1*1*0.5 + 1*2*(-1) + 2*0.5 + 0.1 = -0.4. */
static void test_attractions_and_probabilities_by_hand(void **state)
{
    (void)state;
    assert_int_equal(slateq_choice_width(2), 4);
    const float w[] = {1.0f, 1.0f, 2.0f, 0.1f}, f[] = {1.0f, 2.0f};
    const float desc[] = {0.5f, -1.0f, 0.5f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
    float v[2], p[3];
    slateq_attractions(w, f, 2, desc, 2, v);
    ASSERT_NEAR(v[0], exp(-0.4), 1e-6);
    ASSERT_NEAR(v[1], exp(0.1), 1e-6); /* only the constant */
    slateq_choice_probs(v, 2, p);
    double sum = 1.0 + exp(-0.4) + exp(0.1);
    ASSERT_NEAR(p[0], exp(-0.4) / sum, 1e-6);
    ASSERT_NEAR(p[1], exp(0.1) / sum, 1e-6);
    ASSERT_NEAR(p[2], 1.0 / sum, 1e-6);
    /* Q(s, A) = sum p q + p_none q_none */
    const float q[] = {2.0f, -1.0f};
    ASSERT_NEAR(slateq_slate_value(p, q, 2, 0.5f), (2.0 * exp(-0.4) - exp(0.1) + 0.5) / sum, 1e-6);
}

/* w = 0, k = 2: P = 1/3 each. A click on item 0: nll = ln 3 and
 * w -= lr ((1/3 - 1) phi_0 + 1/3 phi_1), phi = (f * e, share, 1). */
static void test_choice_step_by_hand(void **state)
{
    (void)state;
    float w[4] = {0};
    const float f[] = {1.0f, 2.0f};
    const float desc[] = {0.5f, -1.0f, 0.5f, 0.0f, 1.0f, 1.0f, 0.25f, 0.0f};
    ASSERT_NEAR(slateq_choice_update(w, f, 2, desc, 2, 0, 0.3f), log(3.0), 1e-6);
    /* phi_0 = (0.5, -2, 0.5, 1), phi_1 = (1, 2, 0.25, 1) */
    const double phi0[] = {0.5, -2.0, 0.5, 1.0}, phi1[] = {1.0, 2.0, 0.25, 1.0};
    for (int j = 0; j < 4; j++)
        ASSERT_NEAR(w[j], -0.3 * (-2.0 / 3.0 * phi0[j] + 1.0 / 3.0 * phi1[j]), 1e-6);
    /* no click: only the push away from every item */
    float w2[4] = {0};
    ASSERT_NEAR(slateq_choice_update(w2, f, 2, desc, 2, -1, 0.3f), log(3.0), 1e-6);
    for (int j = 0; j < 4; j++)
        ASSERT_NEAR(w2[j], -0.3 * (phi0[j] + phi1[j]) / 3.0, 1e-6);
}

/* Pages drawn from a known model w* = (1, -1, 0.5, -0.5); 200,000 SGD
 * steps of rate 0.01, the iterates averaged over the last half
 * (Polyak-Ruppert), recover every weight within 0.1. */
static void test_choice_fit_recovers_the_weights(void **state)
{
    (void)state;
    const float truth[] = {1.0f, -1.0f, 0.5f, -0.5f};
    float w[4] = {0};
    double mean[4] = {0};
    pcg32_t rng;
    pcg32_seed(&rng, 21, 1);
    for (int t = 0; t < 200000; t++) {
        float f[2], desc[3 * 4], v[3], p[4];
        for (int j = 0; j < 2; j++)
            f[j] = 2.0f * pcg32_uniform_f(&rng) - 1.0f;
        for (int i = 0; i < 3; i++) {
            desc[i * 4 + 0] = 2.0f * pcg32_uniform_f(&rng) - 1.0f;
            desc[i * 4 + 1] = 2.0f * pcg32_uniform_f(&rng) - 1.0f;
            desc[i * 4 + 2] = pcg32_uniform_f(&rng);
            desc[i * 4 + 3] = 0.0f;
        }
        slateq_attractions(truth, f, 2, desc, 3, v);
        slateq_choice_probs(v, 3, p);
        float u = pcg32_uniform_f(&rng), acc = 0.0f;
        int c = -1;
        for (int i = 0; i < 3 && c < 0; i++) {
            acc += p[i];
            if (u < acc)
                c = i;
        }
        slateq_choice_update(w, f, 2, desc, 3, c, 0.01f);
        for (int j = 0; j < 4 && t >= 100000; j++)
            mean[j] += w[j] / 100000.0;
    }
    for (int j = 0; j < 4; j++) {
        print_message("w[%d] = %.3f (true %.3f)\n", j, mean[j], truth[j]);
        ASSERT_NEAR(mean[j], truth[j], 0.1);
    }
}

/* v = (1, 2, 0.5, 4), q = (1, 0.4, 3, 0.1): v q = (1, 0.8, 1.5, 0.4), so
 * top-2 is (2, 0). Greedy with q_none = 1: first (1 + v q)/(1 + v) =
 * (1, 0.6, 1.667, 0.28) takes 2; then (2.5 + v q)/(1.5 + v) = (1.4,
 * 0.943, -, 0.527) takes 0. */
static void test_top_k_and_greedy_by_hand(void **state)
{
    (void)state;
    const float v[] = {1.0f, 2.0f, 0.5f, 4.0f}, q[] = {1.0f, 0.4f, 3.0f, 0.1f};
    int rows[3];
    slateq_top_k(v, q, 4, 2, rows);
    assert_int_equal(rows[0], 2);
    assert_int_equal(rows[1], 0);
    slateq_top_k(v, q, 4, 3, rows);
    assert_int_equal(rows[2], 1);
    slateq_greedy(v, q, 1.0f, 4, 2, rows);
    assert_int_equal(rows[0], 2);
    assert_int_equal(rows[1], 0);
    /* where they differ, k = 1: v q = (5, 2) puts item 0 first for top-k,
     * but Q({0}) = 5/11 < Q({1}) = 2/2 for greedy */
    const float v2[] = {10.0f, 1.0f}, q2[] = {0.5f, 2.0f};
    slateq_top_k(v2, q2, 2, 1, rows);
    assert_int_equal(rows[0], 0);
    slateq_greedy(v2, q2, 0.0f, 2, 1, rows);
    assert_int_equal(rows[0], 1);
}

#define DIM 2
#define OBS 4 /* features (2), topic shares (2) */
#define K   2

static slateq_t *s_learner(float gamma, int batch)
{
    slateq_config_t cfg;
    slateq_config_default(&cfg, OBS, DIM, K);
    cfg.hidden = 16;
    cfg.batch = batch;
    cfg.max_items = 16;
    cfg.gamma = gamma;
    cfg.lr = 3e-3f;
    cfg.target_every = 50;
    cfg.buffer = 64;
    pcg32_t rng;
    pcg32_seed(&rng, 5, 5);
    slateq_t *sq = slateq_new(&cfg, &rng);
    assert_non_null(sq);
    return sq;
}

/* A target network that outputs the constant 0.75 and w = (0, 0, 0,
 * ln 2): each item's attraction is 2, P = (2/5, 2/5, 1/5), so Q(s', A')
 * = 0.75 and y = r + 0.9 (1 - done) 0.75. */
static void test_sarsa_targets_by_hand(void **state)
{
    (void)state;
    slateq_t *sq = s_learner(0.9f, 2);
    nn_mlp_t *t = slateq_target(sq);
    float *p = nn_mlp_params(t);
    size_t n = nn_mlp_n_params(t);
    memset(p + n - 1 - 16, 0, 16 * sizeof *p);
    p[n - 1] = 0.75f;
    slateq_choice_weights(sq)[3] = logf(2.0f);
    slateq_config_t cfg;
    slateq_config_default(&cfg, OBS, DIM, K);
    int width = slateq_row_width(&cfg);
    assert_int_equal(width, OBS + 4 + 1 + OBS + K * 4 + 1);
    float rows[2 * (OBS + 4 + 1 + OBS + K * 4 + 1)] = {0};
    rows[OBS + 4] = 1.0f;         /* reward 1, not done */
    rows[width + OBS + 4] = 0.5f; /* reward 0.5 */
    rows[2 * width - 1] = 1.0f;   /* done */
    float y[2];
    slateq_targets(sq, rows, 2, y);
    ASSERT_NEAR(y[0], 1.0 + 0.9 * 0.75, 1e-5);
    ASSERT_NEAR(y[1], 0.5, 1e-6);
    slateq_destroy(&sq);
    assert_null(sq);
}

/* A loop: the same state forever, nothing consumed, reward 1: Qbar(s,
 * none) and every slate's value tend to 1 / (1 - 0.5) = 2 under SARSA
 * with w = 0 (P = 1/3 each) once every item's value has become 2. The
 * next slate holds the same two items as the state's candidates. */
static void test_sarsa_learns_a_loop(void **state)
{
    (void)state;
    slateq_t *sq = s_learner(0.5f, 16);
    slateq_config_t cfg;
    slateq_config_default(&cfg, OBS, DIM, K);
    assert_int_equal(slateq_row_width(&cfg), OBS + 4 + 1 + OBS + K * 4 + 1);
    const float obs[OBS] = {0.5f, -0.5f, 1.0f, 0.0f};
    const float items[K * 4] = {1.0f, 0.0f, 1.0f, 0.0f, 0.0f, 1.0f, 0.0f, 0.0f};
    float row[OBS + 4 + 1 + OBS + K * 4 + 1] = {0};
    pcg32_t rng;
    pcg32_seed(&rng, 8, 8);
    for (int t = 0; t < 6000; t++) {
        memset(row, 0, sizeof row);
        memcpy(row, obs, sizeof obs);
        int c = t % 3 - 1; /* none, item 0, item 1 in turn */
        if (c < 0)
            row[OBS + 3] = 1.0f;
        else
            memcpy(row + OBS, items + c * 4, 4 * sizeof(float));
        row[OBS + 4] = 1.0f;
        memcpy(row + OBS + 5, obs, sizeof obs);
        memcpy(row + 2 * OBS + 5, items, sizeof items);
        assert_int_equal(slateq_push(sq, row), 0);
        slateq_train_step(sq, &rng, NULL);
    }
    assert_int_equal(slateq_buffer_size(sq), 64);
    float desc[3 * 4];
    memcpy(desc, items, sizeof items);
    memset(desc + 8, 0, 4 * sizeof(float));
    desc[11] = 1.0f;
    const float *q = slateq_item_values(sq, obs, desc, 3);
    print_message("loop: Qbar = %.3f %.3f none %.3f (expected 2)\n", q[0], q[1], q[2]);
    for (int i = 0; i < 3; i++)
        ASSERT_NEAR(q[i], 2.0, 0.1);
    int rows[K];
    slateq_select(sq, obs, items, 2, rows);
    assert_true(rows[0] != rows[1]);
    slateq_destroy(&sq);
}

static void test_bad_configs_refused(void **state)
{
    (void)state;
    slateq_config_t cfg;
    pcg32_t rng;
    pcg32_seed(&rng, 1, 1);
    slateq_config_default(&cfg, 1, 2, 2); /* obs narrower than the features */
    assert_null(slateq_new(&cfg, &rng));
    slateq_config_default(&cfg, OBS, DIM, SLATEQ_MAX_K + 1);
    assert_null(slateq_new(&cfg, &rng));
    slateq_config_default(&cfg, OBS, DIM, K);
    cfg.gamma = 1.5f;
    assert_null(slateq_new(&cfg, &rng));
    slateq_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attractions_and_probabilities_by_hand),
        cmocka_unit_test(test_choice_step_by_hand),
        cmocka_unit_test(test_choice_fit_recovers_the_weights),
        cmocka_unit_test(test_top_k_and_greedy_by_hand),
        cmocka_unit_test(test_sarsa_targets_by_hand),
        cmocka_unit_test(test_sarsa_learns_a_loop),
        cmocka_unit_test(test_bad_configs_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
