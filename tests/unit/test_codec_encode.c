/* The codec (proto/codec.h) against the protocol contract (docs/
 * protocol.md), from the encoding side: byte-exact frames for the spec's
 * examples, round trips of every message type, buffer and storage reuse,
 * and what an encoder refuses. Malformed frames are in
 * test_codec_decode.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "proto/codec.h"
#include "codec_frames.h"

/* Encodes msg, decodes it into out (caller finis), checks the envelope. */
static void s_roundtrip(const proto_msg_t *msg, const proto_dims_t *dims, proto_msg_t *out)
{
    proto_buffer_t buf;
    char err[PROTO_ERR_LEN];
    proto_buffer_init(&buf);
    int rc = proto_encode(msg, &buf, err, sizeof err);
    if (rc)
        print_error("encode: %s\n", err);
    assert_int_equal(rc, 0);
    rc = proto_decode(buf.data, buf.size, dims, out, err, sizeof err);
    if (rc)
        print_error("decode: %s\n", err);
    assert_int_equal(rc, 0);
    assert_int_equal(out->major, PROTO_VERSION_MAJOR);
    assert_int_equal(out->type, msg->type);
    assert_int_equal(out->seq, msg->seq);
    proto_buffer_fini(&buf);
}

static void s_assert_bytes(const void *got, const void *want, size_t n)
{
    if (n)
        assert_memory_equal(got, want, n);
}

/* ---- byte-exact frames (the same bytes are annotated in docs/protocol.md) */

static const uint8_t s_hello_bytes[] = {
    0x94,                                 /* array of 4: the envelope */
    0x01,                                 /* major 1 */
    0x01,                                 /* type 1 = HELLO */
    0x00,                                 /* seq 0 */
    0x84,                                 /* body: map of 4 */
    0xa5, 'm',  'i', 'n', 'o', 'r', 0x02, /* "minor": 2 */
    0xa4, 'n',  'a', 'm', 'e',            /* "name": */
    0xa3, 'u',  'c', 'b',                 /*   "ucb" */
    0xa4, 'r',  'o', 'l', 'e',            /* "role": */
    0xa5, 'a',  'g', 'e', 'n', 't',       /*   "agent" */
    0xa4, 'c',  'a', 'p', 's',            /* "caps": */
    0x91, 0xa5, 'j', 'o', 'i', 'n', 't',  /*   ["joint"] */
};

static void test_hello_bytes(void **state)
{
    (void)state;
    const char *caps[] = {"joint"};
    proto_msg_t msg = {
        .type = PROTO_MSG_HELLO,
        .seq = 0,
        .hello = {.minor = 2, .name = "ucb", .role = "agent", .n_caps = 1, .caps = caps}};
    proto_buffer_t buf;
    proto_buffer_init(&buf);
    assert_int_equal(proto_encode(&msg, &buf, NULL, 0), 0);
    assert_int_equal(buf.size, sizeof s_hello_bytes);
    assert_memory_equal(buf.data, s_hello_bytes, sizeof s_hello_bytes);
    proto_buffer_fini(&buf);

    proto_msg_t got = {0};
    assert_int_equal(proto_decode(s_hello_bytes, sizeof s_hello_bytes, NULL, &got, NULL, 0), 0);
    assert_int_equal(got.type, PROTO_MSG_HELLO);
    assert_string_equal(got.hello.name, "ucb");
    assert_string_equal(got.hello.role, "agent");
    assert_int_equal(got.hello.n_caps, 1);
    assert_string_equal(got.hello.caps[0], "joint");
    assert_null(got.hello.token);
    proto_msg_fini(&got);
}

static const uint8_t s_act_bytes[] = {
    0x94, 0x01, 0x05, 0x0c,                               /* [1, ACT = 5, seq 12, */
    0x84,                                                 /*  map of 4 */
    0xa7, 'e',  'p',  'i',  's',  'o',  'd',  'e',  0x00, /*  "episode": 0 */
    0xa4, 't',  'i',  'c',  'k',  0x03,                   /*  "tick": 3 */
    0xa8, 'u',  's',  'e',  'r',  '_',  'i',  'd',  's',  /*  "user_ids": */
    0x83,                                                 /*   map of 3 */
    0xa5, 'd',  't',  'y',  'p',  'e',                    /*   "dtype": */
    0xa5, 'i',  'n',  't',  '3',  '2',                    /*     "int32" */
    0xa5, 's',  'h',  'a',  'p',  'e',  0x91, 0x01,       /*   "shape": [1] */
    0xa4, 'd',  'a',  't',  'a',  0xc4, 0x04,             /*   "data": bin 4 */
    0x07, 0x00, 0x00, 0x00,                               /*     7 */
    0xa6, 's',  'l',  'a',  't',  'e',  's',              /*  "slates": */
    0x83,                                                 /*   map of 3 */
    0xa5, 'd',  't',  'y',  'p',  'e',                    /*   "dtype": */
    0xa5, 'i',  'n',  't',  '3',  '2',                    /*     "int32" */
    0xa5, 's',  'h',  'a',  'p',  'e',  0x92, 0x01, 0x02, /*   "shape": [1, 2] */
    0xa4, 'd',  'a',  't',  'a',  0xc4, 0x08,             /*   "data": bin 8 */
    0x04, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00,       /*     4, 9 ] */
};

