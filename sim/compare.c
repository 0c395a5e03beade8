/* recarena compare and recarena plot STUDY (compare.h). */
#include "sim/compare.h"

#include "core/err.h"
#include "core/stats.h"
#include "sim/study.h"
#include "sim/viewer.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define C_MAX_ITEMS   16
#define C_MAX_RUNS    1024 /* of one item */
#define C_MAX_FIGURES 512

typedef struct c_figure {
    char agent[64], name[64];
} c_figure_t;

/* One item of the comparison: its runs' seeds and figures. */
typedef struct c_item {
    char label[256];
    size_t n_runs;
    uint64_t seeds[C_MAX_RUNS];
    double *values; /* (C_MAX_RUNS, C_MAX_FIGURES), NAN where missing */
} c_item_t;

typedef struct c_state {
    c_figure_t figures[C_MAX_FIGURES];
    size_t n_figures;
    c_item_t *item;
    size_t run;
    bool full;
} c_state_t;

static void c_collect(void *ctx, const char *agent, const char *figure, double value)
{
    c_state_t *st = ctx;
    size_t f = 0;
    while (f < st->n_figures &&
           (strcmp(st->figures[f].agent, agent) != 0 || strcmp(st->figures[f].name, figure) != 0))
        f++;
    if (f == st->n_figures) {
        if (f == C_MAX_FIGURES) {
            st->full = true;
            return;
        }
        snprintf(st->figures[f].agent, sizeof st->figures[f].agent, "%s", agent);
        snprintf(st->figures[f].name, sizeof st->figures[f].name, "%s", figure);
        st->n_figures++;
    }
    st->item->values[st->run * C_MAX_FIGURES + f] = value;
}

static int c_read_seed(const char *run_dir, uint64_t *seed)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/summary.json", run_dir);
    json_t *root = json_load_file(path, 0, NULL);
    json_t *v = json_object_get(root, "seed");
    int rc = json_is_integer(v) ? 0 : ERR_EIO;
    if (rc == 0)
        *seed = (uint64_t)json_integer_value(v);
    json_decref(root);
    return rc;
}

static int c_add_run(c_state_t *st, const char *run_dir, char *err, size_t err_len)
{
    c_item_t *it = st->item;
    if (it->n_runs == C_MAX_RUNS) {
        snprintf(err, err_len, "%s: more than %d runs", it->label, C_MAX_RUNS);
        return ERR_ERANGE;
    }
    st->run = it->n_runs;
    int rc = study_read_summary(run_dir, c_collect, st, err, err_len);
    if (rc != 0)
        return rc;
    if (c_read_seed(run_dir, &it->seeds[it->n_runs]) != 0) {
        snprintf(err, err_len, "%s/summary.json: no \"seed\"", run_dir);
        return ERR_EIO;
    }
    it->n_runs++;
    return 0;
}

static bool c_has_summary(const char *dir)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/summary.json", dir);
    return access(path, R_OK) == 0;
}

static int c_seed_order(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    unsigned long long u = strtoull(x + 4, NULL, 10), v = strtoull(y + 4, NULL, 10);
    return (u > v) - (u < v);
}

