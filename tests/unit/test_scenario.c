/* Scenario loading: defaults, every value type, one exact message (file,
 * line, key) per kind of error, overrides, and the write/read round trip.
 * Fixture files are under tests/data/scenarios/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sim/scenario.h"

#define DATA_DIR RECARENA_SOURCE_DIR "/tests/data/scenarios/"

static const char s_agent[] = "[agent.a]\npolicy = random\n";

/* Loads text labelled "x.ini" into a zeroed scenario, asserting success. */
static void s_load_ok(scenario_t *sc, const char *text, const char *const *overrides,
                      int n_overrides)
{
    char err[1024] = "";
    memset(sc, 0, sizeof *sc);
    int rc = scenario_load_string(sc, text, "x.ini", overrides, n_overrides, err, sizeof err);
    if (rc != 0)
        print_error("%s\n", err);
    assert_int_equal(rc, 0);
}

/* Asserts that loading fails with code and exactly message, and leaves the
 * caller's scenario as it was. */
static void s_expect_error(const char *text, const char *const *overrides, int n_overrides,
                           int code, const char *message)
{
    static scenario_t sc, before;
    memset(&sc, 0x5a, sizeof sc);
    memcpy(&before, &sc, sizeof sc);
    char err[1024] = "";
    int rc = scenario_load_string(&sc, text, "x.ini", overrides, n_overrides, err, sizeof err);
    assert_string_equal(err, message);
    assert_int_equal(rc, code);
    assert_memory_equal(&sc, &before, sizeof sc);
}

static void test_defaults_when_keys_are_absent(void **state)
{
    (void)state;
    static scenario_t sc;
    char err[256];
    memset(&sc, 0, sizeof sc);
    assert_int_equal(
        scenario_load_string(&sc, s_agent, "scenarios/tiny.ini", NULL, 0, err, sizeof err), 0);
    assert_string_equal(sc.path, "scenarios/tiny.ini");
    assert_string_equal(sc.name, "tiny");
    assert_true(sc.seed == 1);
    assert_int_equal(sc.episodes, 1);
    assert_int_equal(sc.n_agents, 1);
    assert_string_equal(sc.agents[0].name, "a");
    assert_string_equal(sc.agents[0].policy, "random");
    assert_string_equal(sc.agents[0].command, "");

    world_config_t d;
    world_config_default(&d);
    const world_config_t *w = &sc.world;
    assert_int_equal(w->n_agents, 1);
    assert_int_equal(w->mode, d.mode);
    assert_int_equal(w->ticks, d.ticks);
    assert_int_equal(w->n_items, d.n_items);
    assert_int_equal(w->n_topics, d.n_topics);
    assert_int_equal(w->dim, d.dim);
    assert_int_equal(w->n_providers, d.n_providers);
    assert_true(w->topic_spread == d.topic_spread);
    assert_true(w->quality_std == d.quality_std);
    assert_true(w->item_arrival_rate == d.item_arrival_rate);
    assert_true(w->item_lifetime == d.item_lifetime);
    assert_int_equal(w->n_users, d.n_users);
    assert_true(w->interest_spread == d.interest_spread);
    assert_true(w->feature_noise == d.feature_noise);
    assert_int_equal(w->history_len, d.history_len);
    assert_int_equal(w->slate_size, d.slate_size);
    assert_true(w->quality_weight == d.quality_weight);
    assert_true(w->choice_temperature == d.choice_temperature);
    assert_true(w->no_click_score == d.no_click_score);
    assert_true(w->position_decay == d.position_decay);
    assert_true(w->satiation_gain == d.satiation_gain);
    assert_true(w->satiation_decay == d.satiation_decay);
    assert_true(w->interest_drift == d.interest_drift);
    assert_true(w->session_budget == d.session_budget);
    assert_true(w->consume_cost == d.consume_cost);
    assert_true(w->noclick_cost == d.noclick_cost);
    assert_true(w->budget_gain == d.budget_gain);
    assert_true(w->satisfaction_rate == d.satisfaction_rate);
    assert_true(w->return_base == d.return_base);
    assert_true(w->return_gain == d.return_gain);
    assert_true(w->initial_active == d.initial_active);
    assert_true(w->market_temperature == d.market_temperature);
    assert_true(w->reputation_rate == d.reputation_rate);
    assert_true(w->reward_sharing == d.reward_sharing);
    assert_true(w->diversity_bonus == d.diversity_bonus);
    assert_int_equal(w->oracle, d.oracle);
}

static void test_default_name_comes_from_the_label(void **state)
{
    (void)state;
    static const struct {
        const char *label, *name;
    } cases[] = {
        {"scenarios/default.ini", "default"},
        {"a.b.ini", "a.b"},
        {"dir/no_extension", "no_extension"},
        {"runs/my scenario (2).ini", "my_scenario__2_"},
        {".ini", ".ini"},
        {"dir/", "scenario"},
    };
    static scenario_t sc;
    char err[256];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(
            scenario_load_string(&sc, s_agent, cases[i].label, NULL, 0, err, sizeof err), 0);
        assert_string_equal(sc.name, cases[i].name);
    }
}