static void test_act_bytes(void **state)
{
    (void)state;
    const int32_t users[] = {7}, slates[] = {4, 9};
    proto_msg_t msg = {
        .type = PROTO_MSG_ACT,
        .seq = 12,
        .act = {
            .episode = 0, .tick = 3, .n = 1, .slate_size = 2, .user_ids = users, .slates = slates}};
    proto_buffer_t buf;
    proto_buffer_init(&buf);
    assert_int_equal(proto_encode(&msg, &buf, NULL, 0), 0);
    assert_int_equal(buf.size, sizeof s_act_bytes);
    assert_memory_equal(buf.data, s_act_bytes, sizeof s_act_bytes);
    proto_buffer_fini(&buf);

    proto_dims_t dims = {.dim = 8, .slate_size = 2, .history_len = 5};
    proto_msg_t got = {0};
    assert_int_equal(proto_decode(s_act_bytes, sizeof s_act_bytes, &dims, &got, NULL, 0), 0);
    assert_int_equal(got.seq, 12);
    assert_int_equal(got.act.tick, 3);
    assert_int_equal(got.act.n, 1);
    assert_int_equal(got.act.slate_size, 2);
    assert_int_equal(got.act.user_ids[0], 7);
    assert_int_equal(got.act.slates[1], 9);
    proto_msg_fini(&got);
}

/* ---- round trips ---------------------------------------------------- */

static void test_roundtrip_hello(void **state)
{
    (void)state;
    const char *caps[] = {"joint", "future-cap_2"};
    proto_msg_t msg = {.type = PROTO_MSG_HELLO,
                       .seq = 1ull << 40,
                       .hello = {.minor = 3,
                                 .name = "Lin-UCB_7",
                                 .role = "agent",
                                 .n_caps = 2,
                                 .caps = caps,
                                 .token = "s3cret token"}};
    proto_msg_t got = {0};
    s_roundtrip(&msg, NULL, &got);
    assert_int_equal(got.hello.minor, 3);
    assert_string_equal(got.hello.name, "Lin-UCB_7");
    assert_int_equal(got.hello.n_caps, 2);
    assert_string_equal(got.hello.caps[1], "future-cap_2");
    assert_string_equal(got.hello.token, "s3cret token");
    proto_msg_fini(&got);
}

static void s_assert_space_equal(const proto_space_t *a, const proto_space_t *b)
{
    assert_int_equal(a->kind, b->kind);
    switch (a->kind) {
    case PROTO_SPACE_BOX:
        assert_int_equal(a->dtype, b->dtype);
        assert_true(a->low == b->low && a->high == b->high);
        assert_int_equal(a->ndim, b->ndim);
        assert_memory_equal(a->shape, b->shape, a->ndim * sizeof a->shape[0]);
        break;
    case PROTO_SPACE_DISCRETE:
        assert_int_equal(a->n, b->n);
        break;
    case PROTO_SPACE_MULTI_DISCRETE:
        assert_int_equal(a->n_nvec, b->n_nvec);
        assert_memory_equal(a->nvec, b->nvec, a->n_nvec * sizeof a->nvec[0]);
        break;
    case PROTO_SPACE_DICT:
        assert_int_equal(a->n_spaces, b->n_spaces);
        for (uint32_t i = 0; i < a->n_spaces; i++) {
            assert_string_equal(a->names[i], b->names[i]);
            s_assert_space_equal(&a->spaces[i], &b->spaces[i]);
        }
        break;
    case PROTO_SPACE_SLATE:
        assert_int_equal(a->n, b->n);
        assert_int_equal(a->k, b->k);
        break;
    }
}

static void test_roundtrip_welcome(void **state)
{
    (void)state;
    const char *agents[] = {"random", "ucb", "maddpg-0"};
    proto_msg_t msg = {
        .type = PROTO_MSG_WELCOME,
        .seq = 0,
        .welcome = {
            .agent_index = 2,
            .n_agents = 3,
            .agents = agents,
            .seed = 0xfedcba9876543210ull,
            .mode = PROTO_MODE_FEED,
            .slate_size = 5,
            .dim = 8,
            .n_topics = 10,
            .history_len = 5,
            .ticks = 200,
            .episodes = 3,
            .observation_space = &frame_obs_space,
            .action_space = &frame_act_space,
            .limits = {.deadline_ms = 50, .max_batch = 1024, .max_message_bytes = 1ull << 26}}};
    proto_msg_t got = {0};
    s_roundtrip(&msg, NULL, &got);
    const proto_welcome_t *w = &got.welcome;
    assert_int_equal(w->agent_index, 2);
    assert_int_equal(w->n_agents, 3);
    assert_string_equal(w->agents[2], "maddpg-0");
    assert_true(w->seed == 0xfedcba9876543210ull);
    assert_int_equal(w->mode, PROTO_MODE_FEED);
    assert_int_equal(w->slate_size, 5);
    assert_int_equal(w->dim, 8);
    assert_int_equal(w->n_topics, 10);
    assert_int_equal(w->history_len, 5);
    assert_int_equal(w->ticks, 200);
    assert_int_equal(w->episodes, 3);
    s_assert_space_equal(w->observation_space, &frame_obs_space);
    s_assert_space_equal(w->action_space, &frame_act_space);
    assert_int_equal(w->limits.deadline_ms, 50);
    assert_int_equal(w->limits.max_batch, 1024);
    assert_true(w->limits.max_message_bytes == 1ull << 26);
    proto_msg_fini(&got);
}

static const int32_t s_ids[] = {0, 5, 17};
static const int32_t s_topics[] = {2, 0, 9};
static const int32_t s_providers[] = {1, 1, 4};
static const float s_emb[3 * 4] = {0.5f, -0.25f, 1e-30f, 3.0f, 0,      1,
                                   2,    3,      -1e30f, 7.5f, 0.125f, -0.0f};

