/* Removing a folder and everything in it: the one way recarena deletes a
 * tree (a failed run's partial folder, a replaced run folder, the private
 * ipc directories of sessions, benchmarks and the checker). */
#ifndef RECARENA_FOLDER_H
#define RECARENA_FOLDER_H

#include <stddef.h>

/* Removes path and, if it is a folder, everything below it, depth first.
 * Symbolic links are removed, never followed: a link inside the folder
 * (or path itself being a link) never reaches anything outside it.
 * A folder FOLDER_MAX_DEPTH levels below path is not entered (ERR_EIO,
 * errno ELOOP), so a tree too deep is left in place. A path
 * that does not exist is not an error. Returns 0, or ERR_EIO when
 * something could not be removed (errno tells why; whatever could be
 * removed is gone). */
#define FOLDER_MAX_DEPTH 64
int folder_remove(const char *path);

/* Private directories (a session's ipc sockets, the checker's): made in
 * /tmp as PREFIX-XXXXXX with mode 0700 and a marker file, FOLDER_PRIVATE_MARKER,
 * holding "recarena private directory, pid N". A server killed with
 * SIGKILL cannot remove its own, so first this removes every /tmp/PREFIX-*
 * folder of this user that holds the marker and whose process is gone,
 * and nothing else (no marker, a live pid, another user's: left alone).
 * path receives the new folder's name (path_len at least strlen(prefix)
 * + 12). Returns 0, or ERR_EIO with errno set (nothing is left behind). */
#define FOLDER_PRIVATE_MARKER ".recarena-private"
int folder_private_new(const char *prefix, char *path, size_t path_len);

/* The sweep alone: removes stale /tmp/PREFIX-* folders (above); returns
 * how many. */
int folder_private_sweep(const char *prefix);

#endif
