#!/usr/bin/env bash
# Runs each fuzz target for SECONDS (default 60) from its committed seed
# corpus, and fails if any target finds a crash, a leak or a broken
# round trip. New inputs the fuzzer finds go to BUILD/fuzz-corpus/NAME
# (the committed corpus is only read); a failing input is saved as
# BUILD/fuzz-artifacts/NAME-crash-* and named in the output.
# Usage: run.sh BUILD_DIR [SECONDS] [TARGET ...]
set -u
build=${1:?usage: run.sh BUILD_DIR [SECONDS] [TARGET ...]}
seconds=${2:-60}
shift $(($# > 1 ? 2 : 1))
src=$(cd "$(dirname "$0")/../.." && pwd)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(fuzz_decode fuzz_scenario fuzz_act)

seeds_for() {
    case $1 in
    fuzz_decode) echo "$src/tests/fuzz/corpus/decode" ;;
    fuzz_scenario) echo "$src/tests/fuzz/corpus/scenario $src/scenarios $src/tests/data/scenarios" ;;
    fuzz_act) echo "$src/tests/fuzz/corpus/act" ;;
    esac
}

status=0
for t in "${targets[@]}"; do
    bin="$build/tests/fuzz/$t"
    [ -x "$bin" ] || { echo "fuzz: $bin is not built (make fuzz builds it)"; exit 2; }
    work="$build/fuzz-corpus/$t"
    art="$build/fuzz-artifacts"
    mkdir -p "$work" "$art"
    log="$build/fuzz-$t.log"
    # shellcheck disable=SC2046
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$bin" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$art/$t-" "$work" $(seeds_for "$t") >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    if [ $rc -ne 0 ]; then
        echo "fuzz: $t FAILED (exit $rc) after ${runs:-?} runs; log $log"
        grep -E 'ERROR|SUMMARY|Test unit written|==[0-9]+==' "$log" | head -20
        status=1
    else
        echo "fuzz: $t ok: ${runs:-?} runs in ${seconds} s (${rate:-?} per second), corpus $(ls "$work" | wc -l) inputs"
    fi
done
exit $status
