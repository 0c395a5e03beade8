/* LinUCB, disjoint and shared (linucb.h).
 *
 * The quadratic form x' M x over a symmetric D x D matrix is the dot
 * product of two packed upper triangles, sum_{i <= j} c_ij M_ij x_i x_j
 * with c_ii = 1 and c_ij = 2 off the diagonal. For DISJOINT, M = A_a^-1
 * differs per arm and x per request: the arm side holds c_ij M_ij, the
 * request side x_i x_j. For SHARED, M = A^-1 is common and x = f * e is
 * the product of a request part f~ = [f, 1] and an arm part e~ = [e, 1]:
 * the request side holds c_ij M_ij f~_i f~_j and the arm side e~_i e~_j.
 * The mean theta' x is likewise (request part) . (arm part). So both
 * models score with the same two products:
 *
 *     mean (n, slots) = req_lin (n, D) . arm_lin (slots, D)'
 *     quad (n, slots) = req_quad (n, P) . arm_quad (slots, P)'    P = D (D + 1) / 2 */
#include "agents/bandit/linucb.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct linucb {
    bandit_linucb_model_t model;
    uint32_t dim, d, p; /* d = dim + 1 (the constant feature), p = d (d + 1) / 2 */
    double alpha;
    uint32_t cap;     /* slots with room in the tables below */
    double *arm_lin;  /* (cap, d): DISJOINT theta_a; SHARED e~_a */
    double *arm_quad; /* (cap, p): DISJOINT c * packed A_a^-1; SHARED packed e~ e~' */
    /* DISJOINT */
    double *ainv;   /* (cap, d, d): A_a^-1 */
    double *bvec;   /* (cap, d) */
    uint8_t *stale; /* (cap): arm_lin / arm_quad need recomputing */
    /* SHARED */
    double *shared_ainv; /* (d, d) */
    double *shared_b;    /* (d) */
    double *theta;       /* (d) */
    int theta_stale;
    /* scratch: requests */
    uint32_t scratch_rows;
    double *req_lin;  /* (scratch_rows, d) */
    double *req_quad; /* (scratch_rows, p) */
    double *quad;     /* (scratch_rows, cap) */
    double x[PROTO_MAX_DIM + 1], u[PROTO_MAX_DIM + 1];
};

static void s_identity(double *m, uint32_t d)
{
    memset(m, 0, (size_t)d * d * sizeof *m);
    for (uint32_t i = 0; i < d; i++)
        m[(size_t)i * d + i] = 1.0;
}

linucb_t *linucb_new(bandit_linucb_model_t model, uint32_t dim, double alpha)
{
    if (dim < 1 || dim > PROTO_MAX_DIM || !(alpha >= 0) ||
        (model != BANDIT_LINUCB_DISJOINT && model != BANDIT_LINUCB_SHARED))
        return NULL;
    linucb_t *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->model = model;
    l->dim = dim;
    l->d = dim + 1;
    l->p = l->d * (l->d + 1) / 2;
    l->alpha = alpha;
    if (model == BANDIT_LINUCB_SHARED) {
        l->shared_ainv = malloc((size_t)l->d * l->d * sizeof *l->shared_ainv);
        l->shared_b = calloc(l->d, sizeof *l->shared_b);
        l->theta = calloc(l->d, sizeof *l->theta);
        if (!l->shared_ainv || !l->shared_b || !l->theta) {
            linucb_destroy(&l);
            return NULL;
        }
        s_identity(l->shared_ainv, l->d);
    }
    return l;
}

void linucb_destroy(linucb_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    linucb_t *l = *self_p;
    free(l->arm_lin);
    free(l->arm_quad);
    free(l->ainv);
    free(l->bvec);
    free(l->stale);
    free(l->shared_ainv);
    free(l->shared_b);
    free(l->theta);
    free(l->req_lin);
    free(l->req_quad);
    free(l->quad);
    free(l);
    *self_p = NULL;
}

/* Grows *p to n elements of size bytes; 0 or ERR_ENOMEM (the old block kept). */
static int s_grow(void *p, size_t n, size_t size)
{
    void *q = realloc(*(void **)p, n * size);
    if (!q)
        return ERR_ENOMEM;
    *(void **)p = q;
    return 0;
}

int linucb_reserve(linucb_t *l, uint32_t n_slots)
{
    if (n_slots <= l->cap)
        return 0;
    uint32_t cap = l->cap ? l->cap : 64;
    while (cap < n_slots)
        cap *= 2;
    size_t d = l->d;
    if (s_grow(&l->arm_lin, (size_t)cap * d, sizeof(double)) ||
        s_grow(&l->arm_quad, (size_t)cap * l->p, sizeof(double)))
        return ERR_ENOMEM;
    if (l->model == BANDIT_LINUCB_DISJOINT &&
        (s_grow(&l->ainv, (size_t)cap * d * d, sizeof(double)) ||
         s_grow(&l->bvec, (size_t)cap * d, sizeof(double)) || s_grow(&l->stale, cap, 1)))
        return ERR_ENOMEM;
    /* the quad scratch is (rows, cap): it must follow cap */
    if (l->scratch_rows && s_grow(&l->quad, (size_t)l->scratch_rows * cap, sizeof(double)))
        return ERR_ENOMEM;
    /* slots never cleared still take part in the products: keep them finite */
    memset(l->arm_lin + (size_t)l->cap * d, 0, (size_t)(cap - l->cap) * d * sizeof(double));
    memset(l->arm_quad + (size_t)l->cap * l->p, 0, (size_t)(cap - l->cap) * l->p * sizeof(double));
    if (l->model == BANDIT_LINUCB_DISJOINT)
        memset(l->stale + l->cap, 0, cap - l->cap);
    l->cap = cap;
    return 0;
}

