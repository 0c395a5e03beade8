/* The agent SDK (agents/sdk/agent.h) against a scripted fake server: the
 * test binds a ROUTER on an ipc:// endpoint in a private directory, runs
 * agent_main with a small test agent in a child process, and plays the
 * server's side with real codec messages: handshake, catalog view, STEP
 * -> ACT, PING, errors, BYE, reconnect and the command line. The child
 * is this binary run again with "test-agent" as its first argument. Every
 * wait is bounded: receives poll with a timeout, the child is killed if
 * it outlives its test, and an alarm ends a child that is forgotten. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <zmq.h>

#include "agents/sdk/agent.h"
#include "core/err.h"
#include "core/parse.h"
#include "proto/transport.h"

#define K          3    /* slate size */
#define DIM        2    /* embedding width */
#define HISTORY    2    /* history length */
#define MAX_BATCH  8    /* WELCOME.limits.max_batch */
#define WAIT_MS    3000 /* longest wait for any one event */
#define CHILD_SECS 20   /* a forgotten child's alarm */

extern char **environ;

static const char *s_self; /* this binary, run again as the agent */

/* ---- the agent under test, in the child -------------------------------- */

typedef struct test_agent {
    FILE *log;         /* --log PATH: one line per callback */
    long fail_tick;    /* --fail-at-tick T: on_step fails at tick T; -1 never */
    double propensity; /* --propensity P: every slate's ACT.propensity; 0: none sent */
    bool titles;       /* --titles 1: on_step logs the titles of items 12, 20 and 99 */
} test_agent_t;

static void t_log(test_agent_t *t, const char *fmt, ...)
{
    if (!t->log)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(t->log, fmt, ap);
    va_end(ap);
    fflush(t->log);
}

static int t_on_option(void *user, const char *name, const char *value)
{
    test_agent_t *t = user;
    if (strcmp(name, "log") == 0)
        return (t->log = fopen(value, "w")) ? 0 : -1;
    if (strcmp(name, "propensity") == 0)
        return parse_double(value, 0, 2, &t->propensity);
    if (strcmp(name, "titles") == 0)
        return parse_bool(value, &t->titles);
    if (strcmp(name, "fail-at-tick") == 0) {
        int64_t tick;
        int rc = parse_int64(value, 0, UINT32_MAX, &tick);
        if (rc == 0)
            t->fail_tick = (long)tick;
        return rc;
    }
    return ERR_EINVAL;
}

static int t_on_reset(agent_t *agent, void *user, const proto_catalog_t *catalog)
{
    const proto_items_t *items = agent_catalog(agent);
    t_log(user, "reset %u %u ids", catalog->episode, catalog->tick);
    for (uint32_t i = 0; i < items->n; i++)
        t_log(user, "%c%d", i ? ',' : '=', items->ids[i]);
    t_log(user, "\n");
    return 0;
}

/* Logs what the SDK shows of items 11 and 20, then k distinct live ids
 * per row drawn with the SDK's generator. */
static int t_on_step(agent_t *agent, void *user, const proto_step_t *step, int32_t *slates)
{
    test_agent_t *t = user;
    if ((long)step->tick == t->fail_tick)
        return -1;
    const float *e20 = agent_item_embedding(agent, 20);
    t_log(t, "step %u %u n=%u feedback=%u topic20=%d emb20=%s%.2f,%.2f topic11=%d emb11=%s\n",
          step->episode, step->tick, step->requests.n, step->feedback.n,
          agent_item_topic(agent, 20), e20 ? "" : "none:", e20 ? e20[0] : 0.0, e20 ? e20[1] : 0.0,
          agent_item_topic(agent, 11), agent_item_embedding(agent, 11) ? "yes" : "none");
    if (t->titles) {
        const char *t12 = agent_item_title(agent, 12), *t20 = agent_item_title(agent, 20),
                   *t99 = agent_item_title(agent, 99);
        t_log(t, "titles 12=%s 20=[%s] 99=%s\n", t12 ? t12 : "NULL", t20 ? t20 : "NULL",
              t99 ? t99 : "NULL");
    }
    double *propensity = t->propensity > 0 ? agent_propensity(agent) : NULL;
    for (uint32_t r = 0; propensity && r < step->requests.n; r++)
        propensity[r] = t->propensity;
    const proto_items_t *items = agent_catalog(agent);
    for (uint32_t r = 0; r < step->requests.n; r++)
        for (uint32_t i = 0; i < K; i++) {
            int32_t *slate = slates + r * K;
            uint32_t j;
            do {
                slate[i] = items->ids[pcg32_bounded(agent_rng(agent), items->n)];
                for (j = 0; j < i && slate[j] != slate[i]; j++)
                    ;
            } while (j < i);
        }
    return 0;
}

