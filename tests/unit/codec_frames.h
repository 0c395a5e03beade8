/* Shared by the codec's unit tests: a minimal msgpack writer for
 * hand-built frames, independent of msgpack-c (so a test does not check
 * the codec against the library it is built on), the check that a frame
 * is refused, and the spaces a WELCOME describes (codec_frames.c). */
#ifndef RECARENA_TEST_CODEC_FRAMES_H
#define RECARENA_TEST_CODEC_FRAMES_H

#include <stddef.h>
#include <stdint.h>

#include "proto/codec.h"

/* A growing byte buffer; starts {0}, the caller frees data. */
typedef struct buf {
    uint8_t *data;
    size_t size, capacity;
} buf_t;

void b_put(buf_t *b, const void *p, size_t n); /* n raw bytes */
void b_byte(buf_t *b, uint8_t v);
void b_be(buf_t *b, uint8_t tag, uint64_t v, int n); /* tag, then v in n big-endian bytes */
void b_uint(buf_t *b, uint64_t v);                   /* the shortest msgpack uint */
void b_strn(buf_t *b, const char *s, size_t n);
void b_str(buf_t *b, const char *s);
void b_bin(buf_t *b, const void *p, size_t n);
void b_array(buf_t *b, uint32_t n); /* header of an array of n values */
void b_map(buf_t *b, uint32_t n);   /* header of a map of n pairs */
void b_f64(buf_t *b, double v);
/* {"dtype": dtype, "shape": [rows(, cols)], "data": bin}; cols < 0: 1-D */
void b_typed(buf_t *b, const char *dtype, uint32_t rows, int cols, const void *data, size_t bytes);
/* [major, type, seq, {... n_keys pairs follow ...}] */
void b_envelope(buf_t *b, uint64_t major, uint64_t type, uint64_t seq, uint32_t n_keys);

/* The first occurrence of needle in hay (memmem is not standard C). */
uint8_t *frame_find(uint8_t *hay, size_t size, const void *needle, size_t n);

/* Decoding b must fail with code; err must equal message when given, or
 * contain fragment. The decoded body must be zeroed. Frees b. */
void frame_expect(buf_t *b, const proto_dims_t *dims, int code, const char *message,
                  const char *fragment);

/* A Dict observation space as a server describes it, plus one space of
 * each other kind, and a Slate action space (k = 5 of n = 1000). */
extern const proto_space_t frame_obs_space;
extern const proto_space_t frame_act_space;

#endif
