/* The world: users, items, the choice model and the dynamics (world.h).
 * Formulas are documented, with their sources, in docs/world.md; the
 * comments here name the quantity, docs/world.md says why.
 *
 * Determinism: every draw comes from a stream of proto/pcg32.h. Draws that
 * happen per user per tick (arrivals) or per request (choices, feed
 * interleaving) are made whether or not they are needed, so that one
 * agent's slates never shift the random numbers another user sees. */
#include "sim/world.h"

#include "core/metrics.h"
#include "core/pcg32.h"
#include "sim/streams.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define JACCARD_MAX_PAIRS 2000000
#define WORLD_DECAY_TABLE 64 /* satiation_decay^dt precomputed for dt below this */

typedef struct s_agent_buf {
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
    uint8_t *fb_session_end;
    world_feedback_t fb_view;
} s_agent_buf_t;

typedef struct s_consumed {
    int32_t *ids;
    int n, cap;
} s_consumed_t;

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
    float *emb;           /* (capacity, dim), unit rows */
    world_item_t *items0; /* initial catalog, (n_items) */
    float *emb0;
    float *topic_centres; /* (n_topics, dim), unit rows */
    int32_t *live;        /* ascending live ids */
    int n_live;
    int32_t *born, *retired;
    int n_born, n_retired;
    uint32_t *exposure, *clicks; /* (capacity) per episode */
    uint32_t *page_stamp;        /* (capacity): membership marks for interleaving */
    uint32_t stamp;

    /* users */
    float *interest, *interest0; /* (n_users, dim), unit rows */
    float *feature_offset;       /* (n_users, dim): fixed public-feature noise */
    float *satiation;            /* (n_users, n_topics) as of sat_tick */
    int32_t *sat_tick;
    int32_t *history; /* (n_users, history_len) newest first */
    double *budget, *satisfaction;
    float *reputation; /* (n_users, n_agents) */
    uint8_t *active, *ended;
    int32_t *platform;
    s_consumed_t *consumed;

    /* streams of the episode */
    pcg32_t rng_arrivals, rng_choices, rng_births, rng_interleave;

    /* this tick */
    int n_requests;
    int32_t *req_users; /* (n_users) global request list, ascending user ids */
    int active_at_start, returns_this_tick;
    s_agent_buf_t agents[WORLD_MAX_AGENTS];
    float decay_pow[WORLD_DECAY_TABLE]; /* satiation_decay^dt */
    float *exam;                        /* (k) examination weights */
    double *probs;                      /* (k) scratch */
    int32_t *page;                      /* (k) */
    int32_t *page_agent;                /* (k): contributing agent per position */
    int32_t *page_src;                  /* (k): position in the contributing agent's slate */
    uint32_t *topic_stamp;
    uint32_t *gini_scratch;

    /* episode accumulators */
    world_episode_metrics_t acc;
    double ild_sum;
    double active_sum;
};

/* ---- small numeric helpers ------------------------------------------- */

/* Four partial sums let the compiler use vector lanes without
 * reassociating (the order is fixed, so results stay bit-exact). */
