/* The recarena command line: run a scenario, benchmark the world, check an
 * agent, start the viewer. */
#include "sim/auth.h"
#include "sim/bench.h"
#include "sim/checker.h"
#include "core/parse.h"
#include "proto/codec.h"
#include "proto/curve.h"
#include "sim/outdir.h"
#include "sim/run.h"
#include "sim/scenario.h"
#include "sim/compare.h"
#include "sim/sweep.h"
#include "sim/viewer.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_OVERRIDES 256

static const char s_usage[] =
    "usage: recarena COMMAND [OPTIONS]\n"
    "\n"
    "A multi-agent testbed for recommender systems: several recommender agents act\n"
    "on one synthetic world of users and items.\n"
    "\n"
    "commands:\n"
    "  run SCENARIO.ini    simulate a scenario end to end and write a run folder;\n"
    "                      agents with a command run as separate processes\n"
    "  run --agent NAME=COMMAND|NAME=policy:POLICY ...\n"
    "                      the same on the default world, with these agents only\n"
    "  scenario SCENARIO.ini [--set S.K=V ...] [--json]\n"
    "                      print the resolved scenario (INI, or one JSON object)\n"
    "  serve SCENARIO.ini --bind ENDPOINT\n"
    "                      the same, waiting for external agents to connect\n"
    "  keygen NAME [--dir DIR]\n"
    "                      a CURVE key pair: DIR/NAME.key (secret) and DIR/NAME.pub\n"
    "  sweep SCENARIO.ini --seeds LIST [--grid S.K=V1,V2 ...]\n"
    "                      a study: every grid cell x seed as a run folder, then\n"
    "                      runs.csv and study.json with 95% confidence intervals\n"
    "  compare A B ...     runs or study cells side by side, with differences\n"
    "                      paired by seed and 95% confidence intervals\n"
    "  bench world|wire    print throughput figures (interactions per second)\n"
    "  check-agent [OPTIONS] -- COMMAND...\n"
    "                      run a battery of protocol cases against an agent command\n"
    "  view --connect ENDPOINT\n"
    "                      the viewer (recarena-view) on a run's telemetry\n"
    "  plot RUN_DIR --out FILE.png|.jpg\n"
    "                      a finished run's charts, drawn into a PNG\n"
    "  plot STUDY --x KEY --y FIGURE\n"
    "                      a study's figure against a grid key, 95% CI bars\n"
    "  help [COMMAND]      this text, or a command's options\n"
    "\n"
    "options:\n"
    "  -h, --help          this text\n"
    "  --version           the version\n"
    "\n"
    "Run 'recarena help COMMAND' (or 'recarena COMMAND --help') for a command's\n"
    "options. Scenario keys: docs/scenarios.md; a first lesson: docs/tutorial.md.\n";

