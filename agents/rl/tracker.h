/* Follows each user's requests across ticks and turns them into
 * transitions (s, a, r, s', done) for the learning agents.
 *
 * A step of the learning problem is one request: the state is what the
 * agent observes of it, the action what it answered, the reward that
 * request's reward, and the next state the same user's request of the
 * next tick: a user in a session asks once per tick, so their requests
 * chain until the session ends (done = 1: nothing follows). Messages
 * arrive in this order (docs/protocol.md), and each call below is made
 * on the corresponding one:
 *
 *   STEP(t)   tracker_feedback  (feedback of tick t-1: own rewards,
 *                                session ends -> terminal transitions)
 *             tracker_request   (each request of tick t: completes the
 *                                user's transition of tick t-1)
 *   JOINT(t)  tracker_outcome   (team reward and other agents' actions of
 *                                each request of tick t)
 *
 * With other agents' actions in the record (other_dim > 0, MADDPG), a
 * transition also needs the others' actions at the next state, which the
 * JOINT of tick t+1 brings; it is held until then. A record whose next
 * request never comes (the episode ended, a resync, a missing JOINT) is
 * dropped, never guessed.
 *
 * Each completed transition is handed to an emit callback as one row of
 * tracker_width floats (the layout replay buffers store):
 *
 *   obs (obs_dim) | act (act_dim) | others (other_dim) | reward |
 *   next_obs (obs_dim) | next_others (other_dim) | done (0 or 1)
 *
 * next_obs and next_others are zeros when done is 1.
 *
 *     tracker_t *tr = tracker_new(obs_dim, act_dim, other_dim);
 *     tracker_feedback(tr, tick, n, users, rewards, session_end, emit, ctx);
 *     tracker_request(tr, tick, user, obs, act, emit, ctx);      each request
 *     tracker_outcome(tr, tick, user, &reward, others, emit, ctx); each JOINT row
 *     tracker_destroy(&tr); */
#ifndef RECARENA_TRACKER_H
#define RECARENA_TRACKER_H

#include <stdint.h>

#include "core/err.h"
#include "proto/protocol.h"

/* Errors: 0 or a negative code of core/err.h: ERR_ENOMEM (allocation
 * failed), ERR_ERANGE (user id outside 0..PROTO_MAX_USERS-1). */

typedef struct tracker tracker_t;

/* Receives a completed transition: row (tracker_width floats), borrowed
 * for the call. */
typedef void (*tracker_emit_fn)(void *ctx, const float *row);

/* A tracker for records of those widths: obs_dim >= 1, act_dim >= 1,
 * other_dim >= 0. Caller owns the result (tracker_destroy); NULL on a bad
 * argument or out of memory. Per-user storage grows with the largest
 * user id seen. */
tracker_t *tracker_new(int obs_dim, int act_dim, int other_dim);

/* Frees it and nulls *self_p; NULL and *self_p NULL are fine. */
void tracker_destroy(tracker_t **self_p);

int tracker_width(const tracker_t *tr);

/* Forgets every pending record: a new episode or a resync. */
void tracker_reset(tracker_t *tr);

/* The feedback of tick - 1 (tick >= 1), m rows: reward (m) sets each
 * request's reward (NULL: the rewards come from tracker_outcome); a
 * session_end row with a known reward emits a terminal transition. Rows
 * of users with no record of tick - 1 are ignored. */
void tracker_feedback(tracker_t *tr, uint32_t tick, uint32_t m, const int32_t *user_ids,
                      const float *reward, const uint8_t *session_end, tracker_emit_fn emit,
                      void *ctx);

/* User's request of tick: obs (obs_dim), the action answered act
 * (act_dim), both copied. Completes the user's record of tick - 1, if it
 * has a reward, with obs as its next state: emitted at once, or held for
 * the next others' actions when other_dim > 0. Returns 0, ERR_ERANGE
 * or ERR_ENOMEM (nothing changed). */
int tracker_request(tracker_t *tr, uint32_t tick, int32_t user, const float *obs, const float *act,
                    tracker_emit_fn emit, void *ctx);

/* What the JOINT of tick says about user's request of that tick: its
 * reward (NULL: keep the one from tracker_feedback) and the other agents'
 * actions (other_dim floats; NULL when other_dim is 0). Completes a held
 * transition whose next state is this request. Unknown users and
 * requests of other ticks are ignored. */
void tracker_outcome(tracker_t *tr, uint32_t tick, int32_t user, const float *reward,
                     const float *others, tracker_emit_fn emit, void *ctx);

#endif
