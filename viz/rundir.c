/* Run folders and scenario files into a viewer model (rundir.h). */
#include "viz/rundir.h"

#include "core/err.h"
#include "core/parse.h"

#include <ini.h>
#include <jansson.h>

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_LINE_MAX   4096 /* bytes of a CSV line, newline included */
#define S_FIELDS_MAX 32   /* fields of a CSV line */

/* A CSV file read line by line, its columns found by header name. */
typedef struct s_csv {
    FILE *f;
    char path[1200];
    long line;
    char buf[S_LINE_MAX];
    char *fields[S_FIELDS_MAX];
    int n_fields;
} s_csv_t;

/* Splits the line in c->buf into fields; false if it is too long. */
static bool s_csv_split(s_csv_t *c)
{
    size_t len = strlen(c->buf);
    if (len == sizeof c->buf - 1 && c->buf[len - 1] != '\n' && !feof(c->f))
        return false;
    c->buf[strcspn(c->buf, "\r\n")] = '\0';
    c->n_fields = 0;
    for (char *p = c->buf; c->n_fields < S_FIELDS_MAX;) {
        c->fields[c->n_fields++] = p;
        p = strchr(p, ',');
        if (!p)
            break;
        *p++ = '\0';
    }
    return true;
}

/* Opens dir/name and finds each of the n names in its header: column[i]
 * is the index of names[i]. The first n_required must be there; the
 * others (columns added later) are -1 when missing. */
static int s_csv_open(s_csv_t *c, const char *dir, const char *name, const char *const *names,
                      int *column, int n, int n_required, char *err, size_t err_len)
{
    snprintf(c->path, sizeof c->path, "%s/%s", dir, name);
    c->line = 1;
    c->f = fopen(c->path, "r");
    if (!c->f) {
        snprintf(err, err_len, "cannot read %s: %s", c->path, strerror(errno));
        return ERR_EIO;
    }
    if (!fgets(c->buf, sizeof c->buf, c->f) || !s_csv_split(c)) {
        snprintf(err, err_len, "%s: no header line", c->path);
        goto fail;
    }
    for (int i = 0; i < n; i++) {
        column[i] = -1;
        for (int k = 0; k < c->n_fields; k++)
            if (strcmp(c->fields[k], names[i]) == 0)
                column[i] = k;
        if (column[i] < 0 && i < n_required) {
            snprintf(err, err_len, "%s: no column '%s' in the header", c->path, names[i]);
            goto fail;
        }
    }
    return 0;
fail:
    fclose(c->f);
    c->f = NULL;
    return ERR_EFORMAT;
}

/* The next data line: 1, 0 at the end, or ERR_EFORMAT (too long, or fewer
 * fields than the header named). */
static int s_csv_next(s_csv_t *c, int min_fields, char *err, size_t err_len)
{
    if (!fgets(c->buf, sizeof c->buf, c->f))
        return ferror(c->f) ? ERR_EIO : 0;
    c->line++;
    if (!s_csv_split(c) || c->n_fields < min_fields) {
        snprintf(err, err_len, "%s:%ld: expected %d fields", c->path, c->line, min_fields);
        return ERR_EFORMAT;
    }
    return 1;
}

static void s_csv_close(s_csv_t *c)
{
    if (c->f)
        fclose(c->f);
    c->f = NULL;
}

/* Field column of the current line as an integer in [0, max]. */
static int s_csv_int(s_csv_t *c, int column, long max, long *out, char *err, size_t err_len)
{
    const char *text = c->fields[column];
    int64_t v;
    if (parse_int64(text, 0, max, &v) != 0) {
        snprintf(err, err_len, "%s:%ld: expected an integer in [0, %ld], got '%s'", c->path,
                 c->line, max, text);
        return ERR_EFORMAT;
    }
    *out = (long)v;
    return 0;
}

/* Field column as a number; "nan" and the like are accepted (drawn as
 * gaps), and so is a column the file does not have (-1: NaN). */
