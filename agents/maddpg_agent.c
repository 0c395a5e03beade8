/* recarena-maddpg: MADDPG (Lowe et al. 2017) recommenders (docs/agents.md).
 * Each request is one step. The actor sees the agent's own observation of
 * the request (the user's features and recent topics) and outputs a query
 * vector in item-embedding space; the slate is the k live items with the
 * highest embedding . query. The centralized critic also sees what every
 * other agent did for the same user (the mean embedding of its slate,
 * from JOINT); --local-critic 1 drops that, giving the independent DDPG
 * baseline of the reference code's local_q_func. The reward is the
 * request's share of the team reward (joint.h), the next state the same
 * user's next request (tracker.h).
 *
 *     recarena-maddpg --save runs/ckpt            centralized critic
 *     recarena-maddpg --local-critic 1            independent DDPG */
#include "agents/sdk/agent.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/rl/maddpg.h"
#include "agents/rl/observe.h"
#include "agents/rl/option.h"
#include "agents/rl/runner.h"
#include "core/err.h"
#include "core/parse.h"

/* --observe: what of a request the actor sees (the rest is zeros). By
 * default a centralized critic sees all of it, the joint observation (in
 * feed mode every agent gets the same request, so a partner that sees the
 * other part sees the rest of it), and a local critic (--local-critic 1)
 * only what the actor sees; --critic-obs all|actor chooses either way. */
enum { OBSERVE_ALL, OBSERVE_FEATURES, OBSERVE_HISTORY };
enum { CRITIC_OBS_DEFAULT, CRITIC_OBS_ALL, CRITIC_OBS_ACTOR };

typedef struct ma_agent {
    rl_runner_t run; /* options, sizes, tracker, buffers (runner.h) */

    /* options */
    bool local_critic;
    int observe;    /* --observe: OBSERVE_ALL, or the one part of the request the actor sees */
    int critic_obs; /* --critic-obs: CRITIC_OBS_DEFAULT, _ALL or _ACTOR */
    bool mask_obs;  /* zero the actor's unseen part in the stored observation too */
    float noise;
    size_t warmup;
    maddpg_config_t cfg; /* sizes filled in at the first catalog */

    /* learner, made at the first catalog when the sizes are known */
    maddpg_t *maddpg;
    float *queries; /* (max_batch, dim) the actions taken, noise included */
    double loss_sum, q_sum;
    long train_steps;
} ma_agent_t;

static int s_push(void *ctx, const float *row)
{
    ma_agent_t *m = ctx;
    return maddpg_push(m->maddpg, row);
}

/* DIR/NAME-actor.bin and DIR/NAME-critic.bin; 0 or -1 if too long. */
static int s_paths(const ma_agent_t *m, const char *dir, char *actor, char *critic, size_t len)
{
    if (rl_runner_checkpoint_path(&m->run, dir, "actor", actor, len) != 0 ||
        rl_runner_checkpoint_path(&m->run, dir, "critic", critic, len) != 0)
        return -1;
    return 0;
}

static int s_init(ma_agent_t *m, agent_t *agent)
{
    rl_runner_t *run = &m->run;
    rl_runner_setup(run, agent);
    if (run->dim < 1 || run->max_batch < 1)
        return rl_runner_fail(run, ERR_EINVAL, "needs features and requests");
    uint32_t obs_dim = observe_dim(run->dim, run->n_topics);
    int n_others = m->local_critic ? 0 : (int)run->n_agents - 1;
    m->cfg.obs_dim = (int)obs_dim;
    m->cfg.act_dim = (int)run->dim;
    m->cfg.n_others = n_others;
    if (m->observe != OBSERVE_ALL) {
        /* the part not seen: the features (dim) or the history's topic shares */
        int from = m->observe == OBSERVE_HISTORY ? 0 : (int)run->dim;
        int n = m->observe == OBSERVE_HISTORY ? (int)run->dim : (int)run->n_topics;
        m->mask_obs = m->critic_obs == CRITIC_OBS_DEFAULT ? m->local_critic
                                                          : m->critic_obs == CRITIC_OBS_ACTOR;
        if (!m->mask_obs) {
            m->cfg.actor_hide_from = from;
            m->cfg.actor_hide_n = n;
        }
    }
    if (m->warmup < (size_t)m->cfg.batch)
        m->warmup = (size_t)m->cfg.batch;
    m->maddpg = maddpg_new(&m->cfg, agent_rng(agent));
    m->queries = malloc((size_t)run->max_batch * run->dim * sizeof *m->queries);
    if (!m->maddpg || !m->queries)
        return rl_runner_fail(run, ERR_ENOMEM, "out of memory or bad sizes");
    if (rl_runner_alloc(run, obs_dim, run->dim, (uint32_t)n_others * run->dim) != 0)
        return -1;
    if (run->load_dir) {
        char actor[4096], critic[4096], err[512] = "path too long";
        if (s_paths(m, run->load_dir, actor, critic, sizeof actor) != 0 ||
            maddpg_load(m->maddpg, actor, critic, err, sizeof err) != 0)
            return rl_runner_fail(run, ERR_EIO, "cannot load a checkpoint: %s", err);
        fprintf(stderr, "%s: loaded %s and %s\n", run->tag, actor, critic);
    }
    return 0;
}