static const char s_run_usage[] =
    "usage: recarena run SCENARIO.ini [OPTIONS]\n"
    "       recarena run --agent NAME=COMMAND [--agent NAME=policy:POLICY ...] [OPTIONS]\n"
    "       recarena serve SCENARIO.ini --bind ENDPOINT [OPTIONS]\n"
    "\n"
    "Simulates the scenario's episodes, shows a progress bar on a terminal, prints a\n"
    "summary table per agent and for the system, and writes a run folder:\n"
    "  ticks.csv      per-tick system figures (one row per episode and tick)\n"
    "  agents.csv     per-tick figures per agent\n"
    "  summary.json   figures per episode, their means (per_episode) and run\n"
    "                 totals (totals), per agent and for the system\n"
    "  scenario.ini   the resolved scenario (every key, defaults included)\n"
    "  seed.txt       the run seed\n"
    "  exposure.csv   exposure per item at each episode's end\n"
    "The same scenario and seed give byte-identical files.\n"
    "\n"
    "Agents with 'policy = ...' act in-process. Agents with 'command = ...' are\n"
    "separate processes speaking the wire protocol (docs/protocol.md): 'run' starts\n"
    "them (through /bin/sh, in the current directory, with RECARENA_ENDPOINT and\n"
    "RECARENA_AGENT_NAME set, output in the run folder's agent-NAME.log); 'serve'\n"
    "waits for them to connect to --bind by name. With no SCENARIO.ini the world has\n"
    "every key at its default (docs/scenarios.md) and the agents given by --agent.\n"
    "\n"
    "options:\n"
    "  --seed N              run seed (overrides run.seed), 0..2^64-1\n"
    "  --episodes N          number of episodes (overrides run.episodes)\n"
    "  --ticks N             ticks per episode (overrides run.ticks)\n"
    "  --out DIR             run folder (default: runs/NAME-seedSEED); an existing\n"
    "                        folder is replaced only if recarena wrote it (it holds\n"
    "                        .recarena-run); a file, another non-empty folder, a\n"
    "                        folder another run is writing (DIR.lock) or a place\n"
    "                        that cannot be written is refused at once\n"
    "  --set SECTION.KEY=V   override a scenario key, e.g. --set world.n_users=500\n"
    "                        or --set agent.alice.policy=popularity (repeatable); an\n"
    "                        agent NAME must be one of the scenario's\n"
    "  --agent NAME=COMMAND  add agent NAME, a process started with COMMAND, e.g.\n"
    "                        --agent \"b=build/agents/recarena-bandit --algo linucb\"\n"
    "  --agent NAME=policy:P add agent NAME with built-in policy P (random, popularity)\n"
    "  --drop-agent NAME     remove the scenario's agent NAME (repeatable, like --agent;\n"
    "                        drops apply first, then --agent, then --set)\n"
    "  --quiet               print nothing but errors (and agents' troubles)\n"
    "  --bind ENDPOINT       (serve) where agents connect, e.g. tcp://*:5555 or\n"
    "                        ipc:///tmp/recarena.sock\n"
    "  --telemetry ENDPOINT  (serve) where the telemetry PUB binds (ipc or loopback\n"
    "                        tcp: telemetry is never encrypted)\n"
    "  --curve-secret-key FILE\n"
    "                        (serve) the server's CURVE secret key (server.curve_secret_key)\n"
    "  --curve-allow DIR     (serve) allowed agent keys, NAME.pub each (server.curve_allow)\n"
    "  --insecure            (serve) allow binding a non-loopback tcp address without\n"
    "                        CURVE (anyone who reaches it can take a slot; docs/security.md)\n"
    "  --no-progress         no progress bar (it is shown only on a terminal anyway)\n"
    "  --view                (run) open the viewer on the run's telemetry; it stays\n"
    "                        open after the run (docs/viewer.md)\n"
    "  -h, --help            this text\n";

/* A flag's value: an integer in [0, max] (core/parse.h), or an error
 * naming the flag on stderr and -1. */
static int s_parse_u64(const char *cmd, const char *flag, const char *text, uint64_t max,
                       uint64_t *out)
{
    if (parse_uint64(text, max, out) == 0)
        return 0;
    fprintf(stderr, "recarena %s: %s: expected an integer in [0, %" PRIu64 "], got '%s'\n", cmd,
            flag, max, text);
    return -1;
}

/* The scenario edits given on the command line: --set arguments in order,
 * with --seed, --episodes and --ticks as run.seed, run.episodes and
 * run.ticks; --agent and --drop-agent arguments. `run`, `serve` and
 * `scenario` share them. */
typedef struct s_overrides {
    const char *args[MAX_OVERRIDES];
    char generated[MAX_OVERRIDES][64]; /* the text of a shorthand's override */
    int n;
    const char *add[SCENARIO_MAX_AGENTS], *drop[SCENARIO_MAX_AGENTS];
    int n_add, n_drop;
} s_overrides_t;

/* The scenario at path (NULL: the default world) with o's edits, or an
 * error on stderr and 2. */
static int s_load_scenario(scenario_t *sc, const char *path, const s_overrides_t *o)
{
    scenario_edits_t edits = {.drop = o->drop,
                              .n_drop = o->n_drop,
                              .add = o->add,
                              .n_add = o->n_add,
                              .set = o->args,
                              .n_set = o->n};
    char err[1400];
    if (scenario_load_edited(sc, path, &edits, err, sizeof err) != 0) {
        fprintf(stderr, "recarena: %s\n", err);
        return 2;
    }
    return 0;
}

