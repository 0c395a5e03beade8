/* The codec (proto/codec.h) against the protocol contract (docs/
 * protocol.md): byte-exact frames for the spec's examples, round trips of
 * every message type, and hand-built malformed frames (written here with a
 * small msgpack writer independent of msgpack-c) rejected with the right
 * code and a message naming the field. */
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

/* ---- a minimal msgpack writer for hand-built frames ---------------- */

typedef struct buf {
    uint8_t *data;
    size_t size, capacity;
} buf_t;

static void b_put(buf_t *b, const void *p, size_t n)
{
    if (b->size + n > b->capacity) {
        b->capacity = (b->size + n) * 2 + 64;
        b->data = realloc(b->data, b->capacity);
        assert_non_null(b->data);
    }
    if (n)
        memcpy(b->data + b->size, p, n);
    b->size += n;
}

static void b_byte(buf_t *b, uint8_t v)
{
    b_put(b, &v, 1);
}

static void b_be(buf_t *b, uint8_t tag, uint64_t v, int n)
{
    b_byte(b, tag);
    for (int i = n - 1; i >= 0; i--)
        b_byte(b, (uint8_t)(v >> (8 * i)));
}

static void b_uint(buf_t *b, uint64_t v)
{
    if (v < 128)
        b_byte(b, (uint8_t)v);
    else if (v <= 0xff)
        b_be(b, 0xcc, v, 1);
    else if (v <= 0xffff)
        b_be(b, 0xcd, v, 2);
    else if (v <= 0xffffffff)
        b_be(b, 0xce, v, 4);
    else
        b_be(b, 0xcf, v, 8);
}

static void b_strn(buf_t *b, const char *s, size_t n)
{
    if (n < 32)
        b_byte(b, (uint8_t)(0xa0 | n));
    else if (n <= 0xff)
        b_be(b, 0xd9, n, 1);
    else
        b_be(b, 0xda, n, 2);
    b_put(b, s, n);
}

static void b_str(buf_t *b, const char *s)
{
    b_strn(b, s, strlen(s));
}

static void b_bin(buf_t *b, const void *p, size_t n)
{
    b_be(b, n <= 0xff ? 0xc4 : 0xc5, n, n <= 0xff ? 1 : 2);
    b_put(b, p, n);
}

static void b_array(buf_t *b, uint32_t n)
{
    if (n < 16)
        b_byte(b, (uint8_t)(0x90 | n));
    else if (n <= 0xffff)
        b_be(b, 0xdc, n, 2);
    else
        b_be(b, 0xdd, n, 4);
}

static void b_map(buf_t *b, uint32_t n)
{
    if (n < 16)
        b_byte(b, (uint8_t)(0x80 | n));
    else
        b_be(b, 0xde, n, 2);
}

static void b_f64(buf_t *b, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, 8);
    b_be(b, 0xcb, bits, 8);
}

/* {"dtype": dtype, "shape": [rows(, cols)], "data": bin} */
static void b_typed(buf_t *b, const char *dtype, uint32_t rows, int cols, const void *data,
                    size_t bytes)
{
    b_map(b, 3);
    b_str(b, "dtype");
    b_str(b, dtype);
    b_str(b, "shape");
    b_array(b, cols < 0 ? 1 : 2);
    b_uint(b, rows);
    if (cols >= 0)
        b_uint(b, (uint64_t)cols);
    b_str(b, "data");
    b_bin(b, data, bytes);
}

/* [major, type, seq, {... n_keys pairs follow ...}] */
static void b_envelope(buf_t *b, uint64_t major, uint64_t type, uint64_t seq, uint32_t n_keys)
{
    b_array(b, 4);
    b_uint(b, major);
    b_uint(b, type);
    b_uint(b, seq);
    b_map(b, n_keys);
}

/* The first occurrence of needle in hay (memmem is not standard C). */
static uint8_t *s_find_bytes(uint8_t *hay, size_t size, const void *needle, size_t n)
{
    for (size_t i = 0; i + n <= size; i++)
        if (memcmp(hay + i, needle, n) == 0)
            return hay + i;
    return NULL;
}

/* Decoding b must fail with code; err must equal message when given, or
 * contain fragment. msg owns nothing afterwards. Frees b. */
static void s_expect(buf_t *b, const proto_dims_t *dims, int code, const char *message,
                     const char *fragment)
{
    proto_msg_t msg = {0};
    char err[PROTO_ERR_LEN];
    int rc = proto_decode(b->data, b->size, dims, &msg, err, sizeof err);
    if (rc != code || (message && strcmp(err, message) != 0) ||
        (fragment && !strstr(err, fragment)))
        print_error("got %d (%s) \"%s\", expected %d\n", rc, proto_strerror(rc), err, code);
    assert_int_equal(rc, code);
    if (message)
        assert_string_equal(err, message);
    if (fragment)
        assert_non_null(strstr(err, fragment));
    /* the body is zeroed; storage may stay for reuse */
    proto_msg_t empty;
    proto_msg_init(&empty);
    empty.major = msg.major;
    empty.type = msg.type;
    empty.seq = msg.seq;
    empty.storage = msg.storage;
    assert_memory_equal(&msg, &empty, sizeof msg);
    proto_msg_fini(&msg);
    free(b->data);
    *b = (buf_t){0};
}

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
    0xa5, 'm',  'i', 'n', 'o', 'r', 0x00, /* "minor": 0 */
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
        .hello = {.minor = 0, .name = "ucb", .role = "agent", .n_caps = 1, .caps = caps}};
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

