#!/usr/bin/env bash
# The viewer end to end (docs/viewer.md), without a display: `recarena
# plot` on fresh run folders (market and feed, all episodes or one, a
# folder from before exposure.csv) and its errors; the live viewer,
# headless, subscribed to `recarena serve`'s telemetry before the run and
# seeing all of it; and `recarena run --view`, whose viewer (SDL's
# dummy video driver) leaves the run's results unchanged and stays open
# after the run; a window viewer attached to `recarena serve` closes
# cleanly. The pictures' pixels are checked by the unit tests
# (test_viz_draw); here, the PNGs' sizes.
# usage: test_viewer.sh PATH/TO/recarena PATH/TO/recarena-view PATH/TO/recarena-agent-random SOURCE_DIR
set -u
bin=$1
view=$2
agent=$3
src=$4
tmp=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
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

fails_with() { # fails_with NAME CODE EXPECTED_TEXT COMMAND...: exit CODE, stderr has the text
    local name=$1 code=$2 text=$3
    shift 3
    local rc=0
    "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
    if [ "$rc" -eq "$code" ] && grep -qF -- "$text" "$tmp/err"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL: $name (exit $rc, stderr: $(cat "$tmp/err"))" >&2
    fi
}

png_size() { # png_size FILE W H: a PNG of that size
    [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] &&
        [ "$(od -An -tu1 -j16 -N8 "$1" | awk '{print $3*256+$4 "x" $7*256+$8}')" = "$2x$3" ]
}

cat >"$tmp/market.ini" <<EOF
[run]
ticks = 25
episodes = 2
seed = 11
[world]
n_users = 300
n_items = 120
n_topics = 6
slate_size = 4
[agent.random]
policy = random
[agent.pop]
policy = popularity
[agent.w]
command = $agent
EOF
# in-process agents only: the run has no telemetry unless --view asks
cat >"$tmp/feed.ini" <<EOF
[run]
ticks = 30
episodes = 2
seed = 12
[world]
mode = feed
n_users = 300
n_items = 120
n_topics = 6
slate_size = 4
[agent.random]
policy = random
[agent.pop]
policy = popularity
EOF

# 1. recarena plot
check "run (market, one agent process)" "$bin" run "$tmp/market.ini" --quiet --no-progress --out "$tmp/m"
check "run folder has exposure.csv" test -s "$tmp/m/exposure.csv"
start=$(date +%s%N)
check "plot" "$bin" plot "$tmp/m" --out "$tmp/m.png"
echo "plot: $((($(date +%s%N) - start) / 1000000)) ms"
check "plot: 1280x800 PNG" png_size "$tmp/m.png" 1280 800
check "plot one episode, 640x400" "$bin" plot "$tmp/m" --out "$tmp/m1.png" --episode 1 --size 640x400
check "plot one episode: 640x400 PNG" png_size "$tmp/m1.png" 640 400
check "run (feed)" "$bin" run "$tmp/feed.ini" --quiet --no-progress --out "$tmp/f"
check "plot feed" "$bin" plot "$tmp/f" --out "$tmp/f.png"
check "plot feed: PNG" png_size "$tmp/f.png" 1280 800
cp -r "$tmp/m" "$tmp/old" && rm "$tmp/old/exposure.csv"
check "plot a folder without exposure.csv" "$bin" plot "$tmp/old" --out "$tmp/old.png"
check "plot through recarena-view" "$view" --plot "$tmp/m" --out "$tmp/v.png" --size 800x500
check "recarena-view: 800x500 PNG" png_size "$tmp/v.png" 800 500
check "view --help" bash -c "'$bin' view --help | grep -q -- '--connect ENDPOINT'"
for set in overview learning episodes; do
    check "plot --panels $set" "$bin" plot "$tmp/m" --out "$tmp/$set.png" --panels "$set"
done
check "plot --projector 1280x720" "$bin" plot "$tmp/m" --out "$tmp/p.png" --projector --size 1280x720
check "plot --projector: 1280x720 PNG" png_size "$tmp/p.png" 1280 720
check "plot --theme contrast --scale 2" "$bin" plot "$tmp/f" --out "$tmp/c.png" --theme contrast \
    --scale 2
# options from RECARENA_VIEW (how run --view passes them): the projector's
# picture, byte for byte
check "RECARENA_VIEW options" env RECARENA_VIEW="--projector --size 1280x720" "$bin" plot "$tmp/m" \
    --out "$tmp/pe.png"
check "RECARENA_VIEW: the same picture" cmp -s "$tmp/p.png" "$tmp/pe.png"
check "the sets draw different pictures" bash -c "! cmp -s '$tmp/overview.png' '$tmp/learning.png'"

fails_with "plot: not a run folder" 1 "$tmp/nothing/scenario.ini" "$bin" plot "$tmp/nothing" --out "$tmp/x.png"
fails_with "plot: no such episode" 1 "no episode 7" "$bin" plot "$tmp/m" --out "$tmp/x.png" --episode 7
fails_with "plot: no --out" 2 "--out FILE.png is required" "$bin" plot "$tmp/m"
fails_with "plot: nothing" 2 "usage: recarena plot RUN_DIR" "$bin" plot
fails_with "plot: bad panel set" 2 "--panels: expected overview, learning or episodes, got 'all'" \
    "$bin" plot "$tmp/m" --out "$tmp/x.png" --panels all
fails_with "plot: bad scale" 2 "--scale: expected a number in [0.5, 4], got '9'" \
    "$bin" plot "$tmp/m" --out "$tmp/x.png" --scale 9
fails_with "plot: bad theme" 2 "--theme: expected light or contrast, got 'dark'" \
    "$bin" plot "$tmp/m" --out "$tmp/x.png" --theme dark
