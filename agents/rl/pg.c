/* Plackett-Luce slates and a one-step actor-critic over them (pg.h). */
#include "agents/rl/pg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "agents/rl/replay.h"
#include "agents/rl/slate.h"

struct pg {
    pg_config_t cfg;
    int width;
    nn_mlp_t *actor, *critic;
    nn_adam_t *actor_opt, *critic_opt;
    replay_t *replay;
    float *rows;   /* (batch, width): the batch being learned from */
    int pending;   /* on-policy rows waiting in rows */
    float *obs;    /* (batch, obs_dim) gathered observations */
    float *values; /* (batch): V(s) */
    float *target; /* (batch): r + gamma (1 - done) V(s') */
    float *dvalue; /* (batch) */
    float *adv;    /* (batch) */
    float *dq;     /* (batch, dim) */
    float *logits; /* (max_items) */
    float *work;   /* (max_items) */
    float *dlogit; /* (max_items) */
};

void pg_softmax(const float *logits, int n, float *probs)
{
    float max = logits[0];
    for (int i = 1; i < n; i++)
        if (logits[i] > max)
            max = logits[i];
    double sum = 0.0;
    for (int i = 0; i < n; i++) {
        probs[i] = expf(logits[i] - max);
        sum += probs[i];
    }
    for (int i = 0; i < n; i++)
        probs[i] = (float)(probs[i] / sum);
}

double pg_slate_log_prob(const float *logits, int n, const int *rows, int k, float scale,
                         float *grad)
{
    float max = logits[0];
    for (int i = 1; i < n; i++)
        if (logits[i] > max)
            max = logits[i];
    /* Z_j = sum of exp over the items not yet placed, from the whole sum
     * minus the placed ones (in double: the differences stay exact
     * enough for k << n). */
    double total = 0.0;
    for (int i = 0; i < n; i++)
        total += exp((double)logits[i] - max);
    double log_p = 0.0, removed = 0.0;
    double inv_z[PG_MAX_K];
    for (int j = 0; j < k; j++) {
        double z = total - removed;
        double e = exp((double)logits[rows[j]] - max);
        log_p += ((double)logits[rows[j]] - max) - log(z);
        inv_z[j] = 1.0 / z;
        removed += e;
    }
    if (grad) {
        /* item i loses p_j(i) = e_i / Z_j at every position j up to and
         * including its own (or all k when it is not placed) */
        double cum[PG_MAX_K]; /* cum[j] = sum_{j' <= j} 1 / Z_j' */
        double c = 0.0;
        for (int j = 0; j < k; j++) {
            c += inv_z[j];
            cum[j] = c;
        }
        for (int i = 0; i < n; i++) {
            double e = exp((double)logits[i] - max);
            grad[i] -= (float)(scale * e * cum[k - 1]);
        }
        for (int j = 0; j < k; j++) {
            int i = rows[j];
            double e = exp((double)logits[i] - max);
            /* undo the positions after its own, where it was no longer there */
            grad[i] += (float)(scale * (1.0 + e * (cum[k - 1] - cum[j])));
        }
    }
    return log_p;
}

void pg_sample_slate(const float *logits, int n, int k, pcg32_t *rng, float *work, int *rows)
{
    float max = logits[0];
    for (int i = 1; i < n; i++)
        if (logits[i] > max)
            max = logits[i];
    double total = 0.0;
    for (int i = 0; i < n; i++) {
        work[i] = expf(logits[i] - max);
        total += work[i];
    }
    for (int j = 0; j < k; j++) {
        double u = pcg32_uniform_f(rng) * total, acc = 0.0;
        int pick = -1, last = -1;
        for (int i = 0; i < n; i++) {
            if (work[i] <= 0.0f)
                continue;
            last = i;
            acc += work[i];
            if (u < acc) {
                pick = i;
                break;
            }
        }
        if (pick < 0) /* rounding at the top end: the last item still there */
            pick = last;
        rows[j] = pick;
        total -= work[pick];
        work[pick] = 0.0f;
        if (total <= 0.0) { /* only underflowed weights are left: recount them as equal */
            total = 0.0;
            for (int i = 0; i < n; i++)
                if (work[i] == 0.0f) {
                    bool placed = false;
                    for (int jj = 0; jj <= j; jj++)
                        placed = placed || rows[jj] == i;
                    if (!placed) {
                        work[i] = 1.0f;
                        total += 1.0;
                    }
                }
        }
    }
}

