/* MMR and DPP re-ranking (agents/bandit/rerank.h): the similarity kernel
 * and the relevance scaling on hand-computed values, the order each
 * method provably picks on small examples (the arithmetic is in the
 * comments), the DPP's incremental Cholesky gains against determinants
 * computed directly, and re-ranking inside the bandits (bandit.h). No
 * sockets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>

#include "agents/bandit/bandit.h"
#include "agents/bandit/rerank.h"
#include "core/err.h"
#include "core/pcg32.h"
#include "test_support.h"

static void test_names(void **state)
{
    (void)state;
    rerank_method_t m = RERANK_NONE;
    assert_int_equal(rerank_method_parse("dpp", &m), 0);
    assert_int_equal(m, RERANK_DPP);
    assert_int_equal(rerank_method_parse("mmr", &m), 0);
    assert_int_equal(m, RERANK_MMR);
    assert_int_equal(rerank_method_parse("DPP", &m), ERR_EINVAL);
    assert_int_equal(m, RERANK_MMR);
    assert_string_equal(rerank_method_name(RERANK_NONE), "none");
    assert_null(rerank_new(RERANK_MMR, 1.5, 10, 2));
    assert_null(rerank_new(RERANK_MMR, 0.5, RERANK_MAX_POOL + 1, 2));
}

/* (1, 0), (0, 1), (-1, 0), (0, 0): cosines 0, -1 and 0 (a zero vector),
 * so s = (1 + cos) / 2 is 0.5, 0 and 0.5. */
static void test_similarity_by_hand(void **state)
{
    (void)state;
    const float e[4][2] = {{1, 0}, {0, 1}, {-1, 0}, {0, 0}};
    double sim[16];
    rerank_similarity(4, 2, &e[0][0], sim);
    const double want[16] = {1, 0.5, 0, 0.5, 0.5, 1, 0.5, 0.5, 0, 0.5, 1, 0.5, 0.5, 0.5, 0.5, 1};
    for (int i = 0; i < 16; i++)
        ASSERT_NEAR(sim[i], want[i], 1e-15);
}

static void test_normalize(void **state)
{
    (void)state;
    const double scores[5] = {2, INFINITY, 0, NAN, 4};
    double rel[5];
    rerank_normalize(5, scores, rel);
    const double want[5] = {0.5, 1, 0, 0, 1};
    for (int i = 0; i < 5; i++)
        ASSERT_NEAR(rel[i], want[i], 1e-15);
    const double flat[2] = {3, 3};
    rerank_normalize(2, flat, rel);
    ASSERT_NEAR(rel[0], 1, 0);
    ASSERT_NEAR(rel[1], 1, 0);
}

/* Three candidates: 0 and 1 near-duplicates (s = 0.9), 2 apart (s 0.1 to 0,
 * 0.2 to 1); relevance 1, 0.9, 0.5. The matrix is positive definite (its
 * determinant is 0.176). */
static const double s_rel3[3] = {1.0, 0.9, 0.5};
static const double s_sim3[9] = {1, 0.9, 0.1, 0.9, 1, 0.2, 0.1, 0.2, 1};

/* MMR, lambda 0.5: first the most relevant, 0. Then candidate 1 is worth
 * 0.5 * 0.9 - 0.5 * 0.9 = 0 and candidate 2 0.5 * 0.5 - 0.5 * 0.1 = 0.2:
 * order 0, 2, 1. Lambda 0.9: 0.81 - 0.09 = 0.72 against 0.45 - 0.01 =
 * 0.44: order 0, 1, 2, the relevance order, as for lambda 1. */
