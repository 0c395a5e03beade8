/* recarena-mf: the collaborative-filtering baseline. Implicit-feedback
 * matrix factorisation (agents/mf/mf.h, Hu, Koren and Volinsky 2008) of
 * the agent's reward log, refitted every --refit-every ticks; a
 * request's slate is the k live items with the largest x_u . y_i.
 *
 *     recarena-mf --factors 16 --refit-every 10 --endpoint ipc:///tmp/x/control --name mf
 *
 * Cold start: a user without a click in the last fit gets a factor from
 * their public features, an item without a click one from its embedding,
 * each through a ridge regression from side features to the fitted
 * factors (mf_fit_map), refitted with the factors. Before the first fit
 * the slates are random. The log (user, item, weight) keeps every reward
 * of the run: by default each request's reward as the server sends it
 * (after world.reward_sharing and the diversity bonus) on the clicked
 * item, or spread over the slate when the request had no click of its
 * own; with --learn-from clicks weight 1 per own click. The weights sum
 * into r_ui; entries on retired items drop out of the next fit. One line
 * per episode on stdout:
 *
 *     episode 0: requests 27344 clicks 9646 ctr 0.3528 fits 40 users 1980 items 700 */
#include "agents/sdk/agent.h"
#include "agents/sdk/shown.h"
#include "agents/mf/mf.h"
#include "core/err.h"
#include "core/parse.h"

#include <cblas.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_USER_ID (1 << 24) /* user ids the tables grow to */
#define S_ROWS        64        /* requests scored at once */

typedef struct state {
    mf_params_t params;
    int64_t refit_every;
    bool learn_clicks; /* --learn-from clicks: the own click, not the server's reward */
    uint32_t k, dim, f;

    /* users by id: last public features, factor from the last fit */
    size_t user_cap;
    float *user_features; /* (user_cap, dim) */
    double *user_factor;  /* (user_cap, f) */
    uint8_t *user_fitted; /* (user_cap) */
    int32_t *user_row;    /* (user_cap): scratch, row in the fit or -1 */
    /* items by catalog row of the last fit, looked up by id */
    size_t item_cap;
    double *item_factor;         /* (item_cap, f): by item id */
    uint8_t *item_fitted;        /* (item_cap) */
    double *user_map, *item_map; /* (dim + 1, f): cold start */
    int has_fit;
    uint32_t fits, fit_users, fit_items;

    /* the click log */
    int32_t *log_user, *log_item; /* (log_cap) */
    float *log_weight;            /* (log_cap): the entry's reward, > 0 */
    size_t log_n, log_cap, log_at_fit;

    /* the previous tick's requests, whose feedback the next STEP carries */
    agent_shown_t shown;

    /* scratch */
    size_t live_cap;
    double *live_factor; /* (live_cap, f) */
    double *req_factor;  /* (S_ROWS, f) */
    double *scores;      /* (S_ROWS, live_cap) */

    uint64_t requests, clicks;
} state_t;

static int s_on_option(void *user, const char *name, const char *value)
{
    state_t *s = user;
    mf_params_t *p = &s->params;
    int64_t n;
    int rc;
    if (strcmp(name, "factors") == 0) {
        if ((rc = parse_int64(value, 1, MF_MAX_FACTORS, &n)) == 0)
            p->factors = (uint32_t)n;
        return rc;
    }
    if (strcmp(name, "iterations") == 0) {
        if ((rc = parse_int64(value, 1, 1000, &n)) == 0)
            p->iterations = (uint32_t)n;
        return rc;
    }
    if (strcmp(name, "refit-every") == 0)
        return parse_int64(value, 1, 1000000, &s->refit_every);
    if (strcmp(name, "reg") == 0)
        return parse_double(value, 1e-12, 1e9, &p->reg);
    if (strcmp(name, "alpha") == 0)
        return parse_double(value, 0, 1e9, &p->alpha);
    if (strcmp(name, "learn-from") == 0) {
        if (strcmp(value, "reward") == 0)
            s->learn_clicks = false;
        else if (strcmp(value, "clicks") == 0)
            s->learn_clicks = true;
        else
            return ERR_ESYNTAX;
        return 0;
    }
    return ERR_EINVAL;
}

/* Grows *p to n elements of size bytes, zeroing the new ones; 0 or -1. */
static int s_grow(void *p, size_t old_n, size_t n, size_t size)
{
    void *q = realloc(*(void **)p, n * size);
    if (!q)
        return -1;
    memset((char *)q + old_n * size, 0, (n - old_n) * size);
    *(void **)p = q;
    return 0;
}

