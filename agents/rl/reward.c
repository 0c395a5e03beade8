/* The --reward signal of the RL agents (reward.h). */
#include "agents/rl/reward.h"

#include "core/err.h"

#include <string.h>

int rl_reward_parse(const char *value, bool allow_team, rl_reward_source_t *out)
{
    if (strcmp(value, "server") == 0)
        *out = RL_REWARD_SERVER;
    else if (allow_team && strcmp(value, "team") == 0)
        *out = RL_REWARD_TEAM;
    else if (strcmp(value, "clicks") == 0 || strcmp(value, "own") == 0)
        *out = RL_REWARD_CLICKS;
    else
        return ERR_ESYNTAX;
    return 0;
}

const float *rl_reward_signal(rl_reward_source_t source, const proto_feedback_t *fb, float *scratch,
                              uint32_t cap)
{
    if (source == RL_REWARD_SERVER)
        return fb->reward;
    if (source != RL_REWARD_CLICKS || !scratch || fb->n > cap)
        return NULL;
    for (uint32_t i = 0; i < fb->n; i++)
        scratch[i] = fb->clicked[i] >= 0 ? 1.0f : 0.0f;
    return scratch;
}
