/* The simulator's random streams: what each PCG32 stream of a run is for
 * (core/pcg32.h, pcg32_stream's purpose). One stream per purpose keeps
 * the draws of one (user arrivals) from shifting when another (choices)
 * draws more or less: common random numbers across agents. */
#ifndef RECARENA_SIM_STREAMS_H
#define RECARENA_SIM_STREAMS_H

/* What a stream is for. The numeric values are part of the replay
 * contract: changing one changes every run's results. */
typedef enum sim_stream {
    SIM_STREAM_CATALOG = 1,       /* initial items */
    SIM_STREAM_POPULATION = 2,    /* initial users */
    SIM_STREAM_ARRIVALS = 3,      /* users returning, platform picks */
    SIM_STREAM_CHOICES = 4,       /* clicks */
    SIM_STREAM_BIRTHS = 5,        /* items arriving mid-run */
    SIM_STREAM_NOISE = 6,         /* public feature noise */
    SIM_STREAM_INTERLEAVE = 7,    /* feed-mode team draft */
    SIM_STREAM_POLICY = 8,        /* built-in policies, per agent */
    SIM_STREAM_METRICS = 9,       /* sampled metrics (user pairs) */
    SIM_STREAM_AGENT = 10,        /* seeds handed to external agents */
    SIM_STREAM_KMEANS = 11,       /* k-means seeding, a file catalog without topics */
    SIM_STREAM_TICK_METRICS = 12, /* per-tick sampled metrics (ticks.csv jaccard), per episode */
} sim_stream_t;

#endif
