/* Command-line values of the learning agents and benchmarks in the types
 * their configurations hold (float, size_t), over the one number parser
 * (core/parse.h): same syntax, same return values (0, ERR_ESYNTAX or
 * ERR_ERANGE, *out untouched on error), for the caller or the SDK to
 * report with the option's name. ints and booleans use parse_int and
 * parse_bool directly. */
#ifndef RECARENA_OPTION_H
#define RECARENA_OPTION_H

#include <stddef.h>

/* A finite number in [lo, hi] (parse_double), stored as a float. */
int option_float(const char *value, double lo, double hi, float *out);

/* Decimal digits (parse_uint64) in [lo, hi]. */
int option_size(const char *value, size_t lo, size_t hi, size_t *out);

#endif
