/* recarena-slateq: SlateQ (Ie et al. 2019; slateq.h, docs/agents.md).
 * Each request is one step: every live item gets a long-term value
 * Qbar(s, i) from an MLP and an attraction v(s, i) from a conditional-
 * logit choice model fitted to the agent's own clicks; the slate is the
 * top-k of v Qbar (or the greedy slate), or with probability epsilon a
 * uniformly random one. Qbar learns by SARSA on the item the user
 * consumed (or "none") from the request's reward (the server's, after
 * sharing and the team bonus, or with --reward clicks the own click,
 * rl/reward.h); the next
 * state and slate are the same user's next request and the slate shown
 * there (tracker.h). --gamma 0 is the myopic agent: Qbar is then the
 * immediate reward, and v Qbar the click-through rate.
 *
 *     recarena-slateq --gamma 0.9 --slate top-k */
#include "agents/sdk/agent.h"
#include "core/err.h"
#include "core/parse.h"
#include "proto/protocol.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/nn/nn.h"
#include "agents/rl/explore.h"
#include "agents/rl/observe.h"
#include "agents/rl/option.h"
#include "agents/rl/reward.h"
#include "agents/rl/slate.h"
#include "agents/rl/slateq.h"
#include "agents/rl/tracker.h"

typedef struct slateq_agent {
    /* options */
    int train_every;
    rl_reward_source_t reward; /* --reward server|clicks */
    float eps_start, eps_end;
    size_t eps_steps;
    slateq_config_t cfg;

    /* learner, made at the first catalog */
    bool ready;
    uint32_t dim, n_topics, k, history_len, max_batch, obs_dim, desc_w;
    tracker_t *tracker;
    slateq_t *sq;
    agent_t *agent; /* during a callback */
    float *obs;     /* (obs_dim) */
    float *desc;    /* (max_items, desc_w): every live item's descriptor */
    float *act;     /* (1 + k): the user id, then the slate's ids */
    float *row;     /* (slateq_row_width) */
    float *shown;   /* (k, desc_w): a page's descriptors */
    int *rows;      /* (k) */
    int *perm;      /* (max_items): scratch of random slates */
    float *rewards; /* (max_batch): --reward clicks' rewards */
    /* per user id: the slate of their latest request and their latest click */
    int32_t *slates; /* (n_users, k) */
    int32_t *clicked;
    size_t n_users;
    size_t decisions, new_transitions, transitions;
    double loss_sum, nll_sum;
    long loss_n, nll_n;
    bool out_of_memory;
} slateq_agent_t;

/* desc (dim + 2) of the live item at row `at`, with its topic's share in obs */
static void s_describe(const slateq_agent_t *s, const proto_items_t *items, int at,
                       const float *obs, float *desc)
{
    memcpy(desc, items->embeddings + (size_t)at * s->dim, s->dim * sizeof *desc);
    int32_t topic = items->topics[at];
    desc[s->dim] = topic >= 0 && (uint32_t)topic < s->n_topics ? obs[s->dim + topic] : 0.0f;
    desc[s->dim + 1] = 0.0f;
}

static int s_grow_users(slateq_agent_t *s, int32_t user)
{
    if (user < 0 || user >= PROTO_MAX_USERS)
        return -1;
    if ((size_t)user < s->n_users)
        return 0;
    size_t n = s->n_users ? s->n_users : 256;
    while (n <= (size_t)user)
        n *= 2;
    int32_t *slates = realloc(s->slates, n * s->k * sizeof *slates);
    if (!slates)
        return -1;
    s->slates = slates;
    int32_t *clicked = realloc(s->clicked, n * sizeof *clicked);
    if (!clicked)
        return -1;
    s->clicked = clicked;
    for (size_t u = s->n_users; u < n; u++)
        s->clicked[u] = -1;
    s->n_users = n;
    return 0;
}

/* A tracker record (obs | user, slate | reward | next_obs | done) becomes
 * a page for the choice model and a SARSA transition. */
