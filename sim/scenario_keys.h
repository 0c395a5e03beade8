/* Every scenario key, one row each: its section, name, type, default,
 * range and meaning. The fields of world_config_t, scenario_server_t and
 * the run fields of scenario_t are declared from these rows; defaults,
 * range checks, INI parsing, the resolved write-back (scenario_write,
 * scenario_write_json) and the key tables of docs/scenarios.md
 * (scenario_keys_write_doc) all read them. Adding a key is one row here
 * plus the code that uses the field. Rules across keys (slate_size <=
 * n_items, ...) are code, in world_config_validate (world.h).
 *
 * X(STRUCT, section, name, TYPE, default, lo, hi, meaning)
 *   STRUCT   where the field lives: RUN (scenario_t), WORLD (world_config_t)
 *            or SERVER (scenario_server_t); run.ticks lives in the world
 *   section  run, world or server: the INI section
 *   TYPE     INT (int), UINT64 (uint64_t), REAL (double), BOOL (bool),
 *            SWITCH (bool, written back only when true: an opt-in output),
 *            MODE (world_mode_t), REPUTATION (world_reputation_t),
 *            NAME (char[SCENARIO_NAME_SIZE]),
 *            PATH (char[SCENARIO_PATH_SIZE]; "" by default and then not
 *            written back, so that worlds without it resolve as before)
 *   default  a C constant expression; NAME's default is the file's name
 *   lo, hi   the range, both ends included (INT and REAL; others 0, 0)
 *   meaning  one line for docs/scenarios.md (Markdown)
 * Rows are in the order scenario_write gives them. */
#ifndef RECARENA_SCENARIO_KEYS_H
#define RECARENA_SCENARIO_KEYS_H

#include <limits.h>
#include <stddef.h>
#include <stdio.h>

#include "proto/protocol.h"

