/* The environment server (server.h): the connection slots' state machine
 * (HELLO, lockstep STEP/ACT over a ROUTER, deadlines, fallbacks,
 * reconnection, BYE). The messages are built by server_msg.c and ACTs
 * are judged by server_act.c. */
#include "sim/server.h"

#include "proto/codec.h"
#include "core/pcg32.h"
#include "sim/auth.h"
#include "core/text.h"
#include "sim/server_act.h"
#include "sim/server_msg.h"
#include "sim/streams.h"
#include "sim/policy.h"
#include "proto/protocol.h"
#include "sim/telemetry.h"
#include "proto/transport.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

typedef struct s_slot {
    bool remote;
    bool connected;   /* said HELLO and was welcomed; cleared when found gone */
    bool ever_seen;   /* said HELLO at least once */
    bool responsive;  /* answers in time; cleared by a missed deadline */
    bool awaiting;    /* a STEP of this tick is unanswered */
    bool answered;    /* slates holds this tick's answer (or its fallback) */
    bool need_resync; /* must get a CATALOG before its next STEP */
    bool joint;       /* asked for JOINT messages and granted them ([agent.X] joint) */
    bool said_bye;    /* left with BYE: only a HELLO takes the slot back */
    uint8_t identity[TRANSPORT_MAX_IDENTITY];
    size_t identity_len;
    uint64_t seq;          /* our next seq to this agent */
    uint64_t step_seq;     /* seq of the STEP awaiting an ACT */
    double episode_reward; /* for EPISODE_END */
    double *propensity;    /* (n_users) this tick's ACT.propensity per request; NaN: none */
    long episode_requests, episode_clicks;
    server_agent_stats_t stats;
} s_slot_t;

/* Peers not (yet) accepted into a slot get at most S_STRANGER_RATE
 * messages a second answered; the rest are dropped, counted, and logged
 * once per peer. A flood from unknown peers then costs the server a
 * receive per message and nothing more. */
enum { S_STRANGER_RATE = 100, S_STRANGERS = 64 };

typedef struct s_stranger {
    uint8_t identity[TRANSPORT_MAX_IDENTITY];
    size_t identity_len;
    int64_t window_ms; /* start of the current one-second window */
    long in_window;    /* messages in that window */
    long dropped;      /* messages dropped over the run */
    int64_t last_ms;   /* last message: the least recent entry is reused */
} s_stranger_t;

struct server {
    const scenario_t *sc;
    world_t *w;
    server_options_t opt;
    void *ctx, *router, *pub;
    auth_t *auth; /* the ZAP handler when the ROUTER is a CURVE server; NULL: no CURVE */
    s_slot_t slots[SCENARIO_MAX_AGENTS];
    int n_agents, k;
    bool in_episode;
    proto_buffer_t out;   /* the frame being sent */
    server_msg_t msg;     /* the world-to-message builders and their buffers */
    transport_frame_t in; /* the last frame received, decoded in place */
    proto_msg_t received; /* the last message decoded; its storage is reused */
    int32_t *fallback;    /* (k) popularity slate of this tick */
    bool fallback_ready;
    proto_dims_t dims;
    uint64_t agent_seeds[SCENARIO_MAX_AGENTS];
    telemetry_t *telemetry; /* NULL: no telemetry endpoint */
    s_stranger_t strangers[S_STRANGERS];
    long strangers_dropped; /* over the run, all peers together */
};

static volatile sig_atomic_t s_interrupted;

void server_interrupt(void)
{
    s_interrupted = 1;
}

