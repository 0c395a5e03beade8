/* Decoding (codec.h, proto_decode): one frame into a proto_msg_t that owns
 * aligned copies of its arrays. The frame is walked first (codec_scan,
 * validate.c), then unpacked by msgpack-c; the envelope is read here and
 * the body by the type's decoder (codec_types), whose check (validate.c)
 * then judges the result. Copies go to storage chunks that the next
 * decode into the same message reuses. The telemetry messages' decoders
 * are in telemetry_msg.c. */
#include "proto/codec_private.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A decoded message's arrays and strings, bump-allocated from chunks
 * that the next decode into the same message reuses: decoding a STEP per
 * tick allocates nothing once the chunk is large enough. */
struct proto_storage {
    struct proto_storage *next; /* older chunks, still in use by this message */
    size_t used, capacity;      /* bytes of data */
    max_align_t data[];         /* aligned for any element type */
};

#define S_ALIGN _Alignof(max_align_t)

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
static void *s_alloc(codec_decoder_t *d, size_t bytes)
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
            codec_fail(&d->r, PROTO_ENOMEM, NULL, "out of memory (%zu bytes)", capacity);
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
static const msgpack_object *s_find(codec_decoder_t *d, const msgpack_object *map, const char *key,
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
            codec_fail(&d->r, PROTO_EFIELD, key, "key given twice");
            return NULL;
        }
        found = &kv->val;
    }
    if (!found && required)
        codec_fail(&d->r, PROTO_EFIELD, key, "missing");
    return found;
}

/* Same, and of msgpack type `type` (named `want` in errors). */
static const msgpack_object *s_find_typed(codec_decoder_t *d, const msgpack_object *map,
                                          const char *key, bool required, msgpack_object_type type,
                                          const char *want)
{
    const msgpack_object *o = s_find(d, map, key, required);
    if (o && o->type != type) {
        codec_fail(&d->r, PROTO_EFIELD, key, "expected %s, got %s", want, s_kind(o));
        return NULL;
    }
    return o;
}

uint64_t codec_get_uint(codec_decoder_t *d, const msgpack_object *map, const char *key,
                        uint64_t max)
{
    const msgpack_object *o =
        s_find_typed(d, map, key, true, MSGPACK_OBJECT_POSITIVE_INTEGER, "uint");
    if (!o)
        return 0;
    if (o->via.u64 > max) {
        codec_fail(&d->r, PROTO_EFIELD, key, "%" PRIu64 " is out of range (max %" PRIu64 ")",
                   o->via.u64, max);
        return 0;
    }
    return o->via.u64;
}

uint32_t codec_get_u32(codec_decoder_t *d, const msgpack_object *map, const char *key)
{
    return (uint32_t)codec_get_uint(d, map, key, UINT32_MAX);
}

static int32_t s_get_i32(codec_decoder_t *d, const msgpack_object *map, const char *key)
{
    const msgpack_object *o = s_find(d, map, key, true);
    if (!o)
        return 0;
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT32_MAX)
        return (int32_t)o->via.u64;
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER && o->via.i64 >= INT32_MIN)
        return (int32_t)o->via.i64;
    codec_fail(&d->r, PROTO_EFIELD, key, "expected int32, got %s", s_kind(o));
    return 0;
}

double codec_get_double(codec_decoder_t *d, const msgpack_object *map, const char *key)
{
    const msgpack_object *o = s_find(d, map, key, true);
    if (!o)
        return 0.0;
    if (o->type != MSGPACK_OBJECT_FLOAT64 && o->type != MSGPACK_OBJECT_FLOAT32) {
        codec_fail(&d->r, PROTO_EFIELD, key, "expected float64, got %s", s_kind(o));
        return 0.0;
    }
    return o->via.f64;
}