/* Room for user id; 0 or -1. */
static int s_reserve_user(state_t *s, int32_t id)
{
    if ((size_t)id < s->user_cap)
        return 0;
    size_t cap = s->user_cap ? s->user_cap : 1024;
    while (cap <= (size_t)id)
        cap *= 2;
    if (s_grow(&s->user_features, s->user_cap * s->dim, cap * s->dim, sizeof(float)) ||
        s_grow(&s->user_factor, s->user_cap * s->f, cap * s->f, sizeof(double)) ||
        s_grow(&s->user_fitted, s->user_cap, cap, 1) ||
        s_grow(&s->user_row, s->user_cap, cap, sizeof(int32_t)))
        return -1;
    s->user_cap = cap;
    return 0;
}

/* Room for item id; 0 or -1. */
static int s_reserve_item(state_t *s, int32_t id)
{
    if ((size_t)id < s->item_cap)
        return 0;
    size_t cap = s->item_cap ? s->item_cap : 1024;
    while (cap <= (size_t)id)
        cap *= 2;
    if (s_grow(&s->item_factor, s->item_cap * s->f, cap * s->f, sizeof(double)) ||
        s_grow(&s->item_fitted, s->item_cap, cap, 1))
        return -1;
    s->item_cap = cap;
    return 0;
}

/* Room for n requests of the previous tick and n live items; 0 or -1. */
static int s_reserve_rows(state_t *s, uint32_t n_requests, size_t n_live)
{
    if (agent_shown_reserve(&s->shown, n_requests) != 0)
        return -1;
    if (n_live > s->live_cap) {
        if (s_grow(&s->live_factor, s->live_cap * s->f, n_live * s->f, sizeof(double)) ||
            s_grow(&s->scores, (size_t)S_ROWS * s->live_cap, (size_t)S_ROWS * n_live,
                   sizeof(double)))
            return -1;
        s->live_cap = n_live;
    }
    return 0;
}

/* Appends one (user, item, weight) entry to the log; 0 or -1. */
static int s_log(state_t *s, int32_t user, int32_t item, float weight)
{
    if (s->log_n == s->log_cap) {
        size_t cap = s->log_cap ? 2 * s->log_cap : 4096;
        if (s_grow(&s->log_user, s->log_cap, cap, sizeof(int32_t)) ||
            s_grow(&s->log_item, s->log_cap, cap, sizeof(int32_t)) ||
            s_grow(&s->log_weight, s->log_cap, cap, sizeof(float)))
            return -1;
        s->log_cap = cap;
    }
    s->log_user[s->log_n] = user;
    s->log_item[s->log_n] = item;
    s->log_weight[s->log_n++] = weight;
    return 0;
}

/* Appends the previous tick's rewards to the log (the same users in the
 * same order; anything else, a resync in between, is not learnt from). */
static int s_learn(state_t *s, const proto_feedback_t *fb)
{
    uint32_t m = agent_shown_match(&s->shown, fb);
    for (uint32_t i = 0; i < m; i++) {
        int32_t pos = fb->clicked[i];
        bool click = pos >= 0 && (uint32_t)pos < s->k;
        s->clicks += click;
        /* the request's reward goes to the clicked item; with no click of
         * its own (a shared reward, a team bonus) it is spread over the
         * slate, reward / k each; rewards <= 0 add nothing */
        float reward = s->learn_clicks ? (float)click : fb->reward[i];
        if (!(reward > 0.0f))
            continue;
        uint32_t first = click ? (uint32_t)pos : 0, last = click ? (uint32_t)pos + 1 : s->k;
        float weight = click ? reward : reward / (float)s->k;
        for (uint32_t q = first; q < last; q++)
            if (s_log(s, fb->user_ids[i], agent_shown_slate(&s->shown, i)[q], weight) != 0)
                return -1;
    }
    return 0;
}

/* One log entry of a user's row while the fit's matrix is built. */
typedef struct s_entry {
    uint32_t col;
    float weight;
} s_entry_t;

/* By column, then weight: a total order, so the merged counts are summed
 * in the same order whatever the sort. */
static int s_cmp_entry(const void *a, const void *b)
{
    const s_entry_t *x = a, *y = b;
    if (x->col != y->col)
        return (x->col > y->col) - (x->col < y->col);
    return (x->weight > y->weight) - (x->weight < y->weight);
}