/* The observation space a server describes, plus one of each other kind. */
static const uint64_t s_nvec[] = {3, 4};
static const proto_space_t s_obs_children[] = {
    {.kind = PROTO_SPACE_BOX,
     .dtype = PROTO_DTYPE_INT32,
     .low = 0,
     .high = 999,
     .ndim = 1,
     .shape = {-1}},
    {.kind = PROTO_SPACE_BOX,
     .dtype = PROTO_DTYPE_FLOAT32,
     .low = -INFINITY,
     .high = INFINITY,
     .ndim = 2,
     .shape = {-1, 8}},
    {.kind = PROTO_SPACE_BOX,
     .dtype = PROTO_DTYPE_INT32,
     .low = -1,
     .high = 1e6,
     .ndim = 2,
     .shape = {-1, 5}},
    {.kind = PROTO_SPACE_DISCRETE, .n = 4},
    {.kind = PROTO_SPACE_MULTI_DISCRETE, .n_nvec = 2, .nvec = s_nvec},
};
static const char *const s_obs_names[] = {"user_ids", "features", "history", "segment", "topics"};
static const proto_space_t s_obs = {
    .kind = PROTO_SPACE_DICT, .n_spaces = 5, .names = s_obs_names, .spaces = s_obs_children};
static const proto_space_t s_act_space = {.kind = PROTO_SPACE_SLATE, .n = 1000, .k = 5};

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
            .observation_space = &s_obs,
            .action_space = &s_act_space,
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
    s_assert_space_equal(w->observation_space, &s_obs);
    s_assert_space_equal(w->action_space, &s_act_space);
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
    proto_msg_fini(&got);
    assert_null(got.storage);
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
    proto_msg_fini(&got);

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
    proto_msg_fini(&got);

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
    s_expect(&b, NULL, PROTO_EFIELD,
             "TELEMETRY_TICK.agent_clicks: expected typed array int32 (2), got int32 (3)", NULL);
    b_telemetry_tick(&b, 2, 2, 3);
    s_expect(&b, NULL, PROTO_EFIELD,
             "TELEMETRY_TICK.agents: 3 names, the per-agent arrays have 2 entries", NULL);
    b_telemetry_tick(&b, 0, 0, 0);
    s_expect(&b, NULL, PROTO_EFIELD, "TELEMETRY_TICK.agents: 0 agents, expected 1..64", NULL);

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
    s_expect(&b, NULL, PROTO_EFIELD, "TELEMETRY_EXPOSURE.items: element 1 is -3, counts are >= 0",
             NULL);
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
    s_expect(&b, NULL, PROTO_EFIELD,
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

/* ---- malformed frames ----------------------------------------------- */

static void test_truncated_and_trailing(void **state)
{
    (void)state;
    /* every proper prefix of a STEP is refused, none read past its end */
    const int32_t users[] = {1, 2};
    const float features[2 * 3] = {1, 2, 3, 4, 5, 6};
    const int32_t history[2] = {-1, 7};
    proto_msg_t step = {.type = PROTO_MSG_STEP,
                        .step = {.requests = {.n = 2,
                                              .dim = 3,
                                              .history_len = 1,
                                              .user_ids = users,
                                              .features = features,
                                              .history = history},
                                 .born = {.dim = 3}}};
    proto_buffer_t enc;
    proto_buffer_init(&enc);
    assert_int_equal(proto_encode(&step, &enc, NULL, 0), 0);
    for (size_t len = 0; len < enc.size; len++) {
        buf_t b = {0};
        b_put(&b, enc.data, len);
        s_expect(&b, NULL, PROTO_EMALFORMED, NULL, NULL);
    }
    buf_t b = {0};
    b_put(&b, enc.data, enc.size);
    b_byte(&b, 0xc0);
    s_expect(&b, NULL, PROTO_EMALFORMED, "envelope: 1 trailing bytes after the message", NULL);
    b_put(&b, enc.data, enc.size);
    b_put(&b, enc.data, enc.size); /* two messages in one frame */
    s_expect(&b, NULL, PROTO_EMALFORMED, NULL, "trailing");
    proto_buffer_fini(&enc);

    b_byte(&b, 0xc1); /* never used in msgpack */
    s_expect(&b, NULL, PROTO_EMALFORMED, "envelope: reserved byte 0xc1 at byte 0", NULL);
}

static void test_huge_declared_lengths(void **state)
{
    (void)state;
    /* each header alone declares far more than the frame holds: refused
     * before msgpack-c could preallocate */
    static const uint8_t headers[][5] = {
        {0xdd, 0xff, 0xff, 0xff, 0xff}, /* array32 of 4,294,967,295 */
        {0xdf, 0xff, 0xff, 0xff, 0xff}, /* map32 */
        {0xdb, 0xff, 0xff, 0xff, 0xff}, /* str32 of 4 GB */
        {0xc6, 0xff, 0xff, 0xff, 0xff}, /* bin32 */
    };
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        buf_t b = {0};
        b_put(&b, headers[i], 5);
        s_expect(&b, NULL, PROTO_EMALFORMED, NULL, "only 0 bytes left");
    }
    buf_t b = {0};
    b_put(&b, (const uint8_t[]){0xc9, 0xff, 0xff, 0xff, 0xff, 0x01}, 6); /* ext32 */
    s_expect(&b, NULL, PROTO_EMALFORMED, NULL, "ext at byte 0 declares 4294967295 bytes");
    b_put(&b, headers[0], 5);
    s_expect(&b, NULL, PROTO_EMALFORMED,
             "envelope: array at byte 0 declares 4294967295 elements, only 0 bytes left", NULL);

    /* inside a valid-looking PING: the lie is deep in the body */
    b_envelope(&b, 1, PROTO_MSG_PING, 0, 2);
    b_str(&b, "nonce");
    b_uint(&b, 1);
    b_str(&b, "x");
    b_put(&b, headers[1], 5);
    s_expect(&b, NULL, PROTO_EMALFORMED, NULL, "map at byte 14 declares 4294967295 elements");

    /* a map of n pairs needs 2n bytes, not n */
    b_map(&b, 2);
    b_uint(&b, 1);
    b_uint(&b, 2);
    b_uint(&b, 3);
    s_expect(&b, NULL, PROTO_EMALFORMED, NULL, "map at byte 0 declares 2 elements");

    /* str16 one byte short */
    b_be(&b, 0xda, 4, 2);
    b_put(&b, "abc", 3);
    s_expect(&b, NULL, PROTO_EMALFORMED, NULL, "declares 4 bytes, only 3 bytes left");
}

