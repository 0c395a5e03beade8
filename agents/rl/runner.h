/* What the reinforcement-learning agent processes (recarena-qlearn,
 * recarena-maddpg) share around their algorithm: the options every
 * learner takes (--reward, --train-every, --save, --load), the sizes from
 * WELCOME, the tracker that turns each user's requests into transitions
 * (tracker.h) with the per-request buffers it needs, the answer of one
 * request (score the items against a query, keep the top k, record what
 * was done), the team rewards and other agents' actions from JOINT, the
 * training cadence, checkpoint file names and the "NAME: message" lines
 * on stderr. The agent keeps what is its algorithm's: what it observes,
 * how it acts, how and when it trains, what it logs and saves.
 *
 *     rl_runner_t run;
 *     rl_runner_init(&run, "qlearn", push, self);      main, before agent_main
 *     if (rl_runner_option(&run, name, value, &rc))      on_option
 *         return rc;
 *     rl_runner_setup(&run, agent); ...                  first on_reset: sizes
 *     rl_runner_alloc(&run, obs_dim, act_dim, other_dim);
 *     rl_runner_step_begin(&run, agent, step);           on_step: feedback
 *     ... fill run.obs row r, choose an action ...
 *     rl_runner_answer(&run, agent, step, r, query, topic, act, slate);
 *     rl_runner_step_end(&run);
 *     if (rl_runner_joint(&run, agent, joint)) ...       on_joint
 *     rl_runner_episode_end(&run, end);                  on_episode_end
 *     while (rl_runner_train_due(&run)) one training step;
 *     return rl_runner_main(&run, argc, argv, &spec);    main: agent_main, then fini
 *
 * The functions that can fail print "TAG: what went wrong" on stderr and
 * return a negative ERR_* code (core/err.h), which the agent's callback
 * returns to end the agent. */
#ifndef RECARENA_RL_RUNNER_H
#define RECARENA_RL_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agents/rl/reward.h"
#include "agents/rl/tracker.h"
#include "agents/sdk/agent.h"

/* Stores one completed transition (tracker.h's row, borrowed for the
 * call) in the agent's learner: 0, or non-zero when it could not (out of
 * memory: the runner's next step_end then fails). */
typedef int (*rl_runner_push_fn)(void *ctx, const float *row);

/* A value type, embedded in the agent's state. The agent may read every
 * field; it writes only train_every (its default, before agent_main) and
 * the rows of obs. */
typedef struct rl_runner {
    const char *tag; /* prefix of every message, e.g. "qlearn" */
    rl_runner_push_fn push;
    void *ctx;

    /* options */
    rl_reward_source_t reward;       /* --reward server (the default), team or clicks */
    int train_every;                 /* --train-every N: one training step per N new transitions */
    const char *save_dir, *load_dir; /* --save, --load; NULL when not given */

    /* from WELCOME (rl_runner_setup) */
    uint32_t dim, n_topics, k, history_len, max_batch, n_agents;
    char name[PROTO_MAX_NAME + 1]; /* this agent's name, copied: a reconnect replaces WELCOME */

    /* rl_runner_alloc */
    bool ready;
    uint32_t obs_dim, act_dim, other_dim;
    tracker_t *tracker;
    float *obs;     /* (max_batch, obs_dim): the agent fills row r before answering it */
    float *rewards; /* (max_batch) team rewards of a JOINT */
    float *others;  /* (max_batch, other_dim) other agents' actions of a JOINT */
    float *scores;  /* (n_scores) item scores of one answer */
    uint32_t n_scores;

    size_t transitions;     /* pushed since the start */
    size_t new_transitions; /* pushed and not yet trained on (rl_runner_train_due) */
    bool out_of_memory;     /* a push failed */
} rl_runner_t;

/* Defaults: --reward server, --train-every 1, no --save or --load. tag
 * borrowed for the runner's life, push and ctx receive the transitions. */
void rl_runner_init(rl_runner_t *run, const char *tag, rl_runner_push_fn push, void *ctx);

/* Frees what rl_runner_alloc made (nothing if it was never called). */
void rl_runner_fini(rl_runner_t *run);

