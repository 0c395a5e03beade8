/* The viewer's data model (model.h). */
#include "viz/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_SERIES         8 /* per-agent float series per point (s_series) */
#define S_EPISODE_SERIES 5 /* per-agent float series per episode (s_episode_series) */

void viz_model_init(viz_model_t *m)
{
    memset(m, 0, sizeof *m);
}

static float **s_series(viz_model_t *m, int i)
{
    float **series[S_SERIES] = {&m->reward,        &m->reward_average,     &m->share,
                                &m->share_running, &m->click_rate,         &m->click_rate_running,
                                &m->regret_rate,   &m->regret_rate_running};
    return series[i];
}

static float **s_episode_series(viz_model_t *m, int i)
{
    float **series[S_EPISODE_SERIES] = {&m->episode_click_rate, &m->episode_reward,
                                        &m->episode_regret, &m->episode_share, &m->episode_gini};
    return series[i];
}

/* Frees the series arrays (points and episodes); they are sized for
 * n_agents and allocated again as data arrive. */
static void s_free_series(viz_model_t *m)
{
    free(m->points);
    m->points = NULL;
    for (int s = 0; s < S_SERIES; s++) {
        free(*s_series(m, s));
        *s_series(m, s) = NULL;
    }
    free(m->episode);
    m->episode = NULL;
    for (int s = 0; s < S_EPISODE_SERIES; s++) {
        free(*s_episode_series(m, s));
        *s_episode_series(m, s) = NULL;
    }
    m->capacity = m->episode_capacity = 0;
    m->n_points = m->n_episodes = 0;
}

void viz_model_fini(viz_model_t *m)
{
    s_free_series(m);
    free(m->lorenz);
    free(m->topics);
    memset(m, 0, sizeof *m);
}

/* Starts the running sums of a new episode. */
static void s_reset_sums(viz_model_t *m)
{
    memset(m->sum_requests, 0, sizeof m->sum_requests);
    memset(m->sum_clicks, 0, sizeof m->sum_clicks);
    memset(m->sum_reward, 0, sizeof m->sum_reward);
    memset(m->sum_regret, 0, sizeof m->sum_regret);
    m->sum_welfare = m->sum_active_users = 0;
    m->sum_tick_requests = m->sum_tick_clicks = 0;
}

