/* The in-process run loop, its outputs and its terminal report (run.h). */
#include "sim/run.h"

#include "core/metrics.h"
#include "core/text.h"
#include "sim/catalog_file.h"
#include "sim/folder.h"
#include "sim/runlog.h"
#include "sim/outdir.h"
#include "sim/policy.h"
#include "sim/server.h"
#include "sim/session.h"
#include "sim/streams.h"
#include "sim/tick.h"
#include "sim/viewer.h"
#include "sim/world.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct s_outputs {
    FILE *ticks, *agents, *summary, *exposure;
    char dir[1100];
} s_outputs_t;

static FILE *s_open_in(const char *dir, const char *name)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        fprintf(stderr, "recarena: cannot write %s: %s\n", path, strerror(errno));
    return f;
}

/* mkdir -p for the parent folders of path */
static int s_make_parents(const char *path)
{
    char buf[1100];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return 0;
}

static void s_progress(int done, int total, int episode, int episodes, int tick, int ticks)
{
    const int width = 30;
    int filled = (int)((long)done * width / total);
    fprintf(stderr, "\r[");
    for (int i = 0; i < width; i++)
        fputc(i < filled ? '=' : (i == filled ? '>' : ' '), stderr);
    fprintf(stderr, "] %3d%%  episode %d/%d  tick %d/%d ", (int)((long)done * 100 / total),
            episode + 1, episodes, tick, ticks);
    fflush(stderr);
}

/* User pairs behind ticks.csv's jaccard column (world_sample_jaccard):
 * a standard error of at most 0.5 / sqrt(500) = 0.022 on the tick's mean. */
#define S_TICK_JACCARD_PAIRS 500

static void s_write_tick(s_outputs_t *o, const scenario_t *sc, uint32_t episode,
                         const world_tick_stats_t *st, double jaccard)
{
    fprintf(o->ticks,
            "%" PRIu32 ",%d,%d,%d,%d,%.9g,%d,%d,%d,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g\n",
            episode, st->tick, st->active_users, st->requests, st->clicks,
            st->requests ? (double)st->clicks / st->requests : 0.0, st->session_ends, st->returns,
            st->items_live, st->welfare, st->ild, st->topics_consumed_share, st->gini, st->coverage,
            st->entropy, st->welfare_initial, jaccard);
    for (int a = 0; a < sc->n_agents; a++)
        fprintf(o->agents, "%" PRIu32 ",%d,%s,%d,%d,%.9g,%.9g\n", episode, st->tick,
                sc->agents[a].name, st->agent_requests[a], st->agent_clicks[a], st->agent_reward[a],
                st->agent_regret[a]);
}

/* Exposure per item id at the episode's end (what the viewer's Lorenz
 * curve and per-topic panels draw from a run folder). */
static void s_write_exposure(s_outputs_t *o, uint32_t episode, const world_t *w)
{
    const uint32_t *exposure = world_exposure(w);
    for (int32_t id = 0; id < world_item_count(w); id++)
        fprintf(o->exposure, "%" PRIu32 ",%" PRId32 ",%" PRId32 ",%" PRIu32 "\n", episode, id,
                world_item(w, id)->topic, exposure[id]);
}

/* Per-agent exposure: how often each item id appeared in the agent's own
 * slates this episode, (n_agents, item capacity); the exposure diversity
 * of what each agent recommended (Gini, coverage), whatever the page the
 * user finally saw. */
typedef struct s_agent_exposure {
    uint32_t *counts;  /* (n_agents, capacity) */
    uint32_t *scratch; /* (2 capacity), for metrics_gini */
    size_t capacity;
} s_agent_exposure_t;

static void s_agent_exposure_add(s_agent_exposure_t *x, const scenario_t *sc, const world_t *w)
{
    for (int a = 0; a < sc->n_agents; a++) {
        const int32_t *slates = world_slates(w, a);
        size_t n = (size_t)world_requests(w, a)->n * (size_t)sc->world.slate_size;
        uint32_t *counts = x->counts + (size_t)a * x->capacity;
        for (size_t i = 0; slates && i < n; i++)
            if (slates[i] >= 0 && (size_t)slates[i] < x->capacity)
                counts[slates[i]]++;
    }
}

/* One episode's figures per agent that the world does not give: the
 * exposure diversity of the agent's slates and its server counters over
 * this episode alone. */
