/* One MADDPG agent's actor, critic, targets and replay (maddpg.h). */
#include "agents/rl/maddpg.h"

#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "agents/rl/replay.h"

struct maddpg {
    maddpg_config_t cfg;
    int critic_in, width;
    nn_mlp_t *actor, *critic, *actor_target, *critic_target;
    nn_adam_t *actor_adam, *critic_adam;
    replay_t *replay;
    /* scratch for one training step */
    float *rows;    /* (batch, width) */
    float *obs;     /* (batch, obs_dim) */
    float *cin;     /* (batch, critic_in) */
    float *dcin;    /* (batch, critic_in) */
    float *targets; /* (batch) */
    float *dq;      /* (batch) */
    float *da;      /* (batch, act_dim) */
    float *act;     /* (max(batch, act_batch), act_dim) normalised actions */
    float *norm;    /* (max(batch, act_batch)) |z| of each row */
    float *seen;    /* (max(batch, act_batch), obs_dim) what the actor sees, with actor_hide_n */
};

void maddpg_config_default(maddpg_config_t *cfg, int obs_dim, int act_dim, int n_others)
{
    *cfg = (maddpg_config_t){
        .obs_dim = obs_dim,
        .act_dim = act_dim,
        .n_others = n_others,
        .hidden = 64,
        .batch = 1024,
        .act_batch = 1024,
        .lr_actor = 1e-2f,
        .lr_critic = 1e-2f,
        .gamma = 0.95f,
        .tau = 0.01f,
        .clip = 0.5f,
        .action_reg = 1e-3f,
        .buffer = 1000000,
    };
}

int maddpg_critic_in(const maddpg_config_t *cfg)
{
    return cfg->obs_dim + (1 + cfg->n_others) * cfg->act_dim;
}

int maddpg_row_width(const maddpg_config_t *cfg)
{
    return 2 * cfg->obs_dim + cfg->act_dim + 2 * cfg->n_others * cfg->act_dim + 2;
}

static bool s_config_ok(const maddpg_config_t *c)
{
    return c->obs_dim >= 1 && c->act_dim >= 1 && c->n_others >= 0 && c->hidden >= 1 &&
           c->batch >= 1 && c->act_batch >= 1 && c->batch <= NN_MAX_BATCH &&
           c->act_batch <= NN_MAX_BATCH && c->lr_actor > 0.0f && c->lr_critic > 0.0f &&
           c->gamma >= 0.0f && c->gamma <= 1.0f && c->tau >= 0.0f && c->tau <= 1.0f &&
           c->clip > 0.0f && c->action_reg >= 0.0f && c->buffer >= 1 && c->hidden <= NN_MAX_WIDTH &&
           c->n_others < 64 && (long)c->obs_dim + (1L + c->n_others) * c->act_dim <= NN_MAX_WIDTH &&
           c->actor_hide_from >= 0 && c->actor_hide_n >= 0 &&
           c->actor_hide_from <= c->obs_dim - c->actor_hide_n;
}

maddpg_t *maddpg_new(const maddpg_config_t *cfg, pcg32_t *rng)
{
    if (!s_config_ok(cfg))
        return NULL;
    maddpg_t *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->cfg = *cfg;
    m->critic_in = maddpg_critic_in(cfg);
    m->width = maddpg_row_width(cfg);
    const int actor_sizes[] = {cfg->obs_dim, cfg->hidden, cfg->hidden, cfg->act_dim};
    const nn_activation_t actor_acts[] = {NN_RELU, NN_RELU, NN_LINEAR};
    const int critic_sizes[] = {m->critic_in, cfg->hidden, cfg->hidden, 1};
    const nn_activation_t critic_acts[] = {NN_RELU, NN_RELU, NN_LINEAR};
    int act_max = cfg->batch > cfg->act_batch ? cfg->batch : cfg->act_batch;
    size_t b = (size_t)cfg->batch;
    m->actor = nn_mlp_new(3, actor_sizes, actor_acts, act_max, rng);
    m->critic = nn_mlp_new(3, critic_sizes, critic_acts, cfg->batch, rng);
    m->actor_target = nn_mlp_new(3, actor_sizes, actor_acts, cfg->batch, NULL);
    m->critic_target = nn_mlp_new(3, critic_sizes, critic_acts, cfg->batch, NULL);
    m->replay = replay_new(cfg->buffer, m->width);
    m->rows = malloc(b * (size_t)m->width * sizeof(float));
    m->obs = malloc(b * (size_t)cfg->obs_dim * sizeof(float));
    m->cin = malloc(b * (size_t)m->critic_in * sizeof(float));
    m->dcin = malloc(b * (size_t)m->critic_in * sizeof(float));
    m->targets = malloc(b * sizeof(float));
    m->dq = malloc(b * sizeof(float));
    m->da = malloc(b * (size_t)cfg->act_dim * sizeof(float));
    m->act = malloc((size_t)act_max * (size_t)cfg->act_dim * sizeof(float));
    m->norm = malloc((size_t)act_max * sizeof(float));
    m->seen = malloc((size_t)act_max * (size_t)cfg->obs_dim * sizeof(float));
    if (!m->act || !m->norm || !m->seen || !m->actor || !m->critic || !m->actor_target ||
        !m->critic_target || !m->replay || !m->rows || !m->obs || !m->cin || !m->dcin ||
        !m->targets || !m->dq || !m->da)
        goto fail;
    m->actor_adam = nn_adam_new(m->actor, cfg->lr_actor);
    m->critic_adam = nn_adam_new(m->critic, cfg->lr_critic);
    if (!m->actor_adam || !m->critic_adam)
        goto fail;
    nn_mlp_copy(m->actor_target, m->actor);
    nn_mlp_copy(m->critic_target, m->critic);
    return m;
fail:
    maddpg_destroy(&m);
    return NULL;
}

