/* MMR and DPP re-ranking (rerank.h). */
#include "agents/bandit/rerank.h"

#include "core/err.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define S_MIN_GAIN 1e-10 /* DPP: a gain below this adds nothing the picks do not span */

struct rerank {
    rerank_method_t method;
    double lambda;
    uint32_t max_n, dim;
    double *relevance; /* (max_n) */
    double *sim;       /* (max_n, max_n): rows filled on demand */
    double *unit;      /* (max_n, dim): the candidates' unit embeddings */
    uint8_t *ready;    /* (max_n): sim row computed */
    double *scratch;   /* (max_n + 1, max_n): DPP's Cholesky rows and gains */
};

static const char *const s_names[] = {"none", "mmr", "dpp"};

int rerank_method_parse(const char *name, rerank_method_t *method)
{
    for (int i = 0; i < 3; i++) {
        if (strcmp(name, s_names[i]) == 0) {
            *method = (rerank_method_t)i;
            return 0;
        }
    }
    return ERR_EINVAL;
}

const char *rerank_method_name(rerank_method_t method)
{
    return (unsigned)method < 3 ? s_names[method] : "unknown";
}

void rerank_similarity(uint32_t n, uint32_t dim, const float *embeddings, double *sim)
{
    for (uint32_t i = 0; i < n; i++) {
        const float *x = embeddings + (size_t)i * dim;
        sim[(size_t)i * n + i] = 1.0;
        for (uint32_t j = i + 1; j < n; j++) {
            const float *y = embeddings + (size_t)j * dim;
            double dot = 0, xx = 0, yy = 0;
            for (uint32_t d = 0; d < dim; d++) {
                dot += (double)x[d] * y[d];
                xx += (double)x[d] * x[d];
                yy += (double)y[d] * y[d];
            }
            double cos = xx > 0 && yy > 0 ? dot / sqrt(xx * yy) : 0.0;
            sim[(size_t)i * n + j] = sim[(size_t)j * n + i] = (1.0 + cos) / 2.0;
        }
    }
}

void rerank_normalize(uint32_t n, const double *scores, double *relevance)
{
    double lo = INFINITY, hi = -INFINITY;
    for (uint32_t i = 0; i < n; i++) {
        if (isfinite(scores[i])) {
            lo = scores[i] < lo ? scores[i] : lo;
            hi = scores[i] > hi ? scores[i] : hi;
        }
    }
    for (uint32_t i = 0; i < n; i++) {
        double s = scores[i];
        if (isnan(s) || s == -INFINITY)
            relevance[i] = 0.0;
        else if (s == INFINITY || !(hi > lo))
            relevance[i] = 1.0;
        else
            relevance[i] = (s - lo) / (hi - lo);
    }
}

/* Whether candidate i is among the first m of order. */
static bool s_picked(const uint32_t *order, uint32_t m, uint32_t i)
{
    for (uint32_t j = 0; j < m; j++)
        if (order[j] == i)
            return true;
    return false;
}

/* The most relevant candidate not among the first m of order. */
static uint32_t s_most_relevant_left(uint32_t n, const double *relevance, const uint32_t *order,
                                     uint32_t m)
{
    uint32_t best = UINT32_MAX;
    for (uint32_t i = 0; i < n; i++)
        if (!s_picked(order, m, i) && (best == UINT32_MAX || relevance[i] > relevance[best]))
            best = i;
    return best;
}

/* The similarity rows the greedy steps read: those of the picks only, so
 * that a slate of k from n candidates needs k rows, not n. Either a
 * complete matrix (full) or rows computed on demand from unit embeddings
 * into lazy. */
typedef struct sim_rows {
    uint32_t n, dim;
    const double *full; /* (n, n), or NULL */
    double *lazy;       /* (n, n): row j valid once ready[j] */
    const double *unit; /* (n, dim) */
    uint8_t *ready;     /* (n) */
} sim_rows_t;

static const double *s_row(sim_rows_t *rows, uint32_t j)
{
    size_t n = rows->n;
    if (rows->full)
        return rows->full + j * n;
    double *row = rows->lazy + j * n;
    if (!rows->ready[j]) {
        const double *u = rows->unit + (size_t)j * rows->dim;
        for (uint32_t i = 0; i < n; i++) {
            const double *v = rows->unit + (size_t)i * rows->dim;
            double dot = 0;
            for (uint32_t d = 0; d < rows->dim; d++)
                dot += u[d] * v[d];
            row[i] = i == j ? 1.0 : (1.0 + dot) / 2.0;
        }
        rows->ready[j] = 1;
    }
    return row;
}

static void s_mmr(uint32_t n, const double *relevance, sim_rows_t *rows, double lambda, uint32_t k,
                  uint32_t *order)
{
    const double *picked_rows[RERANK_MAX_POOL];
    for (uint32_t m = 0; m < k; m++) {
        uint32_t best = UINT32_MAX;
        double best_value = -INFINITY;
        for (uint32_t i = 0; i < n; i++) {
            if (s_picked(order, m, i))
                continue;
            double redundancy = 0;
            for (uint32_t j = 0; j < m; j++) {
                double s = picked_rows[j][i];
                redundancy = s > redundancy ? s : redundancy;
            }
            /* the first pick is the most relevant, whatever lambda */
            double value =
                m == 0 ? relevance[i] : lambda * relevance[i] - (1.0 - lambda) * redundancy;
            if (best == UINT32_MAX || value > best_value) {
                best = i;
                best_value = value;
            }
        }
        order[m] = best;
        if (m + 1 < k)
            picked_rows[m] = s_row(rows, best);
    }
}

