/* Metrics: see metrics.h; formulas and conventions in docs/metrics.md.
 * Pairwise cosine figures use sum_{i != j} x_i.x_j = |sum x|^2 - sum |x|^2
 * on the normalised vectors, so they cost one pass over the vectors
 * instead of one per pair. */
#include "core/metrics.h"

#include "core/vec.h"

#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static double s_total(const uint32_t *counts, size_t n)
{
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += counts[i];
    return (double)total;
}

/* Sorts counts (n) ascending into out (n) by LSD radix sort on 11-bit
 * digits, as many passes as the largest count needs (one for counts below
 * 2048), ping-ponging between out and tmp (n). */
static void s_radix_sort(const uint32_t *counts, size_t n, uint32_t max, uint32_t *out,
                         uint32_t *tmp)
{
    int passes = 1;
    while (passes < 3 && (max >> (11 * passes)) != 0)
        passes++;
    /* the last pass must land in out: start in out for odd pass counts */
    uint32_t *dst = passes % 2 ? out : tmp, *other = passes % 2 ? tmp : out;
    const uint32_t *src = counts;
    for (int pass = 0; pass < passes; pass++) {
        size_t offset[2048] = {0};
        int shift = 11 * pass;
        for (size_t i = 0; i < n; i++)
            offset[(src[i] >> shift) & 2047u]++;
        size_t sum = 0;
        for (size_t b = 0; b < 2048; b++) {
            size_t c = offset[b];
            offset[b] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            dst[offset[(src[i] >> shift) & 2047u]++] = src[i];
        src = dst;
        uint32_t *swap = dst;
        dst = other;
        other = swap;
    }
}

double metrics_gini(const uint32_t *counts, size_t n, uint32_t *scratch)
{
    double total = s_total(counts, n);
    if (n == 0 || total == 0.0)
        return 0.0;
    assert(scratch != counts);
    uint32_t max = 0;
    for (size_t i = 0; i < n; i++)
        max = counts[i] > max ? counts[i] : max;
    s_radix_sort(counts, n, max, scratch, scratch + n);
    double weighted = 0.0;
    for (size_t i = 0; i < n; i++) /* rank i + 1: weight 2(i + 1) - n - 1 */
        weighted += (2.0 * (double)i + 1.0 - (double)n) * (double)scratch[i];
    return weighted / ((double)n * total);
}

double metrics_coverage(const uint32_t *counts, size_t n)
{
    if (n == 0)
        return 0.0;
    size_t shown = 0;
    for (size_t i = 0; i < n; i++)
        shown += counts[i] > 0;
    return (double)shown / (double)n;
}

#define S_LOG_MEMO 256 /* metrics_entropy's memo of log(p) by count */

double metrics_entropy(const uint32_t *counts, size_t n)
{
    double total = s_total(counts, n);
    if (total == 0.0)
        return 0.0;
    /* log(p) of the counts seen, direct-mapped by count (tag 0: empty, as
     * zero counts are skipped): equal counts give equal p, so the memo
     * returns the log that would be computed, and catalogs with many items
     * of the same exposure take one log per distinct count */
    uint32_t tag[S_LOG_MEMO] = {0};
    double memo[S_LOG_MEMO];
    double entropy = 0.0;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = counts[i];
        if (c == 0)
            continue;
        double p = (double)c / total;
        uint32_t slot = c % S_LOG_MEMO;
        if (tag[slot] != c) {
            tag[slot] = c;
            memo[slot] = log(p);
        }
        entropy -= p * memo[slot];
    }
    return entropy;
}

double metrics_entropy_normalized(const uint32_t *counts, size_t n)
{
    if (n <= 1)
        return 0.0;
    return metrics_entropy(counts, n) / log((double)n);
}

double metrics_hhi(const double *shares, size_t n)
{
    double hhi = 0.0;
    for (size_t i = 0; i < n; i++)
        hhi += shares[i] * shares[i];
    return hhi;
}

/* Vector i of a set: table row rows[i], or row i when rows is NULL. */
static const float *s_vector(const float *table, const int32_t *rows, size_t i, size_t dim)
{
    if (rows == NULL)
        return table + i * dim;
    assert(rows[i] >= 0);
    return table + (size_t)rows[i] * dim;
}

