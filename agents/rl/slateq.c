/* SlateQ: decomposed slate values, a conditional-logit choice model and
 * SARSA on the item values (slateq.h). */
#include "agents/rl/slateq.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agents/rl/replay.h"

struct slateq {
    slateq_config_t cfg;
    int desc_w; /* dim + 2 */
    int in_w;   /* obs_dim + dim + 2: Qbar's input */
    int width;  /* transition row */
    nn_mlp_t *online, *target;
    nn_adam_t *adam;
    replay_t *replay;
    float *w;     /* (dim + 2) choice weights */
    float *input; /* (max(batch * (k + 1), max_items), in_w) */
    float *rows;  /* (batch, width) */
    float *y;     /* (batch) */
    float *dpred; /* (batch) */
    float *v;     /* (max_items) */
    float *q;     /* (max_items) */
    long steps;
};

int slateq_choice_width(int dim)
{
    return dim + 2;
}

static float s_utility(const float *w, const float *f, int dim, const float *d)
{
    float u = w[dim + 1]; /* the constant feature */
    for (int j = 0; j < dim; j++)
        u += w[j] * f[j] * d[j];
    return u + w[dim] * d[dim];
}

void slateq_attractions(const float *w, const float *f, int dim, const float *desc, int n, float *v)
{
    for (int i = 0; i < n; i++) {
        float u = s_utility(w, f, dim, desc + (size_t)i * (dim + 2));
        v[i] = expf(u > 60.0f ? 60.0f : u); /* bounded: a diverging fit cannot give inf */
    }
}

void slateq_choice_probs(const float *v, int k, float *probs)
{
    double sum = 1.0;
    for (int i = 0; i < k; i++)
        sum += v[i];
    for (int i = 0; i < k; i++)
        probs[i] = (float)(v[i] / sum);
    probs[k] = (float)(1.0 / sum);
}

double slateq_choice_update(float *w, const float *f, int dim, const float *desc, int k,
                            int clicked, float lr)
{
    float v[SLATEQ_MAX_K], p[SLATEQ_MAX_K + 1];
    slateq_attractions(w, f, dim, desc, k, v);
    slateq_choice_probs(v, k, p);
    double nll = -log((double)p[clicked >= 0 ? clicked : k]);
    /* d(-log P_c)/dw = sum_j P_j phi_j - phi_c (phi_none = 0) */
    float g[SLATEQ_MAX_K + 2] = {0};
    for (int i = 0; i < k; i++) {
        const float *d = desc + (size_t)i * (dim + 2);
        float c = p[i] - (i == clicked ? 1.0f : 0.0f);
        for (int j = 0; j < dim; j++)
            g[j] += c * f[j] * d[j];
        g[dim] += c * d[dim];
        g[dim + 1] += c;
    }
    for (int j = 0; j < dim + 2; j++)
        w[j] -= lr * g[j];
    return nll;
}

double slateq_slate_value(const float *probs, const float *q, int k, float q_none)
{
    double value = (double)probs[k] * q_none;
    for (int i = 0; i < k; i++)
        value += (double)probs[i] * q[i];
    return value;
}

void slateq_top_k(const float *v, const float *q, int n, int k, int *rows)
{
    int len = 0;
    for (int i = 0; i < n; i++) {
        float s = v[i] * q[i];
        int at = len;
        if (len == k) {
            if (!(s > v[rows[k - 1]] * q[rows[k - 1]]))
                continue;
            at = k - 1;
        } else {
            len++;
        }
        while (at > 0 && s > v[rows[at - 1]] * q[rows[at - 1]]) {
            rows[at] = rows[at - 1];
            at--;
        }
        rows[at] = i;
    }
}

void slateq_greedy(const float *v, const float *q, float q_none, int n, int k, int *rows)
{
    double num = q_none, den = 1.0; /* v(none) = 1 */
    for (int j = 0; j < k; j++) {
        int best = -1;
        double best_value = -INFINITY;
        for (int i = 0; i < n; i++) {
            bool used = false;
            for (int jj = 0; jj < j; jj++)
                used = used || rows[jj] == i;
            if (used)
                continue;
            double value = (num + (double)v[i] * q[i]) / (den + v[i]);
            if (value > best_value) {
                best_value = value;
                best = i;
            }
        }
        rows[j] = best;
        num += (double)v[best] * q[best];
        den += v[best];
    }
}

