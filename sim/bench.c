/* Benchmarks (docs/benchmarks.md):
 *   world: interactions (pages resolved: a slate shown, a choice drawn, the
 *     dynamics applied) per second, in-process, on one core;
 *   wire: the same through two SDK agent processes over ipc://, the
 *     median time of one tick, and a raw ZeroMQ DEALER/ROUTER ping-pong
 *     with the same message sizes for comparison, its round trips
 *     interleaved with the ticks in blocks so that both see the same load. */
#include "sim/bench.h"

#include "core/parse.h"

#include "proto/codec.h"
#include "proto/curve.h"
#include "sim/folder.h"
#include "sim/kernel.h"
#include "sim/policy.h"
#include "sim/session.h"
#include "sim/tick.h"
#include "proto/transport.h"
#include "sim/world.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

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

/* The standard configuration, or with n_users users and n_items items
 * (all users still in a session every tick) when those are > 0. */
static int s_bench_world(int ticks, int oracle, int n_users, int n_items)
{
    world_config_t cfg;
    s_standard_config(&cfg, ticks, oracle);
    if (n_users > 0)
        cfg.n_users = n_users;
    if (n_items > 0)
        cfg.n_items = n_items;
    world_t *w = world_new(&cfg, 1);
    policy_t *p[2] = {policy_new(POLICY_RANDOM, 1, 0, cfg.slate_size),
                      policy_new(POLICY_RANDOM, 1, 1, cfg.slate_size)};
    int rc = 1;
    if (!w || !p[0] || !p[1]) {
        fprintf(stderr, "recarena bench: out of memory\n");
        goto done;
    }
    long interactions = 0, first_tick = 0;
    double policy_time = 0.0, start = s_now(), first_end = start;
    for (int t = 0; t < ticks; t++) {
        world_tick_stats_t st;
        tick_times_t times;
        double tick_start = s_now();
        if (tick_play(w, p, NULL, &st, &times) != 0)
            goto done;
        double tick_end = s_now();
        policy_time += times.policies_s;
        interactions += st.requests;
        if (t == 0) {
            first_tick = st.requests;
            first_end = tick_end;
        }
        if (tick_end - tick_start >= 1.0) /* a large world: progress, a line per tick */
            fprintf(stderr, "tick %d/%d: %d interactions in %.2f s (%.0f/s)\n", t + 1, ticks,
                    st.requests, tick_end - tick_start, st.requests / (tick_end - tick_start));
    }
    double end = s_now(), elapsed = end - start;
    printf("world  oracle=%-3s  ticks=%d  interactions=%ld  time=%.3f s  "
           "%.0f interactions/s  (%.0f/s without the policies' own time)\n",
           oracle ? "on" : "off", ticks, interactions, elapsed, interactions / elapsed,
           interactions / (elapsed - policy_time));
    /* the first tick also touches every per-request buffer for the first
     * time (page faults), which at millions of users is most of its time */
    if (ticks >= 2)
        printf("world  oracle=%-3s  after the first tick: %.0f interactions/s\n",
               oracle ? "on" : "off", (interactions - first_tick) / (end - first_end));
    rc = 0;
done:
    policy_destroy(&p[0]);
    policy_destroy(&p[1]);
    world_destroy(&w);
    return rc;
}

/* ---- world against the bare kernel ------------------------------------ */

static int s_compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double s_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, s_compare_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

#define S_LIMIT_ROUNDS 5

/* `bench world --limit`: the bare kernel (sim/kernel.h) at the standard
 * configuration's sizes (1,024 users, 1,000 items, d = 16, k = 10, the
 * world's temperature, no-click score and drift) and the world at the
 * standard configuration (oracle off), alternated for S_LIMIT_ROUNDS
 * rounds of the same number of interactions, in one process. Prints the
 * median rate of each and their ratio. */