/* |x|^2 with four partial sums: independent chains, a fixed order. */
static double s_squared_norm(const float *x, size_t dim)
{
    double part[4] = {0.0, 0.0, 0.0, 0.0};
    size_t d = 0;
    for (; d + 4 <= dim; d += 4)
        for (size_t l = 0; l < 4; l++)
            part[l] += (double)x[d + l] * (double)x[d + l];
    double squares = (part[0] + part[1]) + (part[2] + part[3]);
    for (; d < dim; d++)
        squares += (double)x[d] * (double)x[d];
    return squares;
}

double metrics_inverse_norm(const float *x, size_t dim)
{
    double squares = s_squared_norm(x, dim);
    return squares == 0.0 ? 0.0 : 1.0 / sqrt(squares);
}

/* sum += x * inv_norm, element by element (each sum[d] its own chain, so
 * the compiler may use vector lanes without changing a bit). */
static void s_add_scaled(double *sum, const float *x, double inv_norm, size_t dim)
{
    for (size_t d = 0; d < dim; d++)
        sum[d] += (double)x[d] * inv_norm;
}

void metrics_unit_row(const float *x, size_t dim, double *unit)
{
    double inv_norm = metrics_inverse_norm(x, dim);
    for (size_t d = 0; d < dim; d++)
        unit[d] = (double)x[d] * inv_norm;
}

/* |sum|^2 - nonzero: the sum of cosines over ordered pairs from the sum of
 * the unit vectors (below). */
static double s_pairs_from_sum(const double *sum, size_t dim, size_t nonzero)
{
    double all_pairs = 0.0;
    for (size_t d = 0; d < dim; d++)
        all_pairs += sum[d] * sum[d];
    return all_pairs - (double)nonzero;
}

/* Sum of cos(x_i, x_j) over the n(n-1) ordered pairs i != j of n vectors
 * (see s_vector), zero vectors contributing 0: |sum x^|^2 - sum |x^|^2
 * with x^ = x / |x|, where the second sum is the count of nonzero x. */
static double s_sum_cosine_ordered_pairs(const float *table, const int32_t *rows, size_t n,
                                         size_t dim)
{
    assert(dim <= METRICS_MAX_DIM);
    double sum[METRICS_MAX_DIM];
    memset(sum, 0, dim * sizeof *sum);
    size_t nonzero = 0;
    for (size_t i = 0; i < n; i++) {
        const float *x = s_vector(table, rows, i, dim);
        double inv_norm = metrics_inverse_norm(x, dim);
        if (inv_norm == 0.0)
            continue;
        s_add_scaled(sum, x, inv_norm, dim);
        nonzero++;
    }
    return s_pairs_from_sum(sum, dim, nonzero);
}

/* s_pairs_from_sum of 16 sums held as eight pairs: the squares added in
 * ascending dimension. */
static double s_pairs_from_sums16(const vec_d2 sum[8], size_t nonzero)
{
    double all_pairs = 0.0;
    for (size_t l = 0; l < 8; l++) {
        vec_d2 square = sum[l] * sum[l];
        all_pairs += square[0];
        all_pairs += square[1];
    }
    return all_pairs - (double)nonzero;
}

double metrics_intra_list_diversity(const float *table, const int32_t *rows, size_t k, size_t dim)
{
    if (k < 2)
        return 0.0;
    assert(rows != NULL);
    double ordered_pairs = (double)k * (double)(k - 1);
    double pairs = s_sum_cosine_ordered_pairs(table, rows, k, dim);
    return 1.0 - pairs / ordered_pairs;
}

/* s_sum_cosine_ordered_pairs of k table rows at 16 dimensions with their
 * inverse norms given, its sums in registers: each sum[d] += x[d] *
 * inv_norm in the same order, zero rows skipped, the squares added in
 * ascending d, so the same bits. The world calls it per page when it keeps
 * no unit rows. */
static double s_sum_cosine_rows16_normed(const float *table, const int32_t *rows,
                                         const double *inv_norms, size_t k)
{
    vec_d2 sum[8];
    for (size_t l = 0; l < 8; l++)
        sum[l] = (vec_d2){0.0, 0.0};
    size_t nonzero = 0;
    for (size_t i = 0; i < k; i++) {
        assert(rows[i] >= 0);
        if (inv_norms[i] == 0.0)
            continue;
        const float *x = table + (size_t)rows[i] * 16;
        vec_d2 by = {inv_norms[i], inv_norms[i]};
        for (size_t l = 0; l < 8; l++)
            sum[l] += (vec_d2){(double)x[2 * l], (double)x[2 * l + 1]} * by;
        nonzero++;
    }
    return s_pairs_from_sums16(sum, nonzero);
}

