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

#include "core/err.h"
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

/* Errors: 0 or a negative code of core/err.h (err_str gives its text):
 *   ERR_EIO      the file cannot be read, or writing failed
 *   ERR_ENOMEM   allocation failed
 *   ERR_ESYNTAX  not INI, or an override not of the form section.key=value
 *   ERR_ERANGE   a value outside its key's range or its type's
 *   ERR_EINVAL   unknown section or key, duplicate key, a value not of its
 *                key's type, a rule across keys broken, bad agents */

/* An agent: its name and one char field per row of SCENARIO_AGENT_KEYS
 * (sim/scenario_keys.h): policy, a built-in in-process policy (policy.h),
 * or command, an external agent process (at most 189 characters, so that
 * "command = ..." fits one INI line); exactly one is set, the other "". */
typedef struct scenario_agent {
    char name[64]; /* [A-Za-z0-9_-], 1..SCENARIO_AGENT_NAME_MAX */
    SCENARIO_AGENT_KEY_FIELDS
} scenario_agent_t;

/* [server]: how agent processes (agents with a command) are served; one
 * field per [server] row of SCENARIO_KEYS (deadline_ms, hello_timeout_ms). */
typedef struct scenario_server {
    SCENARIO_KEY_FIELDS_SERVER
} scenario_server_t;

typedef struct scenario {
    char path[1024]; /* the file it came from, or scenario_load_string's label */
    /* [run] keys but ticks (in world): name (names the run folder), seed,
     * episodes */
    SCENARIO_KEY_FIELDS_RUN
    world_config_t world;     /* run.ticks and the [world] keys; n_agents = n_agents */
    scenario_server_t server; /* [server]: how agent processes are served */
    int n_agents;             /* 1..SCENARIO_MAX_AGENTS, in file order, then added by overrides */
    scenario_agent_t agents[SCENARIO_MAX_AGENTS];
} scenario_t;

/* Loads the scenario file at path, applies overrides, then checks the
 * whole (ranges and cross-key rules: world_config_validate). Each override
 * is "section.key=value" ("agent.NAME.key=value" for agent keys; it adds
 * agent NAME if the file has none); overrides win over the file, later
 * ones over earlier ones, and setting an agent's policy or command drops
 * the other. Returns 0, or a negative ERR_* code with one message
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
 * sc must have come from scenario_load. Returns 0 or ERR_EIO. */
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
 * ERR_EIO. */
int scenario_write_json(const scenario_t *sc, FILE *out);

#endif
