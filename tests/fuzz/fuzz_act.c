/* libFuzzer target: the server's ACT acceptance (sim/server_act.h) on
 * ACTs decoded from arbitrary bytes, against a small fixed world (the one
 * of tests/unit/test_server_act.c: 1 agent, 3 users in session, slates of
 * 2 out of 6 items, two items born per tick and items retiring, so ids go
 * out of range, retire and are born as the ticks advance).
 *
 * Input: byte 0 picks how many ticks to play first (0..2) and whether the
 * ACT is decoded from the rest (proto_decode, as the server does) or built
 * from it field by field (so that ACTs the decoder would refuse for their
 * shape still reach acceptance: the function must hold on its own).
 *
 * Properties, beyond no crash, leak or undefined behaviour:
 * - the verdict is coherent: rc 0 <=> refused 0 and first_row -1; a
 *   refusal names a reason (why non-empty) and 1..n refused slates; a
 *   whole-ACT refusal sets no slate, a per-slate one sets exactly
 *   n - refused slates, each equal to the ACT's row;
 * - every slate the world holds is k distinct live ids;
 * - the world goes on: after the fallback fills the rest, the tick
 *   resolves (world_end_tick returns 0). */
#include "proto/codec.h"
#include "sim/server_act.h"
#include "sim/world.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { S_USERS = 3, S_K = 2, S_MAX_ROWS = 8 };

static world_t *s_world(void)
{
    world_config_t cfg;
    world_config_default(&cfg);
    cfg.n_agents = 1;
    cfg.n_users = S_USERS;
    cfg.n_items = 6;
    cfg.n_topics = 2;
    cfg.dim = 2;
    cfg.slate_size = S_K;
    cfg.item_arrival_rate = 2.0;
    cfg.item_lifetime = 1.0;
    cfg.initial_active = 1.0;
    cfg.session_budget = 1.0;
    cfg.consume_cost = 0.0;
    cfg.noclick_cost = 0.0;
    cfg.budget_gain = 0.0;
    return world_new(&cfg, 7);
}

/* Fills every request without a slate with the first k live items, as the
 * server's fallback would; false if the world refuses. */
static bool s_fill(world_t *w)
{
    int n_live;
    const int32_t *live = world_live_items(w, &n_live);
    if (n_live < S_K)
        return false;
    const world_requests_t *r = world_requests(w, 0);
    for (int j = 0; j < r->n; j++)
        if (!world_has_slate(w, 0, j) && world_set_slate(w, 0, j, live) != 0)
            return false;
    return true;
}

static bool s_live(const world_t *w, int32_t id)
{
    int n_live;
    const int32_t *live = world_live_items(w, &n_live);
    for (int i = 0; i < n_live; i++)
        if (live[i] == id)
            return true;
    return false;
}

/* An ACT from raw fields: episode, tick, n, slate_size, then int32s. */
static bool s_build(const uint8_t *data, size_t size, proto_act_t *act, int32_t *users,
                    int32_t *slates)
{
    if (size < 4)
        return false;
    *act = (proto_act_t){.episode = data[0] % 2,
                         .tick = data[1] % 4,
                         .n = data[2] % (S_MAX_ROWS + 1),
                         .slate_size = 1 + data[3] % 3};
    data += 4, size -= 4;
    size_t need = (size_t)act->n * (1 + act->slate_size);
    for (size_t i = 0; i < need; i++) {
        /* small ids mostly (-2..13: live, retired, unborn, negative) */
        int32_t v = i < size ? (int32_t)(data[i] % 16) - 2 : 0;
        if (i < act->n)
            users[i] = v;
        else
            slates[i - act->n] = v;
    }
    act->user_ids = users;
    act->slates = slates;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int ticks = data[0] % 3;
    bool decoded = (data[0] / 3) % 2 == 0;
    data++, size--;

    world_t *w = s_world();
    if (!w)
        abort();
    if (world_begin_tick(w) != 0)
        abort();
    world_tick_stats_t st;
    for (int t = 0; t < ticks; t++) {
        if (!s_fill(w) || world_end_tick(w, &st) != 0 || world_begin_tick(w) != 0)
            abort();
    }

    proto_msg_t msg;
    proto_msg_init(&msg);
    proto_act_t built;
    int32_t users[S_MAX_ROWS], slates[S_MAX_ROWS * 3];
    const proto_act_t *act = NULL;
    if (decoded) {
        const proto_dims_t dims = {.dim = 2, .slate_size = S_K, .history_len = PROTO_DIM_ANY};
        char err[PROTO_ERR_LEN];
        if (proto_decode(data, size, &dims, &msg, err, sizeof err) == 0 &&
            msg.type == PROTO_MSG_ACT)
            act = &msg.act;
    } else if (s_build(data, size, &built, users, slates)) {
        act = &built;
    }

    if (act) {
        const world_requests_t *r = world_requests(w, 0);
        server_act_verdict_t v;
        memset(&v, 0x5a, sizeof v);
        int rc = server_act_accept(w, 0, act, &v);
        if (rc != v.rc)
            abort();
        int set = 0;
        for (int j = 0; j < r->n; j++)
            set += world_has_slate(w, 0, j);
        if (v.rc == 0) {
            if (v.refused != 0 || v.first_row != -1 || set != r->n)
                abort();
        } else {
            if (v.why[0] == '\0' || memchr(v.why, '\0', sizeof v.why) == NULL)
                abort();
            if (v.refused < 1 || v.refused > r->n)
                abort();
            if (v.first_row == -1 && (set != 0 || v.refused != r->n))
                abort();
            if (v.first_row != -1 &&
                (v.first_row < 0 || v.first_row >= r->n || set != r->n - v.refused))
                abort();
        }
        /* what the world holds: the ACT's rows, k distinct live ids */
        const int32_t *held = world_slates(w, 0);
        for (int j = 0; j < r->n; j++) {
            if (!world_has_slate(w, 0, j))
                continue;
            const int32_t *row = &held[(size_t)j * S_K];
            if (act->slate_size != S_K ||
                memcmp(row, &act->slates[(size_t)j * S_K], S_K * sizeof *row) != 0)
                abort();
            for (int i = 0; i < S_K; i++) {
                if (!s_live(w, row[i]))
                    abort();
                for (int m = 0; m < i; m++)
                    if (row[m] == row[i])
                        abort();
            }
        }
    }
    /* the tick resolves with the fallback in the gaps */
    if (!s_fill(w) || world_end_tick(w, &st) != 0)
        abort();
    proto_msg_fini(&msg);
    world_destroy(&w);
    return 0;
}
