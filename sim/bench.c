/* World benchmark: interactions (pages resolved: a slate shown, a choice
 * drawn, the dynamics applied) per second, in-process, on one core, at the
 * standard configuration of docs/benchmarks.md. */
#include "bench.h"

#include "policy.h"
#include "world.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The standard configuration: 1,000 items, 16-dim embeddings, slates of
 * 10, 1,024 users all in a session every tick (so 1,024 requests per
 * tick), 2 agents acting with the random policy, market mode. */
static void s_standard_config(world_config_t *cfg, int ticks, int oracle)
{
    world_config_default(cfg);
    cfg->n_items = 1000;
    cfg->dim = 16;
    cfg->slate_size = 10;
    cfg->n_users = 1024;
    cfg->n_agents = 2;
    cfg->ticks = ticks;
    cfg->initial_active = 1.0;
    cfg->session_budget = 1.0; /* costs 0: sessions never end */
    cfg->consume_cost = 0.0;
    cfg->noclick_cost = 0.0;
    cfg->budget_gain = 0.0;
    cfg->oracle = oracle;
}

static int s_bench_world(int ticks, int oracle)
{
    world_config_t cfg;
    s_standard_config(&cfg, ticks, oracle);
    world_t *w = world_new(&cfg, 1);
    int32_t *slates = malloc((size_t)cfg.n_users * cfg.slate_size * sizeof *slates);
    policy_t *p[2] = {policy_new(POLICY_RANDOM, 1, 0, cfg.slate_size),
                      policy_new(POLICY_RANDOM, 1, 1, cfg.slate_size)};
    int rc = 1;
    if (!w || !slates || !p[0] || !p[1]) {
        fprintf(stderr, "recarena bench: out of memory\n");
        goto done;
    }
    long interactions = 0;
    double policy_time = 0.0, start = s_now();
    for (int t = 0; t < ticks; t++) {
        world_tick_stats_t st;
        world_begin_tick(w);
        for (int a = 0; a < 2; a++) {
            double t0 = s_now();
            policy_act(p[a], w, world_requests(w, a), slates);
            policy_time += s_now() - t0;
            world_set_slates(w, a, slates);
        }
        world_end_tick(w, &st);
        interactions += st.requests;
    }
    double elapsed = s_now() - start;
    printf("world  oracle=%-3s  ticks=%d  interactions=%ld  time=%.3f s  "
           "%.0f interactions/s  (%.0f/s without the policies' own time)\n",
           oracle ? "on" : "off", ticks, interactions, elapsed, interactions / elapsed,
           interactions / (elapsed - policy_time));
    rc = 0;
done:
    policy_destroy(&p[0]);
    policy_destroy(&p[1]);
    free(slates);
    world_destroy(&w);
    return rc;
}

int bench_main(int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "world") != 0) {
        fprintf(stderr, "usage: recarena bench world [--ticks N]\n");
        return 2;
    }
    int ticks = 500;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--ticks") == 0 && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 1 || v > 1000000) {
                fprintf(stderr, "recarena bench: --ticks: expected 1..1000000, got '%s'\n",
                        argv[i]);
                return 2;
            }
            ticks = (int)v;
        } else {
            fprintf(stderr, "recarena bench: unknown option '%s'\n", argv[i]);
            return 2;
        }
    }
    printf("config: 1000 items, dim 16, slate 10, 1024 requests/tick, 2 agents (random "
           "policy), market mode, one core\n");
    return s_bench_world(ticks, 0) || s_bench_world(ticks / 10 > 0 ? ticks / 10 : 1, 1);
}