/* Refits the factors and the cold-start maps on the log, over the live
 * catalog. 0, or -1 with a message. */
static int s_refit(state_t *s, agent_t *agent)
{
    const proto_items_t *items = agent_catalog(agent);
    uint32_t f = s->f, n_users = 0, n_entries = 0;
    int rc = ERR_ENOMEM;
    for (size_t u = 0; u < s->user_cap; u++)
        s->user_row[u] = -1;
    uint32_t *col = malloc((s->log_n ? s->log_n : 1) * sizeof *col);
    uint32_t *start = NULL, *cols = NULL, *fill = NULL;
    double *counts = NULL, *X = NULL, *Y = NULL;
    s_entry_t *entries = NULL;
    int32_t *row_user = NULL;
    float *side = NULL;
    if (!col)
        goto fail;
    for (size_t e = 0; e < s->log_n; e++) { /* users in order of first click */
        int idx = agent_item_index(agent, s->log_item[e]);
        col[e] = idx < 0 ? UINT32_MAX : (uint32_t)idx;
        if (idx >= 0 && s->user_row[s->log_user[e]] < 0)
            s->user_row[s->log_user[e]] = (int32_t)n_users++;
        n_entries += idx >= 0;
    }
    start = calloc(n_users + 1, sizeof *start);
    fill = calloc(n_users + 1, sizeof *fill);
    cols = malloc((n_entries ? n_entries : 1) * sizeof *cols);
    counts = malloc((n_entries ? n_entries : 1) * sizeof *counts);
    entries = malloc((n_entries ? n_entries : 1) * sizeof *entries);
    row_user = malloc((n_users ? n_users : 1) * sizeof *row_user);
    X = malloc(((size_t)n_users + 1) * f * sizeof *X);
    Y = malloc(((size_t)items->n + 1) * f * sizeof *Y);
    side = malloc(((size_t)(n_users > items->n ? n_users : items->n) + 1) * s->dim * sizeof *side);
    if (!start || !fill || !cols || !counts || !entries || !row_user || !X || !Y || !side)
        goto fail;
    for (size_t e = 0; e < s->log_n; e++)
        if (col[e] != UINT32_MAX)
            start[s->user_row[s->log_user[e]] + 1]++;
    for (uint32_t u = 0; u < n_users; u++)
        start[u + 1] += start[u];
    for (size_t e = 0; e < s->log_n; e++) {
        if (col[e] == UINT32_MAX)
            continue;
        uint32_t r = (uint32_t)s->user_row[s->log_user[e]];
        entries[start[r] + fill[r]++] = (s_entry_t){col[e], s->log_weight[e]};
        row_user[r] = s->log_user[e];
    }
    /* sort each user's items and merge repeats into counts */
    uint32_t nnz = 0;
    for (uint32_t u = 0; u < n_users; u++) {
        uint32_t b = start[u], e = start[u + 1];
        qsort(entries + b, e - b, sizeof *entries, s_cmp_entry);
        start[u] = nnz;
        for (uint32_t q = b; q < e; q++) {
            if (q > b && entries[q].col == entries[q - 1].col) {
                counts[nnz - 1] += entries[q].weight;
                continue;
            }
            cols[nnz] = entries[q].col;
            counts[nnz++] = entries[q].weight;
        }
    }
    start[n_users] = nnz;
    mf_matrix_t m = {n_users, items->n, start, cols, counts};
    rc = mf_fit(&m, &s->params, (uint64_t)s->fits + 1, X, Y);
    if (rc != 0)
        goto fail;

    /* the fitted factors, and the maps from side features to them */
    memset(s->user_fitted, 0, s->user_cap);
    memset(s->item_fitted, 0, s->item_cap);
    for (uint32_t u = 0; u < n_users; u++) {
        int32_t id = row_user[u];
        memcpy(s->user_factor + (size_t)id * f, X + (size_t)u * f, f * sizeof *X);
        s->user_fitted[id] = 1;
        memcpy(side + (size_t)u * s->dim, s->user_features + (size_t)id * s->dim,
               s->dim * sizeof *side);
    }
    rc = mf_fit_map(n_users, s->dim, side, X, f, s->params.reg, s->user_map);
    if (rc != 0)
        goto fail;
    uint32_t n_fitted = 0;
    uint8_t *clicked = calloc(items->n ? items->n : 1, 1);
    if (!clicked) {
        rc = ERR_ENOMEM;
        goto fail;
    }
    for (uint32_t e = 0; e < nnz; e++)
        clicked[cols[e]] = 1;
    for (uint32_t i = 0; i < items->n; i++) {
        if (!clicked[i])
            continue;
        int32_t id = items->ids[i];
        memcpy(s->item_factor + (size_t)id * f, Y + (size_t)i * f, f * sizeof *Y);
        s->item_fitted[id] = 1;
        memcpy(side + (size_t)n_fitted * s->dim, items->embeddings + (size_t)i * s->dim,
               s->dim * sizeof *side);
        memcpy(Y + (size_t)n_fitted * f, Y + (size_t)i * f, f * sizeof *Y);
        n_fitted++;
    }
    free(clicked);
    rc = mf_fit_map(n_fitted, s->dim, side, Y, f, s->params.reg, s->item_map);
    if (rc != 0)
        goto fail;
    s->has_fit = 1;
    s->fits++;
    s->fit_users = n_users;
    s->fit_items = n_fitted;
    s->log_at_fit = s->log_n;
    rc = 0;
fail:
    if (rc != 0)
        fprintf(stderr, "recarena-mf: refit on %zu clicks: %s\n", s->log_n, err_str(rc));
    free(col);
    free(start);
    free(fill);
    free(cols);
    free(counts);
    free(entries);
    free(row_user);
    free(X);
    free(Y);
    free(side);
    return rc == 0 ? 0 : -1;
}

