/* The protocol codec (codec.h): proto_msg_t to msgpack frames and back.
 *
 * Decoding runs in three stages, so that msgpack-c, which preallocates
 * arrays and maps on their declared sizes, only ever sees bytes already
 * proven sound:
 *   1. s_scan walks the raw bytes over the msgpack format: every length
 *      against the bytes left, nesting depth, object count, no trailing
 *      bytes;
 *   2. msgpack-c unpacks into a zone; the s_decode_* functions convert
 *      objects into the body structs, checking each key's msgpack type and
 *      each typed array's dtype, shape and length, copying arrays out (bin
 *      data is not aligned);
 *   3. s_check_msg checks what the structs say (names, string lengths,
 *      counts, finite floats, spaces). The encoder runs the same checks
 *      before packing, so whatever encodes also decodes.
 * Errors are sticky: the first one is kept, later steps do nothing. */
#include "proto/codec.h"

#include "core/err.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "typed arrays are copied as they lie in memory: the codec needs a little-endian host"
#endif

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

static const char *const s_type_names[PROTO_MSG_TYPE_COUNT] = {
    NULL,
    "HELLO",
    "WELCOME",
    "CATALOG",
    "STEP",
    "ACT",
    "JOINT",
    "EPISODE_END",
    "BYE",
    "PING",
    "PONG",
    "ERROR",
    "TELEMETRY_TICK",
    "TELEMETRY_EPISODE",
    "TELEMETRY_EXPOSURE",
};

const char *proto_type_name(unsigned type)
{
    return type < PROTO_MSG_TYPE_COUNT ? s_type_names[type] : NULL;
}

static const char *const s_dtype_names[PROTO_DTYPE_COUNT] = {"float32", "float64", "int32", "uint8",
                                                             "int64"};
static const unsigned s_dtype_sizes[PROTO_DTYPE_COUNT] = {4, 8, 4, 1, 8};
static const char *const s_mode_names[] = {"market", "feed"};
static const char *const s_space_names[] = {"Box", "Discrete", "MultiDiscrete", "Dict", "Slate"};

#define S_COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *proto_dtype_name(proto_dtype_t dtype)
{
    return (unsigned)dtype < PROTO_DTYPE_COUNT ? s_dtype_names[dtype] : NULL;
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

typedef struct s_report {
    int rc; /* first error, sticky */
    char *err;
    size_t err_len;
    size_t path_len;
    char path[192]; /* e.g. "STEP.requests", "JOINT.agents[2]" */
} s_report_t;

static void s_report_init(s_report_t *r, const char *root, char *err, size_t err_len)
{
    r->rc = 0;
    r->err = err;
    r->err_len = err_len;
    if (err && err_len)
        err[0] = '\0';
    r->path_len = (size_t)snprintf(r->path, sizeof r->path, "%s", root);
}

__attribute__((format(printf, 2, 3))) static size_t s_push(s_report_t *r, const char *fmt, ...)
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

static void s_pop(s_report_t *r, size_t mark)
{
    r->path_len = mark;
    if (mark < sizeof r->path)
        r->path[mark] = '\0';
}

/* Records the first error: "<path>.<key>: <message>" (key may be NULL). */
__attribute__((format(printf, 4, 5))) static void s_fail(s_report_t *r, int code, const char *key,
                                                         const char *fmt, ...)
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

/* ---- stage 1: the raw byte walk ------------------------------------- */

static uint64_t s_read_be(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* Proves that bytes hold exactly one msgpack value within the limits, so
 * that unpacking allocates at most PROTO_MAX_OBJECTS objects. */
static void s_scan(s_report_t *r, const uint8_t *bytes, size_t size)
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
            s_fail(r, PROTO_ETOOBIG, NULL, "more than %d msgpack values", PROTO_MAX_OBJECTS);
            return;
        }
        if (pos >= size) {
            s_fail(r, PROTO_EMALFORMED, NULL, "truncated: a value is missing at byte %zu", pos);
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
                s_fail(r, PROTO_EMALFORMED, NULL, "reserved byte 0xc1 at byte %zu", at);
                return;
            }
            }
        }
        if (size - pos < (size_t)len_bytes + fixed) {
            s_fail(r, PROTO_EMALFORMED, NULL, "truncated: value at byte %zu is cut short", at);
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
            s_fail(r, PROTO_EMALFORMED, NULL,
                   "%s at byte %zu declares %" PRIu64 " %s, only %zu bytes left", what, at, count,
                   container ? "elements" : "bytes", size - pos);
            return;
        }
        if (!container) {
            pos += (size_t)count;
            continue;
        }
        if (level + 1 > PROTO_MAX_DEPTH) {
            s_fail(r, PROTO_EDEPTH, NULL, "%s at byte %zu nested deeper than %d", what, at,
                   PROTO_MAX_DEPTH);
            return;
        }
        left[++level] = need;
    }
    if (pos != size)
        s_fail(r, PROTO_EMALFORMED, NULL, "%zu trailing bytes after the message", size - pos);
}

/* ---- stage 3 (shared with the encoder): what the structs say -------- */

static void s_check_name(s_report_t *r, int bad, const char *key, const char *name)
{
    if (!name)
        s_fail(r, bad, key, "missing (NULL)");
    else if (!proto_name_valid(name))
        s_fail(r, bad, key, "\"%.*s\" is not 1..%d characters of [A-Za-z0-9_-]", 80, name,
               PROTO_MAX_NAME);
}

static void s_check_text(s_report_t *r, int bad, const char *key, const char *text, bool optional)
{
    if (!text && !optional)
        s_fail(r, bad, key, "missing (NULL)");
    else if (text && strlen(text) > PROTO_MAX_TEXT)
        s_fail(r, bad, key, "%zu bytes, more than %d", strlen(text), PROTO_MAX_TEXT);
}

static void s_check_data(s_report_t *r, int bad, const char *key, const void *data, uint64_t count)
{
    if (!data && count)
        s_fail(r, bad, key, "NULL with %" PRIu64 " elements", count);
}

static void s_check_double(s_report_t *r, const char *key, double v)
{
    if (!isfinite(v))
        s_fail(r, PROTO_ENONFINITE, key, "%s", isnan(v) ? "NaN" : "infinite");
}

static void s_check_floats(s_report_t *r, const char *key, const float *v, uint64_t count)
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
            s_fail(r, PROTO_ENONFINITE, key, "element %" PRIu64 " is %s", i,
                   isnan(v[i]) ? "NaN" : "infinite");
}

static void s_check_doubles(s_report_t *r, const char *key, const double *v, uint64_t count)
{
    for (uint64_t i = 0; v && i < count && !r->rc; i++)
        if (!isfinite(v[i]))
            s_fail(r, PROTO_ENONFINITE, key, "element %" PRIu64 " is %s", i,
                   isnan(v[i]) ? "NaN" : "infinite");
}

static void s_check_counts(s_report_t *r, int bad, const char *key, const int64_t *v,
                           uint64_t count)
{
    s_check_data(r, bad, key, v, count);
    for (uint64_t i = 0; v && i < count && !r->rc; i++)
        if (v[i] < 0)
            s_fail(r, bad, key, "element %" PRIu64 " is %" PRId64 ", counts are >= 0", i, v[i]);
}

/* n_agents and the agent names of a telemetry message. */
static void s_check_agent_names(s_report_t *r, int bad, uint32_t n_agents,
                                const char *const *agents)
{
    if (n_agents < 1 || n_agents > PROTO_MAX_AGENTS) {
        s_fail(r, bad, "agents", "%u agents, expected 1..%d", n_agents, PROTO_MAX_AGENTS);
        return;
    }
    s_check_data(r, bad, "agents", agents, n_agents);
    for (uint32_t i = 0; i < n_agents && agents; i++)
        s_check_name(r, bad, "agents", agents[i]);
}

/* A size agreed on in protocol.h: lo..hi. */
static void s_check_range(s_report_t *r, int bad, const char *key, uint64_t v, uint64_t lo,
                          uint64_t hi)
{
    if (v < lo || v > hi)
        s_fail(r, bad, key, "%" PRIu64 " is outside %" PRIu64 "..%" PRIu64 " (protocol.h)", v, lo,
               hi);
}

static void s_check_items(s_report_t *r, int bad, const char *key, const proto_items_t *items)
{
    size_t mark = s_push(r, ".%s", key);
    s_check_range(r, bad, "n", items->n, 0, PROTO_MAX_ITEM_IDS);
    s_check_range(r, bad, "dim", items->dim, 0, PROTO_MAX_DIM);
    s_check_data(r, bad, "ids", items->ids, items->n);
    s_check_data(r, bad, "topics", items->topics, items->n);
    s_check_data(r, bad, "providers", items->providers, items->n);
    s_check_data(r, bad, "embeddings", items->embeddings, (uint64_t)items->n * items->dim);
    s_check_floats(r, "embeddings", items->embeddings, (uint64_t)items->n * items->dim);
    s_pop(r, mark);
}

static void s_check_feedback(s_report_t *r, int bad, const proto_feedback_t *f)
{
    size_t mark = s_push(r, ".feedback");
    s_check_data(r, bad, "user_ids", f->user_ids, f->n);
    s_check_data(r, bad, "clicked", f->clicked, f->n);
    s_check_data(r, bad, "reward", f->reward, f->n);
    s_check_data(r, bad, "session_end", f->session_end, f->n);
    s_check_floats(r, "reward", f->reward, f->n);
    s_pop(r, mark);
}

