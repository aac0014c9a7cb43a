#!/usr/bin/env bash
# bench/run.sh: lir bench and the PyTorch reference (bench/torch_ref.py) on the same
# settings, side by side, for both ResNet-18 cfgs; prints images/s and lir/PyTorch.
# Bars: training (no hooks) >= 0.8x PyTorch; inference with hooks at all points >= 1.0x.
# PyTorch runs twice, with its default OpenMP wait policy and with OMP_WAIT_POLICY=PASSIVE
# (what lir uses by default, see src/cli/main.c), and each row keeps PyTorch's faster run.
# Usage: bench/run.sh [--iters N] [--warmup N] [--threads N] [--batch N] [--infer-batch N]
# Env: LIR (default ./lir), PY (default /usr/bin/python3). Run from the repository root.
set -euo pipefail
iters=10 warmup=2 threads=2 batch=128 ibatch=256
while [ $# -gt 0 ]; do
    case $1 in
        --iters) iters=$2; shift 2;;
        --warmup) warmup=$2; shift 2;;
        --threads) threads=$2; shift 2;;
        --batch) batch=$2; shift 2;;
        --infer-batch) ibatch=$2; shift 2;;
        *) echo "usage: bench/run.sh [--iters N] [--warmup N] [--threads N] [--batch N]" \
                "[--infer-batch N]" >&2; exit 2;;
    esac
done
lir=${LIR:-./lir}
py=${PY:-/usr/bin/python3}
dir=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
common=(--batch "$batch" --infer-batch "$ibatch" --iters "$iters" --warmup "$warmup"
        --threads "$threads")

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "# $(date -u '+%F %T UTC'), $(nproc) cores, load average before: $load_before"
for net in paper cifar; do
    cfg=cfg/resnet18.cfg
    [ $net = cifar ] && cfg=cfg/resnet18-cifar.cfg
    "$lir" bench "$cfg" "${common[@]}" | tee "$out/lir_$net"
    env -u OMP_WAIT_POLICY "$py" "$dir/torch_ref.py" --net $net "${common[@]}" |
        tee "$out/torch_$net"
    echo "# the same with OMP_WAIT_POLICY=PASSIVE"
    OMP_WAIT_POLICY=PASSIVE "$py" "$dir/torch_ref.py" --net $net "${common[@]}" |
        tee "$out/torchp_$net"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
echo "# load average after: $load_after"
echo
# rows of both tools, read by their column names (lir bench: mode hooks batch images/s
# min_ms q1_ms median_ms q3_ms max_ms cpu_ms prec; torch_ref.py: mode hooks batch
# median_ms min_ms images/s cpu_ms). "ratio" compares medians (the bars); "ratio@min"
# the fastest iterations; "cpu ratio" the CPU time per iteration (all threads), i.e.
# images per CPU-second: on a busy machine the last two are steadier than the medians.
echo "# load average (1, 5, 15 minutes) on $(nproc) cores: $load_before before, $load_after after" \
     "(a 1-minute figure of 0.5 or more before: other work shared the CPUs, img/s and ratio are" \
     "unreliable, cpu ratio steadier)"
printf '%-6s %-6s %-6s %11s %11s %7s %9s %9s  %s\n' net mode hooks "lir img/s" "torch img/s" \
    ratio ratio@min "cpu ratio" bar
for net in paper cifar; do
    awk -v net=$net '
        FNR == 1 { file++ }
        $1 == "mode" { for (i = 1; i <= NF; i++) col[file, $i] = i; next }
        $1 == "train" || $1 == "infer" {
            key = $1 " " ($(col[file, "hooks"]) > 0 ? "all" : "none")
            ips = $(col[file, "images/s"]); mn = $(col[file, "min_ms"]); cpu = $(col[file, "cpu_ms"])
            best = mn > 0 ? 1000 * $(col[file, "batch"]) / mn : 0
            if (file == 1) { lir[key] = ips; lirb[key] = best; lirc[key] = cpu; order[++n] = key }
            else {
                if (ips > torch[key]) torch[key] = ips
                if (best > torchb[key]) torchb[key] = best
                if (!(key in torchc) || cpu < torchc[key]) torchc[key] = cpu
            }
        }
        END {
            for (i = 1; i <= n; i++) {
                k = order[i]; split(k, p, " ")
                r = torch[k] > 0 ? lir[k] / torch[k] : 0
                rb = torchb[k] > 0 ? lirb[k] / torchb[k] : 0
                rc = lirc[k] > 0 ? torchc[k] / lirc[k] : 0
                bar = ""
                if (k == "train none") bar = (r >= 0.8 ? "ok (>= 0.8)" : "BELOW 0.8")
                if (k == "infer all") bar = (r >= 1.0 ? "ok (>= 1.0)" : "BELOW 1.0")
                printf "%-6s %-6s %-6s %11.1f %11.1f %7.2f %9.2f %9.2f  %s\n", net, p[1], p[2],
                       lir[k], torch[k], r, rb, rc, bar
            }
        }' "$out/lir_$net" "$out/torch_$net" "$out/torchp_$net"
done
