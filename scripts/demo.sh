#!/usr/bin/env bash
# lir demo: installs the build dependencies, builds lir, fetches the data and runs the
# per-layer OOD analysis of the shipped weights (docs/method.md), printing the
# table and writing the figures (PNG, SVG, PDF) into runs/demo/.
# usage: scripts/demo.sh [--no-install] [OOD sets]     (default: fashionmnist,mnist)
#   --no-install  skip scripts/install_deps.sh --build-only (packages already there)
#   LIR_MIRROR    fetch from a local mirror instead of the official hosts
#   LIR_DATA      data directory (default ./data)
set -euo pipefail
cd "$(dirname "$0")/.."
install=1
ood=fashionmnist,mnist
for a in "$@"; do
    case $a in
        --no-install) install=0;;
        -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; exit 0;;
        -*) echo "demo.sh: unknown option $a" >&2; exit 2;;
        *) ood=$a;;
    esac
done
data=${LIR_DATA:-data}
weights=weights/resnet18-cifar10.weights

[ $install = 1 ] && scripts/install_deps.sh --build-only
make -j"$(nproc)"
# the datasets behind the OOD names (cifar10@jpeg75 needs cifar10 only)
sets=$(echo "cifar10,$ood" | tr ',' '\n' | sed 's/@.*//' | sort -u | tr '\n' ' ')
# shellcheck disable=SC2086
scripts/get_data.sh $sets --data "$data"
if [ ! -f "$weights" ]; then
    echo "demo.sh: $weights is missing: it ships with lir's repository; in a checkout" \
         "without it, train it with \`lir train\` (see README.md)" >&2
    exit 1
fi
./lir eval --in cifar10 --out "$ood" --data "$data" --weights "$weights" \
    --cfg cfg/resnet18.cfg --outdir runs/demo
echo
echo "plots: $(ls runs/demo/auroc_scores_*.png | tr '\n' ' ')"
echo "summary across OOD sets: runs/demo/auroc_heatmap_cifar10.png; every metric: runs/demo/results.json"
echo "your own 32x32 images, with an OOD verdict from the ID-only fit:" \
     "./lir predict cfg/resnet18.cfg $weights --fit runs/demo/fit.json IMAGE.png"
