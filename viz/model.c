/* The viewer's data model (model.h). */
#include "viz/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_SERIES 4 /* per-agent float series: reward, reward_average, share, share_running */

const char *viz_strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
    case VIZ_EINVAL:
        return "invalid data";
    case VIZ_ENOMEM:
        return "out of memory";
    case VIZ_EIO:
        return "input/output error";
    case VIZ_ESDL:
        return "SDL error";
    default:
        return "unknown error";
    }
}

void viz_model_init(viz_model_t *m)
{
    memset(m, 0, sizeof *m);
}

void viz_model_fini(viz_model_t *m)
{
    free(m->points);
    free(m->reward);
    free(m->reward_average);
    free(m->share);
    free(m->share_running);
    free(m->lorenz);
    free(m->topics);
    memset(m, 0, sizeof *m);
}

static float **s_series(viz_model_t *m, int i)
{
    float **series[S_SERIES] = {&m->reward, &m->reward_average, &m->share, &m->share_running};
    return series[i];
}

void viz_model_clear(viz_model_t *m)
{
    m->n_points = 0;
    m->episode_start = 0;
    m->episode_base = 0;
    memset(m->sum_requests, 0, sizeof m->sum_requests);
    memset(m->sum_clicks, 0, sizeof m->sum_clicks);
    m->has_exposure = false;
    m->n_items = 0;
    m->n_topics = 0;
    m->exposure_total = 0;
    m->exposure_gini = 0;
    m->ticks_received = m->exposures_received = m->episodes_received = 0;
    m->run_complete = false;
}

