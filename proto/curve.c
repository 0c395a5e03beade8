/* CURVE key files and socket set-up (curve.h). */
#include "proto/curve.h"

#include "core/err.h"
#include "proto/codec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

static int s_fail(char *err, size_t err_len, int code, const char *what, const char *path,
                  const char *why)
{
    if (err && err_len)
        snprintf(err, err_len, "%s %s: %s", what, path, why);
    return code;
}

/* Writes text to a new file path with mode; refuses an existing file. */
static int s_write_new(const char *path, const char *text, mode_t mode, char *err, size_t err_len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
    if (fd < 0)
        return s_fail(err, err_len, ERR_EIO, "cannot create", path,
                      errno == EEXIST ? "it exists (keys are never overwritten; remove it first)"
                                      : strerror(errno));
    size_t len = strlen(text);
    ssize_t n = write(fd, text, len);
    int saved = errno;
    if (close(fd) != 0 && n == (ssize_t)len) {
        n = -1;
        saved = errno;
    }
    if (n != (ssize_t)len) {
        unlink(path);
        return s_fail(err, err_len, ERR_EIO, "cannot write", path, strerror(saved));
    }
    return 0;
}

int curve_keygen(const char *dir, const char *name, char *err, size_t err_len)
{
    if (!proto_name_valid(name))
        return s_fail(err, err_len, ERR_EINVAL, "key name", name,
                      "must be 1-63 characters of A-Z a-z 0-9 _ -");
    char pub[CURVE_KEY_Z85 + 1], sec[CURVE_KEY_Z85 + 1];
    if (zmq_curve_keypair(pub, sec) != 0)
        return s_fail(err, err_len, ERR_EINVAL, "CURVE", "keypair",
                      "this libzmq has no CURVE support");
    char key_path[4096], pub_path[4096], line[CURVE_KEY_Z85 + 2];
    if ((size_t)snprintf(key_path, sizeof key_path, "%s/%s.key", dir, name) >= sizeof key_path ||
        (size_t)snprintf(pub_path, sizeof pub_path, "%s/%s.pub", dir, name) >= sizeof pub_path)
        return s_fail(err, err_len, ERR_ELIMIT, "key folder", dir, "path too long");
    struct stat st;
    if (stat(pub_path, &st) == 0)
        return s_fail(err, err_len, ERR_EIO, "cannot create", pub_path,
                      "it exists (keys are never overwritten; remove it first)");
    snprintf(line, sizeof line, "%s\n", sec);
    int rc = s_write_new(key_path, line, 0600, err, err_len);
    if (rc != 0)
        return rc;
    snprintf(line, sizeof line, "%s\n", pub);
    rc = s_write_new(pub_path, line, 0644, err, err_len);
    if (rc != 0)
        unlink(key_path);
    return rc;
}

int curve_read_key(const char *path, int secret, char *z85, char *err, size_t err_len)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return s_fail(err, err_len, ERR_EIO, "cannot read key", path, strerror(errno));
    struct stat st;
    if (secret && fstat(fileno(f), &st) == 0 && (st.st_mode & 077)) {
        fclose(f);
        return s_fail(err, err_len, ERR_EAUTH, "secret key", path,
                      "is readable by others (chmod 600 it)");
    }
    char line[128];
    size_t n = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[n] = '\0';
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    uint8_t raw[32];
    if (n != CURVE_KEY_Z85 || !zmq_z85_decode(raw, line))
        return s_fail(err, err_len, ERR_EFORMAT, "key file", path,
                      "expected one line holding a 40-character Z85 key (recarena keygen)");
    memcpy(z85, line, CURVE_KEY_Z85 + 1);
    return 0;
}

int curve_public_of(const char *secret_z85, char *public_z85, char *err, size_t err_len)
{
    if (zmq_curve_public(public_z85, secret_z85) != 0)
        return s_fail(err, err_len, ERR_EFORMAT, "secret key", "", "not a valid Z85 CURVE key");
    return 0;
}

int curve_server(void *socket, const char *secret_file, char *err, size_t err_len)
{
    char sec[CURVE_KEY_Z85 + 1];
    int rc = curve_read_key(secret_file, 1, sec, err, err_len);
    if (rc != 0)
        return rc;
    int on = 1;
    if (zmq_setsockopt(socket, ZMQ_CURVE_SERVER, &on, sizeof on) != 0 ||
        zmq_setsockopt(socket, ZMQ_CURVE_SECRETKEY, sec, CURVE_KEY_Z85) != 0)
        return s_fail(err, err_len, ERR_EINVAL, "CURVE server key", secret_file,
                      zmq_strerror(zmq_errno()));
    return 0;
}

int curve_client(void *socket, const char *server_public_file, const char *agent_secret_file,
                 char *err, size_t err_len)
{
    char server[CURVE_KEY_Z85 + 1], sec[CURVE_KEY_Z85 + 1], pub[CURVE_KEY_Z85 + 1];
    int rc = curve_read_key(server_public_file, 0, server, err, err_len);
    if (rc == 0)
        rc = curve_read_key(agent_secret_file, 1, sec, err, err_len);
    if (rc == 0)
        rc = curve_public_of(sec, pub, err, err_len);
    if (rc != 0)
        return rc;
    if (zmq_setsockopt(socket, ZMQ_CURVE_SERVERKEY, server, CURVE_KEY_Z85) != 0 ||
        zmq_setsockopt(socket, ZMQ_CURVE_PUBLICKEY, pub, CURVE_KEY_Z85) != 0 ||
        zmq_setsockopt(socket, ZMQ_CURVE_SECRETKEY, sec, CURVE_KEY_Z85) != 0)
        return s_fail(err, err_len, ERR_EINVAL, "CURVE client keys", agent_secret_file,
                      zmq_strerror(zmq_errno()));
    return 0;
}
