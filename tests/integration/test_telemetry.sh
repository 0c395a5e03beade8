#!/usr/bin/env bash
# Telemetry on the server's PUB socket (docs/protocol.md, "Telemetry"): a
# subscriber that connects before the run starts sees every tick, every
# exposure snapshot and every episode, in order, and what it sees agrees
# with the run folder. A run whose PUB nobody reads completes with the same
# results, and an agent that sends a telemetry message on the control
# socket gets an ERROR.
# usage: test_telemetry.sh PATH/TO/recarena SOURCE_DIR
set -u
bin=$1
src=$2
py=/usr/bin/python3
wire="$py $src/tests/integration/wire_agent.py"
sub="$py $src/tests/integration/telemetry_sub.py"
tmp=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
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

# two in-process agents and one external agent, w; 25 ticks, so the
# snapshots come after ticks 9, 19 and 24
cat >"$tmp/scenario.ini" <<EOF
[run]
ticks = 25
episodes = 2
seed = 11
[world]
n_users = 300
n_items = 120
n_topics = 6
slate_size = 4
[server]
deadline_ms = 5000
[agent.random]
policy = random
[agent.pop]
policy = popularity
[agent.w]
command = unused in serve mode
EOF

# serve NAME [--telemetry ENDPOINT]: starts a server in the background
# (pid in $server, killed after 120 s) and waits until it listens
serve() {
    local name=$1
    shift
    timeout 120 "$bin" serve "$tmp/scenario.ini" --bind "ipc://$tmp/$name.sock" --quiet --no-progress \
        --out "$tmp/$name" "$@" 2>"$tmp/$name.err" &
    server=$!
    pids+=("$server")
    for _ in $(seq 100); do
        grep -q "waiting for agents" "$tmp/$name.err" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# agent NAME [MODE]: the external agent, to the end of the run
agent() {
    RECARENA_ENDPOINT="ipc://$tmp/$1.sock" RECARENA_AGENT_NAME=w timeout 120 $wire "${2:-ok}" \
        >"$tmp/$1.agent.log" 2>&1
}

finish() { # finish NAME: waits for the server, checks it succeeded
    local rc=0
    wait "$server" || rc=$?
    check "$1: server exits 0" test "$rc" -eq 0
    check "$1: agent saw the end" grep -q "bye: run complete" "$tmp/$1.agent.log"
}

# 1. a subscriber from the start: everything, matching the run folder
check "serve with telemetry" serve sub --telemetry "ipc://$tmp/t.sock"
$sub listen "ipc://$tmp/t.sock" "$tmp/messages.json" "$tmp/ready" 2 2>"$tmp/sub.err" &
listener=$!
pids+=("$listener")
for _ in $(seq 100); do [ -e "$tmp/ready" ] && break; sleep 0.05; done
check "subscriber ready" test -e "$tmp/ready"
start=$(date +%s%N)
agent sub
finish sub
echo "run with a subscriber: $((($(date +%s%N) - start) / 1000000)) ms"
rc=0
wait "$listener" || rc=$?
check "subscriber got every episode" test "$rc" -eq 0
cat "$tmp/sub.err" >&2
check "messages match the run folder" $sub check "$tmp/messages.json" "$tmp/sub" 4 6

# 2. nobody subscribed: the run completes with the same results
check "serve, no subscriber" serve alone --telemetry "ipc://$tmp/t2.sock"
start=$(date +%s%N)
agent alone
finish alone
echo "run with no subscriber: $((($(date +%s%N) - start) / 1000000)) ms"
check "serve without telemetry" serve plain
start=$(date +%s%N)
agent plain
finish plain
echo "run without telemetry: $((($(date +%s%N) - start) / 1000000)) ms"
for f in ticks.csv agents.csv summary.json; do
    check "no subscriber: same $f" cmp -s "$tmp/sub/$f" "$tmp/alone/$f"
    check "no telemetry: same $f" cmp -s "$tmp/sub/$f" "$tmp/plain/$f"
done

# 3. telemetry is not something an agent sends: a non-fatal ESTATE
check "serve for an intruder" serve intr --telemetry "ipc://$tmp/t3.sock"
RECARENA_ENDPOINT="ipc://$tmp/intr.sock" timeout 60 $sub intruder "ipc://$tmp/intr.sock" w \
    >"$tmp/intruder.log" 2>&1
rc=0
wait "$server" || rc=$?
check "intruder: run completes on fallbacks" test "$rc" -eq 0
check "intruder: ESTATE, not fatal, about its message" grep -q \
    "^error -11 TELEMETRY_TICK is not something an agent sends ref_seq 1 fatal False sent 1$" \
    "$tmp/intruder.log"

echo "telemetry: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
