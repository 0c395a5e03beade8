/* PCA through the covariance matrix's eigenvectors (LAPACK ssyevd from
 * OpenBLAS) and k-means++/Lloyd (pca.h). Sums are in double and in a
 * fixed order, so results do not depend on threads. */
#include "sim/pca.h"

#include "core/err.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* LAPACK's symmetric eigensolver, Fortran calling convention (OpenBLAS
 * exports it; Debian ships no LAPACKE header with it). The trailing
 * size_t are the hidden lengths of the two character arguments. */
extern void ssyevd_(const char *jobz, const char *uplo, const int *n, float *a, const int *lda,
                    float *w, float *work, const int *lwork, int *iwork, const int *liwork,
                    int *info, size_t jobz_len, size_t uplo_len);

int pca_project(const float *x, int n, int d, int k, float *out, float *components, float *variance)
{
    if (!x || !out || n < 2 || d < 1 || k < 1 || k > d)
        return ERR_EINVAL;
    int rc = 0;
    double *mean = calloc((size_t)d, sizeof *mean);
    double *cov = calloc((size_t)d * (size_t)d, sizeof *cov);
    float *a = malloc((size_t)d * (size_t)d * sizeof *a);
    float *eig = malloc((size_t)d * sizeof *eig);
    float *comp = malloc((size_t)k * (size_t)d * sizeof *comp);
    double *row = malloc((size_t)d * sizeof *row);
    float *work = NULL;
    int *iwork = NULL;
    if (!mean || !cov || !a || !eig || !comp || !row) {
        rc = ERR_ENOMEM;
        goto done;
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < d; j++)
            mean[j] += x[(size_t)i * d + j];
    for (int j = 0; j < d; j++)
        mean[j] /= n;
    for (int i = 0; i < n; i++) { /* upper triangle of sum (x - mean)(x - mean)^T */
        for (int j = 0; j < d; j++)
            row[j] = x[(size_t)i * d + j] - mean[j];
        for (int r = 0; r < d; r++)
            for (int c = r; c < d; c++)
                cov[(size_t)r * d + c] += row[r] * row[c];
    }
    /* Column-major for LAPACK: a[c * d + r] holds cov(r, c), r <= c ("U"). */
    for (int r = 0; r < d; r++)
        for (int c = 0; c < d; c++)
            a[(size_t)c * d + r] = (float)(r <= c ? cov[(size_t)r * d + c] / (n - 1) : 0.0);

    int lwork = -1, liwork = -1, info = 0;
    float work_size;
    int iwork_size;
    ssyevd_("V", "U", &d, a, &d, eig, &work_size, &lwork, &iwork_size, &liwork, &info, 1, 1);
    if (info != 0) {
        rc = ERR_ERANGE;
        goto done;
    }
    lwork = (int)work_size + 1;
    liwork = iwork_size;
    work = malloc((size_t)lwork * sizeof *work);
    iwork = malloc((size_t)liwork * sizeof *iwork);
    if (!work || !iwork) {
        rc = ERR_ENOMEM;
        goto done;
    }
    ssyevd_("V", "U", &d, a, &d, eig, work, &lwork, iwork, &liwork, &info, 1, 1);
    if (info != 0) {
        rc = ERR_ERANGE;
        goto done;
    }
    /* Eigenvalues ascend: component c is eigenvector d - 1 - c (column). */
    for (int c = 0; c < k; c++) {
        const float *v = &a[(size_t)(d - 1 - c) * d];
        int big = 0;
        for (int j = 1; j < d; j++)
            if (fabsf(v[j]) > fabsf(v[big]))
                big = j;
        float sign = v[big] < 0.0f ? -1.0f : 1.0f;
        for (int j = 0; j < d; j++)
            comp[(size_t)c * d + j] = sign * v[j];
        if (variance)
            variance[c] = eig[d - 1 - c] > 0.0f ? eig[d - 1 - c] : 0.0f;
    }
    for (int i = 0; i < n; i++)
        for (int c = 0; c < k; c++) {
            double s = 0.0;
            for (int j = 0; j < d; j++)
                s += (x[(size_t)i * d + j] - mean[j]) * comp[(size_t)c * d + j];
            out[(size_t)i * k + c] = (float)s;
        }
    if (components)
        memcpy(components, comp, (size_t)k * (size_t)d * sizeof *comp);
done:
    free(mean);
    free(cov);
    free(a);
    free(eig);
    free(comp);
    free(row);
    free(work);
    free(iwork);
    return rc;
}

