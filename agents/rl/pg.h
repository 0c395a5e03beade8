/* Policy-gradient slates for recarena-pg (docs/agents.md): a softmax
 * policy over the live items whose logits are the items' embeddings
 * against a query vector that an MLP computes from the observation,
 *
 *     logit_i = e_i . q(s) / T,   q = actor MLP (obs_dim -> dim),
 *
 * slates drawn from it without replacement (Plackett-Luce: position j
 * takes item i with probability exp(logit_i) over the sum of exp(logit)
 * of the items not placed yet), and a one-step actor-critic (REINFORCE
 * with a learned state-value baseline V(s) and the TD(0) advantage
 *
 *     A = r + gamma (1 - done) V(s') - V(s)).
 *
 * Two ways to learn:
 *   on-policy  every transition is used once, just after it happened:
 *              loss = -A log P_PL(slate | s), averaged over the batch;
 *   replay     transitions are sampled from a buffer of past policies'
 *              data (the behaviour policy beta: the policy as it was when
 *              the slate was drawn), each slate item a_i with the
 *              per-item softmax pi(a_i | s) of the current policy:
 *              loss = -A sum_i w_i log pi(a_i | s), w_i held constant:
 *                none  w_i = 1
 *                is    w_i = min(pi(a_i)/beta(a_i), cap)
 *                topk  w_i = min(pi(a_i)/beta(a_i), cap) K (1 - pi(a_i))^(K-1)
 *              (Chen et al., WSDM 2019, "Top-K Off-Policy Correction for
 *              a REINFORCE Recommender System", eq. 3 and 6, with the
 *              capped weight of their section 4.3).
 *
 * Items are a catalog view (proto_items_t), borrowed for each call; a
 * transition's slate items that have retired when it is learned from
 * (or, with a topic restriction, are no longer candidates) are left out
 * of its log-probability. */
#ifndef RECARENA_PG_H
#define RECARENA_PG_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "proto/protocol.h"
#include "agents/nn/nn.h"
#include "core/pcg32.h"
#include "proto/codec.h"

#define PG_MAX_K 256 /* largest slate */

/* ---- the slate distribution (no state) -------------------------------- */

/* probs (n) = softmax(logits (n)), computed with the maximum subtracted. */
void pg_softmax(const float *logits, int n, float *probs);

/* log P_PL of drawing rows (k distinct indices into 0..n-1, in slate
 * order) from logits (n): sum_j [logit_{rows_j} - log sum_{i not in
 * rows_0..rows_{j-1}} exp(logit_i)]. When grad is not NULL, ADDS
 * scale * d log P / d logit into it, (n):
 *     d log P / d logit_i = [i in rows] - sum_{j : i not in rows_<j} p_j(i),
 * p_j the softmax over the items not yet placed at position j. 1 <= k <=
 * min(n, PG_MAX_K). Summed in double. */
double pg_slate_log_prob(const float *logits, int n, const int *rows, int k, float scale,
                         float *grad);

/* Draws k distinct rows from logits (n) by Plackett-Luce, one
 * pcg32_uniform_f draw per position, into rows (k). work: (n) floats of
 * scratch. 1 <= k <= n. */
void pg_sample_slate(const float *logits, int n, int k, pcg32_t *rng, float *work, int *rows);

typedef enum pg_correction {
    PG_CORRECTION_NONE = 0,
    PG_CORRECTION_IS = 1,
    PG_CORRECTION_TOPK = 2,
} pg_correction_t;

/* The weight w of one logged item under the correction (header comment):
 * pi and beta the target and behaviour probabilities of the item, k the
 * slate size, cap > 0 the largest importance ratio kept. beta <= 0 counts
 * as the ratio cap. */
float pg_item_weight(pg_correction_t correction, float pi, float beta, int k, float cap);

/* ---- the learner ------------------------------------------------------ */