static float s_dot(const float *a, const float *b, int n)
{
    float part[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    int i = 0;
    for (; i + 4 <= n; i += 4)
        for (int l = 0; l < 4; l++)
            part[l] += a[i + l] * b[i + l];
    float sum = (part[0] + part[1]) + (part[2] + part[3]);
    for (; i < n; i++)
        sum += a[i] * b[i];
    return sum;
}

static void s_normalize(float *v, int n)
{
    float norm = sqrtf(s_dot(v, v, n));
    if (norm > 0.0f)
        for (int i = 0; i < n; i++)
            v[i] /= norm;
}

/* out = normalize(centre + N(0, spread^2) per coordinate) */
static void s_noisy_unit(float *out, const float *centre, double spread, int dim, pcg32_t *rng)
{
    for (int i = 0; i < dim; i++)
        out[i] = (centre ? centre[i] : 0.0f) + (float)(spread * pcg32_normal(rng));
    s_normalize(out, dim);
}

/* ---- lifecycle ------------------------------------------------------- */

static void *s_alloc(size_t count, size_t size, bool *ok)
{
    if (count == 0)
        count = 1;
    void *p = calloc(count, size);
    if (!p)
        *ok = false;
    return p;
}

static int32_t s_lifetime(const world_t *w, pcg32_t *rng, int32_t birth)
{
    double u = pcg32_uniform(rng); /* drawn always: keeps the stream aligned */
    if (w->cfg.item_lifetime <= 0.0)
        return INT32_MAX;
    double life = ceil(-w->cfg.item_lifetime * log1p(-u));
    if (life < 1.0)
        life = 1.0;
    if (life > (double)(INT32_MAX - 1) - birth)
        return INT32_MAX;
    return birth + (int32_t)life;
}

static void s_new_item(world_t *w, int32_t id, int32_t birth, pcg32_t *rng)
{
    world_item_t *it = &w->items[id];
    it->topic = (int32_t)pcg32_bounded(rng, (uint32_t)w->cfg.n_topics);
    it->provider = (int32_t)pcg32_bounded(rng, (uint32_t)w->cfg.n_providers);
    it->quality = (float)(w->cfg.quality_std * pcg32_normal(rng));
    it->birth_tick = birth;
    it->death_tick = s_lifetime(w, rng, birth);
    it->alive = true;
    s_noisy_unit(&w->emb[(size_t)id * w->dim], &w->topic_centres[(size_t)it->topic * w->dim],
                 w->cfg.topic_spread, w->dim, rng);
}

static void s_rebuild_live(world_t *w)
{
    w->n_live = 0;
    for (int32_t id = 0; id < w->n_item_ids; id++)
        if (w->items[id].alive)
            w->live[w->n_live++] = id;
}

world_t *world_new(const world_config_t *cfg, uint64_t seed)
{
    if (!cfg || world_config_check(cfg, NULL, 0) != 0)
        return NULL;
    world_t *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->cfg = *cfg;
    w->seed = seed;
    w->k = cfg->slate_size;
    w->dim = cfg->dim;
    w->capacity = cfg->n_items + (int)ceil(cfg->item_arrival_rate) * cfg->ticks;

    size_t users = (size_t)cfg->n_users, dim = (size_t)cfg->dim, cap = (size_t)w->capacity;
    size_t topics = (size_t)cfg->n_topics, hist = (size_t)cfg->history_len;
    size_t k = (size_t)cfg->slate_size;
    bool ok = true;
    w->items = s_alloc(cap, sizeof *w->items, &ok);
    w->emb = s_alloc(cap * dim, sizeof *w->emb, &ok);
    w->items0 = s_alloc((size_t)cfg->n_items, sizeof *w->items0, &ok);
    w->emb0 = s_alloc((size_t)cfg->n_items * dim, sizeof *w->emb0, &ok);
    w->topic_centres = s_alloc(topics * dim, sizeof *w->topic_centres, &ok);
    w->live = s_alloc(cap, sizeof *w->live, &ok);
    w->born = s_alloc(cap, sizeof *w->born, &ok);
    w->retired = s_alloc(cap, sizeof *w->retired, &ok);
    w->exposure = s_alloc(cap, sizeof *w->exposure, &ok);
    w->clicks = s_alloc(cap, sizeof *w->clicks, &ok);
    w->page_stamp = s_alloc(cap, sizeof *w->page_stamp, &ok);
    w->gini_scratch = s_alloc(2 * cap, sizeof *w->gini_scratch, &ok);
    w->interest = s_alloc(users * dim, sizeof *w->interest, &ok);
    w->interest0 = s_alloc(users * dim, sizeof *w->interest0, &ok);
    w->feature_offset = s_alloc(users * dim, sizeof *w->feature_offset, &ok);
    w->satiation = s_alloc(users * topics, sizeof *w->satiation, &ok);
    w->sat_tick = s_alloc(users, sizeof *w->sat_tick, &ok);
    w->history = s_alloc(users * hist, sizeof *w->history, &ok);
    w->budget = s_alloc(users, sizeof *w->budget, &ok);
    w->satisfaction = s_alloc(users, sizeof *w->satisfaction, &ok);
    w->reputation = s_alloc(users * (size_t)cfg->n_agents, sizeof *w->reputation, &ok);
    w->active = s_alloc(users, 1, &ok);
    w->ended = s_alloc(users, 1, &ok);
    w->platform = s_alloc(users, sizeof *w->platform, &ok);
    w->consumed = s_alloc(users, sizeof *w->consumed, &ok);
    w->req_users = s_alloc(users, sizeof *w->req_users, &ok);
    w->exam = s_alloc(k, sizeof *w->exam, &ok);
    w->probs = s_alloc(k, sizeof *w->probs, &ok);
    w->page = s_alloc(k, sizeof *w->page, &ok);
    w->page_agent = s_alloc(k, sizeof *w->page_agent, &ok);
    w->page_src = s_alloc(k, sizeof *w->page_src, &ok);
    w->topic_stamp = s_alloc(topics, sizeof *w->topic_stamp, &ok);
    for (int a = 0; a < cfg->n_agents && ok; a++) {
        s_agent_buf_t *b = &w->agents[a];
        b->user_ids = s_alloc(users, sizeof *b->user_ids, &ok);
        b->features = s_alloc(users * dim, sizeof *b->features, &ok);
        b->history = s_alloc(users * hist, sizeof *b->history, &ok);
        b->request_slot = s_alloc(users, sizeof *b->request_slot, &ok);
        b->slates = s_alloc(users * k, sizeof *b->slates, &ok);
        b->has_slate = s_alloc(users, 1, &ok);
        b->fb_user_ids = s_alloc(users, sizeof *b->fb_user_ids, &ok);
        b->fb_clicked = s_alloc(users, sizeof *b->fb_clicked, &ok);
        b->fb_reward = s_alloc(users, sizeof *b->fb_reward, &ok);
        b->fb_session_end = s_alloc(users, 1, &ok);
    }
    if (!ok)
        goto fail_destroy;

    for (int p = 0; p < w->k; p++)
        w->exam[p] = (float)pow(1.0 + p, -cfg->position_decay);
    for (int dt = 0; dt < WORLD_DECAY_TABLE; dt++)
        w->decay_pow[dt] = (float)pow(cfg->satiation_decay, dt);

    /* The catalog and population at tick 0: the same in every episode. */
    pcg32_t rng;
    pcg32_stream(&rng, seed, SIM_STREAM_CATALOG, 0);
    for (size_t t = 0; t < topics; t++)
        s_noisy_unit(&w->topic_centres[t * dim], NULL, 1.0, w->dim, &rng);
    for (int32_t id = 0; id < cfg->n_items; id++)
        s_new_item(w, id, 0, &rng);
    memcpy(w->items0, w->items, (size_t)cfg->n_items * sizeof *w->items);
    memcpy(w->emb0, w->emb, (size_t)cfg->n_items * dim * sizeof *w->emb);

    pcg32_stream(&rng, seed, SIM_STREAM_POPULATION, 0);
    pcg32_t noise;
    pcg32_stream(&noise, seed, SIM_STREAM_NOISE, 0);
    for (size_t u = 0; u < users; u++) {
        uint32_t favourite = pcg32_bounded(&rng, (uint32_t)cfg->n_topics);
        s_noisy_unit(&w->interest0[u * dim], &w->topic_centres[favourite * dim],
                     cfg->interest_spread, w->dim, &rng);
        for (size_t i = 0; i < dim; i++)
            w->feature_offset[u * dim + i] = (float)(cfg->feature_noise * pcg32_normal(&noise));
    }
    if (world_reset(w, 0) != 0)
        goto fail_destroy;
    return w;

fail_destroy:
    world_destroy(&w);
    return NULL;
}

void world_destroy(world_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    world_t *w = *self_p;
    for (int a = 0; a < WORLD_MAX_AGENTS; a++) {
        s_agent_buf_t *b = &w->agents[a];
        free(b->user_ids);
        free(b->features);
        free(b->history);
        free(b->request_slot);
        free(b->slates);
        free(b->has_slate);
        free(b->fb_user_ids);
        free(b->fb_clicked);
        free(b->fb_reward);
        free(b->fb_session_end);
    }
    if (w->consumed)
        for (int u = 0; u < w->cfg.n_users; u++)
            free(w->consumed[u].ids);
    void *blocks[] = {w->items,      w->emb,          w->items0,   w->emb0,      w->topic_centres,
                      w->live,       w->born,         w->retired,  w->exposure,  w->clicks,
                      w->page_stamp, w->gini_scratch, w->interest, w->interest0, w->feature_offset,
                      w->satiation,  w->sat_tick,     w->history,  w->budget,    w->satisfaction,
                      w->reputation, w->active,       w->ended,    w->platform,  w->consumed,
                      w->req_users,  w->exam,         w->probs,    w->page,      w->page_agent,
                      w->page_src,   w->topic_stamp};
    for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++)
        free(blocks[i]);
    free(w);
    *self_p = NULL;
}