double metrics_intra_list_diversity_normed(const float *table, const int32_t *rows,
                                           const double *inv_norms, size_t k, size_t dim)
{
    if (k < 2)
        return 0.0;
    assert(rows != NULL && inv_norms != NULL && dim <= METRICS_MAX_DIM);
    double pairs;
    if (dim == 16) {
        pairs = s_sum_cosine_rows16_normed(table, rows, inv_norms, k);
    } else {
        double sum[METRICS_MAX_DIM];
        memset(sum, 0, dim * sizeof *sum);
        size_t nonzero = 0;
        for (size_t i = 0; i < k; i++) {
            if (inv_norms[i] == 0.0)
                continue;
            s_add_scaled(sum, s_vector(table, rows, i, dim), inv_norms[i], dim);
            nonzero++;
        }
        pairs = s_pairs_from_sum(sum, dim, nonzero);
    }
    return 1.0 - pairs / ((double)k * (double)(k - 1));
}

/* Whether a unit row (dim doubles) is nonzero: a zero row is all zeros. */
static bool s_unit_nonzero(const double *u, size_t dim)
{
    for (size_t e = 0; e < dim; e++)
        if (u[e] != 0.0)
            return true;
    return false;
}

/* Dimensions [d, d + width) of the k rows summed in registers (pairs of
 * doubles, width / 2 of them), each sum[l] adding the rows in order, and
 * their squares added to *all_pairs in ascending dimension. With nonzero
 * (d == 0 only), also counts the nonzero rows, looking past the first
 * element only when it is zero. aligned: every row starts on 16 bytes, so
 * the pairs are read as aligned operands. Inlined with constants. */
static inline void s_units_block(const double *units, const int32_t *rows, size_t k, size_t dim,
                                 size_t d, size_t width, bool aligned, double *all_pairs,
                                 size_t *nonzero)
{
    vec_d2 sum[8];
    for (size_t l = 0; l < width / 2; l++)
        sum[l] = (vec_d2){0.0, 0.0};
    for (size_t i = 0; i < k; i++) {
        const double *u = units + (size_t)rows[i] * dim;
        if (aligned)
            u = __builtin_assume_aligned(u, 16);
        if (nonzero)
            *nonzero += u[0] != 0.0 || s_unit_nonzero(u, dim);
        for (size_t l = 0; l < width / 2; l++)
            sum[l] += vec_load_d2(u + d + 2 * l);
    }
    for (size_t l = 0; l < width / 2; l++) {
        vec_d2 square = sum[l] * sum[l];
        *all_pairs += square[0];
        *all_pairs += square[1];
    }
}

/* metrics_intra_list_diversity_units for k >= 2, inlined with aligned
 * constant (see s_units_block). */
__attribute__((always_inline)) static inline double
s_ild_units(const double *units, const int32_t *rows, size_t k, size_t dim, bool aligned)
{
    /* Blocks of 16 (then 8) dimensions, each summed over the k rows in
     * registers: every sum[d] still adds the rows in order and the squares
     * are added in ascending d, as s_sum_cosine_ordered_pairs does, so the
     * result is the same bit for bit. The first block also counts the
     * nonzero rows. */
    double all_pairs = 0.0;
    size_t nonzero = 0, d = 0;
    if (dim >= 16) {
        s_units_block(units, rows, k, dim, 0, 16, aligned, &all_pairs, &nonzero);
        d = 16;
    } else if (dim >= 8) {
        s_units_block(units, rows, k, dim, 0, 8, aligned, &all_pairs, &nonzero);
        d = 8;
    } else {
        for (size_t i = 0; i < k; i++)
            nonzero += s_unit_nonzero(units + (size_t)rows[i] * dim, dim);
    }
    for (; d + 16 <= dim; d += 16)
        s_units_block(units, rows, k, dim, d, 16, aligned, &all_pairs, NULL);
    for (; d + 8 <= dim; d += 8)
        s_units_block(units, rows, k, dim, d, 8, aligned, &all_pairs, NULL);
    for (; d < dim; d++) {
        double sum = 0.0;
        for (size_t i = 0; i < k; i++)
            sum += units[(size_t)rows[i] * dim + d];
        all_pairs += sum * sum;
    }
    double ordered_pairs = (double)k * (double)(k - 1);
    return 1.0 - (all_pairs - (double)nonzero) / ordered_pairs;
}