/* The k largest of scores (n), highest first, ties to the lower index. */
static void s_top_k(const double *scores, uint32_t n, uint32_t k, uint32_t *out)
{
    uint32_t filled = 0;
    for (uint32_t i = 0; i < n; i++) {
        double v = scores[i];
        if (filled == k && !(v > scores[out[k - 1]]))
            continue;
        uint32_t pos = filled < k ? filled++ : k - 1;
        while (pos > 0 && scores[out[pos - 1]] < v) {
            out[pos] = out[pos - 1];
            pos--;
        }
        out[pos] = i;
    }
}

static int s_on_reset(agent_t *agent, void *user, const proto_catalog_t *catalog)
{
    state_t *s = user;
    const proto_welcome_t *w = agent_welcome(agent);
    if (s->dim != w->dim || s->k != w->slate_size) { /* a first or a different world */
        if (s->dim != 0) {
            fprintf(stderr, "recarena-mf: the world changed shape: restart the agent\n");
            return -1;
        }
        s->dim = w->dim;
        s->k = w->slate_size;
        s->f = s->params.factors;
        agent_shown_init(&s->shown, s->k, 0);
        s->user_map = calloc((size_t)(s->dim + 1) * s->f, sizeof *s->user_map);
        s->item_map = calloc((size_t)(s->dim + 1) * s->f, sizeof *s->item_map);
        s->req_factor = calloc((size_t)S_ROWS * s->f, sizeof *s->req_factor);
        if (!s->user_map || !s->item_map || !s->req_factor)
            goto fail_memory;
    }
    agent_shown_forget(&s->shown);
    if (catalog->tick == 0)
        s->requests = s->clicks = 0;
    if (s_reserve_rows(s, w->limits.max_batch, catalog->items.n) != 0)
        goto fail_memory;
    return 0;
fail_memory:
    fprintf(stderr, "recarena-mf: out of memory\n");
    return -1;
}

