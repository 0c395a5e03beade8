#!/usr/bin/env bash
# The bandit agent process end to end: its command line, the market
# scenario with three bandit platforms (share, reward and per-platform
# exposure in the report), and a shortened bench/compare_bandits.py
# asserting that every learning algorithm (meta-linucb and recarena-mf
# included) beats random and popularity on
# the default scenario's world (3 seeds, 1 episode of 100 ticks, 1,000
# users, no oracle: regret is not needed for the check, and the oracle is
# most of the run time; the README's table is the full 10-seed run).
# usage: test_bandits.sh PATH/TO/recarena PATH/TO/recarena-bandit SOURCE_DIR
set -u
bin=$1
agent=$2
src=$3
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

check() { # check NAME COMMAND...: the command must succeed
    local name=$1
    shift
    if "$@"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL: $name" >&2
    fi
}

# the command line
check "help lists the algorithms" bash -c "'$agent' --help | grep -q 'egreedy-decay'"
rc=0
"$agent" --algo ucb2 --endpoint ipc:///nonexistent --name x 2>"$tmp/err" || rc=$?
check "unknown algorithm refused" test "$rc" -eq 2
check "the bad option is named" grep -qF -- "--algo ucb2" "$tmp/err"
rc=0
"$agent" --algo egreedy --epsilon 1.5 --endpoint ipc:///nonexistent --name x 2>/dev/null || rc=$?
check "epsilon out of range refused" test "$rc" -eq 2
for bad in "--rerank mmx" "--rerank-lambda 1.5" "--rerank-pool 0" "--meta-alpha -1"; do
    rc=0
    # shellcheck disable=SC2086 # the option and its value are two words
    "$agent" --algo linucb $bad --endpoint ipc:///nonexistent --name x 2>"$tmp/err" || rc=$?
    check "$bad refused" test "$rc" -eq 2
    check "$bad named" grep -qF -- "${bad%% *}" "$tmp/err"
done
check "help lists re-ranking" bash -c "'$agent' --help | grep -q -- '--rerank-lambda'"

# scenarios start their agents as build/agents/...: run from a folder
# whose build/ is the build under test
build=$(cd "$(dirname "$agent")/.." && pwd)
mkdir "$tmp/root"
ln -s "$build" "$tmp/root/build"
cd "$tmp/root" || exit 1

quick=(--set run.ticks=30 --set world.n_users=400 --no-progress --quiet)
check "market scenario" "$bin" run "$src/scenarios/market.ini" "${quick[@]}" --out "$tmp/m"
check "three platforms share the market" $py -c "
import json
d = json.load(open('$tmp/m/summary.json'))
for e in d['episodes']:
    a = e['agents']
    assert [x['name'] for x in a] == ['greedy', 'ucb1', 'thompson'], a
    assert abs(sum(x['share'] for x in a) - 1) < 1e-6 and all(x['requests'] > 0 for x in a)
    assert all(x['fallback_missed'] == 0 and x['fallback_invalid'] == 0 for x in a)
"
$py "$src/bench/platforms.py" "$tmp/m" >"$tmp/platforms.txt" 2>&1
check "platforms report" test -s "$tmp/platforms.txt"
for p in greedy ucb1 thompson; do # a Gini in [0, 1] for every platform and episode
    check "exposure of $p" test "$(grep -cE "^ +[01]  $p +[0-9.]+ +[0-9]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[01]\.[0-9]{4} " \
        "$tmp/platforms.txt")" -eq 2
done

# the default scenario's default agents run too
check "default scenario" "$bin" run "$src/scenarios/default.ini" "${quick[@]}" --out "$tmp/d"

# every learner beats both baselines (a shortened compare; --jobs 4: two
# runs at once, each a server and its agent)
check "learners beat random and popularity" \
    $py "$src/bench/compare_bandits.py" --build "$build" --seeds 3 --jobs 4 \
    --set run.ticks=100 --set run.episodes=1 --set world.n_users=1000 \
    --set world.oracle=false --check

echo "bandits: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
