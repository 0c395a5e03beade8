/* Implicit-feedback ALS (agents/mf/mf.h): one half-step and the cold-start
 * map against hand-computed solutions (the arithmetic is in the
 * comments), the transpose, the objective never rising over ALS sweeps,
 * and a two-block click matrix whose held-out clicks the factors rank
 * above the other block. No sockets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>

#include <cmocka.h>

#include "agents/mf/mf.h"
#include "core/err.h"
#include "test_support.h"

static void test_params(void **state)
{
    (void)state;
    mf_params_t p;
    mf_params_default(&p);
    assert_int_equal(p.factors, 16);
    assert_int_equal(mf_params_check(&p), 0);
    p.reg = 0;
    assert_int_equal(mf_params_check(&p), ERR_EINVAL);
    mf_params_default(&p);
    p.factors = MF_MAX_FACTORS + 1;
    assert_int_equal(mf_params_check(&p), ERR_EINVAL);
}

/* f = 1, Y = (1, 2), one user who clicked item 0 once; alpha 1 (c = 2),
 * reg 0.5: A = Y'Y + reg + (c - 1) y_0^2 = 5 + 0.5 + 1 = 6.5, b = c y_0 =
 * 2, x = 2 / 6.5.
 * f = 2, Y = ((1, 0), (0, 1), (1, 1)), a user with 2 clicks on item 2,
 * alpha 0.5 (c = 2), reg 1: A = [[2, 1], [1, 2]] + I + [[1, 1], [1, 1]] =
 * [[4, 2], [2, 4]], b = 2 (1, 1), x = (1/3, 1/3); a user with no clicks
 * gets x = 0. */
static void test_solve_by_hand(void **state)
{
    (void)state;
    {
        const uint32_t start[2] = {0, 1}, cols[1] = {0};
        const double counts[1] = {1}, Y[2] = {1, 2};
        mf_matrix_t m = {1, 2, start, cols, counts};
        double x;
        assert_int_equal(mf_solve(&m, Y, 1, 1.0, 0.5, &x), 0);
        ASSERT_NEAR(x, 2.0 / 6.5, 1e-14);
    }
    {
        const uint32_t start[3] = {0, 1, 1}, cols[1] = {2};
        const double counts[1] = {2}, Y[6] = {1, 0, 0, 1, 1, 1};
        mf_matrix_t m = {2, 3, start, cols, counts};
        double X[4] = {9, 9, 9, 9};
        assert_int_equal(mf_solve(&m, Y, 2, 0.5, 1.0, X), 0);
        ASSERT_NEAR(X[0], 1.0 / 3, 1e-14);
        ASSERT_NEAR(X[1], 1.0 / 3, 1e-14);
        ASSERT_NEAR(X[2], 0, 1e-15);
        ASSERT_NEAR(X[3], 0, 1e-15);
        /* reg 0 and Y'Y singular: not positive definite, refused */
        const double Z[6] = {1, 1, 1, 1, 1, 1};
        assert_int_equal(mf_solve(&m, Z, 2, 0, 0, X), ERR_EINVAL);
    }
}

/* rows (0: cols 1, 2), (1: col 0), (2: cols 0, 2) -> columns (0: rows 1,
 * 2), (1: row 0), (2: rows 0, 2). */
static void test_transpose(void **state)
{
    (void)state;
    const uint32_t start[4] = {0, 2, 3, 5}, cols[5] = {1, 2, 0, 0, 2};
    const double counts[5] = {1, 2, 3, 4, 5};
    mf_matrix_t m = {3, 3, start, cols, counts}, t;
    uint32_t t_start[4], t_cols[5];
    double t_counts[5];
    mf_transpose(&m, t_start, t_cols, t_counts, &t);
    const uint32_t want_start[4] = {0, 2, 3, 5}, want_cols[5] = {1, 2, 0, 0, 2};
    const double want_counts[5] = {3, 4, 1, 2, 5};
    for (int i = 0; i < 4; i++)
        assert_int_equal(t_start[i], want_start[i]);
    for (int e = 0; e < 5; e++) {
        assert_int_equal(t_cols[e], want_cols[e]);
        ASSERT_NEAR(t_counts[e], want_counts[e], 0);
    }
    assert_int_equal(t.n_rows, 3);
}

/* Two blocks: users 0..3 click items 0..3, users 4..7 items 4..7, each
 * user all of its block but one item (held out: item u % 4 of its
 * block). */
static void s_blocks(uint32_t *start, uint32_t *cols, double *counts)
{
    uint32_t e = 0;
    for (uint32_t u = 0; u < 8; u++) {
        start[u] = e;
        uint32_t base = u < 4 ? 0 : 4;
        for (uint32_t i = base; i < base + 4; i++) {
            if (i == base + u % 4)
                continue;
            cols[e] = i;
            counts[e++] = 1 + (u + i) % 3;
        }
    }
    start[8] = e;
}

static void test_fit_lowers_the_loss_and_finds_the_blocks(void **state)
{
    (void)state;
    uint32_t start[9], cols[24];
    double counts[24];
    s_blocks(start, cols, counts);
    mf_matrix_t m = {8, 8, start, cols, counts};
    mf_params_t p;
    mf_params_default(&p);
    p.factors = 2;
    p.alpha = 2;
    double X[16], Y[16], prev = INFINITY;
    for (uint32_t it = 1; it <= 6; it++) {
        p.iterations = it; /* the same seed: the first it sweeps of one run */
        assert_int_equal(mf_fit(&m, &p, 42, X, Y), 0);
        double loss = mf_loss(&m, X, Y, 2, p.alpha, p.reg);
        print_message("ALS sweeps %u: loss %.6f\n", it, loss);
        assert_true(loss <= prev + 1e-9); /* each half-step minimises exactly */
        prev = loss;
    }
    for (uint32_t u = 0; u < 8; u++) {
        uint32_t base = u < 4 ? 0 : 4, other = u < 4 ? 4 : 0;
        uint32_t held = base + u % 4;
        double s_held = X[u * 2] * Y[held * 2] + X[u * 2 + 1] * Y[held * 2 + 1];
        for (uint32_t i = other; i < other + 4; i++)
            assert_true(s_held > X[u * 2] * Y[i * 2] + X[u * 2 + 1] * Y[i * 2 + 1] + 0.1);
    }
}

/* Side features 0 and 1 with factors 1 and 3 (f = 1), reg 1: S~ = [[0, 1],
 * [1, 1]], A = S~'S~ + I = [[2, 1], [1, 3]], b = S~'F = (3, 4), W = A^-1 b
 * = [[3, -1], [-1, 2]] / 5 (3, 4) = (1, 1): slope 1, intercept 1, so a
 * newcomer with feature 2 gets 1 * 2 + 1 = 3. */
static void test_cold_start_map_by_hand(void **state)
{
    (void)state;
    const float side[2] = {0, 1};
    const double factors[2] = {1, 3};
    double W[2];
    assert_int_equal(mf_fit_map(2, 1, side, factors, 1, 1.0, W), 0);
    ASSERT_NEAR(W[0], 1, 1e-14);
    ASSERT_NEAR(W[1], 1, 1e-14);
    const float two[1] = {2};
    double out;
    mf_apply_map(1, two, W, 1, &out);
    ASSERT_NEAR(out, 3, 1e-14);
    assert_int_equal(mf_fit_map(2, 1, side, factors, 1, 0, W), ERR_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_solve_by_hand),
        cmocka_unit_test(test_transpose),
        cmocka_unit_test(test_fit_lowers_the_loss_and_finds_the_blocks),
        cmocka_unit_test(test_cold_start_map_by_hand),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