static int s_bench_limit(int ticks)
{
    world_config_t cfg;
    int per_round = ticks / S_LIMIT_ROUNDS > 0 ? ticks / S_LIMIT_ROUNDS : 1;
    s_standard_config(&cfg, per_round * S_LIMIT_ROUNDS, 0);
    kernel_config_t kc = {.n_users = cfg.n_users,
                          .n_items = cfg.n_items,
                          .dim = cfg.dim,
                          .k = cfg.slate_size,
                          .temperature = cfg.choice_temperature,
                          .no_click_score = cfg.no_click_score,
                          .drift = (float)cfg.interest_drift};
    world_t *w = world_new(&cfg, 1);
    kernel_t *kn = kernel_new(&kc, 1);
    policy_t *p[2] = {policy_new(POLICY_RANDOM, 1, 0, cfg.slate_size),
                      policy_new(POLICY_RANDOM, 1, 1, cfg.slate_size)};
    int rc = 1;
    if (!w || !kn || !p[0] || !p[1]) {
        fprintf(stderr, "recarena bench: out of memory\n");
        goto done;
    }
    double kernel_rate[S_LIMIT_ROUNDS], world_rate[S_LIMIT_ROUNDS];
    long kernel_clicks = 0, world_clicks = 0;
    for (int r = 0; r < S_LIMIT_ROUNDS; r++) {
        long interactions = 0;
        double start = s_now();
        for (int t = 0; t < per_round; t++) {
            world_tick_stats_t st;
            if (tick_play(w, p, NULL, &st, NULL) != 0)
                goto done;
            interactions += st.requests;
            world_clicks += st.clicks;
        }
        world_rate[r] = interactions / (s_now() - start);
        start = s_now();
        for (long i = 0; i < interactions; i++)
            kernel_clicks += kernel_interact(kn, (int32_t)(i % kc.n_users)) >= 0;
        kernel_rate[r] = interactions / (s_now() - start);
    }
    double kernel_median = s_median(kernel_rate, S_LIMIT_ROUNDS);
    double world_median = s_median(world_rate, S_LIMIT_ROUNDS);
    printf("kernel  %d rounds of %d interactions  median %.0f interactions/s  (clicks %ld)\n",
           S_LIMIT_ROUNDS, per_round * cfg.n_users, kernel_median, kernel_clicks);
    printf("world   %d rounds of %d interactions  median %.0f interactions/s  (clicks %ld)\n",
           S_LIMIT_ROUNDS, per_round * cfg.n_users, world_median, world_clicks);
    printf("ratio world/kernel %.2f\n", world_median / kernel_median);
    rc = 0;
done:
    policy_destroy(&p[0]);
    policy_destroy(&p[1]);
    kernel_destroy(&kn);
    world_destroy(&w);
    return rc;
}

/* ---- wire ------------------------------------------------------------ */

/* Ticks through two agent processes: n_users users all asking every
 * tick, each agent serving about half. Fills the median tick time (s),
 * interactions per second, and the sizes of the largest STEP and ACT. */
typedef struct s_wire_result {
    double median_tick_s, median_exchange_s, interactions_per_s;
    double median_raw_s; /* the raw ping-pong's round trip, interleaved with the ticks */
    size_t step_bytes, act_bytes;
} s_wire_result_t;

/* CURVE for the wire benchmark: keys for the server and both agents in a
 * new folder key_dir (caller removes it), set in sc, and each agent's
 * command given its key flags. 0, or 1 with a message on stderr. */
static int s_wire_keys(scenario_t *sc, const char *agent_path, char *key_dir)
{
    char err[1200], allow[64];
    if (!mkdtemp(key_dir)) {
        fprintf(stderr, "recarena bench: cannot create %s: %s\n", key_dir, strerror(errno));
        return 1;
    }
    snprintf(allow, sizeof allow, "%s/allow", key_dir);
    if (mkdir(allow, 0700) != 0 || curve_keygen(key_dir, "server", err, sizeof err) != 0) {
        fprintf(stderr, "recarena bench: keys: %s\n", errno ? strerror(errno) : err);
        return 1;
    }
    snprintf(sc->server.curve_secret_key, sizeof sc->server.curve_secret_key, "%s/server.key",
             key_dir);
    snprintf(sc->server.curve_allow, sizeof sc->server.curve_allow, "%s", allow);
    for (int a = 0; a < sc->n_agents; a++) {
        scenario_agent_t *ag = &sc->agents[a];
        if (curve_keygen(allow, ag->name, err, sizeof err) != 0) {
            fprintf(stderr, "recarena bench: keys: %s\n", err);
            return 1;
        }
        char name[sizeof ag->name]; /* a copy: snprintf's source may not overlap *sc */
        memcpy(name, ag->name, sizeof name);
        int n = snprintf(ag->command, sizeof ag->command,
                         "%s --server-key %s/server.pub --agent-key %s/%s.key", agent_path, key_dir,
                         allow, name);
        if (n < 0 || (size_t)n >= sizeof ag->command) {
            fprintf(stderr, "recarena bench: agent path too long: %s\n", agent_path);
            return 1;
        }
    }
    return 0;
}

