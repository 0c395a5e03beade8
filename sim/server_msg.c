/* The server's world-to-message builders (server_msg.h). */
#include "sim/server_msg.h"

#include "proto/protocol.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void s_columns_fini(server_msg_columns_t *c)
{
    free(c->topics);
    free(c->providers);
    free(c->embeddings);
    *c = (server_msg_columns_t){0};
}

/* Room for n items of dim; keeps the old columns when allocation fails. */
static int s_columns_reserve(server_msg_columns_t *c, int n, int dim)
{
    if (n <= c->capacity)
        return 0;
    int cap = c->capacity ? c->capacity : 16;
    while (cap < n)
        cap = cap > INT32_MAX / 2 ? n : 2 * cap;
    int32_t *topics = realloc(c->topics, (size_t)cap * sizeof *topics);
    if (topics)
        c->topics = topics;
    int32_t *providers = realloc(c->providers, (size_t)cap * sizeof *providers);
    if (providers)
        c->providers = providers;
    float *emb = realloc(c->embeddings, (size_t)cap * (size_t)dim * sizeof *emb);
    if (emb)
        c->embeddings = emb;
    if (!topics || !providers || !emb)
        return ERR_ENOMEM;
    c->capacity = cap;
    return 0;
}

/* Items ids[0..n) as proto items, their columns in c. */
static int s_items(const world_t *w, server_msg_columns_t *c, const int32_t *ids, int n,
                   proto_items_t *out)
{
    int dim = world_config(w)->dim;
    int rc = s_columns_reserve(c, n, dim);
    if (rc != 0)
        return rc;
    for (int i = 0; i < n; i++) {
        const world_item_t *it = world_item(w, ids[i]);
        c->topics[i] = it->topic;
        c->providers[i] = it->provider;
        memcpy(&c->embeddings[(size_t)i * dim], world_item_embedding(w, ids[i]),
               (size_t)dim * sizeof *c->embeddings);
    }
    *out = (proto_items_t){.n = (uint32_t)n,
                           .dim = (uint32_t)dim,
                           .ids = ids,
                           .topics = c->topics,
                           .providers = c->providers,
                           .embeddings = c->embeddings};
    return 0;
}

void server_msg_init(server_msg_t *m, const world_t *w, const char *const *titles, int n_titles)
{
    *m = (server_msg_t){.w = w,
                        .titles = titles,
                        .n_titles = titles ? n_titles : 0,
                        .born_items = {.dim = (uint32_t)world_config(w)->dim}};
    proto_buffer_init(&m->joint);
    const world_config_t *cfg = world_config(w);
    /* observation: Dict{user_ids, features, history} with a variable batch;
     * action: Slate{n: item id bound, k} */
    server_msg_spaces_t *sp = &m->spaces;
    sp->obs_parts[0] = (proto_space_t){.kind = PROTO_SPACE_BOX,
                                       .dtype = PROTO_DTYPE_INT32,
                                       .low = 0,
                                       .high = cfg->n_users - 1,
                                       .ndim = 1,
                                       .shape = {-1}};
    sp->obs_parts[1] = (proto_space_t){.kind = PROTO_SPACE_BOX,
                                       .dtype = PROTO_DTYPE_FLOAT32,
                                       .low = -INFINITY,
                                       .high = INFINITY,
                                       .ndim = 2,
                                       .shape = {-1, cfg->dim}};
    sp->obs_parts[2] = (proto_space_t){.kind = PROTO_SPACE_BOX,
                                       .dtype = PROTO_DTYPE_INT32,
                                       .low = -1,
                                       .high = world_item_capacity(w) - 1,
                                       .ndim = 2,
                                       .shape = {-1, cfg->history_len}};
    sp->obs_names[0] = "user_ids";
    sp->obs_names[1] = "features";
    sp->obs_names[2] = "history";
    sp->observation = (proto_space_t){
        .kind = PROTO_SPACE_DICT, .n_spaces = 3, .names = sp->obs_names, .spaces = sp->obs_parts};
    sp->action = (proto_space_t){.kind = PROTO_SPACE_SLATE,
                                 .n = (uint64_t)world_item_capacity(w),
                                 .k = (uint32_t)cfg->slate_size};
}

