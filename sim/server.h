/* The environment server: serves the world to agent processes over the
 * wire protocol (docs/protocol.md) in lockstep. It binds a ROUTER for
 * control (one DEALER per agent) and optionally a PUB for telemetry.
 *
 * The run loop drives it around the world's tick:
 *
 *     server_begin_episode(s)            CATALOG to every agent
 *     world_begin_tick(w)
 *     ... in-process agents set their slates ...
 *     server_collect(s)                  STEP -> ACT (or fallback) per remote agent
 *     world_end_tick(w, &stats)
 *     server_end_tick(s, &stats)         JOINT, telemetry
 *     server_end_episode(s, &metrics, gini)  EPISODE_END, telemetry
 *
 * Robustness: an ACT that is invalid or late, an agent that is absent,
 * dead or hung, never stops the run: its requests get the deterministic
 * fallback slate (the popularity policy), the agent is told why with a
 * non-fatal ERROR, the counts land in server_agent_stats, and a line on
 * stderr says what happened. An agent that stopped answering is not
 * waited for again until it speaks; an agent that reconnects with its
 * name gets its slot back and a CATALOG resync. Malformed messages are
 * answered with an ERROR and otherwise ignored. */
#ifndef RECARENA_SERVER_H
#define RECARENA_SERVER_H

#include "sim/scenario.h"
#include "sim/world.h"

#include <stdbool.h>
#include <stddef.h>

/* Errors: 0 or a negative ERR_* code of core/err.h. */

typedef struct server_options {
    const char *control_endpoint;   /* ROUTER binds here */
    const char *telemetry_endpoint; /* PUB binds here; NULL: no telemetry */
    bool quiet;                     /* no log lines on stderr */
    /* CATALOG.items.titles: the title of each item id below n_titles, as
     * server_msg_init takes them (borrowed, must outlive the server);
     * NULL: CATALOG carries no titles */
    const char *const *titles;
    int n_titles;
} server_options_t;

/* What happened to one remote agent over the run. */
typedef struct server_agent_stats {
    long fallback_invalid; /* requests served by the fallback: invalid ACT */
    long fallback_missed;  /* requests served by the fallback: no ACT in time, or absent */
    long deadline_misses;  /* STEPs not answered within the deadline */
    long invalid_acts;     /* ACTs refused in whole or in part */
    long disconnects;      /* times the agent was found gone */
    long reconnects;       /* HELLOs after the first */
} server_agent_stats_t;

typedef struct server server_t;

/* Binds the sockets. Agents of sc with a command are served over the
 * wire; the others are in-process and left to the caller. With
 * sc->server.curve_secret_key set, the control ROUTER is a CURVE server
 * whose ZAP handler (sim/auth.h) admits the keys of sc->server.curve_allow,
 * each to its own slot only; JOINT goes only to agents granted it
 * ([agent.X] joint). w is borrowed
 * and must outlive the server. NULL on failure, with a message in err. */
server_t *server_new(const scenario_t *sc, world_t *w, const server_options_t *opt, char *err,
                     size_t err_len);

/* Says BYE to every connected agent and closes the sockets; accepts NULL
 * and nulls *self_p. */
void server_destroy(server_t **self_p, const char *reason);

/* True if agent (scenario index) is served over the wire. */
bool server_is_remote(const server_t *s, int agent);

/* The propensity the remote agent reported (ACT.propensity, protocol 1.2)
 * for each of its requests of this tick, after server_collect: (requests)
 * probabilities in (0, 1], NaN where none was reported or the slate shown
 * is a fallback. NULL for an in-process agent. Borrowed; valid until the
 * next server_collect. */
const double *server_propensity(const server_t *s, int agent);

/* Serves the sockets for up to timeout_ms (HELLOs, PINGs, ...). Returns
 * 0, ERR_EINTR after server_interrupt, or ERR_EIO when polling fails. */
int server_service(server_t *s, int timeout_ms);

/* Names of the remote agents that have not said HELLO, comma-separated,
 * into buf; returns how many. */
int server_missing(const server_t *s, char *buf, size_t buf_len);

/* CATALOG to every connected agent (the others are resynced when they
 * come back). Returns 0, or the first send's failure: ERR_EIO for a peer
 * found gone (its slot is marked so and it gets fallbacks), the encoder's
 * or builder's code otherwise. Each is told on stderr; none stops the
 * server, so the caller decides whether it ends the run. */
int server_begin_episode(server_t *s);

/* Sends this tick's STEP to each remote agent, waits for the ACTs until
 * the deadline (scenario server.deadline_ms), validates them and sets
 * every remote agent's slates in the world (fallbacks where needed). An
 * agent that cannot be sent its STEP gets fallbacks. Returns 0, ERR_EINTR,
 * ERR_EIO (polling failed) or ERR_ENOMEM: then the tick cannot go on. */
int server_collect(server_t *s);

/* Telemetry for the tick (never fails the run, telemetry.h), then JOINT
 * to the agents that asked for it. Returns 0 or the first JOINT failure,
 * as server_begin_episode. */
int server_end_tick(server_t *s, const world_tick_stats_t *stats);

/* Telemetry for the episode (with each agent's exposure Gini when
 * agent_gini, (n_agents), is not NULL; telemetry_publish_episode), then
 * EPISODE_END to every connected agent. Returns as server_begin_episode. */
int server_end_episode(server_t *s, const world_episode_metrics_t *metrics,
                       const double *agent_gini);

const server_agent_stats_t *server_agent_stats(const server_t *s, int agent);

/* Makes the next (or current) wait return ERR_EINTR; async-signal-safe. */
void server_interrupt(void);

#endif
