/* meta-linucb (agents/bandit/bandit.h): the choice of base per request by
 * a disjoint LinUCB over the bases on x = [user features, 1], checked by
 * hand after single updates (the ridge regressions worked out in the
 * comments), and on an instance where the better base depends on the
 * user, against each base alone and against the EXP3 meta-bandit. No
 * sockets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>

#include <cmocka.h>

#include "agents/bandit/bandit.h"
#include "core/pcg32.h"
#include "test_support.h"

static bandit_t *s_new_meta(const bandit_params_t *p, uint32_t dim, uint32_t n_arms, uint64_t seed)
{
    static const float emb[4][2] = {{1, 0}, {0, 1}, {0.5f, 0.5f}, {0.3f, 0.3f}};
    bandit_t *b = bandit_new(BANDIT_META_LINUCB, p, dim, seed);
    assert_non_null(b);
    for (uint32_t a = 0; a < n_arms; a++)
        assert_int_equal(bandit_add_arm(b, (int32_t)a, emb[a]), 0);
    return b;
}

/* The base meta-linucb picks for one request with features f (dim). */
static uint8_t s_choice(bandit_t *b, const float *f)
{
    int32_t arm;
    uint8_t strategy = 255;
    assert_int_equal(bandit_select(b, 1, f, 1, &arm, &strategy), 0);
    return strategy;
}

static void test_names_and_parameters(void **state)
{
    (void)state;
    bandit_algo_t algo;
    assert_int_equal(bandit_algo_parse("meta-linucb", &algo), 0);
    assert_int_equal(algo, BANDIT_META_LINUCB);
    assert_string_equal(bandit_algo_name(BANDIT_META_LINUCB), "meta-linucb");
    bandit_params_t p;
    bandit_params_default(&p);
    ASSERT_NEAR(p.meta_alpha, 1.0, 0);
    assert_int_equal(bandit_parse_bases("thompson,meta-linucb", &p), ERR_EINVAL);
    assert_int_equal(p.n_bases, 3); /* unchanged */
    p.meta_alpha = -1;
    assert_int_equal(bandit_params_check(BANDIT_META_LINUCB, &p), ERR_EINVAL);
    assert_null(bandit_new(BANDIT_META_LINUCB, &p, 1, 1));
    p.meta_alpha = 0.1;
    bandit_t *b = s_new_meta(&p, 1, 2, 1);
    int32_t slate;
    uint8_t strategy;
    /* it reads the user's features: no contexts, no slate */
    assert_int_equal(bandit_select(b, 1, NULL, 1, &slate, &strategy), ERR_EINVAL);
    assert_int_equal(bandit_meta_probabilities(b, (double[3]){0}), ERR_EINVAL);
    bandit_destroy(&b);
}

/* dim 1, features f = 1, so x = [1, 1]. Before any feedback every base
 * scores alpha sqrt(x' x) = alpha sqrt(2): ties, broken at random. After a
 * click on base 0, A_0 = I + x x' = [[2, 1], [1, 2]], A_0^-1 = [[2, -1],
 * [-1, 2]] / 3, b_0 = x, theta_0 = (1/3, 1/3): base 0 scores theta_0.x +
 * alpha sqrt(x' A_0^-1 x) = 2/3 + alpha sqrt(2/3) = 1.0749 (alpha 0.5)
 * against base 1's 0.7071. After a miss instead, theta_0 = 0 and base 0
 * scores 0.5 sqrt(2/3) = 0.4082 < 0.7071: base 1 is chosen. */
static void test_choice_by_hand(void **state)
{
    (void)state;
    bandit_params_t p;
    bandit_params_default(&p);
    p.meta_alpha = 0.5;
    assert_int_equal(bandit_parse_bases("random,popularity", &p), 0);
    const float f[1] = {1.0f};
    int32_t arm0 = 0;

    uint32_t seen[2] = {0, 0};
    for (uint64_t seed = 0; seed < 40; seed++) { /* ties: both bases get picked */
        bandit_t *b = s_new_meta(&p, 1, 2, seed);
        seen[s_choice(b, f)]++;
        bandit_destroy(&b);
    }
    assert_true(seen[0] > 5 && seen[1] > 5);

    for (int clicked = 0; clicked < 2; clicked++) {
        bandit_t *b = s_new_meta(&p, 1, 2, 3);
        bandit_update(b, f, &arm0, 1, clicked ? 0 : -1, 0);
        for (int rep = 0; rep < 20; rep++) /* deterministic: no ties left */
            assert_int_equal(s_choice(b, f), clicked ? 0 : 1);
        bandit_destroy(&b);
    }
}

/* Greedy (alpha 0), the choice follows the user. A click on base 0 from a
 * user with f = 1 gives theta_0 = (1/3, 1/3) as above; a click on base 1
 * from f = -1 (x = [-1, 1], A_1^-1 = [[2, 1], [1, 2]] / 3, b_1 = x) gives
 * theta_1 = (-1/3, 1/3). For f = 1: 2/3 against 0, base 0; for f = -1: 0
 * against 2/3, base 1. */