/* A peer of the raw ping-pong, in its own process like an agent: its first
 * frame gives the size of its replies (8 bytes, little-endian); it answers
 * every further frame with a frame of that size until it gets an empty one. */
static void s_peer_main(const char *endpoint)
{
    void *ctx = zmq_ctx_new();
    char err[256];
    void *dealer = transport_dealer(ctx, endpoint, err, sizeof err);
    uint8_t *reply = NULL;
    uint64_t reply_bytes = 0;
    transport_frame_t in;
    transport_frame_init(&in);
    if (dealer) {
        transport_send(dealer, "hi", 2, 0);
        if (transport_recv_frame(dealer, NULL, NULL, NULL, &in, -1) == 8) {
            const uint8_t *b = transport_frame_data(&in);
            for (int i = 7; i >= 0; i--)
                reply_bytes = reply_bytes << 8 | b[i];
            reply = reply_bytes <= PROTO_MAX_MESSAGE_BYTES ? calloc(reply_bytes + 1, 1) : NULL;
        }
        while (reply && transport_recv_frame(dealer, NULL, NULL, NULL, &in, -1) > 0)
            transport_send(dealer, reply, reply_bytes, 0);
    }
    transport_frame_fini(&in);
    free(reply);
    if (dealer)
        zmq_close(dealer);
    zmq_ctx_term(ctx);
}

/* The raw ping-pong: this process sends step_bytes to two DEALER peer
 * processes over ipc:// and receives act_bytes from each, with the same
 * transport calls as the server, and nothing else. */
typedef struct s_ping_pong {
    char dir[32];
    pid_t peers[2];
    void *ctx, *router;
    uint8_t ids[2][TRANSPORT_MAX_IDENTITY];
    size_t id_len[2];
    uint8_t *frame; /* (step_bytes) */
    size_t step_bytes;
    bool ready; /* the peers greeted and have their reply size */
    transport_frame_t in;
} s_ping_pong_t;

static void s_ping_pong_close(s_ping_pong_t *pp)
{
    for (int i = 0; pp->router && i < 2; i++)
        if (pp->id_len[i] > 0)
            transport_send_to(pp->router, pp->ids[i], pp->id_len[i], "", 0);
    for (int i = 0; i < 2; i++)
        if (pp->peers[i] > 0) {
            if (!pp->ready)
                kill(pp->peers[i], SIGKILL);
            waitpid(pp->peers[i], NULL, 0);
        }
    free(pp->frame);
    transport_frame_fini(&pp->in);
    if (pp->router)
        zmq_close(pp->router);
    if (pp->ctx)
        zmq_ctx_term(pp->ctx);
    if (pp->dir[0])
        folder_remove(pp->dir);
}

/* Starts the peers (before any other ZeroMQ context of this process: a
 * fork while its threads run is asking for trouble) and waits for their
 * greeting. 0, or 1 (closed). */
static int s_ping_pong_open(s_ping_pong_t *pp)
{
    *pp = (s_ping_pong_t){.peers = {-1, -1}};
    transport_frame_init(&pp->in);
    snprintf(pp->dir, sizeof pp->dir, "/tmp/recarena-pp-XXXXXX");
    if (!mkdtemp(pp->dir)) {
        pp->dir[0] = '\0';
        return 1;
    }
    char endpoint[128];
    snprintf(endpoint, sizeof endpoint, "ipc://%s/pp", pp->dir);
    fflush(NULL);
    for (int i = 0; i < 2; i++) {
        pp->peers[i] = fork();
        if (pp->peers[i] == 0) {
            s_peer_main(endpoint);
            _exit(0);
        }
    }
    pp->ctx = zmq_ctx_new();
    char err[256];
    pp->router = pp->ctx ? transport_router(pp->ctx, endpoint, err, sizeof err) : NULL;
    bool ok = pp->router && pp->peers[0] > 0 && pp->peers[1] > 0;
    for (int i = 0; ok && i < 2; i++)
        ok =
            transport_recv_frame(pp->router, pp->ids[i], &pp->id_len[i], NULL, &pp->in, 10000) >= 0;
    if (!ok) {
        s_ping_pong_close(pp);
        return 1;
    }
    return 0;
}

