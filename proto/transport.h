/* ZeroMQ sockets set up the way the protocol needs them (docs/protocol.md,
 * "Sockets"): the server binds a ROUTER for control and a PUB for
 * telemetry; an agent connects one DEALER. Never REQ/REP: a lockstep
 * socket hangs forever when its peer dies.
 *
 * Every socket caps incoming messages at PROTO_MAX_MESSAGE_BYTES
 * (ZMQ_MAXMSGSIZE: larger frames drop the connection before anything is
 * allocated for them) and lingers 0 ms on close, so a dead peer never
 * blocks shutdown. */
#ifndef RECARENA_TRANSPORT_H
#define RECARENA_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#define TRANSPORT_MAX_IDENTITY 256 /* ZeroMQ routing ids are at most 255 bytes */
#define TRANSPORT_MAX_USER_ID  64  /* a ZAP User-Id: an agent name (PROTO_MAX_NAME) */

/* Sockets; NULL on failure with a message naming the endpoint in err.
 * ctx is a zmq context (zmq_ctx_new). Caller owns the socket (zmq_close). */
void *transport_router(void *ctx, const char *endpoint, char *err, size_t err_len);
void *transport_dealer(void *ctx, const char *endpoint, char *err, size_t err_len);
void *transport_pub(void *ctx, const char *endpoint, char *err, size_t err_len);

/* The same with ZeroMQ CURVE (proto/curve.h, docs/security.md), keys set
 * before binding or connecting: a ROUTER that is a CURVE server with the
 * secret key in secret_key_file (connections must then pass the ZAP
 * handler, sim/auth.h), a DEALER that is a CURVE client trusting the
 * server key in server_key_file, proving itself with the secret key in
 * agent_key_file. NULL on failure with a message naming the file or the
 * endpoint in err. */
void *transport_router_curve(void *ctx, const char *endpoint, const char *secret_key_file,
                             char *err, size_t err_len);
void *transport_dealer_curve(void *ctx, const char *endpoint, const char *server_key_file,
                             const char *agent_key_file, char *err, size_t err_len);
void *transport_sub(void *ctx, const char *endpoint, char *err, size_t err_len);

/* One frame on a DEALER or PUB (PUB: never blocks; a message a slow
 * subscriber cannot take is dropped). 0 or -1 (errno set). */
int transport_send(void *socket, const void *data, size_t size, int flags);

/* On a ROUTER: identity frame then payload. Returns -1 with errno
 * EHOSTUNREACH when the peer is gone (ZMQ_ROUTER_MANDATORY). */
int transport_send_to(void *router, const void *identity, size_t identity_len, const void *data,
                      size_t size);

/* A received payload held without a copy: its bytes are ZeroMQ's message,
 * valid until the next transport_recv_frame into the same frame or
 * transport_frame_fini. A server or agent that decodes every message
 * straight from it saves copying each frame into a buffer first. */
typedef struct transport_frame {
    zmq_msg_t msg;
} transport_frame_t;

void transport_frame_init(transport_frame_t *frame); /* empty */
void transport_frame_fini(transport_frame_t *frame); /* releases the payload; init again to reuse */
const uint8_t *transport_frame_data(transport_frame_t *frame);
size_t transport_frame_size(transport_frame_t *frame);

/* Receives like transport_recv_user, the payload into frame (replacing
 * what it held) without a copy, waiting at most timeout_ms for it: 0
 * takes only what is queued, -1 waits for ever. A blocking receive with a
 * timeout (ZMQ_RCVTIMEO, set on the socket here) wakes once per message,
 * where zmq_poll and then a receive would cost several system calls more.
 * Returns the payload size, or -1 (errno set; EAGAIN: nothing came in
 * time; EPROTO: not one frame, drained). */
long transport_recv_frame(void *socket, uint8_t *identity, size_t *identity_len, char *user_id,
                          transport_frame_t *frame, long timeout_ms);

/* Receives one message (DEALER/SUB) or identity + payload (ROUTER, with
 * identity non-NULL, TRANSPORT_MAX_IDENTITY bytes). The payload is copied
 * into *buf (grown as needed, caller frees). Extra frames are drained and
 * reported as -1 with errno EPROTO. flags: 0 or ZMQ_DONTWAIT.
 * Returns the payload size, or -1 (errno set; EAGAIN: nothing there). */
long transport_recv(void *socket, uint8_t *identity, size_t *identity_len, uint8_t **buf,
                    size_t *buf_cap, int flags);

/* transport_recv on a ROUTER that also gives the connection's ZAP User-Id
 * (TRANSPORT_MAX_USER_ID bytes; "" when the connection has none, e.g.
 * without CURVE): on a CURVE server, the name of the allowed key the peer
 * proved it holds. user_id may be NULL. */
long transport_recv_user(void *socket, uint8_t *identity, size_t *identity_len, char *user_id,
                         uint8_t **buf, size_t *buf_cap, int flags);

/* Milliseconds on a monotonic clock. */
int64_t transport_now_ms(void);

#endif
