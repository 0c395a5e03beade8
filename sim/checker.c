/* The conformance checker (checker.h): a scripted server on a private
 * ipc:// endpoint that plays one short, fixed script per case against a
 * freshly started agent and judges its answers. */
#include "sim/checker.h"

#include "sim/folder.h"
#include "proto/codec.h"
#include "sim/launcher.h"
#include "core/pcg32.h"
#include "proto/protocol.h"
#include "proto/transport.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define C_DIM       8
#define C_K         3
#define C_HIST      2
#define C_ITEMS     40  /* live items at an episode's start */
#define C_MAX_IDS   400 /* item ids a case may issue */
#define C_MAX_BATCH 1024

typedef struct s_check {
    const checker_options_t *opt;
    void *ctx, *router;
    char dir[64], endpoint[128], log[160];
    launcher_t *launcher;
    uint8_t id[TRANSPORT_MAX_IDENTITY];
    size_t id_len;
    uint64_t seq;
    proto_buffer_t out;
    uint8_t *in;
    size_t in_cap;
    proto_msg_t msg; /* the last message received */
    pcg32_t rng;
    /* the synthetic catalog: ids 0..C_MAX_IDS-1, live[] says which are live */
    bool live[C_MAX_IDS];
    int32_t topics[C_MAX_IDS], providers[C_MAX_IDS];
    float emb[C_MAX_IDS * C_DIM];
    /* a batch of requests */
    int32_t users[C_MAX_BATCH], history[C_MAX_BATCH * C_HIST];
    float features[C_MAX_BATCH * C_DIM];
    char why[512];
} s_check_t;

static int s_fail(s_check_t *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->why, sizeof c->why, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- plumbing ---------------------------------------------------------- */

static int s_send(s_check_t *c, proto_msg_t *msg)
{
    char err[PROTO_ERR_LEN];
    msg->seq = c->seq++;
    if (proto_encode(msg, &c->out, err, sizeof err) != 0)
        return s_fail(c, "checker bug: cannot encode %s: %s", proto_type_name(msg->type), err);
    if (transport_send_to(c->router, c->id, c->id_len, c->out.data, c->out.size) != 0)
        return s_fail(c, "the agent's connection is gone (%s)", zmq_strerror(errno));
    return 0;
}

static int s_send_raw(s_check_t *c, const void *data, size_t size)
{
    if (transport_send_to(c->router, c->id, c->id_len, data, size) != 0)
        return s_fail(c, "the agent's connection is gone (%s)", zmq_strerror(errno));
    return 0;
}

/* Receives the next message of the agent within timeout_ms into c->msg,
 * skipping PONGs unless want_pong. 0, or -1 with why set. */
static int s_recv(s_check_t *c, int timeout_ms, const char *waiting_for)
{
    int64_t deadline = transport_now_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - transport_now_ms();
        zmq_pollitem_t item = {.socket = c->router, .events = ZMQ_POLLIN};
        if (left <= 0 || zmq_poll(&item, 1, (long)left) <= 0)
            return s_fail(c, "no %s within %d ms", waiting_for, timeout_ms);
        uint8_t id[TRANSPORT_MAX_IDENTITY];
        size_t id_len;
        long size = transport_recv(c->router, id, &id_len, &c->in, &c->in_cap, ZMQ_DONTWAIT);
        if (size < 0)
            continue;
        if (c->id_len == 0) {
            memcpy(c->id, id, id_len);
            c->id_len = id_len;
        }
        char err[PROTO_ERR_LEN];
        proto_dims_t dims = {.dim = C_DIM, .slate_size = C_K, .history_len = C_HIST};
        int rc = proto_decode(c->in, (size_t)size, &dims, &c->msg, err, sizeof err);
        if (rc != 0)
            return s_fail(c, "while waiting for %s, the agent sent a bad message: %s (%s)",
                          waiting_for, err, proto_strerror(rc));
        if (c->msg.type == PROTO_MSG_ERROR) {
            if (c->msg.error.fatal)
                return s_fail(c, "the agent sent a fatal ERROR %" PRId32 ": %s", c->msg.error.code,
                              c->msg.error.message);
            continue; /* non-fatal ERRORs are allowed (e.g. ETYPE) */
        }
        return 0;
    }
}

