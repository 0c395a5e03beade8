/* What the codec's files share and nothing outside proto/ may include:
 * the error report with its field path, the encoder and decoder states,
 * the field helpers of each stage, and the ONE table of message types
 * (codec_types, codec.c) through which proto_encode and proto_decode reach
 * a type's functions.
 *
 * The files, one stage each:
 *   codec.c          names of codes, types and dtypes; the report; the table
 *   validate.c       the raw byte walk (stage 1 of decoding) and the checks
 *                    of what a message's structs say, shared by encoder and
 *                    decoder (stage 3)
 *   encode.c         proto_encode and the control messages' encoders
 *   decode.c         proto_decode, decoded storage, the control messages'
 *                    decoders (stage 2)
 *   telemetry_msg.c  the three telemetry messages: check, encode, decode
 *
 * Adding a message type: its body struct and union member in codec.h, its
 * number in protocol.h, one row in codec_types, and its functions (an
 * encoder, a decoder and, if its structs need more than msgpack types, a
 * check). Errors are sticky: the first one is kept, later steps do
 * nothing. */
#ifndef RECARENA_CODEC_PRIVATE_H
#define RECARENA_CODEC_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "proto/codec.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "typed arrays are copied as they lie in memory: the codec needs a little-endian host"
#endif

/* ---- names (codec.c) ------------------------------------------------- */

#define CODEC_MODE_COUNT       2 /* proto_mode_t values */
#define CODEC_SPACE_KIND_COUNT 5 /* proto_space_kind_t values */

extern const char *const codec_dtype_names[PROTO_DTYPE_COUNT];      /* by proto_dtype_t */
extern const char *const codec_mode_names[CODEC_MODE_COUNT];        /* by proto_mode_t */
extern const char *const codec_space_names[CODEC_SPACE_KIND_COUNT]; /* by proto_space_kind_t */

/* ---- error reports with a field path (codec.c) ----------------------- */

typedef struct codec_report {
    int rc; /* first error, sticky */
    char *err;
    size_t err_len;
    size_t path_len;
    char path[192]; /* e.g. "STEP.requests", "JOINT.agents[2]" */
} codec_report_t;

/* Starts a report whose path is root (a type name or "envelope"). */
void codec_report_init(codec_report_t *r, const char *root, char *err, size_t err_len);
/* Appends to the path; returns the mark that codec_pop restores. */
__attribute__((format(printf, 2, 3))) size_t codec_push(codec_report_t *r, const char *fmt, ...);
/* codec_push(r, ".%s", key) without printf: a STEP pushes some twenty
 * keys on each side of the wire. */
size_t codec_push_key(codec_report_t *r, const char *key);
void codec_pop(codec_report_t *r, size_t mark);
/* Records the first error: "<path>.<key>: <message>" (key may be NULL). */
__attribute__((format(printf, 4, 5))) void codec_fail(codec_report_t *r, int code, const char *key,
                                                      const char *fmt, ...);

/* ---- stage 1 and 3 (validate.c) -------------------------------------- */

/* Proves that bytes hold exactly one msgpack value within the limits, so
 * that unpacking allocates at most PROTO_MAX_OBJECTS objects. */
void codec_scan(codec_report_t *r, const uint8_t *bytes, size_t size);

/* Checks of struct contents; bad is the code for a violation (PROTO_EINVAL
 * encoding, PROTO_EFIELD decoding). */
void codec_check_name(codec_report_t *r, int bad, const char *key, const char *name);
void codec_check_data(codec_report_t *r, int bad, const char *key, const void *data,
                      uint64_t count);                                 /* no NULL with elements */
void codec_check_double(codec_report_t *r, const char *key, double v); /* finite */

/* ---- encoding (encode.c) --------------------------------------------- */

typedef struct codec_writer {
    proto_buffer_t *buf;
    int rc; /* sticky: PROTO_ETOOBIG or PROTO_ENOMEM */
} codec_writer_t;

typedef struct codec_encoder {
    codec_report_t r;
    codec_writer_t w;
    msgpack_packer pk;
} codec_encoder_t;