static double s_dist2(const float *a, const float *b, int d)
{
    double s = 0.0;
    for (int j = 0; j < d; j++) {
        double t = (double)a[j] - b[j];
        s += t * t;
    }
    return s;
}

int pca_kmeans(const float *x, int n, int d, int k, pcg32_t *rng, int max_iter, int32_t *assign,
               float *centres)
{
    if (!x || !rng || !assign || n < 1 || d < 1 || k < 1 || k > n || max_iter < 1)
        return ERR_EINVAL;
    float *c = malloc((size_t)k * (size_t)d * sizeof *c);
    double *best = malloc((size_t)n * sizeof *best);
    double *sum = malloc((size_t)k * (size_t)d * sizeof *sum);
    int *count = malloc((size_t)k * sizeof *count);
    int rounds = ERR_ENOMEM;
    if (!c || !best || !sum || !count)
        goto done;

    /* k-means++: the first centre uniform, each next one with probability
     * proportional to the squared distance to the nearest centre so far. */
    int first = (int)pcg32_bounded(rng, (uint32_t)n);
    memcpy(c, &x[(size_t)first * d], (size_t)d * sizeof *c);
    for (int i = 0; i < n; i++)
        best[i] = s_dist2(&x[(size_t)i * d], c, d);
    for (int m = 1; m < k; m++) {
        double total = 0.0;
        for (int i = 0; i < n; i++)
            total += best[i];
        int pick = n - 1;
        if (total > 0.0) {
            double u = pcg32_uniform(rng) * total, acc = 0.0;
            for (int i = 0; i < n; i++) {
                acc += best[i];
                if (u < acc) {
                    pick = i;
                    break;
                }
            }
        } else {
            pick = (int)pcg32_bounded(rng, (uint32_t)n);
        }
        memcpy(&c[(size_t)m * d], &x[(size_t)pick * d], (size_t)d * sizeof *c);
        for (int i = 0; i < n; i++) {
            double t = s_dist2(&x[(size_t)i * d], &c[(size_t)m * d], d);
            if (t < best[i])
                best[i] = t;
        }
    }

    for (int i = 0; i < n; i++)
        assign[i] = -1;
    for (rounds = 1; rounds <= max_iter; rounds++) {
        int changed = 0;
        for (int i = 0; i < n; i++) {
            int arg = 0;
            double lo = DBL_MAX;
            for (int m = 0; m < k; m++) {
                double t = s_dist2(&x[(size_t)i * d], &c[(size_t)m * d], d);
                if (t < lo) {
                    lo = t;
                    arg = m;
                }
            }
            if (assign[i] != arg) {
                assign[i] = arg;
                changed++;
            }
        }
        if (!changed)
            break;
        memset(sum, 0, (size_t)k * (size_t)d * sizeof *sum);
        memset(count, 0, (size_t)k * sizeof *count);
        for (int i = 0; i < n; i++) {
            count[assign[i]]++;
            for (int j = 0; j < d; j++)
                sum[(size_t)assign[i] * d + j] += x[(size_t)i * d + j];
        }
        for (int m = 0; m < k; m++)
            if (count[m])
                for (int j = 0; j < d; j++)
                    c[(size_t)m * d + j] = (float)(sum[(size_t)m * d + j] / count[m]);
    }
    if (rounds > max_iter)
        rounds = max_iter;
    if (centres)
        memcpy(centres, c, (size_t)k * (size_t)d * sizeof *c);
done:
    free(c);
    free(best);
    free(sum);
    free(count);
    return rounds;
}
