/* The ZAP handler: a thread answering ZeroMQ's authentication requests
 * from the allowed-keys folder (auth.h). */
#include "sim/auth.h"

#include "core/err.h"
#include "proto/codec.h"
#include "proto/curve.h"

#include <dirent.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define S_ZAP_ENDPOINT "inproc://zeromq.zap.01" /* fixed by RFC 27 */
#define S_MAX_KEYS     PROTO_MAX_AGENTS
#define S_FRAMES       8   /* a ZAP request has 6 frames plus credentials */
#define S_FRAME_MAX    256 /* bytes kept of one frame */

typedef struct s_key {
    char name[PROTO_MAX_NAME + 1];
    uint8_t key[32]; /* binary public key */
} s_key_t;

struct auth {
    void *ctx;
    void *zap;     /* REP bound to S_ZAP_ENDPOINT, used only by the thread */
    void *stop_tx; /* PAIR: the owner says stop */
    void *stop_rx; /* PAIR: the thread hears it */
    void *monitor; /* PAIR on a watched socket's events, used only by the thread; or NULL */
    FILE *log;
    pthread_t thread;
    size_t n_keys;
    s_key_t keys[S_MAX_KEYS];
    char stop_endpoint[64];
    char monitor_endpoint[64];
};

static int s_load(auth_t *a, const char *dir, char *err, size_t err_len)
{
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, err_len, "curve_allow %s: %s", dir, strerror(errno));
        return ERR_EIO;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".pub") != 0)
            continue;
        char name[256], path[4096], z85[CURVE_KEY_Z85 + 1];
        snprintf(name, sizeof name, "%.*s", (int)(len - 4), e->d_name);
        if (len - 4 > PROTO_MAX_NAME || !proto_name_valid(name)) {
            snprintf(err, err_len,
                     "curve_allow %s/%s: '%s' is not an agent name (1-63 of A-Z a-z 0-9 _ -)", dir,
                     e->d_name, name);
            rc = ERR_EINVAL;
            break;
        }
        if (a->n_keys == S_MAX_KEYS) {
            snprintf(err, err_len, "curve_allow %s: more than %d keys", dir, S_MAX_KEYS);
            rc = ERR_ELIMIT;
            break;
        }
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        rc = curve_read_key(path, 0, z85, err, err_len);
        if (rc != 0)
            break;
        s_key_t *k = &a->keys[a->n_keys];
        memcpy(k->name, name, len - 4 + 1); /* a valid name: at most PROTO_MAX_NAME */
        zmq_z85_decode(k->key, z85);
        for (size_t i = 0; i < a->n_keys; i++)
            if (memcmp(a->keys[i].key, k->key, 32) == 0) {
                snprintf(err, err_len, "curve_allow %s: %s.pub and %s.pub hold the same key", dir,
                         a->keys[i].name, name);
                rc = ERR_EINVAL;
            }
        a->n_keys++;
    }
    closedir(d);
    if (rc == 0 && a->n_keys == 0) {
        snprintf(err, err_len, "curve_allow %s: no NAME.pub key files (recarena keygen NAME)", dir);
        rc = ERR_EINVAL;
    }
    return rc;
}

/* Receives one ZAP request: up to S_FRAMES frames into frames/sizes. */
static int s_recv_request(void *zap, uint8_t frames[S_FRAMES][S_FRAME_MAX], size_t *sizes,
                          int *n_frames)
{
    int n = 0, more = 1;
    while (more) {
        zmq_msg_t part;
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, zap, 0) < 0) {
            zmq_msg_close(&part);
            return -1;
        }
        if (n < S_FRAMES) {
            size_t size = zmq_msg_size(&part);
            sizes[n] = size < S_FRAME_MAX ? size : S_FRAME_MAX;
            memcpy(frames[n], zmq_msg_data(&part), sizes[n]);
            n++;
        }
        more = zmq_msg_more(&part);
        zmq_msg_close(&part);
    }
    *n_frames = n;
    return 0;
}

