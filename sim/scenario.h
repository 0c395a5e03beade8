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
    int n_agents;             /* 1..SCENARIO_MAX_AGENTS, in file order, then added by edits */
    scenario_agent_t agents[SCENARIO_MAX_AGENTS];
} scenario_t;

/* Loads the scenario file at path, applies overrides, then checks the
 * whole (ranges and cross-key rules: world_config_validate). Each override
 * is "section.key=value" ("agent.NAME.key=value" for agent keys, where
 * NAME must be one of the scenario's agents: a name that matches none is
 * an error with a did-you-mean; scenario_load_edited adds agents);
 * overrides win over the file, later ones over earlier ones, and setting
 * an agent's policy or command drops the other. Returns 0, or a negative
 * ERR_* code with one message in err ("path:line: [section] key: ..." or
 * "--set ARG: ..."). On error *sc is left as it was. Borrows every
 * argument; overrides may be NULL when n_overrides is 0. */
int scenario_load(scenario_t *sc, const char *path, const char *const *overrides, int n_overrides,
                  char *err, size_t err_len);

/* What the command line changes on top of a scenario file (`recarena run
 * --drop-agent NAME --agent NAME=COMMAND --set S.K=V`), applied in this
 * order after the file: drops, then adds, then sets. Any array may be NULL
 * when its count is 0. */
typedef struct scenario_edits {
    const char *const *drop; /* agent names to remove; each must exist */
    int n_drop;
    const char *const *add; /* "NAME=COMMAND" (an agent process) or
                               "NAME=policy:POLICY" (built-in); NAME must be new */
    int n_add;
    const char *const *set; /* "section.key=value", as scenario_load's overrides */
    int n_set;
} scenario_edits_t;

/* The label of a scenario given with no file (errors, sc->path, and the
 * default run.name). */
#define SCENARIO_NO_FILE_LABEL "command-line"

/* As scenario_load, with edits; path NULL loads no file: the default world
 * (every key at its default) with only the agents that edits add. Errors
 * from edits name their flag ("--agent ARG: ...", "--drop-agent NAME:
 * ..."). Borrows every argument. */
int scenario_load_edited(scenario_t *sc, const char *path, const scenario_edits_t *edits, char *err,
                         size_t err_len);

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
