/* Starts agent processes and always reaps them. Each agent command runs
 * through /bin/sh -c in the current directory with RECARENA_ENDPOINT and
 * RECARENA_AGENT_NAME set, its stdout and stderr going to a log file. */
#ifndef RECARENA_LAUNCHER_H
#define RECARENA_LAUNCHER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define LAUNCHER_MAX_CHILDREN 64

typedef struct launcher launcher_t;

launcher_t *launcher_new(void); /* NULL on no memory; caller owns */

/* Waits up to grace_ms for the children to end on their own (they have
 * usually just been told BYE), then ends those still running (SIGTERM,
 * then SIGKILL a second later), and reaps them all; accepts NULL and
 * nulls *self_p. */
void launcher_destroy(launcher_t **self_p, int grace_ms);

/* Starts `command` for agent name, connecting to endpoint, output to
 * log_path (appended). 0, or with a message in err ERR_ELIMIT (more than
 * LAUNCHER_MAX_CHILDREN) or ERR_EIO (the log cannot be opened, fork
 * fails). */
int launcher_spawn(launcher_t *l, const char *name, const char *command, const char *endpoint,
                   const char *log_path, char *err, size_t err_len);

/* Reaps children that have exited, without blocking. Returns how many
 * exited since the last call; describes the first in note (e.g. "agent a
 * exited with status 3" or "... killed by signal 9"). */
int launcher_poll(launcher_t *l, char *note, size_t note_len);

/* True while the agent's process runs. */
bool launcher_running(const launcher_t *l, const char *name);

#endif
