/* recarena-rl-bench: throughput of the reinforcement-learning cores
 * (docs/benchmarks.md), on one core (one OpenBLAS thread):
 *
 *   - MADDPG update steps per second at the reference sizes (3 agents,
 *     two 64-unit ReLU layers, batch 1024), with the observation and
 *     action widths of the world's defaults (dim 16, 10 topics): one
 *     step is one agent's critic step, actor step and target updates;
 *     also with --local-critic's smaller critic (independent DDPG);
 *   - DQN training steps per second (batch 64);
 *   - agent steps per second: one request observed, answered with a
 *     slate out of 400 live items and learned from (tracker, replay,
 *     training at each agent's default cadence), no networking, for
 *     tabular Q, DQN and MADDPG.
 *
 *     recarena-rl-bench [--seconds S] [--cpu-time] [--only maddpg|roofline]
 *
 * --only maddpg prints one line, "maddpg_updates_per_second X", for
 * bench/maddpg_torch.py to compare with PyTorch. --only roofline times,
 * one by one, every sgemm that one MADDPG update calls (the shapes of
 * nn.c's forward, weight-gradient and input-gradient products at the
 * reference sizes), a large square sgemm as the machine's practical
 * peak, and the whole update, and prints the GFLOP/s of each and the
 * share of the update that sgemm can account for (docs/benchmarks.md).
 * --cpu-time times everything by the process's CPU time instead of the
 * wall clock. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agents/rl/dqn.h"
#include "agents/rl/explore.h"
#include "agents/rl/maddpg.h"
#include "agents/nn/nn.h"
#include "agents/rl/observe.h"
#include "agents/rl/option.h"
#include "agents/rl/qtable.h"
#include "agents/rl/slate.h"
#include "agents/rl/tracker.h"

#define BENCH_DIM      16
#define BENCH_TOPICS   10
#define BENCH_AGENTS   3
#define BENCH_ITEMS    400
#define BENCH_K        6
#define BENCH_REQUESTS 100 /* per tick */
#define BENCH_USERS    500
#define BENCH_HISTORY  5

/* The clock of every figure: wall clock, or with --cpu-time the process's
 * CPU time (one thread: OpenBLAS runs in it), which a loaded machine
 * moves far less. */
static clockid_t s_clock = CLOCK_MONOTONIC;

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(s_clock, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void *s_xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p) {
        fprintf(stderr, "recarena-rl-bench: out of memory\n");
        exit(1);
    }
    return p;
}

static void s_fill(float *a, size_t n, pcg32_t *rng)
{
    for (size_t i = 0; i < n; i++)
        a[i] = 2.0f * pcg32_uniform_f(rng) - 1.0f;
}

/* Training steps per second of one MADDPG learner with n_others other
 * agents, its replay holding 100000 random transitions. */
static double s_maddpg_updates(int n_others, double seconds, pcg32_t *rng)
{
    maddpg_config_t cfg;
    maddpg_config_default(&cfg, BENCH_DIM + BENCH_TOPICS, BENCH_DIM, n_others);
    cfg.buffer = 100000;
    maddpg_t *m = maddpg_new(&cfg, rng);
    if (!m) {
        fprintf(stderr, "recarena-rl-bench: cannot make a MADDPG learner\n");
        exit(1);
    }
    int width = maddpg_row_width(&cfg);
    float *row = s_xmalloc((size_t)width * sizeof *row);
    for (size_t i = 0; i < cfg.buffer; i++) {
        s_fill(row, (size_t)width, rng);
        row[width - 1] = pcg32_uniform_f(rng) < 0.1f;
        maddpg_push(m, row);
    }
    for (int i = 0; i < 5; i++) /* warm up */
        maddpg_train_step(m, rng, NULL);
    long steps = 0;
    double start = s_now(), elapsed;
    do {
        maddpg_train_step(m, rng, NULL);
        steps++;
        elapsed = s_now() - start;
    } while (elapsed < seconds);
    free(row);
    maddpg_destroy(&m);
    return (double)steps / elapsed;
}

