/* Options held across a user's requests, for the planner of
 * recarena-hier (docs/agents.md): the planner picks a topic for a user
 * and holds it for `hold` of that user's consecutive requests (an option
 * in the sense of Sutton, Precup and Singh 1999, with a fixed duration),
 * and learns at the level of options: one semi-Markov transition per
 * option,
 *
 *     (s0, topic, R = sum_{j < d} gamma^j r_j, s_d, done),
 *
 * s0 the observation where the option started, r_j the rewards of its d
 * requests, s_d the observation of the user's request after the last
 * one. An option that runs its full length has d = hold, so a DQN over
 * these transitions discounts by gamma^hold (dqn.h with that gamma); one
 * cut short by the end of the session is terminal (done = 1, s_d zeros).
 * An option whose chain breaks (a tick without the user's request or
 * feedback, a new episode) is dropped, never guessed. The calls follow
 * the messages as tracker.h's do:
 *
 *   STEP(t)  hier_feedback (rewards and session ends of tick t-1)
 *            hier_current  (each request of tick t: the topic held, or -1
 *                           when a new option must start: then hier_start)
 *
 * Transitions are handed to an emit callback as rows of the layout of
 * dqn_row_width: obs (obs_dim) | topic | R | next_obs (obs_dim) | done. */
#ifndef RECARENA_HIER_H
#define RECARENA_HIER_H

#include <stdint.h>

#include "core/err.h"
#include "proto/protocol.h"
#include "agents/rl/tracker.h"

typedef struct hier hier_t;

/* Options of hold >= 1 requests over observations of obs_dim >= 1,
 * discounted by gamma in [0, 1] within an option. Caller owns the result
 * (hier_destroy); NULL on a bad argument or out of memory. */
hier_t *hier_new(int obs_dim, int hold, float gamma);
void hier_destroy(hier_t **self_p);

/* Forgets every option: a new episode or a resync. */
void hier_reset(hier_t *h);

/* The feedback of tick - 1, m rows: each held option adds its reward
 * (discounted by its position in the option); a session end emits the
 * option as terminal. Rows of users without an option requested at
 * tick - 1 are ignored. */
void hier_feedback(hier_t *h, uint32_t tick, uint32_t m, const int32_t *user_ids,
                   const float *reward, const uint8_t *session_end, tracker_emit_fn emit,
                   void *ctx);

/* User's request of tick with observation obs (obs_dim): the topic of
 * the option that continues here, or -1 when a new one must start
 * (none held, the chain broke, or the held one has run its hold
 * requests: that one is emitted first, with obs as its next state). */
int hier_current(hier_t *h, uint32_t tick, int32_t user, const float *obs, tracker_emit_fn emit,
                 void *ctx);

/* Starts an option of topic (>= 0) for user at this request, obs copied.
 * Returns 0, ERR_ERANGE or ERR_ENOMEM (nothing changed). */
int hier_start(hier_t *h, uint32_t tick, int32_t user, const float *obs, int topic);

#endif