static int s_csv_double(s_csv_t *c, int column, double *out, char *err, size_t err_len)
{
    if (column < 0 || column >= c->n_fields) {
        *out = NAN;
        return 0;
    }
    const char *text = c->fields[column];
    int rc = parse_double(text, -DBL_MAX, DBL_MAX, out);
    if (rc == ERR_ESYNTAX) {
        snprintf(err, err_len, "%s:%ld: expected a number, got '%s'", c->path, c->line, text);
        return ERR_EFORMAT;
    }
    if (rc != 0)
        *out = NAN; /* nan, inf or overflow: not finite, a gap */
    return 0;
}

/* What the viewer needs of a resolved scenario.ini (the one a run writes
 * into its folder, every key present): its name, shape and agents. The
 * viewer reads it with inih itself rather than through sim/scenario.h,
 * which would pull the world into the viewer (layers only look down). */
typedef struct s_scenario {
    char name[PROTO_MAX_NAME + 1];
    long episodes, ticks, n_topics;
    viz_mode_t mode;
    bool oracle_off;
    uint32_t n_agents;
    char agents[PROTO_MAX_AGENTS][PROTO_MAX_NAME + 1];
    char labels[PROTO_MAX_AGENTS][VIZ_MAX_ALGORITHM];
    bool have_label[PROTO_MAX_AGENTS];
    char error[256]; /* first problem found, "" if none */
} s_scenario_t;

/* "build/agents/recarena-bandit --algo ucb1" -> "recarena-bandit --algo ucb1" */
static void s_algorithm_label(const char *command, char *out, size_t size)
{
    size_t program = strcspn(command, " \t");
    const char *base = command;
    for (const char *p = command; p < command + program; p++)
        if (*p == '/')
            base = p + 1;
    /* short enough for a legend read from the back of a room:
     * "recarena-bandit --algo ucb1 --ucb-c 0.1" -> "bandit ucb1 --ucb-c 0.1" */
    if (strncmp(base, "recarena-", 9) == 0)
        base += 9;
    size_t name = strcspn(base, " \t");
    const char *rest = base + name;
    rest += strspn(rest, " \t");
    if (strncmp(rest, "--algo ", 7) == 0)
        rest += 7;
    snprintf(out, size, "%.*s%s%s", (int)name, base, *rest ? " " : "", rest);
}

static bool s_ini_long(s_scenario_t *sc, const char *section, const char *key, const char *value,
                       long *out)
{
    int64_t v;
    if (parse_int64(value, 0, LONG_MAX, &v) != 0) {
        if (!sc->error[0])
            snprintf(sc->error, sizeof sc->error, "%s.%s: expected a count, got '%s'", section, key,
                     value);
        return false;
    }
    *out = (long)v;
    return true;
}

/* inih handler (returns nonzero to go on). */
static int s_ini_entry(void *user, const char *section, const char *key, const char *value)
{
    s_scenario_t *sc = user;
    bool on;
    if (!strcmp(section, "run")) {
        if (!strcmp(key, "name"))
            snprintf(sc->name, sizeof sc->name, "%s", value);
        else if (!strcmp(key, "episodes"))
            return s_ini_long(sc, section, key, value, &sc->episodes);
        else if (!strcmp(key, "ticks"))
            return s_ini_long(sc, section, key, value, &sc->ticks);
    } else if (!strcmp(section, "world")) {
        if (!strcmp(key, "mode"))
            sc->mode = !strcmp(value, "feed") ? VIZ_MODE_FEED : VIZ_MODE_MARKET;
        else if (!strcmp(key, "n_topics"))
            return s_ini_long(sc, section, key, value, &sc->n_topics);
        else if (!strcmp(key, "oracle") && parse_bool(value, &on) == 0)
            sc->oracle_off = !on;
    } else if (!strncmp(section, "agent.", 6)) {
        const char *name = section + 6;
        uint32_t a = 0;
        while (a < sc->n_agents && strcmp(sc->agents[a], name))
            a++;
        if (a == sc->n_agents) {
            if (a == PROTO_MAX_AGENTS) {
                if (!sc->error[0])
                    snprintf(sc->error, sizeof sc->error, "more than %d agents", PROTO_MAX_AGENTS);
                return 0;
            }
            snprintf(sc->agents[a], sizeof sc->agents[a], "%s", name);
            sc->n_agents++;
        }
        if (!value[0] || sc->have_label[a])
            return 1;
        if (!strcmp(key, "policy")) {
            snprintf(sc->labels[a], sizeof sc->labels[a], "%s", value);
            sc->have_label[a] = true;
        } else if (!strcmp(key, "command")) {
            s_algorithm_label(value, sc->labels[a], sizeof sc->labels[a]);
            sc->have_label[a] = true;
        }
    }
    return 1;
}

