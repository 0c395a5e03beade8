/* Multi-armed bandit cores for recommending slates: random, popularity,
 * epsilon-greedy (fixed and decaying), UCB1, Thompson sampling
 * (Beta-Bernoulli), LinUCB (contextual), EXP3, and two meta-bandits that
 * pick, per request, which base strategy fills the slate (EXP3 over the
 * bases, or LinUCB over them on the user's features). Plain
 * functions with no networking, so that they are unit-tested against
 * bandit theory (tests/unit/test_bandit.c) and driven by the agent
 * process (agents/bandit_agent.c). docs/agents.md has each formula.
 *
 * Arms are items, named by their id (>= 0). Arms come and go while the
 * bandit runs (bandit_add_arm, bandit_retire_arm, bandit_sync): a new arm
 * starts with no statistics and is explored by every learning algorithm
 * (unplayed arms first for UCB1, the uniform prior for Thompson, the
 * uniform share of EXP3, the width of LinUCB's confidence ellipsoid, the
 * random slots of epsilon-greedy). A request is answered with a slate of
 * k distinct live arms, best first.
 *
 * Feedback is per request: the slate shown and the position clicked (-1
 * for none). Every item of the slate counts as one pull of its arm, with
 * reward 1 if it was the one clicked and 0 otherwise, whatever its
 * position. A pull is counted when the slate is chosen (bandit_select)
 * and its click when the feedback comes (bandit_update): in the world all
 * requests of a tick are answered before any of their feedback arrives,
 * and counting the impressions at once keeps an index policy from showing
 * one untried item to every user of the tick. With feedback after every
 * request (the unit tests) this is the textbook algorithm. LinUCB and
 * EXP3 learn only from feedback. docs/agents.md explains both choices.
 *
 * All randomness comes from the bandit's own PCG32 stream, so the same
 * seed and the same calls give the same slates. Nothing is thread-safe.
 *
 *     bandit_params_t p;
 *     bandit_params_default(&p);
 *     bandit_t *b = bandit_new(BANDIT_THOMPSON, &p, dim, seed);
 *     bandit_sync(b, n, ids, embeddings);           ids: (n), embeddings: (n, dim)
 *     bandit_select(b, n_req, contexts, k, slates, strategies);
 *                                                   contexts: (n_req, dim), slates: (n_req, k)
 *     bandit_update(b, context, slate, k, clicked, strategy);   per request, next tick
 *     bandit_destroy(&b); */
#ifndef RECARENA_BANDIT_H
#define RECARENA_BANDIT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "proto/protocol.h"
#include "agents/bandit/rerank.h"

/* Errors: 0 or a negative code of core/err.h, printed with err_str:
 * ERR_ENOMEM (allocation failed), ERR_EINVAL (bad argument), ERR_ELIMIT
 * (fewer live arms than the slate size). */

#define BANDIT_MAX_BASES            8      /* base strategies of a meta-bandit */
#define BANDIT_MAX_PROPENSITY_DRAWS 100000 /* params.propensity_draws */
/* Contexts, item ids and slates are bounded by protocol.h: PROTO_MAX_DIM,
 * PROTO_MAX_ITEM_IDS and PROTO_MAX_SLATE. */

typedef enum bandit_algo {
    BANDIT_RANDOM = 0,        /* k distinct live arms uniformly at random */
    BANDIT_POPULARITY = 1,    /* the k arms with most clicks so far */
    BANDIT_EGREEDY = 2,       /* epsilon-greedy, fixed epsilon */
    BANDIT_EGREEDY_DECAY = 3, /* epsilon-greedy, epsilon_t = min(1, c K / t) */
    BANDIT_UCB1 = 4,          /* mean + sqrt(2 ln t / n) */
    BANDIT_THOMPSON = 5,      /* argmax of theta ~ Beta(1 + clicks, 1 + misses) */
    BANDIT_LINUCB = 6,        /* theta.x + alpha sqrt(x' A^-1 x) */
    BANDIT_EXP3 = 7,          /* exponential weights, gamma-uniform exploration */
    BANDIT_META = 8,          /* EXP3 over base strategies, per request */
    BANDIT_META_LINUCB = 9,   /* LinUCB over base strategies on the user's features */
    BANDIT_N_ALGOS = 10,
} bandit_algo_t;

/* Parses an algorithm's name ("random", "popularity", "egreedy",
 * "egreedy-decay", "ucb1", "thompson", "linucb", "exp3", "meta",
 * "meta-linucb"); 0, or
 * ERR_EINVAL for an unknown name. */
int bandit_algo_parse(const char *name, bandit_algo_t *algo);
const char *bandit_algo_name(bandit_algo_t algo);

