/* Implicit-feedback ALS (mf.h). */
#include "agents/mf/mf.h"

#include "core/err.h"
#include "core/pcg32.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* LAPACK's Cholesky solve of A X = B, A symmetric positive definite, as
 * OpenBLAS exports it (Debian's libopenblas-dev ships no lapacke.h and
 * LAPACKE is not installed): column-major, info > 0 when A is not
 * positive definite. The trailing length is the Fortran hidden length of
 * uplo. */
extern void dposv_(const char *uplo, const int *n, const int *nrhs, double *a, const int *lda,
                   double *b, const int *ldb, int *info, size_t uplo_len);

void mf_params_default(mf_params_t *params)
{
    *params = (mf_params_t){.factors = 16, .reg = 0.1, .alpha = 10.0, .iterations = 5};
}

int mf_params_check(const mf_params_t *p)
{
    if (p->factors < 1 || p->factors > MF_MAX_FACTORS || !(p->reg > 0 && isfinite(p->reg)) ||
        !(p->alpha >= 0 && isfinite(p->alpha)) || p->iterations < 1)
        return ERR_EINVAL;
    return 0;
}

/* Solves a (f, f) x = b in place (b becomes x); a is overwritten. */
static int s_posv(uint32_t f, double *a, double *b)
{
    int n = (int)f, one = 1, info = 0;
    dposv_("U", &n, &one, a, &n, b, &n, &info, 1);
    return info == 0 ? 0 : ERR_EINVAL;
}

int mf_solve(const mf_matrix_t *m, const double *Y, uint32_t f, double alpha, double reg, double *X)
{
    size_t ff = (size_t)f * f;
    double *yty = malloc(ff * sizeof *yty), *a = malloc(ff * sizeof *a);
    double *b = malloc(f * sizeof *b);
    int rc = ERR_ENOMEM;
    if (!yty || !a || !b)
        goto done;
    /* Y'Y: (f, f), full (symmetric, so row- and column-major agree) */
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)f, (int)f, (int)m->n_cols, 1.0, Y,
                (int)f, Y, (int)f, 0.0, yty, (int)f);
    for (uint32_t u = 0; u < m->n_rows; u++) {
        memcpy(a, yty, ff * sizeof *a);
        for (uint32_t d = 0; d < f; d++)
            a[(size_t)d * f + d] += reg;
        memset(b, 0, f * sizeof *b);
        for (uint32_t e = m->row_start[u]; e < m->row_start[u + 1]; e++) {
            const double *y = Y + (size_t)m->cols[e] * f;
            double c = 1.0 + alpha * m->counts[e];
            /* A += (c - 1) y y';  b += c p y with p = 1 */
            cblas_dger(CblasRowMajor, (int)f, (int)f, c - 1.0, y, 1, y, 1, a, (int)f);
            cblas_daxpy((int)f, c, y, 1, b, 1);
        }
        rc = s_posv(f, a, b);
        if (rc != 0)
            goto done;
        memcpy(X + (size_t)u * f, b, f * sizeof *b);
    }
    rc = 0;
done:
    free(yty);
    free(a);
    free(b);
    return rc;
}

void mf_transpose(const mf_matrix_t *m, uint32_t *row_start, uint32_t *cols, double *counts,
                  mf_matrix_t *t)
{
    memset(row_start, 0, (m->n_cols + 1) * sizeof *row_start);
    uint32_t nnz = m->row_start[m->n_rows];
    for (uint32_t e = 0; e < nnz; e++)
        row_start[m->cols[e] + 1]++;
    for (uint32_t i = 0; i < m->n_cols; i++)
        row_start[i + 1] += row_start[i];
    /* fill in row order, so that each item's users come ascending */
    for (uint32_t u = 0; u < m->n_rows; u++) {
        for (uint32_t e = m->row_start[u]; e < m->row_start[u + 1]; e++) {
            uint32_t pos = row_start[m->cols[e]]++;
            cols[pos] = u;
            counts[pos] = m->counts[e];
        }
    }
    for (uint32_t i = m->n_cols; i > 0; i--) /* shift back the advanced starts */
        row_start[i] = row_start[i - 1];
    row_start[0] = 0;
    *t = (mf_matrix_t){m->n_cols, m->n_rows, row_start, cols, counts};
}