double metrics_intra_list_diversity_units(const double *units, const int32_t *rows, size_t k,
                                          size_t dim)
{
    if (k < 2)
        return 0.0;
    assert(rows != NULL);
    if ((uintptr_t)units % 16 == 0 && dim % 2 == 0)
        return s_ild_units(units, rows, k, dim, true);
    return s_ild_units(units, rows, k, dim, false);
}

double metrics_mean_pairwise_cosine(const float *vectors, size_t n, size_t dim)
{
    if (n < 2)
        return 0.0;
    double ordered_pairs = (double)n * (double)(n - 1);
    return s_sum_cosine_ordered_pairs(vectors, NULL, n, dim) / ordered_pairs;
}

/* Unordered pairs of n things, n(n-1)/2, saturating at SIZE_MAX. */
static size_t s_pair_count(size_t n)
{
    if (n < 2)
        return 0;
    size_t a = n % 2 == 0 ? n / 2 : n;
    size_t b = n % 2 == 0 ? n - 1 : (n - 1) / 2;
    return a > SIZE_MAX / b ? SIZE_MAX : a * b;
}

/* Adds the Jaccard similarity of sets a and b to *sum and counts the pair
 * in *pairs, unless their union is empty. Both sets sorted ascending. */
static void s_add_jaccard(const int32_t *items, const size_t *offsets, size_t a, size_t b,
                          double *sum, size_t *pairs)
{
    size_t i = offsets[a], i_end = offsets[a + 1];
    size_t j = offsets[b], j_end = offsets[b + 1];
    size_t both = 0;
    while (i < i_end && j < j_end) {
        if (items[i] < items[j]) {
            i++;
        } else if (items[j] < items[i]) {
            j++;
        } else {
            both++;
            i++;
            j++;
        }
    }
    size_t either = (i_end - offsets[a]) + (j_end - offsets[b]) - both;
    if (either == 0)
        return;
    *sum += (double)both / (double)either;
    (*pairs)++;
}

double metrics_mean_jaccard(const int32_t *items, const size_t *offsets, size_t n_sets,
                            size_t max_pairs, pcg32_t *rng)
{
    double sum = 0.0;
    size_t pairs = 0;
    if (s_pair_count(n_sets) <= max_pairs) {
        for (size_t a = 0; a < n_sets; a++)
            for (size_t b = a + 1; b < n_sets; b++)
                s_add_jaccard(items, offsets, a, b, &sum, &pairs);
    } else {
        assert(rng != NULL && n_sets <= UINT32_MAX);
        for (size_t draw = 0; draw < max_pairs; draw++) {
            /* a uniform ordered pair a != b: b skips over a */
            uint32_t a = pcg32_bounded(rng, (uint32_t)n_sets);
            uint32_t b = pcg32_bounded(rng, (uint32_t)n_sets - 1);
            b += b >= a;
            s_add_jaccard(items, offsets, a, b, &sum, &pairs);
        }
    }
    return pairs == 0 ? 0.0 : sum / (double)pairs;
}

/* p ln(p / q), with 0 ln 0 = 0 and +INFINITY when q == 0 < p. */
static double s_kl_term(double p, double q)
{
    if (p == 0.0)
        return 0.0;
    if (q == 0.0)
        return INFINITY;
    return p * log(p / q);
}

double metrics_kl_bernoulli(double x, double y)
{
    return s_kl_term(x, y) + s_kl_term(1.0 - x, 1.0 - y);
}

double metrics_lai_robbins(const double *mu, size_t k)
{
    if (k == 0)
        return 0.0;
    double best = mu[0];
    for (size_t i = 1; i < k; i++)
        best = mu[i] > best ? mu[i] : best;
    double c = 0.0;
    for (size_t i = 0; i < k; i++)
        if (mu[i] < best)
            c += (best - mu[i]) / metrics_kl_bernoulli(mu[i], best);
    return c;
}
