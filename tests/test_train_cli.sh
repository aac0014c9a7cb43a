#!/usr/bin/env bash
# test_train_cli.sh: `lir train` from the command line: a run killed with kill -9
# mid-training and continued with --resume ends with bit-identical weights to an
# uninterrupted run; a config with a typo in a key is refused naming the key; a flag
# overrides the file; in a log (not a TTY) the progress line is printed as full lines;
# SIGTERM stops with a checkpoint and a message, and resuming is again bit-identical;
# scripts/sweep.sh runs a two-value sweep and collects its table (without evaluation: these
# 4-class networks do not fit lir eval's 10-class CIFAR-10; test_eval_groups.sh runs a
# sweep with lir eval and lir compare).
set -u
LIR=${LIR:-./lir}
PY=/usr/bin/python3
[ -x "$PY" ] || { echo "SKIP: no $PY to write the test data"; exit 77; }
tmp=$(mktemp -d /tmp/lir_test_kill.XXXXXX)
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
pid=
fails=0
fail() { echo "FAIL: $*"; fails=$((fails+1)); }

"$PY" - "$tmp/data" <<'PYEOF'
import os, random, sys
p = os.path.join(sys.argv[1], "cifar10", "cifar-10-batches-bin"); os.makedirs(p)
rng = random.Random(3)
def rec():
    k = rng.randrange(4)
    return bytes([k]) + bytes(min(255, max(0, 60 * k + rng.randrange(80))) for _ in range(3072))
for name, n in [("data_batch_%d.bin" % i, 160) for i in range(1, 6)] + [("test_batch.bin", 64)]:
    with open(os.path.join(p, name), "wb") as f:
        f.write(b"".join(rec() for _ in range(n)))
PYEOF
cp tests/fixtures/tiny-train.cfg "$tmp/tiny.cfg"
cat > "$tmp/run.json" <<'JSON'
{
  "epochs": 4, "val_size": 200, "classes": 4, "checkpoint_steps": 5,
  "outliers": "synthetic", "outlier_batch": 32,
  "hooks": [
    {"point": "bn1", "lambda": 0.01, "calibrate": true},
    {"point": "fc", "lambda": 0.1, "m_in": -6, "m_out": -2}
  ]
}
JSON
common=("$tmp/tiny.cfg" --config "$tmp/run.json" --data "$tmp/data" --progress-seconds 0)

# typo in a key: refused, key named
echo '{"epochs": 2, "learnig_rate": 0.1}' > "$tmp/typo.json"
"$LIR" train "$tmp/tiny.cfg" --config "$tmp/typo.json" --data "$tmp/data" --outdir "$tmp/typo" \
    >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -ne 0 ] || fail "typo config accepted"
grep -q "'learnig_rate'" "$tmp/err" || fail "typo message does not name the key: $(cat "$tmp/err")"
[ ! -e "$tmp/typo/checkpoint.bin" ] || fail "typo config started a run"

# a flag overrides the file
"$LIR" train "${common[@]}" --epochs 3 --print-config >"$tmp/out" 2>&1 || fail "print-config failed"
grep -q '"epochs":[[:space:]]*3,' "$tmp/out" || fail "--epochs did not override the file"

# uninterrupted reference
"$LIR" train "${common[@]}" --outdir "$tmp/ref" >"$tmp/ref.log" 2>&1 || { fail "reference run"; cat "$tmp/ref.log"; }
grep -q $'\r' "$tmp/ref.log" && fail "progress wrote carriage returns into a log"
grep -q 'epoch 1/4 step 1/.* img/s (ID+outliers) .*ETA' "$tmp/ref.log" ||
    fail "no progress lines in the log, or their rate not said to count the outliers"

# without hooks the progress line's loss and ce (both epoch means) are the same number
sed 's/"epochs": 4/"epochs": 1/' "$tmp/run.json" | tr -d '\n' |
    sed 's/,[[:space:]]*"outliers"[^]]*]//' > "$tmp/plain.json"
"$LIR" train "$tmp/tiny.cfg" --config "$tmp/plain.json" --data "$tmp/data" --progress-seconds 0 \
    --outdir "$tmp/plain" >"$tmp/plain.log" 2>&1 || { fail "run without hooks"; tail -5 "$tmp/plain.log"; }