/* If argv[*i] is an override flag, takes it and its value into o (moving
 * *i past the value) and returns 1; returns 0 for any other argument, and
 * -1 after printing an error. */
static int s_override_flag(const char *cmd, int argc, char **argv, int *i, s_overrides_t *o)
{
    static const struct {
        const char *flag, *key;
        uint64_t max;
    } shorthands[] = {
        {"--seed", "run.seed", UINT64_MAX},
        {"--episodes", "run.episodes", 1000000},
        {"--ticks", "run.ticks", 10000000},
    };
    const char *arg = argv[*i];
    int shorthand = -1;
    for (int s = 0; s < (int)(sizeof shorthands / sizeof shorthands[0]); s++)
        if (strcmp(arg, shorthands[s].flag) == 0)
            shorthand = s;
    bool add = strcmp(arg, "--agent") == 0, drop = strcmp(arg, "--drop-agent") == 0;
    if (shorthand < 0 && strcmp(arg, "--set") != 0 && !add && !drop)
        return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "recarena %s: %s needs a value\n", cmd, arg);
        return -1;
    }
    if (add || drop) {
        if ((add ? o->n_add : o->n_drop) == SCENARIO_MAX_AGENTS) {
            fprintf(stderr, "recarena %s: more than %d %s flags\n", cmd, SCENARIO_MAX_AGENTS, arg);
            return -1;
        }
        if (add)
            o->add[o->n_add++] = argv[++*i];
        else
            o->drop[o->n_drop++] = argv[++*i];
        return 1;
    }
    if (o->n == MAX_OVERRIDES) {
        fprintf(stderr, "recarena %s: more than %d overrides\n", cmd, MAX_OVERRIDES);
        return -1;
    }
    const char *value = argv[++*i];
    if (shorthand < 0) {
        o->args[o->n++] = value;
        return 1;
    }
    uint64_t v;
    if (s_parse_u64(cmd, arg, value, shorthands[shorthand].max, &v) != 0)
        return -1;
    snprintf(o->generated[o->n], sizeof o->generated[0], "%s=%" PRIu64, shorthands[shorthand].key,
             v);
    o->args[o->n] = o->generated[o->n];
    o->n++;
    return 1;
}

/* Serve mode: refuses (false, on stderr) to bind an endpoint that other
 * hosts can reach without CURVE, unless insecure; then it warns. The
 * telemetry PUB is never encrypted, so the same rule holds for it. */
static bool s_exposure_ok(const scenario_t *sc, const run_options_t *opt, bool insecure)
{
    const char *open_control =
        sc->server.curve_secret_key[0] || auth_endpoint_private(opt->serve_endpoint)
            ? NULL
            : opt->serve_endpoint;
    const char *open_telemetry =
        opt->telemetry_endpoint && !auth_endpoint_private(opt->telemetry_endpoint)
            ? opt->telemetry_endpoint
            : NULL;
    const char *what[2] = {open_control, open_telemetry};
    const char *how[2] = {"without CURVE keys (--curve-secret-key, --curve-allow)",
                          "for telemetry, which is never encrypted"};
    for (int i = 0; i < 2; i++) {
        if (!what[i])
            continue;
        if (!insecure) {
            fprintf(stderr,
                    "recarena serve: refusing to bind %s %s: any host that reaches it could "
                    "%s; use keys or a loopback address, or --insecure (docs/security.md)\n",
                    what[i], how[i], i == 0 ? "take an agent slot" : "read the run");
            return false;
        }
        fprintf(stderr, "recarena serve: WARNING: %s is bound %s (--insecure)\n", what[i], how[i]);
    }
    return true;
}

/* Refuses, before anything runs, a run folder that could not be written
 * or must not be replaced: the rules of outdir_check (a path too long, a
 * file, a non-empty folder recarena did not write), or its nearest
 * existing parent not a folder or not writable (the folder is made beside
 * itself, then renamed into place). run_scenario checks again under the
 * folder's lock. 0, or an error on stderr and -1. */
