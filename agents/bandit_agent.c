/* recarena-bandit: one agent process for every bandit of agents/bandit
 * (random, popularity, epsilon-greedy fixed or decaying, UCB1, Thompson,
 * LinUCB, EXP3, meta, meta-linucb), chosen with --algo, with optional
 * MMR or DPP re-ranking for diversity (--rerank); the algorithms and their
 * options are in docs/agents.md.
 *
 *     recarena-bandit --algo thompson --endpoint ipc:///tmp/x/control --name ts
 *
 * It keeps the bandit's arms in step with the catalog (new items are new
 * arms, retired items are forgotten; an item that comes back unchanged in
 * the next episode keeps its statistics), remembers what it showed to whom
 * for one tick so that the next STEP's feedback can be learnt from, and
 * reports each slate's probability under its policy with the ACT where
 * the algorithm knows it (ACT.propensity, docs/agents.md), and
 * prints one line per episode with its own exposure figures (the run's
 * summary has exposure only for the whole system):
 *
 *     episode 0: requests 27344 clicks 9646 ctr 0.3528 gini 0.6132 coverage 0.9301 items 701 */
#include "agents/sdk/agent.h"
#include "agents/sdk/shown.h"
#include "agents/bandit/bandit.h"
#include "core/err.h"
#include "core/metrics.h"
#include "core/parse.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct state {
    bandit_algo_t algo;
    bandit_params_t params;
    bool learn_clicks; /* --learn-from clicks: the own click, not the server's reward */
    bandit_t *bandit;
    uint32_t k, dim;

    /* the previous tick's requests, whose feedback the next STEP carries:
     * users and slates, and per request its features (dim floats) and the
     * strategy that chose it (one byte after them) */
    agent_shown_t shown;
    uint32_t cap;        /* room of the two arrays below */
    uint8_t *strategies; /* (cap) this tick's strategies */
    double *propensity;  /* (cap) this tick's slates' probabilities */
    bool told_underflow; /* said once that propensities underflowed */

    /* this episode: how often each item id was shown, requests, clicks */
    uint32_t *exposure, *scratch; /* (exposure_cap), scratch (2 * exposure_cap) */
    size_t exposure_cap;
    int32_t max_id; /* the largest item id of the episode so far */
    uint64_t requests, clicks;
} state_t;

static int s_on_option(void *user, const char *name, const char *value)
{
    state_t *s = user;
    bandit_params_t *p = &s->params;
    if (strcmp(name, "algo") == 0)
        return bandit_algo_parse(value, &s->algo);
    if (strcmp(name, "learn-from") == 0) {
        if (strcmp(value, "reward") == 0)
            s->learn_clicks = false;
        else if (strcmp(value, "clicks") == 0)
            s->learn_clicks = true;
        else
            return ERR_ESYNTAX;
        return 0;
    }
    if (strcmp(name, "epsilon") == 0)
        return parse_double(value, 0, 1, &p->epsilon);
    if (strcmp(name, "epsilon-c") == 0)
        return parse_double(value, 0, 1e9, &p->epsilon_c);
    if (strcmp(name, "ucb-c") == 0)
        return parse_double(value, 0, 1e9, &p->ucb_c);
    if (strcmp(name, "eta") == 0)
        return parse_double(value, 0, 1e9, &p->eta);
    if (strcmp(name, "alpha") == 0)
        return parse_double(value, 0, 1e9, &p->alpha);
    if (strcmp(name, "gamma") == 0)
        return parse_double(value, 1e-9, 1, &p->gamma);
    if (strcmp(name, "meta-gamma") == 0)
        return parse_double(value, 1e-9, 1, &p->meta_gamma);
    if (strcmp(name, "meta-alpha") == 0)
        return parse_double(value, 0, 1e9, &p->meta_alpha);
    if (strcmp(name, "rerank") == 0)
        return rerank_method_parse(value, &p->rerank);
    if (strcmp(name, "rerank-lambda") == 0)
        return parse_double(value, 0, 1, &p->rerank_lambda);
    if (strcmp(name, "rerank-pool") == 0) {
        int64_t pool;
        int rc = parse_int64(value, 1, RERANK_MAX_POOL, &pool);
        if (rc == 0)
            p->rerank_pool = (uint32_t)pool;
        return rc;
    }
    if (strcmp(name, "propensity-draws") == 0) {
        int64_t draws;
        int rc = parse_int64(value, 0, BANDIT_MAX_PROPENSITY_DRAWS, &draws);
        if (rc == 0)
            p->propensity_draws = (uint32_t)draws;
        return rc;
    }
    if (strcmp(name, "bases") == 0)
        return bandit_parse_bases(value, p);
    if (strcmp(name, "linucb-model") == 0) {
        if (strcmp(value, "disjoint") == 0)
            p->linucb_model = BANDIT_LINUCB_DISJOINT;
        else if (strcmp(value, "shared") == 0)
            p->linucb_model = BANDIT_LINUCB_SHARED;
        else
            return ERR_ESYNTAX;
        return 0;
    }
    return ERR_EINVAL;
}

