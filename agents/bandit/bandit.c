/* Bandit cores (bandit.h).
 *
 * Arms live in slots: slot_of_id maps an item id to its slot (-1 when not
 * live), a retired arm's slot goes to a free list and is reused, and
 * `live` lists the live slots in a stable order (swap-remove on
 * retirement), so that every algorithm scans n_live arms and the same
 * calls give the same slates. */
#include "agents/bandit/bandit.h"

#include "agents/bandit/linucb.h"
#include "core/pcg32.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define S_ROWS_PER_CHUNK 64 /* requests scored at once by LinUCB */

typedef struct arm {
    int32_t id;
    uint32_t live_pos;  /* index in bandit.live */
    double pulls;       /* times shown */
    double clicks;      /* times clicked */
    double log_weight;  /* EXP3: ln w */
    double select_prob; /* EXP3: p at the last bandit_select, 0 if not live then */
    uint8_t keep;       /* bandit_sync's mark */
} arm_t;

struct bandit {
    bandit_algo_t algo;
    bandit_params_t params;
    uint32_t dim;
    pcg32_t rng;
    pcg32_t propensity_rng; /* Thompson's posterior redraws, apart so slates do not change */

    int32_t *slot_of_id; /* (id_cap): slot or -1 */
    size_t id_cap;
    arm_t *arms;       /* (slot_cap) */
    float *embeddings; /* (slot_cap, dim) */
    uint32_t slot_cap, n_slots;
    uint32_t *live; /* (slot_cap): live slots */
    uint32_t n_live;
    uint32_t *free_slots; /* (slot_cap) */
    uint32_t n_free;

    double rounds; /* requests answered */
    double pulls;  /* items shown, over every arm ever */

    /* scratch, per live arm: (slot_cap) */
    double *score;
    uint32_t *tie;
    uint8_t *on_slate;     /* (slot_cap) by slot: 1 for the slate being weighed, else 0 */
    double *linucb_scores; /* (S_ROWS_PER_CHUNK, slot_cap) */

    linucb_t *linucb;   /* LINUCB */
    uint32_t exp3_live; /* EXP3: K at the last bandit_select */

    /* META, META_LINUCB */
    bandit_t *bases[BANDIT_MAX_BASES];
    double base_log_weight[BANDIT_MAX_BASES];
    double base_select_prob[BANDIT_MAX_BASES];
    uint32_t *rows_of_base; /* (max_rows): scratch for grouping requests */
    float *base_contexts;   /* (max_rows, dim) */
    int32_t *base_slates;   /* (max_rows, k_cap) */
    uint32_t max_rows, k_cap;
    /* re-ranking (params.rerank): the candidates, their indices and embeddings */
    rerank_t *rerank;
    uint32_t pool_cap;
    uint32_t *pool, *pool_order; /* (pool_cap) */
    double *pool_scores;         /* (pool_cap) */
    float *pool_embeddings;      /* (pool_cap, dim) */
    /* META_LINUCB: a disjoint LinUCB whose slots are the bases */
    linucb_t *strategy_linucb;
    double strategy_scores[S_ROWS_PER_CHUNK * BANDIT_MAX_BASES]; /* (rows, n_bases) */
};

static const char *const s_algo_names[BANDIT_N_ALGOS] = {
    "random",   "popularity", "egreedy", "egreedy-decay", "ucb1",
    "thompson", "linucb",     "exp3",    "meta",          "meta-linucb",
};

static bool s_is_meta(bandit_algo_t algo)
{
    return algo == BANDIT_META || algo == BANDIT_META_LINUCB;
}

/* Whether algo's slate is the top k of an index, which params.rerank can
 * re-rank (a meta-bandit hands it to such bases). */
static bool s_reranks(bandit_algo_t algo)
{
    return algo == BANDIT_POPULARITY || algo == BANDIT_UCB1 || algo == BANDIT_THOMPSON ||
           algo == BANDIT_LINUCB || s_is_meta(algo);
}

int bandit_algo_parse(const char *name, bandit_algo_t *algo)
{
    for (int i = 0; i < BANDIT_N_ALGOS; i++) {
        if (strcmp(name, s_algo_names[i]) == 0) {
            *algo = (bandit_algo_t)i;
            return 0;
        }
    }
    return ERR_EINVAL;
}

const char *bandit_algo_name(bandit_algo_t algo)
{
    return (unsigned)algo < BANDIT_N_ALGOS ? s_algo_names[algo] : "unknown";
}

void bandit_params_default(bandit_params_t *params)
{
    *params = (bandit_params_t){
        .epsilon = 0.1,
        .epsilon_c = 1.0,
        .ucb_c = 1.0,
        .alpha = 0.05,
        .linucb_model = BANDIT_LINUCB_DISJOINT,
        .gamma = 0.1,
        .meta_gamma = 0.1,
        .meta_alpha = 1.0,
        .n_bases = 3,
        .bases = {BANDIT_EGREEDY_DECAY, BANDIT_THOMPSON, BANDIT_LINUCB},
        .rerank = RERANK_NONE,
        .rerank_lambda = 0.5,
        .rerank_pool = 50,
        .propensity_draws = 0,
    };
}

int bandit_parse_bases(const char *list, bandit_params_t *params)
{
    bandit_algo_t bases[BANDIT_MAX_BASES];
    uint32_t n = 0;
    const char *p = list;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char name[32];
        if (len == 0 || len >= sizeof name || n == BANDIT_MAX_BASES)
            return ERR_EINVAL;
        memcpy(name, p, len);
        name[len] = '\0';
        bandit_algo_t algo;
        if (bandit_algo_parse(name, &algo) != 0 || algo == BANDIT_EXP3 || s_is_meta(algo))
            return ERR_EINVAL;
        for (uint32_t i = 0; i < n; i++)
            if (bases[i] == algo)
                return ERR_EINVAL;
        bases[n++] = algo;
        if (!end)
            break;
        p = end + 1;
    }
    memcpy(params->bases, bases, n * sizeof bases[0]);
    params->n_bases = n;
    return 0;
}