static void s_log(const server_t *s, const char *fmt, ...)
{
    if (s->opt.quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("\rrecarena: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---- sending ---------------------------------------------------------- */

/* Sends the frame in buf to agent; a peer found gone marks the slot
 * disconnected. Returns 0 or ERR_EIO. */
static int s_send_frame(server_t *s, int agent, const proto_buffer_t *buf)
{
    s_slot_t *slot = &s->slots[agent];
    if (transport_send_to(s->router, slot->identity, slot->identity_len, buf->data, buf->size) == 0)
        return 0;
    if (slot->connected) {
        slot->connected = false;
        slot->stats.disconnects++;
        if (slot->stats.disconnects <= 3)
            s_log(s,
                  "agent %s is gone (%s); its requests get fallback slates until it "
                  "speaks again%s",
                  s->sc->agents[agent].name, zmq_strerror(errno),
                  slot->stats.disconnects == 3 ? " (further such lines not shown)" : "");
    }
    return ERR_EIO;
}

/* Encodes msg (seq from the slot) and sends it. Returns 0, the encoder's
 * code, or ERR_EIO (the peer is gone). */
static int s_send(server_t *s, int agent, proto_msg_t *msg)
{
    char err[PROTO_ERR_LEN];
    msg->seq = s->slots[agent].seq++;
    int rc = proto_encode(msg, &s->out, err, sizeof err);
    if (rc != 0) {
        s_log(s, "cannot encode %s for agent %s: %s", proto_type_name(msg->type),
              s->sc->agents[agent].name, err);
        return rc;
    }
    return s_send_frame(s, agent, &s->out);
}

/* An ERROR to a peer that has no slot (yet): seq 0. */
static void s_send_error_to(server_t *s, const uint8_t *identity, size_t identity_len, int32_t code,
                            bool fatal, const proto_msg_t *about, const char *message)
{
    char safe[PROTO_MAX_TEXT + 1];
    proto_msg_t msg = {.type = PROTO_MSG_ERROR};
    msg.error = (proto_error_t){
        .code = code, .message = text_escape(safe, sizeof safe, message), .fatal = fatal};
    if (about && (about->type != 0 || about->has_seq)) {
        msg.error.has_ref_seq = true;
        msg.error.ref_seq = about->seq;
    }
    char err[PROTO_ERR_LEN];
    if (proto_encode(&msg, &s->out, err, sizeof err) == 0)
        transport_send_to(s->router, identity, identity_len, s->out.data, s->out.size);
}

/* A non-fatal ERROR to agent about a message (NULL: none). */
static void s_send_error(server_t *s, int agent, int32_t code, const proto_msg_t *about,
                         const char *fmt, ...)
{
    char text[PROTO_MAX_TEXT + 1];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    char safe[PROTO_MAX_TEXT + 1];
    proto_msg_t msg = {.type = PROTO_MSG_ERROR};
    msg.error = (proto_error_t){
        .code = code, .message = text_escape(safe, sizeof safe, text), .fatal = false};
    if (about && (about->type != 0 || about->has_seq)) {
        msg.error.has_ref_seq = true;
        msg.error.ref_seq = about->seq;
    }
    s_send(s, agent, &msg);
}

static int s_send_catalog(server_t *s, int agent)
{
    proto_msg_t msg;
    int rc = server_msg_catalog(&s->msg, &msg);
    if (rc != 0) {
        s_log(s, "cannot build a CATALOG for agent %s: %s", s->sc->agents[agent].name, err_str(rc));
        return rc;
    }
    rc = s_send(s, agent, &msg);
    if (rc == 0)
        s->slots[agent].need_resync = false;
    return rc;
}

static void s_send_welcome(server_t *s, int agent)
{
    const char *names[SCENARIO_MAX_AGENTS];
    for (int a = 0; a < s->n_agents; a++)
        names[a] = s->sc->agents[a].name;
    proto_msg_t msg;
    server_msg_welcome(&s->msg, agent, s->n_agents, names, s->agent_seeds[agent], s->sc->episodes,
                       s->sc->server.deadline_ms, &msg);
    s_send(s, agent, &msg);
}

static long s_fallback_all(server_t *s, int agent);

/* ---- receiving -------------------------------------------------------- */

static int s_slot_of_identity(const server_t *s, const uint8_t *id, size_t len)
{
    for (int a = 0; a < s->n_agents; a++) {
        const s_slot_t *slot = &s->slots[a];
        if (slot->remote && slot->ever_seen && slot->identity_len == len &&
            memcmp(slot->identity, id, len) == 0)
            return a;
    }
    return -1;
}

/* A HELLO. Under CURVE the connection's User-Id (the name of the allowed
 * key it proved, sim/auth.h) must be the slot it claims: a key opens one
 * slot and no other. A peer that is refused learns nothing of the
 * scenario: neither the slot names nor whether the name it gave exists. */
static void s_on_hello(server_t *s, const uint8_t *id, size_t id_len, const char *user_id,
                       const proto_msg_t *msg)
{
    const proto_hello_t *h = &msg->hello;
    char shown[PROTO_MAX_TEXT * 4 + 1];
    if (s->auth && strcmp(user_id, h->name) != 0) {
        s_send_error_to(s, id, id_len, PROTO_EAUTH, true, msg,
                        "this connection's CURVE key may not take that slot");
        s_log(s,
              "refused a HELLO for slot '%s' from the key of '%s': a key takes only its own slot",
              text_escape(shown, sizeof shown, h->name), user_id);
        return;
    }
    int agent = -1;
    for (int a = 0; a < s->n_agents; a++)
        if (s->slots[a].remote && strcmp(s->sc->agents[a].name, h->name) == 0)
            agent = a;
    char text[PROTO_MAX_TEXT + 1];
    if (agent < 0) {
        s_send_error_to(s, id, id_len, PROTO_EFULL, true, msg,
                        "no agent slot of that name on this server");
        s_log(s, "refused a HELLO from '%s': no such agent in the scenario",
              text_escape(shown, sizeof shown, h->name));
        return;
    }
    if (strcmp(h->role, "agent") != 0) {
        snprintf(text, sizeof text, "HELLO.role: '%s' is not a role this server serves (agent)",
                 h->role);
        s_send_error_to(s, id, id_len, PROTO_EFIELD, true, msg, text);
        return;
    }
    s_slot_t *slot = &s->slots[agent];
    bool same_connection = slot->identity_len == id_len && memcmp(slot->identity, id, id_len) == 0;
    if (slot->connected && !same_connection) {
        proto_msg_t bye = {.type = PROTO_MSG_BYE,
                           .bye = {.reason = "replaced by a new connection"}};
        s_send(s, agent, &bye);
    }
    if (slot->ever_seen) {
        slot->stats.reconnects++;
        s_log(s, "agent %s reconnected; it resumes its slot", h->name);
    }
    slot->seq = 0;
    memcpy(slot->identity, id, id_len);
    slot->identity_len = id_len;
    slot->ever_seen = true;
    slot->connected = true;
    slot->said_bye = false;
    slot->responsive = true;
    slot->awaiting = false;
    bool asked_joint = false;
    for (uint32_t c = 0; c < h->n_caps; c++)
        asked_joint = asked_joint || strcmp(h->caps[c], "joint") == 0;
    bool granted_joint = s->sc->agents[agent].joint[0] != '\0';
    slot->joint = asked_joint && granted_joint;
    s_send_welcome(s, agent);
    if (asked_joint && !granted_joint) {
        s_send_error(s, agent, PROTO_EAUTH, msg,
                     "capability 'joint' refused: the scenario does not grant it to agent %s "
                     "([agent.%s] joint = true); no JOINT will be sent",
                     h->name, h->name);
        s_log(s, "agent %s asked for JOINT without the grant ([agent.%s] joint); refused", h->name,
              h->name);
    }
    slot->need_resync = s->in_episode;
}

/* Fills the slates of agent from its ACT; invalid slates get the
 * fallback. Returns true if the ACT was accepted as this tick's answer. */
static bool s_on_act(server_t *s, int agent, const proto_msg_t *msg)
{
    s_slot_t *slot = &s->slots[agent];
    const proto_act_t *act = &msg->act;
    const char *name = s->sc->agents[agent].name;
    bool late = act->episode < world_episode(s->w) ||
                (act->episode == world_episode(s->w) && act->tick < (uint32_t)world_tick(s->w));
    if (!slot->responsive) {
        /* an answer from an agent we stopped waiting for: it is alive
         * again; resync it before its next STEP */
        slot->responsive = true;
        slot->need_resync = true;
        s_log(s, "agent %s answers again (late ACT for tick %" PRIu32 " discarded)", name,
              act->tick);
        return false;
    }
    if (late)
        return false; /* its deadline passed: the EDEADLINE was sent then */
    if (!slot->awaiting) {
        s_send_error(s, agent, PROTO_ESTATE, msg,
                     "ACT for tick %" PRIu32 " ignored: no STEP is waiting for an answer "
                     "(a second ACT for a tick?)",
                     act->tick);
        return false;
    }
    server_act_verdict_t verdict;
    server_act_accept(s->w, agent, act, &verdict);
    /* the propensity of each slate accepted (an ACT refused as a whole, of
     * another length included, set none) */
    int n = world_requests(s->w, agent)->n;
    const double *reported = act->n == (uint32_t)n ? act->propensity : NULL;
    for (int j = 0; j < n; j++)
        slot->propensity[j] = reported && world_has_slate(s->w, agent, j) ? reported[j] : NAN;
    if (verdict.refused > 0)
        s_fallback_all(s, agent); /* the slates refused */
    slot->answered = true;
    if (verdict.rc != 0) {
        slot->stats.invalid_acts++;
        slot->stats.fallback_invalid += verdict.refused;
        s_send_error(s, agent, PROTO_EACTION, msg,
                     "invalid ACT for tick %d: %s; %d slate(s) replaced by the fallback",
                     world_tick(s->w), verdict.why, verdict.refused);
        if (slot->stats.invalid_acts == 1)
            s_log(s, "agent %s sent an invalid ACT (%s); fallback slates used", name, verdict.why);
    }
    slot->awaiting = false;
    return true;
}

/* True if a message from this peer without a slot may be handled now;
 * false: drop it (S_STRANGER_RATE). */
static bool s_stranger_admit(server_t *s, const uint8_t *id, size_t id_len)
{
    int64_t now = transport_now_ms();
    s_stranger_t *st = NULL, *oldest = &s->strangers[0];
    for (int i = 0; i < S_STRANGERS && !st; i++) {
        s_stranger_t *e = &s->strangers[i];
        if (e->identity_len == id_len && memcmp(e->identity, id, id_len) == 0)
            st = e;
        else if (e->last_ms < oldest->last_ms)
            oldest = e;
    }
    if (!st) {
        st = oldest;
        *st = (s_stranger_t){.identity_len = id_len, .window_ms = now};
        memcpy(st->identity, id, id_len);
    }
    st->last_ms = now;
    if (now - st->window_ms >= 1000) {
        st->window_ms = now;
        st->in_window = 0;
    }
    if (++st->in_window <= S_STRANGER_RATE)
        return true;
    if (st->dropped++ == 0 && s->strangers_dropped++ < 8)
        s_log(s,
              "a peer without a slot sends more than %d messages a second; the rest are "
              "dropped unanswered",
              S_STRANGER_RATE);
    return false;
}

/* An agent marked gone (its send queue was full, or a send failed) that
 * speaks again is back: resynced before its next STEP, as docs/protocol.md
 * promises. One that left with BYE needs a HELLO. */
static void s_welcome_back(server_t *s, int agent)
{
    s_slot_t *slot = &s->slots[agent];
    if (slot->connected || slot->said_bye)
        return;
    slot->connected = true;
    slot->responsive = true;
    slot->need_resync = slot->need_resync || s->in_episode;
    if (slot->stats.disconnects <= 3)
        s_log(s, "agent %s speaks again; it resumes its slot", s->sc->agents[agent].name);
}

/* Dispatches what one receive gave: size bytes in s->in, or -1 (errno). */
static void s_dispatch(server_t *s, const uint8_t *id, size_t id_len, const char *user_id,
                       long size)
{
    if (size < 0 && errno == EPROTO && id_len > 0) {
        if (s_slot_of_identity(s, id, id_len) < 0 && !s_stranger_admit(s, id, id_len))
            return;
        /* several frames (a REQ's empty delimiter, say): docs/protocol.md
         * "Frames" makes it PROTO_EENVELOPE; answered, not dropped */
        s_send_error_to(s, id, id_len, PROTO_EENVELOPE, false, NULL,
                        "a message is exactly one frame (no empty delimiter frame: use a DEALER, "
                        "not a REQ)");
        return;
    }
    if (size < 0)
        return;
    int agent = s_slot_of_identity(s, id, id_len);
    if (agent < 0 && !s_stranger_admit(s, id, id_len))
        return;
    proto_msg_t *msg = &s->received;
    char err[PROTO_ERR_LEN];
    int rc =
        proto_decode(transport_frame_data(&s->in), (size_t)size, &s->dims, msg, err, sizeof err);
    if (rc == PROTO_EVERSION) {
        /* err names the peer's major in full (64 bits): msg->major is clamped */
        char text[PROTO_ERR_LEN + 64];
        snprintf(text, sizeof text, "%s; this server speaks %d.%d", err, PROTO_VERSION_MAJOR,
                 PROTO_VERSION_MINOR);
        s_send_error_to(s, id, id_len, PROTO_EVERSION, true, msg, text);
        s_log(s, "refused a peer: %s", text);
        return;
    }
    if (rc != 0) {
        if (agent < 0) {
            /* a HELLO that does not decode is "anything wrong with HELLO":
             * fatal, so an agent waiting for WELCOME stops waiting */
            s_send_error_to(s, id, id_len, rc, msg->type == PROTO_MSG_HELLO, msg, err);
        } else if (msg->type == PROTO_MSG_ACT && s->slots[agent].awaiting) {
            /* an unreadable answer to this tick's STEP: fallback now */
            s_slot_t *slot = &s->slots[agent];
            slot->awaiting = false;
            slot->stats.invalid_acts++;
            long n = s_fallback_all(s, agent);
            slot->stats.fallback_invalid += n;
            slot->answered = true;
            s_send_error(s, agent, rc, msg, "%s; %ld slate(s) replaced by the fallback", err, n);
            if (slot->stats.invalid_acts == 1)
                s_log(s, "agent %s sent an invalid ACT (%s); fallback slates used",
                      s->sc->agents[agent].name, err);
        } else {
            s_send_error(s, agent, rc, msg, "%s", err);
        }
        return;
    }
    if (msg->type == PROTO_MSG_HELLO) {
        s_on_hello(s, id, id_len, user_id, msg);
    } else if (agent < 0) {
        s_send_error_to(s, id, id_len, PROTO_ESTATE, false, msg, "say HELLO first");
    } else {
        s_slot_t *slot = &s->slots[agent];
        if (msg->type != PROTO_MSG_BYE)
            s_welcome_back(s, agent);
        switch (msg->type) {
        case PROTO_MSG_ACT:
            s_on_act(s, agent, msg);
            break;
        case PROTO_MSG_PING: {
            proto_msg_t pong = {.type = PROTO_MSG_PONG, .ping = msg->ping};
            s_send(s, agent, &pong);
            if (!slot->responsive) {
                slot->responsive = true;
                slot->need_resync = true;
            }
            break;
        }
        case PROTO_MSG_PONG:
            break;
        case PROTO_MSG_BYE:
            if (slot->connected) {
                char reason[PROTO_MAX_TEXT * 4 + 1];
                s_log(s, "agent %s said BYE (%s)", s->sc->agents[agent].name,
                      text_escape(reason, sizeof reason, msg->bye.reason));
            }
            slot->connected = false;
            slot->said_bye = true;
            slot->awaiting = false;
            break;
        case PROTO_MSG_ERROR: {
            char message[PROTO_MAX_TEXT * 4 + 1];
            s_log(s, "agent %s reports error %" PRId32 " (%s): %s", s->sc->agents[agent].name,
                  msg->error.code, err_str(msg->error.code),
                  text_escape(message, sizeof message, msg->error.message));
            break;
        }
        default:
            s_send_error(s, agent, PROTO_ESTATE, msg, "%s is not something an agent sends",
                         proto_type_name(msg->type));
            break;
        }
    }
}

static bool s_any_awaiting(const server_t *s)
{
    for (int a = 0; a < s->n_agents; a++)
        if (s->slots[a].awaiting)
            return true;
    return false;
}

/* Receives one message, waiting at most timeout_ms for it (0: only one
 * already queued), and dispatches it. Returns 0, or -1 with errno (EAGAIN:
 * nothing came). */
static int s_receive_one(server_t *s, long timeout_ms)
{
    uint8_t id[TRANSPORT_MAX_IDENTITY];
    size_t id_len = 0;
    char user_id[TRANSPORT_MAX_USER_ID];
    long size = transport_recv_frame(s->router, id, &id_len, user_id, &s->in, timeout_ms);
    if (size < 0 && errno != EPROTO)
        return -1;
    s_dispatch(s, id, id_len, user_id, size);
    return 0;
}

/* Messages read past the deadline, at most: a flood must not hold the tick. */
enum { S_LATE_READS = 16 };

/* Serves the ROUTER until deadline_ms (absolute, transport_now_ms) or
 * until no remote agent is awaited when until_answered. Each wait is one
 * blocking receive (no zmq_poll before it, none to find the queue empty
 * after it): fewer system calls in the STEP->ACT exchange. */
static int s_serve_until(server_t *s, int64_t deadline_ms, bool until_answered)
{
    /* read at least once, so messages already queued are always read */
    for (int late = 0; late < S_LATE_READS;) {
        if (s_interrupted)
            return ERR_EINTR;
        if (until_answered && !s_any_awaiting(s))
            return 0;
        int64_t left = deadline_ms - transport_now_ms();
        if (left <= 0)
            late++;
        if (s_receive_one(s, left > 0 ? (long)left : 0) == 0)
            continue;
        if (errno == EAGAIN) {
            if (left <= 0)
                return 0; /* nothing more queued, and the time is up */
        } else if (errno != EINTR && errno != ENOMEM) {
            return ERR_EIO;
        }
    }
    return 0;
}

/* ---- lifecycle and the tick ------------------------------------------ */

server_t *server_new(const scenario_t *sc, world_t *w, const server_options_t *opt, char *err,
                     size_t err_len)
{
    server_t *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    const world_config_t *cfg = world_config(w);
    s->sc = sc;
    s->w = w;
    s->opt = *opt;
    s->n_agents = sc->n_agents;
    s->k = cfg->slate_size;
    s->dims = (proto_dims_t){.dim = (uint32_t)cfg->dim,
                             .slate_size = (uint32_t)cfg->slate_size,
                             .history_len = (uint32_t)cfg->history_len};
    proto_buffer_init(&s->out);
    transport_frame_init(&s->in);
    server_msg_init(&s->msg, w, opt->titles, opt->n_titles);
    s->fallback = calloc((size_t)s->k, sizeof *s->fallback);
    bool ok = s->fallback != NULL;
    for (int a = 0; a < s->n_agents; a++) {
        s_slot_t *slot = &s->slots[a];
        slot->remote = sc->agents[a].command[0] != '\0';
        if (slot->remote && ok)
            ok = (slot->propensity = malloc((size_t)cfg->n_users * sizeof *slot->propensity));
        pcg32_t rng;
        pcg32_stream(&rng, sc->seed, SIM_STREAM_AGENT, (uint32_t)a);
        s->agent_seeds[a] = pcg32_next64(&rng);
    }
    if (!ok) {
        snprintf(err, err_len, "out of memory");
        goto fail;
    }
    s_interrupted = 0;
    s->ctx = zmq_ctx_new();
    if (!s->ctx) {
        snprintf(err, err_len, "cannot create a ZeroMQ context");
        goto fail;
    }
    if (sc->server.curve_secret_key[0]) {
        /* the ZAP handler first: it must answer the first handshake */
        s->auth = auth_new(s->ctx, sc->server.curve_allow, stderr, err, err_len);
        if (!s->auth)
            goto fail;
        s->router = transport_router_curve(s->ctx, opt->control_endpoint,
                                           sc->server.curve_secret_key, err, err_len);
        if (s->router && auth_watch(s->auth, s->router, err, err_len) != 0)
            goto fail;
    } else {
        s->router = transport_router(s->ctx, opt->control_endpoint, err, err_len);
    }
    if (!s->router)
        goto fail;
    if (opt->telemetry_endpoint) {
        s->pub = transport_pub(s->ctx, opt->telemetry_endpoint, err, err_len);
        if (!s->pub)
            goto fail;
        const char *names[SCENARIO_MAX_AGENTS];
        for (int a = 0; a < s->n_agents; a++)
            names[a] = sc->agents[a].name;
        s->telemetry = telemetry_new(s->pub, w, names, opt->quiet);
        if (!s->telemetry) {
            snprintf(err, err_len, "out of memory");
            goto fail;
        }
    }
    return s;
fail:
    server_destroy(&s, NULL);
    return NULL;
}

void server_destroy(server_t **self_p, const char *reason)
{
    if (!self_p || !*self_p)
        return;
    server_t *s = *self_p;
    if (s->router && reason) {
        for (int a = 0; a < s->n_agents; a++) {
            if (!s->slots[a].connected)
                continue;
            proto_msg_t bye = {.type = PROTO_MSG_BYE, .bye = {.reason = reason}};
            s_send(s, a, &bye);
        }
    }
    if (s->router)
        zmq_close(s->router);
    telemetry_destroy(&s->telemetry);
    if (s->pub)
        zmq_close(s->pub);
    auth_destroy(&s->auth); /* after the sockets it serves, before the context */
    if (s->ctx)
        zmq_ctx_term(s->ctx);
    for (int a = 0; a < s->n_agents; a++)
        free(s->slots[a].propensity);
    free(s->fallback);
    transport_frame_fini(&s->in);
    proto_msg_fini(&s->received);
    server_msg_fini(&s->msg);
    proto_buffer_fini(&s->out);
    free(s);
    *self_p = NULL;
}

bool server_is_remote(const server_t *s, int agent)
{
    return agent >= 0 && agent < s->n_agents && s->slots[agent].remote;
}

const double *server_propensity(const server_t *s, int agent)
{
    return server_is_remote(s, agent) ? s->slots[agent].propensity : NULL;
}

int server_service(server_t *s, int timeout_ms)
{
    return s_serve_until(s, transport_now_ms() + timeout_ms, false);
}

int server_missing(const server_t *s, char *buf, size_t buf_len)
{
    int missing = 0;
    buf[0] = '\0';
    for (int a = 0; a < s->n_agents; a++) {
        /* said HELLO once: the run can start (one that has left since, or
         * whose queue overflowed, gets fallbacks until it is back) */
        if (!s->slots[a].remote || s->slots[a].ever_seen)
            continue;
        size_t used = strlen(buf);
        snprintf(buf + used, buf_len - used, "%s%s", missing ? ", " : "", s->sc->agents[a].name);
        missing++;
    }
    return missing;
}

int server_begin_episode(server_t *s)
{
    int rc = 0;
    s->in_episode = true;
    for (int a = 0; a < s->n_agents; a++) {
        s_slot_t *slot = &s->slots[a];
        slot->episode_reward = 0.0;
        slot->episode_requests = slot->episode_clicks = 0;
        if (slot->remote && slot->connected && slot->responsive) {
            int sent = s_send_catalog(s, a);
            rc = rc ? rc : sent;
        } else {
            slot->need_resync = true;
        }
    }
    return rc;
}

static int s_send_step(server_t *s, int agent)
{
    proto_msg_t msg;
    server_msg_step(&s->msg, agent, s->sc->server.deadline_ms, &msg);
    int rc = s_send(s, agent, &msg);
    s->slots[agent].step_seq = msg.seq;
    return rc;
}

/* Gives every request of agent that has no slate yet the fallback slate;
 * returns how many. */
static long s_fallback_all(server_t *s, int agent)
{
    const world_requests_t *r = world_requests(s->w, agent);
    long filled = 0;
    for (int j = 0; j < r->n; j++) {
        if (world_has_slate(s->w, agent, j))
            continue;
        if (!s->fallback_ready) {
            policy_popular_slate(s->w, s->fallback);
            s->fallback_ready = true;
        }
        int rc = world_set_slate(s->w, agent, j, s->fallback);
        assert(rc == 0); /* the popularity slate is live and distinct */
        (void)rc;
        filled++;
    }
    return filled;
}

int server_collect(server_t *s)
{
    s->fallback_ready = false;
    /* first read what came since the last tick: late answers, PINGs and
     * HELLOs decide who gets a STEP now */
    int rc = s_serve_until(s, transport_now_ms(), false);
    if (rc == 0)
        rc = server_msg_begin_tick(&s->msg); /* the births, once for every STEP */
    if (rc != 0)
        return rc;
    for (int a = 0; a < s->n_agents; a++) {
        s_slot_t *slot = &s->slots[a];
        slot->awaiting = false;
        slot->answered = false;
        if (slot->remote)
            for (int j = 0; j < world_requests(s->w, a)->n; j++)
                slot->propensity[j] = NAN;
        if (!slot->remote || !slot->connected || !slot->responsive)
            continue;
        if (slot->need_resync && s_send_catalog(s, a) != 0)
            continue;
        if (s_send_step(s, a) == 0)
            slot->awaiting = true;
    }
    rc = s_serve_until(s, transport_now_ms() + s->sc->server.deadline_ms, true);
    if (rc != 0)
        return rc;
    for (int a = 0; a < s->n_agents; a++) {
        s_slot_t *slot = &s->slots[a];
        if (!slot->remote)
            continue;
        if (slot->awaiting) {
            slot->awaiting = false;
            slot->responsive = false;
            slot->stats.deadline_misses++;
            proto_msg_t step = {.type = PROTO_MSG_STEP, .seq = slot->step_seq};
            s_send_error(s, a, PROTO_EDEADLINE, &step,
                         "no ACT for tick %d within %d ms; fallback slates used", world_tick(s->w),
                         s->sc->server.deadline_ms);
            s_log(s,
                  "agent %s missed the %d ms deadline at episode %" PRIu32 " tick %d; "
                  "fallback slates until it answers again",
                  s->sc->agents[a].name, s->sc->server.deadline_ms, world_episode(s->w),
                  world_tick(s->w));
            slot->stats.fallback_missed += s_fallback_all(s, a);
        } else if (!slot->answered) {
            /* absent, unresponsive, or reconnected after this tick's STEP */
            slot->stats.fallback_missed += s_fallback_all(s, a);
        }
    }
    return 0;
}

/* True if agent gets this tick's JOINT. */
static bool s_gets_joint(const s_slot_t *slot)
{
    return slot->remote && slot->connected && slot->joint && slot->responsive;
}

int server_end_tick(server_t *s, const world_tick_stats_t *stats)
{
    if (s->telemetry)
        telemetry_publish_tick(s->telemetry, stats);
    bool any_joint = false;
    for (int a = 0; a < s->n_agents; a++) {
        s_slot_t *slot = &s->slots[a];
        slot->episode_reward += stats->agent_reward[a];
        slot->episode_requests += stats->agent_requests[a];
        slot->episode_clicks += stats->agent_clicks[a];
        any_joint = any_joint || s_gets_joint(slot);
    }
    if (!any_joint)
        return 0;
    /* one encoding for every recipient; each copy gets its own seq */
    char err[PROTO_ERR_LEN];
    int rc = server_msg_encode_joint(&s->msg, stats, err, sizeof err);
    if (rc != 0) {
        s_log(s, "cannot encode JOINT: %s", err);
        return rc;
    }
    for (int a = 0; a < s->n_agents; a++) {
        s_slot_t *slot = &s->slots[a];
        if (!s_gets_joint(slot))
            continue;
        int sent = server_msg_with_seq(&s->msg.joint, slot->seq++, &s->out);
        if (sent == 0)
            sent = s_send_frame(s, a, &s->out);
        rc = rc ? rc : sent;
    }
    return rc;
}

int server_end_episode(server_t *s, const world_episode_metrics_t *metrics,
                       const double *agent_gini)
{
    int rc = 0;
    if (s->telemetry)
        telemetry_publish_episode(s->telemetry, metrics, agent_gini);
    s->in_episode = false;
    for (int a = 0; a < s->n_agents; a++) {
        s_slot_t *slot = &s->slots[a];
        if (!slot->remote || !slot->connected)
            continue;
        proto_msg_t msg;
        server_msg_episode_end(&s->msg, a, slot->episode_reward, slot->episode_requests,
                               slot->episode_clicks, &msg);
        int sent = s_send(s, a, &msg);
        rc = rc ? rc : sent;
    }
    return rc;
}

const server_agent_stats_t *server_agent_stats(const server_t *s, int agent)
{
    return &s->slots[agent].stats;
}