static void test_choice_follows_the_user(void **state)
{
    (void)state;
    bandit_params_t p;
    bandit_params_default(&p);
    p.meta_alpha = 0;
    assert_int_equal(bandit_parse_bases("random,popularity", &p), 0);
    const float plus[1] = {1.0f}, minus[1] = {-1.0f};
    int32_t arm0 = 0;
    bandit_t *b = s_new_meta(&p, 1, 2, 5);
    bandit_update(b, plus, &arm0, 1, 0, 0);
    bandit_update(b, minus, &arm0, 1, 0, 1);
    for (int rep = 0; rep < 10; rep++) {
        assert_int_equal(s_choice(b, plus), 0);
        assert_int_equal(s_choice(b, minus), 1);
    }
    /* a batch of requests gets each its own choice */
    const float both[4] = {1.0f, -1.0f, -1.0f, 1.0f};
    int32_t slates[4];
    uint8_t strategies[4];
    assert_int_equal(bandit_select(b, 4, both, 1, slates, strategies), 0);
    assert_int_equal(strategies[0], 0);
    assert_int_equal(strategies[1], 1);
    assert_int_equal(strategies[2], 1);
    assert_int_equal(strategies[3], 0);
    bandit_destroy(&b);
}

/* Two kinds of user, features (1, 0) and (0, 1), four items, one-item
 * slates. The first kind clicks item 0 with probability 0.9 and the others
 * with 0.1; the second never clicks item 0 and clicks the others with
 * 0.5. Item 0 has the best mean over both kinds (0.45 against 0.3), so
 * Thompson sampling, which ignores the user, settles on it: the better
 * base for the first kind (0.9 against random's 0.3), the worse for the
 * second (0 against random's 0.375). Following each user's better base
 * earns about 0.64 per round, more than either base alone (Thompson at
 * most 0.45, random 0.34) or any fixed mixture of them, which is all the
 * EXP3 meta-bandit can learn. */
static double s_mean_reward(bandit_algo_t algo, double *first_kind_thompson_share)
{
    const uint32_t reps = 20, T = 3000;
    double total = 0, share = 0;
    for (uint32_t rep = 0; rep < reps; rep++) {
        bandit_params_t p;
        bandit_params_default(&p);
        assert_int_equal(bandit_parse_bases("thompson,random", &p), 0);
        bandit_t *b = bandit_new(algo, &p, 2, 900 + rep);
        assert_non_null(b);
        static const float emb[2] = {0, 0};
        for (int32_t a = 0; a < 4; a++)
            assert_int_equal(bandit_add_arm(b, a, emb), 0);
        pcg32_t env;
        pcg32_seed(&env, 41, rep);
        uint32_t first = 0, first_ts = 0;
        for (uint32_t t = 0; t < T; t++) {
            int kind = (int)pcg32_bounded(&env, 2);
            float x[2] = {kind == 0 ? 1.0f : 0.0f, kind == 1 ? 1.0f : 0.0f};
            int32_t arm;
            uint8_t strategy = 0;
            assert_int_equal(bandit_select(b, 1, x, 1, &arm, &strategy), 0);
            double mu = kind == 0 ? (arm == 0 ? 0.9 : 0.1) : (arm == 0 ? 0.0 : 0.5);
            int clicked = pcg32_uniform(&env) < mu;
            bandit_update(b, x, &arm, 1, clicked ? 0 : -1, strategy);
            total += t >= T / 2 ? mu : 0;
            if (t >= T / 2 && kind == 0) {
                first++;
                first_ts += strategy == 0;
            }
        }
        share += (double)first_ts / first / reps;
        bandit_destroy(&b);
    }
    if (first_kind_thompson_share)
        *first_kind_thompson_share = share;
    return total / ((double)reps * (T - T / 2));
}

static void test_beats_its_bases_when_the_best_depends_on_the_user(void **state)
{
    (void)state;
    double share;
    double meta_linucb = s_mean_reward(BANDIT_META_LINUCB, &share);
    double meta = s_mean_reward(BANDIT_META, NULL);
    double thompson = s_mean_reward(BANDIT_THOMPSON, NULL);
    double random = s_mean_reward(BANDIT_RANDOM, NULL);
    print_message("per-user instance, second half: meta-linucb %.4f (Thompson for the first "
                  "kind %.3f), meta %.4f, thompson %.4f, random %.4f\n",
                  meta_linucb, share, meta, thompson, random);
    assert_true(meta_linucb > 0.58);
    assert_true(meta_linucb > thompson + 0.08);
    assert_true(meta_linucb > random + 0.08);
    assert_true(meta_linucb > meta + 0.08);
    assert_true(share > 0.8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_and_parameters),
        cmocka_unit_test(test_choice_by_hand),
        cmocka_unit_test(test_choice_follows_the_user),
        cmocka_unit_test(test_beats_its_bases_when_the_best_depends_on_the_user),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
