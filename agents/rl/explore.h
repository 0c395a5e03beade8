/* Exploration for the value-based learners (tabular Q, DQN): a linear
 * annealing schedule and epsilon-greedy choice over action values.
 * Plain functions: nothing allocated, arguments borrowed for the call.
 *
 *     float eps = explore_linear(decisions, 1.0f, 0.05f, 10000);
 *     int a = explore_egreedy(rng, q_values, n_actions, eps);   q_values: (n_actions) */
#ifndef RECARENA_EXPLORE_H
#define RECARENA_EXPLORE_H

#include <stdint.h>

#include "core/pcg32.h"

/* start + (end - start) * min(step / steps, 1): linear annealing from
 * start at step 0 to end at step `steps` and after; steps 0 gives end. */
float explore_linear(uint64_t step, float start, float end, uint64_t steps);

/* Index of the largest of values (n >= 1); the lowest index on ties. */
int explore_argmax(const float *values, int n);

/* Epsilon-greedy: with probability epsilon a uniformly random index in
 * 0..n-1, otherwise explore_argmax(values, n). One pcg32_uniform_f draw
 * always, and one pcg32_bounded draw when exploring. Borrows rng. */
int explore_egreedy(pcg32_t *rng, const float *values, int n, float epsilon);

#endif