static void s_check_space(s_report_t *r, int bad, const proto_space_t *s, int depth)
{
    if (depth > PROTO_MAX_SPACE_DEPTH) {
        s_fail(r, bad, NULL, "spaces nested deeper than %d", PROTO_MAX_SPACE_DEPTH);
        return;
    }
    switch (s->kind) {
    case PROTO_SPACE_BOX:
        if ((unsigned)s->dtype >= PROTO_DTYPE_COUNT)
            s_fail(r, bad, "dtype", "unknown dtype %d", (int)s->dtype);
        if (s->ndim < 1 || s->ndim > PROTO_MAX_RANK)
            s_fail(r, bad, "shape", "%u dimensions, expected 1..%d", s->ndim, PROTO_MAX_RANK);
        for (uint32_t i = 0; i < s->ndim && i < PROTO_MAX_RANK; i++)
            if (s->shape[i] < -1)
                s_fail(r, bad, "shape", "size %" PRId64 " (sizes are >= 0, or -1 for variable)",
                       s->shape[i]);
        if (isnan(s->low) || isnan(s->high) || s->low > s->high)
            s_fail(r, bad, NULL, "bounds [%g, %g] are not an interval", s->low, s->high);
        break;
    case PROTO_SPACE_DISCRETE:
        if (s->n < 1)
            s_fail(r, bad, "n", "0 values");
        break;
    case PROTO_SPACE_MULTI_DISCRETE:
        s_check_data(r, bad, "nvec", s->nvec, s->n_nvec);
        if (s->n_nvec < 1)
            s_fail(r, bad, "nvec", "empty");
        for (uint32_t i = 0; i < s->n_nvec && s->nvec; i++)
            if (s->nvec[i] < 1)
                s_fail(r, bad, "nvec", "entry %u is 0", i);
        break;
    case PROTO_SPACE_DICT:
        s_check_data(r, bad, "spaces", s->spaces, s->n_spaces);
        s_check_data(r, bad, "spaces", s->names, s->n_spaces);
        for (uint32_t i = 0; i < s->n_spaces && s->spaces && s->names && !r->rc; i++) {
            s_check_name(r, bad, "spaces", s->names[i]);
            size_t mark = s_push(r, ".spaces.%s", s->names[i] ? s->names[i] : "?");
            s_check_space(r, bad, &s->spaces[i], depth + 1);
            s_pop(r, mark);
        }
        break;
    case PROTO_SPACE_SLATE:
        if (s->k < 1 || (s->n && s->k > s->n))
            s_fail(r, bad, "k", "%u picks out of n = %" PRIu64, s->k, s->n);
        break;
    default:
        s_fail(r, bad, "type", "unknown space kind %d", (int)s->kind);
    }
}

static void s_check_space_at(s_report_t *r, int bad, const char *key, const proto_space_t *s)
{
    if (!s) {
        s_fail(r, bad, key, "missing (NULL)");
        return;
    }
    size_t mark = s_push(r, ".%s", key);
    s_check_space(r, bad, s, 1);
    s_pop(r, mark);
}

static void s_check_welcome(s_report_t *r, int bad, const proto_welcome_t *w)
{
    if (w->n_agents < 1 || w->n_agents > PROTO_MAX_AGENTS) {
        s_fail(r, bad, "n_agents", "%u, expected 1..%d", w->n_agents, PROTO_MAX_AGENTS);
        return;
    }
    if (w->agent_index >= w->n_agents)
        s_fail(r, bad, "agent_index", "%u, not below n_agents = %u", w->agent_index, w->n_agents);
    s_check_data(r, bad, "agents", w->agents, w->n_agents);
    for (uint32_t i = 0; i < w->n_agents && w->agents; i++)
        s_check_name(r, bad, "agents", w->agents[i]);
    if ((unsigned)w->mode >= S_COUNT(s_mode_names))
        s_fail(r, bad, "mode", "unknown mode %d", (int)w->mode);
    s_check_range(r, bad, "slate_size", w->slate_size, 1, PROTO_MAX_SLATE);
    s_check_range(r, bad, "dim", w->dim, 1, PROTO_MAX_DIM);
    s_check_range(r, bad, "n_topics", w->n_topics, 1, PROTO_MAX_TOPICS);
    s_check_range(r, bad, "history_len", w->history_len, 0, PROTO_MAX_HISTORY);
    s_check_range(r, bad, "limits.max_batch", w->limits.max_batch, 0, PROTO_MAX_BATCH);
    s_check_space_at(r, bad, "observation_space", w->observation_space);
    s_check_space_at(r, bad, "action_space", w->action_space);
}

static void s_check_joint(s_report_t *r, int bad, const proto_joint_t *j)
{
    if (j->n_agents < 1 || j->n_agents > PROTO_MAX_AGENTS) {
        s_fail(r, bad, "agents", "%u entries, expected 1..%d", j->n_agents, PROTO_MAX_AGENTS);
        return;
    }
    s_check_data(r, bad, "agents", j->agents, j->n_agents);
    for (uint32_t i = 0; i < j->n_agents && j->agents && !r->rc; i++) {
        const proto_joint_agent_t *a = &j->agents[i];
        size_t mark = s_push(r, ".agents[%u]", i);
        s_check_data(r, bad, "user_ids", a->user_ids, a->n);
        s_check_data(r, bad, "features", a->features, (uint64_t)a->n * a->dim);
        s_check_data(r, bad, "slates", a->slates, (uint64_t)a->n * a->slate_size);
        s_check_data(r, bad, "clicked", a->clicked, a->n);
        s_check_floats(r, "features", a->features, (uint64_t)a->n * a->dim);
        s_check_double(r, "reward", a->reward);
        s_pop(r, mark);
    }
}

static void s_check_telemetry_tick(s_report_t *r, int bad, const proto_telemetry_tick_t *t)
{
    s_check_double(r, "welfare", t->welfare);
    s_check_double(r, "ild", t->ild);
    s_check_double(r, "gini", t->gini);
    s_check_double(r, "coverage", t->coverage);
    s_check_double(r, "entropy", t->entropy);
    s_check_agent_names(r, bad, t->n_agents, t->agents);
    s_check_data(r, bad, "agent_requests", t->agent_requests, t->n_agents);
    s_check_data(r, bad, "agent_clicks", t->agent_clicks, t->n_agents);
    s_check_data(r, bad, "agent_reward", t->agent_reward, t->n_agents);
    s_check_data(r, bad, "agent_regret", t->agent_regret, t->n_agents);
    s_check_doubles(r, "agent_reward", t->agent_reward, t->n_agents);
    s_check_doubles(r, "agent_regret", t->agent_regret, t->n_agents);
}

static void s_check_telemetry_episode(s_report_t *r, int bad, const proto_telemetry_episode_t *t)
{
    s_check_double(r, "ctr", t->ctr);
    s_check_double(r, "welfare_per_request", t->welfare_per_request);
    s_check_double(r, "mean_active_users", t->mean_active_users);
    s_check_double(r, "churn", t->churn);
    s_check_double(r, "gini", t->gini);
    s_check_double(r, "coverage", t->coverage);
    s_check_double(r, "entropy_normalized", t->entropy_normalized);
    s_check_double(r, "ild", t->ild);
    s_check_double(r, "jaccard", t->jaccard);
    s_check_double(r, "interest_similarity", t->interest_similarity);
    s_check_double(r, "hhi", t->hhi);
    s_check_agent_names(r, bad, t->n_agents, t->agents);
    s_check_counts(r, bad, "agent_requests", t->agent_requests, t->n_agents);
    s_check_counts(r, bad, "agent_clicks", t->agent_clicks, t->n_agents);
    s_check_data(r, bad, "agent_reward", t->agent_reward, t->n_agents);
    s_check_data(r, bad, "agent_regret", t->agent_regret, t->n_agents);
    s_check_data(r, bad, "agent_share", t->agent_share, t->n_agents);
    s_check_doubles(r, "agent_reward", t->agent_reward, t->n_agents);
    s_check_doubles(r, "agent_regret", t->agent_regret, t->n_agents);
    s_check_doubles(r, "agent_share", t->agent_share, t->n_agents);
}

/* Everything a message's structs must satisfy beyond msgpack types; bad is
 * the code for a violation (PROTO_EINVAL encoding, PROTO_EFIELD decoding). */