static void s_assert_items(const proto_items_t *a, const proto_items_t *b)
{
    assert_int_equal(a->n, b->n);
    assert_int_equal(a->dim, b->dim);
    s_assert_bytes(a->ids, b->ids, a->n * sizeof(int32_t));
    s_assert_bytes(a->topics, b->topics, a->n * sizeof(int32_t));
    s_assert_bytes(a->providers, b->providers, a->n * sizeof(int32_t));
    s_assert_bytes(a->embeddings, b->embeddings, a->n * a->dim * sizeof(float));
}

static void test_roundtrip_catalog(void **state)
{
    (void)state;
    proto_msg_t msg = {.type = PROTO_MSG_CATALOG,
                       .seq = 9,
                       .catalog = {.episode = 2,
                                   .tick = 0,
                                   .items = {.n = 3,
                                             .dim = 4,
                                             .ids = s_ids,
                                             .topics = s_topics,
                                             .providers = s_providers,
                                             .embeddings = s_emb}}};
    proto_msg_t got = {0};
    proto_dims_t dims = {.dim = 4, .slate_size = 5, .history_len = 2};
    s_roundtrip(&msg, &dims, &got);
    assert_int_equal(got.catalog.episode, 2);
    s_assert_items(&got.catalog.items, &msg.catalog.items);
    /* copies are aligned for their element type */
    assert_int_equal((uintptr_t)got.catalog.items.embeddings % _Alignof(float), 0);
    assert_null(got.catalog.items.titles); /* not sent: absent */
    proto_msg_fini(&got);
    assert_null(got.storage);

    /* with titles (1.2): UTF-8, "" for none; the encoder refuses what the decoder would */
    const char *titles[3] = {"caf\xc3\xa9", "", "a, b"};
    msg.catalog.items.titles = titles;
    s_roundtrip(&msg, &dims, &got);
    assert_non_null(got.catalog.items.titles);
    for (int i = 0; i < 3; i++)
        assert_string_equal(got.catalog.items.titles[i], titles[i]);
    proto_msg_fini(&got);
    proto_buffer_t enc;
    proto_buffer_init(&enc);
    char err[PROTO_ERR_LEN];
    titles[1] = "ab\xc3";
    assert_int_equal(proto_encode(&msg, &enc, err, sizeof err), PROTO_EINVAL);
    assert_string_equal(err, "CATALOG.items.titles: entry 1 is not valid UTF-8");
    static char longest[PROTO_MAX_TITLE + 2];
    memset(longest, 'x', PROTO_MAX_TITLE);
    titles[1] = longest;
    s_roundtrip(&msg, &dims, &got); /* PROTO_MAX_TITLE bytes: fine */
    assert_int_equal(strlen(got.catalog.items.titles[1]), PROTO_MAX_TITLE);
    proto_msg_fini(&got);
    longest[PROTO_MAX_TITLE] = 'x';
    assert_int_equal(proto_encode(&msg, &enc, err, sizeof err), PROTO_EINVAL);
    assert_string_equal(err, "CATALOG.items.titles: entry 1 has 4096 bytes, more than 4095");
    titles[1] = NULL;
    assert_int_equal(proto_encode(&msg, &enc, err, sizeof err), PROTO_EINVAL);
    assert_string_equal(err, "CATALOG.items.titles: entry 1 is NULL");
    /* only CATALOG carries titles */
    proto_msg_t step = {.type = PROTO_MSG_STEP, .step = {.born = msg.catalog.items}};
    titles[1] = "";
    assert_int_equal(proto_encode(&step, &enc, err, sizeof err), PROTO_EINVAL);
    assert_string_equal(err, "STEP.born.titles: only CATALOG.items carries titles");
    proto_buffer_fini(&enc);
}

static void test_roundtrip_step(void **state)
{
    (void)state;
    const int32_t fb_users[] = {11, 12}, clicked[] = {-1, 3};
    const float reward[] = {0.0f, 1.0f};
    const uint8_t ended[] = {1, 0};
    const int32_t users[] = {12, 40, 41};
    float features[3 * 4];
    for (int i = 0; i < 12; i++)
        features[i] = (float)i / 7.0f - 0.5f;
    const int32_t history[3 * 2] = {5, -1, -1, -1, 17, 0};
    const int32_t retired[] = {3, 8};
    proto_msg_t msg = {.type = PROTO_MSG_STEP,
                       .seq = 77,
                       .step = {.episode = 1,
                                .tick = 9,
                                .deadline_ms = 50,
                                .feedback = {.n = 2,
                                             .user_ids = fb_users,
                                             .clicked = clicked,
                                             .reward = reward,
                                             .session_end = ended},
                                .tick_reward = 1.25,
                                .requests = {.n = 3,
                                             .dim = 4,
                                             .history_len = 2,
                                             .user_ids = users,
                                             .features = features,
                                             .history = history},
                                .born = {.n = 1,
                                         .dim = 4,
                                         .ids = s_ids + 2,
                                         .topics = s_topics + 2,
                                         .providers = s_providers + 2,
                                         .embeddings = s_emb + 8},
                                .n_retired = 2,
                                .retired = retired}};
    proto_msg_t got = {0};
    proto_dims_t dims = {.dim = 4, .slate_size = 5, .history_len = 2};
    s_roundtrip(&msg, &dims, &got);
    const proto_step_t *s = &got.step;
    assert_int_equal(s->episode, 1);
    assert_int_equal(s->tick, 9);
    assert_int_equal(s->deadline_ms, 50);
    assert_int_equal(s->feedback.n, 2);
    assert_memory_equal(s->feedback.user_ids, fb_users, sizeof fb_users);
    assert_memory_equal(s->feedback.clicked, clicked, sizeof clicked);
    assert_memory_equal(s->feedback.reward, reward, sizeof reward);
    assert_memory_equal(s->feedback.session_end, ended, sizeof ended);
    assert_true(s->tick_reward == 1.25);
    assert_int_equal(s->requests.n, 3);
    assert_int_equal(s->requests.dim, 4);
    assert_int_equal(s->requests.history_len, 2);
    assert_memory_equal(s->requests.user_ids, users, sizeof users);
    assert_memory_equal(s->requests.features, features, sizeof features);
    assert_memory_equal(s->requests.history, history, sizeof history);
    s_assert_items(&s->born, &msg.step.born);
    assert_int_equal(s->n_retired, 2);
    assert_memory_equal(s->retired, retired, sizeof retired);
    proto_msg_fini(&got);

    /* an episode's first STEP: no feedback, and a tick with no requests */
    proto_msg_t first = {.type = PROTO_MSG_STEP,
                         .step = {.deadline_ms = 50,
                                  .requests = {.n = 0, .dim = 4, .history_len = 2},
                                  .born = {.dim = 4}}};
    s_roundtrip(&first, NULL, &got);
    assert_int_equal(got.step.feedback.n, 0);
    assert_int_equal(got.step.requests.n, 0);
    assert_int_equal(got.step.requests.dim, 4); /* shape (0, 4) keeps the width */
    assert_int_equal(got.step.requests.history_len, 2);
    assert_null(got.step.requests.features);
    assert_int_equal(got.step.n_retired, 0);
    proto_msg_fini(&got);
}

