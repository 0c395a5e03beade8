#!/usr/bin/env bash
# run.log and world.catalog through the real binary: log.npz loads in one
# numpy call, its clicks are ticks.csv's, in-process policies' propensities
# are the hand-computed ones; a file catalog runs; a bad one writes nothing.
# usage: test_catalog_log.sh PATH/TO/recarena SOURCE_DIR
set -u
bin=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { local what=$1; shift; if "$@"; then echo "ok: $what"; else echo "FAIL: $what" >&2; fail=1; fi; }

cat >"$tmp/s.ini" <<'INI'
[run]
ticks = 15
log = true
[world]
n_items = 40
n_users = 200
item_arrival_rate = 0
[agent.r]
policy = random
[agent.p]
policy = popularity
INI
check "run with run.log" "$bin" run "$tmp/s.ini" --out "$tmp/run" --seed 3 >/dev/null
check "log.npz loads; clicks and propensities" /usr/bin/python3 - "$tmp/run" <<'PY'
import csv, sys
import numpy as np
run = sys.argv[1]
d = np.load(run + "/log.npz")
n = len(d["tick"])
assert d["features"].shape == (n, 16) and d["slate"].shape == (n, 5), d["slate"].shape
clicks = sum(int(r["clicks"]) for r in csv.DictReader(open(run + "/ticks.csv")))
assert int((d["clicked"] >= 0).sum()) == clicks, (clicks, (d["clicked"] >= 0).sum())
assert float(d["reward"].sum()) == clicks
requests = sum(int(r["requests"]) for r in csv.DictReader(open(run + "/agents.csv")))
assert n == requests, (n, requests)
rand = d["agent"] == 0
# random: an ordered slate of 5 distinct items out of 40 live ones
assert np.allclose(d["propensity"][rand], 1 / (40 * 39 * 38 * 37 * 36), rtol=1e-12)
assert np.all(d["propensity"][~rand] == 1.0)
assert set(np.unique(d["tick"])) == set(range(15))
PY
check "scenario.ini says log = true" grep -qx "log = true" "$tmp/run/scenario.ini"

# a file catalog (titles with commas, topics) and embeddings as CSV, reduced 3 -> 2
{
    echo "id,title,topic,quality"
    for i in $(seq 0 29); do echo "i$i,\"Item $i, the $((i % 3))rd\",t$((i % 3)),"; done
} >"$tmp/cat.csv"
{
    echo "id,a,b,c"
    for i in $(seq 0 29); do echo "i$i,$i,$((i * i % 7)),1"; done
} >"$tmp/emb.csv"
cat >"$tmp/c.ini" <<INI
[run]
ticks = 5
[world]
catalog = $tmp/cat.csv
item_embeddings = $tmp/emb.csv
n_items = 30
n_topics = 3
dim = 2
n_users = 100
[agent.r]
policy = random
INI
check "run with a file catalog" "$bin" run "$tmp/c.ini" --out "$tmp/crun" >/dev/null
check "exposure.csv has the file's topics" bash -c "awk -F, 'NR>1 && \$2<30 && \$3 != \$2 % 3 {bad=1} END {exit bad}' '$tmp/crun/exposure.csv'"

sed 's/^i7,.*/i7,"oops",t1,high/' "$tmp/cat.csv" >"$tmp/bad.csv"
sed "s#$tmp/cat.csv#$tmp/bad.csv#" "$tmp/c.ini" >"$tmp/bad.ini"
"$bin" run "$tmp/bad.ini" --out "$tmp/badrun" >/dev/null 2>"$tmp/err"
check "bad catalog fails" test $? -ne 0
check "error names key, file and line" grep -q "world.catalog: $tmp/bad.csv:9: quality 'high' is not a finite number" "$tmp/err"
check "nothing written" bash -c "! ls -d '$tmp'/badrun* 2>/dev/null"
# the shipped real catalog (scripts/build-catalog.py): 300 items, 384 -> 16 by PCA
check "shipped Debian catalog runs" bash -c "cd '$src' && '$bin' run scenarios/debian_catalog.ini --ticks 3 --out '$tmp/deb' >/dev/null"
check "its 12 sections are its topics" bash -c "test \$(awk -F, 'NR>1 && \$2<300 {print \$3}' '$tmp/deb/exposure.csv' | sort -u | wc -l) -eq 12"
exit $fail
