/* ACT acceptance: what the server makes of an agent's answer to this
 * tick's STEP. Private to the server (server.c); a header of its own so
 * that the rules of docs/protocol.md ("Actions are validated") are checked
 * by a unit test without sockets (tests/unit/test_server_act.c).
 *
 * Input: the decoded ACT, the agent's requests of the tick and the world
 * (its episode, tick and live catalog). Output: the slates accepted, set
 * in the world (world_set_slate, the one check a slate gets), and for the
 * rest a precise reason. Nothing else changes: no socket, no counter, no
 * log; the server decides what to tell the agent and what to count. */
#ifndef RECARENA_SERVER_ACT_H
#define RECARENA_SERVER_ACT_H

#include "proto/codec.h"
#include "sim/world.h"

#include <stddef.h>

typedef struct server_act_verdict {
    /* 0: every slate accepted. Otherwise the first reason, as a core/err.h
     * code: ERR_ESTATE (the ACT names another episode or tick), ERR_ESHAPE
     * (slate count or slate length differ from the STEP's), ERR_EACTION
     * (user_ids do not echo the requests in order), ERR_EITEM (an id out
     * of range or retired) or ERR_EDUP (an item twice in one slate). */
    int rc;
    int refused;   /* slates not accepted: every request's when the ACT as a whole is refused */
    int first_row; /* request of the first refused slate; -1: the ACT as a whole */
    char why[256]; /* the reason in words, e.g. "slate 3 (user 17) repeats an item" */
} server_act_verdict_t;

/* Judges act as agent's answer to this tick's requests of w and sets the
 * slates it accepts in w. The ACT as a whole is refused (no slate set)
 * when it names another episode or tick, has another number of slates or
 * another slate length, or does not echo the requests' user ids in order;
 * otherwise each slate is set or refused on its own. Refused requests are
 * left without a slate (world_has_slate) for the caller's fallback.
 * Borrows everything; returns verdict->rc. */
int server_act_accept(world_t *w, int agent, const proto_act_t *act, server_act_verdict_t *verdict);

#endif
