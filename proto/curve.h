/* ZeroMQ CURVE keys for the protocol's tcp transport (docs/security.md):
 * key files, key pairs, and setting a socket up as a CURVE server or
 * client. Both sides use it: the server (sim/) and every agent (the SDK).
 *
 * Key files hold one line, a 40-character Z85 key: NAME.key the secret
 * key (mode 0600), NAME.pub the public key.
 *
 *     char err[256];
 *     curve_keygen("keys", "linucb", err, sizeof err);       // keys/linucb.{key,pub}
 *     curve_client(dealer, "keys/server.pub", "keys/linucb.key", err, sizeof err);
 *
 * Functions return 0 or a negative ERR_* code (core/err.h) with a message
 * naming the file in err. */
#ifndef RECARENA_PROTO_CURVE_H
#define RECARENA_PROTO_CURVE_H

#include <stddef.h>

#define CURVE_KEY_Z85 40 /* characters of a Z85-encoded CURVE key */

/* Writes DIR/NAME.key (secret, 0600) and DIR/NAME.pub (public) from a new
 * key pair. NAME is a protocol name ([A-Za-z0-9_-]{1,63}). Refuses
 * (ERR_EIO, EEXIST) to overwrite either file: a key someone relies on is
 * never replaced silently. */
int curve_keygen(const char *dir, const char *name, char *err, size_t err_len);

/* Reads a key file (one Z85 key, optional trailing newline) into z85
 * (CURVE_KEY_Z85 + 1 bytes). ERR_EIO if unreadable, ERR_EFORMAT if not one
 * valid Z85 key. A secret key file readable by others is refused
 * (ERR_EAUTH) when secret is nonzero. */
int curve_read_key(const char *path, int secret, char *z85, char *err, size_t err_len);

/* The public key of a Z85 secret key, into public_z85 (41 bytes). */
int curve_public_of(const char *secret_z85, char *public_z85, char *err, size_t err_len);

/* Makes socket a CURVE server with the secret key in secret_file (before
 * it binds). Connections then need CURVE and pass the ZAP handler. */
int curve_server(void *socket, const char *secret_file, char *err, size_t err_len);

/* Makes socket a CURVE client (before it connects) that trusts the server
 * key in server_public_file and proves itself with the secret key in
 * agent_secret_file (its public key is derived from it). */
int curve_client(void *socket, const char *server_public_file, const char *agent_secret_file,
                 char *err, size_t err_len);

#endif
