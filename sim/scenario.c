/* Scenario loading: reads an INI file through inih, one line at a time so
 * that every error can name its line, checks each key and value as it
 * arrives, applies --set overrides, then runs world_config_check and puts
 * the file:line where the faulty key was set in front of its message. One
 * key table serves parsing, suggestions and scenario_write. */
#include "sim/scenario.h"

#include "sim/policy.h"

#include <ini.h>

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum s_type {
    S_INT,
    S_UINT64,
    S_DOUBLE,
    S_BOOL,
    S_MODE,     /* world_mode_t, by the names in s_modes */
    S_RUN_NAME, /* scenario_t.name */
} s_type_t;

typedef struct s_key {
    const char *section; /* "run", "world" or "server" */
    const char *name;
    s_type_t type;
    size_t offset; /* of the field in scenario_t */
} s_key_t;

#define S_RUN_KEY(key, member, type)                                                               \
    {                                                                                              \
        "run", key, type, offsetof(scenario_t, member)                                             \
    }
#define S_WORLD_KEY(field, type)                                                                   \
    {                                                                                              \
        "world", #field, type, offsetof(scenario_t, world.field)                                   \
    }

#define S_SERVER_KEY(field)                                                                        \
    {                                                                                              \
        "server", #field, S_INT, offsetof(scenario_t, server.field)                                \
    }

/* Every key of [run], [world] and [server], in the order scenario_write gives them:
 * every world_config_t field but n_agents (the number of agents). */
static const s_key_t s_keys[] = {
    S_RUN_KEY("name", name, S_RUN_NAME),
    S_RUN_KEY("seed", seed, S_UINT64),
    S_RUN_KEY("episodes", episodes, S_INT),
    S_RUN_KEY("ticks", world.ticks, S_INT),
    S_WORLD_KEY(mode, S_MODE),
    S_WORLD_KEY(n_items, S_INT),
    S_WORLD_KEY(n_topics, S_INT),
    S_WORLD_KEY(dim, S_INT),
    S_WORLD_KEY(n_providers, S_INT),
    S_WORLD_KEY(topic_spread, S_DOUBLE),
    S_WORLD_KEY(quality_std, S_DOUBLE),
    S_WORLD_KEY(item_arrival_rate, S_DOUBLE),
    S_WORLD_KEY(item_lifetime, S_DOUBLE),
    S_WORLD_KEY(n_users, S_INT),
    S_WORLD_KEY(interest_spread, S_DOUBLE),
    S_WORLD_KEY(feature_noise, S_DOUBLE),
    S_WORLD_KEY(history_len, S_INT),
    S_WORLD_KEY(slate_size, S_INT),
    S_WORLD_KEY(quality_weight, S_DOUBLE),
    S_WORLD_KEY(choice_temperature, S_DOUBLE),
    S_WORLD_KEY(no_click_score, S_DOUBLE),
    S_WORLD_KEY(position_decay, S_DOUBLE),
    S_WORLD_KEY(satiation_gain, S_DOUBLE),
    S_WORLD_KEY(satiation_decay, S_DOUBLE),
    S_WORLD_KEY(interest_drift, S_DOUBLE),
    S_WORLD_KEY(session_budget, S_DOUBLE),
    S_WORLD_KEY(consume_cost, S_DOUBLE),
    S_WORLD_KEY(noclick_cost, S_DOUBLE),
    S_WORLD_KEY(budget_gain, S_DOUBLE),
    S_WORLD_KEY(satisfaction_rate, S_DOUBLE),
    S_WORLD_KEY(return_base, S_DOUBLE),
    S_WORLD_KEY(return_gain, S_DOUBLE),
    S_WORLD_KEY(initial_active, S_DOUBLE),
    S_WORLD_KEY(market_temperature, S_DOUBLE),
    S_WORLD_KEY(reputation_rate, S_DOUBLE),
    S_WORLD_KEY(reward_sharing, S_DOUBLE),
    S_WORLD_KEY(diversity_bonus, S_DOUBLE),
    S_WORLD_KEY(oracle, S_BOOL),
    S_SERVER_KEY(deadline_ms),
    S_SERVER_KEY(hello_timeout_ms),
};
#define S_N_KEYS ((int)(sizeof s_keys / sizeof s_keys[0]))

static const char *const s_modes[] = {[WORLD_MODE_MARKET] = "market", [WORLD_MODE_FEED] = "feed"};
static const char *const s_agent_keys[] = {"policy", "command"};
static const char *const s_sections[] = {"run", "world", "server", "agent"};

/* Where a value came from: a file line, a --set argument, or neither
 * (the default). */
typedef struct s_origin {
    int line;        /* > 0: the file line that set it */
    const char *set; /* the --set argument that set it, or NULL */
} s_origin_t;