static void test_nesting_and_size_limits(void **state)
{
    (void)state;
    buf_t b = {0};
    for (int i = 0; i < PROTO_MAX_DEPTH; i++)
        b_array(&b, 1);
    b_uint(&b, 0);
    /* 16 levels pass the byte walk, then fail as an envelope */
    s_expect(&b, NULL, PROTO_EENVELOPE, NULL, "got 1 elements");
    for (int i = 0; i < PROTO_MAX_DEPTH + 1; i++)
        b_array(&b, 1);
    b_uint(&b, 0);
    s_expect(&b, NULL, PROTO_EDEPTH, "envelope: array at byte 16 nested deeper than 16", NULL);

    /* deep nesting hidden in an unknown key of a valid PING */
    b_envelope(&b, 1, PROTO_MSG_PING, 0, 2);
    b_str(&b, "nonce");
    b_uint(&b, 1);
    b_str(&b, "x");
    for (int i = 0; i < 15; i++)
        b_array(&b, 1);
    b_map(&b, 0);
    s_expect(&b, NULL, PROTO_EDEPTH, NULL, "nested deeper than 16");

    /* too many values, each one byte: small frame, large zone */
    b_envelope(&b, 1, PROTO_MSG_PING, 0, 2);
    b_str(&b, "nonce");
    b_uint(&b, 1);
    b_str(&b, "x");
    b_array(&b, PROTO_MAX_OBJECTS);
    for (int i = 0; i < PROTO_MAX_OBJECTS; i++)
        b_byte(&b, 0xc0);
    s_expect(&b, NULL, PROTO_ETOOBIG, "envelope: more than 65536 msgpack values", NULL);

    /* over the byte cap: refused before a byte is read */
    uint8_t *big = calloc(PROTO_MAX_MESSAGE_BYTES + 1u, 1);
    assert_non_null(big);
    proto_msg_t msg = {0};
    char err[PROTO_ERR_LEN];
    assert_int_equal(proto_decode(big, PROTO_MAX_MESSAGE_BYTES + 1u, NULL, &msg, err, sizeof err),
                     PROTO_ETOOBIG);
    assert_string_equal(err, "envelope: 67108865 bytes, more than 67108864");

    /* and the encoder will not produce one */
    proto_msg_t act = {.type = PROTO_MSG_ACT,
                       .act = {.n = PROTO_MAX_MESSAGE_BYTES / 8,
                               .slate_size = 1,
                               .user_ids = (const int32_t *)big,
                               .slates = (const int32_t *)big}};
    proto_buffer_t enc;
    proto_buffer_init(&enc);
    assert_int_equal(proto_encode(&act, &enc, err, sizeof err), PROTO_ETOOBIG);
    assert_string_equal(err, "ACT: message exceeds 67108864 bytes");
    assert_int_equal(enc.size, 0);
    assert_true(enc.capacity <= PROTO_MAX_MESSAGE_BYTES);
    proto_buffer_fini(&enc);
    free(big);
}

static void test_envelope(void **state)
{
    (void)state;
    buf_t b = {0};
    b_map(&b, 0);
    s_expect(&b, NULL, PROTO_EENVELOPE,
             "envelope: expected array [major, type, seq, body], got map", NULL);
    b_array(&b, 3);
    b_uint(&b, 1);
    b_uint(&b, 9);
    b_uint(&b, 0);
    s_expect(&b, NULL, PROTO_EENVELOPE,
             "envelope: expected array of 4 [major, type, seq, body], got 3 elements", NULL);
    b_array(&b, 4);
    b_str(&b, "1");
    b_uint(&b, 9);
    b_uint(&b, 0);
    b_map(&b, 0);
    s_expect(&b, NULL, PROTO_EENVELOPE, "envelope.major: expected uint, got str", NULL);
    b_array(&b, 4);
    b_uint(&b, 1);
    b_uint(&b, PROTO_MSG_PING);
    b_uint(&b, 0);
    b_array(&b, 0);
    s_expect(&b, NULL, PROTO_EENVELOPE, "PING: body: expected map, got array", NULL);
}

