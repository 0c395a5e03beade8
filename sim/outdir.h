/* The run folder's safety rules: which folders a run may replace, the
 * lock that keeps two runs out of one folder, and the clean-up of what
 * a killed run left behind. recarena deletes nothing it did not write:
 * a run folder carries a marker file (OUTDIR_MARKER, holding the format
 * version), and only a folder with that marker is ever replaced. */
#ifndef RECARENA_OUTDIR_H
#define RECARENA_OUTDIR_H

#include <stdbool.h>
#include <stddef.h>

#define OUTDIR_MARKER ".recarena-run"
#define OUTDIR_FORMAT 1
/* The longest run folder path accepted, in bytes: what the run writes
 * below it (DIR.partial-PID/agent-NAME.log) must still fit the 1,200-byte
 * path buffers of run.c and the launcher. */
#define OUTDIR_PATH_MAX 900

/* 0 when dir may become a run folder: it does not exist, is an empty
 * folder, or is a run folder (holds the marker); otherwise -1 and a
 * sentence saying why into err (a path too long, a file, a folder of
 * someone else's). */
int outdir_check(const char *dir, char *err, size_t err_size);

/* True when dir holds OUTDIR_MARKER: recarena wrote it. */
bool outdir_is_run(const char *dir);

/* Writes OUTDIR_MARKER into dir (a new partial folder). 0, or -1 and the
 * file and reason into err. */
int outdir_write_marker(const char *dir, char *err, size_t err_size);

/* An exclusive lock on a run folder: flock on DIR.lock beside it, made if
 * missing, removed by outdir_unlock. */
typedef struct outdir_lock {
    int fd; /* -1: not held */
    char path[OUTDIR_PATH_MAX + 16];
} outdir_lock_t;

/* Takes the lock for dir (whose parent folder exists), never waiting:
 * 0, or -1 with the reason in err (another run holds it: the second of
 * two runs into one folder refuses). */
int outdir_lock(outdir_lock_t *lock, const char *dir, char *err, size_t err_size);

/* Releases and removes the lock file; a lock not held is a no-op. */
void outdir_unlock(outdir_lock_t *lock);

/* Removes DIR.partial-PID and DIR.old-PID folders a killed run left
 * (outdir_replace names the second): only those holding
 * the marker whose process PID no longer exists (call with the lock
 * held). Returns how many were removed. */
int outdir_remove_stale(const char *dir);

/* Moves the finished partial folder to dir. A run folder already there is
 * renamed aside first and removed only once the new one is in place, so a
 * removal that fails loses nothing new. 0; 1 when the new folder is in
 * place but the old one could not be removed (a warning in err); -1 and
 * the reason in err. */
int outdir_replace(const char *partial, const char *dir, char *err, size_t err_size);

#endif
