/* The C agent SDK: turns the recarena protocol (docs/protocol.md) into
 * callbacks, so that an agent is a few functions and one call to
 * agent_main (docs/agents.md).
 *
 * agent_main parses the command line, connects a DEALER to the server,
 * says HELLO, keeps a view of the live catalog (CATALOG, then each STEP's
 * born and retired items), calls on_step for every STEP and sends its
 * slates back as the ACT, answers PING, reports ERRORs on stderr, and
 * reconnects when the server goes silent. It returns when the server says
 * BYE (status 0), on a fatal ERROR or when a callback fails (status 1).
 *
 * Pointers handed to a callback, and pointers the queries below return
 * during a callback, are valid until that callback returns: copy what
 * must outlive it. One agent_t per process; nothing here is thread-safe.
 *
 *     static int s_on_step(agent_t *agent, void *user, const proto_step_t *step,
 *                          int32_t *slates)     slates: (step->requests.n, slate_size)
 *     { ... fill one row of k live item ids per request ...; return 0; }
 *
 *     int main(int argc, char **argv)
 *     {
 *         static const agent_spec_t spec = {.on_step = s_on_step};
 *         return agent_main(argc, argv, &spec, NULL);
 *     } */
#ifndef RECARENA_AGENT_H
#define RECARENA_AGENT_H

#include <stdint.h>

#include "proto/codec.h"
#include "core/pcg32.h"

#define AGENT_DEFAULT_IDLE_MS    30000  /* ping a server silent for this long */
#define AGENT_DEFAULT_PING_MS    5000   /* reconnect if the ping is unanswered this long */
#define AGENT_DEFAULT_GIVE_UP_MS 120000 /* exit after this long without hearing any server */

typedef struct agent agent_t; /* SDK state, owned by agent_main, handed to callbacks */

/* What an agent is: its capabilities, its own command-line options and its
 * callbacks. Every field but on_step may be zero. A callback that returns
 * non-zero ends the agent: the SDK says BYE to the server and agent_main
 * returns 1. */
typedef struct agent_spec {
    /* HELLO.caps, e.g. {"joint"} to receive JOINT messages: (n_caps) names */
    const char *const *caps;
    uint32_t n_caps;

    /* The agent's own options: every --NAME VALUE or --NAME=VALUE that the
     * SDK does not know is handed here, before connecting, NAME without the
     * dashes; name borrowed for the call, value for the process (argv).
     * Return 0 to accept; ERR_ESYNTAX or ERR_ERANGE (core/err.h, as
     * core/parse.h returns them) for a value that is not of the option's
     * kind or out of its range; any other non-zero for an unknown option.
     * agent_main then prints an error naming the option and returns 2.
     * NULL: the agent has no options. Every option takes a value. */
    int (*on_option)(void *user, const char *name, const char *value);
    const char *options_help; /* lines appended to --help, or NULL */

    /* A new episode, or a resync mid-episode (catalog->tick > 0, after the
     * agent was unresponsive or reconnected): the catalog view has been
     * replaced by catalog's items. */
    int (*on_reset)(agent_t *agent, void *user, const proto_catalog_t *catalog);

    /* Fills slates: (step->requests.n, slate_size) live item ids, k distinct
     * per row, row i for step->requests.user_ids[i]. Called for every STEP,
     * also when requests.n is 0 (the step still carries feedback and tick
     * reward). The catalog view already holds step->born and no longer
     * holds step->retired. Must return within step->deadline_ms, or the
     * server uses a fallback slate for this tick. slates is owned by the
     * SDK and holds at least max(n, WELCOME.limits.max_batch) rows. */
    int (*on_step)(agent_t *agent, void *user, const proto_step_t *step, int32_t *slates);

    /* Every agent's observation, action and reward of the last tick; only
     * with the "joint" capability. No reply. */
    void (*on_joint)(agent_t *agent, void *user, const proto_joint_t *joint);

    /* After an episode's last tick: totals and that tick's feedback. */
    void (*on_episode_end)(agent_t *agent, void *user, const proto_episode_end_t *end);
} agent_spec_t;

/* Runs an agent process: parses argv (--endpoint, --name, --server-key,
 * --agent-key, --idle-timeout, --ping-timeout, --help, and the agent's own
 * options via spec->on_option; endpoint, name and the two CURVE key files
 * default to the environment variables RECARENA_ENDPOINT,
 * RECARENA_AGENT_NAME, RECARENA_SERVER_KEY and RECARENA_AGENT_KEY; with
 * the key files the connection uses CURVE, docs/security.md),
 * connects and serves until the run ends. Borrows argv, spec and user for
 * the call. Returns the process exit status: 0 after the server's BYE (or
 * --help), 1 after a fatal error or a failed callback, 2 for a bad command
 * line; every non-zero status comes with a message on stderr. */
int agent_main(int argc, char **argv, const agent_spec_t *spec, void *user);

/* The server's WELCOME: agent index and names, seed, mode, slate size k,
 * dim, n_topics, history length, ticks, episodes, spaces, limits.
 * Borrowed; valid during callbacks (a reconnect replaces it before the
 * next on_reset). */
const proto_welcome_t *agent_welcome(const agent_t *agent);

/* The live catalog view: ids ascending (n), with their topics (n),
 * providers (n) and embeddings (n, dim), row i for ids[i]. Borrowed; the
 * SDK changes it between callbacks. */
const proto_items_t *agent_catalog(const agent_t *agent);

/* Row of id in agent_catalog (binary search), or -1 if the item is not
 * live. */
int agent_item_index(const agent_t *agent, int32_t id);

/* A live item's embedding (dim floats, borrowed) or NULL; its topic or -1. */
const float *agent_item_embedding(const agent_t *agent, int32_t id);
int32_t agent_item_topic(const agent_t *agent, int32_t id);

/* A live item's title or text (protocol 1.2: CATALOG.items.titles, valid
 * UTF-8 of at most PROTO_MAX_TITLE bytes; "" for an item without one, such
 * as one born after the CATALOG), or NULL when the item is not live or the
 * catalog has no titles. on_reset also sees them, catalog->items.titles.
 * Borrowed; valid until the next CATALOG. */
const char *agent_item_title(const agent_t *agent, int32_t id);

/* During on_step only: a (step->requests.n) array, owned by the SDK, in
 * which the agent writes the probability of each row's slate under its
 * policy (finite, in (0, 1]); calling it makes this STEP's ACT carry
 * ACT.propensity (protocol 1.2; the run log records it, docs/logging.md).
 * Every row starts as NaN and must be filled: when a row is NaN or
 * outside (0, 1] the encoder refuses the propensities (stderr says why)
 * and the ACT goes without them. NULL outside on_step,
 * when the STEP has no requests, or on no memory (then nothing is sent
 * with the ACT). Not calling it sends no propensities. */
double *agent_propensity(agent_t *agent);

/* The agent's own random stream, seeded once per process with
 * pcg32_seed(rng, WELCOME.seed, WELCOME.agent_index) at the first WELCOME,
 * so a run replays when its seed does. Borrowed. */
pcg32_t *agent_rng(agent_t *agent);

#endif