/* Sets the frames' sizes: step_bytes out, act_bytes back. 0 or 1. */
static int s_ping_pong_size(s_ping_pong_t *pp, size_t step_bytes, size_t act_bytes)
{
    pp->frame = calloc(step_bytes + 1, 1);
    if (!pp->frame)
        return 1;
    pp->step_bytes = step_bytes;
    uint8_t size[8];
    for (int i = 0; i < 8; i++)
        size[i] = (uint8_t)((uint64_t)act_bytes >> (8 * i));
    for (int i = 0; i < 2; i++)
        if (transport_send_to(pp->router, pp->ids[i], pp->id_len[i], size, sizeof size) != 0)
            return 1;
    pp->ready = true;
    return 0;
}

/* One round trip, in seconds. */
static double s_ping_pong_round(s_ping_pong_t *pp)
{
    double t0 = s_now();
    for (int i = 0; i < 2; i++)
        transport_send_to(pp->router, pp->ids[i], pp->id_len[i], pp->frame, pp->step_bytes);
    uint8_t id[TRANSPORT_MAX_IDENTITY];
    size_t len;
    for (int i = 0; i < 2; i++)
        transport_recv_frame(pp->router, id, &len, NULL, &pp->in, -1);
    return s_now() - t0;
}

/* The sizes of a STEP to the agent with the larger batch now, and of its
 * ACT, into res. */
static void s_frame_sizes(const world_t *w, const world_config_t *cfg, s_wire_result_t *res)
{
    const world_requests_t *r0 = world_requests(w, 0), *r1 = world_requests(w, 1);
    int n = r0->n > r1->n ? r0->n : r1->n;
    proto_buffer_t buf;
    proto_buffer_init(&buf);
    size_t k = (size_t)cfg->slate_size, dim = (size_t)cfg->dim;
    size_t hist = (size_t)cfg->history_len;
    int32_t *ints = calloc((size_t)n * (k > hist ? k : hist) + 1, sizeof *ints);
    float *floats = calloc((size_t)n * dim + 1, sizeof *floats);
    uint8_t *bytes = calloc((size_t)n + 1, 1);
    if (ints && floats && bytes) {
        proto_msg_t m = {.type = PROTO_MSG_STEP};
        m.step = (proto_step_t){.deadline_ms = 10000,
                                .feedback = {.n = (uint32_t)n,
                                             .user_ids = ints,
                                             .clicked = ints,
                                             .reward = floats,
                                             .session_end = bytes},
                                .requests = {.n = (uint32_t)n,
                                             .dim = (uint32_t)dim,
                                             .history_len = (uint32_t)hist,
                                             .user_ids = ints,
                                             .features = floats,
                                             .history = ints},
                                .born = {.dim = (uint32_t)dim}};
        if (proto_encode(&m, &buf, NULL, 0) == 0)
            res->step_bytes = buf.size;
        proto_msg_t act = {.type = PROTO_MSG_ACT};
        act.act = (proto_act_t){
            .n = (uint32_t)n, .slate_size = (uint32_t)k, .user_ids = ints, .slates = ints};
        if (proto_encode(&act, &buf, NULL, 0) == 0)
            res->act_bytes = buf.size;
    }
    free(ints);
    free(floats);
    free(bytes);
    proto_buffer_fini(&buf);
}

enum {
    S_WARM_UP = 10, /* ticks before the measured ones */
    S_BLOCK = 10    /* measured ticks, then as many raw round trips, in turn */
};

