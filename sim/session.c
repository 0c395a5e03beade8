/* Server plus agent processes (session.h). */
#include "sim/session.h"

#include "sim/folder.h"
#include "sim/launcher.h"
#include "proto/transport.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct session {
    server_t *server;
    launcher_t *launcher;
    char ipc_dir[64];
    char control[128], telemetry[128];
};

void session_close(session_t **self_p, const char *reason)
{
    if (!self_p || !*self_p)
        return;
    session_t *s = *self_p;
    server_destroy(&s->server, reason);
    /* agents told BYE get 10 s to finish: a learner still training on the
     * last tick under load must not lose its last log line (then SIGTERM,
     * then SIGKILL; an agent that ends at once costs nothing) */
    launcher_destroy(&s->launcher, 10000);
    if (s->ipc_dir[0])
        folder_remove(s->ipc_dir);
    free(s);
    *self_p = NULL;
}

server_t *session_server(session_t *s)
{
    return s->server;
}

const char *session_telemetry_endpoint(const session_t *s)
{
    return s->telemetry[0] ? s->telemetry : NULL;
}

/* Prints the last lines an agent wrote (its log is removed with the
 * partial run folder when the run fails). */
static void s_print_log_tail(const char *log_dir, const char *name)
{
    char path[1400], tail[2048];
    snprintf(path, sizeof path, "%s/agent-%s.log", log_dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    long start = size > (long)sizeof tail - 1 ? size - (long)sizeof tail + 1 : 0;
    fseek(f, start, SEEK_SET);
    size_t n = fread(tail, 1, sizeof tail - 1, f);
    fclose(f);
    tail[n] = '\0';
    if (n == 0) {
        fprintf(stderr, "  (agent %s wrote nothing)\n", name);
        return;
    }
    fprintf(stderr, "  last output of agent %s:\n", name);
    for (char *line = strtok(tail, "\n"); line; line = strtok(NULL, "\n"))
        fprintf(stderr, "  | %s\n", line);
}

static int s_spawn_all(session_t *s, const scenario_t *sc, const char *log_dir)
{
    char err[512];
    s->launcher = launcher_new();
    if (!s->launcher)
        return ERR_ENOMEM;
    for (int a = 0; a < sc->n_agents; a++) {
        if (!server_is_remote(s->server, a))
            continue;
        char log[1400];
        snprintf(log, sizeof log, "%s/agent-%s.log", log_dir, sc->agents[a].name);
        int rc = launcher_spawn(s->launcher, sc->agents[a].name, sc->agents[a].command, s->control,
                                log, err, sizeof err);
        if (rc != 0) {
            fprintf(stderr, "recarena: %s\n", err);
            return rc;
        }
    }
    return 0;
}

/* Serves until every remote agent said HELLO; in run mode, fails when an
 * agent exits first or server.hello_timeout_ms passes. */
static int s_wait_for_agents(session_t *s, const scenario_t *sc, const session_options_t *opt)
{
    int64_t deadline = transport_now_ms() + sc->server.hello_timeout_ms;
    char missing[1024], note[256];
    while (server_missing(s->server, missing, sizeof missing) > 0) {
        int rc = server_service(s->server, 50);
        if (rc != 0)
            return rc;
        bool exited = s->launcher && launcher_poll(s->launcher, note, sizeof note) > 0;
        bool late = !opt->serve_endpoint && transport_now_ms() > deadline;
        if (!exited && !late)
            continue;
        if (exited)
            fprintf(stderr, "recarena: %s before saying HELLO\n", note);
        else
            fprintf(stderr, "recarena: no HELLO within %d ms (server.hello_timeout_ms) from: %s\n",
                    sc->server.hello_timeout_ms, missing);
        for (int a = 0; a < sc->n_agents; a++)
            if (server_is_remote(s->server, a))
                s_print_log_tail(opt->log_dir, sc->agents[a].name);
        return ERR_EAGENT;
    }
    return 0;
}

int session_open(session_t **out, const scenario_t *sc, world_t *w, const session_options_t *opt)
{
    *out = NULL;
    session_t *s = calloc(1, sizeof *s);
    if (!s)
        return ERR_ENOMEM;
    char err[512];
    server_options_t so = {.quiet = opt->quiet, .titles = opt->titles, .n_titles = opt->n_titles};
    if (opt->serve_endpoint) {
        so.control_endpoint = opt->serve_endpoint;
        so.telemetry_endpoint = opt->telemetry_endpoint;
    } else {
        if (folder_private_new("recarena", s->ipc_dir, sizeof s->ipc_dir) != 0) {
            fprintf(stderr, "recarena: cannot create a private directory: %s\n", strerror(errno));
            s->ipc_dir[0] = '\0';
            session_close(&s, NULL);
            return ERR_EIO;
        }
        snprintf(s->control, sizeof s->control, "ipc://%s/control", s->ipc_dir);
        snprintf(s->telemetry, sizeof s->telemetry, "ipc://%s/telemetry", s->ipc_dir);
        so.control_endpoint = s->control;
        so.telemetry_endpoint = s->telemetry;
    }
    s->server = server_new(sc, w, &so, err, sizeof err);
    if (!s->server) {
        fprintf(stderr, "recarena: %s\n", err);
        session_close(&s, NULL);
        return ERR_EIO;
    }
    int rc = 0;
    if (opt->serve_endpoint) {
        char missing[1024];
        server_missing(s->server, missing, sizeof missing);
        fprintf(stderr, "recarena: serving on %s; waiting for agents: %s\n", opt->serve_endpoint,
                missing);
    } else {
        if (!opt->quiet && !opt->no_banner)
            fprintf(stderr, "recarena: telemetry on %s\n", s->telemetry);
        rc = s_spawn_all(s, sc, opt->log_dir);
    }
    if (rc == 0)
        rc = s_wait_for_agents(s, sc, opt);
    if (rc != 0) {
        session_close(&s, "run aborted");
        return rc;
    }
    *out = s;
    return 0;
}
