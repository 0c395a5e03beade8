/* The protocol codec (codec.h): proto_msg_t to msgpack frames and back.
 * This file holds what every stage shares: the names of codes, types and
 * dtypes, the error report with its field path, and codec_types, the one
 * table of message types; the stages are in validate.c, encode.c,
 * decode.c and telemetry_msg.c (codec_private.h says which does what).
 *
 * Decoding runs in three stages, so that msgpack-c, which preallocates
 * arrays and maps on their declared sizes, only ever sees bytes already
 * proven sound:
 *   1. codec_scan walks the raw bytes over the msgpack format: every
 *      length against the bytes left, nesting depth, object count, no
 *      trailing bytes;
 *   2. msgpack-c unpacks into a zone; the type's decoder converts objects
 *      into the body structs, checking each key's msgpack type and each
 *      typed array's dtype, shape and length, copying arrays out (bin data
 *      is not aligned);
 *   3. the type's check says whether the structs hold what they must
 *      (names, string lengths, counts, finite floats, spaces). The encoder
 *      runs the same checks before packing, so whatever encodes also
 *      decodes. */
#include "proto/codec_private.h"

#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- names of codes, types, dtypes ---------------------------------- */

/* Wire codes are core/err.h codes: one table, one text per code. */
#define S_SAME_CODE(proto, err) _Static_assert(proto == err, #proto " must equal " #err)
S_SAME_CODE(PROTO_ENOMEM, ERR_ENOMEM);
S_SAME_CODE(PROTO_EMALFORMED, ERR_EMALFORMED);
S_SAME_CODE(PROTO_ETOOBIG, ERR_ETOOBIG);
S_SAME_CODE(PROTO_EDEPTH, ERR_EDEPTH);
S_SAME_CODE(PROTO_EENVELOPE, ERR_EENVELOPE);
S_SAME_CODE(PROTO_EVERSION, ERR_EVERSION);
S_SAME_CODE(PROTO_ETYPE, ERR_ETYPE);
S_SAME_CODE(PROTO_EFIELD, ERR_EFIELD);
S_SAME_CODE(PROTO_ENONFINITE, ERR_ENONFINITE);
S_SAME_CODE(PROTO_EINVAL, ERR_EINVAL);
S_SAME_CODE(PROTO_ESTATE, ERR_ESTATE);
S_SAME_CODE(PROTO_EDEADLINE, ERR_EDEADLINE);
S_SAME_CODE(PROTO_EACTION, ERR_EACTION);
S_SAME_CODE(PROTO_EAUTH, ERR_EAUTH);
S_SAME_CODE(PROTO_EFULL, ERR_EFULL);
#undef S_SAME_CODE

const char *proto_strerror(int err)
{
    return err_str(err);
}

/* One row per message type: adding a type is a row here plus its
 * functions (codec_private.h). */
const codec_type_t codec_types[PROTO_MSG_TYPE_COUNT] = {
    [PROTO_MSG_HELLO] = {"HELLO", codec_check_hello, codec_encode_hello, codec_decode_hello},
    [PROTO_MSG_WELCOME] = {"WELCOME", codec_check_welcome, codec_encode_welcome,
                           codec_decode_welcome},
    [PROTO_MSG_CATALOG] = {"CATALOG", codec_check_catalog, codec_encode_catalog,
                           codec_decode_catalog},
    [PROTO_MSG_STEP] = {"STEP", codec_check_step, codec_encode_step, codec_decode_step},
    [PROTO_MSG_ACT] = {"ACT", codec_check_act, codec_encode_act, codec_decode_act},
    [PROTO_MSG_JOINT] = {"JOINT", codec_check_joint, codec_encode_joint, codec_decode_joint},
    [PROTO_MSG_EPISODE_END] = {"EPISODE_END", codec_check_episode_end, codec_encode_episode_end,
                               codec_decode_episode_end},
    [PROTO_MSG_BYE] = {"BYE", codec_check_bye, codec_encode_bye, codec_decode_bye},
    /* a nonce is any uint64 */
    [PROTO_MSG_PING] = {"PING", NULL, codec_encode_ping, codec_decode_ping},
    [PROTO_MSG_PONG] = {"PONG", NULL, codec_encode_ping, codec_decode_ping},
    [PROTO_MSG_ERROR] = {"ERROR", codec_check_error, codec_encode_error, codec_decode_error},
    [PROTO_MSG_TELEMETRY_TICK] = {"TELEMETRY_TICK", codec_check_telemetry_tick,
                                  codec_encode_telemetry_tick, codec_decode_telemetry_tick},
    [PROTO_MSG_TELEMETRY_EPISODE] = {"TELEMETRY_EPISODE", codec_check_telemetry_episode,
                                     codec_encode_telemetry_episode,
                                     codec_decode_telemetry_episode},
    [PROTO_MSG_TELEMETRY_EXPOSURE] = {"TELEMETRY_EXPOSURE", codec_check_telemetry_exposure,
                                      codec_encode_telemetry_exposure,
                                      codec_decode_telemetry_exposure},
};