void viz_model_clear(viz_model_t *m)
{
    m->n_points = 0;
    m->n_episodes = 0;
    m->episode_start = 0;
    m->episode_base = 0;
    s_reset_sums(m);
    m->has_regret = false;
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
        return ERR_EINVAL;
    viz_model_clear(m);
    if (n_agents != m->n_agents)
        s_free_series(m);
    m->oracle_off = false;
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

/* Room for one more row of a table (points or episodes): *n rows of
 * row_size bytes in *rows and n_series per-agent float series, n_agents
 * wide. Doubles the arrays, or drops the older half of the rows when the
 * table holds VIZ_MAX_VALUES values. Returns the rows dropped, or
 * ERR_ENOMEM. */
static long s_reserve_table(void **rows, size_t row_size, float **const *series, int n_series,
                            size_t *n, size_t *capacity, size_t n_agents)
{
    long dropped = 0;
    if ((*n + 1) * n_agents > VIZ_MAX_VALUES) {
        size_t drop = *n / 2;
        *n -= drop;
        memmove(*rows, (char *)*rows + drop * row_size, *n * row_size);
        for (int s = 0; s < n_series; s++)
            memmove(*series[s], *series[s] + drop * n_agents, *n * n_agents * sizeof(float));
        dropped = (long)drop;
    }
    if (*n < *capacity)
        return dropped;
    size_t grown_capacity = *capacity ? 2 * *capacity : 64;
    void *grown_rows = realloc(*rows, grown_capacity * row_size);
    if (!grown_rows)
        return ERR_ENOMEM;
    *rows = grown_rows;
    for (int s = 0; s < n_series; s++) {
        float *grown = realloc(*series[s], grown_capacity * n_agents * sizeof *grown);
        if (!grown)
            return ERR_ENOMEM; /* the arrays grown so far are only larger */
        *series[s] = grown;
    }
    *capacity = grown_capacity;
    return dropped;
}

/* Room for one more point. */
static int s_reserve(viz_model_t *m)
{
    float **series[S_SERIES];
    for (int s = 0; s < S_SERIES; s++)
        series[s] = s_series(m, s);
    void *rows = m->points;
    long dropped = s_reserve_table(&rows, sizeof *m->points, series, S_SERIES, &m->n_points,
                                   &m->capacity, m->n_agents);
    m->points = rows;
    if (dropped < 0)
        return (int)dropped;
    size_t drop = (size_t)dropped;
    m->episode_start = m->episode_start > drop ? m->episode_start - drop : 0;
    return 0;
}

/* Room for one more episode row. */
static int s_reserve_episode(viz_model_t *m)
{
    float **series[S_EPISODE_SERIES];
    for (int s = 0; s < S_EPISODE_SERIES; s++)
        series[s] = s_episode_series(m, s);
    void *rows = m->episode;
    long dropped = s_reserve_table(&rows, sizeof *m->episode, series, S_EPISODE_SERIES,
                                   &m->n_episodes, &m->episode_capacity, m->n_agents);
    m->episode = rows;
    return dropped < 0 ? (int)dropped : 0;
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

/* The latest episode's row from its running sums and its last point p. */
static void s_update_episode(viz_model_t *m, const viz_point_t *p)
{
    size_t row = m->n_episodes - 1, n_agents = m->n_agents;
    viz_episode_t *e = &m->episode[row];
    e->ticks++;
    e->click_rate = s_ratio(m->sum_tick_clicks, m->sum_tick_requests);
    e->welfare_per_request =
        m->sum_tick_requests > 0 ? (float)(m->sum_welfare / (double)m->sum_tick_requests) : NAN;
    e->mean_active_users = (float)(m->sum_active_users / e->ticks);
    e->gini = p->gini;
    e->coverage = p->coverage;
    size_t last = (size_t)(p - m->points);
    for (size_t a = 0; a < n_agents; a++) {
        m->episode_click_rate[row * n_agents + a] = m->click_rate_running[last * n_agents + a];
        m->episode_reward[row * n_agents + a] = (float)m->sum_reward[a];
        m->episode_regret[row * n_agents + a] = m->regret_rate_running[last * n_agents + a];
        m->episode_share[row * n_agents + a] = m->share_running[last * n_agents + a];
    }
}

int viz_model_add_tick(viz_model_t *m, const proto_telemetry_tick_t *t)
{
    if (t->n_agents == 0 || t->n_agents > PROTO_MAX_AGENTS || !t->agents || !t->agent_requests ||
        !t->agent_clicks || !t->agent_reward)
        return ERR_EINVAL;
    for (uint32_t a = 0; a < t->n_agents; a++)
        if (!t->agents[a])
            return ERR_EINVAL;
    if (!s_same_agents(m, t)) {
        viz_model_clear(m);
        if (t->n_agents != m->n_agents)
            s_free_series(m);
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
    bool new_episode = !last || t->episode != last->episode;
    int rc = s_reserve(m);
    rc = rc ? rc : (new_episode ? s_reserve_episode(m) : 0);
    if (rc != 0)
        return rc;
    last = m->n_points ? &m->points[m->n_points - 1] : NULL;
    s_infer_mode(m, t);

    size_t i = m->n_points, n_agents = m->n_agents;
    if (new_episode) {
        m->episode_start = i;
        m->episode_base = last ? last->x_all + 1 : 0;
        s_reset_sums(m);
        for (size_t a = 0; a < n_agents; a++)
            m->episode_gini[m->n_episodes * n_agents + a] = NAN; /* known at the end */
        m->episode[m->n_episodes++] = (viz_episode_t){.episode = t->episode};
    }
    viz_point_t *p = &m->points[i];
    p->episode = t->episode;
    p->tick = t->tick;
    p->x_all = m->ticks ? (double)t->episode * m->ticks + t->tick : m->episode_base + t->tick;
    p->gini = (float)t->gini;
    p->coverage = (float)t->coverage;
    p->active_users = (float)t->active_users;
    p->welfare = (float)t->welfare;

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
        double regret = t->agent_regret ? t->agent_regret[a] : NAN;
        m->has_regret = m->has_regret || (isfinite(regret) && regret != 0);
        m->sum_reward[a] += isfinite(row[a]) ? row[a] : 0;
        m->sum_regret[a] += isfinite(regret) ? regret : 0;
        m->click_rate[i * n_agents + a] = s_ratio(t->agent_clicks[a], t->agent_requests[a]);
        m->click_rate_running[i * n_agents + a] = s_ratio(m->sum_clicks[a], m->sum_requests[a]);
        m->regret_rate[i * n_agents + a] =
            t->agent_requests[a] > 0 ? (float)(regret / t->agent_requests[a]) : NAN;
        m->regret_rate_running[i * n_agents + a] =
            m->sum_requests[a] > 0 ? (float)(m->sum_regret[a] / (double)m->sum_requests[a]) : NAN;
    }
    m->sum_tick_requests += t->requests;
    m->sum_tick_clicks += t->clicks;
    m->sum_welfare += t->welfare;
    m->sum_active_users += p->active_users;
    s_update_episode(m, p);
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
        return ERR_EINVAL;
    int64_t *sorted = malloc((n ? n : 1) * sizeof *sorted);
    double *lorenz = malloc((n + 1) * sizeof *lorenz);
    int64_t *topics = malloc((e->n_topics ? e->n_topics : 1) * sizeof *topics);
    if (!sorted || !lorenz || !topics) {
        free(sorted);
        free(lorenz);
        free(topics);
        return ERR_ENOMEM;
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

void viz_model_set_agent_gini(viz_model_t *m, uint32_t episode, const double *gini)
{
    for (size_t row = m->n_episodes; row-- > 0;)
        if (m->episode[row].episode == episode) {
            for (size_t a = 0; a < m->n_agents; a++)
                m->episode_gini[row * m->n_agents + a] = (float)gini[a];
            return;
        }
}

void viz_model_end_episode(viz_model_t *m, const proto_telemetry_episode_t *e)
{
    m->episodes_received++;
    bool same_agents = e->agent_gini && e->agents && e->n_agents == m->n_agents;
    for (uint32_t a = 0; same_agents && a < e->n_agents; a++)
        same_agents = e->agents[a] && strcmp(e->agents[a], m->names[a]) == 0;
    if (same_agents)
        viz_model_set_agent_gini(m, e->episode, e->agent_gini);
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
    size_t values = src->n_points * src->n_agents, episode_values = src->n_episodes * src->n_agents;
    dst->capacity = src->n_points;
    dst->episode_capacity = src->n_episodes;
    dst->points = s_duplicate(src->points, src->n_points, sizeof *src->points);
    dst->episode = s_duplicate(src->episode, src->n_episodes, sizeof *src->episode);
    bool ok = dst->points && dst->episode;
    for (int s = 0; s < S_SERIES; s++) {
        float **series = s_series(dst, s); /* still src's array here */
        *series = s_duplicate(*series, values, sizeof **series);
        ok = ok && *series;
    }
    for (int s = 0; s < S_EPISODE_SERIES; s++) {
        float **series = s_episode_series(dst, s);
        *series = s_duplicate(*series, episode_values, sizeof **series);
        ok = ok && *series;
    }
    dst->lorenz =
        src->has_exposure ? s_duplicate(src->lorenz, src->n_items + 1, sizeof(double)) : NULL;
    dst->topics =
        src->has_exposure ? s_duplicate(src->topics, src->n_topics, sizeof(int64_t)) : NULL;
    ok = ok && (!src->has_exposure || (dst->lorenz && dst->topics));
    if (!ok) {
        viz_model_fini(dst);
        return ERR_ENOMEM;
    }
    return 0;
}

size_t viz_model_first_point(const viz_model_t *m, bool all_episodes)
{
    return all_episodes ? 0 : m->episode_start;
}