float pg_item_weight(pg_correction_t correction, float pi, float beta, int k, float cap)
{
    if (correction == PG_CORRECTION_NONE)
        return 1.0f;
    float ratio = beta > 0.0f ? pi / beta : cap;
    if (ratio > cap)
        ratio = cap;
    if (correction == PG_CORRECTION_IS)
        return ratio;
    return ratio * (float)k * powf(1.0f - pi, (float)(k - 1));
}

void pg_config_default(pg_config_t *cfg, int obs_dim, int dim, int k)
{
    *cfg = (pg_config_t){
        .obs_dim = obs_dim,
        .dim = dim,
        .k = k,
        .hidden = 64,
        .batch = 32,
        .max_items = 4096,
        .lr = 1e-3f,
        .critic_lr = 1e-3f,
        .gamma = 0.9f,
        .temperature = 0.1f,
        .clip = 10.0f,
        .replay = false,
        .correction = PG_CORRECTION_TOPK,
        .cap = 10.0f,
        .buffer = 20000,
        .n_topics = 0,
    };
}

int pg_row_width(const pg_config_t *cfg)
{
    return 2 * cfg->obs_dim + 2 * cfg->k + 2;
}

static nn_mlp_t *s_mlp(int in, int hidden, int out, int max_batch, pcg32_t *rng)
{
    const int sizes[] = {in, hidden, hidden, out};
    const nn_activation_t acts[] = {NN_RELU, NN_RELU, NN_LINEAR};
    return nn_mlp_new(3, sizes, acts, max_batch, rng);
}

pg_t *pg_new(const pg_config_t *cfg, pcg32_t *rng)
{
    if (cfg->obs_dim < 1 || cfg->dim < 1 || cfg->k < 1 || cfg->k > PG_MAX_K || cfg->hidden < 1 ||
        cfg->batch < 1 || cfg->max_items < cfg->k || !(cfg->lr > 0.0f) ||
        !(cfg->critic_lr > 0.0f) || !(cfg->gamma >= 0.0f && cfg->gamma <= 1.0f) ||
        !(cfg->temperature > 0.0f) || !(cfg->clip > 0.0f) || !(cfg->cap > 0.0f) ||
        cfg->buffer < 1 || cfg->n_topics < 0 || cfg->n_topics > cfg->obs_dim)
        return NULL;
    pg_t *pg = calloc(1, sizeof *pg);
    if (!pg)
        return NULL;
    pg->cfg = *cfg;
    pg->width = pg_row_width(cfg);
    int b = cfg->batch;
    pg->actor = s_mlp(cfg->obs_dim, cfg->hidden, cfg->dim, b, rng);
    pg->critic = s_mlp(cfg->obs_dim, cfg->hidden, 1, b, rng);
    if (pg->actor && pg->critic) {
        pg->actor_opt = nn_adam_new(pg->actor, cfg->lr);
        pg->critic_opt = nn_adam_new(pg->critic, cfg->critic_lr);
    }
    if (cfg->replay)
        pg->replay = replay_new(cfg->buffer, pg->width);
    pg->rows = malloc((size_t)b * pg->width * sizeof *pg->rows);
    pg->obs = malloc((size_t)b * cfg->obs_dim * sizeof *pg->obs);
    pg->values = malloc((size_t)b * sizeof *pg->values);
    pg->target = malloc((size_t)b * sizeof *pg->target);
    pg->dvalue = malloc((size_t)b * sizeof *pg->dvalue);
    pg->adv = malloc((size_t)b * sizeof *pg->adv);
    pg->dq = malloc((size_t)b * cfg->dim * sizeof *pg->dq);
    pg->logits = malloc((size_t)cfg->max_items * sizeof *pg->logits);
    pg->work = malloc((size_t)cfg->max_items * sizeof *pg->work);
    pg->dlogit = malloc((size_t)cfg->max_items * sizeof *pg->dlogit);
    if (!pg->actor_opt || !pg->critic_opt || (cfg->replay && !pg->replay) || !pg->rows ||
        !pg->obs || !pg->values || !pg->target || !pg->dvalue || !pg->adv || !pg->dq ||
        !pg->logits || !pg->work || !pg->dlogit)
        pg_destroy(&pg);
    return pg;
}

