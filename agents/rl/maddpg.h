/* MADDPG (Lowe et al. 2017), one agent's learner, as in the reference
 * code (openai/maddpg, maddpg/trainer/maddpg.py), for recarena-maddpg
 * (docs/agents.md):
 *
 * - the actor sees only the agent's own observation o; its network
 *   outputs z (linear) and the action is the unit vector mu(o) = z / |z|:
 *   here a query in item-embedding space, where the items are unit
 *   vectors too and only a query's direction ranks them;
 * - the critic Q(o, a, a_others) sees the observation and every agent's
 *   action (n_others > 0), or only the agent's own (n_others = 0: the
 *   reference code's local_q_func, an independent DDPG);
 * - target networks for both, updated softly with tau;
 * - one training step samples a batch of aligned joint transitions, fits
 *   the critic to y = r + gamma (1 - done) Q'(o', mu'(o'), a'_others),
 *   then moves the actor up the critic's gradient, -mean Q(o, mu(o),
 *   a_others) + action_reg * mean(z^2), each with Adam and gradient
 *   clipping by global norm, and soft-updates both targets.
 *
 * Deviations from the reference, each for a reason (docs/agents.md has
 * the measurements): the other agents' next actions a'_others are those
 * they actually took at the next state (they live in other processes, so
 * their target policies are out of reach); the action is normalised
 * rather than squashed by tanh, because with tanh the agents learned far
 * more slowly here (below random after the few hundred training steps of
 * the integration test, where unit queries reach 1.6 times random); the
 * regulariser on z is the reference's p_reg on the policy's
 * pre-activation output.
 *
 *     maddpg_config_t cfg;
 *     maddpg_config_default(&cfg, obs_dim, act_dim, n_others);
 *     maddpg_t *m = maddpg_new(&cfg, rng);
 *     const float *a = maddpg_act(m, obs, n);       obs: (n, obs_dim), a: (n, act_dim)
 *     maddpg_push(m, row);                          row: (maddpg_row_width(&cfg))
 *     maddpg_train_step(m, rng, &stats);
 *     maddpg_destroy(&m); */
#ifndef RECARENA_MADDPG_H
#define RECARENA_MADDPG_H

#include <stddef.h>

#include "agents/nn/nn.h"
#include "core/err.h"
#include "core/pcg32.h"

/* Errors: 0 or a negative code of core/err.h, printed with err_str:
 * ERR_ENOMEM (allocation failed), ERR_EIO (a checkpoint could not be
 * written or read; the message in err says why). */

typedef struct maddpg_config {
    int obs_dim;    /* observation width, >= 1 */
    int act_dim;    /* action width (every agent's), >= 1 */
    int n_others;   /* other agents' actions in the critic; 0 = local critic */
    int hidden;     /* units of each of the two ReLU layers (both networks) */
    int batch;      /* transitions per training step */
    int act_batch;  /* most observations per maddpg_act call */
    float lr_actor; /* Adam learning rates */
    float lr_critic;
    float gamma;      /* discount, [0, 1] */
    float tau;        /* soft target update rate, [0, 1] */
    float clip;       /* max global gradient norm, both networks */
    float action_reg; /* weight of mean(z^2) in the actor loss, >= 0 */
    size_t buffer;    /* replay capacity, transitions */
    /* Columns [actor_hide_from, actor_hide_from + actor_hide_n) of the
     * observation are zeros for the actor and its target, not for the
     * critic: the actor acts on its own part of what the critic sees
     * (centralized training, decentralized execution). 0, 0: none. */
    int actor_hide_from, actor_hide_n;
} maddpg_config_t;

/* The reference hyper-parameters (docs/agents.md): hidden 64, batch 1024,
 * act_batch 1024, lr 1e-2 for both networks, gamma 0.95, tau 0.01, clip
 * 0.5, action_reg 1e-3, buffer 1000000; the actor sees all of the
 * observation. */
void maddpg_config_default(maddpg_config_t *cfg, int obs_dim, int act_dim, int n_others);

typedef struct maddpg maddpg_t;

/* A learner with fresh networks drawn from rng (borrowed), targets copied
 * from them. Caller owns the result (maddpg_destroy); NULL on a bad
 * config or out of memory. */
maddpg_t *maddpg_new(const maddpg_config_t *cfg, pcg32_t *rng);

/* Frees it and nulls *self_p; NULL and *self_p NULL are fine. */
void maddpg_destroy(maddpg_t **self_p);

/* Width of the critic's input: obs_dim + (1 + n_others) * act_dim. */
int maddpg_critic_in(const maddpg_config_t *cfg);

/* Width of a transition row, tracker.h's layout: obs | act | others
 * (n_others * act_dim) | reward | next_obs | next_others | done. Its
 * first maddpg_critic_in floats are the critic's input. */
int maddpg_row_width(const maddpg_config_t *cfg);

/* The actor's actions mu(obs), unit vectors: obs (n, obs_dim), 1 <= n
 * <= act_batch; returns (n, act_dim), borrowed until the next call on m. */
const float *maddpg_act(maddpg_t *m, const float *obs, int n);

/* Stores a transition row (maddpg_row_width floats), copied; 0, or
 * ERR_ENOMEM when the replay could not grow (the row is dropped). */
int maddpg_push(maddpg_t *m, const float *row);
size_t maddpg_buffer_size(const maddpg_t *m);

/* What a training step reports. */
typedef struct maddpg_stats {
    float critic_loss; /* MSE of Q against y, before the step */
    float mean_q;      /* mean Q(o, mu(o), a_others) before the actor step */
} maddpg_stats_t;

/* One training step (critic, actor, targets) on a batch sampled with rng
 * (borrowed), when the buffer holds at least a batch: returns 1 and fills
 * stats (may be NULL), or 0 without enough transitions. */
int maddpg_train_step(maddpg_t *m, pcg32_t *rng, maddpg_stats_t *stats);

/* The online networks, borrowed (tests, checkpoints). The actor network
 * outputs z; the action is z / |z|. */
nn_mlp_t *maddpg_actor(maddpg_t *m);
nn_mlp_t *maddpg_critic(maddpg_t *m);

/* Saves the online actor and critic to two files (nn_mlp_save), or loads
 * them and copies them into the targets. ERR_EIO with a message in
 * err on failure. A failed load leaves the online networks as they were
 * and resets the targets to copies of them (loading is meant for the
 * start, when they are copies anyway). */
int maddpg_save(const maddpg_t *m, const char *actor_path, const char *critic_path, char *err,
                size_t err_len);
int maddpg_load(maddpg_t *m, const char *actor_path, const char *critic_path, char *err,
                size_t err_len);

#endif