int bandit_params_check(bandit_algo_t algo, const bandit_params_t *p)
{
    if ((unsigned)algo >= BANDIT_N_ALGOS)
        return ERR_EINVAL;
    if (!(p->epsilon >= 0 && p->epsilon <= 1) || !(p->epsilon_c >= 0 && isfinite(p->epsilon_c)) ||
        !(p->alpha >= 0 && isfinite(p->alpha)) || !(p->gamma > 0 && p->gamma <= 1) ||
        !(p->meta_gamma > 0 && p->meta_gamma <= 1) ||
        !(p->meta_alpha >= 0 && isfinite(p->meta_alpha)) ||
        (p->linucb_model != BANDIT_LINUCB_DISJOINT && p->linucb_model != BANDIT_LINUCB_SHARED))
        return ERR_EINVAL;
    if ((unsigned)p->rerank > RERANK_DPP || !(p->rerank_lambda >= 0 && p->rerank_lambda <= 1) ||
        p->rerank_pool < 1 || p->rerank_pool > RERANK_MAX_POOL ||
        p->propensity_draws > BANDIT_MAX_PROPENSITY_DRAWS ||
        (p->rerank != RERANK_NONE && !s_reranks(algo)))
        return ERR_EINVAL;
    if (s_is_meta(algo)) {
        if (p->n_bases < 1 || p->n_bases > BANDIT_MAX_BASES)
            return ERR_EINVAL;
        for (uint32_t i = 0; i < p->n_bases; i++)
            if ((unsigned)p->bases[i] >= BANDIT_N_ALGOS || p->bases[i] == BANDIT_EXP3 ||
                s_is_meta(p->bases[i]))
                return ERR_EINVAL;
    }
    return 0;
}

bandit_t *bandit_new(bandit_algo_t algo, const bandit_params_t *params, uint32_t dim, uint64_t seed)
{
    if (!params || dim < 1 || dim > PROTO_MAX_DIM || bandit_params_check(algo, params) != 0)
        return NULL;
    bandit_t *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->algo = algo;
    b->params = *params;
    b->dim = dim;
    pcg32_seed(&b->rng, seed, (uint64_t)algo);
    pcg32_seed(&b->propensity_rng, seed, (uint64_t)algo + BANDIT_N_ALGOS);
    if (algo == BANDIT_LINUCB) {
        b->linucb = linucb_new(params->linucb_model, dim, params->alpha);
        if (!b->linucb)
            goto fail;
    }
    if (s_is_meta(algo)) {
        for (uint32_t i = 0; i < params->n_bases; i++) {
            bandit_params_t base = *params;
            if (!s_reranks(params->bases[i]))
                base.rerank = RERANK_NONE;
            b->bases[i] = bandit_new(params->bases[i], &base, dim, pcg32_next64(&b->rng));
            if (!b->bases[i])
                goto fail;
        }
    }
    if (params->rerank != RERANK_NONE && !s_is_meta(algo)) {
        /* room for a slate longer than the pool: it then re-ranks k candidates */
        b->pool_cap = params->rerank_pool > PROTO_MAX_SLATE ? params->rerank_pool : PROTO_MAX_SLATE;
        b->rerank = rerank_new(params->rerank, params->rerank_lambda, b->pool_cap, dim);
        b->pool = malloc(b->pool_cap * sizeof *b->pool);
        b->pool_order = malloc(b->pool_cap * sizeof *b->pool_order);
        b->pool_scores = malloc(b->pool_cap * sizeof *b->pool_scores);
        b->pool_embeddings = malloc((size_t)b->pool_cap * dim * sizeof *b->pool_embeddings);
        if (!b->rerank || !b->pool || !b->pool_order || !b->pool_scores || !b->pool_embeddings)
            goto fail;
    }
    if (algo == BANDIT_META_LINUCB) {
        b->strategy_linucb = linucb_new(BANDIT_LINUCB_DISJOINT, dim, params->meta_alpha);
        if (!b->strategy_linucb || linucb_reserve(b->strategy_linucb, params->n_bases) != 0)
            goto fail;
        for (uint32_t i = 0; i < params->n_bases; i++)
            linucb_clear_slot(b->strategy_linucb, i, NULL); /* DISJOINT reads no embedding */
    }
    return b;
fail:
    bandit_destroy(&b);
    return NULL;
}

void bandit_destroy(bandit_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    bandit_t *b = *self_p;
    for (uint32_t i = 0; i < BANDIT_MAX_BASES; i++)
        bandit_destroy(&b->bases[i]);
    linucb_destroy(&b->linucb);
    linucb_destroy(&b->strategy_linucb);
    rerank_destroy(&b->rerank);
    free(b->pool);
    free(b->pool_order);
    free(b->pool_scores);
    free(b->pool_embeddings);
    free(b->slot_of_id);
    free(b->arms);
    free(b->embeddings);
    free(b->live);
    free(b->free_slots);
    free(b->score);
    free(b->tie);
    free(b->on_slate);
    free(b->linucb_scores);
    free(b->rows_of_base);
    free(b->base_contexts);
    free(b->base_slates);
    free(b);
    *self_p = NULL;
}

uint32_t bandit_n_live(const bandit_t *b)
{
    return b->n_live;
}