void pg_destroy(pg_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pg_t *pg = *self_p;
    nn_mlp_destroy(&pg->actor);
    nn_mlp_destroy(&pg->critic);
    nn_adam_destroy(&pg->actor_opt);
    nn_adam_destroy(&pg->critic_opt);
    replay_destroy(&pg->replay);
    free(pg->rows);
    free(pg->obs);
    free(pg->values);
    free(pg->target);
    free(pg->dvalue);
    free(pg->adv);
    free(pg->dq);
    free(pg->logits);
    free(pg->work);
    free(pg->dlogit);
    free(pg);
    *self_p = NULL;
}

nn_mlp_t *pg_actor(pg_t *pg)
{
    return pg->actor;
}

nn_mlp_t *pg_critic(pg_t *pg)
{
    return pg->critic;
}

/* logits (items->n) = embeddings . q / T, and -infinity for the items
 * outside obs's topic under a topic restriction */
static void s_logits(const pg_t *pg, const proto_items_t *items, const float *q, const float *obs,
                     float *logits)
{
    const pg_config_t *c = &pg->cfg;
    cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)items->n, (int)items->dim, 1.0f / c->temperature,
                items->embeddings, (int)items->dim, q, 1, 0.0f, logits, 1);
    if (c->n_topics <= 0)
        return;
    const float *onehot = obs + c->obs_dim - c->n_topics;
    int topic = 0;
    for (int t = 1; t < c->n_topics; t++)
        if (onehot[t] > onehot[topic])
            topic = t;
    int count = 0;
    for (uint32_t i = 0; i < items->n; i++)
        count += items->topics[i] == topic;
    if (count < c->k)
        return;
    for (uint32_t i = 0; i < items->n; i++)
        if (items->topics[i] != topic)
            logits[i] = -INFINITY;
}

int pg_act(pg_t *pg, const float *obs, const proto_items_t *items, pcg32_t *rng, int32_t *ids,
           float *beta)
{
    int n = (int)items->n, k = pg->cfg.k;
    if (n < k || n > pg->cfg.max_items || (int)items->dim != pg->cfg.dim)
        return -1;
    const float *q = nn_mlp_forward(pg->actor, obs, 1);
    s_logits(pg, items, q, obs, pg->logits);
    int rows[PG_MAX_K];
    pg_sample_slate(pg->logits, n, k, rng, pg->work, rows);
    pg_softmax(pg->logits, n, pg->work);
    for (int j = 0; j < k; j++) {
        ids[j] = items->ids[rows[j]];
        beta[j] = pg->work[rows[j]];
    }
    return 0;
}

int pg_push(pg_t *pg, const float *row)
{
    if (pg->replay)
        return replay_push(pg->replay, row) == 0 ? 0 : ERR_ENOMEM;
    if (pg->pending < pg->cfg.batch) /* a full batch waits for pg_train_step */
        memcpy(pg->rows + (size_t)pg->pending++ * pg->width, row, pg->width * sizeof *row);
    return 0;
}

/* Leaves the critic's last forward on the observations, values (n) =
 * V(s) and target (n) = r + gamma (1 - done) V(s'). */
static void s_values(pg_t *pg, const float *rows, int n)
{
    const pg_config_t *c = &pg->cfg;
    int od = c->obs_dim, next = od + 2 * c->k + 1;
    for (int r = 0; r < n; r++)
        memcpy(pg->obs + (size_t)r * od, rows + (size_t)r * pg->width + next, od * sizeof(float));
    const float *v_next = nn_mlp_forward(pg->critic, pg->obs, n);
    for (int r = 0; r < n; r++) {
        const float *row = rows + (size_t)r * pg->width;
        float done = row[pg->width - 1];
        pg->target[r] = row[next - 1] + c->gamma * (1.0f - done) * v_next[r];
    }
    for (int r = 0; r < n; r++)
        memcpy(pg->obs + (size_t)r * od, rows + (size_t)r * pg->width, od * sizeof(float));
    const float *v = nn_mlp_forward(pg->critic, pg->obs, n);
    memcpy(pg->values, v, n * sizeof *v);
}

void pg_advantages(pg_t *pg, const float *rows, int n, float *adv)
{
    s_values(pg, rows, n);
    for (int r = 0; r < n; r++)
        adv[r] = pg->target[r] - pg->values[r];
}