/* viz_rundir_read_scenario, also giving the scenario's number of topics. */
static int s_read_scenario(viz_model_t *m, const char *path, uint32_t *n_topics, char *err,
                           size_t err_len)
{
    s_scenario_t *sc = calloc(1, sizeof *sc);
    if (!sc) {
        snprintf(err, err_len, "out of memory");
        return ERR_ENOMEM;
    }
    sc->episodes = sc->ticks = sc->n_topics = -1;
    int rc = ini_parse(path, s_ini_entry, sc);
    if (rc == -1) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        free(sc);
        return ERR_EIO;
    }
    if (rc != 0 || sc->error[0] || sc->episodes < 1 || sc->ticks < 1 || sc->n_topics < 1 ||
        sc->n_agents == 0) {
        if (sc->error[0])
            snprintf(err, err_len, "%s: %s", path, sc->error);
        else if (rc > 0)
            snprintf(err, err_len, "%s:%d: not a valid INI line", path, rc);
        else
            snprintf(err, err_len,
                     "%s: not a resolved scenario (run.episodes, run.ticks, world.n_topics and "
                     "at least one [agent.NAME] are required)",
                     path);
        free(sc);
        return ERR_EFORMAT;
    }
    const char *names[PROTO_MAX_AGENTS], *algorithms[PROTO_MAX_AGENTS];
    for (uint32_t a = 0; a < sc->n_agents; a++) {
        names[a] = sc->agents[a];
        algorithms[a] = sc->labels[a];
    }
    rc = viz_model_describe(m, sc->name, sc->mode, (uint32_t)sc->episodes, (uint32_t)sc->ticks,
                            sc->n_agents, names, algorithms);
    *n_topics = (uint32_t)sc->n_topics;
    m->oracle_off = sc->oracle_off;
    free(sc);
    if (rc != 0)
        snprintf(err, err_len, "%s: %s", path, err_str(rc));
    return rc;
}

int viz_rundir_read_scenario(viz_model_t *m, const char *path, char *err, size_t err_len)
{
    uint32_t n_topics;
    return s_read_scenario(m, path, &n_topics, err, err_len);
}

/* Reads the next line of agents.csv, due for the given tick. */
static int s_next_agent_row(s_csv_t *agents, long episode, long tick, char *err, size_t err_len)
{
    int more = s_csv_next(agents, 6, err, err_len);
    if (more == 0) {
        snprintf(err, err_len, "%s: ends before episode %ld tick %ld", agents->path, episode, tick);
        return ERR_EFORMAT;
    }
    return more < 0 ? more : 0;
}

/* A count read as a number (NaN when the column is missing) as the
 * telemetry's unsigned field: 0 when unknown or out of range. */
static uint32_t s_count_or_zero(double v)
{
    return v >= 0 && v <= UINT32_MAX ? (uint32_t)v : 0;
}

/* One tick: its row of ticks.csv (already read) and its agents' rows of
 * agents.csv, into the model. */
