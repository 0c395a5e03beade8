/* The C agent SDK (agent.h): the command line, the connection to the
 * server, the live catalog view and the message loop that calls an
 * agent's callbacks. Buffers are allocated once and reused: the decoded
 * message's storage, the encode buffer, the slates (max batch x k) and the
 * catalog grow only when a message is larger than any before; a message
 * is decoded straight from ZeroMQ's frame. */
#include "agents/sdk/agent.h"

#include "core/err.h"
#include "core/parse.h"
#include "proto/transport.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define S_MAX_OPTION    64       /* bytes of an option name, NUL included */
#define S_MAX_MS        86400000 /* longest --idle-timeout / --ping-timeout: a day */
#define S_BYE_LINGER_MS 500      /* how long a closing BYE may wait to go out */

/* The live items, rows sorted by id. view points into the arrays and is
 * what agent_catalog hands out. */
typedef struct s_catalog {
    proto_items_t view;
    uint32_t n, dim;
    uint32_t capacity; /* rows allocated */
    int32_t *ids, *topics, *providers;
    float *embeddings; /* (capacity, dim) */
    uint8_t *marks;    /* (capacity), zero between calls: rows to retire */
} s_catalog_t;

/* The titles of the last CATALOG (protocol 1.2), by id: items born later
 * have none. */
typedef struct s_titles {
    uint32_t n;
    int32_t *ids;        /* (n) ascending */
    const char **titles; /* (n) into text */
    char *text;          /* the NUL-terminated titles, in id order */
} s_titles_t;

struct agent {
    const agent_spec_t *spec;
    void *user;
    const char *program; /* argv[0] without its directory, for messages */
    const char *endpoint, *name;
    const char *server_key, *agent_key; /* CURVE key files; NULL: no CURVE */
    long idle_ms, ping_ms, give_up_ms;

    void *ctx, *socket;
    uint64_t seq;         /* messages sent on this connection */
    proto_buffer_t out;   /* the last frame encoded */
    transport_frame_t in; /* the last frame received, decoded in place */
    proto_msg_t received; /* the last message decoded; its storage is reused */

    proto_msg_t welcome; /* the last WELCOME, owned; type 0 before the first */
    proto_dims_t dims;   /* array widths the decoder expects, from WELCOME */
    pcg32_t rng;
    bool seeded, has_catalog;
    s_catalog_t catalog;
    s_titles_t titles;
    int32_t *slates; /* (slates_capacity) = (rows, slate_size) */
    size_t slates_capacity;
    double *propensity; /* (propensity_capacity): agent_propensity's rows */
    size_t propensity_capacity;
    uint32_t step_rows;   /* requests of the STEP in on_step; 0 outside it */
    bool send_propensity; /* agent_propensity was called in this on_step */

    int64_t heard_ms;     /* when the server last spoke */
    int64_t alive_ms;     /* when any server last spoke (not reset by reconnecting) */
    int64_t ping_sent_ms; /* when our unanswered PING went out; 0: none */
    uint64_t ping_seq;    /* its seq */
    bool done;            /* stop serving, return status */
    int status;
};

/* ---- messages and the end ------------------------------------------- */

static void s_vlog(const agent_t *a, const char *fmt, va_list ap)
{
    if (a->name)
        fprintf(stderr, "%s (%s): ", a->program, a->name);
    else
        fprintf(stderr, "%s: ", a->program);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

static void s_log(const agent_t *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_vlog(a, fmt, ap);
    va_end(ap);
}

/* Stops serving with this exit status; fmt (may be NULL) says why. */
static void s_finish(agent_t *a, int status, const char *fmt, ...)
{
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        s_vlog(a, fmt, ap);
        va_end(ap);
    }
    a->done = true;
    a->status = status;
}

/* Encodes msg with the next seq (0 first on each connection) and sends it
 * without blocking (a DEALER queues while the server is away). Returns 0,
 * the encoder's code or ERR_EIO, after a message on stderr. */
static int s_send(agent_t *a, proto_msg_t *msg)
{
    char err[PROTO_ERR_LEN];
    msg->seq = a->seq++;
    int rc = proto_encode(msg, &a->out, err, sizeof err);
    if (rc != 0) {
        s_log(a, "cannot encode %s: %s", proto_type_name(msg->type), err);
        return rc;
    }
    if (transport_send(a->socket, a->out.data, a->out.size, ZMQ_DONTWAIT) != 0) {
        s_log(a, "cannot send %s: %s", proto_type_name(msg->type), zmq_strerror(errno));
        return ERR_EIO;
    }
    return 0;
}