double pg_actor_loss(pg_t *pg, const float *rows, int n, const proto_items_t *items,
                     const float *adv, bool backward)
{
    const pg_config_t *c = &pg->cfg;
    int od = c->obs_dim, n_items = (int)items->n;
    if (n_items < 1 || n_items > c->max_items)
        return 0.0;
    for (int r = 0; r < n; r++)
        memcpy(pg->obs + (size_t)r * od, rows + (size_t)r * pg->width, od * sizeof(float));
    const float *q = nn_mlp_forward(pg->actor, pg->obs, n);
    double loss = 0.0;
    for (int r = 0; r < n; r++) {
        const float *row = rows + (size_t)r * pg->width;
        const float *ids = row + od, *beta = row + od + c->k;
        s_logits(pg, items, q + (size_t)r * c->dim, row, pg->logits);
        int slate[PG_MAX_K], pos[PG_MAX_K], kk = 0;
        for (int j = 0; j < c->k; j++) {
            int at = slate_item_row(items, (int32_t)ids[j]);
            if (at >= 0 && pg->logits[at] != -INFINITY) {
                pos[kk] = j;
                slate[kk++] = at;
            }
        }
        float *dq = pg->dq + (size_t)r * c->dim;
        memset(dq, 0, c->dim * sizeof *dq);
        if (kk == 0)
            continue;
        memset(pg->dlogit, 0, n_items * sizeof *pg->dlogit);
        float scale = -adv[r] / (float)n;
        if (!c->replay) {
            loss += scale * pg_slate_log_prob(pg->logits, n_items, slate, kk, scale, pg->dlogit);
        } else {
            pg_softmax(pg->logits, n_items, pg->work);
            float sum_w = 0.0f;
            for (int j = 0; j < kk; j++) {
                float pi = pg->work[slate[j]];
                float w = pg_item_weight(c->correction, pi, beta[pos[j]], c->k, c->cap);
                loss += (double)scale * w * log((double)pi > 1e-30 ? pi : 1e-30);
                pg->dlogit[slate[j]] += scale * w;
                sum_w += w;
            }
            /* d log pi_a / d logit_l = [l = a] - p_l, summed over the slate items */
            for (int l = 0; l < n_items; l++)
                pg->dlogit[l] -= scale * sum_w * pg->work[l];
        }
        if (backward) /* dq = E^T dlogit / T */
            cblas_sgemv(CblasRowMajor, CblasTrans, n_items, c->dim, 1.0f / c->temperature,
                        items->embeddings, c->dim, pg->dlogit, 1, 0.0f, dq, 1);
    }
    if (backward)
        nn_mlp_backward(pg->actor, pg->dq, NULL);
    return loss;
}

int pg_train_step(pg_t *pg, const proto_items_t *items, pcg32_t *rng, float *actor_loss,
                  float *critic_loss)
{
    const pg_config_t *c = &pg->cfg;
    int n = c->batch;
    if (pg->replay) {
        if (replay_size(pg->replay) < (size_t)n)
            return 0;
        replay_sample(pg->replay, rng, n, pg->rows);
    } else {
        if (pg->pending < n)
            return 0;
        pg->pending = 0;
    }
    if ((int)items->dim != c->dim)
        return 0;
    /* critic: one step on the mean squared TD error, the advantages taken before it */
    s_values(pg, pg->rows, n);
    for (int r = 0; r < n; r++)
        pg->adv[r] = pg->target[r] - pg->values[r];
    double closs = nn_mse_loss(pg->values, pg->target, n, 1, pg->dvalue);
    nn_mlp_zero_grad(pg->critic);
    nn_mlp_backward(pg->critic, pg->dvalue, NULL);
    nn_mlp_clip_grad_norm(pg->critic, c->clip);
    nn_adam_step(pg->critic_opt, pg->critic);
    /* actor: one step on the policy-gradient loss */
    nn_mlp_zero_grad(pg->actor);
    double aloss = pg_actor_loss(pg, pg->rows, n, items, pg->adv, true);
    nn_mlp_clip_grad_norm(pg->actor, c->clip);
    nn_adam_step(pg->actor_opt, pg->actor);
    if (actor_loss)
        *actor_loss = (float)aloss;
    if (critic_loss)
        *critic_loss = (float)closs;
    return 1;
}
