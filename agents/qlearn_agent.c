/* recarena-qlearn: independent Q-learners (docs/agents.md). Each request
 * is one step: the agent picks a topic for the user and answers with the
 * k items of that topic that best match the user's features; the reward
 * is the request's share of the team reward (joint.h) or, with --reward
 * own, the agent's own click; the next state is the same user's next
 * request (tracker.h). The other agents are part of the world.
 *
 *   --algo tabular  Q-table over (user segment, last consumed topic)
 *   --algo dqn      an MLP over the features and recent topics, replay,
 *                   target network, double Q, annealed epsilon
 *
 *     recarena-qlearn --algo dqn --save runs/ckpt */
#include "agents/sdk/agent.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/rl/dqn.h"
#include "agents/rl/explore.h"
#include "agents/rl/joint.h"
#include "agents/nn/nn.h"
#include "agents/rl/observe.h"
#include "agents/rl/option.h"
#include "agents/rl/qtable.h"
#include "agents/rl/slate.h"
#include "agents/rl/tracker.h"

typedef enum qlearn_algo {
    QLEARN_TABULAR = 0,
    QLEARN_DQN = 1,
} qlearn_algo_t;

typedef struct qlearn {
    /* options */
    qlearn_algo_t algo;
    bool reward_team;
    float alpha, gamma, eps_start, eps_end;
    size_t eps_steps;
    int train_every;
    dqn_config_t dqn_cfg; /* sizes filled in at the first catalog */
    const char *save_dir, *load_dir;

    /* learner, made at the first catalog when the sizes are known */
    bool ready;
    uint32_t dim, n_topics, k, history_len, max_batch, obs_dim;
    tracker_t *tracker;
    qtable_t *table;
    dqn_t *dqn;
    float *centroids; /* (n_topics, dim) */
    float *obs;       /* (max_batch, obs_dim) */
    int *actions;     /* (max_batch) topics */
    float *rewards;   /* (max_batch) */
    float *scores;    /* (n_scores) */
    uint32_t n_scores;
    size_t decisions;       /* requests answered, for the epsilon schedule */
    size_t new_transitions; /* since the last DQN training step */
    size_t transitions;
    double loss_sum;
    long loss_n;
    bool out_of_memory; /* a transition could not be stored */
} qlearn_t;

static void s_emit(void *ctx, const float *row)
{
    qlearn_t *q = ctx;
    q->transitions++;
    if (q->algo == QLEARN_TABULAR) {
        /* row: state | topic | reward | next state | done */
        qtable_update(q->table, (int)row[0], (int)row[1], row[2], (int)row[3], row[4] != 0.0f);
    } else {
        if (dqn_push(q->dqn, row) != 0)
            q->out_of_memory = true;
        q->new_transitions++;
    }
}

static const char *s_name(agent_t *agent)
{
    const proto_welcome_t *w = agent_welcome(agent);
    return w->agents[w->agent_index];
}