static int s_on_step(agent_t *agent, void *user, const proto_step_t *step, int32_t *slates)
{
    state_t *s = user;
    if (s_learn(s, &step->feedback) != 0)
        goto fail_memory;
    if (step->tick % (uint64_t)s->refit_every == 0 && s->log_n > s->log_at_fit &&
        s_refit(s, agent) != 0)
        return -1;

    const proto_items_t *items = agent_catalog(agent);
    const proto_requests_t *req = &step->requests;
    uint32_t n_live = items->n, f = s->f;
    if (n_live < s->k) {
        fprintf(stderr, "recarena-mf: %u live items for slates of %u\n", n_live, s->k);
        return -1;
    }
    if (s_reserve_rows(s, req->n, n_live) != 0)
        goto fail_memory;
    for (uint32_t r = 0; r < req->n; r++) {
        int32_t id = req->user_ids[r];
        if (id < 0 || id >= S_MAX_USER_ID) {
            fprintf(stderr, "recarena-mf: user id %d outside [0, %d)\n", id, S_MAX_USER_ID);
            return -1;
        }
        if (s_reserve_user(s, id) != 0)
            goto fail_memory;
        memcpy(s->user_features + (size_t)id * s->dim, req->features + (size_t)r * s->dim,
               s->dim * sizeof *req->features);
    }
    for (uint32_t i = 0; i < n_live; i++) {
        int32_t id = items->ids[i];
        if (s_reserve_item(s, id) != 0)
            goto fail_memory;
        if (s->item_fitted[id])
            memcpy(s->live_factor + (size_t)i * f, s->item_factor + (size_t)id * f,
                   f * sizeof(double));
        else
            mf_apply_map(s->dim, items->embeddings + (size_t)i * s->dim, s->item_map, f,
                         s->live_factor + (size_t)i * f);
    }
    uint32_t top[1024];
    if (s->k > 1024) {
        fprintf(stderr, "recarena-mf: slates of %u above 1024\n", s->k);
        return -1;
    }
    for (uint32_t r0 = 0; r0 < req->n; r0 += S_ROWS) {
        uint32_t rows = req->n - r0 < S_ROWS ? req->n - r0 : S_ROWS;
        if (!s->has_fit) { /* nothing learnt yet: random slates */
            for (size_t i = 0; i < (size_t)rows * n_live; i++)
                s->scores[i] = pcg32_uniform(agent_rng(agent));
        } else {
            for (uint32_t r = 0; r < rows; r++) {
                int32_t id = req->user_ids[r0 + r];
                double *x = s->req_factor + (size_t)r * f;
                if (s->user_fitted[id])
                    memcpy(x, s->user_factor + (size_t)id * f, f * sizeof *x);
                else
                    mf_apply_map(s->dim, req->features + (size_t)(r0 + r) * s->dim, s->user_map, f,
                                 x);
            }
            /* scores (rows, n_live) = X (rows, f) . Y (n_live, f)' */
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)n_live, (int)f,
                        1.0, s->req_factor, (int)f, s->live_factor, (int)f, 0.0, s->scores,
                        (int)n_live);
        }
        for (uint32_t r = 0; r < rows; r++) {
            s_top_k(s->scores + (size_t)r * n_live, n_live, s->k, top);
            for (uint32_t q = 0; q < s->k; q++)
                slates[(size_t)(r0 + r) * s->k + q] = items->ids[top[q]];
        }
    }
    if (agent_shown_record(&s->shown, req->n, req->user_ids, slates) != 0)
        goto fail_memory;
    s->requests += req->n;
    return 0;
fail_memory:
    fprintf(stderr, "recarena-mf: out of memory\n");
    return -1;
}

static void s_on_episode_end(agent_t *agent, void *user, const proto_episode_end_t *end)
{
    (void)agent;
    state_t *s = user;
    if (s_learn(s, &end->feedback) != 0)
        fprintf(stderr, "recarena-mf: out of memory: the last tick's clicks are lost\n");
    printf("episode %u: requests %llu clicks %llu ctr %.4f fits %u users %u items %u\n",
           end->episode, (unsigned long long)s->requests, (unsigned long long)s->clicks,
           s->requests ? (double)s->clicks / (double)s->requests : 0.0, s->fits, s->fit_users,
           s->fit_items);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    static const agent_spec_t spec = {
        .on_option = s_on_option,
        .options_help =
            "  --factors F          latent factors (default 16)\n"
            "  --reg R              ridge penalty on the factors (default 0.1)\n"
            "  --alpha A            confidence per click, c = 1 + A r (default 10)\n"
            "  --iterations N       ALS sweeps per fit (default 5)\n"
            "  --refit-every T      refit every T ticks (default 10)\n"
            "  --learn-from SIGNAL  reward: each request's reward as the server sends it,\n"
            "                       after world.reward_sharing and the diversity bonus;\n"
            "                       clicks: the agent's own clicks (default reward)\n",
        .on_reset = s_on_reset,
        .on_step = s_on_step,
        .on_episode_end = s_on_episode_end,
    };
    state_t s = {.refit_every = 10};
    mf_params_default(&s.params);
    openblas_set_num_threads(1);
    int status = agent_main(argc, argv, &spec, &s);
    free(s.user_features);
    free(s.user_factor);
    free(s.user_fitted);
    free(s.user_row);
    free(s.item_factor);
    free(s.item_fitted);
    free(s.user_map);
    free(s.item_map);
    free(s.log_user);
    free(s.log_item);
    free(s.log_weight);
    agent_shown_free(&s.shown);
    free(s.live_factor);
    free(s.req_factor);
    free(s.scores);
    return status;
}
