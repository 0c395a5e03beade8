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
#include "agents/rl/observe.h"
#include "agents/rl/option.h"
#include "agents/rl/qtable.h"
#include "agents/rl/runner.h"
#include "agents/rl/slate.h"
#include "core/err.h"
#include "core/parse.h"

typedef enum qlearn_algo {
    QLEARN_TABULAR = 0,
    QLEARN_DQN = 1,
} qlearn_algo_t;

typedef struct qlearn {
    rl_runner_t run; /* options, sizes, tracker, buffers (runner.h) */

    /* options */
    qlearn_algo_t algo;
    float alpha, gamma, eps_start, eps_end;
    size_t eps_steps;
    dqn_config_t dqn_cfg; /* sizes filled in at the first catalog */

    /* learner, made at the first catalog when the sizes are known */
    qtable_t *table;
    dqn_t *dqn;
    float *centroids; /* (n_topics, dim) */
    int *actions;     /* (max_batch) topics */
    size_t decisions; /* requests answered, for the epsilon schedule */
    double loss_sum;
    long loss_n;
} qlearn_t;

static int s_push(void *ctx, const float *row)
{
    qlearn_t *q = ctx;
    if (q->algo == QLEARN_DQN)
        return dqn_push(q->dqn, row);
    /* row: state | topic | reward | next state | done */
    qtable_update(q->table, (int)row[0], (int)row[1], row[2], (int)row[3], row[4] != 0.0f);
    return 0;
}

static int s_init(qlearn_t *q, agent_t *agent)
{
    rl_runner_t *run = &q->run;
    rl_runner_setup(run, agent);
    if (q->algo == QLEARN_TABULAR && (run->save_dir || run->load_dir))
        return rl_runner_fail(run, ERR_EINVAL, "--save and --load apply to --algo dqn only");
    if (run->n_topics < 1 || run->dim < 1 || run->max_batch < 1)
        return rl_runner_fail(run, ERR_EINVAL, "needs topics, features and requests");
    uint32_t obs_dim;
    if (q->algo == QLEARN_TABULAR) {
        obs_dim = 1;
        q->table = qtable_new((int)observe_n_states(run->n_topics), (int)run->n_topics, q->alpha,
                              q->gamma, 0.0f);
    } else {
        obs_dim = observe_dim(run->dim, run->n_topics);
        q->dqn_cfg.obs_dim = (int)obs_dim;
        q->dqn_cfg.n_actions = (int)run->n_topics;
        q->dqn_cfg.gamma = q->gamma;
        q->dqn = dqn_new(&q->dqn_cfg, agent_rng(agent));
    }
    q->centroids = malloc((size_t)run->n_topics * run->dim * sizeof *q->centroids);
    q->actions = malloc(run->max_batch * sizeof *q->actions);
    if (!q->centroids || !q->actions || (!q->table && !q->dqn))
        return rl_runner_fail(run, ERR_ENOMEM, "out of memory or bad sizes");
    if (rl_runner_alloc(run, obs_dim, 1, 0) != 0)
        return -1;
    if (run->load_dir) {
        char path[4096], err[512] = "path too long";
        if (rl_runner_checkpoint_path(run, run->load_dir, "q", path, sizeof path) != 0 ||
            dqn_load(q->dqn, path, err, sizeof err) != 0)
            return rl_runner_fail(run, ERR_EIO, "cannot load a checkpoint: %s", err);
        fprintf(stderr, "%s: loaded %s\n", run->tag, path);
    }
    return 0;
}

static int s_on_reset(agent_t *agent, void *user, const proto_catalog_t *catalog)
{
    (void)catalog;
    qlearn_t *q = user;
    if (!q->run.ready && s_init(q, agent) != 0)
        return -1;
    tracker_reset(q->run.tracker);
    slate_topic_centroids(agent_catalog(agent), q->run.n_topics, q->centroids);
    return 0;
}

