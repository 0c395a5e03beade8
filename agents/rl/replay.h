/* A replay buffer: a ring of fixed-width float rows (transitions in the
 * tracker.h layout) with uniform sampling, as DQN (Mnih et al. 2015) and
 * MADDPG's reference code (ReplayBuffer.sample: indices drawn uniformly
 * with replacement) use. When full, a push overwrites the oldest row.
 *
 *     replay_t *rb = replay_new(100000, width);
 *     replay_push(rb, row);                       row: (width)
 *     replay_sample(rb, rng, batch, out);         out: (batch, width)
 *     replay_destroy(&rb); */
#ifndef RECARENA_REPLAY_H
#define RECARENA_REPLAY_H

#include <stddef.h>

#include "core/pcg32.h"

typedef struct replay replay_t;

/* A buffer of up to capacity >= 1 rows of width >= 1 floats. Storage
 * grows with the rows pushed (doubling, up to capacity), so a large
 * capacity costs nothing until it is used. Caller owns the result
 * (replay_destroy); NULL on a bad argument or out of memory. */
replay_t *replay_new(size_t capacity, int width);

/* Frees the buffer; accepts NULL and sets *self_p to NULL. */
void replay_destroy(replay_t **self_p);

int replay_width(const replay_t *rb);
size_t replay_capacity(const replay_t *rb);
size_t replay_size(const replay_t *rb); /* rows held, <= capacity */

/* Appends a copy of row (width floats), overwriting the oldest when full.
 * Returns 0, or ERR_ENOMEM (core/err.h) when growing the storage failed
 * (the row is dropped, the buffer unchanged). Borrows row. */
int replay_push(replay_t *rb, const float *row);

/* Row i, 0 = the oldest held, i < replay_size. Borrowed, valid until the
 * next push. */
const float *replay_row(const replay_t *rb, size_t i);

/* Copies batch >= 1 rows drawn uniformly with replacement (one
 * pcg32_bounded draw each) into out (batch, width, caller's). The buffer
 * must not be empty. Borrows rng. */
void replay_sample(const replay_t *rb, pcg32_t *rng, int batch, float *out);

#endif