static int s_check_out_dir(const char *cmd, const char *dir)
{
    struct stat st;
    char parent[OUTDIR_PATH_MAX + 1], why[2 * OUTDIR_PATH_MAX + 200];
    if (outdir_check(dir, why, sizeof why) != 0) {
        fprintf(stderr, "recarena %s: --out %s: %s\n", cmd, strlen(dir) > 80 ? "DIR" : dir, why);
        return -1;
    }
    snprintf(parent, sizeof parent, "%s", dir);
    for (;;) {
        size_t n = strlen(parent);
        while (n > 1 && parent[n - 1] == '/')
            parent[--n] = '\0';
        char *slash = strrchr(parent, '/');
        if (!slash)
            snprintf(parent, sizeof parent, ".");
        else if (slash == parent)
            parent[1] = '\0';
        else
            *slash = '\0';
        if (stat(parent, &st) == 0)
            break;
        if ((errno != ENOENT && errno != ENOTDIR) || strcmp(parent, ".") == 0 ||
            strcmp(parent, "/") == 0) {
            fprintf(stderr, "recarena %s: --out %s: %s: %s\n", cmd, dir, parent, strerror(errno));
            return -1;
        }
    }
    if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, "recarena %s: --out %s: %s is not a folder\n", cmd, dir, parent);
        return -1;
    }
    if (access(parent, W_OK | X_OK) != 0) {
        fprintf(stderr, "recarena %s: --out %s: cannot create it in %s: %s\n", cmd, dir, parent,
                strerror(errno));
        return -1;
    }
    return 0;
}

static int s_cmd_run(int argc, char **argv, bool serve)
{
    const char *cmd = serve ? "serve" : "run";
    const char *path = NULL;
    s_overrides_t overrides = {.n = 0};
    char viewer[1100];
    bool view = false, insecure = false;
    run_options_t opt = {.progress = isatty(STDERR_FILENO) != 0};
    char curve_sets[2][SCENARIO_PATH_SIZE + 32]; /* --curve-* as server.* overrides */

    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        bool has_value = i + 1 < argc;
        int taken = s_override_flag(cmd, argc, argv, &i, &overrides);
        if (taken < 0)
            return 2;
        if (taken)
            continue;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            fputs(s_run_usage, stdout);
            return 0;
        } else if (strcmp(arg, "--quiet") == 0) {
            opt.quiet = true;
        } else if (strcmp(arg, "--no-progress") == 0) {
            opt.progress = false;
        } else if (!serve && strcmp(arg, "--view") == 0) {
            view = true;
        } else if (serve && (strcmp(arg, "--bind") == 0 || strcmp(arg, "--telemetry") == 0)) {
            if (!has_value)
                goto missing_value;
            if (strcmp(arg, "--bind") == 0)
                opt.serve_endpoint = argv[++i];
            else
                opt.telemetry_endpoint = argv[++i];
        } else if (serve && strcmp(arg, "--insecure") == 0) {
            insecure = true;
        } else if (serve &&
                   (strcmp(arg, "--curve-secret-key") == 0 || strcmp(arg, "--curve-allow") == 0)) {
            if (!has_value)
                goto missing_value;
            if (overrides.n == MAX_OVERRIDES) {
                fprintf(stderr, "recarena %s: more than %d overrides\n", cmd, MAX_OVERRIDES);
                return 2;
            }
            bool secret = strcmp(arg, "--curve-secret-key") == 0;
            char *set = curve_sets[secret ? 0 : 1];
            snprintf(set, sizeof curve_sets[0], "server.%s=%s",
                     secret ? "curve_secret_key" : "curve_allow", argv[++i]);
            overrides.args[overrides.n++] = set;
        } else if (strcmp(arg, "--out") == 0) {
            if (!has_value)
                goto missing_value;
            opt.out_dir = argv[++i];
        } else if (arg[0] == '-') {
            fprintf(stderr, "recarena %s: unknown option '%s' (see recarena run --help)\n", cmd,
                    arg);
            return 2;
        } else if (path) {
            fprintf(stderr, "recarena %s: one scenario only; got '%s' and '%s'\n", cmd, path, arg);
            return 2;
        } else {
            path = arg;
        }
        continue;
    missing_value:
        fprintf(stderr, "recarena %s: %s needs a value\n", cmd, arg);
        return 2;
    }
    if (!path && overrides.n_add == 0) {
        fprintf(stderr, "recarena %s: no scenario given (and no --agent)\n\n%s", cmd, s_run_usage);
        return 2;
    }
    if (serve && !opt.serve_endpoint) {
        fprintf(stderr, "recarena serve: --bind ENDPOINT is required (e.g. tcp://*:5555)\n");
        return 2;
    }

    if (opt.out_dir && s_check_out_dir(cmd, opt.out_dir) != 0)
        return 2;
    if (opt.quiet)
        opt.progress = false;
    char err[1400];
    if (view && viewer_find(viewer, sizeof viewer, err, sizeof err) != 0) {
        fprintf(stderr, "recarena run: --view: %s\n", err);
        return 2;
    }
    opt.viewer = view ? viewer : NULL;
    scenario_t sc;
    if (s_load_scenario(&sc, path, &overrides) != 0)
        return 2;
    if (serve && !s_exposure_ok(&sc, &opt, insecure))
        return 2;
    int rc = run_scenario(&sc, &opt);
    return rc == 0 ? 0 : (rc == ERR_EINTR ? 130 : 1);
}