static void test_version_and_unknown_type(void **state)
{
    (void)state;
    proto_msg_t msg = {0};
    char err[PROTO_ERR_LEN];
    buf_t b = {0};
    /* a HELLO from a major-2 agent: refused, both versions reported */
    b_envelope(&b, 2, PROTO_MSG_HELLO, 7, 1);
    b_str(&b, "whatever");
    b_uint(&b, 1);
    assert_int_equal(proto_decode(b.data, b.size, NULL, &msg, err, sizeof err), PROTO_EVERSION);
    assert_int_equal(msg.major, 2);
    assert_int_equal(msg.type, PROTO_MSG_HELLO);
    assert_int_equal(msg.seq, 7);
    assert_string_equal(err, "envelope: protocol major version 2 received, this side speaks 1");
    free(b.data);
    b = (buf_t){0};

    /* an ERROR reads the same in every version: a major-2 server's refusal */
    b_envelope(&b, 2, PROTO_MSG_ERROR, 0, 3);
    b_str(&b, "code");
    b_byte(&b, 0xfa); /* -6 */
    b_str(&b, "message");
    b_str(&b, "protocol major version 1 received, this side speaks 2");
    b_str(&b, "fatal");
    b_byte(&b, 0xc3);
    assert_int_equal(proto_decode(b.data, b.size, NULL, &msg, err, sizeof err), 0);
    assert_int_equal(msg.major, 2);
    assert_int_equal(msg.error.code, PROTO_EVERSION);
    assert_true(msg.error.fatal);
    assert_string_equal(msg.error.message, "protocol major version 1 received, this side speaks 2");
    proto_msg_fini(&msg);
    free(b.data);
    b = (buf_t){0};

    /* an unknown type decodes to its own code, with type and seq kept */
    b_envelope(&b, 1, 99, 5, 0);
    assert_int_equal(proto_decode(b.data, b.size, NULL, &msg, err, sizeof err), PROTO_ETYPE);
    assert_int_equal(msg.type, 99);
    assert_int_equal(msg.seq, 5);
    assert_string_equal(err, "envelope: unknown message type 99 (seq 5)");
    free(b.data);
    b = (buf_t){0};
    b_envelope(&b, 1, 0, 0, 0); /* 0 is never a type */
    s_expect(&b, NULL, PROTO_ETYPE, NULL, NULL);
    b_envelope(&b, 1, 1ull << 40, 0, 0);
    assert_int_equal(proto_decode(b.data, b.size, NULL, &msg, NULL, 0), PROTO_ETYPE);
    assert_int_equal(msg.type, UINT32_MAX);
    free(b.data);

    assert_string_equal(proto_strerror(PROTO_EVERSION), "protocol major version mismatch");
    assert_string_equal(proto_strerror(1), "unknown error");
    assert_string_equal(proto_strerror(-99), "unknown error");
    assert_string_equal(proto_strerror(PROTO_EFULL), err_str(ERR_EFULL)); /* one table */
    assert_null(proto_type_name(PROTO_MSG_TYPE_COUNT));
    assert_string_equal(proto_type_name(PROTO_MSG_EPISODE_END), "EPISODE_END");
}

/* An ACT of 3 requests without key skip (NULL: all keys), its slates of
 * width k and dtype. */
static void b_act(buf_t *b, const char *skip, uint32_t k, const char *dtype)
{
    int32_t users[3] = {1, 2, 3}, slates[3 * 6] = {0};
    b_envelope(b, 1, PROTO_MSG_ACT, 0, skip ? 3 : 4);
    if (!skip || strcmp(skip, "episode")) {
        b_str(b, "episode");
        b_uint(b, 0);
    }
    if (!skip || strcmp(skip, "tick")) {
        b_str(b, "tick");
        b_uint(b, 3);
    }
    if (!skip || strcmp(skip, "user_ids")) {
        b_str(b, "user_ids");
        b_typed(b, "int32", 3, -1, users, sizeof users[0] * 3);
    }
    if (!skip || strcmp(skip, "slates")) {
        b_str(b, "slates");
        b_typed(b, dtype, 3, (int)k, slates, 4 * 3 * k);
    }
}

