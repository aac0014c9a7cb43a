#!/usr/bin/env bash
# bench/ab.sh: two lir builds against each other on the same `lir bench` rows, taking
# turns (A, B, A, B, ...) so that a change of the machine's load falls on both; prints
# each build's median images/s and CPU ms per row over the rounds, and B / A. For one
# change to the kernels: build before and after, copy the "before" binary aside, run
# this. Round by round figures stay in the kept folder.
# Usage: bench/ab.sh LIR_A LIR_B [--rounds N (3)] [--keep DIR] [-- lir bench arguments]
# Default bench arguments: cfg/resnet18-cifar.cfg --mode both --hooks both
#   --precision both --iters 5 --warmup 1 --threads 2
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: bench/ab.sh LIR_A LIR_B [--rounds N] [--keep DIR] [-- bench args]" >&2; exit 2; }
a=$1 b=$2; shift 2
rounds=3 keep=
while [ $# -gt 0 ]; do
    case $1 in
        --rounds) rounds=$2; shift 2;;
        --keep) keep=$2; shift 2;;
        --) shift; break;;
        *) echo "bench/ab.sh: unknown argument '$1'" >&2; exit 2;;
    esac
done
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(cfg/resnet18-cifar.cfg --mode both --hooks both --precision both
                              --iters 5 --warmup 1 --threads 2)
for bin in "$a" "$b"; do [ -x "$bin" ] || { echo "bench/ab.sh: $bin is not an executable" >&2; exit 2; }; done
if [ -n "$keep" ]; then out=$keep; mkdir -p "$out"; else out=$(mktemp -d); trap 'rm -rf "$out"' EXIT; fi
echo "A: $a"; echo "B: $b"; echo "lir bench ${args[*]}; $rounds rounds; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$rounds"); do
    "$a" bench "${args[@]}" > "$out/a$r.txt"
    "$b" bench "${args[@]}" > "$out/b$r.txt"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$out" "$rounds" <<'PY'
import statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
def rows(path):
    head, res = None, {}
    for line in open(path):
        f = line.split()
        if not f or line.startswith('#'): continue
        if 'images/s' in f: head = f; continue
        if head and len(f) == len(head):
            d = dict(zip(head, f))
            res[(d['mode'], d['hooks'], d['prec'])] = (float(d['images/s']), float(d['cpu_ms']))
    return res
runs = {s: [rows(f"{out}/{s}{r}.txt") for r in range(1, rounds + 1)] for s in "ab"}
print(f"{'mode':6} {'hooks':5} {'prec':5} {'A img/s':>8} {'B img/s':>8} {'B/A':>6} {'A cpu ms':>9} {'B cpu ms':>9} {'A/B cpu':>7}")
for key in runs['a'][0]:
    med = {s: [statistics.median(r[key][i] for r in runs[s]) for i in (0, 1)] for s in "ab"}
    print(f"{key[0]:6} {key[1]:5} {key[2]:5} {med['a'][0]:8.1f} {med['b'][0]:8.1f} {med['b'][0]/med['a'][0]:6.3f}"
          f" {med['a'][1]:9.1f} {med['b'][1]:9.1f} {med['a'][1]/med['b'][1]:7.3f}")
PY