void maddpg_destroy(maddpg_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    maddpg_t *m = *self_p;
    nn_mlp_destroy(&m->actor);
    nn_mlp_destroy(&m->critic);
    nn_mlp_destroy(&m->actor_target);
    nn_mlp_destroy(&m->critic_target);
    nn_adam_destroy(&m->actor_adam);
    nn_adam_destroy(&m->critic_adam);
    replay_destroy(&m->replay);
    free(m->rows);
    free(m->obs);
    free(m->seen);
    free(m->cin);
    free(m->dcin);
    free(m->targets);
    free(m->dq);
    free(m->da);
    free(m->act);
    free(m->norm);
    free(m);
    *self_p = NULL;
}

/* Smallest |z| normalised; a zero z (never seen in practice) maps to a
 * tiny vector rather than NaN. */
#define MADDPG_MIN_NORM 1e-6f

/* act (n, act_dim) = z / |z| row by row, |z| into norm (n). */
static void s_normalise(const float *z, int n, int dim, float *act, float *norm)
{
    for (int i = 0; i < n; i++) {
        const float *zi = z + (size_t)i * dim;
        double sum = 0.0;
        for (int j = 0; j < dim; j++)
            sum += (double)zi[j] * zi[j];
        float len = (float)sqrt(sum);
        if (len < MADDPG_MIN_NORM)
            len = MADDPG_MIN_NORM;
        norm[i] = len;
        for (int j = 0; j < dim; j++)
            act[(size_t)i * dim + j] = zi[j] / len;
    }
}

/* The actor's actions for obs (n rows) into m->act, the hidden columns
 * zeroed first; the network keeps z. */
static const float *s_actions(maddpg_t *m, nn_mlp_t *actor, const float *obs, int n)
{
    const maddpg_config_t *c = &m->cfg;
    if (c->actor_hide_n > 0) {
        memcpy(m->seen, obs, (size_t)n * (size_t)c->obs_dim * sizeof *obs);
        for (int i = 0; i < n; i++)
            memset(m->seen + (size_t)i * (size_t)c->obs_dim + c->actor_hide_from, 0,
                   (size_t)c->actor_hide_n * sizeof *obs);
        obs = m->seen;
    }
    s_normalise(nn_mlp_forward(actor, obs, n), n, c->act_dim, m->act, m->norm);
    return m->act;
}

const float *maddpg_act(maddpg_t *m, const float *obs, int n)
{
    assert(n >= 1 && n <= m->cfg.act_batch);
    return s_actions(m, m->actor, obs, n);
}

int maddpg_push(maddpg_t *m, const float *row)
{
    return replay_push(m->replay, row);
}

size_t maddpg_buffer_size(const maddpg_t *m)
{
    return replay_size(m->replay);
}

/* cin rows <- (obs, act, others) with act (batch, act_dim) spliced in;
 * obs and others taken from the sampled rows at offsets obs_at and
 * others_at. */
static void s_critic_input(maddpg_t *m, int obs_at, const float *act, int others_at)
{
    const maddpg_config_t *c = &m->cfg;
    size_t od = (size_t)c->obs_dim, ad = (size_t)c->act_dim, on = (size_t)c->n_others * ad;
    for (int i = 0; i < c->batch; i++) {
        const float *row = m->rows + (size_t)i * m->width;
        float *in = m->cin + (size_t)i * m->critic_in;
        memcpy(in, row + obs_at, od * sizeof *in);
        memcpy(in + od, act + (size_t)i * ad, ad * sizeof *in);
        memcpy(in + od + ad, row + others_at, on * sizeof *in);
    }
}

