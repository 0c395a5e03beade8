/* Metrics: the figures a run reports about exposure concentration,
 * diversity, homogenization and bandit difficulty, as pure functions of
 * plain arrays. The world (world_episode_metrics) gathers the arrays and
 * calls these; tests and tools can call them on anything. None of them
 * allocates (Gini sorts in the caller's scratch); all accumulate in
 * double. Logarithms are natural (nats). Every formula, unit and
 * edge-case convention is in docs/metrics.md. */
#ifndef RECARENA_METRICS_H
#define RECARENA_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "core/pcg32.h"

#define METRICS_MAX_DIM 1024 /* widest vectors the cosine metrics take */

/* Gini coefficient of exposure counts over ALL n items (never-shown items
 * count as 0): G = sum_{i=1..n} (2i - n - 1) P_(i) / (n * sum P), P sorted
 * ascending. 0 = perfectly even, (n-1)/n = one item gets everything; it
 * says how unequally the recommenders spread attention over the catalog.
 * counts: (n), not modified. scratch: (2n), distinct from counts, the
 * function overwrites it (it radix-sorts a copy there). O(n): one pass
 * over the counts per 11 bits of the largest count.
 * Returns 0 when n == 0 or every count is 0. */
double metrics_gini(const uint32_t *counts, size_t n, uint32_t *scratch);

/* Catalog coverage: the fraction of the n items with a count above 0.
 * counts: (n). Returns 0 when n == 0. */
double metrics_coverage(const uint32_t *counts, size_t n);

/* Exposure entropy in nats: -sum_i p_i ln p_i with p_i = counts_i / sum
 * counts (0 ln 0 = 0). Between 0 (one item gets everything) and ln n
 * (perfectly even). counts: (n). Returns 0 when every count is 0. */
double metrics_entropy(const uint32_t *counts, size_t n);

/* metrics_entropy / ln n, in [0, 1]: comparable across catalog sizes.
 * counts: (n). Returns 0 when n <= 1 or every count is 0. */
double metrics_entropy_normalized(const uint32_t *counts, size_t n);

/* Herfindahl-Hirschman index of market concentration: sum_i shares_i^2.
 * With shares summing to 1 it lies in [1/n, 1], 1 = one firm holds the
 * whole market. shares: (n), used as given. Returns 0 when n == 0. */
double metrics_hhi(const double *shares, size_t n);

/* Intra-list diversity of one slate: 1 - the mean cosine similarity of
 * the embeddings of its items over the k(k-1)/2 pairs, in [0, 2]; 0 =
 * every item points the same way, 1 = mutually orthogonal on average.
 * table: (n_rows, dim) row-major embeddings; rows: (k) indices into table,
 * each in [0, n_rows). A zero vector has similarity 0 with everything.
 * O(k dim); dim <= METRICS_MAX_DIM (at least protocol.h PROTO_MAX_DIM). Returns 0
 * when k < 2. */
double metrics_intra_list_diversity(const float *table, const int32_t *rows, size_t k, size_t dim);

/* 1 / |x| in double (squares summed in metrics' fixed order), 0 for a
 * zero vector: what metrics_intra_list_diversity computes for each row,
 * for callers that keep it per row. x: (dim) finite floats. */
double metrics_inverse_norm(const float *x, size_t dim);

/* Row x scaled to unit length in double, exactly as
 * metrics_intra_list_diversity scales it: unit[d] = x[d] *
 * metrics_inverse_norm(x); all zeros for a zero row. unit: (dim). */
void metrics_unit_row(const float *x, size_t dim, double *unit);

/* metrics_intra_list_diversity of rows given as metrics_unit_row rows
 * (units: (n_rows, dim), borrowed): the same value, bit for bit, without
 * recomputing norms. The world keeps one unit row per item while its
 * catalog's rows fit in a core's cache, and calls
 * metrics_intra_list_diversity on its embeddings beyond that. */
double metrics_intra_list_diversity_units(const double *units, const int32_t *rows, size_t k,
                                          size_t dim);

/* metrics_intra_list_diversity with each row's metrics_inverse_norm given
 * (inv_norms: (k), that of table row rows[i] at i): the same value, bit
 * for bit, without the square roots and divisions. The world keeps one
 * per item for catalogs too large to keep unit rows. */
double metrics_intra_list_diversity_normed(const float *table, const int32_t *rows,
                                           const double *inv_norms, size_t k, size_t dim);

/* Mean cosine similarity of n vectors over the n(n-1)/2 unordered pairs,
 * in [-1, 1]: how alike a population is (the world applies it to the
 * users' hidden interest vectors). vectors: (n, dim) row-major. A zero
 * vector has similarity 0 with everything. Cost as for ILD: O(n dim).
 * Returns 0 when n < 2. */
double metrics_mean_pairwise_cosine(const float *vectors, size_t n, size_t dim);

/* Homogenization: mean Jaccard similarity |A n B| / |A u B| over pairs of
 * sets (the world's sets are what each user consumed). The sets are in
 * CSR form: set s is items[offsets[s] .. offsets[s+1]), sorted ascending,
 * no duplicates; offsets: (n_sets + 1). Pairs whose union is empty (both
 * sets empty) are left out of the mean; returns 0 when no pair counts.
 * If n_sets (n_sets - 1) / 2 <= max_pairs every unordered pair is used
 * (exact, rng untouched and may be NULL). Otherwise max_pairs pairs i != j
 * are drawn uniformly, with replacement, from rng (borrowed, advanced;
 * the same rng state gives the same result), which needs n_sets <=
 * UINT32_MAX. Cost: the sizes of both sets, per pair used. */
double metrics_mean_jaccard(const int32_t *items, const size_t *offsets, size_t n_sets,
                            size_t max_pairs, pcg32_t *rng);

/* Kullback-Leibler divergence between Bernoulli(x) and Bernoulli(y), in
 * nats: x ln(x/y) + (1-x) ln((1-x)/(1-y)), with 0 ln 0 = 0; x, y in
 * [0, 1]. 0 when x == y; +INFINITY when y is 0 or 1 and x differs. */
double metrics_kl_bernoulli(double x, double y);

/* Lai-Robbins constant of a Bernoulli bandit: C(mu) = sum over suboptimal
 * arms k (mu_k < mu*) of (mu* - mu_k) / KL(mu_k, mu*), mu* = max mu; any
 * consistent policy's regret grows at least like C(mu) ln T, so regret /
 * (C ln T) says how close a policy comes to optimal. mu: (k) arm means in
 * [0, 1]. Arms tied with mu* add nothing; an arm adds 0 when mu* == 1
 * (KL is infinite). Returns 0 when k < 2 or every arm is optimal. */
double metrics_lai_robbins(const double *mu, size_t k);

#endif
