/* The bare interaction kernel: the irreducible work of one interaction of
 * the world, with none of its bookkeeping, as a yardstick for
 * `recarena bench world --limit` (docs/benchmarks.md). One interaction:
 * k item ids drawn uniformly (with replacement), their scores s_p = x . e_p
 * against the user's interest x (dim floats, core/vec.h vec_dot, the dot product of
 * the world), a multinomial logit with a no-click option
 * (P(p) = exp(s_p / T) / (exp(s_0 / T) + sum exp(s_q / T)), s_0 the
 * no-click score), one uniform draw for the choice by inverse CDF, and the
 * user's drift toward the chosen item (x += eta (e - x), renormalised).
 * Deterministic: same seed, same interactions. */
#ifndef RECARENA_KERNEL_H
#define RECARENA_KERNEL_H

#include <stdint.h>

#define KERNEL_MAX_SLATE 64

typedef struct kernel_config {
    int n_users, n_items, dim, k; /* k <= KERNEL_MAX_SLATE */
    double temperature;           /* > 0 */
    double no_click_score;
    float drift; /* eta in [0, 1] */
} kernel_config_t;

typedef struct kernel kernel_t;

/* A kernel with random unit interests and embeddings drawn from seed;
 * NULL on a bad config or out of memory. Caller owns the result. */
kernel_t *kernel_new(const kernel_config_t *cfg, uint64_t seed);

/* Frees the kernel and nulls *self_p; accepts NULL. */
void kernel_destroy(kernel_t **self_p);

/* One interaction of user (0 <= user < n_users): the position clicked,
 * or -1 for no click. The drawn ids are in kernel_page() until the next
 * call. */
int kernel_interact(kernel_t *kn, int32_t user);

/* The k ids of the last interaction's page. Borrowed. */
const int32_t *kernel_page(const kernel_t *kn);

/* User u's interest (dim floats) and item i's embedding (dim floats),
 * writable so tests can set known values. Borrowed. */
float *kernel_user(kernel_t *kn, int32_t u);
float *kernel_item(kernel_t *kn, int32_t i);

#endif