typedef struct s_agent_extra {
    double gini, coverage;
    bool remote;
    server_agent_stats_t counters; /* this episode's */
} s_agent_extra_t;

/* Means over episodes (sums here, divided when written) and run totals. */
typedef struct s_totals {
    world_episode_metrics_t sum;
    s_agent_extra_t extra[SCENARIO_MAX_AGENTS];
    int episodes;
} s_totals_t;

static void s_add(s_totals_t *t, const world_episode_metrics_t *m, const s_agent_extra_t *extra,
                  int n_agents)
{
    world_episode_metrics_t *s = &t->sum;
    t->episodes++;
    s->ticks += m->ticks;
    s->requests += m->requests;
    s->clicks += m->clicks;
    s->session_ends += m->session_ends;
    s->ctr += m->ctr;
    s->welfare += m->welfare;
    s->welfare_per_request += m->welfare_per_request;
    s->welfare_initial += m->welfare_initial;
    s->gini += m->gini;
    s->coverage += m->coverage;
    s->entropy += m->entropy;
    s->entropy_normalized += m->entropy_normalized;
    s->ild += m->ild;
    s->jaccard += m->jaccard;
    s->interest_similarity += m->interest_similarity;
    s->mean_active_users += m->mean_active_users;
    s->churn += m->churn;
    s->hhi += m->hhi;
    for (int a = 0; a < n_agents; a++) {
        s->agent_requests[a] += m->agent_requests[a];
        s->agent_clicks[a] += m->agent_clicks[a];
        s->agent_ctr[a] += m->agent_ctr[a];
        s->agent_reward[a] += m->agent_reward[a];
        s->agent_regret[a] += m->agent_regret[a];
        s->agent_share[a] += m->agent_share[a];
        s_agent_extra_t *x = &t->extra[a];
        const server_agent_stats_t *c = &extra[a].counters;
        x->gini += extra[a].gini;
        x->coverage += extra[a].coverage;
        x->remote = extra[a].remote;
        x->counters.fallback_missed += c->fallback_missed;
        x->counters.fallback_invalid += c->fallback_invalid;
        x->counters.deadline_misses += c->deadline_misses;
        x->counters.invalid_acts += c->invalid_acts;
        x->counters.disconnects += c->disconnects;
        x->counters.reconnects += c->reconnects;
    }
}

/* A regret figure: null without the oracle (the world reports 0 then). */
static void s_json_regret(FILE *f, const scenario_t *sc, double regret)
{
    if (sc->world.oracle)
        fprintf(f, ", \"regret\": %.9g", regret);
    else
        fprintf(f, ", \"regret\": null");
}

/* The counters of a remote agent, each divided by div (1: a count). */
static void s_json_counters(FILE *f, const server_agent_stats_t *x, double div)
{
    fprintf(f,
            ",\n        \"fallback_missed\": %.9g, \"fallback_invalid\": %.9g, "
            "\"deadline_misses\": %.9g, \"invalid_acts\": %.9g, \"disconnects\": %.9g, "
            "\"reconnects\": %.9g",
            x->fallback_missed / div, x->fallback_invalid / div, x->deadline_misses / div,
            x->invalid_acts / div, x->disconnects / div, x->reconnects / div);
}

/* The figures of one episode (div 1), or their means over episodes (sums
 * divided by the episode count): the same names in both. */
