/* The neural-network module (agents/nn/nn.h): forward passes and losses
 * by hand, finite-difference gradient checks of every layer type and of
 * whole 2-layer networks (parameters and inputs), Adam by hand and on a
 * quadratic, clipping, soft updates, the weight file byte by byte and
 * its refusals, training on XOR and on a linear map, and bit-identical
 * replay of a training from its seed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agents/nn/nn.h"
#include "test_support.h"

/* ---- helpers --------------------------------------------------------- */

static nn_mlp_t *s_net(int n_layers, const int *sizes, const nn_activation_t *acts, int max_batch,
                       uint64_t seed)
{
    pcg32_t rng;
    pcg32_seed(&rng, seed, 1);
    nn_mlp_t *net = nn_mlp_new(n_layers, sizes, acts, max_batch, &rng);
    assert_non_null(net);
    return net;
}

/* n uniform draws in [lo, hi) */
static void s_fill(float *a, size_t n, float lo, float hi, pcg32_t *rng)
{
    for (size_t i = 0; i < n; i++)
        a[i] = lo + (hi - lo) * pcg32_uniform_f(rng);
}

/* ---- shapes, initialisation, forward by hand ------------------------- */

static void test_shapes_and_initialisation(void **state)
{
    (void)state;
    const int sizes[] = {3, 4, 2};
    const nn_activation_t acts[] = {NN_RELU, NN_LINEAR};
    nn_mlp_t *net = s_net(2, sizes, acts, 8, 11);
    assert_int_equal(nn_mlp_n_layers(net), 2);
    assert_int_equal(nn_mlp_in(net), 3);
    assert_int_equal(nn_mlp_out(net), 2);
    assert_int_equal(nn_mlp_size(net, 1), 4);
    assert_int_equal(nn_mlp_activation(net, 0), NN_RELU);
    assert_int_equal(nn_mlp_max_batch(net), 8);
    /* W0 (4, 3) + b0 (4) + W1 (2, 4) + b1 (2) */
    assert_int_equal(nn_mlp_n_params(net), 12 + 4 + 8 + 2);

    /* PyTorch's default: U[-1/sqrt(fan_in), 1/sqrt(fan_in)), one draw per
     * parameter in parameter order */
    pcg32_t rng;
    pcg32_seed(&rng, 11, 1);
    const float *p = nn_mlp_params(net);
    for (size_t i = 0; i < nn_mlp_n_params(net); i++) {
        const float bound = i < 16 ? 1.0f / sqrtf(3.0f) : 0.5f;
        assert_true(p[i] == bound * (2.0f * pcg32_uniform_f(&rng) - 1.0f));
        assert_true(fabsf(p[i]) <= bound);
    }
    for (size_t i = 0; i < nn_mlp_n_params(net); i++)
        assert_true(nn_mlp_grads(net)[i] == 0.0f);
    nn_mlp_destroy(&net);
    assert_null(net);
    nn_mlp_destroy(&net);
    nn_mlp_destroy(NULL);

    nn_mlp_t *zero = nn_mlp_new(2, sizes, acts, 8, NULL);
    assert_non_null(zero);
    for (size_t i = 0; i < nn_mlp_n_params(zero); i++)
        assert_true(nn_mlp_params(zero)[i] == 0.0f);
    nn_mlp_destroy(&zero);

    const int bad_sizes[] = {3, 0, 2};
    const nn_activation_t bad_acts[] = {NN_RELU, (nn_activation_t)7};
    assert_null(nn_mlp_new(2, bad_sizes, acts, 8, NULL));
    assert_null(nn_mlp_new(2, sizes, bad_acts, 8, NULL));
    assert_null(nn_mlp_new(0, sizes, acts, 8, NULL));
    assert_null(nn_mlp_new(NN_MAX_LAYERS + 1, sizes, acts, 8, NULL));
    assert_null(nn_mlp_new(2, sizes, acts, 0, NULL));
}

/* 2 -> 2 (relu) -> 1 (tanh) with hand-set weights:
 * W0 = [[1, -1], [0.5, 2]], b0 = [0.1, -0.2], W1 = [[1, -0.2]], b1 = [0.3] */
static nn_mlp_t *s_hand_net(void)
{
    const int sizes[] = {2, 2, 1};
    const nn_activation_t acts[] = {NN_RELU, NN_TANH};
    nn_mlp_t *net = nn_mlp_new(2, sizes, acts, 4, NULL);
    assert_non_null(net);
    const float p[] = {1, -1, 0.5f, 2, 0.1f, -0.2f, 1, -0.2f, 0.3f};
    assert_int_equal(nn_mlp_n_params(net), 9);
    memcpy(nn_mlp_params(net), p, sizeof p);
    return net;
}

