/* Grids, seeds, run folders, the manifest and the aggregation of a study
 * (study.h). JSON is read and written with jansson. */
#include "sim/study.h"

#include "core/err.h"
#include "core/parse.h"
#include "core/stats.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef struct s_key {
    char name[STUDY_TEXT_MAX];
    size_t n_values;
    char (*values)[STUDY_TEXT_MAX];
} s_key_t;

struct study {
    char scenario[1024];
    s_key_t keys[STUDY_MAX_KEYS];
    size_t n_keys;
    char sets[STUDY_MAX_SETS][STUDY_TEXT_MAX];
    size_t n_sets;
    uint64_t *seeds;
    size_t n_seeds;
};

static void s_err(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
}

study_t *study_new(void)
{
    study_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->seeds = malloc(STUDY_MAX_SEEDS * sizeof *s->seeds);
    if (!s->seeds) {
        free(s);
        return NULL;
    }
    return s;
}

void study_destroy(study_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    study_t *s = *self_p;
    for (size_t k = 0; k < s->n_keys; k++)
        free(s->keys[k].values);
    free(s->seeds);
    free(s);
    *self_p = NULL;
}

static int s_add_seed(study_t *s, uint64_t seed, const char *text, char *err, size_t err_len)
{
    for (size_t i = 0; i < s->n_seeds; i++)
        if (s->seeds[i] == seed) {
            s_err(err, err_len, "--seeds %s: seed %" PRIu64 " given twice", text, seed);
            return ERR_EINVAL;
        }
    if (s->n_seeds == STUDY_MAX_SEEDS) {
        s_err(err, err_len, "--seeds %s: more than %d seeds", text, STUDY_MAX_SEEDS);
        return ERR_ERANGE;
    }
    s->seeds[s->n_seeds++] = seed;
    return 0;
}

int study_add_seeds(study_t *s, const char *text, char *err, size_t err_len)
{
    char buf[4096];
    size_t len = strlen(text);
    /* strtok_r would skip an empty item: ",1", "1,,2", "1," are typos */
    if (len >= sizeof buf || !text[0] || text[0] == ',' || text[len - 1] == ',' ||
        strstr(text, ",,")) {
        s_err(err, err_len, "--seeds: expected N, A-B or a list of them, got '%s'", text);
        return ERR_EINVAL;
    }
    snprintf(buf, sizeof buf, "%s", text);
    size_t before = s->n_seeds;
    int rc = 0;
    for (char *save = NULL, *part = strtok_r(buf, ",", &save); part && rc == 0;
         part = strtok_r(NULL, ",", &save)) {
        char *dash = strchr(part, '-');
        uint64_t a, b;
        if (dash)
            *dash = '\0';
        if (parse_uint64(part, UINT64_MAX, &a) != 0 ||
            (dash && parse_uint64(dash + 1, UINT64_MAX, &b) != 0)) {
            s_err(err, err_len, "--seeds %s: expected N, A-B or a list of them", text);
            rc = ERR_EINVAL;
            break;
        }
        if (!dash)
            b = a;
        if (b < a || b - a >= STUDY_MAX_SEEDS) {
            s_err(err, err_len, "--seeds %s: range %" PRIu64 "-%" PRIu64 " is %s", text, a, b,
                  b < a ? "backwards" : "too long");
            rc = ERR_ERANGE;
            break;
        }
        for (uint64_t v = a; rc == 0; v++) {
            rc = s_add_seed(s, v, text, err, err_len);
            if (v == b)
                break;
        }
    }
    if (rc == 0 && s->n_seeds == before) {
        s_err(err, err_len, "--seeds %s: no seed", text);
        rc = ERR_EINVAL;
    }
    if (rc != 0)
        s->n_seeds = before;
    return rc;
}