static double s_dqn_updates(double seconds, pcg32_t *rng)
{
    dqn_config_t cfg;
    dqn_config_default(&cfg, BENCH_DIM + BENCH_TOPICS, BENCH_TOPICS);
    dqn_t *d = dqn_new(&cfg, rng);
    if (!d) {
        fprintf(stderr, "recarena-rl-bench: cannot make a DQN\n");
        exit(1);
    }
    int width = dqn_row_width(&cfg);
    float *row = s_xmalloc((size_t)width * sizeof *row);
    for (int i = 0; i < 100000; i++) {
        s_fill(row, (size_t)width, rng);
        row[cfg.obs_dim] = (float)pcg32_bounded(rng, BENCH_TOPICS);
        row[width - 1] = pcg32_uniform_f(rng) < 0.1f;
        dqn_push(d, row);
    }
    long steps = 0;
    double start = s_now(), elapsed;
    do {
        dqn_train_step(d, rng, NULL);
        steps++;
        elapsed = s_now() - start;
    } while (elapsed < seconds);
    free(row);
    dqn_destroy(&d);
    return (double)steps / elapsed;
}

/* ---- agent steps: the per-request loop of the agents, without sockets -- */

typedef enum bench_algo {
    BENCH_TABULAR,
    BENCH_DQN,
    BENCH_MADDPG,
} bench_algo_t;

typedef struct bench_learner {
    bench_algo_t algo;
    qtable_t *table;
    dqn_t *dqn;
    maddpg_t *maddpg;
    size_t new_transitions;
} bench_learner_t;

static void s_emit(void *ctx, const float *row)
{
    bench_learner_t *l = ctx;
    if (l->algo == BENCH_TABULAR)
        qtable_update(l->table, (int)row[0], (int)row[1], row[2], (int)row[3], row[4] != 0.0f);
    else if (l->algo == BENCH_DQN)
        dqn_push(l->dqn, row);
    else
        maddpg_push(l->maddpg, row);
    l->new_transitions++;
}

/* Requests per second through observe, act, slate, tracker and training
 * at the agent's default cadence (tabular: every transition; DQN: a step
 * per 4; MADDPG: a step per 100 once a batch is held), with a fixed set of
 * users asking every tick and the team reward of each request drawn at
 * random (a click with probability 0.3). */
