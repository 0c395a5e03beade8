/* Tabular Q-learning (qtable.h). */
#include "agents/rl/qtable.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>

#include "agents/rl/explore.h"

struct qtable {
    int n_states, n_actions;
    float alpha, gamma;
    float *q; /* (n_states, n_actions) */
};

qtable_t *qtable_new(int n_states, int n_actions, float alpha, float gamma, float init)
{
    if (n_states < 1 || n_actions < 1 || (size_t)n_states > SIZE_MAX / sizeof(float) / n_actions ||
        !(alpha > 0.0f && alpha <= 1.0f) || !(gamma >= 0.0f && gamma <= 1.0f))
        return NULL;
    qtable_t *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    size_t n = (size_t)n_states * (size_t)n_actions;
    q->q = malloc(n * sizeof *q->q);
    if (!q->q) {
        free(q);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        q->q[i] = init;
    q->n_states = n_states;
    q->n_actions = n_actions;
    q->alpha = alpha;
    q->gamma = gamma;
    return q;
}

void qtable_destroy(qtable_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->q);
    free(*self_p);
    *self_p = NULL;
}

int qtable_n_states(const qtable_t *q)
{
    return q->n_states;
}

int qtable_n_actions(const qtable_t *q)
{
    return q->n_actions;
}

float *qtable_values(qtable_t *q, int state)
{
    assert(state >= 0 && state < q->n_states);
    return q->q + (size_t)state * q->n_actions;
}

float qtable_update(qtable_t *q, int s, int a, float r, int s_next, bool done)
{
    assert(a >= 0 && a < q->n_actions);
    float *row = qtable_values(q, s);
    float target = r;
    if (!done) {
        const float *next = qtable_values(q, s_next);
        target += q->gamma * next[explore_argmax(next, q->n_actions)];
    }
    float td = target - row[a];
    row[a] += q->alpha * td;
    return td;
}

int qtable_act(qtable_t *q, int s, float epsilon, pcg32_t *rng)
{
    return explore_egreedy(rng, qtable_values(q, s), q->n_actions, epsilon);
}