static int s_init(qlearn_t *q, agent_t *agent)
{
    const proto_welcome_t *w = agent_welcome(agent);
    q->dim = w->dim;
    q->n_topics = w->n_topics;
    q->k = w->slate_size;
    q->history_len = w->history_len;
    q->max_batch = w->limits.max_batch;
    if (q->algo == QLEARN_TABULAR && (q->save_dir || q->load_dir)) {
        fprintf(stderr, "qlearn: --save and --load apply to --algo dqn only\n");
        return -1;
    }
    if (q->n_topics < 1 || q->dim < 1 || q->max_batch < 1) {
        fprintf(stderr, "qlearn: needs topics, features and requests\n");
        return -1;
    }
    q->centroids = malloc((size_t)q->n_topics * q->dim * sizeof *q->centroids);
    q->actions = malloc(q->max_batch * sizeof *q->actions);
    q->rewards = malloc(q->max_batch * sizeof *q->rewards);
    if (q->algo == QLEARN_TABULAR) {
        q->obs_dim = 1;
        q->table = qtable_new((int)observe_n_states(q->n_topics), (int)q->n_topics, q->alpha,
                              q->gamma, 0.0f);
    } else {
        q->obs_dim = observe_dim(q->dim, q->n_topics);
        q->dqn_cfg.obs_dim = (int)q->obs_dim;
        q->dqn_cfg.n_actions = (int)q->n_topics;
        q->dqn_cfg.gamma = q->gamma;
        q->dqn = dqn_new(&q->dqn_cfg, agent_rng(agent));
    }
    q->obs = malloc((size_t)q->max_batch * q->obs_dim * sizeof *q->obs);
    q->tracker = tracker_new((int)q->obs_dim, 1, 0);
    if (!q->centroids || !q->actions || !q->rewards || !q->obs || !q->tracker ||
        (!q->table && !q->dqn)) {
        fprintf(stderr, "qlearn: out of memory or bad sizes\n");
        return -1;
    }
    if (q->load_dir) {
        char path[4096], err[512];
        if (option_checkpoint_path(path, sizeof path, q->load_dir, s_name(agent), "q") != 0 ||
            dqn_load(q->dqn, path, err, sizeof err) != 0) {
            fprintf(stderr, "qlearn: cannot load a checkpoint: %s\n", err);
            return -1;
        }
        fprintf(stderr, "qlearn: loaded %s\n", path);
    }
    q->ready = true;
    return 0;
}

static int s_on_reset(agent_t *agent, void *user, const proto_catalog_t *catalog)
{
    (void)catalog;
    qlearn_t *q = user;
    if (!q->ready && s_init(q, agent) != 0)
        return -1;
    tracker_reset(q->tracker);
    slate_topic_centroids(agent_catalog(agent), q->n_topics, q->centroids);
    return 0;
}

static int s_on_step(agent_t *agent, void *user, const proto_step_t *step, int32_t *slates)
{
    qlearn_t *q = user;
    const proto_feedback_t *fb = &step->feedback;
    tracker_feedback(q->tracker, step->tick, fb->n, fb->user_ids,
                     q->reward_team ? NULL : fb->reward, fb->session_end, s_emit, q);

    const proto_items_t *items = agent_catalog(agent);
    const proto_requests_t *req = &step->requests;
    if (req->n > q->max_batch) {
        fprintf(stderr, "qlearn: %u requests, more than max_batch %u\n", req->n, q->max_batch);
        return -1;
    }
    if (items->n > q->n_scores) {
        float *scores = realloc(q->scores, items->n * sizeof *scores);
        if (!scores) {
            fprintf(stderr, "qlearn: out of memory\n");
            return -1;
        }
        q->scores = scores;
        q->n_scores = items->n;
    }

    float epsilon = explore_linear(q->decisions, q->eps_start, q->eps_end, q->eps_steps);
    for (uint32_t r = 0; r < req->n; r++) {
        const float *f = req->features + (size_t)r * q->dim;
        const int32_t *h = req->history + (size_t)r * q->history_len;
        float *o = q->obs + (size_t)r * q->obs_dim;
        if (q->algo == QLEARN_TABULAR) {
            int s =
                (int)observe_state(f, q->dim, h, q->history_len, items, q->n_topics, q->centroids);
            o[0] = (float)s;
            q->actions[r] = qtable_act(q->table, s, epsilon, agent_rng(agent));
        } else {
            observe_vector(f, q->dim, h, q->history_len, items, q->n_topics, o);
        }
    }
    if (q->algo == QLEARN_DQN) {
        for (uint32_t r0 = 0; r0 < req->n; r0 += (uint32_t)q->dqn_cfg.act_batch) {
            uint32_t n = req->n - r0 < (uint32_t)q->dqn_cfg.act_batch
                             ? req->n - r0
                             : (uint32_t)q->dqn_cfg.act_batch;
            const float *values = dqn_q_values(q->dqn, q->obs + (size_t)r0 * q->obs_dim, (int)n);
            for (uint32_t r = 0; r < n; r++)
                q->actions[r0 + r] = explore_egreedy(
                    agent_rng(agent), values + (size_t)r * q->n_topics, (int)q->n_topics, epsilon);
        }
    }
    for (uint32_t r = 0; r < req->n; r++) {
        slate_scores(items, req->features + (size_t)r * q->dim, q->scores);
        if (slate_top_k(items, q->scores, q->actions[r], q->k, slates + (size_t)r * q->k) != 0) {
            fprintf(stderr, "qlearn: %u live items, fewer than k = %u\n", items->n, q->k);
            return -1;
        }
        float topic = (float)q->actions[r];
        if (tracker_request(q->tracker, step->tick, req->user_ids[r],
                            q->obs + (size_t)r * q->obs_dim, &topic, s_emit, q) != 0) {
            fprintf(stderr, "qlearn: cannot track user %d\n", req->user_ids[r]);
            return -1;
        }
    }
    q->decisions += req->n;
    if (q->out_of_memory) {
        fprintf(stderr, "qlearn: out of memory for the replay buffer\n");
        return -1;
    }

    if (q->algo == QLEARN_DQN) {
        for (; q->new_transitions >= (size_t)q->train_every; q->new_transitions -= q->train_every) {
            float loss;
            if (dqn_train_step(q->dqn, agent_rng(agent), &loss)) {
                q->loss_sum += loss;
                q->loss_n++;
            }
        }
    }
    return 0;
}

