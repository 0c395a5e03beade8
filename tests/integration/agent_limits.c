/* A scripted server that drives one agent command at protocol.h's limits
 * (test_agent_limits.sh runs it for every shipped agent, also under ASan).
 *
 *     agent_limits CASE COMMAND...
 *
 * CASE "max": WELCOME with the largest sizes protocol.h allows (slate
 * PROTO_MAX_SLATE, dim PROTO_MAX_DIM, history PROTO_MAX_HISTORY, topics
 * PROTO_MAX_TOPICS), a CATALOG, two STEPs of S_MAX_REQUESTS requests (the
 * second with feedback for the first, a JOINT after each ACT for agents
 * that ask for one), EPISODE_END and BYE. Every ACT must echo the users
 * and hold k distinct live ids; the agent must exit with status 0.
 * CASE "max-narrow": the same with dim 32 and 100 topics, for agents whose
 * cost grows with dim squared per item (LinUCB: 2 STEPs at dim 1024 take
 * minutes) or with topics squared (the tabular Q-learner's table).
 * CASE "batch": the same with S_BIG_BATCH requests of width 1, k 1 and no
 * history (a batch of PROTO_MAX_BATCH cannot fit in one frame).
 * CASE "over-KEY": a WELCOME whose KEY (slate_size, dim, history_len,
 * n_topics, max_batch) is one past its limit. The encoder refuses to make
 * one, so the bytes of a WELCOME at the limit are patched. The agent must
 * answer with a fatal ERROR PROTO_EFIELD naming WELCOME.KEY and exit with
 * status 1, not crash.
 *
 * Exit status 0 when the agent behaved, 1 (with the reason) otherwise. */
#include "proto/codec.h"
#include "proto/protocol.h"
#include "proto/transport.h"

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

#define S_MAX_REQUESTS 1024   /* requests per STEP in "max": a STEP of about 8 MiB */
#define S_BIG_BATCH    50000  /* requests per STEP in "batch" */
#define S_TIMEOUT_MS   120000 /* for any one answer (ASan, MADDPG training) */

typedef struct s_sizes {
    uint32_t k, dim, history_len, n_topics, n_items, batch;
} s_sizes_t;

typedef struct s_server {
    void *ctx, *router;
    uint8_t id[TRANSPORT_MAX_IDENTITY];
    size_t id_len;
    uint64_t seq;
    proto_buffer_t out;
    uint8_t *in;
    size_t in_cap;
    proto_msg_t msg;
    proto_dims_t dims;
    pid_t pid;
    bool joint;
} s_server_t;

static int s_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "agent_limits: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    return 1;
}

static void *s_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        fprintf(stderr, "agent_limits: out of memory\n");
        exit(1);
    }
    return p;
}

static int s_send_bytes(s_server_t *s, const void *data, size_t size)
{
    if (transport_send_to(s->router, s->id, s->id_len, data, size) != 0)
        return s_fail("the agent's connection is gone");
    return 0;
}

static int s_send(s_server_t *s, proto_msg_t *msg)
{
    char err[PROTO_ERR_LEN];
    msg->seq = s->seq++;
    if (proto_encode(msg, &s->out, err, sizeof err) != 0)
        return s_fail("cannot encode %s: %s", proto_type_name(msg->type), err);
    return s_send_bytes(s, s->out.data, s->out.size);
}