static int s_wire_run(const char *agent_path, bool curve, int n_users, int ticks,
                      s_wire_result_t *res)
{
    static scenario_t sc; /* large; zero-initialised */
    memset(&sc, 0, sizeof sc);
    s_standard_config(&sc.world, ticks + S_WARM_UP, 0);
    sc.world.n_users = n_users;
    snprintf(sc.name, sizeof sc.name, "bench-wire");
    sc.seed = 1;
    sc.episodes = 1;
    sc.n_agents = 2;
    sc.server.deadline_ms = 10000;
    sc.server.hello_timeout_ms = 10000;
    for (int a = 0; a < 2; a++) {
        snprintf(sc.agents[a].name, sizeof sc.agents[a].name, "agent%d", a);
        if (strlen(agent_path) >= sizeof sc.agents[a].command) {
            fprintf(stderr, "recarena bench: agent path too long: %s\n", agent_path);
            return 1;
        }
        memcpy(sc.agents[a].command, agent_path, strlen(agent_path) + 1);
    }
    char key_dir[] = "/tmp/recarena-bench-keys-XXXXXX";
    if (curve && s_wire_keys(&sc, agent_path, key_dir) != 0) {
        if (strcmp(key_dir, "/tmp/recarena-bench-keys-XXXXXX") != 0)
            folder_remove(key_dir);
        return 1;
    }
    world_t *w = world_new(&sc.world, sc.seed);
    double *times = malloc((size_t)ticks * sizeof *times);
    double *exchange = malloc((size_t)ticks * sizeof *exchange);
    double *raw = malloc((size_t)ticks * sizeof *raw);
    session_t *session = NULL;
    s_ping_pong_t pp_store, *pp = &pp_store;
    int rc = 1;
    if (!w || !times || !exchange || !raw)
        goto done;
    if (s_ping_pong_open(pp) != 0) {
        fprintf(stderr, "recarena bench: the raw ping-pong's peers did not start\n");
        goto done;
    }
    char log_dir[] = "/tmp/recarena-bench-XXXXXX";
    if (!mkdtemp(log_dir))
        goto close_pp;
    session_options_t so = {.log_dir = log_dir, .quiet = false};
    if (session_open(&session, &sc, w, &so) != 0) {
        fprintf(stderr, "recarena bench: agents did not start (%s)\n", agent_path);
        goto cleanup_logs;
    }
    server_t *server = session_server(session);
    policy_t *no_policies[2] = {NULL, NULL};
    server_begin_episode(server);
    long interactions = 0;
    double total = 0.0;
    /* after the warm-up, blocks of ticks alternate with as many raw round
     * trips, so that both see the same load on the machine */
    for (int t = 0, raw_done = 0; t < ticks + S_WARM_UP; t++) {
        world_tick_stats_t st;
        tick_times_t tt;
        double t0 = s_now();
        if (tick_play(w, no_policies, server, &st, &tt) != 0)
            goto cleanup;
        double dt = s_now() - t0;
        if (t + 1 == S_WARM_UP) { /* the frames' sizes: a STEP to the larger batch, its ACT */
            s_frame_sizes(w, &sc.world, res);
            if (s_ping_pong_size(pp, res->step_bytes, res->act_bytes) != 0)
                goto cleanup;
        }
        if (t < S_WARM_UP)
            continue;
        times[t - S_WARM_UP] = dt;
        exchange[t - S_WARM_UP] = tt.exchange_s;
        total += dt;
        interactions += st.requests;
        if ((t + 1 - S_WARM_UP) % S_BLOCK == 0 || t + 1 == ticks + S_WARM_UP)
            while (raw_done < t + 1 - S_WARM_UP)
                raw[raw_done++] = s_ping_pong_round(pp);
    }
    res->median_tick_s = s_median(times, ticks);
    res->median_exchange_s = s_median(exchange, ticks);
    res->median_raw_s = s_median(raw, ticks);
    res->interactions_per_s = interactions / total;
    rc = 0;
cleanup:
    session_close(&session, "benchmark complete");
cleanup_logs:
    if (folder_remove(log_dir) != 0)
        fprintf(stderr, "recarena bench: could not remove %s: %s\n", log_dir, strerror(errno));
close_pp:
    s_ping_pong_close(pp);
done:
    if (curve)
        folder_remove(key_dir);
    free(times);
    free(exchange);
    free(raw);
    world_destroy(&w);
    return rc;
}

/* The SDK's random agent next to this binary: BUILD/agents/... */
static void s_default_agent(char *out, size_t len)
{
    char exe[PATH_MAX] = "";
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    snprintf(out, len, "%s/../agents/recarena-agent-random", dirname(exe));
}

static int s_bench_wire(const char *agent_path, bool curve, int ticks)
{
    printf("config: 1000 items, dim 16, slate 10, 2 SDK agents (%s) over ipc://%s, "
           "market mode, oracle off\n",
           agent_path, curve ? " with CURVE (keys made for the run)" : "");
    const int sizes[2] = {1024, 1};
    for (int i = 0; i < 2; i++) {
        s_wire_result_t res = {0};
        if (s_wire_run(agent_path, curve, sizes[i], ticks, &res) != 0)
            return 1;
        double raw = res.median_raw_s;
        printf("wire   %4d requests/tick: %.0f interactions/s over %d ticks\n"
               "       median tick %.1f us (world included), of which STEP->ACT exchange %.1f us\n"
               "       raw ZeroMQ ping-pong, same sizes (STEP %zu B, ACT %zu B): %.1f us\n"
               "       ratio tick/raw %.2f, exchange/raw %.2f\n",
               sizes[i], res.interactions_per_s, ticks, res.median_tick_s * 1e6,
               res.median_exchange_s * 1e6, res.step_bytes, res.act_bytes, raw * 1e6,
               res.median_tick_s / raw, res.median_exchange_s / raw);
    }
    return 0;
}