static void test_roundtrip_act_and_joint(void **state)
{
    (void)state;
    const int32_t users[] = {3, 1, 2};
    const int32_t slates[3 * 2] = {10, 11, 12, 13, 0, 99};
    proto_msg_t act = {
        .type = PROTO_MSG_ACT,
        .seq = 4,
        .act = {
            .episode = 1, .tick = 2, .n = 3, .slate_size = 2, .user_ids = users, .slates = slates}};
    proto_msg_t got = {0};
    s_roundtrip(&act, NULL, &got);
    assert_int_equal(got.act.n, 3);
    assert_int_equal(got.act.slate_size, 2);
    assert_memory_equal(got.act.user_ids, users, sizeof users);
    assert_memory_equal(got.act.slates, slates, sizeof slates);
    assert_null(got.act.propensity); /* not sent: absent */
    proto_msg_fini(&got);

    /* with propensities (1.2); the encoder refuses what the decoder would */
    double propensity[3] = {1.0, 0.5, 0.125};
    act.act.propensity = propensity;
    s_roundtrip(&act, NULL, &got);
    assert_non_null(got.act.propensity);
    assert_memory_equal(got.act.propensity, propensity, sizeof propensity);
    proto_msg_fini(&got);
    proto_buffer_t enc;
    proto_buffer_init(&enc);
    char err[PROTO_ERR_LEN];
    propensity[2] = NAN;
    assert_int_equal(proto_encode(&act, &enc, err, sizeof err), PROTO_ENONFINITE);
    assert_string_equal(err, "ACT.propensity: element 2 is NaN");
    propensity[2] = 0.0;
    assert_int_equal(proto_encode(&act, &enc, err, sizeof err), PROTO_EINVAL);
    assert_string_equal(err, "ACT.propensity: element 2 is 0, outside (0, 1]");
    proto_buffer_fini(&enc);
    act.act.propensity = NULL;

    /* an empty ACT answers a STEP without requests */
    proto_msg_t empty = {.type = PROTO_MSG_ACT, .act = {.tick = 5, .slate_size = 2}};
    s_roundtrip(&empty, &(proto_dims_t){4, 2, 2}, &got);
    assert_int_equal(got.act.n, 0);
    assert_null(got.act.slates);
    proto_msg_fini(&got);

    const float features[3 * 2] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f};
    const int32_t clicked[] = {1, -1, 0};
    proto_joint_agent_t agents[2] = {
        {.agent_index = 0,
         .n = 3,
         .dim = 2,
         .slate_size = 2,
         .user_ids = users,
         .features = features,
         .slates = slates,
         .clicked = clicked,
         .reward = -0.5},
        {.agent_index = 1, .n = 0, .dim = 2, .slate_size = 2, .reward = 2.0},
    };
    proto_msg_t joint = {.type = PROTO_MSG_JOINT,
                         .seq = 5,
                         .joint = {.episode = 1, .tick = 2, .n_agents = 2, .agents = agents}};
    s_roundtrip(&joint, &(proto_dims_t){2, 2, 7}, &got);
    assert_int_equal(got.joint.tick, 2);
    assert_int_equal(got.joint.n_agents, 2);
    const proto_joint_agent_t *a = &got.joint.agents[0];
    assert_int_equal(a->n, 3);
    assert_int_equal(a->dim, 2);
    assert_int_equal(a->slate_size, 2);
    assert_memory_equal(a->user_ids, users, sizeof users);
    assert_memory_equal(a->features, features, sizeof features);
    assert_memory_equal(a->slates, slates, sizeof slates);
    assert_memory_equal(a->clicked, clicked, sizeof clicked);
    assert_true(a->reward == -0.5);
    assert_int_equal(got.joint.agents[1].agent_index, 1);
    assert_int_equal(got.joint.agents[1].n, 0);
    assert_true(got.joint.agents[1].reward == 2.0);
    proto_msg_fini(&got);
}