static void s_reply(void *zap, const uint8_t *request_id, size_t id_len, const char *status,
                    const char *text, const char *user)
{
    zmq_send(zap, "1.0", 3, ZMQ_SNDMORE);
    zmq_send(zap, request_id, id_len, ZMQ_SNDMORE);
    zmq_send(zap, status, strlen(status), ZMQ_SNDMORE);
    zmq_send(zap, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(zap, user, strlen(user), ZMQ_SNDMORE);
    zmq_send(zap, "", 0, 0);
}

/* Answers one request. Frames: version, request id, domain, address,
 * routing id, mechanism, credentials... (RFC 27). */
static void s_answer(auth_t *a, uint8_t frames[S_FRAMES][S_FRAME_MAX], const size_t *sizes, int n)
{
    if (n < 6) {
        s_reply(a->zap, n > 1 ? frames[1] : (const uint8_t *)"", n > 1 ? sizes[1] : 0, "500",
                "malformed ZAP request", "");
        return;
    }
    char address[S_FRAME_MAX + 1], mechanism[S_FRAME_MAX + 1];
    snprintf(address, sizeof address, "%.*s", (int)sizes[3], (const char *)frames[3]);
    snprintf(mechanism, sizeof mechanism, "%.*s", (int)sizes[5], (const char *)frames[5]);
    if (strcmp(mechanism, "NULL") == 0) {
        s_reply(a->zap, frames[1], sizes[1], "200", "OK", "");
        return;
    }
    if (strcmp(mechanism, "CURVE") != 0 || n < 7 || sizes[6] != 32) {
        if (a->log)
            fprintf(a->log, "auth: refused %s: mechanism %s (only CURVE keys are accepted)\n",
                    address[0] ? address : "a peer", mechanism);
        s_reply(a->zap, frames[1], sizes[1], "400", "CURVE required", "");
        return;
    }
    for (size_t i = 0; i < a->n_keys; i++)
        if (memcmp(a->keys[i].key, frames[6], 32) == 0) {
            if (a->log)
                fprintf(a->log, "auth: accepted %s with the key of %s\n",
                        address[0] ? address : "a peer", a->keys[i].name);
            s_reply(a->zap, frames[1], sizes[1], "200", "OK", a->keys[i].name);
            return;
        }
    char z85[CURVE_KEY_Z85 + 1];
    zmq_z85_encode(z85, frames[6], 32);
    if (a->log)
        fprintf(a->log, "auth: refused %s: key %s is not in the allowed keys\n",
                address[0] ? address : "a peer", z85);
    s_reply(a->zap, frames[1], sizes[1], "400", "unknown key", "");
}

/* Logs one event of the watched socket: a handshake that failed before
 * the ZAP handler was asked (a peer without CURVE, or one that does not
 * hold the server key the socket's secret key matches). Frames: 6 bytes
 * (uint16 event, uint32 value, host order), then the local endpoint. */
static void s_log_event(auth_t *a)
{
    uint8_t frames[S_FRAMES][S_FRAME_MAX];
    size_t sizes[S_FRAMES];
    int n;
    if (s_recv_request(a->monitor, frames, sizes, &n) != 0 || n < 2 || sizes[0] < 6 || !a->log)
        return;
    uint16_t event;
    uint32_t value;
    memcpy(&event, frames[0], sizeof event);
    memcpy(&value, frames[0] + 2, sizeof value);
    const char *why = "no CURVE handshake (a client without keys, or not a ZeroMQ peer)";
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL &&
        value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)
        why = "it offered no CURVE key (a client without keys)";
    else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)
        why = "the CURVE handshake failed (a client holding the wrong server key?)";
    fprintf(a->log, "auth: refused a peer on %.*s: %s (ZeroMQ event 0x%x, 0x%x)\n", (int)sizes[1],
            (const char *)frames[1], why, (unsigned)event, (unsigned)value);
}

/* Starts watching: the owner sent the monitor endpoint on the stop pair. */
static void s_start_monitor(auth_t *a, const uint8_t *endpoint, size_t len)
{
    char at[sizeof a->monitor_endpoint];
    snprintf(at, sizeof at, "%.*s", (int)len, (const char *)endpoint);
    a->monitor = zmq_socket(a->ctx, ZMQ_PAIR);
    int linger = 0;
    if (a->monitor)
        zmq_setsockopt(a->monitor, ZMQ_LINGER, &linger, sizeof linger);
    if (a->monitor && zmq_connect(a->monitor, at) != 0) {
        zmq_close(a->monitor);
        a->monitor = NULL;
    }
}

