/* Ring buffer of transition rows with uniform sampling (replay.h). */
#include "agents/rl/replay.h"

#include "core/err.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct replay {
    size_t capacity, size;
    size_t allocated; /* rows of storage, <= capacity */
    size_t next;      /* slot the next push writes */
    int width;
    float *rows; /* (capacity, width) */
};

replay_t *replay_new(size_t capacity, int width)
{
    if (capacity < 1 || width < 1 || capacity > UINT32_MAX ||
        capacity > SIZE_MAX / sizeof(float) / (size_t)width)
        return NULL;
    replay_t *rb = calloc(1, sizeof *rb);
    if (!rb)
        return NULL;
    rb->allocated = capacity < 1024 ? capacity : 1024;
    rb->rows = malloc(rb->allocated * (size_t)width * sizeof *rb->rows);
    if (!rb->rows) {
        free(rb);
        return NULL;
    }
    rb->capacity = capacity;
    rb->width = width;
    return rb;
}

void replay_destroy(replay_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->rows);
    free(*self_p);
    *self_p = NULL;
}

int replay_width(const replay_t *rb)
{
    return rb->width;
}

size_t replay_capacity(const replay_t *rb)
{
    return rb->capacity;
}

size_t replay_size(const replay_t *rb)
{
    return rb->size;
}

int replay_push(replay_t *rb, const float *row)
{
    if (rb->next == rb->allocated && rb->allocated < rb->capacity) {
        /* not full yet, so the rows are in order 0..size-1 = allocated-1 */
        size_t n = rb->allocated * 2 < rb->capacity ? rb->allocated * 2 : rb->capacity;
        float *rows = realloc(rb->rows, n * (size_t)rb->width * sizeof *rows);
        if (!rows)
            return ERR_ENOMEM;
        rb->rows = rows;
        rb->allocated = n;
    }
    memcpy(rb->rows + rb->next * (size_t)rb->width, row, (size_t)rb->width * sizeof *row);
    rb->next = (rb->next + 1) % rb->capacity;
    if (rb->size < rb->capacity)
        rb->size++;
    return 0;
}

const float *replay_row(const replay_t *rb, size_t i)
{
    assert(i < rb->size);
    size_t oldest = rb->size < rb->capacity ? 0 : rb->next;
    return rb->rows + ((oldest + i) % rb->capacity) * (size_t)rb->width;
}

void replay_sample(const replay_t *rb, pcg32_t *rng, int batch, float *out)
{
    assert(rb->size > 0 && batch >= 1);
    /* The rows are scattered over a buffer far larger than the caches:
     * draw a chunk's indices (in the same order as one at a time), ask
     * for all their cache lines, then copy, so that the misses overlap
     * instead of following one another. */
    enum { CHUNK = 16 };
    const size_t width = (size_t)rb->width, bytes = width * sizeof *out;
    for (int b0 = 0; b0 < batch; b0 += CHUNK) {
        const int n = batch - b0 < CHUNK ? batch - b0 : CHUNK;
        const float *src[CHUNK];
        for (int j = 0; j < n; j++) {
            src[j] = rb->rows + pcg32_bounded(rng, (uint32_t)rb->size) * width;
            const char *p = (const char *)src[j];
            for (size_t at = 0; at < bytes; at += 64)
                __builtin_prefetch(p + at);
            __builtin_prefetch(p + bytes - 1);
        }
        for (int j = 0; j < n; j++)
            memcpy(out + (size_t)(b0 + j) * width, src[j], bytes);
    }
}