static double s_agent_steps(bench_algo_t algo, double seconds, pcg32_t *rng)
{
    int32_t *ids = s_xmalloc(BENCH_ITEMS * sizeof *ids);
    int32_t *topics = s_xmalloc(BENCH_ITEMS * sizeof *topics);
    float *emb = s_xmalloc((size_t)BENCH_ITEMS * BENCH_DIM * sizeof *emb);
    for (int i = 0; i < BENCH_ITEMS; i++) {
        ids[i] = i;
        topics[i] = i % BENCH_TOPICS;
    }
    s_fill(emb, (size_t)BENCH_ITEMS * BENCH_DIM, rng);
    proto_items_t items = {
        .n = BENCH_ITEMS, .dim = BENCH_DIM, .ids = ids, .topics = topics, .embeddings = emb};
    float *features = s_xmalloc((size_t)BENCH_USERS * BENCH_DIM * sizeof *features);
    int32_t *history = s_xmalloc((size_t)BENCH_USERS * BENCH_HISTORY * sizeof *history);
    s_fill(features, (size_t)BENCH_USERS * BENCH_DIM, rng);
    for (int i = 0; i < BENCH_USERS * BENCH_HISTORY; i++)
        history[i] = (int32_t)pcg32_bounded(rng, BENCH_ITEMS);
    float centroids[BENCH_TOPICS * BENCH_DIM];
    slate_topic_centroids(&items, BENCH_TOPICS, centroids);

    int obs_dim = algo == BENCH_TABULAR ? 1 : (int)observe_dim(BENCH_DIM, BENCH_TOPICS);
    int act_dim = algo == BENCH_MADDPG ? BENCH_DIM : 1;
    int other_dim = algo == BENCH_MADDPG ? (BENCH_AGENTS - 1) * BENCH_DIM : 0;
    bench_learner_t l = {.algo = algo};
    dqn_config_t dcfg;
    maddpg_config_t mcfg;
    if (algo == BENCH_TABULAR) {
        l.table = qtable_new((int)observe_n_states(BENCH_TOPICS), BENCH_TOPICS, 0.1f, 0.95f, 0.0f);
    } else if (algo == BENCH_DQN) {
        dqn_config_default(&dcfg, obs_dim, BENCH_TOPICS);
        l.dqn = dqn_new(&dcfg, rng);
    } else {
        maddpg_config_default(&mcfg, obs_dim, BENCH_DIM, BENCH_AGENTS - 1);
        l.maddpg = maddpg_new(&mcfg, rng);
    }
    tracker_t *tr = tracker_new(obs_dim, act_dim, other_dim);
    if (!tr || (!l.table && !l.dqn && !l.maddpg)) {
        fprintf(stderr, "recarena-rl-bench: cannot make a learner\n");
        exit(1);
    }
    float *obs = s_xmalloc((size_t)BENCH_REQUESTS * obs_dim * sizeof *obs);
    float *acts = s_xmalloc((size_t)BENCH_REQUESTS * BENCH_DIM * sizeof *acts);
    int topic[BENCH_REQUESTS];
    int32_t users[BENCH_REQUESTS], slate[BENCH_K];
    float scores[BENCH_ITEMS], others[(BENCH_AGENTS - 1) * BENCH_DIM];
    s_fill(others, sizeof others / sizeof *others, rng);
    uint8_t going[BENCH_REQUESTS] = {0};

    long requests = 0;
    double start = s_now(), elapsed;
    for (uint32_t tick = 0;; tick++) {
        /* the same users ask every tick, so each request completes a
         * transition; a new set every 20 ticks */
        uint32_t first = (tick / 20 * BENCH_REQUESTS) % BENCH_USERS;
        for (int r = 0; r < BENCH_REQUESTS; r++)
            users[r] = (int32_t)(first + (uint32_t)r);
        tracker_feedback(tr, tick, BENCH_REQUESTS, users, NULL, going, s_emit, &l);
        for (int r = 0; r < BENCH_REQUESTS; r++) {
            const float *f = features + (size_t)users[r] * BENCH_DIM;
            const int32_t *h = history + (size_t)users[r] * BENCH_HISTORY;
            float *o = obs + (size_t)r * obs_dim;
            if (algo == BENCH_TABULAR) {
                int s = (int)observe_state(f, BENCH_DIM, h, BENCH_HISTORY, &items, BENCH_TOPICS,
                                           centroids);
                o[0] = (float)s;
                topic[r] = qtable_act(l.table, s, 0.05f, rng);
            } else {
                observe_vector(f, BENCH_DIM, h, BENCH_HISTORY, &items, BENCH_TOPICS, o);
            }
        }
        if (algo == BENCH_DQN) {
            const float *q = dqn_q_values(l.dqn, obs, BENCH_REQUESTS);
            for (int r = 0; r < BENCH_REQUESTS; r++)
                topic[r] = explore_egreedy(rng, q + (size_t)r * BENCH_TOPICS, BENCH_TOPICS, 0.05f);
        } else if (algo == BENCH_MADDPG) {
            memcpy(acts, maddpg_act(l.maddpg, obs, BENCH_REQUESTS),
                   (size_t)BENCH_REQUESTS * BENCH_DIM * sizeof *acts);
        }
        for (int r = 0; r < BENCH_REQUESTS; r++) {
            const float *query = algo == BENCH_MADDPG ? acts + (size_t)r * BENCH_DIM
                                                      : features + (size_t)users[r] * BENCH_DIM;
            slate_scores(&items, query, scores);
            slate_top_k(&items, scores, algo == BENCH_MADDPG ? -1 : topic[r], BENCH_K, slate);
            float a = (float)topic[r];
            tracker_request(tr, tick, users[r], obs + (size_t)r * obs_dim,
                            algo == BENCH_MADDPG ? query : &a, s_emit, &l);
        }
        for (int r = 0; r < BENCH_REQUESTS; r++) {
            float reward = pcg32_uniform_f(rng) < 0.3f ? 0.5f : 0.0f;
            tracker_outcome(tr, tick, users[r], &reward, other_dim ? others : NULL, s_emit, &l);
        }
        if (algo == BENCH_DQN)
            for (; l.new_transitions >= 4; l.new_transitions -= 4)
                dqn_train_step(l.dqn, rng, NULL);
        if (algo == BENCH_MADDPG)
            for (; l.new_transitions >= 100; l.new_transitions -= 100)
                maddpg_train_step(l.maddpg, rng, NULL);
        requests += BENCH_REQUESTS;
        elapsed = s_now() - start;
        if (elapsed >= seconds)
            break;
    }
    tracker_destroy(&tr);
    qtable_destroy(&l.table);
    dqn_destroy(&l.dqn);
    maddpg_destroy(&l.maddpg);
    free(obs);
    free(acts);
    free(features);
    free(history);
    free(ids);
    free(topics);
    free(emb);
    return (double)requests / elapsed;
}

