#!/usr/bin/env bash
# test_bench_run.sh: bench/run.sh and its table (bench/bench_table.py). The table reads
# lir bench's and torch_ref.py's rows by their column names, takes lir's faster precision,
# PyTorch's fastest layout and wait policy, the ratios within each run and their median
# over the runs, and marks issue 14's bars. Part 1 checks that arithmetic on written rows with known
# numbers; part 2 runs bench/run.sh end to end with lir at 1 iteration of batch 2 and
# PyTorch replaced by a stub printing torch_ref.py's format, so it checks the plumbing
# (every row, the load lines), not speed. Part 3 checks bench/ab.sh's medians and
# ratios on two stub builds.
. tests/lib.sh
[ -x "$PY" ] || { echo "SKIP: no $PY"; exit 77; }

# Part 1: three runs of known rows. lir: fp32 100/110/90 img/s (cpu 1000 ms), bf16 50
# (cpu 2000 ms) in every run; PyTorch fp32 40 (default policy) and 50 (PASSIVE, kept),
# bf16 80 (cpu 1500 ms); fp32 45 in channels_last (default policy), not kept.
# Medians: lir fp32 100, x fp32 2.00, x bf16 1.25, cpu x bf16 1.5.
lir_rows() {  # <fp32 img/s>: lir bench's columns and order
    echo "mode    hooks  batch   images/s    min_ms     q1_ms  median_ms     q3_ms    max_ms    cpu_ms  prec"
    for m in train infer; do for h in 0 41; do
        echo "$m $h 128 $1 1 1 1 1 1 1000.0 fp32"
        echo "$m $h 128 50.0 1 1 1 1 1 2000.0 bf16"
    done; done
}
torch_rows() {  # <img/s> <cpu_ms> <prec>: torch_ref.py's columns and order
    echo "# torch stub"
    echo "mode hooks batch median_ms min_ms images/s cpu_ms prec"
    for m in train infer; do for h in 0 41; do echo "$m $h 128 1 1 $1 $2 $3"; done; done
}
i=0
for f in 100.0 110.0 90.0; do
    i=$((i + 1)); d=$tmp/runs/run$i; mkdir -p "$d"
    for net in paper cifar; do
        lir_rows $f >"$d/lir_$net"
        torch_rows 40.0 3000.0 fp32 >"$d/torch_${net}_fp32_nchw_default"
        torch_rows 50.0 2500.0 fp32 >"$d/torch_${net}_fp32_nchw_passive"
        torch_rows 45.0 2800.0 fp32 >"$d/torch_${net}_fp32_channels_last_default"
        torch_rows 80.0 1500.0 bf16 >"$d/torch_${net}_bf16_channels_last_default"
    done
done
expect 0 "bench_table.py on three runs" "$PY" bench/bench_table.py "$tmp"/runs/run*
has out "# 3 run(s)" "the table says how many runs"
[ "$(grep -c '^\(paper\|cifar\) *\(train\|infer\) *\(none\|all\) ' "$tmp/out")" -eq 8 ] ||
    fail "want 8 table rows: $(cat "$tmp/out")"
check
awk '$1 == "cifar" && $2 == "train" && $3 == "none" {
        ok = $4 == 100.0 && $5 == 50.0 && $6 == 50.0 && $7 == 80.0 && $8 == 2.00 &&
             $9 == 1.25 && $10 == 2.50 && $11 == 1.50
        if (!ok) print "row: " $0
        found = 1; exit !ok }
    END { if (!found) exit 1 }' "$tmp/out" || fail "cifar train row: $(cat "$tmp/out")"
# bars: cifar train 2.0x < 2.5x fp32, 1.25x < 1.5x bf16; hooked inference 2.0x < 3x (both nets)
has out "BELOW 2.5x fp32, BELOW 1.5x bf16" "the training bars are marked"
has out "# bars below: 4" "four bars missed"
expect 1 "bench_table.py without runs" "$PY" bench/bench_table.py