static int s_load_tick(viz_model_t *m, s_csv_t *ticks, const int *tc, s_csv_t *agents,
                       const int *ac, long episode, long tick, char *err, size_t err_len)
{
    enum { T_REQUESTS = 2, T_CLICKS, T_GINI, T_COVERAGE, T_ACTIVE_USERS, T_WELFARE };
    enum { A_EPISODE, A_TICK, A_AGENT, A_REQUESTS, A_CLICKS, A_REWARD, A_REGRET };
    long requests, clicks;
    double gini, coverage, active_users, welfare;
    int rc = s_csv_int(ticks, tc[T_REQUESTS], INT32_MAX, &requests, err, err_len);
    rc = rc ? rc : s_csv_int(ticks, tc[T_CLICKS], INT32_MAX, &clicks, err, err_len);
    rc = rc ? rc : s_csv_double(ticks, tc[T_GINI], &gini, err, err_len);
    rc = rc ? rc : s_csv_double(ticks, tc[T_COVERAGE], &coverage, err, err_len);
    rc = rc ? rc : s_csv_double(ticks, tc[T_ACTIVE_USERS], &active_users, err, err_len);
    rc = rc ? rc : s_csv_double(ticks, tc[T_WELFARE], &welfare, err, err_len);
    if (rc != 0)
        return rc;
    int32_t agent_requests[PROTO_MAX_AGENTS], agent_clicks[PROTO_MAX_AGENTS];
    double agent_reward[PROTO_MAX_AGENTS], agent_regret[PROTO_MAX_AGENTS];
    const char *names[PROTO_MAX_AGENTS];
    for (uint32_t a = 0; a < m->n_agents; a++) {
        rc = s_next_agent_row(agents, episode, tick, err, err_len);
        if (rc != 0)
            return rc;
        long e, t, v;
        rc = s_csv_int(agents, ac[A_EPISODE], UINT32_MAX, &e, err, err_len);
        rc = rc ? rc : s_csv_int(agents, ac[A_TICK], UINT32_MAX, &t, err, err_len);
        if (rc != 0)
            return rc;
        if (e != episode || t != tick || strcmp(agents->fields[ac[A_AGENT]], m->names[a]) != 0) {
            snprintf(err, err_len,
                     "%s:%ld: expected episode %ld tick %ld agent %s (as in ticks.csv and "
                     "scenario.ini)",
                     agents->path, agents->line, episode, tick, m->names[a]);
            return ERR_EFORMAT;
        }
        rc = s_csv_int(agents, ac[A_REQUESTS], INT32_MAX, &v, err, err_len);
        agent_requests[a] = (int32_t)v;
        rc = rc ? rc : s_csv_int(agents, ac[A_CLICKS], INT32_MAX, &v, err, err_len);
        agent_clicks[a] = (int32_t)v;
        rc = rc ? rc : s_csv_double(agents, ac[A_REWARD], &agent_reward[a], err, err_len);
        rc = rc ? rc : s_csv_double(agents, ac[A_REGRET], &agent_regret[a], err, err_len);
        if (rc != 0)
            return rc;
        names[a] = m->names[a];
    }
    proto_telemetry_tick_t t = {.episode = (uint32_t)episode,
                                .tick = (uint32_t)tick,
                                .requests = (uint32_t)requests,
                                .clicks = (uint32_t)clicks,
                                .gini = gini,
                                .coverage = coverage,
                                .active_users = s_count_or_zero(active_users),
                                .welfare = welfare,
                                .n_agents = m->n_agents,
                                .agents = names,
                                .agent_requests = agent_requests,
                                .agent_clicks = agent_clicks,
                                .agent_reward = agent_reward,
                                .agent_regret = agent_regret};
    rc = viz_model_add_tick(m, &t);
    if (rc != 0)
        snprintf(err, err_len, "%s:%ld: %s", ticks->path, ticks->line, err_str(rc));
    return rc;
}

/* ticks.csv and agents.csv, side by side: each tick's row, then one row
 * per agent in scenario order (how the run writes them). */
