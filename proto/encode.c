/* Encoding (codec.h, proto_encode): a proto_msg_t into one msgpack frame
 * in a reusable proto_buffer_t. The type's check (validate.c) runs first;
 * then the envelope and the type's encoder (codec_types) pack straight
 * into the buffer, typed arrays as one bin each, with no allocation per
 * element. The telemetry messages' encoders are in telemetry_msg.c. */
#include "proto/codec_private.h"

#include <stdlib.h>
#include <string.h>

/* ---- the frame buffer and the field packers ------------------------- */

/* msgpack_packer callback: appends to the buffer, up to the size limit. */
static int s_write(void *data, const char *bytes, size_t len)
{
    codec_writer_t *w = data;
    proto_buffer_t *b = w->buf;
    if (w->rc)
        return -1;
    if (len > PROTO_MAX_MESSAGE_BYTES - b->size) {
        w->rc = PROTO_ETOOBIG;
        return -1;
    }
    if (len > b->capacity - b->size) {
        size_t capacity = b->capacity ? b->capacity : 4096;
        while (capacity < b->size + len)
            capacity *= 2;
        uint8_t *grown = realloc(b->data, capacity);
        if (!grown) {
            w->rc = PROTO_ENOMEM;
            return -1;
        }
        b->data = grown;
        b->capacity = capacity;
    }
    if (len)
        memcpy(b->data + b->size, bytes, len);
    b->size += len;
    return 0;
}

void proto_buffer_init(proto_buffer_t *buf)
{
    buf->data = NULL;
    buf->size = 0;
    buf->capacity = 0;
}

void proto_buffer_fini(proto_buffer_t *buf)
{
    free(buf->data);
    proto_buffer_init(buf);
}

void codec_pack_key(codec_encoder_t *e, const char *key)
{
    msgpack_pack_str_with_body(&e->pk, key, strlen(key));
}

void codec_pack_uint(codec_encoder_t *e, const char *key, uint64_t v)
{
    codec_pack_key(e, key);
    msgpack_pack_uint64(&e->pk, v);
}

void codec_pack_double(codec_encoder_t *e, const char *key, double v)
{
    codec_pack_key(e, key);
    msgpack_pack_double(&e->pk, v);
}

void codec_pack_str(codec_encoder_t *e, const char *key, const char *s)
{
    if (key)
        codec_pack_key(e, key);
    msgpack_pack_str_with_body(&e->pk, s, strlen(s));
}

/* key: {"dtype": name, "shape": [shape...], "data": bin}, data: prod(shape) elements. */
static void s_pack_array(codec_encoder_t *e, const char *key, proto_dtype_t dtype, uint32_t ndim,
                         const uint32_t *shape, const void *data)
{
    uint64_t bytes = proto_dtype_size(dtype);
    for (uint32_t i = 0; i < ndim; i++) {
        if (shape[i] && bytes > PROTO_MAX_MESSAGE_BYTES / shape[i]) {
            codec_fail(&e->r, PROTO_ETOOBIG, key, "more than %u bytes", PROTO_MAX_MESSAGE_BYTES);
            return;
        }
        bytes *= shape[i];
    }
    codec_pack_key(e, key);
    msgpack_pack_map(&e->pk, 3);
    codec_pack_str(e, "dtype", proto_dtype_name(dtype));
    codec_pack_key(e, "shape");
    msgpack_pack_array(&e->pk, ndim);
    for (uint32_t i = 0; i < ndim; i++)
        msgpack_pack_uint32(&e->pk, shape[i]);
    codec_pack_key(e, "data");
    msgpack_pack_bin_with_body(&e->pk, data, (size_t)bytes);
}

void codec_pack_array1(codec_encoder_t *e, const char *key, proto_dtype_t dtype, uint32_t n,
                       const void *data)
{
    s_pack_array(e, key, dtype, 1, (const uint32_t[]){n}, data);
}

static void s_pack_array2(codec_encoder_t *e, const char *key, proto_dtype_t dtype, uint32_t n,
                          uint32_t m, const void *data)
{
    s_pack_array(e, key, dtype, 2, (const uint32_t[]){n, m}, data);
}

