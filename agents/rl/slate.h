/* Slates from item scores, for the learning agents: score every live item
 * against a query vector, keep the k best (optionally those of one topic
 * first), and summarise a slate by the mean embedding of its items. The
 * items are a catalog view as the SDK keeps it (proto_items_t: ids
 * ascending, topics, embeddings), borrowed for each call; nothing is
 * allocated.
 *
 *     slate_scores(items, query, scores);           query: (dim), scores: (items->n)
 *     slate_top_k(items, scores, -1, k, slate);     slate: (k) ids, best first */
#ifndef RECARENA_SLATE_H
#define RECARENA_SLATE_H

#include <stdint.h>

#include "proto/codec.h"

/* scores (items->n) = embeddings (n, dim) . query (dim): one matrix-vector
 * product. */
void slate_scores(const proto_items_t *items, const float *query, float *scores);

/* The k items with the highest scores, best first, into slate (k ids).
 * With topic >= 0, the items of that topic come first (best first) and
 * the slate is filled up with the best of the others only when the topic
 * has fewer than k live items; topic < 0 ranks every item. Ties go to the
 * lower row (the lower id). scores: (items->n). Returns 0, or -1 when
 * there are fewer than k items or k is outside 1..PROTO_MAX_SLATE (slate
 * untouched). */
int slate_top_k(const proto_items_t *items, const float *scores, int32_t topic, uint32_t k,
                int32_t *slate);

/* Row of id in items (binary search over the ascending ids), or -1. */
int slate_item_row(const proto_items_t *items, int32_t id);

/* mean (dim) = the mean embedding of the slate's k items; ids not in
 * items are skipped, and with none left mean is all zeros. How an agent
 * describes another agent's slate as a point of the embedding space. */
void slate_mean_embedding(const proto_items_t *items, const int32_t *slate, uint32_t k,
                          float *mean);

/* centroids (n_topics, dim): the mean embedding of each topic's items,
 * scaled to unit length (left zero for a topic without items); items of
 * topics outside 0..n_topics-1 are ignored. */
void slate_topic_centroids(const proto_items_t *items, uint32_t n_topics, float *centroids);

#endif