static void test_roundtrip_small_messages(void **state)
{
    (void)state;
    proto_msg_t got = {0};
    const int32_t users[] = {4};
    const int32_t clicked[] = {0};
    const float reward[] = {1.0f};
    const uint8_t ended[] = {1};
    proto_msg_t end = {.type = PROTO_MSG_EPISODE_END,
                       .seq = 3,
                       .episode_end = {.episode = 4,
                                       .ticks = 200,
                                       .reward = 123.5,
                                       .requests = 5000000000ull,
                                       .clicks = 1234,
                                       .feedback = {.n = 1,
                                                    .user_ids = users,
                                                    .clicked = clicked,
                                                    .reward = reward,
                                                    .session_end = ended},
                                       .tick_reward = 0.75}};
    s_roundtrip(&end, NULL, &got);
    assert_int_equal(got.episode_end.episode, 4);
    assert_int_equal(got.episode_end.ticks, 200);
    assert_true(got.episode_end.reward == 123.5);
    assert_true(got.episode_end.requests == 5000000000ull);
    assert_int_equal(got.episode_end.clicks, 1234);
    assert_int_equal(got.episode_end.feedback.n, 1);
    assert_int_equal(got.episode_end.feedback.session_end[0], 1);
    assert_true(got.episode_end.tick_reward == 0.75);
    proto_msg_fini(&got);

    proto_msg_t bye = {.type = PROTO_MSG_BYE, .seq = 8, .bye = {.reason = "run complete"}};
    s_roundtrip(&bye, NULL, &got);
    assert_string_equal(got.bye.reason, "run complete");
    proto_msg_fini(&got);

    for (uint32_t type = PROTO_MSG_PING; type <= PROTO_MSG_PONG; type++) {
        proto_msg_t ping = {.type = type, .seq = 2, .ping = {.nonce = UINT64_MAX}};
        s_roundtrip(&ping, NULL, &got);
        assert_true(got.ping.nonce == UINT64_MAX);
        proto_msg_fini(&got);
    }

    proto_msg_t error = {
        .type = PROTO_MSG_ERROR,
        .seq = 6,
        .error = {.code = PROTO_EDEADLINE, .message = "tick 9: no ACT in 50 ms", .fatal = false}};
    s_roundtrip(&error, NULL, &got);
    assert_int_equal(got.error.code, PROTO_EDEADLINE);
    assert_string_equal(got.error.message, "tick 9: no ACT in 50 ms");
    assert_false(got.error.fatal);
    assert_false(got.error.has_ref_seq);
    proto_msg_fini(&got);

    error.error = (proto_error_t){
        .code = PROTO_EVERSION, .message = "", .fatal = true, .has_ref_seq = true, .ref_seq = 0};
    s_roundtrip(&error, NULL, &got);
    assert_int_equal(got.error.code, PROTO_EVERSION);
    assert_string_equal(got.error.message, "");
    assert_true(got.error.fatal);
    assert_true(got.error.has_ref_seq);
    assert_int_equal(got.error.ref_seq, 0);
    proto_msg_fini(&got);
}

