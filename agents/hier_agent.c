/* recarena-hier: a hierarchical recommender in one process with two
 * learned levels (docs/agents.md; why one process: docs/architecture.md).
 *
 *   planner  picks a topic for a user and holds it for --hold of that
 *            user's requests (an option, hier.h), learned by DQN (dqn.h)
 *            over option-level transitions, discount gamma^hold;
 *   ranker   draws the slate among the held topic's items from a softmax
 *            over item scores (Plackett-Luce, pg.h with a topic
 *            restriction), learned by a one-step actor-critic from each
 *            request's reward; its observation is the planner's plus a
 *            one-hot of the topic.
 *
 * Both learn from the reward the server sends (after world.reward_sharing
 * and the diversity bonus), or with --reward clicks from the agent's own
 * clicks (rl/reward.h); the next state is the same user's next request.
 *
 *     recarena-hier --hold 3 --gamma 0.9 */
#include "agents/sdk/agent.h"
#include "core/err.h"
#include "core/parse.h"
#include "proto/protocol.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/nn/nn.h"
#include "agents/rl/dqn.h"
#include "agents/rl/explore.h"
#include "agents/rl/hier.h"
#include "agents/rl/observe.h"
#include "agents/rl/option.h"
#include "agents/rl/pg.h"
#include "agents/rl/reward.h"
#include "agents/rl/tracker.h"

typedef struct hier_agent {
    /* options */
    int hold, train_every;
    rl_reward_source_t reward; /* --reward server|clicks */
    float gamma, eps_start, eps_end;
    size_t eps_steps;
    dqn_config_t planner_cfg;
    pg_config_t ranker_cfg;

    /* made at the first catalog */
    bool ready;
    uint32_t dim, n_topics, k, history_len, obs_dim, ranker_dim, max_batch;
    hier_t *options;
    dqn_t *planner;
    tracker_t *tracker; /* the ranker's transitions */
    pg_t *ranker;
    agent_t *agent; /* during a callback */
    float *obs;     /* (ranker_dim): the planner's observation, then the topic one-hot */
    float *act;     /* (2k): slate ids, then their probabilities */
    float *rewards; /* (max_batch): --reward clicks' rewards */
    size_t options_started, new_options, planner_transitions;
    double loss_sum;
    long loss_n;
    bool out_of_memory;
} hier_agent_t;

static void s_emit_option(void *ctx, const float *row)
{
    hier_agent_t *h = ctx;
    if (dqn_push(h->planner, row) != 0)
        h->out_of_memory = true;
    h->planner_transitions++;
    h->new_options++;
}

static void s_emit_request(void *ctx, const float *row)
{
    hier_agent_t *h = ctx;
    if (pg_push(h->ranker, row) != 0)
        h->out_of_memory = true;
    pg_train_step(h->ranker, agent_catalog(h->agent), agent_rng(h->agent), NULL, NULL);
}

static float s_pow(float x, int n)
{
    float p = 1.0f;
    for (int i = 0; i < n; i++)
        p *= x;
    return p;
}

static int s_init(hier_agent_t *h, agent_t *agent)
{
    const proto_welcome_t *w = agent_welcome(agent);
    h->dim = w->dim;
    h->n_topics = w->n_topics;
    h->k = w->slate_size;
    h->history_len = w->history_len;
    h->max_batch = w->limits.max_batch;
    if (h->n_topics < 1 || h->dim < 1 || h->k < 1 || h->k > PG_MAX_K) {
        fprintf(stderr, "hier: needs topics, features and a slate of 1..%d\n", PG_MAX_K);
        return -1;
    }
    h->obs_dim = observe_dim(h->dim, h->n_topics);
    h->ranker_dim = h->obs_dim + h->n_topics;
    h->planner_cfg.obs_dim = (int)h->obs_dim;
    h->planner_cfg.n_actions = (int)h->n_topics;
    h->planner_cfg.gamma = s_pow(h->gamma, h->hold);
    h->planner = dqn_new(&h->planner_cfg, agent_rng(agent));
    h->ranker_cfg.obs_dim = (int)h->ranker_dim;
    h->ranker_cfg.dim = (int)h->dim;
    h->ranker_cfg.k = (int)h->k;
    h->ranker_cfg.n_topics = (int)h->n_topics;
    h->ranker = pg_new(&h->ranker_cfg, agent_rng(agent));
    h->options = hier_new((int)h->obs_dim, h->hold, h->gamma);
    h->tracker = tracker_new((int)h->ranker_dim, 2 * (int)h->k, 0);
    h->obs = calloc(h->ranker_dim, sizeof *h->obs);
    h->act = malloc(2 * (size_t)h->k * sizeof *h->act);
    h->rewards = malloc((h->max_batch ? h->max_batch : 1) * sizeof *h->rewards);
    if (!h->planner || !h->ranker || !h->options || !h->tracker || !h->obs || !h->act ||
        !h->rewards) {
        fprintf(stderr, "hier: out of memory or bad sizes\n");
        return -1;
    }
    h->ready = true;
    return 0;
}