/* Waits for the agent process to end; its exit status, or -1 on timeout
 * (then it is killed). */
static int s_wait_exit(s_check_t *c, int timeout_ms, int *status)
{
    char note[256];
    for (int waited = 0; waited <= timeout_ms; waited += 20) {
        if (launcher_poll(c->launcher, note, sizeof note) > 0) {
            *status = strstr(note, "exited with status 0") ? 0 : 1;
            snprintf(c->why, sizeof c->why, "%s", note);
            return 0;
        }
        nanosleep(&(struct timespec){.tv_nsec = 20000000L}, NULL);
    }
    return -1;
}

static void s_random_catalog(s_check_t *c)
{
    for (int id = 0; id < C_MAX_IDS; id++) {
        c->live[id] = false;
        c->topics[id] = id % 5;
        c->providers[id] = id % 7;
        for (int d = 0; d < C_DIM; d++)
            c->emb[id * C_DIM + d] = (float)pcg32_normal(&c->rng) * 0.3f;
    }
}

/* items ids[0..n) as proto items (borrowed arrays in c, valid until next call) */
static proto_items_t s_items(s_check_t *c, const int32_t *ids, int n, int32_t *topics,
                             int32_t *providers, float *emb)
{
    for (int i = 0; i < n; i++) {
        topics[i] = c->topics[ids[i]];
        providers[i] = c->providers[ids[i]];
        memcpy(&emb[i * C_DIM], &c->emb[ids[i] * C_DIM], C_DIM * sizeof *emb);
    }
    return (proto_items_t){.n = (uint32_t)n,
                           .dim = C_DIM,
                           .ids = ids,
                           .topics = topics,
                           .providers = providers,
                           .embeddings = emb};
}

static int s_welcome(s_check_t *c)
{
    const char *names[2] = {c->opt->name, "other"};
    proto_space_t act = {.kind = PROTO_SPACE_SLATE, .n = C_MAX_IDS, .k = C_K};
    proto_space_t obs = {.kind = PROTO_SPACE_BOX,
                         .dtype = PROTO_DTYPE_FLOAT32,
                         .low = -1e9,
                         .high = 1e9,
                         .ndim = 2,
                         .shape = {-1, C_DIM}};
    proto_msg_t m = {.type = PROTO_MSG_WELCOME};
    m.welcome = (proto_welcome_t){.agent_index = 0,
                                  .n_agents = 2,
                                  .agents = names,
                                  .seed = 12345,
                                  .mode = PROTO_MODE_MARKET,
                                  .slate_size = C_K,
                                  .dim = C_DIM,
                                  .n_topics = 5,
                                  .history_len = C_HIST,
                                  .ticks = 20,
                                  .episodes = 2,
                                  .observation_space = &obs,
                                  .action_space = &act,
                                  .limits = {.deadline_ms = (uint32_t)c->opt->step_timeout_ms,
                                             .max_batch = C_MAX_BATCH,
                                             .max_message_bytes = PROTO_MAX_MESSAGE_BYTES}};
    return s_send(c, &m);
}

/* Starts the agent, checks its HELLO and, if welcome, answers WELCOME. */
static int s_start(s_check_t *c, bool welcome)
{
    char err[256];
    c->id_len = 0;
    c->seq = 0;
    if (launcher_spawn(c->launcher, c->opt->name, c->opt->command, c->endpoint, c->log, err,
                       sizeof err) != 0)
        return s_fail(c, "%s", err);
    if (s_recv(c, c->opt->hello_timeout_ms, "HELLO") != 0)
        return -1;
    if (c->msg.type != PROTO_MSG_HELLO)
        return s_fail(c, "the first message was %s, not HELLO", proto_type_name(c->msg.type));
    const proto_hello_t *h = &c->msg.hello;
    if (strcmp(h->name, c->opt->name) != 0)
        return s_fail(c, "HELLO.name is '%s'; RECARENA_AGENT_NAME was '%s'", h->name, c->opt->name);
    if (strcmp(h->role, "agent") != 0)
        return s_fail(c, "HELLO.role is '%s', not 'agent'", h->role);
    return welcome ? s_welcome(c) : 0;
}

