/* recarena-pg: a policy-gradient recommender (docs/agents.md). Each
 * request is one step: the agent draws a slate from a softmax over the
 * live items (Plackett-Luce, without replacement; pg.h) whose logits are
 * the items' embeddings against a query vector computed by an actor MLP
 * from the observation (observe.h), and learns by a one-step
 * actor-critic from the request's reward (by default the reward the
 * server sends, after world.reward_sharing and the diversity bonus; with
 * --reward team its share of the team reward, with --reward clicks its
 * own click: rl/reward.h); the next state is the
 * same user's next request (tracker.h).
 *
 *   --learn on-policy   REINFORCE on the slate's log-probability
 *   --learn replay      from a replay of past policies' slates, with the
 *                       top-K off-policy correction (--correction topk)
 *
 *     recarena-pg --learn replay --correction topk --cap 10 */
#include "agents/sdk/agent.h"
#include "core/err.h"
#include "core/parse.h"
#include "proto/protocol.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/nn/nn.h"
#include "agents/rl/joint.h"
#include "agents/rl/observe.h"
#include "agents/rl/option.h"
#include "agents/rl/pg.h"
#include "agents/rl/reward.h"
#include "agents/rl/tracker.h"

typedef struct pg_agent {
    /* options */
    rl_reward_source_t reward; /* --reward */
    int train_every;
    pg_config_t cfg; /* sizes filled in at the first catalog */

    /* learner, made at the first catalog when the sizes are known */
    bool ready;
    uint32_t dim, n_topics, k, history_len, max_batch, obs_dim;
    tracker_t *tracker;
    pg_t *pg;
    agent_t *agent; /* during a callback: emit trains on its catalog */
    float *obs;     /* (max_batch, obs_dim) */
    float *act;     /* (2k): slate ids, then their behaviour probabilities */
    float *rewards; /* (max_batch) */
    size_t new_transitions, transitions;
    double actor_loss, critic_loss;
    long loss_n;
    bool out_of_memory;
} pg_agent_t;

static void s_train(pg_agent_t *p)
{
    float aloss, closs;
    if (pg_train_step(p->pg, agent_catalog(p->agent), agent_rng(p->agent), &aloss, &closs)) {
        p->actor_loss += aloss;
        p->critic_loss += closs;
        p->loss_n++;
    }
}

static void s_emit(void *ctx, const float *row)
{
    pg_agent_t *p = ctx;
    p->transitions++;
    if (pg_push(p->pg, row) != 0)
        p->out_of_memory = true;
    if (!p->cfg.replay)
        s_train(p); /* on-policy: learns as soon as a batch is full */
    else
        p->new_transitions++;
}

static int s_init(pg_agent_t *p, agent_t *agent)
{
    const proto_welcome_t *w = agent_welcome(agent);
    p->dim = w->dim;
    p->n_topics = w->n_topics;
    p->k = w->slate_size;
    p->history_len = w->history_len;
    p->max_batch = w->limits.max_batch;
    if (p->n_topics < 1 || p->dim < 1 || p->max_batch < 1 || p->k < 1 || p->k > PG_MAX_K) {
        fprintf(stderr, "pg: needs topics, features, requests and a slate of 1..%d\n", PG_MAX_K);
        return -1;
    }
    p->obs_dim = observe_dim(p->dim, p->n_topics);
    p->cfg.obs_dim = (int)p->obs_dim;
    p->cfg.dim = (int)p->dim;
    p->cfg.k = (int)p->k;
    p->pg = pg_new(&p->cfg, agent_rng(agent));
    p->tracker = tracker_new((int)p->obs_dim, 2 * (int)p->k, 0);
    p->obs = malloc((size_t)p->max_batch * p->obs_dim * sizeof *p->obs);
    p->act = malloc(2 * (size_t)p->k * sizeof *p->act);
    p->rewards = malloc(p->max_batch * sizeof *p->rewards);
    if (!p->pg || !p->tracker || !p->obs || !p->act || !p->rewards) {
        fprintf(stderr, "pg: out of memory or bad sizes\n");
        return -1;
    }
    p->ready = true;
    return 0;
}