void slateq_config_default(slateq_config_t *cfg, int obs_dim, int dim, int k)
{
    *cfg = (slateq_config_t){
        .obs_dim = obs_dim,
        .dim = dim,
        .k = k,
        .hidden = 64,
        .batch = 64,
        .max_items = 4096,
        .lr = 1e-3f,
        .gamma = 0.9f,
        .clip = 10.0f,
        .choice_lr = 0.05f,
        .target_every = 100,
        .buffer = 50000,
        .greedy = false,
    };
}

int slateq_row_width(const slateq_config_t *cfg)
{
    int d = cfg->dim + 2;
    return cfg->obs_dim + d + 1 + cfg->obs_dim + cfg->k * d + 1;
}

slateq_t *slateq_new(const slateq_config_t *cfg, pcg32_t *rng)
{
    if (cfg->dim < 1 || cfg->obs_dim < cfg->dim || cfg->k < 1 || cfg->k > SLATEQ_MAX_K ||
        cfg->hidden < 1 || cfg->batch < 1 || cfg->max_items < cfg->k + 1 || !(cfg->lr > 0.0f) ||
        !(cfg->gamma >= 0.0f && cfg->gamma <= 1.0f) || !(cfg->clip > 0.0f) ||
        !(cfg->choice_lr >= 0.0f) || cfg->target_every < 1 || cfg->buffer < 1)
        return NULL;
    slateq_t *sq = calloc(1, sizeof *sq);
    if (!sq)
        return NULL;
    sq->cfg = *cfg;
    sq->desc_w = cfg->dim + 2;
    sq->in_w = cfg->obs_dim + sq->desc_w;
    sq->width = slateq_row_width(cfg);
    int rows = cfg->batch * (cfg->k + 1);
    if (rows < cfg->max_items)
        rows = cfg->max_items;
    const int sizes[] = {sq->in_w, cfg->hidden, cfg->hidden, 1};
    const nn_activation_t acts[] = {NN_RELU, NN_RELU, NN_LINEAR};
    sq->online = nn_mlp_new(3, sizes, acts, rows, rng);
    sq->target = nn_mlp_new(3, sizes, acts, rows, NULL);
    if (sq->online && sq->target) {
        nn_mlp_copy(sq->target, sq->online);
        sq->adam = nn_adam_new(sq->online, cfg->lr);
    }
    sq->replay = replay_new(cfg->buffer, sq->width);
    sq->w = calloc(sq->desc_w, sizeof *sq->w);
    sq->input = malloc((size_t)rows * sq->in_w * sizeof *sq->input);
    sq->rows = malloc((size_t)cfg->batch * sq->width * sizeof *sq->rows);
    sq->y = malloc((size_t)cfg->batch * sizeof *sq->y);
    sq->dpred = malloc((size_t)cfg->batch * sizeof *sq->dpred);
    sq->v = malloc((size_t)cfg->max_items * sizeof *sq->v);
    sq->q = malloc((size_t)cfg->max_items * sizeof *sq->q);
    if (!sq->adam || !sq->replay || !sq->w || !sq->input || !sq->rows || !sq->y || !sq->dpred ||
        !sq->v || !sq->q)
        slateq_destroy(&sq);
    return sq;
}

void slateq_destroy(slateq_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    slateq_t *sq = *self_p;
    nn_mlp_destroy(&sq->online);
    nn_mlp_destroy(&sq->target);
    nn_adam_destroy(&sq->adam);
    replay_destroy(&sq->replay);
    free(sq->w);
    free(sq->input);
    free(sq->rows);
    free(sq->y);
    free(sq->dpred);
    free(sq->v);
    free(sq->q);
    free(sq);
    *self_p = NULL;
}

float *slateq_choice_weights(slateq_t *sq)
{
    return sq->w;
}

nn_mlp_t *slateq_online(slateq_t *sq)
{
    return sq->online;
}

nn_mlp_t *slateq_target(slateq_t *sq)
{
    return sq->target;
}

/* input row i = (obs, desc_i) for n descriptors, from row 0 of sq->input
 * onward at offset `at` rows. */
static void s_inputs(slateq_t *sq, int at, const float *obs, const float *desc, int n)
{
    for (int i = 0; i < n; i++) {
        float *in = sq->input + (size_t)(at + i) * sq->in_w;
        memcpy(in, obs, sq->cfg.obs_dim * sizeof *in);
        memcpy(in + sq->cfg.obs_dim, desc + (size_t)i * sq->desc_w, sq->desc_w * sizeof *in);
    }
}