static void s_check_msg(s_report_t *r, const proto_msg_t *m, int bad)
{
    switch (m->type) {
    case PROTO_MSG_HELLO:
        s_check_name(r, bad, "name", m->hello.name);
        s_check_name(r, bad, "role", m->hello.role);
        if (m->hello.n_caps > PROTO_MAX_CAPS)
            s_fail(r, bad, "caps", "%u entries, more than %d", m->hello.n_caps, PROTO_MAX_CAPS);
        s_check_data(r, bad, "caps", m->hello.caps, m->hello.n_caps);
        for (uint32_t i = 0; i < m->hello.n_caps && m->hello.caps; i++)
            s_check_name(r, bad, "caps", m->hello.caps[i]);
        s_check_text(r, bad, "token", m->hello.token, true);
        break;
    case PROTO_MSG_WELCOME:
        s_check_welcome(r, bad, &m->welcome);
        break;
    case PROTO_MSG_CATALOG:
        s_check_items(r, bad, "items", &m->catalog.items);
        break;
    case PROTO_MSG_STEP: {
        const proto_step_t *s = &m->step;
        const proto_requests_t *q = &s->requests;
        s_check_feedback(r, bad, &s->feedback);
        s_check_double(r, "tick_reward", s->tick_reward);
        size_t mark = s_push(r, ".requests");
        s_check_range(r, bad, "n", q->n, 0, PROTO_MAX_BATCH);
        s_check_range(r, bad, "dim", q->dim, 0, PROTO_MAX_DIM);
        s_check_range(r, bad, "history_len", q->history_len, 0, PROTO_MAX_HISTORY);
        s_check_data(r, bad, "user_ids", q->user_ids, q->n);
        s_check_data(r, bad, "features", q->features, (uint64_t)q->n * q->dim);
        s_check_data(r, bad, "history", q->history, (uint64_t)q->n * q->history_len);
        s_check_floats(r, "features", q->features, (uint64_t)q->n * q->dim);
        s_pop(r, mark);
        s_check_items(r, bad, "born", &s->born);
        s_check_data(r, bad, "retired", s->retired, s->n_retired);
        break;
    }
    case PROTO_MSG_ACT:
        s_check_range(r, bad, "n", m->act.n, 0, PROTO_MAX_BATCH);
        s_check_range(r, bad, "slate_size", m->act.slate_size, 0, PROTO_MAX_SLATE);
        s_check_data(r, bad, "user_ids", m->act.user_ids, m->act.n);
        s_check_data(r, bad, "slates", m->act.slates, (uint64_t)m->act.n * m->act.slate_size);
        break;
    case PROTO_MSG_JOINT:
        s_check_joint(r, bad, &m->joint);
        break;
    case PROTO_MSG_EPISODE_END:
        s_check_double(r, "reward", m->episode_end.reward);
        s_check_feedback(r, bad, &m->episode_end.feedback);
        s_check_double(r, "tick_reward", m->episode_end.tick_reward);
        break;
    case PROTO_MSG_BYE:
        s_check_text(r, bad, "reason", m->bye.reason, false);
        break;
    case PROTO_MSG_ERROR:
        s_check_text(r, bad, "message", m->error.message, false);
        break;
    case PROTO_MSG_TELEMETRY_TICK:
        s_check_telemetry_tick(r, bad, &m->telemetry_tick);
        break;
    case PROTO_MSG_TELEMETRY_EPISODE:
        s_check_telemetry_episode(r, bad, &m->telemetry_episode);
        break;
    case PROTO_MSG_TELEMETRY_EXPOSURE:
        s_check_counts(r, bad, "items", m->telemetry_exposure.items, m->telemetry_exposure.n_items);
        s_check_counts(r, bad, "topics", m->telemetry_exposure.topics,
                       m->telemetry_exposure.n_topics);
        break;
    default: /* PING, PONG: a nonce is any uint64 */
        break;
    }
}

/* ---- encoding -------------------------------------------------------- */

typedef struct s_writer {
    proto_buffer_t *buf;
    int rc; /* sticky: PROTO_ETOOBIG or PROTO_ENOMEM */
} s_writer_t;

