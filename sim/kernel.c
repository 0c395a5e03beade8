/* The bare interaction kernel (kernel.h). */
#include "sim/kernel.h"

#include "core/pcg32.h"
#include "core/vec.h"

#include <math.h>
#include <stdlib.h>

struct kernel {
    kernel_config_t cfg;
    pcg32_t rng;
    float *users; /* (n_users, dim), unit rows */
    float *items; /* (n_items, dim), unit rows */
    int32_t page[KERNEL_MAX_SLATE];
    double v[KERNEL_MAX_SLATE]; /* scores, then attractions */
};

static void s_random_units(float *rows, size_t n, int dim, pcg32_t *rng)
{
    for (size_t r = 0; r < n; r++) {
        float *x = &rows[r * (size_t)dim];
        for (int i = 0; i < dim; i++)
            x[i] = (float)pcg32_normal(rng);
        vec_normalize(x, dim);
    }
}

kernel_t *kernel_new(const kernel_config_t *cfg, uint64_t seed)
{
    if (cfg->n_users < 1 || cfg->n_items < 1 || cfg->dim < 1 || cfg->k < 1 ||
        cfg->k > KERNEL_MAX_SLATE || !(cfg->temperature > 0.0) || !(cfg->drift >= 0.0f) ||
        cfg->drift > 1.0f)
        return NULL;
    kernel_t *kn = calloc(1, sizeof *kn);
    if (!kn)
        return NULL;
    kn->cfg = *cfg;
    kn->users = malloc((size_t)cfg->n_users * (size_t)cfg->dim * sizeof *kn->users);
    kn->items = malloc((size_t)cfg->n_items * (size_t)cfg->dim * sizeof *kn->items);
    if (!kn->users || !kn->items) {
        kernel_destroy(&kn);
        return NULL;
    }
    pcg32_seed(&kn->rng, seed, 0x6b65726eu);
    s_random_units(kn->users, (size_t)cfg->n_users, cfg->dim, &kn->rng);
    s_random_units(kn->items, (size_t)cfg->n_items, cfg->dim, &kn->rng);
    return kn;
}

void kernel_destroy(kernel_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->users);
    free((*self_p)->items);
    free(*self_p);
    *self_p = NULL;
}

int kernel_interact(kernel_t *kn, int32_t user)
{
    const kernel_config_t *cfg = &kn->cfg;
    int k = cfg->k, dim = cfg->dim;
    float *x = &kn->users[(size_t)user * (size_t)dim];
    double best = cfg->no_click_score;
    for (int p = 0; p < k; p++) {
        kn->page[p] = (int32_t)pcg32_bounded(&kn->rng, (uint32_t)cfg->n_items);
        double s = vec_dot(x, &kn->items[(size_t)kn->page[p] * (size_t)dim], dim);
        kn->v[p] = s;
        best = s > best ? s : best;
    }
    double inv_t = 1.0 / cfg->temperature;
    double total = exp((cfg->no_click_score - best) * inv_t);
    for (int p = 0; p < k; p++) {
        kn->v[p] = exp((kn->v[p] - best) * inv_t);
        total += kn->v[p];
    }
    double target = pcg32_uniform(&kn->rng) * total, cum = 0.0;
    int clicked = -1;
    for (int p = 0; p < k; p++) {
        cum += kn->v[p];
        if (target < cum) {
            clicked = p;
            break;
        }
    }
    if (clicked >= 0 && cfg->drift > 0.0f) {
        const float *e = &kn->items[(size_t)kn->page[clicked] * (size_t)dim];
        vec_drift(x, e, cfg->drift, dim);
        vec_normalize(x, dim);
    }
    return clicked;
}

const int32_t *kernel_page(const kernel_t *kn)
{
    return kn->page;
}

float *kernel_user(kernel_t *kn, int32_t u)
{
    return &kn->users[(size_t)u * (size_t)kn->cfg.dim];
}

float *kernel_item(kernel_t *kn, int32_t i)
{
    return &kn->items[(size_t)i * (size_t)kn->cfg.dim];
}
