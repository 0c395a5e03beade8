/* The codec (proto/codec.h) against the protocol contract (docs/
 * protocol.md), from the decoding side: hand-built malformed frames
 * (codec_frames.h) rejected with the right code and a message naming the
 * field, the world limits of protocol.h, non-finite floats. */
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
        frame_expect(&b, NULL, PROTO_EMALFORMED, NULL, NULL);
    }
    buf_t b = {0};
    b_put(&b, enc.data, enc.size);
    b_byte(&b, 0xc0);
    frame_expect(&b, NULL, PROTO_EMALFORMED, "envelope: 1 trailing bytes after the message", NULL);
    b_put(&b, enc.data, enc.size);
    b_put(&b, enc.data, enc.size); /* two messages in one frame */
    frame_expect(&b, NULL, PROTO_EMALFORMED, NULL, "trailing");
    proto_buffer_fini(&enc);

    b_byte(&b, 0xc1); /* never used in msgpack */
    frame_expect(&b, NULL, PROTO_EMALFORMED, "envelope: reserved byte 0xc1 at byte 0", NULL);
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
        frame_expect(&b, NULL, PROTO_EMALFORMED, NULL, "only 0 bytes left");
    }
    buf_t b = {0};
    b_put(&b, (const uint8_t[]){0xc9, 0xff, 0xff, 0xff, 0xff, 0x01}, 6); /* ext32 */
    frame_expect(&b, NULL, PROTO_EMALFORMED, NULL, "ext at byte 0 declares 4294967295 bytes");
    b_put(&b, headers[0], 5);
    frame_expect(&b, NULL, PROTO_EMALFORMED,
                 "envelope: array at byte 0 declares 4294967295 elements, only 0 bytes left", NULL);

    /* inside a valid-looking PING: the lie is deep in the body */
    b_envelope(&b, 1, PROTO_MSG_PING, 0, 2);
    b_str(&b, "nonce");
    b_uint(&b, 1);
    b_str(&b, "x");
    b_put(&b, headers[1], 5);
    frame_expect(&b, NULL, PROTO_EMALFORMED, NULL, "map at byte 14 declares 4294967295 elements");

    /* a map of n pairs needs 2n bytes, not n */
    b_map(&b, 2);
    b_uint(&b, 1);
    b_uint(&b, 2);
    b_uint(&b, 3);
    frame_expect(&b, NULL, PROTO_EMALFORMED, NULL, "map at byte 0 declares 2 elements");

    /* str16 one byte short */
    b_be(&b, 0xda, 4, 2);
    b_put(&b, "abc", 3);
    frame_expect(&b, NULL, PROTO_EMALFORMED, NULL, "declares 4 bytes, only 3 bytes left");
}