static void test_roundtrip_telemetry(void **state)
{
    (void)state;
    proto_msg_t got = {0};
    const char *const names[2] = {"random", "ucb-1"};
    const int32_t requests[2] = {70, 0}, clicks[2] = {9, 0};
    const double reward[2] = {9.25, -0.5}, regret[2] = {1.0 / 3.0, 0.0};
    proto_msg_t tick = {.type = PROTO_MSG_TELEMETRY_TICK,
                        .seq = 41,
                        .telemetry_tick = {.episode = 1,
                                           .tick = 199,
                                           .active_users = 80,
                                           .requests = 70,
                                           .clicks = 9,
                                           .welfare = 3.5,
                                           .ild = 0.875,
                                           .gini = 0.625,
                                           .coverage = 0.25,
                                           .entropy = 4.5,
                                           .n_agents = 2,
                                           .agents = names,
                                           .agent_requests = requests,
                                           .agent_clicks = clicks,
                                           .agent_reward = reward,
                                           .agent_regret = regret}};
    s_roundtrip(&tick, NULL, &got);
    const proto_telemetry_tick_t *t = &got.telemetry_tick;
    assert_int_equal(t->episode, 1);
    assert_int_equal(t->tick, 199);
    assert_int_equal(t->active_users, 80);
    assert_int_equal(t->requests, 70);
    assert_int_equal(t->clicks, 9);
    assert_true(t->welfare == 3.5 && t->ild == 0.875);
    assert_true(t->gini == 0.625 && t->coverage == 0.25 && t->entropy == 4.5);
    assert_int_equal(t->n_agents, 2);
    assert_string_equal(t->agents[0], "random");
    assert_string_equal(t->agents[1], "ucb-1");
    assert_memory_equal(t->agent_requests, requests, sizeof requests);
    assert_memory_equal(t->agent_clicks, clicks, sizeof clicks);
    assert_memory_equal(t->agent_reward, reward, sizeof reward);
    assert_memory_equal(t->agent_regret, regret, sizeof regret);
    proto_msg_fini(&got);

    const char *const three[3] = {"a", "b", "c"};
    const int64_t agent_requests[3] = {5000000000ll, 7, 0}, agent_clicks[3] = {1, 2, 0};
    const double agent_reward[3] = {1.5, 2.0, 0.0}, agent_regret[3] = {0.0, 0.25, 0.0};
    const double share[3] = {0.5, 0.25, 0.25};
    proto_msg_t episode = {.type = PROTO_MSG_TELEMETRY_EPISODE,
                           .seq = 42,
                           .telemetry_episode = {.episode = 3,
                                                 .ticks = 200,
                                                 .requests = 5000000007ull,
                                                 .clicks = 3,
                                                 .ctr = 0.125,
                                                 .welfare_per_request = 0.0625,
                                                 .mean_active_users = 81.5,
                                                 .churn = 0.01,
                                                 .gini = 0.5,
                                                 .coverage = 0.75,
                                                 .entropy_normalized = 0.9,
                                                 .ild = 1.25,
                                                 .jaccard = 0.02,
                                                 .interest_similarity = -0.125,
                                                 .hhi = 0.375,
                                                 .n_agents = 3,
                                                 .agents = three,
                                                 .agent_requests = agent_requests,
                                                 .agent_clicks = agent_clicks,
                                                 .agent_reward = agent_reward,
                                                 .agent_regret = agent_regret,
                                                 .agent_share = share}};
    s_roundtrip(&episode, NULL, &got);
    const proto_telemetry_episode_t *e = &got.telemetry_episode;
    assert_int_equal(e->episode, 3);
    assert_int_equal(e->ticks, 200);
    assert_true(e->requests == 5000000007ull);
    assert_int_equal(e->clicks, 3);
    assert_true(e->ctr == 0.125 && e->welfare_per_request == 0.0625);
    assert_true(e->mean_active_users == 81.5 && e->churn == 0.01);
    assert_true(e->gini == 0.5 && e->coverage == 0.75 && e->entropy_normalized == 0.9);
    assert_true(e->ild == 1.25 && e->jaccard == 0.02 && e->interest_similarity == -0.125);
    assert_true(e->hhi == 0.375);
    assert_int_equal(e->n_agents, 3);
    assert_string_equal(e->agents[2], "c");
    assert_memory_equal(e->agent_requests, agent_requests, sizeof agent_requests);
    assert_memory_equal(e->agent_clicks, agent_clicks, sizeof agent_clicks);
    assert_memory_equal(e->agent_reward, agent_reward, sizeof agent_reward);
    assert_memory_equal(e->agent_regret, agent_regret, sizeof agent_regret);
    assert_memory_equal(e->agent_share, share, sizeof share);
    assert_null(e->agent_gini); /* optional (1.1): absent when not sent */
    proto_msg_fini(&got);

    /* with the optional per-agent Gini, which a 1.0 decoder would skip */
    const double gini[3] = {0.125, 0.875, 0.0};
    episode.telemetry_episode.agent_gini = gini;
    s_roundtrip(&episode, NULL, &got);
    assert_non_null(got.telemetry_episode.agent_gini);
    assert_memory_equal(got.telemetry_episode.agent_gini, gini, sizeof gini);
    assert_memory_equal(got.telemetry_episode.agent_share, share, sizeof share);
    proto_msg_fini(&got);
    const double nan_gini[3] = {0.5, NAN, 0.5};
    episode.telemetry_episode.agent_gini = nan_gini;
    proto_buffer_t refused;
    proto_buffer_init(&refused);
    char why[PROTO_ERR_LEN];
    assert_int_equal(proto_encode(&episode, &refused, why, sizeof why), PROTO_ENONFINITE);
    assert_string_equal(why, "TELEMETRY_EPISODE.agent_gini: element 1 is NaN");
    proto_buffer_fini(&refused);

    const int64_t items[5] = {0, 12, 3000000000ll, 1, 0}, topics[2] = {3000000001ll, 12};
    proto_msg_t exposure = {.type = PROTO_MSG_TELEMETRY_EXPOSURE,
                            .seq = 43,
                            .telemetry_exposure = {.episode = 0,
                                                   .tick = 9,
                                                   .n_items = 5,
                                                   .items = items,
                                                   .n_topics = 2,
                                                   .topics = topics}};
    s_roundtrip(&exposure, NULL, &got);
    const proto_telemetry_exposure_t *x = &got.telemetry_exposure;
    assert_int_equal(x->tick, 9);
    assert_int_equal(x->n_items, 5);
    assert_int_equal(x->n_topics, 2);
    assert_memory_equal(x->items, items, sizeof items);
    assert_memory_equal(x->topics, topics, sizeof topics);
    proto_msg_fini(&got);

    /* an episode's first snapshot may come before any item was shown */
    exposure.telemetry_exposure.n_items = 0;
    exposure.telemetry_exposure.items = NULL;
    s_roundtrip(&exposure, NULL, &got);
    assert_int_equal(got.telemetry_exposure.n_items, 0);
    assert_null(got.telemetry_exposure.items);
    proto_msg_fini(&got);

    assert_string_equal(proto_type_name(PROTO_MSG_TELEMETRY_TICK), "TELEMETRY_TICK");
    assert_string_equal(proto_type_name(PROTO_MSG_TELEMETRY_EPISODE), "TELEMETRY_EPISODE");
    assert_string_equal(proto_type_name(PROTO_MSG_TELEMETRY_EXPOSURE), "TELEMETRY_EXPOSURE");
}

/* A TELEMETRY_TICK whose per-agent arrays have n entries, except
 * agent_clicks (n_clicks), with n_names agent names. */
static void b_telemetry_tick(buf_t *b, uint32_t n, uint32_t n_clicks, uint32_t n_names)
{
    const int32_t ints[4] = {1, 2, 3, 4};
    const double doubles[4] = {0.5, 0.25, 0.125, 1.0};
    b_envelope(b, 1, PROTO_MSG_TELEMETRY_TICK, 0, 15);
    const char *uints[] = {"episode", "tick", "active_users", "requests", "clicks"};
    for (size_t i = 0; i < 5; i++) {
        b_str(b, uints[i]);
        b_uint(b, 1);
    }
    const char *floats[] = {"welfare", "ild", "gini", "coverage", "entropy"};
    for (size_t i = 0; i < 5; i++) {
        b_str(b, floats[i]);
        b_f64(b, 0.5);
    }
    b_str(b, "agents");
    b_array(b, n_names);
    for (uint32_t i = 0; i < n_names; i++)
        b_str(b, "agent");
    b_str(b, "agent_requests");
    b_typed(b, "int32", n, -1, ints, 4 * n);
    b_str(b, "agent_clicks");
    b_typed(b, "int32", n_clicks, -1, ints, 4 * n_clicks);
    b_str(b, "agent_reward");
    b_typed(b, "float64", n, -1, doubles, 8 * n);
    b_str(b, "agent_regret");
    b_typed(b, "float64", n, -1, doubles, 8 * n);
}