/* Room for n requests of a tick; 0 or -1. */
static int s_reserve_rows(state_t *s, uint32_t n)
{
    if (agent_shown_reserve(&s->shown, n) != 0)
        return -1;
    if (n <= s->cap)
        return 0;
    uint8_t *strategies = realloc(s->strategies, n);
    if (strategies)
        s->strategies = strategies;
    double *propensity = realloc(s->propensity, n * sizeof *propensity);
    if (propensity)
        s->propensity = propensity;
    if (!strategies || !propensity)
        return -1;
    s->cap = n;
    return 0;
}

/* Room for item ids up to id in the exposure counts; 0 or -1. */
static int s_reserve_exposure(state_t *s, int32_t id)
{
    if (id > s->max_id)
        s->max_id = id;
    if ((size_t)id < s->exposure_cap)
        return 0;
    size_t cap = s->exposure_cap ? s->exposure_cap : 1024;
    while (cap <= (size_t)id)
        cap *= 2;
    uint32_t *exposure = realloc(s->exposure, cap * sizeof *exposure);
    if (exposure)
        s->exposure = exposure;
    /* metrics_gini sorts through a scratch of twice the counts */
    uint32_t *scratch = realloc(s->scratch, 2 * cap * sizeof *scratch);
    if (scratch)
        s->scratch = scratch;
    if (!exposure || !scratch)
        return -1;
    memset(s->exposure + s->exposure_cap, 0, (cap - s->exposure_cap) * sizeof *exposure);
    s->exposure_cap = cap;
    return 0;
}

/* Learns from the feedback on the previous tick's requests, which lists
 * the same users in the same order; anything else (a resync in between)
 * is not learnt from. */
static void s_learn(state_t *s, const proto_feedback_t *fb)
{
    uint32_t m = agent_shown_match(&s->shown, fb);
    for (uint32_t i = 0; i < m; i++) {
        int32_t clicked =
            fb->clicked[i] >= 0 && (uint32_t)fb->clicked[i] < s->k ? fb->clicked[i] : -1;
        s->clicks += clicked >= 0;
        double reward = s->learn_clicks ? (clicked >= 0) : (double)fb->reward[i];
        const unsigned char *row = agent_shown_extra(&s->shown, i);
        bandit_update_reward(s->bandit, (const float *)row, agent_shown_slate(&s->shown, i), s->k,
                             clicked, reward, row[(size_t)s->dim * sizeof(float)]);
    }
}

