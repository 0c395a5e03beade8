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

#include "agents/rl/joint.h"
#include "agents/rl/maddpg.h"
#include "agents/nn/nn.h"
#include "agents/rl/observe.h"
#include "agents/rl/option.h"
#include "agents/rl/slate.h"
#include "agents/rl/tracker.h"

typedef struct ma_agent {
    /* options */
    bool local_critic, reward_team;
    float noise;
    int train_every;
    size_t warmup;
    maddpg_config_t cfg; /* sizes filled in at the first catalog */
    const char *save_dir, *load_dir;

    /* learner, made at the first catalog when the sizes are known */
    bool ready;
    uint32_t dim, n_topics, k, history_len, max_batch, obs_dim, other_dim;
    tracker_t *tracker;
    maddpg_t *maddpg;
    float *obs;     /* (max_batch, obs_dim) */
    float *queries; /* (max_batch, dim) the actions taken, noise included */
    float *rewards; /* (max_batch) */
    float *others;  /* (max_batch, other_dim) */
    float *scores;  /* (n_scores) */
    uint32_t n_scores;
    size_t new_transitions, transitions;
    double loss_sum, q_sum;
    long train_steps;
    bool out_of_memory; /* a transition could not be stored */
} ma_agent_t;

static void s_emit(void *ctx, const float *row)
{
    ma_agent_t *m = ctx;
    if (maddpg_push(m->maddpg, row) != 0)
        m->out_of_memory = true;
    m->new_transitions++;
    m->transitions++;
}

static const char *s_name(agent_t *agent)
{
    const proto_welcome_t *w = agent_welcome(agent);
    return w->agents[w->agent_index];
}

/* DIR/NAME-actor.bin and DIR/NAME-critic.bin; 0 or -1 if too long. */
static int s_paths(agent_t *agent, const char *dir, char *actor, char *critic, size_t len)
{
    if (option_checkpoint_path(actor, len, dir, s_name(agent), "actor") != 0 ||
        option_checkpoint_path(critic, len, dir, s_name(agent), "critic") != 0)
        return -1;
    return 0;
}

static int s_init(ma_agent_t *m, agent_t *agent)
{
    const proto_welcome_t *w = agent_welcome(agent);
    m->dim = w->dim;
    m->n_topics = w->n_topics;
    m->k = w->slate_size;
    m->history_len = w->history_len;
    m->max_batch = w->limits.max_batch;
    if (m->dim < 1 || m->max_batch < 1) {
        fprintf(stderr, "maddpg: needs features and requests\n");
        return -1;
    }
    m->obs_dim = observe_dim(m->dim, m->n_topics);
    int n_others = m->local_critic ? 0 : (int)w->n_agents - 1;
    m->other_dim = (uint32_t)n_others * m->dim;
    m->cfg.obs_dim = (int)m->obs_dim;
    m->cfg.act_dim = (int)m->dim;
    m->cfg.n_others = n_others;
    if (m->warmup < (size_t)m->cfg.batch)
        m->warmup = (size_t)m->cfg.batch;
    m->maddpg = maddpg_new(&m->cfg, agent_rng(agent));
    m->tracker = tracker_new((int)m->obs_dim, (int)m->dim, (int)m->other_dim);
    m->obs = malloc((size_t)m->max_batch * m->obs_dim * sizeof *m->obs);
    m->queries = malloc((size_t)m->max_batch * m->dim * sizeof *m->queries);
    m->rewards = malloc(m->max_batch * sizeof *m->rewards);
    m->others = malloc(((size_t)m->max_batch * m->other_dim + 1) * sizeof *m->others);
    if (!m->maddpg || !m->tracker || !m->obs || !m->queries || !m->rewards || !m->others) {
        fprintf(stderr, "maddpg: out of memory or bad sizes\n");
        return -1;
    }
    if (m->load_dir) {
        char actor[4096], critic[4096], err[512] = "path too long";
        if (s_paths(agent, m->load_dir, actor, critic, sizeof actor) != 0 ||
            maddpg_load(m->maddpg, actor, critic, err, sizeof err) != 0) {
            fprintf(stderr, "maddpg: cannot load a checkpoint: %s\n", err);
            return -1;
        }
        fprintf(stderr, "maddpg: loaded %s and %s\n", actor, critic);
    }
    m->ready = true;
    return 0;
}

