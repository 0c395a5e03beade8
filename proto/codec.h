/* Encoding and decoding of every protocol message (protocol.h), bytes in
 * and bytes out; no sockets here. A message is a proto_msg_t: the envelope
 * (major, type, seq) and one body struct per type.
 *
 * Encoding borrows the caller's arrays and writes one frame into a
 * reusable proto_buffer_t, with no allocation per element: a STEP for
 * 1,024 requests costs a few memcpys.
 *
 * Decoding never trusts a declared size: the raw bytes are walked first
 * (every length against the bytes left, nesting depth, object count,
 * message size), then unpacked and checked field by field: type, range,
 * typed array dtype/shape/length, finite floats, names. A decoded message
 * owns aligned copies of its arrays, in storage that the next decode
 * into the same proto_msg_t reuses (decode a STEP per tick into one
 * message and, once warm, decoding allocates only msgpack-c's zone).
 *
 * Errors are 0 or a negative PROTO_E... code (protocol.h) and, where the
 * caller passes a buffer, a message naming the message type and the field,
 * e.g. "ACT.slates: expected typed array int32 (3, 5), got int32 (3, 4)". */
#ifndef RECARENA_CODEC_H
#define RECARENA_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/protocol.h"

#define PROTO_ERR_LEN 256 /* a good size for the err buffers below */

/* A space description (Gymnasium vocabulary plus Slate); only the fields
 * of its kind are meaningful, the others are zero. */
typedef struct proto_space {
    proto_space_kind_t kind;
    /* BOX: every element in [low, high] (may be -inf / inf) */
    proto_dtype_t dtype;
    double low, high;
    uint32_t ndim;                 /* 1..PROTO_MAX_RANK */
    int64_t shape[PROTO_MAX_RANK]; /* (ndim) sizes; -1 = variable (the batch of requests) */
    /* DISCRETE: values 0..n-1. SLATE: k distinct values out of 0..n-1 (n = 0: unbounded) */
    uint64_t n;
    uint32_t k;
    /* MULTI_DISCRETE: value i in 0..nvec[i]-1 */
    uint32_t n_nvec;
    const uint64_t *nvec; /* (n_nvec) */
    /* DICT: named sub-spaces, in wire order */
    uint32_t n_spaces;
    const char *const *names;         /* (n_spaces) */
    const struct proto_space *spaces; /* (n_spaces) */
} proto_space_t;

/* Items (CATALOG.items, STEP.born). */
typedef struct proto_items {
    uint32_t n;
    uint32_t dim;
    const int32_t *ids;       /* (n) */
    const int32_t *topics;    /* (n) */
    const int32_t *providers; /* (n) */
    const float *embeddings;  /* (n, dim) */
    /* (n) optional (1.2), CATALOG only: each item's title or text, valid
     * UTF-8 of 0..PROTO_MAX_TITLE bytes ("" = none); NULL when absent */
    const char *const *titles;
} proto_items_t;

/* What happened to an agent's requests of the previous tick. */
typedef struct proto_feedback {
    uint32_t n;
    const int32_t *user_ids;    /* (n) */
    const int32_t *clicked;     /* (n): position in the agent's slate clicked, -1 = none */
    const float *reward;        /* (n) */
    const uint8_t *session_end; /* (n): 1 if the user's session ended */
} proto_feedback_t;

/* The users an agent must serve this tick. */
typedef struct proto_requests {
    uint32_t n;
    uint32_t dim;
    uint32_t history_len;
    const int32_t *user_ids; /* (n) */
    const float *features;   /* (n, dim) */
    const int32_t *history;  /* (n, history_len): newest first, -1 = none */
} proto_requests_t;

typedef struct proto_hello {
    uint32_t minor;          /* the sender's PROTO_VERSION_MINOR */
    const char *name;        /* [A-Za-z0-9_-]{1,63} */
    const char *role;        /* "agent" */
    uint32_t n_caps;         /* 0..PROTO_MAX_CAPS */
    const char *const *caps; /* (n_caps), e.g. "joint" */
    const char *token;       /* NULL = none */
} proto_hello_t;

typedef struct proto_limits {
    uint32_t deadline_ms;       /* time to answer a STEP, milliseconds */
    uint32_t max_batch;         /* most requests in one STEP */
    uint64_t max_message_bytes; /* largest frame either side may send */
} proto_limits_t;

typedef struct proto_welcome {
    uint32_t agent_index;      /* < n_agents */
    uint32_t n_agents;         /* 1..PROTO_MAX_AGENTS */
    const char *const *agents; /* (n_agents) names, by agent index */
    uint64_t seed;             /* for the agent's own randomness */
    proto_mode_t mode;
    uint32_t slate_size, dim, n_topics, history_len;
    uint32_t ticks;    /* per episode */
    uint32_t episodes; /* in the run */
    const proto_space_t *observation_space;
    const proto_space_t *action_space;
    proto_limits_t limits;
} proto_welcome_t;

