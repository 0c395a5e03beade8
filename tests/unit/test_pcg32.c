/* PCG32 against the published reference vectors (../shared/reference/
 * pcg32.txt: pcg32-demo seeded with initstate 42, initseq 54), and the
 * derived draws and streams against their stated properties. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>

#include "core/pcg32.h"

static const uint32_t s_raw[5][6] = {
    {0xa15c02b7, 0x7b47f409, 0xba1d3330, 0x83d2f293, 0xbfa4784b, 0xcbed606e},
    {0x74ab93ad, 0x1c1da000, 0x494ff896, 0x34462f2f, 0xd308a3e5, 0x0fa83bab},
    {0x39af5f9f, 0x04196b18, 0xc3c3eb28, 0xc076c60c, 0xc693e135, 0xf8f63932},
    {0x55ce6851, 0x97a7726d, 0x17e10815, 0x58007d43, 0x962fb148, 0xb9bb55bd},
    {0xfcef7cd6, 0x1b488b5a, 0xd0daf7ea, 0x1d9a70f7, 0x241a37cf, 0x9a3857b7},
};
static const char s_coins[] = "HHTTTHTHHHTHTTTHHHHHTTTHHHTHTHTHTTHTTTHHHHHHTTTTHHTTTTTHTTTTTTTHT";
static const int s_rolls[33] = {3, 4, 1, 1, 2, 2, 3, 2, 4, 3, 2, 4, 3, 3, 5, 2, 3,
                                1, 3, 1, 5, 1, 4, 1, 5, 6, 4, 6, 6, 2, 6, 3, 3};

/* One round of pcg32-demo: raw outputs, 65 coins, 33 rolls, then the card
 * shuffle's 51 bounded draws. */
static void test_reference_rounds(void **state)
{
    (void)state;
    pcg32_t rng;
    pcg32_seed(&rng, 42u, 54u);
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < 6; i++)
            assert_int_equal(pcg32_next(&rng), s_raw[round][i]);
        char coins[66] = {0};
        for (int i = 0; i < 65; i++)
            coins[i] = pcg32_bounded(&rng, 2) ? 'H' : 'T';
        int rolls[33];
        for (int i = 0; i < 33; i++)
            rolls[i] = (int)pcg32_bounded(&rng, 6) + 1;
        if (round == 0) {
            assert_string_equal(coins, s_coins);
            assert_memory_equal(rolls, s_rolls, sizeof rolls);
        }
        for (uint32_t cards = 52; cards > 1; cards--)
            assert_true(pcg32_bounded(&rng, cards) < cards);
    }
}

/* 2^32 mod bound, by hand: 2^32 = 6 x 715,827,882 + 4; 2^32 - (2^31 + 1)
 * = 2^31 - 1. Drawing with a kept threshold gives the same numbers. */
static void test_threshold_kept_same_draws(void **state)
{
    (void)state;
    assert_int_equal(pcg32_threshold(1), 0);
    assert_int_equal(pcg32_threshold(6), 4);
    assert_int_equal(pcg32_threshold(0x80000001u), 0x7fffffffu);
    pcg32_t a, b;
    pcg32_seed(&a, 42u, 54u);
    pcg32_seed(&b, 42u, 54u);
    const uint32_t bounds[4] = {6, 1000, 0x80000001u, 7};
    for (int i = 0; i < 4000; i++) {
        uint32_t bound = bounds[i % 4];
        assert_int_equal(pcg32_bounded(&a, bound),
                         pcg32_bounded_below(&b, bound, pcg32_threshold(bound)));
    }
}

static void test_bounded_is_unbiased(void **state)
{
    (void)state;
    /* bound 3 * 2^30 makes plain modulo visibly biased: values below 2^30
     * would come twice as often. Rejection keeps each third at 1/3. */
    pcg32_t rng;
    pcg32_seed(&rng, 7u, 11u);
    const uint32_t bound = 3u << 30;
    int low = 0;
    const int n = 300000;
    for (int i = 0; i < n; i++) {
        uint32_t r = pcg32_bounded(&rng, bound);
        assert_true(r < bound);
        low += r < (1u << 30);
    }
    /* expected n/3 = 100000, sd ~ 258; modulo would give ~ 150000 */
    assert_true(fabs(low - n / 3.0) < 6 * 258.0);
    assert_int_equal(pcg32_bounded(&rng, 1), 0);
}

static void test_uniform_and_normal_moments(void **state)
{
    (void)state;
    pcg32_t rng;
    pcg32_seed(&rng, 1u, 2u);
    const int n = 200000;
    double sum = 0, sum_f = 0, nsum = 0, nsq = 0;
    for (int i = 0; i < n; i++) {
        double u = pcg32_uniform(&rng);
        float f = pcg32_uniform_f(&rng);
        assert_true(u >= 0.0 && u < 1.0);
        assert_true(f >= 0.0f && f < 1.0f);
        sum += u;
        sum_f += f;
        double z = pcg32_normal(&rng);
        assert_true(isfinite(z));
        nsum += z;
        nsq += z * z;
    }
    /* mean 1/2, sd of the mean sqrt(1/12/n) ~ 0.00065 */
    assert_true(fabs(sum / n - 0.5) < 0.004);
    assert_true(fabs(sum_f / n - 0.5) < 0.004);
    /* normal: mean 0 (sd of mean 0.0022), variance 1 (sd ~ 0.0032) */
    assert_true(fabs(nsum / n) < 0.015);
    assert_true(fabs(nsq / n - 1.0) < 0.02);
}

static void test_uniform_uses_53_bits(void **state)
{
    (void)state;
    /* The two raw outputs after seeding (42, 54) are 0xa15c02b7 and
     * 0x7b47f409: u = ((a >> 5) * 2^26 + (b >> 6)) / 2^53. */
    pcg32_t rng;
    pcg32_seed(&rng, 42u, 54u);
    double expected =
        ((double)(0xa15c02b7u >> 5) * 67108864.0 + (double)(0x7b47f409u >> 6)) / 9007199254740992.0;
    assert_true(pcg32_uniform(&rng) == expected);
}

static void test_streams_are_distinct_and_replayable(void **state)
{
    (void)state;
    pcg32_t a, b, c, a2;
    pcg32_stream(&a, 42, 3 /* a purpose */, 0);
    pcg32_stream(&b, 42, 4 /* another purpose */, 0);
    pcg32_stream(&c, 42, 3 /* a purpose */, 1);
    pcg32_stream(&a2, 42, 3 /* a purpose */, 0);
    assert_true(a.inc != b.inc && a.inc != c.inc && b.inc != c.inc);
    int same_ab = 0, same_ac = 0;
    for (int i = 0; i < 1000; i++) {
        uint32_t x = pcg32_next(&a);
        same_ab += x == pcg32_next(&b);
        same_ac += x == pcg32_next(&c);
        assert_int_equal(x, pcg32_next(&a2));
    }
    assert_true(same_ab < 2 && same_ac < 2);
    /* a different seed gives a different stream for the same purpose */
    pcg32_t d;
    pcg32_stream(&d, 43, 3 /* a purpose */, 0);
    pcg32_stream(&a, 42, 3 /* a purpose */, 0);
    assert_true(pcg32_next(&d) != pcg32_next(&a) || pcg32_next(&d) != pcg32_next(&a));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_rounds),
        cmocka_unit_test(test_bounded_is_unbiased),
        cmocka_unit_test(test_threshold_kept_same_draws),
        cmocka_unit_test(test_uniform_and_normal_moments),
        cmocka_unit_test(test_uniform_uses_53_bits),
        cmocka_unit_test(test_streams_are_distinct_and_replayable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
