/* The world: a synthetic population of users and a catalog of items that
 * several recommender agents act on at once. It knows nothing of sockets:
 * the server (or the in-process run loop) drives it one tick at a time:
 *
 *     world_reset(w, episode);
 *     while (world_tick(w) < ticks) {
 *         world_begin_tick(w);               arrivals, births, retirements
 *         for each agent a:
 *             r = world_requests(w, a);      the users a must serve now
 *             world_set_slate(w, a, j, ...); one slate of k items per request j
 *         world_end_tick(w, &stats);         choices, rewards, dynamics
 *         world_feedback(w, a) ...           what each agent learns
 *     }
 *     world_episode_metrics(w, &m);
 *
 * Every formula is in docs/world.md. All randomness comes from named PCG32
 * streams derived from the run seed (proto/pcg32.h), so the same seed and
 * the same slates replay bit for bit, and which users arrive never depends
 * on what the agents recommended until the users' own state differs. */
#ifndef RECARENA_WORLD_H
#define RECARENA_WORLD_H

#include "core/err.h"
#include "core/pcg32.h"
#include "sim/scenario_keys.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/protocol.h" /* PROTO_MAX_SLATE, PROTO_MAX_DIM, ... bound a world */

#define WORLD_MAX_AGENTS 16

/* Errors: 0 or a negative ERR_* code of core/err.h; the ones the world
 * returns are named per function below. */

typedef enum world_mode {
    WORLD_MODE_MARKET = 0, /* each arriving user picks one platform */
    WORLD_MODE_FEED = 1,   /* every agent proposes, pages are interleaved */
} world_mode_t;

typedef enum world_reputation {
    WORLD_REPUTATION_PRIVATE = 0, /* each user's own EMA per platform */
    WORLD_REPUTATION_PUBLIC = 1,  /* one per platform: click rate of its last pages */
} world_reputation_t;

/* World parameters: n_agents, then one field per scenario key that lives
 * in the world (run.ticks and every [world] key), declared from the rows
 * of SCENARIO_KEYS (sim/scenario_keys.h) with their names, types,
 * defaults, ranges and meanings; docs/scenarios.md lists them, and what
 * they do is docs/world.md. world_config_default() gives the defaults. */
typedef struct world_config {
    int n_agents; /* platforms/agents acting, 1..WORLD_MAX_AGENTS */
    SCENARIO_KEY_FIELDS_WORLD
    /* market mode: the tick at which each agent enters ([agent.X]
     * enter_tick); 0 = from the start */
    int enter_tick[WORLD_MAX_AGENTS];
} world_config_t;

void world_config_default(world_config_t *cfg);

/* Checks every field's range (its row of SCENARIO_KEYS), then the rules
 * across keys (slate_size <= n_items, ...). Returns 0, or ERR_EINVAL with
 * the key at fault in *key (a scenario_key_id_t; -1 for n_agents, which
 * is no key) and a message about it in err, without the key's name
 * ("0 is out of range [1, 256]"). key and err may be NULL. */
int world_config_validate(const world_config_t *cfg, int *key, char *err, size_t err_len);

/* As world_config_validate, with the key in front of the message
 * ("world.slate_size: 0 is out of range [1, 256]"). */
int world_config_check(const world_config_t *cfg, char *err, size_t err_len);

/* Bytes world_new would allocate for cfg (every array it sizes from the
 * config, in double so that no product overflows), without allocating:
 * a caller refuses a world that cannot fit before trying. */
double world_memory_estimate(const world_config_t *cfg);

/* Item ids an episode of cfg can issue at most: n_items plus the births
 * of every tick (world_item_capacity of the world it makes). */
double world_config_item_capacity(const world_config_t *cfg);

typedef struct world world_t;

/* A world for cfg (copied) and seed; the population and the initial
 * catalog are drawn here and are the same at every episode's start.
 * Returns NULL on a bad config or no memory. Caller owns the result. */
world_t *world_new(const world_config_t *cfg, uint64_t seed);

/* An initial catalog given from outside (sim/catalog_file.h loads one
 * from files): row i is item i, for i < cfg->n_items. Every array is
 * borrowed for the call only. */
typedef struct world_catalog {
    int n_items;             /* rows; at least cfg->n_items */
    const int32_t *topic;    /* (n_items): 0 .. cfg->n_topics - 1 */
    const int32_t *provider; /* (n_items): 0 .. cfg->n_providers - 1, or -1 = drawn; or NULL */
    const float *quality;    /* (n_items): hidden quality, NaN = drawn; or NULL */
    const float *embedding;  /* (n_items, cfg->dim) unit rows, or NULL = drawn around topics */
} world_catalog_t;