static void test_forward_and_backward_by_hand(void **state)
{
    (void)state;
    nn_mlp_t *net = s_hand_net();
    /* row 0, x = (1, 2):    z0 = (-0.9, 4.3), h = (0, 4.3),   z1 = -0.56
     * row 1, x = (-1, 0.5): z0 = (-1.4, 0.3), h = (0, 0.3),   z1 = 0.24 */
    const float x[] = {1, 2, -1, 0.5f};
    const float *y = nn_mlp_forward(net, x, 2);
    ASSERT_NEAR(y[0], tanh(-0.56), 1e-6);
    ASSERT_NEAR(y[1], tanh(0.24), 1e-6);

    /* dL/dy = (1, 1): dz1 = 1 - y^2; dW1 = sum_r dz1_r h_r; db1 = sum dz1;
     * dh = dz1 W1, zero where h = 0; dW0 = sum_r dz0_r^T x_r; dx = dz0 W0 */
    const double d0 = 1 - tanh(-0.56) * tanh(-0.56), d1 = 1 - tanh(0.24) * tanh(0.24);
    const float dy[] = {1, 1};
    float dx[4];
    nn_mlp_backward(net, dy, dx);
    const float *g = nn_mlp_grads(net);
    const double expected[9] = {
        0,
        0, /* dW0 row 0: unit 0 never active */
        -0.2 * (d0 * 1 + d1 * -1),
        -0.2 * (d0 * 2 + d1 * 0.5), /* dW0 row 1 */
        0,
        -0.2 * (d0 + d1), /* db0 */
        0,
        d0 * 4.3 + d1 * 0.3, /* dW1 */
        d0 + d1,             /* db1 */
    };
    for (int i = 0; i < 9; i++)
        ASSERT_NEAR(g[i], expected[i], 1e-6);
    /* dx_r = dz0_r W0 with dz0_r = (0, -0.2 d_r) */
    ASSERT_NEAR(dx[0], -0.2 * d0 * 0.5, 1e-6);
    ASSERT_NEAR(dx[1], -0.2 * d0 * 2, 1e-6);
    ASSERT_NEAR(dx[2], -0.2 * d1 * 0.5, 1e-6);
    ASSERT_NEAR(dx[3], -0.2 * d1 * 2, 1e-6);
    nn_mlp_destroy(&net);
}

static void test_backward_accumulates_and_input_grad_does_not(void **state)
{
    (void)state;
    const int sizes[] = {5, 7, 3};
    const nn_activation_t acts[] = {NN_TANH, NN_LINEAR};
    nn_mlp_t *net = s_net(2, sizes, acts, 6, 3);
    const size_t n = nn_mlp_n_params(net);
    pcg32_t rng;
    pcg32_seed(&rng, 5, 5);
    float x[6 * 5], dy[6 * 3], dx1[6 * 5], dx2[6 * 5];
    s_fill(x, 30, -1, 1, &rng);
    s_fill(dy, 18, -1, 1, &rng);
    float *once = malloc(n * sizeof *once);
    assert_non_null(once);

    nn_mlp_forward(net, x, 6);
    nn_mlp_backward(net, dy, dx1);
    memcpy(once, nn_mlp_grads(net), n * sizeof *once);
    nn_mlp_backward(net, dy, NULL);
    for (size_t i = 0; i < n; i++)
        ASSERT_NEAR(nn_mlp_grads(net)[i], 2.0f * once[i], 1e-6);

    nn_mlp_zero_grad(net);
    nn_mlp_input_grad(net, dy, dx2);
    assert_memory_equal(dx1, dx2, sizeof dx1);
    for (size_t i = 0; i < n; i++)
        assert_true(nn_mlp_grads(net)[i] == 0.0f);
    free(once);
    nn_mlp_destroy(&net);
}

static void test_batch_rows_are_independent(void **state)
{
    (void)state;
    const int sizes[] = {6, 9, 4};
    const nn_activation_t acts[] = {NN_RELU, NN_TANH};
    nn_mlp_t *net = s_net(2, sizes, acts, 16, 9);
    pcg32_t rng;
    pcg32_seed(&rng, 2, 2);
    float x[16 * 6], y[16 * 4];
    s_fill(x, sizeof x / sizeof *x, -2, 2, &rng);
    memcpy(y, nn_mlp_forward(net, x, 16), sizeof y);
    for (int r = 0; r < 16; r++) {
        const float *row = nn_mlp_forward(net, x + 6 * r, 1);
        for (int j = 0; j < 4; j++)
            ASSERT_NEAR(row[j], y[4 * r + j], 1e-6);
    }
    nn_mlp_destroy(&net);
}

static void test_mse_loss_by_hand(void **state)
{
    (void)state;
    /* diffs (1, 0, -2, 0): L = 5 / 4; dL/dpred = 2 diff / 4 */
    const float pred[] = {1, 2, 3, 4}, target[] = {0, 2, 5, 4};
    float d[4];
    ASSERT_NEAR(nn_mse_loss(pred, target, 2, 2, d), 1.25, 1e-12);
    assert_true(d[0] == 0.5f && d[1] == 0.0f && d[2] == -1.0f && d[3] == 0.0f);
    ASSERT_NEAR(nn_mse_loss(pred, target, 2, 2, NULL), 1.25, 1e-12);
}

