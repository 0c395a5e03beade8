/* The policy-gradient core (agents/rl/pg.h) without sockets: the
 * Plackett-Luce log-probability and its gradient by hand and by finite
 * differences, slates drawn with the probabilities it gives, the
 * off-policy weights of Chen et al. by hand, the critic's advantages by
 * hand, the actor loss's gradient against finite differences in both
 * learning modes, and the learner solving a four-armed bandit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agents/rl/pg.h"
#include "test_support.h"

/* ---- the slate distribution ------------------------------------------- */

/* weights exp(logit) = 1, 2, 3 (sum 6). Slate (2, 0): P = 3/6 * 1/(1 + 2)
 * = 1/6. Gradient: item 2, placed first, 1 - 3/6 = 0.5; item 0, placed
 * second, 1 - 1 (1/6 + 1/3) = 0.5; item 1, never placed, -2 (1/6 + 1/3)
 * = -1. */
static void test_slate_log_prob_by_hand(void **state)
{
    (void)state;
    const float logits[] = {0.0f, logf(2.0f), logf(3.0f)};
    const int rows[] = {2, 0};
    float grad[3] = {0};
    ASSERT_NEAR(pg_slate_log_prob(logits, 3, rows, 2, 1.0f, grad), -log(6.0), 1e-6);
    ASSERT_NEAR(grad[0], 0.5, 1e-6);
    ASSERT_NEAR(grad[1], -1.0, 1e-6);
    ASSERT_NEAR(grad[2], 0.5, 1e-6);
    /* scale multiplies, and the gradient is added to what is there */
    pg_slate_log_prob(logits, 3, rows, 2, -2.0f, grad);
    ASSERT_NEAR(grad[0], -0.5, 1e-6);
    ASSERT_NEAR(grad[1], 1.0, 1e-6);
    /* a full slate of every item: the last position has probability 1 */
    const int all[] = {1, 2, 0};
    ASSERT_NEAR(pg_slate_log_prob(logits, 3, all, 3, 1.0f, NULL), log(2.0 / 6.0 * 3.0 / 4.0), 1e-6);
}

static void test_slate_log_prob_gradient_by_differences(void **state)
{
    (void)state;
    pcg32_t rng;
    pcg32_seed(&rng, 7, 1);
    float logits[9], grad[9] = {0};
    for (int i = 0; i < 9; i++)
        logits[i] = 4.0f * pcg32_uniform_f(&rng) - 2.0f;
    const int rows[] = {4, 0, 7, 2};
    pg_slate_log_prob(logits, 9, rows, 4, 1.0f, grad);
    for (int i = 0; i < 9; i++) {
        const float saved = logits[i], h = 1e-2f;
        logits[i] = saved + h;
        double plus = pg_slate_log_prob(logits, 9, rows, 4, 1.0f, NULL);
        logits[i] = saved - h;
        double minus = pg_slate_log_prob(logits, 9, rows, 4, 1.0f, NULL);
        logits[i] = saved;
        ASSERT_NEAR(grad[i], (plus - minus) / (2.0 * h), 1e-3);
    }
}

/* Draws follow Plackett-Luce: with weights 1, 2, 3 and k = 2, the first
 * item is 2 with probability 1/2, the slate (2, 0) has 1/6 and (0, 1)
 * has 1/6 * 2/5 = 1/15. 60,000 draws: sd <= 0.0021, margin 0.01. */
static void test_sampled_slates_follow_the_distribution(void **state)
{
    (void)state;
    const float logits[] = {0.0f, logf(2.0f), logf(3.0f)};
    pcg32_t rng;
    pcg32_seed(&rng, 11, 2);
    float work[3];
    int first2 = 0, s20 = 0, s01 = 0, n = 60000;
    for (int t = 0; t < n; t++) {
        int rows[2];
        pg_sample_slate(logits, 3, 2, &rng, work, rows);
        assert_int_not_equal(rows[0], rows[1]);
        first2 += rows[0] == 2;
        s20 += rows[0] == 2 && rows[1] == 0;
        s01 += rows[0] == 0 && rows[1] == 1;
    }
    ASSERT_NEAR((double)first2 / n, 0.5, 0.01);
    ASSERT_NEAR((double)s20 / n, 1.0 / 6.0, 0.01);
    ASSERT_NEAR((double)s01 / n, 1.0 / 15.0, 0.01);
    /* k = n: every item once */
    int rows[3];
    pg_sample_slate(logits, 3, 3, &rng, work, rows);
    assert_int_equal(rows[0] + rows[1] + rows[2], 3);
    assert_true(rows[0] != rows[1] && rows[1] != rows[2] && rows[0] != rows[2]);
}

