/* Finding and starting the viewer (viewer.h). */
#include "sim/viewer.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

int viewer_find(char *path, size_t size, char *err, size_t err_len)
{
    char self[1024];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        snprintf(err, err_len, "cannot find this program's folder (/proc/self/exe): %s",
                 strerror(errno));
        return -1;
    }
    self[n] = '\0';
    *strrchr(self, '/') = '\0';
    const char *places[] = {"%s/recarena-view", "%s/../viz/recarena-view"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, size, places[i], self);
        if (access(path, X_OK) == 0)
            return 0;
    }
    snprintf(err, err_len,
             "the viewer is not built: no %s/recarena-view nor %s/../viz/recarena-view "
             "(build with -DRECARENA_VIEWER=ON and the SDL2 packages of scripts/install-deps.sh)",
             self, self);
    return -1;
}

/* True if fd is a pipe or a socket. */
static bool s_is_stream(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
}

int viewer_start(const char *path, const char *endpoint, const char *scenario_file, int timeout_ms,
                 char *err, size_t err_len)
{
    int ready[2];
    if (pipe(ready) != 0) {
        snprintf(err, err_len, "cannot start the viewer: %s", strerror(errno));
        return -1;
    }
    fcntl(ready[0], F_SETFD, FD_CLOEXEC);
    char fd_text[16];
    snprintf(fd_text, sizeof fd_text, "%d", ready[1]);
    char *argv[] = {(char *)path,          "--connect",  (char *)endpoint, "--scenario",
                    (char *)scenario_file, "--ready-fd", fd_text,          NULL};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    if (s_is_stream(STDERR_FILENO))
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawn(&pid, path, &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(ready[1]);
    if (rc != 0) {
        close(ready[0]);
        snprintf(err, err_len, "cannot start the viewer %s: %s", path, strerror(rc));
        return -1;
    }
    /* the viewer is our child but never waited for: it outlives the run */
    struct pollfd p = {.fd = ready[0], .events = POLLIN};
    char byte;
    int polled = poll(&p, 1, timeout_ms);
    ssize_t got = polled > 0 ? read(ready[0], &byte, 1) : 0;
    close(ready[0]);
    if (got == 1)
        return 0;
    if (polled > 0)
        snprintf(err, err_len, "the viewer exited before it was ready");
    else if (polled == 0)
        snprintf(err, err_len, "the viewer was not ready within %d ms", timeout_ms);
    else
        snprintf(err, err_len, "interrupted while waiting for the viewer");
    return -1;
}
