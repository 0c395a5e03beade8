/* Diversity-aware re-ranking of a bandit's candidates: maximal marginal
 * relevance (MMR, Carbonell and Goldstein 1998) and the greedy MAP of a
 * determinantal point process (DPP, Chen, Zhang and Zhou, NeurIPS 2018,
 * "Fast Greedy MAP Inference for Determinantal Point Process to Improve
 * Recommendation Diversity", their Algorithm 1 with its incremental
 * Cholesky factor). Both pick k of n candidates, one at a time, trading
 * the candidates' relevance against their similarity to what is already
 * picked; docs/agents.md has the formulas and a study on the world.
 *
 * Similarity is s_ij = (1 + cos(e_i, e_j)) / 2 in [0, 1] on the items'
 * public embeddings (Chen et al.'s kernel; s_ii = 1), a positive
 * semi-definite matrix, so that the DPP is well defined and opposite
 * embeddings count as the most diverse pair. Only the rows of the picks
 * are computed (k of n), so a slate costs about k n dim multiply-adds. Relevance is the bandit's
 * index rescaled to [0, 1] over the candidates (rerank_normalize), so the
 * trade-off parameter means the same for every algorithm.
 *
 * Plain functions with no networking (tests/unit/test_rerank.c), used by
 * the bandits (bandit.h, params.rerank). Numbers are double; deterministic
 * (ties go to the lower candidate index, the better-ranked one). */
#ifndef RECARENA_RERANK_H
#define RECARENA_RERANK_H

#include <stdint.h>

#define RERANK_MAX_POOL 1024 /* most candidates one call re-ranks */

typedef enum rerank_method {
    RERANK_NONE = 0, /* the top k by relevance, unchanged */
    RERANK_MMR = 1,
    RERANK_DPP = 2,
} rerank_method_t;

/* "none", "mmr" or "dpp"; 0 or ERR_EINVAL (*method unchanged). */
int rerank_method_parse(const char *name, rerank_method_t *method);
const char *rerank_method_name(rerank_method_t method);

/* sim (n, n) = (1 + cos(e_i, e_j)) / 2 for embeddings (n, dim), with 1 on
 * the diagonal; a zero embedding has cosine 0 with every other. */
void rerank_similarity(uint32_t n, uint32_t dim, const float *embeddings, double *sim);

/* relevance (n) = (score - min) / (max - min) over the finite scores (1
 * when they are all equal); +inf (an untried arm's UCB1 index) is 1,
 * -inf and NaN are 0. */
void rerank_normalize(uint32_t n, const double *scores, double *relevance);

/* MMR: k times, the candidate i not yet picked maximising
 *     lambda relevance_i - (1 - lambda) max_{j picked} sim_ij
 * (the first pick is the most relevant). lambda in [0, 1]; 1 = the top k
 * by relevance. relevance (n), sim (n, n), order (k) candidate indices,
 * picked first to last; k <= n. */
void rerank_mmr(uint32_t n, const double *relevance, const double *sim, double lambda, uint32_t k,
                uint32_t *order);

/* DPP greedy MAP with kernel L = Diag(q) S Diag(q), q_i = exp(a
 * relevance_i), a = theta / (2 (1 - theta)): k times, the candidate with
 * the largest marginal gain d_i^2 = det(L_{Y+i}) / det(L_Y), kept by the
 * incremental Cholesky update of Chen et al., so that log det L_Y =
 * theta / (1 - theta) sum relevance + log det S_Y. theta in [0, 1]: 1 =
 * the top k by relevance, 0 = the most diverse set. When every gain left
 * is below 1e-10 (the rest lie in the span of the picks) the remaining
 * slots take the most relevant candidates left. sim's diagonal is taken
 * as 1. scratch: (k + 1) n doubles. */
void rerank_dpp(uint32_t n, const double *relevance, const double *sim, double theta, uint32_t k,
                uint32_t *order, double *scratch);

/* A re-ranker with its scratch for up to max_n candidates of dimension
 * dim (max_n <= RERANK_MAX_POOL). Caller owns the result
 * (rerank_destroy); NULL on a bad argument or out of memory. */
typedef struct rerank rerank_t;
rerank_t *rerank_new(rerank_method_t method, double lambda, uint32_t max_n, uint32_t dim);
void rerank_destroy(rerank_t **self_p);

/* Picks k of n <= max_n candidates with raw scores (n) and embeddings (n,
 * dim): normalises, computes the similarities, runs the method. order:
 * (k) candidate indices. 0, or ERR_EINVAL (k > n or n > max_n). */
int rerank_slate(rerank_t *r, uint32_t n, const double *scores, const float *embeddings, uint32_t k,
                 uint32_t *order);

#endif
