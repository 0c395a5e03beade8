/* Team rewards and other agents' actions from a JOINT message (joint.h). */
#include "agents/rl/joint.h"

#include <string.h>

#include "agents/rl/slate.h"
#include "core/err.h"

#define JOINT_MAX_TOPIC_SLOTS 4096 /* distinct clicked topics tracked per tick */

/* Agent a's clicked item on row r, or -1. */
static int32_t s_clicked_item(const proto_joint_agent_t *a, uint32_t r)
{
    int32_t pos = a->clicked[r];
    if (pos < 0 || (uint32_t)pos >= a->slate_size)
        return -1;
    return a->slates[(size_t)r * a->slate_size + (uint32_t)pos];
}

/* The clicked item's topic, or a negative stand-in unique to the item
 * when the catalog does not know it (-2 - id). */
static int64_t s_topic_key(const proto_items_t *items, int32_t item)
{
    int row = slate_item_row(items, item);
    return row >= 0 ? (int64_t)items->topics[row] : -2 - (int64_t)item;
}

/* Row of user in agent a's requests, trying row `hint` first. */
static int s_find_user(const proto_joint_agent_t *a, int32_t user, uint32_t hint)
{
    if (hint < a->n && a->user_ids[hint] == user)
        return (int)hint;
    for (uint32_t r = 0; r < a->n; r++)
        if (a->user_ids[r] == user)
            return (int)r;
    return -1;
}

int joint_team_rewards(const proto_joint_t *joint, uint32_t me, const proto_items_t *items,
                       float *rewards)
{
    if (me >= joint->n_agents)
        return ERR_EINVAL;
    const proto_joint_agent_t *mine = &joint->agents[me];
    uint32_t n_agents = joint->n_agents;

    /* clicks per topic over the whole tick (a small linear table: the
     * clicked topics of one tick) */
    int64_t keys[JOINT_MAX_TOPIC_SLOTS];
    uint32_t counts[JOINT_MAX_TOPIC_SLOTS];
    uint32_t n_keys = 0;
    double clicks = 0.0, mean_reward = 0.0;
    for (uint32_t a = 0; a < n_agents; a++) {
        const proto_joint_agent_t *ag = &joint->agents[a];
        mean_reward += ag->reward / n_agents;
        for (uint32_t r = 0; r < ag->n; r++) {
            int32_t item = s_clicked_item(ag, r);
            if (item < 0)
                continue;
            clicks += 1.0;
            int64_t key = s_topic_key(items, item);
            uint32_t j = 0;
            while (j < n_keys && keys[j] != key)
                j++;
            if (j == n_keys && n_keys < JOINT_MAX_TOPIC_SLOTS) {
                keys[n_keys] = key;
                counts[n_keys++] = 0;
            }
            if (j < n_keys)
                counts[j]++;
        }
    }
    double bonus = mean_reward - clicks / n_agents;
    if (bonus < 0.0 || n_keys == 0)
        bonus = 0.0;

    for (uint32_t r = 0; r < mine->n; r++) {
        rewards[r] = 0.0f;
        for (uint32_t a = 0; a < n_agents; a++) {
            const proto_joint_agent_t *ag = &joint->agents[a];
            int row = a == me ? (int)r : s_find_user(ag, mine->user_ids[r], r);
            int32_t item = row < 0 ? -1 : s_clicked_item(ag, (uint32_t)row);
            if (item < 0)
                continue;
            int64_t key = s_topic_key(items, item);
            uint32_t j = 0;
            while (j < n_keys && keys[j] != key)
                j++;
            double share = j < n_keys ? bonus / ((double)n_keys * counts[j]) : 0.0;
            rewards[r] = (float)(1.0 / n_agents + share);
            break;
        }
    }
    return 0;
}

int joint_other_actions(const proto_joint_t *joint, uint32_t me, const proto_items_t *items,
                        float *others)
{
    if (me >= joint->n_agents)
        return ERR_EINVAL;
    const proto_joint_agent_t *mine = &joint->agents[me];
    uint32_t dim = items->dim, width = (joint->n_agents - 1) * dim;
    for (uint32_t r = 0; r < mine->n; r++) {
        float *out = others + (size_t)r * width;
        for (uint32_t a = 0, slot = 0; a < joint->n_agents; a++) {
            if (a == me)
                continue;
            const proto_joint_agent_t *ag = &joint->agents[a];
            int row = s_find_user(ag, mine->user_ids[r], r);
            if (row >= 0)
                slate_mean_embedding(items, ag->slates + (size_t)row * ag->slate_size,
                                     ag->slate_size, out + (size_t)slot * dim);
            else
                memset(out + (size_t)slot * dim, 0, dim * sizeof *out);
            slot++;
        }
    }
    return 0;
}
