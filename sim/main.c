/* The recarena command line: run a scenario, benchmark the world. */
#include "bench.h"
#include "run.h"
#include "scenario.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_OVERRIDES 256

static const char s_usage[] =
    "usage: recarena COMMAND [OPTIONS]\n"
    "\n"
    "A multi-agent testbed for recommender systems: several recommender agents act\n"
    "on one synthetic world of users and items.\n"
    "\n"
    "commands:\n"
    "  run SCENARIO.ini    simulate a scenario end to end and write a run folder\n"
    "  bench world         print the world's throughput (interactions per second)\n"
    "  help [COMMAND]      this text, or a command's options\n"
    "\n"
    "options:\n"
    "  -h, --help          this text\n"
    "  --version           the version\n"
    "\n"
    "Run 'recarena run --help' for the run options. Scenario keys: docs/scenarios.md.\n";

static const char s_run_usage[] =
    "usage: recarena run SCENARIO.ini [OPTIONS]\n"
    "\n"
    "Simulates the scenario's episodes, shows a progress bar on a terminal, prints a\n"
    "summary table per agent and for the system, and writes a run folder:\n"
    "  ticks.csv      per-tick system figures (one row per episode and tick)\n"
    "  agents.csv     per-tick figures per agent\n"
    "  summary.json   per-episode metrics, per agent and for the system\n"
    "  scenario.ini   the resolved scenario (every key, defaults included)\n"
    "  seed.txt       the run seed\n"
    "The same scenario and seed give byte-identical files.\n"
    "\n"
    "options:\n"
    "  --seed N              run seed (overrides run.seed), 0..2^64-1\n"
    "  --episodes N          number of episodes (overrides run.episodes)\n"
    "  --out DIR             run folder (default: runs/NAME-seedSEED); an existing\n"
    "                        folder is replaced only if it is a run folder\n"
    "  --set SECTION.KEY=V   override a scenario key, e.g. --set world.n_users=500\n"
    "                        or --set agent.alice.policy=popularity (repeatable)\n"
    "  --quiet               no summary table\n"
    "  --no-progress         no progress bar (it is shown only on a terminal anyway)\n"
    "  -h, --help            this text\n";

static int s_parse_u64(const char *flag, const char *text, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    if (text[0] == '-' || text[0] == '\0')
        goto fail;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end || v > max)
        goto fail;
    *out = v;
    return 0;
fail:
    fprintf(stderr, "recarena run: %s: expected an integer in [0, %" PRIu64 "], got '%s'\n",
            flag, max, text);
    return -1;
}

static int s_cmd_run(int argc, char **argv)
{
    const char *path = NULL;
    const char *overrides[MAX_OVERRIDES];
    char generated[2][64];
    int n_overrides = 0;
    run_options_t opt = {.progress = isatty(STDERR_FILENO) != 0};

    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            fputs(s_run_usage, stdout);
            return 0;
        } else if (strcmp(arg, "--quiet") == 0) {
            opt.quiet = true;
        } else if (strcmp(arg, "--no-progress") == 0) {
            opt.progress = false;
        } else if (strcmp(arg, "--seed") == 0 || strcmp(arg, "--episodes") == 0) {
            if (!has_value)
                goto missing_value;
            bool seed = strcmp(arg, "--seed") == 0;
            uint64_t v;
            if (s_parse_u64(arg, argv[++i], seed ? UINT64_MAX : 1000000, &v) != 0)
                return 2;
            char *slot = generated[seed ? 0 : 1];
            snprintf(slot, 64, "%s=%" PRIu64, seed ? "run.seed" : "run.episodes", v);
            if (n_overrides == MAX_OVERRIDES)
                goto too_many;
            overrides[n_overrides++] = slot;
        } else if (strcmp(arg, "--out") == 0) {
            if (!has_value)
                goto missing_value;
            opt.out_dir = argv[++i];
        } else if (strcmp(arg, "--set") == 0) {
            if (!has_value)
                goto missing_value;
            if (n_overrides == MAX_OVERRIDES)
                goto too_many;
            overrides[n_overrides++] = argv[++i];
        } else if (arg[0] == '-') {
            fprintf(stderr, "recarena run: unknown option '%s' (see recarena run --help)\n", arg);
            return 2;
        } else if (path) {
            fprintf(stderr, "recarena run: one scenario only; got '%s' and '%s'\n", path, arg);
            return 2;
        } else {
            path = arg;
        }
        continue;
    missing_value:
        fprintf(stderr, "recarena run: %s needs a value\n", arg);
        return 2;
    too_many:
        fprintf(stderr, "recarena run: more than %d overrides\n", MAX_OVERRIDES);
        return 2;
    }
    if (!path) {
        fprintf(stderr, "recarena run: no scenario given\n\n%s", s_run_usage);
        return 2;
    }

    scenario_t sc;
    char err[512];
    if (scenario_load(&sc, path, overrides, n_overrides, err, sizeof err) != 0) {
        fprintf(stderr, "recarena: %s\n", err);
        return 2;
    }
    return run_scenario(&sc, &opt) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(s_usage, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        if (argc > 2 && strcmp(argv[2], "run") == 0)
            fputs(s_run_usage, stdout);
        else
            fputs(s_usage, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("recarena %s\n", RECARENA_VERSION);
        return 0;
    }
    if (strcmp(cmd, "run") == 0)
        return s_cmd_run(argc - 2, argv + 2);
    if (strcmp(cmd, "bench") == 0)
        return bench_main(argc - 2, argv + 2);
    fprintf(stderr, "recarena: unknown command '%s'\n\n%s", cmd, s_usage);
    return 2;
}