/* CATALOG of ids first_id..first_id+n-1; with titles (protocol 1.2), every
 * item has one: plain, empty, non-ASCII UTF-8, with commas and quotes. */
static int s_catalog_titled(s_check_t *c, uint32_t episode, int first_id, int n, bool titles)
{
    int32_t ids[C_MAX_IDS], topics[C_MAX_IDS], providers[C_MAX_IDS];
    static float emb[C_MAX_IDS * C_DIM];
    static const char *const kinds[] = {"Item", "", "caf\xc3\xa9 \xe2\x80\x94 na\xc3\xafve",
                                        "a, \"quoted\" title"};
    const char *names[C_MAX_IDS];
    for (int id = 0; id < C_MAX_IDS; id++)
        c->live[id] = id >= first_id && id < first_id + n;
    for (int i = 0; i < n; i++) {
        ids[i] = first_id + i;
        names[i] = kinds[i % 4];
    }
    proto_msg_t m = {.type = PROTO_MSG_CATALOG};
    m.catalog = (proto_catalog_t){
        .episode = episode, .tick = 0, .items = s_items(c, ids, n, topics, providers, emb)};
    m.catalog.items.titles = titles ? names : NULL;
    return s_send(c, &m);
}

static int s_catalog(s_check_t *c, uint32_t episode, int first_id, int n)
{
    return s_catalog_titled(c, episode, first_id, n, false);
}

/* Sends a STEP of n requests (with born and retired ids) and checks the
 * ACT: echoes, k distinct live ids per slate, within deadline_ms. */
static int s_step(s_check_t *c, uint32_t episode, uint32_t tick, int n, const int32_t *born,
                  int n_born, const int32_t *retired, int n_retired, int deadline_ms)
{
    int32_t topics[C_MAX_IDS], providers[C_MAX_IDS];
    static float emb[C_MAX_IDS * C_DIM];
    for (int i = 0; i < n; i++) {
        c->users[i] = (int32_t)pcg32_bounded(&c->rng, 100000);
        for (int d = 0; d < C_DIM; d++)
            c->features[i * C_DIM + d] = (float)pcg32_normal(&c->rng);
        for (int h = 0; h < C_HIST; h++)
            c->history[i * C_HIST + h] = -1;
    }
    for (int i = 0; i < n_born; i++)
        c->live[born[i]] = true;
    for (int i = 0; i < n_retired; i++)
        c->live[retired[i]] = false;
    proto_msg_t m = {.type = PROTO_MSG_STEP};
    m.step = (proto_step_t){
        .episode = episode,
        .tick = tick,
        .deadline_ms = (uint32_t)deadline_ms,
        .requests = {.n = (uint32_t)n,
                     .dim = C_DIM,
                     .history_len = C_HIST,
                     .user_ids = c->users,
                     .features = c->features,
                     .history = c->history},
        .born = s_items(c, born, n_born, topics, providers, emb),
        .n_retired = (uint32_t)n_retired,
        .retired = retired,
    };
    int64_t sent = transport_now_ms();
    if (s_send(c, &m) != 0)
        return -1;
    char what[64];
    snprintf(what, sizeof what, "ACT for tick %" PRIu32, tick);
    for (;;) {
        if (s_recv(c, deadline_ms, what) != 0)
            return -1;
        if (c->msg.type == PROTO_MSG_ACT)
            break;
        if (c->msg.type != PROTO_MSG_PONG && c->msg.type != PROTO_MSG_PING)
            return s_fail(c, "expected ACT, got %s", proto_type_name(c->msg.type));
    }
    int64_t took = transport_now_ms() - sent;
    if (took > deadline_ms)
        return s_fail(c, "ACT came after %" PRId64 " ms, deadline %d ms", took, deadline_ms);
    const proto_act_t *a = &c->msg.act;
    if (a->episode != episode || a->tick != tick)
        return s_fail(
            c, "ACT names episode %" PRIu32 " tick %" PRIu32 ", expected %" PRIu32 " tick %" PRIu32,
            a->episode, a->tick, episode, tick);
    if (a->n != (uint32_t)n)
        return s_fail(c, "ACT has %" PRIu32 " slates for %d requests", a->n, n);
    for (int i = 0; i < n; i++) {
        if (a->user_ids[i] != c->users[i])
            return s_fail(c, "ACT.user_ids[%d] = %" PRId32 ", the STEP's was %" PRId32, i,
                          a->user_ids[i], c->users[i]);
        const int32_t *slate = &a->slates[i * C_K];
        for (int p = 0; p < C_K; p++) {
            if (slate[p] < 0 || slate[p] >= C_MAX_IDS || !c->live[slate[p]])
                return s_fail(c, "slate %d holds item %" PRId32 ", which is not live", i, slate[p]);
            for (int q = 0; q < p; q++)
                if (slate[q] == slate[p])
                    return s_fail(c, "slate %d holds item %" PRId32 " twice", i, slate[p]);
        }
    }
    return 0;
}

