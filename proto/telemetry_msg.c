/* The telemetry messages (TELEMETRY_TICK, TELEMETRY_EPISODE,
 * TELEMETRY_EXPOSURE; server -> subscribers on the PUB socket): their
 * checks, encoders and decoders, the rows' functions in codec_types.
 * Per-agent arrays are by agent index and come with the agents' names,
 * one per entry. */
#include "proto/codec_private.h"

#include <inttypes.h>
#include <math.h>

/* ---- checks ------------------------------------------------------------ */

static void s_check_doubles(codec_report_t *r, const char *key, const double *v, uint64_t count)
{
    for (uint64_t i = 0; v && i < count && !r->rc; i++)
        if (!isfinite(v[i]))
            codec_fail(r, PROTO_ENONFINITE, key, "element %" PRIu64 " is %s", i,
                       isnan(v[i]) ? "NaN" : "infinite");
}

static void s_check_counts(codec_report_t *r, int bad, const char *key, const int64_t *v,
                           uint64_t count)
{
    codec_check_data(r, bad, key, v, count);
    for (uint64_t i = 0; v && i < count && !r->rc; i++)
        if (v[i] < 0)
            codec_fail(r, bad, key, "element %" PRIu64 " is %" PRId64 ", counts are >= 0", i, v[i]);
}

/* n_agents and the agent names of a telemetry message. */
static void s_check_agent_names(codec_report_t *r, int bad, uint32_t n_agents,
                                const char *const *agents)
{
    if (n_agents < 1 || n_agents > PROTO_MAX_AGENTS) {
        codec_fail(r, bad, "agents", "%u agents, expected 1..%d", n_agents, PROTO_MAX_AGENTS);
        return;
    }
    codec_check_data(r, bad, "agents", agents, n_agents);
    for (uint32_t i = 0; i < n_agents && agents; i++)
        codec_check_name(r, bad, "agents", agents[i]);
}

void codec_check_telemetry_tick(codec_report_t *r, const proto_msg_t *m, int bad)
{
    const proto_telemetry_tick_t *t = &m->telemetry_tick;
    codec_check_double(r, "welfare", t->welfare);
    codec_check_double(r, "ild", t->ild);
    codec_check_double(r, "gini", t->gini);
    codec_check_double(r, "coverage", t->coverage);
    codec_check_double(r, "entropy", t->entropy);
    s_check_agent_names(r, bad, t->n_agents, t->agents);
    codec_check_data(r, bad, "agent_requests", t->agent_requests, t->n_agents);
    codec_check_data(r, bad, "agent_clicks", t->agent_clicks, t->n_agents);
    codec_check_data(r, bad, "agent_reward", t->agent_reward, t->n_agents);
    codec_check_data(r, bad, "agent_regret", t->agent_regret, t->n_agents);
    s_check_doubles(r, "agent_reward", t->agent_reward, t->n_agents);
    s_check_doubles(r, "agent_regret", t->agent_regret, t->n_agents);
}

void codec_check_telemetry_episode(codec_report_t *r, const proto_msg_t *m, int bad)
{
    const proto_telemetry_episode_t *t = &m->telemetry_episode;
    codec_check_double(r, "ctr", t->ctr);
    codec_check_double(r, "welfare_per_request", t->welfare_per_request);
    codec_check_double(r, "mean_active_users", t->mean_active_users);
    codec_check_double(r, "churn", t->churn);
    codec_check_double(r, "gini", t->gini);
    codec_check_double(r, "coverage", t->coverage);
    codec_check_double(r, "entropy_normalized", t->entropy_normalized);
    codec_check_double(r, "ild", t->ild);
    codec_check_double(r, "jaccard", t->jaccard);
    codec_check_double(r, "interest_similarity", t->interest_similarity);
    codec_check_double(r, "hhi", t->hhi);
    s_check_agent_names(r, bad, t->n_agents, t->agents);
    s_check_counts(r, bad, "agent_requests", t->agent_requests, t->n_agents);
    s_check_counts(r, bad, "agent_clicks", t->agent_clicks, t->n_agents);
    codec_check_data(r, bad, "agent_reward", t->agent_reward, t->n_agents);
    codec_check_data(r, bad, "agent_regret", t->agent_regret, t->n_agents);
    codec_check_data(r, bad, "agent_share", t->agent_share, t->n_agents);
    s_check_doubles(r, "agent_reward", t->agent_reward, t->n_agents);
    s_check_doubles(r, "agent_regret", t->agent_regret, t->n_agents);
    s_check_doubles(r, "agent_share", t->agent_share, t->n_agents);
    s_check_doubles(r, "agent_gini", t->agent_gini, t->n_agents); /* optional: NULL passes */
}

