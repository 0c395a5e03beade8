/* Catalog files (catalog_file.h): an RFC 4180 CSV reader (quoted fields,
 * "" escapes, newlines inside quotes), the item table, the embeddings
 * (.npy memory-mapped through npy.h, or CSV), PCA to world.dim, unit rows,
 * topics from the file or k-means. Every check runs before the world is
 * built, and the first failure is the one message. */
#include "sim/catalog_file.h"

#include "core/err.h"
#include "core/parse.h"
#include "sim/npy.h"
#include "sim/pca.h"
#include "sim/streams.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_FIELDS  (PROTO_MAX_DIM * 8 + 1) /* an embeddings CSV row: id and the vector */
#define S_KMEANS_ITER 100

struct catalog_file {
    world_catalog_t view;
    int rows;      /* items used: cfg->n_items */
    int input_dim; /* embedding columns before PCA, 0 without embeddings */
    char **ids;    /* (rows) or NULL */
    char **titles; /* (rows) or NULL */
    char **topic_names;
    int n_topic_names;
    int32_t *topic, *provider;
    float *quality, *embedding;
};

static int s_fail(char *err, size_t err_len, int code, const char *fmt, ...)
{
    if (err && err_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* ---- CSV ------------------------------------------------------------- */

typedef struct s_csv {
    char *buf; /* the whole file, NUL-terminated; fields are unquoted in place */
    size_t len, pos;
    int line; /* lines consumed so far */
    char **fields;
} s_csv_t;

static int s_csv_open(s_csv_t *r, const char *path, char *err, size_t err_len)
{
    memset(r, 0, sizeof *r);
    FILE *f = fopen(path, "rb");
    if (!f)
        return s_fail(err, err_len, ERR_EIO, "%s: cannot open: %s", path, strerror(errno));
    int rc = 0;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        rc = s_fail(err, err_len, ERR_EIO, "%s: cannot read", path);
        goto fail_close;
    }
    r->buf = malloc((size_t)size + 1);
    r->fields = malloc(S_MAX_FIELDS * sizeof *r->fields);
    if (!r->buf || !r->fields) {
        rc = ERR_ENOMEM;
        goto fail_close;
    }
    if (fread(r->buf, 1, (size_t)size, f) != (size_t)size) {
        rc = s_fail(err, err_len, ERR_EIO, "%s: cannot read", path);
        goto fail_close;
    }
    r->buf[size] = '\0';
    r->len = (size_t)size;
    if (memchr(r->buf, '\0', r->len))
        rc = s_fail(err, err_len, ERR_EFORMAT, "%s: not a text file (a NUL byte)", path);
fail_close:
    fclose(f);
    return rc;
}

static void s_csv_close(s_csv_t *r)
{
    free(r->buf);
    free(r->fields);
    memset(r, 0, sizeof *r);
}

/* The next record into r->fields. Returns its field count, 0 at the end,
 * or ERR_EFORMAT with a message (without the file name) in err. *line:
 * the line the record starts on. Empty lines are skipped. */
static int s_csv_record(s_csv_t *r, int *line, char *err, size_t err_len)
{
    char *b = r->buf;
    while (r->pos < r->len && (b[r->pos] == '\n' || b[r->pos] == '\r')) {
        if (b[r->pos] == '\n')
            r->line++;
        r->pos++;
    }
    if (r->pos >= r->len)
        return 0;
    *line = r->line + 1;
    size_t w = r->pos;
    int n = 0;
    for (;;) {
        if (n == S_MAX_FIELDS)
            return s_fail(err, err_len, ERR_EFORMAT, "%d: more than %d fields", *line,
                          S_MAX_FIELDS);
        r->fields[n++] = &b[w];
        if (b[r->pos] == '"') {
            r->pos++;
            for (;;) {
                if (r->pos >= r->len)
                    return s_fail(err, err_len, ERR_EFORMAT, "%d: quoted field never closed",
                                  *line);
                if (b[r->pos] == '"') {
                    if (b[r->pos + 1] != '"')
                        break;
                    r->pos++;
                }
                if (b[r->pos] == '\n')
                    r->line++;
                b[w++] = b[r->pos++];
            }
            r->pos++; /* the closing quote */
            if (r->pos < r->len && b[r->pos] != ',' && b[r->pos] != '\n' && b[r->pos] != '\r')
                return s_fail(err, err_len, ERR_EFORMAT, "%d: text after a closing quote",
                              r->line + 1);
        } else {
            while (r->pos < r->len && b[r->pos] != ',' && b[r->pos] != '\n' && b[r->pos] != '\r')
                b[w++] = b[r->pos++];
        }
        char sep = r->pos < r->len ? b[r->pos] : '\n';
        b[w++] = '\0';
        r->pos++;
        if (sep == ',')
            continue;
        if (sep == '\r' && r->pos < r->len && b[r->pos] == '\n')
            r->pos++;
        r->line++;
        return n;
    }
}

/* s without leading and trailing blanks (in place). */
static char *s_trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

/* ---- names to ids ------------------------------------------------------ */

typedef struct s_name {
    const char *text;
    int row;
} s_name_t;

static int s_compare_names(const void *a, const void *b)
{
    const s_name_t *x = a, *y = b;
    int c = strcmp(x->text, y->text);
    return c ? c : (x->row > y->row) - (x->row < y->row);
}

/* ids[row] = the index of names[row] among the distinct names in
 * alphabetical order. Returns the number of distinct names, or
 * ERR_ENOMEM. When distinct is false, a repeated name fails instead: the
 * return is ERR_EFORMAT and *dup the later row that repeats it. */
static int s_intern(char **names, int n, int32_t *ids, bool distinct, int *dup)
{
    s_name_t *v = malloc((size_t)(n ? n : 1) * sizeof *v);
    if (!v)
        return ERR_ENOMEM;
    for (int i = 0; i < n; i++)
        v[i] = (s_name_t){names[i], i};
    qsort(v, (size_t)n, sizeof *v, s_compare_names);
    int count = 0;
    for (int i = 0; i < n; i++) {
        if (i > 0 && strcmp(v[i].text, v[i - 1].text) == 0) {
            if (!distinct) {
                *dup = v[i].row;
                free(v);
                return ERR_EFORMAT;
            }
        } else {
            count++;
        }
        if (ids)
            ids[v[i].row] = count - 1;
    }
    free(v);
    return count;
}

/* ---- the item table -------------------------------------------------- */

enum { S_COL_ID, S_COL_TITLE, S_COL_TOPIC, S_COL_PROVIDER, S_COL_QUALITY, S_N_COLS };

typedef struct s_table {
    int rows;
    int *line; /* (rows): the CSV line of each row */
    char **cell[S_N_COLS];
} s_table_t;

static void s_table_free(s_table_t *t)
{
    for (int c = 0; c < S_N_COLS; c++) {
        if (t->cell[c])
            for (int i = 0; i < t->rows; i++)
                free(t->cell[c][i]);
        free(t->cell[c]);
    }
    free(t->line);
    memset(t, 0, sizeof *t);
}

/* Reads the catalog CSV's first `want` rows (all when fewer). */
static int s_read_table(s_table_t *t, const char *path, int want, char *err, size_t err_len)
{
    static const char *const names[S_N_COLS] = {"id", "title", "topic", "provider", "quality"};
    memset(t, 0, sizeof *t);
    s_csv_t r;
    int rc = s_csv_open(&r, path, err, err_len);
    if (rc != 0)
        goto done;
    char why[256];
    int line = 0;
    int n_head = s_csv_record(&r, &line, why, sizeof why);
    if (n_head < 0) {
        rc = s_fail(err, err_len, n_head, "%s:%s", path, why);
        goto done;
    }
    int col[S_N_COLS];
    for (int c = 0; c < S_N_COLS; c++)
        col[c] = -1;
    for (int f = 0; f < n_head; f++) {
        const char *h = s_trim(r.fields[f]);
        for (int c = 0; c < S_N_COLS; c++)
            if (strcmp(h, names[c]) == 0 || (c == S_COL_TITLE && strcmp(h, "text") == 0)) {
                if (col[c] >= 0) {
                    rc = s_fail(err, err_len, ERR_EFORMAT, "%s:1: column '%s' given twice", path,
                                names[c]);
                    goto done;
                }
                col[c] = f;
            }
    }
    if (col[S_COL_ID] < 0) {
        rc = s_fail(err, err_len, ERR_EFORMAT,
                    "%s:1: no 'id' column in the header (columns: id, title or text, topic, "
                    "provider, quality)",
                    path);
        goto done;
    }
    t->line = calloc((size_t)want, sizeof *t->line);
    for (int c = 0; c < S_N_COLS; c++)
        if (col[c] >= 0)
            t->cell[c] = calloc((size_t)want, sizeof *t->cell[c]);
    if (!t->line) {
        rc = ERR_ENOMEM;
        goto done;
    }
    while (t->rows < want) {
        int n = s_csv_record(&r, &line, why, sizeof why);
        if (n == 0)
            break;
        if (n < 0) {
            rc = s_fail(err, err_len, n, "%s:%s", path, why);
            goto done;
        }
        if (n != n_head) {
            rc = s_fail(err, err_len, ERR_EFORMAT, "%s:%d: %d fields, the header has %d", path,
                        line, n, n_head);
            goto done;
        }
        t->line[t->rows] = line;
        for (int c = 0; c < S_N_COLS; c++)
            if (col[c] >= 0) {
                char *v = c == S_COL_TITLE ? r.fields[col[c]] : s_trim(r.fields[col[c]]);
                if (!(t->cell[c][t->rows] = strdup(v))) {
                    rc = ERR_ENOMEM;
                    goto done;
                }
            }
        t->rows++;
    }
done:
    s_csv_close(&r);
    if (rc != 0)
        s_table_free(t);
    return rc;
}

/* ---- embeddings ------------------------------------------------------ */

/* Embeddings from a CSV of rows "id, x1, ..., xD" (a first row whose
 * second field is not a number is a header), matched to ids when given.
 * *x: (want, D), caller frees. */
static int s_read_embeddings_csv(const char *path, int want, char **ids, float **x, int *rows,
                                 int *cols, char *err, size_t err_len)
{
    s_csv_t r;
    int rc = s_csv_open(&r, path, err, err_len);
    float *v = NULL;
    int line = 0, d = -1, n = 0;
    bool header_checked = false;
    char why[256];
    if (rc != 0)
        goto done;
    for (;;) {
        int f = s_csv_record(&r, &line, why, sizeof why);
        if (f == 0 || n == want)
            break;
        if (f < 0) {
            rc = s_fail(err, err_len, f, "%s:%s", path, why);
            goto done;
        }
        double first;
        if (!header_checked) {
            header_checked = true;
            if (f >= 2 && parse_double(s_trim(r.fields[1]), -DBL_MAX, DBL_MAX, &first) != 0)
                continue; /* a header */
        }
        if (f < 2) {
            rc =
                s_fail(err, err_len, ERR_EFORMAT, "%s:%d: expected an id and a vector", path, line);
            goto done;
        }
        if (d < 0) {
            d = f - 1;
            if (!(v = malloc((size_t)want * (size_t)d * sizeof *v))) {
                rc = ERR_ENOMEM;
                goto done;
            }
        }
        if (f - 1 != d) {
            rc = s_fail(err, err_len, ERR_ESHAPE, "%s:%d: %d values, the first row has %d", path,
                        line, f - 1, d);
            goto done;
        }
        const char *id = s_trim(r.fields[0]);
        if (ids && strcmp(id, ids[n]) != 0) {
            rc = s_fail(err, err_len, ERR_EFORMAT,
                        "%s:%d: id '%s' where the catalog's item %d has id '%s' (rows must be "
                        "in the catalog's order)",
                        path, line, id, n, ids[n]);
            goto done;
        }
        for (int j = 0; j < d; j++) {
            double x1;
            if (parse_double(s_trim(r.fields[j + 1]), -FLT_MAX, FLT_MAX, &x1) != 0) {
                rc = s_fail(err, err_len, ERR_EFORMAT,
                            "%s:%d: value %d '%s' is not a finite float32 number", path, line,
                            j + 1, r.fields[j + 1]);
                goto done;
            }
            v[(size_t)n * d + j] = (float)x1;
        }
        n++;
    }
    *rows = n;
    *cols = d < 0 ? 0 : d;
done:
    s_csv_close(&r);
    if (rc != 0)
        free(v);
    else
        *x = v;
    return rc;
}

/* Embeddings from a float32 .npy: (want, D) copied out of the map after
 * checking every value is finite. */
static int s_read_embeddings_npy(const char *path, int want, float **x, int *rows, int *cols,
                                 char *err, size_t err_len)
{
    npy_matrix_t m;
    int rc = npy_open_f32(&m, path, err, err_len);
    if (rc != 0)
        return rc;
    if (m.cols < 1 || m.cols > S_MAX_FIELDS) {
        rc = s_fail(err, err_len, ERR_ESHAPE, "%s: %lld columns; expected 1 to %d", path,
                    (long long)m.cols, S_MAX_FIELDS);
        goto done;
    }
    int n = m.rows < want ? (int)m.rows : want;
    size_t d = (size_t)m.cols;
    float *v = malloc(((size_t)n ? (size_t)n : 1) * d * sizeof *v);
    if (!v) {
        rc = ERR_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < (size_t)n * d; i++)
        if (!isfinite(m.data[i])) {
            free(v);
            rc = s_fail(err, err_len, ERR_EFORMAT, "%s: row %zu, column %zu: %s", path, i / d,
                        i % d, isnan(m.data[i]) ? "NaN" : "infinity");
            goto done;
        }
    memcpy(v, m.data, (size_t)n * d * sizeof *v);
    *x = v;
    *rows = (int)(m.rows < INT32_MAX ? m.rows : INT32_MAX);
    *cols = (int)d;
done:
    npy_close(&m);
    return rc;
}

static bool s_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* ---- the catalog ----------------------------------------------------- */

bool catalog_file_wanted(const world_config_t *cfg)
{
    return cfg->catalog[0] || cfg->item_embeddings[0];
}

void catalog_file_destroy(catalog_file_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    catalog_file_t *c = *self_p;
    for (int i = 0; i < c->rows; i++) {
        if (c->ids)
            free(c->ids[i]);
        if (c->titles)
            free(c->titles[i]);
    }
    for (int t = 0; t < c->n_topic_names; t++)
        free(c->topic_names[t]);
    free(c->ids);
    free(c->titles);
    free(c->topic_names);
    free(c->topic);
    free(c->provider);
    free(c->quality);
    free(c->embedding);
    free(c);
    *self_p = NULL;
}

/* The item table's columns into c: ids (unique), titles, topics and
 * providers (names to ids), qualities. */
static int s_take_table(catalog_file_t *c, s_table_t *t, const world_config_t *cfg,
                        const char *path, char *err, size_t err_len)
{
    int n = c->rows, dup = 0;
    for (int i = 0; i < n; i++)
        if (!t->cell[S_COL_ID][i][0])
            return s_fail(err, err_len, ERR_EFORMAT, "%s:%d: empty id", path, t->line[i]);
    int rc = s_intern(t->cell[S_COL_ID], n, NULL, false, &dup);
    if (rc == ERR_EFORMAT)
        return s_fail(err, err_len, rc, "%s:%d: id '%s' appears twice", path, t->line[dup],
                      t->cell[S_COL_ID][dup]);
    if (rc < 0)
        return rc;
    c->ids = t->cell[S_COL_ID];
    t->cell[S_COL_ID] = NULL;
    c->titles = t->cell[S_COL_TITLE];
    t->cell[S_COL_TITLE] = NULL;

    if (t->cell[S_COL_TOPIC]) {
        for (int i = 0; i < n; i++)
            if (!t->cell[S_COL_TOPIC][i][0])
                return s_fail(err, err_len, ERR_EFORMAT, "%s:%d: empty topic", path, t->line[i]);
        int k = s_intern(t->cell[S_COL_TOPIC], n, c->topic, true, &dup);
        if (k < 0)
            return k;
        if (k > cfg->n_topics)
            return s_fail(err, err_len, ERR_ESHAPE,
                          "%s: %d distinct topics in its first %d rows, world.n_topics is %d", path,
                          k, n, cfg->n_topics);
        if (!(c->topic_names = calloc((size_t)k, sizeof *c->topic_names)))
            return ERR_ENOMEM;
        for (int i = 0; i < n; i++)
            if (!c->topic_names[c->topic[i]]) {
                if (!(c->topic_names[c->topic[i]] = strdup(t->cell[S_COL_TOPIC][i])))
                    return ERR_ENOMEM;
                c->n_topic_names++;
            }
    }
    if (t->cell[S_COL_PROVIDER]) {
        int p = s_intern(t->cell[S_COL_PROVIDER], n, c->provider, true, &dup);
        if (p < 0)
            return p;
        if (p > cfg->n_providers)
            return s_fail(err, err_len, ERR_ESHAPE,
                          "%s: %d distinct providers in its first %d rows, world.n_providers is %d",
                          path, p, n, cfg->n_providers);
    }
    for (int i = 0; i < n; i++) {
        const char *q = t->cell[S_COL_QUALITY] ? t->cell[S_COL_QUALITY][i] : "";
        double v;
        if (!q[0])
            c->quality[i] = NAN;
        else if (parse_double(q, -FLT_MAX, FLT_MAX, &v) == 0)
            c->quality[i] = (float)v;
        else
            return s_fail(err, err_len, ERR_EFORMAT, "%s:%d: quality '%s' is not a finite number",
                          path, t->line[i], q);
    }
    return 0;
}

/* x: (n, d) raw embeddings to c->embedding: (n, dim) unit rows. */
static int s_take_embeddings(catalog_file_t *c, const float *x, int d, const world_config_t *cfg,
                             const char *path, char *err, size_t err_len)
{
    int n = c->rows, dim = cfg->dim;
    if (d < dim)
        return s_fail(err, err_len, ERR_ESHAPE,
                      "%s: %d columns, fewer than world.dim = %d (set world.dim to at most %d)",
                      path, d, dim, d);
    if (d == dim) {
        memcpy(c->embedding, x, (size_t)n * (size_t)d * sizeof *x);
    } else {
        if (n < 2)
            return s_fail(err, err_len, ERR_ESHAPE, "%s: PCA needs at least 2 rows", path);
        int rc = pca_project(x, n, d, dim, c->embedding, NULL, NULL);
        if (rc != 0)
            return s_fail(err, err_len, rc, "%s: PCA from %d to %d dimensions failed: %s", path, d,
                          dim, err_str(rc));
    }
    for (int i = 0; i < n; i++) {
        float *row = &c->embedding[(size_t)i * dim];
        double s = 0.0;
        for (int j = 0; j < dim; j++)
            s += (double)row[j] * row[j];
        if (!(s > 0.0) || !isfinite(s))
            return s_fail(err, err_len, ERR_EFORMAT,
                          "%s: row %d: the vector (after PCA to %d dimensions) is zero, it has no "
                          "direction",
                          path, i, dim);
        float norm = (float)sqrt(s);
        for (int j = 0; j < dim; j++)
            row[j] /= norm;
    }
    return 0;
}

int catalog_file_load(catalog_file_t **out, const world_config_t *cfg, uint64_t seed, char *err,
                      size_t err_len)
{
    *out = NULL;
    const char *cat_path = cfg->catalog, *emb_path = cfg->item_embeddings;
    int want = cfg->n_items, rc = 0;
    char why[1024] = "";
    const char *key = "world.catalog";
    s_table_t table = {0};
    float *raw = NULL;
    catalog_file_t *c = calloc(1, sizeof *c);
    if (!c)
        return ERR_ENOMEM;
    if (!catalog_file_wanted(cfg)) {
        rc = s_fail(why, sizeof why, ERR_EINVAL, "no file named");
        goto fail;
    }
    c->rows = want;
    c->topic = calloc((size_t)want, sizeof *c->topic);
    c->provider = malloc((size_t)want * sizeof *c->provider);
    c->quality = malloc((size_t)want * sizeof *c->quality);
    if (!c->topic || !c->provider || !c->quality) {
        rc = ERR_ENOMEM;
        goto fail;
    }
    for (int i = 0; i < want; i++) {
        c->provider[i] = -1;
        c->quality[i] = NAN;
    }

    if (cat_path[0]) {
        rc = s_read_table(&table, cat_path, want, why, sizeof why);
        if (rc == 0 && table.rows < want)
            rc = s_fail(why, sizeof why, ERR_ESHAPE,
                        "%s: %d items, fewer than world.n_items = %d (set world.n_items to at "
                        "most %d)",
                        cat_path, table.rows, want, table.rows);
        if (rc == 0)
            rc = s_take_table(c, &table, cfg, cat_path, why, sizeof why);
        if (rc != 0)
            goto fail;
    }

    if (emb_path[0]) {
        key = "world.item_embeddings";
        int rows = 0, d = 0;
        if (s_ends_with(emb_path, ".npy"))
            rc = s_read_embeddings_npy(emb_path, want, &raw, &rows, &d, why, sizeof why);
        else
            rc = s_read_embeddings_csv(emb_path, want, c->ids, &raw, &rows, &d, why, sizeof why);
        if (rc != 0)
            goto fail;
        if (rows < want) {
            rc = s_fail(why, sizeof why, ERR_ESHAPE, "%s: %d rows, fewer than %s", emb_path, rows,
                        cat_path[0] ? "the catalog's items used (world.n_items)" : "world.n_items");
            goto fail;
        }
        c->input_dim = d;
        if (!(c->embedding = malloc((size_t)want * (size_t)cfg->dim * sizeof *c->embedding))) {
            rc = ERR_ENOMEM;
            goto fail;
        }
        rc = s_take_embeddings(c, raw, d, cfg, emb_path, why, sizeof why);
        if (rc != 0)
            goto fail;
    }

    if (!c->topic_names) {
        if (!c->embedding) {
            rc = s_fail(why, sizeof why, ERR_EFORMAT,
                        "%s: no 'topic' column; give one, or world.item_embeddings to find "
                        "topics by k-means",
                        cat_path);
            goto fail;
        }
        if (want < cfg->n_topics) {
            rc = s_fail(why, sizeof why, ERR_ESHAPE,
                        "%s: k-means needs at least world.n_topics = %d items, world.n_items is %d",
                        emb_path, cfg->n_topics, want);
            goto fail;
        }
        pcg32_t rng;
        pcg32_stream(&rng, seed, SIM_STREAM_KMEANS, 0);
        rc = pca_kmeans(c->embedding, want, cfg->dim, cfg->n_topics, &rng, S_KMEANS_ITER, c->topic,
                        NULL);
        if (rc < 0)
            goto fail;
        rc = 0;
    }
    c->view = (world_catalog_t){.n_items = want,
                                .topic = c->topic,
                                .provider = c->provider,
                                .quality = c->quality,
                                .embedding = c->embedding};
    s_table_free(&table);
    free(raw);
    *out = c;
    return 0;

fail:
    if (rc == ERR_ENOMEM && !why[0])
        snprintf(why, sizeof why, "out of memory");
    s_fail(err, err_len, rc, "%s: %s", key, why);
    s_table_free(&table);
    free(raw);
    catalog_file_destroy(&c);
    return rc;
}

const world_catalog_t *catalog_file_world(const catalog_file_t *c)
{
    return &c->view;
}

const char *catalog_file_title(const catalog_file_t *c, int32_t id)
{
    return c->titles && id >= 0 && id < c->rows ? c->titles[id] : NULL;
}

bool catalog_file_has_titles(const catalog_file_t *c)
{
    return c->titles != NULL;
}

const char *catalog_file_id(const catalog_file_t *c, int32_t id)
{
    return c->ids && id >= 0 && id < c->rows ? c->ids[id] : NULL;
}

const char *catalog_file_topic_name(const catalog_file_t *c, int32_t t)
{
    return c->topic_names && t >= 0 && t < c->n_topic_names ? c->topic_names[t] : NULL;
}

int catalog_file_input_dim(const catalog_file_t *c)
{
    return c->input_dim;
}