/* ---- the sgemm roofline of one MADDPG update --------------------------- */

/* One row-major cblas_sgemm shape, C (m, n) = op(A) op(B) with inner
 * dimension k, as nn.c calls it, and how many times one update calls it. */
typedef struct bench_gemm {
    const char *what;
    bool ta, tb;
    int m, n, k, calls;
} bench_gemm_t;

/* Seconds per call of one shape, timed over at least `seconds`. */
static double s_gemm_seconds(const bench_gemm_t *g, double seconds, pcg32_t *rng)
{
    size_t na = (size_t)g->m * g->k, nb = (size_t)g->k * g->n, nc = (size_t)g->m * g->n;
    float *a = s_xmalloc(na * sizeof *a), *b = s_xmalloc(nb * sizeof *b);
    float *c = s_xmalloc(nc * sizeof *c);
    s_fill(a, na, rng);
    s_fill(b, nb, rng);
    memset(c, 0, nc * sizeof *c);
    int lda = g->ta ? g->m : g->k, ldb = g->tb ? g->k : g->n;
    long calls = 0;
    double start = s_now(), elapsed;
    do {
        for (int i = 0; i < 8; i++)
            cblas_sgemm(CblasRowMajor, g->ta ? CblasTrans : CblasNoTrans,
                        g->tb ? CblasTrans : CblasNoTrans, g->m, g->n, g->k, 1.0f, a, lda, b, ldb,
                        0.0f, c, g->n);
        calls += 8;
        elapsed = s_now() - start;
    } while (elapsed < seconds);
    free(a);
    free(b);
    free(c);
    return elapsed / (double)calls;
}

static void s_roofline(double seconds, pcg32_t *rng)
{
    const int B = 1024, obs = BENCH_DIM + BENCH_TOPICS, act = BENCH_DIM, h = 64;
    const int cin = obs + BENCH_AGENTS * BENCH_DIM;
    /* forward: y (B, out) = x (B, in) W^T; weight gradient: dW (out, in)
     * = dz^T x; input gradient: dx (B, in) = dz W. Actor: 2 forwards
     * (target, online), 1 backward with weight gradients down to layer 0
     * (no dx there). Critic: 3 forwards (target, online, online for the
     * actor step), 1 backward with weight gradients (no dx at layer 0),
     * 1 input gradient through all three layers. */
    const bench_gemm_t gemms[] = {
        {"actor fwd L0", false, true, B, h, obs, 2},  {"actor fwd L1", false, true, B, h, h, 2},
        {"actor fwd L2", false, true, B, act, h, 2},  {"critic fwd L0", false, true, B, h, cin, 3},
        {"critic fwd L1", false, true, B, h, h, 3},   {"critic fwd L2", false, true, B, 1, h, 3},
        {"actor dW L2", true, false, act, h, B, 1},   {"actor dx L2", false, false, B, h, act, 1},
        {"actor dW L1", true, false, h, h, B, 1},     {"actor dx L1", false, false, B, h, h, 1},
        {"actor dW L0", true, false, h, obs, B, 1},   {"critic dW L2", true, false, 1, h, B, 1},
        {"critic dx L2", false, false, B, h, 1, 2},   {"critic dW L1", true, false, h, h, B, 1},
        {"critic dx L1", false, false, B, h, h, 2},   {"critic dW L0", true, false, h, cin, B, 1},
        {"critic dx L0", false, false, B, cin, h, 1},
    };
    const int n_gemms = (int)(sizeof gemms / sizeof *gemms);
    printf("one core, one OpenBLAS thread (%s kernels), %s\n", openblas_get_corename(),
           s_clock == CLOCK_MONOTONIC ? "wall clock" : "process CPU time");
    const bench_gemm_t big = {"square", false, true, 2048, 2048, 2048, 1};
    double big_s = s_gemm_seconds(&big, seconds, rng);
    double peak = 2.0 * 2048.0 * 2048.0 * 2048.0 / big_s / 1e9;
    printf("practical peak: sgemm 2048 x 2048 x 2048 (NoTrans, Trans): %.1f GFLOP/s\n", peak);
    printf("%-14s %5s %5s %5s %5s %10s %9s %8s\n", "sgemm", "op", "m", "n", "k", "calls", "us/call",
           "GFLOP/s");
    double total_s = 0.0, total_flop = 0.0;
    for (int i = 0; i < n_gemms; i++) {
        const bench_gemm_t *g = &gemms[i];
        double t = s_gemm_seconds(g, seconds / 8.0, rng);
        double flop = 2.0 * g->m * g->n * g->k;
        total_s += t * g->calls;
        total_flop += flop * g->calls;
        printf("%-14s %2s%-3s %5d %5d %5d %10d %9.1f %8.1f\n", g->what, g->ta ? "T" : "N",
               g->tb ? "T" : "N", g->m, g->n, g->k, g->calls, 1e6 * t, flop / t / 1e9);
    }
    double update_s = 1.0 / s_maddpg_updates(BENCH_AGENTS - 1, seconds, rng);
    printf("sgemm in one update: %.2f MFLOP in %.3f ms = %.1f GFLOP/s, %.0f%% of the peak\n",
           total_flop / 1e6, 1e3 * total_s, total_flop / total_s / 1e9,
           100.0 * total_flop / total_s / 1e9 / peak);
    printf("the whole update: %.3f ms; its sgemm calls timed alone: %.0f%% of it; "
           "the update's sgemm FLOPs at the peak: %.3f ms\n",
           1e3 * update_s, 100.0 * total_s / update_s, 1e3 * total_flop / (peak * 1e9));
}