static void test_every_type_is_parsed(void **state)
{
    (void)state;
    static scenario_t sc;
    s_load_ok(&sc,
              "[run]\n"
              "name = my-run_2.b\n"
              "seed = 18446744073709551615\n"
              "episodes = +4\n"
              "ticks = 250\n"
              "[world]\n"
              "mode = feed\n"
              "history_len = 0\n"
              "quality_weight = -1.5e-3\n"
              "quality_std = 2\n"
              "no_click_score = 0x1p-2\n"
              "topic_spread = 1e-320\n"
              "oracle = false\n"
              "[agent.x_Y-9]\n"
              "command = ./agent --algo=ucb1 -c 'a:b';x;y ; a comment\n",
              NULL, 0);
    assert_string_equal(sc.name, "my-run_2.b");
    assert_true(sc.seed == UINT64_MAX);
    assert_int_equal(sc.episodes, 4);
    assert_int_equal(sc.world.ticks, 250);
    assert_int_equal(sc.world.mode, WORLD_MODE_FEED);
    assert_int_equal(sc.world.history_len, 0);
    assert_true(sc.world.quality_weight == -1.5e-3);
    assert_true(sc.world.quality_std == 2.0);
    assert_true(sc.world.no_click_score == 0.25);
    assert_true(sc.world.topic_spread > 0.0 && sc.world.topic_spread < 1e-300); /* subnormal */
    assert_false(sc.world.oracle);
    assert_string_equal(sc.agents[0].name, "x_Y-9");
    assert_string_equal(sc.agents[0].policy, "");
    assert_string_equal(sc.agents[0].command, "./agent --algo=ucb1 -c 'a:b';x;y");

    static const char *const yes[] = {"true", "True", "YES", "on", "1"};
    static const char *const no[] = {"false", "FALSE", "no", "Off", "0"};
    char text[128];
    for (int i = 0; i < 5; i++) {
        snprintf(text, sizeof text, "[world]\noracle = %s\n%s", yes[i], s_agent);
        s_load_ok(&sc, text, NULL, 0);
        assert_true(sc.world.oracle);
        snprintf(text, sizeof text, "[world]\noracle = %s\n%s", no[i], s_agent);
        s_load_ok(&sc, text, NULL, 0);
        assert_false(sc.world.oracle);
    }
}

/* What inih accepts around the keys: comments, CRLF, a byte order mark,
 * indentation, "key: value", a section opened twice, an empty section. */
static void test_file_layout(void **state)
{
    (void)state;
    static scenario_t sc;
    s_load_ok(&sc,
              "\xEF\xBB\xBF; comment\r\n"
              "# another comment\r\n"
              "[world]   ; trailing comment\r\n"
              "    n_users = 300\r\n"
              "\tn_items: 40\r\n"
              "\r\n"
              "[run]\n"
              "[agent.b]\n"
              "policy = popularity\n"
              "[world]\n"
              "dim = 4",
              NULL, 0);
    assert_int_equal(sc.world.n_users, 300);
    assert_int_equal(sc.world.n_items, 40);
    assert_int_equal(sc.world.dim, 4);
    assert_int_equal(sc.n_agents, 1);
    assert_string_equal(sc.agents[0].policy, "popularity");
}

static void test_shipped_like_file_loads(void **state)
{
    (void)state;
    static scenario_t sc;
    char err[1024] = "";
    int rc = scenario_load(&sc, DATA_DIR "full.ini", NULL, 0, err, sizeof err);
    if (rc != 0)
        print_error("%s\n", err);
    assert_int_equal(rc, 0);
    assert_string_equal(sc.path, DATA_DIR "full.ini");
    assert_string_equal(sc.name, "full-test");
    assert_true(sc.seed == UINT64_MAX);
    assert_int_equal(sc.episodes, 3);
    const world_config_t *w = &sc.world;
    assert_int_equal(w->ticks, 120);
    assert_int_equal(w->mode, WORLD_MODE_FEED);
    assert_int_equal(w->n_agents, 3);
    assert_int_equal(w->n_items, 800);
    assert_int_equal(w->n_topics, 12);
    assert_int_equal(w->dim, 8);
    assert_int_equal(w->n_providers, 40);
    assert_true(w->topic_spread == 0.25);
    assert_true(w->quality_std == 0.5);
    assert_true(w->item_arrival_rate == 2.5);
    assert_true(w->item_lifetime == 400.0);
    assert_int_equal(w->n_users, 1500);
    assert_true(w->interest_spread == 0.75);
    assert_true(w->feature_noise == 0.125);
    assert_int_equal(w->history_len, 3);
    assert_int_equal(w->slate_size, 4);
    assert_true(w->quality_weight == -0.5);
    assert_true(w->choice_temperature == 0.5);
    assert_true(w->no_click_score == 1e-3);
    assert_true(w->position_decay == 0.5);
    assert_true(w->satiation_gain == 0.2);
    assert_true(w->satiation_decay == 0.8);
    assert_true(w->interest_drift == 0.05);
    assert_true(w->session_budget == 12.0);
    assert_true(w->consume_cost == 0.5);
    assert_true(w->noclick_cost == 2.0);
    assert_true(w->budget_gain == 0.25);
    assert_true(w->satisfaction_rate == 0.3);
    assert_true(w->return_base == 0.05);
    assert_true(w->return_gain == 0.2);
    assert_true(w->initial_active == 0.5);
    assert_true(w->market_temperature == 0.0);
    assert_true(w->reputation_rate == 0.2);
    assert_true(w->reward_sharing == 0.5);
    assert_true(w->diversity_bonus == 2.0);
    assert_false(w->oracle);
    assert_int_equal(sc.n_agents, 3);
    assert_string_equal(sc.agents[0].name, "alice");
    assert_string_equal(sc.agents[0].policy, "random");
    assert_string_equal(sc.agents[1].name, "bob");
    assert_string_equal(sc.agents[1].policy, "");
    assert_string_equal(sc.agents[1].command, "./build/agents/recarena-bandit --algo=ucb1 --c 2");
    assert_string_equal(sc.agents[2].name, "carol-2");
    assert_string_equal(sc.agents[2].policy, "popularity");
}