static void s_json_figures(FILE *f, const scenario_t *sc, const world_episode_metrics_t *m,
                           const s_agent_extra_t *extra, double div)
{
    fprintf(f,
            "\"ticks\": %.9g, \"requests\": %.9g, \"clicks\": %.9g, \"ctr\": %.9g,\n"
            "     \"welfare\": %.9g, \"welfare_per_request\": %.9g, \"welfare_initial\": %.9g, "
            "\"mean_active_users\": %.9g, \"session_ends\": %.9g, \"churn\": %.9g,\n"
            "     \"gini\": %.9g, \"coverage\": %.9g, \"entropy\": %.9g, "
            "\"entropy_normalized\": %.9g, \"ild\": %.9g,\n"
            "     \"jaccard\": %.9g, \"interest_similarity\": %.9g, \"hhi\": %.9g,\n"
            "     \"agents\": [\n",
            m->ticks / div, m->requests / div, m->clicks / div, m->ctr / div, m->welfare / div,
            m->welfare_per_request / div, m->welfare_initial / div, m->mean_active_users / div,
            m->session_ends / div, m->churn / div, m->gini / div, m->coverage / div,
            m->entropy / div, m->entropy_normalized / div, m->ild / div, m->jaccard / div,
            m->interest_similarity / div, m->hhi / div);
    for (int a = 0; a < sc->n_agents; a++) {
        fprintf(f,
                "       {\"name\": \"%s\", \"requests\": %.9g, \"clicks\": %.9g, \"ctr\": %.9g, "
                "\"reward\": %.9g",
                sc->agents[a].name, m->agent_requests[a] / div, m->agent_clicks[a] / div,
                m->agent_ctr[a] / div, m->agent_reward[a] / div);
        s_json_regret(f, sc, m->agent_regret[a] / div);
        fprintf(f, ", \"share\": %.9g, \"gini\": %.9g, \"coverage\": %.9g", m->agent_share[a] / div,
                extra[a].gini / div, extra[a].coverage / div);
        if (extra[a].remote)
            s_json_counters(f, &extra[a].counters, div);
        fprintf(f, "}%s\n", a + 1 < sc->n_agents ? "," : "");
    }
    fprintf(f, "     ]}");
}

static void s_json_episode(FILE *f, const scenario_t *sc, uint32_t episode,
                           const world_episode_metrics_t *m, const s_agent_extra_t *extra,
                           bool first)
{
    fprintf(f, "%s    {\"episode\": %" PRIu32 ", ", first ? "" : ",\n", episode);
    s_json_figures(f, sc, m, extra, 1.0);
}

/* The run totals: sums over episodes of what is a count or a sum. */
static void s_json_totals(FILE *f, const scenario_t *sc, const s_totals_t *t)
{
    const world_episode_metrics_t *s = &t->sum;
    fprintf(f,
            "  \"totals\": {\"episodes\": %d, \"ticks\": %d, \"requests\": %ld, \"clicks\": %ld, "
            "\"welfare\": %.9g, \"welfare_initial\": %.9g, \"session_ends\": %ld,\n"
            "     \"agents\": [\n",
            t->episodes, s->ticks, s->requests, s->clicks, s->welfare, s->welfare_initial,
            s->session_ends);
    for (int a = 0; a < sc->n_agents; a++) {
        fprintf(f, "       {\"name\": \"%s\", \"requests\": %ld, \"clicks\": %ld, \"reward\": %.9g",
                sc->agents[a].name, s->agent_requests[a], s->agent_clicks[a], s->agent_reward[a]);
        s_json_regret(f, sc, s->agent_regret[a]);
        if (t->extra[a].remote)
            s_json_counters(f, &t->extra[a].counters, 1.0);
        fprintf(f, "}%s\n", a + 1 < sc->n_agents ? "," : "");
    }
    fprintf(f, "     ]}\n");
}

/* The end of summary.json, after the episodes: means over episodes and
 * run totals, kept apart and named so. */
static void s_json_end(FILE *f, const scenario_t *sc, const s_totals_t *t)
{
    fprintf(f, "\n  ],\n  \"per_episode\": {");
    s_json_figures(f, sc, &t->sum, t->extra, t->episodes > 0 ? t->episodes : 1);
    fprintf(f, ",\n");
    s_json_totals(f, sc, t);
    fprintf(f, "}\n");
}

