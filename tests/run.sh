#!/usr/bin/env bash
# Test runner: runs every compiled test (build dir given as $1) and every
# tests/test_*.sh and tests/test_*.py, counts exit 0 as passed, 77 as skipped
# (the test prints why), anything else as failed, and exits non-zero on a failure.
set -u
bindir=${1:-build}
cd "$(dirname "$0")/.."
pass=0 fail=0 skip=0 failed=()
py=/usr/bin/python3
run_one() {
    local name=$1; shift
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
[ ${#failed[@]} -eq 0 ] || echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