static void *s_run(void *arg)
{
    auth_t *a = arg;
    static uint8_t frames[S_FRAMES][S_FRAME_MAX]; /* only this thread uses them */
    size_t sizes[S_FRAMES];
    for (;;) {
        zmq_pollitem_t items[] = {{a->zap, 0, ZMQ_POLLIN, 0},
                                  {a->stop_rx, 0, ZMQ_POLLIN, 0},
                                  {a->monitor, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(items, a->monitor ? 3 : 2, -1) < 0) {
            if (zmq_errno() == EINTR)
                continue;
            break;
        }
        int n;
        if (items[1].revents & ZMQ_POLLIN) {
            if (s_recv_request(a->stop_rx, frames, sizes, &n) != 0 || n < 1 || sizes[0] == 0)
                break; /* stop */
            if (!a->monitor)
                s_start_monitor(a, frames[0], sizes[0]);
        }
        if ((items[0].revents & ZMQ_POLLIN) && s_recv_request(a->zap, frames, sizes, &n) == 0)
            s_answer(a, frames, sizes, n);
        if (a->monitor && (items[2].revents & ZMQ_POLLIN))
            s_log_event(a);
    }
    if (a->monitor)
        zmq_close(a->monitor);
    return NULL;
}

auth_t *auth_new(void *ctx, const char *allow_dir, FILE *log, char *err, size_t err_len)
{
    auth_t *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    a->ctx = ctx;
    a->log = log;
    if (s_load(a, allow_dir, err, err_len) != 0)
        goto fail;
    int linger = 0;
    snprintf(a->stop_endpoint, sizeof a->stop_endpoint, "inproc://recarena-auth-%p", (void *)a);
    a->zap = zmq_socket(ctx, ZMQ_REP);
    a->stop_rx = zmq_socket(ctx, ZMQ_PAIR);
    a->stop_tx = zmq_socket(ctx, ZMQ_PAIR);
    if (!a->zap || !a->stop_rx || !a->stop_tx)
        goto fail_zmq;
    zmq_setsockopt(a->zap, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(a->stop_rx, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(a->stop_tx, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_bind(a->zap, S_ZAP_ENDPOINT) != 0 || zmq_bind(a->stop_rx, a->stop_endpoint) != 0 ||
        zmq_connect(a->stop_tx, a->stop_endpoint) != 0)
        goto fail_zmq;
    if (pthread_create(&a->thread, NULL, s_run, a) != 0) {
        snprintf(err, err_len, "auth: cannot start the ZAP handler thread");
        goto fail;
    }
    return a;
fail_zmq:
    snprintf(err, err_len, "auth: %s: %s", S_ZAP_ENDPOINT, zmq_strerror(zmq_errno()));
fail:
    if (a->zap)
        zmq_close(a->zap);
    if (a->stop_rx)
        zmq_close(a->stop_rx);
    if (a->stop_tx)
        zmq_close(a->stop_tx);
    free(a);
    return NULL;
}

void auth_destroy(auth_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    auth_t *a = *self_p;
    zmq_send(a->stop_tx, "", 0, 0);
    pthread_join(a->thread, NULL);
    zmq_close(a->zap);
    zmq_close(a->stop_rx);
    zmq_close(a->stop_tx);
    free(a);
    *self_p = NULL;
}

int auth_watch(auth_t *auth, void *socket, char *err, size_t err_len)
{
    snprintf(auth->monitor_endpoint, sizeof auth->monitor_endpoint, "inproc://recarena-monitor-%p",
             (void *)auth);
    if (zmq_socket_monitor(socket, auth->monitor_endpoint,
                           ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) != 0) {
        snprintf(err, err_len, "auth: cannot watch the CURVE socket: %s",
                 zmq_strerror(zmq_errno()));
        return ERR_EIO;
    }
    zmq_send(auth->stop_tx, auth->monitor_endpoint, strlen(auth->monitor_endpoint), 0);
    return 0;
}

bool auth_endpoint_private(const char *endpoint)
{
    if (strncmp(endpoint, "ipc://", 6) == 0 || strncmp(endpoint, "inproc://", 9) == 0)
        return true;
    if (strncmp(endpoint, "tcp://", 6) != 0)
        return false;
    const char *host = endpoint + 6;
    static const char *const loopback[] = {"127.", "localhost:", "[::1]:", "::1:"};
    for (size_t i = 0; i < sizeof loopback / sizeof loopback[0]; i++)
        if (strncmp(host, loopback[i], strlen(loopback[i])) == 0)
            return i > 0 || strchr(host, ':') != NULL; /* 127.x needs its :port */
    return false;
}

size_t auth_keys(const auth_t *auth)
{
    return auth->n_keys;
}