/* An ERROR back to the server about its message ref (type 0: not even an
 * envelope), and the same text on stderr. Nobody answers an ERROR. */
static void s_send_error(agent_t *a, int code, bool fatal, const proto_msg_t *ref, const char *fmt,
                         ...)
{
    char text[PROTO_MAX_TEXT + 1];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    s_log(a, "%s", text);
    if (ref->type == PROTO_MSG_ERROR)
        return;
    proto_msg_t msg = {.type = PROTO_MSG_ERROR};
    msg.error = (proto_error_t){.code = code,
                                .message = text,
                                .fatal = fatal,
                                .has_ref_seq = ref->type != 0 || ref->has_seq,
                                .ref_seq = ref->seq};
    s_send(a, &msg);
}

/* Lets the last message sent go out before the socket closes. */
static void s_flush_on_close(agent_t *a)
{
    int linger = S_BYE_LINGER_MS;
    zmq_setsockopt(a->socket, ZMQ_LINGER, &linger, sizeof linger);
}

/* Ends the agent with status 1 after telling the server BYE. */
static void s_quit(agent_t *a, const char *reason)
{
    proto_msg_t msg = {.type = PROTO_MSG_BYE, .bye = {.reason = reason}};
    s_send(a, &msg);
    s_flush_on_close(a);
    s_finish(a, 1, "%s", reason);
}

/* ---- the catalog view ------------------------------------------------ */

/* Row of id in ids (n, ascending), or -1. */
static int s_find(const int32_t *ids, uint32_t n, int32_t id)
{
    uint32_t low = 0, high = n;
    while (low < high) {
        uint32_t mid = low + (high - low) / 2;
        if (ids[mid] < id)
            low = mid + 1;
        else
            high = mid;
    }
    return low < n && ids[low] == id ? (int)low : -1;
}

static int s_grow(void **p, size_t bytes)
{
    void *grown = realloc(*p, bytes ? bytes : 1);
    if (!grown)
        return ERR_ENOMEM;
    *p = grown;
    return 0;
}

static void s_catalog_sync(s_catalog_t *c)
{
    c->view = (proto_items_t){.n = c->n,
                              .dim = c->dim,
                              .ids = c->ids,
                              .topics = c->topics,
                              .providers = c->providers,
                              .embeddings = c->embeddings};
}

static void s_catalog_fini(s_catalog_t *c)
{
    free(c->ids), free(c->topics), free(c->providers), free(c->embeddings), free(c->marks);
    memset(c, 0, sizeof *c);
}

/* Room for rows items: as many as the first message brought, then
 * doubling. 0 or ERR_ENOMEM. */
static int s_catalog_reserve(s_catalog_t *c, size_t rows)
{
    if (rows <= c->capacity)
        return 0;
    size_t capacity = c->capacity ? c->capacity : rows;
    while (capacity < rows)
        capacity *= 2;
    if (capacity > UINT32_MAX || (c->dim && capacity > SIZE_MAX / sizeof(float) / c->dim))
        return ERR_ENOMEM;
    int rc = s_grow((void **)&c->ids, capacity * sizeof *c->ids);
    rc = rc ? rc : s_grow((void **)&c->topics, capacity * sizeof *c->topics);
    rc = rc ? rc : s_grow((void **)&c->providers, capacity * sizeof *c->providers);
    rc = rc ? rc : s_grow((void **)&c->embeddings, capacity * c->dim * sizeof *c->embeddings);
    rc = rc ? rc : s_grow((void **)&c->marks, capacity);
    s_catalog_sync(c); /* arrays may have moved, even on failure */
    if (rc)
        return rc;
    memset(c->marks + c->capacity, 0, capacity - c->capacity);
    c->capacity = (uint32_t)capacity;
    return 0;
}

static void s_catalog_copy_row(s_catalog_t *c, uint32_t to, uint32_t from)
{
    c->ids[to] = c->ids[from];
    c->topics[to] = c->topics[from];
    c->providers[to] = c->providers[from];
    memcpy(c->embeddings + (size_t)to * c->dim, c->embeddings + (size_t)from * c->dim,
           c->dim * sizeof *c->embeddings);
}

