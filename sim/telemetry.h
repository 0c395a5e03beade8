/* Telemetry: what the environment server publishes on its PUB socket for
 * viewers and other observers (docs/protocol.md, "Telemetry"): a
 * TELEMETRY_TICK after every tick, a TELEMETRY_EXPOSURE snapshot every
 * TELEMETRY_EXPOSURE_EVERY ticks and after an episode's last tick, and a
 * TELEMETRY_EPISODE after every episode.
 *
 * Publishing never blocks and never fails the run: a message the PUB
 * cannot queue for a subscriber (one that is 1,000 messages behind, the
 * PUB's high-water mark) is dropped, and with no subscriber every message
 * is. Each message still takes the next seq, so a subscriber sees a gap
 * in seq where it lost some. */
#ifndef RECARENA_TELEMETRY_H
#define RECARENA_TELEMETRY_H

#include "sim/world.h"

#include <stdbool.h>

/* Ticks between two EXPOSURE snapshots: one goes out after ticks 9, 19,
 * 29, ... of each episode, and one after its last tick. */
#define TELEMETRY_EXPOSURE_EVERY 10

typedef struct telemetry telemetry_t;

/* A publisher on pub (a bound ZeroMQ PUB socket) about w. pub and w are
 * borrowed and must outlive it; agents holds one name per agent of w
 * (world_config(w)->n_agents), valid protocol names: the array is copied,
 * the strings are borrowed and must outlive it too. quiet: say nothing on
 * stderr; otherwise the first message that cannot be encoded is reported
 * there once. Scratch space for the largest catalog an episode can reach
 * (world_item_capacity) is allocated here. NULL when out of memory.
 * Caller owns the result. */
telemetry_t *telemetry_new(void *pub, const world_t *w, const char *const *agents, bool quiet);

/* Accepts NULL and nulls *self_p; the socket stays open. */
void telemetry_destroy(telemetry_t **self_p);

/* Publishes the tick that world_end_tick just resolved into stats (with
 * the exposure concentration of the episode so far), followed by an
 * EXPOSURE snapshot when the tick is due one (see above). Returns 0 (sent
 * or dropped) or the core/err.h code of a message that could not be
 * encoded (e.g. ERR_ETOOBIG: a snapshot of a catalog over the frame
 * limit); the run goes on either way. */
int telemetry_publish_tick(telemetry_t *t, const world_tick_stats_t *stats);

/* Publishes the episode's metrics (world_episode_metrics of the episode
 * just played), the agent names and, when agent_gini is not NULL, each
 * agent's exposure Gini of its own slates over the episode (agent_gini:
 * (n_agents), borrowed; summary.json's episodes[].agents[].gini). Returns
 * as telemetry_publish_tick. */
int telemetry_publish_episode(telemetry_t *t, const world_episode_metrics_t *metrics,
                              const double *agent_gini);

#endif