static void test_syntax_errors(void **state)
{
    (void)state;
    s_expect_error("[world]\nn_users 5\n", NULL, 0, ERR_ESYNTAX,
                   "x.ini:2: expected [section], key = value or a comment, got 'n_users 5'");
    s_expect_error("[world\nn_users = 5\n", NULL, 0, ERR_ESYNTAX,
                   "x.ini:1: expected ']' to close the section name");
    /* the first error in the file wins, although inih reads on */
    s_expect_error("[world]\n  oops\nn_users = x\n", NULL, 0, ERR_ESYNTAX,
                   "x.ini:2: expected [section], key = value or a comment, got 'oops'");
    s_expect_error("[world]\nn_users = x\noops\n", NULL, 0, ERR_EINVAL,
                   "x.ini:2: [world] n_users: expected an integer, got 'x'");

    char text[512];
    snprintf(text, sizeof text, "[agent.a]\ncommand = %0200d\n", 7);
    s_expect_error(text, NULL, 0, ERR_ESYNTAX, "x.ini:2: line longer than 199 characters");
}

static void test_section_and_key_errors(void **state)
{
    (void)state;
    s_expect_error("[wrld]\nn_users = 5\n", NULL, 0, ERR_EINVAL,
                   "x.ini:1: [wrld]: unknown section (did you mean [world]?)");
    s_expect_error("[agents.bob]\npolicy = random\n", NULL, 0, ERR_EINVAL,
                   "x.ini:1: [agents.bob]: unknown section (did you mean [agent.bob]?)");
    s_expect_error("[agent]\n", NULL, 0, ERR_EINVAL,
                   "x.ini:1: [agent]: unknown section (did you mean [agent.NAME]?)");
    s_expect_error(
        "[foo]\n", NULL, 0, ERR_EINVAL,
        "x.ini:1: [foo]: unknown section (known: [run], [world], [server], [agent.NAME])");
    s_expect_error("[world]\nn_user = 5\n", NULL, 0, ERR_EINVAL,
                   "x.ini:2: [world] n_user: unknown key (did you mean n_users?)");
    s_expect_error("[run]\nsed = 5\n", NULL, 0, ERR_EINVAL,
                   "x.ini:2: [run] sed: unknown key (did you mean seed?)");
    s_expect_error("[world]\ncolour = red\n", NULL, 0, ERR_EINVAL,
                   "x.ini:2: [world] colour: unknown key");
    s_expect_error("[world]\nticks = 5\n", NULL, 0, ERR_EINVAL,
                   "x.ini:2: [world] ticks: unknown key here (it belongs in [run])");
    s_expect_error("[world]\nn_agents = 2\n", NULL, 0, ERR_EINVAL,
                   "x.ini:2: [world] n_agents: not a key: the number of agents is the number "
                   "of [agent.NAME] sections");
    s_expect_error("; top\nseed = 3\n", NULL, 0, ERR_EINVAL,
                   "x.ini:2: seed: key outside any section (put it under [run], [world] or "
                   "[agent.NAME])");
    s_expect_error("[world]\n= 5\n", NULL, 0, ERR_EINVAL,
                   "x.ini:2: [world]: missing key before '='");
    s_expect_error("[world]\nn_users = 5\nn_items = 9\nn_users = 6\n", NULL, 0, ERR_EINVAL,
                   "x.ini:4: [world] n_users: duplicate key (first set at line 2)");
    s_expect_error("[run]\nseed = 1\n[world]\n[run]\nseed = 2\n", NULL, 0, ERR_EINVAL,
                   "x.ini:5: [run] seed: duplicate key (first set at line 2)");
}