/* As world_new, with the initial items taken from cat (NULL: world_new).
 * What a row leaves out is drawn as world_new draws it, from the same
 * streams. Topic centres are the normalised means of their items'
 * embeddings (a topic without items keeps its drawn centre), and each
 * user's favourite topic is the topic of an item drawn uniformly, so
 * users spread over topics as the catalog's items do. Items born during
 * a run are drawn around these centres. NULL on a bad config, a catalog
 * out of range, or no memory. */
world_t *world_new_catalog(const world_config_t *cfg, uint64_t seed, const world_catalog_t *cat);
void world_destroy(world_t **self_p);

const world_config_t *world_config(const world_t *w);

/* Restores the initial users and catalog, clears the episode's metrics,
 * and seeds the episode's streams from (seed, episode). */
int world_reset(world_t *w, uint32_t episode);

int world_tick(const world_t *w); /* ticks completed in this episode */
uint32_t world_episode(const world_t *w);

/* Items. Ids are stable within an episode: 0..n_items-1 at tick 0, then
 * one more per birth. */
typedef struct world_item {
    int32_t topic;
    int32_t provider;
    int32_t birth_tick;
    int32_t death_tick; /* tick at which it retires; INT32_MAX = never */
    float quality;      /* hidden */
    bool alive;
} world_item_t;

int world_item_count(const world_t *w);    /* ids issued so far */
int world_item_capacity(const world_t *w); /* ids an episode can issue at most */
const world_item_t *world_item(const world_t *w, int32_t id);
const float *world_item_embedding(const world_t *w, int32_t id); /* (dim) */
const float *world_embeddings(const world_t *w);                 /* (item_count, dim) */
const int32_t *world_live_items(const world_t *w, int *n_live);  /* ascending ids */

/* Items born and retired by the last world_begin_tick (borrowed). */
const int32_t *world_born(const world_t *w, int *n);
const int32_t *world_retired(const world_t *w, int *n);

/* Starts the next tick: retires and adds items, lets offline users return
 * (in market mode, a returning user picks a platform), and forms this
 * tick's requests: one per user in a session. */
int world_begin_tick(world_t *w);

/* The requests agent must answer this tick (borrowed, valid until the
 * next world_begin_tick). In feed mode every agent gets every request. */
typedef struct world_requests {
    int n;
    const int32_t *user_ids; /* (n) */
    const float *features;   /* (n, dim): public, noisy view of interests */
    const int32_t *history;  /* (n, history_len): last consumed ids, newest first, -1 = none */
} world_requests_t;

const world_requests_t *world_requests(const world_t *w, int agent);

/* Sets the slate of agent's request number row this tick (items: k ids,
 * copied), after checking it against the live catalog: every id issued
 * and live (ERR_EITEM otherwise), none twice (ERR_EDUP). This is the
 * one check a slate gets, whether an in-process policy or an agent's ACT
 * proposed it. Setting a row again replaces it. Also ERR_ESTATE outside
 * a tick, ERR_EINVAL for an agent or row out of range; on any error
 * nothing is stored. */
int world_set_slate(world_t *w, int agent, int row, const int32_t *items);

/* world_set_slate for every request of agent this tick, from slates
 * (n, k) in request order (n: world_requests(w, agent)->n), in one pass:
 * each row gets the same check and result as world_set_slate gives it,
 * the refused rows are left as they were. Returns 0 when every row was
 * set, else the first refused row's code (*first_row: that row; *refused:
 * how many), or ERR_ESTATE outside a tick, ERR_EINVAL for an agent out of
 * range (nothing stored). */
int world_set_slates(world_t *w, int agent, const int32_t *slates, int *refused, int *first_row);

/* True if agent's request number row has a slate this tick. */
bool world_has_slate(const world_t *w, int agent, int row);

/* The slates agent set this tick, (n, slate_size) in request order
 * (borrowed, valid until the next world_begin_tick). */
const int32_t *world_slates(const world_t *w, int agent);

/* Per-tick figures, filled by world_end_tick. */
typedef struct world_tick_stats {
    int tick;
    int active_users;             /* users in a session at the start of the tick */
    int requests;                 /* pages shown (one per active user) */
    int clicks;                   /* pages with a click */
    int session_ends;             /* sessions that ended this tick */
    int returns;                  /* users who started a session this tick */
    int items_live;               /* live items this tick */
    double welfare;               /* sum of utility of consumed items */
    double welfare_initial;       /* the same against the users' interests at the
                                     episode's start (differs only with drift) */
    double ild;                   /* mean intra-list diversity of this tick's pages */
    double topics_consumed_share; /* distinct topics clicked / n_topics */
    /* exposure over the episode so far, all item ids issued (metrics.h) */
    double gini, coverage, entropy;        /* entropy in nats */
    int agent_requests[WORLD_MAX_AGENTS];  /* requests routed to each agent */
    int agent_clicks[WORLD_MAX_AGENTS];    /* clicks credited to each agent */
    double agent_reward[WORLD_MAX_AGENTS]; /* after sharing and bonus */
    double agent_regret[WORLD_MAX_AGENTS]; /* oracle click prob - own page's; 0 without oracle */
} world_tick_stats_t;

