/* The recarena wire protocol: version, message types, error codes and
 * limits, shared by the server, the agent SDK and docs/protocol.md (the
 * language-neutral specification; this header must agree with it).
 *
 * Every message is one ZeroMQ frame holding one MessagePack array
 *
 *     [major (uint), type (uint), seq (uint), body (map, string keys)]
 *
 * Bulk numbers travel as typed arrays {"dtype", "shape", "data" (bin)},
 * little-endian, row-major. Message structs and the codec are in codec.h.
 *
 * !!! Bump PROTO_VERSION_MAJOR if anything below changes incompatibly:
 * !!! a message type number, a required body key, a key's msgpack type or
 * !!! meaning, a typed array's dtype or shape, an error code's number.
 * !!! Adding an optional key (ignored by older peers) bumps
 * !!! PROTO_VERSION_MINOR only. Update docs/protocol.md in the same commit. */
#ifndef RECARENA_PROTOCOL_H
#define RECARENA_PROTOCOL_H

#define PROTO_VERSION_MAJOR 1 /* peers with different majors refuse each other */
/* adds optional keys only; peers ignore unknown keys. 1: TELEMETRY_EPISODE.agent_gini;
 * 2: CATALOG.items.titles, ACT.propensity */
#define PROTO_VERSION_MINOR 2

/* Message types: the second element of the envelope. 0 is never used. */
typedef enum proto_type {
    PROTO_MSG_HELLO = 1,       /* agent -> server: who I am */
    PROTO_MSG_WELCOME = 2,     /* server -> agent: your slot, spaces, limits, seed */
    PROTO_MSG_CATALOG = 3,     /* server -> agent: episode start, all live items */
    PROTO_MSG_STEP = 4,        /* server -> agent: feedback of last tick, requests of this one */
    PROTO_MSG_ACT = 5,         /* agent -> server: one slate per request */
    PROTO_MSG_JOINT = 6,       /* server -> joint agents: every agent's tick */
    PROTO_MSG_EPISODE_END = 7, /* server -> agent: episode totals */
    PROTO_MSG_BYE = 8,         /* either way: closing */
    PROTO_MSG_PING = 9,        /* either way: are you there? */
    PROTO_MSG_PONG = 10,       /* either way: answer to PING, same nonce */
    PROTO_MSG_ERROR = 11,      /* either way: what went wrong */
    /* Telemetry: server -> subscribers, on the PUB socket only, never on
     * the control socket (an agent that sends one gets PROTO_ESTATE). */
    PROTO_MSG_TELEMETRY_TICK = 12,     /* a tick's figures, system and per agent */
    PROTO_MSG_TELEMETRY_EPISODE = 13,  /* an episode's metrics and agent names */
    PROTO_MSG_TELEMETRY_EXPOSURE = 14, /* exposure so far per item and per topic */
} proto_type_t;

#define PROTO_MSG_TYPE_COUNT 15 /* one past the largest type number */

/* Error codes: 0 is success. The same negative numbers travel in
 * ERROR.code, so both sides and every language share one table
 * (docs/protocol.md, "Error codes"). */
#define PROTO_ENOMEM (-1) /* out of memory */
#define PROTO_EMALFORMED                                                                           \
    (-2)                       /* not one well-formed msgpack value: truncated, trailing bytes,    \
                                  reserved byte, a length beyond the bytes left */
#define PROTO_ETOOBIG    (-3)  /* over PROTO_MAX_MESSAGE_BYTES or PROTO_MAX_OBJECTS */
#define PROTO_EDEPTH     (-4)  /* nesting deeper than PROTO_MAX_DEPTH */
#define PROTO_EENVELOPE  (-5)  /* not [major, type, seq, body-map] */
#define PROTO_EVERSION   (-6)  /* major version differs from PROTO_VERSION_MAJOR */
#define PROTO_ETYPE      (-7)  /* unknown message type */
#define PROTO_EFIELD     (-8)  /* body key missing, of the wrong type, or out of range */
#define PROTO_ENONFINITE (-9)  /* NaN or infinity in a float field */
#define PROTO_EINVAL     (-10) /* bad argument to an encoder (never sent) */
#define PROTO_ESTATE     (-11) /* message not expected now (e.g. ACT before WELCOME) */
#define PROTO_EDEADLINE  (-12) /* no ACT within deadline_ms: fallback slates used */
#define PROTO_EACTION                                                                              \
    (-13)                 /* invalid ACT (echo mismatch, dead/unknown/duplicate ids):              \
                             fallback slates used */
#define PROTO_EAUTH (-14) /* HELLO token missing or wrong */
#define PROTO_EFULL (-15) /* no free agent slot for this name */

