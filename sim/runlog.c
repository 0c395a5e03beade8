/* The run log (runlog.h): columns grown in memory, then one zip of .npy
 * members. The zip is written by hand from PKWARE's APPNOTE (local file
 * headers, stored data, a central directory); CRC-32 is the IEEE
 * polynomial 0xEDB88320, computed here. */
#include "sim/runlog.h"

#include "core/err.h"
#include "sim/npy.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    S_EPISODE,
    S_TICK,
    S_USER,
    S_AGENT,
    S_FEATURES,
    S_SLATE,
    S_PROPENSITY,
    S_CLICKED,
    S_REWARD,
    S_N_COLUMNS
};

typedef struct s_column {
    const char *name, *descr;
    size_t width; /* values per row */
    size_t size;  /* bytes per value */
    int matrix;   /* 1: shape (rows, width) even when width is 1 (slate, features) */
    char *data;
} s_column_t;

struct runlog {
    int dim, k;
    long rows, cap;
    s_column_t col[S_N_COLUMNS];
};

runlog_t *runlog_new(int dim, int k)
{
    runlog_t *log = calloc(1, sizeof *log);
    if (!log)
        return NULL;
    log->dim = dim;
    log->k = k;
    const s_column_t cols[S_N_COLUMNS] = {
        {"episode", "<i4", 1, 4, 0, NULL},
        {"tick", "<i4", 1, 4, 0, NULL},
        {"user", "<i4", 1, 4, 0, NULL},
        {"agent", "<i4", 1, 4, 0, NULL},
        {"features", "<f4", (size_t)dim, 4, 1, NULL},
        {"slate", "<i4", (size_t)k, 4, 1, NULL},
        {"propensity", "<f8", 1, 8, 0, NULL},
        {"clicked", "<i4", 1, 4, 0, NULL},
        {"reward", "<f4", 1, 4, 0, NULL},
    };
    memcpy(log->col, cols, sizeof cols);
    return log;
}

void runlog_destroy(runlog_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    for (int c = 0; c < S_N_COLUMNS; c++)
        free((*self_p)->col[c].data);
    free(*self_p);
    *self_p = NULL;
}

long runlog_rows(const runlog_t *log)
{
    return log->rows;
}

static int s_reserve(runlog_t *log, long rows)
{
    if (rows <= log->cap)
        return 0;
    long cap = log->cap ? log->cap : 1024;
    while (cap < rows)
        cap *= 2;
    for (int c = 0; c < S_N_COLUMNS; c++) {
        s_column_t *col = &log->col[c];
        char *p = realloc(col->data, (size_t)cap * col->width * col->size);
        if (!p)
            return ERR_ENOMEM;
        col->data = p;
    }
    log->cap = cap;
    return 0;
}

#define S_AT(log, c, row)                                                                          \
    ((log)->col[c].data + (size_t)(row) * (log)->col[c].width * (log)->col[c].size)

int runlog_add_tick(runlog_t *log, const world_t *w, uint32_t episode,
                    const double *const *propensity)
{
    int n_agents = world_config(w)->n_agents;
    int32_t tick = world_tick(w) - 1; /* the tick just resolved */
    for (int a = 0; a < n_agents; a++) {
        const world_requests_t *r = world_requests(w, a);
        const world_feedback_t *fb = world_feedback(w, a);
        const int32_t *slates = world_slates(w, a);
        if (s_reserve(log, log->rows + r->n) != 0)
            return ERR_ENOMEM;
        for (int j = 0; j < r->n; j++) {
            long row = log->rows++;
            int32_t ep = (int32_t)episode, agent = a;
            double p = propensity && propensity[a] ? propensity[a][j] : NAN;
            memcpy(S_AT(log, S_EPISODE, row), &ep, 4);
            memcpy(S_AT(log, S_TICK, row), &tick, 4);
            memcpy(S_AT(log, S_USER, row), &r->user_ids[j], 4);
            memcpy(S_AT(log, S_AGENT, row), &agent, 4);
            memcpy(S_AT(log, S_FEATURES, row), &r->features[(size_t)j * log->dim],
                   (size_t)log->dim * 4);
            memcpy(S_AT(log, S_SLATE, row), &slates[(size_t)j * log->k], (size_t)log->k * 4);
            memcpy(S_AT(log, S_PROPENSITY, row), &p, 8);
            memcpy(S_AT(log, S_CLICKED, row), &fb->clicked[j], 4);
            memcpy(S_AT(log, S_REWARD, row), &fb->reward[j], 4);
        }
    }
    return 0;
}