static int s_load_series(viz_model_t *m, const char *dir, long episode, char *err, size_t err_len)
{
    /* required, then optional (newer) columns */
    static const char *const tick_columns[] = {"episode", "tick",     "requests",     "clicks",
                                               "gini",    "coverage", "active_users", "welfare"};
    static const char *const agent_columns[] = {"episode", "tick",   "agent", "requests",
                                                "clicks",  "reward", "regret"};
    int tc[8], ac[7];
    s_csv_t *ticks = calloc(1, sizeof *ticks), *agents = calloc(1, sizeof *agents);
    int rc = ticks && agents ? 0 : ERR_ENOMEM;
    if (rc != 0)
        snprintf(err, err_len, "out of memory");
    rc = rc ? rc : s_csv_open(ticks, dir, "ticks.csv", tick_columns, tc, 8, 6, err, err_len);
    rc = rc ? rc : s_csv_open(agents, dir, "agents.csv", agent_columns, ac, 7, 6, err, err_len);
    while (rc == 0) {
        int more = s_csv_next(ticks, 6, err, err_len);
        if (more <= 0) {
            rc = more;
            break;
        }
        long e, t;
        rc = s_csv_int(ticks, tc[0], UINT32_MAX, &e, err, err_len);
        rc = rc ? rc : s_csv_int(ticks, tc[1], UINT32_MAX, &t, err, err_len);
        if (rc == 0 && episode != VIZ_ALL_EPISODES && e != episode) {
            for (uint32_t a = 0; a < m->n_agents && rc == 0; a++)
                rc = s_next_agent_row(agents, e, t, err, err_len);
            continue;
        }
        rc = rc ? rc : s_load_tick(m, ticks, tc, agents, ac, e, t, err, err_len);
    }
    if (ticks)
        s_csv_close(ticks);
    if (agents)
        s_csv_close(agents);
    free(ticks);
    free(agents);
    return rc;
}

/* exposure.csv rows of the given episode into the model's snapshot, as of
 * tick (the episode's last). No file: no snapshot. */
static int s_load_exposure(viz_model_t *m, const char *dir, long episode, long tick,
                           uint32_t n_topics, char *err, size_t err_len)
{
    static const char *const columns[] = {"episode", "item", "topic", "exposures"};
    int col[4];
    s_csv_t *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, err_len, "out of memory");
        return ERR_ENOMEM;
    }
    snprintf(c->path, sizeof c->path, "%s/exposure.csv", dir);
    if (access(c->path, F_OK) != 0) {
        free(c);
        return 0; /* a run folder from before exposure.csv */
    }
    int rc = s_csv_open(c, dir, "exposure.csv", columns, col, 4, 4, err, err_len);
    int64_t *items = NULL, *topics = calloc(n_topics ? n_topics : 1, sizeof *topics);
    size_t n_items = 0, capacity = 0;
    if (!topics)
        rc = ERR_ENOMEM;
    while (rc == 0) {
        int more = s_csv_next(c, 4, err, err_len);
        if (more <= 0) {
            rc = more;
            break;
        }
        long e, id, topic, count;
        rc = s_csv_int(c, col[0], UINT32_MAX, &e, err, err_len);
        rc = rc ? rc : s_csv_int(c, col[1], PROTO_MAX_ITEM_IDS - 1, &id, err, err_len);
        rc = rc ? rc : s_csv_int(c, col[2], (long)n_topics - 1, &topic, err, err_len);
        rc = rc ? rc : s_csv_int(c, col[3], INT32_MAX, &count, err, err_len);
        if (rc != 0 || e != episode)
            continue;
        if ((size_t)id >= capacity) {
            size_t grown = capacity ? capacity : 1024;
            while (grown <= (size_t)id)
                grown *= 2;
            int64_t *bigger = realloc(items, grown * sizeof *bigger);
            if (!bigger) {
                rc = ERR_ENOMEM;
                break;
            }
            memset(bigger + capacity, 0, (grown - capacity) * sizeof *bigger);
            items = bigger;
            capacity = grown;
        }
        items[id] = count;
        topics[topic] += count;
        n_items = (size_t)id + 1 > n_items ? (size_t)id + 1 : n_items;
    }
    if (rc == ERR_ENOMEM)
        snprintf(err, err_len, "out of memory");
    if (rc == 0 && n_items > 0) {
        proto_telemetry_exposure_t e = {.episode = (uint32_t)episode,
                                        .tick = (uint32_t)tick,
                                        .n_items = (uint32_t)n_items,
                                        .items = items,
                                        .n_topics = n_topics,
                                        .topics = topics};
        rc = viz_model_set_exposure(m, &e);
        if (rc != 0)
            snprintf(err, err_len, "%s: %s", c->path, err_str(rc));
    }
    s_csv_close(c);
    free(c);
    free(items);
    free(topics);
    return rc;
}