static void s_pack_items(codec_encoder_t *e, const char *key, const proto_items_t *items)
{
    codec_pack_key(e, key);
    msgpack_pack_map(&e->pk, items->titles ? 5 : 4);
    codec_pack_array1(e, "ids", PROTO_DTYPE_INT32, items->n, items->ids);
    codec_pack_array1(e, "topics", PROTO_DTYPE_INT32, items->n, items->topics);
    codec_pack_array1(e, "providers", PROTO_DTYPE_INT32, items->n, items->providers);
    s_pack_array2(e, "embeddings", PROTO_DTYPE_FLOAT32, items->n, items->dim, items->embeddings);
    if (!items->titles) /* optional, since 1.2: one bin of n NUL-terminated strings */
        return;
    size_t bytes = 0;
    for (uint32_t i = 0; i < items->n; i++)
        bytes += strlen(items->titles[i]) + 1; /* each at most PROTO_MAX_TITLE + 1 (checked) */
    if (bytes > PROTO_MAX_MESSAGE_BYTES) {
        codec_fail(&e->r, PROTO_ETOOBIG, "titles", "more than %u bytes", PROTO_MAX_MESSAGE_BYTES);
        return;
    }
    codec_pack_key(e, "titles");
    msgpack_pack_bin(&e->pk, bytes);
    for (uint32_t i = 0; i < items->n; i++)
        msgpack_pack_bin_body(&e->pk, items->titles[i], strlen(items->titles[i]) + 1);
}

static void s_pack_feedback(codec_encoder_t *e, const proto_feedback_t *f)
{
    codec_pack_key(e, "feedback");
    msgpack_pack_map(&e->pk, 4);
    codec_pack_array1(e, "user_ids", PROTO_DTYPE_INT32, f->n, f->user_ids);
    codec_pack_array1(e, "clicked", PROTO_DTYPE_INT32, f->n, f->clicked);
    codec_pack_array1(e, "reward", PROTO_DTYPE_FLOAT32, f->n, f->reward);
    codec_pack_array1(e, "session_end", PROTO_DTYPE_UINT8, f->n, f->session_end);
}

static void s_pack_space(codec_encoder_t *e, const proto_space_t *s)
{
    static const uint32_t keys[] = {5, 2, 2, 2, 3}; /* map size per kind */
    msgpack_pack_map(&e->pk, keys[s->kind]);
    codec_pack_str(e, "type", codec_space_names[s->kind]);
    switch (s->kind) {
    case PROTO_SPACE_BOX:
        codec_pack_double(e, "low", s->low);
        codec_pack_double(e, "high", s->high);
        codec_pack_key(e, "shape");
        msgpack_pack_array(&e->pk, s->ndim);
        for (uint32_t i = 0; i < s->ndim; i++)
            msgpack_pack_int64(&e->pk, s->shape[i]);
        codec_pack_str(e, "dtype", proto_dtype_name(s->dtype));
        break;
    case PROTO_SPACE_DISCRETE:
        codec_pack_uint(e, "n", s->n);
        break;
    case PROTO_SPACE_MULTI_DISCRETE:
        codec_pack_key(e, "nvec");
        msgpack_pack_array(&e->pk, s->n_nvec);
        for (uint32_t i = 0; i < s->n_nvec; i++)
            msgpack_pack_uint64(&e->pk, s->nvec[i]);
        break;
    case PROTO_SPACE_DICT:
        codec_pack_key(e, "spaces");
        msgpack_pack_map(&e->pk, s->n_spaces);
        for (uint32_t i = 0; i < s->n_spaces; i++) {
            codec_pack_str(e, NULL, s->names[i]);
            s_pack_space(e, &s->spaces[i]);
        }
        break;
    case PROTO_SPACE_SLATE:
        codec_pack_uint(e, "n", s->n);
        codec_pack_uint(e, "k", s->k);
        break;
    }
}

void codec_pack_names(codec_encoder_t *e, const char *key, uint32_t n, const char *const *names)
{
    codec_pack_key(e, key);
    msgpack_pack_array(&e->pk, n);
    for (uint32_t i = 0; i < n; i++)
        codec_pack_str(e, NULL, names[i]);
}

/* ---- the control messages' encoders (codec_types) ------------------- */

