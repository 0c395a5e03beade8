/* Scenario loading: reads an INI file through inih, one line at a time so
 * that every error can name its line, parses each value as it arrives by
 * its key's row of the key table (scenario_keys.h) with core/parse.h,
 * applies --set overrides, then checks ranges and the cross-key rules
 * (world_config_validate, which names the key at fault) and reports the
 * file:line or --set where that key was set. The same table serves
 * defaults, suggestions, scenario_write and scenario_write_json. */
#include "sim/scenario.h"

#include "core/err.h"
#include "core/parse.h"
#include "proto/protocol.h"
#include "sim/policy.h"

#include <ini.h>

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const s_sections[] = {"run", "world", "server", "agent"};

/* Where a value came from: a file line, a --set argument, or neither
 * (the default). */
typedef struct s_origin {
    int line;         /* > 0: the file line that set it */
    const char *set;  /* the command-line argument that set it, or NULL */
    const char *flag; /* its flag ("--agent", "--drop-agent"); NULL: --set */
} s_origin_t;

typedef struct s_parser {
    scenario_t sc; /* being built; copied to the caller only on success */
    const char *label;
    s_origin_t key_at[SCENARIO_N_KEYS];
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
        snprintf(where, sizeof where, "%s %s", at.flag ? at.flag : "--set", at.set);
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

static int s_find_key(const char *section, const char *name)
{
    for (int i = 0; i < SCENARIO_N_KEYS; i++)
        if (strcmp(scenario_keys[i].section, section) == 0 &&
            strcmp(scenario_keys[i].name, name) == 0)
            return i;
    return -1;
}

/* The struct that key k lives in, within sc. */
static void *s_key_base(scenario_t *sc, int k)
{
    switch (scenario_keys[k].in) {
    case SCENARIO_KEY_IN_WORLD:
        return &sc->world;
    case SCENARIO_KEY_IN_SERVER:
        return &sc->server;
    case SCENARIO_KEY_IN_RUN:
        break;
    }
    return sc;
}

/* Key k's field in sc. */
static void *s_key_field(scenario_t *sc, int k)
{
    return (char *)s_key_base(sc, k) + scenario_keys[k].offset;
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

/* Refuses agent name, which the scenario lacks, with a did-you-mean among
 * its agents; how names one that would add it. */
static int s_no_such_agent(s_parser_t *p, const char *name, s_origin_t at, const char *how)
{
    const char *names[SCENARIO_MAX_AGENTS] = {NULL};
    for (int a = 0; a < p->sc.n_agents; a++)
        names[a] = p->sc.agents[a].name;
    const char *near = s_nearest(name, names, p->sc.n_agents);
    if (near)
        return s_fail(p, ERR_EINVAL, at, NULL, NULL,
                      "no agent '%s' in the scenario (did you mean %s?)", name, near);
    char known[SCENARIO_MAX_AGENTS * 46] = "";
    size_t used = 0;
    for (int a = 0; a < p->sc.n_agents && used < sizeof known; a++)
        used +=
            (size_t)snprintf(known + used, sizeof known - used, "%s%s", a ? ", " : "", names[a]);
    return s_fail(p, ERR_EINVAL, at, NULL, NULL, "no agent '%s' in the scenario (agents: %s)%s",
                  name, p->sc.n_agents ? known : "none", how);
}

/* Checks a section name and opens it: [run] and [world] (*agent = -1), or
 * [agent.NAME], which adds agent NAME the first time in a file or for
 * --agent (*agent = its index); a --set for an agent the scenario lacks is
 * an error. */
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
            return s_fail(p, ERR_EINVAL, at, section, NULL,
                          "unknown section (did you mean [agent.%s]?)",
                          strchr(section, '.') ? strchr(section, '.') + 1 : "NAME");
        if (near && !strchr(section, '.'))
            return s_fail(p, ERR_EINVAL, at, section, NULL, "unknown section (did you mean [%s]?)",
                          near);
        return s_fail(p, ERR_EINVAL, at, section, NULL,
                      "unknown section (known: [run], [world], [server], [agent.NAME])");
    }
    const char *name = section + 6;
    if (!s_word_ok(name, SCENARIO_AGENT_NAME_MAX, "_-"))
        return s_fail(p, ERR_EINVAL, at, section, NULL,
                      "bad agent name '%s': use 1 to %d of A-Z a-z 0-9 _ -", name,
                      SCENARIO_AGENT_NAME_MAX);
    *agent = s_agent_index(p, name);
    if (*agent >= 0)
        return 0;
    if (at.set && !at.flag)
        return s_no_such_agent(p, name, at, ": --agent NAME=COMMAND adds one");
    if (p->sc.n_agents == SCENARIO_MAX_AGENTS)
        return s_fail(p, ERR_EINVAL, at, section, NULL, "too many agents (at most %d)",
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
        return s_fail(p, ERR_EINVAL, at, section, key,
                      "not a key: the number of agents is the number of [agent.NAME] sections");
    for (int i = 0; i < SCENARIO_N_KEYS; i++)
        if (strcmp(scenario_keys[i].name, key) == 0)
            return s_fail(p, ERR_EINVAL, at, section, key, "unknown key here (it belongs in [%s])",
                          scenario_keys[i].section);
    const char *near = s_nearest(key, known, n_known);
    if (near)
        return s_fail(p, ERR_EINVAL, at, section, key, "unknown key (did you mean %s?)", near);
    return s_fail(p, ERR_EINVAL, at, section, key, "unknown key");
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
        return s_fail(p, ERR_EINVAL, at, section, key, "expected a value, got ''");
    if (n > max)
        return s_fail(p, ERR_EINVAL, at, section, key, "too long (%zu characters, at most %zu)", n,
                      max);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
            return s_fail(p, ERR_EINVAL, at, section, key, "control characters are not allowed");
    if (text[0] == ' ' || text[n - 1] == ' ')
        return s_fail(p, ERR_EINVAL, at, section, key,
                      "leading or trailing spaces are not allowed");
    if (text[0] == ';' || strstr(text, " ;"))
        return s_fail(p, ERR_EINVAL, at, section, key,
                      "';' at the start or after a space is not allowed: in a file it starts a "
                      "comment");
    return 0;
}

/* Sets an agent's joint grant: "true", or "" for false (the default, which
 * the resolved INI then leaves out). */
static int s_set_agent_joint(s_parser_t *p, scenario_agent_t *agent, const char *section,
                             const char *key, const char *value, s_origin_t at)
{
    bool joint;
    if (parse_bool(value, &joint) != 0)
        return s_fail(p, ERR_EINVAL, at, section, key, "expected " PARSE_BOOL_WORDS ", got '%s'",
                      value);
    memset(agent->joint, 0, sizeof agent->joint);
    if (joint)
        memcpy(agent->joint, "true", 4);
    return 0;
}

/* Sets an agent's policy or command. Within the file an agent takes one of
 * the two, once; an override replaces whichever the agent had. */
static int s_set_agent(s_parser_t *p, int a, const char *section, const char *key,
                       const char *value, s_origin_t at)
{
    scenario_agent_t *agent = &p->sc.agents[a];
    if (strcmp(key, "enter_tick") == 0) {
        int tick;
        if (parse_int(value, 0, 10000000, &tick) != 0)
            return s_fail(p, ERR_EINVAL, at, section, key,
                          "expected a whole number from 0 to 10000000, got '%s'", value);
        memset(agent->enter_tick, 0, sizeof agent->enter_tick);
        snprintf(agent->enter_tick, sizeof agent->enter_tick, "%d", tick);
        p->sc.world.enter_tick[a] = tick;
        return 0;
    }
    if (strcmp(key, "joint") == 0)
        return s_set_agent_joint(p, agent, section, key, value, at);
    bool is_policy = strcmp(key, "policy") == 0;
    if (!is_policy && strcmp(key, "command") != 0) {
        const char *known[SCENARIO_N_AGENT_KEYS];
        for (int k = 0; k < SCENARIO_N_AGENT_KEYS; k++)
            known[k] = scenario_agent_keys[k].name;
        return s_unknown_key(p, section, key, at, known, SCENARIO_N_AGENT_KEYS);
    }
    s_origin_t *own_at = is_policy ? &p->policy_at[a] : &p->command_at[a];
    s_origin_t *other_at = is_policy ? &p->command_at[a] : &p->policy_at[a];
    if (!at.set && own_at->line)
        return s_fail(p, ERR_EINVAL, at, section, key, "duplicate key (first set at line %d)",
                      own_at->line);
    if (!at.set && other_at->line)
        return s_fail(p, ERR_EINVAL, at, section, key,
                      "agent %s already has a %s (line %d): give policy or command, not both",
                      agent->name, is_policy ? "command" : "policy", other_at->line);

    char *own = is_policy ? agent->policy : agent->command;
    char *other = is_policy ? agent->command : agent->policy;
    size_t own_size = is_policy ? sizeof agent->policy : sizeof agent->command;
    size_t other_size = is_policy ? sizeof agent->command : sizeof agent->policy;
    if (is_policy) {
        policy_kind_t kind;
        if (policy_kind_parse(value, &kind) != 0)
            return s_fail(p, ERR_EINVAL, at, section, key,
                          "unknown policy '%s' (built-in: %s, %s, %s)", value,
                          policy_kind_name(POLICY_RANDOM), policy_kind_name(POLICY_POPULARITY),
                          policy_kind_name(POLICY_IDEAL));
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
        const char *known[SCENARIO_N_KEYS];
        int n_known = 0;
        for (int i = 0; i < SCENARIO_N_KEYS; i++)
            if (strcmp(scenario_keys[i].section, section) == 0)
                known[n_known++] = scenario_keys[i].name;
        return s_unknown_key(p, section, key, at, known, n_known);
    }
    if (!at.set && p->key_at[k].line)
        return s_fail(p, ERR_EINVAL, at, section, key, "duplicate key (first set at line %d)",
                      p->key_at[k].line);

    void *field = s_key_field(&p->sc, k);
    int rc = 0;
    switch (scenario_keys[k].type) {
    case SCENARIO_KEY_INT:
        rc = parse_int(value, INT_MIN, INT_MAX, field);
        if (rc == ERR_ESYNTAX)
            return s_fail(p, ERR_EINVAL, at, section, key, "expected an integer, got '%s'", value);
        if (rc != 0)
            return s_fail(p, ERR_ERANGE, at, section, key,
                          "integer '%s' does not fit in an int [%d, %d]", value, INT_MIN, INT_MAX);
        break;
    case SCENARIO_KEY_UINT64:
        rc = parse_uint64(value, UINT64_MAX, field);
        if (rc == ERR_ESYNTAX)
            return s_fail(p, ERR_EINVAL, at, section, key, "expected an unsigned integer, got '%s'",
                          value);
        if (rc != 0)
            return s_fail(p, ERR_ERANGE, at, section, key,
                          "integer '%s' does not fit in 64 bits (at most %" PRIu64 ")", value,
                          UINT64_MAX);
        break;
    case SCENARIO_KEY_REAL:
        rc = parse_double(value, -DBL_MAX, DBL_MAX, field);
        if (rc == ERR_ESYNTAX)
            return s_fail(p, ERR_EINVAL, at, section, key, "expected a number, got '%s'", value);
        if (rc != 0)
            return s_fail(p, ERR_ERANGE, at, section, key, "expected a finite number, got '%s'",
                          value);
        break;
    case SCENARIO_KEY_BOOL:
    case SCENARIO_KEY_SWITCH:
        if (parse_bool(value, field) != 0)
            return s_fail(p, ERR_EINVAL, at, section, key,
                          "expected " PARSE_BOOL_WORDS ", got '%s'", value);
        break;
    case SCENARIO_KEY_MODE: {
        int v = -1;
        for (int i = 0; i < 2; i++)
            if (strcmp(value, scenario_mode_names[i]) == 0)
                v = i;
        if (v < 0)
            return s_fail(p, ERR_EINVAL, at, section, key, "expected %s or %s, got '%s'",
                          scenario_mode_names[0], scenario_mode_names[1], value);
        *(world_mode_t *)field = (world_mode_t)v;
        break;
    }
    case SCENARIO_KEY_REPUTATION: {
        int v = -1;
        for (int i = 0; i < 2; i++)
            if (strcmp(value, scenario_reputation_names[i]) == 0)
                v = i;
        if (v < 0)
            return s_fail(p, ERR_EINVAL, at, section, key, "expected %s or %s, got '%s'",
                          scenario_reputation_names[0], scenario_reputation_names[1], value);
        *(world_reputation_t *)field = (world_reputation_t)v;
        break;
    }
    case SCENARIO_KEY_NAME:
        if (!s_word_ok(value, SCENARIO_NAME_SIZE - 1, "_.-"))
            return s_fail(p, ERR_EINVAL, at, section, key,
                          "bad run name '%s': use 1 to %d of A-Z a-z 0-9 _ . -", value,
                          SCENARIO_NAME_SIZE - 1);
        memset(field, 0, SCENARIO_NAME_SIZE);
        memcpy(field, value, strlen(value));
        break;
    case SCENARIO_KEY_PATH:
        if (s_check_text(p, section, key, value, SCENARIO_PATH_SIZE, at) != 0)
            return p->error;
        memset(field, 0, SCENARIO_PATH_SIZE);
        memcpy(field, value, strlen(value));
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
        return s_fail(p, ERR_EINVAL, at, NULL, NULL,
                      "%s: key outside any section (put it under [run], [world] or "
                      "[agent.NAME])",
                      key);
    int agent;
    if (s_open_section(p, section, at, &agent) != 0)
        return p->error;
    if (!key[0])
        return s_fail(p, ERR_EINVAL, at, section, NULL, "missing key before '='");
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
        s_fail(p, ERR_ESYNTAX, at, NULL, NULL, "expected ']' to close the section name");
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
        s_fail(p, ERR_ESYNTAX, at, NULL, NULL, "NUL byte in line");
        return NULL;
    }
    if (len >= (size_t)size) {
        s_fail(p, ERR_ESYNTAX, at, NULL, NULL, "line longer than %d characters", size - 1);
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
        return s_fail(p, ERR_ENOMEM, (s_origin_t){0}, NULL, NULL, "out of memory");
    if (bad_line > 0 && (!p->error || bad_line < p->error_line)) {
        /* inih found a line that is neither a section, a key nor a comment
         * (it reads on past such lines): it comes before any error of ours */
        const char *line = p->text;
        for (int i = 1; i < bad_line; i++)
            line = strchr(line, '\n') + 1;
        while (*line == ' ' || *line == '\t')
            line++;
        p->error = 0;
        return s_fail(p, ERR_ESYNTAX, (s_origin_t){.line = bad_line}, NULL, NULL,
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
        return s_fail(p, ERR_ESYNTAX, at, NULL, NULL, "expected section.key=value");

    char section[128], key[128], value[1024];
    const char *value_start = eq + 1, *value_end = eq + strlen(eq);
    while (isspace((unsigned char)*value_start))
        value_start++;
    while (value_end > value_start && isspace((unsigned char)value_end[-1]))
        value_end--;
    if (dot - key_start >= (long)sizeof section || key_end - dot - 1 >= (long)sizeof key ||
        value_end - value_start >= (long)sizeof value)
        return s_fail(p, ERR_EINVAL, at, NULL, NULL, "section, key or value too long");
    snprintf(section, sizeof section, "%.*s", (int)(dot - key_start), key_start);
    snprintf(key, sizeof key, "%.*s", (int)(key_end - dot - 1), dot + 1);
    snprintf(value, sizeof value, "%.*s", (int)(value_end - value_start), value_start);
    return s_set(p, section, key, value, at);
}

/* Applies one --agent argument: "NAME=COMMAND" or "NAME=policy:POLICY"
 * adds agent NAME, which the scenario must not have yet. */
static int s_apply_add_agent(s_parser_t *p, const char *arg)
{
    s_origin_t at = {.set = arg, .flag = "--agent"};
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return s_fail(p, ERR_ESYNTAX, at, NULL, NULL,
                      "expected NAME=COMMAND or NAME=policy:POLICY");
    char section[128];
    if (eq - arg > SCENARIO_AGENT_NAME_MAX)
        return s_fail(p, ERR_EINVAL, at, NULL, NULL, "agent name longer than %d characters",
                      SCENARIO_AGENT_NAME_MAX);
    snprintf(section, sizeof section, "agent.%.*s", (int)(eq - arg), arg);
    if (s_agent_index(p, section + 6) >= 0)
        return s_fail(p, ERR_EINVAL, at, NULL, NULL,
                      "the scenario already has agent %s (--set agent.%s.command=... changes it, "
                      "--drop-agent %s removes it)",
                      section + 6, section + 6, section + 6);
    int agent;
    if (s_open_section(p, section, at, &agent) != 0)
        return p->error;
    const char *value = eq + 1;
    bool is_policy = strncmp(value, "policy:", 7) == 0;
    return s_set_agent(p, agent, section, is_policy ? "policy" : "command",
                       is_policy ? value + 7 : value, at);
}

/* Applies one --drop-agent argument: removes agent NAME, keeping the order
 * of the others. */
static int s_apply_drop_agent(s_parser_t *p, const char *name)
{
    s_origin_t at = {.set = name, .flag = "--drop-agent"};
    int a = s_agent_index(p, name);
    if (a < 0)
        return s_no_such_agent(p, name, at, "");
    scenario_t *sc = &p->sc;
    int after = sc->n_agents - a - 1;
    memmove(&sc->agents[a], &sc->agents[a + 1], (size_t)after * sizeof sc->agents[0]);
    memmove(&p->agent_at[a], &p->agent_at[a + 1], (size_t)after * sizeof p->agent_at[0]);
    memmove(&p->policy_at[a], &p->policy_at[a + 1], (size_t)after * sizeof p->policy_at[0]);
    memmove(&p->command_at[a], &p->command_at[a + 1], (size_t)after * sizeof p->command_at[0]);
    sc->n_agents--;
    /* zeroed, as an agent never added is, so equal scenarios stay memcmp-equal */
    memset(&sc->agents[sc->n_agents], 0, sizeof sc->agents[0]);
    p->agent_at[sc->n_agents] = p->policy_at[sc->n_agents] = p->command_at[sc->n_agents] =
        (s_origin_t){0};
    return 0;
}

/* Bytes of an episode's first CATALOG: the n_items items, each with its
 * id, topic, provider and embedding (docs/protocol.md CATALOG), plus the
 * envelope and keys. (Items born later make a resync CATALOG larger; a
 * catalog grown past one message is the server's error at that time.) */
static double s_catalog_bytes(const world_config_t *w)
{
    return 512.0 + (double)w->n_items * (3 * 4.0 + 4.0 * w->dim);
}

/* Bytes of the largest STEP: every user requesting at once, with features,
 * history and the previous tick's feedback. */
static double s_step_bytes(const world_config_t *w)
{
    return 1024.0 + (double)w->n_users * (4 + 4.0 * w->dim + 4.0 * w->history_len + 13);
}

/* What ranges alone cannot show: counters the run keeps, messages agent
 * processes must receive, the memory the world takes. Checked at load so
 * that nothing is allocated or started for a run that cannot go. */
static int s_check_sizes(s_parser_t *p)
{
    scenario_t *sc = &p->sc;
    long long total = (long long)sc->episodes * sc->world.ticks;
    if (total > INT_MAX)
        return s_fail(p, ERR_ERANGE, p->key_at[SCENARIO_KEY_episodes], "run", "episodes",
                      "%d episodes x %d ticks = %lld ticks, more than the %d a run counts",
                      sc->episodes, sc->world.ticks, total, INT_MAX);
    bool remote = false;
    for (int a = 0; a < sc->n_agents; a++)
        remote = remote || sc->agents[a].command[0] != '\0';
    if (remote && s_catalog_bytes(&sc->world) > PROTO_MAX_MESSAGE_BYTES)
        return s_fail(p, ERR_ERANGE, p->key_at[SCENARIO_KEY_n_items], "world", "n_items",
                      "a CATALOG of the %d items (n_items) of dim %d takes about %.0f bytes, more "
                      "than the %u of one message (PROTO_MAX_MESSAGE_BYTES): agent processes "
                      "could not be sent it",
                      sc->world.n_items, sc->world.dim, s_catalog_bytes(&sc->world),
                      PROTO_MAX_MESSAGE_BYTES);
    if (remote && s_step_bytes(&sc->world) > PROTO_MAX_MESSAGE_BYTES)
        return s_fail(p, ERR_ERANGE, p->key_at[SCENARIO_KEY_n_users], "world", "n_users",
                      "a STEP of up to %d requests (every user) of dim %d and history %d takes "
                      "about %.0f bytes, more than the %u of one message "
                      "(PROTO_MAX_MESSAGE_BYTES): agent processes could not be sent it",
                      sc->world.n_users, sc->world.dim, sc->world.history_len,
                      s_step_bytes(&sc->world), PROTO_MAX_MESSAGE_BYTES);
    double need = world_memory_estimate(&sc->world);
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    double have = pages > 0 && page > 0 ? (double)pages * (double)page : 0.0;
    if (have > 0.0 && need > have)
        return s_fail(p, ERR_ERANGE, p->key_at[SCENARIO_KEY_n_users], "world", "n_users",
                      "the world would take about %.1f GiB of memory (users, items and their "
                      "embeddings), more than this machine's %.1f GiB",
                      need / (1024.0 * 1024 * 1024), have / (1024.0 * 1024 * 1024));
    return 0;
}

/* Checks what only the whole scenario shows: agents, the default run name,
 * and the ranges and cross-key rules of world_config_check. */
static int s_finish(s_parser_t *p)
{
    scenario_t *sc = &p->sc;
    if (sc->n_agents == 0)
        return s_fail(p, ERR_EINVAL, (s_origin_t){0}, NULL, NULL,
                      "no agents: add an [agent.NAME] section with a policy or a command");
    for (int a = 0; a < sc->n_agents; a++) {
        if (!sc->agents[a].policy[0] && !sc->agents[a].command[0]) {
            char section[80];
            snprintf(section, sizeof section, "agent.%s", sc->agents[a].name);
            return s_fail(p, ERR_EINVAL, p->agent_at[a], section, NULL,
                          "needs a policy (built-in) or a command (external process)");
        }
        if (sc->agents[a].joint[0] && !sc->agents[a].command[0]) {
            char section[80];
            snprintf(section, sizeof section, "agent.%s", sc->agents[a].name);
            return s_fail(p, ERR_EINVAL, p->agent_at[a], section, "joint",
                          "only an agent process (command) can be granted JOINT messages");
        }
    }
    if (!sc->server.curve_secret_key[0] != !sc->server.curve_allow[0])
        return s_fail(p, ERR_EINVAL, (s_origin_t){0}, "server",
                      sc->server.curve_allow[0] ? "curve_secret_key" : "curve_allow",
                      "CURVE needs both curve_secret_key (the server's key) and curve_allow "
                      "(the agents' keys)");
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
    /* ranges: the run and server keys here, the world's in world_config_validate */
    for (int k = 0; k < SCENARIO_N_KEYS; k++) {
        char msg[256];
        if (scenario_keys[k].in != SCENARIO_KEY_IN_WORLD &&
            scenario_key_check((scenario_key_id_t)k, s_key_base(sc, k), msg, sizeof msg) != 0)
            return s_fail(p, ERR_ERANGE, p->key_at[k], scenario_keys[k].section,
                          scenario_keys[k].name, "%s", msg);
    }
    char msg[1024];
    int k;
    if (world_config_validate(&sc->world, &k, msg, sizeof msg) == 0)
        return s_check_sizes(p);
    if (k < 0)
        return s_fail(p, ERR_EINVAL, (s_origin_t){0}, NULL, NULL, "agents: %s", msg);
    int code =
        scenario_key_check((scenario_key_id_t)k, &sc->world, NULL, 0) ? ERR_ERANGE : ERR_EINVAL;
    return s_fail(p, code, p->key_at[k], scenario_keys[k].section, scenario_keys[k].name, "%s",
                  msg);
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

    world_config_default(&p->sc.world);
    for (int k = 0; k < SCENARIO_N_KEYS; k++)
        if (scenario_keys[k].in != SCENARIO_KEY_IN_WORLD)
            scenario_key_set_default((scenario_key_id_t)k, s_key_base(&p->sc, k));
    return p;
}

/* Parses text (NUL-terminated, len bytes), applies the overrides, checks,
 * and copies the scenario to sc on success. */
static int s_load(s_parser_t *p, scenario_t *sc, const char *text, size_t len,
                  const scenario_edits_t *edits)
{
    assert(edits->n_set >= 0 && (edits->set || edits->n_set == 0));
    assert(edits->n_add >= 0 && (edits->add || edits->n_add == 0));
    assert(edits->n_drop >= 0 && (edits->drop || edits->n_drop == 0));
    if (strlen(p->label) >= sizeof p->sc.path)
        return s_fail(p, ERR_EINVAL, (s_origin_t){0}, NULL, NULL, "path longer than %zu characters",
                      sizeof p->sc.path - 1);
    memcpy(p->sc.path, p->label, strlen(p->label));
    p->text = p->pos = text;
    p->end = text + len;
    if (s_parse_text(p) != 0)
        return p->error;
    for (int i = 0; i < edits->n_drop; i++)
        if (s_apply_drop_agent(p, edits->drop[i]) != 0)
            return p->error;
    for (int i = 0; i < edits->n_add; i++)
        if (s_apply_add_agent(p, edits->add[i]) != 0)
            return p->error;
    for (int i = 0; i < edits->n_set; i++)
        if (s_apply_override(p, edits->set[i]) != 0)
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
        return s_fail(p, ERR_EIO, (s_origin_t){0}, NULL, NULL, "cannot open: %s", strerror(errno));
    int rc = 0;
    char *buf = malloc((size_t)SCENARIO_MAX_FILE_SIZE + 2);
    if (!buf) {
        rc = s_fail(p, ERR_ENOMEM, (s_origin_t){0}, NULL, NULL, "out of memory");
        goto fail_close;
    }
    size_t n = fread(buf, 1, (size_t)SCENARIO_MAX_FILE_SIZE + 1, f);
    if (ferror(f)) {
        rc = s_fail(p, ERR_EIO, (s_origin_t){0}, NULL, NULL, "cannot read: %s", strerror(errno));
        goto fail_free_buf;
    }
    if (n > (size_t)SCENARIO_MAX_FILE_SIZE) {
        rc = s_fail(p, ERR_EIO, (s_origin_t){0}, NULL, NULL, "larger than %d bytes: not a scenario",
                    SCENARIO_MAX_FILE_SIZE);
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

int scenario_load_edited(scenario_t *sc, const char *path, const scenario_edits_t *edits, char *err,
                         size_t err_len)
{
    s_parser_t *p = s_parser_new(path ? path : SCENARIO_NO_FILE_LABEL, err, err_len);
    if (!p)
        return ERR_ENOMEM;
    char *text = NULL;
    size_t len = 0;
    int rc = path ? s_read_file(p, path, &text, &len) : 0;
    if (rc == 0)
        rc = s_load(p, sc, text ? text : "", len, edits);
    free(text);
    free(p);
    return rc;
}

int scenario_load(scenario_t *sc, const char *path, const char *const *overrides, int n_overrides,
                  char *err, size_t err_len)
{
    scenario_edits_t edits = {.set = overrides, .n_set = n_overrides};
    return scenario_load_edited(sc, path, &edits, err, err_len);
}

int scenario_load_string(scenario_t *sc, const char *text, const char *label,
                         const char *const *overrides, int n_overrides, char *err, size_t err_len)
{
    s_parser_t *p = s_parser_new(label ? label : "(string)", err, err_len);
    if (!p)
        return ERR_ENOMEM;
    scenario_edits_t edits = {.set = overrides, .n_set = n_overrides};
    int rc = s_load(p, sc, text, strlen(text), &edits);
    free(p);
    return rc;
}

/* The shortest of %.15g, %.16g, %.17g that reads back as exactly x: 0.3,
 * not 0.29999999999999999 (%.17g always does). */
static void s_format_double(char *text, size_t size, double x)
{
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(text, size, "%.*g", digits, x);
        double back;
        if (parse_double(text, -DBL_MAX, DBL_MAX, &back) == 0 && back == x)
            break;
    }
}

/* Key k's value in sc as the resolved INI writes it; true when it is
 * text (JSON quotes it). size: at least SCENARIO_PATH_SIZE. */
static bool s_format_value(const scenario_t *sc, int k, char *text, size_t size)
{
    const void *field = s_key_field((scenario_t *)sc, k);
    switch (scenario_keys[k].type) {
    case SCENARIO_KEY_INT:
        snprintf(text, size, "%d", *(const int *)field);
        break;
    case SCENARIO_KEY_UINT64:
        snprintf(text, size, "%" PRIu64, *(const uint64_t *)field);
        break;
    case SCENARIO_KEY_REAL:
        s_format_double(text, size, *(const double *)field);
        break;
    case SCENARIO_KEY_BOOL:
    case SCENARIO_KEY_SWITCH:
        snprintf(text, size, "%s", *(const bool *)field ? "true" : "false");
        break;
    case SCENARIO_KEY_MODE:
        snprintf(text, size, "%s", scenario_mode_names[*(const world_mode_t *)field]);
        return true;
    case SCENARIO_KEY_REPUTATION:
        snprintf(text, size, "%s", scenario_reputation_names[*(const world_reputation_t *)field]);
        return true;
    case SCENARIO_KEY_NAME:
    case SCENARIO_KEY_PATH:
        snprintf(text, size, "%s", (const char *)field);
        return true;
    }
    return false;
}

/* An agent's value of agent key k ("" when unset). */
static const char *s_agent_value(const scenario_agent_t *agent, int k)
{
    return (const char *)agent + scenario_agent_keys[k].offset;
}

int scenario_write(const scenario_t *sc, FILE *out)
{
    fprintf(out,
            "; Scenario %s, fully resolved: every key, defaults included.\n"
            "; Keys: docs/scenarios.md\n",
            sc->name);
    const char *section = "";
    for (int k = 0; k < SCENARIO_N_KEYS; k++) {
        if (strcmp(section, scenario_keys[k].section) != 0) {
            section = scenario_keys[k].section;
            fprintf(out, "\n[%s]\n", section);
        }
        char text[SCENARIO_PATH_SIZE];
        s_format_value(sc, k, text, sizeof text);
        if ((scenario_keys[k].type == SCENARIO_KEY_PATH && !text[0]) ||
            (scenario_keys[k].type == SCENARIO_KEY_SWITCH && strcmp(text, "false") == 0))
            continue; /* unset: the file stays as it was before these keys existed */
        fprintf(out, "%s = %s\n", scenario_keys[k].name, text);
    }
    for (int a = 0; a < sc->n_agents; a++) {
        const scenario_agent_t *agent = &sc->agents[a];
        fprintf(out, "\n[agent.%s]\n", agent->name);
        for (int k = 0; k < SCENARIO_N_AGENT_KEYS; k++)
            if (s_agent_value(agent, k)[0])
                fprintf(out, "%s = %s\n", scenario_agent_keys[k].name, s_agent_value(agent, k));
    }
    return ferror(out) ? ERR_EIO : 0;
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
    for (int k = 0; k < SCENARIO_N_KEYS; k++) {
        const scenario_key_t *key = &scenario_keys[k];
        if (strcmp(section, key->section) != 0) {
            fprintf(out, "%s, \"%s\": {", section[0] ? "}" : "", key->section);
            section = key->section;
        } else {
            fputs(", ", out);
        }
        fprintf(out, "\"%s\": ", key->name);
        char text[SCENARIO_PATH_SIZE];
        if (s_format_value(sc, k, text, sizeof text))
            s_json_string(out, text);
        else /* a whole real gets ".0", so that a JSON reader sees a real */
            fprintf(out, "%s%s", text,
                    key->type == SCENARIO_KEY_REAL && !strpbrk(text, ".e") ? ".0" : "");
    }
    fputs("}, \"agents\": [", out);
    for (int a = 0; a < sc->n_agents; a++) {
        fputs(a ? ", {\"name\": " : "{\"name\": ", out);
        s_json_string(out, sc->agents[a].name);
        for (int k = 0; k < SCENARIO_N_AGENT_KEYS; k++) {
            fprintf(out, ", \"%s\": ", scenario_agent_keys[k].name);
            if (k == SCENARIO_AGENT_KEY_joint) /* a JSON bool, as [server]'s bools */
                fputs(s_agent_value(&sc->agents[a], k)[0] ? "true" : "false", out);
            else
                s_json_string(out, s_agent_value(&sc->agents[a], k));
        }
        fputc('}', out);
    }
    fputs("]}\n", out);
    return ferror(out) ? ERR_EIO : 0;
}