static const char s_scenario_usage[] =
    "usage: recarena scenario [SCENARIO.ini] [--set SECTION.KEY=V ...] [--seed N]\n"
    "                         [--episodes N] [--ticks N] [--agent NAME=COMMAND ...]\n"
    "                         [--drop-agent NAME ...] [--json]\n"
    "\n"
    "Loads and checks the scenario exactly as 'recarena run' does, with the same\n"
    "overrides, and prints it fully resolved (every key, defaults included):\n"
    "as INI, the text a run folder keeps as scenario.ini, or with --json as one\n"
    "JSON object on one line:\n"
    "  {\"file\": PATH, \"run\": {...}, \"world\": {...}, \"server\": {...},\n"
    "   \"agents\": [{\"name\": ..., \"policy\": ..., \"command\": ...}, ...]}\n"
    "keyed by the INI key names (docs/scenarios.md). A bad scenario gets the\n"
    "same error as 'recarena run' and exit status 2, with nothing on stdout.\n"
    "\n"
    "options:\n"
    "  --set SECTION.KEY=V   override a scenario key (repeatable)\n"
    "  --seed N, --episodes N, --ticks N\n"
    "                        shorthands for run.seed, run.episodes, run.ticks\n"
    "  --agent NAME=COMMAND, --agent NAME=policy:P, --drop-agent NAME\n"
    "                        add or remove agents, as for 'recarena run'\n"
    "  --json                print JSON instead of INI\n"
    "  --doc-table           print the key tables of docs/scenarios.md (Markdown),\n"
    "                        from the key table the loader uses; no SCENARIO.ini\n"
    "  -h, --help            this text\n";

static int s_cmd_scenario(int argc, char **argv)
{
    const char *path = NULL;
    s_overrides_t overrides = {.n = 0};
    bool json = false;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        int taken = s_override_flag("scenario", argc, argv, &i, &overrides);
        if (taken < 0)
            return 2;
        if (taken)
            continue;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            fputs(s_scenario_usage, stdout);
            return 0;
        } else if (strcmp(arg, "--json") == 0) {
            json = true;
        } else if (strcmp(arg, "--doc-table") == 0) {
            return scenario_keys_write_doc(stdout) == 0 && fflush(stdout) == 0 ? 0 : 1;
        } else if (arg[0] == '-') {
            fprintf(stderr,
                    "recarena scenario: unknown option '%s' (see recarena scenario --help)\n", arg);
            return 2;
        } else if (path) {
            fprintf(stderr, "recarena scenario: one scenario only; got '%s' and '%s'\n", path, arg);
            return 2;
        } else {
            path = arg;
        }
    }
    if (!path && overrides.n_add == 0) {
        fprintf(stderr, "recarena scenario: no scenario given (and no --agent)\n\n%s",
                s_scenario_usage);
        return 2;
    }
    scenario_t sc;
    if (s_load_scenario(&sc, path, &overrides) != 0)
        return 2;
    int rc = json ? scenario_write_json(&sc, stdout) : scenario_write(&sc, stdout);
    if (rc == 0 && fflush(stdout) != 0)
        rc = ERR_EIO;
    if (rc != 0) {
        fprintf(stderr, "recarena scenario: cannot write to stdout: %s\n", strerror(errno));
        return 1;
    }
    return 0;
}

