/* Deep Q-learning with double Q targets on the nn module (dqn.h). */
#include "agents/rl/dqn.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "agents/rl/explore.h"
#include "agents/rl/replay.h"

struct dqn {
    dqn_config_t cfg;
    nn_mlp_t *online, *target;
    nn_adam_t *adam;
    replay_t *replay;
    long steps; /* training steps taken */
    /* scratch for one training step */
    float *rows;          /* (batch, width) */
    float *obs, *next;    /* (batch, obs_dim) */
    float *reward, *done; /* (batch) */
    float *q_next_online; /* (batch, n_actions) */
    float *targets;       /* (batch) */
    float *dq;            /* (batch, n_actions) */
};

void dqn_config_default(dqn_config_t *cfg, int obs_dim, int n_actions)
{
    *cfg = (dqn_config_t){
        .obs_dim = obs_dim,
        .n_actions = n_actions,
        .hidden = 64,
        .batch = 64,
        .act_batch = 1024,
        .lr = 1e-3f,
        .gamma = 0.95f,
        .clip = 10.0f,
        .target_every = 100,
        .buffer = 100000,
        .double_q = true,
    };
}

int dqn_row_width(const dqn_config_t *cfg)
{
    return 2 * cfg->obs_dim + 3;
}

static bool s_config_ok(const dqn_config_t *c)
{
    return c->obs_dim >= 1 && c->n_actions >= 1 && c->hidden >= 1 && c->batch >= 1 &&
           c->act_batch >= 1 && c->lr > 0.0f && c->gamma >= 0.0f && c->gamma <= 1.0f &&
           c->clip > 0.0f && c->target_every >= 1 && c->buffer >= 1 && c->batch <= NN_MAX_BATCH &&
           c->act_batch <= NN_MAX_BATCH && c->obs_dim <= NN_MAX_WIDTH &&
           c->n_actions <= NN_MAX_WIDTH && c->hidden <= NN_MAX_WIDTH;
}

dqn_t *dqn_new(const dqn_config_t *cfg, pcg32_t *rng)
{
    if (!s_config_ok(cfg))
        return NULL;
    dqn_t *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->cfg = *cfg;
    const int sizes[] = {cfg->obs_dim, cfg->hidden, cfg->hidden, cfg->n_actions};
    const nn_activation_t acts[] = {NN_RELU, NN_RELU, NN_LINEAR};
    int max_batch = cfg->batch > cfg->act_batch ? cfg->batch : cfg->act_batch;
    size_t b = (size_t)cfg->batch, na = (size_t)cfg->n_actions, od = (size_t)cfg->obs_dim;
    d->online = nn_mlp_new(3, sizes, acts, max_batch, rng);
    d->target = nn_mlp_new(3, sizes, acts, cfg->batch, NULL);
    d->replay = replay_new(cfg->buffer, dqn_row_width(cfg));
    d->rows = malloc(b * (size_t)dqn_row_width(cfg) * sizeof(float));
    d->obs = malloc(b * od * sizeof(float));
    d->next = malloc(b * od * sizeof(float));
    d->reward = malloc(b * sizeof(float));
    d->done = malloc(b * sizeof(float));
    d->q_next_online = malloc(b * na * sizeof(float));
    d->targets = malloc(b * sizeof(float));
    d->dq = malloc(b * na * sizeof(float));
    if (!d->online || !d->target || !d->replay || !d->rows || !d->obs || !d->next || !d->reward ||
        !d->done || !d->q_next_online || !d->targets || !d->dq)
        goto fail;
    d->adam = nn_adam_new(d->online, cfg->lr);
    if (!d->adam)
        goto fail;
    nn_mlp_copy(d->target, d->online);
    return d;
fail:
    dqn_destroy(&d);
    return NULL;
}