typedef struct s_parser {
    scenario_t sc; /* being built; copied to the caller only on success */
    const char *label;
    s_origin_t key_at[S_N_KEYS];
    s_origin_t agent_at[SCENARIO_MAX_AGENTS]; /* the section header or --set that added it */
    s_origin_t policy_at[SCENARIO_MAX_AGENTS];
    s_origin_t command_at[SCENARIO_MAX_AGENTS];
    const char *text, *pos, *end; /* the INI text and the next line to read */
    int line;                     /* lines read so far */
    int error;                    /* the first error, 0 while none */
    int error_line;               /* its file line, 0 when it has none */
    char *err;
    size_t err_len;
} s_parser_t;

const char *scenario_strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
    case SCENARIO_EIO:
        return "cannot read or write the scenario";
    case SCENARIO_ENOMEM:
        return "out of memory";
    case SCENARIO_ESYNTAX:
        return "scenario syntax error";
    case SCENARIO_EINVAL:
        return "invalid scenario";
    default:
        return "unknown scenario error";
    }
}

/* Records the first error as one message: "LABEL:LINE: [section] key: ...",
 * "LABEL: [section] key (default): ..." or "--set ARG: ...". section and
 * key may be NULL. Returns the first error's code. */
static int s_fail(s_parser_t *p, int code, s_origin_t at, const char *section, const char *key,
                  const char *fmt, ...)
{
    if (p->error)
        return p->error;
    p->error = code;
    p->error_line = at.line;
    if (!p->err || !p->err_len)
        return code;

    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    char where[1100];
    if (at.set)
        snprintf(where, sizeof where, "--set %s", at.set);
    else if (at.line > 0)
        snprintf(where, sizeof where, "%s:%d", p->label, at.line);
    else
        snprintf(where, sizeof where, "%s", p->label);

    if (at.set || !section)
        snprintf(p->err, p->err_len, "%s: %s", where, msg);
    else if (!key)
        snprintf(p->err, p->err_len, "%s: [%s]: %s", where, section, msg);
    else
        snprintf(p->err, p->err_len, "%s: [%s] %s%s: %s", where, section, key,
                 at.line > 0 ? "" : " (default)", msg);
    return code;
}

/* Levenshtein distance; words longer than 63 bytes count as far apart. */
static int s_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return INT_MAX;
    int row[64];
    for (size_t j = 0; j <= lb; j++)
        row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int diagonal = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int above = row[j];
            int best = diagonal + (a[i - 1] != b[j - 1]);
            if (above + 1 < best)
                best = above + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diagonal = above;
        }
    }
    return row[lb];
}

/* The candidate nearest to word if it is a likely typo of it (one edit,
 * two for names of six letters or more), else NULL. */
static const char *s_nearest(const char *word, const char *const *candidates, int n)
{
    const char *best = NULL;
    int best_distance = INT_MAX;
    for (int i = 0; i < n; i++) {
        int d = s_distance(word, candidates[i]);
        if (d <= 1 + (strlen(candidates[i]) >= 6) && d < best_distance) {
            best = candidates[i];
            best_distance = d;
        }
    }
    return best;
}

static size_t s_value_size(s_type_t type)
{
    switch (type) {
    case S_INT:
        return sizeof(int);
    case S_UINT64:
        return sizeof(uint64_t);
    case S_DOUBLE:
        return sizeof(double);
    case S_BOOL:
        return sizeof(bool);
    case S_MODE:
        return sizeof(world_mode_t);
    case S_RUN_NAME:
        break;
    }
    return sizeof((scenario_t *)0)->name;
}

static int s_find_key(const char *section, const char *name)
{
    for (int i = 0; i < S_N_KEYS; i++)
        if (strcmp(s_keys[i].section, section) == 0 && strcmp(s_keys[i].name, name) == 0)
            return i;
    return -1;
}

static bool s_char_ok(char c, const char *extra)
{
    return isalnum((unsigned char)c) || (c && strchr(extra, c));
}

/* True when s is 1..max bytes, each a letter, a digit or one of extra. */
static bool s_word_ok(const char *s, size_t max, const char *extra)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!s_char_ok(s[i], extra))
            return false;
    return true;
}

static int s_agent_index(const s_parser_t *p, const char *name)
{
    for (int a = 0; a < p->sc.n_agents; a++)
        if (strcmp(p->sc.agents[a].name, name) == 0)
            return a;
    return -1;
}

/* Checks a section name and opens it: [run] and [world] (*agent = -1), or
 * [agent.NAME], which adds agent NAME the first time (*agent = its index). */
