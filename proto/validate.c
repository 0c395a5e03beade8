/* Validation, the two stages of the codec that judge rather than convert
 * (codec_private.h):
 *   - the raw byte walk that proves a frame is one msgpack value within
 *     PROTO_MAX_MESSAGE_BYTES, PROTO_MAX_DEPTH and PROTO_MAX_OBJECTS
 *     before msgpack-c, which preallocates on declared sizes, unpacks it;
 *   - the checks of what a control message's structs say (names, string
 *     lengths, NULL arrays with elements, counts, finite floats, spaces),
 *     run by the encoder before packing and by the decoder after
 *     converting, so whatever encodes also decodes. The telemetry
 *     messages' checks are in telemetry_msg.c. */
#include "proto/codec_private.h"
#include "core/text.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

/* ---- stage 1: the raw byte walk ------------------------------------- */

static uint64_t s_read_be(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

void codec_scan(codec_report_t *r, const uint8_t *bytes, size_t size)
{
    uint64_t left[PROTO_MAX_DEPTH + 1]; /* values still to read per open container */
    int level = 0;
    size_t pos = 0;
    uint32_t objects = 0;
    left[0] = 1;
    for (;;) {
        while (level > 0 && left[level] == 0)
            level--;
        if (left[level] == 0)
            break;
        left[level]--;
        if (++objects > PROTO_MAX_OBJECTS) {
            codec_fail(r, PROTO_ETOOBIG, NULL, "more than %d msgpack values", PROTO_MAX_OBJECTS);
            return;
        }
        if (pos >= size) {
            codec_fail(r, PROTO_EMALFORMED, NULL, "truncated: a value is missing at byte %zu", pos);
            return;
        }
        size_t at = pos;
        uint8_t tag = bytes[pos++];
        const char *what = NULL; /* "str", "bin", "ext": a length then bytes; "array", "map" */
        unsigned len_bytes = 0;  /* width of a big-endian length field */
        unsigned fixed = 0;      /* payload bytes of a scalar (or ext's type byte) */
        uint64_t count = 0;
        if (tag <= 0x7f || tag >= 0xe0) {
            /* fixint */
        } else if (tag <= 0x8f) {
            what = "map", count = tag & 0x0f;
        } else if (tag <= 0x9f) {
            what = "array", count = tag & 0x0f;
        } else if (tag <= 0xbf) {
            what = "str", count = tag & 0x1f;
        } else {
            switch (tag) {
            case 0xc0: /* nil */
            case 0xc2: /* false */
            case 0xc3: /* true */
                break;
            case 0xc4:
            case 0xc5:
            case 0xc6:
                what = "bin", len_bytes = 1u << (tag - 0xc4);
                break;
            case 0xc7:
            case 0xc8:
            case 0xc9:
                what = "ext", len_bytes = 1u << (tag - 0xc7), fixed = 1;
                break;
            case 0xca:
                fixed = 4;
                break;
            case 0xcb:
                fixed = 8;
                break;
            case 0xcc:
            case 0xcd:
            case 0xce:
            case 0xcf:
                fixed = 1u << (tag - 0xcc);
                break;
            case 0xd0:
            case 0xd1:
            case 0xd2:
            case 0xd3:
                fixed = 1u << (tag - 0xd0);
                break;
            case 0xd4:
            case 0xd5:
            case 0xd6:
            case 0xd7:
            case 0xd8:
                fixed = 1 + (1u << (tag - 0xd4));
                break;
            case 0xd9:
            case 0xda:
            case 0xdb:
                what = "str", len_bytes = 1u << (tag - 0xd9);
                break;
            case 0xdc:
            case 0xdd:
                what = "array", len_bytes = 2u << (tag - 0xdc);
                break;
            case 0xde:
            case 0xdf:
                what = "map", len_bytes = 2u << (tag - 0xde);
                break;
            default: /* 0xc1 */
            {
                codec_fail(r, PROTO_EMALFORMED, NULL, "reserved byte 0xc1 at byte %zu", at);
                return;
            }
            }
        }
        if (size - pos < (size_t)len_bytes + fixed) {
            codec_fail(r, PROTO_EMALFORMED, NULL, "truncated: value at byte %zu is cut short", at);
            return;
        }
        if (len_bytes)
            count = s_read_be(bytes + pos, len_bytes);
        pos += len_bytes + fixed;
        if (!what)
            continue;
        bool container = what[0] == 'a' || what[0] == 'm';
        /* each element of a container takes at least one byte */
        uint64_t need = what[0] == 'm' ? 2 * count : count;
        if (need > size - pos) {
            codec_fail(r, PROTO_EMALFORMED, NULL,
                       "%s at byte %zu declares %" PRIu64 " %s, only %zu bytes left", what, at,
                       count, container ? "elements" : "bytes", size - pos);
            return;
        }
        if (!container) {
            pos += (size_t)count;
            continue;
        }
        if (level + 1 > PROTO_MAX_DEPTH) {
            codec_fail(r, PROTO_EDEPTH, NULL, "%s at byte %zu nested deeper than %d", what, at,
                       PROTO_MAX_DEPTH);
            return;
        }
        left[++level] = need;
    }
    if (pos != size)
        codec_fail(r, PROTO_EMALFORMED, NULL, "%zu trailing bytes after the message", size - pos);
}

/* ---- stage 3 (shared with the encoder): what the structs say -------- */

void codec_check_name(codec_report_t *r, int bad, const char *key, const char *name)
{
    if (!name)
        codec_fail(r, bad, key, "missing (NULL)");
    else if (!proto_name_valid(name))
        codec_fail(r, bad, key, "\"%.*s\" is not 1..%d characters of [A-Za-z0-9_-]", 80, name,
                   PROTO_MAX_NAME);
}

static void s_check_text(codec_report_t *r, int bad, const char *key, const char *text,
                         bool optional)
{
    if (!text && !optional)
        codec_fail(r, bad, key, "missing (NULL)");
    else if (text && strlen(text) > PROTO_MAX_TEXT)
        codec_fail(r, bad, key, "%zu bytes, more than %d", strlen(text), PROTO_MAX_TEXT);
}

void codec_check_data(codec_report_t *r, int bad, const char *key, const void *data, uint64_t count)
{
    if (!data && count)
        codec_fail(r, bad, key, "NULL with %" PRIu64 " elements", count);
}

void codec_check_double(codec_report_t *r, const char *key, double v)
{
    if (!isfinite(v))
        codec_fail(r, PROTO_ENONFINITE, key, "%s", isnan(v) ? "NaN" : "infinite");
}

static void s_check_floats(codec_report_t *r, const char *key, const float *v, uint64_t count)
{
    if (!v || r->rc)
        return;
    /* one branch-free pass over the exponent bits (it vectorizes); the
     * culprit is looked for only when there is one */
    uint32_t bad = 0;
    for (uint64_t i = 0; i < count; i++) {
        uint32_t bits;
        memcpy(&bits, &v[i], sizeof bits);
        bad |= (bits & 0x7f800000u) == 0x7f800000u;
    }
    for (uint64_t i = 0; bad && i < count && !r->rc; i++)
        if (!isfinite(v[i]))
            codec_fail(r, PROTO_ENONFINITE, key, "element %" PRIu64 " is %s", i,
                       isnan(v[i]) ? "NaN" : "infinite");
}

/* A size agreed on in protocol.h: lo..hi. */
static void s_check_range(codec_report_t *r, int bad, const char *key, uint64_t v, uint64_t lo,
                          uint64_t hi)
{
    if (v < lo || v > hi)
        codec_fail(r, bad, key, "%" PRIu64 " is outside %" PRIu64 "..%" PRIu64 " (protocol.h)", v,
                   lo, hi);
}

static void s_check_items(codec_report_t *r, int bad, const char *key, const proto_items_t *items)
{
    size_t mark = codec_push_key(r, key);
    s_check_range(r, bad, "n", items->n, 0, PROTO_MAX_ITEM_IDS);
    s_check_range(r, bad, "dim", items->dim, 0, PROTO_MAX_DIM);
    codec_check_data(r, bad, "ids", items->ids, items->n);
    codec_check_data(r, bad, "topics", items->topics, items->n);
    codec_check_data(r, bad, "providers", items->providers, items->n);
    codec_check_data(r, bad, "embeddings", items->embeddings, (uint64_t)items->n * items->dim);
    s_check_floats(r, "embeddings", items->embeddings, (uint64_t)items->n * items->dim);
    if (items->titles && strcmp(key, "items") != 0)
        codec_fail(r, bad, "titles", "only CATALOG.items carries titles");
    for (uint32_t i = 0; items->titles && i < items->n && !r->rc; i++) {
        const char *t = items->titles[i];
        bool utf8 = false;
        size_t len = t ? strlen(t) : 0;
        if (t)
            text_utf8_prefix(t, len, &utf8);
        if (!t)
            codec_fail(r, bad, "titles", "entry %" PRIu32 " is NULL", i);
        else if (!utf8)
            codec_fail(r, bad, "titles", "entry %" PRIu32 " is not valid UTF-8", i);
        else if (len > PROTO_MAX_TITLE)
            codec_fail(r, bad, "titles", "entry %" PRIu32 " has %zu bytes, more than %d", i, len,
                       PROTO_MAX_TITLE);
    }
    codec_pop(r, mark);
}

static void s_check_feedback(codec_report_t *r, int bad, const proto_feedback_t *f)
{
    size_t mark = codec_push_key(r, "feedback");
    codec_check_data(r, bad, "user_ids", f->user_ids, f->n);
    codec_check_data(r, bad, "clicked", f->clicked, f->n);
    codec_check_data(r, bad, "reward", f->reward, f->n);
    codec_check_data(r, bad, "session_end", f->session_end, f->n);
    s_check_floats(r, "reward", f->reward, f->n);
    codec_pop(r, mark);
}

static void s_check_space(codec_report_t *r, int bad, const proto_space_t *s, int depth)
{
    if (depth > PROTO_MAX_SPACE_DEPTH) {
        codec_fail(r, bad, NULL, "spaces nested deeper than %d", PROTO_MAX_SPACE_DEPTH);
        return;
    }
    switch (s->kind) {
    case PROTO_SPACE_BOX:
        if ((unsigned)s->dtype >= PROTO_DTYPE_COUNT)
            codec_fail(r, bad, "dtype", "unknown dtype %d", (int)s->dtype);
        if (s->ndim < 1 || s->ndim > PROTO_MAX_RANK)
            codec_fail(r, bad, "shape", "%u dimensions, expected 1..%d", s->ndim, PROTO_MAX_RANK);
        for (uint32_t i = 0; i < s->ndim && i < PROTO_MAX_RANK; i++)
            if (s->shape[i] < -1)
                codec_fail(r, bad, "shape", "size %" PRId64 " (sizes are >= 0, or -1 for variable)",
                           s->shape[i]);
        if (isnan(s->low) || isnan(s->high) || s->low > s->high)
            codec_fail(r, bad, NULL, "bounds [%g, %g] are not an interval", s->low, s->high);
        break;
    case PROTO_SPACE_DISCRETE:
        if (s->n < 1)
            codec_fail(r, bad, "n", "0 values");
        break;
    case PROTO_SPACE_MULTI_DISCRETE:
        codec_check_data(r, bad, "nvec", s->nvec, s->n_nvec);
        if (s->n_nvec < 1)
            codec_fail(r, bad, "nvec", "empty");
        for (uint32_t i = 0; i < s->n_nvec && s->nvec; i++)
            if (s->nvec[i] < 1)
                codec_fail(r, bad, "nvec", "entry %u is 0", i);
        break;
    case PROTO_SPACE_DICT:
        codec_check_data(r, bad, "spaces", s->spaces, s->n_spaces);
        codec_check_data(r, bad, "spaces", s->names, s->n_spaces);
        for (uint32_t i = 0; i < s->n_spaces && s->spaces && s->names && !r->rc; i++) {
            codec_check_name(r, bad, "spaces", s->names[i]);
            size_t mark = codec_push(r, ".spaces.%s", s->names[i] ? s->names[i] : "?");
            s_check_space(r, bad, &s->spaces[i], depth + 1);
            codec_pop(r, mark);
        }
        break;
    case PROTO_SPACE_SLATE:
        if (s->k < 1 || (s->n && s->k > s->n))
            codec_fail(r, bad, "k", "%u picks out of n = %" PRIu64, s->k, s->n);
        break;
    default:
        codec_fail(r, bad, "type", "unknown space kind %d", (int)s->kind);
    }
}

static void s_check_space_at(codec_report_t *r, int bad, const char *key, const proto_space_t *s)
{
    if (!s) {
        codec_fail(r, bad, key, "missing (NULL)");
        return;
    }
    size_t mark = codec_push_key(r, key);
    s_check_space(r, bad, s, 1);
    codec_pop(r, mark);
}

/* ---- the control messages' checks (codec_types) --------------------- */

void codec_check_hello(codec_report_t *r, const proto_msg_t *m, int bad)
{
    const proto_hello_t *h = &m->hello;
    codec_check_name(r, bad, "name", h->name);
    codec_check_name(r, bad, "role", h->role);
    if (h->n_caps > PROTO_MAX_CAPS)
        codec_fail(r, bad, "caps", "%u entries, more than %d", h->n_caps, PROTO_MAX_CAPS);
    codec_check_data(r, bad, "caps", h->caps, h->n_caps);
    for (uint32_t i = 0; i < h->n_caps && h->caps; i++)
        codec_check_name(r, bad, "caps", h->caps[i]);
    s_check_text(r, bad, "token", h->token, true);
}

void codec_check_welcome(codec_report_t *r, const proto_msg_t *m, int bad)
{
    const proto_welcome_t *w = &m->welcome;
    if (w->n_agents < 1 || w->n_agents > PROTO_MAX_AGENTS) {
        codec_fail(r, bad, "n_agents", "%u, expected 1..%d", w->n_agents, PROTO_MAX_AGENTS);
        return;
    }
    if (w->agent_index >= w->n_agents)
        codec_fail(r, bad, "agent_index", "%u, not below n_agents = %u", w->agent_index,
                   w->n_agents);
    codec_check_data(r, bad, "agents", w->agents, w->n_agents);
    for (uint32_t i = 0; i < w->n_agents && w->agents; i++)
        codec_check_name(r, bad, "agents", w->agents[i]);
    if ((unsigned)w->mode >= CODEC_MODE_COUNT)
        codec_fail(r, bad, "mode", "unknown mode %d", (int)w->mode);
    s_check_range(r, bad, "slate_size", w->slate_size, 1, PROTO_MAX_SLATE);
    s_check_range(r, bad, "dim", w->dim, 1, PROTO_MAX_DIM);
    s_check_range(r, bad, "n_topics", w->n_topics, 1, PROTO_MAX_TOPICS);
    s_check_range(r, bad, "history_len", w->history_len, 0, PROTO_MAX_HISTORY);
    s_check_range(r, bad, "limits.max_batch", w->limits.max_batch, 0, PROTO_MAX_BATCH);
    s_check_space_at(r, bad, "observation_space", w->observation_space);
    s_check_space_at(r, bad, "action_space", w->action_space);
}

void codec_check_joint(codec_report_t *r, const proto_msg_t *m, int bad)
{
    const proto_joint_t *j = &m->joint;
    if (j->n_agents < 1 || j->n_agents > PROTO_MAX_AGENTS) {
        codec_fail(r, bad, "agents", "%u entries, expected 1..%d", j->n_agents, PROTO_MAX_AGENTS);
        return;
    }
    codec_check_data(r, bad, "agents", j->agents, j->n_agents);
    for (uint32_t i = 0; i < j->n_agents && j->agents && !r->rc; i++) {
        const proto_joint_agent_t *a = &j->agents[i];
        size_t mark = codec_push(r, ".agents[%u]", i);
        codec_check_data(r, bad, "user_ids", a->user_ids, a->n);
        codec_check_data(r, bad, "features", a->features, (uint64_t)a->n * a->dim);
        codec_check_data(r, bad, "slates", a->slates, (uint64_t)a->n * a->slate_size);
        codec_check_data(r, bad, "clicked", a->clicked, a->n);
        s_check_floats(r, "features", a->features, (uint64_t)a->n * a->dim);
        codec_check_double(r, "reward", a->reward);
        codec_pop(r, mark);
    }
}

void codec_check_catalog(codec_report_t *r, const proto_msg_t *m, int bad)
{
    s_check_items(r, bad, "items", &m->catalog.items);
}

void codec_check_step(codec_report_t *r, const proto_msg_t *m, int bad)
{
    const proto_step_t *s = &m->step;
    const proto_requests_t *q = &s->requests;
    s_check_feedback(r, bad, &s->feedback);
    codec_check_double(r, "tick_reward", s->tick_reward);
    size_t mark = codec_push_key(r, "requests");
    s_check_range(r, bad, "n", q->n, 0, PROTO_MAX_BATCH);
    s_check_range(r, bad, "dim", q->dim, 0, PROTO_MAX_DIM);
    s_check_range(r, bad, "history_len", q->history_len, 0, PROTO_MAX_HISTORY);
    codec_check_data(r, bad, "user_ids", q->user_ids, q->n);
    codec_check_data(r, bad, "features", q->features, (uint64_t)q->n * q->dim);
    codec_check_data(r, bad, "history", q->history, (uint64_t)q->n * q->history_len);
    s_check_floats(r, "features", q->features, (uint64_t)q->n * q->dim);
    codec_pop(r, mark);
    s_check_items(r, bad, "born", &s->born);
    codec_check_data(r, bad, "retired", s->retired, s->n_retired);
}

void codec_check_act(codec_report_t *r, const proto_msg_t *m, int bad)
{
    const proto_act_t *a = &m->act;
    s_check_range(r, bad, "n", a->n, 0, PROTO_MAX_BATCH);
    s_check_range(r, bad, "slate_size", a->slate_size, 0, PROTO_MAX_SLATE);
    codec_check_data(r, bad, "user_ids", a->user_ids, a->n);
    codec_check_data(r, bad, "slates", a->slates, (uint64_t)a->n * a->slate_size);
    for (uint32_t i = 0; a->propensity && i < a->n && !r->rc; i++) {
        double p = a->propensity[i];
        if (!isfinite(p))
            codec_fail(r, PROTO_ENONFINITE, "propensity", "element %" PRIu32 " is %s", i,
                       isnan(p) ? "NaN" : "infinite");
        else if (!(p > 0.0 && p <= 1.0))
            codec_fail(r, bad, "propensity", "element %" PRIu32 " is %.17g, outside (0, 1]", i, p);
    }
}

void codec_check_episode_end(codec_report_t *r, const proto_msg_t *m, int bad)
{
    codec_check_double(r, "reward", m->episode_end.reward);
    s_check_feedback(r, bad, &m->episode_end.feedback);
    codec_check_double(r, "tick_reward", m->episode_end.tick_reward);
}

void codec_check_bye(codec_report_t *r, const proto_msg_t *m, int bad)
{
    s_check_text(r, bad, "reason", m->bye.reason, false);
}

void codec_check_error(codec_report_t *r, const proto_msg_t *m, int bad)
{
    s_check_text(r, bad, "message", m->error.message, false);
}