/* Static text for a code above ("unknown error" otherwise): core/err.h's
 * err_str, whose ERR_E... codes these equal (checked at compile time). */
const char *proto_strerror(int err);

/* Limits. A decoder checks them on the raw bytes before anything is
 * allocated; an encoder refuses to produce a message that breaks them. */
#define PROTO_MAX_MESSAGE_BYTES (64u << 20) /* one frame, bytes */
#define PROTO_MAX_DEPTH         16          /* container nesting; the envelope is depth 1 */
#define PROTO_MAX_OBJECTS       65536       /* msgpack values in one message, all levels */
#define PROTO_MAX_NAME          63          /* name, role, capability: [A-Za-z0-9_-]{1,63} */
#define PROTO_MAX_TEXT          1023        /* other strings (token, reason, message), bytes */
#define PROTO_MAX_TITLE         4095        /* CATALOG.items.titles: one item's UTF-8 bytes */
#define PROTO_MAX_AGENTS        64          /* agents in a run (WELCOME.agents, JOINT.agents) */
#define PROTO_MAX_CAPS          16          /* HELLO.caps entries */
#define PROTO_MAX_RANK          4           /* dimensions of a typed array or a Box */
#define PROTO_MAX_SPACE_DEPTH   4           /* spaces nested in Dicts, the outer space is 1 */

/* Limits of the world both sides agree on: the server never configures a
 * world beyond them, an agent may size its arrays by them. The codec
 * refuses (encoding and decoding) a WELCOME, STEP or ACT outside them, so
 * a decoded message never holds more. Agents may support less and must
 * then refuse the WELCOME with a clear message. */
#define PROTO_MAX_SLATE    256      /* WELCOME.slate_size, the width of ACT.slates: 1..256 */
#define PROTO_MAX_DIM      1024     /* WELCOME.dim, embedding and feature width: 1..1024 */
#define PROTO_MAX_HISTORY  1000     /* WELCOME.history_len, columns of STEP history: 0..1000 */
#define PROTO_MAX_TOPICS   10000    /* WELCOME.n_topics: 1..10000; topics are 0..n_topics-1 */
#define PROTO_MAX_USERS    10000000 /* user ids are 0..PROTO_MAX_USERS-1 */
#define PROTO_MAX_ITEM_IDS 20000000 /* item ids one episode may issue: 0..PROTO_MAX_ITEM_IDS-1 */
/* Requests in one STEP (and slates in its ACT), and WELCOME.limits.max_batch:
 * each user asks at most once per tick. PROTO_MAX_MESSAGE_BYTES binds first
 * when requests carry wide features or long histories. */
#define PROTO_MAX_BATCH PROTO_MAX_USERS

/* Element types of typed arrays and Box spaces; on the wire, the string in
 * the comment. All are little-endian. */
typedef enum proto_dtype {
    PROTO_DTYPE_FLOAT32 = 0, /* "float32", 4 bytes, IEEE 754 binary32 */
    PROTO_DTYPE_FLOAT64 = 1, /* "float64", 8 bytes, IEEE 754 binary64 */
    PROTO_DTYPE_INT32 = 2,   /* "int32", 4 bytes, two's complement */
    PROTO_DTYPE_UINT8 = 3,   /* "uint8", 1 byte */
    PROTO_DTYPE_INT64 = 4,   /* "int64", 8 bytes, two's complement */
} proto_dtype_t;

#define PROTO_DTYPE_COUNT 5

/* How users meet agents (WELCOME.mode): the string in the comment. */
typedef enum proto_mode {
    PROTO_MODE_MARKET = 0, /* "market": each user picks one platform */
    PROTO_MODE_FEED = 1,   /* "feed": every agent serves every request, pages interleaved */
} proto_mode_t;

/* Space kinds (Gymnasium vocabulary plus Slate): the string is the name. */
typedef enum proto_space_kind {
    PROTO_SPACE_BOX = 0,            /* "Box" */
    PROTO_SPACE_DISCRETE = 1,       /* "Discrete" */
    PROTO_SPACE_MULTI_DISCRETE = 2, /* "MultiDiscrete" */
    PROTO_SPACE_DICT = 3,           /* "Dict" */
    PROTO_SPACE_SLATE = 4,          /* "Slate" */
} proto_space_kind_t;

/* "HELLO", "WELCOME", ...; NULL for an unknown type. */
const char *proto_type_name(unsigned type);

/* "float32", ...; and bytes per element (0 for an unknown dtype). */
const char *proto_dtype_name(proto_dtype_t dtype);
unsigned proto_dtype_size(proto_dtype_t dtype);

#endif
