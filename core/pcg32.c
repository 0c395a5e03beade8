/* PCG32 XSH-RR 64/32: see pcg32.h. Constants and the step are those of
 * the published reference algorithm; the stream derivation and the float
 * and normal draws are recarena's own. */
#include "core/pcg32.h"

#include <math.h>

#define PCG32_MULTIPLIER 6364136223846793005ULL

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

uint32_t pcg32_next(pcg32_t *rng)
{
    uint64_t old = rng->state;
    rng->state = old * PCG32_MULTIPLIER + rng->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    uint32_t rot = (uint32_t)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((-rot) & 31u));
}

uint32_t pcg32_bounded(pcg32_t *rng, uint32_t bound)
{
    uint32_t threshold = (uint32_t)(-bound) % bound;
    for (;;) {
        uint32_t r = pcg32_next(rng);
        if (r >= threshold)
            return r % bound;
    }
}

double pcg32_uniform(pcg32_t *rng)
{
    uint32_t high = pcg32_next(rng) >> 5; /* 27 bits */
    uint32_t low = pcg32_next(rng) >> 6;  /* 26 bits */
    return ((double)high * 67108864.0 + (double)low) * (1.0 / 9007199254740992.0);
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

uint64_t pcg32_next64(pcg32_t *rng)
{
    uint64_t high = pcg32_next(rng);
    return (high << 32) | pcg32_next(rng);
}
