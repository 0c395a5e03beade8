/* Option values as float and size_t (option.h). */
#include "agents/rl/option.h"

#include <stdint.h>

#include "core/err.h"
#include "core/parse.h"

int option_float(const char *value, double lo, double hi, float *out)
{
    double v;
    int rc = parse_double(value, lo, hi, &v);
    if (rc == 0)
        *out = (float)v;
    return rc;
}

int option_size(const char *value, size_t lo, size_t hi, size_t *out)
{
    uint64_t v;
    int rc = parse_uint64(value, hi, &v);
    if (rc == 0 && v < lo)
        rc = ERR_ERANGE;
    if (rc == 0)
        *out = (size_t)v;
    return rc;
}
