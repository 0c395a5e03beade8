/* `recarena bench`: throughput figures (not tests). */
#ifndef RECARENA_BENCH_H
#define RECARENA_BENCH_H

/* The help text of `recarena bench` (what `bench --help` prints). */
extern const char bench_usage[];

/* Runs the benchmark named by argv[0] ("world" or "wire"); prints figures
 * to stdout; -h or --help anywhere prints bench_usage instead. Returns a
 * process exit status. */
int bench_main(int argc, char **argv);

#endif
