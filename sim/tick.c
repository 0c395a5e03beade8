/* One tick of a run (tick.h). */
#include "sim/tick.h"

#include "sim/run.h"

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
    world_begin_tick(w);
    double t0 = times ? s_now() : 0.0;
    for (int a = 0; a < n_agents; a++) {
        if (!policies[a])
            continue;
        if (policy_act(policies[a], w, a) != 0)
            return RUN_EWORLD; /* a built-in policy gave a bad slate: a bug */
    }
    double t1 = times ? s_now() : 0.0;
    if (server) {
        int rc = server_collect(server);
        if (rc == SERVER_EINTR)
            return RUN_EINTR;
        if (rc != 0) {
            fprintf(stderr, "recarena: the server failed at tick %d (error %d)\n", world_tick(w),
                    rc);
            return RUN_EIO;
        }
    }
    if (times) {
        double t2 = s_now();
        times->policies_s = t1 - t0;
        times->exchange_s = t2 - t1;
    }
    if (world_end_tick(w, st) != 0)
        return RUN_EWORLD;
    if (server)
        server_end_tick(server, st);
    return 0;
}
