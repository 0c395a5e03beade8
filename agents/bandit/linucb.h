/* LinUCB (Li, Chu, Langford and Schapire 2010) on the arm slots of a
 * bandit (bandit.h): ridge regressions of the click on a context vector,
 * scored with an upper confidence bound,
 *
 *     p = theta' x + alpha sqrt(x' A^-1 x),  theta = A^-1 b,
 *     A = I + sum x x',  b = sum r x,
 *
 * with A^-1 kept up to date by Sherman-Morrison (never inverted). Two
 * models (bandit_linucb_model_t): DISJOINT, one (A, b) per arm with x =
 * [user features, 1]; SHARED, one (A, b) for every arm with x = [user
 * features * item embedding, 1] (elementwise). Either way the scores of
 * a batch of requests against every slot are two matrix products
 * (cblas_dgemm): x' A^-1 x is written as the dot product of a per-request
 * and a per-slot vector of D (D + 1) / 2 entries, D = dim + 1. Numbers
 * are double throughout. */
#ifndef RECARENA_LINUCB_H
#define RECARENA_LINUCB_H

#include <stdint.h>

#include "agents/bandit/bandit.h"

typedef struct linucb linucb_t;

/* A LinUCB over no slots yet; dim = width of user features and item
 * embeddings (1..PROTO_MAX_DIM), alpha >= 0. Caller owns the result;
 * NULL on a bad argument or out of memory. */
linucb_t *linucb_new(bandit_linucb_model_t model, uint32_t dim, double alpha);

/* Frees it and nulls *self_p; NULL and *self_p NULL are fine. */
void linucb_destroy(linucb_t **self_p);

/* Makes room for slots [0, n_slots); 0 or ERR_ENOMEM (nothing lost). */
int linucb_reserve(linucb_t *l, uint32_t n_slots);

/* A new arm in `slot` (< the reserved count), item embedding (dim):
 * DISJOINT forgets the slot's regression (A = I, b = 0) and reads no
 * embedding (it may be NULL); SHARED records the embedding. */
void linucb_clear_slot(linucb_t *l, uint32_t slot, const float *embedding);

/* Learns reward r for the arm in `slot` shown to a user with features
 * (dim): A += x x' (through Sherman-Morrison on A^-1), b += r x. */
void linucb_update(linucb_t *l, uint32_t slot, const float *features, double reward);

/* Upper confidence bounds of n requests against slots [0, n_slots):
 * scores (n, n_slots), row r for features (n, dim) row r. Slots with no
 * arm get meaningless scores; the caller reads only live ones. 0 or
 * ERR_ENOMEM (scratch grows with n). */
int linucb_scores(linucb_t *l, uint32_t n, const float *features, uint32_t n_slots, double *scores);

#endif