n_lines=$(grep -c 'step .* epoch-mean loss .* (ce ' "$tmp/plain.log")
[ "$n_lines" -ge 2 ] || fail "no progress lines in the run without hooks"
grep -q 'ID+outliers' "$tmp/plain.log" && fail "a run without outliers says its rate counts them"
awk '/epoch-mean loss/ { for (i = 1; i < NF; i++) { if ($i == "loss") l = $(i + 1); if ($i == "(ce") c = $(i + 1) }
     sub(/\)/, "", c); if (l != c) { print; bad = 1 } } END { exit bad }' "$tmp/plain.log" ||
    fail "progress loss differs from ce without hooks"

# killed while running, then resumed
"$LIR" train "${common[@]}" --outdir "$tmp/kill" >"$tmp/kill.log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
    [ -f "$tmp/kill/log.csv" ] && [ "$(wc -l <"$tmp/kill/log.csv")" -ge 3 ] && break
    sleep 0.05
done
sleep 0.$((RANDOM % 3 + 1))
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
pid=
[ -e "$tmp/kill/final.weights" ] && fail "run ended before the kill (test data too small)"
ls "$tmp/kill"/*.tmp >/dev/null 2>&1 && echo "note: a temporary file was left by the kill (expected, ignored)"
"$LIR" train "$tmp/tiny.cfg" --resume "$tmp/kill" >"$tmp/resume.log" 2>&1 || { fail "resume"; tail -5 "$tmp/resume.log"; }
grep -q "resumed from" "$tmp/resume.log" || fail "resume did not load the checkpoint"
cmp -s "$tmp/ref/final.weights" "$tmp/kill/final.weights" || fail "weights after kill + resume differ"
[ "$(cut -d, -f1-8 "$tmp/ref/log.csv")" = "$(cut -d, -f1-8 "$tmp/kill/log.csv")" ] || fail "logs differ"

# SIGTERM: the run stops after the current step with a checkpoint and says so
"$LIR" train "${common[@]}" --outdir "$tmp/term" >"$tmp/term.log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
    [ -f "$tmp/term/log.csv" ] && [ "$(wc -l <"$tmp/term/log.csv")" -ge 2 ] && break
    sleep 0.05
done
kill -TERM $pid
wait $pid
rc=$?
pid=
[ $rc -eq 1 ] || fail "SIGTERM: exit $rc, want 1"
grep -q "interrupted by signal 15 after step" "$tmp/term.log" || fail "SIGTERM message: $(tail -2 "$tmp/term.log")"
"$LIR" train "$tmp/tiny.cfg" --resume "$tmp/term" >"$tmp/resume2.log" 2>&1 || fail "resume after SIGTERM"
cmp -s "$tmp/ref/final.weights" "$tmp/term/final.weights" || fail "weights after SIGTERM + resume differ"

# --stop-after-steps, then a plain --resume runs to the end (the stop is not remembered)
"$LIR" train "${common[@]}" --outdir "$tmp/stop" --stop-after-steps 7 >"$tmp/stop.log" 2>&1 || fail "stopped run"
grep -q "stopped after 7 steps" "$tmp/stop.log" || fail "no stop message: $(tail -2 "$tmp/stop.log")"
"$LIR" train "$tmp/tiny.cfg" --resume "$tmp/stop" >"$tmp/resume3.log" 2>&1 || fail "resume after stop"
cmp -s "$tmp/ref/final.weights" "$tmp/stop/final.weights" || fail "weights after stop + resume differ"

# a two-value lambda sweep on the same data, one epoch each
sed 's/"epochs": 4/"epochs": 1/; s/"lambda": 0.01/"lambda": @VALUE@/' "$tmp/run.json" > "$tmp/sweep.template"
bash scripts/sweep.sh --template "$tmp/sweep.template" --values "0 0.5" --outdir "$tmp/sweep" \
    --cfg "$tmp/tiny.cfg" --lir "$LIR" --eval none -- --data "$tmp/data" >"$tmp/sweep.log" 2>&1 || { fail "sweep"; tail "$tmp/sweep.log"; }
[ "$(grep -c "$tmp/sweep/v" "$tmp/sweep/results.tsv")" = 2 ] || fail "sweep table lacks rows: $(cat "$tmp/sweep/results.tsv")"
grep -q $'^0.5\t[0-9.]*\t[0-9.]*\t[0-9.]*\t[0-9.e-]* ' "$tmp/sweep/results.tsv" || fail "sweep row malformed: $(cat "$tmp/sweep/results.tsv")"
grep -q '"lambda":[[:space:]]*0.5' "$tmp/sweep/v0.5/config.json" || fail "sweep value not in the run's config"

[ $fails -eq 0 ] && echo "test_train_cli: all checks passed"
exit $((fails > 0))