int study_add_grid(study_t *s, const char *text, char *err, size_t err_len)
{
    const char *eq = strchr(text, '=');
    if (!eq || eq == text || !strchr(text, '.') || strchr(text, '.') > eq) {
        s_err(err, err_len, "--grid %s: expected SECTION.KEY=V1,V2,...", text);
        return ERR_EINVAL;
    }
    size_t key_len = (size_t)(eq - text);
    if (key_len >= STUDY_TEXT_MAX - 2) {
        s_err(err, err_len, "--grid %s: key longer than %d bytes", text, STUDY_TEXT_MAX - 3);
        return ERR_ERANGE;
    }
    if (s->n_keys == STUDY_MAX_KEYS) {
        s_err(err, err_len, "--grid %s: more than %d grid keys", text, STUDY_MAX_KEYS);
        return ERR_ERANGE;
    }
    s_key_t key = {.n_values = 0};
    memcpy(key.name, text, key_len);
    key.name[key_len] = '\0';
    if (strcmp(key.name, "run.seed") == 0) {
        s_err(err, err_len, "--grid %s: seeds are given with --seeds", text);
        return ERR_EINVAL;
    }
    for (size_t k = 0; k < s->n_keys; k++)
        if (strcmp(s->keys[k].name, key.name) == 0) {
            s_err(err, err_len, "--grid %s: key %s is in the grid already", text, key.name);
            return ERR_EINVAL;
        }
    key.values = calloc(STUDY_MAX_VALUES, sizeof *key.values);
    if (!key.values) {
        s_err(err, err_len, "out of memory");
        return ERR_ENOMEM;
    }
    const char *p = eq + 1;
    int rc = 0;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 0) {
            s_err(err, err_len, "--grid %s: an empty value", text);
            rc = ERR_EINVAL;
        } else if (len + key_len + 2 > STUDY_TEXT_MAX) {
            s_err(err, err_len, "--grid %s: a value too long", text);
            rc = ERR_ERANGE;
        } else if (key.n_values == STUDY_MAX_VALUES) {
            s_err(err, err_len, "--grid %s: more than %d values", text, STUDY_MAX_VALUES);
            rc = ERR_ERANGE;
        }
        if (rc != 0)
            break;
        memcpy(key.values[key.n_values], p, len);
        key.values[key.n_values][len] = '\0';
        for (size_t v = 0; v < key.n_values && rc == 0; v++)
            if (strcmp(key.values[v], key.values[key.n_values]) == 0) {
                s_err(err, err_len, "--grid %s: value '%s' given twice", text, key.values[v]);
                rc = ERR_EINVAL;
            }
        if (rc != 0)
            break;
        key.n_values++;
        if (!end)
            break;
        p = end + 1;
    }
    size_t cells = study_cell_count(s) * (rc == 0 ? key.n_values : 1);
    if (rc == 0 && cells > STUDY_MAX_CELLS) {
        s_err(err, err_len, "--grid %s: more than %d cells", text, STUDY_MAX_CELLS);
        rc = ERR_ERANGE;
    }
    if (rc != 0) {
        free(key.values);
        return rc;
    }
    s->keys[s->n_keys++] = key;
    return 0;
}

int study_add_set(study_t *s, const char *text, char *err, size_t err_len)
{
    if (s->n_sets == STUDY_MAX_SETS || strlen(text) >= STUDY_TEXT_MAX) {
        s_err(err, err_len, "--set %s: too many overrides or too long", text);
        return ERR_EINVAL;
    }
    snprintf(s->sets[s->n_sets++], STUDY_TEXT_MAX, "%s", text);
    return 0;
}

int study_set_scenario(study_t *s, const char *path)
{
    if (strlen(path) >= sizeof s->scenario)
        return ERR_EINVAL;
    snprintf(s->scenario, sizeof s->scenario, "%s", path);
    return 0;
}

const char *study_scenario(const study_t *s)
{
    return s->scenario;
}
size_t study_seed_count(const study_t *s)
{
    return s->n_seeds;
}
uint64_t study_seed(const study_t *s, size_t i)
{
    return s->seeds[i];
}
size_t study_key_count(const study_t *s)
{
    return s->n_keys;
}
const char *study_key(const study_t *s, size_t k)
{
    return s->keys[k].name;
}

