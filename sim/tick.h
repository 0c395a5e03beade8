/* One tick of a run: every agent's slates for this tick's requests, then
 * the world resolves it. The run loop (run.c) and both benchmarks (bench.c,
 * `bench world` and `bench wire`) call this one function, so what they
 * measure is what a run does. */
#ifndef RECARENA_TICK_H
#define RECARENA_TICK_H

#include "sim/policy.h"
#include "sim/server.h"
#include "sim/world.h"

/* Where a tick's time went, in seconds, for the benchmarks. */
typedef struct tick_times {
    double policies_s; /* in-process policies choosing their slates */
    double exchange_s; /* server_collect: STEP out, ACTs (or fallbacks) in */
} tick_times_t;

/* Plays one tick of w: world_begin_tick; policy_act for every agent with a
 * policy (policies: world_config(w)->n_agents entries, NULL where the
 * agent is remote); server_collect for the remote agents (server may be
 * NULL when there are none); world_end_tick into st; server_end_tick.
 * policies and server are borrowed. times may be NULL; when given, its
 * fields are set (clock reads happen only then). Returns 0 or the code
 * (core/err.h) of the first step that failed, unchanged: the world's,
 * a policy's, or server_collect's (ERR_EINTR when interrupted). A JOINT
 * that server_end_tick could not send does not fail the tick. */
int tick_play(world_t *w, policy_t *const *policies, server_t *server, world_tick_stats_t *st,
              tick_times_t *times);

#endif