static int s_on_reset(agent_t *agent, void *user, const proto_catalog_t *catalog)
{
    (void)catalog;
    ma_agent_t *m = user;
    if (!m->run.ready && s_init(m, agent) != 0)
        return -1;
    tracker_reset(m->run.tracker);
    return 0;
}

static int s_on_step(agent_t *agent, void *user, const proto_step_t *step, int32_t *slates)
{
    ma_agent_t *m = user;
    rl_runner_t *run = &m->run;
    if (rl_runner_step_begin(run, agent, step) != 0)
        return -1;
    const proto_items_t *items = agent_catalog(agent);
    const proto_requests_t *req = &step->requests;
    uint32_t dim = run->dim;

    for (uint32_t r = 0; r < req->n; r++) {
        float *obs = run->obs + (size_t)r * run->obs_dim;
        observe_vector(req->features + (size_t)r * dim, dim,
                       req->history + (size_t)r * run->history_len, run->history_len, items,
                       run->n_topics, obs);
        if (m->mask_obs && m->observe == OBSERVE_HISTORY)
            memset(obs, 0, dim * sizeof *obs);
        else if (m->mask_obs && m->observe == OBSERVE_FEATURES)
            memset(obs + dim, 0, run->n_topics * sizeof *obs);
    }
    uint32_t chunk = (uint32_t)m->cfg.act_batch;
    for (uint32_t r0 = 0; r0 < req->n; r0 += chunk) {
        uint32_t n = req->n - r0 < chunk ? req->n - r0 : chunk;
        const float *act = maddpg_act(m->maddpg, run->obs + (size_t)r0 * run->obs_dim, (int)n);
        memcpy(m->queries + (size_t)r0 * dim, act, (size_t)n * dim * sizeof *act);
    }
    /* exploration: Gaussian noise on the unit query, normalised again */
    for (uint32_t r = 0; r < req->n; r++) {
        float *query = m->queries + (size_t)r * dim;
        double sum = 0.0;
        for (uint32_t d = 0; d < dim; d++) {
            query[d] += m->noise * (float)pcg32_normal(agent_rng(agent));
            sum += (double)query[d] * query[d];
        }
        if (sum > 0.0)
            for (uint32_t d = 0; d < dim; d++)
                query[d] = (float)(query[d] / sqrt(sum));
    }
    for (uint32_t r = 0; r < req->n; r++) {
        const float *query = m->queries + (size_t)r * dim;
        if (rl_runner_answer(run, agent, step, r, query, -1, query, slates + (size_t)r * run->k) !=
            0)
            return -1;
    }
    return rl_runner_step_end(run);
}

static void s_train(ma_agent_t *m, agent_t *agent)
{
    while (rl_runner_train_due(&m->run)) {
        maddpg_stats_t st;
        if (maddpg_buffer_size(m->maddpg) < m->warmup ||
            !maddpg_train_step(m->maddpg, agent_rng(agent), &st))
            continue;
        m->loss_sum += st.critic_loss;
        m->q_sum += st.mean_q;
        m->train_steps++;
    }
}

static void s_on_joint(agent_t *agent, void *user, const proto_joint_t *joint)
{
    ma_agent_t *m = user;
    if (rl_runner_joint(&m->run, agent, joint))
        s_train(m, agent);
}

static void s_on_episode_end(agent_t *agent, void *user, const proto_episode_end_t *end)
{
    ma_agent_t *m = user;
    rl_runner_t *run = &m->run;
    if (!run->ready)
        return;
    rl_runner_episode_end(run, end);
    s_train(m, agent);
    fprintf(stderr,
            "%s: episode %u reward %.3f transitions %zu train steps %ld critic loss %.4f "
            "mean Q %.3f\n",
            run->tag, end->episode, end->reward, run->transitions, m->train_steps,
            m->train_steps ? m->loss_sum / m->train_steps : 0.0,
            m->train_steps ? m->q_sum / m->train_steps : 0.0);
    m->loss_sum = m->q_sum = 0.0;
    m->train_steps = 0;
    if (run->save_dir) {
        char actor[4096], critic[4096], err[512] = "path too long";
        if (s_paths(m, run->save_dir, actor, critic, sizeof actor) != 0 ||
            maddpg_save(m->maddpg, actor, critic, err, sizeof err) != 0)
            rl_runner_fail(run, ERR_EIO, "checkpoint not saved: %s", err);
    }
}