/* ---- arms ------------------------------------------------------------ */

/* Grows *p to n elements of size bytes; 0 or ERR_ENOMEM (the old block kept). */
static int s_grow(void *p, size_t n, size_t size)
{
    void *q = realloc(*(void **)p, n * size);
    if (!q)
        return ERR_ENOMEM;
    *(void **)p = q;
    return 0;
}

static int32_t s_slot(const bandit_t *b, int32_t id)
{
    return id >= 0 && (size_t)id < b->id_cap ? b->slot_of_id[id] : -1;
}

/* Room for one more slot and for id in slot_of_id; 0 or ERR_ENOMEM. */
static int s_reserve(bandit_t *b, int32_t id)
{
    if ((size_t)id >= b->id_cap) {
        size_t cap = b->id_cap ? b->id_cap : 1024;
        while (cap <= (size_t)id)
            cap *= 2;
        if (s_grow(&b->slot_of_id, cap, sizeof *b->slot_of_id))
            return ERR_ENOMEM;
        for (size_t i = b->id_cap; i < cap; i++)
            b->slot_of_id[i] = -1;
        b->id_cap = cap;
    }
    if (b->n_free > 0 || b->n_slots < b->slot_cap)
        return 0;
    uint32_t cap = b->slot_cap ? b->slot_cap * 2 : 256;
    if (s_grow(&b->arms, cap, sizeof *b->arms) ||
        s_grow(&b->embeddings, (size_t)cap * b->dim, sizeof *b->embeddings) ||
        s_grow(&b->live, cap, sizeof *b->live) || s_grow(&b->free_slots, cap, sizeof(uint32_t)) ||
        s_grow(&b->score, cap, sizeof *b->score) || s_grow(&b->tie, cap, sizeof *b->tie) ||
        s_grow(&b->on_slate, cap, sizeof *b->on_slate) ||
        s_grow(&b->linucb_scores, (size_t)S_ROWS_PER_CHUNK * cap, sizeof(double)) ||
        (b->linucb && linucb_reserve(b->linucb, cap)))
        return ERR_ENOMEM;
    memset(b->on_slate + b->slot_cap, 0, cap - b->slot_cap);
    b->slot_cap = cap;
    return 0;
}

/* EXP3's weight for a newcomer: the mean log-weight of the live arms, so
 * that it starts as an average arm (and the gamma / K share explores it). */
static double s_mean_log_weight(const bandit_t *b)
{
    double sum = 0;
    for (uint32_t i = 0; i < b->n_live; i++)
        sum += b->arms[b->live[i]].log_weight;
    return b->n_live ? sum / b->n_live : 0.0;
}

int bandit_add_arm(bandit_t *b, int32_t id, const float *embedding)
{
    if (id < 0 || id >= PROTO_MAX_ITEM_IDS || !embedding || s_slot(b, id) >= 0)
        return ERR_EINVAL;
    for (uint32_t i = 0; i < BANDIT_MAX_BASES && b->bases[i]; i++) {
        int rc = bandit_add_arm(b->bases[i], id, embedding);
        if (rc != 0) {
            for (uint32_t j = 0; j < i; j++)
                bandit_retire_arm(b->bases[j], id);
            return rc;
        }
    }
    if (s_reserve(b, id) != 0) {
        for (uint32_t i = 0; i < BANDIT_MAX_BASES && b->bases[i]; i++)
            bandit_retire_arm(b->bases[i], id);
        return ERR_ENOMEM;
    }
    uint32_t slot = b->n_free > 0 ? b->free_slots[--b->n_free] : b->n_slots++;
    b->arms[slot] = (arm_t){
        .id = id,
        .live_pos = b->n_live,
        .log_weight = s_mean_log_weight(b),
    };
    memcpy(b->embeddings + (size_t)slot * b->dim, embedding, b->dim * sizeof *embedding);
    if (b->linucb)
        linucb_clear_slot(b->linucb, slot, embedding);
    b->live[b->n_live++] = slot;
    b->slot_of_id[id] = (int32_t)slot;
    return 0;
}

void bandit_retire_arm(bandit_t *b, int32_t id)
{
    int32_t slot = s_slot(b, id);
    if (slot < 0)
        return;
    for (uint32_t i = 0; i < BANDIT_MAX_BASES && b->bases[i]; i++)
        bandit_retire_arm(b->bases[i], id);
    uint32_t pos = b->arms[slot].live_pos, last = b->live[--b->n_live];
    b->live[pos] = last;
    b->arms[last].live_pos = pos;
    b->free_slots[b->n_free++] = (uint32_t)slot;
    b->slot_of_id[id] = -1;
}

int bandit_sync(bandit_t *b, uint32_t n, const int32_t *ids, const float *embeddings)
{
    for (uint32_t i = 0; i < b->n_live; i++)
        b->arms[b->live[i]].keep = 0;
    for (uint32_t i = 0; i < n; i++) {
        const float *e = embeddings + (size_t)i * b->dim;
        int32_t slot = s_slot(b, ids[i]);
        if (slot >= 0 && b->arms[slot].keep)
            return ERR_EINVAL; /* repeated id */
        if (slot >= 0 &&
            memcmp(b->embeddings + (size_t)slot * b->dim, e, b->dim * sizeof *e) == 0) {
            b->arms[slot].keep = 1;
            continue;
        }
        bandit_retire_arm(b, ids[i]);
        int rc = bandit_add_arm(b, ids[i], e);
        if (rc != 0)
            return rc;
        b->arms[b->slot_of_id[ids[i]]].keep = 1;
    }
    for (uint32_t i = b->n_live; i-- > 0;)
        if (!b->arms[b->live[i]].keep)
            bandit_retire_arm(b, b->arms[b->live[i]].id);
    return 0;
}