static int s_compare_u64(const void *x, const void *y)
{
    uint64_t u = *(const uint64_t *)x, v = *(const uint64_t *)y;
    return (u > v) - (u < v);
}

/* Restores id order after rows were appended at first_new; an id given
 * twice keeps its last row. In order already (ids only grow in a run),
 * this is one pass; otherwise a sort by (id, row). 0 or ERR_ENOMEM. */
static int s_catalog_sort(s_catalog_t *c, uint32_t first_new)
{
    uint32_t i = first_new > 0 ? first_new : 1;
    while (i < c->n && c->ids[i - 1] < c->ids[i])
        i++;
    if (i >= c->n)
        return 0;
    uint64_t *keys = malloc((size_t)c->n * sizeof *keys);
    s_catalog_t sorted = {.dim = c->dim};
    if (!keys || s_catalog_reserve(&sorted, c->capacity)) {
        free(keys);
        s_catalog_fini(&sorted);
        return ERR_ENOMEM;
    }
    for (uint32_t row = 0; row < c->n; row++) /* the sign bit flipped: int32 order as uint32 */
        keys[row] = (uint64_t)((uint32_t)c->ids[row] ^ 0x80000000u) << 32 | row;
    qsort(keys, c->n, sizeof *keys, s_compare_u64);
    uint32_t n = 0;
    for (uint32_t k = 0; k < c->n; k++) {
        uint32_t row = (uint32_t)keys[k];
        uint32_t to = n > 0 && sorted.ids[n - 1] == c->ids[row] ? n - 1 : n++;
        sorted.ids[to] = c->ids[row];
        sorted.topics[to] = c->topics[row];
        sorted.providers[to] = c->providers[row];
        memcpy(sorted.embeddings + (size_t)to * c->dim, c->embeddings + (size_t)row * c->dim,
               c->dim * sizeof *c->embeddings);
    }
    free(keys);
    s_catalog_fini(c);
    sorted.n = n;
    *c = sorted;
    s_catalog_sync(c);
    return 0;
}

/* Adds items (dim already checked by the decoder). 0 or ERR_ENOMEM. */
static int s_catalog_add(s_catalog_t *c, const proto_items_t *items)
{
    if (items->n == 0)
        return 0;
    int rc = s_catalog_reserve(c, (size_t)c->n + items->n);
    if (rc)
        return rc;
    uint32_t first_new = c->n;
    memcpy(c->ids + c->n, items->ids, items->n * sizeof *c->ids);
    memcpy(c->topics + c->n, items->topics, items->n * sizeof *c->topics);
    memcpy(c->providers + c->n, items->providers, items->n * sizeof *c->providers);
    if (c->dim > 0) /* else embeddings may be NULL */
        memcpy(c->embeddings + (size_t)c->n * c->dim, items->embeddings,
               (size_t)items->n * c->dim * sizeof *c->embeddings);
    c->n += items->n;
    rc = s_catalog_sort(c, first_new);
    s_catalog_sync(c);
    return rc;
}

/* Drops the live items among ids (n); unknown ids are ignored. */
static void s_catalog_retire(s_catalog_t *c, const int32_t *ids, uint32_t n)
{
    uint32_t marked = 0;
    for (uint32_t i = 0; i < n; i++) {
        int row = s_find(c->ids, c->n, ids[i]);
        if (row >= 0 && !c->marks[row]) {
            c->marks[row] = 1;
            marked++;
        }
    }
    if (marked == 0)
        return;
    uint32_t kept = 0;
    for (uint32_t row = 0; row < c->n; row++) {
        if (c->marks[row])
            c->marks[row] = 0;
        else if (kept++ != row)
            s_catalog_copy_row(c, kept - 1, row);
    }
    c->n = kept;
    s_catalog_sync(c);
}

/* ---- the connection --------------------------------------------------- */

/* Opens a fresh DEALER and queues HELLO: the DEALER connects lazily, so
 * this works before the server is up. */
