/* The run folder's safety rules (outdir.h): marker, lock, stale partial
 * folders, replacement. */
#include "sim/outdir.h"

#include "sim/folder.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static bool s_dir_empty(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return true;
    struct dirent *e;
    bool empty = true;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            empty = false;
    closedir(d);
    return empty;
}

bool outdir_is_run(const char *dir)
{
    char path[OUTDIR_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, OUTDIR_MARKER);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    int version = 0;
    bool ok = fscanf(f, "recarena run folder, format %d", &version) == 1 && version >= 1;
    fclose(f);
    return ok;
}

int outdir_check(const char *dir, char *err, size_t err_size)
{
    size_t len = strlen(dir);
    if (len == 0 || len > OUTDIR_PATH_MAX) {
        snprintf(err, err_size, "the path is %s (%zu characters; 1 to %d accepted)",
                 len ? "too long" : "empty", len, OUTDIR_PATH_MAX);
        return -1;
    }
    struct stat st;
    if (stat(dir, &st) != 0)
        return 0;
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, err_size, "exists and is not a folder");
        return -1;
    }
    if (!s_dir_empty(dir) && !outdir_is_run(dir)) {
        snprintf(err, err_size,
                 "a folder recarena did not write (no %s in it) and not empty; "
                 "refusing to replace it (choose another --out, or empty it)",
                 OUTDIR_MARKER);
        return -1;
    }
    return 0;
}

int outdir_write_marker(const char *dir, char *err, size_t err_size)
{
    char path[OUTDIR_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, OUTDIR_MARKER);
    FILE *f = fopen(path, "w");
    if (!f || fprintf(f, "recarena run folder, format %d\n", OUTDIR_FORMAT) < 0 || fclose(f) != 0) {
        snprintf(err, err_size, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int outdir_lock(outdir_lock_t *lock, const char *dir, char *err, size_t err_size)
{
    lock->fd = -1;
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    snprintf(lock->path, sizeof lock->path, "%.*s.lock", (int)n, dir);
    /* Retry when the file we locked was removed or replaced by its holder
     * meanwhile: the lock is on the file the path names now. */
    for (int attempt = 0; attempt < 8; attempt++) {
        int fd = open(lock->path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
        if (fd < 0) {
            snprintf(err, err_size, "cannot create the lock %s: %s", lock->path, strerror(errno));
            return -1;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int e = errno;
            close(fd);
            if (e == EWOULDBLOCK)
                snprintf(err, err_size,
                         "another run is writing to it (it holds %s); refusing to run into "
                         "the same folder at the same time",
                         lock->path);
            else
                snprintf(err, err_size, "cannot lock %s: %s", lock->path, strerror(e));
            return -1;
        }
        struct stat held, now;
        if (fstat(fd, &held) == 0 && stat(lock->path, &now) == 0 && held.st_ino == now.st_ino &&
            held.st_dev == now.st_dev) {
            lock->fd = fd;
            return 0;
        }
        close(fd);
    }
    snprintf(err, err_size, "cannot lock %s: it keeps being replaced", lock->path);
    return -1;
}

void outdir_unlock(outdir_lock_t *lock)
{
    if (lock->fd < 0)
        return;
    unlink(lock->path); /* while held, so nobody locks a file that is gone */
    close(lock->fd);
    lock->fd = -1;
}

int outdir_remove_stale(const char *dir)
{
    char parent[OUTDIR_PATH_MAX + 1];
    snprintf(parent, sizeof parent, "%s", dir);
    size_t n = strlen(parent);
    while (n > 1 && parent[n - 1] == '/')
        parent[--n] = '\0';
    const char *base = parent;
    char *slash = strrchr(parent, '/');
    if (slash) {
        *slash = '\0';
        base = slash + 1;
    }
    DIR *d = opendir(slash ? (parent[0] ? parent : "/") : ".");
    if (!d)
        return 0;
    int removed = 0;
    struct dirent *e;
    size_t blen = strlen(base);
    while ((e = readdir(d)) != NULL) {
        const char *tail = e->d_name + blen;
        if (strncmp(e->d_name, base, blen) != 0)
            continue;
        if (strncmp(tail, ".partial-", 9) == 0)
            tail += 9;
        else if (strncmp(tail, ".old-", 5) == 0)
            tail += 5;
        else
            continue;
        char *end = NULL;
        errno = 0;
        long pid = strtol(tail, &end, 10);
        if (errno || !end || *end || end == tail || pid <= 0 || pid == getpid())
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; /* its run is alive (or we may not tell): leave it */
        char path[2 * OUTDIR_PATH_MAX + 64];
        snprintf(path, sizeof path, "%s/%s", slash ? (parent[0] ? parent : "") : ".", e->d_name);
        if (outdir_is_run(path) && folder_remove(path) == 0)
            removed++;
    }
    closedir(d);
    return removed;
}

int outdir_replace(const char *partial, const char *dir, char *err, size_t err_size)
{
    char aside[OUTDIR_PATH_MAX + 32] = "";
    if (outdir_is_run(dir)) {
        snprintf(aside, sizeof aside, "%s.old-%ld", dir, (long)getpid());
        if (rename(dir, aside) != 0) {
            snprintf(err, err_size, "cannot move the previous run folder %s aside: %s", dir,
                     strerror(errno));
            return -1;
        }
    } else {
        rmdir(dir); /* an empty folder, or nothing */
    }
    if (rename(partial, dir) != 0) {
        int e = errno;
        if (aside[0])
            rename(aside, dir);
        snprintf(err, err_size, "cannot rename %s to %s: %s", partial, dir, strerror(e));
        return -1;
    }
    if (aside[0] && folder_remove(aside) != 0) {
        snprintf(err, err_size, "the previous run folder, moved to %s, could not be removed: %s",
                 aside, strerror(errno));
        return 1;
    }
    return 0;
}