int mf_fit(const mf_matrix_t *m, const mf_params_t *p, uint64_t seed, double *X, double *Y)
{
    if (mf_params_check(p) != 0)
        return ERR_EINVAL;
    uint32_t f = p->factors, nnz = m->row_start[m->n_rows];
    uint32_t *t_start = malloc((m->n_cols + 1) * sizeof *t_start);
    uint32_t *t_cols = malloc((nnz ? nnz : 1) * sizeof *t_cols);
    double *t_counts = malloc((nnz ? nnz : 1) * sizeof *t_counts);
    int rc = ERR_ENOMEM;
    if (!t_start || !t_cols || !t_counts)
        goto done;
    mf_matrix_t t;
    mf_transpose(m, t_start, t_cols, t_counts, &t);
    /* small random item factors, uniform in [0, 0.1) (the user half-step
     * comes first and needs no start) */
    pcg32_t rng;
    pcg32_seed(&rng, seed, 0x6d66);
    for (size_t i = 0; i < (size_t)m->n_cols * f; i++)
        Y[i] = 0.1 * pcg32_uniform(&rng);
    for (uint32_t it = 0; it < p->iterations; it++) {
        rc = mf_solve(m, Y, f, p->alpha, p->reg, X);
        if (rc == 0)
            rc = mf_solve(&t, X, f, p->alpha, p->reg, Y);
        if (rc != 0)
            goto done;
    }
    rc = 0;
done:
    free(t_start);
    free(t_cols);
    free(t_counts);
    return rc;
}

double mf_loss(const mf_matrix_t *m, const double *X, const double *Y, uint32_t f, double alpha,
               double reg)
{
    double loss = 0;
    for (uint32_t u = 0; u < m->n_rows; u++) {
        for (uint32_t i = 0; i < m->n_cols; i++) {
            double r = 0;
            for (uint32_t q = m->row_start[u]; q < m->row_start[u + 1]; q++)
                if (m->cols[q] == i)
                    r = m->counts[q];
            double pred = cblas_ddot((int)f, X + (size_t)u * f, 1, Y + (size_t)i * f, 1);
            double p = r > 0 ? 1.0 : 0.0, c = 1.0 + alpha * r;
            loss += c * (p - pred) * (p - pred);
        }
    }
    double norms =
        cblas_ddot((int)(m->n_rows * f), X, 1, X, 1) + cblas_ddot((int)(m->n_cols * f), Y, 1, Y, 1);
    return loss + reg * norms;
}

int mf_fit_map(uint32_t n, uint32_t dim, const float *side, const double *factors, uint32_t f,
               double reg, double *W)
{
    if (dim < 1 || f < 1 || !(reg > 0))
        return ERR_EINVAL;
    uint32_t d = dim + 1;
    double *a = calloc((size_t)d * d, sizeof *a), *s = malloc(d * sizeof *s);
    double *b = calloc((size_t)d * f, sizeof *b); /* column-major (d, f): S~' F */
    int rc = ERR_ENOMEM;
    if (!a || !s || !b)
        goto done;
    for (uint32_t r = 0; r < n; r++) {
        for (uint32_t j = 0; j < dim; j++)
            s[j] = side[(size_t)r * dim + j];
        s[dim] = 1.0;
        cblas_dger(CblasRowMajor, (int)d, (int)d, 1.0, s, 1, s, 1, a, (int)d);
        for (uint32_t q = 0; q < f; q++)
            cblas_daxpy((int)d, factors[(size_t)r * f + q], s, 1, b + (size_t)q * d, 1);
    }
    for (uint32_t j = 0; j < d; j++)
        a[(size_t)j * d + j] += reg;
    int nn = (int)d, nrhs = (int)f, info = 0;
    dposv_("U", &nn, &nrhs, a, &nn, b, &nn, &info, 1);
    if (info != 0) {
        rc = ERR_EINVAL;
        goto done;
    }
    for (uint32_t j = 0; j < d; j++) /* W row-major (d, f) */
        for (uint32_t q = 0; q < f; q++)
            W[(size_t)j * f + q] = b[(size_t)q * d + j];
    rc = 0;
done:
    free(a);
    free(s);
    free(b);
    return rc;
}

void mf_apply_map(uint32_t dim, const float *side, const double *W, uint32_t f, double *out)
{
    for (uint32_t q = 0; q < f; q++)
        out[q] = W[(size_t)dim * f + q];
    for (uint32_t j = 0; j < dim; j++)
        cblas_daxpy((int)f, side[j], W + (size_t)j * f, 1, out, 1);
}