/* ---- finite-difference gradient checks ------------------------------- */

/* Central differences (L(p + h) - L(p - h)) / 2h in float32 with h =
 * GRAD_H, on the objective L = sum_ij r_ij y_ij (summed in double) with a
 * fixed random r (batch, out), so that dL/dy = r. A component passes when
 * |analytic - numeric| / max(|analytic|, |numeric|, 1) <= GRAD_TOL. */
#define GRAD_H     1e-2f
#define GRAD_TOL   1e-3
#define GRAD_BATCH 4

static double s_objective(nn_mlp_t *net, const float *x, const float *r)
{
    const float *y = nn_mlp_forward(net, x, GRAD_BATCH);
    double sum = 0.0;
    for (int i = 0; i < GRAD_BATCH * nn_mlp_out(net); i++)
        sum += (double)r[i] * y[i];
    return sum;
}

static double s_component_error(double analytic, double numeric)
{
    double scale = fmax(fabs(analytic), fabs(numeric));
    return fabs(analytic - numeric) / fmax(scale, 1.0);
}

/* Numeric derivative of the objective in *v (a parameter or an input). */
static double s_numeric(nn_mlp_t *net, float *v, const float *x, const float *r)
{
    const float saved = *v;
    *v = saved + GRAD_H;
    const double plus = s_objective(net, x, r);
    *v = saved - GRAD_H;
    const double minus = s_objective(net, x, r);
    *v = saved;
    return (plus - minus) / (2.0 * (double)GRAD_H);
}

/* The smallest |z| of layer 0's pre-activations, computed in double. A
 * ReLU check is only valid when no perturbation moves a z across 0; with
 * |x| <= 1 and |W| <= 1 one perturbation moves a z by at most GRAD_H, so
 * a margin above GRAD_H is enough (the seeds below are chosen so). */
static double s_min_abs_first_z(nn_mlp_t *net, const float *x)
{
    const int in = nn_mlp_in(net), out = nn_mlp_size(net, 1);
    const float *w = nn_mlp_params(net), *b = w + in * out;
    double least = INFINITY;
    int positive = 0;
    for (int r = 0; r < GRAD_BATCH; r++)
        for (int j = 0; j < out; j++) {
            double z = b[j];
            for (int k = 0; k < in; k++)
                z += (double)w[j * in + k] * x[r * in + k];
            least = fmin(least, fabs(z));
            positive += z > 0;
        }
    /* both sides of the kink are exercised */
    assert_true(positive > 0 && positive < GRAD_BATCH * out);
    return least;
}

/* Checks parameter and input gradients of a fresh network; returns the
 * largest component error. */
static double s_gradient_check(int n_layers, const int *sizes, const nn_activation_t *acts,
                               uint64_t seed)
{
    nn_mlp_t *net = s_net(n_layers, sizes, acts, GRAD_BATCH, seed);
    const int in = sizes[0], out = sizes[n_layers];
    pcg32_t rng;
    pcg32_seed(&rng, seed, 99);
    float *x = malloc((size_t)(GRAD_BATCH * in) * sizeof *x);
    float *r = malloc((size_t)(GRAD_BATCH * out) * sizeof *r);
    float *dx = malloc((size_t)(GRAD_BATCH * in) * sizeof *dx);
    assert_true(x && r && dx);
    s_fill(x, (size_t)(GRAD_BATCH * in), -1, 1, &rng);
    s_fill(r, (size_t)(GRAD_BATCH * out), -1, 1, &rng);
    if (acts[0] == NN_RELU)
        assert_true(s_min_abs_first_z(net, x) > GRAD_H); /* the seed's inputs are usable */

    nn_mlp_forward(net, x, GRAD_BATCH);
    nn_mlp_zero_grad(net);
    nn_mlp_backward(net, r, dx);

    double worst = 0.0;
    float *p = nn_mlp_params(net);
    const float *g = nn_mlp_grads(net);
    for (size_t i = 0; i < nn_mlp_n_params(net); i++) {
        const double e = s_component_error(g[i], s_numeric(net, &p[i], x, r));
        if (e > GRAD_TOL)
            print_error("parameter %zu: analytic %g\n", i, (double)g[i]);
        assert_true(e <= GRAD_TOL);
        worst = fmax(worst, e);
    }
    for (int i = 0; i < GRAD_BATCH * in; i++) {
        const double e = s_component_error(dx[i], s_numeric(net, &x[i], x, r));
        if (e > GRAD_TOL)
            print_error("input %d: analytic %g\n", i, (double)dx[i]);
        assert_true(e <= GRAD_TOL);
        worst = fmax(worst, e);
    }
    free(x);
    free(r);
    free(dx);
    nn_mlp_destroy(&net);
    return worst;
}