static int s_on_reset(agent_t *agent, void *user, const proto_catalog_t *catalog)
{
    (void)catalog;
    hier_agent_t *h = user;
    if (!h->ready && s_init(h, agent) != 0)
        return -1;
    hier_reset(h->options);
    tracker_reset(h->tracker);
    return 0;
}

static void s_feedback(hier_agent_t *h, uint32_t tick, const proto_feedback_t *fb)
{
    const float *rewards = rl_reward_signal(h->reward, fb, h->rewards, h->max_batch);
    if (!rewards)
        return; /* more requests than WELCOME's max_batch: not learnt from */
    tracker_feedback(h->tracker, tick, fb->n, fb->user_ids, rewards, fb->session_end,
                     s_emit_request, h);
    hier_feedback(h->options, tick, fb->n, fb->user_ids, rewards, fb->session_end, s_emit_option,
                  h);
}

static int s_on_step(agent_t *agent, void *user, const proto_step_t *step, int32_t *slates)
{
    hier_agent_t *h = user;
    h->agent = agent;
    s_feedback(h, step->tick, &step->feedback);

    const proto_items_t *items = agent_catalog(agent);
    const proto_requests_t *req = &step->requests;
    float epsilon = explore_linear(h->options_started, h->eps_start, h->eps_end, h->eps_steps);
    for (uint32_t r = 0; r < req->n; r++) {
        int32_t uid = req->user_ids[r];
        observe_vector(req->features + (size_t)r * h->dim, h->dim,
                       req->history + (size_t)r * h->history_len, h->history_len, items,
                       h->n_topics, h->obs);
        int topic = hier_current(h->options, step->tick, uid, h->obs, s_emit_option, h);
        if (topic < 0) {
            const float *q = dqn_q_values(h->planner, h->obs, 1);
            topic = explore_egreedy(agent_rng(agent), q, (int)h->n_topics, epsilon);
            if (hier_start(h->options, step->tick, uid, h->obs, topic) != 0) {
                fprintf(stderr, "hier: cannot track user %d\n", uid);
                return -1;
            }
            h->options_started++;
        }
        float *onehot = h->obs + h->obs_dim;
        memset(onehot, 0, h->n_topics * sizeof *onehot);
        onehot[topic] = 1.0f;
        int32_t *slate = slates + (size_t)r * h->k;
        if (pg_act(h->ranker, h->obs, items, agent_rng(agent), slate, h->act + h->k) != 0) {
            fprintf(stderr, "hier: %u live items, fewer than k = %u or more than --max-items %d\n",
                    items->n, h->k, h->ranker_cfg.max_items);
            return -1;
        }
        for (uint32_t j = 0; j < h->k; j++)
            h->act[j] = (float)slate[j];
        if (tracker_request(h->tracker, step->tick, uid, h->obs, h->act, s_emit_request, h) != 0) {
            fprintf(stderr, "hier: cannot track user %d\n", uid);
            return -1;
        }
    }
    if (h->out_of_memory) {
        fprintf(stderr, "hier: out of memory for the transitions\n");
        return -1;
    }
    for (; h->new_options >= (size_t)h->train_every; h->new_options -= h->train_every) {
        float loss;
        if (dqn_train_step(h->planner, agent_rng(agent), &loss)) {
            h->loss_sum += loss;
            h->loss_n++;
        }
    }
    return 0;
}

static void s_on_episode_end(agent_t *agent, void *user, const proto_episode_end_t *end)
{
    hier_agent_t *h = user;
    if (!h->ready)
        return;
    h->agent = agent;
    s_feedback(h, end->ticks, &end->feedback);
    hier_reset(h->options);
    tracker_reset(h->tracker);
    fprintf(stderr, "hier: episode %u reward %.3f epsilon %.3f options %zu planner loss %.4f\n",
            end->episode, end->reward,
            explore_linear(h->options_started, h->eps_start, h->eps_end, h->eps_steps),
            h->planner_transitions, h->loss_n ? h->loss_sum / h->loss_n : 0.0);
    h->loss_sum = 0.0;
    h->loss_n = 0;
}