const world_config_t *world_config(const world_t *w)
{
    return &w->cfg;
}

int world_reset(world_t *w, uint32_t episode)
{
    const world_config_t *cfg = &w->cfg;
    size_t users = (size_t)cfg->n_users, dim = (size_t)w->dim;
    w->episode = episode;
    w->tick = 0;
    w->in_tick = false;

    w->n_item_ids = cfg->n_items;
    memcpy(w->items, w->items0, (size_t)cfg->n_items * sizeof *w->items);
    memcpy(w->emb, w->emb0, (size_t)cfg->n_items * dim * sizeof *w->emb);
    memset(w->exposure, 0, (size_t)w->capacity * sizeof *w->exposure);
    memset(w->clicks, 0, (size_t)w->capacity * sizeof *w->clicks);
    memset(w->page_stamp, 0, (size_t)w->capacity * sizeof *w->page_stamp);
    memset(w->topic_stamp, 0, (size_t)cfg->n_topics * sizeof *w->topic_stamp);
    w->stamp = 0;
    w->n_born = w->n_retired = 0;
    s_rebuild_live(w);

    memcpy(w->interest, w->interest0, users * dim * sizeof *w->interest);
    memset(w->satiation, 0, users * (size_t)cfg->n_topics * sizeof *w->satiation);
    memset(w->sat_tick, 0, users * sizeof *w->sat_tick);
    for (size_t i = 0; i < users * (size_t)cfg->history_len; i++)
        w->history[i] = -1;
    memset(w->reputation, 0, users * (size_t)cfg->n_agents * sizeof *w->reputation);
    memset(w->active, 0, users);
    memset(w->ended, 0, users);
    for (size_t u = 0; u < users; u++) {
        w->budget[u] = 0.0;
        w->satisfaction[u] = 0.0;
        w->platform[u] = 0;
        w->consumed[u].n = 0;
    }

    pcg32_stream(&w->rng_arrivals, w->seed, SIM_STREAM_ARRIVALS, episode);
    pcg32_stream(&w->rng_choices, w->seed, SIM_STREAM_CHOICES, episode);
    pcg32_stream(&w->rng_births, w->seed, SIM_STREAM_BIRTHS, episode);
    pcg32_stream(&w->rng_interleave, w->seed, SIM_STREAM_INTERLEAVE, episode);

    w->n_requests = 0;
    for (int a = 0; a < cfg->n_agents; a++) {
        s_agent_buf_t *b = &w->agents[a];
        b->n = 0;
        b->n_slates = 0;
        b->fb_view = (world_feedback_t){.user_ids = b->fb_user_ids,
                                        .clicked = b->fb_clicked,
                                        .reward = b->fb_reward,
                                        .session_end = b->fb_session_end};
    }
    memset(&w->acc, 0, sizeof w->acc);
    w->ild_sum = 0.0;
    w->active_sum = 0.0;
    return 0;
}

int world_tick(const world_t *w)
{
    return w->tick;
}