static void s_connect(agent_t *a)
{
    char err[PROTO_ERR_LEN];
    a->socket = a->server_key ? transport_dealer_curve(a->ctx, a->endpoint, a->server_key,
                                                       a->agent_key, err, sizeof err)
                              : transport_dealer(a->ctx, a->endpoint, err, sizeof err);
    if (!a->socket) {
        s_finish(a, 1, "%s", err);
        return;
    }
    a->heard_ms = transport_now_ms();
    a->ping_sent_ms = 0;
    a->seq = 0;
    proto_msg_t msg = {.type = PROTO_MSG_HELLO};
    msg.hello = (proto_hello_t){.minor = PROTO_VERSION_MINOR,
                                .name = a->name,
                                .role = "agent",
                                .n_caps = a->spec->n_caps,
                                .caps = a->spec->caps};
    if (s_send(a, &msg) != 0)
        s_finish(a, 1, NULL);
}

static void s_disconnect(agent_t *a)
{
    if (a->socket)
        zmq_close(a->socket);
    a->socket = NULL;
}

/* The server has been silent: PING it, and if that stays unanswered,
 * start over on a new connection (the server gives the name its slot
 * back and resyncs with a CATALOG). */
static void s_on_silence(agent_t *a, int64_t now)
{
    if (a->ping_sent_ms == 0) {
        proto_msg_t msg = {.type = PROTO_MSG_PING, .ping = {.nonce = a->seq}};
        a->ping_seq = a->seq;
        s_send(a, &msg);
        a->ping_sent_ms = now;
        return;
    }
    if (now - a->alive_ms >= a->give_up_ms) {
        /* a server killed without a BYE: do not outlive it for ever */
        s_finish(a, 1, "no answer from %s for %" PRId64 " ms (--give-up %ld); giving up",
                 a->endpoint, now - a->alive_ms, a->give_up_ms);
        return;
    }
    s_log(a, "no answer from %s for %" PRId64 " ms; reconnecting", a->endpoint, now - a->heard_ms);
    s_disconnect(a);
    s_connect(a);
}

/* ---- messages from the server ----------------------------------------- */

/* Room for rows slates of k. 0, ERR_ETOOBIG (no ACT could carry them)
 * or ERR_ENOMEM. */
static int s_reserve_slates(agent_t *a, size_t rows)
{
    size_t need = rows * a->welcome.welcome.slate_size;
    if (need > PROTO_MAX_MESSAGE_BYTES / sizeof *a->slates)
        return ERR_ETOOBIG;
    if (need <= a->slates_capacity && a->slates)
        return 0;
    if (s_grow((void **)&a->slates, need * sizeof *a->slates))
        return ERR_ENOMEM;
    a->slates_capacity = need;
    return 0;
}

/* Keeps msg's contents (and zeroes msg): WELCOME outlives the next decode. */
static void s_on_welcome(agent_t *a, proto_msg_t *msg)
{
    proto_msg_fini(&a->welcome);
    a->welcome = *msg;
    memset(msg, 0, sizeof *msg);
    const proto_welcome_t *w = &a->welcome.welcome; /* the codec bounds its sizes (protocol.h) */
    a->dims =
        (proto_dims_t){.dim = w->dim, .slate_size = w->slate_size, .history_len = w->history_len};
    if (a->catalog.dim != w->dim) { /* new widths: start the view over */
        s_catalog_fini(&a->catalog);
        a->catalog.dim = w->dim;
        a->has_catalog = false;
    }
    if (!a->seeded)
        pcg32_seed(&a->rng, w->seed, w->agent_index);
    a->seeded = true;
    int rc = s_reserve_slates(a, w->limits.max_batch);
    if (rc)
        s_quit(a, rc == ERR_ENOMEM ? "out of memory"
                                   : "WELCOME.limits.max_batch x slate_size is too large");
}

static void s_titles_fini(s_titles_t *t)
{
    free(t->ids), free(t->titles), free(t->text);
    memset(t, 0, sizeof *t);
}