static uint32_t s_crc32(uint32_t crc, const void *bytes, size_t n)
{
    static uint32_t table[256];
    static bool ready;
    if (!ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int b = 0; b < 8; b++)
                c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        ready = true;
    }
    const uint8_t *p = bytes;
    crc = ~crc;
    for (size_t i = 0; i < n; i++)
        crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static void s_put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void s_put32(uint8_t *p, uint32_t v)
{
    s_put16(p, v & 0xffff);
    s_put16(p + 2, v >> 16);
}

int runlog_write_npz(const runlog_t *log, const char *path)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return ERR_EIO;
    uint8_t central[S_N_COLUMNS][46 + 32];
    size_t central_len[S_N_COLUMNS];
    uint64_t offset = 0;
    int rc = 0;
    for (int c = 0; c < S_N_COLUMNS && rc == 0; c++) {
        const s_column_t *col = &log->col[c];
        char header[NPY_HEADER_SIZE];
        size_t h =
            npy_format_header(header, col->descr, log->rows, col->matrix ? (int64_t)col->width : 0);
        uint64_t body = (uint64_t)log->rows * col->width * col->size;
        uint64_t size = h + body;
        if (offset + size + 1024 > UINT32_MAX) {
            rc = ERR_ELIMIT;
            break;
        }
        uint32_t crc = s_crc32(0, header, h);
        crc = s_crc32(crc, col->data ? col->data : "", (size_t)body);
        char name[32];
        size_t name_len = (size_t)snprintf(name, sizeof name, "%s.npy", col->name);
        uint8_t local[30];
        memset(local, 0, sizeof local);
        s_put32(local, 0x04034b50);
        s_put16(local + 4, 20); /* version needed: 2.0 */
        s_put32(local + 14, crc);
        s_put32(local + 18, (uint32_t)size);
        s_put32(local + 22, (uint32_t)size);
        s_put16(local + 26, (uint32_t)name_len);
        uint8_t *cd = central[c];
        memset(cd, 0, 46);
        s_put32(cd, 0x02014b50);
        s_put16(cd + 4, 20);
        s_put16(cd + 6, 20);
        s_put32(cd + 16, crc);
        s_put32(cd + 20, (uint32_t)size);
        s_put32(cd + 24, (uint32_t)size);
        s_put16(cd + 28, (uint32_t)name_len);
        s_put32(cd + 42, (uint32_t)offset);
        memcpy(cd + 46, name, name_len);
        central_len[c] = 46 + name_len;
        if (fwrite(local, 1, 30, f) != 30 || fwrite(name, 1, name_len, f) != name_len ||
            fwrite(header, 1, h, f) != h ||
            (body && fwrite(col->data, 1, (size_t)body, f) != (size_t)body))
            rc = ERR_EIO;
        offset += 30 + name_len + size;
    }
    uint32_t cd_size = 0;
    for (int c = 0; c < S_N_COLUMNS && rc == 0; c++) {
        if (fwrite(central[c], 1, central_len[c], f) != central_len[c])
            rc = ERR_EIO;
        cd_size += (uint32_t)central_len[c];
    }
    if (rc == 0) {
        uint8_t end[22];
        memset(end, 0, sizeof end);
        s_put32(end, 0x06054b50);
        s_put16(end + 8, S_N_COLUMNS);
        s_put16(end + 10, S_N_COLUMNS);
        s_put32(end + 12, cd_size);
        s_put32(end + 16, (uint32_t)offset);
        if (fwrite(end, 1, 22, f) != 22)
            rc = ERR_EIO;
    }
    if (fclose(f) != 0 && rc == 0)
        rc = ERR_EIO;
    return rc;
}
