#!/usr/bin/env bash
# Chaney, Stewart, Engelhardt (RecSys 2018), over 12 seeds of
# scenarios/studies/chaney_homogenization.ini, paired by seed against
# policy = ideal (the top-k by true utility):
#  1. recommenders trained on the feedback they caused (popularity, a
#     Thompson bandit) make consumption more homogeneous: the mean
#     Jaccard of consumed sets rises, paired t > 2.201 (the 95% two-sided
#     critical value at 11 degrees of freedom);
#  2. without a gain in utility: welfare against the users' initial
#     interests falls, paired t < -2.201;
#  3. random recommendations are less homogeneous than ideal ones (t < -2.201),
#     as in the paper's figures.
# usage: test_chaney_homogenization.sh SOURCE_DIR BUILD_DIR
set -u
cd "$1" || exit 1
build=$2
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
sc=scenarios/studies/chaney_homogenization.ini
sed "s|^policy = ideal|command = $build/agents/recarena-bandit --algo thompson|" "$sc" > "$tmp/thompson.ini"
for seed in $(seq 1 12); do
  for rec in ideal popularity random; do
    "$build/sim/recarena" run "$sc" --seed "$seed" --set "agent.rec.policy=$rec" \
      --out "$tmp/$rec-$seed" > /dev/null 2>&1 || { echo "FAIL: run $rec seed $seed" >&2; exit 1; }
  done
  "$build/sim/recarena" run "$tmp/thompson.ini" --seed "$seed" --out "$tmp/thompson-$seed" \
    > /dev/null 2>&1 || { echo "FAIL: run thompson seed $seed" >&2; exit 1; }
done
python3 - "$tmp" <<'PY'
import json, math, statistics as st, sys
tmp = sys.argv[1]
seeds = range(1, 13)
def fig(rec, seed, key):
    return json.load(open(f"{tmp}/{rec}-{seed}/summary.json"))["episodes"][0][key]
def paired(rec, key):
    d = [fig(rec, s, key) - fig("ideal", s, key) for s in seeds]
    m, se = st.mean(d), st.stdev(d) / math.sqrt(len(d))
    return m, m / se if se > 0 else math.copysign(math.inf, m)
ok = True
for key in ("jaccard", "welfare_initial"):
    print(f"ideal {key}: {st.mean(fig('ideal', s, key) for s in seeds):.4f}")
for rec in ("popularity", "thompson", "random"):
    (dj, tj), (dw, tw) = paired(rec, "jaccard"), paired(rec, "welfare_initial")
    print(f"{rec} - ideal: jaccard {dj:+.4f} (t {tj:.1f}), welfare_initial {dw:+.1f} (t {tw:.1f})")
    if rec == "random":
        ok = ok and tj < -2.201 and tw < -2.201
    else:
        ok = ok and tj > 2.201 and tw < -2.201
print("chaney_homogenization: " + ("ok" if ok else "FAIL"))
sys.exit(0 if ok else 1)
PY
