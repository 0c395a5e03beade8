/* The bare interaction kernel (sim/kernel.h): its logit against
 * hand-computed probabilities, its drift, its determinism and its
 * refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>

#include "sim/kernel.h"

static kernel_t *s_two_items(float drift, double no_click_score)
{
    kernel_config_t cfg = {.n_users = 1,
                           .n_items = 2,
                           .dim = 2,
                           .k = 2,
                           .temperature = 1.0,
                           .no_click_score = no_click_score,
                           .drift = drift};
    kernel_t *kn = kernel_new(&cfg, 5);
    assert_non_null(kn);
    float *x = kernel_user(kn, 0), *e0 = kernel_item(kn, 0), *e1 = kernel_item(kn, 1);
    x[0] = 1.0f, x[1] = 0.0f;
    e0[0] = 1.0f, e0[1] = 0.0f;
    e1[0] = 0.0f, e1[1] = 1.0f;
    return kn;
}

/* User (1, 0), items (1, 0) and (0, 1), T = 1, no-click score 0: on a
 * page showing both, v = (e, 1) and v_0 = 1, so item 0 is clicked with
 * e / (e + 2) = 0.5761; on a page of item 1 twice, no click has
 * 1 / (1 + 1 + 1) = 1/3. 200,000 interactions give about 100,000 and
 * 50,000 such pages: 4 standard deviations are below 0.007 and 0.009. */
static void test_logit_matches_hand_computed(void **state)
{
    (void)state;
    kernel_t *kn = s_two_items(0.0f, 0.0);
    long mixed = 0, mixed_item0 = 0, ones = 0, ones_none = 0;
    for (int i = 0; i < 200000; i++) {
        int p = kernel_interact(kn, 0);
        const int32_t *page = kernel_page(kn);
        if (page[0] != page[1]) {
            mixed++;
            mixed_item0 += p >= 0 && page[p] == 0;
        } else if (page[0] == 1) {
            ones++;
            ones_none += p < 0;
        }
    }
    double e = exp(1.0);
    assert_true(fabs((double)mixed_item0 / mixed - e / (e + 2.0)) < 0.007);
    assert_true(fabs((double)ones_none / ones - 1.0 / 3.0) < 0.009);
    kernel_destroy(&kn);
    assert_null(kn);
}

/* Drift 0.5 toward the clicked item, then renormalised: from (1, 0)
 * toward (0, 1) the user lands on (0.5, 0.5) / |.| = (0.7071, 0.7071). */
static void test_drift_toward_clicked(void **state)
{
    (void)state;
    kernel_t *kn = s_two_items(0.5f, -1e9); /* no click never wins */
    for (int i = 0; i < 100; i++) {
        float before[2];
        memcpy(before, kernel_user(kn, 0), sizeof before);
        int p = kernel_interact(kn, 0);
        assert_true(p == 0 || p == 1);
        const float *e = kernel_item(kn, kernel_page(kn)[p]);
        float want[2] = {before[0] + 0.5f * (e[0] - before[0]),
                         before[1] + 0.5f * (e[1] - before[1])};
        float norm = sqrtf(want[0] * want[0] + want[1] * want[1]);
        const float *x = kernel_user(kn, 0);
        assert_true(fabsf(x[0] - want[0] / norm) < 1e-6f);
        assert_true(fabsf(x[1] - want[1] / norm) < 1e-6f);
        if (i == 0 && kernel_page(kn)[p] == 1) {
            assert_true(fabsf(x[0] - 0.70710678f) < 1e-6f);
            assert_true(fabsf(x[1] - 0.70710678f) < 1e-6f);
        }
    }
    kernel_destroy(&kn);
}

static void test_same_seed_same_interactions(void **state)
{
    (void)state;
    kernel_config_t cfg = {.n_users = 50,
                           .n_items = 300,
                           .dim = 16,
                           .k = 10,
                           .temperature = 0.1,
                           .no_click_score = 0.3,
                           .drift = 0.05f};
    kernel_t *a = kernel_new(&cfg, 9), *b = kernel_new(&cfg, 9), *c = kernel_new(&cfg, 10);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    int differ = 0;
    for (int i = 0; i < 5000; i++) {
        int pa = kernel_interact(a, i % 50), pb = kernel_interact(b, i % 50);
        int pc = kernel_interact(c, i % 50);
        assert_int_equal(pa, pb);
        assert_memory_equal(kernel_page(a), kernel_page(b), 10 * sizeof(int32_t));
        differ += pa != pc;
    }
    assert_memory_equal(kernel_user(a, 0), kernel_user(b, 0), 50 * 16 * sizeof(float));
    assert_true(differ > 0);
    kernel_destroy(&a);
    kernel_destroy(&b);
    kernel_destroy(&c);
}

static void test_refuses_bad_config(void **state)
{
    (void)state;
    kernel_config_t good = {.n_users = 1,
                            .n_items = 1,
                            .dim = 1,
                            .k = 1,
                            .temperature = 1.0,
                            .no_click_score = 0.0,
                            .drift = 0.0f};
    kernel_t *kn = kernel_new(&good, 1);
    assert_non_null(kn);
    kernel_destroy(&kn);
    kernel_config_t bad = good;
    bad.k = KERNEL_MAX_SLATE + 1;
    assert_null(kernel_new(&bad, 1));
    bad = good;
    bad.temperature = 0.0;
    assert_null(kernel_new(&bad, 1));
    bad = good;
    bad.drift = 1.5f;
    assert_null(kernel_new(&bad, 1));
    bad = good;
    bad.n_items = 0;
    assert_null(kernel_new(&bad, 1));
    kernel_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_logit_matches_hand_computed),
        cmocka_unit_test(test_drift_toward_clicked),
        cmocka_unit_test(test_same_seed_same_interactions),
        cmocka_unit_test(test_refuses_bad_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