/* Keeps a copy of items' titles (none: t empty), ordered by id. 0 or ERR_ENOMEM. */
static int s_titles_set(s_titles_t *t, const proto_items_t *items)
{
    s_titles_fini(t);
    if (!items->titles || items->n == 0)
        return 0;
    uint32_t n = items->n;
    uint64_t *keys = malloc((size_t)n * sizeof *keys);
    size_t bytes = 0;
    for (uint32_t i = 0; i < n; i++)
        bytes += strlen(items->titles[i]) + 1;
    t->ids = malloc((size_t)n * sizeof *t->ids);
    t->titles = malloc((size_t)n * sizeof *t->titles);
    t->text = malloc(bytes);
    if (!keys || !t->ids || !t->titles || !t->text) {
        free(keys);
        s_titles_fini(t);
        return ERR_ENOMEM;
    }
    for (uint32_t i = 0; i < n; i++) /* the sign bit flipped: int32 order as uint32 */
        keys[i] = (uint64_t)((uint32_t)items->ids[i] ^ 0x80000000u) << 32 | i;
    qsort(keys, n, sizeof *keys, s_compare_u64);
    char *at = t->text;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t i = (uint32_t)keys[k];
        size_t len = strlen(items->titles[i]) + 1;
        t->ids[k] = items->ids[i];
        t->titles[k] = memcpy(at, items->titles[i], len);
        at += len;
    }
    t->n = n;
    free(keys);
    return 0;
}

static void s_on_catalog(agent_t *a, const proto_msg_t *msg)
{
    a->catalog.n = 0;
    if (s_catalog_add(&a->catalog, &msg->catalog.items) ||
        s_titles_set(&a->titles, &msg->catalog.items)) {
        s_quit(a, "out of memory");
        return;
    }
    s_catalog_sync(&a->catalog);
    a->has_catalog = true;
    if (a->spec->on_reset && a->spec->on_reset(a, a->user, &msg->catalog) != 0)
        s_quit(a, "on_reset failed");
}

static void s_on_step(agent_t *a, const proto_msg_t *msg)
{
    const proto_step_t *step = &msg->step;
    if (!a->has_catalog) {
        s_send_error(a, ERR_ESTATE, false, msg, "STEP before any CATALOG");
        return;
    }
    if (s_catalog_add(&a->catalog, &step->born)) /* born first, as docs/protocol.md says */
    {
        s_quit(a, "out of memory");
        return;
    }
    s_catalog_retire(&a->catalog, step->retired, step->n_retired);
    int rc = s_reserve_slates(a, step->requests.n);
    if (rc == ERR_ENOMEM) {
        s_quit(a, "out of memory");
        return;
    }
    if (rc) {
        s_send_error(a, rc, false, msg, "STEP with %u requests: too many slates for one ACT",
                     step->requests.n);
        return;
    }
    a->step_rows = step->requests.n;
    a->send_propensity = false;
    rc = a->spec->on_step(a, a->user, step, a->slates);
    a->step_rows = 0;
    if (rc != 0) {
        s_quit(a, "on_step failed");
        return;
    }
    proto_msg_t act = {.type = PROTO_MSG_ACT};
    act.act = (proto_act_t){.episode = step->episode,
                            .tick = step->tick,
                            .n = step->requests.n,
                            .slate_size = a->welcome.welcome.slate_size,
                            .user_ids = step->requests.user_ids,
                            .slates = a->slates,
                            .propensity = a->send_propensity ? a->propensity : NULL};
    int rc_send = s_send(a, &act);
    if (act.act.propensity && (rc_send == PROTO_ENONFINITE || rc_send == PROTO_EINVAL)) {
        /* propensities that cannot be encoded (s_send said why): the slates still go */
        act.act.propensity = NULL;
        s_send(a, &act);
    }
}

/* A server of another major version refuses us with an ERROR (the one
 * message every version decodes): fatal whatever it says. A server that
 * answers our PING with "say HELLO first" was restarted: greet it anew. */
static void s_on_error(agent_t *a, const proto_msg_t *msg)
{
    const proto_error_t *e = &msg->error;
    if (e->code == ERR_ESTATE && a->ping_sent_ms && e->has_ref_seq && e->ref_seq == a->ping_seq) {
        s_log(a, "the server does not know this connection (%s); saying HELLO again", e->message);
        s_disconnect(a);
        {
            s_connect(a);
            return;
        }
    }
    bool fatal = e->fatal || msg->major != PROTO_VERSION_MAJOR;
    const char *what = fatal ? "fatal error from the server" : "error from the server";
    if (fatal)
        s_finish(a, 1, "%s: %s (%d): %s", what, err_str(e->code), e->code, e->message);
    else
        s_log(a, "%s: %s (%d): %s", what, err_str(e->code), e->code, e->message);
}