/* msgpack_packer callback: appends to the buffer, up to the size limit. */
static int s_write(void *data, const char *bytes, size_t len)
{
    s_writer_t *w = data;
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

typedef struct s_encoder {
    s_report_t r;
    s_writer_t w;
    msgpack_packer pk;
} s_encoder_t;

/* Pack calls need no checks: the writer keeps its first error. */
static void s_pack_key(s_encoder_t *e, const char *key)
{
    msgpack_pack_str_with_body(&e->pk, key, strlen(key));
}

static void s_pack_uint(s_encoder_t *e, const char *key, uint64_t v)
{
    s_pack_key(e, key);
    msgpack_pack_uint64(&e->pk, v);
}

static void s_pack_double(s_encoder_t *e, const char *key, double v)
{
    s_pack_key(e, key);
    msgpack_pack_double(&e->pk, v);
}

static void s_pack_str(s_encoder_t *e, const char *key, const char *s)
{
    if (key)
        s_pack_key(e, key);
    msgpack_pack_str_with_body(&e->pk, s, strlen(s));
}

/* key: {"dtype": name, "shape": [shape...], "data": bin}, data: prod(shape) elements. */
static void s_pack_array(s_encoder_t *e, const char *key, proto_dtype_t dtype, uint32_t ndim,
                         const uint32_t *shape, const void *data)
{
    uint64_t bytes = proto_dtype_size(dtype);
    for (uint32_t i = 0; i < ndim; i++) {
        if (shape[i] && bytes > PROTO_MAX_MESSAGE_BYTES / shape[i]) {
            s_fail(&e->r, PROTO_ETOOBIG, key, "more than %u bytes", PROTO_MAX_MESSAGE_BYTES);
            return;
        }
        bytes *= shape[i];
    }
    s_pack_key(e, key);
    msgpack_pack_map(&e->pk, 3);
    s_pack_str(e, "dtype", proto_dtype_name(dtype));
    s_pack_key(e, "shape");
    msgpack_pack_array(&e->pk, ndim);
    for (uint32_t i = 0; i < ndim; i++)
        msgpack_pack_uint32(&e->pk, shape[i]);
    s_pack_key(e, "data");
    msgpack_pack_bin_with_body(&e->pk, data, (size_t)bytes);
}

#define S_INT32   PROTO_DTYPE_INT32
#define S_INT64   PROTO_DTYPE_INT64
#define S_FLOAT32 PROTO_DTYPE_FLOAT32
#define S_FLOAT64 PROTO_DTYPE_FLOAT64

static void s_pack_array1(s_encoder_t *e, const char *key, proto_dtype_t dtype, uint32_t n,
                          const void *data)
{
    s_pack_array(e, key, dtype, 1, (const uint32_t[]){n}, data);
}

static void s_pack_array2(s_encoder_t *e, const char *key, proto_dtype_t dtype, uint32_t n,
                          uint32_t m, const void *data)
{
    s_pack_array(e, key, dtype, 2, (const uint32_t[]){n, m}, data);
}

static void s_pack_items(s_encoder_t *e, const char *key, const proto_items_t *items)
{
    s_pack_key(e, key);
    msgpack_pack_map(&e->pk, 4);
    s_pack_array1(e, "ids", S_INT32, items->n, items->ids);
    s_pack_array1(e, "topics", S_INT32, items->n, items->topics);
    s_pack_array1(e, "providers", S_INT32, items->n, items->providers);
    s_pack_array2(e, "embeddings", S_FLOAT32, items->n, items->dim, items->embeddings);
}

static void s_pack_feedback(s_encoder_t *e, const proto_feedback_t *f)
{
    s_pack_key(e, "feedback");
    msgpack_pack_map(&e->pk, 4);
    s_pack_array1(e, "user_ids", S_INT32, f->n, f->user_ids);
    s_pack_array1(e, "clicked", S_INT32, f->n, f->clicked);
    s_pack_array1(e, "reward", S_FLOAT32, f->n, f->reward);
    s_pack_array1(e, "session_end", PROTO_DTYPE_UINT8, f->n, f->session_end);
}

static void s_pack_space(s_encoder_t *e, const proto_space_t *s)
{
    static const uint32_t keys[] = {5, 2, 2, 2, 3}; /* map size per kind */
    msgpack_pack_map(&e->pk, keys[s->kind]);
    s_pack_str(e, "type", s_space_names[s->kind]);
    switch (s->kind) {
    case PROTO_SPACE_BOX:
        s_pack_double(e, "low", s->low);
        s_pack_double(e, "high", s->high);
        s_pack_key(e, "shape");
        msgpack_pack_array(&e->pk, s->ndim);
        for (uint32_t i = 0; i < s->ndim; i++)
            msgpack_pack_int64(&e->pk, s->shape[i]);
        s_pack_str(e, "dtype", proto_dtype_name(s->dtype));
        break;
    case PROTO_SPACE_DISCRETE:
        s_pack_uint(e, "n", s->n);
        break;
    case PROTO_SPACE_MULTI_DISCRETE:
        s_pack_key(e, "nvec");
        msgpack_pack_array(&e->pk, s->n_nvec);
        for (uint32_t i = 0; i < s->n_nvec; i++)
            msgpack_pack_uint64(&e->pk, s->nvec[i]);
        break;
    case PROTO_SPACE_DICT:
        s_pack_key(e, "spaces");
        msgpack_pack_map(&e->pk, s->n_spaces);
        for (uint32_t i = 0; i < s->n_spaces; i++) {
            s_pack_str(e, NULL, s->names[i]);
            s_pack_space(e, &s->spaces[i]);
        }
        break;
    case PROTO_SPACE_SLATE:
        s_pack_uint(e, "n", s->n);
        s_pack_uint(e, "k", s->k);
        break;
    }
}

/* key: [name, ...], n names */
static void s_pack_names(s_encoder_t *e, const char *key, uint32_t n, const char *const *names)
{
    s_pack_key(e, key);
    msgpack_pack_array(&e->pk, n);
    for (uint32_t i = 0; i < n; i++)
        s_pack_str(e, NULL, names[i]);
}

static void s_encode_welcome(s_encoder_t *e, const proto_welcome_t *w)
{
    msgpack_pack_map(&e->pk, 14);
    s_pack_uint(e, "agent_index", w->agent_index);
    s_pack_uint(e, "n_agents", w->n_agents);
    s_pack_names(e, "agents", w->n_agents, w->agents);
    s_pack_uint(e, "seed", w->seed);
    s_pack_str(e, "mode", s_mode_names[w->mode]);
    s_pack_uint(e, "slate_size", w->slate_size);
    s_pack_uint(e, "dim", w->dim);
    s_pack_uint(e, "n_topics", w->n_topics);
    s_pack_uint(e, "history_len", w->history_len);
    s_pack_uint(e, "ticks", w->ticks);
    s_pack_uint(e, "episodes", w->episodes);
    s_pack_key(e, "observation_space");
    s_pack_space(e, w->observation_space);
    s_pack_key(e, "action_space");
    s_pack_space(e, w->action_space);
    s_pack_key(e, "limits");
    msgpack_pack_map(&e->pk, 3);
    s_pack_uint(e, "deadline_ms", w->limits.deadline_ms);
    s_pack_uint(e, "max_batch", w->limits.max_batch);
    s_pack_uint(e, "max_message_bytes", w->limits.max_message_bytes);
}

static void s_encode_step(s_encoder_t *e, const proto_step_t *s)
{
    const proto_requests_t *q = &s->requests;
    msgpack_pack_map(&e->pk, 8);
    s_pack_uint(e, "episode", s->episode);
    s_pack_uint(e, "tick", s->tick);
    s_pack_uint(e, "deadline_ms", s->deadline_ms);
    s_pack_feedback(e, &s->feedback);
    s_pack_double(e, "tick_reward", s->tick_reward);
    s_pack_key(e, "requests");
    msgpack_pack_map(&e->pk, 3);
    s_pack_array1(e, "user_ids", S_INT32, q->n, q->user_ids);
    s_pack_array2(e, "features", S_FLOAT32, q->n, q->dim, q->features);
    s_pack_array2(e, "history", S_INT32, q->n, q->history_len, q->history);
    s_pack_items(e, "born", &s->born);
    s_pack_array1(e, "retired", S_INT32, s->n_retired, s->retired);
}

static void s_encode_joint(s_encoder_t *e, const proto_joint_t *j)
{
    msgpack_pack_map(&e->pk, 3);
    s_pack_uint(e, "episode", j->episode);
    s_pack_uint(e, "tick", j->tick);
    s_pack_key(e, "agents");
    msgpack_pack_array(&e->pk, j->n_agents);
    for (uint32_t i = 0; i < j->n_agents; i++) {
        const proto_joint_agent_t *a = &j->agents[i];
        msgpack_pack_map(&e->pk, 6);
        s_pack_uint(e, "agent_index", a->agent_index);
        s_pack_array1(e, "user_ids", S_INT32, a->n, a->user_ids);
        s_pack_array2(e, "features", S_FLOAT32, a->n, a->dim, a->features);
        s_pack_array2(e, "slates", S_INT32, a->n, a->slate_size, a->slates);
        s_pack_array1(e, "clicked", S_INT32, a->n, a->clicked);
        s_pack_double(e, "reward", a->reward);
    }
}

static void s_encode_telemetry_tick(s_encoder_t *e, const proto_telemetry_tick_t *t)
{
    msgpack_pack_map(&e->pk, 15);
    s_pack_uint(e, "episode", t->episode);
    s_pack_uint(e, "tick", t->tick);
    s_pack_uint(e, "active_users", t->active_users);
    s_pack_uint(e, "requests", t->requests);
    s_pack_uint(e, "clicks", t->clicks);
    s_pack_double(e, "welfare", t->welfare);
    s_pack_double(e, "ild", t->ild);
    s_pack_double(e, "gini", t->gini);
    s_pack_double(e, "coverage", t->coverage);
    s_pack_double(e, "entropy", t->entropy);
    s_pack_names(e, "agents", t->n_agents, t->agents);
    s_pack_array1(e, "agent_requests", S_INT32, t->n_agents, t->agent_requests);
    s_pack_array1(e, "agent_clicks", S_INT32, t->n_agents, t->agent_clicks);
    s_pack_array1(e, "agent_reward", S_FLOAT64, t->n_agents, t->agent_reward);
    s_pack_array1(e, "agent_regret", S_FLOAT64, t->n_agents, t->agent_regret);
}

static void s_encode_telemetry_episode(s_encoder_t *e, const proto_telemetry_episode_t *t)
{
    msgpack_pack_map(&e->pk, 21);
    s_pack_uint(e, "episode", t->episode);
    s_pack_uint(e, "ticks", t->ticks);
    s_pack_uint(e, "requests", t->requests);
    s_pack_uint(e, "clicks", t->clicks);
    s_pack_double(e, "ctr", t->ctr);
    s_pack_double(e, "welfare_per_request", t->welfare_per_request);
    s_pack_double(e, "mean_active_users", t->mean_active_users);
    s_pack_double(e, "churn", t->churn);
    s_pack_double(e, "gini", t->gini);
    s_pack_double(e, "coverage", t->coverage);
    s_pack_double(e, "entropy_normalized", t->entropy_normalized);
    s_pack_double(e, "ild", t->ild);
    s_pack_double(e, "jaccard", t->jaccard);
    s_pack_double(e, "interest_similarity", t->interest_similarity);
    s_pack_double(e, "hhi", t->hhi);
    s_pack_names(e, "agents", t->n_agents, t->agents);
    s_pack_array1(e, "agent_requests", S_INT64, t->n_agents, t->agent_requests);
    s_pack_array1(e, "agent_clicks", S_INT64, t->n_agents, t->agent_clicks);
    s_pack_array1(e, "agent_reward", S_FLOAT64, t->n_agents, t->agent_reward);
    s_pack_array1(e, "agent_regret", S_FLOAT64, t->n_agents, t->agent_regret);
    s_pack_array1(e, "agent_share", S_FLOAT64, t->n_agents, t->agent_share);
}

static void s_encode_body(s_encoder_t *e, const proto_msg_t *m)
{
    switch (m->type) {
    case PROTO_MSG_HELLO: {
        const proto_hello_t *h = &m->hello;
        msgpack_pack_map(&e->pk, h->token ? 5 : 4);
        s_pack_uint(e, "minor", h->minor);
        s_pack_str(e, "name", h->name);
        s_pack_str(e, "role", h->role);
        s_pack_key(e, "caps");
        msgpack_pack_array(&e->pk, h->n_caps);
        for (uint32_t i = 0; i < h->n_caps; i++)
            s_pack_str(e, NULL, h->caps[i]);
        if (h->token)
            s_pack_str(e, "token", h->token);
        break;
    }
    case PROTO_MSG_WELCOME:
        s_encode_welcome(e, &m->welcome);
        break;
    case PROTO_MSG_CATALOG:
        msgpack_pack_map(&e->pk, 3);
        s_pack_uint(e, "episode", m->catalog.episode);
        s_pack_uint(e, "tick", m->catalog.tick);
        s_pack_items(e, "items", &m->catalog.items);
        break;
    case PROTO_MSG_STEP:
        s_encode_step(e, &m->step);
        break;
    case PROTO_MSG_ACT:
        msgpack_pack_map(&e->pk, 4);
        s_pack_uint(e, "episode", m->act.episode);
        s_pack_uint(e, "tick", m->act.tick);
        s_pack_array1(e, "user_ids", S_INT32, m->act.n, m->act.user_ids);
        s_pack_array2(e, "slates", S_INT32, m->act.n, m->act.slate_size, m->act.slates);
        break;
    case PROTO_MSG_JOINT:
        s_encode_joint(e, &m->joint);
        break;
    case PROTO_MSG_EPISODE_END: {
        const proto_episode_end_t *x = &m->episode_end;
        msgpack_pack_map(&e->pk, 7);
        s_pack_uint(e, "episode", x->episode);
        s_pack_uint(e, "ticks", x->ticks);
        s_pack_double(e, "reward", x->reward);
        s_pack_uint(e, "requests", x->requests);
        s_pack_uint(e, "clicks", x->clicks);
        s_pack_feedback(e, &x->feedback);
        s_pack_double(e, "tick_reward", x->tick_reward);
        break;
    }
    case PROTO_MSG_BYE:
        msgpack_pack_map(&e->pk, 1);
        s_pack_str(e, "reason", m->bye.reason);
        break;
    case PROTO_MSG_PING:
    case PROTO_MSG_PONG:
        msgpack_pack_map(&e->pk, 1);
        s_pack_uint(e, "nonce", m->ping.nonce);
        break;
    case PROTO_MSG_ERROR:
        msgpack_pack_map(&e->pk, m->error.has_ref_seq ? 4 : 3);
        s_pack_key(e, "code");
        msgpack_pack_int32(&e->pk, m->error.code);
        s_pack_str(e, "message", m->error.message);
        s_pack_key(e, "fatal");
        if (m->error.fatal)
            msgpack_pack_true(&e->pk);
        else
            msgpack_pack_false(&e->pk);
        if (m->error.has_ref_seq)
            s_pack_uint(e, "ref_seq", m->error.ref_seq);
        break;
    case PROTO_MSG_TELEMETRY_TICK:
        s_encode_telemetry_tick(e, &m->telemetry_tick);
        break;
    case PROTO_MSG_TELEMETRY_EPISODE:
        s_encode_telemetry_episode(e, &m->telemetry_episode);
        break;
    case PROTO_MSG_TELEMETRY_EXPOSURE: {
        const proto_telemetry_exposure_t *x = &m->telemetry_exposure;
        msgpack_pack_map(&e->pk, 4);
        s_pack_uint(e, "episode", x->episode);
        s_pack_uint(e, "tick", x->tick);
        s_pack_array1(e, "items", S_INT64, x->n_items, x->items);
        s_pack_array1(e, "topics", S_INT64, x->n_topics, x->topics);
        break;
    }
    }
}

int proto_encode(const proto_msg_t *msg, proto_buffer_t *out, char *err, size_t err_len)
{
    s_encoder_t e;
    const char *name = proto_type_name(msg->type);
    s_report_init(&e.r, name ? name : "envelope", err, err_len);
    out->size = 0;
    if (!name) {
        s_fail(&e.r, PROTO_ETYPE, NULL, "unknown message type %u", msg->type);
        return e.r.rc;
    }
    s_check_msg(&e.r, msg, PROTO_EINVAL);
    if (e.r.rc)
        return e.r.rc;
    e.w = (s_writer_t){.buf = out, .rc = 0};
    msgpack_packer_init(&e.pk, &e.w, s_write);
    msgpack_pack_array(&e.pk, 4);
    msgpack_pack_uint32(&e.pk, PROTO_VERSION_MAJOR);
    msgpack_pack_uint32(&e.pk, msg->type);
    msgpack_pack_uint64(&e.pk, msg->seq);
    s_encode_body(&e, msg);
    if (e.w.rc == PROTO_ETOOBIG)
        s_fail(&e.r, e.w.rc, NULL, "message exceeds %u bytes", PROTO_MAX_MESSAGE_BYTES);
    else if (e.w.rc)
        s_fail(&e.r, e.w.rc, NULL, "out of memory");
    if (e.r.rc)
        out->size = 0;
    return e.r.rc;
}

/* ---- decoding -------------------------------------------------------- */

/* A decoded message's arrays and strings, bump-allocated from chunks
 * that the next decode into the same message reuses: decoding a STEP per
 * tick allocates nothing once the chunk is large enough. */
struct proto_storage {
    struct proto_storage *next; /* older chunks, still in use by this message */
    size_t used, capacity;      /* bytes of data */
    max_align_t data[];         /* aligned for any element type */
};

#define S_ALIGN _Alignof(max_align_t)

typedef struct s_decoder {
    s_report_t r;
    proto_msg_t *msg; /* owner of the copies */
    proto_dims_t dims;
    size_t chunk_bytes; /* size of a first chunk */
} s_decoder_t;

static void s_storage_free(proto_storage_t *s)
{
    while (s) {
        proto_storage_t *next = s->next;
        free(s);
        s = next;
    }
}

void proto_msg_init(proto_msg_t *msg)
{
    memset(msg, 0, sizeof *msg);
}

void proto_msg_fini(proto_msg_t *msg)
{
    s_storage_free(msg->storage);
    proto_msg_init(msg);
}

/* Empties msg's storage for reuse; several chunks become one (at the next
 * s_alloc) as large as all of them. Returns that size, or 0. */
static size_t s_storage_reset(proto_msg_t *msg)
{
    proto_storage_t *s = msg->storage;
    if (!s)
        return 0;
    if (!s->next) {
        s->used = 0;
        return s->capacity;
    }
    size_t total = 0;
    for (proto_storage_t *c = s; c; c = c->next)
        total += c->capacity;
    s_storage_free(s);
    msg->storage = NULL;
    return total;
}

/* bytes of storage owned by the message; NULL when bytes is 0 or on error. */
static void *s_alloc(s_decoder_t *d, size_t bytes)
{
    if (d->r.rc || bytes == 0)
        return NULL;
    bytes = (bytes + S_ALIGN - 1) / S_ALIGN * S_ALIGN;
    proto_storage_t *s = d->msg->storage;
    if (!s || s->capacity - s->used < bytes) {
        size_t capacity = s ? 2 * s->capacity : d->chunk_bytes;
        if (capacity < bytes)
            capacity = bytes;
        proto_storage_t *chunk = malloc(sizeof *chunk + capacity);
        if (!chunk) {
            s_fail(&d->r, PROTO_ENOMEM, NULL, "out of memory (%zu bytes)", capacity);
            return NULL;
        }
        *chunk = (proto_storage_t){.next = s, .used = 0, .capacity = capacity};
        d->msg->storage = s = chunk;
    }
    void *p = (char *)s->data + s->used;
    s->used += bytes;
    return p;
}

static const char *s_kind(const msgpack_object *o)
{
    switch (o->type) {
    case MSGPACK_OBJECT_NIL:
        return "nil";
    case MSGPACK_OBJECT_BOOLEAN:
        return "bool";
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        return "uint";
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return "negative int";
    case MSGPACK_OBJECT_FLOAT32:
        return "float32";
    case MSGPACK_OBJECT_FLOAT64:
        return "float64";
    case MSGPACK_OBJECT_STR:
        return "str";
    case MSGPACK_OBJECT_ARRAY:
        return "array";
    case MSGPACK_OBJECT_MAP:
        return "map";
    case MSGPACK_OBJECT_BIN:
        return "bin";
    default:
        return "ext";
    }
}

/* The value of key in map; NULL if absent (an error when required). */
static const msgpack_object *s_find(s_decoder_t *d, const msgpack_object *map, const char *key,
                                    bool required)
{
    if (d->r.rc)
        return NULL;
    size_t key_len = strlen(key);
    const msgpack_object *found = NULL;
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object_kv *kv = &map->via.map.ptr[i];
        if (kv->key.type != MSGPACK_OBJECT_STR || kv->key.via.str.size != key_len ||
            memcmp(kv->key.via.str.ptr, key, key_len) != 0)
            continue;
        if (found) {
            s_fail(&d->r, PROTO_EFIELD, key, "key given twice");
            return NULL;
        }
        found = &kv->val;
    }
    if (!found && required)
        s_fail(&d->r, PROTO_EFIELD, key, "missing");
    return found;
}

