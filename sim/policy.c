/* Random, popularity and ideal policies (policy.h). */
#include "sim/policy.h"

#include "core/pcg32.h"
#include "sim/streams.h"

#include <stdlib.h>
#include <string.h>

struct policy {
    policy_kind_t kind;
    uint64_t seed;
    int agent;
    int k;
    pcg32_t rng;
    int32_t slate[PROTO_MAX_SLATE]; /* (k) the slate being built */
    /* pcg32_threshold of the random slate's bounds, for live_n live items:
     * floyd[i] of live_n - k + 1 + i, shuffle[i] of i + 1 */
    int live_n;
    uint32_t floyd[PROTO_MAX_SLATE], shuffle[PROTO_MAX_SLATE];
    /* marks of the live indices the slate being built has drawn: index r
     * is drawn if picked[r] == stamp; (picked_cap) */
    uint32_t *picked, stamp;
    int picked_cap;
};

static const char *const s_names[] = {"random", "popularity", "ideal"};

int policy_kind_parse(const char *name, policy_kind_t *kind)
{
    for (int i = 0; i < (int)(sizeof s_names / sizeof s_names[0]); i++) {
        if (strcmp(name, s_names[i]) == 0) {
            *kind = (policy_kind_t)i;
            return 0;
        }
    }
    return ERR_EINVAL;
}

const char *policy_kind_name(policy_kind_t kind)
{
    return (unsigned)kind < sizeof s_names / sizeof s_names[0] ? s_names[kind] : "unknown";
}

policy_t *policy_new(policy_kind_t kind, uint64_t seed, int agent, int slate_size)
{
    if (slate_size < 1 || slate_size > PROTO_MAX_SLATE)
        return NULL;
    policy_t *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->kind = kind;
    p->seed = seed;
    p->agent = agent;
    p->k = slate_size;
    policy_reset(p, 0);
    return p;
}

void policy_destroy(policy_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->picked);
    free(*self_p);
    *self_p = NULL;
}

void policy_reset(policy_t *p, uint32_t episode)
{
    /* one stream per (agent, episode): index packs both */
    pcg32_stream(&p->rng, p->seed, SIM_STREAM_POLICY, ((uint32_t)p->agent << 24) ^ episode);
}

/* Above this many live items the random slate tells a drawn index by
 * comparing it with the slate's earlier ones instead of by a mark: the
 * marks would be a cache line from memory per draw (the same slates
 * either way). */
#define POLICY_MARKS_MAX (1 << 16)

/* Room for the marks of n_live live indices: the world's item capacity,
 * which no live catalog exceeds, so it is allocated once. */
static int s_reserve_marks(policy_t *p, const world_t *w, int n_live)
{
    if (n_live <= p->picked_cap || n_live > POLICY_MARKS_MAX)
        return 0;
    int cap = world_item_capacity(w) > n_live ? world_item_capacity(w) : n_live;
    uint32_t *picked = calloc((size_t)cap, sizeof *picked);
    if (!picked)
        return ERR_ENOMEM;
    free(p->picked);
    p->picked = picked;
    p->picked_cap = cap;
    p->stamp = 0;
    return 0;
}

/* Fisher-Yates shuffle of the slate (k - 1 bounded draws). */
static inline void s_shuffle(policy_t *p, int32_t *slate)
{
    for (int i = p->k - 1; i > 0; i--) {
        int j = (int)pcg32_bounded_below(&p->rng, (uint32_t)i + 1, p->shuffle[i]);
        int32_t tmp = slate[i];
        slate[i] = slate[j];
        slate[j] = tmp;
    }
}

/* s_random_slate above POLICY_MARKS_MAX live items: the same draws, a
 * drawn index told by comparison. identity: live[i] == i for all i (then
 * the ids are the indices, and live is not read). */
static void s_random_slate_large(policy_t *p, const int32_t *live, int n_live, bool identity,
                                 int32_t *slate)
{
    int k = p->k, filled = 0;
    uint32_t drawn[PROTO_MAX_SLATE];
    for (int j = n_live - k; j < n_live; j++) {
        uint32_t bound = (uint32_t)j + 1;
        uint32_t r = pcg32_bounded_below(&p->rng, bound, p->floyd[j - (n_live - k)]);
        for (int q = 0; q < filled; q++)
            if (drawn[q] == r) {
                r = (uint32_t)j;
                break;
            }
        drawn[filled] = r;
        slate[filled++] = identity ? (int32_t)r : live[r];
    }
    s_shuffle(p, slate);
}

/* k distinct live items uniformly (Floyd's sampling) in random order
 * (Fisher-Yates). Floyd's step draws r in [0, j] and takes live[r], or
 * live[j] if live[r] is already on the slate; live ids are distinct, so
 * that is when index r was drawn before, which the marks tell in one look
 * (marks room: s_reserve_marks). */
