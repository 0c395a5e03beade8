/* The plumbing of the reinforcement-learning agent processes (runner.h). */
#include "agents/rl/runner.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/nn/nn.h"
#include "agents/rl/joint.h"
#include "agents/rl/slate.h"
#include "core/err.h"
#include "core/parse.h"

/* The tracker's emit callback: hands the row to the agent's learner. */
static void s_emit(void *ctx, const float *row)
{
    rl_runner_t *run = ctx;
    if (run->push(run->ctx, row) != 0)
        run->out_of_memory = true;
    run->new_transitions++;
    run->transitions++;
}

void rl_runner_init(rl_runner_t *run, const char *tag, rl_runner_push_fn push, void *ctx)
{
    *run = (rl_runner_t){
        .tag = tag, .push = push, .ctx = ctx, .reward = RL_REWARD_SERVER, .train_every = 1};
}

void rl_runner_fini(rl_runner_t *run)
{
    tracker_destroy(&run->tracker);
    free(run->obs);
    free(run->rewards);
    free(run->others);
    free(run->scores);
    run->obs = run->rewards = run->others = run->scores = NULL;
    run->ready = false;
}

int rl_runner_main(rl_runner_t *run, int argc, char **argv, const agent_spec_t *spec)
{
    static const char *const caps[] = {"joint"};
    agent_spec_t with_joint = *spec;
    with_joint.caps = caps;
    with_joint.n_caps = 1;
    nn_blas_set_threads(1);
    int status = agent_main(argc, argv, &with_joint, run->ctx);
    rl_runner_fini(run);
    return status;
}

bool rl_runner_option(rl_runner_t *run, const char *name, const char *value, int *rc)
{
    *rc = 0;
    if (strcmp(name, "reward") == 0) {
        *rc = rl_reward_parse(value, true, &run->reward);
    } else if (strcmp(name, "train-every") == 0) {
        *rc = parse_int(value, 1, 1 << 30, &run->train_every);
    } else if (strcmp(name, "save") == 0) {
        run->save_dir = value[0] ? value : NULL;
    } else if (strcmp(name, "load") == 0) {
        run->load_dir = value[0] ? value : NULL;
    } else {
        return false;
    }
    return true;
}

void rl_runner_setup(rl_runner_t *run, const agent_t *agent)
{
    const proto_welcome_t *w = agent_welcome(agent);
    run->dim = w->dim;
    run->n_topics = w->n_topics;
    run->k = w->slate_size;
    run->history_len = w->history_len;
    run->max_batch = w->limits.max_batch;
    run->n_agents = w->n_agents;
    snprintf(run->name, sizeof run->name, "%s", w->agents[w->agent_index]);
}

int rl_runner_alloc(rl_runner_t *run, uint32_t obs_dim, uint32_t act_dim, uint32_t other_dim)
{
    run->obs_dim = obs_dim;
    run->act_dim = act_dim;
    run->other_dim = other_dim;
    run->tracker = tracker_new((int)obs_dim, (int)act_dim, (int)other_dim);
    run->obs = malloc((size_t)run->max_batch * obs_dim * sizeof *run->obs);
    run->rewards = malloc(run->max_batch * sizeof *run->rewards);
    run->others = malloc(((size_t)run->max_batch * other_dim + 1) * sizeof *run->others);
    if (!run->tracker || !run->obs || !run->rewards || !run->others)
        return rl_runner_fail(run, ERR_ENOMEM, "out of memory or bad sizes");
    run->ready = true;
    return 0;
}

/* Learns a feedback block: the server's rewards or the own clicks, or
 * none here when the team reward comes with JOINT. */
static void s_feedback(rl_runner_t *run, uint32_t tick, const proto_feedback_t *fb)
{
    const float *rewards = rl_reward_signal(run->reward, fb, run->rewards, run->max_batch);
    tracker_feedback(run->tracker, tick, fb->n, fb->user_ids, rewards, fb->session_end, s_emit,
                     run);
}

int rl_runner_step_begin(rl_runner_t *run, agent_t *agent, const proto_step_t *step)
{
    s_feedback(run, step->tick, &step->feedback);
    int rc = rl_runner_step_end(run);
    if (rc != 0)
        return rc;
    const proto_items_t *items = agent_catalog(agent);
    if (step->requests.n > run->max_batch)
        return rl_runner_fail(run, ERR_ELIMIT, "%u requests, more than max_batch %u",
                              step->requests.n, run->max_batch);
    if (items->n > run->n_scores) {
        float *scores = realloc(run->scores, items->n * sizeof *scores);
        if (!scores)
            return rl_runner_fail(run, ERR_ENOMEM, "out of memory");
        run->scores = scores;
        run->n_scores = items->n;
    }
    return 0;
}

int rl_runner_answer(rl_runner_t *run, agent_t *agent, const proto_step_t *step, uint32_t r,
                     const float *query, int32_t topic, const float *act, int32_t *slate)
{
    const proto_items_t *items = agent_catalog(agent);
    slate_scores(items, query, run->scores);
    if (slate_top_k(items, run->scores, topic, run->k, slate) != 0)
        return rl_runner_fail(run, ERR_ELIMIT, "%u live items, fewer than k = %u", items->n,
                              run->k);
    int32_t user = step->requests.user_ids[r];
    int rc = tracker_request(run->tracker, step->tick, user, run->obs + (size_t)r * run->obs_dim,
                             act, s_emit, run);
    if (rc != 0)
        return rl_runner_fail(run, rc, "cannot track user %d: %s", user, err_str(rc));
    return 0;
}

int rl_runner_step_end(rl_runner_t *run)
{
    if (run->out_of_memory)
        return rl_runner_fail(run, ERR_ENOMEM, "out of memory for the replay buffer");
    return 0;
}

bool rl_runner_joint(rl_runner_t *run, agent_t *agent, const proto_joint_t *joint)
{
    uint32_t me = agent_welcome(agent)->agent_index; /* the current WELCOME's */
    if (!run->ready || me >= joint->n_agents)
        return false;
    const proto_joint_agent_t *mine = &joint->agents[me];
    if (mine->n > run->max_batch ||
        (run->other_dim > 0 && (joint->n_agents - 1) * run->dim != run->other_dim))
        return false;
    const proto_items_t *items = agent_catalog(agent);
    bool team = run->reward == RL_REWARD_TEAM;
    if (team)
        joint_team_rewards(joint, me, items, run->rewards);
    if (run->other_dim > 0)
        joint_other_actions(joint, me, items, run->others);
    for (uint32_t r = 0; r < mine->n; r++)
        tracker_outcome(
            run->tracker, joint->tick, mine->user_ids[r], team ? &run->rewards[r] : NULL,
            run->other_dim > 0 ? run->others + (size_t)r * run->other_dim : NULL, s_emit, run);
    return true;
}

void rl_runner_episode_end(rl_runner_t *run, const proto_episode_end_t *end)
{
    if (!run->ready)
        return;
    s_feedback(run, end->ticks, &end->feedback);
    tracker_reset(run->tracker);
}

bool rl_runner_train_due(rl_runner_t *run)
{
    if (run->new_transitions < (size_t)run->train_every)
        return false;
    run->new_transitions -= (size_t)run->train_every;
    return true;
}

int rl_runner_checkpoint_path(const rl_runner_t *run, const char *dir, const char *what, char *buf,
                              size_t len)
{
    int n = snprintf(buf, len, "%s/%s-%s.bin", dir, run->name, what);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

int rl_runner_fail(const rl_runner_t *run, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", run->tag);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}
