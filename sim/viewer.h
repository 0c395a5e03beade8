/* Finding and starting the viewer (recarena-view, built in viz/ when
 * RECARENA_VIEWER is on). SDL stays out of recarena: `recarena view`,
 * `recarena plot` and `recarena run --view` run that separate program.
 *
 * A viewer started for a run is not the run's to end: it stays open
 * after the run, showing its final state, until the user closes it. The
 * run waits (briefly, once, before the first tick) only until the viewer
 * says it is subscribed, so that it sees the run from the start; after
 * that nothing the viewer does slows the run (docs/viewer.md). */
#ifndef RECARENA_VIEWER_H
#define RECARENA_VIEWER_H

#include <stddef.h>

#define VIEWER_READY_TIMEOUT_MS 5000 /* the longest a run waits for its viewer */

/* The path of recarena-view, looked for next to this program and in
 * ../viz/ (the build tree). 0, or -1 with a message naming both places in
 * err. */
int viewer_find(char *path, size_t size, char *err, size_t err_len);

/* Starts the viewer at path on the telemetry at endpoint, with the run's
 * scenario file (its resolved scenario.ini: names, mode, algorithms), and
 * waits up to timeout_ms until it is subscribed. Its stdin and stdout are
 * /dev/null, its stderr the caller's unless that is a pipe or socket
 * (which the viewer, outliving the run, would hold open). 0 once it is
 * ready; -1 with a message in err if it could not be started, exited
 * first (it said why on stderr), or was not ready in time (it may still
 * come up). The run goes on either way. */
int viewer_start(const char *path, const char *endpoint, const char *scenario_file, int timeout_ms,
                 char *err, size_t err_len);

#endif