static int s_open_section(s_parser_t *p, const char *section, s_origin_t at, int *agent)
{
    *agent = -1;
    if (strcmp(section, "run") == 0 || strcmp(section, "world") == 0 ||
        strcmp(section, "server") == 0)
        return 0;
    if (strncmp(section, "agent.", 6) != 0) {
        char head[64];
        snprintf(head, sizeof head, "%.*s", (int)strcspn(section, "."), section);
        const char *near = s_nearest(head, s_sections, 4);
        if (near && strcmp(near, "agent") == 0)
            return s_fail(p, SCENARIO_EINVAL, at, section, NULL,
                          "unknown section (did you mean [agent.%s]?)",
                          strchr(section, '.') ? strchr(section, '.') + 1 : "NAME");
        if (near && !strchr(section, '.'))
            return s_fail(p, SCENARIO_EINVAL, at, section, NULL,
                          "unknown section (did you mean [%s]?)", near);
        return s_fail(p, SCENARIO_EINVAL, at, section, NULL,
                      "unknown section (known: [run], [world], [server], [agent.NAME])");
    }
    const char *name = section + 6;
    if (!s_word_ok(name, SCENARIO_AGENT_NAME_MAX, "_-"))
        return s_fail(p, SCENARIO_EINVAL, at, section, NULL,
                      "bad agent name '%s': use 1 to %d of A-Z a-z 0-9 _ -", name,
                      SCENARIO_AGENT_NAME_MAX);
    *agent = s_agent_index(p, name);
    if (*agent >= 0)
        return 0;
    if (p->sc.n_agents == SCENARIO_MAX_AGENTS)
        return s_fail(p, SCENARIO_EINVAL, at, section, NULL, "too many agents (at most %d)",
                      SCENARIO_MAX_AGENTS);
    *agent = p->sc.n_agents++;
    memcpy(p->sc.agents[*agent].name, name, strlen(name));
    p->agent_at[*agent] = at;
    return 0;
}

static int s_unknown_key(s_parser_t *p, const char *section, const char *key, s_origin_t at,
                         const char *const *known, int n_known)
{
    if (strcmp(key, "n_agents") == 0)
        return s_fail(p, SCENARIO_EINVAL, at, section, key,
                      "not a key: the number of agents is the number of [agent.NAME] sections");
    for (int i = 0; i < S_N_KEYS; i++)
        if (strcmp(s_keys[i].name, key) == 0)
            return s_fail(p, SCENARIO_EINVAL, at, section, key,
                          "unknown key here (it belongs in [%s])", s_keys[i].section);
    const char *near = s_nearest(key, known, n_known);
    if (near)
        return s_fail(p, SCENARIO_EINVAL, at, section, key, "unknown key (did you mean %s?)", near);
    return s_fail(p, SCENARIO_EINVAL, at, section, key, "unknown key");
}

/* Checks text that scenario_write must give back unchanged on one INI line
 * ("key = text"): inih strips outer spaces, takes a ';' after a space as
 * the start of a comment (";x", read from "key =;x", would be written back
 * as "key = ;x") and reads at most INI_MAX_LINE - 1 characters a line. */
static int s_check_text(s_parser_t *p, const char *section, const char *key, const char *text,
                        size_t field_size, s_origin_t at)
{
    size_t n = strlen(text);
    size_t max = INI_MAX_LINE - 1 - strlen(key) - 3;
    if (max > field_size - 1)
        max = field_size - 1;
    if (n == 0)
        return s_fail(p, SCENARIO_EINVAL, at, section, key, "expected a value, got ''");
    if (n > max)
        return s_fail(p, SCENARIO_EINVAL, at, section, key,
                      "too long (%zu characters, at most %zu)", n, max);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
            return s_fail(p, SCENARIO_EINVAL, at, section, key,
                          "control characters are not allowed");
    if (text[0] == ' ' || text[n - 1] == ' ')
        return s_fail(p, SCENARIO_EINVAL, at, section, key,
                      "leading or trailing spaces are not allowed");
    if (text[0] == ';' || strstr(text, " ;"))
        return s_fail(p, SCENARIO_EINVAL, at, section, key,
                      "';' at the start or after a space is not allowed: in a file it starts a "
                      "comment");
    return 0;
}

/* Sets an agent's policy or command. Within the file an agent takes one of
 * the two, once; an override replaces whichever the agent had. */
static int s_set_agent(s_parser_t *p, int a, const char *section, const char *key,
                       const char *value, s_origin_t at)
{
    scenario_agent_t *agent = &p->sc.agents[a];
    bool is_policy = strcmp(key, "policy") == 0;
    if (!is_policy && strcmp(key, "command") != 0)
        return s_unknown_key(p, section, key, at, s_agent_keys, 2);
    s_origin_t *own_at = is_policy ? &p->policy_at[a] : &p->command_at[a];
    s_origin_t *other_at = is_policy ? &p->command_at[a] : &p->policy_at[a];
    if (!at.set && own_at->line)
        return s_fail(p, SCENARIO_EINVAL, at, section, key, "duplicate key (first set at line %d)",
                      own_at->line);
    if (!at.set && other_at->line)
        return s_fail(p, SCENARIO_EINVAL, at, section, key,
                      "agent %s already has a %s (line %d): give policy or command, not both",
                      agent->name, is_policy ? "command" : "policy", other_at->line);

    char *own = is_policy ? agent->policy : agent->command;
    char *other = is_policy ? agent->command : agent->policy;
    size_t own_size = is_policy ? sizeof agent->policy : sizeof agent->command;
    size_t other_size = is_policy ? sizeof agent->command : sizeof agent->policy;
    if (is_policy) {
        policy_kind_t kind;
        if (policy_kind_parse(value, &kind) != 0)
            return s_fail(p, SCENARIO_EINVAL, at, section, key,
                          "unknown policy '%s' (built-in: %s, %s)", value,
                          policy_kind_name(POLICY_RANDOM), policy_kind_name(POLICY_POPULARITY));
    } else if (s_check_text(p, section, key, value, own_size, at) != 0) {
        return p->error;
    }
    /* whole fields, so that a shorter value leaves no old bytes behind */
    memset(own, 0, own_size);
    memcpy(own, value, strlen(value));
    memset(other, 0, other_size);
    *own_at = at;
    *other_at = (s_origin_t){0};
    return 0;
}