static void s_emit(void *ctx, const float *rec)
{
    slateq_agent_t *s = ctx;
    const proto_items_t *items = agent_catalog(s->agent);
    uint32_t od = s->obs_dim, dw = s->desc_w, k = s->k;
    int32_t user = (int32_t)rec[od];
    if (user < 0 || (size_t)user >= s->n_users)
        return;
    const float *obs = rec, *next_obs = rec + od + 1 + k + 1;
    float reward = rec[od + 1 + k], done = rec[od + 1 + k + 1 + od];
    /* the page shown: every item still live, or the record is dropped */
    float *shown = s->shown;
    for (uint32_t j = 0; j < k; j++) {
        int at = slate_item_row(items, (int32_t)rec[od + 1 + j]);
        if (at < 0)
            return;
        s_describe(s, items, at, obs, shown + (size_t)j * dw);
    }
    int c = s->clicked[user];
    if (c >= (int)k)
        c = -1;
    s->nll_sum += slateq_observe_choice(s->sq, obs, shown, c);
    s->nll_n++;

    float *row = s->row;
    memcpy(row, obs, od * sizeof *row);
    float *consumed = row + od;
    if (c >= 0) {
        memcpy(consumed, shown + (size_t)c * dw, dw * sizeof *row);
    } else {
        memset(consumed, 0, dw * sizeof *row);
        consumed[dw - 1] = 1.0f;
    }
    row[od + dw] = reward;
    float *next = row + od + dw + 1, *next_slate = next + od;
    memcpy(next, next_obs, od * sizeof *row);
    memset(next_slate, 0, (size_t)k * dw * sizeof *row);
    if (done == 0.0f) /* A': the slate the same user was shown next */
        for (uint32_t j = 0; j < k; j++) {
            int at = slate_item_row(items, s->slates[(size_t)user * k + j]);
            if (at >= 0)
                s_describe(s, items, at, next_obs, next_slate + (size_t)j * dw);
        }
    row[slateq_row_width(&s->cfg) - 1] = done;
    if (slateq_push(s->sq, row) != 0)
        s->out_of_memory = true;
    s->transitions++;
    s->new_transitions++;
}

static int s_init(slateq_agent_t *s, agent_t *agent)
{
    const proto_welcome_t *w = agent_welcome(agent);
    s->dim = w->dim;
    s->n_topics = w->n_topics;
    s->k = w->slate_size;
    s->history_len = w->history_len;
    s->max_batch = w->limits.max_batch;
    if (s->n_topics < 1 || s->dim < 1 || s->k < 1 || s->k > SLATEQ_MAX_K) {
        fprintf(stderr, "slateq: needs topics, features and a slate of 1..%d\n", SLATEQ_MAX_K);
        return -1;
    }
    s->obs_dim = observe_dim(s->dim, s->n_topics);
    s->desc_w = (uint32_t)slateq_choice_width((int)s->dim);
    s->cfg.obs_dim = (int)s->obs_dim;
    s->cfg.dim = (int)s->dim;
    s->cfg.k = (int)s->k;
    s->sq = slateq_new(&s->cfg, agent_rng(agent));
    s->tracker = tracker_new((int)s->obs_dim, 1 + (int)s->k, 0);
    s->obs = malloc(s->obs_dim * sizeof *s->obs);
    s->desc = malloc((size_t)s->cfg.max_items * s->desc_w * sizeof *s->desc);
    s->act = malloc((1 + s->k) * sizeof *s->act);
    s->row = malloc((size_t)slateq_row_width(&s->cfg) * sizeof *s->row);
    s->shown = malloc((size_t)s->k * s->desc_w * sizeof *s->shown);
    s->rows = malloc(s->k * sizeof *s->rows);
    s->perm = malloc((size_t)s->cfg.max_items * sizeof *s->perm);
    s->rewards = malloc((s->max_batch ? s->max_batch : 1) * sizeof *s->rewards);
    if (!s->sq || !s->tracker || !s->obs || !s->desc || !s->act || !s->row || !s->shown ||
        !s->rows || !s->perm || !s->rewards) {
        fprintf(stderr, "slateq: out of memory or bad sizes\n");
        return -1;
    }
    s->ready = true;
    return 0;
}

static int s_on_reset(agent_t *agent, void *user, const proto_catalog_t *catalog)
{
    (void)catalog;
    slateq_agent_t *s = user;
    if (!s->ready && s_init(s, agent) != 0)
        return -1;
    tracker_reset(s->tracker);
    return 0;
}

