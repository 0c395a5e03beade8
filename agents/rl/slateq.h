/* SlateQ (Ie et al., IJCAI 2019, "SlateQ: A Tractable Decomposition for
 * Reinforcement Learning with Recommendation Sets") for recarena-slateq
 * (docs/agents.md). The value of a slate A in state s decomposes into
 * item values weighted by the user's choice probabilities:
 *
 *     Q(s, A) = sum_{i in A} P(i | s, A) Qbar(s, i) + P(none | s, A) Qbar(s, none)
 *
 * with a conditional-logit choice model that the agent fits to its own
 * clicks (the paper's section 3, "user choice model"):
 *
 *     v(s, i) = exp(w . phi(s, i)),  phi(s, i) = (f ⊙ e_i, h_topic(i), 1),
 *     v(s, none) = 1,  P(i | s, A) = v(s, i) / (1 + sum_{j in A} v(s, j)),
 *
 * f the user's public features, e_i the item's embedding, h_topic(i) the
 * share of the item's topic among the user's recent items (observe.h),
 * fitted by one SGD step on -log P(choice) per observed page. Qbar is an
 * MLP over (observation, item descriptor) trained by SARSA on the item
 * that was consumed (or "none"), as in the paper's section 4.2:
 *
 *     Qbar(s, c) <- r + gamma (1 - done) Q_target(s', A'),
 *
 * A' the slate the agent showed the same user next. Slates are chosen by
 * the paper's top-k method (the k items of highest v(s, i) Qbar(s, i)) or
 * its greedy method (add the item that most raises Q(s, A), k times).
 *
 * An item descriptor is dim + 2 floats: (e_i (dim), h_topic(i), 0), and
 * "none" is (0 (dim), 0, 1). */
#ifndef RECARENA_SLATEQ_H
#define RECARENA_SLATEQ_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "proto/protocol.h"
#include "agents/nn/nn.h"
#include "core/pcg32.h"

#define SLATEQ_MAX_K 256

/* ---- the choice model and slate optimisation (no state) --------------- */

/* Width of phi and of w: dim + 2. */
int slateq_choice_width(int dim);

/* v (n) = exp(w . phi(s, i)) for descriptors desc (n, dim + 2) of a user
 * with features f (dim); w (dim + 2). */
void slateq_attractions(const float *w, const float *f, int dim, const float *desc, int n,
                        float *v);

/* probs (k + 1) = P(i | s, A) for the k items of a slate with
 * attractions v (k), then P(none). */
void slateq_choice_probs(const float *v, int k, float *probs);

/* One SGD step of rate lr on -log P(clicked | s, A): w -= lr sum_j
 * (P_j - [j = clicked]) phi_j over the k items (clicked -1: none was
 * chosen). f (dim), desc (k, dim + 2). Returns -log P(clicked) before
 * the step. */
double slateq_choice_update(float *w, const float *f, int dim, const float *desc, int k,
                            int clicked, float lr);

/* Q(s, A) = sum_i probs_i q_i + probs_k q_none, probs as
 * slateq_choice_probs gives them, q (k). */
double slateq_slate_value(const float *probs, const float *q, int k, float q_none);

/* Top-k: rows (k) of the k largest v_i q_i among n, best first, ties to
 * the lower row. k <= n. */
void slateq_top_k(const float *v, const float *q, int n, int k, int *rows);

/* Greedy: k times, add the row that maximises (v0 q_none + sum v q) /
 * (v0 + sum v) over the slate so far plus it (v0 = 1, the no-click
 * attraction); ties to the lower row. k <= n. */
void slateq_greedy(const float *v, const float *q, float q_none, int n, int k, int *rows);

/* ---- the learner ------------------------------------------------------ */

typedef struct slateq_config {
    int obs_dim;      /* observation width (observe.h: features first), >= dim */
    int dim;          /* item embedding width, >= 1 */
    int k;            /* slate size, 1..SLATEQ_MAX_K */
    int hidden;       /* units of each of the two ReLU layers */
    int batch;        /* transitions per training step */
    int max_items;    /* most items scored per slateq_item_values call */
    float lr;         /* Adam learning rate of Qbar */
    float gamma;      /* discount, [0, 1]; 0 is the myopic agent */
    float clip;       /* max global gradient norm */
    float choice_lr;  /* SGD rate of the choice model */
    int target_every; /* training steps between target network copies */
    size_t buffer;    /* replay capacity, transitions */
    bool greedy;      /* greedy slate optimisation (else top-k) */
} slateq_config_t;

/* Defaults (docs/agents.md): hidden 64, batch 64, max_items 4096, lr
 * 1e-3, gamma 0.9, clip 10, choice_lr 0.05, target_every 100, buffer
 * 50000, top-k. */
void slateq_config_default(slateq_config_t *cfg, int obs_dim, int dim, int k);

typedef struct slateq slateq_t;

/* Networks drawn from rng (borrowed), the choice weights 0. Caller owns
 * the result (slateq_destroy); NULL on a bad config or out of memory. */
slateq_t *slateq_new(const slateq_config_t *cfg, pcg32_t *rng);
void slateq_destroy(slateq_t **self_p);

/* Width of a transition row: obs (obs_dim) | the consumed item's
 * descriptor (dim + 2; "none" when nothing was clicked) | reward |
 * next_obs (obs_dim) | next slate's descriptors (k, dim + 2) | done. */
int slateq_row_width(const slateq_config_t *cfg);

/* The choice weights w (dim + 2), borrowed (tests may write them). */
float *slateq_choice_weights(slateq_t *sq);

/* Qbar(s, i) of the online network for n descriptors (n, dim + 2), 1 <=
 * n <= max_items, obs (obs_dim); the last row may be "none". Returns (n),
 * borrowed until the next call on sq. */
const float *slateq_item_values(slateq_t *sq, const float *obs, const float *desc, int n);

/* The slate for obs among n >= k candidates desc (n, dim + 2): rows (k)
 * by top-k or greedy on Qbar and the choice model. */
void slateq_select(slateq_t *sq, const float *obs, const float *desc, int n, int *rows);

/* Fits the choice model to one page: the k descriptors shown, the
 * position clicked (-1: none). Returns the negative log-likelihood
 * before the step. */
double slateq_observe_choice(slateq_t *sq, const float *obs, const float *desc, int clicked);

/* Stores a transition row (slateq_row_width floats), copied; 0 or
 * ERR_ENOMEM (dropped). */
int slateq_push(slateq_t *sq, const float *row);
size_t slateq_buffer_size(const slateq_t *sq);

/* SARSA targets of rows (n, slateq_row_width) under the target network
 * and the current choice model: y = r + gamma (1 - done) Q_target(s',
 * A'). n <= batch. */
void slateq_targets(slateq_t *sq, const float *rows, int n, float *y);

/* One training step when the buffer holds a batch: returns 1 and the
 * loss before the step in *loss (may be NULL), or 0. Borrows rng. */
int slateq_train_step(slateq_t *sq, pcg32_t *rng, float *loss);

nn_mlp_t *slateq_online(slateq_t *sq); /* borrowed (tests) */
nn_mlp_t *slateq_target(slateq_t *sq); /* borrowed (tests) */

#endif