static int s_on_reset(agent_t *agent, void *user, const proto_catalog_t *catalog)
{
    state_t *s = user;
    const proto_welcome_t *w = agent_welcome(agent);
    if (s->bandit && (w->dim != s->dim || w->slate_size != s->k))
        bandit_destroy(&s->bandit); /* a server with another world: start over */
    if (!s->bandit) {
        s->k = w->slate_size;
        s->dim = w->dim;
        agent_shown_free(&s->shown);
        agent_shown_init(&s->shown, s->k, (size_t)s->dim * sizeof(float) + 1);
        s->bandit = bandit_new(s->algo, &s->params, s->dim, pcg32_next64(agent_rng(agent)));
        if (!s->bandit) {
            fprintf(stderr,
                    "recarena-bandit: cannot create %s for dim %u: bad option values "
                    "or out of memory\n",
                    bandit_algo_name(s->algo), s->dim);
            return -1;
        }
    }
    const proto_items_t *items = &catalog->items;
    int rc = bandit_sync(s->bandit, items->n, items->ids, items->embeddings);
    if (rc != 0) {
        fprintf(stderr, "recarena-bandit: catalog: %s\n", err_str(rc));
        return -1;
    }
    agent_shown_forget(&s->shown);
    if (catalog->tick == 0) {
        if (s->exposure)
            memset(s->exposure, 0, s->exposure_cap * sizeof *s->exposure);
        s->max_id = -1;
        s->requests = s->clicks = 0;
    }
    for (uint32_t i = 0; i < items->n; i++)
        if (s_reserve_exposure(s, items->ids[i]) != 0)
            goto fail_memory;
    if (s_reserve_rows(s, w->limits.max_batch) != 0)
        goto fail_memory;
    return 0;
fail_memory:
    fprintf(stderr, "recarena-bandit: out of memory\n");
    return -1;
}

static int s_on_step(agent_t *agent, void *user, const proto_step_t *step, int32_t *slates)
{
    state_t *s = user;
    s_learn(s, &step->feedback);
    for (uint32_t i = 0; i < step->born.n; i++) {
        int32_t id = step->born.ids[i];
        if (s_reserve_exposure(s, id) != 0)
            goto fail_memory;
        int rc = bandit_add_arm(s->bandit, id, step->born.embeddings + (size_t)i * s->dim);
        if (rc == ERR_ENOMEM)
            goto fail_memory;
    }
    for (uint32_t i = 0; i < step->n_retired; i++)
        bandit_retire_arm(s->bandit, step->retired[i]);

    const proto_requests_t *req = &step->requests;
    if (s_reserve_rows(s, req->n) != 0)
        goto fail_memory;
    bool knows = req->n > 0 && bandit_knows_propensity(s->bandit);
    int rc = bandit_select_propensity(s->bandit, req->n, req->features, s->k, slates, s->strategies,
                                      knows ? s->propensity : NULL);
    if (rc != 0) {
        fprintf(stderr, "recarena-bandit: %s at tick %u: %s%s\n", bandit_algo_name(s->algo),
                step->tick, err_str(rc),
                rc == ERR_ELIMIT ? " (fewer live items than the slate size)" : "");
        return -1;
    }
    /* the ACT carries each slate's probability where the algorithm knows it
     * and none underflowed to 0 (k of N items: 1 / (N (N-1) ...) can) */
    uint32_t underflow = 0;
    for (uint32_t i = 0; knows && i < req->n; i++)
        underflow += !(s->propensity[i] > 0.0);
    double *send = knows && !underflow ? agent_propensity(agent) : NULL;
    if (send)
        memcpy(send, s->propensity, req->n * sizeof *send);
    if (underflow && !s->told_underflow) {
        fprintf(stderr,
                "recarena-bandit: %u of %u slate probabilities at tick %u are below the "
                "smallest double; ACTs with such slates carry no propensities\n",
                underflow, req->n, step->tick);
        s->told_underflow = true;
    }
    if (agent_shown_record(&s->shown, req->n, req->user_ids, slates) != 0)
        goto fail_memory;
    for (uint32_t i = 0; i < req->n; i++) {
        unsigned char *row = agent_shown_extra(&s->shown, i);
        memcpy(row, req->features + (size_t)i * s->dim, (size_t)s->dim * sizeof(float));
        row[(size_t)s->dim * sizeof(float)] = s->strategies[i];
    }
    for (size_t i = 0; i < (size_t)req->n * s->k; i++)
        if (slates[i] <= s->max_id)
            s->exposure[slates[i]]++;
    s->requests += req->n;
    return 0;
fail_memory:
    fprintf(stderr, "recarena-bandit: out of memory\n");
    return -1;
}

