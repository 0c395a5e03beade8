/* Resolving a tick (world.h, world_end_tick; docs/world.md): for each
 * request in ascending user order, its page, the user's choice, the
 * consumption and its dynamics, and the credit to the agents; then the
 * tick's rewards and the episode's accumulators. Everything the tick can
 * need is reserved before anything changes, so a failure leaves the world
 * as it was. */
#include "sim/world_private.h"

#include "core/metrics.h"

#include <stdlib.h>
#include <string.h>

/* ---- reserve ---------------------------------------------------------- */

/* Room in each requesting user's consumed set for the one item a page
 * can make the user consume. The only allocation of a tick. */
static int s_reserve(world_t *w)
{
    for (int slot = 0; slot < w->n_requests; slot++) {
        world_consumed_t *c = &w->consumed[w->req_users[slot]];
        if (c->n < c->cap)
            continue;
        int cap = c->cap ? 2 * c->cap : 8;
        int32_t *ids = realloc(c->ids, (size_t)cap * sizeof *ids);
        if (!ids)
            return ERR_ENOMEM;
        c->ids = ids;
        c->cap = cap;
    }
    return 0;
}

/* ---- page ------------------------------------------------------------- */

/* Team-draft interleaving (Radlinski, Kurup and Joachims 2008) extended to
 * n teams: rounds in a fresh random agent order; in turn each agent adds
 * its highest-ranked item not yet on the page, until the page holds k. */
static void s_interleave(world_t *w, int slot, pcg32_t *rng)
{
    int n = w->cfg.n_agents, k = w->k;
    int next[WORLD_MAX_AGENTS] = {0}, order[WORLD_MAX_AGENTS];
    if (++w->stamp == 0) { /* wrapped: clear the marks */
        memset(w->page_stamp, 0, (size_t)w->capacity * sizeof *w->page_stamp);
        w->stamp = 1;
    }
    int filled = 0;
    while (filled < k) {
        for (int a = 0; a < n; a++)
            order[a] = a;
        for (int i = n - 1; i > 0; i--) {
            int j = (int)pcg32_bounded(rng, (uint32_t)i + 1);
            int tmp = order[i];
            order[i] = order[j];
            order[j] = tmp;
        }
        for (int o = 0; o < n && filled < k; o++) {
            int a = order[o];
            const int32_t *slate = &w->agents[a].slates[(size_t)slot * k];
            while (next[a] < k && w->page_stamp[slate[next[a]]] == w->stamp)
                next[a]++;
            if (next[a] == k)
                continue;
            int32_t id = slate[next[a]];
            w->page[filled] = id;
            w->page_agent[filled] = a;
            w->page_src[filled] = next[a];
            w->page_stamp[id] = w->stamp;
            next[a]++;
            filled++;
        }
    }
}

/* The page request slot shows (k ids, borrowed). Market: the owner's
 * slate (its request j) as is, read in place; feed: team-draft
 * interleaving seeded for this request into w->page, with the
 * contributing agent and its slate position of each item in
 * w->page_agent and w->page_src (s_click_source). */
static const int32_t *s_page(world_t *w, int slot, int owner, int j, uint64_t interleave_seed)
{
    if (owner >= 0)
        return &w->agents[owner].slates[(size_t)j * w->k];
    pcg32_t rng;
    pcg32_seed(&rng, interleave_seed, 0);
    s_interleave(w, slot, &rng);
    return w->page;
}

/* The agent whose item sits at position clicked >= 0 of the page, and
 * that item's position in the agent's own slate (*src). */
static int s_click_source(const world_t *w, int owner, int clicked, int *src)
{
    if (owner >= 0) {
        *src = clicked;
        return owner;
    }
    *src = w->page_src[clicked];
    return w->page_agent[clicked];
}

/* ---- choice ----------------------------------------------------------- */

/* User u's choice on the page by inverse CDF with u_choice: the position
 * clicked, or -1 for none; *p_none is P(no click). Brings u's satiation
 * up to date first. */