static int s_on_reset(agent_t *agent, void *user, const proto_catalog_t *catalog)
{
    (void)catalog;
    pg_agent_t *p = user;
    if (!p->ready && s_init(p, agent) != 0)
        return -1;
    tracker_reset(p->tracker);
    return 0;
}

static int s_on_step(agent_t *agent, void *user, const proto_step_t *step, int32_t *slates)
{
    pg_agent_t *p = user;
    p->agent = agent;
    const proto_feedback_t *fb = &step->feedback;
    tracker_feedback(p->tracker, step->tick, fb->n, fb->user_ids,
                     rl_reward_signal(p->reward, fb, p->rewards, p->max_batch), fb->session_end,
                     s_emit, p);

    const proto_items_t *items = agent_catalog(agent);
    const proto_requests_t *req = &step->requests;
    if (req->n > p->max_batch) {
        fprintf(stderr, "pg: %u requests, more than max_batch %u\n", req->n, p->max_batch);
        return -1;
    }
    for (uint32_t r = 0; r < req->n; r++) {
        float *o = p->obs + (size_t)r * p->obs_dim;
        observe_vector(req->features + (size_t)r * p->dim, p->dim,
                       req->history + (size_t)r * p->history_len, p->history_len, items,
                       p->n_topics, o);
        if (pg_act(p->pg, o, items, agent_rng(agent), slates + (size_t)r * p->k, p->act + p->k) !=
            0) {
            fprintf(stderr, "pg: %u live items, fewer than k = %u or more than --max-items %d\n",
                    items->n, p->k, p->cfg.max_items);
            return -1;
        }
        for (uint32_t j = 0; j < p->k; j++)
            p->act[j] = (float)slates[(size_t)r * p->k + j];
        if (tracker_request(p->tracker, step->tick, req->user_ids[r], o, p->act, s_emit, p) != 0) {
            fprintf(stderr, "pg: cannot track user %d\n", req->user_ids[r]);
            return -1;
        }
    }
    if (p->out_of_memory) {
        fprintf(stderr, "pg: out of memory for the transitions\n");
        return -1;
    }
    for (; p->new_transitions >= (size_t)p->train_every; p->new_transitions -= p->train_every)
        s_train(p);
    return 0;
}

static void s_on_joint(agent_t *agent, void *user, const proto_joint_t *joint)
{
    pg_agent_t *p = user;
    const proto_welcome_t *w = agent_welcome(agent);
    if (p->reward != RL_REWARD_TEAM || !p->ready || w->agent_index >= joint->n_agents)
        return;
    const proto_joint_agent_t *mine = &joint->agents[w->agent_index];
    if (mine->n > p->max_batch)
        return;
    p->agent = agent;
    joint_team_rewards(joint, w->agent_index, agent_catalog(agent), p->rewards);
    for (uint32_t r = 0; r < mine->n; r++)
        tracker_outcome(p->tracker, joint->tick, mine->user_ids[r], &p->rewards[r], NULL, s_emit,
                        p);
}

static void s_on_episode_end(agent_t *agent, void *user, const proto_episode_end_t *end)
{
    pg_agent_t *p = user;
    if (!p->ready)
        return;
    p->agent = agent;
    const proto_feedback_t *fb = &end->feedback;
    tracker_feedback(p->tracker, end->ticks, fb->n, fb->user_ids,
                     rl_reward_signal(p->reward, fb, p->rewards, p->max_batch), fb->session_end,
                     s_emit, p);
    tracker_reset(p->tracker);
    fprintf(stderr, "pg: episode %u reward %.3f transitions %zu actor loss %.4f critic loss %.4f\n",
            end->episode, end->reward, p->transitions, p->loss_n ? p->actor_loss / p->loss_n : 0.0,
            p->loss_n ? p->critic_loss / p->loss_n : 0.0);
    p->actor_loss = p->critic_loss = 0.0;
    p->loss_n = 0;
}