void codec_check_telemetry_exposure(codec_report_t *r, const proto_msg_t *m, int bad)
{
    const proto_telemetry_exposure_t *x = &m->telemetry_exposure;
    s_check_counts(r, bad, "items", x->items, x->n_items);
    s_check_counts(r, bad, "topics", x->topics, x->n_topics);
}

/* ---- encoders ---------------------------------------------------------- */

void codec_encode_telemetry_tick(codec_encoder_t *e, const proto_msg_t *m)
{
    const proto_telemetry_tick_t *t = &m->telemetry_tick;
    msgpack_pack_map(&e->pk, 15);
    codec_pack_uint(e, "episode", t->episode);
    codec_pack_uint(e, "tick", t->tick);
    codec_pack_uint(e, "active_users", t->active_users);
    codec_pack_uint(e, "requests", t->requests);
    codec_pack_uint(e, "clicks", t->clicks);
    codec_pack_double(e, "welfare", t->welfare);
    codec_pack_double(e, "ild", t->ild);
    codec_pack_double(e, "gini", t->gini);
    codec_pack_double(e, "coverage", t->coverage);
    codec_pack_double(e, "entropy", t->entropy);
    codec_pack_names(e, "agents", t->n_agents, t->agents);
    codec_pack_array1(e, "agent_requests", PROTO_DTYPE_INT32, t->n_agents, t->agent_requests);
    codec_pack_array1(e, "agent_clicks", PROTO_DTYPE_INT32, t->n_agents, t->agent_clicks);
    codec_pack_array1(e, "agent_reward", PROTO_DTYPE_FLOAT64, t->n_agents, t->agent_reward);
    codec_pack_array1(e, "agent_regret", PROTO_DTYPE_FLOAT64, t->n_agents, t->agent_regret);
}

void codec_encode_telemetry_episode(codec_encoder_t *e, const proto_msg_t *m)
{
    const proto_telemetry_episode_t *t = &m->telemetry_episode;
    msgpack_pack_map(&e->pk, t->agent_gini ? 22 : 21);
    codec_pack_uint(e, "episode", t->episode);
    codec_pack_uint(e, "ticks", t->ticks);
    codec_pack_uint(e, "requests", t->requests);
    codec_pack_uint(e, "clicks", t->clicks);
    codec_pack_double(e, "ctr", t->ctr);
    codec_pack_double(e, "welfare_per_request", t->welfare_per_request);
    codec_pack_double(e, "mean_active_users", t->mean_active_users);
    codec_pack_double(e, "churn", t->churn);
    codec_pack_double(e, "gini", t->gini);
    codec_pack_double(e, "coverage", t->coverage);
    codec_pack_double(e, "entropy_normalized", t->entropy_normalized);
    codec_pack_double(e, "ild", t->ild);
    codec_pack_double(e, "jaccard", t->jaccard);
    codec_pack_double(e, "interest_similarity", t->interest_similarity);
    codec_pack_double(e, "hhi", t->hhi);
    codec_pack_names(e, "agents", t->n_agents, t->agents);
    codec_pack_array1(e, "agent_requests", PROTO_DTYPE_INT64, t->n_agents, t->agent_requests);
    codec_pack_array1(e, "agent_clicks", PROTO_DTYPE_INT64, t->n_agents, t->agent_clicks);
    codec_pack_array1(e, "agent_reward", PROTO_DTYPE_FLOAT64, t->n_agents, t->agent_reward);
    codec_pack_array1(e, "agent_regret", PROTO_DTYPE_FLOAT64, t->n_agents, t->agent_regret);
    codec_pack_array1(e, "agent_share", PROTO_DTYPE_FLOAT64, t->n_agents, t->agent_share);
    if (t->agent_gini)
        codec_pack_array1(e, "agent_gini", PROTO_DTYPE_FLOAT64, t->n_agents, t->agent_gini);
}

void codec_encode_telemetry_exposure(codec_encoder_t *e, const proto_msg_t *m)
{
    const proto_telemetry_exposure_t *x = &m->telemetry_exposure;
    msgpack_pack_map(&e->pk, 4);
    codec_pack_uint(e, "episode", x->episode);
    codec_pack_uint(e, "tick", x->tick);
    codec_pack_array1(e, "items", PROTO_DTYPE_INT64, x->n_items, x->items);
    codec_pack_array1(e, "topics", PROTO_DTYPE_INT64, x->n_topics, x->topics);
}

/* ---- decoders ---------------------------------------------------------- */

/* The agent names of a telemetry message: one per entry of its per-agent
 * arrays, n of them. */
