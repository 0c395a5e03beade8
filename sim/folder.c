/* Recursive folder removal (folder.h). Every step is relative to the
 * folder's open descriptor (openat, fstatat, unlinkat) and opens folders
 * with O_NOFOLLOW, so a link swapped in while we walk is not followed
 * either. */
#include "sim/folder.h"

#include "core/err.h"

#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Removes name in the folder open as dir_fd; 0 or -1 with errno set. */
static int s_remove_at(int dir_fd, const char *name, int depth)
{
    struct stat st;
    if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return unlinkat(dir_fd, name, 0); /* a file, a socket, or a link itself */
    if (depth >= FOLDER_MAX_DEPTH) {
        errno = ELOOP;
        return -1;
    }
    int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    DIR *d = fdopendir(fd);
    if (!d) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    int rc = 0, saved = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (s_remove_at(fd, e->d_name, depth + 1) != 0 && rc == 0) {
            rc = -1;
            saved = errno;
        }
    }
    closedir(d); /* closes fd */
    if (rc != 0) {
        errno = saved;
        return -1;
    }
    return unlinkat(dir_fd, name, AT_REMOVEDIR);
}

int folder_remove(const char *path)
{
    return s_remove_at(AT_FDCWD, path, 0) == 0 ? 0 : ERR_EIO;
}

/* The pid in the marker of /tmp/name, or 0 if there is none readable. */
static long s_private_owner(const char *name)
{
    char path[600], line[128];
    snprintf(path, sizeof path, "/tmp/%s/%s", name, FOLDER_PRIVATE_MARKER);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, line, sizeof line - 1);
    close(fd);
    if (n <= 0)
        return 0;
    line[n] = '\0';
    static const char head[] = "recarena private directory, pid ";
    if (strncmp(line, head, sizeof head - 1) != 0)
        return 0;
    char *end = NULL;
    errno = 0;
    long pid = strtol(line + sizeof head - 1, &end, 10);
    if (errno || end == line + sizeof head - 1 || (*end != '\n' && *end != '\0') || pid <= 0)
        return 0;
    return pid;
}

int folder_private_sweep(const char *prefix)
{
    DIR *d = opendir("/tmp");
    if (!d)
        return 0;
    size_t plen = strlen(prefix);
    int removed = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (strncmp(e->d_name, prefix, plen) != 0 || e->d_name[plen] != '-')
            continue;
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode) ||
            st.st_uid != geteuid())
            continue;
        long pid = s_private_owner(e->d_name);
        if (pid == 0 || pid == (long)getpid())
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; /* alive (or not ours to ask): in use */
        char path[600];
        snprintf(path, sizeof path, "/tmp/%s", e->d_name);
        if (folder_remove(path) == 0)
            removed++;
    }
    closedir(d);
    return removed;
}

int folder_private_new(const char *prefix, char *path, size_t path_len)
{
    folder_private_sweep(prefix);
    if (snprintf(path, path_len, "/tmp/%s-XXXXXX", prefix) >= (int)path_len) {
        errno = ENAMETOOLONG;
        return ERR_EIO;
    }
    if (!mkdtemp(path))
        return ERR_EIO;
    char marker[700];
    snprintf(marker, sizeof marker, "%s/%s", path, FOLDER_PRIVATE_MARKER);
    int fd = open(marker, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        goto fail;
    char line[96];
    int n = snprintf(line, sizeof line, "recarena private directory, pid %ld\n", (long)getpid());
    bool ok = write(fd, line, (size_t)n) == n;
    if (close(fd) != 0 || !ok)
        goto fail;
    return 0;
fail : {
    int saved = errno;
    folder_remove(path);
    errno = saved;
    return ERR_EIO;
}
}