/* clang-format off */
#define SCENARIO_KEYS(X)                                                                           \
    X(RUN, run, name, NAME, 0, 0, 0, "names the run and its run folder. The default is the file's base name without `.ini`, other characters replaced by `_` (`my scenario.ini` gives `my_scenario`).") \
    X(RUN, run, seed, UINT64, 1, 0, 0, "the run seed; every random stream of the world derives from it, so the same seed replays bit for bit") \
    X(RUN, run, episodes, INT, 1, 1, INT_MAX, "episodes in the run; each starts from the same users and catalog") \
    X(RUN, run, log, SWITCH, false, 0, 0, "write `log.npz` into the run folder: one row per request and agent (features, slate, propensity, click, reward; docs/logging.md)") \
    X(WORLD, run, ticks, INT, 200, 1, 10000000, "ticks per episode") \
    X(WORLD, world, mode, MODE, WORLD_MODE_MARKET, 0, 0, "`market`: each arriving user picks one platform and only that agent sees the request; `feed`: every agent proposes a slate for every request and the pages are interleaved") \
    X(WORLD, world, n_items, INT, 500, 1, 10000000, "items at tick 0") \
    X(WORLD, world, n_topics, INT, 10, 1, PROTO_MAX_TOPICS, "topics; each has a random unit centre") \
    X(WORLD, world, dim, INT, 16, 1, PROTO_MAX_DIM, "embedding dimension") \
    X(WORLD, world, catalog, PATH, 0, 0, 0, "a CSV file of the items at tick 0 (columns `id`, optional `title` or `text`, `topic`, `provider`, `quality`; docs/world.md); empty = a synthetic catalog. Its first `n_items` rows are used") \
    X(WORLD, world, item_embeddings, PATH, 0, 0, 0, "the items' embeddings: a float32 `.npy` of shape (rows, any dimension >= `dim`), or a CSV of `id` then the vector; reduced to `dim` by PCA; empty = drawn around topic centres") \
    X(WORLD, world, n_providers, INT, 20, 1, 10000000, "item providers (metadata)") \
    X(WORLD, world, topic_spread, REAL, 0.25, 0.0, 100.0, "std of item embedding noise around its topic centre") \
    X(WORLD, world, quality_std, REAL, 0.3, 0.0, 100.0, "hidden quality ~ N(0, quality_std²)") \
    X(WORLD, world, item_arrival_rate, REAL, 1.0, 0.0, 100000.0, "expected new items per tick (cold start)") \
    X(WORLD, world, item_lifetime, REAL, 0.0, 0.0, 1e9, "mean item lifetime in ticks (exponential); 0 = items never retire") \
    X(WORLD, world, n_users, INT, 2000, 1, PROTO_MAX_USERS, "users in the population") \
    X(WORLD, world, interest_spread, REAL, 0.25, 0.0, 100.0, "std of user interest noise around a favourite topic centre") \
    X(WORLD, world, feature_noise, REAL, 0.3, 0.0, 100.0, "std of the fixed noise added to the public features agents see") \
    X(WORLD, world, history_len, INT, 5, 0, PROTO_MAX_HISTORY, "recent consumed items shown to agents with each request") \
    X(WORLD, world, slate_size, INT, 5, 1, PROTO_MAX_SLATE, "k: items per slate and per page (at most `PROTO_MAX_SLATE` of protocol.h)") \
    X(WORLD, world, quality_weight, REAL, 0.5, -100.0, 100.0, "weight of hidden quality in the click score") \
    X(WORLD, world, choice_temperature, REAL, 0.2, 0.01, 100.0, "temperature of the choice logit") \
    X(WORLD, world, no_click_score, REAL, 0.5, -100.0, 100.0, "score of the no-click option") \
    X(WORLD, world, position_decay, REAL, 1.0, 0.0, 10.0, "examination of position p (0-based) is (1 + p)^-position_decay") \
    X(WORLD, world, satiation_gain, REAL, 0.1, 0.0, 100.0, "added to a topic's satiation per consumed item") \
    X(WORLD, world, satiation_decay, REAL, 0.9, 0.0, 1.0, "satiation multiplier per tick") \
    X(WORLD, world, interest_drift, REAL, 0.02, 0.0, 1.0, "step of a user's interest toward a consumed item") \
    X(WORLD, world, session_budget, REAL, 10.0, 0.0, 1e9, "budget a session starts with; the session ends at zero") \
    X(WORLD, world, consume_cost, REAL, 1.0, 0.0, 1e9, "budget spent per consumed item") \
    X(WORLD, world, noclick_cost, REAL, 1.0, 0.0, 1e9, "budget spent per page without a click") \
    X(WORLD, world, budget_gain, REAL, 0.5, 0.0, 1e9, "budget given back per unit of utility consumed") \
    X(WORLD, world, satisfaction_rate, REAL, 0.2, 0.0, 1.0, "EMA rate of a user's satisfaction") \
    X(WORLD, world, return_base, REAL, 0.02, 0.0, 1.0, "per-tick probability that an offline user returns, at satisfaction 0") \
    X(WORLD, world, return_gain, REAL, 0.1, -100.0, 100.0, "return probability added per unit of satisfaction") \
    X(WORLD, world, initial_active, REAL, 0.2, 0.0, 1.0, "fraction of users in a session at tick 0") \
    X(WORLD, world, market_temperature, REAL, 0.1, 0.0, 100.0, "temperature of the softmax over platform reputation with which a user picks a platform (market mode); 0 = hard-max") \
    X(WORLD, world, reputation_rate, REAL, 0.1, 0.0, 1.0, "EMA rate of a user's per-platform reputation") \
    X(WORLD, world, reputation, REPUTATION, WORLD_REPUTATION_PRIVATE, 0, 0, "market mode: `private`, each user's own EMA of what each platform gave them (`reputation_rate`); `public`, one reputation per platform that every user sees: the click rate of its last `reputation_window` pages (Aridor et al.)") \
    X(WORLD, world, reputation_window, INT, 100, 1, 1000000, "`reputation = public`: the pages over which a platform's public reputation is averaged") \
    X(WORLD, world, market_random_share, REAL, 0.0, 0.0, 1.0, "market mode: the share of arriving users who pick a platform uniformly at random instead of by reputation (Aridor's HardMax&Random)") \
    X(WORLD, world, reward_sharing, REAL, 0.0, 0.0, 1.0, "a: reward = (1 - a) own + a mean(all agents); 0 is pure competition, 1 pure cooperation") \
    X(WORLD, world, diversity_bonus, REAL, 0.0, 0.0, 1e6, "team bonus per tick × the fraction of topics consumed") \
    X(WORLD, world, oracle, BOOL, true, 0, 0, "compute the oracle's best slate for each request, for regret; `false` saves the time and reports regret 0") \
    X(SERVER, server, deadline_ms, INT, 2000, 1, 600000, "milliseconds an agent has to answer a STEP with its ACT; after that its requests get the fallback slate (popularity), it is told with an ERROR, and it is not waited for again until it speaks") \
    X(SERVER, server, hello_timeout_ms, INT, 10000, 100, 600000, "milliseconds a spawned agent has to say HELLO before `recarena run` gives up, naming it and showing its last output (`recarena serve` waits without a limit)") \
    X(SERVER, server, curve_secret_key, PATH, 0, 0, 0, "the server's CURVE secret key file (`recarena keygen server`); with `curve_allow`, agents must connect with CURVE keys ([security.md](security.md)); empty: no CURVE") \
    X(SERVER, server, curve_allow, PATH, 0, 0, 0, "a folder of allowed agent public keys: `NAME.pub` lets that key take the slot `NAME` and no other; set together with `curve_secret_key`")