uint32_t world_episode(const world_t *w)
{
    return w->episode;
}

/* ---- items ------------------------------------------------------------ */

int world_item_count(const world_t *w)
{
    return w->n_item_ids;
}

int world_item_capacity(const world_t *w)
{
    return w->capacity;
}

const world_item_t *world_item(const world_t *w, int32_t id)
{
    return (id >= 0 && id < w->n_item_ids) ? &w->items[id] : NULL;
}

const float *world_item_embedding(const world_t *w, int32_t id)
{
    return (id >= 0 && id < w->n_item_ids) ? &w->emb[(size_t)id * w->dim] : NULL;
}

const float *world_embeddings(const world_t *w)
{
    return w->emb;
}

const int32_t *world_live_items(const world_t *w, int *n_live)
{
    *n_live = w->n_live;
    return w->live;
}

const int32_t *world_born(const world_t *w, int *n)
{
    *n = w->n_born;
    return w->born;
}

const int32_t *world_retired(const world_t *w, int *n)
{
    *n = w->n_retired;
    return w->retired;
}

/* Births (Bernoulli rounding of the rate) and retirements; an item due to
 * retire stays while the live catalog would drop below one slate. */
static void s_catalog_tick(world_t *w, int32_t t)
{
    w->n_born = w->n_retired = 0;
    double rate = w->cfg.item_arrival_rate;
    int births = (int)floor(rate);
    if (pcg32_uniform(&w->rng_births) < rate - floor(rate))
        births++;
    for (int i = 0; i < births && w->n_item_ids < w->capacity; i++) {
        int32_t id = w->n_item_ids++;
        s_new_item(w, id, t, &w->rng_births);
        w->born[w->n_born++] = id;
    }
    int live = w->n_live + w->n_born;
    for (int i = 0; i < w->n_live && live > w->k; i++) {
        world_item_t *it = &w->items[w->live[i]];
        if (it->death_tick <= t) {
            it->alive = false;
            w->retired[w->n_retired++] = w->live[i];
            live--;
        }
    }
    if (w->n_born || w->n_retired)
        s_rebuild_live(w);
}

/* ---- users and requests --------------------------------------------- */

/* Satiation of user u brought up to tick t (decay per elapsed tick). */
static float s_satiation_factor(const world_t *w, int32_t u, int32_t t)
{
    int32_t dt = t - w->sat_tick[u];
    if (dt < WORLD_DECAY_TABLE)
        return w->decay_pow[dt];
    return (float)pow(w->cfg.satiation_decay, dt);
}

static void s_touch_satiation(world_t *w, int32_t u)
{
    float f = s_satiation_factor(w, u, w->tick);
    if (f != 1.0f) {
        float *sat = &w->satiation[(size_t)u * w->cfg.n_topics];
        for (int i = 0; i < w->cfg.n_topics; i++)
            sat[i] *= f;
    }
    w->sat_tick[u] = w->tick;
}

/* Market: softmax over the user's reputations (hard-max with random
 * tie-break at temperature 0), sampled by inverse CDF with u. */
static int32_t s_pick_platform(const world_t *w, int32_t user, double u)
{
    int n = w->cfg.n_agents;
    const float *rep = &w->reputation[(size_t)user * n];
    float best = rep[0];
    for (int a = 1; a < n; a++)
        best = rep[a] > best ? rep[a] : best;
    double weights[WORLD_MAX_AGENTS], total = 0.0;
    for (int a = 0; a < n; a++) {
        if (w->cfg.market_temperature > 0.0)
            weights[a] = exp((rep[a] - best) / w->cfg.market_temperature);
        else
            weights[a] = rep[a] == best ? 1.0 : 0.0;
        total += weights[a];
    }
    double target = u * total, cum = 0.0;
    for (int a = 0; a < n; a++) {
        cum += weights[a];
        if (target < cum && weights[a] > 0.0)
            return a;
    }
    for (int a = n - 1; a >= 0; a--) /* rounding: last platform with weight */
        if (weights[a] > 0.0)
            return a;
    return 0;
}

static double s_return_probability(const world_t *w, int32_t u)
{
    if (w->tick == 0)
        return w->cfg.initial_active;
    double p = w->cfg.return_base + w->cfg.return_gain * w->satisfaction[u];
    return p < 0.0 ? 0.0 : (p > 1.0 ? 1.0 : p);
}

static void s_fill_request(world_t *w, s_agent_buf_t *b, int32_t u, int slot)
{
    int j = b->n++;
    size_t dim = (size_t)w->dim, hist = (size_t)w->cfg.history_len;
    b->user_ids[j] = u;
    b->request_slot[j] = slot;
    b->has_slate[j] = 0;
    const float *x = &w->interest[(size_t)u * dim], *off = &w->feature_offset[(size_t)u * dim];
    for (size_t i = 0; i < dim; i++)
        b->features[(size_t)j * dim + i] = x[i] + off[i];
    memcpy(&b->history[(size_t)j * hist], &w->history[(size_t)u * hist], hist * sizeof(int32_t));
}