static void s_feedback(slateq_agent_t *s, uint32_t tick, const proto_feedback_t *fb)
{
    for (uint32_t i = 0; i < fb->n; i++)
        if (fb->user_ids[i] >= 0 && (size_t)fb->user_ids[i] < s->n_users)
            s->clicked[fb->user_ids[i]] = fb->clicked[i];
    tracker_feedback(s->tracker, tick, fb->n, fb->user_ids,
                     rl_reward_signal(s->reward, fb, s->rewards, s->max_batch), fb->session_end,
                     s_emit, s);
}

/* rows (k): k distinct uniformly random rows of n (a partial Fisher-Yates
 * over work (n)). */
static void s_random_slate(pcg32_t *rng, int n, int k, int *work, int *rows)
{
    for (int i = 0; i < n; i++)
        work[i] = i;
    for (int j = 0; j < k; j++) {
        int pick = j + (int)pcg32_bounded(rng, (uint32_t)(n - j));
        int t = work[j];
        work[j] = work[pick];
        work[pick] = t;
        rows[j] = work[j];
    }
}

static int s_on_step(agent_t *agent, void *user, const proto_step_t *step, int32_t *slates)
{
    slateq_agent_t *s = user;
    s->agent = agent;
    s_feedback(s, step->tick, &step->feedback);

    const proto_items_t *items = agent_catalog(agent);
    const proto_requests_t *req = &step->requests;
    int n = (int)items->n;
    if (req->n > 0 && (n < (int)s->k || n + 1 > s->cfg.max_items)) {
        fprintf(stderr, "slateq: %d live items, fewer than k = %u or more than --max-items %d\n", n,
                s->k, s->cfg.max_items - 1);
        return -1;
    }
    float epsilon = explore_linear(s->decisions, s->eps_start, s->eps_end, s->eps_steps);
    for (uint32_t r = 0; r < req->n; r++) {
        int32_t uid = req->user_ids[r];
        if (s_grow_users(s, uid) != 0) {
            fprintf(stderr, "slateq: cannot track user %d\n", uid);
            return -1;
        }
        observe_vector(req->features + (size_t)r * s->dim, s->dim,
                       req->history + (size_t)r * s->history_len, s->history_len, items,
                       s->n_topics, s->obs);
        if (epsilon > 0.0f && pcg32_uniform_f(agent_rng(agent)) < epsilon) {
            s_random_slate(agent_rng(agent), n, (int)s->k, s->perm, s->rows);
        } else {
            for (int i = 0; i < n; i++)
                s_describe(s, items, i, s->obs, s->desc + (size_t)i * s->desc_w);
            slateq_select(s->sq, s->obs, s->desc, n, s->rows);
        }
        int32_t *slate = slates + (size_t)r * s->k;
        s->act[0] = (float)uid;
        for (uint32_t j = 0; j < s->k; j++) {
            slate[j] = items->ids[s->rows[j]];
            s->act[1 + j] = (float)slate[j];
        }
        memcpy(s->slates + (size_t)uid * s->k, slate, s->k * sizeof *slate);
        if (tracker_request(s->tracker, step->tick, uid, s->obs, s->act, s_emit, s) != 0) {
            fprintf(stderr, "slateq: cannot track user %d\n", uid);
            return -1;
        }
        s->clicked[uid] = -1; /* until this request's feedback comes */
    }
    s->decisions += req->n;
    if (s->out_of_memory) {
        fprintf(stderr, "slateq: out of memory for the replay buffer\n");
        return -1;
    }
    for (; s->new_transitions >= (size_t)s->train_every; s->new_transitions -= s->train_every) {
        float loss;
        if (slateq_train_step(s->sq, agent_rng(agent), &loss)) {
            s->loss_sum += loss;
            s->loss_n++;
        }
    }
    return 0;
}

static void s_on_episode_end(agent_t *agent, void *user, const proto_episode_end_t *end)
{
    slateq_agent_t *s = user;
    if (!s->ready)
        return;
    s->agent = agent;
    s_feedback(s, end->ticks, &end->feedback);
    tracker_reset(s->tracker);
    fprintf(stderr,
            "slateq: episode %u reward %.3f epsilon %.3f transitions %zu loss %.4f choice nll "
            "%.4f\n",
            end->episode, end->reward,
            explore_linear(s->decisions, s->eps_start, s->eps_end, s->eps_steps), s->transitions,
            s->loss_n ? s->loss_sum / s->loss_n : 0.0, s->nll_n ? s->nll_sum / s->nll_n : 0.0);
    s->loss_sum = s->nll_sum = 0.0;
    s->loss_n = s->nll_n = 0;
}