/* The agent's next message other than PING/PONG into s->msg. */
static int s_recv(s_server_t *s, const char *waiting_for)
{
    int64_t deadline = transport_now_ms() + S_TIMEOUT_MS;
    for (;;) {
        int64_t left = deadline - transport_now_ms();
        zmq_pollitem_t item = {.socket = s->router, .events = ZMQ_POLLIN};
        if (left <= 0 || zmq_poll(&item, 1, (long)left) <= 0)
            return s_fail("no %s within %d ms", waiting_for, S_TIMEOUT_MS);
        uint8_t id[TRANSPORT_MAX_IDENTITY];
        size_t id_len;
        long size = transport_recv(s->router, id, &id_len, &s->in, &s->in_cap, ZMQ_DONTWAIT);
        if (size < 0)
            continue;
        memcpy(s->id, id, id_len);
        s->id_len = id_len;
        char err[PROTO_ERR_LEN];
        int rc = proto_decode(s->in, (size_t)size, &s->dims, &s->msg, err, sizeof err);
        if (rc != 0)
            return s_fail("waiting for %s, the agent sent a bad message: %s", waiting_for, err);
        if (s->msg.type == PROTO_MSG_PING) {
            proto_msg_t pong = {.type = PROTO_MSG_PONG, .ping = s->msg.ping};
            if (s_send(s, &pong) != 0)
                return 1;
            continue;
        }
        if (s->msg.type != PROTO_MSG_PONG)
            return 0;
    }
}

/* The agent's exit status (-1 on timeout, then it is killed); signals
 * are reported as 128 + the signal. */
static int s_wait_exit(s_server_t *s, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 10) {
        int status;
        pid_t done = waitpid(s->pid, &status, WNOHANG);
        if (done == s->pid) {
            s->pid = 0;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        nanosleep(&(struct timespec){.tv_nsec = 10000000L}, NULL);
    }
    return -1;
}

static int s_start(s_server_t *s, char **command, const char *endpoint)
{
    s->pid = fork();
    if (s->pid < 0)
        return s_fail("fork failed");
    if (s->pid == 0) {
        setenv("RECARENA_ENDPOINT", endpoint, 1);
        setenv("RECARENA_AGENT_NAME", "limits", 1);
        execvp(command[0], command);
        perror(command[0]);
        _exit(127);
    }
    s->dims = (proto_dims_t){PROTO_DIM_ANY, PROTO_DIM_ANY, PROTO_DIM_ANY};
    if (s_recv(s, "HELLO") != 0)
        return 1;
    if (s->msg.type != PROTO_MSG_HELLO)
        return s_fail("the first message was %s, not HELLO", proto_type_name(s->msg.type));
    for (uint32_t i = 0; i < s->msg.hello.n_caps; i++)
        s->joint |= strcmp(s->msg.hello.caps[i], "joint") == 0;
    return 0;
}

static void s_welcome(const s_sizes_t *z, proto_msg_t *m, proto_space_t *obs, proto_space_t *act)
{
    static const char *const names[1] = {"limits"};
    *act = (proto_space_t){.kind = PROTO_SPACE_SLATE, .n = z->n_items, .k = z->k};
    *obs = (proto_space_t){.kind = PROTO_SPACE_BOX,
                           .dtype = PROTO_DTYPE_FLOAT32,
                           .low = -1e9,
                           .high = 1e9,
                           .ndim = 2,
                           .shape = {-1, z->dim}};
    *m = (proto_msg_t){.type = PROTO_MSG_WELCOME};
    m->welcome = (proto_welcome_t){.n_agents = 1,
                                   .agents = names,
                                   .seed = 7,
                                   .mode = PROTO_MODE_MARKET,
                                   .slate_size = z->k,
                                   .dim = z->dim,
                                   .n_topics = z->n_topics,
                                   .history_len = z->history_len,
                                   .ticks = 2,
                                   .episodes = 1,
                                   .observation_space = obs,
                                   .action_space = act,
                                   .limits = {.deadline_ms = S_TIMEOUT_MS,
                                              .max_batch = z->batch,
                                              .max_message_bytes = PROTO_MAX_MESSAGE_BYTES}};
}

/* Adds one to the uint after the str key in bytes: the value's last byte
 * (no limit's encoding ends in 0xff). 0, or -1 if key is not there. */