# Part 2: bench/run.sh end to end, two runs, the stub answering for both precisions and
# layouts; it refuses to run without glibc's malloc settings (run.sh's torch_malloc).
cat >"$tmp/torch" <<'SH'
#!/bin/sh
[ -n "$MALLOC_MMAP_THRESHOLD_" ] && [ -n "$MALLOC_TRIM_THRESHOLD_" ] ||
    { echo "torch stub: run without the malloc settings" >&2; exit 3; }
prec=fp32 layout=; while [ $# -gt 0 ]; do
    [ "$1" = --precision ] && prec=$2; [ "$1" = --layout ] && layout=$2; shift; done
[ -n "$layout" ] || { echo "torch stub: no --layout" >&2; exit 3; }
echo "# torch stub"
echo "mode hooks batch median_ms min_ms images/s cpu_ms prec"
for h in 0 41; do echo "train $h 2 10.00 5.00 200.0 20.00 $prec"; echo "infer $h 2 4.00 2.00 500.0 8.00 $prec"; done
SH
chmod +x "$tmp/torch"
cat >"$tmp/py" <<SH
#!/bin/sh
case "\$1" in *torch_ref.py) shift; exec "$tmp/torch" "\$@";; *) exec "$PY" "\$@";; esac
SH
chmod +x "$tmp/py"
expect 0 "bench/run.sh" env PY="$tmp/py" LIR="$LIR" bash bench/run.sh --runs 2 --iters 1 \
    --warmup 0 --batch 2 --infer-batch 2 --threads 1 --keep "$tmp/keep"
grep -q '^# run 2: load average before: [0-9.]* [0-9.]* [0-9.]*$' "$tmp/out" ||
    fail "no load line before run 2: $(grep '^# run' "$tmp/out")"
has out "# 2 run(s)" "the table covers both runs"
[ "$(grep -c '^\(paper\|cifar\) *\(train\|infer\) *\(none\|all\) ' "$tmp/out")" -eq 8 ] ||
    fail "want 8 table rows: $(cat "$tmp/out")"
[ -s "$tmp/keep/run2/lir_cifar" ] && [ -s "$tmp/keep/run2/torch_cifar_bf16_nchw_passive" ] &&
    [ -s "$tmp/keep/run2/torch_cifar_fp32_channels_last_default" ] ||
    fail "--keep did not keep the runs' rows: $(ls -R "$tmp/keep")"
expect 2 "bench/run.sh with a bad flag" bash bench/run.sh --bogus 1
# Part 3: bench/ab.sh, two stub builds printing lir bench's columns (A 100 img/s and
# 1000 CPU ms in every row, B 130 and 800 in rounds 1 and 3, 90 and 1200 in round 2:
# medians 130 and 800), so B/A 1.300 and the CPU ratio 1.250.
for side in a b; do
    cat >"$tmp/lir_$side" <<SH
#!/bin/sh
n=\$(cat "$tmp/n_$side" 2>/dev/null || echo 0); n=\$((n + 1)); echo \$n >"$tmp/n_$side"
f=100.0 c=1000.0
[ $side = b ] && { f=130.0 c=800.0; [ \$n = 2 ] && f=90.0 c=1200.0; }
echo "# stub"
echo "mode    hooks  batch   images/s    min_ms     q1_ms  median_ms     q3_ms    max_ms    cpu_ms  prec"
for m in train infer; do echo "\$m 0 128 \$f 1 1 1 1 1 \$c fp32"; done
SH
    chmod +x "$tmp/lir_$side"
done
expect 0 "bench/ab.sh" bash bench/ab.sh "$tmp/lir_a" "$tmp/lir_b" --rounds 3
[ "$(awk '$1 == "train" || $1 == "infer"' "$tmp/out" | grep -c ' 100.0 *130.0 *1.300 *1000.0 *800.0 *1.250$')" -eq 2 ] ||
    fail "bench/ab.sh: want both rows at B/A 1.300, CPU 1.250: $(cat "$tmp/out")"
expect 2 "bench/ab.sh without builds" bash bench/ab.sh
finish test_bench_run
