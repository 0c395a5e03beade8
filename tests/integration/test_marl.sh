#!/usr/bin/env bash
# The learning agents on the cooperative feed (scenarios/coop_feed.ini) at a
# small, fast size: teams of three random, tabular Q, DQN, independent DDPG
# and MADDPG agents over three seeds (two in a sanitizer build). Each
# learning team's reward in the last episode must beat the random team's on
# every seed, and be at least `margin` times it on the mean over seeds.
# Also: both agents pass check-agent, and their checkpoints are written at
# episode ends and loaded at start.
# usage: test_marl.sh PATH/TO/recarena RANDOM_AGENT QLEARN_AGENT MADDPG_AGENT SOURCE_DIR
set -u
bin=$1
random=$2
qlearn=$3
maddpg=$4
src=$5
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
seeds="1 2 3"
margin=1.3
# a sanitizer build trains several times slower: two seeds there
if ldd "$maddpg" 2>/dev/null | grep -q libasan; then
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

# run OUT SEED EPISODES TICKS COMMAND: a team of three COMMAND agents, small
# size; the generous deadline keeps a loaded machine from changing results
run() {
    local out=$1 seed=$2 episodes=$3 ticks=$4 cmd=$5
    timeout 400 "$bin" run "$src/scenarios/coop_feed.ini" --quiet --no-progress --out "$tmp/$out" \
        --seed "$seed" --episodes "$episodes" --set "run.ticks=$ticks" --set world.n_users=200 \
        --set world.n_items=300 --set server.deadline_ms=60000 \
        --set "agent.a.command=$cmd" --set "agent.b.command=$cmd" --set "agent.c.command=$cmd" \
        2>"$tmp/$out.err"
}

# runs TEAM COMMAND: the team on every seed at once (three agents on two
# cores leave a core idle part of the time)
runs() {
    local pids=() seed
    for seed in $seeds; do
        run "$1-$seed" "$seed" 4 150 "$2" &
        pids+=($!)
    done
    for seed in $seeds; do
        check "$1 seed $seed" wait "${pids[0]}"
        pids=("${pids[@]:1}")
    done
}

# team OUT: the team's reward in the last episode (every agent's reward is
# the team's with reward_sharing = 1; the mean guards against rounding)
team() {
    $py -c "import json; e=json.load(open('$tmp/$1/summary.json'))['episodes'][-1]; \
print(sum(a['reward'] for a in e['agents']) / len(e['agents']))"
}

declare -A cmds=(
    [tabular]="$qlearn --algo tabular"
    [dqn]="$qlearn --algo dqn"
    [ddpg]="$maddpg --local-critic 1"
    [maddpg]="$maddpg"
)
runs random "$random"
for algo in tabular dqn ddpg maddpg; do
    runs "$algo" "${cmds[$algo]}"
    ratios=()
    for seed in $seeds; do
        r=$(team "$algo-$seed")
        b=$(team "random-$seed")
        check "$algo beats random on seed $seed ($r vs $b)" $py -c "assert $r > $b"
        ratios+=("$r / $b")
        echo "$algo seed $seed: team reward $r, random $b"
    done
    mean=$($py -c "print(round(($(
        IFS=+
        echo "${ratios[*]}"
    )) / ${#ratios[@]}, 3))")
    echo "$algo: mean ratio to random $mean (needs $margin)"
    check "$algo margin $mean >= $margin" $py -c "assert $mean >= $margin"
done

# the protocol cases of recarena check-agent
check "check-agent dqn" "$bin" check-agent -- $qlearn --algo dqn >"$tmp/ca1.log" 2>&1
check "check-agent maddpg" "$bin" check-agent -- $maddpg >"$tmp/ca2.log" 2>&1

# checkpoints: saved at each episode end, then a run starts from them
mkdir "$tmp/ckpt"
check "maddpg saves" run save 1 2 20 "$maddpg --save $tmp/ckpt"
check "maddpg files" test -s "$tmp/ckpt/a-actor.bin" -a -s "$tmp/ckpt/c-critic.bin"
check "dqn saves" run qsave 1 2 20 "$qlearn --algo dqn --save $tmp/ckpt"
check "dqn file" test -s "$tmp/ckpt/b-q.bin"
check "maddpg loads" run load 1 1 20 "$maddpg --load $tmp/ckpt"
check "maddpg said loaded" grep -q "loaded $tmp/ckpt/a-actor.bin" "$tmp/load/agent-a.log"
check "dqn loads" run qload 1 1 20 "$qlearn --algo dqn --load $tmp/ckpt"
check "dqn said loaded" grep -q "loaded $tmp/ckpt/c-q.bin" "$tmp/qload/agent-c.log"
# a missing checkpoint: the agent names it and leaves (the run goes on
# with the server's fallback for it)
check "missing checkpoint" run noload 1 1 20 "$maddpg --load $tmp/nowhere"
check "missing checkpoint: named" grep -q "cannot load a checkpoint: $tmp/nowhere/a-actor.bin" \
    "$tmp/noload/agent-a.log"
check "missing checkpoint: agent left" grep -q "agent a said BYE" "$tmp/noload.err"

echo "marl: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