static int s_on_option(void *user, const char *name, const char *value)
{
    hier_agent_t *h = user;
    if (strcmp(name, "hold") == 0)
        return parse_int(value, 1, 1000, &h->hold);
    if (strcmp(name, "reward") == 0)
        return rl_reward_parse(value, false, &h->reward);
    if (strcmp(name, "gamma") == 0)
        return option_float(value, 0.0, 1.0, &h->gamma);
    if (strcmp(name, "ranker-gamma") == 0)
        return option_float(value, 0.0, 1.0, &h->ranker_cfg.gamma);
    if (strcmp(name, "eps-start") == 0)
        return option_float(value, 0.0, 1.0, &h->eps_start);
    if (strcmp(name, "eps-end") == 0)
        return option_float(value, 0.0, 1.0, &h->eps_end);
    if (strcmp(name, "eps-steps") == 0)
        return option_size(value, 0, (size_t)1 << 40, &h->eps_steps);
    if (strcmp(name, "lr") == 0)
        return option_float(value, 1e-9, 10.0, &h->planner_cfg.lr);
    if (strcmp(name, "ranker-lr") == 0)
        return option_float(value, 1e-9, 10.0, &h->ranker_cfg.lr);
    if (strcmp(name, "temperature") == 0)
        return option_float(value, 1e-4, 1e4, &h->ranker_cfg.temperature);
    if (strcmp(name, "hidden") == 0) {
        if (parse_int(value, 1, 4096, &h->planner_cfg.hidden) != 0)
            return -1;
        h->ranker_cfg.hidden = h->planner_cfg.hidden;
        return 0;
    }
    if (strcmp(name, "train-every") == 0)
        return parse_int(value, 1, 1 << 30, &h->train_every);
    if (strcmp(name, "max-items") == 0)
        return parse_int(value, 1, 1 << 20, &h->ranker_cfg.max_items);
    return -1;
}

int main(int argc, char **argv)
{
    static const agent_spec_t spec = {
        .on_option = s_on_option,
        .options_help =
            "  --hold H             requests of a user for which the planner holds a topic (3)\n"
            "  --reward server|clicks  both levels learn from the reward the server sends\n"
            "                       (after world.reward_sharing and the diversity bonus) or\n"
            "                       from the agent's own clicks (default server)\n"
            "  --gamma G            planner: discount between a user's requests (0.9); an\n"
            "                       option of H requests is discounted by G^H\n"
            "  --eps-start E        planner: epsilon at the start (1.0)\n"
            "  --eps-end E          planner: epsilon after --eps-steps options (0.05)\n"
            "  --eps-steps N        planner: options over which epsilon anneals (1000)\n"
            "  --lr LR              planner: Adam learning rate (0.001)\n"
            "  --train-every N      planner: one DQN step per N new options (1)\n"
            "  --ranker-gamma G     ranker: discount of its critic (0)\n"
            "  --ranker-lr LR       ranker: actor's Adam learning rate (0.001)\n"
            "  --temperature T      ranker: softmax temperature (0.1)\n"
            "  --hidden H           units of each of two ReLU layers, both levels (64)\n"
            "  --max-items N        most live items (4096)\n",
        .on_reset = s_on_reset,
        .on_step = s_on_step,
        .on_episode_end = s_on_episode_end,
    };
    hier_agent_t h = {
        .hold = 3,
        .train_every = 1,
        .gamma = 0.9f,
        .eps_start = 1.0f,
        .eps_end = 0.05f,
        .eps_steps = 1000,
    };
    dqn_config_default(&h.planner_cfg, 1, 1);
    pg_config_default(&h.ranker_cfg, 1, 1, 1);
    h.ranker_cfg.gamma = 0.0f;
    nn_blas_set_threads(1);
    int rc = agent_main(argc, argv, &spec, &h);
    hier_destroy(&h.options);
    dqn_destroy(&h.planner);
    tracker_destroy(&h.tracker);
    pg_destroy(&h.ranker);
    free(h.obs);
    free(h.act);
    free(h.rewards);
    return rc;
}
