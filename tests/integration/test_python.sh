#!/usr/bin/env bash
# The Python client and agents (agents/python) against the real server,
# beside a C SDK agent: conformance (check-agent), a multi-episode run that
# replays byte for byte, serve mode, LinUCB beating random, and the
# PettingZoo-style environment (test_python_env.py).
# usage: test_python.sh PATH/TO/recarena PATH/TO/recarena-agent-random SOURCE_DIR
set -u
bin=$1
agent=$2
src=$3
py=/usr/bin/python3
pyagents=$src/agents/python
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# every process this test starts inherits the tag, so the stray-agent
# check below sees only this test's agents, not those of tests running
# beside it
export RECARENA_TEST_TAG="python-$$"
passed=0
failed=0

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

# field RUN EPISODE AGENT KEY: a figure from RUN's summary.json
field() {
    $py -c "import json; d=json.load(open('$tmp/$1/summary.json')); \
print([a for a in d['episodes'][$2]['agents'] if a['name']=='$3'][0]['$4'])"
}

# conformance: the checker's scripted server
for a in random_agent.py linucb_agent.py; do
    check "check-agent $a" "$bin" check-agent -- $py "$pyagents/$a"
done

# a Python agent beside a C SDK agent and an in-process one, 3 episodes,
# items born and retired; the same seed replays byte for byte
cat >"$tmp/mixed.ini" <<EOF
[run]
ticks = 40
episodes = 3
seed = 4
[world]
n_users = 400
n_items = 120
item_lifetime = 60
[server]
deadline_ms = 20000
[agent.py]
command = $py $pyagents/random_agent.py
[agent.c]
command = $agent
[agent.pop]
policy = popularity
EOF
run() { # run OUT SCENARIO [ARGS...]
    local out=$1 scenario=$2
    shift 2
    timeout 120 "$bin" run "$scenario" --quiet --no-progress --out "$tmp/$out" "$@" \
        2>"$tmp/$out.err"
}
check "python + C run" run mixed1 "$tmp/mixed.ini"
for e in 0 1 2; do
    check "python served, episode $e" test "$(field mixed1 $e py requests)" -gt 0
    check "C served, episode $e" test "$(field mixed1 $e c requests)" -gt 0
done
check "python never fell back" test "$(field mixed1 2 py fallback_missed)" -eq 0
check "python no invalid ACT" test "$(field mixed1 2 py invalid_acts)" -eq 0
check "python replay" run mixed2 "$tmp/mixed.ini"
check "python replay identical" cmp -s "$tmp/mixed1/agents.csv" "$tmp/mixed2/agents.csv"

# serve: the Python agent connects by itself, with command-line options
"$bin" serve "$tmp/mixed.ini" --bind "ipc://$tmp/serve.sock" --quiet --no-progress \
    --out "$tmp/served" 2>"$tmp/serve.err" &
pid=$!
rc=0
timeout 120 $py "$pyagents/random_agent.py" --endpoint "ipc://$tmp/serve.sock" --name py \
    >"$tmp/ext-py.log" 2>&1 &
ppid=$!
RECARENA_ENDPOINT="ipc://$tmp/serve.sock" RECARENA_AGENT_NAME=c timeout 120 "$agent" \
    >"$tmp/ext-c.log" 2>&1 || rc=$?
wait $ppid || rc=$?
check "serve: agents exit 0 after BYE" test "$rc" -eq 0
rc=0
wait $pid || rc=$?
check "serve: completes" test "$rc" -eq 0
check "serve: same results as run" cmp -s "$tmp/mixed1/agents.csv" "$tmp/served/agents.csv"

# command line of a Python agent
rc=0
env -u RECARENA_ENDPOINT $py "$pyagents/random_agent.py" --name x 2>"$tmp/noep.err" || rc=$?
check "no endpoint: status 2" test "$rc" -eq 2
check "no endpoint: said" grep -q "no server endpoint" "$tmp/noep.err"
rc=0
$py "$pyagents/linucb_agent.py" --endpoint ipc://x --name x --alpha lots 2>"$tmp/bad.err" || rc=$?
check "bad option: status 2" test "$rc" -eq 2
check "linucb --help" bash -c "$py '$pyagents/linucb_agent.py' --help | grep -q -- --alpha"

# LinUCB learns: users' public features predict what they click, so in a
# market it beats random agents (one C, one Python) on reward and CTR in
# every episode, and wins the market
cat >"$tmp/linucb.ini" <<EOF
[run]
ticks = 60
episodes = 2
seed = 5
[world]
mode = market
n_users = 1000
n_items = 300
item_lifetime = 200
[server]
deadline_ms = 20000
[agent.linucb]
command = $py $pyagents/linucb_agent.py --candidates 20
[agent.random]
command = $agent
[agent.pyrandom]
command = $py $pyagents/random_agent.py
EOF
check "linucb run" run lin "$tmp/linucb.ini"
for e in 0 1; do
    lin=$(field lin $e linucb reward)
    for other in random pyrandom; do
        them=$(field lin $e $other reward)
        echo "episode $e: linucb reward $lin (CTR $(field lin $e linucb ctr)), $other $them (CTR $(field lin $e $other ctr))"
        check "linucb beats $other on reward, episode $e" \
            $py -c "import sys; sys.exit(not $lin > 1.5 * $them)"
        check "linucb beats $other on CTR, episode $e" \
            $py -c "import sys; sys.exit(not $(field lin $e linucb ctr) > $(field lin $e $other ctr) + 0.1)"
    done
done
check "linucb never fell back" test "$(field lin 1 linucb fallback_missed)" -eq 0

# the environment: the Parallel API contract, seeds, errors, close
check "environment" env RECARENA_BIN="$bin" timeout 120 $py "$src/tests/integration/test_python_env.py"

stray_agents() { # this test's agent processes still alive
    local pid
    for pid in $(pgrep -f '[a]gents/python/.*_agent.py'); do
        tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "RECARENA_TEST_TAG=$RECARENA_TEST_TAG" &&
            echo "$pid"
    done
}
check "no stray agents" test -z "$(stray_agents)"
echo "python: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