/* A summary.json episode's agents (JSON array) into its Gini row: only
 * when there is one entry per model agent, by index, of the same name,
 * each with a gini (older run folders have none: nothing to do). */
static int s_summary_episode(viz_model_t *m, const char *path, size_t index, json_t *agents,
                             uint32_t episode, char *err, size_t err_len)
{
    if (!json_is_array(agents) || json_array_size(agents) != m->n_agents)
        return 0;
    double gini[PROTO_MAX_AGENTS];
    for (uint32_t a = 0; a < m->n_agents; a++) {
        json_t *agent = json_array_get(agents, a), *value = json_object_get(agent, "gini");
        const char *name = json_string_value(json_object_get(agent, "name"));
        if (!value || !name || strcmp(name, m->names[a]) != 0)
            return 0;
        gini[a] = json_is_number(value) ? json_number_value(value) : NAN;
        if (!(gini[a] >= 0 && gini[a] <= 1)) {
            snprintf(err, err_len, "%s: episodes[%zu].agents[%u].gini: expected a number in [0, 1]",
                     path, index, (unsigned)a);
            return ERR_EFORMAT;
        }
    }
    viz_model_set_agent_gini(m, episode, gini);
    return 0;
}

/* Each agent's exposure Gini per episode, from summary.json's
 * episodes[].agents[].gini. No file: none (a run folder from before it,
 * or a hand-made one). */
static int s_load_summary(viz_model_t *m, const char *dir, char *err, size_t err_len)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/summary.json", dir);
    if (access(path, F_OK) != 0)
        return 0;
    json_error_t why;
    json_t *root = json_load_file(path, 0, &why);
    if (!root) {
        snprintf(err, err_len, "%s:%d: %s", path, why.line, why.text);
        return ERR_EFORMAT;
    }
    int rc = 0;
    json_t *episodes = json_object_get(root, "episodes");
    if (episodes && !json_is_array(episodes)) {
        snprintf(err, err_len, "%s: episodes: expected an array", path);
        rc = ERR_EFORMAT;
    }
    for (size_t i = 0; rc == 0 && i < json_array_size(episodes); i++) {
        json_t *e = json_array_get(episodes, i), *number = json_object_get(e, "episode");
        json_int_t episode = json_is_integer(number) ? json_integer_value(number) : -1;
        if (episode < 0 || episode > (json_int_t)UINT32_MAX) {
            snprintf(err, err_len, "%s: episodes[%zu].episode: expected an episode index", path, i);
            rc = ERR_EFORMAT;
            break;
        }
        rc = s_summary_episode(m, path, i, json_object_get(e, "agents"), (uint32_t)episode, err,
                               err_len);
    }
    json_decref(root);
    return rc;
}

int viz_rundir_load(viz_model_t *m, const char *dir, long episode, char *err, size_t err_len)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/scenario.ini", dir);
    uint32_t n_topics = 0;
    int rc = s_read_scenario(m, path, &n_topics, err, err_len);
    rc = rc ? rc : s_load_series(m, dir, episode, err, err_len);
    rc = rc ? rc : s_load_summary(m, dir, err, err_len);
    if (rc == 0 && m->n_points == 0 && episode != VIZ_ALL_EPISODES) {
        snprintf(err, err_len, "%s: no episode %ld in ticks.csv", dir, episode);
        rc = ERR_EINVAL;
    }
    if (rc == 0 && m->n_points > 0) {
        const viz_point_t *last = &m->points[m->n_points - 1];
        rc = s_load_exposure(m, dir, (long)last->episode, (long)last->tick, n_topics, err, err_len);
    }
    if (rc != 0)
        viz_model_clear(m);
    return rc; /* an empty run folder (no ticks) draws empty charts */
}
