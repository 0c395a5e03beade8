/* The world (world.h): its lifecycle, the catalog, arrivals and requests,
 * slates, episode metrics and hidden state; the choice model is in
 * world_choice.c and resolving a tick in world_tick.c.
 * Formulas are documented, with their sources, in docs/world.md; the
 * comments here name the quantity, docs/world.md says why.
 *
 * Determinism: every draw comes from a stream of proto/pcg32.h. Draws that
 * happen per user per tick (arrivals) or per request (choices, feed
 * interleaving) are made whether or not they are needed, so that one
 * agent's slates never shift the random numbers another user sees. */
#include "sim/world_private.h"

#include "core/metrics.h"
#include "sim/streams.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* core/ lies beneath proto/ and cannot see protocol.h: the metrics keep
 * their own bound, which must admit every world. */
_Static_assert(PROTO_MAX_DIM <= METRICS_MAX_DIM, "metrics must take vectors of PROTO_MAX_DIM");

#define JACCARD_MAX_PAIRS 2000000

/* ---- small numeric helpers ------------------------------------------- */

/* out = normalize(centre + N(0, spread^2) per coordinate) */
static void s_noisy_unit(float *out, const float *centre, double spread, int dim, pcg32_t *rng)
{
    for (int i = 0; i < dim; i++)
        out[i] = (centre ? centre[i] : 0.0f) + (float)(spread * pcg32_normal(rng));
    vec_normalize(out, dim);
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

/* s_alloc for tables of rows read at random (embeddings, interests):
 * the block starts on a cache line (64 bytes), so that a row of 16 floats
 * is one line, not two (calloc's large blocks start 16 bytes into a page).
 * The block calloc returned is kept just before the table; free it with
 * s_free_lines. */
static void *s_alloc_lines(size_t count, size_t size, bool *ok)
{
    enum { LINE = 64 };
    if (size && count > (SIZE_MAX - LINE - sizeof(void *)) / size) {
        *ok = false;
        return NULL;
    }
    char *raw = s_alloc(count * size + LINE + sizeof(void *), 1, ok);
    if (!raw)
        return NULL;
    uintptr_t at = ((uintptr_t)raw + sizeof(void *) + LINE - 1) & ~(uintptr_t)(LINE - 1);
    char *p = (char *)at;
    memcpy(p - sizeof(void *), &raw, sizeof raw);
    return p;
}

static void s_free_lines(void *p)
{
    if (!p)
        return;
    void *raw;
    memcpy(&raw, (char *)p - sizeof raw, sizeof raw);
    free(raw);
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

/* The packed copies of item id's record (hot, alive) after it changed;
 * its counts stay. */
static void s_item_sync(world_t *w, int32_t id)
{
    const world_item_t *it = &w->items[id];
    w->hot[id].quality = it->quality;
    w->hot[id].topic = it->topic;
    w->alive[id] = it->alive;
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
    s_item_sync(w, id);
}

/* Whether a catalog of cap items keeps a unit row per item for the ILD:
 * only while the rows (cap x dim doubles) are small enough to stay in a
 * core's cache. Larger catalogs form them from the embeddings, which the
 * page's scores have just read, instead of fetching two more cache lines
 * per item from memory; the ILD is the same bit for bit either way
 * (metrics_intra_list_diversity_units). */
static bool s_keeps_unit_rows(double cap, double dim)
{
    return cap * dim * (double)sizeof(double) <= 4.0 * 1024 * 1024;
}

/* Item id's inverse norm and cached unit row, if kept, after its
 * embedding changed. */
static void s_item_norm(world_t *w, int32_t id)
{
    size_t dim = (size_t)w->dim;
    const float *e = &w->emb[(size_t)id * dim];
    w->hot[id].inv_norm = metrics_inverse_norm(e, dim);
    if (w->unit_emb)
        metrics_unit_row(e, dim, &w->unit_emb[(size_t)id * dim]);
}

static void s_rebuild_live(world_t *w)
{
    w->n_live = 0;
    for (int32_t id = 0; id < w->n_item_ids; id++)
        if (w->items[id].alive)
            w->live[w->n_live++] = id;
}

/* Item id of the initial catalog from row id of cat: what the row gives
 * replaces what s_new_item drew (it draws all the same, so the stream
 * stays aligned with a synthetic world's). */
static void s_catalog_item(world_t *w, int32_t id, const world_catalog_t *cat, pcg32_t *rng)
{
    world_item_t *it = &w->items[id];
    s_new_item(w, id, 0, rng);
    it->topic = cat->topic[id];
    if (cat->provider && cat->provider[id] >= 0)
        it->provider = cat->provider[id];
    if (cat->quality && !isnan(cat->quality[id]))
        it->quality = cat->quality[id];
    float *e = &w->emb[(size_t)id * w->dim];
    if (cat->embedding)
        memcpy(e, &cat->embedding[(size_t)id * w->dim], (size_t)w->dim * sizeof *e);
    else
        s_noisy_unit(e, &w->topic_centres[(size_t)it->topic * w->dim], w->cfg.topic_spread, w->dim,
                     rng);
    s_item_sync(w, id);
}

/* Topic centres as the normalised means of their items' embeddings. */
static void s_catalog_centres(world_t *w, const world_catalog_t *cat)
{
    size_t dim = (size_t)w->dim;
    for (int t = 0; t < w->cfg.n_topics; t++) {
        float sum[PROTO_MAX_DIM] = {0};
        bool any = false;
        for (int32_t id = 0; id < w->cfg.n_items; id++)
            if (cat->topic[id] == t) {
                any = true;
                for (size_t i = 0; i < dim; i++)
                    sum[i] += cat->embedding[id * dim + i];
            }
        vec_normalize(sum, w->dim);
        if (any && vec_dot(sum, sum, w->dim) > 0.0f)
            memcpy(&w->topic_centres[(size_t)t * dim], sum, dim * sizeof *sum);
    }
}

static bool s_catalog_ok(const world_config_t *cfg, const world_catalog_t *cat)
{
    if (!cat->topic || cat->n_items < cfg->n_items)
        return false;
    for (int32_t id = 0; id < cfg->n_items; id++)
        if (cat->topic[id] < 0 || cat->topic[id] >= cfg->n_topics ||
            (cat->provider && (cat->provider[id] < -1 || cat->provider[id] >= cfg->n_providers)) ||
            (cat->quality && isinf(cat->quality[id])))
            return false;
    return true;
}

double world_config_item_capacity(const world_config_t *cfg)
{
    return cfg->n_items + ceil(cfg->item_arrival_rate) * (double)cfg->ticks;
}

/* The element size of a world_t field (unevaluated: no world needed). */
#define S_ELEM(field)       ((double)sizeof(((world_t *)0)->field[0]))
#define S_AGENT_ELEM(field) ((double)sizeof(((world_agent_buf_t *)0)->field[0]))

double world_memory_estimate(const world_config_t *cfg)
{
    /* the same sizes as world_new_catalog's allocations, in its order */
    double users = cfg->n_users, dim = cfg->dim, cap = world_config_item_capacity(cfg);
    double topics = cfg->n_topics, hist = cfg->history_len, k = cfg->slate_size;
    double agents = cfg->n_agents;
    double bytes = (double)sizeof(world_t);
    bytes += cap * (S_ELEM(items) + S_ELEM(hot) + S_ELEM(alive) + dim * S_ELEM(emb));
    if (s_keeps_unit_rows(cap, dim))
        bytes += cap * dim * S_ELEM(unit_emb);
    bytes += cfg->n_items * (S_ELEM(items0) + dim * S_ELEM(emb0));
    bytes += topics * dim * S_ELEM(topic_centres);
    bytes += cap * (S_ELEM(live) + S_ELEM(born) + S_ELEM(retired) + S_ELEM(exposure) +
                    S_ELEM(clicks) + S_ELEM(page_stamp) + 2 * S_ELEM(gini_scratch));
    bytes += users * dim * (S_ELEM(interest) + S_ELEM(interest0) + S_ELEM(feature_offset));
    bytes +=
        users * (topics * S_ELEM(satiation) + S_ELEM(sat_tick) + hist * S_ELEM(history) +
                 S_ELEM(budget) + S_ELEM(satisfaction) + agents * S_ELEM(reputation) + 2 +
                 S_ELEM(platform) + S_ELEM(consumed) + S_ELEM(req_users) + S_ELEM(share_scratch));
    bytes +=
        k * (S_ELEM(exam) + S_ELEM(probs) + S_ELEM(page) + S_ELEM(page_agent) + S_ELEM(page_src));
    bytes += topics * (S_ELEM(topic_stamp) + S_ELEM(topic_clicks));
    if (cfg->reputation == WORLD_REPUTATION_PUBLIC)
        bytes += agents * cfg->reputation_window;
    double per_user =
        S_AGENT_ELEM(user_ids) + dim * S_AGENT_ELEM(features) + hist * S_AGENT_ELEM(history) +
        S_AGENT_ELEM(request_slot) + k * S_AGENT_ELEM(slates) + 1 + S_AGENT_ELEM(fb_user_ids) +
        S_AGENT_ELEM(fb_clicked) + S_AGENT_ELEM(fb_reward) + S_AGENT_ELEM(fb_topic) + 1;
    return bytes + agents * users * per_user;
}

#undef S_ELEM
#undef S_AGENT_ELEM

world_t *world_new(const world_config_t *cfg, uint64_t seed)
{
    return world_new_catalog(cfg, seed, NULL);
}

world_t *world_new_catalog(const world_config_t *cfg, uint64_t seed, const world_catalog_t *cat)
{
    if (!cfg || world_config_check(cfg, NULL, 0) != 0 || (cat && !s_catalog_ok(cfg, cat)))
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
    /* what a page reads per item: its embedding row and packed record */
    w->prefetch = (double)cap * (double)(dim * sizeof *w->emb + sizeof *w->hot) > 1024 * 1024;
    w->hot = s_alloc_lines(cap, sizeof *w->hot, &ok);
    w->alive = s_alloc(cap, sizeof *w->alive, &ok);
    w->emb = s_alloc_lines(cap * dim, sizeof *w->emb, &ok);
    if (s_keeps_unit_rows((double)cap, (double)dim))
        w->unit_emb = s_alloc_lines(cap * dim, sizeof *w->unit_emb, &ok);
    w->items0 = s_alloc((size_t)cfg->n_items, sizeof *w->items0, &ok);
    w->emb0 = s_alloc_lines((size_t)cfg->n_items * dim, sizeof *w->emb0, &ok);
    w->topic_centres = s_alloc(topics * dim, sizeof *w->topic_centres, &ok);
    w->live = s_alloc(cap, sizeof *w->live, &ok);
    w->born = s_alloc(cap, sizeof *w->born, &ok);
    w->retired = s_alloc(cap, sizeof *w->retired, &ok);
    w->exposure = s_alloc(cap, sizeof *w->exposure, &ok);
    w->clicks = s_alloc(cap, sizeof *w->clicks, &ok);
    w->page_stamp = s_alloc(cap, sizeof *w->page_stamp, &ok);
    w->gini_scratch = s_alloc(2 * cap, sizeof *w->gini_scratch, &ok);
    w->interest = s_alloc_lines(users * dim, sizeof *w->interest, &ok);
    w->interest0 = s_alloc_lines(users * dim, sizeof *w->interest0, &ok);
    w->feature_offset = s_alloc_lines(users * dim, sizeof *w->feature_offset, &ok);
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
    w->topic_clicks = s_alloc(topics, sizeof *w->topic_clicks, &ok);
    w->share_scratch = s_alloc(users, sizeof *w->share_scratch, &ok);
    w->pub_ring = s_alloc(cfg->reputation == WORLD_REPUTATION_PUBLIC
                              ? (size_t)cfg->n_agents * (size_t)cfg->reputation_window
                              : 1,
                          1, &ok);
    for (int a = 0; a < cfg->n_agents && ok; a++) {
        world_agent_buf_t *b = &w->agents[a];
        b->user_ids = s_alloc(users, sizeof *b->user_ids, &ok);
        b->features = s_alloc_lines(users * dim, sizeof *b->features, &ok);
        b->history = s_alloc(users * hist, sizeof *b->history, &ok);
        b->request_slot = s_alloc(users, sizeof *b->request_slot, &ok);
        b->slates = s_alloc(users * k, sizeof *b->slates, &ok);
        b->has_slate = s_alloc(users, 1, &ok);
        b->fb_user_ids = s_alloc(users, sizeof *b->fb_user_ids, &ok);
        b->fb_clicked = s_alloc(users, sizeof *b->fb_clicked, &ok);
        b->fb_reward = s_alloc(users, sizeof *b->fb_reward, &ok);
        b->fb_topic = s_alloc(users, sizeof *b->fb_topic, &ok);
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
    if (cat && cat->embedding)
        s_catalog_centres(w, cat);
    for (int32_t id = 0; id < cfg->n_items; id++)
        if (cat)
            s_catalog_item(w, id, cat, &rng);
        else
            s_new_item(w, id, 0, &rng);
    memcpy(w->items0, w->items, (size_t)cfg->n_items * sizeof *w->items);
    memcpy(w->emb0, w->emb, (size_t)cfg->n_items * dim * sizeof *w->emb);

    pcg32_stream(&rng, seed, SIM_STREAM_POPULATION, 0);
    pcg32_t noise;
    pcg32_stream(&noise, seed, SIM_STREAM_NOISE, 0);
    for (size_t u = 0; u < users; u++) {
        uint32_t favourite = cat ? (uint32_t)cat->topic[pcg32_bounded(&rng, (uint32_t)cfg->n_items)]
                                 : pcg32_bounded(&rng, (uint32_t)cfg->n_topics);
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
        world_agent_buf_t *b = &w->agents[a];
        free(b->user_ids);
        s_free_lines(b->features);
        free(b->history);
        free(b->request_slot);
        free(b->slates);
        free(b->has_slate);
        free(b->fb_user_ids);
        free(b->fb_clicked);
        free(b->fb_reward);
        free(b->fb_topic);
        free(b->fb_session_end);
    }
    if (w->consumed)
        for (int u = 0; u < w->cfg.n_users; u++)
            free(w->consumed[u].ids);
    void *lines[] = {w->hot,      w->unit_emb,  w->emb,           w->emb0,
                     w->interest, w->interest0, w->feature_offset};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        s_free_lines(lines[i]);
    void *blocks[] = {w->alive,        w->items,      w->items0,       w->topic_centres,
                      w->live,         w->born,       w->retired,      w->exposure,
                      w->clicks,       w->page_stamp, w->gini_scratch, w->satiation,
                      w->sat_tick,     w->history,    w->budget,       w->satisfaction,
                      w->reputation,   w->active,     w->ended,        w->platform,
                      w->consumed,     w->req_users,  w->exam,         w->probs,
                      w->page,         w->page_agent, w->page_src,     w->topic_stamp,
                      w->topic_clicks, w->pub_ring,   w->share_scratch};
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
    memset(w->alive, 0, (size_t)w->capacity * sizeof *w->alive);
    memset(w->hot, 0, (size_t)w->capacity * sizeof *w->hot); /* the counts too */
    for (int32_t id = 0; id < cfg->n_items; id++) {
        s_item_norm(w, id);
        s_item_sync(w, id);
    }
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
    world_market_reset(w);
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
        world_agent_buf_t *b = &w->agents[a];
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
        s_item_norm(w, id);
        w->born[w->n_born++] = id;
    }
    int live = w->n_live + w->n_born;
    for (int i = 0; i < w->n_live && live > w->k; i++) {
        world_item_t *it = &w->items[w->live[i]];
        if (it->death_tick <= t) {
            it->alive = false;
            s_item_sync(w, w->live[i]);
            w->retired[w->n_retired++] = w->live[i];
            live--;
        }
    }
    if (w->n_born || w->n_retired)
        s_rebuild_live(w);
}

/* ---- users and requests --------------------------------------------- */

static double s_return_probability(const world_t *w, int32_t u)
{
    if (w->tick == 0)
        return w->cfg.initial_active;
    double p = w->cfg.return_base + w->cfg.return_gain * w->satisfaction[u];
    return p < 0.0 ? 0.0 : (p > 1.0 ? 1.0 : p);
}

static void s_fill_request(world_t *w, world_agent_buf_t *b, int32_t u, int slot)
{
    int j = b->n++;
    size_t dim = (size_t)w->dim, hist = (size_t)w->cfg.history_len;
    b->user_ids[j] = u;
    b->request_slot[j] = slot;
    b->has_slate[j] = 0;
    const float *x = &w->interest[(size_t)u * dim], *off = &w->feature_offset[(size_t)u * dim];
    vec_add(&b->features[(size_t)j * dim], x, off, w->dim);
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
            w->platform[u] = world_pick_platform(w, u, u_platform);
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
        world_agent_buf_t *b = &w->agents[a];
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

/* 0, ERR_EITEM or ERR_EDUP for one slate of k ids: the one check of a
 * slate, whoever proposes it. Liveness is read from the packed alive
 * flags (a byte per item, not its record). Duplicates are found with a
 * fresh mark per slate in page_stamp (O(k), not O(k^2)), or, above
 * WORLD_MARKS_MAX ids, by comparing each id with those before it; either
 * way the first bad position decides the code. */
static int s_check_slate(world_t *w, const int32_t *slate)
{
    const uint8_t *alive = w->alive;
    uint32_t n_ids = (uint32_t)w->n_item_ids;
    if (n_ids > WORLD_MARKS_MAX) { /* compare instead of marking (WORLD_MARKS_MAX) */
        for (int p = 0, k = w->k; p < k; p++) {
            uint32_t id = (uint32_t)slate[p]; /* a negative id wraps beyond n_ids */
            if (id >= n_ids || !alive[id])
                return ERR_EITEM;
            for (int q = 0; q < p; q++)
                if ((uint32_t)slate[q] == id)
                    return ERR_EDUP;
        }
        return 0;
    }
    if (++w->stamp == 0) { /* wrapped: clear the marks */
        memset(w->page_stamp, 0, (size_t)w->capacity * sizeof *w->page_stamp);
        w->stamp = 1;
    }
    /* locals, since the stores to the marks could alias the world's fields */
    uint32_t stamp = w->stamp, *marks = w->page_stamp;
    for (int p = 0, k = w->k; p < k; p++) {
        uint32_t id = (uint32_t)slate[p]; /* a negative id wraps beyond n_ids */
        if (id >= n_ids || !alive[id])
            return ERR_EITEM;
        if (marks[id] == stamp)
            return ERR_EDUP;
        marks[id] = stamp;
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
    world_agent_buf_t *b = &w->agents[agent];
    memcpy(&b->slates[(size_t)row * w->k], items, (size_t)w->k * sizeof *items);
    if (!b->has_slate[row]) {
        b->has_slate[row] = 1;
        b->n_slates++;
    }
    return 0;
}

int world_set_slates(world_t *w, int agent, const int32_t *slates, int *refused, int *first_row)
{
    *refused = 0;
    *first_row = -1;
    if (!w->in_tick)
        return ERR_ESTATE;
    if (agent < 0 || agent >= w->cfg.n_agents)
        return ERR_EINVAL;
    world_agent_buf_t *b = &w->agents[agent];
    int first_rc = 0;
    for (int row = 0; row < b->n; row++) {
        const int32_t *items = &slates[(size_t)row * w->k];
        int rc = s_check_slate(w, items);
        if (rc != 0) {
            if ((*refused)++ == 0) {
                first_rc = rc;
                *first_row = row;
            }
            continue;
        }
        memcpy(&b->slates[(size_t)row * w->k], items, (size_t)w->k * sizeof *items);
        b->n_slates += !b->has_slate[row];
        b->has_slate[row] = 1;
    }
    return first_rc;
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
        const world_consumed_t *c = &w->consumed[u];
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

int world_sample_jaccard(const world_t *w, size_t pairs, pcg32_t *rng, double *out)
{
    *out = 0.0;
    int32_t users = w->cfg.n_users;
    if (users < 2 || pairs == 0)
        return 0;
    int most = 1;
    for (int32_t u = 0; u < users; u++)
        most = w->consumed[u].n > most ? w->consumed[u].n : most;
    int32_t *items = malloc(2 * (size_t)most * sizeof *items);
    if (!items)
        return ERR_ENOMEM;
    double sum = 0.0;
    size_t counted = 0;
    for (size_t draw = 0; draw < pairs; draw++) {
        /* a uniform ordered pair a != b, as metrics_mean_jaccard draws */
        uint32_t pair[2];
        pair[0] = pcg32_bounded(rng, (uint32_t)users);
        pair[1] = pcg32_bounded(rng, (uint32_t)users - 1);
        pair[1] += pair[1] >= pair[0];
        size_t offsets[3] = {0, 0, 0};
        for (int s = 0; s < 2; s++) { /* each set sorted and deduplicated */
            const world_consumed_t *c = &w->consumed[pair[s]];
            int32_t *set = &items[offsets[s]];
            if (c->n > 0) { /* c->ids may be NULL for a user who consumed nothing */
                memcpy(set, c->ids, (size_t)c->n * sizeof *set);
                qsort(set, (size_t)c->n, sizeof *set, s_compare_i32);
            }
            size_t unique = 0;
            for (int i = 0; i < c->n; i++)
                if (unique == 0 || set[unique - 1] != set[i])
                    set[unique++] = set[i];
            offsets[s + 1] = offsets[s] + unique;
        }
        if (offsets[2] == 0)
            continue; /* both empty: not counted, as in the episode figure */
        sum += metrics_mean_jaccard(items, offsets, 2, 1, NULL);
        counted++;
    }
    free(items);
    *out = counted ? sum / (double)counted : 0.0;
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
    s_item_norm(w, id);
    s_item_sync(w, id);
}