static int s_choose(world_t *w, int32_t u, const int32_t *page, double u_choice, double *p_none)
{
    world_touch_satiation(w, u);
    double v0, total = world_page_attractions(w, u, 1.0f, page, w->probs, &v0);
    *p_none = v0 / total;
    double cum = 0.0; /* the probabilities world_page_probs gives, as far as needed */
    for (int p = 0; p < w->k; p++) {
        cum += w->probs[p] / total;
        if (u_choice < cum)
            return p;
    }
    return -1;
}

/* Regret of each agent on this request: the oracle's click probability
 * minus that of the page shown (market) or of the agent's own slate
 * (feed). */
static void s_regret(world_t *w, int32_t u, int slot, int owner, double p_none,
                     world_tick_stats_t *st)
{
    double best = world_oracle(w, u, NULL);
    if (owner >= 0) {
        st->agent_regret[owner] += best - (1.0 - p_none);
        return;
    }
    double counterfactual[PROTO_MAX_SLATE];
    for (int a = 0; a < w->cfg.n_agents; a++) {
        const int32_t *own = &w->agents[a].slates[(size_t)slot * w->k];
        st->agent_regret[a] += best - (1.0 - world_page_probs(w, u, 1.0f, own, counterfactual));
    }
}

/* ---- consumption ------------------------------------------------------ */

/* The consequences of consuming item id: interest drift, satiation,
 * history, consumed set (room reserved by s_reserve). Returns the item's
 * utility to the user; *utility_initial is its utility against the
 * user's interests at the episode's start. */
static double s_consume(world_t *w, int32_t u, int32_t id, double *utility_initial)
{
    const world_config_t *cfg = &w->cfg;
    size_t dim = (size_t)w->dim, hist = (size_t)cfg->history_len;
    float *x = &w->interest[(size_t)u * dim];
    const float *e = &w->emb[(size_t)id * dim];
    const world_hot_t *it = &w->hot[id];
    double utility = vec_dot(x, e, w->dim) + it->quality;
    *utility_initial = vec_dot(&w->interest0[(size_t)u * dim], e, w->dim) + it->quality;

    float eta = (float)cfg->interest_drift;
    if (eta > 0.0f) {
        vec_drift(x, e, eta, w->dim);
        vec_normalize(x, w->dim);
    }
    w->satiation[(size_t)u * cfg->n_topics + it->topic] += (float)cfg->satiation_gain;
    if (hist > 0) {
        int32_t *h = &w->history[(size_t)u * hist];
        memmove(h + 1, h, (hist - 1) * sizeof *h);
        h[0] = id;
    }
    world_consumed_t *c = &w->consumed[u];
    c->ids[c->n++] = id;
    return utility;
}

/* What the page did to user u (owner: its platform in market mode, -1 in
 * feed): exposure, the click's consumption and counts, budget,
 * satisfaction, reputation, the session's end. *topics_clicked counts the
 * distinct topics clicked this tick (marks in topic_stamp). Returns true
 * if the session ended. */