int world_begin_tick(world_t *w)
{
    if (w->in_tick || w->tick >= w->cfg.ticks)
        return ERR_ESTATE;
    const world_config_t *cfg = &w->cfg;
    if (w->tick > 0)
        s_catalog_tick(w, w->tick);
    else
        w->n_born = w->n_retired = 0;

    w->returns_this_tick = 0;
    for (int32_t u = 0; u < cfg->n_users; u++) {
        double u_arrive = pcg32_uniform(&w->rng_arrivals);
        double u_platform = pcg32_uniform(&w->rng_arrivals);
        if (w->active[u] || u_arrive >= s_return_probability(w, u))
            continue;
        w->active[u] = 1;
        w->ended[u] = 0;
        w->budget[u] = cfg->session_budget;
        w->returns_this_tick++;
        if (cfg->mode == WORLD_MODE_MARKET)
            w->platform[u] = s_pick_platform(w, u, u_platform);
    }

    w->n_requests = 0;
    for (int a = 0; a < cfg->n_agents; a++) {
        w->agents[a].n = 0;
        w->agents[a].n_slates = 0;
    }
    for (int32_t u = 0; u < cfg->n_users; u++) {
        if (!w->active[u])
            continue;
        int slot = w->n_requests++;
        w->req_users[slot] = u;
        if (cfg->mode == WORLD_MODE_MARKET)
            s_fill_request(w, &w->agents[w->platform[u]], u, slot);
        else
            for (int a = 0; a < cfg->n_agents; a++)
                s_fill_request(w, &w->agents[a], u, slot);
    }
    w->active_at_start = w->n_requests;
    for (int a = 0; a < cfg->n_agents; a++) {
        s_agent_buf_t *b = &w->agents[a];
        b->view = (world_requests_t){
            .n = b->n, .user_ids = b->user_ids, .features = b->features, .history = b->history};
    }
    w->in_tick = true;
    return 0;
}

const world_requests_t *world_requests(const world_t *w, int agent)
{
    if (agent < 0 || agent >= w->cfg.n_agents)
        return NULL;
    return &w->agents[agent].view;
}

/* 0, ERR_EITEM or ERR_EDUP for one slate of k ids: the one check of
 * a slate, whoever proposes it. */
static int s_check_slate(const world_t *w, const int32_t *slate)
{
    for (int p = 0; p < w->k; p++) {
        int32_t id = slate[p];
        if (id < 0 || id >= w->n_item_ids || !w->items[id].alive)
            return ERR_EITEM;
        for (int q = 0; q < p; q++)
            if (slate[q] == id)
                return ERR_EDUP;
    }
    return 0;
}

int world_set_slate(world_t *w, int agent, int row, const int32_t *items)
{
    if (!w->in_tick)
        return ERR_ESTATE;
    if (agent < 0 || agent >= w->cfg.n_agents || row < 0 || row >= w->agents[agent].n)
        return ERR_EINVAL;
    int rc = s_check_slate(w, items);
    if (rc != 0)
        return rc;
    s_agent_buf_t *b = &w->agents[agent];
    memcpy(&b->slates[(size_t)row * w->k], items, (size_t)w->k * sizeof *items);
    if (!b->has_slate[row]) {
        b->has_slate[row] = 1;
        b->n_slates++;
    }
    return 0;
}

bool world_has_slate(const world_t *w, int agent, int row)
{
    return w->in_tick && agent >= 0 && agent < w->cfg.n_agents && row >= 0 &&
           row < w->agents[agent].n && w->agents[agent].has_slate[row];
}

const int32_t *world_slates(const world_t *w, int agent)
{
    if (agent < 0 || agent >= w->cfg.n_agents)
        return NULL;
    return w->agents[agent].slates;
}

/* ---- the choice model ------------------------------------------------ */

/* Click probabilities (probs: (k)) of page for user u with satiation
 * scaled by sat_factor; returns P(no click). Position-weighted multinomial
 * logit: v_p = exam_p exp(s_p / T), v_0 = exp(s_0 / T),
 * P(p) = v_p / (v_0 + sum v). */
static double s_probs(const world_t *w, int32_t u, float sat_factor, const int32_t *page,
                      double *probs)
{
    const world_config_t *cfg = &w->cfg;
    const float *x = &w->interest[(size_t)u * w->dim];
    const float *sat = &w->satiation[(size_t)u * cfg->n_topics];
    double best = cfg->no_click_score;
    for (int p = 0; p < w->k; p++) {
        const world_item_t *it = &w->items[page[p]];
        double s = s_dot(x, &w->emb[(size_t)page[p] * w->dim], w->dim) +
                   cfg->quality_weight * it->quality - sat_factor * sat[it->topic];
        probs[p] = s;
        best = s > best ? s : best;
    }
    double inv_t = 1.0 / cfg->choice_temperature;
    double v0 = exp((cfg->no_click_score - best) * inv_t), total = v0;
    for (int p = 0; p < w->k; p++) {
        probs[p] = w->exam[p] * exp((probs[p] - best) * inv_t);
        total += probs[p];
    }
    for (int p = 0; p < w->k; p++)
        probs[p] /= total;
    return v0 / total;
}

double world_choice_probs(const world_t *w, int32_t user, const int32_t *page, double *probs)
{
    return s_probs(w, user, s_satiation_factor(w, user, w->tick), page, probs);
}