static int s_on_option(void *user, const char *name, const char *value)
{
    pg_agent_t *p = user;
    pg_config_t *c = &p->cfg;
    if (strcmp(name, "learn") == 0) {
        if (strcmp(value, "on-policy") == 0)
            c->replay = false;
        else if (strcmp(value, "replay") == 0)
            c->replay = true;
        else
            return -1;
        return 0;
    }
    if (strcmp(name, "correction") == 0) {
        if (strcmp(value, "none") == 0)
            c->correction = PG_CORRECTION_NONE;
        else if (strcmp(value, "is") == 0)
            c->correction = PG_CORRECTION_IS;
        else if (strcmp(value, "topk") == 0)
            c->correction = PG_CORRECTION_TOPK;
        else
            return -1;
        return 0;
    }
    if (strcmp(name, "reward") == 0) {
        return rl_reward_parse(value, true, &p->reward);
    }
    if (strcmp(name, "gamma") == 0)
        return option_float(value, 0.0, 1.0, &c->gamma);
    if (strcmp(name, "lr") == 0)
        return option_float(value, 1e-9, 10.0, &c->lr);
    if (strcmp(name, "critic-lr") == 0)
        return option_float(value, 1e-9, 10.0, &c->critic_lr);
    if (strcmp(name, "temperature") == 0)
        return option_float(value, 1e-4, 1e4, &c->temperature);
    if (strcmp(name, "cap") == 0)
        return option_float(value, 1e-6, 1e9, &c->cap);
    if (strcmp(name, "batch") == 0)
        return parse_int(value, 1, 65536, &c->batch);
    if (strcmp(name, "hidden") == 0)
        return parse_int(value, 1, 4096, &c->hidden);
    if (strcmp(name, "max-items") == 0)
        return parse_int(value, 1, 1 << 20, &c->max_items);
    if (strcmp(name, "train-every") == 0)
        return parse_int(value, 1, 1 << 30, &p->train_every);
    if (strcmp(name, "buffer") == 0)
        return option_size(value, 1, (size_t)1 << 26, &c->buffer);
    return -1;
}

int main(int argc, char **argv)
{
    static const char *const caps[] = {"joint"};
    static const agent_spec_t spec = {
        .caps = caps,
        .n_caps = 1,
        .on_option = s_on_option,
        .options_help =
            "  --learn on-policy|replay  REINFORCE on fresh slates, or from a replay of past\n"
            "                       policies' slates (default on-policy)\n"
            "  --correction none|is|topk  replay: off-policy weight of each logged item\n"
            "                       (default topk: Chen et al. 2019)\n"
            "  --cap C              replay: largest importance ratio (10)\n"
            "  --reward server|team|clicks  learn from the reward the server sends (after\n"
            "                       world.reward_sharing and the diversity bonus), from the\n"
            "                       request's share of the team's mean reward (JOINT), or from\n"
            "                       the agent's own click (`own` = clicks; default server)\n"
            "  --gamma G            discount between a user's requests (0.9)\n"
            "  --temperature T      softmax temperature of the item logits (0.1)\n"
            "  --lr LR              actor's Adam learning rate (0.001)\n"
            "  --critic-lr LR       critic's Adam learning rate (0.001)\n"
            "  --batch B            transitions per update (32)\n"
            "  --hidden H           units of each of two ReLU layers (64)\n"
            "  --train-every N      replay: one update per N new transitions (4)\n"
            "  --buffer N           replay: capacity (20000)\n"
            "  --max-items N        most live items (4096)\n",
        .on_reset = s_on_reset,
        .on_step = s_on_step,
        .on_joint = s_on_joint,
        .on_episode_end = s_on_episode_end,
    };
    pg_agent_t p = {.reward = RL_REWARD_SERVER, .train_every = 4};
    pg_config_default(&p.cfg, 1, 1, 1);
    nn_blas_set_threads(1);
    int rc = agent_main(argc, argv, &spec, &p);
    tracker_destroy(&p.tracker);
    pg_destroy(&p.pg);
    free(p.obs);
    free(p.act);
    free(p.rewards);
    return rc;
}