static int s_on_option(void *user, const char *name, const char *value)
{
    slateq_agent_t *s = user;
    slateq_config_t *c = &s->cfg;
    if (strcmp(name, "slate") == 0) {
        if (strcmp(value, "top-k") == 0)
            c->greedy = false;
        else if (strcmp(value, "greedy") == 0)
            c->greedy = true;
        else
            return -1;
        return 0;
    }
    if (strcmp(name, "reward") == 0)
        return rl_reward_parse(value, false, &s->reward);
    if (strcmp(name, "gamma") == 0)
        return option_float(value, 0.0, 1.0, &c->gamma);
    if (strcmp(name, "lr") == 0)
        return option_float(value, 1e-9, 10.0, &c->lr);
    if (strcmp(name, "choice-lr") == 0)
        return option_float(value, 0.0, 10.0, &c->choice_lr);
    if (strcmp(name, "eps-start") == 0)
        return option_float(value, 0.0, 1.0, &s->eps_start);
    if (strcmp(name, "eps-end") == 0)
        return option_float(value, 0.0, 1.0, &s->eps_end);
    if (strcmp(name, "eps-steps") == 0)
        return option_size(value, 0, (size_t)1 << 40, &s->eps_steps);
    if (strcmp(name, "batch") == 0)
        return parse_int(value, 1, 65536, &c->batch);
    if (strcmp(name, "hidden") == 0)
        return parse_int(value, 1, 4096, &c->hidden);
    if (strcmp(name, "target-every") == 0)
        return parse_int(value, 1, 1 << 30, &c->target_every);
    if (strcmp(name, "train-every") == 0)
        return parse_int(value, 1, 1 << 30, &s->train_every);
    if (strcmp(name, "buffer") == 0)
        return option_size(value, 1, (size_t)1 << 26, &c->buffer);
    if (strcmp(name, "max-items") == 0)
        return parse_int(value, 2, 1 << 20, &c->max_items);
    return -1;
}

int main(int argc, char **argv)
{
    static const agent_spec_t spec = {
        .on_option = s_on_option,
        .options_help =
            "  --gamma G            discount between a user's requests; 0 = myopic (0.9)\n"
            "  --slate top-k|greedy slate optimisation (default top-k)\n"
            "  --reward server|clicks  learn from the reward the server sends (after\n"
            "                       world.reward_sharing and the diversity bonus) or from\n"
            "                       the agent's own click (default server)\n"
            "  --eps-start E        epsilon (random slate) at the start (0.5)\n"
            "  --eps-end E          epsilon after --eps-steps requests (0.02)\n"
            "  --eps-steps N        requests over which epsilon anneals linearly (10000)\n"
            "  --lr LR              Adam learning rate of Qbar (0.001)\n"
            "  --choice-lr LR       SGD rate of the choice model (0.05)\n"
            "  --batch B            transitions per training step (64)\n"
            "  --hidden H           units of each of two ReLU layers (64)\n"
            "  --train-every N      one training step per N new transitions (4)\n"
            "  --target-every N     training steps between target copies (100)\n"
            "  --buffer N           replay capacity (50000)\n"
            "  --max-items N        most live items, plus one (4096)\n",
        .on_reset = s_on_reset,
        .on_step = s_on_step,
        .on_episode_end = s_on_episode_end,
    };
    slateq_agent_t s = {.train_every = 4, .eps_start = 0.5f, .eps_end = 0.02f, .eps_steps = 10000};
    slateq_config_default(&s.cfg, 1, 1, 1);
    nn_blas_set_threads(1);
    int rc = agent_main(argc, argv, &spec, &s);
    tracker_destroy(&s.tracker);
    slateq_destroy(&s.sq);
    free(s.obs);
    free(s.desc);
    free(s.act);
    free(s.row);
    free(s.shown);
    free(s.rows);
    free(s.perm);
    free(s.rewards);
    free(s.slates);
    free(s.clicked);
    return rc;
}