double world_oracle(const world_t *w, int32_t user, int32_t *best)
{
    const world_config_t *cfg = &w->cfg;
    int k = w->k;
    float factor = s_satiation_factor(w, user, w->tick);
    const float *x = &w->interest[(size_t)user * w->dim];
    const float *sat = &w->satiation[(size_t)user * cfg->n_topics];
    /* top-k live items by score, kept sorted descending */
    int32_t top[WORLD_MAX_SLATE];
    double top_score[WORLD_MAX_SLATE];
    int filled = 0;
    for (int i = 0; i < w->n_live; i++) {
        int32_t id = w->live[i];
        const world_item_t *it = &w->items[id];
        double s = s_dot(x, &w->emb[(size_t)id * w->dim], w->dim) +
                   cfg->quality_weight * it->quality - factor * sat[it->topic];
        if (filled == k && s <= top_score[k - 1])
            continue;
        int p = filled < k ? filled++ : k - 1;
        while (p > 0 && top_score[p - 1] < s) {
            top_score[p] = top_score[p - 1];
            top[p] = top[p - 1];
            p--;
        }
        top_score[p] = s;
        top[p] = id;
    }
    /* examination weights fall with position, so sorted scores maximise
     * sum exam_p v_p, and P(click) = A / (v_0 + A) rises with it */
    double hi = top_score[0] > cfg->no_click_score ? top_score[0] : cfg->no_click_score;
    double inv_t = 1.0 / cfg->choice_temperature;
    double attraction = 0.0;
    for (int p = 0; p < k; p++)
        attraction += w->exam[p] * exp((top_score[p] - hi) * inv_t);
    double v0 = exp((cfg->no_click_score - hi) * inv_t);
    if (best)
        memcpy(best, top, (size_t)k * sizeof *best);
    return attraction / (v0 + attraction);
}

/* ---- resolving a tick ------------------------------------------------ */

/* Team-draft interleaving (Radlinski, Kurup and Joachims 2008) extended to
 * n teams: rounds in a fresh random agent order; in turn each agent adds
 * its highest-ranked item not yet on the page, until the page holds k. */
static void s_interleave(world_t *w, int slot, pcg32_t *rng)
{
    int n = w->cfg.n_agents, k = w->k;
    int next[WORLD_MAX_AGENTS] = {0}, order[WORLD_MAX_AGENTS];
    if (++w->stamp == 0) { /* wrapped: clear the marks */
        memset(w->page_stamp, 0, (size_t)w->capacity * sizeof *w->page_stamp);
        w->stamp = 1;
    }
    int filled = 0;
    while (filled < k) {
        for (int a = 0; a < n; a++)
            order[a] = a;
        for (int i = n - 1; i > 0; i--) {
            int j = (int)pcg32_bounded(rng, (uint32_t)i + 1);
            int tmp = order[i];
            order[i] = order[j];
            order[j] = tmp;
        }
        for (int o = 0; o < n && filled < k; o++) {
            int a = order[o];
            const int32_t *slate = &w->agents[a].slates[(size_t)slot * k];
            while (next[a] < k && w->page_stamp[slate[next[a]]] == w->stamp)
                next[a]++;
            if (next[a] == k)
                continue;
            int32_t id = slate[next[a]];
            w->page[filled] = id;
            w->page_agent[filled] = a;
            w->page_src[filled] = next[a];
            w->page_stamp[id] = w->stamp;
            next[a]++;
            filled++;
        }
    }
}

/* The consequences of consuming item id: interest drift, satiation,
 * history, consumed set. Returns the item's utility to the user. */
static int s_consume(world_t *w, int32_t u, int32_t id, double *utility)
{
    const world_config_t *cfg = &w->cfg;
    size_t dim = (size_t)w->dim, hist = (size_t)cfg->history_len;
    float *x = &w->interest[(size_t)u * dim];
    const float *e = &w->emb[(size_t)id * dim];
    const world_item_t *it = &w->items[id];
    *utility = s_dot(x, e, w->dim) + it->quality;

    float eta = (float)cfg->interest_drift;
    if (eta > 0.0f) {
        for (size_t i = 0; i < dim; i++)
            x[i] += eta * (e[i] - x[i]);
        s_normalize(x, w->dim);
    }
    w->satiation[(size_t)u * cfg->n_topics + it->topic] += (float)cfg->satiation_gain;
    if (hist > 0) {
        int32_t *h = &w->history[(size_t)u * hist];
        memmove(h + 1, h, (hist - 1) * sizeof *h);
        h[0] = id;
    }
    s_consumed_t *c = &w->consumed[u];
    if (c->n == c->cap) {
        int cap = c->cap ? 2 * c->cap : 8;
        int32_t *ids = realloc(c->ids, (size_t)cap * sizeof *ids);
        if (!ids)
            return ERR_ENOMEM;
        c->ids = ids;
        c->cap = cap;
    }
    c->ids[c->n++] = id;
    return 0;
}

