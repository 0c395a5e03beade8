#!/usr/bin/env bash
# The environment server with real agent processes: C SDK agents and a
# scriptable Python agent (wire_agent.py) that dies, hangs, reconnects,
# speaks another version or sends garbage. Every run must complete, count
# what happened, and leave no process or file behind.
# usage: test_server.sh PATH/TO/recarena PATH/TO/recarena-agent-random SOURCE_DIR
set -u
bin=$1
agent=$2
src=$3
py=/usr/bin/python3
tmp=$(mktemp -d)
# the tag marks this run's agents, so pgrep does not see other tests' ones
wire="$py $src/tests/integration/wire_agent.py --tag=$tmp"
trap 'rm -rf "$tmp"' EXIT
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

# field RUN NAME KEY: a run total for agent NAME from RUN's summary.json
field() {
    $py -c "import json,sys; d=json.load(open('$tmp/$1/summary.json')); \
a=[x for x in d['totals']['agents'] if x['name']=='$2'][0]; print(a['$3'])"
}

cat >"$tmp/base.ini" <<EOF
[run]
ticks = 20
episodes = 2
seed = 3
[world]
n_users = 200
n_items = 100
[server]
deadline_ms = 400
hello_timeout_ms = 5000
[agent.pop]
policy = popularity
[agent.w]
command = $wire ok
EOF

run() { # run OUT [--set ...]: a quiet run of base.ini into $tmp/OUT
    local out=$1
    shift
    timeout 120 "$bin" run "$tmp/base.ini" --quiet --no-progress --out "$tmp/$out" "$@" \
        2>"$tmp/$out.err"
}

# two C SDK agents over several episodes, byte-identical on replay
sdk=(--set "agent.w.command=$agent" --agent "c=$agent")
check "two SDK agents" run sdk1 "${sdk[@]}"
check "SDK agent served" test "$(field sdk1 c requests)" -gt 0
check "SDK agent never fell back" test "$(field sdk1 c fallback_missed)" -eq 0
check "SDK replay" run sdk2 "${sdk[@]}"
for f in ticks.csv agents.csv summary.json; do
    check "SDK replay identical $f" cmp -s "$tmp/sdk1/$f" "$tmp/sdk2/$f"
done

# a Python agent written from docs/protocol.md, replayed byte for byte
check "python agent" run py1
check "python replay" run py2
check "python replay identical" cmp -s "$tmp/py1/agents.csv" "$tmp/py2/agents.csv"
check "python agent said bye" grep -q "bye: run complete" "$tmp/py1/agent-w.log"

# SIGKILL mid-episode: the run completes on the fallback
check "killed agent" run kill --set "agent.w.command=$wire kill 5"
check "killed: fallback counted" test "$(field kill w fallback_missed)" -gt 0
check "killed: logged" grep -q "agent w" "$tmp/kill.err"

# SIGSTOP: the server does not wait for it again
check "stopped agent" run stop --set "agent.w.command=$wire stop 5"
check "stopped: one deadline miss" test "$(field stop w deadline_misses)" -eq 1
check "stopped: fallback counted" test "$(field stop w fallback_missed)" -gt 0
check "stopped: logged" grep -q "missed the 400 ms deadline" "$tmp/stop.err"

# a reconnecting agent gets its slot back after one tick on the fallback
check "reconnect" run reco --set "agent.w.command=$wire reconnect 6"
check "reconnect counted" test "$(field reco w reconnects)" -eq 1
check "reconnect: served after" test "$(field reco w fallback_missed)" -lt 60

# a wrong major version is refused with an ERROR naming both versions
check "version" run ver --set "agent.w.command=$wire version"
check "version refusal" grep -q "refused: 11 -6 envelope: protocol major version 2 received, this side speaks 1; this server speaks 1.2" "$tmp/ver/agent-w.log"

# malformed frames each get an ERROR and the server keeps serving
check "garbage" run junk --set "agent.w.command=$wire garbage 3"
check "garbage: truncated" grep -q "^error -2 .*declares 4 elements, only 2 bytes left" "$tmp/junk/agent-w.log"
check "garbage: huge array" grep -q "^error -2 .*declares 4294967295 elements" "$tmp/junk/agent-w.log"
check "garbage: huge str" grep -q "^error -2 .*declares 4294967295 bytes" "$tmp/junk/agent-w.log"
check "garbage: depth" grep -q "^error -4 " "$tmp/junk/agent-w.log"
check "garbage: unknown type" grep -q "^error -7 .*unknown message type 99" "$tmp/junk/agent-w.log"
check "garbage: trailing" grep -q "^error -2 .*trailing" "$tmp/junk/agent-w.log"
check "garbage: served after" grep -q "bye: run complete" "$tmp/junk/agent-w.log"