/* Parses value by the key's type into its field of p->sc. */
static int s_set_key(s_parser_t *p, const char *section, const char *key, const char *value,
                     s_origin_t at)
{
    int k = s_find_key(section, key);
    if (k < 0) {
        const char *known[S_N_KEYS];
        int n_known = 0;
        for (int i = 0; i < S_N_KEYS; i++)
            if (strcmp(s_keys[i].section, section) == 0)
                known[n_known++] = s_keys[i].name;
        return s_unknown_key(p, section, key, at, known, n_known);
    }
    if (!at.set && p->key_at[k].line)
        return s_fail(p, SCENARIO_EINVAL, at, section, key, "duplicate key (first set at line %d)",
                      p->key_at[k].line);

    void *field = (char *)&p->sc + s_keys[k].offset;
    char *end;
    errno = 0;
    switch (s_keys[k].type) {
    case S_INT: {
        long long v = strtoll(value, &end, 10);
        if (end == value || *end)
            return s_fail(p, SCENARIO_EINVAL, at, section, key, "expected an integer, got '%s'",
                          value);
        if (errno == ERANGE || v < INT_MIN || v > INT_MAX)
            return s_fail(p, SCENARIO_EINVAL, at, section, key,
                          "integer '%s' does not fit in an int [%d, %d]", value, INT_MIN, INT_MAX);
        *(int *)field = (int)v;
        break;
    }
    case S_UINT64: {
        /* strtoull would take "-1" as 2^64 - 1: digits only */
        _Static_assert(sizeof(unsigned long long) == sizeof(uint64_t),
                       "unsigned long long is 64 bits");
        unsigned long long v = strtoull(value, &end, 10);
        if (!isdigit((unsigned char)value[0]) || *end)
            return s_fail(p, SCENARIO_EINVAL, at, section, key,
                          "expected an unsigned integer, got '%s'", value);
        if (errno == ERANGE)
            return s_fail(p, SCENARIO_EINVAL, at, section, key,
                          "integer '%s' does not fit in 64 bits (at most %" PRIu64 ")", value,
                          UINT64_MAX);
        *(uint64_t *)field = (uint64_t)v;
        break;
    }
    case S_DOUBLE: {
        /* underflow (ERANGE towards 0) is accepted; overflow gives inf */
        double v = strtod(value, &end);
        if (end == value || *end)
            return s_fail(p, SCENARIO_EINVAL, at, section, key, "expected a number, got '%s'",
                          value);
        if (!isfinite(v))
            return s_fail(p, SCENARIO_EINVAL, at, section, key,
                          "expected a finite number, got '%s'", value);
        *(double *)field = v;
        break;
    }
    case S_BOOL: {
        static const char *const yes[] = {"true", "yes", "on", "1"};
        static const char *const no[] = {"false", "no", "off", "0"};
        int v = -1;
        for (int i = 0; i < 4; i++) {
            if (strcasecmp(value, yes[i]) == 0)
                v = 1;
            if (strcasecmp(value, no[i]) == 0)
                v = 0;
        }
        if (v < 0)
            return s_fail(p, SCENARIO_EINVAL, at, section, key,
                          "expected true or false (or yes/no, on/off, 1/0), got '%s'", value);
        *(bool *)field = v;
        break;
    }
    case S_MODE: {
        int v = -1;
        for (int i = 0; i < (int)(sizeof s_modes / sizeof s_modes[0]); i++)
            if (strcmp(value, s_modes[i]) == 0)
                v = i;
        if (v < 0)
            return s_fail(p, SCENARIO_EINVAL, at, section, key, "expected market or feed, got '%s'",
                          value);
        *(world_mode_t *)field = (world_mode_t)v;
        break;
    }
    case S_RUN_NAME:
        if (!s_word_ok(value, sizeof p->sc.name - 1, "_.-"))
            return s_fail(p, SCENARIO_EINVAL, at, section, key,
                          "bad run name '%s': use 1 to %zu of A-Z a-z 0-9 _ . -", value,
                          sizeof p->sc.name - 1);
        memset(p->sc.name, 0, sizeof p->sc.name);
        memcpy(p->sc.name, value, strlen(value));
        break;
    }
    p->key_at[k] = at;
    return 0;
}