/* One frame of size bytes in a->in. */
static void s_handle(agent_t *a, size_t size)
{
    char err[PROTO_ERR_LEN];
    proto_msg_t *msg = &a->received;
    bool welcomed = a->welcome.type == PROTO_MSG_WELCOME;
    int rc = proto_decode(transport_frame_data(&a->in), size, welcomed ? &a->dims : NULL, msg, err,
                          sizeof err);
    if (rc == ERR_EVERSION) {
        s_send_error(a, rc, true, msg, "cannot talk to %s: %s", a->endpoint, err);
        s_flush_on_close(a);
        s_finish(a, 1, NULL);
    } else if (rc && msg->type == PROTO_MSG_WELCOME) {
        /* e.g. sizes beyond protocol.h's limits: no game this agent can play */
        s_send_error(a, rc, true, msg, "refusing the WELCOME: %s", err);
        s_flush_on_close(a);
        s_finish(a, 1, NULL);
    } else if (rc) {
        s_send_error(a, rc, false, msg, "bad message from the server: %s", err);
    } else if (!welcomed && msg->type != PROTO_MSG_WELCOME && msg->type != PROTO_MSG_ERROR &&
               msg->type != PROTO_MSG_BYE && msg->type != PROTO_MSG_PING &&
               msg->type != PROTO_MSG_PONG) {
        s_send_error(a, ERR_ESTATE, false, msg, "%s before WELCOME", proto_type_name(msg->type));
    } else {
        switch (msg->type) {
        case PROTO_MSG_WELCOME:
            s_on_welcome(a, msg);
            break;
        case PROTO_MSG_CATALOG:
            s_on_catalog(a, msg);
            break;
        case PROTO_MSG_STEP:
            s_on_step(a, msg);
            break;
        case PROTO_MSG_JOINT:
            if (a->spec->on_joint)
                a->spec->on_joint(a, a->user, &msg->joint);
            break;
        case PROTO_MSG_EPISODE_END:
            if (a->spec->on_episode_end)
                a->spec->on_episode_end(a, a->user, &msg->episode_end);
            break;
        case PROTO_MSG_PING: {
            proto_msg_t pong = {.type = PROTO_MSG_PONG, .ping = msg->ping};
            s_send(a, &pong);
            break;
        }
        case PROTO_MSG_PONG:
            break;
        case PROTO_MSG_ERROR:
            s_on_error(a, msg);
            break;
        case PROTO_MSG_BYE:
            s_finish(a, 0, NULL);
            break;
        default: /* HELLO, ACT: the agent's own messages */
            s_send_error(a, ERR_ESTATE, false, msg, "%s is not for agents",
                         proto_type_name(msg->type));
        }
    }
}

/* Serves until done: waits for messages, and on silence pings or
 * reconnects. */
static void s_serve(agent_t *a)
{
    a->alive_ms = transport_now_ms();
    s_connect(a);
    while (!a->done) {
        int64_t now = transport_now_ms();
        int64_t due = a->ping_sent_ms ? a->ping_sent_ms + a->ping_ms : a->heard_ms + a->idle_ms;
        if (now >= due) {
            s_on_silence(a, now);
            continue;
        }
        /* one blocking receive per message: no zmq_poll before it */
        long size = transport_recv_frame(a->socket, NULL, NULL, NULL, &a->in, (long)(due - now));
        if (size < 0 && errno == EPROTO) {
            s_log(a, "dropped a message of more than one frame");
        } else if (size < 0 && errno != EAGAIN && errno != EINTR) {
            {
                s_finish(a, 1, "cannot receive: %s", zmq_strerror(errno));
                return;
            }
        } else if (size >= 0) {
            a->heard_ms = a->alive_ms = transport_now_ms();
            s_handle(a, (size_t)size); /* may look at the PING outstanding */
            a->ping_sent_ms = 0;
        }
    }
}

/* ---- the command line ------------------------------------------------- */

