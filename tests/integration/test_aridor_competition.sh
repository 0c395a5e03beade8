#!/usr/bin/env bash
# Aridor, Mansour, Slivkins, Wu (competing bandits), over 12 seeds of
# scenarios/studies/aridor_competition.ini, paired by seed:
#  1. under strong competition (public reputation, hard max) the greedy
#     bandit is not beaten: Thompson's market share has a 95% CI below 1/2;
#  2. relaxing competition (half the users pick at random: HardMax&Random)
#     rewards exploration: Thompson's share rises, paired t > 2.2 (the 95%
#     two-sided critical value at 11 degrees of freedom), and its mean
#     is above 1/2.
# usage: test_aridor_competition.sh SOURCE_DIR BUILD_DIR
set -u
cd "$1" || exit 1
out=$(bash bench/aridor_sweep.sh "$(seq 1 12)" "0 0.5" "$2/sim/recarena") || { echo "FAIL: sweep" >&2; exit 1; }
python3 - "$out" <<'PY'
import math, statistics as st, sys
rows = [l.split() for l in sys.argv[1].splitlines()[1:]]
by = {}
for e, s, v in rows:
    by.setdefault(e, {})[s] = float(v)
hard, relaxed = by["0"], by["0.5"]
seeds = sorted(hard)
def ci(xs):
    m, se = st.mean(xs), st.stdev(xs) / math.sqrt(len(xs))
    return m, m - 2.201 * se, m + 2.201 * se
m, lo, hi = ci([hard[s] for s in seeds])
print(f"hard max: thompson share {m:.3f} (95% CI {lo:.3f} to {hi:.3f})")
d = [relaxed[s] - hard[s] for s in seeds]
dm, dlo, dhi = ci(d)
t = dm / (st.stdev(d) / math.sqrt(len(d)))
mr = st.mean(relaxed[s] for s in seeds)
print(f"random share 0.5: thompson share {mr:.3f}; paired gain {dm:.3f} (95% CI {dlo:.3f} to {dhi:.3f}, t {t:.1f})")
ok = hi < 0.5 and t > 2.201 and mr > 0.5
print("aridor_competition: " + ("ok" if ok else "FAIL"))
sys.exit(0 if ok else 1)
PY