static bool s_consumption(world_t *w, int32_t u, const int32_t *page, int owner, int clicked,
                          world_tick_stats_t *st, int *topics_clicked)
{
    const world_config_t *cfg = &w->cfg;
    int k = w->k;
    for (int p = 0; p < k; p++)
        w->hot[page[p]].exposure++;
    if (w->unit_emb) {
        st->ild += metrics_intra_list_diversity_units(w->unit_emb, page, (size_t)k, (size_t)w->dim);
    } else {
        double inv_norms[PROTO_MAX_SLATE];
        for (int p = 0; p < k; p++)
            inv_norms[p] = w->hot[page[p]].inv_norm;
        st->ild +=
            metrics_intra_list_diversity_normed(w->emb, page, inv_norms, (size_t)k, (size_t)w->dim);
    }

    double utility = 0.0;
    if (clicked >= 0) {
        int32_t id = page[clicked];
        double utility_initial;
        int src;
        utility = s_consume(w, u, id, &utility_initial);
        w->hot[id].clicks++;
        st->clicks++;
        st->agent_clicks[s_click_source(w, owner, clicked, &src)]++;
        st->welfare += utility;
        st->welfare_initial += utility_initial;
        int32_t topic = w->hot[id].topic;
        uint32_t topic_mark = (uint32_t)w->tick + 1;
        if (w->topic_stamp[topic] != topic_mark) {
            w->topic_stamp[topic] = topic_mark;
            (*topics_clicked)++;
        }
        w->budget[u] += cfg->budget_gain * utility - cfg->consume_cost;
    } else {
        w->budget[u] -= cfg->noclick_cost;
    }
    double outcome = clicked >= 0 ? utility : 0.0;
    w->satisfaction[u] += cfg->satisfaction_rate * (outcome - w->satisfaction[u]);
    if (owner >= 0) {
        float *rep = &w->reputation[(size_t)u * cfg->n_agents + owner];
        *rep += (float)(cfg->reputation_rate * (outcome - *rep));
        if (cfg->reputation == WORLD_REPUTATION_PUBLIC)
            world_market_record(w, owner, clicked >= 0);
    }
    bool session_end = w->budget[u] <= 0.0;
    if (session_end) {
        w->active[u] = 0;
        w->ended[u] = 1;
        st->session_ends++;
    }
    return session_end;
}

/* ---- credit ----------------------------------------------------------- */

/* The feedback of request j of the agents that served u (the owner, or
 * every agent in feed mode): the click goes to the agent whose item was
 * clicked, at that item's position in its own slate. */
static void s_credit_request(world_t *w, int32_t u, const int32_t *page, int j, int owner,
                             int clicked, bool session_end)
{
    int src = -1;
    int credited = clicked >= 0 ? s_click_source(w, owner, clicked, &src) : -1;
    int32_t topic = clicked >= 0 ? w->hot[page[clicked]].topic : -1;
    if (topic >= 0)
        w->topic_clicks[topic]++;
    int first = owner >= 0 ? owner : 0, last = owner >= 0 ? owner + 1 : w->cfg.n_agents;
    for (int a = first; a < last; a++) {
        world_agent_buf_t *b = &w->agents[a];
        bool mine = credited == a;
        b->fb_user_ids[j] = u;
        b->fb_clicked[j] = mine ? src : -1;
        b->fb_reward[j] = mine ? 1.0f : 0.0f; /* own click; s_share_rewards may change it */
        b->fb_topic[j] = topic;
        b->fb_session_end[j] = session_end;
    }
}

/* The tick's rewards: reward_i = (1 - a) own_i + a mean(own) + diversity
 * bonus x share of topics clicked. */
static void s_credit_rewards(world_t *w, world_tick_stats_t *st, int topics_clicked)
{
    const world_config_t *cfg = &w->cfg;
    int n_agents = cfg->n_agents;
    for (int a = 0; a < n_agents; a++)
        st->agent_requests[a] = w->agents[a].n;
    double mean_own = 0.0;
    for (int a = 0; a < n_agents; a++)
        mean_own += st->agent_clicks[a];
    mean_own /= n_agents;
    st->topics_consumed_share = (double)topics_clicked / cfg->n_topics;
    for (int a = 0; a < n_agents; a++) {
        st->agent_reward[a] = (1.0 - cfg->reward_sharing) * st->agent_clicks[a] +
                              cfg->reward_sharing * mean_own +
                              cfg->diversity_bonus * st->topics_consumed_share;
        w->agents[a].fb_view.tick_reward = st->agent_reward[a];
    }
}

/* Each request's reward after sharing and the bonus (docs/world.md,
 * "Rewards"), which the agents' feedback carries when reward_sharing or
 * diversity_bonus is set: with a = reward_sharing, N agents, b =
 * diversity_bonus, request j of agent i gets
 *
 *     r_j = (1 - a) own_j + (a / N) clicked_j + (b / n_topics) / c_t  if clicked on topic t
 *
 * (c_t: the tick's clicks on topic t). In feed mode, where every agent
 * serves every page, the r_j of an agent sum to its tick reward; in market
 * mode the part earned on other agents' pages is spread evenly over its
 * requests, so that they do too. Without sharing or bonus r_j is the own
 * click, as before. */
