#!/usr/bin/env bash
# Protocol 1.2's optional fields end to end, through the real binaries:
# CATALOG.items.titles reach a Python agent equal to the catalog CSV's
# texts (and are absent for a synthetic catalog); ACT.propensity from a
# Python agent and from recarena-bandit's epsilon-greedy lands in log.npz,
# finite and equal to its formula, replayed here from the log alone.
# usage: test_wire_fields.sh PATH/TO/recarena SOURCE_DIR BANDIT_BINARY
set -u
bin=$1
src=$2
bandit=$3
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { local what=$1; shift; if "$@"; then echo "ok: $what"; else echo "FAIL: $what" >&2; fail=1; fi; }
cd "$src" || exit 1

cat >"$tmp/titles.ini" <<INI
[run]
ticks = 3
log = true
[world]
catalog = scenarios/data/debian.csv
item_embeddings = scenarios/data/debian.npy
n_items = 300
n_topics = 12
dim = 16
n_users = 300
item_arrival_rate = 0
[agent.py]
command = $py tests/integration/wire_fields_agent.py --dump $tmp/titles.json
INI
check "debian catalog run with a Python agent" "$bin" run "$tmp/titles.ini" --out "$tmp/titles" --quiet
check "the agent's titles are the CSV's texts; its propensities are in log.npz" \
    $py - "$tmp" <<'PY'
import csv, json, sys
import numpy as np
tmp = sys.argv[1]
got = json.load(open(tmp + "/titles.json"))
rows = list(csv.DictReader(open("scenarios/data/debian.csv", encoding="utf-8")))[:300]
titles = got["titles"]
assert titles is not None and len(titles) == 300, got["repr"]
for i, row in enumerate(rows):
    assert titles[str(i)] == row["text"], (i, titles[str(i)][:60], row["text"][:60])
assert got["repr"] == "Catalog(episode=0, tick=0, 300 items, ids 0..299, dim=16, with titles)", got["repr"]
d = np.load(tmp + "/titles/log.npz")
p = d["propensity"]
assert len(p) > 0 and np.all(np.isfinite(p)), p
assert np.allclose(p, 1 / (300 * 299 * 298 * 297 * 296), rtol=1e-12, atol=0), p[:3]
PY

cat >"$tmp/plain.ini" <<INI
[run]
ticks = 2
[world]
n_items = 50
n_users = 100
[agent.py]
command = $py tests/integration/wire_fields_agent.py --dump $tmp/plain.json
INI
check "a synthetic catalog's run" "$bin" run "$tmp/plain.ini" --out "$tmp/plain" --quiet
check "a synthetic catalog sends no titles" \
    $py -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['titles'] is None, d" \
    "$tmp/plain.json"

# epsilon-greedy through recarena-bandit: 30 items that neither arrive nor
# retire, one agent that serves every user; each logged propensity is
# prod_i eps / (N - i) + (1 - eps) [slate_i is a top remaining arm] / ties
# with the means clicks / pulls the agent had when it drew the slate: a
# slate counts as pulls when drawn, its reward comes with the next STEP.
cat >"$tmp/eg.ini" <<INI
[run]
ticks = 25
log = true
[world]
mode = market
n_items = 30
n_users = 150
slate_size = 3
item_arrival_rate = 0
[agent.eg]
command = $bandit --algo egreedy --epsilon 0.2
INI
check "epsilon-greedy run with run.log" "$bin" run "$tmp/eg.ini" --out "$tmp/eg" --quiet
check "epsilon-greedy's logged propensities equal the formula" $py - "$tmp/eg" <<'PY'
import sys
import numpy as np
d = np.load(sys.argv[1] + "/log.npz")
tick, slate, p = d["tick"], d["slate"], d["propensity"]
clicked, reward = d["clicked"], d["reward"]
assert len(p) > 100 and np.all(np.isfinite(p)) and np.all((p > 0) & (p <= 1)), p
eps, N, k = 0.2, 30, 3
pulls, clicks = np.zeros(N), np.zeros(N)
checked, worst = 0, 0.0
for t in range(int(tick.max()) + 1):
    prev = np.flatnonzero(tick == t - 1)
    for r in prev:                          # the feedback of the last tick
        if clicked[r] >= 0:
            clicks[slate[r, clicked[r]]] += reward[r]
    for r in np.flatnonzero(tick == t):
        mean = np.where(pulls > 0, clicks / np.where(pulls > 0, pulls, 1), 0.0)
        want, shown = 1.0, []
        for i, item in enumerate(slate[r]):
            rest = [a for a in range(N) if a not in shown]
            top = max(mean[a] for a in rest)
            ties = sum(1 for a in rest if mean[a] == top)
            greedy = 1.0 / ties if mean[item] == top else 0.0
            want *= eps / (N - i) + (1 - eps) * greedy
            shown.append(item)
        worst = max(worst, abs(p[r] - want) / want)
        checked += 1
        pulls[slate[r]] += 1
assert worst < 1e-12, worst
print(f"{checked} propensities, largest relative difference {worst:.2g}; "
      f"{np.mean(p > 0.5):.2f} of slates above 0.5")
PY
exit $fail