/* pi 0.2, beta 0.1, K 3: ratio 2; lambda_K = 3 (1 - 0.2)^2 = 1.92. */
static void test_off_policy_weights_by_hand(void **state)
{
    (void)state;
    ASSERT_NEAR(pg_item_weight(PG_CORRECTION_NONE, 0.2f, 0.1f, 3, 10.0f), 1.0, 1e-7);
    ASSERT_NEAR(pg_item_weight(PG_CORRECTION_IS, 0.2f, 0.1f, 3, 10.0f), 2.0, 1e-6);
    ASSERT_NEAR(pg_item_weight(PG_CORRECTION_TOPK, 0.2f, 0.1f, 3, 10.0f), 3.84, 1e-5);
    /* capped ratio */
    ASSERT_NEAR(pg_item_weight(PG_CORRECTION_IS, 0.2f, 0.1f, 3, 1.5f), 1.5, 1e-6);
    ASSERT_NEAR(pg_item_weight(PG_CORRECTION_TOPK, 0.2f, 0.1f, 3, 1.5f), 2.88, 1e-5);
    /* K = 1: lambda is 1, top-K is plain importance sampling */
    ASSERT_NEAR(pg_item_weight(PG_CORRECTION_TOPK, 0.6f, 0.3f, 1, 10.0f), 2.0, 1e-6);
    /* an item the behaviour never showed counts as the cap */
    ASSERT_NEAR(pg_item_weight(PG_CORRECTION_IS, 0.2f, 0.0f, 3, 4.0f), 4.0, 1e-6);
}

/* ---- the learner ------------------------------------------------------ */

/* Six items of dim 3 with embeddings in [-1, 1]. */
static const int32_t s_ids[] = {10, 11, 12, 13, 14, 15};
static const int32_t s_topics[] = {0, 0, 1, 1, 2, 2};
static const int32_t s_providers[] = {0, 0, 0, 0, 0, 0};
static const float s_emb[] = {1.0f,  0.0f, 0.0f, 0.0f, 1.0f,  0.0f, 0.0f,  0.0f,  1.0f,
                              -0.5f, 0.5f, 0.0f, 0.3f, -0.7f, 0.2f, -0.2f, -0.2f, -0.9f};

static proto_items_t s_items(void)
{
    proto_items_t items = {0};
    items.n = 6;
    items.dim = 3;
    items.ids = s_ids;
    items.topics = s_topics;
    items.providers = s_providers;
    items.embeddings = s_emb;
    return items;
}

#define OBS 4
#define K   3
#define N   4

static pg_t *s_learner(bool replay, pg_correction_t correction, int batch, uint64_t seed)
{
    pg_config_t cfg;
    pg_config_default(&cfg, OBS, 3, K);
    cfg.hidden = 8;
    cfg.batch = batch;
    cfg.max_items = 16;
    cfg.temperature = 0.5f;
    cfg.replay = replay;
    cfg.correction = correction;
    pcg32_t rng;
    pcg32_seed(&rng, seed, 3);
    pg_t *pg = pg_new(&cfg, &rng);
    assert_non_null(pg);
    return pg;
}

/* rows (N, width): random observations, slates, behaviour probabilities
 * and rewards; row 1 terminal; row 2 names a retired item (99). */
