/* Metrics against hand-computed values (the arithmetic is in the
 * comments), the pairwise-cosine identity against the O(n^2) direct
 * formula, sampled Jaccard against exact, and the Lai-Robbins constants
 * of ../shared/reference/bandits.md to their printed digits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/metrics.h"
#include "sim/streams.h"
#include "test_support.h"

#define TOLERANCE 1e-12

/* ---- exposure ---- */

static void test_gini_hand_cases(void **state)
{
    (void)state;
    uint32_t scratch[16];
    /* {0,1,2,3}: n = 4, sum = 6, weights 2i - 5 = -3,-1,1,3:
     * (-3*0 - 1*1 + 1*2 + 3*3) / (4 * 6) = 10 / 24 = 5/12 */
    const uint32_t ascending[4] = {0, 1, 2, 3};
    ASSERT_NEAR(metrics_gini(ascending, 4, scratch), 5.0 / 12.0, TOLERANCE);
    /* order of the input does not matter, and counts is left alone */
    /* counts above 2^22 take three radix passes: sorted {0, 3, 4e6, 5e6},
     * weights -3, -1, 1, 3: (-3 + 4e6 + 15e6) / (4 * 9000003) */
    const uint32_t large[4] = {5000000, 3, 4000000, 0};
    ASSERT_NEAR(metrics_gini(large, 4, scratch), 18999997.0 / (4.0 * 9000003.0), TOLERANCE);
    const uint32_t shuffled[4] = {3, 0, 2, 1};
    ASSERT_NEAR(metrics_gini(shuffled, 4, scratch), 5.0 / 12.0, TOLERANCE);
    assert_int_equal(shuffled[0], 3);
    assert_int_equal(shuffled[1], 0);
    /* all on one item: sorted {0,0,0,5}, 3*5 / (4*5) = 3/4 = (n-1)/n */
    const uint32_t one_takes_all[4] = {0, 5, 0, 0};
    ASSERT_NEAR(metrics_gini(one_takes_all, 4, scratch), 3.0 / 4.0, TOLERANCE);
    /* perfectly even: weights sum to 0 */
    const uint32_t even[5] = {7, 7, 7, 7, 7};
    ASSERT_NEAR(metrics_gini(even, 5, scratch), 0.0, TOLERANCE);
    /* one item: weight 2 - 1 - 1 = 0, and (n-1)/n = 0 */
    const uint32_t single[1] = {9};
    ASSERT_NEAR(metrics_gini(single, 1, scratch), 0.0, TOLERANCE);
    /* no exposure at all, no items */
    const uint32_t none[3] = {0, 0, 0};
    ASSERT_NEAR(metrics_gini(none, 3, scratch), 0.0, TOLERANCE);
    ASSERT_NEAR(metrics_gini(NULL, 0, NULL), 0.0, TOLERANCE);
}

static void test_gini_large_is_sorted_and_fast(void **state)
{
    (void)state;
    /* counts n-1, ..., 1, 0 (descending): sorted they are j = 0..n-1, so
     * sum (2j - n + 1) j = 2 sum j^2 - (n-1) sum j = n(n-1)(n+1)/6 and
     * sum P = n(n-1)/2, G = (n+1) / (3n). A quadratic sort would not
     * finish within the test's timeout. */
    const size_t n = 1000000;
    uint32_t *counts = malloc(n * sizeof *counts);
    uint32_t *scratch = malloc(2 * n * sizeof *scratch);
    assert_non_null(counts);
    assert_non_null(scratch);
    for (size_t i = 0; i < n; i++)
        counts[i] = (uint32_t)(n - 1 - i);
    ASSERT_NEAR(metrics_gini(counts, n, scratch), (n + 1.0) / (3.0 * n), 1e-9);
    assert_int_equal(counts[0], n - 1);
    free(counts);
    free(scratch);
}

