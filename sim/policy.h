/* Built-in in-process policies: random, popularity and ideal (the
 * oracle as a recommender: it reads the users' hidden interests). They drive runs
 * whose agents are not separate processes, serve the world benchmark,
 * and give the deterministic fallback slate for an agent process that
 * misses a deadline or sends an invalid action. */
#ifndef RECARENA_POLICY_H
#define RECARENA_POLICY_H

#include "sim/world.h"

#include <stdint.h>

typedef enum policy_kind {
    POLICY_RANDOM = 0,     /* k distinct live items, uniformly, in random order */
    POLICY_POPULARITY = 1, /* the k live items with most clicks this episode */
    POLICY_IDEAL = 2,      /* per user, the k live items of highest true utility */
} policy_kind_t;

/* Parses "random", "popularity" or "ideal"; 0, or ERR_EINVAL for an unknown name. */
int policy_kind_parse(const char *name, policy_kind_t *kind);
const char *policy_kind_name(policy_kind_t kind);

typedef struct policy policy_t;

/* A policy acting for agent `agent` of a world of slate size k; its random
 * stream derives from (seed, agent, episode). NULL on no memory. Caller
 * owns the result. */
policy_t *policy_new(policy_kind_t kind, uint64_t seed, int agent, int slate_size);
void policy_destroy(policy_t **self_p);

/* Reseeds the policy's stream for a new episode. */
void policy_reset(policy_t *p, uint32_t episode);

/* Sets the slate of each of agent's requests this tick in w
 * (world_set_slate), from the world's live catalog. Popularity ranks by
 * the world's catalog-wide click counts of the episode (the public
 * "trending" signal), ties by lower id, and shows the same slate to every
 * request of the tick. Ideal shows each user the k live items of highest
 * utility x_u . e_i + q_i (docs/world.md), best first, ties by lower id.
 * Returns 0, ERR_ENOMEM (the random policy's marks, sized by the live
 * catalog), or the world's error for a slate it refused (a bug) or an
 * agent out of range. */
int policy_act(policy_t *p, world_t *w, int agent);

/* The ideal slate for user: the k live items of highest true utility,
 * best first, ties by lower id: (k) ids. */
void policy_ideal_slate(const world_t *w, int32_t user, int32_t *slate);

/* The probability with which p showed each of this tick's slates, for
 * the run log: random shows an ordered slate of k distinct items out of
 * n live ones with probability 1 / (n (n-1) ... (n-k+1)); popularity is
 * deterministic (1). */
double policy_propensity(const policy_t *p, const world_t *w);

/* One popularity slate for the world's current state: (k) ids. */
void policy_popular_slate(const world_t *w, int32_t *slate);

#endif