static void s_rows(float *rows, int width, uint64_t seed)
{
    pcg32_t rng;
    pcg32_seed(&rng, seed, 4);
    const int32_t slates[N][K] = {{10, 12, 14}, {15, 11, 13}, {99, 13, 10}, {12, 11, 15}};
    for (int r = 0; r < N; r++) {
        float *row = rows + (size_t)r * width;
        for (int i = 0; i < OBS; i++)
            row[i] = 2.0f * pcg32_uniform_f(&rng) - 1.0f;
        for (int j = 0; j < K; j++) {
            row[OBS + j] = (float)slates[r][j];
            row[OBS + K + j] = 0.05f + 0.3f * pcg32_uniform_f(&rng);
        }
        row[OBS + 2 * K] = (float)(r % 2);
        for (int i = 0; i < OBS; i++)
            row[OBS + 2 * K + 1 + i] = r == 1 ? 0.0f : 2.0f * pcg32_uniform_f(&rng) - 1.0f;
        row[width - 1] = r == 1 ? 1.0f : 0.0f;
    }
}

/* A critic that outputs the constant 0.5 (last layer weights 0, bias
 * 0.5): A = r + 0.9 (1 - done) 0.5 - 0.5. */
static void test_advantages_by_hand(void **state)
{
    (void)state;
    pg_t *pg = s_learner(false, PG_CORRECTION_NONE, N, 1);
    nn_mlp_t *critic = pg_critic(pg);
    float *p = nn_mlp_params(critic);
    size_t n = nn_mlp_n_params(critic);
    memset(p + n - 1 - 8, 0, 8 * sizeof *p); /* last layer: W (1, 8), b (1) */
    p[n - 1] = 0.5f;
    int width = pg_row_width(&(pg_config_t){.obs_dim = OBS, .k = K});
    assert_int_equal(width, 2 * OBS + 2 * K + 2);
    float rows[N * (2 * OBS + 2 * K + 2)], adv[N];
    s_rows(rows, width, 5);
    pg_advantages(pg, rows, N, adv);
    ASSERT_NEAR(adv[0], 0.0 + 0.45 - 0.5, 1e-6); /* reward 0 */
    ASSERT_NEAR(adv[1], 1.0 - 0.5, 1e-6);        /* reward 1, terminal */
    ASSERT_NEAR(adv[2], 0.0 + 0.45 - 0.5, 1e-6);
    ASSERT_NEAR(adv[3], 1.0 + 0.45 - 0.5, 1e-6);
    pg_destroy(&pg);
    assert_null(pg);
}

/* The actor loss's gradient against central differences, over the
 * parameters of the actor's last (linear) layer: they reach the loss
 * only through q, the logits and the slate probabilities that pg.c
 * adds, and moving them moves no ReLU across its kink (test_nn.c checks
 * the layers themselves). Same tolerance as test_nn.c. With replay the
 * check uses correction none: with is and topk the weights are held
 * constant by definition, so the step is not the loss's gradient. */
static void s_check_actor_gradient(bool replay)
{
    pg_t *pg = s_learner(replay, PG_CORRECTION_NONE, N, 2);
    proto_items_t items = s_items();
    int width = 2 * OBS + 2 * K + 2;
    float rows[N * (2 * OBS + 2 * K + 2)];
    s_rows(rows, width, 6);
    const float adv[N] = {0.7f, -1.2f, 0.4f, 2.0f};
    nn_mlp_t *actor = pg_actor(pg);
    nn_mlp_zero_grad(actor);
    pg_actor_loss(pg, rows, N, &items, adv, true);
    float *p = nn_mlp_params(actor), *g = nn_mlp_grads(actor);
    size_t n = nn_mlp_n_params(actor), last = 3 * 8 + 3; /* W (3, 8), b (3) */
    const float h = 1e-2f;
    for (size_t i = n - last; i < n; i++) {
        const float saved = p[i];
        p[i] = saved + h;
        double plus = pg_actor_loss(pg, rows, N, &items, adv, false);
        p[i] = saved - h;
        double minus = pg_actor_loss(pg, rows, N, &items, adv, false);
        p[i] = saved;
        double numeric = (plus - minus) / (2.0 * h);
        double scale = fmax(fmax(fabs(numeric), fabs(g[i])), 1.0);
        assert_true(fabs(numeric - g[i]) / scale <= 1e-3);
    }
    /* and the gradient is not trivially zero */
    double norm = 0.0;
    for (size_t i = n - last; i < n; i++)
        norm += fabs(g[i]);
    assert_true(norm > 1e-2);
    pg_destroy(&pg);
}