static void s_share_rewards(world_t *w, const world_tick_stats_t *st)
{
    const world_config_t *cfg = &w->cfg;
    double a = cfg->reward_sharing, bonus = cfg->diversity_bonus / cfg->n_topics;
    if (a == 0.0 && cfg->diversity_bonus == 0.0)
        return;
    int n_agents = cfg->n_agents;
    for (int i = 0; i < n_agents; i++) {
        world_agent_buf_t *b = &w->agents[i];
        double sum = 0.0;
        double *r = w->share_scratch;
        for (int j = 0; j < b->n; j++) {
            int32_t t = b->fb_topic[j];
            r[j] = (1.0 - a) * (b->fb_clicked[j] >= 0);
            if (t >= 0)
                r[j] += a / n_agents + bonus / w->topic_clicks[t];
            sum += r[j];
        }
        double spread =
            cfg->mode == WORLD_MODE_MARKET && b->n > 0 ? (st->agent_reward[i] - sum) / b->n : 0.0;
        for (int j = 0; j < b->n; j++)
            b->fb_reward[j] = (float)(r[j] + spread);
    }
}

/* The tick into the episode's accumulators, and the tick's means and
 * exposure concentration into st. */
static void s_accumulate(world_t *w, world_tick_stats_t *st)
{
    world_episode_metrics_t *acc = &w->acc;
    acc->ticks++;
    acc->requests += st->requests;
    acc->clicks += st->clicks;
    acc->session_ends += st->session_ends;
    acc->welfare += st->welfare;
    acc->welfare_initial += st->welfare_initial;
    w->ild_sum += st->ild;
    w->active_sum += st->active_users;
    for (int a = 0; a < w->cfg.n_agents; a++) {
        acc->agent_requests[a] += st->agent_requests[a];
        acc->agent_clicks[a] += st->agent_clicks[a];
        acc->agent_reward[a] += st->agent_reward[a];
        acc->agent_regret[a] += st->agent_regret[a];
    }
    st->ild = st->requests ? st->ild / st->requests : 0.0;
    size_t n_ids = (size_t)w->n_item_ids;
    for (size_t i = 0; i < n_ids; i++) { /* the tick's counts out of the packed records */
        w->exposure[i] = w->hot[i].exposure;
        w->clicks[i] = w->hot[i].clicks;
    }
    st->gini = metrics_gini(w->exposure, n_ids, w->gini_scratch);
    st->coverage = metrics_coverage(w->exposure, n_ids);
    st->entropy = metrics_entropy(w->exposure, n_ids);
}

/* ---- the tick --------------------------------------------------------- */

/* How many requests ahead of the one being resolved s_prefetch_ahead
 * reaches: one request's work (about 0.2 us) outlasts a trip to memory, so
 * two is enough; more gained nothing measurable (docs/benchmarks.md). The
 * world prefetches only when its item tables outgrow a core's cache
 * (w->prefetch, over 1 MiB): below that the hints are instructions that
 * find every line already there. */
#define WORLD_PREFETCH_AHEAD 2

/* A prefetch GCC keeps: GCC 12 drops a __builtin_prefetch in a loop that
 * does nothing else once the loop is inlined (its dead-code elimination
 * takes the loop for empty), which is what this file's loops are. */
static inline void s_prefetch(const void *p)
{
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    __asm__ volatile("prefetcht0 %0" : : "m"(*(const char *)p));
#else
    __builtin_prefetch(p);
#endif
}

/* Asks the caches for what request slot + WORLD_PREFETCH_AHEAD will read
 * at random: each page item's embedding row and packed record (with its
 * counts), and the end of the user's consumed set. In market mode the
 * page is the owner's slate number next_index[owner] (counting the
 * owner's requests in between); in feed mode it is interleaved from every
 * agent's slate for that slot, so all of those. At a catalog larger than
 * the caches each is a trip to memory that would otherwise stall the
 * request's scores and counts. A hint: it changes no value. */
