/* CURVE keys and the ZAP handler (proto/curve.h, sim/auth.h), over real
 * ZeroMQ sockets on loopback tcp: an allowed key gets through with its
 * slot name as User-Id; an unknown key and a client without CURVE are
 * refused during the handshake, so nothing of theirs reaches the server. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <zmq.h>

#include "core/err.h"
#include "proto/curve.h"
#include "sim/auth.h"

static char s_dir[256];

static void s_path(char *out, size_t size, const char *sub, const char *file)
{
    snprintf(out, size, "%s/%s/%s", s_dir, sub, file);
}

static int s_setup(void **state)
{
    (void)state;
    snprintf(s_dir, sizeof s_dir, "/tmp/recarena-test-auth-XXXXXX");
    if (!mkdtemp(s_dir))
        return -1;
    char sub[512];
    snprintf(sub, sizeof sub, "%s/keys", s_dir);
    mkdir(sub, 0700);
    snprintf(sub, sizeof sub, "%s/allowed", s_dir);
    mkdir(sub, 0700);
    return 0;
}

static int s_remove(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

/* Removes the test's own mkdtemp folder. */
static int s_teardown(void **state)
{
    (void)state;
    return nftw(s_dir, s_remove, 16, FTW_DEPTH | FTW_PHYS);
}

static void test_keygen_files(void **state)
{
    (void)state;
    char err[512], keys[512], path[600];
    snprintf(keys, sizeof keys, "%s/keys", s_dir);
    assert_int_equal(curve_keygen(keys, "alice", err, sizeof err), 0);
    struct stat st;
    s_path(path, sizeof path, "keys", "alice.key");
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char sec[CURVE_KEY_Z85 + 1], pub[CURVE_KEY_Z85 + 1], derived[CURVE_KEY_Z85 + 1];
    assert_int_equal(curve_read_key(path, 1, sec, err, sizeof err), 0);
    s_path(path, sizeof path, "keys", "alice.pub");
    assert_int_equal(curve_read_key(path, 0, pub, err, sizeof err), 0);
    assert_int_equal(curve_public_of(sec, derived, err, sizeof err), 0);
    assert_string_equal(pub, derived);
    /* one line each: 40 characters and a newline */
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, CURVE_KEY_Z85 + 1);
    /* never overwrites */
    assert_int_equal(curve_keygen(keys, "alice", err, sizeof err), ERR_EIO);
    assert_non_null(strstr(err, "exists"));
    assert_int_equal(curve_keygen(keys, "bad name", err, sizeof err), ERR_EINVAL);
    /* a secret key others can read is refused */
    s_path(path, sizeof path, "keys", "alice.key");
    chmod(path, 0644);
    assert_int_equal(curve_read_key(path, 1, sec, err, sizeof err), ERR_EAUTH);
    chmod(path, 0600);
    /* not a key */
    s_path(path, sizeof path, "keys", "junk.pub");
    FILE *f = fopen(path, "w");
    fputs("not a key\n", f);
    fclose(f);
    assert_int_equal(curve_read_key(path, 0, pub, err, sizeof err), ERR_EFORMAT);
    unlink(path);
}

/* Receives one message on router within ms; its User-Id into user. */
static int s_recv(void *router, int ms, char *user, size_t user_size)
{
    zmq_pollitem_t item = {router, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, ms) <= 0)
        return -1;
    zmq_msg_t id, body;
    zmq_msg_init(&id);
    zmq_msg_init(&body);
    zmq_msg_recv(&id, router, 0);
    zmq_msg_recv(&body, router, 0);
    const char *u = zmq_msg_gets(&body, "User-Id");
    snprintf(user, user_size, "%s", u ? u : "");
    zmq_msg_close(&id);
    zmq_msg_close(&body);
    return 0;
}

