#!/usr/bin/env bash
# recarena compare and recarena plot STUDY end to end, against figures
# recomputed here: two run folders side by side (each one run: its
# summary.json's per-episode figures, no CI); two cells of a 2 x 3 study
# (means and 95% CIs from runs.csv, and the difference paired by seed:
# mean of the per-seed differences +- t(0.975, 2) = 4.303 times their sd
# over sqrt(3)); a bad item refused naming it; and the pictures, when the
# viewer is built, written as PNGs of the size asked.
# usage: test_compare.sh PATH/TO/recarena [PATH/TO/recarena-view]
set -u
bin=$1
view=${2:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
py=/usr/bin/python3
passed=0
failed=0
check() {
    local name=$1
    shift
    if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $name" >&2; fi
}

# reward sharing changes the agents' rewards (not what they do)
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
"$bin" run "$tmp/tiny.ini" --seed 1 --quiet --no-progress --out "$tmp/r1" >/dev/null 2>&1
"$bin" run "$tmp/tiny.ini" --seed 2 --quiet --no-progress --out "$tmp/r2" >/dev/null 2>&1
"$bin" compare "$tmp/r1" "$tmp/r2" --csv >"$tmp/runs.csv"
check "compare two runs succeeds" test $? -eq 0
check "two runs: each figure is its summary.json's, n = 1, no CI, no pairing" \
    $py - "$tmp" <<'PY'
import csv, json, sys
d = sys.argv[1]
rows = list(csv.DictReader(open(d + "/runs.csv")))
for run in ("r1", "r2"):
    per = json.load(open(f"{d}/{run}/summary.json"))["per_episode"]
    want = {k: v for k, v in per.items() if isinstance(v, (int, float))}
    for a in per["agents"]:
        want.update({f"{a['name']}.{k}": v for k, v in a.items() if isinstance(v, (int, float))})
    got = {r["figure"]: r for r in rows if r["item"] == run}
    assert set(got) == set(want), (set(got) ^ set(want))
    for k, v in want.items():
        r = got[k]
        assert r["n"] == "1" and abs(float(r["mean"]) - v) <= 1e-8 * max(1, abs(v)), (k, r, v)
        assert r["ci95_low"] == "" and r["ci95_high"] == "", r
assert not any("-" in r["item"] for r in rows), "seeds 1 and 2 share no seed: no pairing"
PY
"$bin" compare "$tmp/r1" "$tmp/r2" >"$tmp/table.txt"
check "the table names A and B" grep -q "^B = $tmp/r2 (1 run)" "$tmp/table.txt"
check "the table has a row per figure" grep -q "^a.reward " "$tmp/table.txt"

study=$tmp/study
"$bin" sweep "$tmp/tiny.ini" --seeds 1-3 --grid world.reward_sharing=0,1 --jobs 2 \
    --out "$study" >/dev/null 2>&1
check "sweep succeeds" test -f "$study/runs.csv"
"$bin" compare "$study/world.reward_sharing=0" "$study/world.reward_sharing=1/" --csv \
    >"$tmp/cells.csv"
check "compare two cells succeeds" test $? -eq 0
check "two cells: means, CIs and paired differences agree with runs.csv" \
    $py - "$study/runs.csv" "$tmp/cells.csv" <<'PY'
import csv, math, sys
runs = list(csv.DictReader(open(sys.argv[1])))
rows = {(r["figure"], r["item"]): r for r in csv.DictReader(open(sys.argv[2]))}
T2 = 4.303  # t(0.975, 2 df)
def ci(xs):
    n = len(xs); m = sum(xs) / n
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (n - 1))
    return m, m - T2 * sd / math.sqrt(n), m + T2 * sd / math.sqrt(n)
def close(a, b):
    return abs(a - b) <= 1e-6 * max(1.0, abs(b))
A, B = "world.reward_sharing=0", "world.reward_sharing=1"
checked = 0
for fig in ("a.reward", "b.reward", "a.share", "gini", "ctr"):
    by = {v: {r["seed"]: float(r[fig]) for r in runs if r["world.reward_sharing"] == v}
          for v in ("0", "1")}
    for v, item in (("0", A), ("1", B)):
        m, lo, hi = ci([by[v][s] for s in ("1", "2", "3")])
        r = rows[(fig, item)]
        assert r["n"] == "3" and close(float(r["mean"]), m), (fig, item, r, m)
        assert close(float(r["ci95_low"]), lo) and close(float(r["ci95_high"]), hi), (r, lo, hi)
    m, lo, hi = ci([by["1"][s] - by["0"][s] for s in ("1", "2", "3")])
    r = rows[(fig, f"{B}-{A}")]
    assert r["n"] == "3" and close(float(r["mean"]), m), (fig, r, m)
    if hi > lo:
        assert close(float(r["ci95_low"]), lo) and close(float(r["ci95_high"]), hi), (r, lo, hi)
    checked += 1
assert checked == 5
PY
"$bin" compare "$tmp/r1" "$tmp/nowhere" >/dev/null 2>"$tmp/err.txt"
check "a missing item is refused" test $? -ne 0
check "... naming it" grep -q "nowhere" "$tmp/err.txt"
"$bin" compare "$tmp/r1" >/dev/null 2>&1
check "one item is a usage error" test $? -eq 2

if [ -n "$view" ]; then
    "$bin" compare "$study/world.reward_sharing=0" "$study/world.reward_sharing=1" \
        --plot "$tmp/compare.png" >/dev/null
    check "compare --plot writes a PNG" test -s "$tmp/compare.png"
    "$bin" plot "$study" --x world.reward_sharing --y reward --size 640x400 >/dev/null
    check "plot STUDY writes STUDY/reward_vs_KEY.png" \
        test -s "$study/reward_vs_world.reward_sharing.png"
    check "... 640x400" $py -c "
import struct, sys
b = open(sys.argv[1], 'rb').read(24)
assert b[:8] == b'\x89PNG\r\n\x1a\n' and struct.unpack('>II', b[16:24]) == (640, 400)
" "$study/reward_vs_world.reward_sharing.png"
    "$bin" plot "$study" --x world.nope --y reward >/dev/null 2>"$tmp/err.txt"
    check "plot: an unknown --x is refused naming it" grep -q "world.nope" "$tmp/err.txt"
    "$bin" plot "$study" --x world.reward_sharing --y nope >/dev/null 2>"$tmp/err.txt"
    check "plot: an unknown figure is refused naming it" grep -q "'nope'" "$tmp/err.txt"
fi
echo "compare: $passed passed, $failed failed"
test "$failed" -eq 0