static void s_usage(const agent_t *a)
{
    printf("usage: %s [--endpoint ENDPOINT] [--name NAME] [options]\n"
           "A recarena agent: connects to a recarena server and recommends until the run ends.\n"
           "\n"
           "  --endpoint ENDPOINT  the server's control endpoint (default: $RECARENA_ENDPOINT)\n"
           "  --name NAME          this agent's name in the scenario "
           "(default: $RECARENA_AGENT_NAME)\n"
           "  --server-key FILE    the server's CURVE public key, for a server with keys\n"
           "                       (default: $RECARENA_SERVER_KEY; docs/security.md)\n"
           "  --agent-key FILE     this agent's CURVE secret key, NAME.key of recarena keygen\n"
           "                       (default: $RECARENA_AGENT_KEY)\n"
           "  --idle-timeout MS    ping a server silent for MS milliseconds (default %d)\n"
           "  --ping-timeout MS    reconnect when a ping is unanswered for MS (default %d)\n"
           "  --give-up MS         exit when no server has answered for MS (default %d)\n"
           "  --help               show this help\n",
           a->program, AGENT_DEFAULT_IDLE_MS, AGENT_DEFAULT_PING_MS, AGENT_DEFAULT_GIVE_UP_MS);
    if (a->spec->options_help)
        printf("%s", a->spec->options_help);
    printf("Options take a value: --OPTION VALUE or --OPTION=VALUE.\n");
}

static void s_parse_ms(agent_t *a, const char *option, const char *value, long *out)
{
    int64_t ms;
    if (parse_int64(value, 1, S_MAX_MS, &ms) != 0) {
        s_finish(a, 2, "--%s: '%s' is not a whole number of milliseconds in 1..%d", option, value,
                 S_MAX_MS);
        return;
    }
    *out = (long)ms;
}

/* The agent's own option: ERR_ESYNTAX and ERR_ERANGE say what is wrong
 * with the value, anything else non-zero that the option is unknown. */
static void s_agent_option(agent_t *a, const char *option, const char *value)
{
    int rc = a->spec->on_option(a->user, option, value);
    if (rc == ERR_ESYNTAX || rc == ERR_ERANGE)
        s_finish(a, 2, "--%s '%s': %s (try --help)", option, value,
                 rc == ERR_ESYNTAX ? "not a value this option takes" : "value out of range");
    else if (rc != 0)
        s_finish(a, 2, "unknown option or bad value: --%s %s (try --help)", option, value);
}

static void s_option(agent_t *a, const char *option, const char *value)
{
    if (strcmp(option, "endpoint") == 0)
        a->endpoint = value;
    else if (strcmp(option, "name") == 0)
        a->name = value;
    else if (strcmp(option, "server-key") == 0)
        a->server_key = value;
    else if (strcmp(option, "agent-key") == 0)
        a->agent_key = value;
    else if (strcmp(option, "idle-timeout") == 0)
        s_parse_ms(a, option, value, &a->idle_ms);
    else if (strcmp(option, "ping-timeout") == 0)
        s_parse_ms(a, option, value, &a->ping_ms);
    else if (strcmp(option, "give-up") == 0)
        s_parse_ms(a, option, value, &a->give_up_ms);
    else if (!a->spec->on_option)
        s_finish(a, 2, "unknown option --%s (try --help)", option);
    else
        s_agent_option(a, option, value);
}

/* The value of a variable, NULL when unset or empty. */
static const char *s_env(const char *variable)
{
    const char *value = getenv(variable);
    return value && *value ? value : NULL;
}

static void s_parse_args(agent_t *a, int argc, char **argv)
{
    for (int i = 1; i < argc && !a->done; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            s_usage(a);
            {
                s_finish(a, 0, NULL);
                return;
            }
        }
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0' || arg[2] == '=') {
            s_finish(a, 2, "unexpected argument '%s' (try --help)", arg);
            return;
        }
        char option[S_MAX_OPTION];
        const char *equals = strchr(arg + 2, '=');
        size_t len = equals ? (size_t)(equals - (arg + 2)) : strlen(arg + 2);
        if (len >= sizeof option) {
            s_finish(a, 2, "unknown option %.80s (try --help)", arg);
            return;
        }
        memcpy(option, arg + 2, len);
        option[len] = '\0';
        const char *value = equals ? equals + 1 : i + 1 < argc ? argv[++i] : NULL;
        if (!value) {
            s_finish(a, 2, "--%s needs a value (try --help)", option);
            return;
        }
        s_option(a, option, value);
    }
    if (a->done)
        return;
    a->endpoint = a->endpoint ? a->endpoint : s_env("RECARENA_ENDPOINT");
    a->name = a->name ? a->name : s_env("RECARENA_AGENT_NAME");
    a->server_key = a->server_key ? a->server_key : s_env("RECARENA_SERVER_KEY");
    a->agent_key = a->agent_key ? a->agent_key : s_env("RECARENA_AGENT_KEY");
    if (!a->endpoint) {
        s_finish(a, 2,
                 "no server endpoint: pass --endpoint ENDPOINT or set RECARENA_ENDPOINT "
                 "(try --help)");
        return;
    }
    if (!a->name) {
        s_finish(a, 2, "no agent name: pass --name NAME or set RECARENA_AGENT_NAME (try --help)");
        return;
    }
    if (!proto_name_valid(a->name)) {
        const char *name = a->name;
        a->name = NULL; /* not fit to prefix messages */
        {
            s_finish(a, 2, "agent name '%.80s' is not 1..%d characters of [A-Za-z0-9_-]", name,
                     PROTO_MAX_NAME);
            return;
        }
    }
    if (!a->server_key != !a->agent_key) {
        s_finish(a, 2,
                 "CURVE needs both --server-key (the server's NAME.pub) and --agent-key (this "
                 "agent's NAME.key), or their variables RECARENA_SERVER_KEY, RECARENA_AGENT_KEY");
        return;
    }
}