static void test_mmr_by_hand(void **state)
{
    (void)state;
    uint32_t order[3];
    rerank_mmr(3, s_rel3, s_sim3, 0.5, 3, order);
    assert_int_equal(order[0], 0);
    assert_int_equal(order[1], 2);
    assert_int_equal(order[2], 1);
    for (int i = 0; i < 2; i++) {
        rerank_mmr(3, s_rel3, s_sim3, i == 0 ? 0.9 : 1.0, 3, order);
        assert_int_equal(order[0], 0);
        assert_int_equal(order[1], 1);
        assert_int_equal(order[2], 2);
    }
    /* lambda 0: the first pick is still the most relevant, then the least
     * similar to it: 2 (0.1), then 1 */
    rerank_mmr(3, s_rel3, s_sim3, 0.0, 2, order);
    assert_int_equal(order[0], 0);
    assert_int_equal(order[1], 2);
}

/* DPP, theta 0.5: a = theta / (2 (1 - theta)) = 0.5, q = exp(0.5 rel),
 * L_ii = q_i^2 = e^1, e^0.9, e^0.5: candidate 0 first. The gains after it
 * are d_i^2 = q_i^2 (1 - s_0i^2): e^0.9 * 0.19 = 0.467 for 1 and e^0.5 *
 * 0.99 = 1.632 for 2: order 0, 2, 1. Theta 0.9, a = 4.5: e^8.1 * 0.19 =
 * 626 against e^4.5 * 0.99 = 89: order 0, 1, 2. */
static void test_dpp_by_hand(void **state)
{
    (void)state;
    uint32_t order[3];
    double scratch[4 * 3];
    rerank_dpp(3, s_rel3, s_sim3, 0.5, 3, order, scratch);
    assert_int_equal(order[0], 0);
    assert_int_equal(order[1], 2);
    assert_int_equal(order[2], 1);
    for (int i = 0; i < 2; i++) {
        rerank_dpp(3, s_rel3, s_sim3, i == 0 ? 0.9 : 1.0, 3, order, scratch);
        assert_int_equal(order[0], 0);
        assert_int_equal(order[1], 1);
        assert_int_equal(order[2], 2);
    }
}

/* Candidates 0 and 1 with the same embedding, 2 orthogonal to them; relevance
 * 1, 0.9, 0. s_01 = 1, s_02 = s_12 = 0.5. DPP (theta 0.5): after 0, the
 * duplicate's gain is e^0.9 (1 - 1) = 0 and 2's is 1 - 0.25 = 0.75, so 2;
 * then only the duplicate is left, with no gain: it fills the last slot by
 * relevance. MMR (lambda 0.5) keeps the duplicate second: 0.45 - 0.5 =
 * -0.05 against 0 - 0.25. */
static void test_duplicates(void **state)
{
    (void)state;
    const float e[3][2] = {{1, 0}, {1, 0}, {0, 1}};
    const double scores[3] = {10, 9, 0}; /* normalised: 1, 0.9, 0 */
    uint32_t order[3];
    rerank_t *r = rerank_new(RERANK_DPP, 0.5, 3, 2);
    assert_non_null(r);
    assert_int_equal(rerank_slate(r, 3, scores, &e[0][0], 3, order), 0);
    assert_int_equal(order[0], 0);
    assert_int_equal(order[1], 2);
    assert_int_equal(order[2], 1);
    assert_int_equal(rerank_slate(r, 3, scores, &e[0][0], 4, order), ERR_EINVAL);
    rerank_destroy(&r);
    assert_null(r);
    r = rerank_new(RERANK_MMR, 0.5, 3, 2);
    assert_int_equal(rerank_slate(r, 3, scores, &e[0][0], 3, order), 0);
    assert_int_equal(order[0], 0);
    assert_int_equal(order[1], 1);
    assert_int_equal(order[2], 2);
    rerank_destroy(&r);
}

/* det of the m x m submatrix of L (n x n) on rows/columns idx, by
 * Gaussian elimination with partial pivoting. */
