#!/usr/bin/env bash
# No user file is ever deleted or silently lost by --out (issue 11 item 6,
# and the stale partial folders of item 5): only a folder recarena wrote
# (it holds .recarena-run) is replaced; any other non-empty folder, a file
# or a path too long is refused before the run starts; two runs into one
# folder at once: the second refuses; a failed write names the file.
# usage: test_outdir.sh PATH/TO/recarena
set -u
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $1" >&2; }
check() { local name=$1; shift; if "$@"; then ok; else bad "$name"; fi; }
refused() { # refused NAME TEXT COMMAND...: exit non-zero, stderr has the text
    local name=$1 text=$2
    shift 2
    local rc=0
    "$@" >out.txt 2>err.txt || rc=$?
    if [ "$rc" -ne 0 ] && grep -qF -- "$text" err.txt; then ok; else
        bad "$name (exit $rc, stderr: $(cat err.txt))"; fi
}
# an in-process run: the marker agent proves nothing started
run=("$bin" run --agent a=policy:random --agent b=policy:popularity --ticks 5 --quiet)

check "a run" "${run[@]}" --out r1
check "the run folder has the marker" grep -qx "recarena run folder, format 1" r1/.recarena-run
check "no lock file left" test ! -e r1.lock
check "no partial folder left" bash -c '! ls -d r1.partial-* r1.old-* 2>/dev/null'
echo mine >r1/notes.txt
check "a run folder is replaced" "${run[@]}" --seed 2 --out r1
check "replaced: the new seed" grep -qx 2 r1/seed.txt
check "replaced: whole (nothing old kept)" test ! -e r1/notes.txt

# the bug of issue 11: a summary.json is not proof; the thesis stays
mkdir thesis && echo '{}' >thesis/summary.json && echo precious >thesis/thesis.tex
refused "a folder with summary.json but no marker" "a folder recarena did not write" \
    "${run[@]}" --out thesis
check "its files untouched" grep -qx precious thesis/thesis.tex
check "nothing written beside it" bash -c '! ls -d thesis.partial-* 2>/dev/null'
touch afile
refused "a file" "--out afile: exists and is not a folder" "${run[@]}" --out afile
mkdir empty
check "an empty folder is fine" "${run[@]}" --out empty
check "written into the empty folder" test -s empty/summary.json
long=$(printf 'd%.0s' $(seq 1 950))
refused "a path too long" "the path is too long (950 characters; 1 to 900 accepted)" \
    "${run[@]}" --out "$long"
check "nothing written for the long path" bash -c "! ls -d d* 2>/dev/null"

# two runs at once: the second refuses while the first holds the lock
# (flock(1) holds it here the way a running recarena does)
flock -o r1.lock sleep 8 &
holder=$!
for _ in $(seq 50); do [ -e r1.lock ] && break; sleep 0.1; done
sleep 0.2
refused "a second run into a busy folder" "another run is writing to it" "${run[@]}" --out r1
kill "$holder"
wait "$holder" 2>/dev/null
check "after the first ends, a run proceeds" "${run[@]}" --out r1

# and two real runs started together: exactly one succeeds, one folder
long_run=("$bin" run --agent a=policy:random --ticks 400 --set world.n_users=3000 --quiet)
"${long_run[@]}" --out twin 2>twin1.err &
p1=$!
"${long_run[@]}" --out twin 2>twin2.err &
p2=$!
rc1=0; rc2=0
wait $p1 || rc1=$?
wait $p2 || rc2=$?
if [ $((rc1 == 0)) -ne $((rc2 == 0)) ] && grep -qF "another run is writing" twin1.err twin2.err; then
    ok
else
    # both may succeed only if the first finished before the second began
    if [ $rc1 -eq 0 ] && [ $rc2 -eq 0 ]; then ok; else bad "two runs at once ($rc1, $rc2)"; fi
fi
check "one whole folder" test -s twin/summary.json

# stale leftovers of a killed run: removed only when marked and its pid gone
mkdir r1.partial-999999 && cp r1/.recarena-run r1.partial-999999/
mkdir r1.old-999998 && cp r1/.recarena-run r1.old-999998/
mkdir r1.partial-999997 && echo mine >r1.partial-999997/x
mkdir "r1.partial-$$" && cp r1/.recarena-run "r1.partial-$$/"
check "a run with leftovers" "${run[@]}" --out r1
check "a dead run's marked partial folder removed" test ! -e r1.partial-999999
check "a dead run's marked old folder removed" test ! -e r1.old-999998
check "an unmarked one kept" test -e r1.partial-999997/x
check "a live process's one kept" test -e "r1.partial-$$"

# a failed write names the file and why (a 2 KiB file size limit)
rc=0
bash -c "ulimit -f 2; trap '' XFSZ; exec $(printf '%q ' "${run[@]}") --ticks 50 --out big" \
    2>err.txt || rc=$?
if [ $rc -ne 0 ] && grep -qE "writing big\.partial-[0-9]+/[a-z]+\.(csv|json) failed: File too large" err.txt
then ok; else bad "failed write named (exit $rc: $(cat err.txt))"; fi
check "nothing left of the failed run" bash -c '! ls -d big big.partial-* 2>/dev/null'

echo "outdir: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
