/* Principal component analysis and k-means for catalog embeddings
 * (catalog_file.h): PCA reduces a language model's vectors to the
 * world's dimension, k-means gives topics to items that have none. Both
 * are deterministic: PCA's components have a fixed sign, k-means is
 * seeded from a PCG32 stream. */
#ifndef RECARENA_PCA_H
#define RECARENA_PCA_H

#include "core/pcg32.h"

#include <stdint.h>

/* Projects x: (n, d) onto its k leading principal components:
 * out: (n, k) = (x - mean) components^T. components: (k, d) unit rows
 * or NULL; variance: (k) or NULL, the variance along each component
 * (divided by n - 1), largest first. Each component's sign is fixed so
 * that its entry of largest magnitude (the first such, on a tie) is
 * positive. The covariance's eigenvectors come from LAPACK's ssyevd
 * (OpenBLAS). Needs n >= 2 and 1 <= k <= d. Returns 0, ERR_EINVAL for
 * bad sizes, ERR_ENOMEM, or ERR_ERANGE when LAPACK fails to converge. */
int pca_project(const float *x, int n, int d, int k, float *out, float *components,
                float *variance);

/* Lloyd's k-means on x: (n, d), k clusters, seeded by k-means++ with
 * rng. assign: (n) cluster of each row; centres: (k, d) or NULL.
 * Iterates until no row changes cluster or max_iter rounds. A cluster
 * left empty keeps its centre. Needs 1 <= k <= n. Returns the rounds
 * run (>= 1), ERR_EINVAL or ERR_ENOMEM. */
int pca_kmeans(const float *x, int n, int d, int k, pcg32_t *rng, int max_iter, int32_t *assign,
               float *centres);

#endif