/* Same, and of msgpack type `type` (named `want` in errors). */
static const msgpack_object *s_find_typed(s_decoder_t *d, const msgpack_object *map,
                                          const char *key, bool required, msgpack_object_type type,
                                          const char *want)
{
    const msgpack_object *o = s_find(d, map, key, required);
    if (o && o->type != type) {
        s_fail(&d->r, PROTO_EFIELD, key, "expected %s, got %s", want, s_kind(o));
        return NULL;
    }
    return o;
}

static uint64_t s_get_uint(s_decoder_t *d, const msgpack_object *map, const char *key, uint64_t max)
{
    const msgpack_object *o =
        s_find_typed(d, map, key, true, MSGPACK_OBJECT_POSITIVE_INTEGER, "uint");
    if (!o)
        return 0;
    if (o->via.u64 > max) {
        s_fail(&d->r, PROTO_EFIELD, key, "%" PRIu64 " is out of range (max %" PRIu64 ")",
               o->via.u64, max);
        return 0;
    }
    return o->via.u64;
}

static uint32_t s_get_u32(s_decoder_t *d, const msgpack_object *map, const char *key)
{
    return (uint32_t)s_get_uint(d, map, key, UINT32_MAX);
}

static int32_t s_get_i32(s_decoder_t *d, const msgpack_object *map, const char *key)
{
    const msgpack_object *o = s_find(d, map, key, true);
    if (!o)
        return 0;
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT32_MAX)
        return (int32_t)o->via.u64;
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER && o->via.i64 >= INT32_MIN)
        return (int32_t)o->via.i64;
    s_fail(&d->r, PROTO_EFIELD, key, "expected int32, got %s", s_kind(o));
    return 0;
}

static double s_get_double(s_decoder_t *d, const msgpack_object *map, const char *key)
{
    const msgpack_object *o = s_find(d, map, key, true);
    if (!o)
        return 0.0;
    if (o->type != MSGPACK_OBJECT_FLOAT64 && o->type != MSGPACK_OBJECT_FLOAT32) {
        s_fail(&d->r, PROTO_EFIELD, key, "expected float64, got %s", s_kind(o));
        return 0.0;
    }
    return o->via.f64;
}

/* A NUL-terminated copy of a str object, owned by the message. */
static const char *s_copy_str(s_decoder_t *d, const msgpack_object *o, const char *key)
{
    if (d->r.rc)
        return NULL;
    if (o->type != MSGPACK_OBJECT_STR) {
        s_fail(&d->r, PROTO_EFIELD, key, "expected str, got %s", s_kind(o));
        return NULL;
    }
    uint32_t len = o->via.str.size;
    if (len && memchr(o->via.str.ptr, '\0', len)) {
        s_fail(&d->r, PROTO_EFIELD, key, "str holds a NUL byte");
        return NULL;
    }
    char *copy = s_alloc(d, (size_t)len + 1);
    if (!copy)
        return NULL;
    if (len)
        memcpy(copy, o->via.str.ptr, len);
    copy[len] = '\0';
    return copy;
}

static const char *s_get_str(s_decoder_t *d, const msgpack_object *map, const char *key,
                             bool required)
{
    const msgpack_object *o = s_find(d, map, key, required);
    return o ? s_copy_str(d, o, key) : NULL;
}

/* The index of a str value in names; -1 on error. */
static int s_get_enum(s_decoder_t *d, const msgpack_object *map, const char *key,
                      const char *const *names, int count)
{
    const msgpack_object *o = s_find_typed(d, map, key, true, MSGPACK_OBJECT_STR, "str");
    if (!o)
        return -1;
    for (int i = 0; i < count; i++)
        if (strlen(names[i]) == o->via.str.size &&
            memcmp(names[i], o->via.str.ptr, o->via.str.size) == 0)
            return i;
    s_fail(&d->r, PROTO_EFIELD, key, "unknown value \"%.*s\"",
           (int)(o->via.str.size < 40 ? o->via.str.size : 40), o->via.str.ptr);
    return -1;
}

static const msgpack_object *s_get_list(s_decoder_t *d, const msgpack_object *map, const char *key,
                                        uint32_t max)
{
    const msgpack_object *o = s_find_typed(d, map, key, true, MSGPACK_OBJECT_ARRAY, "array");
    if (o && o->via.array.size > max) {
        s_fail(&d->r, PROTO_EFIELD, key, "%u entries, more than %u", o->via.array.size, max);
        return NULL;
    }
    return o;
}

static const msgpack_object *s_get_map(s_decoder_t *d, const msgpack_object *map, const char *key)
{
    return s_find_typed(d, map, key, true, MSGPACK_OBJECT_MAP, "map");
}