static void test_telemetry_checks(void **state)
{
    (void)state;
    buf_t b = {0};
    proto_msg_t msg = {0};
    char err[PROTO_ERR_LEN];
    b_telemetry_tick(&b, 2, 2, 2);
    assert_int_equal(proto_decode(b.data, b.size, NULL, &msg, err, sizeof err), 0);
    assert_int_equal(msg.telemetry_tick.n_agents, 2);
    assert_true(msg.telemetry_tick.agent_reward[1] == 0.25);
    proto_msg_fini(&msg);
    free(b.data);
    b = (buf_t){0};

    /* every per-agent array and the names have the same length, 1..64 */
    b_telemetry_tick(&b, 2, 3, 2);
    frame_expect(&b, NULL, PROTO_EFIELD,
                 "TELEMETRY_TICK.agent_clicks: expected typed array int32 (2), got int32 (3)",
                 NULL);
    b_telemetry_tick(&b, 2, 2, 3);
    frame_expect(&b, NULL, PROTO_EFIELD,
                 "TELEMETRY_TICK.agents: 3 names, the per-agent arrays have 2 entries", NULL);
    b_telemetry_tick(&b, 0, 0, 0);
    frame_expect(&b, NULL, PROTO_EFIELD, "TELEMETRY_TICK.agents: 0 agents, expected 1..64", NULL);

    /* exposure counts are int64 and never negative */
    const int64_t counts[3] = {4, -3, 0};
    b_envelope(&b, 1, PROTO_MSG_TELEMETRY_EXPOSURE, 0, 4);
    b_str(&b, "episode");
    b_uint(&b, 0);
    b_str(&b, "tick");
    b_uint(&b, 9);
    b_str(&b, "items");
    b_typed(&b, "int64", 3, -1, counts, sizeof counts);
    b_str(&b, "topics");
    b_typed(&b, "int64", 1, -1, counts, 8);
    frame_expect(&b, NULL, PROTO_EFIELD,
                 "TELEMETRY_EXPOSURE.items: element 1 is -3, counts are >= 0", NULL);
    const int32_t narrow[3] = {4, 3, 0};
    b_envelope(&b, 1, PROTO_MSG_TELEMETRY_EXPOSURE, 0, 4);
    b_str(&b, "episode");
    b_uint(&b, 0);
    b_str(&b, "tick");
    b_uint(&b, 9);
    b_str(&b, "items");
    b_typed(&b, "int32", 3, -1, narrow, sizeof narrow);
    b_str(&b, "topics");
    b_typed(&b, "int64", 1, -1, counts, 8);
    frame_expect(&b, NULL, PROTO_EFIELD,
                 "TELEMETRY_EXPOSURE.items: expected typed array int64 (n), got int32 (3)", NULL);

    /* the encoder refuses what the decoder would */
    proto_buffer_t enc;
    proto_buffer_init(&enc);
    const char *const names[2] = {"a", "b"};
    const int32_t ints[2] = {1, 2};
    const double reward[2] = {1.0, NAN};
    proto_msg_t tick = {.type = PROTO_MSG_TELEMETRY_TICK,
                        .telemetry_tick = {.n_agents = 2,
                                           .agents = names,
                                           .agent_requests = ints,
                                           .agent_clicks = ints,
                                           .agent_reward = reward,
                                           .agent_regret = reward}};
    assert_int_equal(proto_encode(&tick, &enc, err, sizeof err), PROTO_ENONFINITE);
    assert_string_equal(err, "TELEMETRY_TICK.agent_reward: element 1 is NaN");
    proto_msg_t episode = {.type = PROTO_MSG_TELEMETRY_EPISODE,
                           .telemetry_episode = {.n_agents = 2, .agents = names}};
    assert_int_equal(proto_encode(&episode, &enc, err, sizeof err), PROTO_EINVAL);
    assert_string_equal(err, "TELEMETRY_EPISODE.agent_requests: NULL with 2 elements");
    const char *const bad_names[2] = {"a", "b c"};
    const double zeros[2] = {0.0, 0.0};
    tick.telemetry_tick.agents = bad_names;
    tick.telemetry_tick.agent_reward = tick.telemetry_tick.agent_regret = zeros;
    assert_int_equal(proto_encode(&tick, &enc, err, sizeof err), PROTO_EINVAL);
    assert_string_equal(err,
                        "TELEMETRY_TICK.agents: \"b c\" is not 1..63 characters of [A-Za-z0-9_-]");
    proto_buffer_fini(&enc);
}

static void test_buffer_is_reused(void **state)
{
    (void)state;
    proto_buffer_t buf;
    proto_buffer_init(&buf);
    proto_msg_t ping = {.type = PROTO_MSG_PING, .ping = {.nonce = 1}};
    assert_int_equal(proto_encode(&ping, &buf, NULL, 0), 0);
    uint8_t *data = buf.data;
    size_t size = buf.size;
    for (int i = 0; i < 100; i++)
        assert_int_equal(proto_encode(&ping, &buf, NULL, 0), 0);
    assert_ptr_equal(buf.data, data);
    assert_int_equal(buf.size, size);
    proto_buffer_fini(&buf);
    assert_null(buf.data);
}

