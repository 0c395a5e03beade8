/* The one parser of numbers and booleans from text (scenario values,
 * command-line flags, agent options, CSV fields): the whole string must
 * be the value, nothing before or after it. Each returns 0, ERR_ESYNTAX
 * (not a value of that kind) or ERR_ERANGE (outside [lo, hi] or the
 * type's range), and leaves *out unchanged on error; the caller names
 * the file, line, key or flag in its message.
 *
 *     int64_t n;
 *     if (parse_int64(text, 1, 1000, &n) != 0) ... "expected an integer in [1, 1000]" */
#ifndef RECARENA_CORE_PARSE_H
#define RECARENA_CORE_PARSE_H

#include <stdbool.h>
#include <stdint.h>

/* Decimal integer, optional sign, in [lo, hi]. */
int parse_int64(const char *text, int64_t lo, int64_t hi, int64_t *out);

/* Same, into an int. */
int parse_int(const char *text, int lo, int hi, int *out);

/* Decimal digits only (no sign: "-1" is a syntax error, not 2^64 - 1), at
 * most hi. */
int parse_uint64(const char *text, uint64_t hi, uint64_t *out);

/* A finite number (strtod syntax) in [lo, hi]. Underflow towards 0 is
 * accepted; "inf", "nan" and overflow are ERR_ERANGE. */
int parse_double(const char *text, double lo, double hi, double *out);

/* The one boolean table: true/yes/on/1 and false/no/off/0, any case. */
int parse_bool(const char *text, bool *out);

/* How parse_bool's words read in an error message. */
#define PARSE_BOOL_WORDS "true or false (or yes/no, on/off, 1/0)"

#endif