static double s_det(const double *L, uint32_t n, const uint32_t *idx, uint32_t m)
{
    double a[8][8];
    for (uint32_t i = 0; i < m; i++)
        for (uint32_t j = 0; j < m; j++)
            a[i][j] = L[idx[i] * n + idx[j]];
    double det = 1;
    for (uint32_t c = 0; c < m; c++) {
        uint32_t p = c;
        for (uint32_t r = c + 1; r < m; r++)
            if (fabs(a[r][c]) > fabs(a[p][c]))
                p = r;
        if (p != c) {
            for (uint32_t j = 0; j < m; j++) {
                double t = a[c][j];
                a[c][j] = a[p][j];
                a[p][j] = t;
            }
            det = -det;
        }
        det *= a[c][c];
        for (uint32_t r = c + 1; r < m; r++) {
            double f = a[r][c] / a[c][c];
            for (uint32_t j = c; j < m; j++)
                a[r][j] -= f * a[c][j];
        }
    }
    return det;
}

/* Eight candidates with random embeddings in 8 dimensions and random
 * relevance: at every step the DPP's pick is the candidate whose addition
 * gives the largest det(L_Y), computed directly (Chen et al.'s greedy step,
 * which the incremental Cholesky factor computes without determinants). */
static void test_dpp_greedy_matches_determinants(void **state)
{
    (void)state;
    enum { N = 8, D = 8, K = 6 };
    pcg32_t rng;
    pcg32_seed(&rng, 2018, 0);
    for (int rep = 0; rep < 20; rep++) {
        float e[N * D];
        double rel[N], sim[N * N], L[N * N], scratch[(K + 1) * N];
        for (int i = 0; i < N * D; i++)
            e[i] = (float)(2 * pcg32_uniform(&rng) - 1);
        for (int i = 0; i < N; i++)
            rel[i] = pcg32_uniform(&rng);
        rerank_similarity(N, D, e, sim);
        double theta = 0.3 + 0.1 * (rep % 5), a = theta / (2 * (1 - theta));
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++)
                L[i * N + j] = exp(a * rel[i]) * sim[i * N + j] * exp(a * rel[j]);
        uint32_t order[K];
        rerank_dpp(N, rel, sim, theta, K, order, scratch);
        for (uint32_t m = 0; m < K; m++) {
            uint32_t idx[K];
            memcpy(idx, order, m * sizeof *idx);
            double best = -1;
            uint32_t arg = 0;
            for (uint32_t i = 0; i < N; i++) {
                uint32_t q;
                for (q = 0; q < m && order[q] != i; q++)
                    ;
                if (q < m)
                    continue;
                idx[m] = i;
                double det = s_det(L, N, idx, m + 1);
                if (det > best) {
                    best = det;
                    arg = i;
                }
            }
            assert_int_equal(order[m], arg);
        }
    }
}

/* ---- inside the bandits ------------------------------------------------- */

/* 40 items in 4 directions, 10 each with small offsets (cosine above
 * 0.99 within a direction, below 0.1 across), dim 4. */
static bandit_t *s_bandit(bandit_algo_t algo, const bandit_params_t *p, uint64_t seed)
{
    bandit_t *b = bandit_new(algo, p, 4, seed);
    assert_non_null(b);
    for (int32_t id = 0; id < 40; id++) {
        float e[4] = {0, 0, 0, 0};
        e[id % 4] = 1.0f;
        e[(id + 1) % 4] = 0.01f * (float)(id / 4);
        assert_int_equal(bandit_add_arm(b, id, e), 0);
    }
    return b;
}

/* With lambda (theta) 1 the re-ranked slates are the plain ones, request
 * for request; parameters are checked; the slates stay distinct. */
