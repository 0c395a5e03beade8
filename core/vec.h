/* Small float vector kernels shared by the world and its bare kernel
 * (sim/world*.c, sim/kernel.c), written with SIMD lanes of four floats or two doubles (GCC's
 * vector extension, so SSE on x86-64, NEON on ARM, plain code elsewhere).
 *
 * Every result is bit for bit that of the scalar loop written in each
 * comment: the lanes are the four partial sums of the dot product in
 * their fixed order, and element-wise operations are per element the
 * same IEEE operations. Nothing is reassociated and nothing is fused
 * (the project builds with -ffp-contract=off). */
#ifndef RECARENA_CORE_VEC_H
#define RECARENA_CORE_VEC_H

#include <math.h>
#include <string.h>

typedef float vec_f4 __attribute__((vector_size(16)));

typedef double vec_d2 __attribute__((vector_size(16)));

static inline vec_d2 vec_load_d2(const double *p)
{
    vec_d2 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline vec_f4 vec_load4(const float *p)
{
    vec_f4 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void vec_store4(float *p, vec_f4 v)
{
    memcpy(p, &v, sizeof v);
}

/* (part[0] + part[1]) + (part[2] + part[3]), the two inner sums formed
 * in lanes 0 and 2 of one vector addition. */
static inline float vec_sum_pairs(vec_f4 part)
{
    vec_f4 swapped = {part[1], part[0], part[3], part[2]};
    vec_f4 pairs = part + swapped;
    return pairs[0] + pairs[2];
}

/* The dot product of a and b (n floats each) with four partial sums,
 *
 *     part[l] += a[i + l] * b[i + l]  for i = 0, 4, 8, ... (while i + 4 <= n)
 *     sum = (part[0] + part[1]) + (part[2] + part[3]), then the tail in order,
 *
 * one SIMD lane per partial sum; written out for 16 dimensions (the
 * default dim of a world). */
static inline float vec_dot(const float *a, const float *b, int n)
{
    vec_f4 part = {0.0f, 0.0f, 0.0f, 0.0f};
    if (n == 16) {
        part += vec_load4(a) * vec_load4(b);
        part += vec_load4(a + 4) * vec_load4(b + 4);
        part += vec_load4(a + 8) * vec_load4(b + 8);
        part += vec_load4(a + 12) * vec_load4(b + 12);
        return vec_sum_pairs(part);
    }
    int i = 0;
    for (; i + 4 <= n; i += 4)
        part += vec_load4(a + i) * vec_load4(b + i);
    float sum = vec_sum_pairs(part);
    for (; i < n; i++)
        sum += a[i] * b[i];
    return sum;
}

/* v (n floats) divided by its norm sqrtf(vec_dot(v, v, n)), unless that is
 * zero: v[i] /= norm. */
static inline void vec_normalize(float *v, int n)
{
    float norm = sqrtf(vec_dot(v, v, n));
    if (!(norm > 0.0f))
        return;
    vec_f4 by = {norm, norm, norm, norm};
    int i = 0;
    for (; i + 4 <= n; i += 4)
        vec_store4(v + i, vec_load4(v + i) / by);
    for (; i < n; i++)
        v[i] /= norm;
}

/* x (n floats) moved toward e by rate: x[i] += rate * (e[i] - x[i]). */
static inline void vec_drift(float *x, const float *e, float rate, int n)
{
    vec_f4 r = {rate, rate, rate, rate};
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        vec_f4 xi = vec_load4(x + i);
        vec_store4(x + i, xi + r * (vec_load4(e + i) - xi));
    }
    for (; i < n; i++)
        x[i] += rate * (e[i] - x[i]);
}

/* x (n floats) scaled: x[i] *= f. */
static inline void vec_scale(float *x, float f, int n)
{
    vec_f4 by = {f, f, f, f};
    int i = 0;
    for (; i + 4 <= n; i += 4)
        vec_store4(x + i, vec_load4(x + i) * by);
    for (; i < n; i++)
        x[i] *= f;
}

/* out (n floats) = a + b element-wise: out[i] = a[i] + b[i]. */
static inline void vec_add(float *out, const float *a, const float *b, int n)
{
    int i = 0;
    for (; i + 4 <= n; i += 4)
        vec_store4(out + i, vec_load4(a + i) + vec_load4(b + i));
    for (; i < n; i++)
        out[i] = a[i] + b[i];
}

#endif