/* x~ = [v, 1] in l->x */
static void s_extend(linucb_t *l, const float *v)
{
    for (uint32_t i = 0; i < l->dim; i++)
        l->x[i] = v[i];
    l->x[l->dim] = 1.0;
}

void linucb_clear_slot(linucb_t *l, uint32_t slot, const float *embedding)
{
    size_t d = l->d;
    if (l->model == BANDIT_LINUCB_DISJOINT) {
        s_identity(l->ainv + slot * d * d, l->d);
        memset(l->bvec + slot * d, 0, d * sizeof(double));
        l->stale[slot] = 1;
        return;
    }
    s_extend(l, embedding);
    double *lin = l->arm_lin + slot * d, *quad = l->arm_quad + slot * l->p;
    for (uint32_t i = 0; i < l->d; i++) {
        lin[i] = l->x[i];
        for (uint32_t j = i; j < l->d; j++)
            *quad++ = l->x[i] * l->x[j];
    }
}

/* Sherman-Morrison: (A + x x')^-1 = A^-1 - (A^-1 x)(A^-1 x)' / (1 + x' A^-1 x),
 * A^-1 symmetric. ainv: (d, d); x: (d). */
static void s_rank_one_update(linucb_t *l, double *ainv, const double *x)
{
    uint32_t d = l->d;
    double denom = 1.0;
    for (uint32_t i = 0; i < d; i++) {
        double s = 0;
        for (uint32_t j = 0; j < d; j++)
            s += ainv[(size_t)i * d + j] * x[j];
        l->u[i] = s;
        denom += s * x[i];
    }
    for (uint32_t i = 0; i < d; i++)
        for (uint32_t j = 0; j < d; j++)
            ainv[(size_t)i * d + j] -= l->u[i] * l->u[j] / denom;
}

void linucb_update(linucb_t *l, uint32_t slot, const float *features, double reward)
{
    size_t d = l->d;
    s_extend(l, features);
    if (l->model == BANDIT_LINUCB_DISJOINT) {
        s_rank_one_update(l, l->ainv + slot * d * d, l->x);
        double *b = l->bvec + slot * d;
        for (size_t i = 0; i < d; i++)
            b[i] += reward * l->x[i];
        l->stale[slot] = 1;
        return;
    }
    const double *e = l->arm_lin + slot * d;
    for (size_t i = 0; i < d; i++)
        l->x[i] *= e[i];
    s_rank_one_update(l, l->shared_ainv, l->x);
    for (size_t i = 0; i < d; i++)
        l->shared_b[i] += reward * l->x[i];
    l->theta_stale = 1;
}

/* theta = A^-1 b. ainv: (d, d); b, theta: (d). */
static void s_solve(uint32_t d, const double *ainv, const double *b, double *theta)
{
    for (uint32_t i = 0; i < d; i++) {
        double s = 0;
        for (uint32_t j = 0; j < d; j++)
            s += ainv[(size_t)i * d + j] * b[j];
        theta[i] = s;
    }
}

/* Brings the per-slot (DISJOINT) or shared (SHARED) estimates up to date. */
static void s_refresh(linucb_t *l, uint32_t n_slots)
{
    size_t d = l->d;
    if (l->model == BANDIT_LINUCB_SHARED) {
        if (l->theta_stale)
            s_solve(l->d, l->shared_ainv, l->shared_b, l->theta);
        l->theta_stale = 0;
        return;
    }
    for (uint32_t s = 0; s < n_slots; s++) {
        if (!l->stale[s])
            continue;
        const double *ainv = l->ainv + s * d * d;
        s_solve(l->d, ainv, l->bvec + s * d, l->arm_lin + s * d);
        double *quad = l->arm_quad + s * l->p;
        for (size_t i = 0; i < d; i++)
            for (size_t j = i; j < d; j++)
                *quad++ = (i == j ? 1.0 : 2.0) * ainv[i * d + j];
        l->stale[s] = 0;
    }
}

int linucb_scores(linucb_t *l, uint32_t n, const float *features, uint32_t n_slots, double *scores)
{
    if (n == 0 || n_slots == 0)
        return 0;
    size_t d = l->d, p = l->p;
    if (n > l->scratch_rows) {
        if (s_grow(&l->req_lin, (size_t)n * d, sizeof(double)) ||
            s_grow(&l->req_quad, (size_t)n * p, sizeof(double)) ||
            s_grow(&l->quad, (size_t)n * l->cap, sizeof(double)))
            return ERR_ENOMEM;
        l->scratch_rows = n;
    }
    s_refresh(l, n_slots);
    for (uint32_t r = 0; r < n; r++) {
        s_extend(l, features + (size_t)r * l->dim);
        double *lin = l->req_lin + r * d, *quad = l->req_quad + r * p;
        for (size_t i = 0; i < d; i++) {
            if (l->model == BANDIT_LINUCB_DISJOINT) {
                lin[i] = l->x[i];
                for (size_t j = i; j < d; j++)
                    *quad++ = l->x[i] * l->x[j];
            } else {
                lin[i] = l->theta[i] * l->x[i];
                for (size_t j = i; j < d; j++)
                    *quad++ = (i == j ? 1.0 : 2.0) * l->shared_ainv[i * d + j] * l->x[i] * l->x[j];
            }
        }
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)n_slots, (int)d, 1.0,
                l->req_lin, (int)d, l->arm_lin, (int)d, 0.0, scores, (int)n_slots);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)n_slots, (int)p, 1.0,
                l->req_quad, (int)p, l->arm_quad, (int)p, 0.0, l->quad, (int)n_slots);
    for (size_t i = 0; i < (size_t)n * n_slots; i++)
        scores[i] += l->alpha * sqrt(l->quad[i] > 0 ? l->quad[i] : 0.0);
    return 0;
}