static void s_prefetch_ahead(const world_t *w, bool market, int slot, const int *next_index)
{
    int ahead = slot + WORLD_PREFETCH_AHEAD, k = w->k;
    int32_t u = w->req_users[ahead];
    const world_consumed_t *c = &w->consumed[u];
    s_prefetch(&c->ids[c->n]); /* room reserved by s_reserve */
    /* read on a click only, so a sparse walk the hardware does not follow */
    s_prefetch(&w->interest0[(size_t)u * (size_t)w->dim]);
    int first = 0, last = w->cfg.n_agents;
    size_t row = (size_t)ahead;
    if (market) {
        int owner = w->platform[u], j = next_index[owner];
        for (int s = slot + 1; s < ahead; s++)
            j += w->platform[w->req_users[s]] == owner;
        first = owner;
        last = owner + 1;
        row = (size_t)j;
    }
    for (int a = first; a < last; a++) {
        const int32_t *slate = &w->agents[a].slates[row * (size_t)k];
        for (int p = 0; p < k; p++) {
            int32_t id = slate[p];
            s_prefetch(&w->emb[(size_t)id * (size_t)w->dim]);
            s_prefetch(&w->hot[id]);
        }
    }
}

int world_end_tick(world_t *w, world_tick_stats_t *stats)
{
    if (!w->in_tick)
        return ERR_ESTATE;
    const world_config_t *cfg = &w->cfg;
    int n_agents = cfg->n_agents;
    for (int a = 0; a < n_agents; a++)
        if (w->agents[a].n_slates < w->agents[a].n)
            return ERR_EMISSED;
    int rc = s_reserve(w);
    if (rc != 0)
        return rc;
    bool market = cfg->mode == WORLD_MODE_MARKET;

    world_tick_stats_t st = {.tick = w->tick,
                             .active_users = w->active_at_start,
                             .requests = w->n_requests,
                             .returns = w->returns_this_tick,
                             .items_live = w->n_live};
    int next_index[WORLD_MAX_AGENTS] = {0};
    int topics_clicked = 0;
    for (int a = 0; a < n_agents; a++)
        w->agents[a].fb_view.n = w->agents[a].n;
    memset(w->topic_clicks, 0, (size_t)cfg->n_topics * sizeof *w->topic_clicks);

    for (int slot = 0; slot < w->n_requests; slot++) {
        int32_t u = w->req_users[slot];
        /* drawn for every request, used or not (common random numbers) */
        uint64_t interleave_seed = pcg32_next64(&w->rng_interleave);
        double u_choice = pcg32_uniform(&w->rng_choices);
        int owner = market ? w->platform[u] : -1;
        int j = market ? next_index[owner]++ : slot; /* index in each agent's list */
        if (w->prefetch && slot + WORLD_PREFETCH_AHEAD < w->n_requests)
            s_prefetch_ahead(w, market, slot, next_index);
        const int32_t *page = s_page(w, slot, owner, j, interleave_seed);
        double p_none;
        int clicked = s_choose(w, u, page, u_choice, &p_none);
        if (cfg->oracle)
            s_regret(w, u, slot, owner, p_none, &st);
        bool session_end = s_consumption(w, u, page, owner, clicked, &st, &topics_clicked);
        s_credit_request(w, u, page, j, owner, clicked, session_end);
    }
    s_credit_rewards(w, &st, topics_clicked);
    s_share_rewards(w, &st);
    s_accumulate(w, &st);

    w->tick++;
    w->in_tick = false;
    if (stats)
        *stats = st;
    return 0;
}

const world_feedback_t *world_feedback(const world_t *w, int agent)
{
    if (agent < 0 || agent >= w->cfg.n_agents)
        return NULL;
    return &w->agents[agent].fb_view;
}

const uint32_t *world_exposure(const world_t *w)
{
    return w->exposure;
}

const uint32_t *world_clicks(const world_t *w)
{
    return w->clicks;
}
