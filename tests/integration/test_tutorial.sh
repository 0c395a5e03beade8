#!/usr/bin/env bash
# docs/tutorial.md never goes stale: every ```sh tutorial block of the
# lesson runs, in order, from a scratch folder laid out like the
# repository (build/, scenarios/), with each `recarena run` cut short
# (--ticks 30 --episodes 1 appended, which win over the block's own), and
# every picture a block names with --out must appear (a name with $var
# from a loop: some file matching it). Each picture the
# lesson shows must be in docs/img/tutorial/.
# usage: test_tutorial.sh PATH/TO/recarena SOURCE_DIR
set -u
bin=$1
src=$2
doc=$src/docs/tutorial.md
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
build=$(cd "$(dirname "$bin")/.." && pwd)
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

# the scratch repository: the real agents and viewer, a recarena that
# shortens runs, the shipped scenarios
mkdir -p "$tmp/root/build/sim"
ln -s "$build/agents" "$tmp/root/build/agents"
ln -s "$build/viz" "$tmp/root/build/viz"
ln -s "$src/scenarios" "$tmp/root/scenarios"
cat >"$tmp/root/build/sim/recarena" <<EOF
#!/usr/bin/env bash
if [ "\${1:-}" = run ]; then
    exec "$bin" "\$@" --ticks 30 --episodes 1 --no-progress
fi
exec "$bin" "\$@"
EOF
chmod +x "$tmp/root/build/sim/recarena"

# the blocks: each ```sh tutorial ... ``` into its own file
awk -v dir="$tmp" '
    /^```sh tutorial *$/ { n++; file = sprintf("%s/step%02d.sh", dir, n); inside = 1; next }
    inside && /^```/ { inside = 0; close(file); next }
    inside { print > file }
' "$doc"
steps=$(ls "$tmp"/step*.sh 2>/dev/null | wc -l)
check "the lesson has its four steps" test "$steps" -ge 4

cd "$tmp/root" || exit 1
for step in "$tmp"/step*.sh; do
    name=$(basename "$step" .sh)
    check "$name runs" bash -e -o pipefail "$step" >"$tmp/$name.out" 2>&1 ||
        sed 's/^/    /' "$tmp/$name.out" >&2
    # a picture named in a loop ($p) stands for every file its pattern matches
    for picture in $(grep -o -- '--out [^ ]*\.png' "$step" | cut -d' ' -f2); do
        pattern=$(printf '%s' "$picture" | sed 's/\$[A-Za-z_]*/*/g')
        # shellcheck disable=SC2086 # the pattern is a glob on purpose
        check "$name drew $picture" bash -c "ls $pattern >/dev/null 2>&1 && test -s \"\$(ls $pattern | head -1)\""
    done
done

# every picture the lesson shows exists
for img in $(grep -o '(img/tutorial/[^)]*\.png)' "$doc" | tr -d '()'); do
    check "picture $img" test -s "$src/docs/$img"
done
check "the lesson shows pictures" grep -q '(img/tutorial/' "$doc"

echo "tutorial: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
