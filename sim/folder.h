/* Removing a folder and everything in it: the one way recarena deletes a
 * tree (a failed run's partial folder, a replaced run folder, the private
 * ipc directories of sessions, benchmarks and the checker). */
#ifndef RECARENA_FOLDER_H
#define RECARENA_FOLDER_H

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

#endif