/* ---- selection ------------------------------------------------------- */

/* Counts one request and its slate's items as pulls, at once: their
 * clicks come with the feedback (bandit_update). */
static void s_count_shown(bandit_t *b, const int32_t *slate, uint32_t k)
{
    b->rounds += 1;
    for (uint32_t i = 0; i < k; i++) {
        int32_t slot = s_slot(b, slate[i]);
        if (slot >= 0) {
            b->arms[slot].pulls += 1;
            b->pulls += 1;
        }
    }
}

/* k distinct live arms uniformly (Floyd's sampling) in random order
 * (Fisher-Yates). slate: (k). */
static void s_random_slate(bandit_t *b, uint32_t k, int32_t *slate)
{
    uint32_t filled = 0;
    for (uint32_t j = b->n_live - k; j < b->n_live; j++) {
        int32_t pick = b->arms[b->live[pcg32_bounded(&b->rng, j + 1)]].id;
        for (uint32_t q = 0; q < filled; q++) {
            if (slate[q] == pick) {
                pick = b->arms[b->live[j]].id;
                break;
            }
        }
        slate[filled++] = pick;
    }
    for (uint32_t i = k - 1; i > 0; i--) {
        uint32_t j = pcg32_bounded(&b->rng, i + 1);
        int32_t tmp = slate[i];
        slate[i] = slate[j];
        slate[j] = tmp;
    }
}

/* The k live arms with the highest b->score (per live index), ties broken
 * uniformly at random, highest first. out: (k) live indices. */
static void s_top_k(bandit_t *b, uint32_t k, uint32_t *out)
{
    uint32_t filled = 0;
    for (uint32_t i = 0; i < b->n_live; i++) {
        double s = b->score[i];
        uint32_t t = b->tie[i] = pcg32_next(&b->rng);
        if (filled == k) {
            double last = b->score[out[k - 1]];
            if (s < last || (s == last && t <= b->tie[out[k - 1]]))
                continue;
        }
        uint32_t pos = filled < k ? filled++ : k - 1;
        while (pos > 0) {
            double above = b->score[out[pos - 1]];
            if (above > s || (above == s && b->tie[out[pos - 1]] > t))
                break;
            out[pos] = out[pos - 1];
            pos--;
        }
        out[pos] = i;
    }
}

/* The slate's k live indices, best first: the top k of b->score, or, with
 * re-ranking, k of the top rerank_pool picked by MMR or DPP. out: (k). */
static void s_rank(bandit_t *b, uint32_t k, uint32_t *out)
{
    if (!b->rerank) {
        s_top_k(b, k, out);
        return;
    }
    uint32_t m = b->params.rerank_pool < b->n_live ? b->params.rerank_pool : b->n_live;
    m = m > k ? m : k;
    s_top_k(b, m, b->pool);
    for (uint32_t i = 0; i < m; i++) {
        uint32_t slot = b->live[b->pool[i]];
        b->pool_scores[i] = b->score[b->pool[i]];
        memcpy(b->pool_embeddings + (size_t)i * b->dim, b->embeddings + (size_t)slot * b->dim,
               b->dim * sizeof *b->embeddings);
    }
    rerank_slate(b->rerank, m, b->pool_scores, b->pool_embeddings, k, b->pool_order);
    for (uint32_t i = 0; i < k; i++)
        out[i] = b->pool[b->pool_order[i]];
}

/* Normal draws two at a time (Marsaglia's polar method), for Thompson
 * sampling's many Beta draws per request: the spare is kept here, in a
 * sampler that lives for one pass over the arms. */
typedef struct normal_pair {
    pcg32_t *rng;
    double spare;
    int has_spare;
} normal_pair_t;

/* Uniform in (-1, 1) from one raw output. */
static double s_uniform_signed(pcg32_t *rng)
{
    return ((double)pcg32_next(rng) + 0.5) * (2.0 / 4294967296.0) - 1.0;
}

static double s_normal(normal_pair_t *g)
{
    if (g->has_spare) {
        g->has_spare = 0;
        return g->spare;
    }
    double u, v, s;
    do {
        u = s_uniform_signed(g->rng);
        v = s_uniform_signed(g->rng);
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    double f = sqrt(-2.0 * log(s) / s);
    g->spare = v * f;
    g->has_spare = 1;
    return u * f;
}

/* A Gamma(shape, 1) draw for shape >= 1 (Marsaglia and Tsang 2000). */
static double s_gamma(normal_pair_t *g, double shape)
{
    double d = shape - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double x = s_normal(g), v = 1.0 + c * x;
        if (v <= 0)
            continue;
        v = v * v * v;
        double u = ((double)pcg32_next(g->rng) + 0.5) / 4294967296.0; /* (0, 1) */
        if (u < 1.0 - 0.0331 * x * x * x * x || log(u) < 0.5 * x * x + d * (1.0 - v + log(v)))
            return d * v;
    }
}

/* A Beta(a, b) draw, a, b >= 1, as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b). */
static double s_beta(normal_pair_t *g, double a, double b)
{
    double x = s_gamma(g, a), y = s_gamma(g, b);
    return x / (x + y);
}