static int s_bump_uint_after(uint8_t *bytes, size_t size, const char *key)
{
    size_t len = strlen(key);
    for (size_t at = 0; at + len + 2 < size; at++) {
        if (bytes[at] != (0xa0 | len) || memcmp(bytes + at + 1, key, len) != 0)
            continue;
        uint8_t *v = bytes + at + 1 + len;
        size_t width = *v == 0xcc ? 2 : *v == 0xcd ? 3 : *v == 0xce ? 5 : 1;
        if (v[width - 1] == 0xff)
            return -1;
        v[width - 1]++;
        return 0;
    }
    return -1;
}

static int s_over(s_server_t *s, const char *key)
{
    s_sizes_t z = {PROTO_MAX_SLATE,  PROTO_MAX_DIM, PROTO_MAX_HISTORY,
                   PROTO_MAX_TOPICS, 300,           PROTO_MAX_BATCH};
    proto_msg_t m;
    proto_space_t obs, act;
    s_welcome(&z, &m, &obs, &act);
    char err[PROTO_ERR_LEN];
    m.seq = s->seq++;
    if (proto_encode(&m, &s->out, err, sizeof err) != 0)
        return s_fail("cannot encode the WELCOME at the limits: %s", err);
    if (s_bump_uint_after(s->out.data, s->out.size, key) != 0)
        return s_fail("no uint for \"%s\" in the WELCOME", key);
    if (s_send_bytes(s, s->out.data, s->out.size) != 0 || s_recv(s, "a refusal") != 0)
        return 1;
    const proto_error_t *e = &s->msg.error;
    char want[64];
    snprintf(want, sizeof want, "WELCOME.%s%s:", strcmp(key, "max_batch") ? "" : "limits.", key);
    if (s->msg.type != PROTO_MSG_ERROR || !e->fatal || e->code != PROTO_EFIELD ||
        !strstr(e->message, want))
        return s_fail("expected a fatal ERROR %d naming %s, got %s %d \"%s\"", PROTO_EFIELD, want,
                      proto_type_name(s->msg.type), e->code,
                      s->msg.type == PROTO_MSG_ERROR ? e->message : "");
    int status = s_wait_exit(s, 10000);
    if (status != 1)
        return s_fail("after refusing the WELCOME the agent %s %d, expected exit status 1",
                      status < 0 ? "still ran after 10 s: status" : "ended with status", status);
    printf("over-%s: refused: %s\n", key, e->message);
    return 0;
}

/* The catalog: ids 0..n_items-1, topics spread over all n_topics. */
typedef struct s_world {
    int32_t *ids, *topics, *providers;
    float *embeddings;
    int32_t *users, *history, *slates, *clicked;
    float *features, *reward;
    uint8_t *session_end;
} s_world_t;

static void s_world_init(s_world_t *w, const s_sizes_t *z)
{
    w->ids = s_xcalloc(z->n_items, sizeof *w->ids);
    w->topics = s_xcalloc(z->n_items, sizeof *w->topics);
    w->providers = s_xcalloc(z->n_items, sizeof *w->providers);
    w->embeddings = s_xcalloc((size_t)z->n_items * z->dim, sizeof *w->embeddings);
    for (uint32_t i = 0; i < z->n_items; i++) {
        w->ids[i] = (int32_t)i;
        w->topics[i] = (int32_t)((uint64_t)i * z->n_topics / z->n_items);
        w->embeddings[(size_t)i * z->dim + i % z->dim] = 1.0f;
    }
    w->users = s_xcalloc(z->batch, sizeof *w->users);
    w->features = s_xcalloc((size_t)z->batch * z->dim, sizeof *w->features);
    w->history = s_xcalloc((size_t)z->batch * z->history_len, sizeof *w->history);
    w->slates = s_xcalloc((size_t)z->batch * z->k, sizeof *w->slates);
    w->clicked = s_xcalloc(z->batch, sizeof *w->clicked);
    w->reward = s_xcalloc(z->batch, sizeof *w->reward);
    w->session_end = s_xcalloc(z->batch, sizeof *w->session_end);
    for (uint32_t r = 0; r < z->batch; r++) {
        w->users[r] = (int32_t)(r * 7 % PROTO_MAX_USERS);
        w->features[(size_t)r * z->dim + r % z->dim] = 1.0f;
        for (uint32_t h = 0; h < z->history_len; h++)
            w->history[(size_t)r * z->history_len + h] =
                (int32_t)((r + h) % (z->n_items + 1)) - 1; /* -1 = none, then ids */
        w->clicked[r] = (int32_t)(r % (z->k + 1)) - 1;     /* none, then every position */
        w->reward[r] = w->clicked[r] >= 0 ? 1.0f : 0.0f;
    }
}

