#!/usr/bin/env bash
# recarena sweep end to end on a tiny scenario, 2 cells x 3 seeds: every
# run folder is what 'recarena run' makes for the same settings and seed,
# runs.csv has one row per run, study.json's n and means agree with the
# run folders' summary.json, the same command again runs nothing, and a
# bad grid key or a changed grid writes nothing.
# usage: test_sweep.sh PATH/TO/recarena
set -u
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
py=/usr/bin/python3
passed=0
failed=0
check() { # check NAME COMMAND...: the command must succeed
    local name=$1
    shift
    if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $name" >&2; fi
}

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
study=$tmp/study
sweep=("$bin" sweep "$tmp/tiny.ini" --seeds 1-3 --grid world.reward_sharing=0,1 --jobs 2
    --out "$study")
"${sweep[@]}" >"$tmp/out1.txt" 2>"$tmp/err1.txt"
check "sweep succeeds" test $? -eq 0
check "table of the cells printed" grep -q "^world.reward_sharing=1 " "$tmp/out1.txt"
check "quiet in a pipe" test ! -s "$tmp/err1.txt"
for cell in world.reward_sharing=0 world.reward_sharing=1; do
    for seed in 1 2 3; do
        check "run folder $cell/seed$seed" test -f "$study/$cell/seed$seed/summary.json"
    done
done
"$bin" run "$tmp/tiny.ini" --set world.reward_sharing=1 --seed 2 --quiet --no-progress \
    --out "$tmp/direct"
check "a study's run folder is the run's, byte for byte" diff -r "$tmp/direct" \
    "$study/world.reward_sharing=1/seed2"
check "runs.csv: a header and 6 rows" test "$(wc -l <"$study/runs.csv")" -eq 7
check "runs.csv columns" grep -q "^world.reward_sharing,seed,ticks,requests,.*,a.reward," \
    "$study/runs.csv"
check "study.json agrees with the run folders" $py - "$study" <<'PY'
import json, math, sys
d = sys.argv[1]
s = json.load(open(d + "/study.json"))
assert s["runs"] == 6 and len(s["cells"]) == 2, s["runs"]
for cell in s["cells"]:
    runs = [json.load(open(f"{d}/{cell['cell']}/seed{k}/summary.json"))["per_episode"]
            for k in (1, 2, 3)]
    ctr = [r["ctr"] for r in runs]
    m = sum(ctr) / 3
    sd = math.sqrt(sum((x - m) ** 2 for x in ctr) / 2)
    st = cell["system"]["ctr"]
    assert st["n"] == 3 and abs(st["mean"] - m) < 1e-8 and abs(st["sd"] - sd) < 1e-8, st
    # t(0.975, 2) = 4.303
    assert abs(st["ci95_half_width"] - 4.303 * sd / math.sqrt(3)) < 1e-6, st
    rew = [[a for a in r["agents"] if a["name"] == "b"][0]["reward"] for r in runs]
    assert abs(cell["agents"]["b"]["reward"]["mean"] - sum(rew) / 3) < 1e-6
PY

# the same command again: no run, the same files
before=$(find "$study" -name summary.json -newer "$study/grid.json" | wc -l)
touch -d '2000-01-01' "$study"/*/seed*/summary.json
"${sweep[@]}" >"$tmp/out2.txt" 2>&1
check "resume succeeds" test $? -eq 0
check "resume ran nothing" test "$(find "$study" -name summary.json -newer "$study/grid.json" | wc -l)" -eq 0
check "resume reports all runs" grep -q "6 of 6 runs" "$tmp/out2.txt"
check "(runs were newer than the manifest before)" test "$before" -eq 6

# a run removed is the only one done again
rm -rf "$study/world.reward_sharing=0/seed2"
"${sweep[@]}" >/dev/null 2>&1
check "a missing run is redone" test -f "$study/world.reward_sharing=0/seed2/summary.json"
check "only it" test "$(find "$study" -name summary.json -newer "$study/grid.json" | wc -l)" -eq 1

# bad grids: refused, naming the key, nothing written
"$bin" sweep "$tmp/tiny.ini" --seeds 1-3 --grid world.no_such_key=1,2 --out "$tmp/bad" \
    2>"$tmp/bad.txt"
check "unknown key refused" test $? -eq 2
check "unknown key named" grep -q "no_such_key" "$tmp/bad.txt"
check "nothing written" test ! -e "$tmp/bad"
"$bin" sweep "$tmp/tiny.ini" --seeds 1-3 --grid world.reward_sharing=0,2 --out "$tmp/bad" \
    2>"$tmp/bad.txt"
check "out of range refused" test $? -eq 2
check "out of range named" grep -q "reward_sharing=2.*out of range" "$tmp/bad.txt"
check "nothing written (range)" test ! -e "$tmp/bad"
"$bin" sweep "$tmp/tiny.ini" --seeds 3-1 --out "$tmp/bad" 2>"$tmp/bad.txt"
check "backwards seeds refused" test $? -eq 2
"$bin" sweep "$tmp/tiny.ini" --seeds 1-4 --grid world.reward_sharing=0,1 --out "$study" \
    2>"$tmp/bad.txt"
check "changed grid refused" test $? -eq 2
check "changed grid says why" grep -q "different study" "$tmp/bad.txt"

echo "sweep: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