static const char *const *s_get_agent_names(codec_decoder_t *d, const msgpack_object *body,
                                            uint32_t n)
{
    uint32_t count = 0;
    const char *const *names = codec_get_strings(d, body, "agents", PROTO_MAX_AGENTS, &count);
    if (!d->r.rc && count != n)
        codec_fail(&d->r, PROTO_EFIELD, "agents", "%u names, the per-agent arrays have %u entries",
                   count, n);
    return names;
}

void codec_decode_telemetry_tick(codec_decoder_t *d, const msgpack_object *body, proto_msg_t *m)
{
    proto_telemetry_tick_t *t = &m->telemetry_tick;
    t->episode = codec_get_u32(d, body, "episode");
    t->tick = codec_get_u32(d, body, "tick");
    t->active_users = codec_get_u32(d, body, "active_users");
    t->requests = codec_get_u32(d, body, "requests");
    t->clicks = codec_get_u32(d, body, "clicks");
    t->welfare = codec_get_double(d, body, "welfare");
    t->ild = codec_get_double(d, body, "ild");
    t->gini = codec_get_double(d, body, "gini");
    t->coverage = codec_get_double(d, body, "coverage");
    t->entropy = codec_get_double(d, body, "entropy");
    uint32_t n = PROTO_DIM_ANY;
    t->agent_requests = codec_get_vector(d, body, "agent_requests", PROTO_DTYPE_INT32, &n);
    t->agent_clicks = codec_get_vector(d, body, "agent_clicks", PROTO_DTYPE_INT32, &n);
    t->agent_reward = codec_get_vector(d, body, "agent_reward", PROTO_DTYPE_FLOAT64, &n);
    t->agent_regret = codec_get_vector(d, body, "agent_regret", PROTO_DTYPE_FLOAT64, &n);
    t->agents = s_get_agent_names(d, body, n);
    t->n_agents = n;
}

void codec_decode_telemetry_episode(codec_decoder_t *d, const msgpack_object *body, proto_msg_t *m)
{
    proto_telemetry_episode_t *t = &m->telemetry_episode;
    t->episode = codec_get_u32(d, body, "episode");
    t->ticks = codec_get_u32(d, body, "ticks");
    t->requests = codec_get_uint(d, body, "requests", UINT64_MAX);
    t->clicks = codec_get_uint(d, body, "clicks", UINT64_MAX);
    t->ctr = codec_get_double(d, body, "ctr");
    t->welfare_per_request = codec_get_double(d, body, "welfare_per_request");
    t->mean_active_users = codec_get_double(d, body, "mean_active_users");
    t->churn = codec_get_double(d, body, "churn");
    t->gini = codec_get_double(d, body, "gini");
    t->coverage = codec_get_double(d, body, "coverage");
    t->entropy_normalized = codec_get_double(d, body, "entropy_normalized");
    t->ild = codec_get_double(d, body, "ild");
    t->jaccard = codec_get_double(d, body, "jaccard");
    t->interest_similarity = codec_get_double(d, body, "interest_similarity");
    t->hhi = codec_get_double(d, body, "hhi");
    uint32_t n = PROTO_DIM_ANY;
    t->agent_requests = codec_get_vector(d, body, "agent_requests", PROTO_DTYPE_INT64, &n);
    t->agent_clicks = codec_get_vector(d, body, "agent_clicks", PROTO_DTYPE_INT64, &n);
    t->agent_reward = codec_get_vector(d, body, "agent_reward", PROTO_DTYPE_FLOAT64, &n);
    t->agent_regret = codec_get_vector(d, body, "agent_regret", PROTO_DTYPE_FLOAT64, &n);
    t->agent_share = codec_get_vector(d, body, "agent_share", PROTO_DTYPE_FLOAT64, &n);
    if (codec_has_key(d, body, "agent_gini")) /* optional, since 1.1 */
        t->agent_gini = codec_get_vector(d, body, "agent_gini", PROTO_DTYPE_FLOAT64, &n);
    t->agents = s_get_agent_names(d, body, n);
    t->n_agents = n;
}

void codec_decode_telemetry_exposure(codec_decoder_t *d, const msgpack_object *body, proto_msg_t *m)
{
    proto_telemetry_exposure_t *x = &m->telemetry_exposure;
    x->episode = codec_get_u32(d, body, "episode");
    x->tick = codec_get_u32(d, body, "tick");
    x->n_items = PROTO_DIM_ANY;
    x->items = codec_get_vector(d, body, "items", PROTO_DTYPE_INT64, &x->n_items);
    x->n_topics = PROTO_DIM_ANY;
    x->topics = codec_get_vector(d, body, "topics", PROTO_DTYPE_INT64, &x->n_topics);
}
