/* Checked option values and checkpoint paths (option.h). */
#include "agents/rl/option.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int option_float(const char *value, double lo, double hi, float *out)
{
    char *end;
    errno = 0;
    double v = strtod(value, &end);
    if (end == value || *end != '\0' || errno != 0 || !isfinite(v) || v < lo || v > hi)
        return -1;
    *out = (float)v;
    return 0;
}

int option_int(const char *value, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (end == value || *end != '\0' || errno != 0 || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

int option_size(const char *value, size_t lo, size_t hi, size_t *out)
{
    char *end;
    errno = 0;
    if (value[0] == '-')
        return -1;
    unsigned long long v = strtoull(value, &end, 10);
    if (end == value || *end != '\0' || errno != 0 || v < lo || v > hi)
        return -1;
    *out = (size_t)v;
    return 0;
}

int option_bool(const char *value, bool *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(value, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(value, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

int option_reward(const char *value, bool *team)
{
    if (strcmp(value, "team") == 0)
        *team = true;
    else if (strcmp(value, "own") == 0)
        *team = false;
    else
        return -1;
    return 0;
}

int option_checkpoint_path(char *buf, size_t len, const char *dir, const char *name,
                           const char *what)
{
    int n = snprintf(buf, len, "%s/%s-%s.bin", dir, name, what);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}