static void s_on_joint(agent_t *agent, void *user, const proto_joint_t *joint)
{
    qlearn_t *q = user;
    const proto_welcome_t *w = agent_welcome(agent);
    if (!q->reward_team || !q->ready || w->agent_index >= joint->n_agents)
        return;
    const proto_joint_agent_t *mine = &joint->agents[w->agent_index];
    if (mine->n > q->max_batch)
        return;
    joint_team_rewards(joint, w->agent_index, agent_catalog(agent), q->rewards);
    for (uint32_t r = 0; r < mine->n; r++)
        tracker_outcome(q->tracker, joint->tick, mine->user_ids[r], &q->rewards[r], NULL, s_emit,
                        q);
}

static void s_on_episode_end(agent_t *agent, void *user, const proto_episode_end_t *end)
{
    qlearn_t *q = user;
    if (!q->ready)
        return;
    const proto_feedback_t *fb = &end->feedback;
    tracker_feedback(q->tracker, end->ticks, fb->n, fb->user_ids,
                     q->reward_team ? NULL : fb->reward, fb->session_end, s_emit, q);
    tracker_reset(q->tracker);
    fprintf(stderr, "qlearn: episode %u reward %.3f epsilon %.3f transitions %zu loss %.4f\n",
            end->episode, end->reward,
            explore_linear(q->decisions, q->eps_start, q->eps_end, q->eps_steps), q->transitions,
            q->loss_n ? q->loss_sum / q->loss_n : 0.0);
    q->loss_sum = 0.0;
    q->loss_n = 0;
    if (q->save_dir && q->dqn) {
        char path[4096], err[512];
        if (option_checkpoint_path(path, sizeof path, q->save_dir, s_name(agent), "q") != 0 ||
            dqn_save(q->dqn, path, err, sizeof err) != 0)
            fprintf(stderr, "qlearn: checkpoint not saved: %s\n", err);
    }
}