static void s_random_slate(policy_t *p, const int32_t *live, int n_live, int32_t *slate)
{
    int k = p->k, filled = 0;
    if (++p->stamp == 0) { /* wrapped: clear the marks */
        memset(p->picked, 0, (size_t)p->picked_cap * sizeof *p->picked);
        p->stamp = 1;
    }
    uint32_t stamp = p->stamp, *picked = p->picked;
    for (int j = n_live - k; j < n_live; j++) {
        uint32_t bound = (uint32_t)j + 1;
        uint32_t r = pcg32_bounded_below(&p->rng, bound, p->floyd[j - (n_live - k)]);
        if (picked[r] == stamp)
            r = (uint32_t)j;
        picked[r] = stamp;
        slate[filled++] = live[r];
    }
    s_shuffle(p, slate);
}

/* The random slate's bounds' thresholds, once per catalog size. */
static void s_thresholds(policy_t *p, int n_live)
{
    if (p->live_n == n_live)
        return;
    for (int i = 0; i < p->k; i++) {
        p->floyd[i] = pcg32_threshold((uint32_t)(n_live - p->k + 1 + i));
        p->shuffle[i] = pcg32_threshold((uint32_t)i + 1);
    }
    p->live_n = n_live;
}

void policy_popular_slate(const world_t *w, int32_t *slate)
{
    int k = world_config(w)->slate_size, n_live, filled = 0;
    const int32_t *live = world_live_items(w, &n_live);
    const uint32_t *clicks = world_clicks(w);
    /* insertion into a sorted top-k: most clicks first, then lower id */
    for (int i = 0; i < n_live; i++) {
        int32_t id = live[i];
        if (filled == k && clicks[id] <= clicks[slate[k - 1]])
            continue;
        int pos = filled < k ? filled++ : k - 1;
        while (pos > 0 && clicks[slate[pos - 1]] < clicks[id]) {
            slate[pos] = slate[pos - 1];
            pos--;
        }
        slate[pos] = id;
    }
}

void policy_ideal_slate(const world_t *w, int32_t user, int32_t *slate)
{
    const world_config_t *cfg = world_config(w);
    int k = cfg->slate_size, n_live, filled = 0;
    const int32_t *live = world_live_items(w, &n_live);
    const float *x = world_user_interest(w, user);
    double best[PROTO_MAX_SLATE];
    /* insertion into a sorted top-k: highest utility first; live ids
     * ascend, so a tie keeps the lower id in front */
    for (int i = 0; i < n_live; i++) {
        int32_t id = live[i];
        const float *e = world_item_embedding(w, id);
        double util = world_item(w, id)->quality;
        for (int d = 0; d < cfg->dim; d++)
            util += (double)x[d] * e[d];
        if (filled == k && util <= best[k - 1])
            continue;
        int pos = filled < k ? filled++ : k - 1;
        while (pos > 0 && best[pos - 1] < util) {
            slate[pos] = slate[pos - 1];
            best[pos] = best[pos - 1];
            pos--;
        }
        slate[pos] = id;
        best[pos] = util;
    }
}

int policy_act(policy_t *p, world_t *w, int agent)
{
    const world_requests_t *requests = world_requests(w, agent);
    if (!requests)
        return ERR_EINVAL;
    if (p->kind == POLICY_POPULARITY && requests->n > 0)
        policy_popular_slate(w, p->slate);
    int n_live;
    const int32_t *live = world_live_items(w, &n_live);
    bool large = n_live > POLICY_MARKS_MAX;
    /* ascending distinct ids >= 0 ending in n_live - 1 are 0 .. n_live - 1 */
    bool identity = n_live > 0 && live[n_live - 1] == n_live - 1;
    if (p->kind == POLICY_RANDOM) {
        int rc = s_reserve_marks(p, w, n_live);
        if (rc != 0)
            return rc;
        s_thresholds(p, n_live);
    }
    for (int j = 0; j < requests->n; j++) {
        if (p->kind == POLICY_RANDOM && large)
            s_random_slate_large(p, live, n_live, identity, p->slate);
        else if (p->kind == POLICY_RANDOM)
            s_random_slate(p, live, n_live, p->slate);
        else if (p->kind == POLICY_IDEAL)
            policy_ideal_slate(w, requests->user_ids[j], p->slate);
        int rc = world_set_slate(w, agent, j, p->slate);
        if (rc != 0)
            return rc;
    }
    return 0;
}

double policy_propensity(const policy_t *p, const world_t *w)
{
    if (p->kind != POLICY_RANDOM)
        return 1.0;
    int n_live;
    world_live_items(w, &n_live);
    double prob = 1.0;
    for (int i = 0; i < world_config(w)->slate_size; i++)
        prob /= (double)(n_live - i);
    return prob;
}
