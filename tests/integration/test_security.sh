#!/usr/bin/env bash
# CURVE over tcp and least privilege (docs/security.md), with real
# processes: recarena keygen's files; a run over tcp://127.0.0.1 with CURVE
# played by a C SDK agent (keys from the environment), the recarena Python
# package's random agent (key flags) and two spec-only Python agents; while it runs, a client without keys, one with
# an unknown key and one holding a's key but claiming slot b are refused
# and the run completes untouched; the server's log names each refusal; an
# agent that asks for JOINT without [agent.X] joint = true gets none, the
# granted one gets one per tick; binding a non-loopback address without
# keys is refused unless --insecure.
# Usage: test_security.sh RECARENA AGENT_BINARY_DIR SOURCE_DIR
set -u
bin=$1
agents=$2
src=$3
py=/usr/bin/python3
probe="$src/tests/integration/joint_probe.py"
tmp=$(mktemp -d)
pids=()
cleanup() {
    [ -n "${KEEP:-}" ] && { echo "kept $tmp"; return; }
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
cd "$tmp" || exit 1

# ---- keygen ----
check "keygen server" "$bin" keygen server --dir keys >/dev/null
for n in a b c e; do "$bin" keygen "$n" --dir keys/allow >/dev/null; done
"$bin" keygen x --dir keys/other >/dev/null
check "secret key is 0600" test "$(stat -c %a keys/allow/a.key)" = 600
check "public key is one Z85 line" test "$(wc -l <keys/allow/a.pub) $(head -c 40 keys/allow/a.pub | wc -c)" = "1 40"
check "keygen never overwrites" test "$("$bin" keygen a --dir keys/allow 2>&1 >/dev/null; echo $?)" != 0
check "keygen refuses a bad name" test "$("$bin" keygen 'a/b' --dir keys 2>/dev/null; echo $?)" != 0

# ---- exposure ----
cat >local.ini <<'INI'
[run]
ticks = 5
[world]
n_users = 50
n_items = 40
[agent.p]
policy = random
INI
"$bin" serve local.ini --bind tcp://0.0.0.0:0 --quiet --no-progress --out open 2>open.err
check "non-loopback tcp without keys refused" test $? = 2
check "refusal says why" grep -q "refusing to bind tcp://0.0.0.0:0 without CURVE" open.err
check "refused before a run" test ! -e open
"$bin" serve local.ini --bind tcp://0.0.0.0:0 --insecure --quiet --no-progress --out open 2>open.err
check "--insecure runs" test $? = 0
check "--insecure warns" grep -q "WARNING: tcp://0.0.0.0:0 is bound without CURVE" open.err
"$bin" serve local.ini --bind tcp://127.0.0.1:0 --telemetry tcp://*:0 --quiet --no-progress \
    --out tel 2>tel.err
check "non-loopback telemetry refused" test $? = 2
"$bin" serve local.ini --bind tcp://127.0.0.1:0 --curve-secret-key keys/server.key --quiet \
    --no-progress --out half 2>half.err
check "a secret key without allowed keys refused" grep -q "curve_allow" half.err

# ---- a CURVE run over loopback tcp ----
port=$($py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ep="tcp://127.0.0.1:$port"
ticks=400
cat >s.ini <<INI
[run]
ticks = $ticks
[world]
n_users = 100
n_items = 60
[server]
deadline_ms = 20000
[agent.a]
command = x
joint = true
[agent.b]
command = x
[agent.c]
command = x
[agent.d]
policy = popularity
[agent.e]
command = x
INI
"$bin" serve s.ini --bind "$ep" --curve-secret-key keys/server.key --curve-allow keys/allow \
    --quiet --no-progress --out run 2>serve.err &
serve=$!
pids+=("$serve")
$py "$probe" "$ep" a keys/server.pub keys/allow/a.key >a.log 2>&1 &
pids+=($!)
$py "$probe" "$ep" b keys/server.pub keys/allow/b.key >b.log 2>&1 &
pids+=($!)
PYTHONPATH="$src/agents/python" $py "$src/agents/python/random_agent.py" --endpoint "$ep" \
    --name e --server-key keys/server.pub --agent-key keys/allow/e.key >e.log 2>&1 &
pids+=($!)
# the intruders, while a, b and e hold their slots and the server waits for c
for _ in $(seq 100); do [ "$(grep -c "auth: accepted" serve.err)" = 3 ] && break; sleep 0.1; done
timeout 3 "$agents/recarena-agent-random" --endpoint "$ep" --name a >nokey.log 2>&1
timeout 3 "$agents/recarena-agent-random" --endpoint "$ep" --name a \
    --server-key keys/server.pub --agent-key keys/other/x.key >unknown.log 2>&1
timeout 10 "$agents/recarena-agent-random" --endpoint "$ep" --name b \
    --server-key keys/server.pub --agent-key keys/allow/a.key >stolen.log 2>&1
check "a's key for slot b: fatal refusal" grep -q "not authorized (-14)" stolen.log
check "the refusal tells nothing of the scenario" \
    bash -c "! grep -Eq 'expects|, c|agent\.d' stolen.log"
RECARENA_ENDPOINT=$ep RECARENA_AGENT_NAME=c RECARENA_SERVER_KEY=keys/server.pub \
    RECARENA_AGENT_KEY=keys/allow/c.key "$agents/recarena-agent-random" >c.log 2>&1 &
pids+=($!)
wait "$serve"
check "the CURVE run completes" test $? = 0
check "run folder written" test -s run/summary.json
check "log: no-key client refused" grep -Eq "auth: refused a peer on $ep: .*(no CURVE|offered no CURVE key)" serve.err
check "log: unknown key refused" grep -q "auth: refused .*is not in the allowed keys" serve.err
check "log: a's key for slot b refused" \
    grep -q "refused a HELLO for slot 'b' from the key of 'a'" serve.err
check "no agent was replaced" bash -c "! grep -q 'replaced by a new connection' a.log b.log c.log"
check "no agent reconnected" bash -c "! grep -q 'reconnected' serve.err"
check "granted a got a JOINT per tick" grep -qx "joint $ticks" a.log
check "ungranted b got no JOINT" grep -qx "joint 0" b.log
check "ungranted b was told" grep -q "error -14 capability 'joint' refused" b.log
check "the C SDK agent played over CURVE" grep -q "auth: accepted .* key of c" serve.err
check "the Python package's agent played over CURVE" grep -q "auth: accepted .* key of e" serve.err

echo "security: $passed passed, $failed failed"
[ "$failed" = 0 ]
