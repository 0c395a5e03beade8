/* A whole run: a scenario's episodes on one world, its agents acting each
 * tick, a progress bar, a summary table, and a run folder holding the
 * per-tick CSVs, the summary JSON, the resolved scenario and the seed. */
#ifndef RECARENA_RUN_H
#define RECARENA_RUN_H

#include "core/err.h"
#include "sim/scenario.h"

#include <stdbool.h>

typedef struct run_options {
    const char *out_dir; /* run folder; NULL: runs/NAME-seedSEED */
    bool progress;       /* draw a progress bar on stderr */
    bool quiet;          /* nothing on stdout, no "telemetry on" line; errors and
                            agents' troubles still go to stderr */
    /* serve mode: bind here and wait for external agents instead of
     * spawning the scenario's commands; NULL: run mode (ipc:// endpoints
     * in a private directory, agents spawned) */
    const char *serve_endpoint;
    const char *telemetry_endpoint; /* serve mode: PUB endpoint, NULL: none */
    /* run mode: start this viewer (recarena-view, viewer.h) on the run's
     * telemetry, which then exists even without agent processes; NULL: none */
    const char *viewer;
} run_options_t;

/* Runs sc end to end. Agents with a policy act in-process; agents with a
 * command are served over the wire (run mode spawns them, serve mode
 * waits for them to connect; each must say HELLO within
 * server.hello_timeout_ms in run mode). SIGINT and SIGTERM stop the run
 * cleanly: children are ended and reaped, nothing is written. The folder is written under a
 * temporary name and renamed when complete, so a failed run leaves no half-written folder; an
 * existing folder is replaced only if recarena wrote it (outdir.h: the .recarena-run marker),
 * and the folder is locked for the whole run (a second run into it refuses).
 * Returns 0 or the negative ERR_* code of core/err.h of what failed
 * (passed on unchanged from the module that failed: ERR_EIO for the run
 * folder, ERR_ENOMEM, ERR_EAGENT, ERR_EINTR, ...), with a message on
 * stderr naming what failed. */
int run_scenario(const scenario_t *sc, const run_options_t *opt);

#endif
