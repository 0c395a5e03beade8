/* PCG32 XSH-RR 64/32: see pcg32.h, which holds the step and the draws of
 * the hot paths inline. Constants and the step are those of the published
 * reference algorithm; the stream derivation and the float and normal
 * draws are recarena's own. */
#include "core/pcg32.h"

#include <math.h>

void pcg32_seed(pcg32_t *rng, uint64_t initstate, uint64_t initseq)
{
    rng->state = 0;
    rng->inc = (initseq << 1) | 1u;
    (void)pcg32_next(rng);
    rng->state += initstate;
    (void)pcg32_next(rng);
}

/* SplitMix64 finaliser: spreads nearby seeds over the whole state space. */
static uint64_t s_mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

void pcg32_stream(pcg32_t *rng, uint64_t seed, uint32_t purpose, uint32_t index)
{
    uint64_t stream_id = ((uint64_t)purpose << 32) | index;
    pcg32_seed(rng, s_mix64(seed ^ s_mix64(stream_id)), s_mix64(stream_id + seed));
}

float pcg32_uniform_f(pcg32_t *rng)
{
    return (float)(pcg32_next(rng) >> 8) * (1.0f / 16777216.0f);
}

double pcg32_normal(pcg32_t *rng)
{
    double u1 = 1.0 - pcg32_uniform(rng); /* (0, 1]: log stays finite */
    double u2 = pcg32_uniform(rng);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
