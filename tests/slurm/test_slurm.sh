#!/usr/bin/env bash
# recarena sweep --backend slurm against a real one-node Slurm cluster on
# localhost (tests/slurm/cluster.sh; skipped with 77 where that cannot
# run): the study goes in as one job array, the same command again
# collects it, and every run folder is byte-identical to the local
# backend's for the same seeds. A run removed afterwards is resubmitted
# alone. The daemons the test started are stopped.
# usage: test_slurm.sh PATH/TO/recarena
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d /tmp/recarena-slurm.XXXXXX)
chmod 755 "$tmp"
cleanup() { "$here/cluster.sh" stop "$tmp/cluster"; rm -rf "$tmp"; }
trap cleanup EXIT
env=$("$here/cluster.sh" start "$tmp/cluster")
rc=$?
[ $rc -eq 77 ] && exit 77
[ $rc -ne 0 ] && { echo "FAIL: the cluster did not start" >&2; exit 1; }
eval "$env"
passed=0
failed=0
check() { local name=$1; shift
    if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $name" >&2; fi; }

cat >"$tmp/tiny.ini" <<INI
[run]
name = tiny
ticks = 10
episodes = 2
[world]
n_users = 50
n_items = 40
[agent.a]
policy = random
[agent.b]
policy = popularity
INI
cd "$tmp" || exit 1
args=(tiny.ini --seeds 1-3 --grid world.reward_sharing=0,1)
"$bin" sweep "${args[@]}" --out local --jobs 2 >/dev/null
check "local study" test $? -eq 0

# submit, then collect until done (at most 120 s)
collect() {
    local rc=75
    for _ in $(seq 240); do
        "$bin" sweep "${args[@]}" --out onslurm --backend slurm >"$tmp/collect.txt" 2>&1
        rc=$?
        [ $rc -ne 75 ] && break
        sleep 0.5
    done
    return $rc
}
"$bin" sweep "${args[@]}" --out onslurm --backend slurm >"$tmp/submit.txt" 2>&1
check "submitted (75: pending)" test $? -eq 75
check "one job array" grep -q "submitted Slurm job [0-9]*: 6 task(s) (0-5)" "$tmp/submit.txt"
collect
check "collected" test $? -eq 0
check "collect printed the table" grep -q "6 of 6 runs" "$tmp/collect.txt"
for cell in world.reward_sharing=0 world.reward_sharing=1; do
    for seed in 1 2 3; do
        check "$cell/seed$seed as the local backend's" diff -r "local/$cell/seed$seed" \
            "onslurm/$cell/seed$seed"
    done
done
check "runs.csv as the local one" cmp local/runs.csv onslurm/runs.csv

# a missing run: reported and resubmitted alone
rm -rf "onslurm/world.reward_sharing=1/seed2"
"$bin" sweep "${args[@]}" --out onslurm --backend slurm >"$tmp/resubmit.txt" 2>&1
check "missing task reported" grep -q "1 run(s) missing or failed.*tasks 4 " "$tmp/resubmit.txt"
check "resubmitted alone" grep -q "1 task(s) (4)" "$tmp/resubmit.txt"
collect
check "collected again" test $? -eq 0
check "the run is back" diff -r "local/world.reward_sharing=1/seed2" \
    "onslurm/world.reward_sharing=1/seed2"

echo "slurm: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
