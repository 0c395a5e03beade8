/* The world's choice model (world.h, docs/world.md "Choice"): scores,
 * position-weighted multinomial logit with a no-click option, satiation
 * decay, and the oracle's best slate. */
#include "sim/world_private.h"

#include <math.h>
#include <string.h>

/* ---- satiation -------------------------------------------------------- */

/* Satiation of user u brought up to tick t (decay per elapsed tick). */
float world_satiation_factor(const world_t *w, int32_t u, int32_t t)
{
    int32_t dt = t - w->sat_tick[u];
    if (dt < WORLD_DECAY_TABLE)
        return w->decay_pow[dt];
    return (float)pow(w->cfg.satiation_decay, dt);
}

void world_touch_satiation(world_t *w, int32_t u)
{
    float f = world_satiation_factor(w, u, w->tick);
    if (f != 1.0f)
        vec_scale(&w->satiation[(size_t)u * w->cfg.n_topics], f, w->cfg.n_topics);
    w->sat_tick[u] = w->tick;
}

/* ---- the choice model ------------------------------------------------ */

/* Position-weighted multinomial logit: v_p = exam_p exp(s_p / T),
 * v_0 = exp(s_0 / T), P(p) = v_p / (v_0 + sum v); every exponent is taken
 * relative to the largest score. */
double world_page_attractions(const world_t *w, int32_t u, float sat_factor, const int32_t *page,
                              double *v, double *v0)
{
    /* locals: the stores to v could alias the world's double fields */
    const world_config_t *cfg = &w->cfg;
    const int k = w->k, dim = w->dim;
    const double quality_weight = cfg->quality_weight, no_click = cfg->no_click_score;
    const float *x = &w->interest[(size_t)u * dim], *emb = w->emb, *exam = w->exam;
    const float *sat = &w->satiation[(size_t)u * cfg->n_topics];
    const world_hot_t *items = w->hot;
    double best = no_click;
    for (int p = 0; p < k; p++) {
        const world_hot_t *it = &items[page[p]];
        double s = vec_dot(x, &emb[(size_t)page[p] * dim], dim) + quality_weight * it->quality -
                   sat_factor * sat[it->topic];
        v[p] = s;
        best = s > best ? s : best;
    }
    double inv_t = 1.0 / cfg->choice_temperature;
    double total = exp((no_click - best) * inv_t);
    *v0 = total;
    for (int p = 0; p < k; p++) {
        v[p] = exam[p] * exp((v[p] - best) * inv_t);
        total += v[p];
    }
    return total;
}

/* Click probabilities (probs: (k)) of page for user u with satiation
 * scaled by sat_factor; returns P(no click). */
double world_page_probs(const world_t *w, int32_t u, float sat_factor, const int32_t *page,
                        double *probs)
{
    double v0, total = world_page_attractions(w, u, sat_factor, page, probs, &v0);
    for (int p = 0; p < w->k; p++)
        probs[p] /= total;
    return v0 / total;
}

double world_choice_probs(const world_t *w, int32_t user, const int32_t *page, double *probs)
{
    return world_page_probs(w, user, world_satiation_factor(w, user, w->tick), page, probs);
}

double world_oracle(const world_t *w, int32_t user, int32_t *best)
{
    const world_config_t *cfg = &w->cfg;
    int k = w->k;
    float factor = world_satiation_factor(w, user, w->tick);
    const float *x = &w->interest[(size_t)user * w->dim];
    const float *sat = &w->satiation[(size_t)user * cfg->n_topics];
    /* top-k live items by score, kept sorted descending */
    int32_t top[PROTO_MAX_SLATE];
    double top_score[PROTO_MAX_SLATE];
    int filled = 0;
    for (int i = 0; i < w->n_live; i++) {
        int32_t id = w->live[i];
        const world_hot_t *it = &w->hot[id];
        double s = vec_dot(x, &w->emb[(size_t)id * w->dim], w->dim) +
                   cfg->quality_weight * it->quality - factor * sat[it->topic];
        if (filled == k && s <= top_score[k - 1])
            continue;
        int p = filled < k ? filled++ : k - 1;
        while (p > 0 && top_score[p - 1] < s) {
            top_score[p] = top_score[p - 1];
            top[p] = top[p - 1];
            p--;
        }
        top_score[p] = s;
        top[p] = id;
    }
    /* examination weights fall with position, so sorted scores maximise
     * sum exam_p v_p, and P(click) = A / (v_0 + A) rises with it */
    double hi = top_score[0] > cfg->no_click_score ? top_score[0] : cfg->no_click_score;
    double inv_t = 1.0 / cfg->choice_temperature;
    double attraction = 0.0;
    for (int p = 0; p < k; p++)
        attraction += w->exam[p] * exp((top_score[p] - hi) * inv_t);
    double v0 = exp((cfg->no_click_score - hi) * inv_t);
    if (best)
        memcpy(best, top, (size_t)k * sizeof *best);
    return attraction / (v0 + attraction);
}
