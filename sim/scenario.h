/* Scenarios: one INI file describes a run (seed, episodes, ticks), the
 * world's parameters and the agents that act on it. Loading checks every
 * key and value and answers a bad file with one message that names the
 * file, line and key; `--set section.key=value` overrides apply on top.
 * The key reference is docs/scenarios.md; parsing goes through inih.
 *
 *     [run]
 *     seed = 42
 *     ticks = 200
 *     [world]
 *     mode = feed
 *     n_users = 500
 *     [agent.alice]
 *     policy = random
 *     [agent.bob]
 *     command = ./build/agents/recarena-bandit --algo ucb1
 */
#ifndef RECARENA_SCENARIO_H
#define RECARENA_SCENARIO_H

#include "sim/world.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SCENARIO_MAX_AGENTS WORLD_MAX_AGENTS

/* Agent names are 1 to SCENARIO_AGENT_NAME_MAX of A-Z a-z 0-9 _ -. inih
 * keeps only the first 49 bytes of a section name, so "agent." plus the
 * name must stay below that. */
#define SCENARIO_AGENT_NAME_MAX 42

/* Scenario files larger than this are refused before parsing (bytes). */
#define SCENARIO_MAX_FILE_SIZE (1 << 20)

/* Errors: 0 or one of these (negative). */
#define SCENARIO_EIO     (-1) /* the file cannot be read, or writing failed */
#define SCENARIO_ENOMEM  (-2) /* allocation failed */
#define SCENARIO_ESYNTAX (-3) /* not INI, or an override not of the form section.key=value */
#define SCENARIO_EINVAL  (-4) /* unknown section or key, duplicate key, bad value, bad agents */

const char *scenario_strerror(int err);

typedef struct scenario_agent {
    char name[64];      /* [A-Za-z0-9_-], 1..SCENARIO_AGENT_NAME_MAX */
    char policy[32];    /* built-in in-process policy (policy.h); "" when command is set */
    char command[1024]; /* external agent process; "" when policy is set; at most
                           189 characters, so that "command = ..." fits one INI line */
} scenario_agent_t;

#define SCENARIO_DEFAULT_DEADLINE_MS      2000
#define SCENARIO_DEFAULT_HELLO_TIMEOUT_MS 10000

/* [server]: how agent processes (agents with a command) are served. */
typedef struct scenario_server {
    int deadline_ms;      /* time an agent has to answer a STEP, 1..600000 */
    int hello_timeout_ms; /* time a spawned agent has to say HELLO, 100..600000 */
} scenario_server_t;

typedef struct scenario {
    char path[1024];          /* the file it came from, or scenario_load_string's label */
    char name[128];           /* run.name: [A-Za-z0-9_.-], names the run folder */
    uint64_t seed;            /* run.seed */
    int episodes;             /* run.episodes, >= 1 */
    world_config_t world;     /* run.ticks and the [world] keys; n_agents = n_agents */
    scenario_server_t server; /* [server]: how agent processes are served */
    int n_agents;             /* 1..SCENARIO_MAX_AGENTS, in file order, then added by overrides */
    scenario_agent_t agents[SCENARIO_MAX_AGENTS];
} scenario_t;

/* Loads the scenario file at path, applies overrides, then checks the
 * whole (ranges and cross-key rules: world_config_check). Each override
 * is "section.key=value" ("agent.NAME.key=value" for agent keys; it adds
 * agent NAME if the file has none); overrides win over the file, later
 * ones over earlier ones, and setting an agent's policy or command drops
 * the other. Returns 0, or a negative SCENARIO_E... code with one message
 * in err ("path:line: [section] key: ..." or "--set ARG: ..."). On error
 * *sc is left as it was. Borrows every argument; overrides may be NULL
 * when n_overrides is 0. */
int scenario_load(scenario_t *sc, const char *path, const char *const *overrides, int n_overrides,
                  char *err, size_t err_len);

/* As scenario_load, from the INI text in text (tests, and runs given only
 * by --set with text ""). label stands for the file name in errors, in
 * sc->path and in the default run.name. */
int scenario_load_string(scenario_t *sc, const char *text, const char *label,
                         const char *const *overrides, int n_overrides, char *err, size_t err_len);

/* Writes sc fully resolved (every key, defaults included; each double in
 * the fewest digits, up to %.17g, that read back exactly) as INI that
 * scenario_load reads back to an identical scenario_t under the same path.
 * sc must have come from scenario_load. Returns 0 or SCENARIO_EIO. */
int scenario_write(const scenario_t *sc, FILE *out);

/* Writes sc as one JSON object on one line, for programs that want the
 * resolved scenario without an INI parser (`recarena scenario --json`):
 *
 *     {"file": PATH, "run": {KEY: VALUE, ...}, "world": {...},
 *      "server": {...}, "agents": [{"name": N, "policy": P, "command": C}]}
 *
 * Keys are the INI key names, in scenario_write's order; ints and uint64
 * as JSON integers, numbers as the shortest text that reads back exactly
 * (whole numbers with ".0"), bools as true/false, enums and text as JSON
 * strings; an agent's unset policy or command is "". Returns 0 or
 * SCENARIO_EIO. */
int scenario_write_json(const scenario_t *sc, FILE *out);

#endif