/* LinUCB's model (docs/agents.md compares them on the world):
 * DISJOINT: one ridge regression per arm on the user's features,
 *   x = [features, 1] (Li et al. 2010, Algorithm 1);
 * SHARED: one ridge regression for all arms on the elementwise product of
 *   the user's features and the item's embedding, x = [f * e, 1], so that
 *   what is learnt about one item carries to every other, new ones too. */
typedef enum bandit_linucb_model {
    BANDIT_LINUCB_DISJOINT = 0,
    BANDIT_LINUCB_SHARED = 1,
} bandit_linucb_model_t;

/* Hyper-parameters; bandit_params_default gives the documented defaults. */
typedef struct bandit_params {
    double epsilon;                     /* egreedy: chance that a slot is random; [0, 1] */
    double epsilon_c;                   /* egreedy-decay: c in min(1, c K / t); >= 0 */
    double ucb_c;                       /* ucb1: c in mean + c sqrt(2 ln t / n); >= 0 */
    double alpha;                       /* linucb: confidence width; >= 0 */
    bandit_linucb_model_t linucb_model; /* linucb: disjoint or shared */
    double gamma;                       /* exp3: uniform exploration share; (0, 1] */
    double eta;                         /* exp3: learning rate, w *= exp(eta r^); 0 = gamma / K */
    double meta_gamma;                  /* meta: EXP3's gamma over the bases; (0, 1] */
    double meta_alpha;                  /* meta-linucb: confidence width over the bases; >= 0 */
    uint32_t n_bases;                   /* meta, meta-linucb: 1..BANDIT_MAX_BASES */
    bandit_algo_t bases[BANDIT_MAX_BASES]; /* meta*: base strategies, not exp3 or meta* */
    /* Diversity re-ranking (rerank.h) of the slates of the algorithms whose
     * slate is the top k of an index: popularity, ucb1, thompson, linucb,
     * and those of a meta-bandit's bases; refused for the others. */
    rerank_method_t rerank; /* none, mmr or dpp */
    double rerank_lambda;   /* MMR's lambda, DPP's theta; [0, 1], 1 = relevance alone */
    uint32_t rerank_pool;   /* candidates: the top rerank_pool by the index; 1..RERANK_MAX_POOL */
    /* thompson: posterior redraws per propensity, 0..BANDIT_MAX_PROPENSITY_DRAWS; 0 = none */
    uint32_t propensity_draws;
} bandit_params_t;

/* epsilon 0.1, epsilon_c 1, ucb_c 1, alpha 0.05, linucb_model disjoint,
 * gamma 0.1, eta 0 (gamma / K), meta_gamma 0.1, meta_alpha 1, bases
 * {egreedy-decay, thompson, linucb}, rerank none, rerank_lambda 0.5,
 * rerank_pool 50, propensity_draws 0 (Thompson reports no propensities). */
void bandit_params_default(bandit_params_t *params);

/* Parses a comma-separated list of base algorithms for the meta-bandits
 * ("ucb1,thompson") into params->bases and n_bases; 0, or ERR_EINVAL
 * (an unknown name, exp3, meta or meta-linucb, a repeat, none or too many), leaving
 * params unchanged. */
int bandit_parse_bases(const char *list, bandit_params_t *params);

/* Checks every field's range for algo; 0 or ERR_EINVAL. */
int bandit_params_check(bandit_algo_t algo, const bandit_params_t *params);

typedef struct bandit bandit_t;

/* A bandit over no arms yet. dim: the width of contexts (user features)
 * and item embeddings, 1..PROTO_MAX_DIM. seed: its random stream.
 * Borrows params for the call. Caller owns the result (bandit_destroy);
 * NULL on bad parameters or out of memory. */
bandit_t *bandit_new(bandit_algo_t algo, const bandit_params_t *params, uint32_t dim,
                     uint64_t seed);

/* Frees it and nulls *self_p; NULL and *self_p NULL are fine. */
void bandit_destroy(bandit_t **self_p);

/* Makes item `id` a live arm with no statistics. embedding: (dim),
 * copied. 0, ERR_EINVAL (id out of [0, PROTO_MAX_ITEM_IDS) or already
 * live) or ERR_ENOMEM. */
int bandit_add_arm(bandit_t *b, int32_t id, const float *embedding);

/* Forgets arm `id`; nothing happens if it is not live. */
void bandit_retire_arm(bandit_t *b, int32_t id);

