/* ZeroMQ socket helpers (transport.h). */
#include "proto/transport.h"

#include "proto/curve.h"
#include "proto/protocol.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

/* CURVE keys of a socket: none (both NULL), a server (secret only) or a
 * client (the server's public key and the client's secret key). */
typedef struct s_keys {
    const char *server_public, *secret;
} s_keys_t;

static void *s_socket(void *ctx, int type, const char *endpoint, bool bind, s_keys_t keys,
                      char *err, size_t err_len)
{
    void *sock = zmq_socket(ctx, type);
    if (!sock) {
        snprintf(err, err_len, "cannot create a socket: %s", zmq_strerror(zmq_errno()));
        return NULL;
    }
    int64_t max_size = PROTO_MAX_MESSAGE_BYTES;
    int linger = 0, one = 1, hwm = 1000;
    zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &max_size, sizeof max_size);
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    if (type == ZMQ_ROUTER)
        zmq_setsockopt(sock, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    if (type == ZMQ_PUB)
        zmq_setsockopt(sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    if (type == ZMQ_SUB)
        zmq_setsockopt(sock, ZMQ_SUBSCRIBE, "", 0);
    if (keys.secret) {
        int krc = keys.server_public
                      ? curve_client(sock, keys.server_public, keys.secret, err, err_len)
                      : curve_server(sock, keys.secret, err, err_len);
        if (krc != 0) {
            zmq_close(sock);
            return NULL;
        }
    }
    int rc = bind ? zmq_bind(sock, endpoint) : zmq_connect(sock, endpoint);
    if (rc != 0) {
        snprintf(err, err_len, "cannot %s %s: %s", bind ? "bind" : "connect to", endpoint,
                 zmq_strerror(zmq_errno()));
        zmq_close(sock);
        return NULL;
    }
    return sock;
}

static const s_keys_t s_no_keys = {NULL, NULL};

void *transport_router(void *ctx, const char *endpoint, char *err, size_t err_len)
{
    return s_socket(ctx, ZMQ_ROUTER, endpoint, true, s_no_keys, err, err_len);
}

void *transport_dealer(void *ctx, const char *endpoint, char *err, size_t err_len)
{
    return s_socket(ctx, ZMQ_DEALER, endpoint, false, s_no_keys, err, err_len);
}

void *transport_router_curve(void *ctx, const char *endpoint, const char *secret_key_file,
                             char *err, size_t err_len)
{
    s_keys_t keys = {NULL, secret_key_file};
    return s_socket(ctx, ZMQ_ROUTER, endpoint, true, keys, err, err_len);
}

void *transport_dealer_curve(void *ctx, const char *endpoint, const char *server_key_file,
                             const char *agent_key_file, char *err, size_t err_len)
{
    s_keys_t keys = {server_key_file, agent_key_file};
    return s_socket(ctx, ZMQ_DEALER, endpoint, false, keys, err, err_len);
}

void *transport_pub(void *ctx, const char *endpoint, char *err, size_t err_len)
{
    return s_socket(ctx, ZMQ_PUB, endpoint, true, s_no_keys, err, err_len);
}

void *transport_sub(void *ctx, const char *endpoint, char *err, size_t err_len)
{
    return s_socket(ctx, ZMQ_SUB, endpoint, false, s_no_keys, err, err_len);
}

int transport_send(void *socket, const void *data, size_t size, int flags)
{
    return zmq_send(socket, data, size, flags) < 0 ? -1 : 0;
}

int transport_send_to(void *router, const void *identity, size_t identity_len, const void *data,
                      size_t size)
{
    if (zmq_send(router, identity, identity_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return -1;
    return zmq_send(router, data, size, ZMQ_DONTWAIT) < 0 ? -1 : 0;
}

static bool s_more(void *socket)
{
    int more = 0;
    size_t len = sizeof more;
    zmq_getsockopt(socket, ZMQ_RCVMORE, &more, &len);
    return more != 0;
}

static void s_drain(void *socket)
{
    while (s_more(socket)) {
        zmq_msg_t part;
        zmq_msg_init(&part);
        zmq_msg_recv(&part, socket, 0);
        zmq_msg_close(&part);
    }
}

/* The connection's ZAP User-Id of a received frame into user_id ("" when
 * none: no CURVE, or the handler gave none). */
static void s_user_id(zmq_msg_t *msg, char *user_id)
{
    const char *got = zmq_msg_gets(msg, "User-Id");
    snprintf(user_id, TRANSPORT_MAX_USER_ID, "%s", got ? got : "");
}

void transport_frame_init(transport_frame_t *frame)
{
    zmq_msg_init(&frame->msg);
}

void transport_frame_fini(transport_frame_t *frame)
{
    zmq_msg_close(&frame->msg);
}

const uint8_t *transport_frame_data(transport_frame_t *frame)
{
    return zmq_msg_data(&frame->msg);
}

size_t transport_frame_size(transport_frame_t *frame)
{
    return zmq_msg_size(&frame->msg);
}

long transport_recv_frame(void *socket, uint8_t *identity, size_t *identity_len, char *user_id,
                          transport_frame_t *frame, long timeout_ms)
{
    int flags = ZMQ_DONTWAIT;
    if (timeout_ms != 0) {
        int wait = timeout_ms < 0 ? -1 : timeout_ms > INT_MAX ? INT_MAX : (int)timeout_ms;
        zmq_setsockopt(socket, ZMQ_RCVTIMEO, &wait, sizeof wait);
        flags = 0;
    }
    if (user_id)
        user_id[0] = '\0';
    if (identity) {
        zmq_msg_t id;
        zmq_msg_init(&id);
        if (zmq_msg_recv(&id, socket, flags) < 0) {
            zmq_msg_close(&id);
            return -1;
        }
        size_t n = zmq_msg_size(&id);
        *identity_len = n < TRANSPORT_MAX_IDENTITY ? n : TRANSPORT_MAX_IDENTITY;
        memcpy(identity, zmq_msg_data(&id), *identity_len);
        zmq_msg_close(&id);
        if (!s_more(socket)) {
            errno = EPROTO;
            return -1;
        }
        flags = ZMQ_DONTWAIT; /* the rest of a message arrives together */
    }
    /* zmq_msg_recv releases what the frame held; on failure it is left empty */
    if (zmq_msg_recv(&frame->msg, socket, flags) < 0)
        return -1;
    if (s_more(socket)) {
        zmq_msg_close(&frame->msg);
        zmq_msg_init(&frame->msg);
        s_drain(socket);
        errno = EPROTO;
        return -1;
    }
    if (user_id) /* the ROUTER's identity frame carries no metadata; the payload does */
        s_user_id(&frame->msg, user_id);
    return (long)zmq_msg_size(&frame->msg);
}

long transport_recv(void *socket, uint8_t *identity, size_t *identity_len, uint8_t **buf,
                    size_t *buf_cap, int flags)
{
    return transport_recv_user(socket, identity, identity_len, NULL, buf, buf_cap, flags);
}

long transport_recv_user(void *socket, uint8_t *identity, size_t *identity_len, char *user_id,
                         uint8_t **buf, size_t *buf_cap, int flags)
{
    transport_frame_t frame;
    transport_frame_init(&frame);
    long size = transport_recv_frame(socket, identity, identity_len, user_id, &frame,
                                     flags & ZMQ_DONTWAIT ? 0 : -1);
    if (size >= 0 && ((size_t)size > *buf_cap || !*buf)) {
        uint8_t *grown = realloc(*buf, size ? (size_t)size : 1);
        if (grown) {
            *buf = grown;
            *buf_cap = size ? (size_t)size : 1;
        } else {
            size = -1;
            errno = ENOMEM;
        }
    }
    if (size > 0)
        memcpy(*buf, transport_frame_data(&frame), (size_t)size);
    int saved = errno; /* zmq_msg_close may set it */
    transport_frame_fini(&frame);
    errno = saved;
    return size;
}

int64_t transport_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