static int s_on_option(void *user, const char *name, const char *value)
{
    qlearn_t *q = user;
    dqn_config_t *c = &q->dqn_cfg;
    if (strcmp(name, "algo") == 0) {
        if (strcmp(value, "tabular") == 0)
            q->algo = QLEARN_TABULAR;
        else if (strcmp(value, "dqn") == 0)
            q->algo = QLEARN_DQN;
        else
            return -1;
        return 0;
    }
    if (strcmp(name, "reward") == 0)
        return option_reward(value, &q->reward_team);
    if (strcmp(name, "alpha") == 0)
        return option_float(value, 1e-6, 1.0, &q->alpha);
    if (strcmp(name, "gamma") == 0)
        return option_float(value, 0.0, 1.0, &q->gamma);
    if (strcmp(name, "eps-start") == 0)
        return option_float(value, 0.0, 1.0, &q->eps_start);
    if (strcmp(name, "eps-end") == 0)
        return option_float(value, 0.0, 1.0, &q->eps_end);
    if (strcmp(name, "eps-steps") == 0)
        return option_size(value, 0, (size_t)1 << 40, &q->eps_steps);
    if (strcmp(name, "lr") == 0)
        return option_float(value, 1e-9, 10.0, &c->lr);
    if (strcmp(name, "batch") == 0)
        return option_int(value, 1, 65536, &c->batch);
    if (strcmp(name, "hidden") == 0)
        return option_int(value, 1, 4096, &c->hidden);
    if (strcmp(name, "target-every") == 0)
        return option_int(value, 1, 1 << 30, &c->target_every);
    if (strcmp(name, "train-every") == 0)
        return option_int(value, 1, 1 << 30, &q->train_every);
    if (strcmp(name, "buffer") == 0)
        return option_size(value, 1, (size_t)1 << 26, &c->buffer);
    if (strcmp(name, "double-q") == 0)
        return option_bool(value, &c->double_q);
    if (strcmp(name, "save") == 0)
        q->save_dir = value[0] ? value : NULL;
    else if (strcmp(name, "load") == 0)
        q->load_dir = value[0] ? value : NULL;
    else
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    static const char *const caps[] = {"joint"};
    static const agent_spec_t spec = {
        .caps = caps,
        .n_caps = 1,
        .on_option = s_on_option,
        .options_help =
            "  --algo tabular|dqn   tabular Q over (segment, last topic), or DQN (default "
            "tabular)\n"
            "  --reward team|own    learn from the request's share of the team reward, or from\n"
            "                       the agent's own click (default team)\n"
            "  --gamma G            discount between a user's requests (0.95)\n"
            "  --eps-start E        epsilon at the start (1.0)\n"
            "  --eps-end E          epsilon after --eps-steps requests (0.05)\n"
            "  --eps-steps N        requests over which epsilon anneals linearly (10000)\n"
            "  --alpha A            tabular: learning rate (0.1)\n"
            "  --lr LR              dqn: Adam learning rate (0.001)\n"
            "  --batch B            dqn: transitions per training step (64)\n"
            "  --hidden H           dqn: units of each of two ReLU layers (64)\n"
            "  --train-every N      dqn: one training step per N new transitions (4)\n"
            "  --target-every N     dqn: training steps between target copies (100)\n"
            "  --buffer N           dqn: replay capacity (100000)\n"
            "  --double-q 0|1       dqn: double Q targets (1)\n"
            "  --save DIR           dqn: write DIR/NAME-q.bin at every episode end\n"
            "  --load DIR           dqn: start from DIR/NAME-q.bin\n",
        .on_reset = s_on_reset,
        .on_step = s_on_step,
        .on_joint = s_on_joint,
        .on_episode_end = s_on_episode_end,
    };
    qlearn_t q = {
        .algo = QLEARN_TABULAR,
        .reward_team = true,
        .alpha = 0.1f,
        .gamma = 0.95f,
        .eps_start = 1.0f,
        .eps_end = 0.05f,
        .eps_steps = 10000,
        .train_every = 4,
    };
    dqn_config_default(&q.dqn_cfg, 1, 1);
    nn_blas_set_threads(1);
    int rc = agent_main(argc, argv, &spec, &q);
    tracker_destroy(&q.tracker);
    qtable_destroy(&q.table);
    dqn_destroy(&q.dqn);
    free(q.centroids);
    free(q.obs);
    free(q.actions);
    free(q.rewards);
    free(q.scores);
    return rc;
}
