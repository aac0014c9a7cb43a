#!/usr/bin/env bash
# Test runner: runs every compiled test (build dir given as $1) and every
# tests/test_*.sh and tests/test_*.py, counts exit 0 as passed, 77 as skipped
# (the test prints why), anything else as failed, and exits non-zero on a failure.
#   tests/run.sh [BUILD_DIR] [TEST_NAME...]   e.g. tests/run.sh build test_rebo_sweep.sh
# With names, only those tests run (a name that matches no test is an error).
set -u
bindir=build
case ${1:-} in test_*) ;; "") ;; *) bindir=$1; shift;; esac
only=" $* "
cd "$(dirname "$0")/.."
pass=0 fail=0 skip=0 failed=() seen=0
py=/usr/bin/python3
run_one() {
    local name=$1; shift
    [ "$only" = "  " ] || case $only in *" $name "*) ;; *) return;; esac
    seen=$((seen+1))
    local log; log=$(mktemp)
    local t0=$SECONDS
    "$@" >"$log" 2>&1
    local rc=$?
    case $rc in
        0) pass=$((pass+1)); printf 'ok    %-28s (%ds)\n' "$name" $((SECONDS-t0));;
        77) skip=$((skip+1)); printf 'skip  %-28s %s\n' "$name" "$(grep -m1 SKIP "$log")";;
        *) fail=$((fail+1)); failed+=("$name"); printf 'FAIL  %-28s (exit %d)\n' "$name" $rc
           sed 's/^/      /' "$log" | tail -n 40;;
    esac
    rm -f "$log"
}
for t in "$bindir"/tests/test_*; do
    [ -x "$t" ] || continue
    run_one "$(basename "$t")" "$t"
done
for t in tests/test_*.sh; do
    [ -f "$t" ] || continue
    LIR_BUILD="$bindir" run_one "$(basename "$t")" bash "$t"
done
for t in tests/test_*.py; do
    [ -f "$t" ] || continue
    if [ ! -x "$py" ]; then
        skip=$((skip+1)); printf 'skip  %-28s %s\n' "$(basename "$t")" "no $py"; continue
    fi
    LIR_BUILD="$bindir" run_one "$(basename "$t")" "$py" "$t"
done
[ "$only" = "  " ] || [ $seen -eq $# ] || { echo "run.sh: of the tests named ($*), $seen exist"; exit 2; }
[ ${#failed[@]} -eq 0 ] || echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