fails_with "plot: bad size" 2 "--size: expected WxH" "$bin" plot "$tmp/m" --out "$tmp/x.png" --size 10x10
fails_with "plot: unwritable" 1 "cannot write $tmp/none/x.png" "$bin" plot "$tmp/m" --out "$tmp/none/x.png"
fails_with "missing font" 1 "fonts-dejavu-core" "$bin" plot "$tmp/m" --out "$tmp/x.png" --font "$tmp/no.ttf"
fails_with "view: no endpoint" 2 "give one of --connect ENDPOINT, --plot RUN_DIR or --series FILE.csv" "$bin" view
fails_with "headless: when to stop" 2 "--headless needs --frames N or --episodes N" \
    "$view" --connect "ipc://$tmp/none" --headless --out "$tmp/x.png"
check "no PNG from failures" test ! -e "$tmp/x.png"

# 2. live and headless: subscribed before the run, the viewer gets every
# tick, snapshot and episode, then writes its last frame
timeout 120 "$bin" serve "$tmp/market.ini" --bind "ipc://$tmp/c.sock" --telemetry "ipc://$tmp/t.sock" \
    --quiet --no-progress --out "$tmp/served" 2>"$tmp/serve.err" &
server=$!
pids+=("$server")
timeout 120 "$view" --connect "ipc://$tmp/t.sock" --scenario "$tmp/market.ini" --headless \
    --episodes 2 --out "$tmp/live.png" 2>"$tmp/live.err" &
viewer=$!
pids+=("$viewer")
for _ in $(seq 200); do grep -q "subscribed to" "$tmp/live.err" 2>/dev/null && break; sleep 0.05; done
check "live viewer subscribed" grep -q "subscribed to ipc://$tmp/t.sock" "$tmp/live.err"
RECARENA_ENDPOINT="ipc://$tmp/c.sock" RECARENA_AGENT_NAME=w timeout 120 "$agent" >"$tmp/agent.log" 2>&1
rc=0
wait "$server" || rc=$?
check "serve exits 0" test "$rc" -eq 0
rc=0
wait "$viewer" || rc=$?
check "live viewer exits 0" test "$rc" -eq 0
cat "$tmp/live.err" >&2
# 2 episodes x 25 ticks; snapshots after ticks 9, 19, 24 of each
check "live viewer saw everything" grep -q \
    "50 ticks, 6 exposure snapshots, 2 episodes received, 0 messages lost" "$tmp/live.err"
check "live viewer: PNG" png_size "$tmp/live.png" 1280 800

# the same with a window (SDL's dummy video driver): ready once
# subscribed (--ready-fd, as run --view uses it), drawing through a run,
# closing cleanly on SIGTERM
timeout 120 "$bin" serve "$tmp/market.ini" --bind "ipc://$tmp/c2.sock" --telemetry "ipc://$tmp/t2.sock" \
    --quiet --no-progress --out "$tmp/served2" 2>"$tmp/serve2.err" &
server=$!
pids+=("$server")
SDL_VIDEODRIVER=dummy timeout 120 "$view" --connect "ipc://$tmp/t2.sock" --ready-fd 3 \
    3>"$tmp/ready" 2>"$tmp/window.err" &
viewer=$!
pids+=("$viewer")
for _ in $(seq 200); do [ -s "$tmp/ready" ] && break; sleep 0.05; done
check "window viewer ready" test -s "$tmp/ready"
RECARENA_ENDPOINT="ipc://$tmp/c2.sock" RECARENA_AGENT_NAME=w timeout 120 "$agent" >"$tmp/agent2.log" 2>&1
rc=0
wait "$server" || rc=$?
check "serve with a window viewer exits 0" test "$rc" -eq 0
check "window viewer still open after the run" kill -0 "$viewer"
kill -TERM "$viewer"
rc=0
wait "$viewer" || rc=$?
check "window viewer closes cleanly on SIGTERM" test "$rc" -eq 0
cat "$tmp/window.err" >&2

# 3. recarena run --view (in-process agents): same results, the run does
# not wait on the viewer, which stays open afterwards
start=$(date +%s%N)
check "run without viewer" "$bin" run "$tmp/feed.ini" --quiet --no-progress --out "$tmp/plain"
plain_ms=$((($(date +%s%N) - start) / 1000000))
start=$(date +%s%N)
check "run --view" env SDL_VIDEODRIVER=dummy "$bin" run "$tmp/feed.ini" --quiet --no-progress \
    --out "$tmp/viewed" --view 2>"$tmp/view.err"
echo "run: ${plain_ms} ms; with --view: $((($(date +%s%N) - start) / 1000000)) ms"
cat "$tmp/view.err" >&2
check "run --view: no viewer complaint" bash -c "! grep -q viewer '$tmp/view.err'"
for f in ticks.csv agents.csv summary.json exposure.csv; do
    check "run --view: same $f" cmp -s "$tmp/plain/$f" "$tmp/viewed/$f"
done
viewer=$(pgrep -f -- "--scenario $tmp/viewed.partial-" | head -1)
check "run --view: the viewer stays open after the run" test -n "$viewer"
[ -n "$viewer" ] && pids+=("$viewer")
[ -n "$viewer" ] && check "run --view: the viewer closes on SIGTERM" kill "$viewer"

# a viewer that cannot open its window does not stop the run
SDL_VIDEODRIVER=nosuch "$bin" run "$tmp/feed.ini" --quiet --no-progress --out "$tmp/nowin" \
    --view 2>"$tmp/nowin.err"
check "run --view without a window: run completes" cmp -s "$tmp/plain/ticks.csv" "$tmp/nowin/ticks.csv"
check "run --view without a window: said so" grep -q "the viewer exited before it was ready" \
    "$tmp/nowin.err"

echo "viewer: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