static void test_value_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text, *message;
        int code;
    } cases[] = {
        {"[world]\nslate_size = ten\n",
         "x.ini:2: [world] slate_size: expected an integer, got 'ten'", ERR_EINVAL},
        {"[world]\nslate_size = 5x\n", "x.ini:2: [world] slate_size: expected an integer, got '5x'",
         ERR_EINVAL},
        {"[world]\nslate_size = 1.5\n",
         "x.ini:2: [world] slate_size: expected an integer, got '1.5'", ERR_EINVAL},
        {"[world]\nn_users =\n", "x.ini:2: [world] n_users: expected an integer, got ''",
         ERR_EINVAL},
        {"[world]\nn_users = 99999999999\n",
         "x.ini:2: [world] n_users: integer '99999999999' does not fit in an int "
         "[-2147483648, 2147483647]",
         ERR_ERANGE},
        {"[run]\nseed = -1\n", "x.ini:2: [run] seed: expected an unsigned integer, got '-1'",
         ERR_EINVAL},
        {"[run]\nseed = 0x10\n", "x.ini:2: [run] seed: expected an unsigned integer, got '0x10'",
         ERR_EINVAL},
        {"[run]\nseed = 18446744073709551616\n",
         "x.ini:2: [run] seed: integer '18446744073709551616' does not fit in 64 bits (at most "
         "18446744073709551615)",
         ERR_ERANGE},
        {"[world]\nquality_std = abc\n",
         "x.ini:2: [world] quality_std: expected a number, got 'abc'", ERR_EINVAL},
        {"[world]\nquality_std = 0.5.1\n",
         "x.ini:2: [world] quality_std: expected a number, got '0.5.1'", ERR_EINVAL},
        {"[world]\nquality_std = nan\n",
         "x.ini:2: [world] quality_std: expected a finite number, got 'nan'", ERR_ERANGE},
        {"[world]\nquality_std = -inf\n",
         "x.ini:2: [world] quality_std: expected a finite number, got '-inf'", ERR_ERANGE},
        {"[world]\nquality_std = 1e999\n",
         "x.ini:2: [world] quality_std: expected a finite number, got '1e999'", ERR_ERANGE},
        {"[world]\noracle = maybe\n",
         "x.ini:2: [world] oracle: expected true or false (or yes/no, on/off, 1/0), got 'maybe'",
         ERR_EINVAL},
        {"[world]\nmode = auction\n",
         "x.ini:2: [world] mode: expected market or feed, got 'auction'", ERR_EINVAL},
        {"[world]\nmode = Market\n", "x.ini:2: [world] mode: expected market or feed, got 'Market'",
         ERR_EINVAL},
        {"[run]\nname = my run\n",
         "x.ini:2: [run] name: bad run name 'my run': use 1 to 127 of A-Z a-z 0-9 _ . -",
         ERR_EINVAL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        s_expect_error(cases[i].text, NULL, 0, cases[i].code, cases[i].message);
}

static void test_agent_errors(void **state)
{
    (void)state;
    s_expect_error("[agent.bob]\npolicy = random\ncommand = ./x\n", NULL, 0, ERR_EINVAL,
                   "x.ini:3: [agent.bob] command: agent bob already has a policy (line 2): give "
                   "policy or command, not both");
    s_expect_error("[agent.bob]\ncommand = ./x\n\npolicy = random\n", NULL, 0, ERR_EINVAL,
                   "x.ini:4: [agent.bob] policy: agent bob already has a command (line 2): give "
                   "policy or command, not both");
    s_expect_error("[agent.alice]\npolicy = random\n[agent.bob]\n; nothing\n", NULL, 0, ERR_EINVAL,
                   "x.ini:3: [agent.bob]: needs a policy (built-in) or a command (external "
                   "process)");
    s_expect_error("[agent.a]\npolicy = rnd\n", NULL, 0, ERR_EINVAL,
                   "x.ini:2: [agent.a] policy: unknown policy 'rnd' (built-in: random, "
                   "popularity, ideal)");
    s_expect_error("[agent.a]\npolicy = random\npolicy = random\n", NULL, 0, ERR_EINVAL,
                   "x.ini:3: [agent.a] policy: duplicate key (first set at line 2)");
    s_expect_error("[agent.a]\npolcy = random\n", NULL, 0, ERR_EINVAL,
                   "x.ini:2: [agent.a] polcy: unknown key (did you mean policy?)");
    s_expect_error("[agent.a]\nseed = 2\n", NULL, 0, ERR_EINVAL,
                   "x.ini:2: [agent.a] seed: unknown key here (it belongs in [run])");
    s_expect_error("[agent.a]\ncommand =\n", NULL, 0, ERR_EINVAL,
                   "x.ini:2: [agent.a] command: expected a value, got ''");
    s_expect_error("[agent.b@d]\npolicy = random\n", NULL, 0, ERR_EINVAL,
                   "x.ini:1: [agent.b@d]: bad agent name 'b@d': use 1 to 42 of A-Z a-z 0-9 _ -");
    s_expect_error("[agent.]\n", NULL, 0, ERR_EINVAL,
                   "x.ini:1: [agent.]: bad agent name '': use 1 to 42 of A-Z a-z 0-9 _ -");
    /* 43 letters: the longest name is 42 */
    s_expect_error("[agent.abcdefghijklmnopqrstuvwxyzabcdefghijklmnopq]\n", NULL, 0, ERR_EINVAL,
                   "x.ini:1: [agent.abcdefghijklmnopqrstuvwxyzabcdefghijklmnopq]: bad agent name "
                   "'abcdefghijklmnopqrstuvwxyzabcdefghijklmnopq': use 1 to 42 of A-Z a-z 0-9 _ -");
    s_expect_error("[world]\nn_users = 5\n", NULL, 0, ERR_EINVAL,
                   "x.ini: no agents: add an [agent.NAME] section with a policy or a command");
    s_expect_error("", NULL, 0, ERR_EINVAL,
                   "x.ini: no agents: add an [agent.NAME] section with a policy or a command");

    char text[2048] = "";
    for (int a = 0; a <= SCENARIO_MAX_AGENTS; a++) {
        size_t n = strlen(text);
        snprintf(text + n, sizeof text - n, "[agent.a%d]\npolicy = random\n", a);
    }
    char message[128];
    snprintf(message, sizeof message, "x.ini:%d: [agent.a%d]: too many agents (at most %d)",
             2 * SCENARIO_MAX_AGENTS + 1, SCENARIO_MAX_AGENTS, SCENARIO_MAX_AGENTS);
    s_expect_error(text, NULL, 0, ERR_EINVAL, message);
}

/* Ranges (the key table) and cross-key rules (world_config_validate) are
 * reported where the key was set: ERR_ERANGE and ERR_EINVAL. */
/* Sizes only the whole scenario shows (issue 11 item 7): refused at load,
 * naming the key and the estimate, before anything is allocated. */
static void test_sizes_beyond_what_a_run_can_hold(void **state)
{
    (void)state;
    char text[256];
    /* 3000 x 1,000,000 = 3e9 ticks: beyond the int the run counts in */
    snprintf(text, sizeof text, "[run]\nepisodes = 3000\nticks = 1000000\n%s", s_agent);
    s_expect_error(text, NULL, 0, ERR_ERANGE,
                   "x.ini:2: [run] episodes: 3000 episodes x 1000000 ticks = 3000000000 ticks, "
                   "more than the 2147483647 a run counts");
    /* 2147 x 1,000,000 fits */
    scenario_t *sc = malloc(sizeof *sc);
    assert_non_null(sc);
    snprintf(text, sizeof text, "[run]\nepisodes = 2147\nticks = 1000000\n%s", s_agent);
    s_load_ok(sc, text, NULL, 0);

    /* a CATALOG of 1,000,000 items of dim 16: 1e6 x (12 + 64) + 512 =
     * 76,000,512 bytes > 64 MiB (67,108,864): refused for an agent
     * process, fine in-process */
    const char *remote = "[agent.a]\ncommand = true\n";
    snprintf(text, sizeof text, "[world]\nn_items = 1000000\n%s", remote);
    s_expect_error(text, NULL, 0, ERR_ERANGE,
                   "x.ini:2: [world] n_items: a CATALOG of the 1000000 items (n_items) of dim 16 "
                   "takes about 76000512 bytes, more than the 67108864 of one message "
                   "(PROTO_MAX_MESSAGE_BYTES): agent processes could not be sent it");
    snprintf(text, sizeof text, "[world]\nn_items = 1000000\n%s", s_agent);
    s_load_ok(sc, text, NULL, 0);
    /* 800,000 items: 60,800,512 bytes, fits */
    snprintf(text, sizeof text, "[world]\nn_items = 800000\n%s", remote);
    s_load_ok(sc, text, NULL, 0);
    /* a STEP of 1,000,000 users of dim 16 and history 5: 1e6 x (4 + 64 +
     * 20 + 13) + 1024 = 101,001,024 bytes */
    snprintf(text, sizeof text, "[world]\nn_users = 1000000\n%s", remote);
    s_expect_error(text, NULL, 0, ERR_ERANGE,
                   "x.ini:2: [world] n_users: a STEP of up to 1000000 requests (every user) of "
                   "dim 16 and history 5 takes about 101001024 bytes, more than the 67108864 of "
                   "one message (PROTO_MAX_MESSAGE_BYTES): agent processes could not be sent it");

    /* a world of 10 million users of dim 1024 takes about 10e6 x 1024 x 4
     * bytes x 4 (interest, its copy, feature offsets, the agent's
     * features) = 164 GB before anything else: more than this machine
     * (the test machines have far less); the message names the estimate */
    static scenario_t big, before;
    memset(&big, 0x5a, sizeof big);
    memcpy(&before, &big, sizeof big);
    char err[1024] = "";
    snprintf(text, sizeof text, "[world]\nn_users = 10000000\ndim = 1024\n%s", s_agent);
    int rc = scenario_load_string(&big, text, "x.ini", NULL, 0, err, sizeof err);
    assert_int_equal(rc, ERR_ERANGE);
    assert_memory_equal(&big, &before, sizeof big);
    assert_non_null(strstr(err, "x.ini:2: [world] n_users: the world would take about "));
    double gib = 0.0;
    assert_int_equal(sscanf(strstr(err, "about ") + 6, "%lf GiB", &gib), 1);
    /* the terms above alone: 10e6 x 1024 x 16 bytes = 152.6 GiB */
    assert_true(gib >= 152.5 && gib < 200.0);
    assert_non_null(strstr(err, "GiB of memory (users, items and their embeddings), more than "
                                "this machine's "));
    free(sc);
}

static void test_range_errors_name_where_the_key_was_set(void **state)
{
    (void)state;
    char text[256], message[256];
    snprintf(text, sizeof text, "[world]\nn_users = 50\nslate_size = 0\n%s", s_agent);
    snprintf(message, sizeof message, "x.ini:3: [world] slate_size: 0 is out of range [1, %d]",
             PROTO_MAX_SLATE);
    s_expect_error(text, NULL, 0, ERR_ERANGE, message);

    snprintf(text, sizeof text, "[world]\nn_items = 3\n%s", s_agent);
    s_expect_error(text, NULL, 0, ERR_EINVAL,
                   "x.ini: [world] slate_size (default): 5 exceeds world.n_items (3): a slate "
                   "needs 5 distinct items");

    snprintf(text, sizeof text, "[run]\n\nticks = 0\n%s", s_agent);
    s_expect_error(text, NULL, 0, ERR_ERANGE,
                   "x.ini:3: [run] ticks: 0 is out of range [1, 10000000]");

    snprintf(text, sizeof text, "[run]\nepisodes = 0\n%s", s_agent);
    s_expect_error(text, NULL, 0, ERR_ERANGE,
                   "x.ini:2: [run] episodes: 0 is out of range [1, 2147483647]");

    const char *const set[] = {"world.satiation_decay=1.5"};
    s_expect_error(s_agent, set, 1, ERR_ERANGE,
                   "--set world.satiation_decay=1.5: 1.5 is out of range [0, 1]");
}

static void test_override_errors_name_the_flag(void **state)
{
    (void)state;
    static const struct {
        const char *arg, *message;
        int code;
    } cases[] = {
        {"nodot", "--set nodot: expected section.key=value", ERR_ESYNTAX},
        {"world=5", "--set world=5: expected section.key=value", ERR_ESYNTAX},
        {"world.n_users", "--set world.n_users: expected section.key=value", ERR_ESYNTAX},
        {".n_users=5", "--set .n_users=5: expected section.key=value", ERR_ESYNTAX},
        {"world.=5", "--set world.=5: expected section.key=value", ERR_ESYNTAX},
        {"world.slate_size=ten", "--set world.slate_size=ten: expected an integer, got 'ten'",
         ERR_EINVAL},
        {"wrld.n_users=5", "--set wrld.n_users=5: unknown section (did you mean [world]?)",
         ERR_EINVAL},
        {"world.n_user=5", "--set world.n_user=5: unknown key (did you mean n_users?)", ERR_EINVAL},
        {"agent.b@d.policy=random",
         "--set agent.b@d.policy=random: bad agent name 'b@d': use 1 to 42 of A-Z a-z 0-9 _ -",
         ERR_EINVAL},
        {"agent.a.policy=best",
         "--set agent.a.policy=best: unknown policy 'best' (built-in: random, popularity, ideal)",
         ERR_EINVAL},
        {"agent.a.command=./x ; y",
         "--set agent.a.command=./x ; y: ';' at the start or after a space is not allowed: "
         "in a file it starts a comment",
         ERR_EINVAL},
        {"agent.a.command=;x",
         "--set agent.a.command=;x: ';' at the start or after a space is not allowed: in a file "
         "it starts a comment",
         ERR_EINVAL},
        {"agent.a.command=./x\ty",
         "--set agent.a.command=./x\ty: control characters are not allowed", ERR_EINVAL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *const set[] = {"world.n_users=10", cases[i].arg};
        s_expect_error(s_agent, set, 2, cases[i].code, cases[i].message);
    }

    /* "command = " plus the command must fit on one line of a written file */
    char arg[256], message[512];
    snprintf(arg, sizeof arg, "agent.a.command=%0190d", 1);
    snprintf(message, sizeof message, "--set %s: too long (190 characters, at most 189)", arg);
    const char *const set[] = {arg};
    s_expect_error(s_agent, set, 1, ERR_EINVAL, message);
}

static void test_overrides_win(void **state)
{
    (void)state;
    static scenario_t sc;
    const char *text = "[run]\nseed = 5\n[world]\nn_users = 100\n"
                       "[agent.alice]\npolicy = random\n"
                       "[agent.bob]\ncommand = ./build/agents/recarena-bandit --algo ucb1\n";
    const char *const set[] = {
        "world.n_users=200",
        " world.n_items = 50 ",
        "world.n_items=60",
        "run.seed=18446744073709551615",
        "run.name=tuned",
        "agent.bob.policy=random",
        "agent.alice.command=python3 agent.py",
    };
    s_load_ok(&sc, text, set, (int)(sizeof set / sizeof set[0]));
    assert_int_equal(sc.world.n_users, 200);
    assert_int_equal(sc.world.n_items, 60); /* the later override wins */
    assert_true(sc.seed == UINT64_MAX);
    assert_string_equal(sc.name, "tuned");
    assert_int_equal(sc.n_agents, 2);
    assert_int_equal(sc.world.n_agents, 2);
    assert_string_equal(sc.agents[0].name, "alice");
    assert_string_equal(sc.agents[0].policy, "");
    assert_string_equal(sc.agents[0].command, "python3 agent.py");
    assert_string_equal(sc.agents[1].name, "bob");
    assert_string_equal(sc.agents[1].policy, "random");
    /* the replaced command leaves no bytes behind */
    static const char zeros[sizeof sc.agents[1].command];
    assert_memory_equal(sc.agents[1].command, zeros, sizeof zeros);
}

/* --set names only agents the scenario has: a misspelt name is an error
 * with a did-you-mean, never a new agent. */
static void test_set_never_adds_agents(void **state)
{
    (void)state;
    const char *text = "[agent.alice]\npolicy = random\n[agent.carol]\npolicy = random\n";
    const char *const typo[] = {"agent.alise.policy=popularity"};
    s_expect_error(text, typo, 1, ERR_EINVAL,
                   "--set agent.alise.policy=popularity: no agent 'alise' in the scenario (did "
                   "you mean alice?)");
    const char *const other[] = {"agent.zed.command=./x"};
    s_expect_error(text, other, 1, ERR_EINVAL,
                   "--set agent.zed.command=./x: no agent 'zed' in the scenario (agents: alice, "
                   "carol): --agent NAME=COMMAND adds one");
    s_expect_error("", other, 1, ERR_EINVAL,
                   "--set agent.zed.command=./x: no agent 'zed' in the scenario (agents: none): "
                   "--agent NAME=COMMAND adds one");
}

/* --drop-agent, --agent and --set on a file, in that order; with no file,
 * the default world with only the added agents. */
static void test_edits_drop_add_set(void **state)
{
    (void)state;
    static scenario_t sc, plain;
    char err[512];
    const char *const drop[] = {"alice"};
    const char *const add[] = {"alice=policy:popularity", "dave=python3 agent.py --x=1"};
    const char *const set[] = {"agent.dave.command=./y", "world.n_users=70"};
    scenario_edits_t edits = {drop, 1, add, 2, set, 2};
    int rc = scenario_load_edited(&sc, DATA_DIR "full.ini", &edits, err, sizeof err);
    assert_int_equal(rc, 0);
    assert_int_equal(sc.n_agents, 4);
    assert_int_equal(sc.world.n_agents, 4);
    assert_string_equal(sc.agents[0].name, "bob"); /* the file's order, alice gone */
    assert_string_equal(sc.agents[1].name, "carol-2");
    assert_string_equal(sc.agents[2].name, "alice"); /* then the added ones */
    assert_string_equal(sc.agents[2].policy, "popularity");
    assert_string_equal(sc.agents[2].command, "");
    assert_string_equal(sc.agents[3].name, "dave");
    assert_string_equal(sc.agents[3].command, "./y"); /* --set after --agent */
    assert_int_equal(sc.world.n_users, 70);

    /* dropping and re-adding as in the file gives the file's scenario,
     * bytes and all (the dropped slot is zeroed) */
    assert_int_equal(scenario_load(&plain, DATA_DIR "full.ini", NULL, 0, err, sizeof err), 0);
    const char *const drop_last[] = {"carol-2"};
    char readd[128];
    snprintf(readd, sizeof readd, "carol-2=policy:%s", plain.agents[2].policy);
    const char *const add_last[] = {readd};
    scenario_edits_t same = {.drop = drop_last, .n_drop = 1, .add = add_last, .n_add = 1};
    assert_int_equal(scenario_load_edited(&sc, DATA_DIR "full.ini", &same, err, sizeof err), 0);
    assert_memory_equal(&sc, &plain, sizeof sc);

    /* no file: every key at its default, only the added agents */
    const char *const duel[] = {"a=policy:random", "b=build/agents/recarena-bandit --algo linucb"};
    scenario_edits_t cli = {.add = duel, .n_add = 2};
    assert_int_equal(scenario_load_edited(&sc, NULL, &cli, err, sizeof err), 0);
    assert_string_equal(sc.path, SCENARIO_NO_FILE_LABEL);
    assert_string_equal(sc.name, SCENARIO_NO_FILE_LABEL);
    assert_int_equal(sc.n_agents, 2);
    assert_string_equal(sc.agents[0].policy, "random");
    assert_string_equal(sc.agents[1].command, "build/agents/recarena-bandit --algo linucb");
    world_config_t defaults;
    memset(&defaults, 0, sizeof defaults);
    world_config_default(&defaults);
    defaults.n_agents = 2;
    assert_memory_equal(&sc.world, &defaults, sizeof defaults);

    /* errors name their flag */
    const struct {
        scenario_edits_t edits;
        const char *message;
    } bad[] = {
        {{.drop = (const char *const[]){"bobb"}, .n_drop = 1},
         "--drop-agent bobb: no agent 'bobb' in the scenario (did you mean bob?)"},
        {{.drop = (const char *const[]){"zed"}, .n_drop = 1},
         "--drop-agent zed: no agent 'zed' in the scenario (agents: alice, bob, carol-2)"},
        {{.add = (const char *const[]){"bob=./x"}, .n_add = 1},
         "--agent bob=./x: the scenario already has agent bob (--set agent.bob.command=... "
         "changes it, --drop-agent bob removes it)"},
        {{.add = (const char *const[]){"bob"}, .n_add = 1},
         "--agent bob: expected NAME=COMMAND or NAME=policy:POLICY"},
        {{.add = (const char *const[]){"=./x"}, .n_add = 1},
         "--agent =./x: expected NAME=COMMAND or NAME=policy:POLICY"},
        {{.add = (const char *const[]){"b@d=./x"}, .n_add = 1},
         "--agent b@d=./x: bad agent name 'b@d': use 1 to 42 of A-Z a-z 0-9 _ -"},
        {{.add = (const char *const[]){"e=policy:best"}, .n_add = 1},
         "--agent e=policy:best: unknown policy 'best' (built-in: random, popularity, ideal)"},
        {{.add = (const char *const[]){"e="}, .n_add = 1}, "--agent e=: expected a value, got ''"},
        {{.drop = (const char *const[]){"alice", "bob", "carol-2"}, .n_drop = 3},
         DATA_DIR "full.ini: no agents: add an [agent.NAME] section with a policy or a command"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_not_equal(
            scenario_load_edited(&sc, DATA_DIR "full.ini", &bad[i].edits, err, sizeof err), 0);
        assert_string_equal(err, bad[i].message);
    }
}

/* Writes sc and reads it back under the same label: the same bytes. */
static void s_assert_round_trip(const scenario_t *sc)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    assert_int_equal(scenario_write(sc, out), 0);
    assert_int_equal(fclose(out), 0);

    static scenario_t back;
    char err[1024] = "";
    memset(&back, 0xa5, sizeof back);
    int rc = scenario_load_string(&back, text, sc->path, NULL, 0, err, sizeof err);
    if (rc != 0)
        print_error("%s\n%s\n", err, text);
    assert_int_equal(rc, 0);
    assert_memory_equal(&back, sc, sizeof back);

    /* and writing it again gives the same text */
    char *again = NULL;
    size_t again_len = 0;
    out = open_memstream(&again, &again_len);
    assert_non_null(out);
    assert_int_equal(scenario_write(&back, out), 0);
    assert_int_equal(fclose(out), 0);
    assert_string_equal(again, text);
    free(again);
    free(text);
}

static void test_write_then_load_round_trips(void **state)
{
    (void)state;
    static scenario_t sc;
    char err[1024] = "";
    memset(&sc, 0, sizeof sc);
    assert_int_equal(scenario_load(&sc, DATA_DIR "full.ini", NULL, 0, err, sizeof err), 0);
    s_assert_round_trip(&sc);

    /* doubles that need all 17 digits, extremes, and overridden agents */
    const char *const set[] = {
        "world.quality_weight=0.1",
        "world.topic_spread=1e-310",
        "world.no_click_score=-0",
        "world.return_gain=-99.99999999999999",
        "world.choice_temperature=0.3333333333333333",
        "agent.bob.policy=popularity",
    };
    const char *const add[] = {"dave=./agents/x --name=dave"};
    scenario_edits_t edits = {.add = add, .n_add = 1, .set = set, .n_set = 6};
    memset(&sc, 0, sizeof sc);
    assert_int_equal(scenario_load_edited(&sc, DATA_DIR "full.ini", &edits, err, sizeof err), 0);
    s_assert_round_trip(&sc);

    memset(&sc, 0, sizeof sc);
    assert_int_equal(
        scenario_load_string(&sc, s_agent, "scenarios/tiny.ini", NULL, 0, err, sizeof err), 0);
    s_assert_round_trip(&sc);
}

static void test_file_errors(void **state)
{
    (void)state;
    static scenario_t sc;
    char err[1024] = "";
    assert_int_equal(scenario_load(&sc, DATA_DIR "bad_value.ini", NULL, 0, err, sizeof err),
                     ERR_EINVAL);
    assert_string_equal(err, DATA_DIR
                        "bad_value.ini:7: [world] slate_size: expected an integer, got 'ten'");

    assert_int_equal(scenario_load(&sc, DATA_DIR "missing.ini", NULL, 0, err, sizeof err), ERR_EIO);
    assert_string_equal(err, DATA_DIR "missing.ini: cannot open: No such file or directory");

    assert_int_equal(scenario_load(&sc, DATA_DIR, NULL, 0, err, sizeof err), ERR_EIO);
    assert_string_equal(err, DATA_DIR ": cannot read: Is a directory");

    /* bytes a string cannot carry: a NUL inside a line */
    char path[] = "/tmp/test_scenario_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char nul[] = "[agent.a]\npolicy = ran\0dom\n";
    assert_int_equal(write(fd, nul, sizeof nul - 1), (ssize_t)(sizeof nul - 1));
    close(fd);
    assert_int_equal(scenario_load(&sc, path, NULL, 0, err, sizeof err), ERR_ESYNTAX);
    char message[128];
    snprintf(message, sizeof message, "%s:2: NUL byte in line", path);
    assert_string_equal(err, message);
    unlink(path);

    /* no message buffer: the code alone */
    assert_int_equal(scenario_load_string(&sc, "[wrld]\n", "x.ini", NULL, 0, NULL, 0), ERR_EINVAL);
}

static void test_server_section(void **state)
{
    (void)state;
    static scenario_t sc;
    s_load_ok(&sc, s_agent, NULL, 0);
    assert_int_equal(sc.server.deadline_ms, 2000);
    assert_int_equal(sc.server.hello_timeout_ms, 10000);
    const char *set[] = {"server.hello_timeout_ms=500"};
    s_load_ok(&sc, "[server]\ndeadline_ms = 250\n[agent.a]\npolicy = random\n", set, 1);
    assert_int_equal(sc.server.deadline_ms, 250);
    assert_int_equal(sc.server.hello_timeout_ms, 500);
    s_expect_error("[server]\ndeadline_ms = 0\n[agent.a]\npolicy = random\n", NULL, 0, ERR_ERANGE,
                   "x.ini:2: [server] deadline_ms: 0 is out of range [1, 600000]");
    s_expect_error("[server]\ndeadline_mss = 5\n[agent.a]\npolicy = random\n", NULL, 0, ERR_EINVAL,
                   "x.ini:2: [server] deadline_mss: unknown key (did you mean deadline_ms?)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_when_keys_are_absent),
        cmocka_unit_test(test_default_name_comes_from_the_label),
        cmocka_unit_test(test_every_type_is_parsed),
        cmocka_unit_test(test_file_layout),
        cmocka_unit_test(test_shipped_like_file_loads),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_section_and_key_errors),
        cmocka_unit_test(test_value_errors),
        cmocka_unit_test(test_agent_errors),
        cmocka_unit_test(test_range_errors_name_where_the_key_was_set),
        cmocka_unit_test(test_sizes_beyond_what_a_run_can_hold),
        cmocka_unit_test(test_override_errors_name_the_flag),
        cmocka_unit_test(test_overrides_win),
        cmocka_unit_test(test_set_never_adds_agents),
        cmocka_unit_test(test_edits_drop_add_set),
        cmocka_unit_test(test_write_then_load_round_trips),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_server_section),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
