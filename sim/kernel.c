/* The bare interaction kernel (kernel.h). */
#include "sim/kernel.h"

#include "core/pcg32.h"

#include <math.h>
#include <stdlib.h>

#define S_MAX_K 1024

struct kernel {
    uint32_t n_users, n_items, d, k;
    float *interest;  /* (n_users, d) */
    float *embedding; /* (n_items, d) */
    float temperature, no_click, drift;
    pcg32_t rng;
    uint64_t clicks;
};

kernel_t *kernel_new(uint32_t n_users, uint32_t n_items, uint32_t d, uint32_t k, uint64_t seed)
{
    if (n_users < 1 || n_items < 1 || n_users > (1u << 24) || n_items > (1u << 24) || d < 1 ||
        d > 1024 || k < 1 || k > S_MAX_K)
        return NULL;
    kernel_t *kern = calloc(1, sizeof *kern);
    if (!kern)
        return NULL;
    *kern = (kernel_t){.n_users = n_users,
                       .n_items = n_items,
                       .d = d,
                       .k = k,
                       .temperature = 0.2f,
                       .no_click = 0.5f / 0.2f,
                       .drift = 0.02f};
    kern->interest = malloc((size_t)n_users * d * sizeof(float));
    kern->embedding = malloc((size_t)n_items * d * sizeof(float));
    if (!kern->interest || !kern->embedding) {
        kernel_destroy(&kern);
        return NULL;
    }
    pcg32_stream(&kern->rng, seed, 0x6b65726eu /* "kern" */, 0);
    double scale = 1.0 / sqrt((double)d);
    for (size_t i = 0; i < (size_t)n_users * d; i++)
        kern->interest[i] = (float)(pcg32_normal(&kern->rng) * scale);
    for (size_t i = 0; i < (size_t)n_items * d; i++)
        kern->embedding[i] = (float)(pcg32_normal(&kern->rng) * scale);
    return kern;
}

void kernel_destroy(kernel_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->interest);
    free((*self_p)->embedding);
    free(*self_p);
    *self_p = NULL;
}

int kernel_choose(const float *scores, uint32_t k, float no_click, double u)
{
    float max = no_click;
    for (uint32_t j = 0; j < k; j++)
        max = scores[j] > max ? scores[j] : max;
    float weight[S_MAX_K];
    float total = expf(no_click - max);
    for (uint32_t j = 0; j < k; j++) {
        weight[j] = expf(scores[j] - max);
        total += weight[j];
    }
    float target = (float)u * total;
    for (uint32_t j = 0; j < k; j++) {
        if (target < weight[j])
            return (int)j;
        target -= weight[j];
    }
    return -1;
}

void kernel_run(kernel_t *kern, uint64_t n)
{
    const uint32_t d = kern->d, k = kern->k;
    uint32_t items[S_MAX_K];
    float scores[S_MAX_K];
    const float inv_temperature = 1.0f / kern->temperature;
    for (uint64_t i = 0; i < n; i++) {
        float *user = kern->interest + (size_t)pcg32_bounded(&kern->rng, kern->n_users) * d;
        for (uint32_t j = 0; j < k; j++) {
            items[j] = pcg32_bounded(&kern->rng, kern->n_items);
            const float *e = kern->embedding + (size_t)items[j] * d;
            float dot = 0;
            for (uint32_t c = 0; c < d; c++)
                dot += user[c] * e[c];
            scores[j] = dot * inv_temperature;
        }
        int chosen = kernel_choose(scores, k, kern->no_click, pcg32_uniform(&kern->rng));
        if (chosen < 0)
            continue;
        kern->clicks++;
        const float *e = kern->embedding + (size_t)items[chosen] * d;
        for (uint32_t c = 0; c < d; c++)
            user[c] += kern->drift * (e[c] - user[c]);
    }
}

uint64_t kernel_clicks(const kernel_t *kern)
{
    return kern->clicks;
}