static int s_on_reset(agent_t *agent, void *user, const proto_catalog_t *catalog)
{
    (void)catalog;
    ma_agent_t *m = user;
    if (!m->ready && s_init(m, agent) != 0)
        return -1;
    tracker_reset(m->tracker);
    return 0;
}

static int s_on_step(agent_t *agent, void *user, const proto_step_t *step, int32_t *slates)
{
    ma_agent_t *m = user;
    const proto_feedback_t *fb = &step->feedback;
    tracker_feedback(m->tracker, step->tick, fb->n, fb->user_ids,
                     m->reward_team ? NULL : fb->reward, fb->session_end, s_emit, m);
    if (m->out_of_memory) {
        fprintf(stderr, "maddpg: out of memory for the replay buffer\n");
        return -1;
    }

    const proto_items_t *items = agent_catalog(agent);
    const proto_requests_t *req = &step->requests;
    if (req->n > m->max_batch) {
        fprintf(stderr, "maddpg: %u requests, more than max_batch %u\n", req->n, m->max_batch);
        return -1;
    }
    if (items->n > m->n_scores) {
        float *scores = realloc(m->scores, items->n * sizeof *scores);
        if (!scores) {
            fprintf(stderr, "maddpg: out of memory\n");
            return -1;
        }
        m->scores = scores;
        m->n_scores = items->n;
    }

    for (uint32_t r = 0; r < req->n; r++)
        observe_vector(req->features + (size_t)r * m->dim, m->dim,
                       req->history + (size_t)r * m->history_len, m->history_len, items,
                       m->n_topics, m->obs + (size_t)r * m->obs_dim);
    uint32_t chunk = (uint32_t)m->cfg.act_batch;
    for (uint32_t r0 = 0; r0 < req->n; r0 += chunk) {
        uint32_t n = req->n - r0 < chunk ? req->n - r0 : chunk;
        const float *act = maddpg_act(m->maddpg, m->obs + (size_t)r0 * m->obs_dim, (int)n);
        memcpy(m->queries + (size_t)r0 * m->dim, act, (size_t)n * m->dim * sizeof *act);
    }
    /* exploration: Gaussian noise on the unit query, normalised again */
    for (uint32_t r = 0; r < req->n; r++) {
        float *query = m->queries + (size_t)r * m->dim;
        double sum = 0.0;
        for (uint32_t d = 0; d < m->dim; d++) {
            query[d] += m->noise * (float)pcg32_normal(agent_rng(agent));
            sum += (double)query[d] * query[d];
        }
        if (sum > 0.0)
            for (uint32_t d = 0; d < m->dim; d++)
                query[d] = (float)(query[d] / sqrt(sum));
    }
    for (uint32_t r = 0; r < req->n; r++) {
        const float *query = m->queries + (size_t)r * m->dim;
        slate_scores(items, query, m->scores);
        if (slate_top_k(items, m->scores, -1, m->k, slates + (size_t)r * m->k) != 0) {
            fprintf(stderr, "maddpg: %u live items, fewer than k = %u\n", items->n, m->k);
            return -1;
        }
        if (tracker_request(m->tracker, step->tick, req->user_ids[r],
                            m->obs + (size_t)r * m->obs_dim, query, s_emit, m) != 0) {
            fprintf(stderr, "maddpg: cannot track user %d\n", req->user_ids[r]);
            return -1;
        }
    }
    return 0;
}