/* An item: a run folder, or a cell (its seedN/ run folders, by seed). */
static int c_load_item(c_state_t *st, const char *dir, char *err, size_t err_len)
{
    c_item_t *it = st->item;
    char copy[sizeof it->label];
    snprintf(copy, sizeof copy, "%s", dir);
    for (size_t n = strlen(copy); n > 1 && copy[n - 1] == '/'; n--)
        copy[n - 1] = '\0';
    const char *slash = strrchr(copy, '/');
    snprintf(it->label, sizeof it->label, "%s", slash && slash[1] ? slash + 1 : copy);
    if (c_has_summary(dir))
        return c_add_run(st, dir, err, err_len);
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, err_len, "%s: %s", dir, strerror(errno));
        return ERR_EIO;
    }
    char *names[C_MAX_RUNS];
    size_t n = 0;
    struct dirent *e;
    bool too_many = false;
    while ((e = readdir(d))) {
        char run[4200];
        snprintf(run, sizeof run, "%s/%s", dir, e->d_name);
        if (strncmp(e->d_name, "seed", 4) != 0 || !c_has_summary(run))
            continue;
        if (n == C_MAX_RUNS) {
            too_many = true;
            break;
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (too_many) {
        for (size_t i = 0; i < n; i++)
            free(names[i]);
        snprintf(err, err_len, "%s: more than %d runs", dir, C_MAX_RUNS);
        return ERR_ERANGE;
    }
    qsort(names, n, sizeof *names, c_seed_order);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        char run[4200];
        snprintf(run, sizeof run, "%s/%s", dir, names[i]);
        if (rc == 0 && names[i])
            rc = c_add_run(st, run, err, err_len);
        free(names[i]);
    }
    if (rc == 0 && n == 0) {
        snprintf(err, err_len,
                 "%s: neither a run folder (summary.json) nor a study cell (seedN/summary.json)",
                 dir);
        rc = ERR_EINVAL;
    }
    return rc;
}

static void c_stats(const c_item_t *it, size_t f, stats_t *out)
{
    double v[C_MAX_RUNS];
    size_t n = 0;
    for (size_t r = 0; r < it->n_runs; r++) {
        double x = it->values[r * C_MAX_FIGURES + f];
        if (isfinite(x))
            v[n++] = x;
    }
    stats_summary(v, n, out);
}

/* The difference b - a paired by seed over the seeds both have. */
static void c_paired(const c_item_t *a, const c_item_t *b, size_t f, stats_t *out)
{
    static double x[C_MAX_RUNS], y[C_MAX_RUNS];
    size_t n = 0;
    for (size_t i = 0; i < b->n_runs; i++) {
        for (size_t j = 0; j < a->n_runs; j++) {
            if (a->seeds[j] != b->seeds[i])
                continue;
            double u = a->values[j * C_MAX_FIGURES + f], v = b->values[i * C_MAX_FIGURES + f];
            if (isfinite(u) && isfinite(v)) {
                x[n] = v;
                y[n] = u;
                n++;
            }
            break;
        }
    }
    if (stats_paired(x, y, n, out) != 0)
        stats_summary(x, 0, out);
}

static void c_cell(char *buf, size_t size, const stats_t *s, bool diff)
{
    if (s->n == 0)
        snprintf(buf, size, "-");
    else if (isfinite(s->half_width))
        snprintf(buf, size, diff ? "%+.4g [%+.3g, %+.3g]" : "%.4g ± %.2g", s->mean,
                 diff ? s->low : s->half_width, s->high);
    else
        snprintf(buf, size, diff ? "%+.4g" : "%.4g", s->mean);
}

static const char s_compare_usage[] =
    "usage: recarena compare A B ... [--csv] [--plot OUT.png [--figure F]]\n"
    "\n"
    "A side-by-side table of two or more runs: run folders (summary.json) or\n"
    "cells of a study (folders of seedN/ run folders). For each per-episode\n"
    "figure, system and per agent: each one's mean over its runs (± the half\n"
    "width of the 95% confidence interval, from 2 runs on), and for B, C, ...\n"
    "the difference from A paired by seed over the seeds both have, with its\n"
    "95% confidence interval [low, high] (from 2 shared seeds on).\n"
    "\n"
    "  --csv          the table as CSV rows figure,item,n,mean,sd,ci95_low,ci95_high\n"
    "                 (items: each name, and NAME-A for the paired differences)\n"
    "  --plot OUT.png draw figure F per agent (system if no agent has it) for each\n"
    "                 item, with 95% CI error bars (needs recarena-view)\n"
    "  --figure F     the figure --plot draws (default reward; system.F for the\n"
    "                 system's F where the agents have one too, e.g. system.gini)\n";