/* "(3, dim)": each size, or its name where it is PROTO_DIM_ANY. */
static void s_format_shape(char *out, size_t out_len, uint32_t ndim, const uint32_t *shape,
                           const char *const *names)
{
    size_t n = 0;
    out[0] = '\0';
    for (uint32_t i = 0; i < ndim && n < out_len; i++) {
        const char *sep = i ? ", " : "(";
        int w = names && shape[i] == PROTO_DIM_ANY
                    ? snprintf(out + n, out_len - n, "%s%s", sep, names[i])
                    : snprintf(out + n, out_len - n, "%s%" PRIu32, sep, shape[i]);
        n += w > 0 ? (size_t)w : 0;
    }
    if (n < out_len)
        snprintf(out + n, out_len - n, "%s", ndim ? ")" : "()");
}

/* Copies the typed array at key after checking its dtype, rank and
 * shape: shape[i] is the size expected, or PROTO_DIM_ANY, which is then
 * replaced by the size received; names label sizes in errors. NULL when
 * empty or on error. */
static void *s_get_array(s_decoder_t *d, const msgpack_object *map, const char *key,
                         proto_dtype_t dtype, uint32_t ndim, uint32_t *shape,
                         const char *const *names)
{
    char want[80], got[80];
    const msgpack_object *o = s_find(d, map, key, true);
    if (!o)
        return NULL;
    s_format_shape(want, sizeof want, ndim, shape, names);
    if (o->type != MSGPACK_OBJECT_MAP) {
        s_fail(&d->r, PROTO_EFIELD, key, "expected typed array %s %s, got %s", s_dtype_names[dtype],
               want, s_kind(o));
        return NULL;
    }
    size_t mark = s_push(&d->r, ".%s", key);
    int got_dtype = s_get_enum(d, o, "dtype", s_dtype_names, PROTO_DTYPE_COUNT);
    const msgpack_object *sh = s_get_list(d, o, "shape", PROTO_MAX_RANK);
    const msgpack_object *data =
        s_find_typed(d, o, "data", true, MSGPACK_OBJECT_BIN, "bin (little-endian elements)");
    uint32_t got_shape[PROTO_MAX_RANK] = {0};
    for (uint32_t i = 0; sh && i < sh->via.array.size && !d->r.rc; i++) {
        const msgpack_object *size = &sh->via.array.ptr[i];
        if (size->type != MSGPACK_OBJECT_POSITIVE_INTEGER || size->via.u64 >= PROTO_DIM_ANY)
            s_fail(&d->r, PROTO_EFIELD, "shape", "entry %u is not a uint32 size", i);
        else
            got_shape[i] = (uint32_t)size->via.u64;
    }
    s_pop(&d->r, mark);
    if (d->r.rc)
        return NULL;

    uint32_t got_ndim = sh->via.array.size;
    bool match = got_dtype == (int)dtype && got_ndim == ndim;
    for (uint32_t i = 0; match && i < ndim; i++)
        match = shape[i] == PROTO_DIM_ANY || shape[i] == got_shape[i];
    s_format_shape(got, sizeof got, got_ndim, got_shape, NULL);
    if (!match) {
        s_fail(&d->r, PROTO_EFIELD, key, "expected typed array %s %s, got %s %s",
               s_dtype_names[dtype], want, s_dtype_names[got_dtype], got);
        return NULL;
    }
    /* bytes the shape needs, saturated: a mismatch whatever the sizes */
    uint64_t need = s_dtype_sizes[dtype];
    for (uint32_t i = 0; i < ndim; i++)
        need = got_shape[i] == 0                  ? 0
               : need > UINT64_MAX / got_shape[i] ? UINT64_MAX
                                                  : need * got_shape[i];
    if (need != data->via.bin.size) {
        s_fail(&d->r, PROTO_EFIELD, key, "data holds %" PRIu32 " bytes, %s %s needs %" PRIu64,
               data->via.bin.size, s_dtype_names[dtype], got, need);
        return NULL;
    }
    void *copy = NULL;
    if (need) {
        copy = s_alloc(d, (size_t)need);
        if (!copy)
            return NULL;
        memcpy(copy, data->via.bin.ptr, (size_t)need);
    }
    memcpy(shape, got_shape, ndim * sizeof *shape);
    return copy;
}

static const char *const s_n[] = {"n"};
static const char *const s_n_dim[] = {"n", "dim"};
static const char *const s_n_k[] = {"n", "k"};
static const char *const s_n_history[] = {"n", "history_len"};

/* A 1-D typed array of n elements (n: PROTO_DIM_ANY = any). */
static void *s_get_vector(s_decoder_t *d, const msgpack_object *map, const char *key,
                          proto_dtype_t dtype, uint32_t *n)
{
    return s_get_array(d, map, key, dtype, 1, n, s_n);
}

/* A 2-D array of n rows (known) and *cols columns (PROTO_DIM_ANY = any). */
static void *s_get_matrix(s_decoder_t *d, const msgpack_object *map, const char *key,
                          proto_dtype_t dtype, uint32_t n, uint32_t *cols, const char *const *names)
{
    uint32_t shape[2] = {n, *cols};
    void *data = s_get_array(d, map, key, dtype, 2, shape, names);
    *cols = shape[1];
    return data;
}

static void s_get_items(s_decoder_t *d, const msgpack_object *map, const char *key,
                        proto_items_t *items)
{
    const msgpack_object *m = s_get_map(d, map, key);
    if (!m)
        return;
    size_t mark = s_push(&d->r, ".%s", key);
    uint32_t n = PROTO_DIM_ANY;
    items->ids = s_get_vector(d, m, "ids", S_INT32, &n);
    items->n = n;
    items->topics = s_get_vector(d, m, "topics", S_INT32, &n);
    items->providers = s_get_vector(d, m, "providers", S_INT32, &n);
    items->dim = d->dims.dim;
    items->embeddings = s_get_matrix(d, m, "embeddings", S_FLOAT32, n, &items->dim, s_n_dim);
    s_pop(&d->r, mark);
}

static void s_get_feedback(s_decoder_t *d, const msgpack_object *map, proto_feedback_t *f)
{
    const msgpack_object *m = s_get_map(d, map, "feedback");
    if (!m)
        return;
    size_t mark = s_push(&d->r, ".feedback");
    uint32_t n = PROTO_DIM_ANY;
    f->user_ids = s_get_vector(d, m, "user_ids", S_INT32, &n);
    f->n = n;
    f->clicked = s_get_vector(d, m, "clicked", S_INT32, &n);
    f->reward = s_get_vector(d, m, "reward", S_FLOAT32, &n);
    f->session_end = s_get_vector(d, m, "session_end", PROTO_DTYPE_UINT8, &n);
    s_pop(&d->r, mark);
}

static void s_decode_space(s_decoder_t *d, const msgpack_object *o, proto_space_t *s);

/* The space at key of map into a new proto_space_t owned by the message. */
static const proto_space_t *s_get_space(s_decoder_t *d, const msgpack_object *map, const char *key)
{
    const msgpack_object *o = s_get_map(d, map, key);
    proto_space_t *s = s_alloc(d, sizeof *s);
    if (!o || !s)
        return NULL;
    size_t mark = s_push(&d->r, ".%s", key);
    s_decode_space(d, o, s);
    s_pop(&d->r, mark);
    return s;
}

static void s_decode_dict(s_decoder_t *d, const msgpack_object *o, proto_space_t *s)
{
    const msgpack_object *m = s_get_map(d, o, "spaces");
    if (!m)
        return;
    uint32_t n = m->via.map.size;
    const char **names = s_alloc(d, n * sizeof *names);
    proto_space_t *spaces = s_alloc(d, n * sizeof *spaces);
    for (uint32_t i = 0; i < n && !d->r.rc; i++) {
        const msgpack_object_kv *kv = &m->via.map.ptr[i];
        names[i] = s_copy_str(d, &kv->key, "spaces");
        if (d->r.rc)
            break;
        if (kv->val.type != MSGPACK_OBJECT_MAP) {
            s_fail(&d->r, PROTO_EFIELD, "spaces", "%s: expected space (map), got %s", names[i],
                   s_kind(&kv->val));
            break;
        }
        memset(&spaces[i], 0, sizeof spaces[i]);
        size_t mark = s_push(&d->r, ".spaces.%s", names[i]);
        s_decode_space(d, &kv->val, &spaces[i]);
        s_pop(&d->r, mark);
    }
    s->n_spaces = n;
    s->names = names;
    s->spaces = spaces;
}

/* Recursion depth is bounded by the byte walk (PROTO_MAX_DEPTH); the
 * tighter PROTO_MAX_SPACE_DEPTH is checked by s_check_space. */