/* Index of each live arm for the index-based algorithms, into b->score. */
static void s_scores(bandit_t *b)
{
    double log_t = log(b->pulls > 1 ? b->pulls : 1.0);
    normal_pair_t normal = {.rng = &b->rng};
    for (uint32_t i = 0; i < b->n_live; i++) {
        const arm_t *a = &b->arms[b->live[i]];
        double s;
        switch (b->algo) {
        case BANDIT_POPULARITY:
            s = a->clicks;
            break;
        case BANDIT_UCB1:
            s = a->pulls > 0 ? a->clicks / a->pulls + b->params.ucb_c * sqrt(2.0 * log_t / a->pulls)
                             : INFINITY;
            break;
        case BANDIT_THOMPSON:
            s = s_beta(&normal, 1.0 + a->clicks, 1.0 + a->pulls - a->clicks);
            break;
        default: /* epsilon-greedy: the empirical mean, 0 for an unplayed arm */
            s = a->pulls > 0 ? a->clicks / a->pulls : 0.0;
            break;
        }
        b->score[i] = s;
    }
}

/* Epsilon-greedy's slate: slot by slot, with probability eps a random live
 * arm not yet on the slate, otherwise the best remaining arm by mean (in
 * b->score). best: (k) scratch, left holding the top k by mean. */
static void s_egreedy_slate(bandit_t *b, double eps, uint32_t k, int32_t *slate, uint32_t *best)
{
    s_top_k(b, k, best);
    for (uint32_t i = 0, next = 0; i < k; i++) {
        int32_t pick;
        uint32_t j;
        if (pcg32_uniform(&b->rng) < eps) {
            do {
                pick = b->arms[b->live[pcg32_bounded(&b->rng, b->n_live)]].id;
                for (j = 0; j < i && slate[j] != pick; j++)
                    ;
            } while (j < i);
        } else {
            do {
                pick = b->arms[b->live[best[next++]]].id;
                for (j = 0; j < i && slate[j] != pick; j++)
                    ;
            } while (j < i);
        }
        slate[i] = pick;
    }
}

/* EXP3: p_a = (1 - gamma) w_a / sum(w) + gamma / K for every live arm,
 * into arms[].select_prob and b->score. */
static void s_exp3_probabilities(bandit_t *b)
{
    double max = -INFINITY, sum = 0, gamma = b->params.gamma, K = b->n_live;
    for (uint32_t i = 0; i < b->n_live; i++)
        if (b->arms[b->live[i]].log_weight > max)
            max = b->arms[b->live[i]].log_weight;
    for (uint32_t i = 0; i < b->n_live; i++)
        sum += b->score[i] = exp(b->arms[b->live[i]].log_weight - max);
    for (uint32_t i = 0; i < b->n_live; i++) {
        b->score[i] = (1.0 - gamma) * b->score[i] / sum + gamma / K;
        b->arms[b->live[i]].select_prob = b->score[i];
    }
    b->exp3_live = b->n_live;
}

/* EXP3's slate: k draws without replacement, each proportional to p among
 * the arms not yet drawn (exactly EXP3 for k = 1). */
static void s_exp3_slate(bandit_t *b, uint32_t k, int32_t *slate)
{
    uint32_t chosen[PROTO_MAX_SLATE];
    double taken = 0;
    for (uint32_t i = 0; i < k; i++) {
        double u = pcg32_uniform(&b->rng) * (1.0 - taken);
        uint32_t pick = UINT32_MAX, last = 0;
        for (uint32_t a = 0; a < b->n_live && pick == UINT32_MAX; a++) {
            uint32_t j;
            for (j = 0; j < i && chosen[j] != a; j++)
                ;
            if (j < i)
                continue;
            last = a;
            u -= b->score[a];
            if (u < 0)
                pick = a;
        }
        if (pick == UINT32_MAX) /* rounding left u >= 0 after the last arm */
            pick = last;
        chosen[i] = pick;
        taken += b->score[pick];
        slate[i] = b->arms[b->live[pick]].id;
    }
}

/* ---- propensities: the probability of the slate just drawn ---------- */

/* The live index of a live arm's id. */
static uint32_t s_live_index(const bandit_t *b, int32_t id)
{
    return b->arms[s_slot(b, id)].live_pos;
}

/* The probability of slate (k ids) under "slot by slot: with probability
 * eps a uniformly random live arm not yet on the slate, otherwise the
 * remaining arm of highest b->score, ties broken uniformly at random",
 * which is epsilon-greedy (s_egreedy_slate), the top k of an index (eps =
 * 0: s_top_k) and the uniform random slate (eps = 1). best: (k) the live
 * indices s_top_k returned for these scores, highest first. With N live
 * arms and M_i the remaining arms (not among slate[0..i-1]) of the highest
 * score, the slot's chance is eps / (N - i) + (1 - eps) [slate[i] in M_i] /
 * |M_i|: the exploiting pick is uniform over M_i because the random tie
 * order is exchangeable among the arms not yet shown. The slate's
 * probability is the product over the k slots (docs/agents.md). */
static double s_greedy_propensity(const bandit_t *b, double eps, uint32_t k, const uint32_t *best,
                                  const int32_t *slate)
{
    /* the distinct scores among best, highest first, and how many live arms have each */
    double value[PROTO_MAX_SLATE];
    uint32_t count[PROTO_MAX_SLATE], n_values = 0;
    for (uint32_t i = 0; i < k; i++)
        if (n_values == 0 || b->score[best[i]] != value[n_values - 1]) {
            value[n_values] = b->score[best[i]];
            count[n_values++] = 0;
        }
    double lowest = value[n_values - 1];
    for (uint32_t a = 0; a < b->n_live; a++) {
        double v = b->score[a];
        if (!(v >= lowest))
            continue;
        for (uint32_t q = 0; q < n_values; q++)
            if (v == value[q]) {
                count[q]++;
                break;
            }
    }
    double p = 1.0, n = b->n_live;
    uint32_t next = 0; /* first entry of best not on the slate so far */
    for (uint32_t i = 0; i < k; i++) {
        for (;;) {
            int32_t id = b->arms[b->live[best[next]]].id;
            uint32_t j;
            for (j = 0; j < i && slate[j] != id; j++)
                ;
            if (j == i)
                break;
            next++;
        }
        double top = b->score[best[next]];
        uint32_t q = 0;
        while (value[q] != top)
            q++;
        double shown_at_top = 0; /* arms of score top already on the slate */
        for (uint32_t j = 0; j < i; j++)
            shown_at_top += b->score[s_live_index(b, slate[j])] == top;
        double ties = count[q] - shown_at_top;
        double greedy = b->score[s_live_index(b, slate[i])] == top ? 1.0 / ties : 0.0;
        p *= eps / (n - i) + (1.0 - eps) * greedy;
    }
    return p;
}