static void test_gradient_check_each_layer(void **state)
{
    (void)state;
    const nn_activation_t kinds[] = {NN_LINEAR, NN_RELU, NN_TANH};
    const char *names[] = {"linear", "relu", "tanh"};
    const uint64_t seeds[] = {100, 104, 102};
    for (int k = 0; k < 3; k++) {
        const int sizes[] = {5, 4};
        const double worst = s_gradient_check(1, sizes, &kinds[k], seeds[k]);
        print_message("gradient check, one %s layer 5 -> 4: max error %.2e\n", names[k], worst);
    }
}

static void test_gradient_check_two_layer_networks(void **state)
{
    (void)state;
    const int sizes[] = {6, 8, 3};
    const nn_activation_t relu_tanh[] = {NN_RELU, NN_TANH};
    const nn_activation_t tanh_linear[] = {NN_TANH, NN_LINEAR};
    double worst = s_gradient_check(2, sizes, relu_tanh, 7);
    print_message("gradient check, 6 -> 8 relu -> 3 tanh: max error %.2e\n", worst);
    worst = s_gradient_check(2, sizes, tanh_linear, 8);
    print_message("gradient check, 6 -> 8 tanh -> 3 linear: max error %.2e\n", worst);
}

/* The MSE gradient against central differences of nn_mse_loss itself. */
static void test_gradient_check_mse(void **state)
{
    (void)state;
    pcg32_t rng;
    pcg32_seed(&rng, 4, 4);
    float pred[12], target[12], d[12];
    s_fill(pred, 12, -2, 2, &rng);
    s_fill(target, 12, -2, 2, &rng);
    nn_mse_loss(pred, target, 3, 4, d);
    double worst = 0.0;
    for (int i = 0; i < 12; i++) {
        const float saved = pred[i];
        pred[i] = saved + GRAD_H;
        const double plus = nn_mse_loss(pred, target, 3, 4, NULL);
        pred[i] = saved - GRAD_H;
        const double minus = nn_mse_loss(pred, target, 3, 4, NULL);
        pred[i] = saved;
        worst = fmax(worst, s_component_error(d[i], (plus - minus) / (2.0 * (double)GRAD_H)));
    }
    print_message("gradient check, MSE: max error %.2e\n", worst);
    assert_true(worst <= GRAD_TOL);
}

/* ---- Adam, clipping, target networks --------------------------------- */

static void test_adam_by_hand(void **state)
{
    (void)state;
    const int sizes[] = {1, 1};
    const nn_activation_t acts[] = {NN_LINEAR};
    nn_mlp_t *net = nn_mlp_new(1, sizes, acts, 1, NULL); /* w, b */
    assert_null(nn_adam_new(net, 0.0f));
    nn_adam_t *adam = nn_adam_new(net, 0.1f);
    assert_non_null(adam);
    float *p = nn_mlp_params(net), *g = nn_mlp_grads(net);

    /* step 1, g = (2, -0.5): m_hat = g, v_hat = g^2, so p -= lr g / (|g| + eps) */
    g[0] = 2.0f;
    g[1] = -0.5f;
    nn_adam_step(adam, net);
    ASSERT_NEAR(p[0], -0.1, 1e-7);
    ASSERT_NEAR(p[1], 0.1, 1e-7);
    assert_true(g[0] == 2.0f); /* the gradients are left as they are */

    /* step 2, g = (1, -0.5): m = 0.09 + 0.1 g', v = 0.000999 g^2 + 0.001 g'^2,
     * corrections 1 - 0.9^2 = 0.19 and 1 - 0.999^2 = 0.001999 */
    g[0] = 1.0f;
    const double m0 = 0.9 * 0.2 + 0.1 * 1.0, v0 = 0.999 * 0.004 + 0.001 * 1.0;
    const double m1 = 0.9 * -0.05 + 0.1 * -0.5, v1 = 0.999 * 0.00025 + 0.001 * 0.25;
    nn_adam_step(adam, net);
    ASSERT_NEAR(p[0], -0.1 - 0.1 * (m0 / 0.19) / (sqrt(v0 / 0.001999) + 1e-8), 1e-6);
    ASSERT_NEAR(p[1], 0.1 - 0.1 * (m1 / 0.19) / (sqrt(v1 / 0.001999) + 1e-8), 1e-6);
    nn_adam_destroy(&adam);
    assert_null(adam);
    nn_adam_destroy(&adam);
    nn_mlp_destroy(&net);
}

