/* Per-user records chaining requests into transitions (tracker.h). */
#include "agents/rl/tracker.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define TRACKER_NONE INT64_C(-1)

struct tracker {
    int obs_dim, act_dim, other_dim;
    int width;      /* transition row */
    int rec_width;  /* obs | act | others | reward */
    size_t n_users; /* capacity: user ids 0..n_users-1 */
    /* the user's request still waiting for its outcome or next state */
    int64_t *cur_tick;  /* (n_users) tick, or TRACKER_NONE */
    bool *cur_rewarded; /* (n_users) reward known */
    float *cur;         /* (n_users, rec_width) */
    /* a transition waiting for the others' actions at its next state */
    int64_t *held_tick; /* (n_users) tick of the next state, or TRACKER_NONE */
    float *held;        /* (n_users, width) */
    float *row;         /* (width) scratch for emitting */
};

tracker_t *tracker_new(int obs_dim, int act_dim, int other_dim)
{
    if (obs_dim < 1 || act_dim < 1 || other_dim < 0)
        return NULL;
    tracker_t *tr = calloc(1, sizeof *tr);
    if (!tr)
        return NULL;
    tr->obs_dim = obs_dim;
    tr->act_dim = act_dim;
    tr->other_dim = other_dim;
    tr->width = 2 * obs_dim + act_dim + 2 * other_dim + 2;
    tr->rec_width = obs_dim + act_dim + other_dim + 1;
    tr->row = calloc((size_t)tr->width, sizeof *tr->row);
    if (!tr->row) {
        free(tr);
        return NULL;
    }
    return tr;
}

void tracker_destroy(tracker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    tracker_t *tr = *self_p;
    free(tr->cur_tick);
    free(tr->cur_rewarded);
    free(tr->cur);
    free(tr->held_tick);
    free(tr->held);
    free(tr->row);
    free(tr);
    *self_p = NULL;
}

int tracker_width(const tracker_t *tr)
{
    return tr->width;
}

void tracker_reset(tracker_t *tr)
{
    for (size_t u = 0; u < tr->n_users; u++) {
        tr->cur_tick[u] = TRACKER_NONE;
        tr->held_tick[u] = TRACKER_NONE;
    }
}

/* Makes room for user ids up to `user`; 0 or ERR_ENOMEM (the tracker
 * unchanged: each array is only replaced once every allocation worked). */
static int s_grow(tracker_t *tr, size_t user)
{
    if (user < tr->n_users)
        return 0;
    size_t n = tr->n_users ? tr->n_users : 64;
    while (n <= user)
        n *= 2;
    int64_t *cur_tick = malloc(n * sizeof *cur_tick);
    bool *cur_rewarded = malloc(n * sizeof *cur_rewarded);
    float *cur = malloc(n * (size_t)tr->rec_width * sizeof *cur);
    int64_t *held_tick = malloc(n * sizeof *held_tick);
    float *held = malloc(n * (size_t)tr->width * sizeof *held);
    if (!cur_tick || !cur_rewarded || !cur || !held_tick || !held) {
        free(cur_tick);
        free(cur_rewarded);
        free(cur);
        free(held_tick);
        free(held);
        return ERR_ENOMEM;
    }
    size_t old = tr->n_users;
    if (old > 0) {
        memcpy(cur_tick, tr->cur_tick, old * sizeof *cur_tick);
        memcpy(cur_rewarded, tr->cur_rewarded, old * sizeof *cur_rewarded);
        memcpy(cur, tr->cur, old * (size_t)tr->rec_width * sizeof *cur);
        memcpy(held_tick, tr->held_tick, old * sizeof *held_tick);
        memcpy(held, tr->held, old * (size_t)tr->width * sizeof *held);
    }
    for (size_t u = old; u < n; u++) {
        cur_tick[u] = TRACKER_NONE;
        held_tick[u] = TRACKER_NONE;
        cur_rewarded[u] = false;
    }
    free(tr->cur_tick);
    free(tr->cur_rewarded);
    free(tr->cur);
    free(tr->held_tick);
    free(tr->held);
    tr->cur_tick = cur_tick;
    tr->cur_rewarded = cur_rewarded;
    tr->cur = cur;
    tr->held_tick = held_tick;
    tr->held = held;
    tr->n_users = n;
    return 0;
}

