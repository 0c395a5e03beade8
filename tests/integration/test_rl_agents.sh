#!/usr/bin/env bash
# The policy-gradient, SlateQ and hierarchical agents (docs/agents.md):
# each passes check-agent, and each beats what it is meant to beat on its
# scenario, over seeds, last episode (seeds 1..5; fewer in a sanitizer
# build; the same seed gives every agent the same users and items):
#   scenarios/longterm.ini  SlateQ beats DQN on every seed, and its myopic
#                           version (--gamma 0) on the mean paired
#                           difference and on all seeds but at most one;
#   scenarios/topics.ini    recarena-hier beats the flat DQN and the
#                           tabular Q-learner on every seed and by 15% on
#                           the mean; recarena-pg beats random on every
#                           seed and by 50% on the mean.
# usage: test_rl_agents.sh PATH/TO/recarena BUILD_AGENTS_DIR SOURCE_DIR
set -u
bin=$1
agents=$2
src=$3
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
seeds="1 2 3 4 5"
if ldd "$agents/recarena-slateq" 2>/dev/null | grep -q libasan; then
    seeds="1 2"
    echo "sanitizer build: seeds $seeds"
fi

check() { # check NAME COMMAND...
    local name=$1
    shift
    if "$@"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL: $name" >&2
    fi
}

for cmd in "recarena-pg" "recarena-pg --learn replay --correction topk" "recarena-slateq" \
    "recarena-slateq --slate greedy" "recarena-hier"; do
    check "check-agent $cmd" bash -c "'$bin' check-agent -- $agents/$cmd >'$tmp/check.txt' 2>&1"
done

# run SCENARIO NAME SEED AGENT: one agent alone, a generous deadline so
# that a loaded machine cannot change results
run() {
    local what=$4
    local set="agent.a.command=$agents/$what"
    [ "${what#policy:}" != "$what" ] && set="agent.a.policy=${what#policy:}"
    timeout 300 "$bin" run "$src/scenarios/$1.ini" --quiet --no-progress --out "$tmp/$2-$3" \
        --seed "$3" --set server.deadline_ms=600000 --set "$set" 2>"$tmp/$2-$3.err"
}

# runs SCENARIO NAME AGENT: every seed, two at a time
runs() {
    local pids=() seed
    for seed in $seeds; do
        run "$1" "$2" "$seed" "$3" &
        pids+=($!)
        if [ ${#pids[@]} -eq 2 ]; then
            check "$2 runs" wait "${pids[0]}"
            check "$2 runs" wait "${pids[1]}"
            pids=()
        fi
    done
    for pid in "${pids[@]}"; do
        check "$2 runs" wait "$pid"
    done
}

# last NAME: the last episode's reward on each seed, space-separated
last() {
    local seed out=""
    for seed in $seeds; do
        out="$out $($py -c "import json; \
print(json.load(open('$tmp/$1-$seed/summary.json'))['episodes'][-1]['agents'][0]['reward'])")"
    done
    echo "$out"
}

# compare A B MIN_AHEAD RATIO: A ahead of B on at least MIN_AHEAD seeds
# (-1: all), and mean(A) > RATIO * mean(B) and mean(A - B) > 0
compare() {
    $py - "$(last "$1")" "$(last "$2")" "$3" "$4" "$1" "$2" <<'EOF'
import sys
a = [float(x) for x in sys.argv[1].split()]
b = [float(x) for x in sys.argv[2].split()]
need = len(a) if int(sys.argv[3]) < 0 else int(sys.argv[3])
ratio = float(sys.argv[4])
ahead = sum(x > y for x, y in zip(a, b))
ma, mb = sum(a) / len(a), sum(b) / len(b)
print(f"{sys.argv[5]} {ma:.1f} vs {sys.argv[6]} {mb:.1f}: ahead on {ahead}/{len(a)} seeds")
sys.exit(0 if ahead >= need and ma > ratio * mb and ma > mb else 1)
EOF
}

runs longterm slateq "recarena-slateq"
runs longterm myopic "recarena-slateq --gamma 0"
runs longterm dqn "recarena-qlearn --algo dqn --reward own"
n=$(echo $seeds | wc -w)
check "slateq beats dqn" compare slateq dqn -1 1.0
check "slateq beats myopic" compare slateq myopic $((n - 1)) 1.0

runs topics hier "recarena-hier"
runs topics tdqn "recarena-qlearn --algo dqn --reward own"
runs topics tabular "recarena-qlearn --algo tabular --reward own"
runs topics pg "recarena-pg"
runs topics random "policy:random"
check "hier beats dqn" compare hier tdqn -1 1.15
check "hier beats tabular" compare hier tabular -1 1.15
check "pg beats random" compare pg random -1 1.5

echo "rl agents: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