static const char s_check_usage[] =
    "usage: recarena check-agent [--name NAME] [--case CASE] [--verbose] -- COMMAND [ARGS...]\n"
    "\n"
    "Starts the agent command (through /bin/sh, with RECARENA_ENDPOINT and\n"
    "RECARENA_AGENT_NAME set) against a scripted server, once per case, and\n"
    "prints PASS or FAIL with the reason for each; exits 1 if any case fails.\n"
    "\n"
    "options:\n"
    "  --name NAME         the agent name to expect in HELLO (default: checked)\n"
    "  --case CASE         run only this case\n"
    "  --hello-ms N        time to say HELLO after starting (default 5000)\n"
    "  --step-ms N         deadline of ordinary STEPs (default 2000)\n"
    "  --verbose           show the agent's output for failed cases\n"
    "\n"
    "cases:\n";

/* check-agent's help, with the names of its cases. */
static int s_check_help(void)
{
    fputs(s_check_usage, stdout);
    for (const char *const *c = checker_case_names(); *c; c++)
        printf("  %s\n", *c);
    return 0;
}

static int s_cmd_check(int argc, char **argv)
{
    checker_options_t opt = {.name = "checked", .hello_timeout_ms = 5000, .step_timeout_ms = 2000};
    int i = 0;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
        const char *arg = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            return s_check_help();
        } else if (strcmp(arg, "--verbose") == 0) {
            opt.verbose = true;
        } else if ((strcmp(arg, "--name") == 0 || strcmp(arg, "--case") == 0) && has_value) {
            if (strcmp(arg, "--name") == 0)
                opt.name = argv[++i];
            else
                opt.only = argv[++i];
        } else if ((strcmp(arg, "--hello-ms") == 0 || strcmp(arg, "--step-ms") == 0) && has_value) {
            uint64_t v;
            if (s_parse_u64("check-agent", arg, argv[++i], 600000, &v) != 0)
                return 2;
            if (strcmp(arg, "--hello-ms") == 0)
                opt.hello_timeout_ms = (int)v;
            else
                opt.step_timeout_ms = (int)v;
        } else {
            fprintf(stderr, "recarena check-agent: unknown option '%s'\n\n%s", arg, s_check_usage);
            return 2;
        }
    }
    if (i + 1 >= argc) {
        fprintf(stderr, "recarena check-agent: no agent command after --\n\n%s", s_check_usage);
        return 2;
    }
    if (!proto_name_valid(opt.name)) {
        fprintf(stderr, "recarena check-agent: --name: '%s' is not a valid agent name\n", opt.name);
        return 2;
    }
    if (opt.only) {
        bool known = false;
        for (const char *const *c = checker_case_names(); *c; c++)
            known = known || strcmp(*c, opt.only) == 0;
        if (!known) {
            fprintf(stderr, "recarena check-agent: --case: no case '%s' (see --help)\n", opt.only);
            return 2;
        }
    }
    /* the command: the arguments after --, each single-quoted for /bin/sh
     * (a quote inside becomes '\'') */
    char command[4096];
    size_t used = 0;
    for (int a = i + 1; a < argc; a++) {
        char quoted[2048];
        size_t q = 0;
        quoted[q++] = '\'';
        for (const char *p = argv[a]; *p && q + 6 < sizeof quoted; p++) {
            if (*p == '\'') {
                memcpy(quoted + q, "'\\''", 4);
                q += 4;
            } else {
                quoted[q++] = *p;
            }
        }
        quoted[q++] = '\'';
        if (used + q + 2 > sizeof command || q + 6 >= sizeof quoted)
            goto too_long;
        if (used > 0)
            command[used++] = ' ';
        memcpy(command + used, quoted, q);
        used += q;
    }
    command[used] = '\0';
    opt.command = command;
    int failed = checker_run(&opt);
    return failed == 0 ? 0 : (failed < 0 ? 2 : 1);
too_long:
    fprintf(stderr, "recarena check-agent: the command is longer than %zu bytes\n",
            sizeof command - 1);
    return 2;
}

/* What the viewer's picture shows, for plot and view alike (the viewer,
 * recarena-view --help, lists every option; docs/viewer.md). */