/* Resolves the tick: builds each page (feed: seeded team-draft
 * interleaving), draws the user's choice, applies the dynamics and
 * rewards. Every request of every agent must have its slate
 * (ERR_EMISSED otherwise). The one allocation a tick may need is made
 * before anything changes, so ERR_ENOMEM, like ERR_EMISSED and
 * ERR_ESTATE (no tick begun), leaves the world as it was. */
int world_end_tick(world_t *w, world_tick_stats_t *stats);

/* What agent learns about its requests of the tick just resolved
 * (borrowed, valid until the next world_end_tick or world_reset, so a
 * server can send it together with the next tick's requests). Empty
 * before the first tick of an episode. */
typedef struct world_feedback {
    int n;
    const int32_t *user_ids;    /* (n), as in the requests */
    const int32_t *clicked;     /* (n): position in the agent's own slate credited with
                                   the click, -1 = none */
    const float *reward;        /* (n): own reward, 1 per credited click */
    const uint8_t *session_end; /* (n): 1 if the user's session ended */
    double tick_reward;         /* the agent's reward for the tick (shared, with bonus) */
} world_feedback_t;

const world_feedback_t *world_feedback(const world_t *w, int agent);

/* Exposure (pages showing the item) and clicks per item id this episode,
 * (world_item_count) entries, borrowed. */
const uint32_t *world_exposure(const world_t *w);
const uint32_t *world_clicks(const world_t *w);

/* Episode figures, computed from the episode so far. */
typedef struct world_episode_metrics {
    int ticks;
    long requests, clicks, session_ends;
    double ctr;
    double welfare, welfare_per_request;
    double welfare_initial; /* welfare against the users' interests at the episode's start */
    double mean_active_users;
    double churn; /* users whose last session ended and who did not come back / users */
    double gini, coverage, entropy, entropy_normalized;
    double ild;                 /* mean over pages */
    double jaccard;             /* mean Jaccard of consumed sets over user pairs */
    double interest_similarity; /* mean pairwise cosine of interest vectors */
    double hhi;                 /* of market shares */
    long agent_requests[WORLD_MAX_AGENTS];
    long agent_clicks[WORLD_MAX_AGENTS];
    double agent_reward[WORLD_MAX_AGENTS];
    double agent_regret[WORLD_MAX_AGENTS];
    double agent_ctr[WORLD_MAX_AGENTS];
    double agent_share[WORLD_MAX_AGENTS]; /* market: of requests; feed: of clicks */
} world_episode_metrics_t;

int world_episode_metrics(world_t *w, world_episode_metrics_t *m);

/* Homogenization so far this episode, cheaply: the mean Jaccard of the
 * consumed sets of `pairs` user pairs a != b drawn uniformly (with
 * replacement) from rng (borrowed, advanced), pairs of two empty sets left
 * out, into *out (0 when none counts or fewer than two users). The
 * episode figure (world_episode_metrics' jaccard) uses every pair up to
 * its limit; this one costs the two sets' sizes per pair, for a per-tick
 * trajectory. 0 or ERR_ENOMEM. */
int world_sample_jaccard(const world_t *w, size_t pairs, pcg32_t *rng, double *out);

/* Hidden state, for oracles, metrics and tests (borrowed). */
const float *world_user_interest(const world_t *w, int32_t user); /* (dim) */
const float *world_user_satiation(const world_t *w,
                                  int32_t user); /* (n_topics), as of last touch */
bool world_user_active(const world_t *w, int32_t user);
int world_user_platform(const world_t *w, int32_t user); /* market: current platform */

/* Setters of hidden state, for tests and hand-built worlds: they change
 * the current episode only (world_reset restores the drawn state). The
 * vectors are copied as given (not normalised). */
void world_set_user_interest(world_t *w, int32_t user, const float *interest);
void world_set_item(world_t *w, int32_t id, int32_t topic, float quality, const float *embedding);

/* Click probability of each position of page for user under the choice
 * model (probs: (k)), and the probability of no click as the return
 * value. Pure: changes nothing. */
double world_choice_probs(const world_t *w, int32_t user, const int32_t *page, double *probs);

/* The oracle: the highest click probability any slate of live items could
 * give user now, and that slate (best: (k), may be NULL). */
double world_oracle(const world_t *w, int32_t user, int32_t *best);

#endif
