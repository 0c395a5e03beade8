/* Linear annealing and epsilon-greedy choice (explore.h). */
#include "agents/rl/explore.h"

#include <assert.h>

float explore_linear(uint64_t step, float start, float end, uint64_t steps)
{
    if (steps == 0 || step >= steps)
        return end;
    return start + (end - start) * (float)((double)step / (double)steps);
}

int explore_argmax(const float *values, int n)
{
    assert(n >= 1);
    int best = 0;
    for (int i = 1; i < n; i++)
        if (values[i] > values[best])
            best = i;
    return best;
}

int explore_egreedy(pcg32_t *rng, const float *values, int n, float epsilon)
{
    if (pcg32_uniform_f(rng) < epsilon)
        return (int)pcg32_bounded(rng, (uint32_t)n);
    return explore_argmax(values, n);
}