/* Plays ticks 0..n_ticks-1 of episode with small batches. */
static int s_ticks(s_check_t *c, uint32_t episode, uint32_t first, int n_ticks)
{
    for (int t = 0; t < n_ticks; t++)
        if (s_step(c, episode, first + (uint32_t)t, 4, NULL, 0, NULL, 0, c->opt->step_timeout_ms) !=
            0)
            return -1;
    return 0;
}

/* BYE, then the agent must exit with status 0. */
static int s_bye(s_check_t *c)
{
    proto_msg_t m = {.type = PROTO_MSG_BYE, .bye = {.reason = "check complete"}};
    if (s_send(c, &m) != 0)
        return -1;
    int status;
    if (s_wait_exit(c, 3000, &status) != 0)
        return s_fail(c, "the agent did not exit within 3000 ms of BYE");
    if (status != 0)
        return s_fail(c, "after BYE: %s (expected status 0)", c->why);
    return 0;
}

/* ---- the cases ------------------------------------------------------- */

static int s_case_handshake(s_check_t *c)
{
    if (s_start(c, true) != 0 || s_catalog(c, 0, 0, C_ITEMS) != 0 || s_ticks(c, 0, 0, 3) != 0)
        return -1;
    return s_bye(c);
}

static int s_case_version(s_check_t *c)
{
    if (s_start(c, false) != 0)
        return -1;
    char text[128];
    snprintf(text, sizeof text,
             "protocol major version %d is not supported: this server speaks %d.0",
             PROTO_VERSION_MAJOR, PROTO_VERSION_MAJOR + 1);
    proto_msg_t m = {.type = PROTO_MSG_ERROR};
    m.error = (proto_error_t){.code = PROTO_EVERSION, .message = text, .fatal = true};
    if (s_send(c, &m) != 0)
        return -1;
    int status;
    if (s_wait_exit(c, 3000, &status) != 0)
        return s_fail(c, "a fatal ERROR (version refused) did not end the agent within 3000 ms");
    return 0;
}

static int s_case_empty(s_check_t *c)
{
    if (s_start(c, true) != 0 || s_catalog(c, 0, 0, C_ITEMS) != 0 ||
        s_step(c, 0, 0, 0, NULL, 0, NULL, 0, c->opt->step_timeout_ms) != 0 ||
        s_ticks(c, 0, 1, 1) != 0)
        return -1;
    return s_bye(c);
}

static int s_case_catalog_changes(s_check_t *c)
{
    if (s_start(c, true) != 0 || s_catalog(c, 0, 0, C_ITEMS) != 0)
        return -1;
    /* each tick: 5 items born, 5 retired, until only the newborn are live */
    int next = C_ITEMS;
    for (int t = 0; t < 12; t++) {
        int32_t born[5], retired[5];
        for (int i = 0; i < 5; i++) {
            born[i] = next++;
            retired[i] = t * 5 + i; /* the oldest first */
        }
        if (s_step(c, 0, (uint32_t)t, 16, born, 5, retired, 5, c->opt->step_timeout_ms) != 0)
            return -1;
    }
    return s_bye(c);
}

