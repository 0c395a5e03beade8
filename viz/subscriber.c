/* Telemetry subscriber (subscriber.h). */
#include "viz/subscriber.h"

#include "proto/transport.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <zmq.h>

struct viz_subscriber {
    void *ctx;
    void *sub;
    uint8_t *buf; /* (capacity) the last frame received */
    size_t capacity;
    proto_msg_t msg; /* reused for every decode */
    bool have_seq;
    uint64_t next_seq; /* seq expected next */
    viz_subscriber_stats_t stats;
};

viz_subscriber_t *viz_subscriber_new(const char *endpoint, char *err, size_t err_len)
{
    viz_subscriber_t *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    proto_msg_init(&s->msg);
    s->ctx = zmq_ctx_new();
    if (!s->ctx) {
        snprintf(err, err_len, "cannot create a ZeroMQ context: %s", zmq_strerror(zmq_errno()));
        viz_subscriber_destroy(&s);
        return NULL;
    }
    s->sub = transport_sub(s->ctx, endpoint, err, err_len);
    if (!s->sub)
        viz_subscriber_destroy(&s);
    return s;
}

void viz_subscriber_destroy(viz_subscriber_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    viz_subscriber_t *s = *self_p;
    if (s->sub)
        zmq_close(s->sub);
    if (s->ctx)
        zmq_ctx_term(s->ctx);
    proto_msg_fini(&s->msg);
    free(s->buf);
    free(s);
    *self_p = NULL;
}

/* Decodes the frame in s->buf and applies it: 1 applied, 0 skipped, or
 * ERR_ENOMEM. */
static int s_apply(viz_subscriber_t *s, size_t size, viz_model_t *m)
{
    if (proto_decode(s->buf, size, NULL, &s->msg, NULL, 0) != 0) {
        s->stats.bad++;
        return 0;
    }
    uint32_t type = s->msg.type;
    if (type != PROTO_MSG_TELEMETRY_TICK && type != PROTO_MSG_TELEMETRY_EXPOSURE &&
        type != PROTO_MSG_TELEMETRY_EPISODE) {
        s->stats.ignored++;
        return 0;
    }
    uint64_t seq = s->msg.seq;
    if (s->have_seq && seq > s->next_seq)
        s->stats.lost += seq - s->next_seq;
    s->have_seq = true;
    s->next_seq = seq + 1; /* a smaller seq: a new run restarted the count */
    int rc = viz_model_apply(m, &s->msg);
    if (rc == ERR_ENOMEM)
        return rc;
    if (rc != 0) {
        s->stats.bad++;
        return 0;
    }
    s->stats.received++;
    return 1;
}

int viz_subscriber_poll(viz_subscriber_t *s, viz_model_t *m, int timeout_ms, int budget_ms)
{
    zmq_pollitem_t item = {.socket = s->sub, .events = ZMQ_POLLIN};
    if (zmq_poll(&item, 1, timeout_ms) <= 0)
        return 0;
    int64_t until = transport_now_ms() + budget_ms;
    int applied = 0;
    do {
        long size = transport_recv(s->sub, NULL, NULL, &s->buf, &s->capacity, ZMQ_DONTWAIT);
        if (size < 0 && errno == EPROTO) {
            s->stats.bad++; /* more than one frame */
            continue;
        }
        if (size < 0)
            break; /* EAGAIN: all taken; EINTR: the loop comes back */
        int rc = s_apply(s, (size_t)size, m);
        if (rc < 0)
            return rc;
        applied += rc;
    } while (transport_now_ms() < until);
    return applied;
}

const viz_subscriber_stats_t *viz_subscriber_stats(const viz_subscriber_t *s)
{
    return &s->stats;
}