static void test_coverage(void **state)
{
    (void)state;
    const uint32_t counts[4] = {0, 1, 2, 3}; /* 3 of 4 shown */
    ASSERT_NEAR(metrics_coverage(counts, 4), 0.75, TOLERANCE);
    const uint32_t none[2] = {0, 0};
    ASSERT_NEAR(metrics_coverage(none, 2), 0.0, TOLERANCE);
    const uint32_t single[1] = {4};
    ASSERT_NEAR(metrics_coverage(single, 1), 1.0, TOLERANCE);
    ASSERT_NEAR(metrics_coverage(NULL, 0), 0.0, TOLERANCE);
}

static void test_entropy(void **state)
{
    (void)state;
    /* {0,1,2,3}: p = 1/6, 2/6, 3/6;
     * H = (1/6) ln 6 + (1/3) ln 3 + (1/2) ln 2
     *   = 0.298627 + 0.366204 + 0.346574 = 1.011404 nats;
     * normalised by ln 4 = 1.386294: 0.729574 */
    const uint32_t counts[4] = {0, 1, 2, 3};
    double h = log(6.0) / 6.0 + log(3.0) / 3.0 + log(2.0) / 2.0;
    ASSERT_NEAR(metrics_entropy(counts, 4), h, TOLERANCE);
    ASSERT_NEAR(metrics_entropy(counts, 4), 1.011404, 1e-6);
    ASSERT_NEAR(metrics_entropy_normalized(counts, 4), h / log(4.0), TOLERANCE);
    ASSERT_NEAR(metrics_entropy_normalized(counts, 4), 0.729574, 1e-6);
    /* uniform over 5: ln 5, normalised 1 */
    const uint32_t uniform[5] = {5, 5, 5, 5, 5};
    ASSERT_NEAR(metrics_entropy(uniform, 5), log(5.0), TOLERANCE);
    ASSERT_NEAR(metrics_entropy_normalized(uniform, 5), 1.0, TOLERANCE);
    /* all on one item: 1 ln 1 = 0 */
    const uint32_t one_takes_all[3] = {0, 8, 0};
    ASSERT_NEAR(metrics_entropy(one_takes_all, 3), 0.0, TOLERANCE);
    ASSERT_NEAR(metrics_entropy_normalized(one_takes_all, 3), 0.0, TOLERANCE);
    /* no exposure, one item, no items */
    const uint32_t none[3] = {0, 0, 0};
    ASSERT_NEAR(metrics_entropy(none, 3), 0.0, TOLERANCE);
    ASSERT_NEAR(metrics_entropy_normalized(none, 3), 0.0, TOLERANCE);
    const uint32_t single[1] = {6};
    ASSERT_NEAR(metrics_entropy(single, 1), 0.0, TOLERANCE);
    ASSERT_NEAR(metrics_entropy_normalized(single, 1), 0.0, TOLERANCE);
    ASSERT_NEAR(metrics_entropy(NULL, 0), 0.0, TOLERANCE);
    ASSERT_NEAR(metrics_entropy_normalized(NULL, 0), 0.0, TOLERANCE);
    /* repeated counts and counts 256 apart (the log memo's collisions,
     * UINT32_MAX among them): the same value bit for bit as the sum
     * -p log p in item order */
    uint32_t many[600];
    for (int i = 0; i < 600; i++)
        many[i] = (uint32_t)(i % 7 == 0 ? 0 : i % 3 == 0 ? 1 + (i % 5) * 256 : 3 + i % 11);
    many[599] = UINT32_MAX;
    double total = 0.0;
    for (int i = 0; i < 600; i++)
        total += many[i];
    double direct = 0.0;
    for (int i = 0; i < 600; i++) {
        if (many[i] == 0)
            continue;
        double p = (double)many[i] / total;
        direct -= p * log(p);
    }
    double memo = metrics_entropy(many, 600);
    assert_memory_equal(&memo, &direct, sizeof memo);
}

static void test_hhi(void **state)
{
    (void)state;
    const double halves[2] = {0.5, 0.5}; /* 0.25 + 0.25 */
    ASSERT_NEAR(metrics_hhi(halves, 2), 0.5, TOLERANCE);
    const double monopoly[1] = {1.0};
    ASSERT_NEAR(metrics_hhi(monopoly, 1), 1.0, TOLERANCE);
    const double uneven[3] = {0.6, 0.3, 0.1}; /* 0.36 + 0.09 + 0.01 */
    ASSERT_NEAR(metrics_hhi(uneven, 3), 0.46, TOLERANCE);
    const double no_market[2] = {0.0, 0.0};
    ASSERT_NEAR(metrics_hhi(no_market, 2), 0.0, TOLERANCE);
    ASSERT_NEAR(metrics_hhi(NULL, 0), 0.0, TOLERANCE);
}