size_t study_cell_count(const study_t *s)
{
    size_t n = 1;
    for (size_t k = 0; k < s->n_keys; k++)
        n *= s->keys[k].n_values;
    return n;
}

size_t study_run_count(const study_t *s)
{
    return study_cell_count(s) * s->n_seeds;
}

const char *study_cell_value(const study_t *s, size_t c, size_t k)
{
    size_t stride = 1;
    for (size_t j = k + 1; j < s->n_keys; j++)
        stride *= s->keys[j].n_values;
    return s->keys[k].values[(c / stride) % s->keys[k].n_values];
}

int study_cell_name(const study_t *s, size_t c, char *buf, size_t size)
{
    if (s->n_keys == 0)
        return snprintf(buf, size, "base");
    size_t used = 0;
    char text[2 * STUDY_TEXT_MAX + 2];
    for (size_t k = 0; k < s->n_keys; k++) {
        int n = snprintf(text, sizeof text, "%s%s=%s", k ? "," : "", s->keys[k].name,
                         study_cell_value(s, c, k));
        for (int i = 0; i < n; i++) {
            char ch = text[i];
            bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                      (ch >= '0' && ch <= '9') || strchr("._=,+-", ch);
            if (used + 1 < size)
                buf[used] = ok ? ch : '_';
            used++;
        }
    }
    if (size)
        buf[used < size ? used : size - 1] = '\0';
    return (int)used;
}

int study_run_overrides(const study_t *s, size_t i, char (*texts)[STUDY_OVERRIDE_MAX],
                        const char **args)
{
    size_t c = i / s->n_seeds;
    int n = 0;
    for (size_t k = 0; k < s->n_sets; k++)
        snprintf(texts[n++], STUDY_OVERRIDE_MAX, "%s", s->sets[k]);
    for (size_t k = 0; k < s->n_keys; k++)
        snprintf(texts[n++], STUDY_OVERRIDE_MAX, "%.255s=%.255s", s->keys[k].name,
                 study_cell_value(s, c, k));
    snprintf(texts[n++], STUDY_OVERRIDE_MAX, "run.seed=%" PRIu64, s->seeds[i % s->n_seeds]);
    for (int a = 0; a < n; a++)
        args[a] = texts[a];
    return n;
}

int study_run_dir(const study_t *s, const char *dir, size_t i, char *buf, size_t size)
{
    char cell[4096];
    study_cell_name(s, i / s->n_seeds, cell, sizeof cell);
    return snprintf(buf, size, "%s/%s/seed%" PRIu64, dir, cell, s->seeds[i % s->n_seeds]);
}