static void *s_client(void *ctx, const char *endpoint, const char *secret_name)
{
    void *dealer = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(dealer, ZMQ_LINGER, &linger, sizeof linger);
    if (secret_name) {
        char server[600], sec[600], err[512];
        s_path(server, sizeof server, "keys", "server.pub");
        s_path(sec, sizeof sec, "keys", secret_name);
        assert_int_equal(curve_client(dealer, server, sec, err, sizeof err), 0);
    }
    assert_int_equal(zmq_connect(dealer, endpoint), 0);
    zmq_send(dealer, "hi", 2, 0);
    return dealer;
}

static void test_zap_allows_only_listed_keys(void **state)
{
    (void)state;
    char err[512], keys[512], allowed[512], from[600], to[600];
    snprintf(keys, sizeof keys, "%s/keys", s_dir);
    snprintf(allowed, sizeof allowed, "%s/allowed", s_dir);
    assert_int_equal(curve_keygen(keys, "server", err, sizeof err), 0);
    assert_int_equal(curve_keygen(keys, "bob", err, sizeof err), 0);
    assert_int_equal(curve_keygen(keys, "mallory", err, sizeof err), 0);
    /* bob's public key, allowed for the slot bob */
    s_path(from, sizeof from, "keys", "bob.pub");
    s_path(to, sizeof to, "allowed", "bob.pub");
    assert_int_equal(link(from, to), 0);

    void *ctx = zmq_ctx_new();
    char log_text[4096] = "";
    FILE *log = fmemopen(log_text, sizeof log_text - 1, "w");
    setvbuf(log, NULL, _IONBF, 0);
    auth_t *auth = auth_new(ctx, allowed, log, err, sizeof err);
    assert_non_null(auth);
    assert_int_equal(auth_keys(auth), 1);

    void *router = zmq_socket(ctx, ZMQ_ROUTER);
    int linger = 0;
    zmq_setsockopt(router, ZMQ_LINGER, &linger, sizeof linger);
    char sec[600];
    s_path(sec, sizeof sec, "keys", "server.key");
    assert_int_equal(curve_server(router, sec, err, sizeof err), 0);
    assert_int_equal(zmq_bind(router, "tcp://127.0.0.1:*"), 0);
    char endpoint[256];
    size_t len = sizeof endpoint;
    zmq_getsockopt(router, ZMQ_LAST_ENDPOINT, endpoint, &len);

    char user[128];
    void *bob = s_client(ctx, endpoint, "bob.key");
    assert_int_equal(s_recv(router, 5000, user, sizeof user), 0);
    assert_string_equal(user, "bob");

    void *mallory = s_client(ctx, endpoint, "mallory.key");
    void *plain = s_client(ctx, endpoint, NULL);
    assert_int_equal(s_recv(router, 700, user, sizeof user), -1);

    zmq_close(bob);
    zmq_close(mallory);
    zmq_close(plain);
    zmq_close(router);
    auth_destroy(&auth);
    assert_null(auth);
    auth_destroy(&auth); /* NULL is fine */
    zmq_ctx_term(ctx);
    fclose(log);
    assert_non_null(strstr(log_text, "accepted"));
    assert_non_null(strstr(log_text, "refused"));
    assert_non_null(strstr(log_text, "is not in the allowed keys"));
}

static void test_allow_dir_errors(void **state)
{
    (void)state;
    char err[512], dir[600], path[700];
    void *ctx = zmq_ctx_new();
    snprintf(dir, sizeof dir, "%s/nope", s_dir);
    assert_null(auth_new(ctx, dir, NULL, err, sizeof err));
    assert_non_null(strstr(err, "nope"));
    snprintf(dir, sizeof dir, "%s/empty", s_dir);
    mkdir(dir, 0700);
    assert_null(auth_new(ctx, dir, NULL, err, sizeof err));
    assert_non_null(strstr(err, "no NAME.pub"));
    snprintf(path, sizeof path, "%s/bad name.pub", dir);
    FILE *f = fopen(path, "w");
    fputs("x\n", f);
    fclose(f);
    assert_null(auth_new(ctx, dir, NULL, err, sizeof err));
    assert_non_null(strstr(err, "not an agent name"));
    zmq_ctx_term(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keygen_files),
        cmocka_unit_test(test_zap_allows_only_listed_keys),
        cmocka_unit_test(test_allow_dir_errors),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