static void test_decode_reuses_storage(void **state)
{
    (void)state;
    static int32_t users[512];
    static float features[512 * 8]; /* 16 KiB: more than a small STEP's first chunk */
    for (int i = 0; i < 512; i++)
        users[i] = i;
    for (int i = 0; i < 512 * 8; i++)
        features[i] = (float)i;
    proto_msg_t step = {.type = PROTO_MSG_STEP,
                        .step = {.requests = {.n = 512,
                                              .dim = 8,
                                              .history_len = 0,
                                              .user_ids = users,
                                              .features = features},
                                 .born = {.dim = 8}}};
    proto_buffer_t big, small;
    proto_buffer_init(&big);
    proto_buffer_init(&small);
    assert_int_equal(proto_encode(&step, &big, NULL, 0), 0);
    step.step.requests.n = 2;
    assert_int_equal(proto_encode(&step, &small, NULL, 0), 0);

    /* one message decoded into again and again keeps its storage */
    proto_msg_t msg;
    proto_msg_init(&msg);
    assert_int_equal(proto_decode(big.data, big.size, NULL, &msg, NULL, 0), 0);
    const proto_storage_t *storage = msg.storage;
    assert_non_null(storage);
    for (int i = 0; i < 10; i++) {
        const proto_buffer_t *b = i % 2 ? &big : &small;
        assert_int_equal(proto_decode(b->data, b->size, NULL, &msg, NULL, 0), 0);
        assert_ptr_equal(msg.storage, storage);
        assert_int_equal(msg.step.requests.n, i % 2 ? 512 : 2);
        assert_true(msg.step.requests.features[2 * 8 - 1] == 15.0f);
    }
    /* an error in between keeps the storage, and decoding goes on */
    uint8_t junk = 0xc1;
    assert_int_equal(proto_decode(&junk, 1, NULL, &msg, NULL, 0), PROTO_EMALFORMED);
    assert_ptr_equal(msg.storage, storage);
    assert_int_equal(msg.step.requests.n, 0);
    assert_int_equal(proto_decode(big.data, big.size, NULL, &msg, NULL, 0), 0);
    assert_int_equal(msg.step.requests.user_ids[511], 511);

    /* a small first decode grows into several chunks, then becomes one */
    proto_msg_t grown;
    proto_msg_init(&grown);
    assert_int_equal(proto_decode(small.data, small.size, NULL, &grown, NULL, 0), 0);
    storage = grown.storage;
    assert_int_equal(proto_decode(big.data, big.size, NULL, &grown, NULL, 0), 0);
    assert_ptr_not_equal(grown.storage, storage); /* a second chunk */
    assert_int_equal(proto_decode(big.data, big.size, NULL, &grown, NULL, 0), 0);
    storage = grown.storage; /* one chunk for all */
    assert_int_equal(proto_decode(big.data, big.size, NULL, &grown, NULL, 0), 0);
    assert_ptr_equal(grown.storage, storage);
    assert_memory_equal(grown.step.requests.features, features, sizeof features);

    proto_msg_fini(&grown);
    proto_msg_fini(&msg);
    assert_null(msg.storage);
    proto_buffer_fini(&big);
    proto_buffer_fini(&small);
}

static void test_encode_errors(void **state)
{
    (void)state;
    proto_buffer_t enc;
    char err[PROTO_ERR_LEN];
    proto_buffer_init(&enc);
    proto_msg_t msg = {.type = 42};
    assert_int_equal(proto_encode(&msg, &enc, err, sizeof err), PROTO_ETYPE);
    assert_string_equal(err, "envelope: unknown message type 42");
    msg = (proto_msg_t){.type = PROTO_MSG_ACT, .act = {.n = 2, .slate_size = 3}};
    assert_int_equal(proto_encode(&msg, &enc, err, sizeof err), PROTO_EINVAL);
    assert_string_equal(err, "ACT.user_ids: NULL with 2 elements");
    msg = (proto_msg_t){.type = PROTO_MSG_HELLO, .hello = {.name = "x y", .role = "agent"}};
    assert_int_equal(proto_encode(&msg, &enc, err, sizeof err), PROTO_EINVAL);
    assert_string_equal(err, "HELLO.name: \"x y\" is not 1..63 characters of [A-Za-z0-9_-]");
    msg = (proto_msg_t){.type = PROTO_MSG_BYE};
    assert_int_equal(proto_encode(&msg, &enc, NULL, 0), PROTO_EINVAL);
    /* a short err buffer is truncated, never overrun */
    char tiny[8];
    assert_int_equal(proto_encode(&msg, &enc, tiny, sizeof tiny), PROTO_EINVAL);
    assert_string_equal(tiny, "BYE.rea");
    proto_buffer_fini(&enc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hello_bytes),
        cmocka_unit_test(test_act_bytes),
        cmocka_unit_test(test_roundtrip_hello),
        cmocka_unit_test(test_roundtrip_welcome),
        cmocka_unit_test(test_roundtrip_catalog),
        cmocka_unit_test(test_roundtrip_step),
        cmocka_unit_test(test_roundtrip_act_and_joint),
        cmocka_unit_test(test_roundtrip_small_messages),
        cmocka_unit_test(test_roundtrip_telemetry),
        cmocka_unit_test(test_telemetry_checks),
        cmocka_unit_test(test_buffer_is_reused),
        cmocka_unit_test(test_decode_reuses_storage),
        cmocka_unit_test(test_encode_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