int study_check_names(const study_t *s, char *err, size_t err_len)
{
    size_t n = study_cell_count(s);
    char a[4096], b[4096];
    /* cells differ in at least one value; names collide only when values
     * of one key map to the same text */
    for (size_t k = 0; k < s->n_keys; k++)
        for (size_t i = 0; i < s->keys[k].n_values; i++)
            for (size_t j = i + 1; j < s->keys[k].n_values; j++) {
                snprintf(a, sizeof a, "%s", s->keys[k].values[i]);
                snprintf(b, sizeof b, "%s", s->keys[k].values[j]);
                for (char *p = a; *p; p++)
                    if (!strchr("._=,+-", *p) && !(*p >= 'a' && *p <= 'z') &&
                        !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9'))
                        *p = '_';
                for (char *p = b; *p; p++)
                    if (!strchr("._=,+-", *p) && !(*p >= 'a' && *p <= 'z') &&
                        !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9'))
                        *p = '_';
                if (strcmp(a, b) == 0) {
                    s_err(err, err_len,
                          "--grid %s: values '%s' and '%s' would name the same folder (%s)",
                          s->keys[k].name, s->keys[k].values[i], s->keys[k].values[j], a);
                    return ERR_EINVAL;
                }
            }
    (void)n;
    return 0;
}

char *study_manifest(const study_t *s)
{
    json_t *root = json_object(), *sets = json_array(), *grid = json_array(), *seeds = json_array();
    if (!root || !sets || !grid || !seeds)
        goto fail;
    json_object_set_new(root, "scenario", json_string(s->scenario));
    for (size_t k = 0; k < s->n_sets; k++)
        json_array_append_new(sets, json_string(s->sets[k]));
    for (size_t k = 0; k < s->n_keys; k++) {
        json_t *key = json_object(), *values = json_array();
        for (size_t v = 0; v < s->keys[k].n_values; v++)
            json_array_append_new(values, json_string(s->keys[k].values[v]));
        json_object_set_new(key, "key", json_string(s->keys[k].name));
        json_object_set_new(key, "values", values);
        json_array_append_new(grid, key);
    }
    /* seeds as decimal text: JSON integers lose above 2^53 in most readers */
    for (size_t i = 0; i < s->n_seeds; i++) {
        char text[32];
        snprintf(text, sizeof text, "%" PRIu64, s->seeds[i]);
        json_array_append_new(seeds, json_string(text));
    }
    json_object_set_new(root, "set", sets);
    json_object_set_new(root, "grid", grid);
    json_object_set_new(root, "seeds", seeds);
    char *text = json_dumps(root, JSON_INDENT(2));
    json_decref(root);
    if (!text)
        return NULL;
    /* json_dumps' buffer is malloc'd (the default allocator); add a newline */
    size_t len = strlen(text);
    char *out = malloc(len + 2);
    if (out) {
        memcpy(out, text, len);
        memcpy(out + len, "\n", 2);
    }
    free(text);
    return out;
fail:
    json_decref(root);
    json_decref(sets);
    json_decref(grid);
    json_decref(seeds);
    return NULL;
}

study_t *study_from_manifest(const char *text, char *err, size_t err_len)
{
    json_error_t je;
    json_t *root = json_loads(text, 0, &je);
    study_t *s = NULL;
    if (!root) {
        s_err(err, err_len, "grid.json:%d: %s", je.line, je.text);
        return NULL;
    }
    json_t *scenario = json_object_get(root, "scenario"), *sets = json_object_get(root, "set"),
           *grid = json_object_get(root, "grid"), *seeds = json_object_get(root, "seeds");
    if (!json_is_string(scenario) || !json_is_array(sets) || !json_is_array(grid) ||
        !json_is_array(seeds)) {
        s_err(err, err_len, "grid.json: not a study manifest (scenario, set, grid, seeds)");
        goto done;
    }
    s = study_new();
    if (!s || study_set_scenario(s, json_string_value(scenario)) != 0) {
        s_err(err, err_len, "grid.json: out of memory or scenario path too long");
        goto fail;
    }
    size_t i;
    json_t *v;
    json_array_foreach(sets, i, v)
    {
        if (!json_is_string(v) || study_add_set(s, json_string_value(v), err, err_len) != 0)
            goto fail;
    }
    json_array_foreach(grid, i, v)
    {
        json_t *key = json_object_get(v, "key"), *values = json_object_get(v, "values");
        if (!json_is_string(key) || !json_is_array(values))
            goto bad;
        char spec[STUDY_MAX_VALUES * STUDY_TEXT_MAX];
        size_t used = (size_t)snprintf(spec, sizeof spec, "%s=", json_string_value(key));
        size_t j;
        json_t *value;
        json_array_foreach(values, j, value)
        {
            if (!json_is_string(value))
                goto bad;
            used += (size_t)snprintf(spec + used, sizeof spec - used, "%s%s", j ? "," : "",
                                     json_string_value(value));
            if (used >= sizeof spec)
                goto bad;
        }
        if (study_add_grid(s, spec, err, err_len) != 0)
            goto fail;
    }
    json_array_foreach(seeds, i, v)
    {
        if (!json_is_string(v) || study_add_seeds(s, json_string_value(v), err, err_len) != 0)
            goto fail;
    }
    goto done;
bad:
    s_err(err, err_len, "grid.json: a grid entry is not {\"key\": K, \"values\": [...]}");
fail:
    study_destroy(&s);
done:
    json_decref(root);
    return s;
}

int study_read_summary(const char *run_dir, study_figure_fn fn, void *ctx, char *err,
                       size_t err_len)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/summary.json", run_dir);
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root) {
        s_err(err, err_len, "%s:%d: %s", path, je.line, je.text);
        return ERR_EIO;
    }
    json_t *per = json_object_get(root, "per_episode");
    if (!json_is_object(per)) {
        s_err(err, err_len, "%s: no \"per_episode\" object (written by an older recarena?)", path);
        json_decref(root);
        return ERR_EIO;
    }
    const char *name;
    json_t *v;
    json_object_foreach(per, name, v)
    {
        if (json_is_number(v))
            fn(ctx, "", name, json_number_value(v));
    }
    json_t *agents = json_object_get(per, "agents");
    size_t i;
    json_t *agent;
    json_array_foreach(agents, i, agent)
    {
        const char *agent_name = json_string_value(json_object_get(agent, "name"));
        if (!agent_name)
            continue;
        json_object_foreach(agent, name, v)
        {
            if (json_is_number(v))
                fn(ctx, agent_name, name, json_number_value(v));
        }
    }
    json_decref(root);
    return 0;
}