/* Sets section.key = value, from a file line or a --set argument. */
static int s_set(s_parser_t *p, const char *section, const char *key, const char *value,
                 s_origin_t at)
{
    if (!section[0])
        return s_fail(p, SCENARIO_EINVAL, at, NULL, NULL,
                      "%s: key outside any section (put it under [run], [world] or "
                      "[agent.NAME])",
                      key);
    int agent;
    if (s_open_section(p, section, at, &agent) != 0)
        return p->error;
    if (!key[0])
        return s_fail(p, SCENARIO_EINVAL, at, section, NULL, "missing key before '='");
    if (agent >= 0)
        return s_set_agent(p, agent, section, key, value, at);
    return s_set_key(p, section, key, value, at);
}

/* inih calls the handler for keys only, so a section header without keys
 * would go unseen (an agent with neither policy nor command, a misspelt
 * empty section). The line reader therefore opens every header itself,
 * under the name inih gives it: it has inih parse the header line followed
 * by a dummy key, and takes the section that key arrives in. */
#define S_SECTION_NAME_SIZE 64 /* inih keeps at most 49 bytes of a section name */

typedef struct s_header_reader {
    const char *lines[2];
    int next;
} s_header_reader_t;

static char *s_header_read(char *buf, int size, void *stream)
{
    s_header_reader_t *r = stream;
    if (r->next == 2)
        return NULL;
    snprintf(buf, (size_t)size, "%s", r->lines[r->next++]);
    return buf;
}

static int s_header_name(void *user, const char *section, const char *name, const char *value)
{
    (void)name;
    (void)value;
    snprintf(user, S_SECTION_NAME_SIZE, "%s", section);
    return 1;
}

static void s_open_header(s_parser_t *p, const char *line, s_origin_t at)
{
    char section[S_SECTION_NAME_SIZE] = "";
    s_header_reader_t reader = {.lines = {line, "_ ="}};
    if (ini_parse_stream(s_header_read, &reader, s_header_name, section) != 0) {
        s_fail(p, SCENARIO_ESYNTAX, at, NULL, NULL, "expected ']' to close the section name");
        return;
    }
    int agent;
    s_open_section(p, section, at, &agent);
}

/* inih's line reader (fgets-like): hands inih one line of p->text per call,
 * so p->line is the line of every handler call. Leading blanks are dropped,
 * since inih would read an indented line as the continuation of the
 * previous value. Stops at the first error. */
static char *s_read_line(char *buf, int size, void *stream)
{
    s_parser_t *p = stream;
    if (p->error || p->pos == p->end)
        return NULL;
    s_origin_t at = {.line = ++p->line};
    const char *start = p->pos;
    const char *newline = memchr(start, '\n', (size_t)(p->end - start));
    const char *stop = newline ? newline : p->end;
    p->pos = newline ? newline + 1 : p->end;

    if (p->line == 1 && stop - start >= 3 && memcmp(start, "\xEF\xBB\xBF", 3) == 0)
        start += 3; /* UTF-8 byte order mark */
    while (start < stop && isspace((unsigned char)*start))
        start++;
    if (start < stop && stop[-1] == '\r')
        stop--;
    size_t len = (size_t)(stop - start);
    if (memchr(start, '\0', len)) {
        s_fail(p, SCENARIO_ESYNTAX, at, NULL, NULL, "NUL byte in line");
        return NULL;
    }
    if (len >= (size_t)size) {
        s_fail(p, SCENARIO_ESYNTAX, at, NULL, NULL, "line longer than %d characters", size - 1);
        return NULL;
    }
    memcpy(buf, start, len);
    buf[len] = '\0';
    if (buf[0] == '[')
        s_open_header(p, buf, at);
    return p->error ? NULL : buf;
}

static int s_on_key(void *user, const char *section, const char *key, const char *value)
{
    s_parser_t *p = user;
    return s_set(p, section, key, value, (s_origin_t){.line = p->line}) == 0;
}

/* Parses p->text; the first error in file order wins. */
static int s_parse_text(s_parser_t *p)
{
    int bad_line = ini_parse_stream(s_read_line, p, s_on_key, p);
    if (bad_line == -2)
        return s_fail(p, SCENARIO_ENOMEM, (s_origin_t){0}, NULL, NULL, "out of memory");
    if (bad_line > 0 && (!p->error || bad_line < p->error_line)) {
        /* inih found a line that is neither a section, a key nor a comment
         * (it reads on past such lines): it comes before any error of ours */
        const char *line = p->text;
        for (int i = 1; i < bad_line; i++)
            line = strchr(line, '\n') + 1;
        while (*line == ' ' || *line == '\t')
            line++;
        p->error = 0;
        return s_fail(p, SCENARIO_ESYNTAX, (s_origin_t){.line = bad_line}, NULL, NULL,
                      "expected [section], key = value or a comment, got '%.*s'",
                      (int)strcspn(line, "\r\n"), line);
    }
    return p->error;
}