int world_end_tick(world_t *w, world_tick_stats_t *stats)
{
    if (!w->in_tick)
        return ERR_ESTATE;
    const world_config_t *cfg = &w->cfg;
    int n_agents = cfg->n_agents, k = w->k;
    for (int a = 0; a < n_agents; a++)
        if (w->agents[a].n_slates < w->agents[a].n)
            return ERR_EMISSED;
    bool market = cfg->mode == WORLD_MODE_MARKET;

    world_tick_stats_t st = {.tick = w->tick,
                             .active_users = w->active_at_start,
                             .requests = w->n_requests,
                             .returns = w->returns_this_tick,
                             .items_live = w->n_live};
    int next_index[WORLD_MAX_AGENTS] = {0};
    double counterfactual[WORLD_MAX_SLATE];
    uint32_t topic_mark = (uint32_t)w->tick + 1;
    int topics_clicked = 0;
    for (int a = 0; a < n_agents; a++)
        w->agents[a].fb_view.n = w->agents[a].n;

    for (int slot = 0; slot < w->n_requests; slot++) {
        int32_t u = w->req_users[slot];
        uint64_t interleave_seed = pcg32_next64(&w->rng_interleave);
        double u_choice = pcg32_uniform(&w->rng_choices);
        int owner = market ? w->platform[u] : -1;
        int j = market ? next_index[owner]++ : slot; /* index in each agent's list */
        if (market) {
            memcpy(w->page, &w->agents[owner].slates[(size_t)j * k], (size_t)k * sizeof *w->page);
            for (int p = 0; p < k; p++) {
                w->page_agent[p] = owner;
                w->page_src[p] = p;
            }
        } else {
            pcg32_t rng;
            pcg32_seed(&rng, interleave_seed, 0);
            s_interleave(w, slot, &rng);
        }

        s_touch_satiation(w, u);
        double p_none = s_probs(w, u, 1.0f, w->page, w->probs);
        int clicked = -1;
        double cum = 0.0;
        for (int p = 0; p < k; p++) {
            cum += w->probs[p];
            if (u_choice < cum) {
                clicked = p;
                break;
            }
        }
        if (cfg->oracle) {
            double best = world_oracle(w, u, NULL);
            if (market) {
                st.agent_regret[owner] += best - (1.0 - p_none);
            } else {
                for (int a = 0; a < n_agents; a++) {
                    const int32_t *own = &w->agents[a].slates[(size_t)slot * k];
                    st.agent_regret[a] += best - (1.0 - s_probs(w, u, 1.0f, own, counterfactual));
                }
            }
        }
        for (int p = 0; p < k; p++)
            w->exposure[w->page[p]]++;
        st.ild += metrics_intra_list_diversity(w->emb, w->page, (size_t)k, (size_t)w->dim);

        int credited = -1;
        double utility = 0.0;
        if (clicked >= 0) {
            int32_t id = w->page[clicked];
            credited = w->page_agent[clicked];
            if (s_consume(w, u, id, &utility) != 0)
                return ERR_ENOMEM;
            w->clicks[id]++;
            st.clicks++;
            st.agent_clicks[credited]++;
            st.welfare += utility;
            int32_t topic = w->items[id].topic;
            if (w->topic_stamp[topic] != topic_mark) {
                w->topic_stamp[topic] = topic_mark;
                topics_clicked++;
            }
            w->budget[u] += cfg->budget_gain * utility - cfg->consume_cost;
        } else {
            w->budget[u] -= cfg->noclick_cost;
        }
        double outcome = clicked >= 0 ? utility : 0.0;
        w->satisfaction[u] += cfg->satisfaction_rate * (outcome - w->satisfaction[u]);
        if (market) {
            float *rep = &w->reputation[(size_t)u * n_agents + owner];
            *rep += (float)(cfg->reputation_rate * (outcome - *rep));
        }
        bool session_end = w->budget[u] <= 0.0;
        if (session_end) {
            w->active[u] = 0;
            w->ended[u] = 1;
            st.session_ends++;
        }

        for (int a = market ? owner : 0; a < (market ? owner + 1 : n_agents); a++) {
            s_agent_buf_t *b = &w->agents[a];
            bool mine = credited == a;
            b->fb_user_ids[j] = u;
            b->fb_clicked[j] = mine ? w->page_src[clicked] : -1;
            b->fb_reward[j] = mine ? 1.0f : 0.0f;
            b->fb_session_end[j] = session_end;
        }
    }

    for (int a = 0; a < n_agents; a++)
        st.agent_requests[a] = w->agents[a].n;
    double mean_own = 0.0;
    for (int a = 0; a < n_agents; a++)
        mean_own += st.agent_clicks[a];
    mean_own /= n_agents;
    st.topics_consumed_share = (double)topics_clicked / cfg->n_topics;
    for (int a = 0; a < n_agents; a++) {
        st.agent_reward[a] = (1.0 - cfg->reward_sharing) * st.agent_clicks[a] +
                             cfg->reward_sharing * mean_own +
                             cfg->diversity_bonus * st.topics_consumed_share;
        w->agents[a].fb_view.tick_reward = st.agent_reward[a];
    }

    world_episode_metrics_t *acc = &w->acc;
    acc->ticks++;
    acc->requests += st.requests;
    acc->clicks += st.clicks;
    acc->session_ends += st.session_ends;
    acc->welfare += st.welfare;
    w->ild_sum += st.ild;
    w->active_sum += st.active_users;
    for (int a = 0; a < n_agents; a++) {
        acc->agent_requests[a] += st.agent_requests[a];
        acc->agent_clicks[a] += st.agent_clicks[a];
        acc->agent_reward[a] += st.agent_reward[a];
        acc->agent_regret[a] += st.agent_regret[a];
    }
    st.ild = st.requests ? st.ild / st.requests : 0.0;
    size_t n_ids = (size_t)w->n_item_ids;
    st.gini = metrics_gini(w->exposure, n_ids, w->gini_scratch);
    st.coverage = metrics_coverage(w->exposure, n_ids);
    st.entropy = metrics_entropy(w->exposure, n_ids);

    w->tick++;
    w->in_tick = false;
    if (stats)
        *stats = st;
    return 0;
}