static void s_copy_name(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

int viz_model_describe(viz_model_t *m, const char *scenario, viz_mode_t mode, uint32_t episodes,
                       uint32_t ticks, uint32_t n_agents, const char *const *names,
                       const char *const *algorithms)
{
    if (n_agents == 0 || n_agents > PROTO_MAX_AGENTS || !names)
        return VIZ_EINVAL;
    viz_model_clear(m);
    s_copy_name(m->scenario, sizeof m->scenario, scenario);
    m->mode = mode;
    m->mode_from_scenario = mode != VIZ_MODE_UNKNOWN;
    m->episodes = episodes;
    m->ticks = ticks;
    m->n_agents = n_agents;
    for (uint32_t a = 0; a < n_agents; a++) {
        s_copy_name(m->names[a], sizeof m->names[a], names[a]);
        s_copy_name(m->algorithms[a], sizeof m->algorithms[a], algorithms ? algorithms[a] : NULL);
    }
    return 0;
}

/* True if the tick's agents are the model's, in the same order. */
static bool s_same_agents(const viz_model_t *m, const proto_telemetry_tick_t *t)
{
    if (m->n_agents != t->n_agents)
        return false;
    for (uint32_t a = 0; a < t->n_agents; a++)
        if (strcmp(m->names[a], t->agents[a]) != 0)
            return false;
    return true;
}

/* Room for one more point: doubles the arrays, or drops the older half
 * of the points when the model holds VIZ_MAX_VALUES values. */
static int s_reserve(viz_model_t *m)
{
    size_t n_agents = m->n_agents;
    if ((m->n_points + 1) * n_agents > VIZ_MAX_VALUES) {
        size_t drop = m->n_points / 2;
        m->n_points -= drop;
        memmove(m->points, m->points + drop, m->n_points * sizeof *m->points);
        for (int s = 0; s < S_SERIES; s++) {
            float *series = *s_series(m, s);
            memmove(series, series + drop * n_agents, m->n_points * n_agents * sizeof *series);
        }
        m->episode_start = m->episode_start > drop ? m->episode_start - drop : 0;
    }
    if (m->n_points < m->capacity)
        return 0;
    size_t capacity = m->capacity ? 2 * m->capacity : 256;
    viz_point_t *points = realloc(m->points, capacity * sizeof *points);
    if (!points)
        return VIZ_ENOMEM;
    m->points = points;
    for (int s = 0; s < S_SERIES; s++) {
        float **series = s_series(m, s);
        float *grown = realloc(*series, capacity * PROTO_MAX_AGENTS * sizeof *grown);
        if (!grown)
            return VIZ_ENOMEM; /* the arrays grown so far are only larger */
        *series = grown;
    }
    m->capacity = capacity;
    return 0;
}

static float s_ratio(int64_t part, int64_t whole)
{
    return whole > 0 ? (float)((double)part / (double)whole) : NAN;
}

/* Market or feed, from a tick's counts when the scenario did not say. */
static void s_infer_mode(viz_model_t *m, const proto_telemetry_tick_t *t)
{
    if (m->mode != VIZ_MODE_UNKNOWN || t->n_agents < 2 || t->requests == 0)
        return;
    int64_t routed = 0;
    for (uint32_t a = 0; a < t->n_agents; a++)
        routed += t->agent_requests[a];
    m->mode = routed > (int64_t)t->requests ? VIZ_MODE_FEED : VIZ_MODE_MARKET;
}

int viz_model_add_tick(viz_model_t *m, const proto_telemetry_tick_t *t)
{
    if (t->n_agents == 0 || t->n_agents > PROTO_MAX_AGENTS || !t->agents || !t->agent_requests ||
        !t->agent_clicks || !t->agent_reward)
        return VIZ_EINVAL;
    for (uint32_t a = 0; a < t->n_agents; a++)
        if (!t->agents[a])
            return VIZ_EINVAL;
    if (!s_same_agents(m, t)) {
        viz_model_clear(m);
        m->n_agents = t->n_agents;
        for (uint32_t a = 0; a < t->n_agents; a++) {
            s_copy_name(m->names[a], sizeof m->names[a], t->agents[a]);
            m->algorithms[a][0] = '\0';
        }
    }
    const viz_point_t *last = m->n_points ? &m->points[m->n_points - 1] : NULL;
    if (last &&
        (t->episode < last->episode || (t->episode == last->episode && t->tick <= last->tick))) {
        viz_model_clear(m); /* a new run on the same stream */
        last = NULL;
    }
    int rc = s_reserve(m);
    if (rc != 0)
        return rc;
    last = m->n_points ? &m->points[m->n_points - 1] : NULL;
    s_infer_mode(m, t);

    size_t i = m->n_points, n_agents = m->n_agents;
    if (!last || t->episode != last->episode) {
        m->episode_start = i;
        m->episode_base = last ? last->x_all + 1 : 0;
        memset(m->sum_requests, 0, sizeof m->sum_requests);
        memset(m->sum_clicks, 0, sizeof m->sum_clicks);
    }
    viz_point_t *p = &m->points[i];
    p->episode = t->episode;
    p->tick = t->tick;
    p->x_all = m->ticks ? (double)t->episode * m->ticks + t->tick : m->episode_base + t->tick;
    p->gini = (float)t->gini;
    p->coverage = (float)t->coverage;

    bool clicks = m->mode == VIZ_MODE_FEED;
    int64_t tick_total = 0, episode_total = 0;
    for (size_t a = 0; a < n_agents; a++) {
        m->sum_requests[a] += t->agent_requests[a];
        m->sum_clicks[a] += t->agent_clicks[a];
        tick_total += clicks ? t->agent_clicks[a] : t->agent_requests[a];
        episode_total += clicks ? m->sum_clicks[a] : m->sum_requests[a];
    }
    size_t from = i + 1 >= m->episode_start + VIZ_AVERAGE_TICKS ? i + 1 - VIZ_AVERAGE_TICKS
                                                                : m->episode_start;
    for (size_t a = 0; a < n_agents; a++) {
        float *row = &m->reward[i * n_agents];
        row[a] = (float)t->agent_reward[a];
        double sum = 0;
        int count = 0;
        for (size_t j = from; j <= i; j++) {
            float r = m->reward[j * n_agents + a];
            if (isfinite(r)) {
                sum += r;
                count++;
            }
        }
        m->reward_average[i * n_agents + a] = count ? (float)(sum / count) : NAN;
        m->share[i * n_agents + a] =
            s_ratio(clicks ? t->agent_clicks[a] : t->agent_requests[a], tick_total);
        m->share_running[i * n_agents + a] =
            s_ratio(clicks ? m->sum_clicks[a] : m->sum_requests[a], episode_total);
    }
    m->n_points++;
    m->ticks_received++;
    return 0;
}

static int s_compare_counts(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int viz_model_set_exposure(viz_model_t *m, const proto_telemetry_exposure_t *e)
{
    size_t n = e->n_items;
    if ((n && !e->items) || (e->n_topics && !e->topics))
        return VIZ_EINVAL;
    int64_t *sorted = malloc((n ? n : 1) * sizeof *sorted);
    double *lorenz = malloc((n + 1) * sizeof *lorenz);
    int64_t *topics = malloc((e->n_topics ? e->n_topics : 1) * sizeof *topics);
    if (!sorted || !lorenz || !topics) {
        free(sorted);
        free(lorenz);
        free(topics);
        return VIZ_ENOMEM;
    }
    int64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        sorted[i] = e->items[i] > 0 ? e->items[i] : 0;
        total += sorted[i];
    }
    qsort(sorted, n, sizeof *sorted, s_compare_counts);
    /* Gini = sum over ranks i = 1..n of (2i - n - 1) x_(i), / (n total)
     * (docs/metrics.md); the Lorenz curve is the running share */
    double weighted = 0, running = 0;
    lorenz[0] = 0;
    for (size_t i = 0; i < n; i++) {
        weighted += (2.0 * (double)(i + 1) - (double)n - 1.0) * (double)sorted[i];
        running += (double)sorted[i];
        lorenz[i + 1] = total > 0 ? running / (double)total : (double)(i + 1) / (double)n;
    }
    free(sorted);
    for (uint32_t k = 0; k < e->n_topics; k++)
        topics[k] = e->topics[k];
    free(m->lorenz);
    free(m->topics);
    m->lorenz = lorenz;
    m->topics = topics;
    m->n_items = n;
    m->n_topics = e->n_topics;
    m->exposure_total = total;
    m->exposure_gini = total > 0 ? weighted / ((double)n * (double)total) : 0.0;
    m->exposure_episode = e->episode;
    m->exposure_tick = e->tick;
    m->has_exposure = true;
    m->exposures_received++;
    return 0;
}

void viz_model_end_episode(viz_model_t *m, const proto_telemetry_episode_t *e)
{
    m->episodes_received++;
    if (m->episodes && e->episode + 1 >= m->episodes)
        m->run_complete = true;
}

int viz_model_apply(viz_model_t *m, const proto_msg_t *msg)
{
    switch (msg->type) {
    case PROTO_MSG_TELEMETRY_TICK:
        return viz_model_add_tick(m, &msg->telemetry_tick);
    case PROTO_MSG_TELEMETRY_EXPOSURE:
        return viz_model_set_exposure(m, &msg->telemetry_exposure);
    case PROTO_MSG_TELEMETRY_EPISODE:
        viz_model_end_episode(m, &msg->telemetry_episode);
        return 0;
    default:
        return 0;
    }
}

/* A copy of count elements of size bytes (at least one byte allocated). */
static void *s_duplicate(const void *src, size_t count, size_t size)
{
    void *dst = malloc(count ? count * size : 1);
    if (dst && count)
        memcpy(dst, src, count * size);
    return dst;
}

int viz_model_copy(viz_model_t *dst, const viz_model_t *src)
{
    viz_model_fini(dst);
    *dst = *src;
    size_t values = src->n_points * src->n_agents;
    dst->capacity = src->n_points;
    dst->points = s_duplicate(src->points, src->n_points, sizeof *src->points);
    for (int s = 0; s < S_SERIES; s++) {
        float **series = s_series(dst, s); /* still src's array here */
        *series = s_duplicate(*series, values, sizeof **series);
    }
    dst->lorenz =
        src->has_exposure ? s_duplicate(src->lorenz, src->n_items + 1, sizeof(double)) : NULL;
    dst->topics =
        src->has_exposure ? s_duplicate(src->topics, src->n_topics, sizeof(int64_t)) : NULL;
    bool ok = dst->points && dst->reward && dst->reward_average && dst->share &&
              dst->share_running && (!src->has_exposure || (dst->lorenz && dst->topics));
    if (!ok) {
        viz_model_fini(dst);
        return VIZ_ENOMEM;
    }
    return 0;
}

size_t viz_model_first_point(const viz_model_t *m, bool all_episodes)
{
    return all_episodes ? 0 : m->episode_start;
}
