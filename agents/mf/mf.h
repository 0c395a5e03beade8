/* Implicit-feedback matrix factorisation (Hu, Koren and Volinsky, ICDM
 * 2008, "Collaborative Filtering for Implicit Feedback Datasets"): user
 * factors X (users, f) and item factors Y (items, f) minimise
 *
 *     sum_{u,i} c_ui (p_ui - x_u . y_i)^2 + reg (sum |x_u|^2 + sum |y_i|^2)
 *
 * over every (user, item) pair, with p_ui = 1 if u clicked i (r_ui > 0
 * clicks) and 0 otherwise, and confidence c_ui = 1 + alpha r_ui.
 * Alternating least squares solves for X with Y fixed and back, each row
 * in closed form (their eq. 4):
 *
 *     x_u = (Y'Y + Y'(C_u - I)Y + reg I)^-1 Y' C_u p_u
 *
 * with Y'Y computed once per half-step, so a row costs f^2 per click plus
 * one f x f Cholesky solve (CBLAS and LAPACK's dposv, from OpenBLAS).
 * For users and items the fit has not seen, mf_fit_map learns a ridge
 * regression from side features (user features, item embeddings) to the
 * factors (cold start). Plain functions, no networking
 * (tests/unit/test_mf.c); agents/mf_agent.c is the agent process.
 * Numbers are double; the same inputs and seed give the same factors. */
#ifndef RECARENA_MF_H
#define RECARENA_MF_H

#include <stdint.h>

#define MF_MAX_FACTORS 256

typedef struct mf_params {
    uint32_t factors;    /* f: 1..MF_MAX_FACTORS */
    double reg;          /* ridge penalty; > 0 */
    double alpha;        /* confidence per click; >= 0 */
    uint32_t iterations; /* ALS sweeps (users then items) per fit; >= 1 */
} mf_params_t;

/* factors 16, reg 0.1, alpha 10, iterations 5. */
void mf_params_default(mf_params_t *params);

/* 0 or ERR_EINVAL. */
int mf_params_check(const mf_params_t *params);

/* Click counts r_ui > 0 as compressed rows: row u's entries are
 * cols[row_start[u] .. row_start[u + 1]) with counts alongside. Borrowed. */
typedef struct mf_matrix {
    uint32_t n_rows, n_cols;
    const uint32_t *row_start; /* (n_rows + 1) */
    const uint32_t *cols;      /* (nnz), each < n_cols */
    const double *counts;      /* (nnz), each > 0 */
} mf_matrix_t;

/* One half-step: every row factor X (n_rows, f) from the column factors Y
 * (n_cols, f), by the formula above. 0, ERR_ENOMEM or ERR_EINVAL (a
 * system LAPACK finds not positive definite: reg <= 0). */
int mf_solve(const mf_matrix_t *m, const double *Y, uint32_t f, double alpha, double reg,
             double *X);

/* The transpose of m (items as rows) into the caller's arrays:
 * row_start (n_cols + 1), cols (nnz), counts (nnz); fills *t to point at
 * them. */
void mf_transpose(const mf_matrix_t *m, uint32_t *row_start, uint32_t *cols, double *counts,
                  mf_matrix_t *t);

/* ALS from small random factors (seeded): X (n_rows, f), Y (n_cols, f).
 * 0, ERR_EINVAL (bad params) or ERR_ENOMEM. */
int mf_fit(const mf_matrix_t *m, const mf_params_t *params, uint64_t seed, double *X, double *Y);

/* The objective above, over all n_rows x n_cols pairs (for tests and
 * monitoring; cost rows x cols x f). */
double mf_loss(const mf_matrix_t *m, const double *X, const double *Y, uint32_t f, double alpha,
               double reg);

/* Cold start: W (dim + 1, f) minimising |[S, 1] W - F|^2 + reg |W|^2 for
 * side features S (n, dim) and factors F (n, f), so that a newcomer with
 * side features s gets the factor [s, 1] W (mf_apply_map). 0, ERR_EINVAL
 * or ERR_ENOMEM. */
int mf_fit_map(uint32_t n, uint32_t dim, const float *side, const double *factors, uint32_t f,
               double reg, double *W);
void mf_apply_map(uint32_t dim, const float *side, const double *W, uint32_t f, double *out);

#endif