/* ---- cosine figures ---- */

/* Mean cosine over unordered pairs, the O(n^2 dim) way. */
static double s_direct_mean_cosine(const float *table, const int32_t *rows, size_t n, size_t dim)
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++) {
            const float *x = table + (size_t)rows[i] * dim;
            const float *y = table + (size_t)rows[j] * dim;
            double xy = 0.0, xx = 0.0, yy = 0.0;
            for (size_t d = 0; d < dim; d++) {
                xy += (double)x[d] * y[d];
                xx += (double)x[d] * x[d];
                yy += (double)y[d] * y[d];
            }
            if (xx > 0.0 && yy > 0.0)
                sum += xy / sqrt(xx * yy);
        }
    }
    return sum / (n * (n - 1) / 2.0);
}

/* table rows used by the ILD tests, dim 2 */
static const float s_plane[6][2] = {
    {1, 0},  /* 0: a */
    {1, 1},  /* 1: b */
    {0, 2},  /* 2: c */
    {0, 0},  /* 3: zero */
    {2, 0},  /* 4: 2a */
    {-1, 0}, /* 5: -a */
};

static void test_intra_list_diversity_hand_cases(void **state)
{
    (void)state;
    const float *plane = &s_plane[0][0];
    /* orthogonal unit vectors: every cosine 0, ILD 1 */
    const float identity[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
    const int32_t all3[3] = {0, 1, 2};
    ASSERT_NEAR(metrics_intra_list_diversity(&identity[0][0], all3, 3, 3), 1.0, TOLERANCE);
    /* identical directions (a and 2a): cosine 1, ILD 0 */
    const int32_t same[2] = {0, 4};
    ASSERT_NEAR(metrics_intra_list_diversity(plane, same, 2, 2), 0.0, TOLERANCE);
    /* a, b, c: cos(a,b) = 1/sqrt2, cos(a,c) = 0, cos(b,c) = 2/(sqrt2*2) =
     * 1/sqrt2; mean = sqrt2/3 = 0.471405, ILD = 1 - sqrt2/3 = 0.528595 */
    const int32_t abc[3] = {0, 1, 2};
    double ild = metrics_intra_list_diversity(plane, abc, 3, 2);
    ASSERT_NEAR(ild, 1.0 - sqrt(2.0) / 3.0, TOLERANCE);
    ASSERT_NEAR(ild, 0.528595, 1e-6);
    ASSERT_NEAR(ild, 1.0 - s_direct_mean_cosine(plane, abc, 3, 2), TOLERANCE);
    /* rows out of order pick the same slate */
    const int32_t cba[3] = {2, 1, 0};
    ASSERT_NEAR(metrics_intra_list_diversity(plane, cba, 3, 2), ild, TOLERANCE);
    /* a zero vector is 0-similar to all: a, zero, 2a has cosines 0, 1, 0,
     * mean 1/3, ILD 2/3 */
    const int32_t with_zero[3] = {0, 3, 4};
    ASSERT_NEAR(metrics_intra_list_diversity(plane, with_zero, 3, 2), 2.0 / 3.0, TOLERANCE);
    /* opposite directions: cosine -1, ILD 2 */
    const int32_t opposite[2] = {0, 5};
    ASSERT_NEAR(metrics_intra_list_diversity(plane, opposite, 2, 2), 2.0, TOLERANCE);
    /* fewer than two items */
    ASSERT_NEAR(metrics_intra_list_diversity(plane, abc, 1, 2), 0.0, TOLERANCE);
    ASSERT_NEAR(metrics_intra_list_diversity(plane, NULL, 0, 2), 0.0, TOLERANCE);
}

static void test_mean_pairwise_cosine_hand_cases(void **state)
{
    (void)state;
    const float identity[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
    ASSERT_NEAR(metrics_mean_pairwise_cosine(&identity[0][0], 3, 3), 0.0, TOLERANCE);
    /* the same direction at different lengths: 1 */
    const float same[3][2] = {{1, 2}, {2, 4}, {0.5f, 1}};
    ASSERT_NEAR(metrics_mean_pairwise_cosine(&same[0][0], 3, 2), 1.0, TOLERANCE);
    /* s_plane rows a, b, c: sqrt2/3 (see the ILD case) */
    ASSERT_NEAR(metrics_mean_pairwise_cosine(&s_plane[0][0], 3, 2), sqrt(2.0) / 3.0, TOLERANCE);
    /* all six rows: pairs among a, b, c, zero, 2a, -a with the zero vector
     * at 0: a.b 1/r2, a.c 0, a.2a 1, a.-a -1, b.c 1/r2, b.2a 1/r2,
     * b.-a -1/r2, c.2a 0, c.-a 0, 2a.-a -1; sum = 2/r2 - 1 = sqrt2 - 1 over
     * 15 pairs = 0.027614 */
    double expected = (sqrt(2.0) - 1.0) / 15.0;
    ASSERT_NEAR(metrics_mean_pairwise_cosine(&s_plane[0][0], 6, 2), expected, TOLERANCE);
    const int32_t all6[6] = {0, 1, 2, 3, 4, 5};
    ASSERT_NEAR(s_direct_mean_cosine(&s_plane[0][0], all6, 6, 2), expected, TOLERANCE);
    /* opposite: -1; fewer than two vectors: 0 */
    const float opposite[2][2] = {{3, -1}, {-3, 1}};
    ASSERT_NEAR(metrics_mean_pairwise_cosine(&opposite[0][0], 2, 2), -1.0, TOLERANCE);
    ASSERT_NEAR(metrics_mean_pairwise_cosine(&opposite[0][0], 1, 2), 0.0, TOLERANCE);
    ASSERT_NEAR(metrics_mean_pairwise_cosine(NULL, 0, 2), 0.0, TOLERANCE);
}

static void test_cosine_identity_matches_direct(void **state)
{
    (void)state;
    /* Random vectors around a shared direction (so the mean is far from
     * 0), in a narrow and in the widest space (METRICS_MAX_DIM), with
     * one zero vector; ILD on a subset of rows. */
    /* below, at and between the blocks of 8 and 16 dimensions the unit
     * version sums in registers */
    const size_t dims[6] = {7, 8, 16, 24, 33, METRICS_MAX_DIM};
    const size_t n = 40;
    pcg32_t rng;
    pcg32_seed(&rng, 5u, 9u);
    for (int c = 0; c < 6; c++) {
        size_t dim = dims[c];
        float *table = malloc(n * dim * sizeof *table);
        assert_non_null(table);
        for (size_t i = 0; i < n; i++)
            for (size_t d = 0; d < dim; d++)
                table[i * dim + d] = (float)(pcg32_normal(&rng) + (d % 3 == 0 ? 1.0 : 0.0));
        memset(table + 3 * dim, 0, dim * sizeof *table);
        table[5 * dim] = 0.0f; /* nonzero, with a zero first element */
        int32_t rows[40];
        for (size_t i = 0; i < n; i++)
            rows[i] = (int32_t)i;
        double direct = s_direct_mean_cosine(table, rows, n, dim);
        ASSERT_NEAR(metrics_mean_pairwise_cosine(table, n, dim), direct, 1e-9);
        const int32_t slate[6] = {17, 3, 8, 39, 5, 22};
        ASSERT_NEAR(metrics_intra_list_diversity(table, slate, 6, dim),
                    1.0 - s_direct_mean_cosine(table, slate, 6, dim), 1e-9);
        /* from cached unit rows: the same value bit for bit (the zero row
         * 3 included), so the world's cache never moves a run's output */
        double *units = malloc(n * dim * sizeof *units);
        assert_non_null(units);
        for (size_t i = 0; i < n; i++)
            metrics_unit_row(table + i * dim, dim, units + i * dim);
        for (size_t d = 0; d < dim; d++)
            assert_true(units[3 * dim + d] == 0.0);
        double a = metrics_intra_list_diversity(table, slate, 6, dim);
        double b = metrics_intra_list_diversity_units(units, slate, 6, dim);
        assert_memory_equal(&a, &b, sizeof a);
        a = metrics_intra_list_diversity(table, rows, n, dim);
        b = metrics_intra_list_diversity_units(units, rows, n, dim);
        assert_memory_equal(&a, &b, sizeof a);
        /* with the inverse norms given: the same bits again */
        double inv_norms[40];
        for (size_t i = 0; i < n; i++)
            inv_norms[i] = metrics_inverse_norm(table + (size_t)rows[i] * dim, dim);
        assert_true(inv_norms[3] == 0.0);
        b = metrics_intra_list_diversity_normed(table, rows, inv_norms, n, dim);
        assert_memory_equal(&a, &b, sizeof a);
        double on_slate = metrics_intra_list_diversity(table, slate, 6, dim), normed;
        for (size_t i = 0; i < 6; i++)
            inv_norms[i] = metrics_inverse_norm(table + (size_t)slate[i] * dim, dim);
        normed = metrics_intra_list_diversity_normed(table, slate, inv_norms, 6, dim);
        assert_memory_equal(&on_slate, &normed, sizeof normed);
        assert_true(metrics_intra_list_diversity_normed(table, slate, inv_norms, 1, dim) == 0.0);
        /* rows that do not start on 16 bytes take the unaligned path */
        double *shifted = malloc((n * dim + 1) * sizeof *shifted);
        assert_non_null(shifted);
        memcpy(shifted + 1, units, n * dim * sizeof *units);
        b = metrics_intra_list_diversity_units(shifted + 1, rows, n, dim);
        assert_memory_equal(&a, &b, sizeof a);
        free(shifted);
        free(units);
        free(table);
    }
}

/* ---- Jaccard ---- */

static void test_jaccard_hand_cases(void **state)
{
    (void)state;
    /* {1,2} and {2,3}: |n| = 1, |u| = 3, 1/3 */
    const int32_t two_items[4] = {1, 2, 2, 3};
    const size_t two_offsets[3] = {0, 2, 4};
    ASSERT_NEAR(metrics_mean_jaccard(two_items, two_offsets, 2, 100, NULL), 1.0 / 3.0, TOLERANCE);
    /* A {1,2,3}, B {2,3,4}, C {5}: J(A,B) = 2/4, J(A,C) = J(B,C) = 0,
     * mean (1/2 + 0 + 0) / 3 = 1/6 */
    const int32_t three_items[7] = {1, 2, 3, 2, 3, 4, 5};
    const size_t three_offsets[4] = {0, 3, 6, 7};
    ASSERT_NEAR(metrics_mean_jaccard(three_items, three_offsets, 3, 3, NULL), 1.0 / 6.0, TOLERANCE);
    /* {1,2}, {}, {}, {2,3}: the pair of empty sets is left out; of the
     * other five only ({1,2},{2,3}) is nonzero: (1/3) / 5 = 1/15 */
    const int32_t empty_items[4] = {1, 2, 2, 3};
    const size_t empty_offsets[5] = {0, 2, 2, 2, 4};
    ASSERT_NEAR(metrics_mean_jaccard(empty_items, empty_offsets, 4, 6, NULL), 1.0 / 15.0,
                TOLERANCE);
    /* only empty sets: no pair counts */
    const size_t all_empty[4] = {0, 0, 0, 0};
    ASSERT_NEAR(metrics_mean_jaccard(NULL, all_empty, 3, 3, NULL), 0.0, TOLERANCE);
    /* identical sets: 1 */
    const int32_t twins[4] = {4, 9, 4, 9};
    const size_t twin_offsets[3] = {0, 2, 4};
    ASSERT_NEAR(metrics_mean_jaccard(twins, twin_offsets, 2, 1, NULL), 1.0, TOLERANCE);
    /* one set, no sets: no pairs */
    ASSERT_NEAR(metrics_mean_jaccard(two_items, two_offsets, 1, 0, NULL), 0.0, TOLERANCE);
    const size_t no_offsets[1] = {0};
    ASSERT_NEAR(metrics_mean_jaccard(NULL, no_offsets, 0, 0, NULL), 0.0, TOLERANCE);
}

static void test_jaccard_exact_leaves_rng_alone(void **state)
{
    (void)state;
    const int32_t items[4] = {1, 2, 2, 3};
    const size_t offsets[3] = {0, 2, 4};
    pcg32_t rng, before;
    pcg32_seed(&rng, 3u, 4u);
    before = rng;
    /* one pair <= max_pairs 1: exact */
    ASSERT_NEAR(metrics_mean_jaccard(items, offsets, 2, 1, &rng), 1.0 / 3.0, TOLERANCE);
    assert_memory_equal(&rng, &before, sizeof rng);
}

static void test_jaccard_sampled(void **state)
{
    (void)state;
    /* 400 sets over 60 items in three groups of 20: a set takes each item
     * of its own group with probability 1/2 and each other item with 1/20,
     * so pairs range from about 0.03 to 0.3. 79800 pairs. */
    enum { N_SETS = 400, N_ITEMS = 60 };
    int32_t *items = malloc((size_t)N_SETS * N_ITEMS * sizeof *items);
    size_t offsets[N_SETS + 1];
    assert_non_null(items);
    pcg32_t rng;
    pcg32_seed(&rng, 11u, 13u);
    offsets[0] = 0;
    for (int s = 0; s < N_SETS; s++) {
        size_t len = offsets[s];
        for (int item = 0; item < N_ITEMS; item++) {
            uint32_t chance = item / 20 == s % 3 ? 10u : 1u;
            if (pcg32_bounded(&rng, 20) < chance)
                items[len++] = item;
        }
        offsets[s + 1] = len;
    }
    const size_t all_pairs = N_SETS * (N_SETS - 1) / 2;
    double exact = metrics_mean_jaccard(items, offsets, N_SETS, all_pairs, NULL);
    assert_true(exact > 0.05 && exact < 0.3);

    /* the same rng state gives the same sample, bit for bit */
    pcg32_t a, b, c;
    pcg32_stream(&a, 42, SIM_STREAM_METRICS, 0);
    b = a;
    pcg32_stream(&c, 43, SIM_STREAM_METRICS, 0);
    double first = metrics_mean_jaccard(items, offsets, N_SETS, 20000, &a);
    double again = metrics_mean_jaccard(items, offsets, N_SETS, 20000, &b);
    double other = metrics_mean_jaccard(items, offsets, N_SETS, 20000, &c);
    assert_true(first == again);
    assert_memory_equal(&a, &b, sizeof a);
    assert_true(first != other);
    /* pair Jaccards have sd under 0.15, so the sample mean's sd is under
     * 0.15 / sqrt(20000) = 0.0011; 0.006 is over five of those */
    ASSERT_NEAR(first, exact, 0.006);
    ASSERT_NEAR(other, exact, 0.006);
    /* one pair short of exact samples too */
    pcg32_stream(&a, 42, SIM_STREAM_METRICS, 1);
    b = a;
    ASSERT_NEAR(metrics_mean_jaccard(items, offsets, N_SETS, all_pairs - 1, &a), exact, 0.006);
    assert_true(a.state != b.state);
    free(items);
}

/* ---- bandits ---- */

static void test_kl_bernoulli(void **state)
{
    (void)state;
    /* 0.4 ln(0.4/0.5) + 0.6 ln(0.6/0.5) = -0.089257 + 0.109393 = 0.020136 */
    ASSERT_NEAR(metrics_kl_bernoulli(0.4, 0.5), 0.020135, 1e-6);
    /* 0.1 ln(1/9) + 0.9 ln 9 = 0.8 ln 9 = 1.757780 */
    ASSERT_NEAR(metrics_kl_bernoulli(0.1, 0.9), 0.8 * log(9.0), TOLERANCE);
    ASSERT_NEAR(metrics_kl_bernoulli(0.1, 0.9), 1.757779, 1e-6);
    ASSERT_NEAR(metrics_kl_bernoulli(0.3, 0.3), 0.0, TOLERANCE);
    /* 0 ln 0 = 0: KL(0, 1/2) = ln 2 = KL(1, 1/2); KL(0, 0) = KL(1, 1) = 0 */
    ASSERT_NEAR(metrics_kl_bernoulli(0.0, 0.5), log(2.0), TOLERANCE);
    ASSERT_NEAR(metrics_kl_bernoulli(1.0, 0.5), log(2.0), TOLERANCE);
    ASSERT_NEAR(metrics_kl_bernoulli(0.0, 0.0), 0.0, TOLERANCE);
    ASSERT_NEAR(metrics_kl_bernoulli(1.0, 1.0), 0.0, TOLERANCE);
    /* y at 0 or 1 with x elsewhere: infinite */
    assert_true(isinf(metrics_kl_bernoulli(0.5, 0.0)));
    assert_true(isinf(metrics_kl_bernoulli(0.5, 1.0)));
}

static void test_lai_robbins_reference(void **state)
{
    (void)state;
    /* [0.9, 0.8]: 0.1 / KL(0.8, 0.9) = 0.1 / 0.044403 = 2.2521 */
    const double two[2] = {0.9, 0.8};
    ASSERT_NEAR(metrics_lai_robbins(two, 2), 2.2521, 0.5e-4);
    const double five[5] = {0.9, 0.8, 0.7, 0.6, 0.5};
    ASSERT_NEAR(metrics_lai_robbins(five, 5), 5.3006, 0.5e-4);
    const double small[4] = {0.1, 0.05, 0.02, 0.01};
    ASSERT_NEAR(metrics_lai_robbins(small, 4), 5.8151, 0.5e-4);
    /* K = 10: 9 * 0.1 / KL(0.4, 0.5) = 0.9 / 0.0201355 = 44.697 */
    double ten[10] = {0.5};
    for (int i = 1; i < 10; i++)
        ten[i] = 0.4;
    ASSERT_NEAR(metrics_lai_robbins(ten, 10), 44.697, 0.5e-3);
    for (int i = 1; i < 10; i++)
        ten[i] = 0.48;
    ASSERT_NEAR(metrics_lai_robbins(ten, 10), 224.94, 0.5e-2);
    /* the best arm may be anywhere */
    const double reversed[2] = {0.8, 0.9};
    ASSERT_NEAR(metrics_lai_robbins(reversed, 2), metrics_lai_robbins(two, 2), TOLERANCE);
}

static void test_lai_robbins_edges(void **state)
{
    (void)state;
    ASSERT_NEAR(metrics_lai_robbins(NULL, 0), 0.0, TOLERANCE);
    const double one[1] = {0.7};
    ASSERT_NEAR(metrics_lai_robbins(one, 1), 0.0, TOLERANCE);
    /* ties with the best arm add nothing: only 0.8 counts */
    const double tied[3] = {0.9, 0.8, 0.9};
    ASSERT_NEAR(metrics_lai_robbins(tied, 3), 0.1 / metrics_kl_bernoulli(0.8, 0.9), TOLERANCE);
    const double all_tied[2] = {0.4, 0.4};
    ASSERT_NEAR(metrics_lai_robbins(all_tied, 2), 0.0, TOLERANCE);
    /* mu* = 1: KL(mu_k, 1) is infinite, the arm adds 0 */
    const double certain[2] = {1.0, 0.5};
    ASSERT_NEAR(metrics_lai_robbins(certain, 2), 0.0, TOLERANCE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gini_hand_cases),
        cmocka_unit_test(test_gini_large_is_sorted_and_fast),
        cmocka_unit_test(test_coverage),
        cmocka_unit_test(test_entropy),
        cmocka_unit_test(test_hhi),
        cmocka_unit_test(test_intra_list_diversity_hand_cases),
        cmocka_unit_test(test_mean_pairwise_cosine_hand_cases),
        cmocka_unit_test(test_cosine_identity_matches_direct),
        cmocka_unit_test(test_jaccard_hand_cases),
        cmocka_unit_test(test_jaccard_exact_leaves_rng_alone),
        cmocka_unit_test(test_jaccard_sampled),
        cmocka_unit_test(test_kl_bernoulli),
        cmocka_unit_test(test_lai_robbins_reference),
        cmocka_unit_test(test_lai_robbins_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
