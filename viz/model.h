/* The viewer's data model: what the charts show, per tick and per agent,
 * fed from telemetry messages (viz_model_apply, subscriber.h) or from a
 * finished run folder (rundir.h), and read by the drawing code (draw.h).
 * No SDL and no sockets here.
 *
 * Every tick received becomes one point, in arrival order. Per-agent
 * series are flat arrays of shape (n_points, n_agents), row-major. The
 * derived series (moving average, shares) are computed as ticks arrive,
 * so drawing only reads. Missing values are NaN and are drawn as gaps.
 *
 * Besides the per-tick series, one row per episode (the learning curve):
 * each agent's click rate, reward, regret per request and share over the
 * episode, computed from the same ticks, so the latest episode's row is
 * the episode so far.
 *
 * Share is of requests in market mode (which platform users chose) and
 * of clicks in feed mode (whose items users clicked), as in summary.json.
 * The mode comes from the scenario when one is known, otherwise from the
 * telemetry itself: in feed mode every agent sees every request, so the
 * agents' requests add up to more than the tick's (with two or more
 * agents).
 *
 * A tick that does not come after the last one (an earlier episode, or
 * the same or an earlier tick of the same episode) starts a new run: the
 * series and the exposure snapshot are cleared. */
#ifndef RECARENA_VIZ_MODEL_H
#define RECARENA_VIZ_MODEL_H

#include "core/err.h" /* errors: 0 or a negative ERR_* code, err_str() */
#include "proto/codec.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VIZ_MAX_ALGORITHM 48 /* bytes of an algorithm label, NUL included */
#define VIZ_AVERAGE_TICKS 20 /* trailing window of the reward moving average, ticks */
/* Per-agent values kept (n_points * n_agents, and n_episodes * n_agents);
 * beyond, the older half of the points (episodes) is dropped. 8 series of
 * floats per point: 256 MiB at most. */
#define VIZ_MAX_VALUES (1u << 23)

typedef enum viz_mode {
    VIZ_MODE_UNKNOWN = 0, /* not known yet: shares are of requests */
    VIZ_MODE_MARKET,      /* share of requests */
    VIZ_MODE_FEED,        /* share of clicks */
} viz_mode_t;

/* One tick's system figures. */
typedef struct viz_point {
    uint32_t episode, tick;
    double x_all;       /* position on the "all episodes" axis, ticks */
    float gini;         /* exposure Gini so far in the episode */
    float coverage;     /* catalog coverage so far in the episode */
    float active_users; /* users in a session at the tick's start; NaN: unknown */
    float welfare;      /* utility users consumed this tick; NaN: unknown */
} viz_point_t;

/* One episode's system figures (its ticks so far). */
typedef struct viz_episode {
    uint32_t episode;
    uint32_t ticks;            /* ticks received */
    float click_rate;          /* clicks / requests; NaN: no requests */
    float welfare_per_request; /* welfare / requests; NaN: none (or welfare unknown) */
    float mean_active_users;   /* NaN: unknown */
    float gini, coverage;      /* at the episode's last tick received */
} viz_episode_t;

/* Fields are read directly (by the drawing code and the tests); they are
 * written only by the functions below. */
