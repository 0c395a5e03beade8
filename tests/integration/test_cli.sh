#!/usr/bin/env bash
# The recarena command line end to end: help, a run folder's contents,
# byte-identical replay from the seed, and clear errors for bad input
# that leave nothing half-written.
# usage: test_cli.sh PATH/TO/recarena SOURCE_DIR
set -u
bin=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# scenarios/default.ini starts its agents as build/agents/..., relative to
# the current directory: run from a folder whose build/ is the build under
# test (the one that holds $bin), wherever ctest runs
mkdir "$tmp/root"
ln -s "$(cd "$(dirname "$bin")/.." && pwd)" "$tmp/root/build"
cd "$tmp/root" || exit 1
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

fails_with() { # fails_with NAME EXPECTED_TEXT COMMAND...: exit 2 and stderr has the text
    local name=$1 text=$2
    shift 2
    local rc=0
    "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
    if [ "$rc" -eq 2 ] && grep -qF -- "$text" "$tmp/err"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL: $name (exit $rc, stderr: $(cat "$tmp/err"))" >&2
    fi
}

quick=(--set run.ticks=25 --set world.n_users=300 --no-progress)

# help
check "help" bash -c "'$bin' --help | grep -q 'run SCENARIO.ini'"
check "run help" bash -c "'$bin' run --help | grep -q -- '--set SECTION.KEY=V'"
check "version" bash -c "'$bin' --version | grep -q '^recarena '"

# a run and its folder
check "run" bash -c "'$bin' run '$src/scenarios/default.ini' ${quick[*]} --seed 5 --out '$tmp/a' >'$tmp/a.txt'"
for f in ticks.csv agents.csv summary.json scenario.ini seed.txt exposure.csv; do
    check "run folder has $f" test -s "$tmp/a/$f"
done
check "seed file" grep -qx 5 "$tmp/a/seed.txt"
# 2 episodes x 25 ticks + header; 4 agents per tick in agents.csv
check "ticks.csv rows" test "$(wc -l <"$tmp/a/ticks.csv")" -eq 51
check "agents.csv rows" test "$(wc -l <"$tmp/a/agents.csv")" -eq 201
check "summary is JSON" /usr/bin/python3 -c "import json,sys; d=json.load(open('$tmp/a/summary.json')); assert len(d['episodes']) == 2 and d['seed'] == 5"
check "summary table" grep -q "exposure Gini" "$tmp/a.txt"
check "no partial folder left" bash -c "! ls '$tmp' | grep -q partial"

# the resolved scenario runs again to the same results
check "resolved scenario replays" "$bin" run "$tmp/a/scenario.ini" --quiet --no-progress --out "$tmp/r"
check "resolved replay identical" cmp -s "$tmp/a/ticks.csv" "$tmp/r/ticks.csv"

# same seed, same bytes; another seed, other results
check "rerun" "$bin" run "$src/scenarios/default.ini" "${quick[@]}" --seed 5 --quiet --out "$tmp/b"
for f in ticks.csv agents.csv summary.json scenario.ini exposure.csv; do
    check "same seed, identical $f" cmp -s "$tmp/a/$f" "$tmp/b/$f"
done
check "other seed" "$bin" run "$src/scenarios/default.ini" "${quick[@]}" --seed 6 --quiet --out "$tmp/c"
check "other seed differs" bash -c "! cmp -s '$tmp/a/ticks.csv' '$tmp/c/ticks.csv'"
check "feed scenario" "$bin" run "$src/scenarios/feed.ini" "${quick[@]}" --quiet --out "$tmp/f"

# a run folder is replaced, anything else is refused
check "replace run folder" "$bin" run "$src/scenarios/default.ini" "${quick[@]}" --seed 5 --quiet --out "$tmp/a"
mkdir -p "$tmp/mine" && echo precious >"$tmp/mine/notes.txt"
rc=0
"$bin" run "$src/scenarios/default.ini" "${quick[@]}" --quiet --out "$tmp/mine" 2>"$tmp/err" || rc=$?
check "foreign folder refused" test "$rc" -ne 0
check "foreign folder untouched" grep -qx precious "$tmp/mine/notes.txt"

