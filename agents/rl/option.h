/* Command-line values of the learning agents (checked numbers in a
 * range, the reward choice) and the checkpoint file names built from
 * them. Each parser returns 0 and writes *out, or -1 (out untouched) for
 * a value that is not a whole number of its type or lies outside
 * [lo, hi]; the SDK then reports the option. */
#ifndef RECARENA_OPTION_H
#define RECARENA_OPTION_H

#include <stdbool.h>
#include <stddef.h>

int option_float(const char *value, double lo, double hi, float *out);
int option_int(const char *value, long lo, long hi, int *out);
int option_size(const char *value, size_t lo, size_t hi, size_t *out);
int option_bool(const char *value, bool *out); /* 0/1, true/false, yes/no, on/off */

/* --reward: "team" (true) or "own" (false). */
int option_reward(const char *value, bool *team);

/* path = DIR/NAME-WHAT.bin into buf (len bytes). Returns 0, or -1 when it
 * does not fit. */
int option_checkpoint_path(char *buf, size_t len, const char *dir, const char *name,
                           const char *what);

#endif