/* The user's record if it belongs to `tick`, else NULL. */
static float *s_record(tracker_t *tr, int32_t user, int64_t tick)
{
    if (user < 0 || (size_t)user >= tr->n_users || tr->cur_tick[user] != tick)
        return NULL;
    return tr->cur + (size_t)user * tr->rec_width;
}

/* Writes the first half of a row (obs, act, others, reward) from rec. */
static void s_row_head(const tracker_t *tr, const float *rec, float *row)
{
    memcpy(row, rec, (size_t)tr->rec_width * sizeof *row);
}

void tracker_feedback(tracker_t *tr, uint32_t tick, uint32_t m, const int32_t *user_ids,
                      const float *reward, const uint8_t *session_end, tracker_emit_fn emit,
                      void *ctx)
{
    if (tick == 0)
        return;
    for (uint32_t i = 0; i < m; i++) {
        int32_t user = user_ids[i];
        float *rec = s_record(tr, user, (int64_t)tick - 1);
        if (!rec)
            continue;
        if (reward) {
            rec[tr->rec_width - 1] = reward[i];
            tr->cur_rewarded[user] = true;
        }
        if (!session_end[i])
            continue;
        if (tr->cur_rewarded[user]) {
            s_row_head(tr, rec, tr->row);
            memset(tr->row + tr->rec_width, 0,
                   (size_t)(tr->width - tr->rec_width) * sizeof *tr->row);
            tr->row[tr->width - 1] = 1.0f;
            emit(ctx, tr->row);
        }
        tr->cur_tick[user] = TRACKER_NONE;
    }
}

int tracker_request(tracker_t *tr, uint32_t tick, int32_t user, const float *obs, const float *act,
                    tracker_emit_fn emit, void *ctx)
{
    if (user < 0 || user >= PROTO_MAX_USERS)
        return ERR_ERANGE;
    int err = s_grow(tr, (size_t)user);
    if (err)
        return err;
    float *rec = tick > 0 ? s_record(tr, user, (int64_t)tick - 1) : NULL;
    if (rec && tr->cur_rewarded[user]) {
        float *row = tr->other_dim > 0 ? tr->held + (size_t)user * tr->width : tr->row;
        s_row_head(tr, rec, row);
        memcpy(row + tr->rec_width, obs, (size_t)tr->obs_dim * sizeof *row);
        memset(row + tr->rec_width + tr->obs_dim, 0, (size_t)tr->other_dim * sizeof *row);
        row[tr->width - 1] = 0.0f;
        if (tr->other_dim > 0)
            tr->held_tick[user] = tick;
        else
            emit(ctx, row);
    }
    rec = tr->cur + (size_t)user * tr->rec_width;
    memcpy(rec, obs, (size_t)tr->obs_dim * sizeof *rec);
    memcpy(rec + tr->obs_dim, act, (size_t)tr->act_dim * sizeof *rec);
    memset(rec + tr->obs_dim + tr->act_dim, 0, (size_t)(tr->other_dim + 1) * sizeof *rec);
    tr->cur_tick[user] = tick;
    tr->cur_rewarded[user] = false;
    return 0;
}

void tracker_outcome(tracker_t *tr, uint32_t tick, int32_t user, const float *reward,
                     const float *others, tracker_emit_fn emit, void *ctx)
{
    float *rec = s_record(tr, user, tick);
    if (!rec)
        return;
    if (reward) {
        rec[tr->rec_width - 1] = *reward;
        tr->cur_rewarded[user] = true;
    }
    if (tr->other_dim == 0)
        return;
    memcpy(rec + tr->obs_dim + tr->act_dim, others, (size_t)tr->other_dim * sizeof *rec);
    if (tr->held_tick[user] == (int64_t)tick) {
        float *row = tr->held + (size_t)user * tr->width;
        memcpy(row + tr->rec_width + tr->obs_dim, others, (size_t)tr->other_dim * sizeof *row);
        emit(ctx, row);
    }
    tr->held_tick[user] = TRACKER_NONE;
}