# recarena scenario: the resolved scenario a run would use, as INI (the
# run folder's scenario.ini, byte for byte) or as one JSON object
check "scenario help" bash -c "'$bin' scenario --help | grep -q -- '--json'"
check "help scenario" bash -c "'$bin' help scenario | grep -q -- '--json'"
check "scenario INI is the run's scenario.ini" bash -c "'$bin' scenario '$src/scenarios/default.ini' --set run.ticks=25 --set world.n_users=300 --seed 5 | cmp -s - '$tmp/a/scenario.ini'"
cat >"$tmp/j.ini" <<'INI'
[run]
name = jtest
episodes = 3
ticks = 50
[world]
mode = feed
slate_size = 4
quality_weight = 0.30000000000000004
oracle = off
[server]
hello_timeout_ms = 500
[agent.b]
command = ./x --label "a\b"
[agent.a]
policy = random
INI
check "scenario --json" bash -c "'$bin' scenario '$tmp/j.ini' --json --seed 7 --ticks 12 --set world.n_users=300 --agent c=policy:popularity >'$tmp/j.json'"
check "scenario --json is one line" test "$(wc -l <"$tmp/j.json")" -eq 1
# expected: the file's values, the overrides, and docs/scenarios.md's defaults
check "scenario --json values" /usr/bin/python3 -c "
import json
d = json.load(open('$tmp/j.json'))
assert sorted(d) == ['agents', 'file', 'run', 'server', 'world'], d.keys()
assert d['file'] == '$tmp/j.ini', d['file']
assert d['run'] == {'name': 'jtest', 'seed': 7, 'episodes': 3, 'log': False, 'ticks': 12}, d['run']
assert d['server'] == {'deadline_ms': 2000, 'hello_timeout_ms': 500, 'curve_secret_key': '',
                      'curve_allow': ''}, d['server']
w = d['world']
assert len(w) == 39 and 'n_agents' not in w and 'ticks' not in w, sorted(w)
assert w['catalog'] == '' and w['item_embeddings'] == '', w
assert w['mode'] == 'feed' and w['slate_size'] == 4 and w['n_users'] == 300, w
assert w['quality_weight'] == 0.1 + 0.2 and w['oracle'] is False, w
assert w['n_items'] == 500 and type(w['n_items']) is int, w
assert w['topic_spread'] == 0.25 and w['satiation_decay'] == 0.9, w
assert w['item_lifetime'] == 0.0 and type(w['item_lifetime']) is float, w
assert w['position_decay'] == 1.0 and type(w['position_decay']) is float, w
assert w['reward_sharing'] == 0.0 and w['market_temperature'] == 0.1, w
assert w['reputation'] == 'private' and w['market_random_share'] == 0.0, w
assert d['agents'] == [
    {'name': 'b', 'policy': '', 'command': './x --label \"a\\\\b\"', 'enter_tick': '', 'joint': False},
    {'name': 'a', 'policy': 'random', 'command': '', 'enter_tick': '', 'joint': False},
    {'name': 'c', 'policy': 'popularity', 'command': '', 'enter_tick': '', 'joint': False},
], d['agents']
"
check "scenario --json seed 2^64-1" /usr/bin/python3 -c "
import json, subprocess
out = subprocess.run(['$bin', 'scenario', '$src/scenarios/default.ini', '--json', '--seed', '18446744073709551615'], capture_output=True, check=True, text=True).stdout
assert json.loads(out)['run']['seed'] == 2**64 - 1, out
"
printf '[world]\nslate_size = ten\n[agent.a]\npolicy = random\n' >"$tmp/jbad.ini"
fails_with "scenario: bad value" "jbad.ini:2: [world] slate_size: expected an integer, got 'ten'" "$bin" scenario "$tmp/jbad.ini" --json
check "scenario: nothing on stdout for a bad scenario" test ! -s "$tmp/out"
"$bin" run "$tmp/jbad.ini" --out "$tmp/bad" 2>"$tmp/run-err"
check "scenario: the same error as run" cmp -s "$tmp/err" "$tmp/run-err"
fails_with "scenario: bad --ticks" "--ticks: expected an integer" "$bin" scenario "$tmp/j.ini" --ticks x
fails_with "scenario: no file" "no scenario given" "$bin" scenario --json