/* EXP3's slate, k draws without replacement proportional to p (b->score):
 * the product of p(slate[i]) / (1 - sum of p over slate[0..i-1]). */
static double s_exp3_propensity(const bandit_t *b, uint32_t k, const int32_t *slate)
{
    double p = 1.0, taken = 0.0;
    for (uint32_t i = 0; i < k; i++) {
        double pi = b->score[s_live_index(b, slate[i])];
        p *= pi / (1.0 - taken);
        taken += pi;
    }
    return p < 1.0 ? p : 1.0;
}

/* Thompson sampling's slate is the top k of one posterior draw per arm;
 * its probability has no closed form. Estimated by R =
 * params.propensity_draws fresh draws of every posterior (from
 * propensity_rng, so that the slates stay those of the algorithm alone):
 * a hit when the draws rank slate[0] > ... > slate[k-1] > every other arm
 * (checked lazily: the slate's arms first, then the others until one beats
 * slate[k-1]). The estimate (hits + 1) / (R + 1) counts the draw that
 * chose the slate as a hit, so it is never 0: its bias is (1 - p) / (R + 1)
 * and its standard error about sqrt(p (1 - p) / R) (docs/agents.md). */
static double s_thompson_propensity(bandit_t *b, uint32_t k, const int32_t *slate)
{
    uint32_t R = b->params.propensity_draws, hits = 0;
    normal_pair_t normal = {.rng = &b->propensity_rng};
    for (uint32_t i = 0; i < k; i++)
        b->on_slate[s_slot(b, slate[i])] = 1;
    for (uint32_t r = 0; r < R; r++) {
        double last = INFINITY;
        bool hit = true;
        for (uint32_t i = 0; i < k && hit; i++) {
            const arm_t *a = &b->arms[s_slot(b, slate[i])];
            double theta = s_beta(&normal, 1.0 + a->clicks, 1.0 + a->pulls - a->clicks);
            hit = theta < last;
            last = theta;
        }
        for (uint32_t i = 0; i < b->n_live && hit; i++) {
            const arm_t *a = &b->arms[b->live[i]];
            if (!b->on_slate[b->live[i]])
                hit = s_beta(&normal, 1.0 + a->clicks, 1.0 + a->pulls - a->clicks) < last;
        }
        hits += hit;
    }
    for (uint32_t i = 0; i < k; i++)
        b->on_slate[s_slot(b, slate[i])] = 0;
    return (hits + 1.0) / (R + 1.0);
}

static bool s_needs_contexts(const bandit_t *b)
{
    if (b->algo == BANDIT_LINUCB || b->algo == BANDIT_META_LINUCB)
        return true;
    for (uint32_t i = 0; i < BANDIT_MAX_BASES && b->bases[i]; i++)
        if (s_needs_contexts(b->bases[i]))
            return true;
    return false;
}

/* LinUCB's slates, the top k of its index per request (propensity: (n)
 * or NULL, as s_greedy_propensity with eps = 0; NaN with re-ranking). */
static int s_linucb_select(bandit_t *b, uint32_t n, const float *contexts, uint32_t k,
                           int32_t *slates, double *propensity)
{
    uint32_t top[PROTO_MAX_SLATE];
    for (uint32_t r0 = 0; r0 < n; r0 += S_ROWS_PER_CHUNK) {
        uint32_t rows = n - r0 < S_ROWS_PER_CHUNK ? n - r0 : S_ROWS_PER_CHUNK;
        int rc = linucb_scores(b->linucb, rows, contexts + (size_t)r0 * b->dim, b->n_slots,
                               b->linucb_scores);
        if (rc != 0)
            return rc;
        for (uint32_t r = 0; r < rows; r++) {
            const double *row = b->linucb_scores + (size_t)r * b->n_slots;
            for (uint32_t i = 0; i < b->n_live; i++)
                b->score[i] = row[b->live[i]];
            s_rank(b, k, top);
            int32_t *slate = slates + (size_t)(r0 + r) * k;
            for (uint32_t i = 0; i < k; i++)
                slate[i] = b->arms[b->live[top[i]]].id;
            if (propensity)
                propensity[r0 + r] = b->rerank ? NAN : s_greedy_propensity(b, 0.0, k, top, slate);
        }
    }
    return 0;
}

static void s_meta_probabilities(const bandit_t *b, double *probs)
{
    uint32_t J = b->params.n_bases;
    double max = -INFINITY, sum = 0, gamma = b->params.meta_gamma;
    for (uint32_t j = 0; j < J; j++)
        if (b->base_log_weight[j] > max)
            max = b->base_log_weight[j];
    for (uint32_t j = 0; j < J; j++)
        sum += probs[j] = exp(b->base_log_weight[j] - max);
    for (uint32_t j = 0; j < J; j++)
        probs[j] = (1.0 - gamma) * probs[j] / sum + gamma / J;
}