/* Makes the live arms exactly the n items ids (n) with embeddings (n,
 * dim): an arm whose id is live with an identical embedding keeps what
 * was learnt about it (the same item again, e.g. in the next episode of
 * a world whose initial catalog repeats); every other arm is retired or
 * started afresh. 0, ERR_EINVAL (a bad or repeated id) or
 * ERR_ENOMEM; on an error some arms may have changed. */
int bandit_sync(bandit_t *b, uint32_t n, const int32_t *ids, const float *embeddings);

uint32_t bandit_n_live(const bandit_t *b);

/* Fills one slate per request: slates (n, k), k distinct live arm ids per
 * row, best first. contexts: (n, dim) user features, read by LinUCB, by
 * meta-linucb and by a meta-bandit with a LinUCB base; may be NULL
 * otherwise.
 * strategies: (n), or NULL when the bandit is not a meta-bandit: which
 * base filled each row (0 for other bandits), to be handed back to
 * bandit_update. Each shown item counts as a pull at once, request by
 * request; its click comes later with bandit_update (see the top of this
 * file). 0, ERR_EINVAL (k = 0 or above PROTO_MAX_SLATE, or NULL where
 * needed), ERR_ELIMIT (fewer than k live arms) or ERR_ENOMEM. */
int bandit_select(bandit_t *b, uint32_t n, const float *contexts, uint32_t k, int32_t *slates,
                  uint8_t *strategies);

/* As bandit_select, and propensity: (n) or NULL, the probability of each
 * row's slate under the policy at the moment it was drawn, in (0, 1]
 * (docs/agents.md, "Propensities"): exact for random (1 / (N (N-1) ...
 * (N-k+1)) over N live arms), epsilon-greedy and its decaying form
 * (the product over slots of eps / (N - i) + (1 - eps) [the slot holds a
 * top remaining arm] / (number of top remaining arms)), EXP3 (draws
 * without replacement: the product of p(s_i) / (1 - sum_{j<i} p(s_j))),
 * and the top-k policies popularity, UCB1 and LinUCB (1 unless ties in
 * the index were broken at random, then the product of 1 / ties);
 * Thompson sampling's is a Monte Carlo estimate from
 * params.propensity_draws posterior redraws, (hits + 1) / (R + 1), drawn
 * from a stream of its own so the slates are those of bandit_select
 * (about R times N Beta draws per request when the slate is likely: opt
 * in). NaN (not known) for the meta-bandits, with re-ranking, and for
 * Thompson sampling with propensity_draws 0. The same seed
 * gives the same slates and propensities. Returns as bandit_select. */
int bandit_select_propensity(bandit_t *b, uint32_t n, const float *contexts, uint32_t k,
                             int32_t *slates, uint8_t *strategies, double *propensity);

/* True if bandit_select_propensity gives finite propensities: every
 * algorithm but the meta-bandits, without re-ranking, and Thompson
 * sampling only with params.propensity_draws > 0. */
bool bandit_knows_propensity(const bandit_t *b);

/* Learns from one request: the slate (k ids) shown for context (dim, or
 * NULL as for bandit_select) and the position clicked, -1 for none.
 * strategy: what bandit_select returned for the row (meta-bandit; else
 * ignored). Items that are no longer live are skipped. */
void bandit_update(bandit_t *b, const float *context, const int32_t *slate, uint32_t k,
                   int32_t clicked, uint8_t strategy);

/* As bandit_update, with a reward for the request instead of a click's 1:
 * the clicked item (clicked >= 0) gets all of it; with no click of its
 * own (a shared reward, a team bonus) every item of the slate gets
 * reward / k. Thompson sampling and EXP3 take rewards in [0, 1] (an arm's
 * reward is clamped there); the others any real. bandit_update(...,
 * clicked, s) is bandit_update_reward(..., clicked, clicked >= 0, s). */
void bandit_update_reward(bandit_t *b, const float *context, const int32_t *slate, uint32_t k,
                          int32_t clicked, double reward, uint8_t strategy);

/* EXP3's current probabilities, for inspection: for each live arm, its id
 * and p = (1 - gamma) w / sum(w) + gamma / K, the chance that it fills a
 * one-item slate. ids, probs: (cap). Returns the number of live arms
 * written (at most cap), or ERR_EINVAL if the bandit is not EXP3. */
int bandit_exp3_probabilities(bandit_t *b, uint32_t cap, int32_t *ids, double *probs);

/* A meta-bandit's probabilities of following each base: (n_bases), in the
 * order of params.bases. ERR_EINVAL if the bandit is not a meta (EXP3;
 * meta-linucb picks deterministically, its choices are bandit_select's
 * strategies). */
int bandit_meta_probabilities(const bandit_t *b, double *probs);

#endif