static int s_case_episode_reset(s_check_t *c)
{
    if (s_start(c, true) != 0 || s_catalog(c, 0, 0, C_ITEMS) != 0 || s_ticks(c, 0, 0, 3) != 0)
        return -1;
    proto_msg_t end = {.type = PROTO_MSG_EPISODE_END};
    end.episode_end = (proto_episode_end_t){.episode = 0, .ticks = 3, .reward = 1.5};
    /* episode 1 has a catalog with no id in common with episode 0 */
    if (s_send(c, &end) != 0 || s_catalog(c, 1, 200, C_ITEMS) != 0 || s_ticks(c, 1, 0, 3) != 0)
        return -1;
    return s_bye(c);
}

static int s_case_titles(s_check_t *c)
{
    if (s_start(c, true) != 0 || s_catalog_titled(c, 0, 0, C_ITEMS, true) != 0 ||
        s_ticks(c, 0, 0, 3) != 0)
        return -1;
    return s_bye(c);
}

static int s_case_deadline(s_check_t *c)
{
    if (s_start(c, true) != 0 || s_catalog(c, 0, 0, C_ITEMS) != 0)
        return -1;
    for (int t = 0; t < 3; t++)
        if (s_step(c, 0, (uint32_t)t, C_MAX_BATCH, NULL, 0, NULL, 0, 1000) != 0)
            return -1;
    return s_bye(c);
}

static int s_case_errors(s_check_t *c)
{
    if (s_start(c, true) != 0 || s_catalog(c, 0, 0, C_ITEMS) != 0 || s_ticks(c, 0, 0, 1) != 0)
        return -1;
    proto_msg_t m = {.type = PROTO_MSG_ERROR};
    m.error = (proto_error_t){.code = PROTO_EACTION,
                              .message = "invalid ACT for tick 0: a test of a non-fatal ERROR",
                              .fatal = false};
    if (s_send(c, &m) != 0)
        return -1;
    /* a message of a type the agent cannot know: [1, 99, seq, {}] */
    const uint8_t unknown[] = {0x94, 0x01, 0x63, 0x05, 0x80};
    if (s_send_raw(c, unknown, sizeof unknown) != 0 || s_ticks(c, 0, 1, 2) != 0)
        return -1;
    return s_bye(c);
}

static int s_case_ping(s_check_t *c)
{
    if (s_start(c, true) != 0 || s_catalog(c, 0, 0, C_ITEMS) != 0 || s_ticks(c, 0, 0, 1) != 0)
        return -1;
    proto_msg_t m = {.type = PROTO_MSG_PING, .ping = {.nonce = 0xfeedbeefULL}};
    if (s_send(c, &m) != 0)
        return -1;
    for (;;) {
        if (s_recv(c, 2000, "PONG") != 0)
            return -1;
        if (c->msg.type == PROTO_MSG_PONG)
            break;
    }
    if (c->msg.ping.nonce != 0xfeedbeefULL)
        return s_fail(c, "PONG nonce %" PRIu64 ", the PING's was %llu", c->msg.ping.nonce,
                      0xfeedbeefULL);
    if (s_ticks(c, 0, 1, 1) != 0)
        return -1;
    return s_bye(c);
}

static int s_case_joint(s_check_t *c)
{
    if (s_start(c, true) != 0 || s_catalog(c, 0, 0, C_ITEMS) != 0 || s_ticks(c, 0, 0, 1) != 0)
        return -1;
    int32_t users[2] = {1, 2}, slates[2 * C_K] = {0, 1, 2, 3, 4, 5}, clicked[2] = {1, -1};
    float features[2 * C_DIM] = {0};
    proto_joint_agent_t parts[2];
    for (int a = 0; a < 2; a++)
        parts[a] = (proto_joint_agent_t){.agent_index = (uint32_t)a,
                                         .n = 2,
                                         .dim = C_DIM,
                                         .slate_size = C_K,
                                         .user_ids = users,
                                         .features = features,
                                         .slates = slates,
                                         .clicked = clicked,
                                         .reward = 0.5};
    proto_msg_t m = {.type = PROTO_MSG_JOINT};
    m.joint = (proto_joint_t){.episode = 0, .tick = 0, .n_agents = 2, .agents = parts};
    if (s_send(c, &m) != 0 || s_ticks(c, 0, 1, 2) != 0)
        return -1;
    return s_bye(c);
}