typedef struct proto_catalog {
    uint32_t episode, tick;
    proto_items_t items; /* all live items */
} proto_catalog_t;

typedef struct proto_step {
    uint32_t episode, tick;
    uint32_t deadline_ms;
    proto_feedback_t feedback; /* previous tick; empty at an episode's first STEP */
    double tick_reward;        /* the agent's (shared) reward of the previous tick */
    proto_requests_t requests; /* may be empty: answer with an empty ACT */
    proto_items_t born;        /* items born this tick */
    uint32_t n_retired;
    const int32_t *retired; /* (n_retired) ids retired this tick */
} proto_step_t;

typedef struct proto_act {
    uint32_t episode, tick;  /* echo of the STEP */
    uint32_t n;              /* echo of the STEP's request count */
    uint32_t slate_size;     /* k */
    const int32_t *user_ids; /* (n), echo, same order */
    const int32_t *slates;   /* (n, slate_size) item ids */
    /* (n) optional (1.2): the probability of each slate under the agent's
     * policy, finite, in (0, 1]; NULL when absent (not known) */
    const double *propensity;
} proto_act_t;

/* One agent's tick in a JOINT message. */
typedef struct proto_joint_agent {
    uint32_t agent_index;
    uint32_t n, dim, slate_size;
    const int32_t *user_ids; /* (n) */
    const float *features;   /* (n, dim) */
    const int32_t *slates;   /* (n, slate_size), as applied (fallbacks included) */
    const int32_t *clicked;  /* (n): clicked position, -1 = none */
    double reward;           /* the agent's tick reward */
} proto_joint_agent_t;

typedef struct proto_joint {
    uint32_t episode, tick;
    uint32_t n_agents;                 /* 1..PROTO_MAX_AGENTS */
    const proto_joint_agent_t *agents; /* (n_agents) */
} proto_joint_t;

typedef struct proto_episode_end {
    uint32_t episode, ticks;
    double reward; /* the agent's total reward over the episode */
    uint64_t requests, clicks;
    proto_feedback_t feedback; /* of the episode's last tick */
    double tick_reward;        /* of the episode's last tick */
} proto_episode_end_t;

typedef struct proto_bye {
    const char *reason; /* 0..PROTO_MAX_TEXT bytes */
} proto_bye_t;

/* PING and PONG */
typedef struct proto_ping {
    uint64_t nonce; /* PONG echoes the PING's */
} proto_ping_t;

typedef struct proto_error {
    int32_t code;        /* a PROTO_E... code */
    const char *message; /* 0..PROTO_MAX_TEXT bytes */
    bool fatal;          /* the sender drops the connection's slot/session */
    bool has_ref_seq;
    uint64_t ref_seq; /* seq of the message answered, when has_ref_seq */
} proto_error_t;

/* Telemetry (PUB only). Per-agent arrays are by agent index, n_agents
 * (1..PROTO_MAX_AGENTS) long; counts are of the current episode. */
typedef struct proto_telemetry_tick {
    uint32_t episode, tick;
    uint32_t active_users;         /* users in a session at the tick's start */
    uint32_t requests, clicks;     /* pages shown, pages with a click */
    double welfare;                /* utility consumed this tick */
    double ild;                    /* mean intra-list diversity of this tick's pages */
    double gini, coverage;         /* of exposure so far in the episode, over all item ids */
    double entropy;                /* of that exposure, nats */
    uint32_t n_agents;             /* 1..PROTO_MAX_AGENTS */
    const char *const *agents;     /* (n_agents) names */
    const int32_t *agent_requests; /* (n_agents) requests routed to each agent this tick */
    const int32_t *agent_clicks;   /* (n_agents) clicks credited */
    const double *agent_reward;    /* (n_agents) tick reward, after sharing and bonus */
    const double *agent_regret;    /* (n_agents) regret vs the oracle; 0 without oracle */
} proto_telemetry_tick_t;

typedef struct proto_telemetry_episode {
    uint32_t episode, ticks;
    uint64_t requests, clicks;
    double ctr, welfare_per_request, mean_active_users, churn;
    double gini, coverage, entropy_normalized, ild;
    double jaccard, interest_similarity, hhi;
    uint32_t n_agents;             /* 1..PROTO_MAX_AGENTS */
    const char *const *agents;     /* (n_agents) names */
    const int64_t *agent_requests; /* (n_agents) over the episode */
    const int64_t *agent_clicks;   /* (n_agents) */
    const double *agent_reward;    /* (n_agents) */
    const double *agent_regret;    /* (n_agents) */
    const double *agent_share;     /* (n_agents) market: of requests; feed: of clicks */
    const double *agent_gini;      /* (n_agents) Gini of each agent's own slates' exposure over the
                                      episode, in [0, 1]; optional (1.1): NULL when absent */
} proto_telemetry_episode_t;

