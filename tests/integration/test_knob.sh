#!/usr/bin/env bash
# The cooperation knob reaches the learners: scenarios/studies/knob_feed.ini
# (three Thompson bandits, feed mode, diversity bonus) at
# world.reward_sharing 0 and 1, 8 seeds paired: the exposure Gini and the
# team reward differ, each with |paired t| > 2.36 (95%, 7 degrees of freedom).
# usage: test_knob.sh SOURCE_DIR BUILD_DIR
set -u
cd "$1" || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for a in 0 1; do
    for s in 1 2 3 4 5 6 7 8; do
        "$2/sim/recarena" run scenarios/studies/knob_feed.ini --seed $s --quiet \
            --set world.reward_sharing=$a --out "$tmp/r" >/dev/null 2>&1 || { echo "FAIL: run" >&2; exit 1; }
        python3 -c "
import json, csv
e = json.load(open('$tmp/r/summary.json'))['episodes'][-1]
t = list(csv.DictReader(open('$tmp/r/ticks.csv')))
cov = sum(float(r['topics_consumed_share']) for r in t) / len(t)
print($a, $s, cov, e['gini'], sum(x['reward'] for x in e['agents']) / len(e['agents']))" >>"$tmp/rows"
    done
done
python3 - "$tmp/rows" <<'PY'
import math, statistics as st, sys
rows = [l.split() for l in open(sys.argv[1])]
v = {(r[0], r[1]): [float(x) for x in r[2:]] for r in rows}
seeds = sorted({r[1] for r in rows})
ok = True
for i, name in enumerate(["topic coverage", "exposure gini", "team reward"]):
    d = [v[("1", s)][i] - v[("0", s)][i] for s in seeds]
    t = st.mean(d) / (st.stdev(d) / math.sqrt(len(d))) if st.stdev(d) > 0 else 0.0
    m0 = st.mean(v[("0", s)][i] for s in seeds); m1 = st.mean(v[("1", s)][i] for s in seeds)
    print(f"{name}: sharing 0 {m0:.4f}, sharing 1 {m1:.4f}, paired diff {st.mean(d):+.4f} (t {t:.1f})")
    if name != "topic coverage" and abs(t) <= 2.365:
        ok = False
print("knob: " + ("ok" if ok else "FAIL"))
sys.exit(0 if ok else 1)
PY
