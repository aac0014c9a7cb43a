#!/usr/bin/env bash
# test_eval_mirror.sh: `lir eval` on CIFAR-10 fetched from the local data mirror must say,
# on the console and in results.json (from the PROVENANCE file get_data.sh writes), that
# the ID images are the mirror's JPEG-derived copy. Skips where the mirror or PyTorch (used to write random ResNet-18 weights) is
# missing.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
lir=${LIR:-$root/lir}
case $lir in /*) ;; *) lir=$root/$lir;; esac
mirror=${LIR_MIRROR:-/work/shared/data/mirror}
if [ ! -f "$mirror/cifar10/cifar-10-binary.tar.gz" ]; then
    echo "SKIP: no data mirror at $mirror (set LIR_MIRROR)"; exit 77
fi
if ! /usr/bin/python3 -c 'import torch, torchvision' 2>/dev/null; then
    echo "SKIP: no PyTorch under /usr/bin/python3 (needed to write the weights)"; exit 77
fi
tmp=$(mktemp -d /tmp/lir_eval_mirror_XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0
LIR_MIRROR=$mirror "$root/scripts/get_data.sh" cifar10 --data "$tmp/data" >/dev/null || {
    echo "FAIL: get_data.sh from the mirror"; exit 1; }
/usr/bin/python3 "$root/bench/eval_torch_ref.py" write-weights "$tmp/w.weights" || exit 1
"$lir" eval --cfg "$root/cfg/resnet18.cfg" --weights "$tmp/w.weights" --data "$tmp/data" \
    --out cifar10@blur1 --limit 16 --holdout 4 --batch 16 --plots=0 --outdir "$tmp/out" \
    >"$tmp/out.txt" 2>"$tmp/err.txt" || { echo "FAIL: lir eval"; cat "$tmp/err.txt"; exit 1; }
grep -qF "ID data: cifar10: source=mirror (fetched from .../$(basename "$mirror")): JPEG q75-derived rebuild" "$tmp/out.txt" ||
    { echo "FAIL: console does not name the mirror's JPEG-derived copy"; grep "ID data" "$tmp/out.txt"; fail=1; }
grep -q '"id_source":[[:space:]]*"mirror"' "$tmp/out/results.json" ||
    { echo "FAIL: results.json lacks id_source: mirror"; fail=1; }
grep -q '"id_provenance":[[:space:]]*"cifar10: source=mirror (fetched from .*JPEG q75-derived rebuild' "$tmp/out/results.json" ||
    { echo "FAIL: results.json id_provenance"; fail=1; }
# without the PROVENANCE file the source is unknown
rm "$tmp/data/cifar10/PROVENANCE"
"$lir" eval --cfg "$root/cfg/resnet18.cfg" --weights "$tmp/w.weights" --data "$tmp/data" \
    --out cifar10@blur1 --limit 16 --holdout 4 --batch 16 --plots=0 --outdir "$tmp/out2" \
    >"$tmp/out2.txt" 2>"$tmp/err.txt" || { echo "FAIL: lir eval (no PROVENANCE)"; cat "$tmp/err.txt"; exit 1; }
grep -qF "ID data: cifar10: source=unknown (no <data dir>/cifar10/PROVENANCE" "$tmp/out2.txt" ||
    { echo "FAIL: console without PROVENANCE"; grep "ID data" "$tmp/out2.txt"; fail=1; }
grep -q '"id_source":[[:space:]]*"unknown"' "$tmp/out2/results.json" ||
    { echo "FAIL: results.json lacks id_source: unknown"; fail=1; }
# results and console name no absolute path of this machine (data dir, weights, mirror);
# only the closing "wrote <outdir>/..." line names the output directory as given
if grep -v '^wrote ' "$tmp/out.txt" | cat - "$tmp/out/results.json" "$tmp/out2/results.json" |
    grep -n -e "$tmp" -e "$mirror" -e '"/'; then
    echo "FAIL: absolute paths in the results (above)"; fail=1
fi
grep -q '"path":[[:space:]]*"<data dir>/cifar10/cifar-10-batches-bin/test_batch.bin"' "$tmp/out/results.json" ||
    { echo "FAIL: data files not recorded relative to the data directory"; fail=1; }
[ $fail = 0 ] && echo "test_eval_mirror: ok"
exit $fail
