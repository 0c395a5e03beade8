/* The bare interaction kernel (sim/kernel.h): its logit choice on
 * hand-computed probabilities, and replay from the seed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>

#include <cmocka.h>

#include "sim/kernel.h"

static void test_choose_by_hand(void **state)
{
    (void)state;
    /* weights exp(0) = 1, exp(ln 2) = 2 and the no-click exp(0) = 1: total 4,
     * so position 0 for u < 1/4, position 1 for u in [1/4, 3/4), none above */
    const float scores[] = {0.0f, logf(2.0f)};
    assert_int_equal(kernel_choose(scores, 2, 0.0f, 0.0), 0);
    assert_int_equal(kernel_choose(scores, 2, 0.0f, 0.2499), 0);
    assert_int_equal(kernel_choose(scores, 2, 0.0f, 0.2501), 1);
    assert_int_equal(kernel_choose(scores, 2, 0.0f, 0.7499), 1);
    assert_int_equal(kernel_choose(scores, 2, 0.0f, 0.7501), -1);
    /* large scores do not overflow: shifted by the maximum */
    const float big[] = {1000.0f, 1000.0f};
    assert_int_equal(kernel_choose(big, 2, 0.0f, 0.4), 0);
    assert_int_equal(kernel_choose(big, 2, 0.0f, 0.6), 1);
}

static void test_replay(void **state)
{
    (void)state;
    kernel_t *a = kernel_new(200, 50, 16, 10, 7), *b = kernel_new(200, 50, 16, 10, 7);
    kernel_t *c = kernel_new(200, 50, 16, 10, 8);
    assert_non_null(a);
    kernel_run(a, 20000);
    kernel_run(b, 20000);
    kernel_run(c, 20000);
    assert_int_equal(kernel_clicks(a), kernel_clicks(b));
    assert_int_not_equal(kernel_clicks(a), kernel_clicks(c));
    /* ten items against a no-click score of 2.5 (0.5 / temperature 0.2) with
     * scores near 0: clicks are a minority but not rare */
    assert_true(kernel_clicks(a) > 20000 / 10 && kernel_clicks(a) < 20000 * 9 / 10);
    kernel_destroy(&a);
    kernel_destroy(&b);
    kernel_destroy(&c);
    assert_null(a);
    assert_null(kernel_new(0, 50, 16, 10, 1));
    assert_null(kernel_new(10, 50, 16, 0, 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_choose_by_hand),
        cmocka_unit_test(test_replay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