/* Writes the CSV for the viewer and runs it: argv[0] the viewer. */
static int c_run_viewer(const char *csv, const char *out, const char *title, const char *x_label,
                        const char *y_label, bool categorical, const char *size)
{
    char path[1100], err[1400];
    if (viewer_find(path, sizeof path, err, sizeof err) != 0) {
        fprintf(stderr, "recarena: %s\n", err);
        return 1;
    }
    char *argv[20];
    int n = 0;
    argv[n++] = path;
    argv[n++] = "--series";
    argv[n++] = (char *)csv;
    argv[n++] = "--out";
    argv[n++] = (char *)out;
    argv[n++] = "--title";
    argv[n++] = (char *)title;
    argv[n++] = "--x-label";
    argv[n++] = (char *)x_label;
    argv[n++] = "--y-label";
    argv[n++] = (char *)y_label;
    if (categorical)
        argv[n++] = "--categorical";
    if (size) {
        argv[n++] = "--size";
        argv[n++] = (char *)size;
    }
    argv[n] = NULL;
    fflush(stdout); /* the table before the viewer's line */
    pid_t pid;
    int rc = posix_spawn(&pid, path, NULL, NULL, argv, environ);
    if (rc != 0) {
        fprintf(stderr, "recarena: cannot run %s: %s\n", path, strerror(rc));
        return 1;
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

/* A temporary CSV file for the viewer; NULL with a message on failure. */
static FILE *c_temp_csv(char *path, size_t size)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(path, size, "%s/recarena-plot-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        fprintf(stderr, "recarena: cannot write a temporary file %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
    } else {
        fprintf(f, "series,x,label,mean,low,high\n");
    }
    return f;
}

/* Commas and newlines would break the viewer's CSV. */
static void c_csv_text(char *buf, size_t size, const char *text)
{
    snprintf(buf, size, "%s", text);
    for (char *p = buf; *p; p++)
        if (*p == ',' || *p == '\n' || *p == '\r')
            *p = ';';
}

int compare_main(int argc, char **argv)
{
    const char *dirs[C_MAX_ITEMS], *plot = NULL, *figure = "reward";
    size_t n_items = 0;
    bool csv = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(s_compare_usage, stdout);
            return 0;
        } else if (strcmp(argv[i], "--csv") == 0) {
            csv = true;
        } else if (strcmp(argv[i], "--plot") == 0 || strcmp(argv[i], "--figure") == 0) {
            if (i + 1 == argc) {
                fprintf(stderr, "recarena compare: %s needs a value\n\n%s", argv[i],
                        s_compare_usage);
                return 2;
            }
            *(strcmp(argv[i], "--plot") == 0 ? &plot : &figure) = argv[i + 1];
            i++;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "recarena compare: unknown option '%s'\n\n%s", argv[i],
                    s_compare_usage);
            return 2;
        } else if (n_items == C_MAX_ITEMS) {
            fprintf(stderr, "recarena compare: at most %d items\n", C_MAX_ITEMS);
            return 2;
        } else {
            dirs[n_items++] = argv[i];
        }
    }
    if (n_items < 2) {
        fprintf(stderr, "recarena compare: give two or more run folders or study cells\n\n%s",
                s_compare_usage);
        return 2;
    }
    c_state_t *st = calloc(1, sizeof *st);
    c_item_t *items = calloc(n_items, sizeof *items);
    int status = 1;
    char err[4600];
    if (!st || !items)
        goto oom;
    for (size_t k = 0; k < n_items; k++) {
        items[k].values = malloc(sizeof(double) * C_MAX_RUNS * C_MAX_FIGURES);
        if (!items[k].values)
            goto oom;
        for (size_t i = 0; i < (size_t)C_MAX_RUNS * C_MAX_FIGURES; i++)
            items[k].values[i] = NAN;
        st->item = &items[k];
        if (c_load_item(st, dirs[k], err, sizeof err) != 0) {
            fprintf(stderr, "recarena compare: %s\n", err);
            goto done;
        }
    }
    if (st->full) {
        fprintf(stderr, "recarena compare: more than %d figures\n", C_MAX_FIGURES);
        goto done;
    }
    if (csv) {
        printf("figure,item,n,mean,sd,ci95_low,ci95_high\n");
    } else {
        for (size_t k = 0; k < n_items; k++)
            printf("%c = %s (%zu run%s)\n", (char)('A' + k), dirs[k], items[k].n_runs,
                   items[k].n_runs == 1 ? "" : "s");
        printf("%-28s", "figure");
        for (size_t k = 0; k < n_items; k++)
            printf(" %22c", (char)('A' + k));
        for (size_t k = 1; k < n_items; k++)
            printf("  %c - A paired by seed [95%% CI]", (char)('A' + k));
        printf("\n");
    }
    for (size_t f = 0; f < st->n_figures; f++) {
        char name[140];
        snprintf(name, sizeof name, "%s%s%s", st->figures[f].agent,
                 st->figures[f].agent[0] ? "." : "", st->figures[f].name);
        stats_t s[C_MAX_ITEMS], d[C_MAX_ITEMS];
        for (size_t k = 0; k < n_items; k++)
            c_stats(&items[k], f, &s[k]);
        for (size_t k = 1; k < n_items; k++)
            c_paired(&items[0], &items[k], f, &d[k]);
        if (csv) {
            for (size_t k = 0; k < 2 * n_items - 1; k++) {
                const stats_t *x = k < n_items ? &s[k] : &d[k - n_items + 1];
                if (x->n == 0)
                    continue;
                if (k < n_items)
                    printf("%s,%s,%zu,%.9g,%.9g", name, items[k].label, x->n, x->mean, x->sd);
                else
                    printf("%s,%s-%s,%zu,%.9g,%.9g", name, items[k - n_items + 1].label,
                           items[0].label, x->n, x->mean, x->sd);
                if (isfinite(x->half_width))
                    printf(",%.9g,%.9g\n", x->low, x->high);
                else
                    printf(",,\n");
            }
            continue;
        }
        printf("%-28s", name);
        char text[128];
        for (size_t k = 0; k < n_items; k++) {
            c_cell(text, sizeof text, &s[k], false);
            printf(" %23s", text); /* ± is 2 bytes, one column */
        }
        for (size_t k = 1; k < n_items; k++) {
            c_cell(text, sizeof text, &d[k], true);
            printf(" %30s", text);
        }
        printf("\n");
    }
    if (!csv)
        printf("(mean over runs ± half width of the 95%% CI; differences paired by seed over "
               "the seeds both have, [95%% CI]; each run's figure is its mean per episode)\n");
    status = 0;
    if (plot) {
        char path[4200];
        FILE *f = c_temp_csv(path, sizeof path);
        if (!f) {
            status = 1;
            goto done;
        }
        bool any_agent = false, system_only = strncmp(figure, "system.", 7) == 0;
        if (system_only)
            figure += 7;
        for (size_t g = 0; g < st->n_figures && !system_only; g++)
            any_agent =
                any_agent || (st->figures[g].agent[0] && strcmp(st->figures[g].name, figure) == 0);
        size_t drawn = 0;
        for (size_t g = 0; g < st->n_figures; g++) {
            if (strcmp(st->figures[g].name, figure) != 0 ||
                (any_agent != !!st->figures[g].agent[0]))
                continue;
            char series[128];
            c_csv_text(series, sizeof series,
                       st->figures[g].agent[0] ? st->figures[g].agent : "system");
            for (size_t k = 0; k < n_items; k++) {
                stats_t x;
                c_stats(&items[k], g, &x);
                if (x.n == 0)
                    continue;
                char label[300];
                c_csv_text(label, sizeof label, items[k].label);
                bool ci = isfinite(x.half_width);
                fprintf(f, "%s,%zu,%s,%.9g,%.9g,%.9g\n", series, k, label, x.mean,
                        ci ? x.low : x.mean, ci ? x.high : x.mean);
                drawn++;
            }
        }
        fclose(f);
        if (drawn == 0) {
            fprintf(stderr, "recarena compare: no figure '%s' to plot\n", figure);
            status = 1;
        } else {
            char title[300];
            snprintf(title, sizeof title, "%s per episode, by run", figure);
            status = c_run_viewer(path, plot, title, "", figure, true, NULL);
        }
        unlink(path);
    }
    goto done;