/* Applies one "section.key=value" argument (outer spaces trimmed). */
static int s_apply_override(s_parser_t *p, const char *arg)
{
    s_origin_t at = {.set = arg};
    const char *key_start = arg + strspn(arg, " \t");
    const char *eq = strchr(key_start, '=');
    const char *key_end = eq;
    while (eq && key_end > key_start && isspace((unsigned char)key_end[-1]))
        key_end--;
    const char *dot = NULL;
    for (const char *c = key_start; eq && c < key_end; c++)
        if (*c == '.')
            dot = c;
    if (!eq || !dot || dot == key_start || dot + 1 == key_end)
        return s_fail(p, SCENARIO_ESYNTAX, at, NULL, NULL, "expected section.key=value");

    char section[128], key[128], value[1024];
    const char *value_start = eq + 1, *value_end = eq + strlen(eq);
    while (isspace((unsigned char)*value_start))
        value_start++;
    while (value_end > value_start && isspace((unsigned char)value_end[-1]))
        value_end--;
    if (dot - key_start >= (long)sizeof section || key_end - dot - 1 >= (long)sizeof key ||
        value_end - value_start >= (long)sizeof value)
        return s_fail(p, SCENARIO_EINVAL, at, NULL, NULL, "section, key or value too long");
    snprintf(section, sizeof section, "%.*s", (int)(dot - key_start), key_start);
    snprintf(key, sizeof key, "%.*s", (int)(key_end - dot - 1), dot + 1);
    snprintf(value, sizeof value, "%.*s", (int)(value_end - value_start), value_start);
    return s_set(p, section, key, value, at);
}

/* Checks what only the whole scenario shows: agents, the default run name,
 * and the ranges and cross-key rules of world_config_check. */
static int s_finish(s_parser_t *p)
{
    scenario_t *sc = &p->sc;
    if (sc->n_agents == 0)
        return s_fail(p, SCENARIO_EINVAL, (s_origin_t){0}, NULL, NULL,
                      "no agents: add an [agent.NAME] section with a policy or a command");
    for (int a = 0; a < sc->n_agents; a++) {
        if (!sc->agents[a].policy[0] && !sc->agents[a].command[0]) {
            char section[80];
            snprintf(section, sizeof section, "agent.%s", sc->agents[a].name);
            return s_fail(p, SCENARIO_EINVAL, p->agent_at[a], section, NULL,
                          "needs a policy (built-in) or a command (external process)");
        }
    }
    sc->world.n_agents = sc->n_agents;

    if (!sc->name[0]) {
        /* the label's base name without ".ini", other characters as '_' */
        const char *base = strrchr(p->label, '/') ? strrchr(p->label, '/') + 1 : p->label;
        size_t n = strlen(base);
        if (n > 4 && strcmp(base + n - 4, ".ini") == 0)
            n -= 4;
        if (n > sizeof sc->name - 1)
            n = sizeof sc->name - 1;
        for (size_t i = 0; i < n; i++)
            sc->name[i] = s_char_ok(base[i], "_.-") ? base[i] : '_';
        if (n == 0)
            memcpy(sc->name, "scenario", 8);
    }
    int episodes = s_find_key("run", "episodes");
    if (sc->episodes < 1)
        return s_fail(p, SCENARIO_EINVAL, p->key_at[episodes], "run", "episodes",
                      "%d is out of range [1, %d]", sc->episodes, INT_MAX);
    const struct {
        const char *key;
        int value, lo, hi;
    } server_ranges[] = {
        {"deadline_ms", sc->server.deadline_ms, 1, 600000},
        {"hello_timeout_ms", sc->server.hello_timeout_ms, 100, 600000},
    };
    for (size_t i = 0; i < sizeof server_ranges / sizeof server_ranges[0]; i++) {
        int v = server_ranges[i].value;
        if (v < server_ranges[i].lo || v > server_ranges[i].hi)
            return s_fail(p, SCENARIO_EINVAL, p->key_at[s_find_key("server", server_ranges[i].key)],
                          "server", server_ranges[i].key, "%d is out of range [%d, %d]", v,
                          server_ranges[i].lo, server_ranges[i].hi);
    }

    /* "world.slate_size: ..." -> the origin of [world] slate_size */
    char msg[1024];
    if (world_config_check(&sc->world, msg, sizeof msg) == 0)
        return 0;
    char section[32] = "", key[64] = "";
    const char *colon = strstr(msg, ": ");
    const char *dot = strchr(msg, '.');
    int k = -1;
    if (colon && dot && dot < colon && dot - msg < (long)sizeof section &&
        colon - dot - 1 < (long)sizeof key) {
        snprintf(section, sizeof section, "%.*s", (int)(dot - msg), msg);
        snprintf(key, sizeof key, "%.*s", (int)(colon - dot - 1), dot + 1);
        k = s_find_key(section, key);
    }
    if (k < 0)
        return s_fail(p, SCENARIO_EINVAL, (s_origin_t){0}, NULL, NULL, "%s", msg);
    return s_fail(p, SCENARIO_EINVAL, p->key_at[k], section, key, "%s", colon + 2);
}