static void t_on_joint(agent_t *agent, void *user, const proto_joint_t *joint)
{
    (void)agent;
    t_log(user, "joint %u %u agents=%u\n", joint->episode, joint->tick, joint->n_agents);
}

static void t_on_episode_end(agent_t *agent, void *user, const proto_episode_end_t *end)
{
    (void)agent;
    t_log(user, "end %u reward=%.1f clicks=%llu\n", end->episode, end->reward,
          (unsigned long long)end->clicks);
}

/* ---- the fake server, in the parent ----------------------------------- */

typedef struct fake {
    char dir[64];
    char endpoint[128];
    void *ctx, *router;
    uint8_t peer[TRANSPORT_MAX_IDENTITY]; /* the agent's routing id */
    size_t peer_len;
    proto_buffer_t out;
    uint8_t *in;
    size_t in_capacity;
    proto_msg_t msg; /* the last message received */
    uint64_t seq;
    pid_t child; /* 0: none running */
} fake_t;

static char *f_path(const fake_t *f, const char *name)
{
    static char path[4][192];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, sizeof path[0], "%s/%s", f->dir, name);
    return p;
}

static int f_setup(void **state)
{
    fake_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    strcpy(f->dir, "/tmp/recarena-sdk-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->endpoint, sizeof f->endpoint, "ipc://%s/control", f->dir);
    f->ctx = zmq_ctx_new();
    assert_non_null(f->ctx);
    proto_buffer_init(&f->out);
    proto_msg_init(&f->msg);
    *state = f;
    return 0;
}

static int f_teardown(void **state)
{
    fake_t *f = *state;
    if (f->child > 0) {
        kill(f->child, SIGKILL);
        waitpid(f->child, NULL, 0);
    }
    if (f->router)
        zmq_close(f->router);
    zmq_ctx_term(f->ctx);
    proto_buffer_fini(&f->out);
    proto_msg_fini(&f->msg);
    free(f->in);
    const char *files[] = {"control", "out", "err", "log"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        unlink(f_path(f, files[i]));
    rmdir(f->dir);
    free(f);
    return 0;
}

static void f_bind(fake_t *f)
{
    char err[PROTO_ERR_LEN];
    f->router = transport_router(f->ctx, f->endpoint, err, sizeof err);
    if (!f->router)
        fail_msg("%s", err);
}

/* Starts the test agent: this binary again (fork and exec: a forked
 * copy of a threaded process may deadlock in malloc), running
 * agent_main(args) with env (NAME=VALUE, NULL ended) as its only
 * RECARENA_ variables, stdout and stderr in files. */
static void f_spawn(fake_t *f, const char *const *env, const char *const *args)
{
    char *argv[32] = {(char *)s_self, "test-agent"};
    int argc = 2;
    for (int i = 0; args && args[i] && argc < 31; i++)
        argv[argc++] = (char *)args[i];
    argv[argc] = NULL;
    char *envp[256];
    int n = 0;
    for (char **e = environ; *e && n < 240; e++)
        if (strncmp(*e, "RECARENA_", 9) != 0)
            envp[n++] = *e;
    for (int i = 0; env && env[i] && n < 255; i++)
        envp[n++] = (char *)env[i];
    envp[n] = NULL;
    char out[192], err[192];
    snprintf(out, sizeof out, "%s", f_path(f, "out"));
    snprintf(err, sizeof err, "%s", f_path(f, "err"));
    fflush(stdout);
    fflush(stderr);
    f->child = fork();
    assert_true(f->child >= 0);
    if (f->child > 0)
        return;
    alarm(CHILD_SECS); /* survives exec */
    int out_fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err_fd = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (out_fd >= 0 && err_fd >= 0 && dup2(out_fd, 1) >= 0 && dup2(err_fd, 2) >= 0)
        execve(s_self, argv, envp);
    _exit(99);
}

/* The contents of the child's file name (out, err, log), NUL ended; ""
 * if there is none. */
static const char *f_read(fake_t *f, const char *name)
{
    static char text[16384];
    FILE *file = fopen(f_path(f, name), "r");
    size_t n = file ? fread(text, 1, sizeof text - 1, file) : 0;
    if (file)
        fclose(file);
    text[n] = '\0';
    return text;
}

/* The child's exit status, within WAIT_MS. */
static int f_wait(fake_t *f)
{
    int64_t until = transport_now_ms() + WAIT_MS;
    int status = 0;
    pid_t done;
    while ((done = waitpid(f->child, &status, WNOHANG)) == 0 && transport_now_ms() < until)
        nanosleep(&(struct timespec){.tv_nsec = 2000000}, NULL);
    assert_int_equal(done, f->child);
    f->child = 0;
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* The next message from the agent, within WAIT_MS, decoded into f->msg;
 * fails unless it is of type. */
static proto_msg_t *f_expect(fake_t *f, proto_type_t type)
{
    zmq_pollitem_t item = {.socket = f->router, .events = ZMQ_POLLIN};
    if (zmq_poll(&item, 1, WAIT_MS) != 1)
        fail_msg("no %s from the agent within %d ms; its stderr:\n%s", proto_type_name(type),
                 WAIT_MS, f_read(f, "err"));
    long size = transport_recv(f->router, f->peer, &f->peer_len, &f->in, &f->in_capacity, 0);
    assert_true(size >= 0);
    proto_dims_t dims = {.dim = DIM, .slate_size = K, .history_len = HISTORY};
    char err[PROTO_ERR_LEN];
    if (proto_decode(f->in, (size_t)size, &dims, &f->msg, err, sizeof err) != 0)
        fail_msg("bad message from the agent: %s", err);
    if (f->msg.type != (uint32_t)type)
        fail_msg("expected %s, got %s", proto_type_name(type), proto_type_name(f->msg.type));
    return &f->msg;
}

/* Nothing from the agent for ms. */
static void f_expect_nothing(fake_t *f, long ms)
{
    zmq_pollitem_t item = {.socket = f->router, .events = ZMQ_POLLIN};
    assert_int_equal(zmq_poll(&item, 1, ms), 0);
}

static void f_send(fake_t *f, proto_msg_t *msg)
{
    char err[PROTO_ERR_LEN];
    msg->seq = ++f->seq;
    if (proto_encode(msg, &f->out, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(transport_send_to(f->router, f->peer, f->peer_len, f->out.data, f->out.size),
                     0);
}

static void f_send_welcome(fake_t *f)
{
    static const char *const names[] = {"tester", "other"};
    static const proto_space_t observation = {
        .kind = PROTO_SPACE_BOX, .low = -1, .high = 1, .ndim = 2, .shape = {-1, DIM}};
    static const proto_space_t action = {.kind = PROTO_SPACE_SLATE, .k = K};
    proto_msg_t msg = {.type = PROTO_MSG_WELCOME};
    msg.welcome = (proto_welcome_t){
        .agent_index = 0,
        .n_agents = 2,
        .agents = names,
        .seed = 7,
        .mode = PROTO_MODE_MARKET,
        .slate_size = K,
        .dim = DIM,
        .n_topics = 3,
        .history_len = HISTORY,
        .ticks = 10,
        .episodes = 1,
        .observation_space = &observation,
        .action_space = &action,
        .limits = {.deadline_ms = 1000, .max_batch = MAX_BATCH, .max_message_bytes = 1 << 20}};
    f_send(f, &msg);
}

/* HELLO in, WELCOME out. */
static void f_handshake(fake_t *f)
{
    f_expect(f, PROTO_MSG_HELLO);
    f_send_welcome(f);
}

/* Items: topic id % 3, embedding (id, id / 10). Arrays (n) and (n, DIM). */
static proto_items_t f_items(const int32_t *ids, uint32_t n, int32_t *topics, float *embeddings)
{
    for (uint32_t i = 0; i < n; i++) {
        topics[i] = ids[i] % 3;
        embeddings[i * DIM] = (float)ids[i];
        embeddings[i * DIM + 1] = (float)ids[i] / 10;
    }
    return (proto_items_t){.n = n,
                           .dim = DIM,
                           .ids = ids,
                           .topics = topics,
                           .providers = topics,
                           .embeddings = embeddings};
}

static void f_send_catalog(fake_t *f, uint32_t episode, uint32_t tick, const int32_t *ids,
                           uint32_t n)
{
    int32_t topics[16];
    float embeddings[16 * DIM];
    assert_true(n <= 16);
    proto_msg_t msg = {.type = PROTO_MSG_CATALOG};
    msg.catalog = (proto_catalog_t){
        .episode = episode, .tick = tick, .items = f_items(ids, n, topics, embeddings)};
    f_send(f, &msg);
}

/* A STEP for users (n), with born and retired ids, and feedback for the
 * users of fb (n_fb). */
static void f_send_step(fake_t *f, uint32_t tick, const int32_t *users, uint32_t n,
                        const int32_t *born, uint32_t n_born, const int32_t *retired,
                        uint32_t n_retired, const int32_t *fb, uint32_t n_fb)
{
    float features[MAX_BATCH * DIM] = {0};
    int32_t history[MAX_BATCH * HISTORY];
    int32_t topics[8], clicked[MAX_BATCH];
    float embeddings[8 * DIM], reward[MAX_BATCH];
    uint8_t session_end[MAX_BATCH] = {0};
    assert_true(n <= MAX_BATCH && n_fb <= MAX_BATCH && n_born <= 8);
    for (int i = 0; i < MAX_BATCH * HISTORY; i++)
        history[i] = -1;
    for (uint32_t i = 0; i < n_fb; i++) {
        clicked[i] = i % 2 ? -1 : 0;
        reward[i] = i % 2 ? 0.0f : 1.0f;
    }
    proto_msg_t msg = {.type = PROTO_MSG_STEP};
    msg.step = (proto_step_t){.episode = 0,
                              .tick = tick,
                              .deadline_ms = 1000,
                              .feedback = {.n = n_fb,
                                           .user_ids = fb,
                                           .clicked = clicked,
                                           .reward = reward,
                                           .session_end = session_end},
                              .tick_reward = 1.0,
                              .requests = {.n = n,
                                           .dim = DIM,
                                           .history_len = HISTORY,
                                           .user_ids = users,
                                           .features = features,
                                           .history = history},
                              .born = f_items(born, n_born, topics, embeddings),
                              .n_retired = n_retired,
                              .retired = retired};
    f_send(f, &msg);
}

static void f_send_bye(fake_t *f)
{
    proto_msg_t msg = {.type = PROTO_MSG_BYE, .bye = {.reason = "run over"}};
    f_send(f, &msg);
}

static void f_send_error(fake_t *f, int code, const char *text, bool fatal)
{
    proto_msg_t msg = {.type = PROTO_MSG_ERROR};
    msg.error = (proto_error_t){.code = code, .message = text, .fatal = fatal};
    f_send(f, &msg);
}

/* Expects the ACT for tick with users echoed (n), each row k distinct
 * ids of live (n_live); returns its slates (n, K). */
static const int32_t *f_expect_act(fake_t *f, uint32_t tick, const int32_t *users, uint32_t n,
                                   const int32_t *live, uint32_t n_live)
{
    const proto_act_t *act = &f_expect(f, PROTO_MSG_ACT)->act;
    assert_int_equal(act->episode, 0);
    assert_int_equal(act->tick, tick);
    assert_int_equal(act->n, n);
    assert_int_equal(act->slate_size, K);
    for (uint32_t r = 0; r < n; r++) {
        assert_int_equal(act->user_ids[r], users[r]);
        for (uint32_t i = 0; i < K; i++) {
            int32_t id = act->slates[r * K + i];
            bool is_live = false;
            for (uint32_t j = 0; j < n_live; j++)
                is_live |= live[j] == id;
            if (!is_live)
                fail_msg("row %u recommends %d, not live", r, id);
            for (uint32_t j = 0; j < i; j++)
                assert_int_not_equal(act->slates[r * K + j], id);
        }
    }
    return act->slates;
}

static void assert_contains(const char *text, const char *part)
{
    if (!strstr(text, part))
        fail_msg("expected \"%s\" in:\n%s", part, text);
}

/* The usual child: endpoint and name on the command line, a log. */
static void f_spawn_agent(fake_t *f, const char *extra1, const char *extra2)
{
    const char *args[] = {"--endpoint",     f->endpoint, "--name", "tester", "--log",
                          f_path(f, "log"), extra1,      extra2,   NULL};
    f_spawn(f, NULL, args);
}

/* ---- tests --------------------------------------------------------------- */

/* HELLO carries what the environment says, and no token (CURVE replaced
 * it: RECARENA_TOKEN is ignored); BYE ends the agent with 0. */
static void test_handshake_from_environment(void **state)
{
    fake_t *f = *state;
    f_bind(f);
    char endpoint[160], name[] = "RECARENA_AGENT_NAME=tester", token[] = "RECARENA_TOKEN=secret";
    snprintf(endpoint, sizeof endpoint, "RECARENA_ENDPOINT=%s", f->endpoint);
    const char *env[] = {endpoint, name, token, NULL};
    f_spawn(f, env, NULL);

    const proto_hello_t *hello = &f_expect(f, PROTO_MSG_HELLO)->hello;
    assert_int_equal(f->msg.seq, 0); /* counts from 0 on each connection */
    assert_int_equal(hello->minor, PROTO_VERSION_MINOR);
    assert_string_equal(hello->name, "tester");
    assert_string_equal(hello->role, "agent");
    assert_int_equal(hello->n_caps, 1);
    assert_string_equal(hello->caps[0], "joint");
    assert_null(hello->token);
    f_send_welcome(f);
    proto_msg_t ping = {.type = PROTO_MSG_PING, .ping = {.nonce = 5}};
    f_send(f, &ping);
    f_expect(f, PROTO_MSG_PONG);
    assert_int_equal(f->msg.seq, 1);
    f_send_bye(f);
    assert_int_equal(f_wait(f), 0);
    assert_string_equal(f_read(f, "err"), "");
}

/* CATALOG then STEPs: echoes, k distinct live ids, born and retired items
 * applied before on_step, an empty batch answered, a resync. */
static void test_steps_and_catalog_view(void **state)
{
    fake_t *f = *state;
    f_bind(f);
    f_spawn_agent(f, NULL, NULL);
    f_handshake(f);
    const int32_t catalog[] = {12, 10, 13, 11}; /* out of order on purpose */
    f_send_catalog(f, 0, 0, catalog, 4);

    const int32_t users0[] = {7, 5};
    f_send_step(f, 0, users0, 2, NULL, 0, NULL, 0, NULL, 0);
    f_expect_act(f, 0, users0, 2, catalog, 4);

    /* 11 and 13 retire, 20 and 21 are born, 21 retires at once (born is
     * applied first): exactly k live items, so every row holds 20 and
     * none holds 11, 13 or 21 */
    const int32_t users1[] = {4, 9, 2}, born[] = {20, 21}, retired[] = {11, 21, 13};
    const int32_t live1[] = {10, 12, 20};
    f_send_step(f, 1, users1, 3, born, 2, retired, 3, users0, 2);
    f_expect_act(f, 1, users1, 3, live1, 3);

    f_send_step(f, 2, NULL, 0, NULL, 0, NULL, 0, users1, 3);
    f_expect_act(f, 2, NULL, 0, NULL, 0);

    /* a resync mid-episode replaces the whole view */
    const int32_t resync[] = {30, 31, 32}, users3[] = {1};
    f_send_catalog(f, 0, 3, resync, 3);
    f_send_step(f, 3, users3, 1, NULL, 0, NULL, 0, NULL, 0);
    f_expect_act(f, 3, users3, 1, resync, 3);

    f_send_bye(f);
    assert_int_equal(f_wait(f), 0);
    assert_string_equal(f_read(f, "log"),
                        "reset 0 0 ids=10,11,12,13\n"
                        "step 0 0 n=2 feedback=0 topic20=-1 emb20=none:0.00,0.00 topic11=2 "
                        "emb11=yes\n"
                        "step 0 1 n=3 feedback=2 topic20=2 emb20=20.00,2.00 topic11=-1 "
                        "emb11=none\n"
                        "step 0 2 n=0 feedback=3 topic20=2 emb20=20.00,2.00 topic11=-1 "
                        "emb11=none\n"
                        "reset 0 3 ids=30,31,32\n"
                        "step 0 3 n=1 feedback=0 topic20=-1 emb20=none:0.00,0.00 topic11=-1 "
                        "emb11=none\n");
}

/* Protocol 1.2: the titles of the CATALOG by id (born items have "", dead
 * ones NULL), and the propensities on_step writes with agent_propensity
 * travel in the ACT. */
static void test_titles_and_propensity(void **state)
{
    fake_t *f = *state;
    f_bind(f);
    f_spawn_agent(f, "--titles=1", "--propensity=0.25");
    f_handshake(f);
    const int32_t ids[] = {12, 10, 11};
    const char *titles[] = {"twelve, caf\xc3\xa9", "ten", ""};
    int32_t topics[3];
    float embeddings[3 * DIM];
    proto_msg_t msg = {.type = PROTO_MSG_CATALOG};
    msg.catalog = (proto_catalog_t){.items = f_items(ids, 3, topics, embeddings)};
    msg.catalog.items.titles = titles;
    f_send(f, &msg);
    const int32_t users[] = {7, 5}, born[] = {20};
    f_send_step(f, 0, users, 2, born, 1, NULL, 0, NULL, 0);
    const int32_t live[] = {10, 11, 12, 20};
    f_expect_act(f, 0, users, 2, live, 4);
    const proto_act_t *act = &f->msg.act;
    assert_non_null(act->propensity);
    assert_true(act->propensity[0] == 0.25 && act->propensity[1] == 0.25);
    f_send_bye(f);
    assert_int_equal(f_wait(f), 0);
    assert_string_equal(f_read(f, "log"),
                        "reset 0 0 ids=10,11,12\n"
                        "step 0 0 n=2 feedback=0 topic20=2 emb20=20.00,2.00 topic11=2 emb11=yes\n"
                        "titles 12=twelve, caf\xc3\xa9 20=[] 99=NULL\n");
}

/* PING -> PONG; JOINT and EPISODE_END reach their callbacks without a
 * reply; a non-fatal ERROR is reported and survived. */
static void test_ping_joint_end_and_errors(void **state)
{
    fake_t *f = *state;
    f_bind(f);
    f_spawn_agent(f, NULL, NULL);
    f_handshake(f);
    const int32_t catalog[] = {1, 2, 3, 4};
    f_send_catalog(f, 0, 0, catalog, 4);

    proto_msg_t ping = {.type = PROTO_MSG_PING, .ping = {.nonce = 0x1234567890ull}};
    f_send(f, &ping);
    assert_true(f_expect(f, PROTO_MSG_PONG)->ping.nonce == 0x1234567890ull);

    const int32_t users[] = {3}, slate[] = {1, 2, 3};
    const int32_t clicked[] = {1};
    const float features[DIM] = {0};
    proto_joint_agent_t one = {.agent_index = 0,
                               .n = 1,
                               .dim = DIM,
                               .slate_size = K,
                               .user_ids = users,
                               .features = features,
                               .slates = slate,
                               .clicked = clicked,
                               .reward = 1.0};
    proto_msg_t joint = {.type = PROTO_MSG_JOINT,
                         .joint = {.episode = 0, .tick = 4, .n_agents = 1, .agents = &one}};
    f_send(f, &joint);
    proto_msg_t end = {
        .type = PROTO_MSG_EPISODE_END,
        .episode_end = {.episode = 0, .ticks = 10, .reward = 3.5, .requests = 9, .clicks = 2}};
    f_send(f, &end);
    f_send_error(f, ERR_EDEADLINE, "no ACT for tick 4 within 1000 ms", false);
    f_expect_nothing(f, 50); /* none of the three gets a reply */

    f_send_step(f, 5, users, 1, NULL, 0, NULL, 0, NULL, 0);
    f_expect_act(f, 5, users, 1, catalog, 4);
    f_send_bye(f);
    assert_int_equal(f_wait(f), 0);
    assert_contains(f_read(f, "log"), "joint 0 4 agents=1\nend 0 reward=3.5 clicks=2\nstep 0 5");
    assert_contains(f_read(f, "err"), "no ACT for tick 4 within 1000 ms");
}

/* A fatal ERROR ends the agent with a non-zero status and says why. */
static void test_fatal_error(void **state)
{
    fake_t *f = *state;
    f_bind(f);
    f_spawn_agent(f, NULL, NULL);
    f_expect(f, PROTO_MSG_HELLO);
    f_send_error(f, ERR_EAUTH, "bad key", true);
    assert_int_equal(f_wait(f), 1);
    assert_contains(f_read(f, "err"), "bad key");
}

/* Sends msg with its major version byte raised by one. */
static void f_send_future(fake_t *f, proto_msg_t *msg)
{
    msg->seq = ++f->seq;
    assert_int_equal(proto_encode(msg, &f->out, NULL, 0), 0);
    assert_int_equal(f->out.data[0], 0x94); /* [major, type, seq, body] */
    assert_int_equal(f->out.data[1], PROTO_VERSION_MAJOR);
    f->out.data[1] = PROTO_VERSION_MAJOR + 1;
    assert_int_equal(transport_send_to(f->router, f->peer, f->peer_len, f->out.data, f->out.size),
                     0);
}

/* A message of another major version ends the agent, after a fatal
 * ERROR naming both versions; so does an ERROR from a server of another
 * major, even one not marked fatal. */
static void test_version_mismatch(void **state)
{
    fake_t *f = *state;
    f_bind(f);
    f_spawn_agent(f, NULL, NULL);
    f_handshake(f);
    proto_msg_t bye = {.type = PROTO_MSG_BYE, .bye = {.reason = "from the future"}};
    f_send_future(f, &bye);
    const proto_error_t *error = &f_expect(f, PROTO_MSG_ERROR)->error;
    assert_int_equal(error->code, ERR_EVERSION);
    assert_true(error->fatal);
    assert_true(error->has_ref_seq);
    assert_int_equal(error->ref_seq, f->seq);
    assert_int_equal(f_wait(f), 1);
    assert_contains(f_read(f, "err"), "major version");

    f_spawn_agent(f, NULL, NULL);
    f_expect(f, PROTO_MSG_HELLO);
    proto_msg_t refusal = {.type = PROTO_MSG_ERROR,
                           .error = {.code = ERR_EVERSION, .message = "I speak 2"}};
    f_send_future(f, &refusal);
    assert_int_equal(f_wait(f), 1);
    assert_contains(f_read(f, "err"), "fatal error from the server");
    assert_contains(f_read(f, "err"), "I speak 2");
}

/* A callback that fails ends the agent with BYE and a non-zero status. */
static void test_failed_callback_says_bye(void **state)
{
    fake_t *f = *state;
    f_bind(f);
    f_spawn_agent(f, "--fail-at-tick", "1");
    f_handshake(f);
    const int32_t catalog[] = {1, 2, 3}, users[] = {8};
    f_send_catalog(f, 0, 0, catalog, 3);
    f_send_step(f, 0, users, 1, NULL, 0, NULL, 0, NULL, 0);
    f_expect_act(f, 0, users, 1, catalog, 3);
    f_send_step(f, 1, users, 1, NULL, 0, NULL, 0, NULL, 0);
    assert_string_equal(f_expect(f, PROTO_MSG_BYE)->bye.reason, "on_step failed");
    assert_int_equal(f_wait(f), 1);
}

/* A silent server gets a PING, then a new connection and a new HELLO;
 * the agent then serves on the new connection. */
static void test_reconnect_after_silence(void **state)
{
    fake_t *f = *state;
    f_bind(f);
    const char *args[] = {"--endpoint",         f->endpoint,      "--name", "tester",
                          "--idle-timeout=100", "--ping-timeout", "100",    NULL};
    f_spawn(f, NULL, args);
    f_handshake(f);
    uint8_t first[TRANSPORT_MAX_IDENTITY];
    size_t first_len = f->peer_len;
    memcpy(first, f->peer, first_len);
    int64_t start = transport_now_ms();
    f_expect(f, PROTO_MSG_PING);
    assert_true(transport_now_ms() - start >= 90);
    f_expect(f, PROTO_MSG_HELLO); /* no PONG: the agent starts over */
    assert_int_equal(f->msg.seq, 0);
    assert_false(f->peer_len == first_len && memcmp(first, f->peer, first_len) == 0);
    f_send_welcome(f);
    const int32_t catalog[] = {1, 2, 3}, users[] = {8};
    f_send_catalog(f, 0, 5, catalog, 3);
    f_send_step(f, 5, users, 1, NULL, 0, NULL, 0, NULL, 0);
    f_expect_act(f, 5, users, 1, catalog, 3);
    f_send_bye(f);
    assert_int_equal(f_wait(f), 0);
    assert_contains(f_read(f, "err"), "reconnecting");
}

/* A server that answers the PING with "say HELLO first" (it was
 * restarted and does not know the connection) gets a new HELLO at once. */
static void test_hello_again_after_server_restart(void **state)
{
    fake_t *f = *state;
    f_bind(f);
    f_spawn_agent(f, "--idle-timeout", "100");
    f_handshake(f);
    uint64_t ping_seq = f_expect(f, PROTO_MSG_PING)->seq;
    proto_msg_t refusal = {.type = PROTO_MSG_ERROR};
    refusal.error = (proto_error_t){
        .code = ERR_ESTATE, .message = "say HELLO first", .has_ref_seq = true, .ref_seq = ping_seq};
    f_send(f, &refusal);
    f_expect(f, PROTO_MSG_HELLO); /* well before the 5 s ping timeout */
    f_send_bye(f);
    assert_int_equal(f_wait(f), 0);
    assert_contains(f_read(f, "err"), "does not know this connection (say HELLO first)");
}

/* An agent started before its server: HELLO waits in the DEALER. */
static void test_server_starts_late(void **state)
{
    fake_t *f = *state;
    f_spawn_agent(f, NULL, NULL);
    nanosleep(&(struct timespec){.tv_nsec = 150000000}, NULL);
    f_bind(f);
    f_handshake(f);
    f_send_bye(f);
    assert_int_equal(f_wait(f), 0);
}

/* Command-line errors exit 2 with a message; --help exits 0. */
static void test_command_line(void **state)
{
    fake_t *f = *state;
    f_spawn(f, NULL, NULL);
    assert_int_equal(f_wait(f), 2);
    assert_contains(f_read(f, "err"), "no server endpoint: pass --endpoint ENDPOINT or set "
                                      "RECARENA_ENDPOINT");

    const char *no_name[] = {"--endpoint", "ipc:///nowhere", NULL};
    f_spawn(f, NULL, no_name);
    assert_int_equal(f_wait(f), 2);
    assert_contains(f_read(f, "err"), "RECARENA_AGENT_NAME");

    const char *bad_name[] = {"--endpoint", "ipc:///nowhere", "--name", "a b", NULL};
    f_spawn(f, NULL, bad_name);
    assert_int_equal(f_wait(f), 2);
    assert_contains(f_read(f, "err"), "agent name 'a b' is not");

    const char *unknown[] = {"--endpoint", "ipc:///nowhere", "--name", "x", "--bogus", "1", NULL};
    f_spawn(f, NULL, unknown);
    assert_int_equal(f_wait(f), 2);
    assert_contains(f_read(f, "err"), "unknown option or bad value: --bogus 1");

    /* the agent's parser says what is wrong with a value (core/parse.h) */
    const char *not_a_number[] = {"--endpoint",     "ipc:///nowhere", "--name", "x",
                                  "--fail-at-tick", "soon",           NULL};
    f_spawn(f, NULL, not_a_number);
    assert_int_equal(f_wait(f), 2);
    assert_contains(f_read(f, "err"), "--fail-at-tick 'soon': not a value this option takes");

    const char *out_of_range[] = {"--endpoint", "ipc:///nowhere",    "--name",
                                  "x",          "--fail-at-tick=-3", NULL};
    f_spawn(f, NULL, out_of_range);
    assert_int_equal(f_wait(f), 2);
    assert_contains(f_read(f, "err"), "--fail-at-tick '-3': value out of range");

    const char *no_value[] = {"--name", "x", "--endpoint", NULL};
    f_spawn(f, NULL, no_value);
    assert_int_equal(f_wait(f), 2);
    assert_contains(f_read(f, "err"), "--endpoint needs a value");

    const char *bad_ms[] = {"--idle-timeout", "0", NULL};
    f_spawn(f, NULL, bad_ms);
    assert_int_equal(f_wait(f), 2);
    assert_contains(f_read(f, "err"), "--idle-timeout: '0' is not");

    const char *positional[] = {"stray", NULL};
    f_spawn(f, NULL, positional);
    assert_int_equal(f_wait(f), 2);
    assert_contains(f_read(f, "err"), "unexpected argument 'stray'");

    const char *help[] = {"--help", NULL};
    f_spawn(f, NULL, help);
    assert_int_equal(f_wait(f), 0);
    assert_contains(f_read(f, "out"), "usage: test-agent [--endpoint ENDPOINT]");
    assert_contains(f_read(f, "out"), "--log PATH");
}

/* The child: argv = {"test-agent", options...}. */
static int t_agent_main(int argc, char **argv)
{
    static const char *const caps[] = {"joint"};
    static const agent_spec_t spec = {.caps = caps,
                                      .n_caps = 1,
                                      .on_option = t_on_option,
                                      .options_help = "  --log PATH           callback log\n",
                                      .on_reset = t_on_reset,
                                      .on_step = t_on_step,
                                      .on_joint = t_on_joint,
                                      .on_episode_end = t_on_episode_end};
    test_agent_t t = {.fail_tick = -1};
    int status = agent_main(argc, argv, &spec, &t);
    if (t.log)
        fclose(t.log);
    return status;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "test-agent") == 0)
        return t_agent_main(argc - 1, argv + 1);
    s_self = argv[0];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_handshake_from_environment, f_setup, f_teardown),
        cmocka_unit_test_setup_teardown(test_titles_and_propensity, f_setup, f_teardown),
        cmocka_unit_test_setup_teardown(test_steps_and_catalog_view, f_setup, f_teardown),
        cmocka_unit_test_setup_teardown(test_ping_joint_end_and_errors, f_setup, f_teardown),
        cmocka_unit_test_setup_teardown(test_fatal_error, f_setup, f_teardown),
        cmocka_unit_test_setup_teardown(test_version_mismatch, f_setup, f_teardown),
        cmocka_unit_test_setup_teardown(test_failed_callback_says_bye, f_setup, f_teardown),
        cmocka_unit_test_setup_teardown(test_reconnect_after_silence, f_setup, f_teardown),
        cmocka_unit_test_setup_teardown(test_hello_again_after_server_restart, f_setup, f_teardown),
        cmocka_unit_test_setup_teardown(test_server_starts_late, f_setup, f_teardown),
        cmocka_unit_test_setup_teardown(test_command_line, f_setup, f_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