static void test_actor_gradient_on_policy(void **state)
{
    (void)state;
    s_check_actor_gradient(false);
}

static void test_actor_gradient_replay(void **state)
{
    (void)state;
    s_check_actor_gradient(true);
}

/* A bandit of one state: k = 1 and reward 1 only for item 12; every
 * step ends the episode. Each mode learns to put it first with
 * probability > 0.9 (it starts near 1/6). */
static double s_bandit(bool replay, pg_correction_t correction)
{
    pg_config_t cfg;
    pg_config_default(&cfg, OBS, 3, 1);
    cfg.hidden = 16;
    cfg.batch = 16;
    cfg.max_items = 16;
    cfg.lr = 0.01f;
    cfg.critic_lr = 0.01f;
    cfg.temperature = 0.5f;
    cfg.replay = replay;
    cfg.correction = correction;
    cfg.buffer = 256;
    pcg32_t rng;
    pcg32_seed(&rng, 9, 5);
    pg_t *pg = pg_new(&cfg, &rng);
    assert_non_null(pg);
    proto_items_t items = s_items();
    const float obs[OBS] = {0.5f, -0.5f, 0.25f, 1.0f};
    float row[2 * OBS + 4];
    int hits = 0;
    for (int t = 0; t < 4000; t++) {
        int32_t id;
        float beta;
        assert_int_equal(pg_act(pg, obs, &items, &rng, &id, &beta), 0);
        assert_true(beta > 0.0f && beta <= 1.0f);
        memset(row, 0, sizeof row);
        memcpy(row, obs, sizeof obs);
        row[OBS] = (float)id;
        row[OBS + 1] = beta;
        row[OBS + 2] = id == 12 ? 1.0f : 0.0f;
        row[2 * OBS + 3] = 1.0f;
        assert_int_equal(pg_push(pg, row), 0);
        pg_train_step(pg, &items, &rng, NULL, NULL);
        hits += t >= 3000 && id == 12;
    }
    pg_destroy(&pg);
    return hits / 1000.0;
}

static void test_learns_a_bandit(void **state)
{
    (void)state;
    double on = s_bandit(false, PG_CORRECTION_NONE);
    double topk = s_bandit(true, PG_CORRECTION_TOPK);
    double is = s_bandit(true, PG_CORRECTION_IS);
    print_message("bandit: best item drawn %.3f on-policy, %.3f topk, %.3f is\n", on, topk, is);
    assert_true(on > 0.9);
    assert_true(topk > 0.9);
    assert_true(is > 0.9);
}

static void test_bad_configs_refused(void **state)
{
    (void)state;
    pg_config_t cfg;
    pg_config_default(&cfg, OBS, 3, K);
    pcg32_t rng;
    pcg32_seed(&rng, 1, 1);
    cfg.temperature = 0.0f;
    assert_null(pg_new(&cfg, &rng));
    pg_config_default(&cfg, OBS, 3, PG_MAX_K + 1);
    assert_null(pg_new(&cfg, &rng));
    pg_config_default(&cfg, OBS, 3, K);
    cfg.max_items = 8;
    pg_t *pg = pg_new(&cfg, &rng);
    assert_non_null(pg);
    /* fewer live items than k, or more than max_items: refused */
    proto_items_t items = s_items();
    items.n = 2;
    int32_t ids[K];
    float beta[K];
    const float obs[OBS] = {0};
    assert_int_equal(pg_act(pg, obs, &items, &rng, ids, beta), -1);
    items.n = 6;
    assert_int_equal(pg_act(pg, obs, &items, &rng, ids, beta), 0);
    pg_destroy(&pg);
    pg_destroy(&pg); /* NULL is fine */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slate_log_prob_by_hand),
        cmocka_unit_test(test_slate_log_prob_gradient_by_differences),
        cmocka_unit_test(test_sampled_slates_follow_the_distribution),
        cmocka_unit_test(test_off_policy_weights_by_hand),
        cmocka_unit_test(test_advantages_by_hand),
        cmocka_unit_test(test_actor_gradient_on_policy),
        cmocka_unit_test(test_actor_gradient_replay),
        cmocka_unit_test(test_learns_a_bandit),
        cmocka_unit_test(test_bad_configs_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