/* The aggregation's table: one column per (agent, figure) seen, in the
 * order first seen; values (n_runs, n_columns), NAN where a run has none. */
typedef struct s_column {
    char agent[64], figure[64];
} s_column_t;

typedef struct s_table {
    s_column_t *columns;
    size_t n_columns, cap_columns;
    double *values; /* (n_runs, cap_values / n_runs) */
    size_t n_runs, row;
    bool *present; /* (n_runs) */
    bool oom;
} s_table_t;

#define S_MAX_COLUMNS 1024

static void s_collect(void *ctx, const char *agent, const char *figure, double value)
{
    s_table_t *t = ctx;
    size_t c = 0;
    while (c < t->n_columns &&
           (strcmp(t->columns[c].agent, agent) != 0 || strcmp(t->columns[c].figure, figure) != 0))
        c++;
    if (c == t->n_columns) {
        if (t->n_columns == S_MAX_COLUMNS) {
            t->oom = true;
            return;
        }
        snprintf(t->columns[c].agent, sizeof t->columns[c].agent, "%s", agent);
        snprintf(t->columns[c].figure, sizeof t->columns[c].figure, "%s", figure);
        t->n_columns++;
    }
    t->values[t->row * S_MAX_COLUMNS + c] = value;
}

static void s_json_stats(json_t *obj, const char *name, const stats_t *st)
{
    json_t *o = json_object();
    json_object_set_new(o, "n", json_integer((json_int_t)st->n));
    json_object_set_new(o, "mean", isfinite(st->mean) ? json_real(st->mean) : json_null());
    json_object_set_new(o, "sd", json_real(st->sd));
    bool ci = isfinite(st->half_width);
    json_object_set_new(o, "ci95_half_width", ci ? json_real(st->half_width) : json_null());
    json_object_set_new(o, "ci95_low", ci ? json_real(st->low) : json_null());
    json_object_set_new(o, "ci95_high", ci ? json_real(st->high) : json_null());
    json_object_set_new(obj, name, o);
}

/* The figures the cell table shows, system first then per agent, if the
 * runs have them. */
static const char *const s_table_system[] = {"ctr", "welfare_per_request", "gini", "coverage"};
static const char *const s_table_agent[] = {"reward", "share"};