typedef struct proto_telemetry_exposure {
    uint32_t episode, tick; /* counts through the end of this tick */
    uint32_t n_items;       /* item ids issued so far in the episode */
    const int64_t *items;   /* (n_items) pages that showed each item id, >= 0 */
    uint32_t n_topics;
    const int64_t *topics; /* (n_topics) the same summed per item topic, >= 0 */
} proto_telemetry_exposure_t;

typedef struct proto_storage proto_storage_t; /* what a decoded message owns */

/* One message. Arrays and strings in the body are borrowed from the
 * caller when encoding and owned by `storage` after decoding. Arrays with
 * no elements may be NULL. */
typedef struct proto_msg {
    uint32_t major; /* decoded: the sender's (UINT32_MAX if larger); ignored by encode */
    uint32_t type;  /* a proto_type_t, or an unknown number received (UINT32_MAX if larger) */
    uint64_t seq;   /* the sender's message counter */
    bool has_seq;   /* decoded: seq was read, even if the rest failed (ERROR.ref_seq names it) */
    union {
        proto_hello_t hello;
        proto_welcome_t welcome;
        proto_catalog_t catalog;
        proto_step_t step;
        proto_act_t act;
        proto_joint_t joint;
        proto_episode_end_t episode_end;
        proto_bye_t bye;
        proto_ping_t ping; /* PING and PONG */
        proto_error_t error;
        proto_telemetry_tick_t telemetry_tick;
        proto_telemetry_episode_t telemetry_episode;
        proto_telemetry_exposure_t telemetry_exposure;
    };
    proto_storage_t *storage; /* NULL unless decoded into; freed by proto_msg_fini */
} proto_msg_t;

/* A message to decode into starts zeroed (proto_msg_init, or = {0});
 * proto_msg_fini frees what decoding left in it and zeroes it again.
 * Encode-only messages need neither. */
void proto_msg_init(proto_msg_t *msg);
void proto_msg_fini(proto_msg_t *msg);

/* A growable byte buffer for encoded frames; reuse one per socket so that
 * encoding allocates only when a message is larger than any before. */
typedef struct proto_buffer {
    uint8_t *data; /* (size) bytes of the last message encoded */
    size_t size;
    size_t capacity;
} proto_buffer_t;

void proto_buffer_init(proto_buffer_t *buf);
void proto_buffer_fini(proto_buffer_t *buf); /* frees data, zeroes */

/* Encodes msg (major PROTO_VERSION_MAJOR, msg->type, msg->seq, body) into
 * out, replacing its contents. Borrows msg. Checks what a decoder checks
 * (names, string lengths, NULL arrays with elements, finite floats,
 * counts, size limits), so whatever encodes also decodes. Returns 0,
 * PROTO_EINVAL (bad contents), PROTO_ETYPE, PROTO_ENONFINITE,
 * PROTO_ETOOBIG or PROTO_ENOMEM, with a message in err (may be NULL); on
 * error out->size is 0. */
int proto_encode(const proto_msg_t *msg, proto_buffer_t *out, char *err, size_t err_len);

/* Array sizes the decoder expects, from WELCOME (agent side) or the world
 * configuration (server side); PROTO_DIM_ANY accepts any size. */
#define PROTO_DIM_ANY UINT32_MAX

typedef struct proto_dims {
    uint32_t dim;         /* embedding and feature width */
    uint32_t slate_size;  /* k */
    uint32_t history_len; /* columns of STEP.requests.history */
} proto_dims_t;

/* Decodes one frame of size bytes (borrowed) into msg. msg is zeroed
 * (proto_msg_init) or holds an earlier decode, whose contents this one
 * replaces: pointers into the earlier body become invalid, its storage is
 * reused. The caller owns msg and frees it with proto_msg_fini. dims (may
 * be NULL: any) fixes the expected widths of arrays. Unknown body keys are
 * ignored.
 *
 * Returns 0 or:
 *   PROTO_ETOOBIG, PROTO_EMALFORMED, PROTO_EDEPTH, PROTO_EENVELOPE: the
 *     frame is not a message;
 *   PROTO_EVERSION: msg->major is the sender's major (ours is
 *     PROTO_VERSION_MAJOR), the body is not decoded. An ERROR is decoded
 *     whatever its major (its layout is the same in every version): check
 *     msg->major;
 *   PROTO_ETYPE: unknown type, kept in msg->type (answer with an ERROR);
 *   PROTO_EFIELD, PROTO_ENONFINITE, PROTO_ENOMEM: the body is bad.
 * On error the body is zeroed (msg keeps only storage for reuse, freed by
 * proto_msg_fini as always); msg->major, type and seq are set as far as
 * the envelope could be read (0 otherwise), so the caller can answer with
 * ref_seq = seq; err (may be NULL) names the message type and the field. */
int proto_decode(const void *data, size_t size, const proto_dims_t *dims, proto_msg_t *msg,
                 char *err, size_t err_len);

/* True if name is a valid agent name, role or capability:
 * 1..PROTO_MAX_NAME characters of [A-Za-z0-9_-]. */
bool proto_name_valid(const char *name);

#endif
