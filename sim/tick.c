/* One tick of a run (tick.h). */
#include "sim/tick.h"

#include <stdio.h>
#include <time.h>

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int tick_play(world_t *w, policy_t *const *policies, server_t *server, world_tick_stats_t *st,
              tick_times_t *times)
{
    int n_agents = world_config(w)->n_agents;
    int rc = world_begin_tick(w);
    if (rc != 0)
        return rc;
    double t0 = times ? s_now() : 0.0;
    for (int a = 0; a < n_agents && rc == 0; a++)
        if (policies[a])
            rc = policy_act(policies[a], w, a); /* a refused slate would be a bug */
    double t1 = times ? s_now() : 0.0;
    if (rc == 0 && server)
        rc = server_collect(server);
    if (rc != 0)
        return rc;
    if (times) {
        times->policies_s = t1 - t0;
        times->exchange_s = s_now() - t1;
    }
    rc = world_end_tick(w, st);
    if (rc != 0)
        return rc;
    /* not fatal: an agent that missed its JOINT was named on stderr, and
     * the run goes on without it as it would without the agent */
    if (server)
        server_end_tick(server, st);
    return 0;
}