static void s_print_table(const scenario_t *sc, const s_totals_t *t)
{
    const world_episode_metrics_t *s = &t->sum;
    double e = t->episodes;
    printf("\n%s: %d episode(s) x %d ticks, seed %" PRIu64 ", %s mode\n\n", sc->name, t->episodes,
           sc->world.ticks, sc->seed, sc->world.mode == WORLD_MODE_MARKET ? "market" : "feed");
    printf("%-16s %-12s %10s %9s %7s %10s %10s %7s %7s %7s\n", "", "", "total", "total", "", "", "",
           "", "", "");
    printf("%-16s %-12s %10s %9s %7s %10s %10s %7s %7s %7s\n", "agent", "policy", "requests",
           "clicks", "CTR", "reward/ep", "regret/ep", "share", "Gini", "cover");
    for (int a = 0; a < sc->n_agents; a++) {
        const scenario_agent_t *ag = &sc->agents[a];
        char regret[32];
        if (sc->world.oracle)
            snprintf(regret, sizeof regret, "%.2f", s->agent_regret[a] / e);
        else
            snprintf(regret, sizeof regret, "n/a");
        printf("%-16s %-12s %10ld %9ld %7.4f %10.2f %10s %7.3f %7.3f %7.3f\n", ag->name,
               ag->policy[0] ? ag->policy : "process", s->agent_requests[a], s->agent_clicks[a],
               s->agent_requests[a] ? (double)s->agent_clicks[a] / s->agent_requests[a] : 0.0,
               s->agent_reward[a] / e, regret, s->agent_share[a] / e, t->extra[a].gini / e,
               t->extra[a].coverage / e);
    }
    printf("(requests, clicks and CTR: totals over the run; the rest: means per episode)\n");
    for (int a = 0; a < sc->n_agents; a++) {
        const server_agent_stats_t *x = &t->extra[a].counters;
        if (!t->extra[a].remote ||
            x->fallback_missed + x->fallback_invalid + x->disconnects + x->reconnects == 0)
            continue;
        printf("  %s (totals over the run): %ld request(s) served by the fallback (%ld missed "
               "deadline or absent, %ld invalid); %ld deadline miss(es), %ld invalid ACT(s), %ld "
               "disconnect(s), %ld reconnect(s)\n",
               sc->agents[a].name, x->fallback_missed + x->fallback_invalid, x->fallback_missed,
               x->fallback_invalid, x->deadline_misses, x->invalid_acts, x->disconnects,
               x->reconnects);
    }
    printf("\nsystem (mean per episode)\n");
    printf("  CTR %.4f   welfare/request %.4f   active users %.1f   churn %.4f   HHI %.4f\n",
           s->requests ? (double)s->clicks / s->requests : 0.0,
           s->requests ? s->welfare / s->requests : 0.0, s->mean_active_users / e, s->churn / e,
           s->hhi / e);
    printf("  exposure Gini %.4f   coverage %.4f   entropy (normalised) %.4f   ILD %.4f\n",
           s->gini / e, s->coverage / e, s->entropy_normalized / e, s->ild / e);
    printf("  homogenization: Jaccard %.4f   interest similarity %.4f\n", s->jaccard / e,
           s->interest_similarity / e);
}

/* The exposure diversity of each agent's slates this episode, and the
 * Gini alone in gini (n_agents), for the episode's telemetry: before the
 * episode ends. */
static void s_episode_diversity(const scenario_t *sc, const world_t *w, s_agent_exposure_t *x,
                                s_agent_extra_t *extra, double *gini)
{
    size_t n_items = (size_t)world_item_count(w);
    for (int a = 0; a < sc->n_agents; a++) {
        const uint32_t *counts = x->counts + (size_t)a * x->capacity;
        extra[a] = (s_agent_extra_t){.gini = metrics_gini(counts, n_items, x->scratch),
                                     .coverage = metrics_coverage(counts, n_items)};
        gini[a] = extra[a].gini;
    }
}

/* Each remote agent's server counters since the episode began (start:
 * the cumulative counters then; updated to now): after its end. */
static void s_episode_counters(const scenario_t *sc, const server_t *server,
                               server_agent_stats_t *start, s_agent_extra_t *extra)
{
    for (int a = 0; a < sc->n_agents; a++) {
        if (server && server_is_remote(server, a)) {
            const server_agent_stats_t *now = server_agent_stats(server, a);
            extra[a].remote = true;
            extra[a].counters = (server_agent_stats_t){
                .fallback_missed = now->fallback_missed - start[a].fallback_missed,
                .fallback_invalid = now->fallback_invalid - start[a].fallback_invalid,
                .deadline_misses = now->deadline_misses - start[a].deadline_misses,
                .invalid_acts = now->invalid_acts - start[a].invalid_acts,
                .disconnects = now->disconnects - start[a].disconnects,
                .reconnects = now->reconnects - start[a].reconnects};
            start[a] = *now;
        }
    }
}

/* Closes f (NULL: nothing to do); a write that failed, now or earlier, is
 * named with its file and reason on stderr when report is set. 0 or -1. */
static int s_close_file(FILE *f, const char *dir, const char *name, bool report)
{
    if (!f)
        return 0;
    errno = 0;
    bool failed = fflush(f) != 0 || ferror(f);
    int e = errno;
    if (fclose(f) != 0 && !failed) {
        failed = true;
        e = errno;
    }
    if (failed && report)
        fprintf(stderr, "\nrecarena: writing %s/%s failed: %s\n", dir, name,
                e ? strerror(e) : "write error");
    return failed ? -1 : 0;
}

