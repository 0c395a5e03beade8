/* Whole-string numbers and booleans (parse.h). */
#include "core/parse.h"

#include "core/err.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <strings.h>

int parse_int64(const char *text, int64_t lo, int64_t hi, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (end == text || *end || isspace((unsigned char)text[0]))
        return ERR_ESYNTAX;
    if (errno == ERANGE || v < lo || v > hi)
        return ERR_ERANGE;
    *out = (int64_t)v;
    return 0;
}

int parse_int(const char *text, int lo, int hi, int *out)
{
    int64_t v;
    int rc = parse_int64(text, lo, hi, &v);
    if (rc == 0)
        *out = (int)v;
    return rc;
}

int parse_uint64(const char *text, uint64_t hi, uint64_t *out)
{
    _Static_assert(sizeof(unsigned long long) == sizeof(uint64_t), "unsigned long long is 64 bits");
    if (!isdigit((unsigned char)text[0]))
        return ERR_ESYNTAX;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (*end)
        return ERR_ESYNTAX;
    if (errno == ERANGE || v > hi)
        return ERR_ERANGE;
    *out = (uint64_t)v;
    return 0;
}

int parse_double(const char *text, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end || isspace((unsigned char)text[0]))
        return ERR_ESYNTAX;
    if (!isfinite(v) || v < lo || v > hi)
        return ERR_ERANGE;
    *out = v;
    return 0;
}

int parse_bool(const char *text, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(text, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(text, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return ERR_ESYNTAX;
}