/* Pack calls need no checks: the writer keeps its first error. */
void codec_pack_key(codec_encoder_t *e, const char *key);
void codec_pack_uint(codec_encoder_t *e, const char *key, uint64_t v);
void codec_pack_double(codec_encoder_t *e, const char *key, double v);
void codec_pack_str(codec_encoder_t *e, const char *key, const char *s); /* key may be NULL */
/* key: [name, ...], n names */
void codec_pack_names(codec_encoder_t *e, const char *key, uint32_t n, const char *const *names);
/* key: a 1-D typed array of n elements */
void codec_pack_array1(codec_encoder_t *e, const char *key, proto_dtype_t dtype, uint32_t n,
                       const void *data);

/* ---- decoding (decode.c) --------------------------------------------- */

typedef struct codec_decoder {
    codec_report_t r;
    proto_msg_t *msg; /* owner of the copies */
    proto_dims_t dims;
    size_t chunk_bytes; /* size of a first chunk */
} codec_decoder_t;

/* Field getters of a body map: a missing key or a wrong msgpack type is an
 * error, and the result is then 0 or NULL. */
uint64_t codec_get_uint(codec_decoder_t *d, const msgpack_object *map, const char *key,
                        uint64_t max);
uint32_t codec_get_u32(codec_decoder_t *d, const msgpack_object *map, const char *key);
double codec_get_double(codec_decoder_t *d, const msgpack_object *map, const char *key);
/* A 1-D typed array of *n elements (*n PROTO_DIM_ANY: any, then set to the
 * size received), copied into storage the message owns. */
void *codec_get_vector(codec_decoder_t *d, const msgpack_object *map, const char *key,
                       proto_dtype_t dtype, uint32_t *n);
/* Whether map holds key (an optional one). */
bool codec_has_key(codec_decoder_t *d, const msgpack_object *map, const char *key);
/* A list of at most max str into an array of strings the message owns. */
const char *const *codec_get_strings(codec_decoder_t *d, const msgpack_object *map, const char *key,
                                     uint32_t max, uint32_t *count);

/* ---- the message types ------------------------------------------------ */

typedef void codec_check_fn(codec_report_t *r, const proto_msg_t *m, int bad);
typedef void codec_encode_fn(codec_encoder_t *e, const proto_msg_t *m); /* the body map */
typedef void codec_decode_fn(codec_decoder_t *d, const msgpack_object *body, proto_msg_t *m);

typedef struct codec_type {
    const char *name;        /* "HELLO", ...; NULL: no such type */
    codec_check_fn *check;   /* NULL: nothing beyond msgpack types */
    codec_encode_fn *encode; /* writes the body, after check passed */
    codec_decode_fn *decode; /* reads the body; check runs after it */
} codec_type_t;

/* By message type number; row 0 is empty. */
extern const codec_type_t codec_types[PROTO_MSG_TYPE_COUNT];

/* The functions of the rows, by type (PING and PONG share theirs). */
codec_check_fn codec_check_hello, codec_check_welcome, codec_check_catalog, codec_check_step,
    codec_check_act, codec_check_joint, codec_check_episode_end, codec_check_bye, codec_check_error,
    codec_check_telemetry_tick, codec_check_telemetry_episode, codec_check_telemetry_exposure;
codec_encode_fn codec_encode_hello, codec_encode_welcome, codec_encode_catalog, codec_encode_step,
    codec_encode_act, codec_encode_joint, codec_encode_episode_end, codec_encode_bye,
    codec_encode_ping, codec_encode_error, codec_encode_telemetry_tick,
    codec_encode_telemetry_episode, codec_encode_telemetry_exposure;
codec_decode_fn codec_decode_hello, codec_decode_welcome, codec_decode_catalog, codec_decode_step,
    codec_decode_act, codec_decode_joint, codec_decode_episode_end, codec_decode_bye,
    codec_decode_ping, codec_decode_error, codec_decode_telemetry_tick,
    codec_decode_telemetry_episode, codec_decode_telemetry_exposure;

#endif