static void test_fields(void **state)
{
    (void)state;
    const proto_dims_t dims = {.dim = 8, .slate_size = 5, .history_len = 5};
    buf_t b = {0};
    b_act(&b, NULL, 5, "int32");
    proto_msg_t msg = {0};
    assert_int_equal(proto_decode(b.data, b.size, &dims, &msg, NULL, 0), 0);
    proto_msg_fini(&msg);
    free(b.data);
    b = (buf_t){0};

    /* wrong shape for this run's slate size, wrong dtype */
    b_act(&b, NULL, 4, "int32");
    s_expect(&b, &dims, PROTO_EFIELD,
             "ACT.slates: expected typed array int32 (3, 5), got int32 (3, 4)", NULL);
    b_act(&b, NULL, 5, "float32");
    s_expect(&b, &dims, PROTO_EFIELD,
             "ACT.slates: expected typed array int32 (3, 5), got float32 (3, 5)", NULL);
    b_act(&b, NULL, 5, "float16");
    s_expect(&b, &dims, PROTO_EFIELD, "ACT.slates.dtype: unknown value \"float16\"", NULL);
    /* without dims the width is free, named in the message */
    b_act(&b, NULL, 5, "int64");
    s_expect(&b, NULL, PROTO_EFIELD,
             "ACT.slates: expected typed array int32 (3, k), got int64 (3, 5)", NULL);

    /* missing keys */
    b_act(&b, "tick", 5, "int32");
    s_expect(&b, &dims, PROTO_EFIELD, "ACT.tick: missing", NULL);
    b_act(&b, "slates", 5, "int32");
    s_expect(&b, &dims, PROTO_EFIELD, "ACT.slates: missing", NULL);

    /* wrong types */
    int32_t users[2] = {1, 2}, users3[3] = {1, 2, 3};
    b_envelope(&b, 1, PROTO_MSG_ACT, 0, 2);
    b_str(&b, "episode");
    b_uint(&b, 0);
    b_str(&b, "tick");
    b_str(&b, "3");
    s_expect(&b, &dims, PROTO_EFIELD, "ACT.tick: expected uint, got str", NULL);
    b_envelope(&b, 1, PROTO_MSG_ACT, 0, 1);
    b_str(&b, "episode");
    b_f64(&b, 1.0);
    s_expect(&b, &dims, PROTO_EFIELD, "ACT.episode: expected uint, got float64", NULL);
    b_envelope(&b, 1, PROTO_MSG_ACT, 0, 2);
    b_str(&b, "episode");
    b_uint(&b, 0);
    b_str(&b, "tick");
    b_uint(&b, 1ull << 32);
    s_expect(&b, &dims, PROTO_EFIELD, "ACT.tick: 4294967296 is out of range (max 4294967295)",
             NULL);
    b_envelope(&b, 1, PROTO_MSG_ACT, 0, 3);
    b_str(&b, "episode");
    b_uint(&b, 0);
    b_str(&b, "tick");
    b_uint(&b, 0);
    b_str(&b, "user_ids");
    b_array(&b, 2);
    b_uint(&b, 1);
    b_uint(&b, 2);
    s_expect(&b, &dims, PROTO_EFIELD, "ACT.user_ids: expected typed array int32 (n), got array",
             NULL);

    /* typed array internals: data length, shape entries, data type */
    b_envelope(&b, 1, PROTO_MSG_ACT, 0, 3);
    b_str(&b, "episode");
    b_uint(&b, 0);
    b_str(&b, "tick");
    b_uint(&b, 0);
    b_str(&b, "user_ids");
    b_typed(&b, "int32", 3, -1, users, 8);
    s_expect(&b, &dims, PROTO_EFIELD, "ACT.user_ids: data holds 8 bytes, int32 (3) needs 12", NULL);
    b_envelope(&b, 1, PROTO_MSG_ACT, 0, 3);
    b_str(&b, "episode");
    b_uint(&b, 0);
    b_str(&b, "tick");
    b_uint(&b, 0);
    b_str(&b, "user_ids");
    b_map(&b, 3);
    b_str(&b, "dtype");
    b_str(&b, "int32");
    b_str(&b, "shape");
    b_array(&b, 1);
    b_f64(&b, 2.0);
    b_str(&b, "data");
    b_bin(&b, users, 8);
    s_expect(&b, &dims, PROTO_EFIELD, "ACT.user_ids.shape: entry 0 is not a uint32 size", NULL);
    b_envelope(&b, 1, PROTO_MSG_ACT, 0, 3);
    b_str(&b, "episode");
    b_uint(&b, 0);
    b_str(&b, "tick");
    b_uint(&b, 0);
    b_str(&b, "user_ids");
    b_map(&b, 3);
    b_str(&b, "dtype");
    b_str(&b, "int32");
    b_str(&b, "shape");
    b_array(&b, 1);
    b_uint(&b, 2);
    b_str(&b, "data");
    b_strn(&b, (const char *)users, 8);
    s_expect(&b, &dims, PROTO_EFIELD,
             "ACT.user_ids.data: expected bin (little-endian elements), got str", NULL);
    b_envelope(&b, 1, PROTO_MSG_ACT, 0, 3);
    b_str(&b, "episode");
    b_uint(&b, 0);
    b_str(&b, "tick");
    b_uint(&b, 0);
    b_str(&b, "user_ids");
    b_map(&b, 2);
    b_str(&b, "dtype");
    b_str(&b, "int32");
    b_str(&b, "shape");
    b_array(&b, 5);
    for (int i = 0; i < 5; i++)
        b_uint(&b, 1);
    s_expect(&b, &dims, PROTO_EFIELD, "ACT.user_ids.shape: 5 entries, more than 4", NULL);
    /* huge shape sizes are a length mismatch, nothing more */
    b_envelope(&b, 1, PROTO_MSG_ACT, 0, 4);
    b_str(&b, "episode");
    b_uint(&b, 0);
    b_str(&b, "tick");
    b_uint(&b, 0);
    b_str(&b, "user_ids");
    b_typed(&b, "int32", 3, -1, users3, 12);
    b_str(&b, "slates");
    b_map(&b, 3);
    b_str(&b, "dtype");
    b_str(&b, "int32");
    b_str(&b, "shape");
    b_array(&b, 2);
    b_uint(&b, 3);
    b_uint(&b, 0xfffffffe);
    b_str(&b, "data");
    b_bin(&b, users, 8);
    s_expect(&b, NULL, PROTO_EFIELD,
             "ACT.slates: data holds 8 bytes, int32 (3, 4294967294) needs 51539607528", NULL);
}