/* *choice = the index of value in names (NULL-terminated): 0, or
 * ERR_ESYNTAX (core/err.h) when it is none of them. */
static int s_choice(const char *value, const char *const *names, int *choice)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(value, names[i]) == 0) {
            *choice = i;
            return 0;
        }
    return ERR_ESYNTAX;
}

static int s_on_option(void *user, const char *name, const char *value)
{
    ma_agent_t *m = user;
    maddpg_config_t *c = &m->cfg;
    int rc;
    if (rl_runner_option(&m->run, name, value, &rc))
        return rc;
    if (strcmp(name, "local-critic") == 0)
        return parse_bool(value, &m->local_critic);
    if (strcmp(name, "observe") == 0)
        return s_choice(value, (const char *const[]){"all", "features", "history", NULL},
                        &m->observe);
    if (strcmp(name, "critic-obs") == 0) {
        rc = s_choice(value, (const char *const[]){"all", "actor", NULL}, &m->critic_obs);
        m->critic_obs += rc == 0; /* 0 stays CRITIC_OBS_DEFAULT */
        return rc;
    }
    if (strcmp(name, "noise") == 0)
        return option_float(value, 0.0, 10.0, &m->noise);
    if (strcmp(name, "gamma") == 0)
        return option_float(value, 0.0, 1.0, &c->gamma);
    if (strcmp(name, "tau") == 0)
        return option_float(value, 0.0, 1.0, &c->tau);
    if (strcmp(name, "lr") == 0) {
        rc = option_float(value, 1e-9, 10.0, &c->lr_actor);
        if (rc == 0)
            c->lr_critic = c->lr_actor;
        return rc;
    }
    if (strcmp(name, "batch") == 0)
        return parse_int(value, 1, 65536, &c->batch);
    if (strcmp(name, "hidden") == 0)
        return parse_int(value, 1, 4096, &c->hidden);
    if (strcmp(name, "clip") == 0)
        return option_float(value, 1e-9, 1e9, &c->clip);
    if (strcmp(name, "buffer") == 0)
        return option_size(value, 1, (size_t)1 << 26, &c->buffer);
    if (strcmp(name, "warmup") == 0)
        return option_size(value, 0, (size_t)1 << 40, &m->warmup);
    return ERR_EINVAL;
}

int main(int argc, char **argv)
{
    static const agent_spec_t spec = {
        .on_option = s_on_option,
        .options_help =
            "  --local-critic 0|1   1: the critic sees only this agent's observation and action\n"
            "                       (independent DDPG); 0: every agent's action (MADDPG) "
            "(0)\n"
            "  --observe all|features|history  what of a request the actor sees: both, only\n"
            "                       the user's features or only the topics of her history\n"
            "                       (the rest is zeros); a centralized critic sees all of\n"
            "                       it, a local one what the actor sees (all)\n"
            "  --critic-obs all|actor  the critic sees the whole request or only the\n"
            "                       actor's part (with --observe; default: all for a\n"
            "                       centralized critic, actor for a local "
            "one)\n" RL_RUNNER_REWARD_HELP
            "  --noise S            std of the Gaussian exploration noise on the query (0.1)\n"
            "  --gamma G            discount between a user's requests (0.95)\n"
            "  --tau T              soft target update rate (0.01)\n"
            "  --lr LR              Adam learning rate, actor and critic (0.01)\n"
            "  --batch B            transitions per training step (1024)\n"
            "  --hidden H           units of each of two ReLU layers (64)\n"
            "  --clip C             gradient clipping, global norm (0.5)\n"
            "  --buffer N           replay capacity (1000000)\n"
            "  --train-every N      one training step per N new transitions (100)\n"
            "  --warmup N           transitions before training starts (the batch size)\n"
            "  --save DIR           write DIR/NAME-actor.bin and DIR/NAME-critic.bin at every\n"
            "                       episode end\n"
            "  --load DIR           start from DIR/NAME-actor.bin and DIR/NAME-critic.bin\n",
        .on_reset = s_on_reset,
        .on_step = s_on_step,
        .on_joint = s_on_joint,
        .on_episode_end = s_on_episode_end,
    };
    ma_agent_t m = {.noise = 0.1f};
    rl_runner_init(&m.run, "maddpg", s_push, &m);
    m.run.train_every = 100;
    maddpg_config_default(&m.cfg, 1, 1, 0);
    int rc = rl_runner_main(&m.run, argc, argv, &spec);
    maddpg_destroy(&m.maddpg);
    free(m.queries);
    return rc;
}
