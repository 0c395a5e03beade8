/* The server's world-to-message builders (private to the server): they
 * turn the world's state into the protocol's CATALOG, WELCOME, STEP,
 * JOINT and EPISODE_END bodies (docs/protocol.md). Each message is built
 * once per tick: the items born this tick once for every STEP, JOINT once
 * for all its recipients (encoded once; each copy differs only in its
 * seq). Their columns live in buffers reused across ticks, which grow
 * only when a message is larger than any before, so a tick allocates
 * nothing in the steady state.
 *
 * The messages borrow the builder's buffers and the world's arrays: they
 * are valid until the next call on the same builder or a change of the
 * world. */
#ifndef RECARENA_SERVER_MSG_H
#define RECARENA_SERVER_MSG_H

#include "proto/codec.h"
#include "sim/world.h"

#include <stdint.h>

/* Item columns for a proto_items_t, grown on demand. */
typedef struct server_msg_columns {
    int32_t *topics, *providers; /* (capacity) */
    float *embeddings;           /* (capacity, dim) */
    int capacity;
} server_msg_columns_t;

/* What WELCOME says about the world besides the agent's own index and
 * seed: the same for every agent, so built once. */
typedef struct server_msg_spaces {
    proto_space_t obs_parts[3];
    const char *obs_names[3];
    proto_space_t observation, action;
} server_msg_spaces_t;

typedef struct server_msg {
    const world_t *w;          /* borrowed */
    const char *const *titles; /* (n_titles) by item id, borrowed; NULL: no titles */
    int n_titles;
    const char **catalog_titles; /* (titles_capacity) CATALOG.items.titles of the live items */
    int titles_capacity;
    server_msg_columns_t catalog, born;
    proto_items_t born_items; /* this tick's births, set by server_msg_begin_tick */
    server_msg_spaces_t spaces;
    proto_joint_agent_t joint_parts[WORLD_MAX_AGENTS];
    proto_buffer_t joint; /* this tick's JOINT, encoded with seq 0 */
} server_msg_t;

/* A builder for w (borrowed, must outlive it). titles: NULL, or the title
 * of each item id below n_titles (borrowed, must outlive it; each valid
 * UTF-8 of at most PROTO_MAX_TITLE bytes, "" for none), which CATALOG
 * then carries (items born later have none: ""). Allocates nothing yet. */
void server_msg_init(server_msg_t *m, const world_t *w, const char *const *titles, int n_titles);
void server_msg_fini(server_msg_t *m);

/* CATALOG: every live item, with titles when the builder has them. 0, or
 * ERR_ENOMEM (out left untouched). */
int server_msg_catalog(server_msg_t *m, proto_msg_t *out);

/* WELCOME for agent of n_agents named names (borrowed), with its seed
 * and the run's episode count, deadline and batch limits. */
void server_msg_welcome(server_msg_t *m, int agent, int n_agents, const char *const *names,
                        uint64_t seed, int episodes, int deadline_ms, proto_msg_t *out);

/* Builds the columns of the items born this tick, shared by every STEP of
 * the tick: call after world_begin_tick, before server_msg_step. 0 or
 * ERR_ENOMEM. */
int server_msg_begin_tick(server_msg_t *m);

/* STEP for agent: the feedback of the last tick, this tick's requests and
 * the catalog changes. */
void server_msg_step(const server_msg_t *m, int agent, int deadline_ms, proto_msg_t *out);

/* Encodes this tick's JOINT (every agent's requests, slates, clicks and
 * reward: stats from world_end_tick) once into m->joint, seq 0. 0 or the
 * encoder's code, with a message in err. */
int server_msg_encode_joint(server_msg_t *m, const world_tick_stats_t *stats, char *err,
                            size_t err_len);

/* EPISODE_END for agent, with its totals over the episode. */
void server_msg_episode_end(const server_msg_t *m, int agent, double reward, long requests,
                            long clicks, proto_msg_t *out);

/* Copies the encoded frame into out with its envelope's seq replaced by
 * seq: the bytes proto_encode would give for the same message with that
 * seq (the envelope [major, type, seq, body] is the same in every major
 * version, docs/protocol.md). 0, ERR_EENVELOPE for a frame that does not
 * start with such an envelope, or ERR_ENOMEM. */
int server_msg_with_seq(const proto_buffer_t *frame, uint64_t seq, proto_buffer_t *out);

#endif
