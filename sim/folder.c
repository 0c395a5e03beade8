/* Recursive folder removal (folder.h). Every step is relative to the
 * folder's open descriptor (openat, fstatat, unlinkat) and opens folders
 * with O_NOFOLLOW, so a link swapped in while we walk is not followed
 * either. */
#include "sim/folder.h"

#include "core/err.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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