void rerank_mmr(uint32_t n, const double *relevance, const double *sim, double lambda, uint32_t k,
                uint32_t *order)
{
    sim_rows_t rows = {.n = n, .full = sim};
    s_mmr(n, relevance, &rows, lambda, k, order);
}

static void s_dpp(uint32_t n, const double *relevance, sim_rows_t *rows, double theta, uint32_t k,
                  uint32_t *order, double *scratch)
{
    if (theta >= 1.0) { /* a = infinity: relevance alone */
        for (uint32_t m = 0; m < k; m++)
            order[m] = s_most_relevant_left(n, relevance, order, m);
        return;
    }
    double a = theta / (2.0 * (1.0 - theta));
    double *gain = scratch;  /* (n): d_i^2 */
    double *c = scratch + n; /* (k, n): row m holds e_i of the m-th pick */
    for (uint32_t i = 0; i < n; i++)
        gain[i] = exp(2.0 * a * relevance[i]); /* L_ii, with s_ii = 1 */
    for (uint32_t m = 0; m < k; m++) {
        uint32_t j = UINT32_MAX;
        for (uint32_t i = 0; i < n; i++)
            if (!s_picked(order, m, i) && (j == UINT32_MAX || gain[i] > gain[j]))
                j = i;
        if (!(gain[j] >= S_MIN_GAIN)) { /* nothing new left: fill by relevance */
            for (; m < k; m++)
                order[m] = s_most_relevant_left(n, relevance, order, m);
            return;
        }
        order[m] = j;
        if (m + 1 == k)
            return;
        /* e_i = (L_ji - <c_j, c_i>) / d_j;  c_i gets e_i;  d_i^2 -= e_i^2 */
        double d_j = sqrt(gain[j]), q_j = exp(a * relevance[j]);
        const double *sim_j = s_row(rows, j);
        double *e = c + (size_t)m * n;
        for (uint32_t i = 0; i < n; i++) {
            if (s_picked(order, m + 1, i)) {
                e[i] = 0;
                continue;
            }
            double l_ji = q_j * sim_j[i] * exp(a * relevance[i]), dot = 0;
            for (uint32_t p = 0; p < m; p++)
                dot += c[(size_t)p * n + j] * c[(size_t)p * n + i];
            e[i] = (l_ji - dot) / d_j;
            gain[i] -= e[i] * e[i];
        }
    }
}

void rerank_dpp(uint32_t n, const double *relevance, const double *sim, double theta, uint32_t k,
                uint32_t *order, double *scratch)
{
    sim_rows_t rows = {.n = n, .full = sim};
    s_dpp(n, relevance, &rows, theta, k, order, scratch);
}

rerank_t *rerank_new(rerank_method_t method, double lambda, uint32_t max_n, uint32_t dim)
{
    if ((unsigned)method > RERANK_DPP || !(lambda >= 0 && lambda <= 1) || max_n < 1 ||
        max_n > RERANK_MAX_POOL || dim < 1)
        return NULL;
    rerank_t *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    *r = (rerank_t){.method = method, .lambda = lambda, .max_n = max_n, .dim = dim};
    r->relevance = malloc(max_n * sizeof *r->relevance);
    r->sim = malloc((size_t)max_n * max_n * sizeof *r->sim);
    r->scratch = malloc((size_t)(max_n + 1) * max_n * sizeof *r->scratch);
    r->unit = malloc((size_t)max_n * dim * sizeof *r->unit);
    r->ready = malloc(max_n);
    if (!r->relevance || !r->sim || !r->scratch || !r->unit || !r->ready)
        rerank_destroy(&r);
    return r;
}

void rerank_destroy(rerank_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    rerank_t *r = *self_p;
    free(r->relevance);
    free(r->sim);
    free(r->scratch);
    free(r->unit);
    free(r->ready);
    free(r);
    *self_p = NULL;
}

int rerank_slate(rerank_t *r, uint32_t n, const double *scores, const float *embeddings, uint32_t k,
                 uint32_t *order)
{
    if (k > n || n > r->max_n)
        return ERR_EINVAL;
    rerank_normalize(n, scores, r->relevance);
    if (r->method == RERANK_NONE) {
        for (uint32_t m = 0; m < k; m++)
            order[m] = s_most_relevant_left(n, r->relevance, order, m);
        return 0;
    }
    for (uint32_t i = 0; i < n; i++) { /* unit embeddings; a zero one stays zero */
        const float *e = embeddings + (size_t)i * r->dim;
        double *u = r->unit + (size_t)i * r->dim, norm = 0;
        for (uint32_t d = 0; d < r->dim; d++)
            norm += (double)e[d] * e[d];
        norm = norm > 0 ? 1.0 / sqrt(norm) : 0.0;
        for (uint32_t d = 0; d < r->dim; d++)
            u[d] = e[d] * norm;
    }
    memset(r->ready, 0, n);
    sim_rows_t rows = {.n = n, .dim = r->dim, .lazy = r->sim, .unit = r->unit, .ready = r->ready};
    if (r->method == RERANK_MMR)
        s_mmr(n, r->relevance, &rows, r->lambda, k, order);
    else
        s_dpp(n, r->relevance, &rows, r->lambda, k, order, r->scratch);
    return 0;
}