static void test_strings_names_and_keys(void **state)
{
    (void)state;
    buf_t b = {0};
    /* unknown keys are ignored, whatever they hold */
    b_envelope(&b, 1, PROTO_MSG_PING, 3, 3);
    b_str(&b, "later_minor_key");
    b_array(&b, 2);
    b_map(&b, 1);
    b_str(&b, "x");
    b_f64(&b, NAN);
    b_byte(&b, 0xd4); /* fixext 1 */
    b_byte(&b, 1);
    b_byte(&b, 2);
    b_str(&b, "nonce");
    b_uint(&b, 42);
    b_uint(&b, 5); /* a non-str key: ignored too */
    b_uint(&b, 6);
    proto_msg_t msg = {0};
    assert_int_equal(proto_decode(b.data, b.size, NULL, &msg, NULL, 0), 0);
    assert_int_equal(msg.ping.nonce, 42);
    proto_msg_fini(&msg);
    free(b.data);
    b = (buf_t){0};

    /* a known key twice */
    b_envelope(&b, 1, PROTO_MSG_PING, 0, 2);
    b_str(&b, "nonce");
    b_uint(&b, 1);
    b_str(&b, "nonce");
    b_uint(&b, 2);
    s_expect(&b, NULL, PROTO_EFIELD, "PING.nonce: key given twice", NULL);

    /* names: charset, length, NUL */
    char long_name[PROTO_MAX_NAME + 2];
    memset(long_name, 'x', PROTO_MAX_NAME + 1);
    long_name[PROTO_MAX_NAME + 1] = '\0';
    const char *const bad_names[] = {"", "bad name", "caf\xc3\xa9", "tab\t", long_name};
    for (size_t i = 0; i < 5; i++) {
        b_envelope(&b, 1, PROTO_MSG_HELLO, 0, 4);
        b_str(&b, "minor");
        b_uint(&b, 0);
        b_str(&b, "name");
        b_str(&b, bad_names[i]);
        b_str(&b, "role");
        b_str(&b, "agent");
        b_str(&b, "caps");
        b_array(&b, 0);
        s_expect(&b, NULL, PROTO_EFIELD, NULL, "HELLO.name: \"");
    }
    b_envelope(&b, 1, PROTO_MSG_HELLO, 0, 2);
    b_str(&b, "minor");
    b_uint(&b, 0);
    b_str(&b, "name");
    b_strn(&b, "ab\0cd", 5);
    s_expect(&b, NULL, PROTO_EFIELD, "HELLO.name: str holds a NUL byte", NULL);
    b_envelope(&b, 1, PROTO_MSG_HELLO, 0, 4);
    b_str(&b, "minor");
    b_uint(&b, 0);
    b_str(&b, "name");
    b_str(&b, "ok");
    b_str(&b, "role");
    b_str(&b, "agent");
    b_str(&b, "caps");
    b_array(&b, 2);
    b_str(&b, "joint");
    b_uint(&b, 3);
    s_expect(&b, NULL, PROTO_EFIELD, "HELLO.caps[1]: expected str, got uint", NULL);

    /* a 63-character name is the longest */
    char name[PROTO_MAX_NAME + 2];
    memset(name, 'x', sizeof name);
    name[PROTO_MAX_NAME] = '\0';
    assert_true(proto_name_valid(name));
    name[PROTO_MAX_NAME] = 'x';
    name[PROTO_MAX_NAME + 1] = '\0';
    assert_false(proto_name_valid(name));

    /* text over PROTO_MAX_TEXT */
    char reason[PROTO_MAX_TEXT + 2];
    memset(reason, 'r', sizeof reason);
    reason[PROTO_MAX_TEXT + 1] = '\0';
    b_envelope(&b, 1, PROTO_MSG_BYE, 0, 1);
    b_str(&b, "reason");
    b_str(&b, reason);
    s_expect(&b, NULL, PROTO_EFIELD, "BYE.reason: 1024 bytes, more than 1023", NULL);

    /* ERROR: optional ref_seq of the wrong type, bool as int */
    b_envelope(&b, 1, PROTO_MSG_ERROR, 0, 3);
    b_str(&b, "code");
    b_byte(&b, 0xf4); /* -12 */
    b_str(&b, "message");
    b_str(&b, "late");
    b_str(&b, "fatal");
    b_uint(&b, 0);
    s_expect(&b, NULL, PROTO_EFIELD, "ERROR.fatal: expected bool, got uint", NULL);
    b_envelope(&b, 1, PROTO_MSG_ERROR, 0, 4);
    b_str(&b, "code");
    b_byte(&b, 0xf4);
    b_str(&b, "message");
    b_str(&b, "late");
    b_str(&b, "fatal");
    b_byte(&b, 0xc2);
    b_str(&b, "ref_seq");
    b_byte(&b, 0xff); /* -1 */
    s_expect(&b, NULL, PROTO_EFIELD, "ERROR.ref_seq: expected uint, got negative int", NULL);
}

static void test_welcome_checks(void **state)
{
    (void)state;
    proto_buffer_t enc;
    char err[PROTO_ERR_LEN];
    proto_buffer_init(&enc);
    const char *agents[] = {"a", "b"};
    proto_welcome_t good = {.agent_index = 1,
                            .n_agents = 2,
                            .agents = agents,
                            .mode = PROTO_MODE_MARKET,
                            .slate_size = 1,
                            .dim = 1,
                            .n_topics = 1,
                            .observation_space = &s_obs,
                            .action_space = &s_act_space};
    proto_msg_t msg = {.type = PROTO_MSG_WELCOME, .welcome = good};
    assert_int_equal(proto_encode(&msg, &enc, err, sizeof err), 0);

    msg.welcome.agent_index = 2;
    assert_int_equal(proto_encode(&msg, &enc, err, sizeof err), PROTO_EINVAL);
    assert_string_equal(err, "WELCOME.agent_index: 2, not below n_agents = 2");

    /* spaces: a Box with inverted bounds, a Slate picking more than n,
     * Dicts nested five deep */
    proto_space_t box = {.kind = PROTO_SPACE_BOX,
                         .dtype = PROTO_DTYPE_FLOAT32,
                         .low = 1,
                         .high = 0,
                         .ndim = 1,
                         .shape = {3}};
    const char *names[] = {"inner"};
    proto_space_t dict = {.kind = PROTO_SPACE_DICT, .n_spaces = 1, .names = names, .spaces = &box};
    msg.welcome = good;
    msg.welcome.observation_space = &dict;
    assert_int_equal(proto_encode(&msg, &enc, err, sizeof err), PROTO_EINVAL);
    assert_string_equal(
        err, "WELCOME.observation_space.spaces.inner: bounds [1, 0] are not an interval");
    proto_space_t slate = {.kind = PROTO_SPACE_SLATE, .n = 3, .k = 4};
    msg.welcome = good;
    msg.welcome.action_space = &slate;
    assert_int_equal(proto_encode(&msg, &enc, err, sizeof err), PROTO_EINVAL);
    assert_string_equal(err, "WELCOME.action_space.k: 4 picks out of n = 3");
    proto_space_t nest[5];
    for (int i = 0; i < 5; i++)
        nest[i] = (proto_space_t){.kind = PROTO_SPACE_DICT,
                                  .n_spaces = i < 4,
                                  .names = names,
                                  .spaces = &nest[i + 1 < 5 ? i + 1 : i]};
    msg.welcome = good;
    msg.welcome.observation_space = &nest[0];
    assert_int_equal(proto_encode(&msg, &enc, err, sizeof err), PROTO_EINVAL);
    assert_non_null(strstr(err, "spaces nested deeper than 4"));
    msg.welcome.observation_space = &nest[1]; /* four deep is fine */
    assert_int_equal(proto_encode(&msg, &enc, err, sizeof err), 0);

    /* decoder side: a names list that disagrees with n_agents */
    msg.welcome = good;
    assert_int_equal(proto_encode(&msg, &enc, err, sizeof err), 0);
    buf_t b = {0};
    b_put(&b, enc.data, enc.size);
    /* "n_agents" (fixstr of 8) is followed by its value, fixint 2 */
    uint8_t *key = s_find_bytes(b.data, b.size, "\xa8n_agents", 9);
    assert_non_null(key);
    assert_int_equal(key[9], 2);
    key[9] = 3;
    s_expect(&b, NULL, PROTO_EFIELD, "WELCOME.agents: 2 names for n_agents = 3", NULL);

    /* and an unknown space type */
    b_put(&b, enc.data, enc.size);
    uint8_t *kind = s_find_bytes(b.data, b.size, "\xa5Slate", 6);
    assert_non_null(kind);
    memcpy(kind + 1, "Slath", 5);
    s_expect(&b, NULL, PROTO_EFIELD, "WELCOME.action_space.type: unknown value \"Slath\"", NULL);
    proto_buffer_fini(&enc);
}

