#!/usr/bin/env bash
# bench_data.sh: throughput of lir's input pipeline on the full CIFAR-10 train split:
# load time, dataset_batch (normalise, OpenMP) and the augmenting background loader
# (shuffle + crop + flip + normalise, batch 128), in images/s.
# usage: bench/bench_data.sh [--data DIR] [--batches K]   (needs ./lir and the data;
# fetch it first with scripts/get_data.sh cifar10, or LIR_MIRROR=... for a mirror)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x ./lir ] || make -j2 >/dev/null
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
exec ./lir data bench cifar10 --split train --batch 128 "$@"
