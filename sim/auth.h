/* The server's ZAP handler (ZeroMQ RFC 27): who may connect over CURVE.
 *
 * A folder of allowed agent keys, one file NAME.pub per agent slot, each
 * holding that agent's Z85 public key (recarena keygen NAME). A CURVE
 * handshake with a key in the folder passes, and ZeroMQ stamps every
 * message of that connection with the User-Id NAME; any other key is
 * refused during the handshake, before a message reaches the server, and
 * the refusal is logged. The server then lets a connection take only the
 * slot its User-Id names (docs/security.md).
 *
 *     auth_t *auth = auth_new(ctx, "keys/allowed", stderr, err, sizeof err);
 *     ... curve_server(router, "keys/server.key", ...); zmq_bind(router, ...);
 *     auth_destroy(&auth);          // after the sockets of ctx are closed
 *
 * Connections without CURVE (the NULL mechanism: ipc endpoints, the
 * telemetry PUB) are not this handler's business and pass; a CURVE server
 * socket never accepts a NULL client, since the mechanisms must match. */
#ifndef RECARENA_SIM_AUTH_H
#define RECARENA_SIM_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct auth auth_t;

/* Loads allow_dir's NAME.pub files and starts the handler for every socket
 * of ctx. log (borrowed, may be NULL) gets one line per refused or
 * accepted CURVE client. NULL on error, with a message naming the folder
 * or file in err: unreadable folder, a file that is not one Z85 key, a
 * NAME that is not a protocol name, one key under two names, an empty
 * folder. Caller owns the result. */
auth_t *auth_new(void *ctx, const char *allow_dir, FILE *log, char *err, size_t err_len);

/* Stops the handler and frees it; accepts NULL, nulls *self_p. */
void auth_destroy(auth_t **self_p);

/* Watches socket (a CURVE server of auth's context, borrowed) and logs
 * the handshakes that fail before the handler is asked: a client without
 * a CURVE key, or one holding the wrong server key. 0 or ERR_EIO. */
int auth_watch(auth_t *auth, void *socket, char *err, size_t err_len);

/* True if endpoint is reachable from this host only: ipc://, inproc://,
 * or tcp:// on a loopback address (127.x.x.x, localhost, [::1], ::1).
 * Binding anything else without CURVE exposes the server to the network
 * (docs/security.md). */
bool auth_endpoint_private(const char *endpoint);

/* Number of allowed keys. */
size_t auth_keys(const auth_t *auth);

#endif
