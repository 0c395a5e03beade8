/* The per-request log of a run (run.log = true): one row per request and
 * agent that answered it, written at the end as log.npz, a zip of .npy
 * arrays (stored, not compressed) that numpy.load reads in one call.
 * Columns (n rows): episode, tick, user, agent (int32); features (n, dim)
 * float32; slate (n, k) int32; propensity float64, the probability of
 * the slate under the agent's policy (NaN when not known); clicked int32,
 * the position in the agent's slate credited with the click (-1 none);
 * reward float32, the agent's own reward for the request. docs/logging.md. */
#ifndef RECARENA_RUNLOG_H
#define RECARENA_RUNLOG_H

#include "sim/world.h"

#include <stdint.h>

typedef struct runlog runlog_t;

/* An empty log for rows of dim features and k slate positions. NULL on
 * no memory. Caller owns the result. */
runlog_t *runlog_new(int dim, int k);
void runlog_destroy(runlog_t **self_p);

/* Appends the rows of w's tick just resolved (after world_end_tick): every
 * agent's requests with their slates and feedback. propensity: per agent
 * a (requests) array or NULL (NaN), borrowed. Returns 0 or ERR_ENOMEM. */
int runlog_add_tick(runlog_t *log, const world_t *w, uint32_t episode,
                    const double *const *propensity);

long runlog_rows(const runlog_t *log);

/* Writes the log as an .npz at path. Returns 0, ERR_EIO, or ERR_ELIMIT
 * for a file past 4 GiB (the zip format without its 64-bit extension). */
int runlog_write_npz(const runlog_t *log, const char *path);

#endif