void server_msg_fini(server_msg_t *m)
{
    free(m->catalog_titles);
    s_columns_fini(&m->catalog);
    s_columns_fini(&m->born);
    proto_buffer_fini(&m->joint);
}

int server_msg_catalog(server_msg_t *m, proto_msg_t *out)
{
    int n;
    const int32_t *live = world_live_items(m->w, &n);
    proto_items_t items;
    int rc = s_items(m->w, &m->catalog, live, n, &items);
    if (rc != 0)
        return rc;
    if (m->titles) {
        if (n > m->titles_capacity) {
            const char **grown = realloc(m->catalog_titles, (size_t)n * sizeof *grown);
            if (!grown)
                return ERR_ENOMEM;
            m->catalog_titles = grown;
            m->titles_capacity = n;
        }
        for (int i = 0; i < n; i++)
            m->catalog_titles[i] = live[i] < m->n_titles ? m->titles[live[i]] : "";
        items.titles = m->catalog_titles;
    }
    *out = (proto_msg_t){.type = PROTO_MSG_CATALOG};
    out->catalog = (proto_catalog_t){
        .episode = world_episode(m->w), .tick = (uint32_t)world_tick(m->w), .items = items};
    return 0;
}

void server_msg_welcome(server_msg_t *m, int agent, int n_agents, const char *const *names,
                        uint64_t seed, int episodes, int deadline_ms, proto_msg_t *out)
{
    const world_config_t *cfg = world_config(m->w);
    *out = (proto_msg_t){.type = PROTO_MSG_WELCOME};
    out->welcome = (proto_welcome_t){
        .agent_index = (uint32_t)agent,
        .n_agents = (uint32_t)n_agents,
        .agents = names,
        .seed = seed,
        .mode = cfg->mode == WORLD_MODE_MARKET ? PROTO_MODE_MARKET : PROTO_MODE_FEED,
        .slate_size = (uint32_t)cfg->slate_size,
        .dim = (uint32_t)cfg->dim,
        .n_topics = (uint32_t)cfg->n_topics,
        .history_len = (uint32_t)cfg->history_len,
        .ticks = (uint32_t)cfg->ticks,
        .episodes = (uint32_t)episodes,
        .observation_space = &m->spaces.observation,
        .action_space = &m->spaces.action,
        .limits = {.deadline_ms = (uint32_t)deadline_ms,
                   .max_batch = (uint32_t)cfg->n_users,
                   .max_message_bytes = PROTO_MAX_MESSAGE_BYTES},
    };
}

int server_msg_begin_tick(server_msg_t *m)
{
    int n_born;
    const int32_t *born = world_born(m->w, &n_born);
    return s_items(m->w, &m->born, born, n_born, &m->born_items);
}

static proto_feedback_t s_feedback(const world_feedback_t *fb)
{
    return (proto_feedback_t){.n = (uint32_t)fb->n,
                              .user_ids = fb->user_ids,
                              .clicked = fb->clicked,
                              .reward = fb->reward,
                              .session_end = fb->session_end};
}

void server_msg_step(const server_msg_t *m, int agent, int deadline_ms, proto_msg_t *out)
{
    const world_t *w = m->w;
    const world_requests_t *r = world_requests(w, agent);
    const world_feedback_t *fb = world_feedback(w, agent);
    const world_config_t *cfg = world_config(w);
    int n_retired;
    const int32_t *retired = world_retired(w, &n_retired);
    *out = (proto_msg_t){.type = PROTO_MSG_STEP};
    out->step = (proto_step_t){
        .episode = world_episode(w),
        .tick = (uint32_t)world_tick(w),
        .deadline_ms = (uint32_t)deadline_ms,
        .feedback = s_feedback(fb),
        .tick_reward = world_tick(w) > 0 ? fb->tick_reward : 0.0,
        .requests = {.n = (uint32_t)r->n,
                     .dim = (uint32_t)cfg->dim,
                     .history_len = (uint32_t)cfg->history_len,
                     .user_ids = r->user_ids,
                     .features = r->features,
                     .history = r->history},
        .born = m->born_items,
        .n_retired = (uint32_t)n_retired,
        .retired = retired,
    };
}

