#!/usr/bin/env bash
# test_train_user.sh: what a user of `lir train` sees (issue 13), on tiny fixture data
# (200 training images): with stdout and stderr in one file, the effective config and
# "resumed from" come before the progress lines; a cfg's steps= scale with --epochs
# (fractions of max_batches: the rate drops in a 2-epoch run); a fine-tune whose
# validation images overlap its init_weights' training images is refused before
# anything is written, passes with the base's val_size, and with allow_val_overlap
# trains with a warning and the overlap in the sidecar; docs/train-config.md's key table
# is what `lir train --config-doc` prints.
. tests/lib.sh
[ -x "$PY" ] || { echo "SKIP: no $PY to write the test data"; exit 77; }
"$PY" tests/fixtures/make_tiny_data.py "$tmp/data" || { echo "fixture data not written"; exit 1; }
run=("$LIR" train tests/fixtures/tiny-train.cfg --data "$tmp/data" --batch 16 --progress-seconds 0)

# --- the order of the lines in one log file -------------------------------------------
"${run[@]}" --epochs 2 --val-size 40 --outdir "$tmp/a" --stop-after-steps 12 >"$tmp/a.log" 2>&1
check
first_progress() { grep -n ' step [0-9]*/[0-9]* epoch-mean loss' "$1" | head -1 | cut -d: -f1; }
line_of() { grep -n -m1 "$2" "$1" | cut -d: -f1; }
p=$(first_progress "$tmp/a.log") c=$(line_of "$tmp/a.log" '^effective config')
[ -n "$p" ] && [ -n "$c" ] && [ "$c" -lt "$p" ] ||
    fail "effective config (line ${c:-none}) not before the first progress line (${p:-none})"
"$LIR" train tests/fixtures/tiny-train.cfg --resume "$tmp/a" --progress-seconds 0 >"$tmp/r.log" 2>&1
check
p=$(first_progress "$tmp/r.log") c=$(line_of "$tmp/r.log" '^resumed from')
[ -n "$p" ] && [ -n "$c" ] && [ "$c" -lt "$p" ] ||
    fail "'resumed from' (line ${c:-none}) not before the first progress line (${p:-none})"
e=$(line_of "$tmp/r.log" '^epoch 2/2: loss')
[ -n "$e" ] && [ "$e" -gt "$p" ] || fail "the epoch line is not after the progress lines"

# --- a cfg's steps= scale with the run's epochs -----------------------------------------
# max_batches 15624 of batch 32 on cifar10's 50,000 images = 10 epochs; steps at 1/2 and
# 3/4 of it: at --epochs 2, epochs 1 and 1.5 (steps 10 and 15 of 10 per epoch)
sed 's/^policy=cos$/policy=steps\nmax_batches=15624\nsteps=7812,11718\nscales=0.1,0.1/' \
    tests/fixtures/tiny-train.cfg >"$tmp/steps.cfg"
grep -q '^steps=7812' "$tmp/steps.cfg" || fail "the steps cfg was not written"
expect 0 "steps cfg, print-config" "$LIR" train "$tmp/steps.cfg" --epochs 2 --print-config
has out '"lr_steps":	"1,1.5"' "cfg steps at 2 epochs"
expect 0 "steps cfg, its own 10 epochs" "$LIR" train "$tmp/steps.cfg" --print-config
has out '"lr_steps":	"5,7.5"' "cfg steps at the cfg's 10 epochs"
expect 0 "steps cfg, 2 epochs" "${run[@]/tests\/fixtures\/tiny-train.cfg/$tmp/steps.cfg}" \
    --epochs 2 --val-size 40 --outdir "$tmp/s"
lr2=$(awk -F, '$1 == 2 { print $3 }' "$tmp/s/log.csv")
awk -v lr="$lr2" 'BEGIN { exit !(lr > 0.000199 && lr < 0.000201) }' ||
    fail "lr after both steps: '$lr2', want 0.0002 (0.02 x 0.1 x 0.1): $(cat "$tmp/s/log.csv")"

# --- validation images of a fine-tune vs its base's training images -----------------------
expect 0 "base run" "${run[@]}" --epochs 1 --val-size 40 --outdir "$tmp/base"
has out "wrote" "base run"
grep -q '"first":	160' "$tmp/base/final.weights.json" ||
    fail "the sidecar does not say the first 160 images were trained on"
w=$tmp/base/final.weights
refuse "overlap" "include 20 that $w was trained on" \
    "${run[@]}" --epochs 1 --val-size 60 --init-weights "$w" --outdir "$tmp/over"
has err "use val_size 40 or less" "overlap: the way out"
has err "allow_val_overlap=true" "overlap: the override"
[ ! -e "$tmp/over" ] || fail "a refused run left $tmp/over"
expect 0 "same val_size as the base" "${run[@]}" --epochs 1 --val-size 40 --init-weights "$w" \
    --outdir "$tmp/same"
expect 0 "overlap allowed" "${run[@]}" --epochs 1 --val-size 60 --init-weights "$w" \
    --outdir "$tmp/allowed" --set allow_val_overlap=true
has err "warning: 20 of the 60 validation images" "overlap allowed: warned"
grep -q '"val_overlap":	20' "$tmp/allowed/final.weights.json" ||
    fail "the overlap is not in the sidecar"
cp "$w" "$tmp/bare.weights"
expect 0 "base without a sidecar" "${run[@]}" --epochs 1 --val-size 60 \
    --init-weights "$tmp/bare.weights" --outdir "$tmp/bare"
has out "note: not checked whether the validation images" "no sidecar: said"

# --- a key added later (label_smoothing) leaves the hash of the runs that do not set it -----
expect 0 "hash" "${run[@]}" --print-hash
h0=$(cat "$tmp/out")
expect 0 "hash, label_smoothing 0" "${run[@]}" --print-hash --set label_smoothing=0
h1=$(cat "$tmp/out")
expect 0 "hash, label_smoothing 0.1" "${run[@]}" --print-hash --set label_smoothing=0.1
check; [ "$h0" = "$h1" ] && [ "$h0" != "$(cat "$tmp/out")" ] ||
    fail "label_smoothing: hash $h0 unset, $h1 at 0, $(cat "$tmp/out") at 0.1"

# --- docs/train-config.md's key table is the one --config-doc prints ----------------------
expect 0 "config-doc" "$LIR" train --config-doc
awk '/^\| key \| type/,/^$/' docs/train-config.md | grep -v '^$' | diff - "$tmp/out" >"$tmp/diff" ||
    fail "docs/train-config.md's key table differs from lir train --config-doc: $(head -5 "$tmp/diff")"
finish test_train_user
