#!/bin/bash
# The --jobs figure of docs/benchmarks.md: the CPU-bound study
# scenarios/studies/jobs_bench.ini (8 runs of built-in policies, one process
# each), run with --jobs 1 and --jobs 2 alternately, 3 times; prints the wall
# seconds of each and the load average at its end. Run from anywhere after
# make build.
cd "$(dirname "$0")/.." || exit 1
for rep in 1 2 3; do
  for j in 1 2; do
    rm -rf "${TMPDIR:-/tmp}/sweep-jobs-study"
    s=$(date +%s.%N)
    build/sim/recarena sweep scenarios/studies/jobs_bench.ini --seeds 1-8 --jobs $j --out "${TMPDIR:-/tmp}/sweep-jobs-study" >/dev/null 2>&1
    e=$(date +%s.%N)
    echo "rep $rep jobs $j wall $(echo "$e - $s" | bc) load $(cut -d' ' -f1 /proc/loadavg)"
  done
done
