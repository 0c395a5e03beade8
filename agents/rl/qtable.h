/* Tabular Q-learning (Watkins 1989) over a small discrete state, for the
 * independent learner recarena-qlearn --algo tabular (docs/agents.md):
 *
 *     Q(s, a) += alpha (r + gamma (1 - done) max_a' Q(s', a') - Q(s, a))
 *
 * with epsilon-greedy action choice (explore.h).
 *
 *     qtable_t *q = qtable_new(n_states, n_actions, 0.1f, 0.95f, 0.0f);
 *     int a = qtable_act(q, s, epsilon, rng);
 *     qtable_update(q, s, a, r, s_next, done);
 *     qtable_destroy(&q); */
#ifndef RECARENA_QTABLE_H
#define RECARENA_QTABLE_H

#include <stdbool.h>

#include "core/pcg32.h"

typedef struct qtable qtable_t;

/* A table of n_states x n_actions values, each starting at init;
 * alpha in (0, 1], gamma in [0, 1]. Caller owns the result
 * (qtable_destroy); NULL on a bad argument or out of memory. */
qtable_t *qtable_new(int n_states, int n_actions, float alpha, float gamma, float init);

/* Frees the table; accepts NULL and sets *self_p to NULL. */
void qtable_destroy(qtable_t **self_p);

int qtable_n_states(const qtable_t *q);
int qtable_n_actions(const qtable_t *q);

/* Q(state, .): (n_actions) values, borrowed; writable (tests). */
float *qtable_values(qtable_t *q, int state);

/* One Q-learning update of Q(s, a) from reward r and next state s_next
 * (ignored when done). Returns the TD error before the update. */
float qtable_update(qtable_t *q, int s, int a, float r, int s_next, bool done);

/* Epsilon-greedy action in state s (explore_egreedy). Borrows rng. */
int qtable_act(qtable_t *q, int s, float epsilon, pcg32_t *rng);

#endif