/* Adds one to the uint after key (a msgpack str) in b: the value's last
 * byte, which none of the limits below ends in 0xff. */
static void s_bump_uint_after(buf_t *b, const char *key)
{
    uint8_t needle[32];
    size_t len = strlen(key);
    needle[0] = (uint8_t)(0xa0 | len);
    memcpy(needle + 1, key, len);
    uint8_t *at = s_find_bytes(b->data, b->size, needle, len + 1);
    assert_non_null(at);
    uint8_t *v = at + len + 1;
    size_t width = *v == 0xcc ? 2 : *v == 0xcd ? 3 : *v == 0xce ? 5 : 1;
    assert_true(v[width - 1] != 0xff);
    v[width - 1]++;
}

/* protocol.h's world limits: a WELCOME and an ACT at each limit encode
 * and decode; one past it is refused both ways, naming the field. */
static void test_world_limits(void **state)
{
    (void)state;
    proto_buffer_t enc;
    char err[PROTO_ERR_LEN];
    proto_buffer_init(&enc);
    const char *agents[] = {"a"};
    const proto_welcome_t max = {.n_agents = 1,
                                 .agents = agents,
                                 .mode = PROTO_MODE_FEED,
                                 .slate_size = PROTO_MAX_SLATE,
                                 .dim = PROTO_MAX_DIM,
                                 .n_topics = PROTO_MAX_TOPICS,
                                 .history_len = PROTO_MAX_HISTORY,
                                 .observation_space = &s_obs,
                                 .action_space = &s_act_space,
                                 .limits = {.max_batch = PROTO_MAX_BATCH}};
    const char *keys[] = {"slate_size", "dim", "n_topics", "history_len", "max_batch"};
    const char *messages[] = {
        "WELCOME.slate_size: 257 is outside 1..256 (protocol.h)",
        "WELCOME.dim: 1025 is outside 1..1024 (protocol.h)",
        "WELCOME.n_topics: 10001 is outside 1..10000 (protocol.h)",
        "WELCOME.history_len: 1001 is outside 0..1000 (protocol.h)",
        "WELCOME.limits.max_batch: 10000001 is outside 0..10000000 (protocol.h)",
    };
    for (int i = 0; i < 5; i++) {
        proto_msg_t msg = {.type = PROTO_MSG_WELCOME, .welcome = max};
        assert_int_equal(proto_encode(&msg, &enc, err, sizeof err), 0);
        proto_msg_t got = {0};
        assert_int_equal(proto_decode(enc.data, enc.size, NULL, &got, err, sizeof err), 0);
        proto_msg_fini(&got);
        buf_t b = {0};
        b_put(&b, enc.data, enc.size);
        s_bump_uint_after(&b, keys[i]);
        s_expect(&b, NULL, PROTO_EFIELD, messages[i], NULL);

        uint32_t *field[] = {&msg.welcome.slate_size, &msg.welcome.dim, &msg.welcome.n_topics,
                             &msg.welcome.history_len, &msg.welcome.limits.max_batch};
        (*field[i])++;
        assert_int_equal(proto_encode(&msg, &enc, err, sizeof err), PROTO_EINVAL);
        assert_string_equal(err, messages[i]);
    }
    /* a slate size of 0 is no game either */
    proto_msg_t msg = {.type = PROTO_MSG_WELCOME, .welcome = max};
    msg.welcome.slate_size = 0;
    assert_int_equal(proto_encode(&msg, &enc, err, sizeof err), PROTO_EINVAL);
    assert_string_equal(err, "WELCOME.slate_size: 0 is outside 1..256 (protocol.h)");

    /* ACT: one slate of PROTO_MAX_SLATE, then one wider (decoded without dims) */
    static int32_t slates[PROTO_MAX_SLATE + 1];
    const int32_t users[1] = {7};
    msg = (proto_msg_t){
        .type = PROTO_MSG_ACT,
        .act = {.n = 1, .slate_size = PROTO_MAX_SLATE, .user_ids = users, .slates = slates}};
    assert_int_equal(proto_encode(&msg, &enc, err, sizeof err), 0);
    proto_msg_t got = {0};
    assert_int_equal(proto_decode(enc.data, enc.size, NULL, &got, err, sizeof err), 0);
    assert_int_equal(got.act.slate_size, PROTO_MAX_SLATE);
    proto_msg_fini(&got);
    msg.act.slate_size = PROTO_MAX_SLATE + 1;
    assert_int_equal(proto_encode(&msg, &enc, err, sizeof err), PROTO_EINVAL);
    assert_string_equal(err, "ACT.slate_size: 257 is outside 0..256 (protocol.h)");
    proto_buffer_fini(&enc);
}