/* ---- public ----------------------------------------------------------- */

int agent_main(int argc, char **argv, const agent_spec_t *spec, void *user)
{
    assert(spec && spec->on_step);
    const char *program = argc > 0 && argv[0] ? argv[0] : "agent";
    const char *slash = strrchr(program, '/');
    agent_t a = {.spec = spec,
                 .user = user,
                 .program = slash ? slash + 1 : program,
                 .idle_ms = AGENT_DEFAULT_IDLE_MS,
                 .ping_ms = AGENT_DEFAULT_PING_MS,
                 .give_up_ms = AGENT_DEFAULT_GIVE_UP_MS};
    proto_buffer_init(&a.out);
    transport_frame_init(&a.in);
    s_parse_args(&a, argc, argv);
    if (!a.done) {
        a.ctx = zmq_ctx_new();
        if (a.ctx)
            s_serve(&a);
        else
            s_finish(&a, 1, "cannot create a ZeroMQ context: %s", zmq_strerror(errno));
    }
    s_disconnect(&a);
    if (a.ctx)
        zmq_ctx_term(a.ctx);
    proto_msg_fini(&a.welcome);
    proto_msg_fini(&a.received);
    proto_buffer_fini(&a.out);
    transport_frame_fini(&a.in);
    free(a.slates);
    free(a.propensity);
    s_catalog_fini(&a.catalog);
    s_titles_fini(&a.titles);
    return a.status;
}

const proto_welcome_t *agent_welcome(const agent_t *agent)
{
    return &agent->welcome.welcome;
}

const proto_items_t *agent_catalog(const agent_t *agent)
{
    return &agent->catalog.view;
}

int agent_item_index(const agent_t *agent, int32_t id)
{
    return s_find(agent->catalog.ids, agent->catalog.n, id);
}

const float *agent_item_embedding(const agent_t *agent, int32_t id)
{
    int row = agent_item_index(agent, id);
    return row < 0 ? NULL : agent->catalog.embeddings + (size_t)row * agent->catalog.dim;
}

int32_t agent_item_topic(const agent_t *agent, int32_t id)
{
    int row = agent_item_index(agent, id);
    return row < 0 ? -1 : agent->catalog.topics[row];
}

const char *agent_item_title(const agent_t *agent, int32_t id)
{
    const s_titles_t *t = &agent->titles;
    if (t->n == 0 || agent_item_index(agent, id) < 0)
        return NULL;
    int row = s_find(t->ids, t->n, id);
    return row < 0 ? "" : t->titles[row];
}

pcg32_t *agent_rng(agent_t *agent)
{
    return &agent->rng;
}

double *agent_propensity(agent_t *agent)
{
    uint32_t n = agent->step_rows;
    if (n == 0)
        return NULL;
    if (n > agent->propensity_capacity) {
        if (s_grow((void **)&agent->propensity, n * sizeof *agent->propensity))
            return NULL;
        agent->propensity_capacity = n;
    }
    if (!agent->send_propensity)
        for (uint32_t i = 0; i < n; i++)
            agent->propensity[i] = NAN;
    agent->send_propensity = true;
    return agent->propensity;
}