# bad input: one clear error, exit 2, nothing written
printf '[run]\nticks = 10\n[world]\nn_userz = 5\n[agent.a]\npolicy = random\n' >"$tmp/bad.ini"
fails_with "unknown key" "bad.ini:4: [world] n_userz" "$bin" run "$tmp/bad.ini" --out "$tmp/bad"
check "nothing written for a bad scenario" test ! -e "$tmp/bad"
fails_with "bad --set" "--set world.slate_size=ten" "$bin" run "$src/scenarios/default.ini" --set world.slate_size=ten --out "$tmp/bad"
fails_with "contradiction" "world.slate_size" "$bin" run "$src/scenarios/default.ini" --set world.slate_size=50 --set world.n_items=10 --out "$tmp/bad"
fails_with "bad --seed" "--seed: expected an integer" "$bin" run "$src/scenarios/default.ini" --seed -3
fails_with "bad --episodes" "--episodes" "$bin" run "$src/scenarios/default.ini" --episodes lots
fails_with "missing file" "nope.ini" "$bin" run "$tmp/nope.ini"
fails_with "no scenario" "no scenario given" "$bin" run
fails_with "unknown option" "unknown option '--fast'" "$bin" run "$src/scenarios/default.ini" --fast
fails_with "unknown command" "unknown command 'walk'" "$bin" walk
check "nothing written for bad flags" test ! -e "$tmp/bad"

# agents on the command line: a duel on the default world, no scenario file
duel=(--agent a=policy:random --agent "b=build/agents/recarena-bandit --algo linucb")
check "duel from the command line" "$bin" run "${duel[@]}" --ticks 20 --quiet --out "$tmp/duel"
"$bin" scenario "${duel[@]}" --ticks 20 >"$tmp/duel.ini"
check "duel: the printer resolves it the same" cmp -s "$tmp/duel.ini" "$tmp/duel/scenario.ini"
"$bin" scenario "${duel[@]}" --json >"$tmp/duel.json"
check "duel: default world, the two agents" /usr/bin/python3 -c "
import json
d = json.load(open('$tmp/duel.json'))
assert d['file'] == 'command-line' and d['run']['name'] == 'command-line', d['run']
assert d['world']['mode'] == 'market' and d['world']['n_users'] == 2000, d['world']
assert d['agents'] == [
    {'name': 'a', 'policy': 'random', 'command': '', 'enter_tick': '', 'joint': False},
    {'name': 'b', 'policy': '', 'command': 'build/agents/recarena-bandit --algo linucb', 'enter_tick': '', 'joint': False},
], d['agents']
"
check "duel: the process agent ran" grep -q "^episode 0: requests" "$tmp/duel/agent-b.log"
# more than 512 items (the default world retires none): the agent once overran its Gini scratch
check "duel: the process agent ended cleanly" test -z "$(grep -v "^episode " "$tmp/duel/agent-b.log")"
"$bin" scenario "$src/scenarios/feed.ini" --drop-agent random --json >"$tmp/drop.json"
check "--drop-agent" /usr/bin/python3 -c "
import json
d = json.load(open('$tmp/drop.json'))
assert [a['name'] for a in d['agents']] == ['popular', 'random2'], d['agents']
"
"$bin" scenario "$src/scenarios/feed.ini" --drop-agent random2 --agent random2=policy:popularity >"$tmp/re.ini"
check "--drop-agent then --agent replaces" test "$(tail -2 "$tmp/re.ini")" = "$(printf '[agent.random2]\npolicy = popularity')"
fails_with "--set: a misspelt agent" "--set agent.populr.policy=random: no agent 'populr' in the scenario (did you mean popular?)" "$bin" run "$src/scenarios/feed.ini" --set agent.populr.policy=random --out "$tmp/bad"
fails_with "--set: an unknown agent" "no agent 'zed' in the scenario (agents: random, popular, random2): --agent NAME=COMMAND adds one" "$bin" run "$src/scenarios/feed.ini" --set agent.zed.policy=random --out "$tmp/bad"
fails_with "--drop-agent: misspelt" "--drop-agent randm: no agent 'randm' in the scenario (did you mean random?)" "$bin" run "$src/scenarios/feed.ini" --drop-agent randm --out "$tmp/bad"
fails_with "--agent: already there" "--agent popular=policy:random: the scenario already has agent popular" "$bin" run "$src/scenarios/feed.ini" --agent popular=policy:random --out "$tmp/bad"
fails_with "--agent: no =" "--agent b: expected NAME=COMMAND or NAME=policy:POLICY" "$bin" run --agent b
fails_with "--agent: bad policy" "--agent b=policy:greedy: unknown policy 'greedy'" "$bin" run --agent b=policy:greedy
check "nothing written for bad agents" test ! -e "$tmp/bad"

