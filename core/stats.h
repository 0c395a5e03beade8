/* Summary statistics for studies (many runs of one setting): mean,
 * sample standard deviation and a 95% confidence interval for the mean
 * from Student's t, and the same for paired differences (two settings run
 * on the same seeds).
 *
 *     stats_t s;
 *     stats_summary(values, n, &s);   // s.mean ± s.half_width is the 95% CI
 */
#ifndef RECARENA_CORE_STATS_H
#define RECARENA_CORE_STATS_H

#include <stddef.h>

typedef struct stats {
    size_t n;
    double mean;
    double sd;         /* sample standard deviation (n - 1); 0 when n < 2 */
    double half_width; /* t(0.975, n - 1) * sd / sqrt(n); NAN when n < 2 */
    double low, high;  /* mean -/+ half_width */
} stats_t;

/* The two-sided 95% quantile of Student's t with df degrees of freedom
 * (t such that P(|T| <= t) = 0.95): exact to the table's 3 decimals for
 * df <= 30, interpolated in 1/df beyond (error below 0.001); NAN for df < 1. */
double stats_t975(size_t df);

/* Summary of values (n, any n >= 0; n = 0 gives mean NAN). Summation in
 * index order, so the result is bit-identical across runs. */
void stats_summary(const double *values, size_t n, stats_t *out);

/* Summary of the paired differences a[i] - b[i], i < n. 0, or ERR_ENOMEM
 * (core/err.h) with *out unchanged. */
int stats_paired(const double *a, const double *b, size_t n, stats_t *out);

#endif