#define S_VIEWER_OPTIONS                                                                           \
    "  --panels SET          overview (default), learning (click rate, regret,\n"                  \
    "                        share, reward, active users, welfare) or episodes\n"                  \
    "                        (learning curves, one point per episode)\n"                           \
    "  --projector           for a room: --theme contrast --scale 1.5\n"                           \
    "  --theme NAME          light (default) or contrast (white on black)\n"                       \
    "  --scale F             text and lines F times their size, F in [0.5, 4]\n"                   \
    "  --size WxH            window or picture size in pixels (default 1280x800)\n"                \
    "  --font FILE           a TrueType font (default DejaVu Sans)\n"                              \
    "  -h, --help            this text\n"                                                          \
    "\n"                                                                                           \
    "Options are also read from the environment variable RECARENA_VIEW, before\n"                  \
    "the command line's. 'recarena-view --help' lists every option of the viewer.\n"

static const char s_plot_usage[] =
    "usage: recarena plot RUN_DIR --out FILE.png|FILE.jpg [--episode N] [--size WxH]\n"
    "                     [--panels overview|learning|episodes] [--projector]\n"
    "                     [--theme light|contrast] [--scale F] [--font FILE]\n"
    "\n"
    "Draws a finished run folder's charts into a picture, without a display\n"
    "(the viewer, recarena-view, offscreen).\n"
    "\n"
    "options:\n"
    "  --out FILE            the picture: PNG, or JPEG for a name ending in .jpg or\n"
    "                        .jpeg (any other ending is refused before drawing)\n"
    "  --episode N           only episode N; default: all, back to back\n" S_VIEWER_OPTIONS;

static const char s_view_usage[] =
    "usage: recarena view --connect ENDPOINT [--scenario FILE] [--panels SET] [--projector]\n"
    "                     [--theme light|contrast] [--scale F] [--size WxH]\n"
    "\n"
    "The viewer in a window, on a run's telemetry (recarena serve --telemetry\n"
    "ENDPOINT; recarena run --view starts one itself). It can come and go while\n"
    "the run goes on.\n"
    "\n"
    "options:\n"
    "  --connect ENDPOINT    the telemetry PUB socket, e.g. tcp://127.0.0.1:5556\n"
    "  --scenario FILE       the run's scenario (or its run folder's scenario.ini):\n"
    "                        the agents' algorithms in the legend, the axes' "
    "length\n" S_VIEWER_OPTIONS "\n"
    "Keys in the window: 1 2 3 or tab the panel set, t theme, + - text size,\n"
    "space pause, e this episode / all, s screenshot, q quit.\n";

