#!/usr/bin/env bash
# lir eval against the PyTorch reference (bench/eval_torch_ref.py): forward pass plus
# the per-sample energy at the 41 points of cfg/resnet18.cfg, same weights, same
# images, same batch. Also checks that both give the same energies.
# usage: bench/bench_eval.sh [N]      N CIFAR-10 test images (default 2000)
#   data:    $LIR_DATA (needs cifar10; e.g. LIR_MIRROR=... scripts/get_data.sh cifar10 --data D)
#   weights: $WEIGHTS, else weights/resnet18-cifar10.weights, else random ones written
#            by the torch script (speed does not depend on the values)
# lir scores N test images, N held-out train images and the N test images again as
# the "OOD" set (3N images); its rate is images per second over all of them.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2000}
data=${LIR_DATA:-data}
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
w=${WEIGHTS:-weights/resnet18-cifar10.weights}
if [ ! -f "$w" ]; then
    w=$tmp/random.weights
    $py bench/eval_torch_ref.py write-weights "$w"
fi
make -s -j2 lir
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2) x $(nproc); load $(cut -d' ' -f1-3 /proc/loadavg)"
./lir eval --data "$data" --weights "$w" --in cifar10 --out cifar10 --limit "$n" --holdout "$n" \
    --batch 100 --save-energies --plots=0 --outdir "$tmp/out" >"$tmp/lir.txt" 2>/dev/null
lir_line=$(grep '^forward+energies' "$tmp/lir.txt")
echo "lir   $lir_line"
# torch gets its best of three settings: all threads with libgomp's passive and active
# wait policies (lir itself runs with PASSIVE unless OMP_WAIT_POLICY is set), one thread;
# always with glibc's malloc keeping freed memory (bench/torch_env.sh).
# Two figures each: images per wall second, and images per CPU second (process CPU time
# of all threads), which hardly depends on other load on a shared machine.
. bench/torch_env.sh
rate() { sed -E "s|.* = ([0-9.]+) $1.*|\1|"; }
best=0 best_cpu=0
for setting in "PASSIVE $(nproc)" "ACTIVE $(nproc)" "PASSIVE 1"; do
    set -- $setting
    env "${torch_malloc[@]}" OMP_WAIT_POLICY=$1 $py bench/eval_torch_ref.py run --weights "$w" --data "$data" --n "$n" \
        --batch 100 --threads "$2" --compare "$tmp/out/energies_cifar10_test.csv" >"$tmp/torch.txt"
    line=$(grep '^torch forward' "$tmp/torch.txt")
    echo "torch OMP_WAIT_POLICY=$1: $line"
    best=$(awk -v a="$(echo "$line" | rate 'images/s')" -v b="$best" 'BEGIN { print (a > b ? a : b) }')
    best_cpu=$(awk -v a="$(echo "$line" | rate 'images per CPU')" -v b="$best_cpu" \
        'BEGIN { print (a > b ? a : b) }')
done
tail -n 1 "$tmp/torch.txt"
awk -v a="$(echo "$lir_line" | rate 'images/s')" -v b="$best" -v c="$(echo "$lir_line" | rate 'images per CPU')" \
    -v d="$best_cpu" 'BEGIN { printf "lir / best torch: %.2fx images per wall second, %.2fx images per CPU second\n", a / b, c / d }'
