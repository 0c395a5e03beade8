/* `recarena sweep`: runs a study (study.h) and aggregates it. Every cell x
 * seed is an ordinary `recarena run` of this same binary into its run
 * folder inside the study folder, as a child process, so runs are
 * isolated and run in parallel; or, with the Slurm backend, one task of a
 * job array each. `recarena compare` reads run folders and cells side by
 * side. docs/studies.md is the guide. */
#ifndef RECARENA_SWEEP_H
#define RECARENA_SWEEP_H

/* recarena sweep ARGS (argv without "recarena sweep"): exit status 0 when
 * every run is done and aggregated, 1 when runs failed, 2 on bad
 * arguments or grid (nothing written), 75 when Slurm tasks are still
 * queued or running, 130 when interrupted. */
int sweep_main(int argc, char **argv);

/* The help of `recarena sweep` (sweep --help, recarena help sweep). */
extern const char sweep_usage[];

#endif