/* A parser for label with every default in place. The scenario is built in
 * zeroed memory, field by field, so that its padding stays zero and two
 * equal scenarios compare equal with memcmp. NULL on no memory. */
static s_parser_t *s_parser_new(const char *label, char *err, size_t err_len)
{
    s_parser_t *p = calloc(1, sizeof *p);
    if (!p) {
        if (err && err_len)
            snprintf(err, err_len, "%s: out of memory", label);
        return NULL;
    }
    p->label = label;
    p->err = err;
    p->err_len = err_len;

    world_config_t defaults;
    world_config_default(&defaults);
    const size_t world_at = offsetof(scenario_t, world);
    for (int k = 0; k < S_N_KEYS; k++) {
        size_t at = s_keys[k].offset;
        if (at >= world_at && at < world_at + sizeof defaults)
            memcpy((char *)&p->sc + at, (const char *)&defaults + (at - world_at),
                   s_value_size(s_keys[k].type));
    }
    p->sc.seed = 1;
    p->sc.episodes = 1;
    p->sc.server.deadline_ms = SCENARIO_DEFAULT_DEADLINE_MS;
    p->sc.server.hello_timeout_ms = SCENARIO_DEFAULT_HELLO_TIMEOUT_MS;
    return p;
}

/* Parses text (NUL-terminated, len bytes), applies the overrides, checks,
 * and copies the scenario to sc on success. */
static int s_load(s_parser_t *p, scenario_t *sc, const char *text, size_t len,
                  const char *const *overrides, int n_overrides)
{
    assert(n_overrides >= 0 && (overrides || n_overrides == 0));
    if (strlen(p->label) >= sizeof p->sc.path)
        return s_fail(p, SCENARIO_EINVAL, (s_origin_t){0}, NULL, NULL,
                      "path longer than %zu characters", sizeof p->sc.path - 1);
    memcpy(p->sc.path, p->label, strlen(p->label));
    p->text = p->pos = text;
    p->end = text + len;
    if (s_parse_text(p) != 0)
        return p->error;
    for (int i = 0; i < n_overrides; i++)
        if (s_apply_override(p, overrides[i]) != 0)
            return p->error;
    if (s_finish(p) != 0)
        return p->error;
    memcpy(sc, &p->sc, sizeof *sc);
    return 0;
}

/* Reads the whole file (at most SCENARIO_MAX_FILE_SIZE bytes) into a
 * NUL-terminated buffer that the caller frees. */
static int s_read_file(s_parser_t *p, const char *path, char **text, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return s_fail(p, SCENARIO_EIO, (s_origin_t){0}, NULL, NULL, "cannot open: %s",
                      strerror(errno));
    int rc = 0;
    char *buf = malloc((size_t)SCENARIO_MAX_FILE_SIZE + 2);
    if (!buf) {
        rc = s_fail(p, SCENARIO_ENOMEM, (s_origin_t){0}, NULL, NULL, "out of memory");
        goto fail_close;
    }
    size_t n = fread(buf, 1, (size_t)SCENARIO_MAX_FILE_SIZE + 1, f);
    if (ferror(f)) {
        rc = s_fail(p, SCENARIO_EIO, (s_origin_t){0}, NULL, NULL, "cannot read: %s",
                    strerror(errno));
        goto fail_free_buf;
    }
    if (n > (size_t)SCENARIO_MAX_FILE_SIZE) {
        rc = s_fail(p, SCENARIO_EIO, (s_origin_t){0}, NULL, NULL,
                    "larger than %d bytes: not a scenario", SCENARIO_MAX_FILE_SIZE);
        goto fail_free_buf;
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    fclose(f);
    return 0;

fail_free_buf:
    free(buf);
fail_close:
    fclose(f);
    return rc;
}

int scenario_load(scenario_t *sc, const char *path, const char *const *overrides, int n_overrides,
                  char *err, size_t err_len)
{
    s_parser_t *p = s_parser_new(path, err, err_len);
    if (!p)
        return SCENARIO_ENOMEM;
    char *text = NULL;
    size_t len = 0;
    int rc = s_read_file(p, path, &text, &len);
    if (rc == 0)
        rc = s_load(p, sc, text, len, overrides, n_overrides);
    free(text);
    free(p);
    return rc;
}

int scenario_load_string(scenario_t *sc, const char *text, const char *label,
                         const char *const *overrides, int n_overrides, char *err, size_t err_len)
{
    s_parser_t *p = s_parser_new(label ? label : "(string)", err, err_len);
    if (!p)
        return SCENARIO_ENOMEM;
    int rc = s_load(p, sc, text, strlen(text), overrides, n_overrides);
    free(p);
    return rc;
}

/* The shortest of %.15g, %.16g, %.17g that reads back as exactly x: 0.3,
 * not 0.29999999999999999 (%.17g always does). text: at least 32 bytes. */
static void s_format_double(char *text, size_t size, double x)
{
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(text, size, "%.*g", digits, x);
        if (strtod(text, NULL) == x)
            break;
    }
}