static void test_nonfinite(void **state)
{
    (void)state;
    proto_buffer_t enc;
    char err[PROTO_ERR_LEN];
    proto_buffer_init(&enc);
    buf_t b = {0};

    /* hand-built STEP with a NaN feature: refused on decode */
    const int32_t users[1] = {3}, history[1] = {-1};
    const float features[2] = {0.5f, NAN};
    b_envelope(&b, 1, PROTO_MSG_STEP, 0, 8);
    b_str(&b, "episode");
    b_uint(&b, 0);
    b_str(&b, "tick");
    b_uint(&b, 0);
    b_str(&b, "deadline_ms");
    b_uint(&b, 50);
    b_str(&b, "feedback");
    b_map(&b, 4);
    b_str(&b, "user_ids");
    b_typed(&b, "int32", 0, -1, NULL, 0);
    b_str(&b, "clicked");
    b_typed(&b, "int32", 0, -1, NULL, 0);
    b_str(&b, "reward");
    b_typed(&b, "float32", 0, -1, NULL, 0);
    b_str(&b, "session_end");
    b_typed(&b, "uint8", 0, -1, NULL, 0);
    b_str(&b, "tick_reward");
    b_f64(&b, 0.0);
    b_str(&b, "requests");
    b_map(&b, 3);
    b_str(&b, "user_ids");
    b_typed(&b, "int32", 1, -1, users, 4);
    b_str(&b, "features");
    b_typed(&b, "float32", 1, 2, features, 8);
    b_str(&b, "history");
    b_typed(&b, "int32", 1, 1, history, 4);
    b_str(&b, "born");
    b_map(&b, 4);
    b_str(&b, "ids");
    b_typed(&b, "int32", 0, -1, NULL, 0);
    b_str(&b, "topics");
    b_typed(&b, "int32", 0, -1, NULL, 0);
    b_str(&b, "providers");
    b_typed(&b, "int32", 0, -1, NULL, 0);
    b_str(&b, "embeddings");
    b_typed(&b, "float32", 0, 2, NULL, 0);
    b_str(&b, "retired");
    b_typed(&b, "int32", 0, -1, NULL, 0);
    /* the same bytes with a finite feature decode */
    buf_t ok = {0};
    b_put(&ok, b.data, b.size);
    float finite = 2.0f;
    uint8_t *nan_at = s_find_bytes(ok.data, ok.size, &features[1], 4);
    assert_non_null(nan_at);
    memcpy(nan_at, &finite, 4);
    proto_msg_t msg = {0};
    assert_int_equal(proto_decode(ok.data, ok.size, NULL, &msg, err, sizeof err), 0);
    assert_true(msg.step.requests.features[1] == 2.0f);
    proto_msg_fini(&msg);
    free(ok.data);
    s_expect(&b, NULL, PROTO_ENONFINITE, "STEP.requests.features: element 1 is NaN", NULL);

    /* infinity in a float64 scalar from the other side: JOINT.agents[0].reward */
    proto_joint_agent_t agent = {.n = 0, .dim = 2, .slate_size = 2, .reward = 1.0};
    proto_msg_t joint = {.type = PROTO_MSG_JOINT, .joint = {.n_agents = 1, .agents = &agent}};
    assert_int_equal(proto_encode(&joint, &enc, err, sizeof err), 0);
    b_put(&b, enc.data, enc.size);
    uint8_t one[9] = {0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0}; /* float64 1.0 */
    uint8_t *at = s_find_bytes(b.data, b.size, one, 9);
    assert_non_null(at);
    at[1] = 0x7f; /* +inf: 0x7ff0000000000000 */
    s_expect(&b, NULL, PROTO_ENONFINITE, "JOINT.agents[0].reward: infinite", NULL);

    /* the encoder refuses them as well */
    agent.reward = -INFINITY;
    assert_int_equal(proto_encode(&joint, &enc, err, sizeof err), PROTO_ENONFINITE);
    assert_string_equal(err, "JOINT.agents[0].reward: infinite");
    assert_int_equal(enc.size, 0);
    const float reward[2] = {1.0f, INFINITY};
    const int32_t two[2] = {1, 2};
    const uint8_t ended[2] = {0, 0};
    proto_msg_t end = {
        .type = PROTO_MSG_EPISODE_END,
        .episode_end = {
            .feedback = {
                .n = 2, .user_ids = two, .clicked = two, .reward = reward, .session_end = ended}}};
    assert_int_equal(proto_encode(&end, &enc, err, sizeof err), PROTO_ENONFINITE);
    assert_string_equal(err, "EPISODE_END.feedback.reward: element 1 is infinite");
    proto_buffer_fini(&enc);
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
        cmocka_unit_test(test_truncated_and_trailing),
        cmocka_unit_test(test_huge_declared_lengths),
        cmocka_unit_test(test_nesting_and_size_limits),
        cmocka_unit_test(test_envelope),
        cmocka_unit_test(test_version_and_unknown_type),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_strings_names_and_keys),
        cmocka_unit_test(test_welcome_checks),
        cmocka_unit_test(test_world_limits),
        cmocka_unit_test(test_nonfinite),
        cmocka_unit_test(test_encode_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
