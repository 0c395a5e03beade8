/* Deep Q-learning (Mnih et al. 2015) with double Q targets (van Hasselt
 * et al. 2016), for the independent learner recarena-qlearn --algo dqn
 * (docs/agents.md): an MLP maps an observation to one value per action;
 * transitions go to a replay buffer; each training step samples a batch,
 * computes targets with a target network that is a copy of the online
 * one refreshed every target_every steps, and takes one Adam step on the
 * mean squared TD error of the actions taken, with the gradient clipped
 * by global norm.
 *
 *     dqn_config_t cfg;
 *     dqn_config_default(&cfg, obs_dim, n_actions);
 *     dqn_t *d = dqn_new(&cfg, rng);
 *     const float *q = dqn_q_values(d, obs, n);     obs: (n, obs_dim), q: (n, n_actions)
 *     dqn_push(d, row);                             row: (dqn_row_width(&cfg))
 *     dqn_train_step(d, rng, &loss);
 *     dqn_destroy(&d); */
#ifndef RECARENA_DQN_H
#define RECARENA_DQN_H

#include <stdbool.h>
#include <stddef.h>

#include "agents/nn/nn.h"
#include "core/err.h"
#include "core/pcg32.h"

/* Errors: 0 or a negative code of core/err.h, printed with err_str:
 * ERR_ENOMEM (allocation failed), ERR_EIO (a checkpoint could not be
 * written or read; the message in err says why). */

typedef struct dqn_config {
    int obs_dim;      /* observation width, >= 1 */
    int n_actions;    /* >= 1 */
    int hidden;       /* units of each of the two ReLU layers */
    int batch;        /* transitions per training step */
    int act_batch;    /* most observations per dqn_q_values call */
    float lr;         /* Adam learning rate */
    float gamma;      /* discount, [0, 1] */
    float clip;       /* max global gradient norm */
    int target_every; /* training steps between target network copies */
    size_t buffer;    /* replay capacity, transitions */
    bool double_q;    /* double Q target (else max over the target network) */
} dqn_config_t;

/* The documented defaults (docs/agents.md) for those sizes: hidden 64,
 * batch 64, act_batch 1024, lr 1e-3, gamma 0.95, clip 10, target_every
 * 100, buffer 100000, double_q true. */
void dqn_config_default(dqn_config_t *cfg, int obs_dim, int n_actions);

typedef struct dqn dqn_t;

/* A DQN with freshly initialised networks drawn from rng (borrowed) and
 * the target a copy of the online network. Caller owns the result
 * (dqn_destroy); NULL on a bad config or out of memory. */
dqn_t *dqn_new(const dqn_config_t *cfg, pcg32_t *rng);

/* Frees it and nulls *self_p; NULL and *self_p NULL are fine. */
void dqn_destroy(dqn_t **self_p);

/* Width of a transition row: obs (obs_dim) | action (1, as a float) |
 * reward | next_obs (obs_dim) | done -- tracker.h's layout with act_dim 1
 * and no other agents. */
int dqn_row_width(const dqn_config_t *cfg);

/* Q values of the online network: obs (n, obs_dim), 1 <= n <= act_batch;
 * returns (n, n_actions), borrowed until the next call on d. */
const float *dqn_q_values(dqn_t *d, const float *obs, int n);

/* Stores a transition row (dqn_row_width floats), copied; 0, or ERR_ENOMEM
 * when the replay could not grow (the row is dropped). */
int dqn_push(dqn_t *d, const float *row);
size_t dqn_buffer_size(const dqn_t *d);

/* One training step when the buffer holds at least a batch: returns 1 and
 * the loss before the step in *loss (may be NULL), or 0 without enough
 * transitions. Borrows rng for the sampling. */
int dqn_train_step(dqn_t *d, pcg32_t *rng, float *loss);

/* The regression targets of a batch, targets (batch):
 *   y = r + gamma (1 - done) Q_target(s', a*),
 *   a* = argmax_a Q_online(s', a) with double_q, argmax_a Q_target(s', a)
 *   without (ties: the lowest action).
 * q_next_online, q_next_target: (batch, n_actions); reward, done: (batch). */
void dqn_targets(const float *q_next_online, const float *q_next_target, const float *reward,
                 const float *done, int batch, int n_actions, float gamma, bool double_q,
                 float *targets);

/* The online network, borrowed (tests, checkpoints). */
nn_mlp_t *dqn_online(dqn_t *d);

/* Saves the online network to path (nn_mlp_save), or loads it from path
 * and copies it into the target network. ERR_EIO with a message in err
 * (err_len bytes) on failure; a failed load changes nothing. */
int dqn_save(const dqn_t *d, const char *path, char *err, size_t err_len);
int dqn_load(dqn_t *d, const char *path, char *err, size_t err_len);

#endif