static void test_adam_minimises_a_quadratic(void **state)
{
    (void)state;
    /* f(p) = sum_i a_i (p_i - c_i)^2 with curvatures a_i from 0.1 to 10 */
    const int sizes[] = {4, 3};
    const nn_activation_t acts[] = {NN_LINEAR};
    nn_mlp_t *net = s_net(1, sizes, acts, 1, 21);
    const size_t n = nn_mlp_n_params(net);
    float c[15], a[15];
    pcg32_t rng;
    pcg32_seed(&rng, 6, 6);
    s_fill(c, n, -3, 3, &rng);
    for (size_t i = 0; i < n; i++)
        a[i] = powf(10.0f, -1.0f + 2.0f * (float)i / (float)(n - 1));
    nn_adam_t *adam = nn_adam_new(net, 0.05f);
    float *p = nn_mlp_params(net), *g = nn_mlp_grads(net);
    double f = 0.0;
    for (int step = 0; step < 2000; step++) {
        f = 0.0;
        for (size_t i = 0; i < n; i++) {
            f += a[i] * (p[i] - c[i]) * (p[i] - c[i]);
            g[i] = 2.0f * a[i] * (p[i] - c[i]);
        }
        nn_adam_step(adam, net);
    }
    print_message("Adam on a quadratic: f = %.3e after 2000 steps\n", f);
    assert_true(f < 1e-6);
    nn_adam_destroy(&adam);
    nn_mlp_destroy(&net);
}

static void test_clip_grad_norm(void **state)
{
    (void)state;
    const int sizes[] = {3, 2};
    const nn_activation_t acts[] = {NN_LINEAR};
    nn_mlp_t *net = nn_mlp_new(1, sizes, acts, 1, NULL); /* 8 parameters */
    float *g = nn_mlp_grads(net);
    g[0] = 3.0f;
    g[7] = -4.0f; /* norm 5 */
    ASSERT_NEAR(nn_mlp_clip_grad_norm(net, 10.0f), 5.0, 1e-6);
    assert_true(g[0] == 3.0f && g[7] == -4.0f); /* under the cap: untouched */
    ASSERT_NEAR(nn_mlp_clip_grad_norm(net, 0.5f), 5.0, 1e-6);
    ASSERT_NEAR(g[0], 0.3, 1e-7);
    ASSERT_NEAR(g[7], -0.4, 1e-7);
    ASSERT_NEAR(nn_mlp_clip_grad_norm(net, 1.0f), 0.5, 1e-7); /* now at the cap */

    /* many components: the clipped norm is the cap to float precision */
    pcg32_t rng;
    pcg32_seed(&rng, 8, 8);
    const int big_sizes[] = {64, 64};
    nn_mlp_t *big = nn_mlp_new(1, big_sizes, acts, 1, NULL);
    s_fill(nn_mlp_grads(big), nn_mlp_n_params(big), -1, 1, &rng);
    assert_true(nn_mlp_clip_grad_norm(big, 0.5f) > 0.5f);
    ASSERT_NEAR(nn_mlp_clip_grad_norm(big, 100.0f), 0.5, 0.5 * 1e-6);
    nn_mlp_destroy(&big);
    nn_mlp_destroy(&net);
}

static void test_soft_update_and_copy(void **state)
{
    (void)state;
    const int sizes[] = {4, 5, 2};
    const nn_activation_t acts[] = {NN_RELU, NN_TANH};
    nn_mlp_t *source = s_net(2, sizes, acts, 2, 1);
    nn_mlp_t *target = s_net(2, sizes, acts, 2, 2);
    const size_t n = nn_mlp_n_params(source);
    float *before = malloc(n * sizeof *before);
    assert_non_null(before);
    memcpy(before, nn_mlp_params(target), n * sizeof *before);

    assert_int_equal(nn_mlp_soft_update(target, source, 0.0f), 0);
    assert_memory_equal(nn_mlp_params(target), before, n * sizeof *before);
    assert_int_equal(nn_mlp_soft_update(target, source, 1.0f), 0);
    assert_memory_equal(nn_mlp_params(target), nn_mlp_params(source), n * sizeof *before);

    /* tau 0.25 by hand: 0.25 * 5 + 0.75 * 1 = 2 */
    nn_mlp_params(source)[3] = 5.0f;
    nn_mlp_params(target)[3] = 1.0f;
    assert_int_equal(nn_mlp_soft_update(target, source, 0.25f), 0);
    assert_true(nn_mlp_params(target)[3] == 2.0f);

    memcpy(nn_mlp_params(target), before, n * sizeof *before);
    assert_int_equal(nn_mlp_copy(target, source), 0);
    assert_memory_equal(nn_mlp_params(target), nn_mlp_params(source), n * sizeof *before);

    /* other sizes or activations: refused, target untouched */
    const int other_sizes[] = {4, 6, 2};
    const nn_activation_t other_acts[] = {NN_TANH, NN_TANH};
    nn_mlp_t *wide = s_net(2, other_sizes, acts, 2, 3);
    nn_mlp_t *tanh_net = s_net(2, sizes, other_acts, 2, 3);
    memcpy(before, nn_mlp_params(tanh_net), n * sizeof *before);
    assert_int_equal(nn_mlp_soft_update(wide, source, 0.5f), ERR_ESHAPE);
    assert_int_equal(nn_mlp_soft_update(tanh_net, source, 0.5f), ERR_ESHAPE);
    assert_int_equal(nn_mlp_copy(tanh_net, source), ERR_ESHAPE);
    assert_memory_equal(nn_mlp_params(tanh_net), before, n * sizeof *before);
    free(before);
    nn_mlp_destroy(&wide);
    nn_mlp_destroy(&tanh_net);
    nn_mlp_destroy(&source);
    nn_mlp_destroy(&target);
}

