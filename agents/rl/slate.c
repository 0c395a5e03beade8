/* Scoring, top-k selection and slate summaries over a catalog view
 * (slate.h). */
#include "agents/rl/slate.h"

#include <math.h>
#include <string.h>

#include <cblas.h>

void slate_scores(const proto_items_t *items, const float *query, float *scores)
{
    if (items->n == 0)
        return;
    cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)items->n, (int)items->dim, 1.0f,
                items->embeddings, (int)items->dim, query, 1, 0.0f, scores, 1);
}

/* Inserts row into the best-first list rows (len entries, at most k) when
 * it beats the last; a strictly higher score is needed to move ahead, so
 * earlier rows win ties. */
static void s_insert(const float *scores, int *rows, uint32_t *len, uint32_t k, int row)
{
    uint32_t at = *len;
    if (at == k) {
        if (!(scores[row] > scores[rows[k - 1]]))
            return;
        at = k - 1;
    } else {
        (*len)++;
    }
    while (at > 0 && scores[row] > scores[rows[at - 1]]) {
        rows[at] = rows[at - 1];
        at--;
    }
    rows[at] = row;
}

int slate_top_k(const proto_items_t *items, const float *scores, int32_t topic, uint32_t k,
                int32_t *slate)
{
    if (k < 1 || k > PROTO_MAX_SLATE || items->n < k)
        return -1;
    int rows[PROTO_MAX_SLATE];
    uint32_t len = 0;
    if (topic >= 0)
        for (uint32_t i = 0; i < items->n; i++)
            if (items->topics[i] == topic)
                s_insert(scores, rows, &len, k, (int)i);
    if (len < k) {
        int rest[PROTO_MAX_SLATE];
        uint32_t rest_len = 0, need = k - len;
        for (uint32_t i = 0; i < items->n; i++)
            if (topic < 0 || items->topics[i] != topic)
                s_insert(scores, rest, &rest_len, need, (int)i);
        memcpy(rows + len, rest, rest_len * sizeof *rest);
        len += rest_len;
    }
    for (uint32_t i = 0; i < k; i++)
        slate[i] = items->ids[rows[i]];
    return 0;
}

int slate_item_row(const proto_items_t *items, int32_t id)
{
    uint32_t lo = 0, hi = items->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (items->ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < items->n && items->ids[lo] == id ? (int)lo : -1;
}

void slate_mean_embedding(const proto_items_t *items, const int32_t *slate, uint32_t k, float *mean)
{
    uint32_t dim = items->dim, found = 0;
    memset(mean, 0, dim * sizeof *mean);
    for (uint32_t i = 0; i < k; i++) {
        int row = slate_item_row(items, slate[i]);
        if (row < 0)
            continue;
        const float *e = items->embeddings + (size_t)row * dim;
        for (uint32_t d = 0; d < dim; d++)
            mean[d] += e[d];
        found++;
    }
    if (found > 0)
        for (uint32_t d = 0; d < dim; d++)
            mean[d] /= (float)found;
}

void slate_topic_centroids(const proto_items_t *items, uint32_t n_topics, float *centroids)
{
    uint32_t dim = items->dim;
    memset(centroids, 0, (size_t)n_topics * dim * sizeof *centroids);
    for (uint32_t i = 0; i < items->n; i++) {
        int32_t t = items->topics[i];
        if (t < 0 || (uint32_t)t >= n_topics)
            continue;
        const float *e = items->embeddings + (size_t)i * dim;
        float *c = centroids + (size_t)t * dim;
        for (uint32_t d = 0; d < dim; d++)
            c[d] += e[d];
    }
    for (uint32_t t = 0; t < n_topics; t++) {
        float *c = centroids + (size_t)t * dim;
        double norm = 0.0;
        for (uint32_t d = 0; d < dim; d++)
            norm += (double)c[d] * c[d];
        if (norm > 0.0)
            for (uint32_t d = 0; d < dim; d++)
                c[d] = (float)(c[d] / sqrt(norm));
    }
}
