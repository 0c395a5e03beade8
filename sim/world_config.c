/* World parameters: defaults and ranges from the scenario key table
 * (scenario_keys.h), and the one place the rules across keys are checked
 * (scenario loading reuses this and adds file and line). Part of the
 * world module (world.h). */
#include "sim/world.h"

#include <stdbool.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>

void world_config_default(world_config_t *cfg)
{
    *cfg = (world_config_t){.n_agents = 2};
    for (int k = 0; k < SCENARIO_N_KEYS; k++)
        if (scenario_keys[k].in == SCENARIO_KEY_IN_WORLD)
            scenario_key_set_default((scenario_key_id_t)k, cfg);
}

static int s_fail(int *key, int bad_key, char *err, size_t err_len, const char *fmt, ...)
{
    if (key)
        *key = bad_key;
    if (err && err_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
    }
    return ERR_EINVAL;
}

int world_config_validate(const world_config_t *cfg, int *key, char *err, size_t err_len)
{
    if (cfg->n_agents < 1 || cfg->n_agents > WORLD_MAX_AGENTS)
        return s_fail(key, -1, err, err_len, "%d is out of range [1, %d]", cfg->n_agents,
                      WORLD_MAX_AGENTS);
    for (int k = 0; k < SCENARIO_N_KEYS; k++)
        if (scenario_keys[k].in == SCENARIO_KEY_IN_WORLD &&
            scenario_key_check((scenario_key_id_t)k, cfg, err, err_len) != 0)
            return s_fail(key, k, NULL, 0, "");

    double max_items = cfg->n_items + ceil(cfg->item_arrival_rate) * (double)cfg->ticks;
    if (max_items > PROTO_MAX_ITEM_IDS)
        return s_fail(key, SCENARIO_KEY_item_arrival_rate, err, err_len,
                      "%g new items per tick over run.ticks (%d) plus world.n_items would issue "
                      "%.0f item ids, above the limit of %d",
                      cfg->item_arrival_rate, cfg->ticks, max_items, PROTO_MAX_ITEM_IDS);
    if (cfg->slate_size > cfg->n_items)
        return s_fail(key, SCENARIO_KEY_slate_size, err, err_len,
                      "%d exceeds world.n_items (%d): a slate needs %d distinct items",
                      cfg->slate_size, cfg->n_items, cfg->slate_size);
    if (cfg->item_lifetime > 0.0 && cfg->item_arrival_rate * cfg->item_lifetime < cfg->slate_size)
        return s_fail(key, SCENARIO_KEY_item_lifetime, err, err_len,
                      "items retire (lifetime %g ticks) faster than world.item_arrival_rate (%g "
                      "per tick) replaces them; the catalog would drop below world.slate_size (%d)",
                      cfg->item_lifetime, cfg->item_arrival_rate, cfg->slate_size);
    bool anyone_at_start = false;
    for (int a = 0; a < cfg->n_agents; a++) {
        if (cfg->enter_tick[a] < 0 || cfg->enter_tick[a] > cfg->ticks)
            return s_fail(key, -1, err, err_len, "agent %d: enter_tick %d is out of range [0, %d]",
                          a, cfg->enter_tick[a], cfg->ticks);
        if (cfg->enter_tick[a] > 0 && cfg->mode != WORLD_MODE_MARKET)
            return s_fail(key, SCENARIO_KEY_mode, err, err_len,
                          "an agent's enter_tick needs market mode (agent %d enters at tick %d)", a,
                          cfg->enter_tick[a]);
        anyone_at_start = anyone_at_start || cfg->enter_tick[a] == 0;
    }
    if (!anyone_at_start)
        return s_fail(key, -1, err, err_len, "at least one agent must have enter_tick 0");
    return 0;
}

int world_config_check(const world_config_t *cfg, char *err, size_t err_len)
{
    char msg[1024];
    int key;
    int rc = world_config_validate(cfg, &key, msg, sizeof msg);
    if (rc != 0 && err && err_len) {
        if (key < 0)
            snprintf(err, err_len, "agents: %s", msg);
        else
            snprintf(err, err_len, "%s.%s: %s", scenario_keys[key].section, scenario_keys[key].name,
                     msg);
    }
    return rc;
}