/* Closes the run's files, naming the first that failed when report is set. */
static int s_close_outputs(s_outputs_t *o, bool report)
{
    int rc = 0;
    FILE **files[] = {&o->ticks, &o->agents, &o->summary, &o->exposure};
    static const char *const names[] = {"ticks.csv", "agents.csv", "summary.json", "exposure.csv"};
    for (size_t i = 0; i < 4; i++) {
        if (s_close_file(*files[i], o->dir, names[i], report && rc == 0) != 0)
            rc = ERR_EIO;
        *files[i] = NULL;
    }
    return rc;
}

static int s_open_outputs(s_outputs_t *o, const scenario_t *sc)
{
    o->ticks = s_open_in(o->dir, "ticks.csv");
    o->agents = s_open_in(o->dir, "agents.csv");
    o->summary = s_open_in(o->dir, "summary.json");
    o->exposure = s_open_in(o->dir, "exposure.csv");
    FILE *ini = s_open_in(o->dir, "scenario.ini");
    FILE *seed = s_open_in(o->dir, "seed.txt");
    int rc = (o->ticks && o->agents && o->summary && o->exposure && ini && seed) ? 0 : ERR_EIO;
    if (rc == 0) {
        if (scenario_write(sc, ini) != 0)
            rc = ERR_EIO;
        fprintf(seed, "%" PRIu64 "\n", sc->seed);
        fprintf(o->ticks, "episode,tick,active_users,requests,clicks,ctr,session_ends,returns,"
                          "items_live,welfare,ild,topics_consumed_share,gini,coverage,entropy,"
                          "welfare_initial,jaccard\n");
        fprintf(o->agents, "episode,tick,agent,requests,clicks,reward,regret\n");
        fprintf(o->exposure, "episode,item,topic,exposures\n");
        fprintf(o->summary,
                "{\n  \"scenario\": \"%s\",\n  \"seed\": %" PRIu64 ",\n"
                "  \"episodes\": [\n",
                sc->name, sc->seed);
    }
    if (s_close_file(ini, o->dir, "scenario.ini", true) != 0)
        rc = ERR_EIO;
    if (s_close_file(seed, o->dir, "seed.txt", true) != 0)
        rc = ERR_EIO;
    return rc;
}

/* --view: the viewer on the run's telemetry, told the resolved scenario;
 * a viewer that does not start does not stop the run. */
static void s_start_viewer(const char *viewer, const session_t *session, const char *dir)
{
    char ini[1200], err[512];
    snprintf(ini, sizeof ini, "%s/scenario.ini", dir);
    if (viewer_start(viewer, session_telemetry_endpoint(session), ini, VIEWER_READY_TIMEOUT_MS, err,
                     sizeof err) != 0)
        fprintf(stderr, "recarena: %s\n", err);
}

/* The tick just resolved into the run log, with each in-process policy's
 * propensity and what agent processes reported in their ACTs (NaN where
 * they did not). */
static int s_log_tick(runlog_t *log, const world_t *w, policy_t *const *policies,
                      const server_t *server, double *const *propensity, uint32_t episode)
{
    int n_agents = world_config(w)->n_agents;
    for (int a = 0; a < n_agents; a++) {
        int n = world_requests(w, a)->n;
        const double *reported = server ? server_propensity(server, a) : NULL;
        double p = policies[a] ? policy_propensity(policies[a], w) : NAN;
        for (int j = 0; j < n; j++)
            propensity[a][j] = reported ? reported[j] : p;
    }
    return runlog_add_tick(log, w, episode, (const double *const *)propensity);
}

/* The catalog's titles as CATALOG carries them (docs/protocol.md): one
 * per item id below n_items, each cut at a character boundary to
 * PROTO_MAX_TITLE bytes; *out (n_items) and its strings are the caller's
 * (s_titles_free). A title that is not valid UTF-8, or titles that would
 * make the first CATALOG larger than one message, stop the run before
 * anything is written: 0, ERR_EFORMAT, ERR_ELIMIT or ERR_ENOMEM, with a
 * message on stderr. */