# invalid slates: fallback for those, an ERROR saying why
check "bad act" run bad --set "agent.w.command=$wire badact 2"
check "bad act counted" test "$(field bad w invalid_acts)" -eq 1
check "bad act told" grep -q "^error -13 invalid ACT for tick 2: slate 0 .* repeats an item" "$tmp/bad/agent-w.log"

# ACT.propensity (1.2): logged when valid; a NaN or the wrong length refuses that ACT
# (fallback at once, an ERROR naming the field), and the server goes on
check "bad propensity" run prop --set run.log=true --set "agent.w.command=$wire badprop 2"
check "bad propensity counted" test "$(field prop w invalid_acts)" -eq 2
check "bad propensity: NaN told" grep -q "^error -9 ACT.propensity: element 0 is NaN" \
    "$tmp/prop/agent-w.log"
check "bad propensity: length told" grep -q \
    "^error -8 ACT.propensity: expected typed array float64 ([0-9]*), got float64 ([0-9]*)" \
    "$tmp/prop/agent-w.log"
check "propensities logged, NaN where refused" /usr/bin/python3 -c "
import sys, numpy as np
d = np.load(sys.argv[1]); p, t, e, w = d['propensity'], d['tick'], d['episode'], d['agent']
mine = w == 1
bad = mine & (e == 0) & ((t == 2) | (t == 3))
assert np.all(np.isnan(p[bad])) and np.all(np.isfinite(p[mine & ~bad])), p[mine][:8]
assert np.all((p[mine & ~bad] > 0) & (p[mine & ~bad] <= 1))
" "$tmp/prop/log.npz"

# an agent that never says HELLO, one that exits at once
rc=0
run never --set "agent.w.command=sleep 30" --set server.hello_timeout_ms=300 || rc=$?
check "no hello: fails" test "$rc" -eq 1
check "no hello: named" grep -q "no HELLO within 300 ms (server.hello_timeout_ms) from: w" "$tmp/never.err"
check "no hello: nothing written" test ! -e "$tmp/never"
rc=0
run early --set "agent.w.command=echo cannot start; exit 3" || rc=$?
check "early exit: fails" test "$rc" -eq 1
check "early exit: status and output" grep -q "agent w exited with status 3 before saying HELLO" "$tmp/early.err"
check "early exit: its output shown" grep -q "| cannot start" "$tmp/early.err"

# Ctrl-C: exit 130, nothing written, children reaped
"$bin" run "$tmp/base.ini" --quiet --no-progress --out "$tmp/int" --set run.ticks=1000000 \
    --set "agent.w.command=$wire ok" 2>"$tmp/int.err" &
pid=$!
for _ in $(seq 50); do grep -q . "$tmp/int.err" 2>/dev/null || sleep 0.1; done
sleep 1
kill -INT $pid
rc=0
wait $pid || rc=$?
check "interrupt: exit 130" test "$rc" -eq 130
check "interrupt: nothing written" test ! -e "$tmp/int"
check "interrupt: no agent left" bash -c "! pgrep -f '[w]ire_agent.py --tag=$tmp' >/dev/null"

# serve: an external agent connects by name
"$bin" serve "$tmp/base.ini" --bind "ipc://$tmp/serve.sock" --quiet --no-progress \
    --out "$tmp/served" 2>"$tmp/serve.err" &
pid=$!
RECARENA_ENDPOINT="ipc://$tmp/serve.sock" RECARENA_AGENT_NAME=w timeout 60 $wire ok \
    >"$tmp/ext.log" 2>&1
rc=0
wait $pid || rc=$?
check "serve: completes" test "$rc" -eq 0
check "serve: waited for w" grep -q "waiting for agents: w" "$tmp/serve.err"
check "serve: agent saw bye" grep -q "bye: run complete" "$tmp/ext.log"
check "serve: same results as run" cmp -s "$tmp/py1/agents.csv" "$tmp/served/agents.csv"

check "no stray agents" bash -c "! pgrep -f '[w]ire_agent.py --tag=$tmp' >/dev/null"
echo "server: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