static void s_world_fini(s_world_t *w)
{
    free(w->ids), free(w->topics), free(w->providers), free(w->embeddings);
    free(w->users), free(w->features), free(w->history), free(w->slates), free(w->clicked);
    free(w->reward), free(w->session_end);
}

/* One STEP of z->batch requests and its ACT, checked. */
static int s_tick(s_server_t *s, const s_sizes_t *z, s_world_t *w, uint32_t tick)
{
    proto_msg_t m = {.type = PROTO_MSG_STEP};
    m.step = (proto_step_t){.tick = tick,
                            .deadline_ms = S_TIMEOUT_MS,
                            .requests = {.n = z->batch,
                                         .dim = z->dim,
                                         .history_len = z->history_len,
                                         .user_ids = w->users,
                                         .features = w->features,
                                         .history = w->history},
                            .born = {.dim = z->dim}};
    if (tick > 0)
        m.step.feedback = (proto_feedback_t){.n = z->batch,
                                             .user_ids = w->users,
                                             .clicked = w->clicked,
                                             .reward = w->reward,
                                             .session_end = w->session_end};
    if (s_send(s, &m) != 0 || s_recv(s, "ACT") != 0)
        return 1;
    const proto_act_t *a = &s->msg.act;
    if (s->msg.type != PROTO_MSG_ACT)
        return s_fail("expected ACT, got %s", proto_type_name(s->msg.type));
    if (a->tick != tick || a->n != z->batch)
        return s_fail("ACT for tick %u with %u slates, expected tick %u with %u", a->tick, a->n,
                      tick, z->batch);
    bool *seen = s_xcalloc(z->n_items, sizeof *seen);
    int rc = 0;
    for (uint32_t r = 0; r < a->n && !rc; r++) {
        if (a->user_ids[r] != w->users[r])
            rc = s_fail("ACT.user_ids[%u] = %d, expected %d", r, a->user_ids[r], w->users[r]);
        const int32_t *slate = a->slates + (size_t)r * z->k;
        for (uint32_t p = 0; p < z->k && !rc; p++) {
            if (slate[p] < 0 || (uint32_t)slate[p] >= z->n_items || seen[slate[p]])
                rc = s_fail("slate %u position %u: item %d unknown or repeated", r, p, slate[p]);
            else
                seen[slate[p]] = true;
        }
        for (uint32_t p = 0; p < z->k && !rc; p++)
            seen[slate[p]] = false;
    }
    free(seen);
    if (rc)
        return rc;
    memcpy(w->slates, a->slates, (size_t)a->n * z->k * sizeof *w->slates);
    if (!s->joint)
        return 0;
    proto_joint_agent_t mine = {.n = z->batch,
                                .dim = z->dim,
                                .slate_size = z->k,
                                .user_ids = w->users,
                                .features = w->features,
                                .slates = w->slates,
                                .clicked = w->clicked,
                                .reward = 1.0};
    proto_msg_t j = {.type = PROTO_MSG_JOINT,
                     .joint = {.tick = tick, .n_agents = 1, .agents = &mine}};
    return s_send(s, &j);
}

