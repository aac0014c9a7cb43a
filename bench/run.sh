#!/usr/bin/env bash
# bench/run.sh: lir bench and the PyTorch reference (bench/torch_ref.py) on the same
# settings, side by side, for both ResNet-18 cfgs: lir in fp32 and bf16 against PyTorch
# in fp32 and with CPU bf16 autocast, --runs times (default 3); bench/bench_table.py
# prints each figure's median over the runs and checks the bars of issue 14 (CIFAR net
# training >= 2.5x PyTorch fp32 and >= 1.5x PyTorch bf16; inference with hooks >= 3x
# PyTorch fp32). PyTorch runs with its default OpenMP wait policy and with
# OMP_WAIT_POLICY=PASSIVE (what lir uses by default, see src/cli/main.c), and each row
# keeps PyTorch's faster run.
# Usage: bench/run.sh [--runs N] [--iters N] [--warmup N] [--threads N] [--batch N]
#                     [--infer-batch N] [--keep DIR]
# Env: LIR (default ./lir), PY (default /usr/bin/python3). Run from the repository root.
set -euo pipefail
runs=3 iters=5 warmup=1 threads=2 batch=128 ibatch=256 keep=
usage() {
    echo "usage: bench/run.sh [--runs N (3)] [--iters N (5)] [--warmup N (1)]" \
         "[--threads N (2)] [--batch N (128)] [--infer-batch N (256)] [--keep DIR]" >&2
    exit 2
}
while [ $# -gt 0 ]; do
    [ $# -ge 2 ] || usage
    case $1 in
        --runs) runs=$2;;
        --iters) iters=$2;;
        --warmup) warmup=$2;;
        --threads) threads=$2;;
        --batch) batch=$2;;
        --infer-batch) ibatch=$2;;
        --keep) keep=$2;;
        *) usage;;
    esac
    shift 2
done
lir=${LIR:-./lir}
py=${PY:-/usr/bin/python3}
dir=$(cd "$(dirname "$0")" && pwd)
if [ -n "$keep" ]; then
    out=$keep; mkdir -p "$out"
else
    out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
fi
. "$dir/torch_env.sh"
common=(--batch "$batch" --infer-batch "$ibatch" --iters "$iters" --warmup "$warmup"
        --threads "$threads")

echo "# $(date -u '+%F %T UTC'), $(nproc) cores, $runs run(s), LIR_CONV=${LIR_CONV:-(unset)}"
for r in $(seq 1 "$runs"); do
    d=$out/run$r; mkdir -p "$d"
    echo "# run $r: load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    for net in paper cifar; do
        cfg=cfg/resnet18.cfg
        [ $net = cifar ] && cfg=cfg/resnet18-cifar.cfg
        "$lir" bench "$cfg" "${common[@]}" --precision both | tee "$d/lir_$net"
        for prec in fp32 bf16; do
            for layout in nchw channels_last; do
                t=(env "${torch_malloc[@]}" "$py" "$dir/torch_ref.py" --net $net "${common[@]}"
                   --precision $prec --layout $layout)
                env -u OMP_WAIT_POLICY "${t[@]}" | tee "$d/torch_${net}_${prec}_${layout}_default"
                echo "# the same with OMP_WAIT_POLICY=PASSIVE"
                OMP_WAIT_POLICY=PASSIVE "${t[@]}" | tee "$d/torch_${net}_${prec}_${layout}_passive"
            done
        done
    done
    echo "# run $r: load average after: $(cut -d' ' -f1-3 /proc/loadavg)" \
         "(1, 5, 15 minutes on $(nproc) cores; a 1-minute figure of 0.5 or more before" \
         "means other work shared the CPUs: img/s and ratios unreliable, cpu ratios steadier)"
done
echo
"$py" "$dir/bench_table.py" "$out"/run*
