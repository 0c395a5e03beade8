/* ACT acceptance (server_act.h). */
#include "sim/server_act.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Refuses the ACT as a whole. */
static int s_refuse_all(server_act_verdict_t *v, int rc, int n_requests)
{
    v->rc = rc;
    v->refused = n_requests;
    v->first_row = -1;
    return rc;
}

int server_act_accept(world_t *w, int agent, const proto_act_t *act, server_act_verdict_t *v)
{
    const world_requests_t *r = world_requests(w, agent);
    int k = world_config(w)->slate_size;
    *v = (server_act_verdict_t){.first_row = -1};
    if (act->episode != world_episode(w) || act->tick != (uint32_t)world_tick(w)) {
        snprintf(v->why, sizeof v->why,
                 "ACT names episode %" PRIu32 " tick %" PRIu32 ", the STEP was episode %" PRIu32
                 " tick %d",
                 act->episode, act->tick, world_episode(w), world_tick(w));
        return s_refuse_all(v, ERR_ESTATE, r->n);
    }
    if (act->n != (uint32_t)r->n) {
        snprintf(v->why, sizeof v->why, "ACT has %" PRIu32 " slates for %d requests", act->n, r->n);
        return s_refuse_all(v, ERR_ESHAPE, r->n);
    }
    if (r->n > 0 && act->slate_size != (uint32_t)k) {
        snprintf(v->why, sizeof v->why, "ACT has slates of %" PRIu32 " items, the slate size is %d",
                 act->slate_size, k);
        return s_refuse_all(v, ERR_ESHAPE, r->n);
    }
    if (r->n > 0 && memcmp(act->user_ids, r->user_ids, (size_t)r->n * sizeof(int32_t)) != 0) {
        snprintf(v->why, sizeof v->why, "ACT.user_ids do not echo the STEP's requests in order");
        return s_refuse_all(v, ERR_EACTION, r->n);
    }
    if (r->n == 0)
        return 0;
    int rc = world_set_slates(w, agent, act->slates, &v->refused, &v->first_row);
    if (rc != 0 && v->refused == 0) { /* not the slates: the call (outside a tick, say) */
        snprintf(v->why, sizeof v->why, "slates not set: %s", err_str(rc));
        return s_refuse_all(v, rc, r->n);
    }
    if (rc != 0) {
        int j = v->first_row;
        v->rc = rc;
        snprintf(v->why, sizeof v->why, "slate %d (user %" PRId32 ") %s", j, r->user_ids[j],
                 rc == ERR_EDUP    ? "repeats an item"
                 : rc == ERR_EITEM ? "holds an id that is out of range or retired"
                                   : err_str(rc));
    }
    return v->rc;
}