/* The --help lines of the runner's --reward option, for options_help. */
#define RL_RUNNER_REWARD_HELP                                                                      \
    "  --reward server|team|clicks  learn from the reward the server sends (after\n"               \
    "                       world.reward_sharing and the diversity bonus), from the\n"             \
    "                       request's share of the team's mean reward (JOINT), or from\n"          \
    "                       the agent's own click (`own` = clicks; default server)\n"

/* Runs the agent process: spec's callbacks and options with the "joint"
 * capability (the team reward and other agents' actions come in JOINT),
 * one BLAS thread (small matrices, several agents per machine), run->ctx
 * as the callbacks' user pointer; then rl_runner_fini. Borrows argv and
 * spec. Returns agent_main's exit status. */
int rl_runner_main(rl_runner_t *run, int argc, char **argv, const agent_spec_t *spec);

/* One of the runner's options (reward, train-every, save, load; name
 * without the dashes)? If so returns true and sets *rc to 0, ERR_ESYNTAX
 * or ERR_ERANGE (core/err.h) for the SDK to report; false for any other
 * name. value borrowed for the agent's life (argv) by save and load. */
bool rl_runner_option(rl_runner_t *run, const char *name, const char *value, int *rc);

/* Copies the sizes of agent's WELCOME into the runner. */
void rl_runner_setup(rl_runner_t *run, const agent_t *agent);

/* Makes the tracker for records of obs_dim + act_dim + other_dim floats
 * and the per-request buffers for max_batch requests; ready after it.
 * 0, or ERR_ENOMEM (message printed) on bad sizes or out of memory. */
int rl_runner_alloc(rl_runner_t *run, uint32_t obs_dim, uint32_t act_dim, uint32_t other_dim);

/* Start of on_step: learns the feedback of the previous tick (own
 * rewards with --reward own, session ends), checks the batch fits
 * max_batch (else ERR_ELIMIT) and makes room for the scores of every live
 * item (else ERR_ENOMEM). 0 or a negative code. */
int rl_runner_step_begin(rl_runner_t *run, agent_t *agent, const proto_step_t *step);

/* Answers request r of step (the user step->requests.user_ids[r]): slate (k ids) = the top k live
 * items by embedding . query (dim; topic >= 0 puts that topic's items first, slate.h), and records
 * obs row r with the action act (act_dim floats, copied) for the user's transition. 0 or -1. */
int rl_runner_answer(rl_runner_t *run, agent_t *agent, const proto_step_t *step, uint32_t r,
                     const float *query, int32_t topic, const float *act, int32_t *slate);

/* End of on_step: ERR_ENOMEM (message printed) if a transition could not
 * be stored since the last call, else 0. */
int rl_runner_step_end(rl_runner_t *run);

/* A JOINT: with --reward team, each of this agent's requests of the tick
 * gets its share of the team reward (joint.h); with other_dim > 0, the
 * other agents' actions (their slates' mean embeddings). Returns false,
 * learning nothing, when the runner is not ready or the JOINT does not
 * fit (this agent missing, more requests than max_batch, another number
 * of agents than other_dim says); true otherwise. */
bool rl_runner_joint(rl_runner_t *run, agent_t *agent, const proto_joint_t *joint);

/* An episode's end: learns its last feedback, then forgets every pending
 * transition. Nothing when not ready. */
void rl_runner_episode_end(rl_runner_t *run, const proto_episode_end_t *end);

/* Whether a training step is due (train_every new transitions since the
 * last one); counts it as taken when it is. */
bool rl_runner_train_due(rl_runner_t *run);

/* path = DIR/NAME-WHAT.bin into buf (len bytes), NAME this agent's name.
 * 0, or -1 when it does not fit. */
int rl_runner_checkpoint_path(const rl_runner_t *run, const char *dir, const char *what, char *buf,
                              size_t len);

/* Prints "TAG: " and the formatted message on stderr, with a newline;
 * returns code (a negative ERR_*) so that a callback can
 * `return rl_runner_fail(run, ERR_..., ...)`. */
int rl_runner_fail(const rl_runner_t *run, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