static int s_play(s_server_t *s, const s_sizes_t *z, const char *name)
{
    proto_msg_t m;
    proto_space_t obs, act;
    s_welcome(z, &m, &obs, &act);
    s_world_t w;
    s_world_init(&w, z);
    int rc = s_send(s, &m);
    proto_msg_t c = {.type = PROTO_MSG_CATALOG};
    c.catalog.items = (proto_items_t){.n = z->n_items,
                                      .dim = z->dim,
                                      .ids = w.ids,
                                      .topics = w.topics,
                                      .providers = w.providers,
                                      .embeddings = w.embeddings};
    s->dims = (proto_dims_t){.dim = z->dim, .slate_size = z->k, .history_len = z->history_len};
    rc = rc ? rc : s_send(s, &c);
    for (uint32_t t = 0; t < 2 && !rc; t++)
        rc = s_tick(s, z, &w, t);
    proto_msg_t end = {.type = PROTO_MSG_EPISODE_END,
                       .episode_end = {.ticks = 2,
                                       .requests = 2u * z->batch,
                                       .feedback = {.n = z->batch,
                                                    .user_ids = w.users,
                                                    .clicked = w.clicked,
                                                    .reward = w.reward,
                                                    .session_end = w.session_end}}};
    proto_msg_t bye = {.type = PROTO_MSG_BYE, .bye = {.reason = "limits checked"}};
    rc = rc ? rc : s_send(s, &end);
    rc = rc ? rc : s_send(s, &bye);
    s_world_fini(&w);
    if (rc)
        return rc;
    int status = s_wait_exit(s, S_TIMEOUT_MS);
    if (status != 0)
        return s_fail("after BYE the agent ended with status %d, expected 0", status);
    printf("%s: k %u, dim %u, history %u, topics %u, %u items, %u requests per STEP: 2 valid "
           "ACTs\n",
           name, z->k, z->dim, z->history_len, z->n_topics, z->n_items, z->batch);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: agent_limits max|max-narrow|batch|over-KEY COMMAND...\n");
        return 2;
    }
    const char *which = argv[1];
    s_server_t s = {0};
    char dir[] = "/tmp/recarena-limits-XXXXXX", endpoint[128];
    if (!mkdtemp(dir))
        return s_fail("cannot make a private directory");
    snprintf(endpoint, sizeof endpoint, "ipc://%s/control", dir);
    char err[256];
    s.ctx = zmq_ctx_new();
    s.router = transport_router(s.ctx, endpoint, err, sizeof err);
    if (!s.router)
        return s_fail("%s", err);
    proto_buffer_init(&s.out);
    int rc = s_start(&s, argv + 2, endpoint);
    if (!rc && strcmp(which, "max") == 0) {
        s_sizes_t z = {PROTO_MAX_SLATE,  PROTO_MAX_DIM, PROTO_MAX_HISTORY,
                       PROTO_MAX_TOPICS, 300,           S_MAX_REQUESTS};
        rc = s_play(&s, &z, which);
    } else if (!rc && strcmp(which, "max-narrow") == 0) {
        s_sizes_t z = {PROTO_MAX_SLATE, 32, PROTO_MAX_HISTORY, 100, 300, S_MAX_REQUESTS};
        rc = s_play(&s, &z, which);
    } else if (!rc && strcmp(which, "batch") == 0) {
        s_sizes_t z = {1, 1, 0, 1, 8, S_BIG_BATCH};
        rc = s_play(&s, &z, which);
    } else if (!rc && strncmp(which, "over-", 5) == 0) {
        rc = s_over(&s, which + 5);
    } else if (!rc) {
        rc = s_fail("unknown case %s", which);
    }
    if (s.pid > 0) {
        kill(s.pid, SIGKILL);
        waitpid(s.pid, NULL, 0);
    }
    proto_msg_fini(&s.msg);
    proto_buffer_fini(&s.out);
    free(s.in);
    zmq_close(s.router);
    zmq_ctx_term(s.ctx);
    char path[160];
    snprintf(path, sizeof path, "%s/control", dir);
    unlink(path);
    rmdir(dir);
    return rc;
}