static void s_decode_space(s_decoder_t *d, const msgpack_object *o, proto_space_t *s)
{
    int kind = s_get_enum(d, o, "type", s_space_names, (int)S_COUNT(s_space_names));
    if (kind < 0)
        return;
    s->kind = (proto_space_kind_t)kind;
    switch (s->kind) {
    case PROTO_SPACE_BOX: {
        s->dtype = (proto_dtype_t)s_get_enum(d, o, "dtype", s_dtype_names, PROTO_DTYPE_COUNT);
        s->low = s_get_double(d, o, "low");
        s->high = s_get_double(d, o, "high");
        const msgpack_object *sh = s_get_list(d, o, "shape", PROTO_MAX_RANK);
        for (uint32_t i = 0; sh && i < sh->via.array.size && !d->r.rc; i++) {
            const msgpack_object *size = &sh->via.array.ptr[i];
            if (size->type == MSGPACK_OBJECT_POSITIVE_INTEGER && size->via.u64 <= INT64_MAX)
                s->shape[i] = (int64_t)size->via.u64;
            else if (size->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
                s->shape[i] = size->via.i64;
            else
                s_fail(&d->r, PROTO_EFIELD, "shape", "entry %u: expected int, got %s", i,
                       s_kind(size));
        }
        s->ndim = sh ? sh->via.array.size : 0;
        break;
    }
    case PROTO_SPACE_DISCRETE:
        s->n = s_get_uint(d, o, "n", UINT64_MAX);
        break;
    case PROTO_SPACE_MULTI_DISCRETE: {
        const msgpack_object *nv = s_get_list(d, o, "nvec", UINT32_MAX);
        uint32_t n = nv ? nv->via.array.size : 0;
        uint64_t *nvec = s_alloc(d, n * sizeof *nvec);
        for (uint32_t i = 0; i < n && !d->r.rc; i++) {
            const msgpack_object *v = &nv->via.array.ptr[i];
            if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
                s_fail(&d->r, PROTO_EFIELD, "nvec", "entry %u: expected uint, got %s", i,
                       s_kind(v));
            else
                nvec[i] = v->via.u64;
        }
        s->n_nvec = n;
        s->nvec = nvec;
        break;
    }
    case PROTO_SPACE_DICT:
        s_decode_dict(d, o, s);
        break;
    case PROTO_SPACE_SLATE:
        s->n = s_get_uint(d, o, "n", UINT64_MAX);
        s->k = s_get_u32(d, o, "k");
        break;
    }
}

/* A list of str into an array of strings owned by the message. */
static const char *const *s_get_strings(s_decoder_t *d, const msgpack_object *map, const char *key,
                                        uint32_t max, uint32_t *count)
{
    const msgpack_object *list = s_get_list(d, map, key, max);
    uint32_t n = list ? list->via.array.size : 0;
    const char **strings = s_alloc(d, n * sizeof *strings);
    for (uint32_t i = 0; i < n && !d->r.rc; i++) {
        size_t mark = s_push(&d->r, ".%s[%u]", key, i);
        strings[i] = s_copy_str(d, &list->via.array.ptr[i], NULL);
        s_pop(&d->r, mark);
    }
    *count = n;
    return strings;
}

static void s_decode_hello(s_decoder_t *d, const msgpack_object *body, proto_hello_t *h)
{
    h->minor = s_get_u32(d, body, "minor");
    h->name = s_get_str(d, body, "name", true);
    h->role = s_get_str(d, body, "role", true);
    h->caps = s_get_strings(d, body, "caps", PROTO_MAX_CAPS, &h->n_caps);
    h->token = s_get_str(d, body, "token", false);
}

static void s_decode_welcome(s_decoder_t *d, const msgpack_object *body, proto_welcome_t *w)
{
    w->agent_index = s_get_u32(d, body, "agent_index");
    w->n_agents = s_get_u32(d, body, "n_agents");
    uint32_t n_names = 0;
    w->agents = s_get_strings(d, body, "agents", PROTO_MAX_AGENTS, &n_names);
    if (!d->r.rc && n_names != w->n_agents)
        s_fail(&d->r, PROTO_EFIELD, "agents", "%u names for n_agents = %u", n_names, w->n_agents);
    w->seed = s_get_uint(d, body, "seed", UINT64_MAX);
    w->mode = (proto_mode_t)s_get_enum(d, body, "mode", s_mode_names, (int)S_COUNT(s_mode_names));
    w->slate_size = s_get_u32(d, body, "slate_size");
    w->dim = s_get_u32(d, body, "dim");
    w->n_topics = s_get_u32(d, body, "n_topics");
    w->history_len = s_get_u32(d, body, "history_len");
    w->ticks = s_get_u32(d, body, "ticks");
    w->episodes = s_get_u32(d, body, "episodes");
    w->observation_space = s_get_space(d, body, "observation_space");
    w->action_space = s_get_space(d, body, "action_space");
    const msgpack_object *limits = s_get_map(d, body, "limits");
    if (!limits)
        return;
    size_t mark = s_push(&d->r, ".limits");
    w->limits.deadline_ms = s_get_u32(d, limits, "deadline_ms");
    w->limits.max_batch = s_get_u32(d, limits, "max_batch");
    w->limits.max_message_bytes = s_get_uint(d, limits, "max_message_bytes", UINT64_MAX);
    s_pop(&d->r, mark);
}

static void s_decode_step(s_decoder_t *d, const msgpack_object *body, proto_step_t *s)
{
    s->episode = s_get_u32(d, body, "episode");
    s->tick = s_get_u32(d, body, "tick");
    s->deadline_ms = s_get_u32(d, body, "deadline_ms");
    s_get_feedback(d, body, &s->feedback);
    s->tick_reward = s_get_double(d, body, "tick_reward");
    const msgpack_object *m = s_get_map(d, body, "requests");
    if (m) {
        proto_requests_t *q = &s->requests;
        size_t mark = s_push(&d->r, ".requests");
        uint32_t n = PROTO_DIM_ANY;
        q->user_ids = s_get_vector(d, m, "user_ids", S_INT32, &n);
        q->n = n;
        q->dim = d->dims.dim;
        q->features = s_get_matrix(d, m, "features", S_FLOAT32, n, &q->dim, s_n_dim);
        q->history_len = d->dims.history_len;
        q->history = s_get_matrix(d, m, "history", S_INT32, n, &q->history_len, s_n_history);
        s_pop(&d->r, mark);
    }
    s_get_items(d, body, "born", &s->born);
    s->n_retired = PROTO_DIM_ANY;
    s->retired = s_get_vector(d, body, "retired", S_INT32, &s->n_retired);
}

static void s_decode_act(s_decoder_t *d, const msgpack_object *body, proto_act_t *a)
{
    a->episode = s_get_u32(d, body, "episode");
    a->tick = s_get_u32(d, body, "tick");
    a->n = PROTO_DIM_ANY;
    a->user_ids = s_get_vector(d, body, "user_ids", S_INT32, &a->n);
    a->slate_size = d->dims.slate_size;
    a->slates = s_get_matrix(d, body, "slates", S_INT32, a->n, &a->slate_size, s_n_k);
}

static void s_decode_joint(s_decoder_t *d, const msgpack_object *body, proto_joint_t *j)
{
    j->episode = s_get_u32(d, body, "episode");
    j->tick = s_get_u32(d, body, "tick");
    const msgpack_object *list = s_get_list(d, body, "agents", PROTO_MAX_AGENTS);
    uint32_t n = list ? list->via.array.size : 0;
    proto_joint_agent_t *agents = s_alloc(d, n * sizeof *agents);
    for (uint32_t i = 0; i < n && !d->r.rc; i++) {
        const msgpack_object *m = &list->via.array.ptr[i];
        proto_joint_agent_t *a = &agents[i];
        memset(a, 0, sizeof *a);
        size_t mark = s_push(&d->r, ".agents[%u]", i);
        if (m->type != MSGPACK_OBJECT_MAP) {
            s_fail(&d->r, PROTO_EFIELD, NULL, "expected map, got %s", s_kind(m));
            break;
        }
        a->agent_index = s_get_u32(d, m, "agent_index");
        a->n = PROTO_DIM_ANY;
        a->user_ids = s_get_vector(d, m, "user_ids", S_INT32, &a->n);
        a->dim = d->dims.dim;
        a->features = s_get_matrix(d, m, "features", S_FLOAT32, a->n, &a->dim, s_n_dim);
        a->slate_size = d->dims.slate_size;
        a->slates = s_get_matrix(d, m, "slates", S_INT32, a->n, &a->slate_size, s_n_k);
        a->clicked = s_get_vector(d, m, "clicked", S_INT32, &a->n);
        a->reward = s_get_double(d, m, "reward");
        s_pop(&d->r, mark);
    }
    j->n_agents = n;
    j->agents = agents;
}

/* The agent names of a telemetry message: one per entry of its per-agent
 * arrays, n of them. */
static const char *const *s_get_agent_names(s_decoder_t *d, const msgpack_object *body, uint32_t n)
{
    uint32_t count = 0;
    const char *const *names = s_get_strings(d, body, "agents", PROTO_MAX_AGENTS, &count);
    if (!d->r.rc && count != n)
        s_fail(&d->r, PROTO_EFIELD, "agents", "%u names, the per-agent arrays have %u entries",
               count, n);
    return names;
}

static void s_decode_telemetry_tick(s_decoder_t *d, const msgpack_object *body,
                                    proto_telemetry_tick_t *t)
{
    t->episode = s_get_u32(d, body, "episode");
    t->tick = s_get_u32(d, body, "tick");
    t->active_users = s_get_u32(d, body, "active_users");
    t->requests = s_get_u32(d, body, "requests");
    t->clicks = s_get_u32(d, body, "clicks");
    t->welfare = s_get_double(d, body, "welfare");
    t->ild = s_get_double(d, body, "ild");
    t->gini = s_get_double(d, body, "gini");
    t->coverage = s_get_double(d, body, "coverage");
    t->entropy = s_get_double(d, body, "entropy");
    uint32_t n = PROTO_DIM_ANY;
    t->agent_requests = s_get_vector(d, body, "agent_requests", S_INT32, &n);
    t->agent_clicks = s_get_vector(d, body, "agent_clicks", S_INT32, &n);
    t->agent_reward = s_get_vector(d, body, "agent_reward", S_FLOAT64, &n);
    t->agent_regret = s_get_vector(d, body, "agent_regret", S_FLOAT64, &n);
    t->agents = s_get_agent_names(d, body, n);
    t->n_agents = n;
}

static void s_decode_telemetry_episode(s_decoder_t *d, const msgpack_object *body,
                                       proto_telemetry_episode_t *t)
{
    t->episode = s_get_u32(d, body, "episode");
    t->ticks = s_get_u32(d, body, "ticks");
    t->requests = s_get_uint(d, body, "requests", UINT64_MAX);
    t->clicks = s_get_uint(d, body, "clicks", UINT64_MAX);
    t->ctr = s_get_double(d, body, "ctr");
    t->welfare_per_request = s_get_double(d, body, "welfare_per_request");
    t->mean_active_users = s_get_double(d, body, "mean_active_users");
    t->churn = s_get_double(d, body, "churn");
    t->gini = s_get_double(d, body, "gini");
    t->coverage = s_get_double(d, body, "coverage");
    t->entropy_normalized = s_get_double(d, body, "entropy_normalized");
    t->ild = s_get_double(d, body, "ild");
    t->jaccard = s_get_double(d, body, "jaccard");
    t->interest_similarity = s_get_double(d, body, "interest_similarity");
    t->hhi = s_get_double(d, body, "hhi");
    uint32_t n = PROTO_DIM_ANY;
    t->agent_requests = s_get_vector(d, body, "agent_requests", S_INT64, &n);
    t->agent_clicks = s_get_vector(d, body, "agent_clicks", S_INT64, &n);
    t->agent_reward = s_get_vector(d, body, "agent_reward", S_FLOAT64, &n);
    t->agent_regret = s_get_vector(d, body, "agent_regret", S_FLOAT64, &n);
    t->agent_share = s_get_vector(d, body, "agent_share", S_FLOAT64, &n);
    t->agents = s_get_agent_names(d, body, n);
    t->n_agents = n;
}

static void s_decode_body(s_decoder_t *d, const msgpack_object *body)
{
    proto_msg_t *m = d->msg;
    switch (m->type) {
    case PROTO_MSG_HELLO:
        s_decode_hello(d, body, &m->hello);
        break;
    case PROTO_MSG_WELCOME:
        s_decode_welcome(d, body, &m->welcome);
        break;
    case PROTO_MSG_CATALOG:
        m->catalog.episode = s_get_u32(d, body, "episode");
        m->catalog.tick = s_get_u32(d, body, "tick");
        s_get_items(d, body, "items", &m->catalog.items);
        break;
    case PROTO_MSG_STEP:
        s_decode_step(d, body, &m->step);
        break;
    case PROTO_MSG_ACT:
        s_decode_act(d, body, &m->act);
        break;
    case PROTO_MSG_JOINT:
        s_decode_joint(d, body, &m->joint);
        break;
    case PROTO_MSG_EPISODE_END: {
        proto_episode_end_t *x = &m->episode_end;
        x->episode = s_get_u32(d, body, "episode");
        x->ticks = s_get_u32(d, body, "ticks");
        x->reward = s_get_double(d, body, "reward");
        x->requests = s_get_uint(d, body, "requests", UINT64_MAX);
        x->clicks = s_get_uint(d, body, "clicks", UINT64_MAX);
        s_get_feedback(d, body, &x->feedback);
        x->tick_reward = s_get_double(d, body, "tick_reward");
        break;
    }
    case PROTO_MSG_BYE:
        m->bye.reason = s_get_str(d, body, "reason", true);
        break;
    case PROTO_MSG_PING:
    case PROTO_MSG_PONG:
        m->ping.nonce = s_get_uint(d, body, "nonce", UINT64_MAX);
        break;
    case PROTO_MSG_ERROR: {
        proto_error_t *x = &m->error;
        x->code = s_get_i32(d, body, "code");
        x->message = s_get_str(d, body, "message", true);
        const msgpack_object *fatal =
            s_find_typed(d, body, "fatal", true, MSGPACK_OBJECT_BOOLEAN, "bool");
        x->fatal = fatal && fatal->via.boolean;
        const msgpack_object *ref =
            s_find_typed(d, body, "ref_seq", false, MSGPACK_OBJECT_POSITIVE_INTEGER, "uint");
        x->has_ref_seq = ref != NULL;
        x->ref_seq = ref ? ref->via.u64 : 0;
        break;
    }
    case PROTO_MSG_TELEMETRY_TICK:
        s_decode_telemetry_tick(d, body, &m->telemetry_tick);
        break;
    case PROTO_MSG_TELEMETRY_EPISODE:
        s_decode_telemetry_episode(d, body, &m->telemetry_episode);
        break;
    case PROTO_MSG_TELEMETRY_EXPOSURE: {
        proto_telemetry_exposure_t *x = &m->telemetry_exposure;
        x->episode = s_get_u32(d, body, "episode");
        x->tick = s_get_u32(d, body, "tick");
        x->n_items = PROTO_DIM_ANY;
        x->items = s_get_vector(d, body, "items", S_INT64, &x->n_items);
        x->n_topics = PROTO_DIM_ANY;
        x->topics = s_get_vector(d, body, "topics", S_INT64, &x->n_topics);
        break;
    }
    }
}

/* A uint of the envelope into out; false (an error) otherwise. */
static bool s_envelope_uint(s_report_t *r, const msgpack_object *o, const char *key, uint64_t *out)
{
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
        s_fail(r, PROTO_EENVELOPE, key, "expected uint, got %s", s_kind(o));
        return false;
    }
    *out = o->via.u64;
    return true;
}

