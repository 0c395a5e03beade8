/* The world's private parts, shared by its three files and by nothing
 * else: world.c (lifecycle, catalog, arrivals and requests, slates,
 * episode metrics, hidden state), world_choice.c (the choice model,
 * satiation, the oracle), world_tick.c (resolving a tick) and
 * world_market.c (platform choice, public reputation). The public
 * contract is sim/world.h. */
#ifndef RECARENA_WORLD_PRIVATE_H
#define RECARENA_WORLD_PRIVATE_H

#include "core/pcg32.h"
#include "core/vec.h"
#include "sim/world.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#define WORLD_DECAY_TABLE 64 /* satiation_decay^dt precomputed for dt below this */

typedef struct world_agent_buf {
    /* requests of the current tick */
    int n;
    int32_t *user_ids;     /* (n_users) */
    float *features;       /* (n_users, dim) */
    int32_t *history;      /* (n_users, history_len) */
    int32_t *request_slot; /* (n_users): index of each request in the tick's global list */
    int32_t *slates;       /* (n_users, k) */
    uint8_t *has_slate;    /* (n_users): request j's slate is set */
    int n_slates;          /* requests whose slate is set */
    world_requests_t view;
    /* feedback of the last resolved tick */
    int32_t *fb_user_ids; /* (n_users) */
    int32_t *fb_clicked;  /* (n_users) */
    float *fb_reward;     /* (n_users) */
    int32_t *fb_topic;    /* (n_users): topic clicked on request j's page, -1 = no click */
    uint8_t *fb_session_end;
    world_feedback_t fb_view;
} world_agent_buf_t;

/* What a page reads and writes of each of its items besides the
 * embedding, in 32 bytes (half a cache line; the table starts on a line):
 * a copy of world_item_t's quality and topic, kept with it (s_item_sync);
 * the embedding's metrics_inverse_norm (s_item_norm), for the intra-list
 * diversity of catalogs too large to keep unit rows; and the episode's
 * exposure and click counts, which world_end_tick counts here and copies
 * to w->exposure and w->clicks (the arrays world_exposure and
 * world_clicks hand out) at the end of the tick. */
typedef struct world_hot {
    double inv_norm;
    float quality;
    int32_t topic;
    uint32_t exposure, clicks;
    uint32_t spare[2]; /* to 32 bytes: a record never straddles two lines */
} world_hot_t;
_Static_assert(sizeof(world_hot_t) == 32, "world_hot_t is half a cache line");

/* Above this many item ids a slate's duplicate check compares the slate's
 * ids with each other (k (k - 1) / 2 comparisons) instead of marking
 * them in page_stamp: a mark is a cache line from memory per item once
 * the marks outgrow the caches, a comparison is not. The same outcome
 * either way. */
#define WORLD_MARKS_MAX (1 << 16)

typedef struct world_consumed {
    int32_t *ids;
    int n, cap;
} world_consumed_t;

struct world {
    world_config_t cfg;
    uint64_t seed;
    uint32_t episode;
    int tick;     /* ticks completed */
    bool in_tick; /* between begin_tick and end_tick */
    int k, dim;

    /* items: capacity ids, the first n_item_ids issued */
    int capacity;
    int n_item_ids;
    world_item_t *items;
    world_hot_t *hot;     /* (capacity): what a page reads and counts of each item */
    uint8_t *alive;       /* (capacity): items[id].alive, packed, 1 MB per million ids */
    bool prefetch;        /* the item tables outgrow a core's cache (world_end_tick) */
    float *emb;           /* (capacity, dim), unit rows */
    double *unit_emb;     /* (capacity, dim): metrics_unit_row of each emb row, for ILD; NULL
                             for a catalog too large to keep them (s_keeps_unit_rows) */
    world_item_t *items0; /* initial catalog, (n_items) */
    float *emb0;
    float *topic_centres; /* (n_topics, dim), unit rows */
    int32_t *live;        /* ascending live ids */
    int n_live;
    int32_t *born, *retired;
    int n_born, n_retired;
    uint32_t *exposure, *clicks; /* (capacity) per episode */
    uint32_t *page_stamp;        /* (capacity): membership marks (interleaving, slate checks) */
    uint32_t stamp;

    /* users */
    float *interest, *interest0; /* (n_users, dim), unit rows */
    float *feature_offset;       /* (n_users, dim): fixed public-feature noise */
    float *satiation;            /* (n_users, n_topics) as of sat_tick */
    int32_t *sat_tick;
    int32_t *history; /* (n_users, history_len) newest first */
    double *budget, *satisfaction;
    float *reputation; /* (n_users, n_agents) */
    /* public reputation (world_market.c): per agent a ring of its last
     * reputation_window pages (1 = clicked), (n_agents, window) */
    uint8_t *pub_ring;
    int pub_count[WORLD_MAX_AGENTS], pub_next[WORLD_MAX_AGENTS], pub_sum[WORLD_MAX_AGENTS];
    uint8_t *active, *ended;
    int32_t *platform;
    world_consumed_t *consumed;

    /* streams of the episode */
    pcg32_t rng_arrivals, rng_choices, rng_births, rng_interleave;

    /* this tick */
    int n_requests;
    int32_t *req_users; /* (n_users) global request list, ascending user ids */
    int active_at_start, returns_this_tick;
    world_agent_buf_t agents[WORLD_MAX_AGENTS];
    float decay_pow[WORLD_DECAY_TABLE]; /* satiation_decay^dt */
    float *exam;                        /* (k) examination weights */
    double *probs;                      /* (k) scratch */
    int32_t *page;                      /* (k) feed mode: the interleaved page */
    int32_t *page_agent;                /* (k) feed mode: contributing agent per position */
    int32_t *page_src; /* (k) feed mode: position in the contributing agent's slate */
    uint32_t *topic_stamp;
    int32_t *topic_clicks; /* (n_topics): clicks per topic this tick, for the shared rewards */
    double *share_scratch; /* (n_users): one agent's shared request rewards */
    uint32_t *gini_scratch;

    /* episode accumulators */
    world_episode_metrics_t acc;
    double ild_sum;
    double active_sum;
};

/* Satiation of user u at tick t relative to its last touch: the factor
 * (satiation_decay^dt) its stored satiation is to be multiplied by. */
float world_satiation_factor(const world_t *w, int32_t u, int32_t t);

/* Brings user u's satiation up to the current tick. */
void world_touch_satiation(world_t *w, int32_t u);

/* The logit's attractions (v: (k)) of page for user u with satiation
 * scaled by sat_factor, and the no-click option's (*v0); returns their
 * total. P(p) = v[p] / total, P(no click) = *v0 / total. Pure. */
double world_page_attractions(const world_t *w, int32_t u, float sat_factor, const int32_t *page,
                              double *v, double *v0);

/* Click probabilities (probs: (k)) of page for user u with satiation
 * scaled by sat_factor; returns P(no click). Pure. */
double world_page_probs(const world_t *w, int32_t u, float sat_factor, const int32_t *page,
                        double *probs);

/* Market mode (world_market.c). The platform a user whose session starts
 * picks, with the uniform draw u; clears the public reputations; the
 * public reputation of agent (its click rate over its last pages, 0
 * before any); records one page of agent for it. */
int32_t world_pick_platform(const world_t *w, int32_t user, double u);
void world_market_reset(world_t *w);
double world_public_reputation(const world_t *w, int agent);
void world_market_record(world_t *w, int agent, bool clicked);

#endif