/* meta-linucb's choice of base per request: the largest upper confidence
 * bound of the bases' click regressions on x = [features, 1], ties broken
 * uniformly at random. */
static int s_meta_linucb_choose(bandit_t *b, uint32_t n, const float *contexts, uint8_t *strategies)
{
    uint32_t J = b->params.n_bases;
    for (uint32_t r0 = 0; r0 < n; r0 += S_ROWS_PER_CHUNK) {
        uint32_t rows = n - r0 < S_ROWS_PER_CHUNK ? n - r0 : S_ROWS_PER_CHUNK;
        int rc = linucb_scores(b->strategy_linucb, rows, contexts + (size_t)r0 * b->dim, J,
                               b->strategy_scores);
        if (rc != 0)
            return rc;
        for (uint32_t r = 0; r < rows; r++) {
            const double *row = b->strategy_scores + (size_t)r * J;
            uint32_t best = 0, ties = 1;
            for (uint32_t j = 1; j < J; j++) {
                if (row[j] > row[best]) {
                    best = j;
                    ties = 1;
                } else if (row[j] == row[best] && pcg32_bounded(&b->rng, ++ties) == 0) {
                    best = j; /* each of the tied bases with chance 1 / ties */
                }
            }
            strategies[r0 + r] = (uint8_t)best;
        }
    }
    return 0;
}

/* The meta-bandits: choose a base per request (EXP3 over the bases, or
 * meta-linucb's regressions), then let each base fill its requests in one
 * batch. */
static int s_meta_select(bandit_t *b, uint32_t n, const float *contexts, uint32_t k,
                         int32_t *slates, uint8_t *strategies)
{
    uint32_t J = b->params.n_bases;
    if (n > b->max_rows || k > b->k_cap) {
        uint32_t rows = n > b->max_rows ? n : b->max_rows, kk = k > b->k_cap ? k : b->k_cap;
        if (s_grow(&b->rows_of_base, rows, sizeof *b->rows_of_base) ||
            s_grow(&b->base_contexts, (size_t)rows * b->dim, sizeof *b->base_contexts) ||
            s_grow(&b->base_slates, (size_t)rows * kk, sizeof *b->base_slates))
            return ERR_ENOMEM;
        b->max_rows = rows;
        b->k_cap = kk;
    }
    if (b->algo == BANDIT_META_LINUCB) {
        int rc = s_meta_linucb_choose(b, n, contexts, strategies);
        if (rc != 0)
            return rc;
    } else {
        s_meta_probabilities(b, b->base_select_prob);
        for (uint32_t r = 0; r < n; r++) {
            double u = pcg32_uniform(&b->rng);
            uint32_t j = 0;
            while (j + 1 < J && (u -= b->base_select_prob[j]) >= 0)
                j++;
            strategies[r] = (uint8_t)j;
        }
    }
    for (uint32_t j = 0; j < J; j++) {
        uint32_t m = 0;
        for (uint32_t r = 0; r < n; r++) {
            if (strategies[r] != j)
                continue;
            b->rows_of_base[m] = r;
            if (contexts)
                memcpy(b->base_contexts + (size_t)m * b->dim, contexts + (size_t)r * b->dim,
                       b->dim * sizeof *contexts);
            m++;
        }
        if (m == 0)
            continue;
        int rc = bandit_select(b->bases[j], m, contexts ? b->base_contexts : NULL, k,
                               b->base_slates, NULL);
        if (rc != 0)
            return rc;
        for (uint32_t i = 0; i < m; i++)
            memcpy(slates + (size_t)b->rows_of_base[i] * k, b->base_slates + (size_t)i * k,
                   k * sizeof *slates);
    }
    /* every base learns from every request: the others count its pulls too */
    for (uint32_t r = 0; r < n; r++) {
        s_count_shown(b, slates + (size_t)r * k, k);
        for (uint32_t j = 0; j < J; j++)
            if (j != strategies[r])
                s_count_shown(b->bases[j], slates + (size_t)r * k, k);
    }
    return 0;
}

/* One row of an algorithm that works request by request; with
 * propensity, also the slate's probability (NaN: not known). */
static void s_select_row(bandit_t *b, uint32_t k, int32_t *slate, double *propensity)
{
    uint32_t top[PROTO_MAX_SLATE];
    switch (b->algo) {
    case BANDIT_RANDOM:
        s_random_slate(b, k, slate);
        if (propensity) {
            *propensity = 1.0;
            for (uint32_t i = 0; i < k; i++)
                *propensity /= b->n_live - i;
        }
        return;
    case BANDIT_EGREEDY:
    case BANDIT_EGREEDY_DECAY: {
        double eps = b->params.epsilon;
        if (b->algo == BANDIT_EGREEDY_DECAY) {
            eps = b->params.epsilon_c * b->n_live / (b->rounds + 1.0);
            eps = eps < 1.0 ? eps : 1.0;
        }
        s_scores(b);
        s_egreedy_slate(b, eps, k, slate, top);
        if (propensity)
            *propensity = s_greedy_propensity(b, eps, k, top, slate);
        return;
    }
    case BANDIT_EXP3:
        s_exp3_slate(b, k, slate);
        if (propensity)
            *propensity = s_exp3_propensity(b, k, slate);
        return;
    default: /* popularity, UCB1, Thompson: the top k of an index */
        s_scores(b);
        s_rank(b, k, top);
        for (uint32_t i = 0; i < k; i++)
            slate[i] = b->arms[b->live[top[i]]].id;
        if (propensity)
            *propensity = !bandit_knows_propensity(b)  ? NAN
                          : b->algo == BANDIT_THOMPSON ? s_thompson_propensity(b, k, slate)
                                                       : s_greedy_propensity(b, 0.0, k, top, slate);
        return;
    }
}