/* ---- the weight file ------------------------------------------------- */

typedef struct file_fixture {
    char dir[64];
    char path[96];
} file_fixture_t;

static int s_setup_dir(void **state)
{
    file_fixture_t *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    strcpy(f->dir, "/tmp/recarena-nn-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/net.bin", f->dir);
    *state = f;
    return 0;
}

static int s_teardown_dir(void **state)
{
    file_fixture_t *f = *state;
    char other[128];
    unlink(f->path);
    snprintf(other, sizeof other, "%s.tmp", f->path);
    unlink(other);
    rmdir(f->dir);
    free(f);
    return 0;
}

static size_t s_read_file(const char *path, uint8_t *buf, size_t cap)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    const size_t n = fread(buf, 1, cap, fp);
    fclose(fp);
    return n;
}

static void s_write_file(const char *path, const uint8_t *buf, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(buf, 1, n, fp), n);
    fclose(fp);
}

static uint32_t s_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* CRC-32 as zlib computes it, written bit by bit from the definition. */
static uint32_t s_reference_crc32(const uint8_t *data, size_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= data[i];
        for (int k = 0; k < 8; k++)
            crc = crc & 1u ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
    }
    return crc ^ 0xFFFFFFFFu;
}

static void test_save_writes_the_documented_bytes(void **state)
{
    file_fixture_t *f = *state;
    assert_int_equal(s_reference_crc32((const uint8_t *)"123456789", 9), 0xCBF43926u);
    const int sizes[] = {3, 4, 2};
    const nn_activation_t acts[] = {NN_RELU, NN_TANH};
    nn_mlp_t *net = s_net(2, sizes, acts, 1, 31);
    nn_mlp_params(net)[0] = -1.5f; /* bits 0xBFC00000 */
    char err[256] = "";
    assert_int_equal(nn_mlp_save(net, f->path, err, sizeof err), 0);

    uint8_t bytes[512];
    const size_t n = s_read_file(f->path, bytes, sizeof bytes);
    /* header 12 + sizes 3 * 4 + activations 2 * 4 = 32, 26 floats, CRC */
    assert_int_equal(n, 32 + 26 * 4 + 4);
    assert_memory_equal(bytes, "RANN", 4);
    assert_int_equal(s_le32(bytes + 4), 1);  /* version */
    assert_int_equal(s_le32(bytes + 8), 2);  /* layers */
    assert_int_equal(s_le32(bytes + 12), 3); /* sizes */
    assert_int_equal(s_le32(bytes + 16), 4);
    assert_int_equal(s_le32(bytes + 20), 2);
    assert_int_equal(s_le32(bytes + 24), 1); /* relu */
    assert_int_equal(s_le32(bytes + 28), 2); /* tanh */
    const uint8_t minus_one_and_half[4] = {0x00, 0x00, 0xC0, 0xBF};
    assert_memory_equal(bytes + 32, minus_one_and_half, 4);
    for (size_t i = 1; i < 26; i++) {
        float v;
        const uint32_t bits = s_le32(bytes + 32 + 4 * i);
        memcpy(&v, &bits, 4);
        assert_true(v == nn_mlp_params(net)[i]);
    }
    assert_int_equal(s_le32(bytes + n - 4), s_reference_crc32(bytes, n - 4));
    nn_mlp_destroy(&net);
}

static void test_save_load_round_trip(void **state)
{
    file_fixture_t *f = *state;
    const int sizes[] = {7, 16, 16, 3};
    const nn_activation_t acts[] = {NN_RELU, NN_RELU, NN_TANH};
    nn_mlp_t *net = s_net(3, sizes, acts, 4, 41);
    nn_mlp_params(net)[5] = -0.0f;
    nn_mlp_params(net)[6] = 1e-42f; /* subnormal */
    nn_mlp_t *copy = nn_mlp_new(3, sizes, acts, 2, NULL);
    char err[256] = "";
    assert_int_equal(nn_mlp_save(net, f->path, err, sizeof err), 0);
    assert_int_equal(nn_mlp_load(copy, f->path, err, sizeof err), 0);
    assert_memory_equal(nn_mlp_params(copy), nn_mlp_params(net),
                        nn_mlp_n_params(net) * sizeof(float));
    /* saving again over the file replaces it */
    nn_mlp_params(net)[0] = 42.0f;
    assert_int_equal(nn_mlp_save(net, f->path, NULL, 0), 0);
    assert_int_equal(nn_mlp_load(copy, f->path, NULL, 0), 0);
    assert_true(nn_mlp_params(copy)[0] == 42.0f);

    char bad[128];
    snprintf(bad, sizeof bad, "%s/missing/net.bin", f->dir);
    assert_int_equal(nn_mlp_save(net, bad, err, sizeof err), ERR_EIO);
    assert_non_null(strstr(err, "cannot open"));
    nn_mlp_destroy(&copy);
    nn_mlp_destroy(&net);
}

