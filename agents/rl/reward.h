/* Which signal a learning agent learns from (--reward), shared by every
 * RL agent process: the reward the server sends in STEP feedback (after
 * world.reward_sharing and the diversity bonus, docs/world.md: the
 * scenario's cooperation knob reaches the learner), the request's share of
 * the team's mean reward (JOINT, joint.h), or the agent's own click. */
#ifndef RECARENA_RL_REWARD_H
#define RECARENA_RL_REWARD_H

#include "proto/codec.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum rl_reward_source {
    RL_REWARD_SERVER = 0, /* each request's reward in STEP feedback: after the
                             world's sharing and team bonus (docs/world.md) */
    RL_REWARD_TEAM = 1,   /* the request's share of the team's mean reward (JOINT,
                             joint.h): the same whatever world.reward_sharing is */
    RL_REWARD_CLICKS = 2, /* the agent's own click: 1 or 0 */
} rl_reward_source_t;

/* Parses --reward's value: "server", "team" or "clicks" ("own" is kept as
 * another name for clicks). allow_team false: "team" is refused (an agent
 * without the JOINT path). 0 or ERR_ESYNTAX. */
int rl_reward_parse(const char *value, bool allow_team, rl_reward_source_t *out);

/* The per-request rewards to learn from for one feedback block: fb->reward
 * for RL_REWARD_SERVER; for RL_REWARD_CLICKS 1 or 0 per request written
 * into scratch (cap entries; NULL when fb->n > cap); NULL for
 * RL_REWARD_TEAM (the rewards come later, with JOINT). Borrows fb and
 * scratch. */
const float *rl_reward_signal(rl_reward_source_t source, const proto_feedback_t *fb, float *scratch,
                              uint32_t cap);

#endif
