#!/usr/bin/env bash
# The conformance checker: well-behaved agents (the C SDK's random agent,
# the Python test agent) pass every case; an agent with one deliberate
# defect fails exactly the case that probes it.
# usage: test_check_agent.sh PATH/TO/recarena PATH/TO/recarena-agent-random SOURCE_DIR
set -u
bin=$1
agent=$2
src=$3
tmp=$(mktemp -d)
wire=(/usr/bin/python3 "$src/tests/integration/wire_agent.py" "--tag=$tmp")
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

# expect NAME STATUS FAILING_CASES -- AGENT...: the checker exits with
# STATUS and the cases that fail are exactly FAILING_CASES (space-separated)
expect() {
    local name=$1 status=$2 cases=$3
    shift 4
    local rc=0
    "$bin" check-agent -- "$@" >"$tmp/out" 2>&1 || rc=$?
    local got
    got=$(awk '$1 == "FAIL" {print $2}' "$tmp/out" | tr '\n' ' ' | sed 's/ $//')
    if [ "$rc" -eq "$status" ] && [ "$got" = "$cases" ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL: $name: exit $rc (expected $status), failing cases '$got' (expected '$cases')" >&2
        cat "$tmp/out" >&2
    fi
}

expect "C random agent" 0 "" -- "$agent"
expect "Python agent" 0 "" -- "${wire[@]}" ok
# the agents of issue 15 (meta-linucb, re-ranking, matrix factorisation)
agents=$(dirname "$agent")
expect "meta-linucb" 0 "" -- "$agents/recarena-bandit" --algo meta-linucb
expect "linucb with DPP re-ranking" 0 "" -- "$agents/recarena-bandit" --algo linucb --rerank dpp
expect "thompson with MMR re-ranking" 0 "" -- "$agents/recarena-bandit" --algo thompson \
    --rerank mmr --rerank-lambda 0.3
expect "recarena-mf" 0 "" -- "$agents/recarena-mf"
expect "no PONG" 1 "ping" -- "${wire[@]}" broken nopong
expect "ignores retirements" 1 "catalog-changes" -- "${wire[@]}" broken retired
expect "crashes on JOINT" 1 "joint" -- "${wire[@]}" broken joint
expect "crashes on an empty batch" 1 "empty-batch" -- "${wire[@]}" broken empty
expect "ignores a new catalog" 1 "episode-reset" -- "${wire[@]}" broken reset

# an agent that ignores BYE fails the bye case and never hangs the checker
rc=0
"$bin" check-agent --case bye -- "${wire[@]}" broken bye >"$tmp/out" 2>&1 || rc=$?
check "ignores BYE: fails" test "$rc" -eq 1
check "ignores BYE: says why" grep -q "did not exit within 3000 ms of BYE" "$tmp/out"
check "ignores BYE: no process left" bash -c "! pgrep -f '[w]ire_agent.py --tag=$tmp' >/dev/null"

# a command that is not an agent at all
rc=0
"$bin" check-agent --case handshake --hello-ms 500 -- sleep 5 >"$tmp/out" 2>&1 || rc=$?
check "not an agent: fails" test "$rc" -eq 1
check "not an agent: no HELLO" grep -q "no HELLO within 500 ms" "$tmp/out"

# usage errors
rc=0
"$bin" check-agent --case nosuch -- true >"$tmp/out" 2>&1 || rc=$?
check "unknown case" test "$rc" -eq 2
check "unknown case named" grep -q "no case 'nosuch'" "$tmp/out"
rc=0
"$bin" check-agent >"$tmp/out" 2>&1 || rc=$?
check "no command" test "$rc" -eq 2
check "help lists the cases" bash -c "'$bin' check-agent --help | grep -q catalog-changes"

echo "check-agent: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
