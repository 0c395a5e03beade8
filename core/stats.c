/* Means, standard deviations and t intervals (stats.h). */
#include "core/stats.h"

#include "core/err.h"

#include <math.h>
#include <stdlib.h>

/* t(0.975, df) for df = 1..30 (standard tables). */
static const double s_t975[30] = {
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080,  2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
};

/* Beyond the table: 40, 60, 120 and infinity, linear in 1/df between. */
static const double s_tail_df[] = {30, 40, 60, 120, INFINITY};
static const double s_tail_t[] = {2.042, 2.021, 2.000, 1.980, 1.960};

double stats_t975(size_t df)
{
    if (df < 1)
        return NAN;
    if (df <= 30)
        return s_t975[df - 1];
    double x = 1.0 / (double)df;
    for (int i = 0; i < 4; i++) {
        double x0 = 1.0 / s_tail_df[i], x1 = 1.0 / s_tail_df[i + 1]; /* 1/inf = 0 */
        if (x <= x0 && x >= x1)
            return s_tail_t[i + 1] + (s_tail_t[i] - s_tail_t[i + 1]) * (x - x1) / (x0 - x1);
    }
    return 1.960;
}

void stats_summary(const double *values, size_t n, stats_t *out)
{
    *out = (stats_t){.n = n, .mean = NAN, .half_width = NAN, .low = NAN, .high = NAN};
    if (n == 0)
        return;
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += values[i];
    double mean = sum / (double)n;
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        ss += (values[i] - mean) * (values[i] - mean);
    out->mean = mean;
    if (n < 2)
        return;
    out->sd = sqrt(ss / (double)(n - 1));
    out->half_width = stats_t975(n - 1) * out->sd / sqrt((double)n);
    out->low = mean - out->half_width;
    out->high = mean + out->half_width;
}

int stats_paired(const double *a, const double *b, size_t n, stats_t *out)
{
    double *d = malloc((n ? n : 1) * sizeof *d);
    if (!d)
        return ERR_ENOMEM;
    for (size_t i = 0; i < n; i++)
        d[i] = a[i] - b[i];
    stats_summary(d, n, out);
    free(d);
    return 0;
}