void codec_encode_hello(codec_encoder_t *e, const proto_msg_t *m)
{
    const proto_hello_t *h = &m->hello;
    msgpack_pack_map(&e->pk, h->token ? 5 : 4);
    codec_pack_uint(e, "minor", h->minor);
    codec_pack_str(e, "name", h->name);
    codec_pack_str(e, "role", h->role);
    codec_pack_key(e, "caps");
    msgpack_pack_array(&e->pk, h->n_caps);
    for (uint32_t i = 0; i < h->n_caps; i++)
        codec_pack_str(e, NULL, h->caps[i]);
    if (h->token)
        codec_pack_str(e, "token", h->token);
}

void codec_encode_welcome(codec_encoder_t *e, const proto_msg_t *m)
{
    const proto_welcome_t *w = &m->welcome;
    msgpack_pack_map(&e->pk, 14);
    codec_pack_uint(e, "agent_index", w->agent_index);
    codec_pack_uint(e, "n_agents", w->n_agents);
    codec_pack_names(e, "agents", w->n_agents, w->agents);
    codec_pack_uint(e, "seed", w->seed);
    codec_pack_str(e, "mode", codec_mode_names[w->mode]);
    codec_pack_uint(e, "slate_size", w->slate_size);
    codec_pack_uint(e, "dim", w->dim);
    codec_pack_uint(e, "n_topics", w->n_topics);
    codec_pack_uint(e, "history_len", w->history_len);
    codec_pack_uint(e, "ticks", w->ticks);
    codec_pack_uint(e, "episodes", w->episodes);
    codec_pack_key(e, "observation_space");
    s_pack_space(e, w->observation_space);
    codec_pack_key(e, "action_space");
    s_pack_space(e, w->action_space);
    codec_pack_key(e, "limits");
    msgpack_pack_map(&e->pk, 3);
    codec_pack_uint(e, "deadline_ms", w->limits.deadline_ms);
    codec_pack_uint(e, "max_batch", w->limits.max_batch);
    codec_pack_uint(e, "max_message_bytes", w->limits.max_message_bytes);
}

void codec_encode_catalog(codec_encoder_t *e, const proto_msg_t *m)
{
    msgpack_pack_map(&e->pk, 3);
    codec_pack_uint(e, "episode", m->catalog.episode);
    codec_pack_uint(e, "tick", m->catalog.tick);
    s_pack_items(e, "items", &m->catalog.items);
}

void codec_encode_step(codec_encoder_t *e, const proto_msg_t *m)
{
    const proto_step_t *s = &m->step;
    const proto_requests_t *q = &s->requests;
    msgpack_pack_map(&e->pk, 8);
    codec_pack_uint(e, "episode", s->episode);
    codec_pack_uint(e, "tick", s->tick);
    codec_pack_uint(e, "deadline_ms", s->deadline_ms);
    s_pack_feedback(e, &s->feedback);
    codec_pack_double(e, "tick_reward", s->tick_reward);
    codec_pack_key(e, "requests");
    msgpack_pack_map(&e->pk, 3);
    codec_pack_array1(e, "user_ids", PROTO_DTYPE_INT32, q->n, q->user_ids);
    s_pack_array2(e, "features", PROTO_DTYPE_FLOAT32, q->n, q->dim, q->features);
    s_pack_array2(e, "history", PROTO_DTYPE_INT32, q->n, q->history_len, q->history);
    s_pack_items(e, "born", &s->born);
    codec_pack_array1(e, "retired", PROTO_DTYPE_INT32, s->n_retired, s->retired);
}

void codec_encode_act(codec_encoder_t *e, const proto_msg_t *m)
{
    msgpack_pack_map(&e->pk, m->act.propensity ? 5 : 4);
    codec_pack_uint(e, "episode", m->act.episode);
    codec_pack_uint(e, "tick", m->act.tick);
    codec_pack_array1(e, "user_ids", PROTO_DTYPE_INT32, m->act.n, m->act.user_ids);
    s_pack_array2(e, "slates", PROTO_DTYPE_INT32, m->act.n, m->act.slate_size, m->act.slates);
    if (m->act.propensity) /* optional, since 1.2 */
        codec_pack_array1(e, "propensity", PROTO_DTYPE_FLOAT64, m->act.n, m->act.propensity);
}