static int s_case_bye(s_check_t *c)
{
    if (s_start(c, true) != 0)
        return -1;
    return s_bye(c); /* BYE before any episode: the run was called off */
}

typedef struct s_case {
    const char *name;
    const char *what;
    int (*run)(s_check_t *c);
} s_case_t;

static const s_case_t s_cases[] = {
    {"handshake", "HELLO, WELCOME, a few STEPs answered, BYE", s_case_handshake},
    {"version-refusal", "a fatal ERROR (version refused) ends the agent", s_case_version},
    {"empty-batch", "a STEP with no requests gets an empty ACT", s_case_empty},
    {"catalog-changes", "born items usable, retired items never recommended",
     s_case_catalog_changes},
    {"episode-reset", "a new CATALOG replaces the item set", s_case_episode_reset},
    {"titles", "a CATALOG with item titles (protocol 1.2) is survived", s_case_titles},
    {"deadline", "1,024 requests answered within 1000 ms", s_case_deadline},
    {"errors", "a non-fatal ERROR and an unknown message type are survived", s_case_errors},
    {"ping", "PING answered with PONG, same nonce", s_case_ping},
    {"joint", "a JOINT message is survived", s_case_joint},
    {"bye", "BYE ends the agent with status 0", s_case_bye},
};
#define N_CASES ((int)(sizeof s_cases / sizeof s_cases[0]))

const char *const *checker_case_names(void)
{
    static const char *names[N_CASES + 1];
    for (int i = 0; i < N_CASES; i++)
        names[i] = s_cases[i].name;
    return names;
}

static void s_show_log(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[512];
    int lines = 0;
    while (fgets(line, sizeof line, f) && lines++ < 20)
        printf("      | %s", line);
    fclose(f);
}

int checker_run(const checker_options_t *opt)
{
    s_check_t *c = calloc(1, sizeof *c);
    if (!c) {
        fprintf(stderr, "recarena check-agent: out of memory\n");
        return -1;
    }
    c->opt = opt;
    if (folder_private_new("recarena-check", c->dir, sizeof c->dir) != 0) {
        fprintf(stderr, "recarena check-agent: cannot create a directory: %s\n", strerror(errno));
        free(c);
        return -1;
    }
    snprintf(c->endpoint, sizeof c->endpoint, "ipc://%s/control", c->dir);
    snprintf(c->log, sizeof c->log, "%s/agent.log", c->dir);
    char err[256];
    c->ctx = zmq_ctx_new();
    c->router = transport_router(c->ctx, c->endpoint, err, sizeof err);
    proto_buffer_init(&c->out);
    proto_msg_init(&c->msg);
    int failed = -1;
    if (!c->router) {
        fprintf(stderr, "recarena check-agent: %s\n", err);
        goto done;
    }
    failed = 0;
    int ran = 0;
    printf("checking: %s\n", opt->command);
    for (int i = 0; i < N_CASES; i++) {
        if (opt->only && strcmp(opt->only, s_cases[i].name) != 0)
            continue;
        ran++;
        pcg32_seed(&c->rng, 7u, (uint64_t)i);
        s_random_catalog(c);
        c->why[0] = '\0';
        unlink(c->log);
        c->launcher = launcher_new();
        int rc = c->launcher ? s_cases[i].run(c) : s_fail(c, "out of memory");
        launcher_destroy(&c->launcher, 1000);
        /* drop whatever the agent still had in flight */
        while (transport_recv(c->router, c->id, &c->id_len, &c->in, &c->in_cap, ZMQ_DONTWAIT) >= 0)
            ;
        printf("%s  %-16s %s%s%s\n", rc == 0 ? "PASS" : "FAIL", s_cases[i].name, s_cases[i].what,
               rc == 0 ? "" : ": ", rc == 0 ? "" : c->why);
        if (rc != 0) {
            failed++;
            if (opt->verbose)
                s_show_log(c->log);
        }
    }
    printf("check-agent: %d passed, %d failed\n", ran - failed, failed);
done:
    proto_msg_fini(&c->msg);
    proto_buffer_fini(&c->out);
    free(c->in);
    if (c->router)
        zmq_close(c->router);
    zmq_ctx_term(c->ctx);
    folder_remove(c->dir);
    free(c);
    return failed;
}