int main(int argc, char **argv)
{
    float seconds = 2.0f;
    bool only_maddpg = false, only_roofline = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc &&
            option_float(argv[i + 1], 0.01, 3600.0, &seconds) == 0) {
            i++;
        } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc &&
                   strcmp(argv[i + 1], "maddpg") == 0) {
            only_maddpg = true;
            i++;
        } else if (strcmp(argv[i], "--cpu-time") == 0) {
            s_clock = CLOCK_PROCESS_CPUTIME_ID;
        } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc &&
                   strcmp(argv[i + 1], "roofline") == 0) {
            only_roofline = true;
            i++;
        } else {
            fprintf(
                stderr,
                "usage: recarena-rl-bench [--seconds S] [--cpu-time] [--only maddpg|roofline]\n");
            return strcmp(argv[i], "--help") == 0 ? 0 : 2;
        }
    }
    nn_blas_set_threads(1);
    pcg32_t rng;
    pcg32_seed(&rng, 42, 54);
    int obs_dim = BENCH_DIM + BENCH_TOPICS;
    if (only_roofline) {
        s_roofline(seconds, &rng);
        return 0;
    }
    if (only_maddpg) {
        printf("maddpg_updates_per_second %.1f\n",
               s_maddpg_updates(BENCH_AGENTS - 1, seconds, &rng));
        return 0;
    }
    printf("one core, one OpenBLAS thread; observation %d (dim %d + %d topics), "
           "action %d, two 64-unit ReLU layers\n",
           obs_dim, BENCH_DIM, BENCH_TOPICS, BENCH_DIM);
    double ma = s_maddpg_updates(BENCH_AGENTS - 1, seconds, &rng);
    printf("MADDPG update, %d agents (critic input %d), batch 1024: %8.1f steps/s per agent "
           "(%.2f ms), %.1f team steps/s\n",
           BENCH_AGENTS, obs_dim + BENCH_AGENTS * BENCH_DIM, ma, 1e3 / ma, ma / BENCH_AGENTS);
    double dd = s_maddpg_updates(0, seconds, &rng);
    printf("DDPG update, local critic (input %d), batch 1024:     %8.1f steps/s (%.2f ms)\n",
           obs_dim + BENCH_DIM, dd, 1e3 / dd);
    double dq = s_dqn_updates(seconds, &rng);
    printf("DQN update, %d actions, double Q, batch 64:           %8.1f steps/s (%.3f ms)\n",
           BENCH_TOPICS, dq, 1e3 / dq);
    printf("agent steps (one request observed, answered from %d items, learned from; "
           "%d requests a tick):\n",
           BENCH_ITEMS, BENCH_REQUESTS);
    printf("  tabular Q  %10.0f requests/s\n", s_agent_steps(BENCH_TABULAR, seconds, &rng));
    printf("  DQN        %10.0f requests/s (a training step per 4)\n",
           s_agent_steps(BENCH_DQN, seconds, &rng));
    printf("  MADDPG     %10.0f requests/s (a training step per 100)\n",
           s_agent_steps(BENCH_MADDPG, seconds, &rng));
    return 0;
}