void codec_encode_joint(codec_encoder_t *e, const proto_msg_t *m)
{
    const proto_joint_t *j = &m->joint;
    msgpack_pack_map(&e->pk, 3);
    codec_pack_uint(e, "episode", j->episode);
    codec_pack_uint(e, "tick", j->tick);
    codec_pack_key(e, "agents");
    msgpack_pack_array(&e->pk, j->n_agents);
    for (uint32_t i = 0; i < j->n_agents; i++) {
        const proto_joint_agent_t *a = &j->agents[i];
        msgpack_pack_map(&e->pk, 6);
        codec_pack_uint(e, "agent_index", a->agent_index);
        codec_pack_array1(e, "user_ids", PROTO_DTYPE_INT32, a->n, a->user_ids);
        s_pack_array2(e, "features", PROTO_DTYPE_FLOAT32, a->n, a->dim, a->features);
        s_pack_array2(e, "slates", PROTO_DTYPE_INT32, a->n, a->slate_size, a->slates);
        codec_pack_array1(e, "clicked", PROTO_DTYPE_INT32, a->n, a->clicked);
        codec_pack_double(e, "reward", a->reward);
    }
}

void codec_encode_episode_end(codec_encoder_t *e, const proto_msg_t *m)
{
    const proto_episode_end_t *x = &m->episode_end;
    msgpack_pack_map(&e->pk, 7);
    codec_pack_uint(e, "episode", x->episode);
    codec_pack_uint(e, "ticks", x->ticks);
    codec_pack_double(e, "reward", x->reward);
    codec_pack_uint(e, "requests", x->requests);
    codec_pack_uint(e, "clicks", x->clicks);
    s_pack_feedback(e, &x->feedback);
    codec_pack_double(e, "tick_reward", x->tick_reward);
}

void codec_encode_bye(codec_encoder_t *e, const proto_msg_t *m)
{
    msgpack_pack_map(&e->pk, 1);
    codec_pack_str(e, "reason", m->bye.reason);
}

/* PING and PONG */
void codec_encode_ping(codec_encoder_t *e, const proto_msg_t *m)
{
    msgpack_pack_map(&e->pk, 1);
    codec_pack_uint(e, "nonce", m->ping.nonce);
}

void codec_encode_error(codec_encoder_t *e, const proto_msg_t *m)
{
    const proto_error_t *x = &m->error;
    msgpack_pack_map(&e->pk, x->has_ref_seq ? 4 : 3);
    codec_pack_key(e, "code");
    msgpack_pack_int32(&e->pk, x->code);
    codec_pack_str(e, "message", x->message);
    codec_pack_key(e, "fatal");
    if (x->fatal)
        msgpack_pack_true(&e->pk);
    else
        msgpack_pack_false(&e->pk);
    if (x->has_ref_seq)
        codec_pack_uint(e, "ref_seq", x->ref_seq);
}

/* ---- the entry point ------------------------------------------------- */

int proto_encode(const proto_msg_t *msg, proto_buffer_t *out, char *err, size_t err_len)
{
    codec_encoder_t e;
    const char *name = proto_type_name(msg->type);
    codec_report_init(&e.r, name ? name : "envelope", err, err_len);
    out->size = 0;
    if (!name) {
        codec_fail(&e.r, PROTO_ETYPE, NULL, "unknown message type %u", msg->type);
        return e.r.rc;
    }
    const codec_type_t *type = &codec_types[msg->type];
    if (type->check)
        type->check(&e.r, msg, PROTO_EINVAL);
    if (e.r.rc)
        return e.r.rc;
    e.w = (codec_writer_t){.buf = out, .rc = 0};
    msgpack_packer_init(&e.pk, &e.w, s_write);
    msgpack_pack_array(&e.pk, 4);
    msgpack_pack_uint32(&e.pk, PROTO_VERSION_MAJOR);
    msgpack_pack_uint32(&e.pk, msg->type);
    msgpack_pack_uint64(&e.pk, msg->seq);
    type->encode(&e, msg);
    if (e.w.rc == PROTO_ETOOBIG)
        codec_fail(&e.r, e.w.rc, NULL, "message exceeds %u bytes", PROTO_MAX_MESSAGE_BYTES);
    else if (e.w.rc)
        codec_fail(&e.r, e.w.rc, NULL, "out of memory");
    if (e.r.rc)
        out->size = 0;
    return e.r.rc;
}