/* X(name, size, type, meaning): the keys of an [agent.NAME] section, each a
 * char[size] field of scenario_agent_t ("" when unset). An agent has
 * exactly one of policy and command; enter_tick is optional; joint holds
 * "true" when granted. */
#define SCENARIO_AGENT_KEYS(X)                                                                     \
    X(policy, 32, "enum: `random`, `popularity`, `ideal`", "a built-in policy run inside the simulator (`sim/policy.h`): `random` shows k distinct live items at random; `popularity` the k live items with most clicks this episode; `ideal` the k live items of highest true utility to the user (the oracle as a recommender)") \
    X(command, 1024, "text, 1 to 189 characters", "an external agent process, started with this command line; it speaks the protocol of [protocol.md](protocol.md)") \
    X(enter_tick, 16, "int, 0 to 10000000", "market mode: the tick at which the agent enters the market; before it no user picks it (a late entrant). Default 0") \
    X(joint, 8, "bool, default `false`", "grants this agent the `joint` capability: after each tick a JOINT with every agent's requests, slates and rewards (for centralized critics such as MADDPG); an agent that asks without the grant gets no JOINT")
/* clang-format on */

#define SCENARIO_NAME_SIZE 128 /* run.name: up to 127 characters */
#define SCENARIO_PATH_SIZE 512 /* a file path key: up to 511 characters */

/* The C declaration of a field of each TYPE. */
#define SCENARIO_KEY_DECL_INT(name)        int name;
#define SCENARIO_KEY_DECL_UINT64(name)     uint64_t name;
#define SCENARIO_KEY_DECL_REAL(name)       double name;
#define SCENARIO_KEY_DECL_BOOL(name)       bool name;
#define SCENARIO_KEY_DECL_SWITCH(name)     bool name;
#define SCENARIO_KEY_DECL_MODE(name)       world_mode_t name;
#define SCENARIO_KEY_DECL_REPUTATION(name) world_reputation_t name;
#define SCENARIO_KEY_DECL_NAME(name)       char name[SCENARIO_NAME_SIZE];
#define SCENARIO_KEY_DECL_PATH(name)       char name[SCENARIO_PATH_SIZE];

/* SCENARIO_KEY_IF_<WANT><STRUCT>(x): x when the row's STRUCT is WANT. */
#define SCENARIO_KEY_IF_RUNRUN(x)       x
#define SCENARIO_KEY_IF_RUNWORLD(x)     /* */
#define SCENARIO_KEY_IF_RUNSERVER(x)    /* */
#define SCENARIO_KEY_IF_WORLDRUN(x)     /* */
#define SCENARIO_KEY_IF_WORLDWORLD(x)   x
#define SCENARIO_KEY_IF_WORLDSERVER(x)  /* */
#define SCENARIO_KEY_IF_SERVERRUN(x)    /* */
#define SCENARIO_KEY_IF_SERVERWORLD(x)  /* */
#define SCENARIO_KEY_IF_SERVERSERVER(x) x

#define SCENARIO_KEY_FIELD_RUN(st, section, name, type, ...)                                       \
    SCENARIO_KEY_IF_RUN##st(SCENARIO_KEY_DECL_##type(name))
#define SCENARIO_KEY_FIELD_WORLD(st, section, name, type, ...)                                     \
    SCENARIO_KEY_IF_WORLD##st(SCENARIO_KEY_DECL_##type(name))
#define SCENARIO_KEY_FIELD_SERVER(st, section, name, type, ...)                                    \
    SCENARIO_KEY_IF_SERVER##st(SCENARIO_KEY_DECL_##type(name))
#define SCENARIO_AGENT_KEY_FIELD(name, size, ...) char name[size];

/* The fields of the keys that live in scenario_t, world_config_t and
 * scenario_server_t, in row order; for those structs' definitions. */