const char bench_usage[] =
    "usage: recarena bench world [--ticks N] [--limit] [--users N] [--items N]\n"
    "       recarena bench wire [--ticks N] [--agent PATH] [--curve]\n"
    "\n"
    "Prints throughput figures (docs/benchmarks.md); they are measurements, not tests.\n"
    "  world   the world alone, in-process random agents: interactions per second at\n"
    "          1024 requests per tick, and at one request per tick\n"
    "  wire    two agent processes over ipc://: interactions per second, the median\n"
    "          tick and STEP->ACT exchange, and a raw ZeroMQ ping-pong of the same sizes\n"
    "          (its round trips interleaved with the ticks, 10 and 10)\n"
    "\n"
    "options:\n"
    "  --ticks N     ticks to measure, 1..1000000 (default: world 500, wire 300)\n"
    "  --agent PATH  (wire) the agent program (default: the SDK's random agent,\n"
    "                agents/recarena-agent-random beside this build)\n"
    "  --curve       (wire) the agents connect with CURVE keys made for the run\n"
    "  --limit       (world) the bare interaction kernel (sim/kernel.h) and the world,\n"
    "                alternated in one run, and their ratio: 'ratio world/kernel R'\n"
    "  --users N     (world) users in the world, 1..100000000 (default 1024)\n"
    "  --items N     (world) items in the world, 1..100000000 (default 1000)\n"
    "  -h, --help    this text\n";

int bench_main(int argc, char **argv)
{
    const char *usage = bench_usage;
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(bench_usage, stdout);
            return 0;
        }
    if (argc < 1 || (strcmp(argv[0], "world") != 0 && strcmp(argv[0], "wire") != 0)) {
        fputs(usage, stderr);
        return 2;
    }
    bool wire = strcmp(argv[0], "wire") == 0, curve = false;
    int ticks = wire ? 300 : 500;
    bool limit = false;
    int n_users = 0, n_items = 0;
    char agent[PATH_MAX + 64];
    s_default_agent(agent, sizeof agent);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--ticks") == 0 && i + 1 < argc) {
            if (parse_int(argv[++i], 1, 1000000, &ticks) != 0) {
                fprintf(stderr, "recarena bench: --ticks: expected 1..1000000, got '%s'\n",
                        argv[i]);
                return 2;
            }
        } else if (wire && strcmp(argv[i], "--curve") == 0) {
            curve = true;
        } else if (!wire && strcmp(argv[i], "--limit") == 0) {
            limit = true;
        } else if (!wire && (strcmp(argv[i], "--users") == 0 || strcmp(argv[i], "--items") == 0) &&
                   i + 1 < argc) {
            bool users = strcmp(argv[i], "--users") == 0;
            if (parse_int(argv[++i], 1, 100000000, users ? &n_users : &n_items) != 0) {
                fprintf(stderr, "recarena bench: %s: expected 1..100000000, got '%s'\n",
                        argv[i - 1], argv[i]);
                return 2;
            }
        } else if (wire && strcmp(argv[i], "--agent") == 0 && i + 1 < argc) {
            snprintf(agent, sizeof agent, "%s", argv[++i]);
        } else {
            fprintf(stderr, "recarena bench: unknown option '%s'\n%s", argv[i], usage);
            return 2;
        }
    }
    if (wire) {
        if (access(agent, X_OK) != 0) {
            fprintf(stderr, "recarena bench: no agent program at %s (build it, or --agent PATH)\n",
                    agent);
            return 2;
        }
        return s_bench_wire(agent, curve, ticks);
    }
    printf("config: %d items, dim 16, slate 10, %d requests/tick, 2 agents (random "
           "policy), market mode, one core\n",
           n_items > 0 ? n_items : 1000, n_users > 0 ? n_users : 1024);
    if (limit)
        return s_bench_limit(ticks);
    if (n_users > 0 || n_items > 0) /* scale: the oracle would scan every item per request */
        return s_bench_world(ticks, 0, n_users, n_items);
    return s_bench_world(ticks, 0, 0, 0) || s_bench_world(ticks / 10 > 0 ? ticks / 10 : 1, 1, 0, 0);
}