static void test_nesting_and_size_limits(void **state)
{
    (void)state;
    buf_t b = {0};
    for (int i = 0; i < PROTO_MAX_DEPTH; i++)
        b_array(&b, 1);
    b_uint(&b, 0);
    /* 16 levels pass the byte walk, then fail as an envelope */
    frame_expect(&b, NULL, PROTO_EENVELOPE, NULL, "got 1 elements");
    for (int i = 0; i < PROTO_MAX_DEPTH + 1; i++)
        b_array(&b, 1);
    b_uint(&b, 0);
    frame_expect(&b, NULL, PROTO_EDEPTH, "envelope: array at byte 16 nested deeper than 16", NULL);

    /* deep nesting hidden in an unknown key of a valid PING */
    b_envelope(&b, 1, PROTO_MSG_PING, 0, 2);
    b_str(&b, "nonce");
    b_uint(&b, 1);
    b_str(&b, "x");
    for (int i = 0; i < 15; i++)
        b_array(&b, 1);
    b_map(&b, 0);
    frame_expect(&b, NULL, PROTO_EDEPTH, NULL, "nested deeper than 16");

    /* too many values, each one byte: small frame, large zone */
    b_envelope(&b, 1, PROTO_MSG_PING, 0, 2);
    b_str(&b, "nonce");
    b_uint(&b, 1);
    b_str(&b, "x");
    b_array(&b, PROTO_MAX_OBJECTS);
    for (int i = 0; i < PROTO_MAX_OBJECTS; i++)
        b_byte(&b, 0xc0);
    frame_expect(&b, NULL, PROTO_ETOOBIG, "envelope: more than 65536 msgpack values", NULL);

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
    frame_expect(&b, NULL, PROTO_EENVELOPE,
                 "envelope: expected array [major, type, seq, body], got map", NULL);
    b_array(&b, 3);
    b_uint(&b, 1);
    b_uint(&b, 9);
    b_uint(&b, 0);
    frame_expect(&b, NULL, PROTO_EENVELOPE,
                 "envelope: expected array of 4 [major, type, seq, body], got 3 elements", NULL);
    b_array(&b, 4);
    b_str(&b, "1");
    b_uint(&b, 9);
    b_uint(&b, 0);
    b_map(&b, 0);
    frame_expect(&b, NULL, PROTO_EENVELOPE, "envelope.major: expected uint, got str", NULL);
    b_array(&b, 4);
    b_uint(&b, 1);
    b_uint(&b, PROTO_MSG_PING);
    b_uint(&b, 0);
    b_array(&b, 0);
    frame_expect(&b, NULL, PROTO_EENVELOPE, "PING: body: expected map, got array", NULL);
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
    frame_expect(&b, NULL, PROTO_ETYPE, NULL, NULL);
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

/* A valid ACT of 3 requests (k = 5) with ACT.propensity (1.2): n values of
 * dtype. */
static void b_act_propensity(buf_t *b, const char *dtype, uint32_t n, const double *values)
{
    int32_t users[3] = {1, 2, 3}, slates[3 * 5] = {0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4};
    b_envelope(b, 1, PROTO_MSG_ACT, 0, 5);
    b_str(b, "episode");
    b_uint(b, 0);
    b_str(b, "tick");
    b_uint(b, 3);
    b_str(b, "user_ids");
    b_typed(b, "int32", 3, -1, users, sizeof users);
    b_str(b, "slates");
    b_typed(b, "int32", 3, 5, slates, sizeof slates);
    b_str(b, "propensity");
    if (strcmp(dtype, "float32") == 0) {
        float f[4];
        for (uint32_t i = 0; i < n; i++)
            f[i] = (float)values[i];
        b_typed(b, dtype, n, -1, f, n * sizeof *f);
    } else {
        b_typed(b, dtype, n, -1, values, n * sizeof *values);
    }
}

/* ACT.propensity: optional (absent: NULL), float64 (n), finite, in (0, 1]. */
static void test_act_propensity(void **state)
{
    (void)state;
    const proto_dims_t dims = {.dim = 8, .slate_size = 5, .history_len = 5};
    const double good[3] = {1.0, 0.25, 1e-300};
    buf_t b = {0};
    b_act_propensity(&b, "float64", 3, good);
    proto_msg_t msg = {0};
    assert_int_equal(proto_decode(b.data, b.size, &dims, &msg, NULL, 0), 0);
    assert_non_null(msg.act.propensity);
    assert_memory_equal(msg.act.propensity, good, sizeof good);
    free(b.data);
    b = (buf_t){0};
    b_act(&b, NULL, 5, "int32"); /* a 1.1 ACT, into the same message */
    assert_int_equal(proto_decode(b.data, b.size, &dims, &msg, NULL, 0), 0);
    assert_null(msg.act.propensity);
    proto_msg_fini(&msg);
    free(b.data);
    b = (buf_t){0};

    const double two[2] = {0.5, 0.5};
    b_act_propensity(&b, "float64", 2, two);
    frame_expect(&b, &dims, PROTO_EFIELD,
                 "ACT.propensity: expected typed array float64 (3), got float64 (2)", NULL);
    b_act_propensity(&b, "float32", 3, good);
    frame_expect(&b, &dims, PROTO_EFIELD,
                 "ACT.propensity: expected typed array float64 (3), got float32 (3)", NULL);
    const double nan[3] = {0.5, NAN, 0.5};
    b_act_propensity(&b, "float64", 3, nan);
    frame_expect(&b, &dims, PROTO_ENONFINITE, "ACT.propensity: element 1 is NaN", NULL);
    const double inf[3] = {0.5, 0.5, INFINITY};
    b_act_propensity(&b, "float64", 3, inf);
    frame_expect(&b, &dims, PROTO_ENONFINITE, "ACT.propensity: element 2 is infinite", NULL);
    const double zero[3] = {0.0, 0.5, 0.5};
    b_act_propensity(&b, "float64", 3, zero);
    frame_expect(&b, &dims, PROTO_EFIELD, "ACT.propensity: element 0 is 0, outside (0, 1]", NULL);
    const double over[3] = {0.5, 1.0000000000000002, 0.5};
    b_act_propensity(&b, "float64", 3, over);
    frame_expect(&b, &dims, PROTO_EFIELD,
                 "ACT.propensity: element 1 is 1.0000000000000002, outside (0, 1]", NULL);
}

/* A CATALOG of 2 items (dim 1) whose items.titles is bin of size bytes
 * (str instead with as_str). */
static void b_catalog_titles(buf_t *b, const char *titles, size_t size, bool as_str)
{
    int32_t ids[2] = {0, 1}, zeros[2] = {0, 0};
    float emb[2] = {1.0f, -1.0f};
    b_envelope(b, 1, PROTO_MSG_CATALOG, 0, 3);
    b_str(b, "episode");
    b_uint(b, 0);
    b_str(b, "tick");
    b_uint(b, 0);
    b_str(b, "items");
    b_map(b, 5);
    b_str(b, "ids");
    b_typed(b, "int32", 2, -1, ids, sizeof ids);
    b_str(b, "topics");
    b_typed(b, "int32", 2, -1, zeros, sizeof zeros);
    b_str(b, "providers");
    b_typed(b, "int32", 2, -1, zeros, sizeof zeros);
    b_str(b, "embeddings");
    b_typed(b, "float32", 2, 1, emb, sizeof emb);
    b_str(b, "titles");
    if (as_str)
        b_strn(b, titles, size);
    else
        b_bin(b, titles, size);
}

/* CATALOG.items.titles: n NUL-terminated UTF-8 strings of at most
 * PROTO_MAX_TITLE bytes in one bin. */
static void test_catalog_titles(void **state)
{
    (void)state;
    const proto_dims_t dims = {.dim = 1, .slate_size = 1, .history_len = 0};
    buf_t b = {0};
    b_catalog_titles(&b, "caf\xc3\xa9\0\0", 7, false);
    proto_msg_t msg = {0};
    assert_int_equal(proto_decode(b.data, b.size, &dims, &msg, NULL, 0), 0);
    assert_string_equal(msg.catalog.items.titles[0], "caf\xc3\xa9");
    assert_string_equal(msg.catalog.items.titles[1], "");
    proto_msg_fini(&msg);
    free(b.data);
    b = (buf_t){0};

    b_catalog_titles(&b, "a\0b\0c\0", 6, false);
    frame_expect(&b, &dims, PROTO_EFIELD,
                 "CATALOG.items.titles: expected 2 NUL-terminated strings, got 3 NULs in 6 bytes",
                 NULL);
    b_catalog_titles(&b, "a\0b", 3, false);
    frame_expect(&b, &dims, PROTO_EFIELD,
                 "CATALOG.items.titles: expected 2 NUL-terminated strings, got 1 NULs in 3 bytes, "
                 "not ending in NUL",
                 NULL);
    b_catalog_titles(&b, "a\0b\0", 4, true);
    frame_expect(&b, &dims, PROTO_EFIELD,
                 "CATALOG.items.titles: expected bin (NUL-terminated UTF-8 strings), got str",
                 NULL);
    b_catalog_titles(&b, "a\0\xff\0", 4, false);
    frame_expect(&b, &dims, PROTO_EFIELD, "CATALOG.items.titles: entry 1 is not valid UTF-8", NULL);
    static char longest[PROTO_MAX_TITLE + 3];
    memset(longest, 'x', PROTO_MAX_TITLE + 1);
    longest[PROTO_MAX_TITLE + 1] = '\0'; /* entry 0: 4096 bytes */
    b_catalog_titles(&b, longest, PROTO_MAX_TITLE + 3, false);
    frame_expect(&b, &dims, PROTO_EFIELD,
                 "CATALOG.items.titles: entry 0 has 4096 bytes, more than 4095", NULL);
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
    frame_expect(&b, &dims, PROTO_EFIELD,
                 "ACT.slates: expected typed array int32 (3, 5), got int32 (3, 4)", NULL);
    b_act(&b, NULL, 5, "float32");
    frame_expect(&b, &dims, PROTO_EFIELD,
                 "ACT.slates: expected typed array int32 (3, 5), got float32 (3, 5)", NULL);
    b_act(&b, NULL, 5, "float16");
    frame_expect(&b, &dims, PROTO_EFIELD, "ACT.slates.dtype: unknown value \"float16\"", NULL);
    /* without dims the width is free, named in the message */
    b_act(&b, NULL, 5, "int64");
    frame_expect(&b, NULL, PROTO_EFIELD,
                 "ACT.slates: expected typed array int32 (3, k), got int64 (3, 5)", NULL);

    /* missing keys */
    b_act(&b, "tick", 5, "int32");
    frame_expect(&b, &dims, PROTO_EFIELD, "ACT.tick: missing", NULL);
    b_act(&b, "slates", 5, "int32");
    frame_expect(&b, &dims, PROTO_EFIELD, "ACT.slates: missing", NULL);

    /* wrong types */
    int32_t users[2] = {1, 2}, users3[3] = {1, 2, 3};
    b_envelope(&b, 1, PROTO_MSG_ACT, 0, 2);
    b_str(&b, "episode");
    b_uint(&b, 0);
    b_str(&b, "tick");
    b_str(&b, "3");
    frame_expect(&b, &dims, PROTO_EFIELD, "ACT.tick: expected uint, got str", NULL);
    b_envelope(&b, 1, PROTO_MSG_ACT, 0, 1);
    b_str(&b, "episode");
    b_f64(&b, 1.0);
    frame_expect(&b, &dims, PROTO_EFIELD, "ACT.episode: expected uint, got float64", NULL);
    b_envelope(&b, 1, PROTO_MSG_ACT, 0, 2);
    b_str(&b, "episode");
    b_uint(&b, 0);
    b_str(&b, "tick");
    b_uint(&b, 1ull << 32);
    frame_expect(&b, &dims, PROTO_EFIELD, "ACT.tick: 4294967296 is out of range (max 4294967295)",
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
    frame_expect(&b, &dims, PROTO_EFIELD, "ACT.user_ids: expected typed array int32 (n), got array",
                 NULL);

    /* typed array internals: data length, shape entries, data type */
    b_envelope(&b, 1, PROTO_MSG_ACT, 0, 3);
    b_str(&b, "episode");
    b_uint(&b, 0);
    b_str(&b, "tick");
    b_uint(&b, 0);
    b_str(&b, "user_ids");
    b_typed(&b, "int32", 3, -1, users, 8);
    frame_expect(&b, &dims, PROTO_EFIELD, "ACT.user_ids: data holds 8 bytes, int32 (3) needs 12",
                 NULL);
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
    frame_expect(&b, &dims, PROTO_EFIELD, "ACT.user_ids.shape: entry 0 is not a uint32 size", NULL);
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
    frame_expect(&b, &dims, PROTO_EFIELD,
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
    frame_expect(&b, &dims, PROTO_EFIELD, "ACT.user_ids.shape: 5 entries, more than 4", NULL);
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
    frame_expect(&b, NULL, PROTO_EFIELD,
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
    frame_expect(&b, NULL, PROTO_EFIELD, "PING.nonce: key given twice", NULL);

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
        frame_expect(&b, NULL, PROTO_EFIELD, NULL, "HELLO.name: \"");
    }
    b_envelope(&b, 1, PROTO_MSG_HELLO, 0, 2);
    b_str(&b, "minor");
    b_uint(&b, 0);
    b_str(&b, "name");
    b_strn(&b, "ab\0cd", 5);
    frame_expect(&b, NULL, PROTO_EFIELD, "HELLO.name: str holds a NUL byte", NULL);
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
    frame_expect(&b, NULL, PROTO_EFIELD, "HELLO.caps[1]: expected str, got uint", NULL);

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
    frame_expect(&b, NULL, PROTO_EFIELD, "BYE.reason: 1024 bytes, more than 1023", NULL);

    /* ERROR: optional ref_seq of the wrong type, bool as int */
    b_envelope(&b, 1, PROTO_MSG_ERROR, 0, 3);
    b_str(&b, "code");
    b_byte(&b, 0xf4); /* -12 */
    b_str(&b, "message");
    b_str(&b, "late");
    b_str(&b, "fatal");
    b_uint(&b, 0);
    frame_expect(&b, NULL, PROTO_EFIELD, "ERROR.fatal: expected bool, got uint", NULL);
    b_envelope(&b, 1, PROTO_MSG_ERROR, 0, 4);
    b_str(&b, "code");
    b_byte(&b, 0xf4);
    b_str(&b, "message");
    b_str(&b, "late");
    b_str(&b, "fatal");
    b_byte(&b, 0xc2);
    b_str(&b, "ref_seq");
    b_byte(&b, 0xff); /* -1 */
    frame_expect(&b, NULL, PROTO_EFIELD, "ERROR.ref_seq: expected uint, got negative int", NULL);
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
                            .observation_space = &frame_obs_space,
                            .action_space = &frame_act_space};
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
    uint8_t *key = frame_find(b.data, b.size, "\xa8n_agents", 9);
    assert_non_null(key);
    assert_int_equal(key[9], 2);
    key[9] = 3;
    frame_expect(&b, NULL, PROTO_EFIELD, "WELCOME.agents: 2 names for n_agents = 3", NULL);

    /* and an unknown space type */
    b_put(&b, enc.data, enc.size);
    uint8_t *kind = frame_find(b.data, b.size, "\xa5Slate", 6);
    assert_non_null(kind);
    memcpy(kind + 1, "Slath", 5);
    frame_expect(&b, NULL, PROTO_EFIELD, "WELCOME.action_space.type: unknown value \"Slath\"",
                 NULL);
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
    uint8_t *at = frame_find(b->data, b->size, needle, len + 1);
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
                                 .observation_space = &frame_obs_space,
                                 .action_space = &frame_act_space,
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
        frame_expect(&b, NULL, PROTO_EFIELD, messages[i], NULL);

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
    uint8_t *nan_at = frame_find(ok.data, ok.size, &features[1], 4);
    assert_non_null(nan_at);
    memcpy(nan_at, &finite, 4);
    proto_msg_t msg = {0};
    assert_int_equal(proto_decode(ok.data, ok.size, NULL, &msg, err, sizeof err), 0);
    assert_true(msg.step.requests.features[1] == 2.0f);
    proto_msg_fini(&msg);
    free(ok.data);
    frame_expect(&b, NULL, PROTO_ENONFINITE, "STEP.requests.features: element 1 is NaN", NULL);

    /* infinity in a float64 scalar from the other side: JOINT.agents[0].reward */
    proto_joint_agent_t agent = {.n = 0, .dim = 2, .slate_size = 2, .reward = 1.0};
    proto_msg_t joint = {.type = PROTO_MSG_JOINT, .joint = {.n_agents = 1, .agents = &agent}};
    assert_int_equal(proto_encode(&joint, &enc, err, sizeof err), 0);
    b_put(&b, enc.data, enc.size);
    uint8_t one[9] = {0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0}; /* float64 1.0 */
    uint8_t *at = frame_find(b.data, b.size, one, 9);
    assert_non_null(at);
    at[1] = 0x7f; /* +inf: 0x7ff0000000000000 */
    frame_expect(&b, NULL, PROTO_ENONFINITE, "JOINT.agents[0].reward: infinite", NULL);

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_truncated_and_trailing),
        cmocka_unit_test(test_huge_declared_lengths),
        cmocka_unit_test(test_nesting_and_size_limits),
        cmocka_unit_test(test_envelope),
        cmocka_unit_test(test_version_and_unknown_type),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_act_propensity),
        cmocka_unit_test(test_catalog_titles),
        cmocka_unit_test(test_strings_names_and_keys),
        cmocka_unit_test(test_welcome_checks),
        cmocka_unit_test(test_world_limits),
        cmocka_unit_test(test_nonfinite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
