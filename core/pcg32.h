/* PCG32 random numbers (XSH-RR 64/32, O'Neill 2014), written here from the
 * published algorithm, plus the draws recarena needs (bounded integers
 * without modulo bias, uniform floats, normals) and named independent
 * streams derived from one run seed.
 *
 * Every random draw of a run comes from a pcg32_t created with
 * pcg32_stream(), so the same seed replays the same run bit for bit and
 * draws for one purpose (user arrivals, say) never shift when another
 * purpose (choices) draws more or less. Lives in core/ because agents
 * built on the SDK use the same generator. */
#ifndef RECARENA_PCG32_H
#define RECARENA_PCG32_H

#include <stdint.h>

/* Generator state; a small value type, embed it and copy it freely. */
typedef struct pcg32 {
    uint64_t state;
    uint64_t inc; /* stream selector; always odd */
} pcg32_t;

/* Seeds exactly as the reference pcg32_srandom_r(initstate, initseq). */
void pcg32_seed(pcg32_t *rng, uint64_t initstate, uint64_t initseq);

/* Seeds the stream for (seed, purpose, index): different triples give
 * generators with different increments, hence independent sequences.
 * purpose names what the draws are for (the simulator's purposes are
 * sim/streams.h); index distinguishes episodes, agents, ... within one
 * purpose. */
void pcg32_stream(pcg32_t *rng, uint64_t seed, uint32_t purpose, uint32_t index);

#define PCG32_MULTIPLIER 6364136223846793005ULL

/* The draws below are inline: the world and the policies make several per
 * interaction, and a call each cost more than the draw. */

/* Next raw 32-bit output. */
static inline uint32_t pcg32_next(pcg32_t *rng)
{
    uint64_t old = rng->state;
    rng->state = old * PCG32_MULTIPLIER + rng->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    uint32_t rot = (uint32_t)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((-rot) & 31u));
}

/* The rejection threshold of pcg32_bounded for bound (>= 1): 2^32 mod
 * bound. An integer division; callers drawing repeatedly with the same
 * bounds may keep it (pcg32_bounded_below). */
static inline uint32_t pcg32_threshold(uint32_t bound)
{
    return (uint32_t)(-bound) % bound;
}

/* pcg32_bounded with its threshold given (pcg32_threshold(bound)): the
 * same draws, one division fewer. */
static inline uint32_t pcg32_bounded_below(pcg32_t *rng, uint32_t bound, uint32_t threshold)
{
    for (;;) {
        uint32_t r = pcg32_next(rng);
        if (r >= threshold)
            return r % bound;
    }
}

/* Uniform integer in [0, bound), bound >= 1, without modulo bias
 * (rejection as in the reference pcg32_boundedrand_r). */
static inline uint32_t pcg32_bounded(pcg32_t *rng, uint32_t bound)
{
    return pcg32_bounded_below(rng, bound, pcg32_threshold(bound));
}

/* Uniform double in [0, 1) with 53 random bits (two raw outputs). */
static inline double pcg32_uniform(pcg32_t *rng)
{
    uint32_t high = pcg32_next(rng) >> 5; /* 27 bits */
    uint32_t low = pcg32_next(rng) >> 6;  /* 26 bits */
    return ((double)high * 67108864.0 + (double)low) * (1.0 / 9007199254740992.0);
}

/* Uniform float in [0, 1) with 24 random bits (one raw output). */
float pcg32_uniform_f(pcg32_t *rng);

/* Standard normal draw (Box-Muller, four raw outputs, no cached state). */
double pcg32_normal(pcg32_t *rng);

/* A 64-bit value from two raw outputs (for deriving seeds). */
static inline uint64_t pcg32_next64(pcg32_t *rng)
{
    uint64_t high = pcg32_next(rng);
    return (high << 32) | pcg32_next(rng);
}

#endif