static int s_on_step(agent_t *agent, void *user, const proto_step_t *step, int32_t *slates)
{
    qlearn_t *q = user;
    rl_runner_t *run = &q->run;
    if (rl_runner_step_begin(run, agent, step) != 0)
        return -1;
    const proto_items_t *items = agent_catalog(agent);
    const proto_requests_t *req = &step->requests;
    uint32_t dim = run->dim, n_topics = run->n_topics;

    float epsilon = explore_linear(q->decisions, q->eps_start, q->eps_end, q->eps_steps);
    for (uint32_t r = 0; r < req->n; r++) {
        const float *f = req->features + (size_t)r * dim;
        const int32_t *h = req->history + (size_t)r * run->history_len;
        float *o = run->obs + (size_t)r * run->obs_dim;
        if (q->algo == QLEARN_TABULAR) {
            int s = (int)observe_state(f, dim, h, run->history_len, items, n_topics, q->centroids);
            o[0] = (float)s;
            q->actions[r] = qtable_act(q->table, s, epsilon, agent_rng(agent));
        } else {
            observe_vector(f, dim, h, run->history_len, items, n_topics, o);
        }
    }
    if (q->algo == QLEARN_DQN) {
        uint32_t chunk = (uint32_t)q->dqn_cfg.act_batch;
        for (uint32_t r0 = 0; r0 < req->n; r0 += chunk) {
            uint32_t n = req->n - r0 < chunk ? req->n - r0 : chunk;
            const float *values =
                dqn_q_values(q->dqn, run->obs + (size_t)r0 * run->obs_dim, (int)n);
            for (uint32_t r = 0; r < n; r++)
                q->actions[r0 + r] = explore_egreedy(
                    agent_rng(agent), values + (size_t)r * n_topics, (int)n_topics, epsilon);
        }
    }
    for (uint32_t r = 0; r < req->n; r++) {
        float topic = (float)q->actions[r];
        if (rl_runner_answer(run, agent, step, r, req->features + (size_t)r * dim, q->actions[r],
                             &topic, slates + (size_t)r * run->k) != 0)
            return -1;
    }
    q->decisions += req->n;
    if (rl_runner_step_end(run) != 0)
        return -1;

    while (q->algo == QLEARN_DQN && rl_runner_train_due(run)) {
        float loss;
        if (dqn_train_step(q->dqn, agent_rng(agent), &loss)) {
            q->loss_sum += loss;
            q->loss_n++;
        }
    }
    return 0;
}

static void s_on_joint(agent_t *agent, void *user, const proto_joint_t *joint)
{
    qlearn_t *q = user;
    if (q->run.reward == RL_REWARD_TEAM)
        rl_runner_joint(&q->run, agent, joint);
}

static void s_on_episode_end(agent_t *agent, void *user, const proto_episode_end_t *end)
{
    (void)agent;
    qlearn_t *q = user;
    rl_runner_t *run = &q->run;
    if (!run->ready)
        return;
    rl_runner_episode_end(run, end);
    fprintf(stderr, "%s: episode %u reward %.3f epsilon %.3f transitions %zu loss %.4f\n", run->tag,
            end->episode, end->reward,
            explore_linear(q->decisions, q->eps_start, q->eps_end, q->eps_steps), run->transitions,
            q->loss_n ? q->loss_sum / q->loss_n : 0.0);
    q->loss_sum = 0.0;
    q->loss_n = 0;
    if (run->save_dir && q->dqn) {
        char path[4096], err[512] = "path too long";
        if (rl_runner_checkpoint_path(run, run->save_dir, "q", path, sizeof path) != 0 ||
            dqn_save(q->dqn, path, err, sizeof err) != 0)
            rl_runner_fail(run, ERR_EIO, "checkpoint not saved: %s", err);
    }
}

static int s_on_option(void *user, const char *name, const char *value)
{
    qlearn_t *q = user;
    dqn_config_t *c = &q->dqn_cfg;
    int rc;
    if (rl_runner_option(&q->run, name, value, &rc))
        return rc;
    if (strcmp(name, "algo") == 0) {
        if (strcmp(value, "tabular") == 0)
            q->algo = QLEARN_TABULAR;
        else if (strcmp(value, "dqn") == 0)
            q->algo = QLEARN_DQN;
        else
            return ERR_ESYNTAX;
        return 0;
    }
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
        return parse_int(value, 1, 65536, &c->batch);
    if (strcmp(name, "hidden") == 0)
        return parse_int(value, 1, 4096, &c->hidden);
    if (strcmp(name, "target-every") == 0)
        return parse_int(value, 1, 1 << 30, &c->target_every);
    if (strcmp(name, "buffer") == 0)
        return option_size(value, 1, (size_t)1 << 26, &c->buffer);
    if (strcmp(name, "double-q") == 0)
        return parse_bool(value, &c->double_q);
    return ERR_EINVAL;
}

int main(int argc, char **argv)
{
    static const agent_spec_t spec = {
        .on_option = s_on_option,
        .options_help =
            "  --algo tabular|dqn   tabular Q over (segment, last topic), or DQN (default "
            "tabular)\n" RL_RUNNER_REWARD_HELP
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
        .alpha = 0.1f,
        .gamma = 0.95f,
        .eps_start = 1.0f,
        .eps_end = 0.05f,
        .eps_steps = 10000,
    };
    rl_runner_init(&q.run, "qlearn", s_push, &q);
    q.run.train_every = 4;
    dqn_config_default(&q.dqn_cfg, 1, 1);
    int rc = rl_runner_main(&q.run, argc, argv, &spec);
    qtable_destroy(&q.table);
    dqn_destroy(&q.dqn);
    free(q.centroids);
    free(q.actions);
    return rc;
}