static void test_bandits_rerank(void **state)
{
    (void)state;
    static const bandit_algo_t algos[] = {BANDIT_THOMPSON, BANDIT_LINUCB, BANDIT_UCB1};
    const float x[4] = {1, 0.5f, 0, 0};
    for (size_t a = 0; a < 3; a++) {
        for (int method = RERANK_MMR; method <= RERANK_DPP; method++) {
            bandit_params_t plain, re;
            bandit_params_default(&plain);
            re = plain;
            re.rerank = (rerank_method_t)method;
            re.rerank_lambda = 1.0;
            re.rerank_pool = 12;
            bandit_t *b0 = s_bandit(algos[a], &plain, 7), *b1 = s_bandit(algos[a], &re, 7);
            pcg32_t env;
            pcg32_seed(&env, 3, 0);
            for (int t = 0; t < 300; t++) {
                int32_t s0[5], s1[5];
                assert_int_equal(bandit_select(b0, 1, x, 5, s0, NULL), 0);
                assert_int_equal(bandit_select(b1, 1, x, 5, s1, NULL), 0);
                assert_memory_equal(s0, s1, sizeof s0);
                int32_t clicked = pcg32_uniform(&env) < 0.5 ? (int32_t)pcg32_bounded(&env, 5) : -1;
                bandit_update(b0, x, s0, 5, clicked, 0);
                bandit_update(b1, x, s1, 5, clicked, 0);
            }
            bandit_destroy(&b0);
            bandit_destroy(&b1);
        }
    }
    bandit_params_t p;
    bandit_params_default(&p);
    p.rerank = RERANK_DPP;
    assert_int_equal(bandit_params_check(BANDIT_EGREEDY, &p), ERR_EINVAL);
    assert_int_equal(bandit_params_check(BANDIT_EXP3, &p), ERR_EINVAL);
    assert_int_equal(bandit_params_check(BANDIT_LINUCB, &p), 0);
    assert_int_equal(bandit_params_check(BANDIT_META, &p), 0); /* egreedy-decay base: plain */
    p.rerank_pool = 0;
    assert_int_equal(bandit_params_check(BANDIT_LINUCB, &p), ERR_EINVAL);
}

/* Items of one direction are near-duplicates (cosine above 0.99). Once
 * Thompson sampling has learnt that direction 0 clicks best, its plain
 * slate of 4 comes from direction 0 alone; MMR at lambda 0.3 and DPP at
 * theta 0.3 spread every slate over the 4 directions (the greedy steps
 * pay 0.7 x 0.5 = 0.35 or more for a second item of a direction, more
 * than any relevance difference of 0.3 can buy back). */
static void test_rerank_spreads_the_slate(void **state)
{
    (void)state;
    const float x[4] = {1, 1, 1, 1};
    for (int method = RERANK_NONE; method <= RERANK_DPP; method++) {
        bandit_params_t p;
        bandit_params_default(&p);
        p.rerank = (rerank_method_t)method;
        p.rerank_lambda = 0.3;
        bandit_t *b = s_bandit(BANDIT_THOMPSON, &p, 11);
        pcg32_t env;
        pcg32_seed(&env, 4, 0);
        int32_t slate[4];
        for (int t = 0; t < 3000; t++) { /* direction 0 clicks with 0.8, the others 0.1 */
            assert_int_equal(bandit_select(b, 1, x, 4, slate, NULL), 0);
            int32_t clicked = -1;
            for (int32_t pos = 0; pos < 4 && clicked < 0; pos++)
                if (pcg32_uniform(&env) < (slate[pos] % 4 == 0 ? 0.8 : 0.1))
                    clicked = pos;
            bandit_update(b, x, slate, 4, clicked, 0);
        }
        uint32_t spread = 0;
        for (int t = 0; t < 100; t++) {
            assert_int_equal(bandit_select(b, 1, x, 4, slate, NULL), 0);
            int seen[4] = {0};
            for (int pos = 0; pos < 4; pos++)
                seen[slate[pos] % 4] = 1;
            spread += (uint32_t)(seen[0] + seen[1] + seen[2] + seen[3]);
        }
        print_message("%s: %.2f directions per slate of 4\n",
                      rerank_method_name((rerank_method_t)method), spread / 100.0);
        if (method == RERANK_NONE)
            assert_true(spread < 150);
        else
            assert_true(spread == 400);
        bandit_destroy(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_similarity_by_hand),
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_mmr_by_hand),
        cmocka_unit_test(test_dpp_by_hand),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_dpp_greedy_matches_determinants),
        cmocka_unit_test(test_bandits_rerank),
        cmocka_unit_test(test_rerank_spreads_the_slate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