const char *proto_type_name(unsigned type)
{
    return type < PROTO_MSG_TYPE_COUNT ? codec_types[type].name : NULL;
}

const char *const codec_dtype_names[PROTO_DTYPE_COUNT] = {"float32", "float64", "int32", "uint8",
                                                          "int64"};
static const unsigned s_dtype_sizes[PROTO_DTYPE_COUNT] = {4, 8, 4, 1, 8};
const char *const codec_mode_names[CODEC_MODE_COUNT] = {"market", "feed"};
const char *const codec_space_names[CODEC_SPACE_KIND_COUNT] = {"Box", "Discrete", "MultiDiscrete",
                                                               "Dict", "Slate"};

const char *proto_dtype_name(proto_dtype_t dtype)
{
    return (unsigned)dtype < PROTO_DTYPE_COUNT ? codec_dtype_names[dtype] : NULL;
}

unsigned proto_dtype_size(proto_dtype_t dtype)
{
    return (unsigned)dtype < PROTO_DTYPE_COUNT ? s_dtype_sizes[dtype] : 0;
}

bool proto_name_valid(const char *name)
{
    size_t len = 0;
    for (; name[len]; len++) {
        char c = name[len];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-';
        if (!ok || len >= PROTO_MAX_NAME)
            return false;
    }
    return len > 0;
}

/* ---- error reports with a field path -------------------------------- */

/* Appends prefix then text to the path as snprintf would: truncated to
 * fit, path_len counting what did not fit (codec_pop restores a mark). */
static void s_path_append(codec_report_t *r, const char *prefix, const char *text)
{
    size_t at = r->path_len, len_prefix = strlen(prefix), len_text = strlen(text);
    if (at < sizeof r->path) {
        size_t room = sizeof r->path - 1 - at; /* characters before the NUL */
        size_t n = len_prefix < room ? len_prefix : room;
        memcpy(r->path + at, prefix, n);
        size_t m = len_text < room - n ? len_text : room - n;
        memcpy(r->path + at + n, text, m);
        r->path[at + n + m] = '\0';
    }
    r->path_len = at + len_prefix + len_text;
}

void codec_report_init(codec_report_t *r, const char *root, char *err, size_t err_len)
{
    r->rc = 0;
    r->err = err;
    r->err_len = err_len;
    if (err && err_len)
        err[0] = '\0';
    r->path_len = 0;
    r->path[0] = '\0';
    s_path_append(r, "", root);
}

size_t codec_push(codec_report_t *r, const char *fmt, ...)
{
    size_t mark = r->path_len;
    if (mark < sizeof r->path) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(r->path + mark, sizeof r->path - mark, fmt, ap);
        va_end(ap);
        r->path_len = n < 0 ? mark : mark + (size_t)n;
    }
    return mark;
}

size_t codec_push_key(codec_report_t *r, const char *key)
{
    size_t mark = r->path_len;
    if (mark < sizeof r->path)
        s_path_append(r, ".", key);
    return mark;
}

void codec_pop(codec_report_t *r, size_t mark)
{
    r->path_len = mark;
    if (mark < sizeof r->path)
        r->path[mark] = '\0';
}

void codec_fail(codec_report_t *r, int code, const char *key, const char *fmt, ...)
{
    if (r->rc)
        return;
    r->rc = code;
    if (!r->err || !r->err_len)
        return;
    int n = key ? snprintf(r->err, r->err_len, "%s.%s: ", r->path, key)
                : snprintf(r->err, r->err_len, "%s: ", r->path);
    if (n < 0 || (size_t)n >= r->err_len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err + n, r->err_len - (size_t)n, fmt, ap);
    va_end(ap);
}
