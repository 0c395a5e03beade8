/* Observation vectors and tabular states of a request (observe.h). */
#include "agents/rl/observe.h"

#include <string.h>

#include "agents/rl/slate.h"

/* Topic of a live item, or -1 (unknown id, retired, or out of range). */
static int32_t s_topic(const proto_items_t *items, int32_t id, uint32_t n_topics)
{
    if (id < 0)
        return -1;
    int row = slate_item_row(items, id);
    if (row < 0)
        return -1;
    int32_t t = items->topics[row];
    return t >= 0 && (uint32_t)t < n_topics ? t : -1;
}

uint32_t observe_dim(uint32_t dim, uint32_t n_topics)
{
    return dim + n_topics;
}

void observe_vector(const float *features, uint32_t dim, const int32_t *history,
                    uint32_t history_len, const proto_items_t *items, uint32_t n_topics, float *out)
{
    memcpy(out, features, dim * sizeof *out);
    float *share = out + dim;
    memset(share, 0, n_topics * sizeof *share);
    for (uint32_t h = 0; h < history_len; h++) {
        int32_t t = s_topic(items, history[h], n_topics);
        if (t >= 0)
            share[t] += 1.0f / (float)history_len;
    }
}

uint32_t observe_n_states(uint32_t n_topics)
{
    return n_topics * (n_topics + 1);
}

uint32_t observe_state(const float *features, uint32_t dim, const int32_t *history,
                       uint32_t history_len, const proto_items_t *items, uint32_t n_topics,
                       const float *centroids)
{
    uint32_t segment = 0;
    float best = 0.0f;
    for (uint32_t t = 0; t < n_topics; t++) {
        const float *c = centroids + (size_t)t * dim;
        float dot = 0.0f;
        for (uint32_t d = 0; d < dim; d++)
            dot += features[d] * c[d];
        if (t == 0 || dot > best) {
            best = dot;
            segment = t;
        }
    }
    int32_t last = history_len > 0 ? s_topic(items, history[0], n_topics) : -1;
    return segment * (n_topics + 1) + (last >= 0 ? (uint32_t)last : n_topics);
}
