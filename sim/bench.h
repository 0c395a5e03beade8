/* `recarena bench`: throughput figures (not tests). */
#ifndef RECARENA_BENCH_H
#define RECARENA_BENCH_H

/* Runs the benchmark named by argv[0] ("world"); prints figures to stdout.
 * Returns a process exit status. */
int bench_main(int argc, char **argv);

#endif