static int s_titles_new(const catalog_file_t *catalog, const world_config_t *cfg, char ***out)
{
    char **titles = calloc((size_t)cfg->n_items, sizeof *titles);
    if (!titles)
        goto fail_memory;
    double bytes = 512.0 + (double)cfg->n_items * (3 * 4.0 + 4.0 * cfg->dim);
    for (int i = 0; i < cfg->n_items; i++) {
        const char *t = catalog_file_title(catalog, i);
        t = t ? t : "";
        bool utf8;
        size_t keep = text_utf8_prefix(t, PROTO_MAX_TITLE, &utf8);
        if (!utf8) {
            fprintf(stderr,
                    "recarena: world.catalog: %s: the title of item %s is not valid UTF-8\n",
                    cfg->catalog, catalog_file_id(catalog, i));
            *out = titles;
            return ERR_EFORMAT;
        }
        titles[i] = malloc(keep + 1);
        if (!titles[i])
            goto fail_memory;
        memcpy(titles[i], t, keep);
        titles[i][keep] = '\0';
        bytes += (double)keep + 1.0;
    }
    *out = titles;
    if (bytes > PROTO_MAX_MESSAGE_BYTES) {
        fprintf(stderr,
                "recarena: world.catalog: %s: a CATALOG of its %d items with their titles takes "
                "about %.0f bytes, more than the %u of one message (PROTO_MAX_MESSAGE_BYTES)\n",
                cfg->catalog, cfg->n_items, bytes, PROTO_MAX_MESSAGE_BYTES);
        return ERR_ELIMIT;
    }
    return 0;
fail_memory:
    fprintf(stderr, "recarena: out of memory for the catalog's titles\n");
    *out = titles;
    return ERR_ENOMEM;
}

static void s_titles_free(char **titles, int n)
{
    for (int i = 0; titles && i < n; i++)
        free(titles[i]);
    free(titles);
}

static volatile sig_atomic_t s_stop_signal;

static void s_on_signal(int sig)
{
    s_stop_signal = sig;
    server_interrupt();
}

