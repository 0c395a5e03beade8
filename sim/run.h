/* A whole run: a scenario's episodes on one world, its agents acting each
 * tick, a progress bar, a summary table, and a run folder holding the
 * per-tick CSVs, the summary JSON, the resolved scenario and the seed. */
#ifndef RECARENA_RUN_H
#define RECARENA_RUN_H

#include "scenario.h"

#include <stdbool.h>

#define RUN_EINVAL (-1) /* bad scenario for a run (e.g. unsupported agent) */
#define RUN_EIO    (-2) /* the run folder could not be written */
#define RUN_EWORLD (-3) /* the world failed (out of memory) */

typedef struct run_options {
    const char *out_dir; /* run folder; NULL: runs/NAME-seedSEED */
    bool progress;       /* draw a progress bar on stderr */
    bool quiet;          /* no summary table on stdout */
} run_options_t;

/* Runs sc end to end. The folder is written under a temporary name and
 * renamed when complete, so a failed run leaves no half-written folder; an
 * existing folder is replaced only if it is a run folder (summary.json).
 * Returns 0 or RUN_E..., with a message on stderr naming what failed. */
int run_scenario(const scenario_t *sc, const run_options_t *opt);

#endif