static void s_train(ma_agent_t *m, agent_t *agent)
{
    for (; m->new_transitions >= (size_t)m->train_every; m->new_transitions -= m->train_every) {
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
    const proto_welcome_t *w = agent_welcome(agent);
    if (!m->ready || w->agent_index >= joint->n_agents)
        return;
    const proto_joint_agent_t *mine = &joint->agents[w->agent_index];
    if (mine->n > m->max_batch ||
        (m->other_dim > 0 && joint->n_agents - 1 != (uint32_t)m->cfg.n_others))
        return;
    const proto_items_t *items = agent_catalog(agent);
    if (m->reward_team)
        joint_team_rewards(joint, w->agent_index, items, m->rewards);
    if (m->other_dim > 0)
        joint_other_actions(joint, w->agent_index, items, m->others);
    for (uint32_t r = 0; r < mine->n; r++)
        tracker_outcome(m->tracker, joint->tick, mine->user_ids[r],
                        m->reward_team ? &m->rewards[r] : NULL,
                        m->other_dim > 0 ? m->others + (size_t)r * m->other_dim : NULL, s_emit, m);
    s_train(m, agent);
}

static void s_on_episode_end(agent_t *agent, void *user, const proto_episode_end_t *end)
{
    ma_agent_t *m = user;
    if (!m->ready)
        return;
    const proto_feedback_t *fb = &end->feedback;
    tracker_feedback(m->tracker, end->ticks, fb->n, fb->user_ids,
                     m->reward_team ? NULL : fb->reward, fb->session_end, s_emit, m);
    tracker_reset(m->tracker);
    s_train(m, agent);
    fprintf(stderr,
            "maddpg: episode %u reward %.3f transitions %zu train steps %ld critic loss %.4f "
            "mean Q %.3f\n",
            end->episode, end->reward, m->transitions, m->train_steps,
            m->train_steps ? m->loss_sum / m->train_steps : 0.0,
            m->train_steps ? m->q_sum / m->train_steps : 0.0);
    m->loss_sum = m->q_sum = 0.0;
    m->train_steps = 0;
    if (m->save_dir) {
        char actor[4096], critic[4096], err[512] = "path too long";
        if (s_paths(agent, m->save_dir, actor, critic, sizeof actor) != 0 ||
            maddpg_save(m->maddpg, actor, critic, err, sizeof err) != 0)
            fprintf(stderr, "maddpg: checkpoint not saved: %s\n", err);
    }
}

static int s_on_option(void *user, const char *name, const char *value)
{
    ma_agent_t *m = user;
    maddpg_config_t *c = &m->cfg;
    if (strcmp(name, "local-critic") == 0)
        return option_bool(value, &m->local_critic);
    if (strcmp(name, "reward") == 0)
        return option_reward(value, &m->reward_team);
    if (strcmp(name, "noise") == 0)
        return option_float(value, 0.0, 10.0, &m->noise);
    if (strcmp(name, "gamma") == 0)
        return option_float(value, 0.0, 1.0, &c->gamma);
    if (strcmp(name, "tau") == 0)
        return option_float(value, 0.0, 1.0, &c->tau);
    if (strcmp(name, "lr") == 0) {
        if (option_float(value, 1e-9, 10.0, &c->lr_actor) != 0)
            return -1;
        c->lr_critic = c->lr_actor;
        return 0;
    }
    if (strcmp(name, "batch") == 0)
        return option_int(value, 1, 65536, &c->batch);
    if (strcmp(name, "hidden") == 0)
        return option_int(value, 1, 4096, &c->hidden);
    if (strcmp(name, "clip") == 0)
        return option_float(value, 1e-9, 1e9, &c->clip);
    if (strcmp(name, "buffer") == 0)
        return option_size(value, 1, (size_t)1 << 26, &c->buffer);
    if (strcmp(name, "train-every") == 0)
        return option_int(value, 1, 1 << 30, &m->train_every);
    if (strcmp(name, "warmup") == 0)
        return option_size(value, 0, (size_t)1 << 40, &m->warmup);
    if (strcmp(name, "save") == 0)
        m->save_dir = value[0] ? value : NULL;
    else if (strcmp(name, "load") == 0)
        m->load_dir = value[0] ? value : NULL;
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
            "  --local-critic 0|1   1: the critic sees only this agent's observation and action\n"
            "                       (independent DDPG); 0: every agent's action (MADDPG) (0)\n"
            "  --reward team|own    learn from the request's share of the team reward, or from\n"
            "                       the agent's own click (default team)\n"
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
    ma_agent_t m = {
        .reward_team = true,
        .noise = 0.1f,
        .train_every = 100,
    };
    maddpg_config_default(&m.cfg, 1, 1, 0);
    nn_blas_set_threads(1);
    int rc = agent_main(argc, argv, &spec, &m);
    tracker_destroy(&m.tracker);
    maddpg_destroy(&m.maddpg);
    free(m.obs);
    free(m.queries);
    free(m.rewards);
    free(m.others);
    free(m.scores);
    return rc;
}