/* Loads path into net, expects code and a message containing needle, and
 * checks that the network is untouched. */
static void s_expect_refusal(nn_mlp_t *net, const char *path, int code, const char *needle)
{
    const size_t n = nn_mlp_n_params(net);
    float *before = malloc(n * sizeof *before);
    assert_non_null(before);
    memcpy(before, nn_mlp_params(net), n * sizeof *before);
    char err[256] = "";
    const int rc = nn_mlp_load(net, path, err, sizeof err);
    if (rc != code || !strstr(err, needle))
        print_error("got %d (%s), expected %d with '%s'\n", rc, err, code, needle);
    assert_int_equal(rc, code);
    assert_non_null(strstr(err, needle));
    assert_non_null(strstr(err, path));
    assert_memory_equal(nn_mlp_params(net), before, n * sizeof *before);
    free(before);
}

static void test_load_refuses_wrong_files(void **state)
{
    file_fixture_t *f = *state;
    const int sizes[] = {3, 4, 2};
    const nn_activation_t acts[] = {NN_RELU, NN_TANH};
    nn_mlp_t *net = s_net(2, sizes, acts, 1, 51);
    nn_mlp_t *into = s_net(2, sizes, acts, 1, 52);
    assert_int_equal(nn_mlp_save(net, f->path, NULL, 0), 0);
    uint8_t good[512], bad[520];
    const size_t n = s_read_file(f->path, good, sizeof good);
    assert_int_equal(n, 140);

    s_expect_refusal(into, "/nonexistent/net.bin", ERR_EIO, "cannot open");

    memcpy(bad, good, n);
    bad[0] = 'X';
    s_write_file(f->path, bad, n);
    s_expect_refusal(into, f->path, ERR_EFORMAT, "bad magic");

    memcpy(bad, good, n);
    bad[4] = 2;
    s_write_file(f->path, bad, n);
    s_expect_refusal(into, f->path, ERR_EFORMAT, "version 2");

    memcpy(bad, good, n);
    bad[8] = 3;
    s_write_file(f->path, bad, n);
    s_expect_refusal(into, f->path, ERR_ESHAPE, "3 layers in the file, 2 in the network");

    memcpy(bad, good, n);
    bad[16] = 5;
    s_write_file(f->path, bad, n);
    s_expect_refusal(into, f->path, ERR_ESHAPE, "size 1 is 5 in the file, 4 in the network");

    memcpy(bad, good, n);
    bad[28] = 0;
    s_write_file(f->path, bad, n);
    s_expect_refusal(into, f->path, ERR_ESHAPE, "layer 1 activation is linear");

    /* a file of another network */
    const int wide_sizes[] = {3, 5, 2};
    nn_mlp_t *wide = s_net(2, wide_sizes, acts, 1, 53);
    s_write_file(f->path, good, n);
    s_expect_refusal(wide, f->path, ERR_ESHAPE, "size 1 is 4 in the file, 5 in the network");

    /* cut anywhere: in the magic, the header, the weights, the checksum */
    const size_t cuts[] = {0, 3, 4, 11, 12, 20, 32, 100, n - 4, n - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        s_write_file(f->path, good, cuts[i]);
        s_expect_refusal(into, f->path, ERR_ETRUNC, "file ends early");
    }

    memcpy(bad, good, n);
    bad[60] ^= 0x10; /* one bit of one weight */
    s_write_file(f->path, bad, n);
    s_expect_refusal(into, f->path, ERR_ECORRUPT, "checksum mismatch");

    memcpy(bad, good, n);
    bad[n] = 0;
    s_write_file(f->path, bad, n + 1);
    s_expect_refusal(into, f->path, ERR_ECORRUPT, "bytes after the end");

    /* a directory reads as an error, not as a short file */
    s_expect_refusal(into, f->dir, ERR_EIO, "cannot read");

    /* and the good file still loads */
    s_write_file(f->path, good, n);
    assert_int_equal(nn_mlp_load(into, f->path, NULL, 0), 0);
    assert_memory_equal(nn_mlp_params(into), nn_mlp_params(net),
                        nn_mlp_n_params(net) * sizeof(float));
    nn_mlp_destroy(&wide);
    nn_mlp_destroy(&into);
    nn_mlp_destroy(&net);
}

/* ---- training -------------------------------------------------------- */

/* Trains 2 -> 8 (tanh) -> 1 (linear) on XOR, full batch, MSE and Adam
 * (lr 0.05) for steps steps; returns the final loss. Caller owns *net_p. */