/* A NUL-terminated copy of a str object, owned by the message. */
static const char *s_copy_str(codec_decoder_t *d, const msgpack_object *o, const char *key)
{
    if (d->r.rc)
        return NULL;
    if (o->type != MSGPACK_OBJECT_STR) {
        codec_fail(&d->r, PROTO_EFIELD, key, "expected str, got %s", s_kind(o));
        return NULL;
    }
    uint32_t len = o->via.str.size;
    if (len && memchr(o->via.str.ptr, '\0', len)) {
        codec_fail(&d->r, PROTO_EFIELD, key, "str holds a NUL byte");
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

static const char *s_get_str(codec_decoder_t *d, const msgpack_object *map, const char *key,
                             bool required)
{
    const msgpack_object *o = s_find(d, map, key, required);
    return o ? s_copy_str(d, o, key) : NULL;
}

/* The index of a str value in names; -1 on error. */
static int s_get_enum(codec_decoder_t *d, const msgpack_object *map, const char *key,
                      const char *const *names, int count)
{
    const msgpack_object *o = s_find_typed(d, map, key, true, MSGPACK_OBJECT_STR, "str");
    if (!o)
        return -1;
    for (int i = 0; i < count; i++)
        if (strlen(names[i]) == o->via.str.size &&
            memcmp(names[i], o->via.str.ptr, o->via.str.size) == 0)
            return i;
    codec_fail(&d->r, PROTO_EFIELD, key, "unknown value \"%.*s\"",
               (int)(o->via.str.size < 40 ? o->via.str.size : 40), o->via.str.ptr);
    return -1;
}

static const msgpack_object *s_get_list(codec_decoder_t *d, const msgpack_object *map,
                                        const char *key, uint32_t max)
{
    const msgpack_object *o = s_find_typed(d, map, key, true, MSGPACK_OBJECT_ARRAY, "array");
    if (o && o->via.array.size > max) {
        codec_fail(&d->r, PROTO_EFIELD, key, "%u entries, more than %u", o->via.array.size, max);
        return NULL;
    }
    return o;
}

static const msgpack_object *s_get_map(codec_decoder_t *d, const msgpack_object *map,
                                       const char *key)
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
static void *s_get_array(codec_decoder_t *d, const msgpack_object *map, const char *key,
                         proto_dtype_t dtype, uint32_t ndim, uint32_t *shape,
                         const char *const *names)
{
    char want[80], got[80];
    const msgpack_object *o = s_find(d, map, key, true);
    if (!o)
        return NULL;
    /* shapes are formatted only for an error: a STEP has a dozen arrays */
    if (o->type != MSGPACK_OBJECT_MAP) {
        s_format_shape(want, sizeof want, ndim, shape, names);
        codec_fail(&d->r, PROTO_EFIELD, key, "expected typed array %s %s, got %s",
                   codec_dtype_names[dtype], want, s_kind(o));
        return NULL;
    }
    size_t mark = codec_push_key(&d->r, key);
    int got_dtype = s_get_enum(d, o, "dtype", codec_dtype_names, PROTO_DTYPE_COUNT);
    const msgpack_object *sh = s_get_list(d, o, "shape", PROTO_MAX_RANK);
    const msgpack_object *data =
        s_find_typed(d, o, "data", true, MSGPACK_OBJECT_BIN, "bin (little-endian elements)");
    uint32_t got_shape[PROTO_MAX_RANK] = {0};
    for (uint32_t i = 0; sh && i < sh->via.array.size && !d->r.rc; i++) {
        const msgpack_object *size = &sh->via.array.ptr[i];
        if (size->type != MSGPACK_OBJECT_POSITIVE_INTEGER || size->via.u64 >= PROTO_DIM_ANY)
            codec_fail(&d->r, PROTO_EFIELD, "shape", "entry %u is not a uint32 size", i);
        else
            got_shape[i] = (uint32_t)size->via.u64;
    }
    codec_pop(&d->r, mark);
    if (d->r.rc)
        return NULL;

    uint32_t got_ndim = sh->via.array.size;
    bool match = got_dtype == (int)dtype && got_ndim == ndim;
    for (uint32_t i = 0; match && i < ndim; i++)
        match = shape[i] == PROTO_DIM_ANY || shape[i] == got_shape[i];
    if (!match) {
        s_format_shape(want, sizeof want, ndim, shape, names);
        s_format_shape(got, sizeof got, got_ndim, got_shape, NULL);
        codec_fail(&d->r, PROTO_EFIELD, key, "expected typed array %s %s, got %s %s",
                   codec_dtype_names[dtype], want, codec_dtype_names[got_dtype], got);
        return NULL;
    }
    /* bytes the shape needs, saturated: a mismatch whatever the sizes */
    uint64_t need = proto_dtype_size(dtype);
    for (uint32_t i = 0; i < ndim; i++)
        need = got_shape[i] == 0                  ? 0
               : need > UINT64_MAX / got_shape[i] ? UINT64_MAX
                                                  : need * got_shape[i];
    if (need != data->via.bin.size) {
        s_format_shape(got, sizeof got, got_ndim, got_shape, NULL);
        codec_fail(&d->r, PROTO_EFIELD, key, "data holds %" PRIu32 " bytes, %s %s needs %" PRIu64,
                   data->via.bin.size, codec_dtype_names[dtype], got, need);
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

bool codec_has_key(codec_decoder_t *d, const msgpack_object *map, const char *key)
{
    return s_find(d, map, key, false) != NULL;
}

void *codec_get_vector(codec_decoder_t *d, const msgpack_object *map, const char *key,
                       proto_dtype_t dtype, uint32_t *n)
{
    return s_get_array(d, map, key, dtype, 1, n, s_n);
}

/* A 2-D array of n rows (known) and *cols columns (PROTO_DIM_ANY = any). */
static void *s_get_matrix(codec_decoder_t *d, const msgpack_object *map, const char *key,
                          proto_dtype_t dtype, uint32_t n, uint32_t *cols, const char *const *names)
{
    uint32_t shape[2] = {n, *cols};
    void *data = s_get_array(d, map, key, dtype, 2, shape, names);
    *cols = shape[1];
    return data;
}

/* CATALOG.items.titles (optional, 1.2): one bin of n NUL-terminated
 * strings, copied into storage with a pointer to each. Their contents
 * (UTF-8, lengths) are the check's (validate.c). */
static const char *const *s_get_titles(codec_decoder_t *d, const msgpack_object *map, uint32_t n)
{
    const msgpack_object *o = s_find_typed(d, map, "titles", false, MSGPACK_OBJECT_BIN,
                                           "bin (NUL-terminated UTF-8 strings)");
    if (!o || d->r.rc)
        return NULL;
    const char *bytes = o->via.bin.ptr;
    uint32_t size = o->via.bin.size, ends = 0;
    for (uint32_t i = 0; i < size; i++)
        ends += bytes[i] == '\0';
    if (ends != n || (size > 0 && bytes[size - 1] != '\0')) {
        codec_fail(&d->r, PROTO_EFIELD, "titles",
                   "expected %" PRIu32 " NUL-terminated strings, got %" PRIu32 " NULs in %" PRIu32
                   " bytes%s",
                   n, ends, size, size > 0 && bytes[size - 1] != '\0' ? ", not ending in NUL" : "");
        return NULL;
    }
    const char **titles = s_alloc(d, (n ? n : 1) * sizeof *titles);
    char *copy = s_alloc(d, size ? size : 1);
    if (!titles || !copy)
        return NULL;
    memcpy(copy, bytes, size);
    for (uint32_t i = 0, at = 0; i < n; i++) {
        titles[i] = copy + at;
        at += (uint32_t)strlen(copy + at) + 1;
    }
    return titles;
}

static void s_get_items(codec_decoder_t *d, const msgpack_object *map, const char *key,
                        proto_items_t *items)
{
    const msgpack_object *m = s_get_map(d, map, key);
    if (!m)
        return;
    size_t mark = codec_push_key(&d->r, key);
    uint32_t n = PROTO_DIM_ANY;
    items->ids = codec_get_vector(d, m, "ids", PROTO_DTYPE_INT32, &n);
    items->n = n;
    items->topics = codec_get_vector(d, m, "topics", PROTO_DTYPE_INT32, &n);
    items->providers = codec_get_vector(d, m, "providers", PROTO_DTYPE_INT32, &n);
    items->dim = d->dims.dim;
    items->embeddings =
        s_get_matrix(d, m, "embeddings", PROTO_DTYPE_FLOAT32, n, &items->dim, s_n_dim);
    if (strcmp(key, "items") == 0 && !d->r.rc) /* CATALOG's; STEP.born has none */
        items->titles = s_get_titles(d, m, n);
    codec_pop(&d->r, mark);
}

static void s_get_feedback(codec_decoder_t *d, const msgpack_object *map, proto_feedback_t *f)
{
    const msgpack_object *m = s_get_map(d, map, "feedback");
    if (!m)
        return;
    size_t mark = codec_push_key(&d->r, "feedback");
    uint32_t n = PROTO_DIM_ANY;
    f->user_ids = codec_get_vector(d, m, "user_ids", PROTO_DTYPE_INT32, &n);
    f->n = n;
    f->clicked = codec_get_vector(d, m, "clicked", PROTO_DTYPE_INT32, &n);
    f->reward = codec_get_vector(d, m, "reward", PROTO_DTYPE_FLOAT32, &n);
    f->session_end = codec_get_vector(d, m, "session_end", PROTO_DTYPE_UINT8, &n);
    codec_pop(&d->r, mark);
}

static void s_decode_space(codec_decoder_t *d, const msgpack_object *o, proto_space_t *s);

/* The space at key of map into a new proto_space_t owned by the message. */
static const proto_space_t *s_get_space(codec_decoder_t *d, const msgpack_object *map,
                                        const char *key)
{
    const msgpack_object *o = s_get_map(d, map, key);
    proto_space_t *s = s_alloc(d, sizeof *s);
    if (!o || !s)
        return NULL;
    size_t mark = codec_push_key(&d->r, key);
    s_decode_space(d, o, s);
    codec_pop(&d->r, mark);
    return s;
}

static void s_decode_dict(codec_decoder_t *d, const msgpack_object *o, proto_space_t *s)
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
            codec_fail(&d->r, PROTO_EFIELD, "spaces", "%s: expected space (map), got %s", names[i],
                       s_kind(&kv->val));
            break;
        }
        memset(&spaces[i], 0, sizeof spaces[i]);
        size_t mark = codec_push(&d->r, ".spaces.%s", names[i]);
        s_decode_space(d, &kv->val, &spaces[i]);
        codec_pop(&d->r, mark);
    }
    s->n_spaces = n;
    s->names = names;
    s->spaces = spaces;
}

/* Recursion depth is bounded by the byte walk (PROTO_MAX_DEPTH); the
 * tighter PROTO_MAX_SPACE_DEPTH is checked by validate.c. */
static void s_decode_space(codec_decoder_t *d, const msgpack_object *o, proto_space_t *s)
{
    int kind = s_get_enum(d, o, "type", codec_space_names, CODEC_SPACE_KIND_COUNT);
    if (kind < 0)
        return;
    s->kind = (proto_space_kind_t)kind;
    switch (s->kind) {
    case PROTO_SPACE_BOX: {
        s->dtype = (proto_dtype_t)s_get_enum(d, o, "dtype", codec_dtype_names, PROTO_DTYPE_COUNT);
        s->low = codec_get_double(d, o, "low");
        s->high = codec_get_double(d, o, "high");
        const msgpack_object *sh = s_get_list(d, o, "shape", PROTO_MAX_RANK);
        for (uint32_t i = 0; sh && i < sh->via.array.size && !d->r.rc; i++) {
            const msgpack_object *size = &sh->via.array.ptr[i];
            if (size->type == MSGPACK_OBJECT_POSITIVE_INTEGER && size->via.u64 <= INT64_MAX)
                s->shape[i] = (int64_t)size->via.u64;
            else if (size->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
                s->shape[i] = size->via.i64;
            else
                codec_fail(&d->r, PROTO_EFIELD, "shape", "entry %u: expected int, got %s", i,
                           s_kind(size));
        }
        s->ndim = sh ? sh->via.array.size : 0;
        break;
    }
    case PROTO_SPACE_DISCRETE:
        s->n = codec_get_uint(d, o, "n", UINT64_MAX);
        break;
    case PROTO_SPACE_MULTI_DISCRETE: {
        const msgpack_object *nv = s_get_list(d, o, "nvec", UINT32_MAX);
        uint32_t n = nv ? nv->via.array.size : 0;
        uint64_t *nvec = s_alloc(d, n * sizeof *nvec);
        for (uint32_t i = 0; i < n && !d->r.rc; i++) {
            const msgpack_object *v = &nv->via.array.ptr[i];
            if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
                codec_fail(&d->r, PROTO_EFIELD, "nvec", "entry %u: expected uint, got %s", i,
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
        s->n = codec_get_uint(d, o, "n", UINT64_MAX);
        s->k = codec_get_u32(d, o, "k");
        break;
    }
}

const char *const *codec_get_strings(codec_decoder_t *d, const msgpack_object *map, const char *key,
                                     uint32_t max, uint32_t *count)
{
    const msgpack_object *list = s_get_list(d, map, key, max);
    uint32_t n = list ? list->via.array.size : 0;
    const char **strings = s_alloc(d, n * sizeof *strings);
    for (uint32_t i = 0; i < n && !d->r.rc; i++) {
        size_t mark = codec_push(&d->r, ".%s[%u]", key, i);
        strings[i] = s_copy_str(d, &list->via.array.ptr[i], NULL);
        codec_pop(&d->r, mark);
    }
    *count = n;
    return strings;
}

/* ---- the control messages' decoders (codec_types) ------------------- */

void codec_decode_hello(codec_decoder_t *d, const msgpack_object *body, proto_msg_t *m)
{
    proto_hello_t *h = &m->hello;
    h->minor = codec_get_u32(d, body, "minor");
    h->name = s_get_str(d, body, "name", true);
    h->role = s_get_str(d, body, "role", true);
    h->caps = codec_get_strings(d, body, "caps", PROTO_MAX_CAPS, &h->n_caps);
    h->token = s_get_str(d, body, "token", false);
}

void codec_decode_welcome(codec_decoder_t *d, const msgpack_object *body, proto_msg_t *m)
{
    proto_welcome_t *w = &m->welcome;
    w->agent_index = codec_get_u32(d, body, "agent_index");
    w->n_agents = codec_get_u32(d, body, "n_agents");
    uint32_t n_names = 0;
    w->agents = codec_get_strings(d, body, "agents", PROTO_MAX_AGENTS, &n_names);
    if (!d->r.rc && n_names != w->n_agents)
        codec_fail(&d->r, PROTO_EFIELD, "agents", "%u names for n_agents = %u", n_names,
                   w->n_agents);
    w->seed = codec_get_uint(d, body, "seed", UINT64_MAX);
    w->mode = (proto_mode_t)s_get_enum(d, body, "mode", codec_mode_names, CODEC_MODE_COUNT);
    w->slate_size = codec_get_u32(d, body, "slate_size");
    w->dim = codec_get_u32(d, body, "dim");
    w->n_topics = codec_get_u32(d, body, "n_topics");
    w->history_len = codec_get_u32(d, body, "history_len");
    w->ticks = codec_get_u32(d, body, "ticks");
    w->episodes = codec_get_u32(d, body, "episodes");
    w->observation_space = s_get_space(d, body, "observation_space");
    w->action_space = s_get_space(d, body, "action_space");
    const msgpack_object *limits = s_get_map(d, body, "limits");
    if (!limits)
        return;
    size_t mark = codec_push_key(&d->r, "limits");
    w->limits.deadline_ms = codec_get_u32(d, limits, "deadline_ms");
    w->limits.max_batch = codec_get_u32(d, limits, "max_batch");
    w->limits.max_message_bytes = codec_get_uint(d, limits, "max_message_bytes", UINT64_MAX);
    codec_pop(&d->r, mark);
}

void codec_decode_catalog(codec_decoder_t *d, const msgpack_object *body, proto_msg_t *m)
{
    m->catalog.episode = codec_get_u32(d, body, "episode");
    m->catalog.tick = codec_get_u32(d, body, "tick");
    s_get_items(d, body, "items", &m->catalog.items);
}

void codec_decode_step(codec_decoder_t *d, const msgpack_object *body, proto_msg_t *m)
{
    proto_step_t *s = &m->step;
    s->episode = codec_get_u32(d, body, "episode");
    s->tick = codec_get_u32(d, body, "tick");
    s->deadline_ms = codec_get_u32(d, body, "deadline_ms");
    s_get_feedback(d, body, &s->feedback);
    s->tick_reward = codec_get_double(d, body, "tick_reward");
    const msgpack_object *req = s_get_map(d, body, "requests");
    if (req) {
        proto_requests_t *q = &s->requests;
        size_t mark = codec_push_key(&d->r, "requests");
        uint32_t n = PROTO_DIM_ANY;
        q->user_ids = codec_get_vector(d, req, "user_ids", PROTO_DTYPE_INT32, &n);
        q->n = n;
        q->dim = d->dims.dim;
        q->features = s_get_matrix(d, req, "features", PROTO_DTYPE_FLOAT32, n, &q->dim, s_n_dim);
        q->history_len = d->dims.history_len;
        q->history =
            s_get_matrix(d, req, "history", PROTO_DTYPE_INT32, n, &q->history_len, s_n_history);
        codec_pop(&d->r, mark);
    }
    s_get_items(d, body, "born", &s->born);
    s->n_retired = PROTO_DIM_ANY;
    s->retired = codec_get_vector(d, body, "retired", PROTO_DTYPE_INT32, &s->n_retired);
}

void codec_decode_act(codec_decoder_t *d, const msgpack_object *body, proto_msg_t *m)
{
    proto_act_t *a = &m->act;
    a->episode = codec_get_u32(d, body, "episode");
    a->tick = codec_get_u32(d, body, "tick");
    a->n = PROTO_DIM_ANY;
    a->user_ids = codec_get_vector(d, body, "user_ids", PROTO_DTYPE_INT32, &a->n);
    a->slate_size = d->dims.slate_size;
    a->slates = s_get_matrix(d, body, "slates", PROTO_DTYPE_INT32, a->n, &a->slate_size, s_n_k);
    if (codec_has_key(d, body, "propensity")) /* optional, since 1.2 */
        a->propensity = codec_get_vector(d, body, "propensity", PROTO_DTYPE_FLOAT64, &a->n);
}

void codec_decode_joint(codec_decoder_t *d, const msgpack_object *body, proto_msg_t *m)
{
    proto_joint_t *j = &m->joint;
    j->episode = codec_get_u32(d, body, "episode");
    j->tick = codec_get_u32(d, body, "tick");
    const msgpack_object *list = s_get_list(d, body, "agents", PROTO_MAX_AGENTS);
    uint32_t n = list ? list->via.array.size : 0;
    proto_joint_agent_t *agents = s_alloc(d, n * sizeof *agents);
    for (uint32_t i = 0; i < n && !d->r.rc; i++) {
        const msgpack_object *entry = &list->via.array.ptr[i];
        proto_joint_agent_t *a = &agents[i];
        memset(a, 0, sizeof *a);
        size_t mark = codec_push(&d->r, ".agents[%u]", i);
        if (entry->type != MSGPACK_OBJECT_MAP) {
            codec_fail(&d->r, PROTO_EFIELD, NULL, "expected map, got %s", s_kind(entry));
            break;
        }
        a->agent_index = codec_get_u32(d, entry, "agent_index");
        a->n = PROTO_DIM_ANY;
        a->user_ids = codec_get_vector(d, entry, "user_ids", PROTO_DTYPE_INT32, &a->n);
        a->dim = d->dims.dim;
        a->features =
            s_get_matrix(d, entry, "features", PROTO_DTYPE_FLOAT32, a->n, &a->dim, s_n_dim);
        a->slate_size = d->dims.slate_size;
        a->slates =
            s_get_matrix(d, entry, "slates", PROTO_DTYPE_INT32, a->n, &a->slate_size, s_n_k);
        a->clicked = codec_get_vector(d, entry, "clicked", PROTO_DTYPE_INT32, &a->n);
        a->reward = codec_get_double(d, entry, "reward");
        codec_pop(&d->r, mark);
    }
    j->n_agents = n;
    j->agents = agents;
}

void codec_decode_episode_end(codec_decoder_t *d, const msgpack_object *body, proto_msg_t *m)
{
    proto_episode_end_t *x = &m->episode_end;
    x->episode = codec_get_u32(d, body, "episode");
    x->ticks = codec_get_u32(d, body, "ticks");
    x->reward = codec_get_double(d, body, "reward");
    x->requests = codec_get_uint(d, body, "requests", UINT64_MAX);
    x->clicks = codec_get_uint(d, body, "clicks", UINT64_MAX);
    s_get_feedback(d, body, &x->feedback);
    x->tick_reward = codec_get_double(d, body, "tick_reward");
}

void codec_decode_bye(codec_decoder_t *d, const msgpack_object *body, proto_msg_t *m)
{
    m->bye.reason = s_get_str(d, body, "reason", true);
}

/* PING and PONG */
void codec_decode_ping(codec_decoder_t *d, const msgpack_object *body, proto_msg_t *m)
{
    m->ping.nonce = codec_get_uint(d, body, "nonce", UINT64_MAX);
}

void codec_decode_error(codec_decoder_t *d, const msgpack_object *body, proto_msg_t *m)
{
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
}

/* ---- the envelope and the entry point -------------------------------- */

/* A uint of the envelope into out; false (an error) otherwise. */
static bool s_envelope_uint(codec_report_t *r, const msgpack_object *o, const char *key,
                            uint64_t *out)
{
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
        codec_fail(r, PROTO_EENVELOPE, key, "expected uint, got %s", s_kind(o));
        return false;
    }
    *out = o->via.u64;
    return true;
}

/* Stage 2 on an unpacked root: envelope, then body. */
static void s_decode_root(codec_decoder_t *d, const msgpack_object *root)
{
    codec_report_t *r = &d->r;
    proto_msg_t *m = d->msg;
    uint64_t major, type, seq;
    if (root->type != MSGPACK_OBJECT_ARRAY) {
        codec_fail(r, PROTO_EENVELOPE, NULL, "expected array [major, type, seq, body], got %s",
                   s_kind(root));
        return;
    }
    if (root->via.array.size != 4) {
        codec_fail(r, PROTO_EENVELOPE, NULL,
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
    m->has_seq = true;
    /* an ERROR reads the same in every major version, so that the other
     * side's refusal of ours can always be shown */
    if (major != PROTO_VERSION_MAJOR && m->type != PROTO_MSG_ERROR) {
        codec_fail(r, PROTO_EVERSION, NULL,
                   "protocol major version %" PRIu64 " received, this side speaks %d", major,
                   PROTO_VERSION_MAJOR);
        return;
    }
    const char *name = proto_type_name(m->type);
    if (!name) {
        codec_fail(r, PROTO_ETYPE, NULL, "unknown message type %" PRIu64 " (seq %" PRIu64 ")", type,
                   seq);
        return;
    }
    codec_report_init(r, name, r->err, r->err_len);
    if (item[3].type != MSGPACK_OBJECT_MAP) {
        codec_fail(r, PROTO_EENVELOPE, NULL, "body: expected map, got %s", s_kind(&item[3]));
        return;
    }
    const codec_type_t *row = &codec_types[m->type];
    row->decode(d, &item[3], m);
    if (!r->rc && row->check)
        row->check(r, m, PROTO_EFIELD);
}

int proto_decode(const void *data, size_t size, const proto_dims_t *dims, proto_msg_t *msg,
                 char *err, size_t err_len)
{
    codec_decoder_t d = {.msg = msg};
    d.dims = dims ? *dims : (proto_dims_t){PROTO_DIM_ANY, PROTO_DIM_ANY, PROTO_DIM_ANY};
    codec_report_init(&d.r, "envelope", err, err_len);
    /* copies take about the frame's bytes; pointers and structs a little more */
    size_t reuse = s_storage_reset(msg);
    d.chunk_bytes = reuse > size + 4096 ? reuse : size + 4096;
    proto_storage_t *storage = msg->storage;
    proto_msg_init(msg);
    msg->storage = storage;
    if (size > PROTO_MAX_MESSAGE_BYTES) {
        codec_fail(&d.r, PROTO_ETOOBIG, NULL, "%zu bytes, more than %u", size,
                   PROTO_MAX_MESSAGE_BYTES);
        return d.r.rc;
    }
    codec_scan(&d.r, data, size);
    if (d.r.rc)
        return d.r.rc;

    msgpack_unpacked unpacked;
    msgpack_unpacked_init(&unpacked);
    size_t offset = 0;
    msgpack_unpack_return ret = msgpack_unpack_next(&unpacked, data, size, &offset);
    if (ret == MSGPACK_UNPACK_NOMEM_ERROR)
        codec_fail(&d.r, PROTO_ENOMEM, NULL, "out of memory unpacking %zu bytes", size);
    else if (ret != MSGPACK_UNPACK_SUCCESS || offset != size)
        codec_fail(&d.r, PROTO_EMALFORMED, NULL, "msgpack-c refused the message (%d)", (int)ret);
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
        msg->has_seq = envelope.has_seq;
        msg->storage = envelope.storage;
    }
    return d.r.rc;
}