void dqn_destroy(dqn_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    dqn_t *d = *self_p;
    nn_mlp_destroy(&d->online);
    nn_mlp_destroy(&d->target);
    nn_adam_destroy(&d->adam);
    replay_destroy(&d->replay);
    free(d->rows);
    free(d->obs);
    free(d->next);
    free(d->reward);
    free(d->done);
    free(d->q_next_online);
    free(d->targets);
    free(d->dq);
    free(d);
    *self_p = NULL;
}

const float *dqn_q_values(dqn_t *d, const float *obs, int n)
{
    assert(n >= 1 && n <= d->cfg.act_batch);
    return nn_mlp_forward(d->online, obs, n);
}

int dqn_push(dqn_t *d, const float *row)
{
    return replay_push(d->replay, row);
}

size_t dqn_buffer_size(const dqn_t *d)
{
    return replay_size(d->replay);
}

void dqn_targets(const float *q_next_online, const float *q_next_target, const float *reward,
                 const float *done, int batch, int n_actions, float gamma, bool double_q,
                 float *targets)
{
    for (int i = 0; i < batch; i++) {
        const float *chooser = (double_q ? q_next_online : q_next_target) + (size_t)i * n_actions;
        int best = explore_argmax(chooser, n_actions);
        float next = q_next_target[(size_t)i * n_actions + best];
        targets[i] = reward[i] + gamma * (1.0f - done[i]) * next;
    }
}

int dqn_train_step(dqn_t *d, pcg32_t *rng, float *loss)
{
    const dqn_config_t *c = &d->cfg;
    if (replay_size(d->replay) < (size_t)c->batch)
        return 0;
    int width = dqn_row_width(c), od = c->obs_dim, na = c->n_actions, b = c->batch;
    replay_sample(d->replay, rng, b, d->rows);
    for (int i = 0; i < b; i++) {
        const float *row = d->rows + (size_t)i * width;
        memcpy(d->obs + (size_t)i * od, row, (size_t)od * sizeof(float));
        d->reward[i] = row[od + 1];
        memcpy(d->next + (size_t)i * od, row + od + 2, (size_t)od * sizeof(float));
        d->done[i] = row[width - 1];
    }
    if (c->double_q)
        memcpy(d->q_next_online, nn_mlp_forward(d->online, d->next, b),
               (size_t)b * na * sizeof(float));
    const float *q_next_target = nn_mlp_forward(d->target, d->next, b);
    dqn_targets(d->q_next_online, q_next_target, d->reward, d->done, b, na, c->gamma, c->double_q,
                d->targets);

    /* L = mean_i (Q(s_i, a_i) - y_i)^2; dL/dQ only in the column taken */
    const float *q = nn_mlp_forward(d->online, d->obs, b);
    memset(d->dq, 0, (size_t)b * na * sizeof(float));
    double sum = 0.0;
    for (int i = 0; i < b; i++) {
        int a = (int)d->rows[(size_t)i * width + od];
        assert(a >= 0 && a < na);
        float diff = q[(size_t)i * na + a] - d->targets[i];
        sum += (double)diff * diff;
        d->dq[(size_t)i * na + a] = 2.0f * diff / (float)b;
    }
    nn_mlp_zero_grad(d->online);
    nn_mlp_backward(d->online, d->dq, NULL);
    nn_mlp_clip_grad_norm(d->online, c->clip);
    nn_adam_step(d->adam, d->online);
    if (++d->steps % c->target_every == 0)
        nn_mlp_copy(d->target, d->online);
    if (loss)
        *loss = (float)(sum / b);
    return 1;
}

nn_mlp_t *dqn_online(dqn_t *d)
{
    return d->online;
}

int dqn_save(const dqn_t *d, const char *path, char *err, size_t err_len)
{
    return nn_mlp_save(d->online, path, err, err_len) == 0 ? 0 : ERR_EIO;
}

int dqn_load(dqn_t *d, const char *path, char *err, size_t err_len)
{
    if (nn_mlp_load(d->online, path, err, err_len) != 0)
        return ERR_EIO;
    nn_mlp_copy(d->target, d->online);
    return 0;
}