static double s_train_xor(uint64_t seed, int steps, nn_mlp_t **net_p)
{
    const int sizes[] = {2, 8, 1};
    const nn_activation_t acts[] = {NN_TANH, NN_LINEAR};
    nn_mlp_t *net = s_net(2, sizes, acts, 4, seed);
    nn_adam_t *adam = nn_adam_new(net, 0.05f);
    assert_non_null(adam);
    const float x[] = {0, 0, 0, 1, 1, 0, 1, 1}, target[] = {0, 1, 1, 0};
    float dy[4];
    for (int step = 0; step < steps; step++) {
        nn_mse_loss(nn_mlp_forward(net, x, 4), target, 4, 1, dy);
        nn_mlp_zero_grad(net);
        nn_mlp_backward(net, dy, NULL);
        nn_mlp_clip_grad_norm(net, 1.0f);
        nn_adam_step(adam, net);
    }
    nn_adam_destroy(&adam);
    *net_p = net;
    return nn_mse_loss(nn_mlp_forward(net, x, 4), target, 4, 1, NULL);
}

static void test_learns_xor(void **state)
{
    (void)state;
    nn_mlp_t *net = NULL;
    const double loss = s_train_xor(61, 500, &net);
    print_message("XOR: MSE %.3e after 500 Adam steps\n", loss);
    assert_true(loss < 1e-3);
    nn_mlp_destroy(&net);
}

static void test_learns_a_linear_map(void **state)
{
    (void)state;
    /* y = A x + c with A (2, 3), c (2): a linear layer must find A and c */
    const float a[6] = {0.5f, -1.0f, 2.0f, 1.5f, 0.0f, -0.5f}, c[2] = {0.25f, -1.0f};
    const int sizes[] = {3, 2};
    const nn_activation_t acts[] = {NN_LINEAR};
    nn_mlp_t *net = s_net(1, sizes, acts, 32, 71);
    nn_adam_t *adam = nn_adam_new(net, 0.02f);
    pcg32_t rng;
    pcg32_seed(&rng, 7, 7);
    float x[32 * 3], target[32 * 2], dy[32 * 2];
    double loss = 0.0;
    for (int step = 0; step < 1500; step++) {
        s_fill(x, 96, -1, 1, &rng);
        for (int r = 0; r < 32; r++)
            for (int i = 0; i < 2; i++)
                target[2 * r + i] = a[3 * i] * x[3 * r] + a[3 * i + 1] * x[3 * r + 1] +
                                    a[3 * i + 2] * x[3 * r + 2] + c[i];
        loss = nn_mse_loss(nn_mlp_forward(net, x, 32), target, 32, 2, dy);
        nn_mlp_zero_grad(net);
        nn_mlp_backward(net, dy, NULL);
        nn_adam_step(adam, net);
    }
    print_message("linear map: MSE %.3e after 1500 Adam steps\n", loss);
    assert_true(loss < 1e-6);
    const float *p = nn_mlp_params(net); /* W (2, 3) then b (2) */
    for (int i = 0; i < 6; i++)
        ASSERT_NEAR(p[i], a[i], 1e-3);
    ASSERT_NEAR(p[6], c[0], 1e-3);
    ASSERT_NEAR(p[7], c[1], 1e-3);
    nn_adam_destroy(&adam);
    nn_mlp_destroy(&net);
}

static void test_same_seed_trains_bit_for_bit(void **state)
{
    (void)state;
    nn_mlp_t *a = NULL, *b = NULL, *c = NULL;
    s_train_xor(81, 200, &a);
    s_train_xor(81, 200, &b);
    s_train_xor(82, 200, &c);
    const size_t bytes = nn_mlp_n_params(a) * sizeof(float);
    assert_memory_equal(nn_mlp_params(a), nn_mlp_params(b), bytes);
    assert_memory_not_equal(nn_mlp_params(a), nn_mlp_params(c), bytes);
    nn_mlp_destroy(&a);
    nn_mlp_destroy(&b);
    nn_mlp_destroy(&c);
}

int main(void)
{
    nn_blas_set_threads(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes_and_initialisation),
        cmocka_unit_test(test_forward_and_backward_by_hand),
        cmocka_unit_test(test_backward_accumulates_and_input_grad_does_not),
        cmocka_unit_test(test_batch_rows_are_independent),
        cmocka_unit_test(test_mse_loss_by_hand),
        cmocka_unit_test(test_gradient_check_each_layer),
        cmocka_unit_test(test_gradient_check_two_layer_networks),
        cmocka_unit_test(test_gradient_check_mse),
        cmocka_unit_test(test_adam_by_hand),
        cmocka_unit_test(test_adam_minimises_a_quadratic),
        cmocka_unit_test(test_clip_grad_norm),
        cmocka_unit_test(test_soft_update_and_copy),
        cmocka_unit_test_setup_teardown(test_save_writes_the_documented_bytes, s_setup_dir,
                                        s_teardown_dir),
        cmocka_unit_test_setup_teardown(test_save_load_round_trip, s_setup_dir, s_teardown_dir),
        cmocka_unit_test_setup_teardown(test_load_refuses_wrong_files, s_setup_dir, s_teardown_dir),
        cmocka_unit_test(test_learns_xor),
        cmocka_unit_test(test_learns_a_linear_map),
        cmocka_unit_test(test_same_seed_trains_bit_for_bit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
