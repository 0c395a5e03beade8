/* What an agent showed on the last tick, to match the feedback that the
 * next STEP brings (docs/agents.md, "Matching feedback to slates").
 *
 * A STEP's feedback is about the previous tick's requests: the same users
 * in the same order, when nothing came in between (a resync, a reconnect
 * or a missed deadline leaves the agent without it). An agent records
 * each tick's requests and slates, with any bytes of its own per request
 * (the features it scored, the arm strategy it used), and on the next
 * STEP asks which recorded rows the feedback is about:
 *
 *     agent_shown_t shown;
 *     agent_shown_init(&shown, k, sizeof(my_row_t));   once, or on a new world
 *     on_step:
 *         uint32_t m = agent_shown_match(&shown, &step->feedback);
 *         for (uint32_t i = 0; i < m; i++)       row i: step->feedback's row i
 *             learn(agent_shown_slate(&shown, i), agent_shown_extra(&shown, i),
 *                   step->feedback.clicked[i], step->feedback.reward[i]);
 *         ... fill slates ...
 *         agent_shown_record(&shown, step->requests.n, step->requests.user_ids, slates);
 *         for each request i: fill *(my_row_t *)agent_shown_extra(&shown, i)
 *     on_reset: agent_shown_forget(&shown);
 *     at exit:  agent_shown_free(&shown);
 *
 * Plain data, no SDK state: it works in any callback and in tests. */
#ifndef RECARENA_AGENT_SHOWN_H
#define RECARENA_AGENT_SHOWN_H

#include <stddef.h>
#include <stdint.h>

#include "proto/codec.h"

typedef struct agent_shown {
    uint32_t k;           /* slate size */
    size_t extra, stride; /* caller's bytes per request; their row stride (aligned) */
    uint32_t n, cap;      /* requests recorded (0 once matched or forgotten), room */
    int32_t *users;       /* (cap) user ids */
    int32_t *slates;      /* (cap, k) item ids */
    unsigned char *rows;  /* (cap, stride): the caller's bytes, max_align_t-aligned */
} agent_shown_t;

/* An empty record for slates of k items and extra bytes per request (0:
 * none). Allocates nothing; a record already in use must be freed first. */
void agent_shown_init(agent_shown_t *s, uint32_t k, size_t extra);

/* Frees the arrays and empties the record (init's state). */
void agent_shown_free(agent_shown_t *s);

/* Room for n requests without allocating later (e.g. WELCOME's
 * limits.max_batch at on_reset): 0 or ERR_ENOMEM. */
int agent_shown_reserve(agent_shown_t *s, uint32_t n);

/* Records this tick's n requests: users (n) and slates (n, k), copied
 * (both may be NULL when n is 0). The extra bytes of each row are left for
 * the caller to fill (agent_shown_extra). 0, or ERR_ENOMEM (the record is
 * then empty). */
int agent_shown_record(agent_shown_t *s, uint32_t n, const int32_t *users, const int32_t *slates);

/* Feedback's rows that are about the recorded requests: fb->n when the
 * feedback lists the recorded users in the recorded order, else 0 (what
 * was recorded was not the tick this feedback is about). Either way the
 * record is used up (a second match returns 0), but its rows stay readable
 * until the next record or forget. */
uint32_t agent_shown_match(agent_shown_t *s, const proto_feedback_t *fb);

/* Forgets the record (a new episode, a resync). */
void agent_shown_forget(agent_shown_t *s);

/* Recorded row i's slate (k ids) and extra bytes (NULL when extra is 0);
 * borrowed, i below the last record's n. */
const int32_t *agent_shown_slate(const agent_shown_t *s, uint32_t i);
void *agent_shown_extra(const agent_shown_t *s, uint32_t i);

#endif
