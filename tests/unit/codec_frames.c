/* Shared by the codec's unit tests (test_codec_encode.c,
 * test_codec_decode.c): a minimal msgpack writer, independent of
 * msgpack-c, for hand-built frames; the checks that a frame is refused or
 * survives a round trip; the spaces a WELCOME describes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/codec.h"
#include "codec_frames.h"

/* ---- a minimal msgpack writer for hand-built frames ---------------- */

void b_put(buf_t *b, const void *p, size_t n)
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

void b_byte(buf_t *b, uint8_t v)
{
    b_put(b, &v, 1);
}

void b_be(buf_t *b, uint8_t tag, uint64_t v, int n)
{
    b_byte(b, tag);
    for (int i = n - 1; i >= 0; i--)
        b_byte(b, (uint8_t)(v >> (8 * i)));
}

void b_uint(buf_t *b, uint64_t v)
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

void b_strn(buf_t *b, const char *s, size_t n)
{
    if (n < 32)
        b_byte(b, (uint8_t)(0xa0 | n));
    else if (n <= 0xff)
        b_be(b, 0xd9, n, 1);
    else
        b_be(b, 0xda, n, 2);
    b_put(b, s, n);
}

void b_str(buf_t *b, const char *s)
{
    b_strn(b, s, strlen(s));
}

void b_bin(buf_t *b, const void *p, size_t n)
{
    b_be(b, n <= 0xff ? 0xc4 : 0xc5, n, n <= 0xff ? 1 : 2);
    b_put(b, p, n);
}

void b_array(buf_t *b, uint32_t n)
{
    if (n < 16)
        b_byte(b, (uint8_t)(0x90 | n));
    else if (n <= 0xffff)
        b_be(b, 0xdc, n, 2);
    else
        b_be(b, 0xdd, n, 4);
}

void b_map(buf_t *b, uint32_t n)
{
    if (n < 16)
        b_byte(b, (uint8_t)(0x80 | n));
    else
        b_be(b, 0xde, n, 2);
}

void b_f64(buf_t *b, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, 8);
    b_be(b, 0xcb, bits, 8);
}

/* {"dtype": dtype, "shape": [rows(, cols)], "data": bin} */
void b_typed(buf_t *b, const char *dtype, uint32_t rows, int cols, const void *data, size_t bytes)
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
void b_envelope(buf_t *b, uint64_t major, uint64_t type, uint64_t seq, uint32_t n_keys)
{
    b_array(b, 4);
    b_uint(b, major);
    b_uint(b, type);
    b_uint(b, seq);
    b_map(b, n_keys);
}

/* The first occurrence of needle in hay (memmem is not standard C). */
uint8_t *frame_find(uint8_t *hay, size_t size, const void *needle, size_t n)
{
    for (size_t i = 0; i + n <= size; i++)
        if (memcmp(hay + i, needle, n) == 0)
            return hay + i;
    return NULL;
}

/* Decoding b must fail with code; err must equal message when given, or
 * contain fragment. msg owns nothing afterwards. Frees b. */
void frame_expect(buf_t *b, const proto_dims_t *dims, int code, const char *message,
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
    empty.has_seq = msg.has_seq; /* set when the envelope was read */
    empty.storage = msg.storage;
    assert_memory_equal(&msg, &empty, sizeof msg);
    proto_msg_fini(&msg);
    free(b->data);
    *b = (buf_t){0};
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
const proto_space_t frame_obs_space = {
    .kind = PROTO_SPACE_DICT, .n_spaces = 5, .names = s_obs_names, .spaces = s_obs_children};
const proto_space_t frame_act_space = {.kind = PROTO_SPACE_SLATE, .n = 1000, .k = 5};
