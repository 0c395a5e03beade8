/* Fixed-duration options per user and their semi-Markov transitions
 * (hier.h). */
#include "agents/rl/hier.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct hier_option {
    bool active;
    bool rewarded; /* the feedback of the latest request has come */
    int topic;
    int left;           /* requests of the option still to come */
    uint32_t last_tick; /* tick of the latest request */
    float ret;          /* discounted reward so far */
    float discount;     /* gamma^(requests rewarded so far) */
} hier_option_t;

struct hier {
    int obs_dim, hold;
    float gamma;
    hier_option_t *options; /* (n_users) */
    float *obs0;            /* (n_users, obs_dim): where each option started */
    size_t n_users;
    float *row; /* (2 obs_dim + 3) */
};

hier_t *hier_new(int obs_dim, int hold, float gamma)
{
    if (obs_dim < 1 || hold < 1 || !(gamma >= 0.0f && gamma <= 1.0f))
        return NULL;
    hier_t *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->obs_dim = obs_dim;
    h->hold = hold;
    h->gamma = gamma;
    h->row = malloc((2 * (size_t)obs_dim + 3) * sizeof *h->row);
    if (!h->row)
        hier_destroy(&h);
    return h;
}

void hier_destroy(hier_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    hier_t *h = *self_p;
    free(h->options);
    free(h->obs0);
    free(h->row);
    free(h);
    *self_p = NULL;
}

void hier_reset(hier_t *h)
{
    for (size_t u = 0; u < h->n_users; u++)
        h->options[u].active = false;
}

static hier_option_t *s_find(hier_t *h, int32_t user)
{
    if (user < 0 || (size_t)user >= h->n_users || !h->options[user].active)
        return NULL;
    return &h->options[user];
}

/* next_obs NULL: terminal */
static void s_emit(hier_t *h, int32_t user, const float *next_obs, tracker_emit_fn emit, void *ctx)
{
    const hier_option_t *o = &h->options[user];
    int od = h->obs_dim;
    float *row = h->row;
    memcpy(row, h->obs0 + (size_t)user * od, od * sizeof *row);
    row[od] = (float)o->topic;
    row[od + 1] = o->ret;
    if (next_obs)
        memcpy(row + od + 2, next_obs, od * sizeof *row);
    else
        memset(row + od + 2, 0, od * sizeof *row);
    row[2 * od + 2] = next_obs ? 0.0f : 1.0f;
    emit(ctx, row);
}

void hier_feedback(hier_t *h, uint32_t tick, uint32_t m, const int32_t *user_ids,
                   const float *reward, const uint8_t *session_end, tracker_emit_fn emit, void *ctx)
{
    for (uint32_t i = 0; i < m; i++) {
        hier_option_t *o = s_find(h, user_ids[i]);
        if (!o || o->rewarded || tick == 0 || o->last_tick != tick - 1)
            continue;
        o->ret += o->discount * reward[i];
        o->discount *= h->gamma;
        o->rewarded = true;
        if (session_end[i]) {
            s_emit(h, user_ids[i], NULL, emit, ctx);
            o->active = false;
        }
    }
}

int hier_current(hier_t *h, uint32_t tick, int32_t user, const float *obs, tracker_emit_fn emit,
                 void *ctx)
{
    hier_option_t *o = s_find(h, user);
    if (!o)
        return -1;
    if (!o->rewarded || tick == 0 || o->last_tick != tick - 1) {
        o->active = false; /* the chain broke: dropped */
        return -1;
    }
    if (o->left == 0) {
        s_emit(h, user, obs, emit, ctx);
        o->active = false;
        return -1;
    }
    o->left--;
    o->last_tick = tick;
    o->rewarded = false;
    return o->topic;
}

int hier_start(hier_t *h, uint32_t tick, int32_t user, const float *obs, int topic)
{
    if (user < 0 || user >= PROTO_MAX_USERS || topic < 0)
        return ERR_ERANGE;
    if ((size_t)user >= h->n_users) {
        size_t n = h->n_users ? h->n_users : 256;
        while (n <= (size_t)user)
            n *= 2;
        hier_option_t *options = realloc(h->options, n * sizeof *options);
        if (!options)
            return ERR_ENOMEM;
        h->options = options;
        float *obs0 = realloc(h->obs0, n * h->obs_dim * sizeof *obs0);
        if (!obs0) /* options grew but n_users did not: still consistent */
            return ERR_ENOMEM;
        h->obs0 = obs0;
        memset(h->options + h->n_users, 0, (n - h->n_users) * sizeof *options);
        h->n_users = n;
    }
    hier_option_t *o = &h->options[user];
    *o = (hier_option_t){
        .active = true, .topic = topic, .left = h->hold - 1, .last_tick = tick, .discount = 1.0f};
    memcpy(h->obs0 + (size_t)user * h->obs_dim, obs, h->obs_dim * sizeof *obs);
    return 0;
}