static void s_print_cell_table(FILE *out, const study_t *s, const s_table_t *t,
                               const stats_t *cell_stats)
{
    size_t n_cells = study_cell_count(s);
    fprintf(out, "%-40s %4s", "cell", "n");
    for (size_t c = 0; c < t->n_columns; c++) {
        bool show = false;
        for (size_t f = 0; f < sizeof s_table_system / sizeof *s_table_system; f++)
            show = show || (!t->columns[c].agent[0] &&
                            strcmp(t->columns[c].figure, s_table_system[f]) == 0);
        for (size_t f = 0; f < sizeof s_table_agent / sizeof *s_table_agent; f++)
            show = show ||
                   (t->columns[c].agent[0] && strcmp(t->columns[c].figure, s_table_agent[f]) == 0);
        if (!show)
            continue;
        char head[140];
        snprintf(head, sizeof head, "%s%s%s", t->columns[c].agent,
                 t->columns[c].agent[0] ? "." : "", t->columns[c].figure);
        fprintf(out, " %20s", head);
    }
    fprintf(out, "\n");
    for (size_t cell = 0; cell < n_cells; cell++) {
        char name[4096];
        study_cell_name(s, cell, name, sizeof name);
        fprintf(out, "%-40s %4zu", name, cell_stats[cell * S_MAX_COLUMNS].n);
        for (size_t c = 0; c < t->n_columns; c++) {
            bool show = false;
            for (size_t f = 0; f < sizeof s_table_system / sizeof *s_table_system; f++)
                show = show || (!t->columns[c].agent[0] &&
                                strcmp(t->columns[c].figure, s_table_system[f]) == 0);
            for (size_t f = 0; f < sizeof s_table_agent / sizeof *s_table_agent; f++)
                show = show || (t->columns[c].agent[0] &&
                                strcmp(t->columns[c].figure, s_table_agent[f]) == 0);
            if (!show)
                continue;
            const stats_t *st = &cell_stats[cell * S_MAX_COLUMNS + c];
            char text[64];
            if (st->n == 0)
                snprintf(text, sizeof text, "-");
            else if (isfinite(st->half_width))
                snprintf(text, sizeof text, "%.4g ± %.2g", st->mean, st->half_width);
            else
                snprintf(text, sizeof text, "%.4g", st->mean);
            fprintf(out, " %21s", text); /* ± is 2 bytes, one column */
        }
        fprintf(out, "\n");
    }
    fprintf(out, "(mean over runs ± half width of the 95%% confidence interval; each run's "
                 "figure is its mean per episode)\n");
}

