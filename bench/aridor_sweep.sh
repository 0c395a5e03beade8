#!/usr/bin/env bash
# The figure of docs/experiments.md's Aridor section: Thompson sampling's
# market share against a greedy bandit (scenarios/studies/aridor_competition.ini)
# as competition is relaxed by the random share of users (HardMax&Random).
# usage: bench/aridor_sweep.sh [SEEDS] [SHARES] [RECARENA]   (from the repository root)
# prints: share_random seed thompson_share
set -u
seeds=${1:-"$(seq 1 10)"}
shares=${2:-"0 0.1 0.25 0.5 0.75 0.9"}
bin=${3:-build/sim/recarena}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "share_random seed thompson_share"
for e in $shares; do
    for s in $seeds; do
        "$bin" run scenarios/studies/aridor_competition.ini --seed "$s" --quiet \
            --set world.market_random_share="$e" --out "$tmp/r" >/dev/null 2>&1 ||
            { echo "run failed: share $e seed $s" >&2; exit 1; }
        python3 -c "
import json; m = json.load(open('$tmp/r/summary.json'))
e = m['episodes'][-1]; a = {x['name']: x for x in e['agents']}
print('$e', '$s', round(a['thompson']['share'], 4))"
    done
done
