/* What the learning agents observe of a request (docs/agents.md):
 *
 *   the observation vector (dim + n_topics floats): the user's public
 *     features, then the share of each topic among the user's recent
 *     items (history entries whose item is live, each counting
 *     1 / history_len) -- a public trace of the hidden satiation;
 *   the tabular state: (segment, last topic), the segment being the topic
 *     whose centroid (slate_topic_centroids) is nearest the features by
 *     dot product, the last topic that of the newest history item
 *     (n_topics when there is none or it is no longer live).
 *
 * Borrowed arguments only; nothing allocated. */
#ifndef RECARENA_OBSERVE_H
#define RECARENA_OBSERVE_H

#include <stdint.h>

#include "proto/codec.h"

/* Width of observe_vector's output. */
uint32_t observe_dim(uint32_t dim, uint32_t n_topics);

/* out (dim + n_topics): features (dim), then the topic shares of history
 * (history_len ids, newest first, -1 = none) over items. */
void observe_vector(const float *features, uint32_t dim, const int32_t *history,
                    uint32_t history_len, const proto_items_t *items, uint32_t n_topics,
                    float *out);

/* Number of tabular states: n_topics segments x (n_topics + 1) last topics. */
uint32_t observe_n_states(uint32_t n_topics);

/* The tabular state segment * (n_topics + 1) + last_topic, in
 * 0..observe_n_states-1. centroids: (n_topics, dim). */
uint32_t observe_state(const float *features, uint32_t dim, const int32_t *history,
                       uint32_t history_len, const proto_items_t *items, uint32_t n_topics,
                       const float *centroids);

#endif