static void s_write_double(FILE *out, double x)
{
    char text[32];
    s_format_double(text, sizeof text, x);
    fprintf(out, "%s\n", text);
}

int scenario_write(const scenario_t *sc, FILE *out)
{
    fprintf(out,
            "; Scenario %s, fully resolved: every key, defaults included.\n"
            "; Keys: docs/scenarios.md\n",
            sc->name);
    const char *section = "";
    for (int k = 0; k < S_N_KEYS; k++) {
        const s_key_t *key = &s_keys[k];
        const void *field = (const char *)sc + key->offset;
        if (strcmp(section, key->section) != 0) {
            section = key->section;
            fprintf(out, "\n[%s]\n", section);
        }
        fprintf(out, "%s = ", key->name);
        switch (key->type) {
        case S_INT:
            fprintf(out, "%d\n", *(const int *)field);
            break;
        case S_UINT64:
            fprintf(out, "%" PRIu64 "\n", *(const uint64_t *)field);
            break;
        case S_DOUBLE:
            s_write_double(out, *(const double *)field);
            break;
        case S_BOOL:
            fprintf(out, "%s\n", *(const bool *)field ? "true" : "false");
            break;
        case S_MODE:
            fprintf(out, "%s\n", s_modes[*(const world_mode_t *)field]);
            break;
        case S_RUN_NAME:
            fprintf(out, "%s\n", sc->name);
            break;
        }
    }
    for (int a = 0; a < sc->n_agents; a++) {
        const scenario_agent_t *agent = &sc->agents[a];
        fprintf(out, "\n[agent.%s]\n", agent->name);
        if (agent->policy[0])
            fprintf(out, "policy = %s\n", agent->policy);
        else
            fprintf(out, "command = %s\n", agent->command);
    }
    return ferror(out) ? SCENARIO_EIO : 0;
}

/* s as a JSON string: '"' and backslash escaped, control characters as \u00XX,
 * other bytes as they are (scenario text is ASCII or UTF-8). */
static void s_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\')
            fprintf(out, "\\%c", *c);
        else if (*c < 0x20 || *c == 0x7f)
            fprintf(out, "\\u%04x", *c);
        else
            fputc(*c, out);
    }
    fputc('"', out);
}

int scenario_write_json(const scenario_t *sc, FILE *out)
{
    fputs("{\"file\": ", out);
    s_json_string(out, sc->path);
    const char *section = "";
    for (int k = 0; k < S_N_KEYS; k++) {
        const s_key_t *key = &s_keys[k];
        const void *field = (const char *)sc + key->offset;
        if (strcmp(section, key->section) != 0) {
            fprintf(out, "%s, \"%s\": {", section[0] ? "}" : "", key->section);
            section = key->section;
        } else {
            fputs(", ", out);
        }
        fprintf(out, "\"%s\": ", key->name);
        switch (key->type) {
        case S_INT:
            fprintf(out, "%d", *(const int *)field);
            break;
        case S_UINT64:
            fprintf(out, "%" PRIu64, *(const uint64_t *)field);
            break;
        case S_DOUBLE: {
            /* a whole number gets ".0", so that a JSON reader sees a real */
            char text[40];
            s_format_double(text, sizeof text, *(const double *)field);
            fprintf(out, "%s%s", text, strpbrk(text, ".e") ? "" : ".0");
            break;
        }
        case S_BOOL:
            fputs(*(const bool *)field ? "true" : "false", out);
            break;
        case S_MODE:
            s_json_string(out, s_modes[*(const world_mode_t *)field]);
            break;
        case S_RUN_NAME:
            s_json_string(out, sc->name);
            break;
        }
    }
    fputs("}, \"agents\": [", out);
    for (int a = 0; a < sc->n_agents; a++) {
        const scenario_agent_t *agent = &sc->agents[a];
        fputs(a ? ", {\"name\": " : "{\"name\": ", out);
        s_json_string(out, agent->name);
        fputs(", \"policy\": ", out);
        s_json_string(out, agent->policy);
        fputs(", \"command\": ", out);
        s_json_string(out, agent->command);
        fputc('}', out);
    }
    fputs("]}\n", out);
    return ferror(out) ? SCENARIO_EIO : 0;
}