bool bandit_knows_propensity(const bandit_t *b)
{
    return !s_is_meta(b->algo) && !b->rerank &&
           (b->algo != BANDIT_THOMPSON || b->params.propensity_draws > 0);
}

int bandit_select(bandit_t *b, uint32_t n, const float *contexts, uint32_t k, int32_t *slates,
                  uint8_t *strategies)
{
    return bandit_select_propensity(b, n, contexts, k, slates, strategies, NULL);
}

int bandit_select_propensity(bandit_t *b, uint32_t n, const float *contexts, uint32_t k,
                             int32_t *slates, uint8_t *strategies, double *propensity)
{
    if (k < 1 || k > PROTO_MAX_SLATE || (n > 0 && !slates) ||
        (n > 0 && !contexts && s_needs_contexts(b)) || (n > 0 && !strategies && s_is_meta(b->algo)))
        return ERR_EINVAL;
    if (b->n_live < k)
        return ERR_ELIMIT;
    if (n == 0)
        return 0;
    if (!bandit_knows_propensity(b))
        for (uint32_t r = 0; propensity && r < n; r++)
            propensity[r] = NAN;
    if (s_is_meta(b->algo))
        return s_meta_select(b, n, contexts, k, slates, strategies);
    if (strategies)
        memset(strategies, 0, n);
    if (b->algo == BANDIT_LINUCB) {
        int rc = s_linucb_select(b, n, contexts, k, slates, propensity);
        if (rc != 0)
            return rc;
        for (uint32_t r = 0; r < n; r++)
            s_count_shown(b, slates + (size_t)r * k, k);
        return 0;
    }
    if (b->algo == BANDIT_EXP3)
        s_exp3_probabilities(b);
    for (uint32_t r = 0; r < n; r++) {
        s_select_row(b, k, slates + (size_t)r * k, propensity ? &propensity[r] : NULL);
        s_count_shown(b, slates + (size_t)r * k, k);
    }
    return 0;
}

/* ---- learning -------------------------------------------------------- */

void bandit_update(bandit_t *b, const float *context, const int32_t *slate, uint32_t k,
                   int32_t clicked, uint8_t strategy)
{
    bandit_update_reward(b, context, slate, k, clicked, clicked >= 0 ? 1.0 : 0.0, strategy);
}

void bandit_update_reward(bandit_t *b, const float *context, const int32_t *slate, uint32_t k,
                          int32_t clicked, double reward, uint8_t strategy)
{
    if (b->algo == BANDIT_META_LINUCB) {
        for (uint32_t j = 0; j < b->params.n_bases; j++)
            bandit_update_reward(b->bases[j], context, slate, k, clicked, reward, 0);
        /* the chosen base's regression on the request's reward (1 or 0 for
         * a click when learning from clicks) */
        if (strategy < b->params.n_bases && context)
            linucb_update(b->strategy_linucb, strategy, context, reward);
        return;
    }
    if (b->algo == BANDIT_META) {
        for (uint32_t j = 0; j < b->params.n_bases; j++)
            bandit_update_reward(b->bases[j], context, slate, k, clicked, reward, 0);
        /* EXP3 over the bases: the request's reward, in [0, 1] */
        double r = reward < 0.0 ? 0.0 : (reward > 1.0 ? 1.0 : reward);
        if (r > 0 && strategy < b->params.n_bases && b->base_select_prob[strategy] > 0)
            b->base_log_weight[strategy] +=
                r * b->params.meta_gamma / (b->base_select_prob[strategy] * b->params.n_bases);
        return;
    }
    if (reward == 0.0 && !b->linucb)
        return; /* the pulls were counted when the slate was chosen */
    bool bounded = b->algo == BANDIT_THOMPSON || b->algo == BANDIT_EXP3;
    for (uint32_t pos = 0; pos < k; pos++) {
        int32_t slot = s_slot(b, slate[pos]);
        if (slot < 0)
            continue;
        arm_t *a = &b->arms[slot];
        double r = clicked >= 0 ? ((int32_t)pos == clicked ? reward : 0.0) : reward / k;
        if (bounded)
            r = r < 0.0 ? 0.0 : (r > 1.0 ? 1.0 : r);
        a->clicks += r;
        if (b->linucb && context)
            linucb_update(b->linucb, (uint32_t)slot, context, r);
        if (b->algo == BANDIT_EXP3 && r > 0 && a->select_prob > 0) {
            /* importance weight: the chance that the arm was on the slate,
             * 1 - (1 - p)^k (p itself when k = 1) */
            double shown = 1.0 - pow(1.0 - a->select_prob, (double)k);
            double eta = b->params.eta > 0 ? b->params.eta : b->params.gamma / b->exp3_live;
            a->log_weight += eta * (r / shown);
        }
    }
}

/* ---- inspection ------------------------------------------------------ */

int bandit_exp3_probabilities(bandit_t *b, uint32_t cap, int32_t *ids, double *probs)
{
    if (b->algo != BANDIT_EXP3)
        return ERR_EINVAL;
    s_exp3_probabilities(b);
    uint32_t n = b->n_live < cap ? b->n_live : cap;
    for (uint32_t i = 0; i < n; i++) {
        ids[i] = b->arms[b->live[i]].id;
        probs[i] = b->score[i];
    }
    return (int)n;
}

int bandit_meta_probabilities(const bandit_t *b, double *probs)
{
    if (b->algo != BANDIT_META)
        return ERR_EINVAL;
    s_meta_probabilities(b, probs);
    return 0;
}
