#!/usr/bin/env bash
# test_bench_run.sh: bench/run.sh's table (issue 13): it states the load average before
# and after, and reads lir bench's and torch_ref.py's rows by their column names (lir
# bench prints images/s, the spread and cpu_ms in its own order). PyTorch is replaced by
# a stub printing torch_ref.py's format with known numbers, and lir runs 1 iteration of
# batch 2, so the test checks the table's arithmetic, not speed.
. tests/lib.sh
cat >"$tmp/torch" <<'SH'
#!/bin/sh
echo "# torch stub"
printf '%-6s %6s %6s %10s %10s %10s %10s\n' mode hooks batch median_ms min_ms images/s cpu_ms
for h in 0 41; do
    printf '%-6s %6d %6d %10.2f %10.2f %10.1f %10.2f\n' train $h 2 10.00 5.00 200.0 20.00
    printf '%-6s %6d %6d %10.2f %10.2f %10.1f %10.2f\n' infer $h 2 4.00 2.00 500.0 8.00
done
SH
chmod +x "$tmp/torch"
expect 0 "bench/run.sh" env PY="$tmp/torch" LIR="$LIR" bash bench/run.sh --iters 1 --warmup 0 \
    --batch 2 --infer-batch 2 --threads 1
has out "# load average (1, 5, 15 minutes) on $(nproc) cores: " "the table states the load"
grep -q '^# load average (1, 5, 15 minutes) on [0-9]* cores: [0-9.]* [0-9.]* [0-9.]* before, [0-9.]* [0-9.]* [0-9.]* after' \
    "$tmp/out" || fail "load line: $(grep '^# load average (1' "$tmp/out")"
[ "$(grep -c '^\(paper\|cifar\) *\(train\|infer\) *\(none\|all\) ' "$tmp/out")" -eq 8 ] ||
    fail "want 8 table rows: $(cat "$tmp/out")"
# paper / train / none: lir's numbers from its own first train row (hooks 0)
check
read -r ips mn cpu < <(awk '$1 == "mode" { m++ } m == 1 && $1 == "train" && $2 == 0 {
    print $4, $5, $10; exit }' "$tmp/out")
awk -v ips="$ips" -v mn="$mn" -v cpu="$cpu" '
    $1 == "paper" && $2 == "train" && $3 == "none" {
        want_r = ips / 200; want_min = (2000 / mn) / 400; want_c = 20 / cpu
        ok = ($4 == ips && $5 == 200.0 && ($6 - want_r)^2 < 1e-4 && ($7 - want_min)^2 < 1e-4 &&
              ($8 - want_c)^2 < 1e-4)
        if (!ok) print "row: " $0 "; want lir " ips ", ratio " want_r ", @min " want_min ", cpu " want_c
        found = 1; exit !ok }
    END { if (!found) exit 1 }' "$tmp/out" || fail "paper train row does not match lir bench's columns"
finish test_bench_run
