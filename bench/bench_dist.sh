#!/usr/bin/env bash
# bench/bench_dist.sh: data-parallel training throughput (not a test): `lir train` for a
# few steps on CIFAR-10 with K = 1 (one process) and K > 1 (`mpirun -np K`, each process
# K-th of the batch, OMP_NUM_THREADS = cores / K, at least 1), per cfg; prints one row
# per (cfg, K): images/s at the median step, the median gradient allreduce per step and
# its share of the step time (lir train's "throughput:" and "allreduce:" lines).
# K above the core count runs --oversubscribe and is marked "oversubscribed".
# Usage: bench/bench_dist.sh [--cfgs "cfg/resnet18.cfg ..."] [--ks "1 2 4"] [--batch 128]
#                            [--steps 6] [--lir PATH] [--data DIR]
# Needs the MPI build (make MPI=1; --lir defaults to build-mpi/lir, else ./lir) and the
# CIFAR-10 training set (--data, else $LIR_DATA). Run from the repository root.
set -euo pipefail
cfgs="tests/fixtures/tiny-train.cfg cfg/resnet18.cfg"
ks="1 2 4"
batch=128
steps=6
lir=build-mpi/lir
[ -x "$lir" ] || lir=./lir
data=${LIR_DATA:-data}
while [ $# -gt 0 ]; do
    case $1 in
        --cfgs) cfgs=$2;; --ks) ks=$2;; --batch) batch=$2;; --steps) steps=$2;;
        --lir) lir=$2;; --data) data=$2;;
        *) echo "usage: bench/bench_dist.sh [--cfgs LIST] [--ks LIST] [--batch N] [--steps N] [--lir PATH] [--data DIR]" >&2; exit 2;;
    esac
    shift 2
done
"$lir" info --cpu | grep -q '^data-parallel: *MPI' ||
    { echo "bench_dist.sh: $lir is built without MPI (make MPI=1)" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cores=$(nproc)
echo "# $(date -u '+%F %T UTC'), $cores cores, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-32s %3s %-15s %7s %10s %12s %10s %8s\n' cfg K placement batch/proc "images/s" \
    "step ms" "allreduce" "share"
for cfg in $cfgs; do
    for k in $ks; do
        run=(train "$cfg" --data "$data" --outdir "$out/r" --progress-seconds 1000
             --stop-after-steps "$steps" --set "batch=$batch;val_size=0;epochs=1;augment=false")
        threads=$((cores / k > 0 ? cores / k : 1))
        place=$([ "$k" -gt "$cores" ] && echo oversubscribed || echo "1 core each")
        [ "$k" -gt 1 ] || place="$cores threads"
        rm -rf "$out/r"
        if [ "$k" = 1 ]; then
            OMP_NUM_THREADS=$cores "$lir" "${run[@]}" >"$out/log" 2>&1
        else
            OMP_NUM_THREADS=$threads mpirun --oversubscribe --allow-run-as-root -np "$k" \
                "$lir" "${run[@]}" >"$out/log" 2>&1
        fi
        tp=$(grep '^throughput:' "$out/log") || { echo "bench_dist.sh: $cfg K=$k failed:"; tail -5 "$out/log"; exit 1; }
        ips=$(sed -n 's/.* = \([0-9.]*\) images\/s$/\1/p' <<<"$tp")
        ms=$(sed -n 's/.*median step \([0-9.]*\) ms.*/\1/p' <<<"$tp")
        ar=$(sed -n 's/.*median \([0-9.]*\) ms per step, \([0-9.]*%\) of the step time/\1 ms \2/p' "$out/log")
        printf '%-32s %3s %-15s %7s %10s %12s %10s %8s\n' "$cfg" "$k" "$place" $((batch / k)) \
            "$ips" "$ms" "${ar% *}" "${ar##* }"
    done
done
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