/* -h or --help among a command's arguments (before any --). */
static bool s_asks_help(int argc, char **argv)
{
    for (int i = 0; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return true;
    return false;
}

/* recarena view ... and recarena plot RUN_DIR ...: the viewer program
 * with the same arguments (plot: RUN_DIR after --plot). */
static int s_cmd_viewer(int argc, char **argv, bool plot)
{
    if (s_asks_help(argc, argv)) {
        fputs(plot ? s_plot_usage : s_view_usage, stdout);
        return 0;
    }
    if (plot && argc == 0) {
        fprintf(stderr, "recarena plot: no run folder given\n\n%s", s_plot_usage);
        return 2;
    }
    char path[1100], err[1400];
    if (viewer_find(path, sizeof path, err, sizeof err) != 0) {
        fprintf(stderr, "recarena: %s\n", err);
        return 1;
    }
    char **args = calloc((size_t)argc + 3, sizeof *args);
    if (!args) {
        fprintf(stderr, "recarena: out of memory\n");
        return 1;
    }
    int n = 0;
    args[n++] = path;
    if (plot && argv[0][0] != '-')
        args[n++] = "--plot";
    for (int i = 0; i < argc; i++)
        args[n++] = argv[i];
    execv(path, args);
    fprintf(stderr, "recarena: cannot run %s: %s\n", path, strerror(errno));
    free(args);
    return 1;
}

static const char s_keygen_usage[] =
    "usage: recarena keygen NAME [--dir DIR]\n"
    "\n"
    "Writes a new CURVE key pair: DIR/NAME.key, the secret key (mode 0600), and\n"
    "DIR/NAME.pub, the public key, each one line of Z85. NAME is an agent name\n"
    "(the slot the key opens when NAME.pub is in the server's curve_allow folder)\n"
    "or 'server'. DIR (default .) is created (mode 0700) if missing; existing key\n"
    "files are never overwritten. docs/security.md has the whole set-up.\n";

static int s_cmd_keygen(int argc, char **argv)
{
    const char *name = NULL, *dir = ".";
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(s_keygen_usage, stdout);
            return 0;
        } else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
            dir = argv[++i];
        } else if (argv[i][0] == '-' || name) {
            fprintf(stderr, "recarena keygen: unexpected '%s'\n\n%s", argv[i], s_keygen_usage);
            return 2;
        } else {
            name = argv[i];
        }
    }
    if (!name) {
        fprintf(stderr, "recarena keygen: no NAME given\n\n%s", s_keygen_usage);
        return 2;
    }
    char path[1024];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
        fprintf(stderr, "recarena keygen: --dir: path too long\n");
        return 2;
    }
    for (char *c = path + 1;; c++) { /* mkdir -p, each new folder 0700 */
        if (*c != '/' && *c != '\0')
            continue;
        char was = *c;
        *c = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST) {
            fprintf(stderr, "recarena keygen: cannot create %s: %s\n", path, strerror(errno));
            return 1;
        }
        *c = was;
        if (!was)
            break;
    }
    char err[1200];
    if (curve_keygen(dir, name, err, sizeof err) != 0) {
        fprintf(stderr, "recarena keygen: %s\n", err);
        return 1;
    }
    printf("%s/%s.key (secret, keep it on the host that uses it)\n%s/%s.pub (public)\n", dir, name,
           dir, name);
    return 0;
}

/* recarena help [COMMAND]: the command's own help, exit 0; an unknown
 * command is an error (2). */
static int s_help(const char *command)
{
    static const struct {
        const char *name, *usage;
    } helps[] = {{"run", s_run_usage},       {"serve", s_run_usage}, {"scenario", s_scenario_usage},
                 {"bench", bench_usage},     {"plot", s_plot_usage}, {"view", s_view_usage},
                 {"keygen", s_keygen_usage}, {"sweep", sweep_usage}, {"check-agent", NULL}};
    if (!command) {
        fputs(s_usage, stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof helps / sizeof *helps; i++)
        if (strcmp(command, helps[i].name) == 0) {
            if (!helps[i].usage)
                return s_check_help();
            fputs(helps[i].usage, stdout);
            return 0;
        }
    fprintf(stderr, "recarena help: no command '%s'\n\n%s", command, s_usage);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(s_usage, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0)
        return s_help(argc > 2 ? argv[2] : NULL);
    if (strcmp(cmd, "--version") == 0) {
        printf("recarena %s\n", RECARENA_VERSION);
        return 0;
    }
    if (strcmp(cmd, "run") == 0 || strcmp(cmd, "serve") == 0)
        return s_cmd_run(argc - 2, argv + 2, strcmp(cmd, "serve") == 0);
    if (strcmp(cmd, "scenario") == 0)
        return s_cmd_scenario(argc - 2, argv + 2);
    if (strcmp(cmd, "keygen") == 0)
        return s_cmd_keygen(argc - 2, argv + 2);
    if (strcmp(cmd, "check-agent") == 0)
        return s_cmd_check(argc - 2, argv + 2);
    if (strcmp(cmd, "sweep") == 0)
        return sweep_main(argc - 2, argv + 2);
    if (strcmp(cmd, "bench") == 0)
        return bench_main(argc - 2, argv + 2);
    if (strcmp(cmd, "compare") == 0)
        return compare_main(argc - 2, argv + 2);
    if (strcmp(cmd, "plot") == 0 && argc > 2 && compare_is_study(argv[2]))
        return compare_plot_main(argc - 2, argv + 2);
    if (strcmp(cmd, "view") == 0 || strcmp(cmd, "plot") == 0)
        return s_cmd_viewer(argc - 2, argv + 2, strcmp(cmd, "plot") == 0);
    fprintf(stderr, "recarena: unknown command '%s'\n\n%s", cmd, s_usage);
    return 2;
}
