/* Telemetry messages on the server's PUB socket (telemetry.h). */
#include "sim/telemetry.h"

#include "proto/codec.h"
#include "proto/protocol.h"
#include "proto/transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

struct telemetry {
    void *pub;
    const world_t *w;
    const char *agents[WORLD_MAX_AGENTS];
    uint32_t n_agents;
    bool quiet, reported;
    uint64_t seq; /* of the next message */
    proto_buffer_t out;
    int64_t *items;  /* (item capacity): exposure per item id */
    int64_t *topics; /* (n_topics): exposure per topic */
};

telemetry_t *telemetry_new(void *pub, const world_t *w, const char *const *agents, bool quiet)
{
    const world_config_t *cfg = world_config(w);
    size_t capacity = (size_t)world_item_capacity(w);
    telemetry_t *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->pub = pub;
    t->w = w;
    t->n_agents = (uint32_t)cfg->n_agents;
    memcpy(t->agents, agents, t->n_agents * sizeof *agents);
    t->quiet = quiet;
    proto_buffer_init(&t->out);
    t->items = malloc(capacity * sizeof *t->items);
    t->topics = malloc((size_t)cfg->n_topics * sizeof *t->topics);
    if (!t->items || !t->topics)
        telemetry_destroy(&t);
    return t;
}

void telemetry_destroy(telemetry_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    telemetry_t *t = *self_p;
    proto_buffer_fini(&t->out);
    free(t->items);
    free(t->topics);
    free(t);
    *self_p = NULL;
}

/* Encodes msg with the next seq and offers it to the PUB, which drops it
 * rather than block when a subscriber cannot take it. */
static int s_publish(telemetry_t *t, proto_msg_t *msg)
{
    char err[PROTO_ERR_LEN];
    msg->seq = t->seq++;
    int rc = proto_encode(msg, &t->out, err, sizeof err);
    if (rc != 0) {
        if (!t->quiet && !t->reported)
            fprintf(stderr, "\rrecarena: telemetry not published: %s (not reported again)\n", err);
        t->reported = true;
        return rc;
    }
    transport_send(t->pub, t->out.data, t->out.size, ZMQ_DONTWAIT);
    return 0;
}

/* Exposure so far in the episode, per item id and per topic, as of the
 * end of tick. */
static int s_publish_exposure(telemetry_t *t, int tick)
{
    const world_t *w = t->w;
    int n = world_item_count(w), n_topics = world_config(w)->n_topics;
    const uint32_t *exposure = world_exposure(w);
    memset(t->topics, 0, (size_t)n_topics * sizeof *t->topics);
    for (int32_t id = 0; id < n; id++) {
        t->items[id] = exposure[id];
        t->topics[world_item(w, id)->topic] += exposure[id];
    }
    proto_msg_t msg = {.type = PROTO_MSG_TELEMETRY_EXPOSURE};
    msg.telemetry_exposure = (proto_telemetry_exposure_t){.episode = world_episode(w),
                                                          .tick = (uint32_t)tick,
                                                          .n_items = (uint32_t)n,
                                                          .items = t->items,
                                                          .n_topics = (uint32_t)n_topics,
                                                          .topics = t->topics};
    return s_publish(t, &msg);
}

int telemetry_publish_tick(telemetry_t *t, const world_tick_stats_t *stats)
{
    const world_t *w = t->w;
    int32_t requests[WORLD_MAX_AGENTS], clicks[WORLD_MAX_AGENTS];
    for (uint32_t a = 0; a < t->n_agents; a++) {
        requests[a] = stats->agent_requests[a];
        clicks[a] = stats->agent_clicks[a];
    }
    proto_msg_t msg = {.type = PROTO_MSG_TELEMETRY_TICK};
    msg.telemetry_tick = (proto_telemetry_tick_t){
        .episode = world_episode(w),
        .tick = (uint32_t)stats->tick,
        .active_users = (uint32_t)stats->active_users,
        .requests = (uint32_t)stats->requests,
        .clicks = (uint32_t)stats->clicks,
        .welfare = stats->welfare,
        .ild = stats->ild,
        .gini = stats->gini,
        .coverage = stats->coverage,
        .entropy = stats->entropy,
        .n_agents = t->n_agents,
        .agents = t->agents,
        .agent_requests = requests,
        .agent_clicks = clicks,
        .agent_reward = stats->agent_reward,
        .agent_regret = stats->agent_regret,
    };
    int rc = s_publish(t, &msg);
    int done = stats->tick + 1;
    if (done % TELEMETRY_EXPOSURE_EVERY == 0 || done == world_config(w)->ticks) {
        int exposure_rc = s_publish_exposure(t, stats->tick);
        rc = rc ? rc : exposure_rc;
    }
    return rc;
}

int telemetry_publish_episode(telemetry_t *t, const world_episode_metrics_t *m,
                              const double *agent_gini)
{
    int64_t requests[WORLD_MAX_AGENTS], clicks[WORLD_MAX_AGENTS];
    for (uint32_t a = 0; a < t->n_agents; a++) {
        requests[a] = m->agent_requests[a];
        clicks[a] = m->agent_clicks[a];
    }
    proto_msg_t msg = {.type = PROTO_MSG_TELEMETRY_EPISODE};
    msg.telemetry_episode = (proto_telemetry_episode_t){
        .episode = world_episode(t->w),
        .ticks = (uint32_t)m->ticks,
        .requests = (uint64_t)m->requests,
        .clicks = (uint64_t)m->clicks,
        .ctr = m->ctr,
        .welfare_per_request = m->welfare_per_request,
        .mean_active_users = m->mean_active_users,
        .churn = m->churn,
        .gini = m->gini,
        .coverage = m->coverage,
        .entropy_normalized = m->entropy_normalized,
        .ild = m->ild,
        .jaccard = m->jaccard,
        .interest_similarity = m->interest_similarity,
        .hhi = m->hhi,
        .n_agents = t->n_agents,
        .agents = t->agents,
        .agent_requests = requests,
        .agent_clicks = clicks,
        .agent_reward = m->agent_reward,
        .agent_regret = m->agent_regret,
        .agent_share = m->agent_share,
        .agent_gini = agent_gini,
    };
    return s_publish(t, &msg);
}
