/* World parameters: the documented defaults and the one place their ranges
 * and cross-key rules are checked (scenario loading reuses this and adds
 * file and line). Part of the world module (world.h). */
#include "sim/world.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>

void world_config_default(world_config_t *cfg)
{
    *cfg = (world_config_t){
        .mode = WORLD_MODE_MARKET,
        .n_agents = 2,
        .ticks = 200,
        .n_items = 500,
        .n_topics = 10,
        .dim = 16,
        .n_providers = 20,
        .topic_spread = 0.25,
        .quality_std = 0.3,
        .item_arrival_rate = 1.0,
        .item_lifetime = 0.0,
        .n_users = 2000,
        .interest_spread = 0.25,
        .feature_noise = 0.3,
        .history_len = 5,
        .slate_size = 5,
        .quality_weight = 0.5,
        .choice_temperature = 0.2,
        .no_click_score = 0.5,
        .position_decay = 1.0,
        .satiation_gain = 0.1,
        .satiation_decay = 0.9,
        .interest_drift = 0.02,
        .session_budget = 10.0,
        .consume_cost = 1.0,
        .noclick_cost = 1.0,
        .budget_gain = 0.5,
        .satisfaction_rate = 0.2,
        .return_base = 0.02,
        .return_gain = 0.1,
        .initial_active = 0.2,
        .market_temperature = 0.1,
        .reputation_rate = 0.1,
        .reward_sharing = 0.0,
        .diversity_bonus = 0.0,
        .oracle = true,
    };
}

static int s_fail(char *err, size_t err_len, const char *fmt, ...)
{
    if (err && err_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
    }
    return ERR_EINVAL;
}

#define CHECK_INT(field, key, lo, hi)                                                              \
    do {                                                                                           \
        if (cfg->field < (lo) || cfg->field > (hi))                                                \
            return s_fail(err, err_len, "%s: %d is out of range [%d, %d]", key, cfg->field, (lo),  \
                          (hi));                                                                   \
    } while (0)

#define CHECK_REAL(field, key, lo, hi)                                                             \
    do {                                                                                           \
        if (!isfinite(cfg->field) || cfg->field < (lo) || cfg->field > (hi))                       \
            return s_fail(err, err_len, "%s: %g is out of range [%g, %g]", key, cfg->field,        \
                          (double)(lo), (double)(hi));                                             \
    } while (0)

int world_config_check(const world_config_t *cfg, char *err, size_t err_len)
{
    if (cfg->mode != WORLD_MODE_MARKET && cfg->mode != WORLD_MODE_FEED)
        return s_fail(err, err_len, "world.mode: must be market or feed");
    CHECK_INT(n_agents, "agents", 1, WORLD_MAX_AGENTS);
    CHECK_INT(ticks, "run.ticks", 1, 10000000);
    CHECK_INT(n_items, "world.n_items", 1, 10000000);
    CHECK_INT(n_topics, "world.n_topics", 1, 10000);
    CHECK_INT(dim, "world.dim", 1, 1024);
    CHECK_INT(n_providers, "world.n_providers", 1, 10000000);
    CHECK_REAL(topic_spread, "world.topic_spread", 0.0, 100.0);
    CHECK_REAL(quality_std, "world.quality_std", 0.0, 100.0);
    CHECK_REAL(item_arrival_rate, "world.item_arrival_rate", 0.0, 100000.0);
    CHECK_REAL(item_lifetime, "world.item_lifetime", 0.0, 1e9);
    CHECK_INT(n_users, "world.n_users", 1, 10000000);
    CHECK_REAL(interest_spread, "world.interest_spread", 0.0, 100.0);
    CHECK_REAL(feature_noise, "world.feature_noise", 0.0, 100.0);
    CHECK_INT(history_len, "world.history_len", 0, 1000);
    CHECK_INT(slate_size, "world.slate_size", 1, WORLD_MAX_SLATE);
    CHECK_REAL(quality_weight, "world.quality_weight", -100.0, 100.0);
    CHECK_REAL(choice_temperature, "world.choice_temperature", 0.01, 100.0);
    CHECK_REAL(no_click_score, "world.no_click_score", -100.0, 100.0);
    CHECK_REAL(position_decay, "world.position_decay", 0.0, 10.0);
    CHECK_REAL(satiation_gain, "world.satiation_gain", 0.0, 100.0);
    CHECK_REAL(satiation_decay, "world.satiation_decay", 0.0, 1.0);
    CHECK_REAL(interest_drift, "world.interest_drift", 0.0, 1.0);
    CHECK_REAL(session_budget, "world.session_budget", 0.0, 1e9);
    CHECK_REAL(consume_cost, "world.consume_cost", 0.0, 1e9);
    CHECK_REAL(noclick_cost, "world.noclick_cost", 0.0, 1e9);
    CHECK_REAL(budget_gain, "world.budget_gain", 0.0, 1e9);
    CHECK_REAL(satisfaction_rate, "world.satisfaction_rate", 0.0, 1.0);
    CHECK_REAL(return_base, "world.return_base", 0.0, 1.0);
    CHECK_REAL(return_gain, "world.return_gain", -100.0, 100.0);
    CHECK_REAL(initial_active, "world.initial_active", 0.0, 1.0);
    CHECK_REAL(market_temperature, "world.market_temperature", 0.0, 100.0);
    CHECK_REAL(reputation_rate, "world.reputation_rate", 0.0, 1.0);
    CHECK_REAL(reward_sharing, "world.reward_sharing", 0.0, 1.0);
    CHECK_REAL(diversity_bonus, "world.diversity_bonus", 0.0, 1e6);

    double max_items = cfg->n_items + ceil(cfg->item_arrival_rate) * (double)cfg->ticks;
    if (max_items > WORLD_MAX_ITEM_IDS)
        return s_fail(err, err_len,
                      "world.item_arrival_rate: %g new items per tick over run.ticks (%d) plus "
                      "world.n_items would issue %.0f item ids, above the limit of %d",
                      cfg->item_arrival_rate, cfg->ticks, max_items, WORLD_MAX_ITEM_IDS);
    if (cfg->slate_size > cfg->n_items)
        return s_fail(err, err_len,
                      "world.slate_size: %d exceeds world.n_items (%d): a slate needs %d "
                      "distinct items",
                      cfg->slate_size, cfg->n_items, cfg->slate_size);
    if (cfg->item_lifetime > 0.0 && cfg->item_arrival_rate * cfg->item_lifetime < cfg->slate_size)
        return s_fail(err, err_len,
                      "world.item_lifetime: items retire (lifetime %g ticks) faster than "
                      "world.item_arrival_rate (%g per tick) replaces them; the catalog would "
                      "drop below world.slate_size (%d)",
                      cfg->item_lifetime, cfg->item_arrival_rate, cfg->slate_size);
    return 0;
}
