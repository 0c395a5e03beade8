/* A session: the environment server plus, in run mode, the agent
 * processes it serves on ipc:// endpoints in a private directory. Opening
 * one starts the server, spawns the scenario's agent commands (run mode)
 * and waits until every remote agent has said HELLO; closing says BYE,
 * ends and reaps the processes and removes the directory. Used by the run
 * loop and the wire benchmark. */
#ifndef RECARENA_SESSION_H
#define RECARENA_SESSION_H

#include "sim/scenario.h"
#include "sim/server.h"
#include "sim/world.h"

/* Errors: 0 or a negative ERR_* code of core/err.h: ERR_EIO (a socket,
 * directory or process could not be set up), ERR_EAGENT (an agent exited
 * or never said HELLO, told on stderr), ERR_EINTR (interrupted while
 * waiting), ERR_ENOMEM. */

typedef struct session_options {
    /* serve mode: bind here and wait (without a time limit) for external
     * agents; NULL: run mode, spawn the scenario's commands */
    const char *serve_endpoint;
    const char *telemetry_endpoint; /* serve mode only; NULL: none */
    const char *log_dir;            /* run mode: agent-NAME.log files go here */
    bool quiet;                     /* no log lines from the server */
    bool no_banner;                 /* run mode: no "telemetry on ..." line */
    const char *const *titles;      /* item titles for CATALOG (server_options_t); NULL: none */
    int n_titles;
} session_options_t;

typedef struct session session_t;

/* Opens a session for sc on world w (borrowed, must outlive it). On
 * success *out owns it; on failure *out is NULL, stderr says why and the
 * code (above) says what kind of failure it was. */
int session_open(session_t **out, const scenario_t *sc, world_t *w, const session_options_t *opt);

/* BYE with reason, processes ended and reaped, files removed; accepts
 * NULL and nulls *self_p. */
void session_close(session_t **self_p, const char *reason);

server_t *session_server(session_t *s); /* borrowed */

/* Run mode: the telemetry endpoint in the private directory (borrowed);
 * serve mode: NULL (the caller chose it). */
const char *session_telemetry_endpoint(const session_t *s);

#endif