typedef struct pg_config {
    int obs_dim;                /* observation width, >= 1 */
    int dim;                    /* item embedding width, >= 1 */
    int k;                      /* slate size, 1..PG_MAX_K */
    int hidden;                 /* units of each of the two ReLU layers (actor and critic) */
    int batch;                  /* transitions per update */
    int max_items;              /* most live items an update or an act sees */
    float lr;                   /* Adam learning rate of the actor */
    float critic_lr;            /* Adam learning rate of the critic */
    float gamma;                /* discount between a user's requests, [0, 1] */
    float temperature;          /* T > 0 of the logits */
    float clip;                 /* max global gradient norm */
    bool replay;                /* learn from a replay buffer (else on-policy) */
    pg_correction_t correction; /* replay only */
    float cap;                  /* largest importance ratio, > 0 */
    size_t buffer;              /* replay capacity, transitions */
    int n_topics; /* > 0: the observation ends with a one-hot topic (n_topics floats) and
                   * only that topic's items are candidates (every item when the topic has
                   * fewer than k live ones); 0: every item (default) */
} pg_config_t;

/* The documented defaults (docs/agents.md) for those sizes: hidden 64,
 * batch 32, max_items 4096, lr 1e-3, critic_lr 1e-3, gamma 0.9,
 * temperature 0.1, clip 10, on-policy, correction topk, cap 10, buffer
 * 20000, no topic restriction. */
void pg_config_default(pg_config_t *cfg, int obs_dim, int dim, int k);

typedef struct pg pg_t;

/* A learner with networks drawn from rng (borrowed). Caller owns the
 * result (pg_destroy); NULL on a bad config or out of memory. */
pg_t *pg_new(const pg_config_t *cfg, pcg32_t *rng);
void pg_destroy(pg_t **self_p);

/* Width of a transition row, tracker.h's layout with act_dim 2k and no
 * other agents: obs (obs_dim) | slate ids (k, as floats) | beta of each
 * slate item (k) | reward | next_obs (obs_dim) | done. */
int pg_row_width(const pg_config_t *cfg);

/* Draws a slate for obs (obs_dim) over items (1..max_items live, at
 * least k): ids (k) and each item's first-position probability under
 * the current policy, beta (k), to be logged with the transition.
 * Borrows rng. Returns 0, or -1 when items has fewer than k or more than
 * max_items items. */
int pg_act(pg_t *pg, const float *obs, const proto_items_t *items, pcg32_t *rng, int32_t *ids,
           float *beta);

/* Takes a transition row (pg_row_width floats, copied): on-policy it
 * waits for a batch; with replay it joins the buffer. Returns 0 or
 * ERR_ENOMEM (row dropped). */
int pg_push(pg_t *pg, const float *row);

/* One update when enough data are there (a full on-policy batch, which
 * it then clears; or a buffer holding a batch, sampled with rng): returns
 * 1 and the actor and critic losses before the step (either pointer may
 * be NULL), or 0 when there is not enough. */
int pg_train_step(pg_t *pg, const proto_items_t *items, pcg32_t *rng, float *actor_loss,
                  float *critic_loss);

/* The actor loss of rows (n, pg_row_width) with the advantages adv (n)
 * held fixed, as pg_train_step defines it for the configured mode; with
 * backward, also accumulates its gradient into the actor's parameter
 * gradients (not zeroed first). n <= batch. For tests: a finite-difference
 * check of this against nn_mlp_grads(pg_actor(pg)). */
double pg_actor_loss(pg_t *pg, const float *rows, int n, const proto_items_t *items,
                     const float *adv, bool backward);

/* The advantages adv (n) of rows (n, pg_row_width) under the critic:
 * r + gamma (1 - done) V(s') - V(s). */
void pg_advantages(pg_t *pg, const float *rows, int n, float *adv);

nn_mlp_t *pg_actor(pg_t *pg);  /* borrowed (tests) */
nn_mlp_t *pg_critic(pg_t *pg); /* borrowed (tests) */

#endif