oom:
    fprintf(stderr, "recarena compare: out of memory\n");
done:
    if (items)
        for (size_t k = 0; k < n_items; k++)
            free(items[k].values);
    free(items);
    free(st);
    return status;
}

bool compare_is_study(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/study.json", dir);
    return access(path, R_OK) == 0;
}

static const char s_plot_usage[] =
    "usage: recarena plot STUDY --x KEY --y FIGURE [--out OUT.png] [--size WxH]\n"
    "\n"
    "FIGURE (a per-episode figure: per agent, e.g. reward or share, or of the\n"
    "system, e.g. gini) against grid key KEY of the study in folder STUDY (its\n"
    "study.json, written by recarena sweep): one line per agent (and per value\n"
    "of the other grid keys), points the mean over seeds, bars the 95%\n"
    "confidence interval; system.FIGURE (e.g. system.gini) for the system's\n"
    "figure where the agents have one of that name too. Default OUT:\n"
    "STUDY/FIGURE_vs_KEY.png.\n";

int compare_plot_main(int argc, char **argv)
{
    const char *dir = NULL, *x_key = NULL, *y = NULL, *out = NULL, *size = NULL;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            fputs(s_plot_usage, stdout);
            return 0;
        }
        if (arg[0] != '-') {
            if (dir) {
                fprintf(stderr, "recarena plot: unexpected '%s'\n\n%s", arg, s_plot_usage);
                return 2;
            }
            dir = arg;
            continue;
        }
        const char **slot = strcmp(arg, "--x") == 0      ? &x_key
                            : strcmp(arg, "--y") == 0    ? &y
                            : strcmp(arg, "--out") == 0  ? &out
                            : strcmp(arg, "--size") == 0 ? &size
                                                         : NULL;
        if (!slot || i + 1 == argc) {
            fprintf(stderr, "recarena plot: %s '%s'\n\n%s",
                    slot ? "a value is needed after" : "unknown option", arg, s_plot_usage);
            return 2;
        }
        *slot = argv[++i];
    }
    if (!dir || !x_key || !y) {
        fprintf(stderr, "recarena plot: a study folder, --x KEY and --y FIGURE are needed\n\n%s",
                s_plot_usage);
        return 2;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/study.json", dir);
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root) {
        fprintf(stderr, "recarena plot: %s:%d: %s\n", path, je.line, je.text);
        return 1;
    }
    int status = 1;
    char csv_path[4200] = "";
    FILE *csv = NULL;
    json_t *grid = json_object_get(root, "grid"), *cells = json_object_get(root, "cells"), *v;
    size_t i, n_keys = json_array_size(grid);
    bool known = false;
    json_array_foreach(grid, i, v) known =
        known || (json_is_string(v) && strcmp(json_string_value(v), x_key) == 0);
    if (!known) {
        fprintf(stderr, "recarena plot: --x %s: not a grid key of %s (its keys:", x_key, path);
        json_array_foreach(grid, i, v) fprintf(stderr, " %s", json_string_value(v));
        fprintf(stderr, ")\n");
        goto done;
    }
    /* x: the key's values as numbers, or their positions if one is not */
    bool numeric = true;
    json_t *cell;
    json_array_foreach(cells, i, cell)
    {
        const char *value =
            json_string_value(json_object_get(json_object_get(cell, "settings"), x_key));
        char *end;
        if (!value || (strtod(value, &end), *end != '\0' || end == value))
            numeric = false;
    }
    /* "system.gini": the system's figure where the agents have one too */
    const char *system_figure = strncmp(y, "system.", 7) == 0 ? y + 7 : NULL;
    csv = c_temp_csv(csv_path, sizeof csv_path);
    if (!csv)
        goto done;
    size_t points = 0;
    char *labels[STUDY_MAX_VALUES];
    size_t n_labels = 0;
    json_array_foreach(cells, i, cell)
    {
        json_t *settings = json_object_get(cell, "settings");
        const char *value = json_string_value(json_object_get(settings, x_key));
        if (!value)
            continue;
        size_t l = 0;
        while (l < n_labels && strcmp(labels[l], value) != 0)
            l++;
        if (l == n_labels && n_labels < STUDY_MAX_VALUES)
            labels[n_labels++] = (char *)value;
        double x = numeric ? strtod(value, NULL) : (double)l;
        /* the other keys' settings name the line */
        char rest[512] = "";
        size_t used = 0;
        json_t *k;
        size_t j;
        json_array_foreach(grid, j, k)
        {
            const char *key = json_string_value(k);
            if (n_keys < 2 || !key || strcmp(key, x_key) == 0)
                continue;
            used += (size_t)snprintf(rest + used, used < sizeof rest ? sizeof rest - used : 0,
                                     "%s%s=%s", used ? " " : " (", key,
                                     json_string_value(json_object_get(settings, key)));
        }
        if (used && used + 2 < sizeof rest)
            strcat(rest, ")");
        json_t *agents = json_object_get(cell, "agents"), *fig;
        const char *agent;
        bool any = false;
        json_object_foreach(agents, agent, v)
        {
            if (system_figure || !(fig = json_object_get(v, y)))
                continue;
            char series[600], text[600], label[300];
            snprintf(text, sizeof text, "%s%s", agent, rest);
            c_csv_text(series, sizeof series, text);
            c_csv_text(label, sizeof label, value);
            json_t *low = json_object_get(fig, "ci95_low"),
                   *high = json_object_get(fig, "ci95_high");
            double mean = json_number_value(json_object_get(fig, "mean"));
            fprintf(csv, "%s,%.9g,%s,%.9g,%.9g,%.9g\n", series, x, label, mean,
                    json_is_number(low) ? json_number_value(low) : mean,
                    json_is_number(high) ? json_number_value(high) : mean);
            points++;
            any = true;
        }
        if (!any && (fig = json_object_get(json_object_get(cell, "system"),
                                           system_figure ? system_figure : y))) {
            char series[600], text[600], label[300];
            snprintf(text, sizeof text, "system%s", rest);
            c_csv_text(series, sizeof series, text);
            c_csv_text(label, sizeof label, value);
            json_t *low = json_object_get(fig, "ci95_low"),
                   *high = json_object_get(fig, "ci95_high");
            double mean = json_number_value(json_object_get(fig, "mean"));
            fprintf(csv, "%s,%.9g,%s,%.9g,%.9g,%.9g\n", series, x, label, mean,
                    json_is_number(low) ? json_number_value(low) : mean,
                    json_is_number(high) ? json_number_value(high) : mean);
            points++;
        }
    }
    fclose(csv);
    csv = NULL;
    if (points == 0) {
        fprintf(stderr, "recarena plot: no cell of %s has a figure '%s' (per agent or system)\n",
                path, y);
        goto done;
    }
    char default_out[4400], title[600], y_label[300];
    if (!out) {
        char name[300];
        snprintf(name, sizeof name, "%s_vs_%s.png", y, x_key);
        for (char *p = name; *p; p++)
            if (*p == '/')
                *p = '_';
        snprintf(default_out, sizeof default_out, "%s/%s", dir, name);
        out = default_out;
    }
    snprintf(title, sizeof title, "%s: %s against %s",
             json_string_value(json_object_get(root, "scenario"))
                 ? json_string_value(json_object_get(root, "scenario"))
                 : dir,
             y, x_key);
    snprintf(y_label, sizeof y_label,
             "%s (mean per episode over %" JSON_INTEGER_FORMAT " seeds, 95%% CI)", y,
             json_integer_value(json_object_get(root, "seeds")));
    status = c_run_viewer(csv_path, out, title, x_key, y_label, !numeric, size);
done:
    if (csv)
        fclose(csv);
    if (csv_path[0])
        unlink(csv_path);
    json_decref(root);
    return status;
}