int maddpg_train_step(maddpg_t *m, pcg32_t *rng, maddpg_stats_t *stats)
{
    const maddpg_config_t *c = &m->cfg;
    if (replay_size(m->replay) < (size_t)c->batch)
        return 0;
    int b = c->batch, od = c->obs_dim, ad = c->act_dim, on = c->n_others * ad;
    /* row offsets: obs | act | others | reward | next_obs | next_others | done */
    int reward_at = od + ad + on, next_at = reward_at + 1, next_others_at = next_at + od;
    replay_sample(m->replay, rng, b, m->rows);

    /* critic targets: y = r + gamma (1 - done) Q'(o', mu'(o'), a'_others) */
    for (int i = 0; i < b; i++)
        memcpy(m->obs + (size_t)i * od, m->rows + (size_t)i * m->width + next_at,
               (size_t)od * sizeof(float));
    const float *next_act = s_actions(m, m->actor_target, m->obs, b);
    s_critic_input(m, next_at, next_act, next_others_at);
    const float *q_next = nn_mlp_forward(m->critic_target, m->cin, b);
    for (int i = 0; i < b; i++) {
        const float *row = m->rows + (size_t)i * m->width;
        m->targets[i] = row[reward_at] + c->gamma * (1.0f - row[m->width - 1]) * q_next[i];
    }

    /* critic step on the sampled (o, a, a_others) */
    for (int i = 0; i < b; i++)
        memcpy(m->cin + (size_t)i * m->critic_in, m->rows + (size_t)i * m->width,
               (size_t)m->critic_in * sizeof(float));
    const float *q = nn_mlp_forward(m->critic, m->cin, b);
    double loss = nn_mse_loss(q, m->targets, b, 1, m->dq);
    nn_mlp_zero_grad(m->critic);
    nn_mlp_backward(m->critic, m->dq, NULL);
    nn_mlp_clip_grad_norm(m->critic, c->clip);
    nn_adam_step(m->critic_adam, m->critic);

    /* actor step: L = -mean Q(o, mu(o), a_others) + action_reg mean(z^2),
     * mu(o) = z / |z| */
    for (int i = 0; i < b; i++)
        memcpy(m->obs + (size_t)i * od, m->rows + (size_t)i * m->width, (size_t)od * sizeof(float));
    const float *act = s_actions(m, m->actor, m->obs, b);
    s_critic_input(m, 0, act, od + ad);
    q = nn_mlp_forward(m->critic, m->cin, b);
    double mean_q = 0.0;
    for (int i = 0; i < b; i++) {
        mean_q += q[i];
        m->dq[i] = -1.0f / (float)b;
    }
    nn_mlp_input_grad(m->critic, m->dq, m->dcin);
    /* through the normalisation: dL/dz = (g - (g . a) a) / |z|, plus the
     * regulariser's 2 action_reg z / (batch act_dim), z = |z| a */
    float reg = 2.0f * c->action_reg / ((float)b * (float)ad);
    for (int i = 0; i < b; i++) {
        const float *g = m->dcin + (size_t)i * m->critic_in + od;
        const float *a = act + (size_t)i * ad;
        double ga = 0.0;
        for (int j = 0; j < ad; j++)
            ga += (double)g[j] * a[j];
        for (int j = 0; j < ad; j++)
            m->da[(size_t)i * ad + j] =
                (g[j] - (float)ga * a[j]) / m->norm[i] + reg * m->norm[i] * a[j];
    }
    nn_mlp_zero_grad(m->actor);
    nn_mlp_backward(m->actor, m->da, NULL);
    nn_mlp_clip_grad_norm(m->actor, c->clip);
    nn_adam_step(m->actor_adam, m->actor);

    nn_mlp_soft_update(m->actor_target, m->actor, c->tau);
    nn_mlp_soft_update(m->critic_target, m->critic, c->tau);
    if (stats) {
        stats->critic_loss = (float)loss;
        stats->mean_q = (float)(mean_q / b);
    }
    return 1;
}

nn_mlp_t *maddpg_actor(maddpg_t *m)
{
    return m->actor;
}

nn_mlp_t *maddpg_critic(maddpg_t *m)
{
    return m->critic;
}

int maddpg_save(const maddpg_t *m, const char *actor_path, const char *critic_path, char *err,
                size_t err_len)
{
    if (nn_mlp_save(m->actor, actor_path, err, err_len) != 0 ||
        nn_mlp_save(m->critic, critic_path, err, err_len) != 0)
        return ERR_EIO;
    return 0;
}

int maddpg_load(maddpg_t *m, const char *actor_path, const char *critic_path, char *err,
                size_t err_len)
{
    /* into the targets first, so that a failure leaves the online networks
     * whole; the targets are copies of them and are restored */
    int rc = ERR_EIO;
    if (nn_mlp_load(m->actor_target, actor_path, err, err_len) != 0)
        goto restore;
    if (nn_mlp_load(m->critic_target, critic_path, err, err_len) != 0)
        goto restore;
    nn_mlp_copy(m->actor, m->actor_target);
    nn_mlp_copy(m->critic, m->critic_target);
    return 0;
restore:
    nn_mlp_copy(m->actor_target, m->actor);
    nn_mlp_copy(m->critic_target, m->critic);
    return rc;
}