int run_scenario(const scenario_t *sc, const run_options_t *opt)
{
    int rc = 0;
    bool any_remote = false;
    for (int a = 0; a < sc->n_agents; a++)
        any_remote = any_remote || sc->agents[a].command[0];

    char final_dir[OUTDIR_PATH_MAX + 1], why[2 * OUTDIR_PATH_MAX + 200];
    if (opt->out_dir && strlen(opt->out_dir) <= OUTDIR_PATH_MAX)
        snprintf(final_dir, sizeof final_dir, "%s", opt->out_dir);
    else if (!opt->out_dir)
        snprintf(final_dir, sizeof final_dir, "runs/%s-seed%" PRIu64, sc->name, sc->seed);
    else
        final_dir[0] = '\0'; /* refused just below */
    /* the folder's rules, then again under its lock (another run may have
     * written it meanwhile) */
    outdir_lock_t lock = {.fd = -1};
    const char *shown = opt->out_dir ? opt->out_dir : final_dir;
    int refused = outdir_check(shown, why, sizeof why);
    if (refused == 0 && s_make_parents(final_dir) != 0) {
        snprintf(why, sizeof why, "cannot create its parent folders: %s", strerror(errno));
        refused = -1;
    }
    if (refused == 0)
        refused = outdir_lock(&lock, final_dir, why, sizeof why);
    if (refused == 0)
        refused = outdir_check(final_dir, why, sizeof why);
    if (refused != 0) {
        fprintf(stderr, "recarena: run folder %s: %s\n", strlen(shown) > 80 ? "DIR" : shown, why);
        outdir_unlock(&lock);
        return ERR_EIO;
    }
    outdir_remove_stale(final_dir);

    catalog_file_t *catalog = NULL;
    if (catalog_file_wanted(&sc->world)) {
        char catalog_why[1500];
        rc = catalog_file_load(&catalog, &sc->world, sc->seed, catalog_why, sizeof catalog_why);
        if (rc != 0) {
            fprintf(stderr, "recarena: %s\n", catalog_why);
            outdir_unlock(&lock);
            return rc;
        }
    }
    char **titles = NULL; /* for agent processes, when the catalog has titles */
    if (catalog && catalog_file_has_titles(catalog) && any_remote) {
        rc = s_titles_new(catalog, &sc->world, &titles);
        if (rc != 0) {
            s_titles_free(titles, sc->world.n_items);
            catalog_file_destroy(&catalog);
            outdir_unlock(&lock);
            return rc;
        }
    }
    world_t *w =
        world_new_catalog(&sc->world, sc->seed, catalog ? catalog_file_world(catalog) : NULL);
    policy_t *policies[SCENARIO_MAX_AGENTS] = {0};
    s_agent_exposure_t exposure = {0};
    s_outputs_t out = {0};
    session_t *session = NULL;
    server_t *server = NULL;
    struct sigaction old_int, old_term, old_hup, on_signal = {.sa_handler = s_on_signal};
    sigemptyset(&on_signal.sa_mask);
    s_stop_signal = 0;
    sigaction(SIGINT, &on_signal, &old_int);
    sigaction(SIGTERM, &on_signal, &old_term);
    sigaction(SIGHUP, &on_signal, &old_hup); /* a closed terminal ends a run like SIGTERM */
    if (!w) {
        fprintf(stderr, "recarena: cannot allocate the world (%d users, %d items)\n",
                sc->world.n_users, sc->world.n_items);
        rc = ERR_ENOMEM;
        goto done;
    }
    exposure.capacity = (size_t)world_item_capacity(w);
    exposure.counts = calloc((size_t)sc->n_agents * exposure.capacity, sizeof(uint32_t));
    exposure.scratch = calloc(2 * exposure.capacity, sizeof(uint32_t));
    bool policies_ok = true;
    for (int a = 0; a < sc->n_agents; a++) {
        if (sc->agents[a].command[0])
            continue;
        policy_kind_t kind = POLICY_RANDOM;
        policy_kind_parse(sc->agents[a].policy, &kind);
        policies[a] = policy_new(kind, sc->seed, a, sc->world.slate_size);
        policies_ok = policies_ok && policies[a];
    }
    if (!policies_ok || !exposure.counts || !exposure.scratch) {
        fprintf(stderr, "recarena: out of memory\n");
        rc = ERR_ENOMEM;
        goto done;
    }

    snprintf(out.dir, sizeof out.dir, "%s.partial-%ld", final_dir, (long)getpid());
    if (mkdir(out.dir, 0777) != 0) {
        fprintf(stderr, "recarena: cannot create %s: %s\n", out.dir, strerror(errno));
        out.dir[0] = '\0';
        rc = ERR_EIO;
        goto done;
    }
    if (outdir_write_marker(out.dir, why, sizeof why) != 0) {
        fprintf(stderr, "recarena: %s\n", why);
        rc = ERR_EIO;
        goto done;
    }
    rc = s_open_outputs(&out, sc);
    if (rc == 0 && (any_remote || opt->viewer)) {
        session_options_t so = {.serve_endpoint = opt->serve_endpoint,
                                .telemetry_endpoint = opt->telemetry_endpoint,
                                .log_dir = out.dir,
                                .no_banner = opt->quiet,
                                .titles = (const char *const *)titles,
                                .n_titles = titles ? sc->world.n_items : 0};
        rc = session_open(&session, sc, w, &so);
        server = session ? session_server(session) : NULL;
    }
    if (rc == 0 && opt->viewer)
        s_start_viewer(opt->viewer, session, out.dir);
    if (rc != 0)
        goto done;

    runlog_t *log = NULL;
    double *propensity[SCENARIO_MAX_AGENTS] = {0};
    if (sc->log) {
        log = runlog_new(sc->world.dim, sc->world.slate_size);
        bool ok = log != NULL;
        for (int a = 0; a < sc->n_agents && ok; a++)
            ok = (propensity[a] = malloc((size_t)sc->world.n_users * sizeof **propensity));
        if (!ok) {
            fprintf(stderr, "recarena: out of memory for run.log\n");
            rc = ERR_ENOMEM;
            goto done_log;
        }
    }
    s_totals_t totals = {0};
    server_agent_stats_t counters_start[SCENARIO_MAX_AGENTS] = {0};
    int total_ticks = sc->episodes * sc->world.ticks, done_ticks = 0;
    for (int ep = 0; ep < sc->episodes && rc == 0; ep++) {
        world_reset(w, (uint32_t)ep);
        memset(exposure.counts, 0, (size_t)sc->n_agents * exposure.capacity * sizeof(uint32_t));
        for (int a = 0; a < sc->n_agents; a++)
            if (policies[a])
                policy_reset(policies[a], (uint32_t)ep);
        if (server)
            server_begin_episode(server); /* not fatal, as server_end_episode */
        pcg32_t tick_metrics;
        pcg32_stream(&tick_metrics, sc->seed, SIM_STREAM_TICK_METRICS, (uint32_t)ep);
        for (int t = 0; t < sc->world.ticks && rc == 0; t++) {
            world_tick_stats_t st;
            rc = tick_play(w, policies, server, &st, NULL);
            if (rc == 0 && s_stop_signal)
                rc = ERR_EINTR;
            if (rc != 0 && rc != ERR_EINTR)
                fprintf(stderr, "\nrecarena: episode %d tick %d failed: %s\n", ep, t, err_str(rc));
            if (rc == 0 && log)
                rc = s_log_tick(log, w, policies, server, propensity, (uint32_t)ep);
            double jaccard = 0.0;
            if (rc == 0)
                rc = world_sample_jaccard(w, S_TICK_JACCARD_PAIRS, &tick_metrics, &jaccard);
            if (rc == 0) {
                s_write_tick(&out, sc, (uint32_t)ep, &st, jaccard);
                s_agent_exposure_add(&exposure, sc, w);
            }
            done_ticks++;
            if (opt->progress && (done_ticks % 10 == 0 || done_ticks == total_ticks))
                s_progress(done_ticks, total_ticks, ep, sc->episodes, t + 1, sc->world.ticks);
        }
        world_episode_metrics_t m;
        if (rc == 0) {
            rc = world_episode_metrics(w, &m);
            if (rc != 0)
                fprintf(stderr, "\nrecarena: episode %d metrics failed: %s\n", ep, err_str(rc));
        }
        if (rc == 0) {
            /* not fatal: an agent that missed its EPISODE_END was named on
             * stderr and is resynced when it answers again */
            s_agent_extra_t extra[SCENARIO_MAX_AGENTS];
            double gini[SCENARIO_MAX_AGENTS];
            s_episode_diversity(sc, w, &exposure, extra, gini);
            if (server)
                server_end_episode(server, &m, gini);
            s_episode_counters(sc, server, counters_start, extra);
            s_json_episode(out.summary, sc, (uint32_t)ep, &m, extra, ep == 0);
            s_write_exposure(&out, (uint32_t)ep, w);
            s_add(&totals, &m, extra, sc->n_agents);
        }
    }
    if (opt->progress)
        fputc('\n', stderr);
    if (rc == ERR_EINTR)
        fprintf(stderr, "recarena: interrupted; nothing written\n");
    if (rc == 0)
        s_json_end(out.summary, sc, &totals);
    if (rc == 0 && log) {
        char path[sizeof out.dir + 16];
        snprintf(path, sizeof path, "%s/log.npz", out.dir);
        rc = runlog_write_npz(log, path);
        if (rc != 0)
            fprintf(stderr, "recarena: cannot write %s: %s\n", path, err_str(rc));
    }
done_log:
    runlog_destroy(&log);
    for (int a = 0; a < SCENARIO_MAX_AGENTS; a++)
        free(propensity[a]);
    if (s_close_outputs(&out, rc == 0) != 0 && rc == 0)
        rc = ERR_EIO;
    if (rc == 0 && !opt->quiet)
        s_print_table(sc, &totals);
    session_close(&session, rc == 0 ? "run complete" : "run aborted");
    server = NULL;
    if (rc == 0) {
        int replaced = outdir_replace(out.dir, final_dir, why, sizeof why);
        if (replaced != 0)
            fprintf(stderr, "recarena: %s\n", why);
        if (replaced < 0)
            rc = ERR_EIO;
        else
            out.dir[0] = '\0'; /* it is final_dir now */
    }
    if (rc == 0 && !opt->quiet)
        printf("\nrun folder: %s\n", final_dir);

done:
    session_close(&session, "run aborted");
    s_close_outputs(&out, false);
    if (rc != 0 && out.dir[0])
        folder_remove(out.dir);
    for (int a = 0; a < sc->n_agents; a++)
        policy_destroy(&policies[a]);
    free(exposure.counts);
    free(exposure.scratch);
    world_destroy(&w);
    catalog_file_destroy(&catalog);
    s_titles_free(titles, sc->world.n_items);
    outdir_unlock(&lock);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    return rc;
}