#define SCENARIO_KEY_FIELDS_RUN    SCENARIO_KEYS(SCENARIO_KEY_FIELD_RUN)
#define SCENARIO_KEY_FIELDS_WORLD  SCENARIO_KEYS(SCENARIO_KEY_FIELD_WORLD)
#define SCENARIO_KEY_FIELDS_SERVER SCENARIO_KEYS(SCENARIO_KEY_FIELD_SERVER)
#define SCENARIO_AGENT_KEY_FIELDS  SCENARIO_AGENT_KEYS(SCENARIO_AGENT_KEY_FIELD)

/* SCENARIO_KEY_<name>: a key's index in scenario_keys[] (the suffix is the
 * key's name as written in the INI file). */
#define SCENARIO_KEY_ID(st, section, name, ...) SCENARIO_KEY_##name,
typedef enum scenario_key_id { SCENARIO_KEYS(SCENARIO_KEY_ID) SCENARIO_N_KEYS } scenario_key_id_t;
#undef SCENARIO_KEY_ID

#define SCENARIO_AGENT_KEY_ID(name, ...) SCENARIO_AGENT_KEY_##name,
typedef enum scenario_agent_key_id {
    SCENARIO_AGENT_KEYS(SCENARIO_AGENT_KEY_ID) SCENARIO_N_AGENT_KEYS
} scenario_agent_key_id_t;
#undef SCENARIO_AGENT_KEY_ID

typedef enum scenario_key_type {
    SCENARIO_KEY_INT,
    SCENARIO_KEY_UINT64,
    SCENARIO_KEY_REAL,
    SCENARIO_KEY_BOOL,
    SCENARIO_KEY_SWITCH,     /* a bool written back only when true */
    SCENARIO_KEY_MODE,       /* world_mode_t, by name: market, feed */
    SCENARIO_KEY_REPUTATION, /* world_reputation_t, by name: private, public */
    SCENARIO_KEY_NAME,       /* run.name: 1..SCENARIO_NAME_SIZE-1 of [A-Za-z0-9_.-] */
    SCENARIO_KEY_PATH,       /* a file path, relative to the working folder; "" = none */
} scenario_key_type_t;

typedef enum scenario_key_struct {
    SCENARIO_KEY_IN_RUN,    /* a field of scenario_t */
    SCENARIO_KEY_IN_WORLD,  /* a field of world_config_t */
    SCENARIO_KEY_IN_SERVER, /* a field of scenario_server_t */
} scenario_key_struct_t;

/* One row of SCENARIO_KEYS, as data. */
typedef struct scenario_key {
    const char *section;
    const char *name;
    scenario_key_type_t type;
    scenario_key_struct_t in;
    size_t offset;        /* of the field in the struct it lives in */
    double default_value; /* INT, UINT64, REAL, BOOL, MODE (as a number) */
    double lo, hi;        /* INT and REAL: the range, both ends included */
    const char *meaning;
} scenario_key_t;

/* One row of SCENARIO_AGENT_KEYS, as data. */
typedef struct scenario_agent_key {
    const char *name;
    size_t offset; /* of the char array in scenario_agent_t */
    size_t size;   /* its size in bytes */
    const char *type;
    const char *meaning;
} scenario_agent_key_t;

extern const scenario_key_t scenario_keys[SCENARIO_N_KEYS];
extern const scenario_agent_key_t scenario_agent_keys[SCENARIO_N_AGENT_KEYS];

/* The names of world_mode_t's values, indexed by mode. */
extern const char *const scenario_mode_names[2];
/* The names of world_reputation_t's values, indexed by value. */
extern const char *const scenario_reputation_names[2];

/* Stores the default of key k into its field of base (the struct the key
 * lives in). NAME keys get "" (their default depends on the file), PATH
 * keys "" (unset). */
void scenario_key_set_default(scenario_key_id_t k, void *base);

/* Checks the value of key k in base (the struct it lives in) against its
 * range. Returns 0, or ERR_ERANGE with a message about the value in err
 * ("0 is out of range [1, 256]"); err may be NULL. */
int scenario_key_check(scenario_key_id_t k, const void *base, char *err, size_t err_len);

/* Writes the key tables of docs/scenarios.md ([run], [world], [server],
 * [agent.NAME]) as Markdown; `recarena scenario --doc-table` prints them
 * and a test compares them with the document. Returns 0 or ERR_EIO. */
int scenario_keys_write_doc(FILE *out);

#endif
