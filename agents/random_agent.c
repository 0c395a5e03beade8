/* recarena-agent-random: recommends k distinct live items drawn uniformly
 * at random, the baseline every learning agent must beat and the first
 * example of the C SDK (docs/agents.md).
 *
 *     recarena-agent-random --endpoint ipc:///tmp/recarena/control --name random */
#include "agents/sdk/agent.h"

#include <stdio.h>

/* slates: (n, k); each row k distinct ids, by rejection (k is small). */
static int s_on_step(agent_t *agent, void *user, const proto_step_t *step, int32_t *slates)
{
    (void)user;
    const proto_items_t *items = agent_catalog(agent);
    uint32_t k = agent_welcome(agent)->slate_size;
    if (items->n < k) {
        fprintf(stderr, "random agent: %u live items, fewer than k = %u\n", items->n, k);
        return -1;
    }
    pcg32_t *rng = agent_rng(agent);                /* the agent's one stream, fetched once */
    uint32_t threshold = pcg32_threshold(items->n); /* the same draws, one division fewer each */
    for (uint32_t r = 0; r < step->requests.n; r++) {
        int32_t *slate = slates + (size_t)r * k;
        for (uint32_t i = 0; i < k; i++) {
            uint32_t j;
            do {
                slate[i] = items->ids[pcg32_bounded_below(rng, items->n, threshold)];
                for (j = 0; j < i && slate[j] != slate[i]; j++)
                    ;
            } while (j < i);
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const agent_spec_t spec = {.on_step = s_on_step};
    return agent_main(argc, argv, &spec, NULL);
}