typedef struct viz_model {
    /* the run: from a scenario (rundir.h) or from telemetry */
    char scenario[128]; /* run name, "" unknown */
    viz_mode_t mode;
    bool mode_from_scenario; /* mode is the scenario's, not inferred */
    uint32_t episodes;       /* in the run, 0 unknown */
    uint32_t ticks;          /* per episode, 0 unknown */
    uint32_t n_agents;       /* 0 until known */
    char names[PROTO_MAX_AGENTS][PROTO_MAX_NAME + 1];
    char algorithms[PROTO_MAX_AGENTS][VIZ_MAX_ALGORITHM]; /* "" unknown */

    /* series */
    size_t n_points;
    size_t capacity;            /* points allocated */
    viz_point_t *points;        /* (n_points) */
    float *reward;              /* (n_points, n_agents) tick reward */
    float *reward_average;      /* (n_points, n_agents) mean of the finite rewards of the last
                                   VIZ_AVERAGE_TICKS points of the same episode; NaN: none */
    float *share;               /* (n_points, n_agents) share of the tick; NaN: nothing to share */
    float *share_running;       /* (n_points, n_agents) share of the episode so far */
    float *click_rate;          /* (n_points, n_agents) clicks / requests this tick; NaN: none */
    float *click_rate_running;  /* (n_points, n_agents) of the episode so far */
    float *regret_rate;         /* (n_points, n_agents) regret / requests this tick; NaN: none */
    float *regret_rate_running; /* (n_points, n_agents) of the episode so far */
    size_t episode_start;       /* index of the first point of the latest episode */
    double episode_base;        /* x_all of tick 0 of the latest episode */
    int64_t sum_requests[PROTO_MAX_AGENTS]; /* latest episode so far */
    int64_t sum_clicks[PROTO_MAX_AGENTS];
    double sum_reward[PROTO_MAX_AGENTS], sum_regret[PROTO_MAX_AGENTS];
    double sum_welfare, sum_active_users; /* NaN once a tick lacks them */
    int64_t sum_tick_requests, sum_tick_clicks;
    bool has_regret; /* a nonzero regret arrived: the run has its oracle */
    bool oracle_off; /* the scenario says world.oracle = false */

    /* the learning curve: one row per episode, the latest one so far */
    size_t n_episodes;
    size_t episode_capacity;   /* rows allocated */
    viz_episode_t *episode;    /* (n_episodes) */
    float *episode_click_rate; /* (n_episodes, n_agents) clicks / requests; NaN: none */
    float *episode_reward;     /* (n_episodes, n_agents) sum of the tick rewards */
    float *episode_regret;     /* (n_episodes, n_agents) regret / request; NaN: none */
    float *episode_share;      /* (n_episodes, n_agents) as share_running at the end */
    float *episode_gini;       /* (n_episodes, n_agents) exposure Gini of the agent's own slates
                                  over the episode, known at its end (TELEMETRY_EPISODE.agent_gini,
                                  summary.json); NaN: not known */

    /* the latest exposure snapshot */
    bool has_exposure;
    uint32_t exposure_episode, exposure_tick;
    size_t n_items;       /* item ids in the snapshot */
    double *lorenz;       /* (n_items + 1): share of all exposure held by the i least
                             shown items; lorenz[0] = 0, lorenz[n_items] = 1 */
    double exposure_gini; /* of the snapshot, from the same sorted counts */
    int64_t exposure_total;
    uint32_t n_topics;
    int64_t *topics; /* (n_topics) exposure per topic */

    /* what arrived */
    uint64_t ticks_received, exposures_received, episodes_received;
    bool run_complete; /* the last episode's summary arrived (episodes known) */
} viz_model_t;

/* A model starts zeroed (init) and frees what it holds with fini. */
void viz_model_init(viz_model_t *m);
void viz_model_fini(viz_model_t *m);

/* Drops the series and the exposure snapshot; keeps the run description. */
void viz_model_clear(viz_model_t *m);

/* Describes the run before data arrive: scenario name, mode, episodes and
 * ticks per episode (0: unknown), and the agents, by agent index, with
 * their algorithm labels (algorithms may be NULL). Borrows the strings
 * (copied, truncated to fit). Clears the series. ERR_EINVAL if n_agents
 * is 0 or above PROTO_MAX_AGENTS. */
int viz_model_describe(viz_model_t *m, const char *scenario, viz_mode_t mode, uint32_t episodes,
                       uint32_t ticks, uint32_t n_agents, const char *const *names,
                       const char *const *algorithms);

/* Appends one tick (borrowed). Agents other than the model's (names or
 * count) replace them and clear the series. ERR_EINVAL (a tick with no
 * agents, too many, or NULL arrays) or ERR_ENOMEM, the model unchanged. */
int viz_model_add_tick(viz_model_t *m, const proto_telemetry_tick_t *tick);

/* Replaces the exposure snapshot (borrowed). ERR_ENOMEM leaves the old one. */
int viz_model_set_exposure(viz_model_t *m, const proto_telemetry_exposure_t *exposure);

/* Each agent's exposure Gini over episode (gini: (n_agents), by agent
 * index, borrowed) into that episode's row; nothing if the model has no
 * row for it. */
void viz_model_set_agent_gini(viz_model_t *m, uint32_t episode, const double *gini);

/* Notes an episode's end (borrowed): counted, its agents' exposure Gini
 * kept when it carries them for the model's agents, and the run is
 * complete after the last episode when the number of episodes is known. */
void viz_model_end_episode(viz_model_t *m, const proto_telemetry_episode_t *episode);

/* One decoded telemetry message (borrowed) into the model: TELEMETRY_TICK,
 * _EXPOSURE and _EPISODE; other types are ignored (0). Returns as the
 * functions above. */
int viz_model_apply(viz_model_t *m, const proto_msg_t *msg);

/* Makes dst (initialised) a deep copy of src, e.g. the frozen picture of
 * a paused viewer. ERR_ENOMEM leaves dst cleared. */
int viz_model_copy(viz_model_t *dst, const viz_model_t *src);

/* Index of the first point of the latest episode, or 0 for all episodes:
 * where the charts start. */
size_t viz_model_first_point(const viz_model_t *m, bool all_episodes);

#endif
