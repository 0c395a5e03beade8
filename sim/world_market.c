/* Market mode's platform choice and public reputation (world_private.h;
 * docs/world.md, "Modes"): which platform a user whose session starts
 * picks (softmax or hard max over reputations, a random share, late
 * entrants), and the public reputation that every user sees, the click
 * rate of a platform's last reputation_window pages. */
#include "sim/world_private.h"

#include <string.h>

void world_market_reset(world_t *w)
{
    int n = w->cfg.n_agents;
    memset(w->pub_count, 0, sizeof w->pub_count);
    memset(w->pub_next, 0, sizeof w->pub_next);
    memset(w->pub_sum, 0, sizeof w->pub_sum);
    if (w->cfg.reputation == WORLD_REPUTATION_PUBLIC)
        memset(w->pub_ring, 0, (size_t)n * (size_t)w->cfg.reputation_window);
}

double world_public_reputation(const world_t *w, int agent)
{
    return w->pub_count[agent] ? (double)w->pub_sum[agent] / w->pub_count[agent] : 0.0;
}

void world_market_record(world_t *w, int agent, bool clicked)
{
    int m = w->cfg.reputation_window;
    uint8_t *ring = &w->pub_ring[(size_t)agent * (size_t)m];
    int at = w->pub_next[agent];
    if (w->pub_count[agent] == m)
        w->pub_sum[agent] -= ring[at];
    else
        w->pub_count[agent]++;
    ring[at] = clicked ? 1 : 0;
    w->pub_sum[agent] += ring[at];
    w->pub_next[agent] = at + 1 == m ? 0 : at + 1;
}

int32_t world_pick_platform(const world_t *w, int32_t user, double u)
{
    const world_config_t *cfg = &w->cfg;
    int n = cfg->n_agents;
    bool open[WORLD_MAX_AGENTS];
    int n_open = 0;
    for (int a = 0; a < n; a++) {
        open[a] = w->tick >= cfg->enter_tick[a];
        n_open += open[a];
    }
    /* a share of users picks uniformly among the open platforms; u is
     * rescaled so that at share 0 the reputation choice sees u itself */
    double eps = cfg->market_random_share;
    if (u < eps) {
        int pick = (int)(u / eps * n_open), seen = 0;
        pick = pick < n_open ? pick : n_open - 1;
        for (int a = 0; a < n; a++)
            if (open[a] && seen++ == pick)
                return a;
    }
    u = eps > 0.0 ? (u - eps) / (1.0 - eps) : u;

    /* private reputations are floats, compared and differenced as floats */
    bool public = cfg->reputation == WORLD_REPUTATION_PUBLIC;
    const float *own = &w->reputation[(size_t)user * n];
    double pub[WORLD_MAX_AGENTS], pub_best = -INFINITY;
    float own_best = -INFINITY;
    for (int a = 0; a < n; a++) {
        pub[a] = public ? world_public_reputation(w, a) : 0.0;
        if (open[a] && pub[a] > pub_best)
            pub_best = pub[a];
        if (open[a] && own[a] > own_best)
            own_best = own[a];
    }
    double weights[WORLD_MAX_AGENTS], total = 0.0;
    for (int a = 0; a < n; a++) {
        double diff = public ? pub[a] - pub_best : (double)(own[a] - own_best);
        if (!open[a])
            weights[a] = 0.0;
        else if (cfg->market_temperature > 0.0)
            weights[a] = exp(diff / cfg->market_temperature);
        else
            weights[a] = diff == 0.0 ? 1.0 : 0.0;
        total += weights[a];
    }
    double target = u * total, cum = 0.0;
    for (int a = 0; a < n; a++) {
        cum += weights[a];
        if (target < cum && weights[a] > 0.0)
            return a;
    }
    for (int a = n - 1; a >= 0; a--) /* rounding: last platform with weight */
        if (weights[a] > 0.0)
            return a;
    return 0;
}