/* Stage 2 on an unpacked root: envelope, then body. */
static void s_decode_root(s_decoder_t *d, const msgpack_object *root)
{
    s_report_t *r = &d->r;
    proto_msg_t *m = d->msg;
    uint64_t major, type, seq;
    if (root->type != MSGPACK_OBJECT_ARRAY) {
        s_fail(r, PROTO_EENVELOPE, NULL, "expected array [major, type, seq, body], got %s",
               s_kind(root));
        return;
    }
    if (root->via.array.size != 4) {
        s_fail(r, PROTO_EENVELOPE, NULL,
               "expected array of 4 [major, type, seq, body], got %u elements",
               root->via.array.size);
        return;
    }
    const msgpack_object *item = root->via.array.ptr;
    if (!s_envelope_uint(r, &item[0], "major", &major) ||
        !s_envelope_uint(r, &item[1], "type", &type) || !s_envelope_uint(r, &item[2], "seq", &seq))
        return;
    m->major = major > UINT32_MAX ? UINT32_MAX : (uint32_t)major;
    m->type = type > UINT32_MAX ? UINT32_MAX : (uint32_t)type;
    m->seq = seq;
    /* an ERROR reads the same in every major version, so that the other
     * side's refusal of ours can always be shown */
    if (major != PROTO_VERSION_MAJOR && m->type != PROTO_MSG_ERROR) {
        s_fail(r, PROTO_EVERSION, NULL,
               "protocol major version %" PRIu64 " received, this side speaks %d", major,
               PROTO_VERSION_MAJOR);
        return;
    }
    const char *name = proto_type_name(m->type);
    if (!name) {
        s_fail(r, PROTO_ETYPE, NULL, "unknown message type %" PRIu64 " (seq %" PRIu64 ")", type,
               seq);
        return;
    }
    s_report_init(r, name, r->err, r->err_len);
    if (item[3].type != MSGPACK_OBJECT_MAP) {
        s_fail(r, PROTO_EENVELOPE, NULL, "body: expected map, got %s", s_kind(&item[3]));
        return;
    }
    s_decode_body(d, &item[3]);
    if (!r->rc)
        s_check_msg(r, m, PROTO_EFIELD);
}

int proto_decode(const void *data, size_t size, const proto_dims_t *dims, proto_msg_t *msg,
                 char *err, size_t err_len)
{
    s_decoder_t d = {.msg = msg};
    d.dims = dims ? *dims : (proto_dims_t){PROTO_DIM_ANY, PROTO_DIM_ANY, PROTO_DIM_ANY};
    s_report_init(&d.r, "envelope", err, err_len);
    /* copies take about the frame's bytes; pointers and structs a little more */
    size_t reuse = s_storage_reset(msg);
    d.chunk_bytes = reuse > size + 4096 ? reuse : size + 4096;
    proto_storage_t *storage = msg->storage;
    proto_msg_init(msg);
    msg->storage = storage;
    if (size > PROTO_MAX_MESSAGE_BYTES) {
        s_fail(&d.r, PROTO_ETOOBIG, NULL, "%zu bytes, more than %u", size, PROTO_MAX_MESSAGE_BYTES);
        return d.r.rc;
    }
    s_scan(&d.r, data, size);
    if (d.r.rc)
        return d.r.rc;

    msgpack_unpacked unpacked;
    msgpack_unpacked_init(&unpacked);
    size_t offset = 0;
    msgpack_unpack_return ret = msgpack_unpack_next(&unpacked, data, size, &offset);
    if (ret == MSGPACK_UNPACK_NOMEM_ERROR)
        s_fail(&d.r, PROTO_ENOMEM, NULL, "out of memory unpacking %zu bytes", size);
    else if (ret != MSGPACK_UNPACK_SUCCESS || offset != size)
        s_fail(&d.r, PROTO_EMALFORMED, NULL, "msgpack-c refused the message (%d)", (int)ret);
    else
        s_decode_root(&d, &unpacked.data);
    msgpack_unpacked_destroy(&unpacked);

    if (d.r.rc) {
        /* keep the envelope so that the caller can answer, and the storage
         * for the next decode; drop the body */
        proto_msg_t envelope = *msg;
        proto_msg_init(msg);
        msg->major = envelope.major;
        msg->type = envelope.type;
        msg->seq = envelope.seq;
        msg->storage = envelope.storage;
    }
    return d.r.rc;
}