# --out is checked before anything runs: the agent would leave a mark
touch "$tmp/afile"
marker=(--agent "m=touch '$tmp/started'; exec build/agents/recarena-bandit --algo random")
fails_with "--out a file" "--out $tmp/afile: exists and is not a folder" "$bin" run "${marker[@]}" --out "$tmp/afile"
fails_with "--out under a file" "--out $tmp/afile/x/run: $tmp/afile is not a folder" "$bin" run "${marker[@]}" --out "$tmp/afile/x/run"
fails_with "serve --out a file" "exists and is not a folder" "$bin" serve "$src/scenarios/feed.ini" --bind "ipc://$tmp/s.sock" --out "$tmp/afile"
check "--out refused before any agent started" test ! -e "$tmp/started"
if [ "$(id -u)" -ne 0 ]; then
    mkdir "$tmp/locked" && chmod 555 "$tmp/locked"
    fails_with "--out unwritable" "cannot create it in $tmp/locked" "$bin" run "${marker[@]}" --out "$tmp/locked/run"
    check "--out unwritable: no agent started" test ! -e "$tmp/started"
fi
check "--out: new nested folders are fine" "$bin" run --agent a=policy:random --ticks 3 --quiet --out "$tmp/new/deeper/run"
check "--out: nested run written" test -s "$tmp/new/deeper/run/summary.json"

# --quiet: nothing on stdout or stderr for a run that goes well, agent processes included
"$bin" run "$src/scenarios/processes.ini" --ticks 10 --episodes 1 --quiet --out "$tmp/quiet" >"$tmp/q.out" 2>"$tmp/q.err"
check "--quiet: exit 0" test $? -eq 0
check "--quiet: stdout empty" test ! -s "$tmp/q.out"
check "--quiet: stderr empty" test ! -s "$tmp/q.err"
check "--quiet: the folder written" test -s "$tmp/quiet/summary.json"

# help: 'help bench' and 'bench --help' print the bench usage and exit 0
for how in "help bench" "bench --help" "bench world --help"; do
    # shellcheck disable=SC2086 # $how is words on purpose
    "$bin" $how >"$tmp/help"
    check "$how: exit 0" test $? -eq 0
    check "$how: the bench usage" grep -q "^usage: recarena bench world" "$tmp/help"
done

# every command's own help, without the viewer program: exit 0, its usage
# line first (plot's listing the viewer's options); an unknown one is refused
for c in check-agent plot view sweep keygen; do
    for how in "help $c" "$c --help"; do
        # shellcheck disable=SC2086 # $how is words on purpose
        "$bin" $how >"$tmp/help"
        check "$how: exit 0" test $? -eq 0
        check "$how: its usage" grep -q "^usage: recarena $c " "$tmp/help"
    done
done
check "check-agent help lists its cases" grep -q "^cases:" <("$bin" help check-agent)
for option in --panels --projector --theme --scale --episode --size; do
    check "plot usage line lists $option" bash -c \
        "'$bin' plot --help | sed -n '1,/^\$/p' | grep -q -- '$option'"
done
check "plot RUN --help: the help, nothing drawn" bash -c \
    "'$bin' plot '$tmp/nowhere' --out '$tmp/h.png' --help | grep -q '^usage: recarena plot' && ! test -e '$tmp/h.png'"
fails_with "help of no such command" "recarena help: no command 'nosuch'" "$bin" help nosuch
fails_with "plot without a run folder" "recarena plot: no run folder given" "$bin" plot

# plot: PNG or JPEG by the name, any other name refused before drawing
if [ -x "$(dirname "$bin")/../viz/recarena-view" ]; then
    check "plot --out x.jpg" "$bin" plot "$tmp/duel" --out "$tmp/x.jpg"
    check "plot: a JPEG" test "$(head -c 3 "$tmp/x.jpg" | od -An -tx1 | tr -d ' ')" = ffd8ff
    check "plot --out x.png" "$bin" plot "$tmp/duel" --out "$tmp/x.png"
    check "plot: a PNG" test "$(head -c 4 "$tmp/x.png" | od -An -tx1 | tr -d ' ')" = 89504e47
    fails_with "plot --out x.gif" "unknown picture type" "$bin" plot "$tmp/duel" --out "$tmp/x.gif"
    check "plot: nothing written for x.gif" test ! -e "$tmp/x.gif"
fi

echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