const float *slateq_item_values(slateq_t *sq, const float *obs, const float *desc, int n)
{
    s_inputs(sq, 0, obs, desc, n);
    return nn_mlp_forward(sq->online, sq->input, n);
}

void slateq_select(slateq_t *sq, const float *obs, const float *desc, int n, int *rows)
{
    /* the candidates and "none" in one forward */
    s_inputs(sq, 0, obs, desc, n);
    float *none = sq->input + (size_t)n * sq->in_w;
    memcpy(none, obs, sq->cfg.obs_dim * sizeof *none);
    memset(none + sq->cfg.obs_dim, 0, sq->desc_w * sizeof *none);
    none[sq->in_w - 1] = 1.0f;
    const float *q = nn_mlp_forward(sq->online, sq->input, n + 1);
    memcpy(sq->q, q, (size_t)n * sizeof *q);
    slateq_attractions(sq->w, obs, sq->cfg.dim, desc, n, sq->v);
    if (sq->cfg.greedy)
        slateq_greedy(sq->v, sq->q, q[n], n, sq->cfg.k, rows);
    else
        slateq_top_k(sq->v, sq->q, n, sq->cfg.k, rows);
}

double slateq_observe_choice(slateq_t *sq, const float *obs, const float *desc, int clicked)
{
    return slateq_choice_update(sq->w, obs, sq->cfg.dim, desc, sq->cfg.k, clicked,
                                sq->cfg.choice_lr);
}

int slateq_push(slateq_t *sq, const float *row)
{
    return replay_push(sq->replay, row) == 0 ? 0 : ERR_ENOMEM;
}

size_t slateq_buffer_size(const slateq_t *sq)
{
    return replay_size(sq->replay);
}

void slateq_targets(slateq_t *sq, const float *rows, int n, float *y)
{
    const slateq_config_t *c = &sq->cfg;
    int od = c->obs_dim, k = c->k, next = od + sq->desc_w + 1, slate = next + od;
    /* each row's next slate and "none": (n (k + 1)) rows through the target */
    for (int r = 0; r < n; r++) {
        const float *row = rows + (size_t)r * sq->width;
        s_inputs(sq, r * (k + 1), row + next, row + slate, k);
        float *none = sq->input + (size_t)(r * (k + 1) + k) * sq->in_w;
        memcpy(none, row + next, od * sizeof *none);
        memset(none + od, 0, sq->desc_w * sizeof *none);
        none[sq->in_w - 1] = 1.0f;
    }
    const float *qt = nn_mlp_forward(sq->target, sq->input, n * (k + 1));
    for (int r = 0; r < n; r++) {
        const float *row = rows + (size_t)r * sq->width;
        float v[SLATEQ_MAX_K], p[SLATEQ_MAX_K + 1];
        slateq_attractions(sq->w, row + next, c->dim, row + slate, k, v);
        slateq_choice_probs(v, k, p);
        const float *q = qt + (size_t)r * (k + 1);
        double value = slateq_slate_value(p, q, k, q[k]);
        float done = row[sq->width - 1];
        y[r] = row[next - 1] + c->gamma * (1.0f - done) * (float)value;
    }
}

int slateq_train_step(slateq_t *sq, pcg32_t *rng, float *loss)
{
    const slateq_config_t *c = &sq->cfg;
    int n = c->batch;
    if (replay_size(sq->replay) < (size_t)n)
        return 0;
    replay_sample(sq->replay, rng, n, sq->rows);
    slateq_targets(sq, sq->rows, n, sq->y);
    for (int r = 0; r < n; r++) {
        const float *row = sq->rows + (size_t)r * sq->width;
        s_inputs(sq, r, row, row + c->obs_dim, 1);
    }
    const float *pred = nn_mlp_forward(sq->online, sq->input, n);
    double l = nn_mse_loss(pred, sq->y, n, 1, sq->dpred);
    nn_mlp_zero_grad(sq->online);
    nn_mlp_backward(sq->online, sq->dpred, NULL);
    nn_mlp_clip_grad_norm(sq->online, c->clip);
    nn_adam_step(sq->adam, sq->online);
    if (++sq->steps % c->target_every == 0)
        nn_mlp_copy(sq->target, sq->online);
    if (loss)
        *loss = (float)l;
    return 1;
}
