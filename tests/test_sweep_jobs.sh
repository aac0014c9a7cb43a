#!/usr/bin/env bash
# test_sweep_jobs.sh: scripts/sweep.sh on this machine, on the tiny fixture data: run
# folders keyed by the config (OUTDIR/runs/<key>, OUTDIR/<name> a link to it; two names
# with the same config are one run; a changed config gets a new folder and keeps the
# old; a real name folder of an earlier sweep.sh is used as it is), --jobs 2 (two runs at
# once, each one's log), a re-submission that does nothing, and the backend flags'
# refusals.
. "$(dirname "$0")/lib.sh"
[ -x "$PY" ] || { echo "SKIP: no $PY to write the test data"; exit 77; }
case $LIR in /*) ;; *) LIR=$PWD/$LIR;; esac
root=$PWD
export OMP_NUM_THREADS=1
"$PY" "$root/tests/fixtures/make_tiny_data.py" "$tmp/data"
cp "$root/tests/fixtures/tiny-train.cfg" "$tmp/tiny.cfg"
mkdir "$tmp/c"
for s in 1 2; do echo "{\"epochs\": 1, \"val_size\": 20, \"batch\": 16, \"seed\": $s}" > "$tmp/c/s$s.json"; done
cp "$tmp/c/s1.json" "$tmp/c/twin.json" # the same config as s1 under another name
sw=(bash "$root/scripts/sweep.sh" --configs "$tmp/c" --outdir "$tmp/sw" --cfg "$tmp/tiny.cfg" --lir "$LIR"
    --data "$tmp/data" --eval none)

expect 0 "dry run" "${sw[@]}" --dry-run -- --progress-seconds 0
has out $'run\ttraining\teval\tconfig\tfolder' "dry run shows the folders"
k1=$(awk -F'\t' '$1 == "s1" { print $5 }' "$tmp/out")
k2=$(awk -F'\t' '$1 == "s2" { print $5 }' "$tmp/out")
kt=$(awk -F'\t' '$1 == "twin" { print $5 }' "$tmp/out")
check; case $k1 in "$tmp/sw/runs/"*-*) ;; *) fail "s1's folder: '$k1'";; esac
check; [ "$k1" = "$kt" ] && [ "$k1" != "$k2" ] || fail "the same config shares a folder, another does not: $k1 $kt $k2"
h=$("$LIR" train "$tmp/tiny.cfg" --config "$tmp/c/s1.json" --data "$tmp/data" --print-hash)
check; [ "$k1" = "$tmp/sw/runs/$h-$(sha256sum < "$tmp/tiny.cfg" | cut -c1-8)" ] ||
    fail "the key is lir train --print-hash and the cfg's SHA-256: $k1, hash $h"

expect 0 "--jobs 2" "${sw[@]}" --jobs 2 -- --progress-seconds 0
has out "== s1: training" "s1 trained"
has out "== s2: training" "s2 trained"
check; grep -q "== twin: training" "$tmp/out" && fail "twin trained although s1 has its config"
check; [ "$(readlink "$tmp/sw/s1")" = "runs/$(basename "$k1")" ] && [ "$(readlink "$tmp/sw/twin")" = "runs/$(basename "$k1")" ] ||
    fail "names link to the keyed folder: $(ls -l "$tmp/sw")"
check; [ -f "$k1/final.weights.json" ] && [ -f "$k2/final.weights.json" ] || fail "no final weights in the run folders"
check; [ -f "$tmp/sw/logs/s1.log" ] && grep -q "^test: " "$tmp/sw/logs/s2.log" || fail "each run's log: $(ls "$tmp/sw/logs")"
check; [ "$(grep -c "$tmp/sw/" "$tmp/sw/results.tsv")" = 3 ] || fail "results.tsv: $(cat "$tmp/sw/results.tsv")"

expect 0 "again, --jobs 2" "${sw[@]}" --jobs 2 -- --progress-seconds 0
check; grep -q "^== .*: training$\|^== .*: resuming$" "$tmp/out" && fail "a finished sweep trains again: $(grep "^== " "$tmp/out")"
expect 0 "again, one at a time" "${sw[@]}" -- --progress-seconds 0
has out "== twin: done before, skipped" "twin is done"

# a changed config: a new folder, the old one kept
echo '{"epochs": 1, "val_size": 20, "batch": 16, "seed": 2, "lr": 0.01}' > "$tmp/c/s2.json"
expect 0 "s2 changed" "${sw[@]}" -- --progress-seconds 0
has out "== s2: its config changed: a new run in $tmp/sw/runs/" "the change is said"
has out "== s2: training" "the changed run trains"
check; [ -f "$k2/final.weights.json" ] && [ "$(readlink -f "$tmp/sw/s2")" != "$k2" ] || fail "the old run is kept, s2 moved"

# a real name folder of an earlier sweep.sh: used in place
mkdir "$tmp/sw/old"
cp "$k1"/final.weights* "$k1"/log.csv "$tmp/sw/old/"
cp "$tmp/c/s1.json" "$tmp/c/old.json"
expect 0 "dry run with an old folder" "${sw[@]}" --dry-run -- --progress-seconds 0
has out $'old\tdone\tnone\t'"$tmp/c/old.json"$'\t'"$tmp/sw/old (an earlier sweep.sh's)" "the old folder is shown"
expect 0 "with an old folder" "${sw[@]}" -- --progress-seconds 0
has out "== old: done before, skipped" "the old folder's run is done"
check; [ -d "$tmp/sw/old" ] && [ ! -L "$tmp/sw/old" ] || fail "the old folder was replaced"

expect 2 "--jobs 0" "${sw[@]}" --jobs 0
has err "--jobs wants a number >= 1" "--jobs 0 refused"
expect 2 "two backends" "${sw[@]}" --jobs 2 --slurm
has err "choose one" "two backends refused"
finish test_sweep_jobs