const world_feedback_t *world_feedback(const world_t *w, int agent)
{
    if (agent < 0 || agent >= w->cfg.n_agents)
        return NULL;
    return &w->agents[agent].fb_view;
}

const uint32_t *world_exposure(const world_t *w)
{
    return w->exposure;
}

const uint32_t *world_clicks(const world_t *w)
{
    return w->clicks;
}

/* ---- episode metrics ------------------------------------------------- */

static int s_compare_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Mean Jaccard of the users' consumed sets (sorted, deduplicated copies in
 * CSR form), exact up to JACCARD_MAX_PAIRS pairs, sampled beyond. */
static int s_jaccard(const world_t *w, double *out)
{
    size_t users = (size_t)w->cfg.n_users, total = 0;
    for (size_t u = 0; u < users; u++)
        total += (size_t)w->consumed[u].n;
    int32_t *items = malloc((total ? total : 1) * sizeof *items);
    size_t *offsets = malloc((users + 1) * sizeof *offsets);
    if (!items || !offsets) {
        free(items);
        free(offsets);
        return ERR_ENOMEM;
    }
    size_t at = 0;
    for (size_t u = 0; u < users; u++) {
        offsets[u] = at;
        const s_consumed_t *c = &w->consumed[u];
        if (c->n == 0)
            continue;
        int32_t *set = &items[at];
        memcpy(set, c->ids, (size_t)c->n * sizeof *set);
        qsort(set, (size_t)c->n, sizeof *set, s_compare_i32);
        size_t unique = 0;
        for (int i = 0; i < c->n; i++)
            if (unique == 0 || set[unique - 1] != set[i])
                set[unique++] = set[i];
        at += unique;
    }
    offsets[users] = at;
    pcg32_t rng;
    pcg32_stream(&rng, w->seed, SIM_STREAM_METRICS, w->episode);
    *out = metrics_mean_jaccard(items, offsets, users, JACCARD_MAX_PAIRS, &rng);
    free(items);
    free(offsets);
    return 0;
}

int world_episode_metrics(world_t *w, world_episode_metrics_t *m)
{
    const world_config_t *cfg = &w->cfg;
    *m = w->acc;
    size_t n = (size_t)w->n_item_ids;
    m->ctr = m->requests ? (double)m->clicks / (double)m->requests : 0.0;
    m->welfare_per_request = m->requests ? m->welfare / (double)m->requests : 0.0;
    m->mean_active_users = m->ticks ? w->active_sum / m->ticks : 0.0;
    m->ild = m->requests ? w->ild_sum / (double)m->requests : 0.0;
    m->gini = metrics_gini(w->exposure, n, w->gini_scratch);
    m->coverage = metrics_coverage(w->exposure, n);
    m->entropy = metrics_entropy(w->exposure, n);
    m->entropy_normalized = metrics_entropy_normalized(w->exposure, n);
    int rc = s_jaccard(w, &m->jaccard);
    if (rc != 0)
        return rc;
    m->interest_similarity =
        metrics_mean_pairwise_cosine(w->interest, (size_t)cfg->n_users, (size_t)w->dim);
    long churned = 0;
    for (int u = 0; u < cfg->n_users; u++)
        churned += !w->active[u] && w->ended[u];
    m->churn = (double)churned / cfg->n_users;

    long share_total = 0;
    for (int a = 0; a < cfg->n_agents; a++)
        share_total += cfg->mode == WORLD_MODE_MARKET ? m->agent_requests[a] : m->agent_clicks[a];
    for (int a = 0; a < cfg->n_agents; a++) {
        long part = cfg->mode == WORLD_MODE_MARKET ? m->agent_requests[a] : m->agent_clicks[a];
        m->agent_share[a] = share_total ? (double)part / (double)share_total : 0.0;
        m->agent_ctr[a] =
            m->agent_requests[a] ? (double)m->agent_clicks[a] / (double)m->agent_requests[a] : 0.0;
    }
    m->hhi = metrics_hhi(m->agent_share, (size_t)cfg->n_agents);
    return 0;
}

/* ---- hidden state ---------------------------------------------------- */

const float *world_user_interest(const world_t *w, int32_t user)
{
    return (user >= 0 && user < w->cfg.n_users) ? &w->interest[(size_t)user * w->dim] : NULL;
}

const float *world_user_satiation(const world_t *w, int32_t user)
{
    return (user >= 0 && user < w->cfg.n_users) ? &w->satiation[(size_t)user * w->cfg.n_topics]
                                                : NULL;
}

bool world_user_active(const world_t *w, int32_t user)
{
    return user >= 0 && user < w->cfg.n_users && w->active[user];
}

int world_user_platform(const world_t *w, int32_t user)
{
    return (user >= 0 && user < w->cfg.n_users) ? w->platform[user] : -1;
}

void world_set_user_interest(world_t *w, int32_t user, const float *interest)
{
    memcpy(&w->interest[(size_t)user * w->dim], interest, (size_t)w->dim * sizeof *interest);
}

void world_set_item(world_t *w, int32_t id, int32_t topic, float quality, const float *embedding)
{
    w->items[id].topic = topic;
    w->items[id].quality = quality;
    memcpy(&w->emb[(size_t)id * w->dim], embedding, (size_t)w->dim * sizeof *embedding);
}