int server_msg_encode_joint(server_msg_t *m, const world_tick_stats_t *stats, char *err,
                            size_t err_len)
{
    const world_t *w = m->w;
    const world_config_t *cfg = world_config(w);
    for (int a = 0; a < cfg->n_agents; a++) {
        const world_requests_t *r = world_requests(w, a);
        m->joint_parts[a] = (proto_joint_agent_t){.agent_index = (uint32_t)a,
                                                  .n = (uint32_t)r->n,
                                                  .dim = (uint32_t)cfg->dim,
                                                  .slate_size = (uint32_t)cfg->slate_size,
                                                  .user_ids = r->user_ids,
                                                  .features = r->features,
                                                  .slates = world_slates(w, a),
                                                  .clicked = world_feedback(w, a)->clicked,
                                                  .reward = stats->agent_reward[a]};
    }
    proto_msg_t msg = {.type = PROTO_MSG_JOINT, .seq = 0};
    msg.joint = (proto_joint_t){.episode = world_episode(w),
                                .tick = (uint32_t)stats->tick,
                                .n_agents = (uint32_t)cfg->n_agents,
                                .agents = m->joint_parts};
    return proto_encode(&msg, &m->joint, err, err_len);
}

void server_msg_episode_end(const server_msg_t *m, int agent, double reward, long requests,
                            long clicks, proto_msg_t *out)
{
    const world_feedback_t *fb = world_feedback(m->w, agent);
    *out = (proto_msg_t){.type = PROTO_MSG_EPISODE_END};
    out->episode_end = (proto_episode_end_t){
        .episode = world_episode(m->w),
        .ticks = (uint32_t)world_tick(m->w),
        .reward = reward,
        .requests = (uint64_t)requests,
        .clicks = (uint64_t)clicks,
        .feedback = s_feedback(fb),
        .tick_reward = fb->tick_reward,
    };
}

/* Bytes of the MessagePack uint starting with byte b; 0: not a uint. */
static size_t s_uint_size(uint8_t b)
{
    if (b < 0x80)
        return 1; /* positive fixint */
    switch (b) {
    case 0xcc:
        return 2;
    case 0xcd:
        return 3;
    case 0xce:
        return 5;
    case 0xcf:
        return 9;
    default:
        return 0;
    }
}

/* seq in the shortest MessagePack form (as msgpack_pack_uint64 writes it)
 * into out (9 bytes at most); returns its size. */
static size_t s_pack_uint(uint64_t v, uint8_t *out)
{
    size_t n;
    if (v < 0x80) {
        out[0] = (uint8_t)v;
        return 1;
    }
    if (v <= UINT8_MAX) {
        out[0] = 0xcc;
        n = 1;
    } else if (v <= UINT16_MAX) {
        out[0] = 0xcd;
        n = 2;
    } else if (v <= UINT32_MAX) {
        out[0] = 0xce;
        n = 4;
    } else {
        out[0] = 0xcf;
        n = 8;
    }
    for (size_t i = 0; i < n; i++) /* big-endian */
        out[1 + i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    return 1 + n;
}

int server_msg_with_seq(const proto_buffer_t *frame, uint64_t seq, proto_buffer_t *out)
{
    /* 0x94 (array of 4), major and type as positive fixints, then seq */
    const uint8_t *f = frame->data;
    if (frame->size < 4 || f[0] != 0x94 || f[1] >= 0x80 || f[2] >= 0x80)
        return ERR_EENVELOPE;
    size_t old = s_uint_size(f[3]);
    if (old == 0 || frame->size < 3 + old)
        return ERR_EENVELOPE;
    uint8_t packed[9];
    size_t n = s_pack_uint(seq, packed);
    size_t size = frame->size - old + n;
    if (size > out->capacity) {
        uint8_t *data = realloc(out->data, size);
        if (!data)
            return ERR_ENOMEM;
        out->data = data;
        out->capacity = size;
    }
    memcpy(out->data, f, 3);
    memcpy(out->data + 3, packed, n);
    memcpy(out->data + 3 + n, f + 3 + old, frame->size - 3 - old);
    out->size = size;
    return 0;
}
