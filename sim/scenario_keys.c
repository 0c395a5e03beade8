/* The scenario key table as data (scenario_keys.h): the rows of
 * SCENARIO_KEYS with their field offsets, the generic default and range
 * code, and the Markdown of docs/scenarios.md's key tables. */
#include "sim/scenario_keys.h"

#include "core/err.h"
#include "sim/scenario.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#define S_STRUCT_RUN    scenario_t
#define S_STRUCT_WORLD  world_config_t
#define S_STRUCT_SERVER scenario_server_t

#define S_ROW(st, section_, name_, type_, default_, lo_, hi_, meaning_)                            \
    {                                                                                              \
        .section = #section_,                                                                      \
        .name = #name_,                                                                            \
        .type = SCENARIO_KEY_##type_,                                                              \
        .in = SCENARIO_KEY_IN_##st,                                                                \
        .offset = offsetof(S_STRUCT_##st, name_),                                                  \
        .default_value = (double)(default_),                                                       \
        .lo = (lo_),                                                                               \
        .hi = (hi_),                                                                               \
        .meaning = meaning_,                                                                       \
    },
const scenario_key_t scenario_keys[SCENARIO_N_KEYS] = {SCENARIO_KEYS(S_ROW)};

#define S_AGENT_ROW(name_, size_, type_, meaning_)                                                 \
    {                                                                                              \
        .name = #name_,                                                                            \
        .offset = offsetof(scenario_agent_t, name_),                                               \
        .size = (size_),                                                                           \
        .type = type_,                                                                             \
        .meaning = meaning_,                                                                       \
    },
const scenario_agent_key_t scenario_agent_keys[SCENARIO_N_AGENT_KEYS] = {
    SCENARIO_AGENT_KEYS(S_AGENT_ROW)};

const char *const scenario_mode_names[2] = {
    [WORLD_MODE_MARKET] = "market", [WORLD_MODE_FEED] = "feed"};

void scenario_key_set_default(scenario_key_id_t k, void *base)
{
    const scenario_key_t *key = &scenario_keys[k];
    void *field = (char *)base + key->offset;
    double v = key->default_value;
    switch (key->type) {
    case SCENARIO_KEY_INT:
        *(int *)field = (int)v;
        break;
    case SCENARIO_KEY_UINT64:
        *(uint64_t *)field = (uint64_t)v;
        break;
    case SCENARIO_KEY_REAL:
        *(double *)field = v;
        break;
    case SCENARIO_KEY_BOOL:
        *(bool *)field = v != 0.0;
        break;
    case SCENARIO_KEY_MODE:
        *(world_mode_t *)field = (world_mode_t)v;
        break;
    case SCENARIO_KEY_NAME:
        memset(field, 0, SCENARIO_NAME_SIZE);
        break;
    case SCENARIO_KEY_PATH:
        memset(field, 0, SCENARIO_PATH_SIZE);
        break;
    }
}

int scenario_key_check(scenario_key_id_t k, const void *base, char *err, size_t err_len)
{
    const scenario_key_t *key = &scenario_keys[k];
    const void *field = (const char *)base + key->offset;
    char msg[256] = "";
    switch (key->type) {
    case SCENARIO_KEY_INT: {
        int v = *(const int *)field;
        if (v < key->lo || v > key->hi)
            snprintf(msg, sizeof msg, "%d is out of range [%d, %d]", v, (int)key->lo, (int)key->hi);
        break;
    }
    case SCENARIO_KEY_REAL: {
        double v = *(const double *)field;
        if (!isfinite(v) || v < key->lo || v > key->hi)
            snprintf(msg, sizeof msg, "%g is out of range [%g, %g]", v, key->lo, key->hi);
        break;
    }
    case SCENARIO_KEY_MODE: {
        world_mode_t v = *(const world_mode_t *)field;
        if (v != WORLD_MODE_MARKET && v != WORLD_MODE_FEED)
            snprintf(msg, sizeof msg, "must be market or feed");
        break;
    }
    case SCENARIO_KEY_UINT64:
    case SCENARIO_KEY_BOOL:
    case SCENARIO_KEY_NAME:
    case SCENARIO_KEY_PATH:
        break; /* every value the parser gives is in range */
    }
    if (!msg[0])
        return 0;
    if (err && err_len)
        snprintf(err, err_len, "%s", msg);
    return ERR_ERANGE;
}

/* x as the docs write it: %g, with "1e+09" as "1e9". */
static void s_doc_number(char *text, size_t size, double x)
{
    snprintf(text, size, "%g", x);
    char *e = strstr(text, "e+");
    if (e) {
        char *digits = e + 2;
        while (*digits == '0' && digits[1])
            digits++;
        memmove(e + 1, digits, strlen(digits) + 1);
    }
}

static void s_doc_row(FILE *out, const scenario_key_t *key)
{
    static const char *const type_names[] = {
        [SCENARIO_KEY_INT] = "int",     [SCENARIO_KEY_UINT64] = "uint64",
        [SCENARIO_KEY_REAL] = "number", [SCENARIO_KEY_BOOL] = "bool",
        [SCENARIO_KEY_MODE] = "enum",   [SCENARIO_KEY_NAME] = "text",
        [SCENARIO_KEY_PATH] = "path",
    };
    char def[64], lo[32], hi[32], range[96];
    s_doc_number(lo, sizeof lo, key->lo);
    s_doc_number(hi, sizeof hi, key->hi);
    if (key->type == SCENARIO_KEY_INT)
        snprintf(range, sizeof range, "%d to %d", (int)key->lo, (int)key->hi);
    else
        snprintf(range, sizeof range, "%s to %s", lo, hi);
    switch (key->type) {
    case SCENARIO_KEY_INT:
    case SCENARIO_KEY_UINT64:
        snprintf(def, sizeof def, "%.0f", key->default_value);
        if (key->type == SCENARIO_KEY_UINT64)
            snprintf(range, sizeof range, "any");
        break;
    case SCENARIO_KEY_REAL:
        s_doc_number(def, sizeof def, key->default_value);
        break;
    case SCENARIO_KEY_BOOL:
        snprintf(def, sizeof def, "%s", key->default_value != 0.0 ? "true" : "false");
        range[0] = '\0';
        break;
    case SCENARIO_KEY_MODE:
        snprintf(def, sizeof def, "%s", scenario_mode_names[(int)key->default_value]);
        snprintf(range, sizeof range, "`%s`, `%s`", scenario_mode_names[0], scenario_mode_names[1]);
        break;
    case SCENARIO_KEY_NAME:
        snprintf(range, sizeof range, "1 to %d of `A-Z a-z 0-9 _ . -`", SCENARIO_NAME_SIZE - 1);
        break;
    case SCENARIO_KEY_PATH:
        snprintf(def, sizeof def, "(none)");
        snprintf(range, sizeof range, "a path that fits one INI line (about 180 characters)");
        break;
    }
    if (key->type == SCENARIO_KEY_NAME)
        fprintf(out, "| `%s` | %s | file name | %s | %s |\n", key->name, type_names[key->type],
                range, key->meaning);
    else if (key->type == SCENARIO_KEY_PATH)
        fprintf(out, "| `%s` | %s | %s | %s | %s |\n", key->name, type_names[key->type], def, range,
                key->meaning);
    else
        fprintf(out, "| `%s` | %s | `%s` | %s | %s |\n", key->name, type_names[key->type], def,
                range, key->meaning);
}

int scenario_keys_write_doc(FILE *out)
{
    const char *section = "";
    for (int k = 0; k < SCENARIO_N_KEYS; k++) {
        const scenario_key_t *key = &scenario_keys[k];
        if (strcmp(section, key->section) != 0) {
            section = key->section;
            fprintf(out,
                    "%s### [%s]\n\n"
                    "| key | type | default | range | meaning |\n"
                    "|-----|------|---------|-------|---------|\n",
                    k ? "\n" : "", section);
        }
        s_doc_row(out, key);
    }
    fputs("\n### [agent.NAME]\n\n"
          "| key | type | meaning |\n"
          "|-----|------|---------|\n",
          out);
    for (int k = 0; k < SCENARIO_N_AGENT_KEYS; k++)
        fprintf(out, "| `%s` | %s | %s |\n", scenario_agent_keys[k].name,
                scenario_agent_keys[k].type, scenario_agent_keys[k].meaning);
    return ferror(out) ? ERR_EIO : 0;
}