/* Learns from the episode's last feedback and prints the episode line. */
static void s_on_episode_end(agent_t *agent, void *user, const proto_episode_end_t *end)
{
    (void)agent;
    state_t *s = user;
    s_learn(s, &end->feedback);
    size_t n_ids = (size_t)(s->max_id + 1);
    printf("episode %u: requests %llu clicks %llu ctr %.4f gini %.4f coverage %.4f items %zu\n",
           end->episode, (unsigned long long)s->requests, (unsigned long long)s->clicks,
           s->requests ? (double)s->clicks / (double)s->requests : 0.0,
           metrics_gini(s->exposure, n_ids, s->scratch), metrics_coverage(s->exposure, n_ids),
           n_ids);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    static const agent_spec_t spec = {
        .on_option = s_on_option,
        .options_help =
            "  --algo ALGO          random, popularity, egreedy, egreedy-decay, ucb1,\n"
            "                       thompson, linucb, exp3, meta or meta-linucb\n"
            "                       (default thompson)\n"
            "  --epsilon E          egreedy: chance a slot is random (default 0.1)\n"
            "  --epsilon-c C        egreedy-decay: epsilon = min(1, C K / t) (default 1)\n"
            "  --ucb-c C            ucb1: mean + C sqrt(2 ln t / n) (default 1, Auer et al.)\n"
            "  --alpha A            linucb: confidence width (default 0.05)\n"
            "  --linucb-model M     linucb: disjoint (per item, x = [features, 1]) or\n"
            "                       shared (x = [features * embedding, 1]) (default disjoint)\n"
            "  --gamma G            exp3: uniform exploration share (default 0.1)\n"
            "  --eta H              exp3: learning rate, w *= exp(H r / p); 0 = gamma / K\n"
            "                       as published (default 0)\n"
            "  --bases LIST         meta, meta-linucb: base strategies, comma-separated,\n"
            "                       not exp3 (default egreedy-decay,thompson,linucb)\n"
            "  --meta-gamma G       meta: EXP3's gamma over the bases (default 0.1)\n"
            "  --meta-alpha A       meta-linucb: LinUCB's width over the bases (default 1)\n"
            "  --rerank M           none, mmr or dpp: re-rank the top --rerank-pool items for\n"
            "                       diversity (popularity, ucb1, thompson, linucb, meta*)\n"
            "  --rerank-lambda L    mmr: lambda, dpp: theta, in [0, 1]; 1 = relevance alone\n"
            "                       (default 0.5)\n"
            "  --rerank-pool N      candidates re-ranked, 1..1024 (default 50)\n"
            "  --propensity-draws R thompson: report ACT.propensity, a Monte Carlo estimate\n"
            "                       from R posterior redraws (costly: about R x items Beta\n"
            "                       draws per request); 0 = report none (default 0)\n"
            "  --learn-from SIGNAL  reward: each request's reward as the server sends it,\n"
            "                       after world.reward_sharing and the diversity bonus;\n"
            "                       clicks: the agent's own clicks (default reward)\n",
        .on_reset = s_on_reset,
        .on_step = s_on_step,
        .on_episode_end = s_on_episode_end,
    };
    state_t s = {.algo = BANDIT_THOMPSON, .max_id = -1};
    bandit_params_default(&s.params);
    /* small matrices and several agents per machine: one BLAS thread */
    openblas_set_num_threads(1);
    int status = agent_main(argc, argv, &spec, &s);
    bandit_destroy(&s.bandit);
    agent_shown_free(&s.shown);
    free(s.strategies);
    free(s.propensity);
    free(s.exposure);
    free(s.scratch);
    return status;
}