int study_aggregate(const study_t *s, const char *dir, FILE *table, size_t *n_runs, char *err,
                    size_t err_len)
{
    size_t runs = study_run_count(s), n_cells = study_cell_count(s), n_seeds = s->n_seeds;
    int rc = 0;
    s_table_t t = {.n_runs = runs};
    t.columns = calloc(S_MAX_COLUMNS, sizeof *t.columns);
    t.values = malloc(runs * S_MAX_COLUMNS * sizeof *t.values);
    t.present = calloc(runs, sizeof *t.present);
    double *column = malloc(n_seeds * sizeof *column);
    stats_t *cell_stats = calloc(n_cells * S_MAX_COLUMNS, sizeof *cell_stats);
    json_t *root = json_object(), *cells = json_array();
    FILE *csv = NULL;
    if (!t.columns || !t.values || !t.present || !column || !cell_stats || !root || !cells) {
        s_err(err, err_len, "out of memory aggregating %zu runs", runs);
        rc = ERR_ENOMEM;
        goto done;
    }
    *n_runs = 0;
    for (size_t i = 0; i < runs * S_MAX_COLUMNS; i++)
        t.values[i] = NAN;
    char path[4200];
    for (size_t i = 0; i < runs; i++) {
        study_run_dir(s, dir, i, path, sizeof path);
        char summary[4300];
        snprintf(summary, sizeof summary, "%s/summary.json", path);
        FILE *f = fopen(summary, "r");
        if (!f)
            continue;
        fclose(f);
        t.row = i;
        rc = study_read_summary(path, s_collect, &t, err, err_len);
        if (rc != 0)
            goto done;
        t.present[i] = true;
        ++*n_runs;
    }
    if (t.oom) {
        s_err(err, err_len, "more than %d figures per run", S_MAX_COLUMNS);
        rc = ERR_EIO;
        goto done;
    }

    /* runs.csv */
    snprintf(path, sizeof path, "%s/runs.csv", dir);
    csv = fopen(path, "w");
    if (!csv) {
        s_err(err, err_len, "cannot write %s", path);
        rc = ERR_EIO;
        goto done;
    }
    for (size_t k = 0; k < s->n_keys; k++)
        fprintf(csv, "%s,", s->keys[k].name);
    fprintf(csv, "seed");
    for (size_t c = 0; c < t.n_columns; c++)
        fprintf(csv, ",%s%s%s", t.columns[c].agent, t.columns[c].agent[0] ? "." : "",
                t.columns[c].figure);
    fprintf(csv, "\n");
    for (size_t i = 0; i < runs; i++) {
        if (!t.present[i])
            continue;
        for (size_t k = 0; k < s->n_keys; k++)
            fprintf(csv, "%s,", study_cell_value(s, i / n_seeds, k));
        fprintf(csv, "%" PRIu64, s->seeds[i % n_seeds]);
        for (size_t c = 0; c < t.n_columns; c++) {
            double v = t.values[i * S_MAX_COLUMNS + c];
            if (isfinite(v))
                fprintf(csv, ",%.9g", v);
            else
                fprintf(csv, ",");
        }
        fprintf(csv, "\n");
    }
    if (ferror(csv) | (fclose(csv) != 0)) {
        csv = NULL;
        s_err(err, err_len, "writing %s failed", path);
        rc = ERR_EIO;
        goto done;
    }
    csv = NULL;

    /* study.json: per cell, per figure */
    json_t *keys = json_array();
    for (size_t k = 0; k < s->n_keys; k++)
        json_array_append_new(keys, json_string(s->keys[k].name));
    json_object_set_new(root, "scenario", json_string(s->scenario));
    json_object_set_new(root, "grid", keys);
    json_object_set_new(root, "seeds", json_integer((json_int_t)n_seeds));
    json_object_set_new(root, "runs", json_integer((json_int_t)*n_runs));
    for (size_t cell = 0; cell < n_cells; cell++) {
        json_t *o = json_object(), *settings = json_object(), *system = json_object(),
               *agents = json_object();
        char name[4096];
        study_cell_name(s, cell, name, sizeof name);
        for (size_t k = 0; k < s->n_keys; k++)
            json_object_set_new(settings, s->keys[k].name,
                                json_string(study_cell_value(s, cell, k)));
        size_t n_present = 0;
        for (size_t j = 0; j < n_seeds; j++)
            n_present += t.present[cell * n_seeds + j];
        for (size_t c = 0; c < t.n_columns; c++) {
            size_t n = 0;
            for (size_t j = 0; j < n_seeds; j++) {
                double v = t.values[(cell * n_seeds + j) * S_MAX_COLUMNS + c];
                if (t.present[cell * n_seeds + j] && isfinite(v))
                    column[n++] = v;
            }
            stats_t *st = &cell_stats[cell * S_MAX_COLUMNS + c];
            stats_summary(column, n, st);
            if (n == 0)
                continue;
            if (!t.columns[c].agent[0]) {
                s_json_stats(system, t.columns[c].figure, st);
            } else {
                json_t *a = json_object_get(agents, t.columns[c].agent);
                if (!a) {
                    a = json_object();
                    json_object_set_new(agents, t.columns[c].agent, a);
                }
                s_json_stats(a, t.columns[c].figure, st);
            }
        }
        cell_stats[cell * S_MAX_COLUMNS].n = n_present; /* for the table's n */
        json_object_set_new(o, "cell", json_string(name));
        json_object_set_new(o, "settings", settings);
        json_object_set_new(o, "runs", json_integer((json_int_t)n_present));
        json_object_set_new(o, "system", system);
        json_object_set_new(o, "agents", agents);
        json_array_append_new(cells, o);
    }
    json_object_set(root, "cells", cells);
    snprintf(path, sizeof path, "%s/study.json", dir);
    if (json_dump_file(root, path, JSON_INDENT(2) | JSON_REAL_PRECISION(9)) != 0) {
        s_err(err, err_len, "writing %s failed", path);
        rc = ERR_EIO;
        goto done;
    }
    if (table)
        s_print_cell_table(table, s, &t, cell_stats);
done:
    if (csv)
        fclose(csv);
    json_decref(cells);
    json_decref(root);
    free(cell_stats);
    free(column);
    free(t.present);
    free(t.values);
    free(t.columns);
    return rc;
}
