/* The bare interaction kernel: the irreducible work of one user-item
 * interaction, as a floor to measure the world against (`recarena bench
 * world --limit`, docs/benchmarks.md). One interaction: pick a user,
 * score k random items of dimension d against the user's interest, a
 * multinomial logit over them plus a no-click option, one uniform draw,
 * and on a click drift the user's interest toward the chosen item. No
 * bookkeeping: no satiation, sessions, metrics, slates from agents.
 *
 *     kernel_t *k = kernel_new(2000, 500, 16, 10, 42);
 *     kernel_run(k, 1000000);          // a million interactions
 *     kernel_destroy(&k);
 *
 * Deterministic: the same seed gives the same clicks and interests. */
#ifndef RECARENA_SIM_KERNEL_H
#define RECARENA_SIM_KERNEL_H

#include <stdint.h>

typedef struct kernel kernel_t;

/* Users' interests and items' embeddings drawn N(0, 1/d) from seed; NULL
 * on out of memory or sizes outside [1, 2^24] (d, k at most 1024). Caller
 * owns the result. */
kernel_t *kernel_new(uint32_t n_users, uint32_t n_items, uint32_t d, uint32_t k, uint64_t seed);

/* Frees; accepts NULL, nulls *self_p. */
void kernel_destroy(kernel_t **self_p);

/* Runs n interactions. */
void kernel_run(kernel_t *kernel, uint64_t n);

/* Clicks so far (a checksum of the work done). */
uint64_t kernel_clicks(const kernel_t *kernel);

/* The multinomial logit choice itself, exposed for its test: given k
 * scores (already divided by the temperature) and the no-click score,
 * picks position j with probability exp(s_j) / (exp(s_0) + ... +
 * exp(no_click)) using the uniform draw u in [0, 1), or -1 for no click.
 * Positions are taken in order, the no-click option last. */
int kernel_choose(const float *scores, uint32_t k, float no_click, double u);

#endif
