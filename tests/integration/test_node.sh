#!/usr/bin/env bash
# The JavaScript agent (agents/node) against the real server: installs its
# npm dependencies (package-lock.json) in a scratch folder, runs the
# conformance checker on it, then a run beside a C SDK agent.
# Skipped (exit 77) without node and npm, or when npm cannot install.
# usage: test_node.sh PATH/TO/recarena PATH/TO/recarena-agent-random SOURCE_DIR
set -u
bin=$1
agent=$2
src=$3
py=/usr/bin/python3
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "node: skipped (node or npm not installed)"
    exit 77
fi
tmp=$(mktemp -d)
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

cp "$src/agents/node/package.json" "$src/agents/node/package-lock.json" \
    "$src/agents/node/random_agent.js" "$tmp/"
if ! (cd "$tmp" && timeout 300 npm ci --no-audit --no-fund >"$tmp/npm.log" 2>&1); then
    echo "node: skipped (npm ci failed; no registry?):"
    tail -5 "$tmp/npm.log"
    exit 77
fi
js="node $tmp/random_agent.js"

check "zeromq loads" node -e "require('$tmp/node_modules/zeromq')"
check "check-agent" "$bin" check-agent -- node "$tmp/random_agent.js"

cat >"$tmp/js.ini" <<EOF2
[run]
ticks = 40
episodes = 2
seed = 8
[world]
n_users = 400
n_items = 120
item_lifetime = 60
[server]
deadline_ms = 20000
[agent.js]
command = $js
[agent.c]
command = $agent
[agent.pop]
policy = popularity
EOF2
check "js + C run" timeout 120 "$bin" run "$tmp/js.ini" --quiet --no-progress --out "$tmp/run" \
    2>"$tmp/run.err"
field() { # field EPISODE AGENT KEY
    $py -c "import json; d=json.load(open('$tmp/run/summary.json')); \
print([a for a in d['episodes'][$1]['agents'] if a['name']=='$2'][0]['$3'])"
}
for e in 0 1; do
    check "js served, episode $e" test "$(field $e js requests)" -gt 0
    check "js clicked, episode $e" test "$(field $e js clicks)" -gt 0
done
check "js never fell back" test "$(field 1 js fallback_missed)" -eq 0
check "js no invalid ACT" test "$(field 1 js invalid_acts)" -eq 0

# protocol 1.2: the Debian catalog's titles reach the JavaScript agent
cat >"$tmp/titles.ini" <<EOF2
[run]
ticks = 3
[world]
catalog = $src/scenarios/data/debian.csv
item_embeddings = $src/scenarios/data/debian.npy
n_items = 300
n_topics = 12
dim = 16
n_users = 200
[server]
deadline_ms = 20000
[agent.js]
command = $js
EOF2
check "js run on the Debian catalog" timeout 120 "$bin" run "$tmp/titles.ini" --quiet \
    --no-progress --out "$tmp/titles" 2>"$tmp/titles.err"
first=$($py -c "import csv,json; \
print(json.dumps(next(csv.DictReader(open('$src/scenarios/data/debian.csv')))['text'][:60]))")
check "js got the titles" grep -qF "catalog: 300 items with titles, e.g. $first" \
    "$tmp/titles/agent-js.log"

rc=0
env -u RECARENA_ENDPOINT node "$tmp/random_agent.js" --name x 2>"$tmp/noep.err" || rc=$?
check "no endpoint: status 2" test "$rc" -eq 2
echo "node: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
