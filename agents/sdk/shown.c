/* What an agent showed on the last tick (shown.h). */
#include "agents/sdk/shown.h"

#include "core/err.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

void agent_shown_init(agent_shown_t *s, uint32_t k, size_t extra)
{
    size_t align = alignof(max_align_t);
    *s = (agent_shown_t){.k = k, .extra = extra, .stride = (extra + align - 1) / align * align};
}

void agent_shown_free(agent_shown_t *s)
{
    free(s->users);
    free(s->slates);
    free(s->rows);
    agent_shown_init(s, s->k, s->extra);
}

int agent_shown_reserve(agent_shown_t *s, uint32_t n)
{
    if (n <= s->cap)
        return 0;
    int32_t *users = realloc(s->users, (size_t)n * sizeof *users);
    if (users)
        s->users = users;
    int32_t *slates = realloc(s->slates, (size_t)n * s->k * sizeof *slates);
    if (slates)
        s->slates = slates;
    unsigned char *rows = s->rows;
    if (s->stride > 0) {
        rows = realloc(s->rows, (size_t)n * s->stride);
        if (rows)
            s->rows = rows;
    }
    if (!users || (!slates && s->k > 0) || (!rows && s->stride > 0))
        return ERR_ENOMEM;
    s->cap = n;
    return 0;
}

int agent_shown_record(agent_shown_t *s, uint32_t n, const int32_t *users, const int32_t *slates)
{
    s->n = 0;
    if (n == 0) /* an empty batch's arrays may be NULL */
        return 0;
    int rc = agent_shown_reserve(s, n);
    if (rc != 0)
        return rc;
    memcpy(s->users, users, (size_t)n * sizeof *users);
    memcpy(s->slates, slates, (size_t)n * s->k * sizeof *slates);
    s->n = n;
    return 0;
}

uint32_t agent_shown_match(agent_shown_t *s, const proto_feedback_t *fb)
{
    uint32_t n = s->n;
    s->n = 0;
    if (fb->n != n || n == 0)
        return 0;
    for (uint32_t i = 0; i < n; i++)
        if (fb->user_ids[i] != s->users[i])
            return 0;
    return n;
}

void agent_shown_forget(agent_shown_t *s)
{
    s->n = 0;
}

const int32_t *agent_shown_slate(const agent_shown_t *s, uint32_t i)
{
    return s->slates + (size_t)i * s->k;
}

void *agent_shown_extra(const agent_shown_t *s, uint32_t i)
{
    return s->stride > 0 ? s->rows + (size_t)i * s->stride : NULL;
}
