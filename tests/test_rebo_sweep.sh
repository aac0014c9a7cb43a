#!/usr/bin/env bash
# test_rebo_sweep.sh: the R-EBO experiment sweep end to end on fixture data written here
# (tiny CIFAR-10, MNIST, Fashion-MNIST, a photos corpus of 6 photographs, one held out
# for photos-val, and 4 clip art drawings for clipart-val) and a tiny network trained first:
#  - every JSON config of cfg/ for the experiments is accepted by `lir train
#    --print-config` (and rebo-config.sh's methods with the loss keys they need);
#  - scripts/experiments/rebo-sweep.sh --dry-run lists the runs of the sweep;
#  - --quick trains (OE, band and R-EBO at every point, photos and synthetic), evaluates
#    each run on the far group and on clipart-val (--validation), and ends with the compare
#    tables (one row per run, seeds averaged per config) and the validation ranking;
#  - `lir eval --validation` refuses test OOD sets;
#  - run again, it trains and evaluates nothing; stopped during training, it resumes;
#    with another --select it evaluates the validation sets again, nothing else.
. "$(dirname "$0")/lib.sh"
[ -x "$PY" ] && "$PY" -c "import PIL" 2>/dev/null || { echo "SKIP: no $PY with PIL to write the test data"; exit 77; }
case $LIR in /*) ;; *) LIR=$PWD/$LIR;; esac
root=$PWD

"$PY" "$root/tests/fixtures/make_tiny_data.py" "$tmp/data" --photos 6 --clipart 4
cp "$root/tests/fixtures/tiny-train.cfg" "$tmp/tiny.cfg"
echo '{"epochs": 1, "val_size": 20, "batch": 16}' > "$tmp/base.json"
expect 0 "train the tiny base network" "$LIR" train "$tmp/tiny.cfg" --config "$tmp/base.json" \
    --data "$tmp/data" --outdir "$tmp/base" --progress-seconds 0

# ---- the configs of cfg/ and of rebo-config.sh are valid run configs ----
for f in energy-ft energy-ft-calibrated oe rebo-3points rebo-41points band-3points band-41points; do
    expect 0 "cfg/$f.json" "$LIR" train cfg/resnet18.cfg --config "cfg/$f.json" --print-config
done
has out '"loss":	"band"' "band config shows its loss"
for m in energy-ft energy-ft-cal oe rebo3 rebo41 band3 band41; do
    bash scripts/experiments/rebo-config.sh "$m" --lir "$LIR" > "$tmp/$m.json"
    expect 0 "rebo-config.sh $m" "$LIR" train cfg/resnet18.cfg --config "$tmp/$m.json" --print-config
done
check; [ "$(grep -c '"point"' "$tmp/rebo41.json")" = 41 ] || fail "rebo41: $(grep -c '"point"' "$tmp/rebo41.json") hooks, want 41"
refuse "oe at an intermediate point" "loss \"oe\"" "$LIR" train "$tmp/tiny.cfg" --data "$tmp/data" \
    --config <(echo '{"epochs": 1, "val_size": 20, "batch": 16, "outlier_batch": 16, "outliers": "photos", "hooks": [{"point": "bn1", "loss": "oe", "lambda": 0.5}]}') \
    --outdir "$tmp/oe-bad"

# ---- the sweep ----
sw=(bash "$root/scripts/experiments/rebo-sweep.sh" --outdir "$tmp/sweep" --cfg "$tmp/tiny.cfg"
    --lir "$LIR" --data "$tmp/data" --init-weights "$tmp/base/final.weights" --seeds "1 2"
    --lambdas 0.1 --synthetic-lambda 0.1 --methods "oe band3 rebo41" --points "bn1 conv2"
    --eval far --eval-args "--holdout 20 --batch 16 --plots=0" --quick)
tf=(-- --set "batch=16;outlier_batch=16;val_size=20" --progress-seconds 0)
expect 0 "dry run" "${sw[@]}" --dry-run "${tf[@]}"
has out "10 runs" "dry run counts baseline + 9 runs"
has out "band3-l0.1-photos-s2	train	todo" "dry run lists a run to train"
has out "rebo41-l0.1-synthetic-s1	train" "one synthetic run per method"
check; [ ! -e "$tmp/sweep/baseline" ] || fail "dry run made run folders"
expect 0 "quick sweep" "${sw[@]}" "${tf[@]}"
cp "$tmp/out" "$tmp/sweep1.txt"
has out "== oe-photos-s1: training" "sweep trains"
has out "== band3-l0.1-photos-s2: lir eval --in cifar10 --out far (console:" "sweep evaluates"
has out "== band3-l0.1-photos-s2: lir eval --in cifar10 --out clipart-val --validation (console:" "sweep evaluates the validation signal"
check; grep -q "^ID cifar10-val test accuracy" "$tmp/sweep/band3-l0.1-photos-s2/select/console.txt" ||
    fail "the validation eval scores held-out ID images: $(head -c 300 "$tmp/sweep/band3-l0.1-photos-s2/select/console.txt")"
has out "selected (validation signal, no test OOD data): $tmp/sweep/" "sweep selects a run"
"$PY" - "$tmp/sweep" <<'PYEOF' || fail "sweep tables"
import csv, os, sys
out = sys.argv[1]
bad = []
runs = sorted(["baseline"] + [f"oe-photos-s{s}" for s in (1, 2)]
              + [f"{m}-l0.1-photos-s{s}" for m in ("band3", "rebo41") for s in (1, 2)]
              + ["oe-synthetic-s1", "band3-l0.1-synthetic-s1", "rebo41-l0.1-synthetic-s1"])
for score in ("fc", "dirfree", "agebo", "best"):
    d = os.path.join(out, "compare-" + score)
    rows = list(csv.reader(open(os.path.join(d, "compare.csv"))))
    got = sorted(os.path.basename(os.path.dirname(r[0].rstrip("/").replace("/results.json", ""))) for r in rows[1:])
    if got != runs:
        bad.append(f"{score}: rows {got}")
    if "mnist" not in rows[0] or "mean far" not in rows[0]:
        bad.append(f"{score}: columns {rows[0]}")
    mean = list(csv.reader(open(os.path.join(d, "compare_mean.csv"))))
    if len(mean) - 1 != 7:  # baseline + 3 methods x (photos, synthetic): seeds averaged
        bad.append(f"{score}: {len(mean) - 1} config rows, want 7")
    if not os.path.getsize(os.path.join(d, "compare.md")):
        bad.append(f"{score}: empty compare.md")
rank = list(csv.reader(open(os.path.join(out, "select", "ranking.tsv")), delimiter="\t"))
if len(rank) != 8 or rank[0][:3] != ["rank", "signal", "fc_auroc"]:
    bad.append(f"ranking: {rank[:2]} ({len(rank)} lines)")
for r in rank[1:]:
    if not (0 <= float(r[1]) <= 1 and r[6] in ("yes", "no")):
        bad.append(f"ranking row {r}")
tsv = list(csv.reader(open(os.path.join(out, "results.tsv")), delimiter="\t"))
if len(tsv) != 11:
    bad.append(f"results.tsv: {len(tsv)} lines")
for b in bad:
    print("FAIL", b)
sys.exit(1 if bad else 0)
PYEOF
check
check; grep -q '"m_in_lo"' "$tmp/sweep/band3-l0.1-photos-s1/final.weights.json" || fail "band margins in the sidecar"
ev=("$LIR" eval --validation --cfg "$tmp/tiny.cfg" --weights "$tmp/sweep/oe-photos-s1/final.weights"
    --data "$tmp/data" --holdout 20 --batch 16 --plots=0 --outdir "$tmp/val-bad")
refuse "--validation with a test OOD group" "svhn (OOD group far) is not a validation set" "${ev[@]}" --out photos-val,far
refuse "--validation with a test OOD set" "mnist is not a validation set" "${ev[@]}" --out mnist
expect 0 "sweep again" "${sw[@]}" "${tf[@]}"
has out "== rebo41-l0.1-photos-s2: done before, skipped" "second sweep trains nothing"
has out "== oe-photos-s1: evaluated before, skipped" "second sweep evaluates nothing"
has out "== oe-photos-s1: validation evaluated before, skipped" "second sweep selects from the saved evals"
check; grep -q "^== .*: training$\|^== .*: lir eval" "$tmp/out" && fail "second sweep ran lir train or lir eval"

# ---- the report tables, and a part of the plan ----
expect 0 "rebo-report.py" "$PY" scripts/experiments/rebo-report.py "$tmp/sweep"
has out "| rebo41-l0.1-photos-s2 | " "report: a row per run"
has out "| band3-l0.1-photos | 2 | " "report: seeds averaged per configuration"
has out "| band3-l0.1-photos-s1 | bn1 | " "report: the regularised points against the baseline"
has out "Selected R-EBO configuration (validation signal, no test OOD data)" "report: the moonshot checks"
check; [ "$(grep -c '^| raw fc AUROC\|^| Ag-EBO\|^| test accuracy\|^| no point\|^| (not in the issue)' "$tmp/out")" = 6 ] ||
    fail "report: six moonshot checks: $(grep '^| ' "$tmp/out" | tail -6)"
# ---- runs gathered into a folder without select/ranking.tsv: the report ranks them from
# their select/results.json, with sweep.sh's signals and eligibility ----
# the report's ranking rows as "configuration signal eligible", sorted
ranks() { awk -F' [|] ' '/^[|] [0-9]+ [|] / { e = $7; sub(/ *[|]$/, "", e); print $2, $3, e }' "$tmp/out" | sort; }
ranks > "$tmp/rank_sweep"
mkdir -p "$tmp/merged"
for d in "$tmp"/sweep/*/; do [ -f "$d/eval/results.json" ] && cp -rL "$d" "$tmp/merged/"; done
expect 0 "rebo-report.py on gathered runs" "$PY" scripts/experiments/rebo-report.py "$tmp/merged"
ranks > "$tmp/rank_merged"
check; [ -s "$tmp/rank_sweep" ] && join "$tmp/rank_sweep" "$tmp/rank_merged" |
    awk -v n="$(wc -l < "$tmp/rank_sweep")" '{ d = $2 - $4; if (d < 0) d = -d; if (d <= 2e-4 && $3 == $5) ok++ }
         END { exit !(ok == n && NR == n) }' ||
    fail "gathered runs ranked unlike the sweep: $(paste "$tmp/rank_sweep" "$tmp/rank_merged")"
expect 0 "covariate eval" "$LIR" eval --in cifar10 --out "cifar10@c-gaussian_noise-1,cifar10@c-fog-5,cifar10@c-fog-1" \
    --cfg "$tmp/tiny.cfg" --weights "$tmp/sweep/oe-photos-s1/final.weights" --data "$tmp/data" \
    --holdout 20 --batch 16 --plots=0 --outdir "$tmp/cov"
expect 0 "report --covariate" "$PY" scripts/experiments/rebo-report.py --covariate "$tmp/cov/results.json"
has out "| fog | 2 | " "covariate: a row per corruption, severities averaged"
has out "| 5 | 1 | " "covariate: a row per severity"
refuse "--covariate without CIFAR-10-C sets" "has no CIFAR-10-C sets" "$PY" scripts/experiments/rebo-report.py \
    --covariate "$tmp/sweep/oe-photos-s1/eval/results.json"
refuse "report without runs" "no run with eval/results.json" "$PY" scripts/experiments/rebo-report.py "$tmp/base"
expect 0 "dry run of two runs" "${sw[@]}" --runs "oe-photos-s1 band3-l0.1-synthetic-s1" --epochs 3 --dry-run "${tf[@]}"
has out "3 runs" "--runs keeps the baseline and the named runs"
expect 2 "--runs with a name not in the plan" "${sw[@]}" --runs oe-photos-s9 --dry-run
has err "run 'oe-photos-s9' is not in the plan" "--runs refuses a name not in the plan"

# ---- a hand-written baseline sidecar (space-indented) still gives the baseline's
# validation accuracy, and the ranking's accuracy rule acts on it ----
"$PY" - "$tmp/base/final.weights.json" <<'PYEOF'
import json, sys
side = json.load(open(sys.argv[1]))
side["val_accuracy"] = 100.0
json.dump(side, open(sys.argv[1], "w"), indent=1)
PYEOF
expect 0 "sweep with a hand-written baseline sidecar" "${sw[@]}" "${tf[@]}"
check; [ "$(awk -F'\t' '$1 == "baseline" { print $3 }' "$tmp/sweep/results.tsv")" = 100.0 ] ||
    fail "results.tsv: the baseline's val_accuracy: $(grep '^baseline' "$tmp/sweep/results.tsv")"
check; [ "$(awk -F'\t' 'NR > 1 && $10 !~ /baseline/ && $7 != "no"' "$tmp/sweep/select/ranking.tsv")" = "" ] ||
    fail "ranking: a run 100 points below the baseline is eligible: $(cat "$tmp/sweep/select/ranking.tsv")"
# ---- rebo-report.py merges ranking rows of one configuration split by config hash ----
"$PY" - "$tmp/sweep/select/ranking.tsv" <<'PYEOF'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
out = []
for r in rows:
    if r[9].endswith("/band3-l0.1-photos-s1"):
        a, b = list(r), list(r)
        a[1:4], a[4], a[7] = ["0.9000"] * 3, "50", "1"
        b[1:4], b[4], b[7], b[9] = ["0.8000"] * 3, "", "1", r[9][:-1] + "2"
        out += [a, b]
    else:
        out.append(r)
open(sys.argv[1], "w").write("".join("\t".join(r) + "\n" for r in out))
PYEOF
expect 0 "rebo-report.py, split ranking" "$PY" scripts/experiments/rebo-report.py "$tmp/sweep"
has out "| band3-l0.1-photos | 0.8500 | 0.8500 | 0.8500 | 50.00 | no |" "report: split rows merged, weighted by runs"
check; [ "$(grep -c '^| [0-9]* | band3-l0.1-photos |' "$tmp/out")" = 1 ] || fail "report: band3-l0.1-photos ranked twice"
check; grep -q "Selected R-EBO configuration" "$tmp/out" && fail "report selects an ineligible configuration"

# ---- killed while training: the run resumes from its checkpoint ----
rm -rf "$(readlink -f "$tmp/sweep/oe-photos-s2")" # the run's folder (runs/<key>), not just its name
"${sw[@]}" -- --set "batch=16;outlier_batch=16;val_size=20;stop_after_steps=3" --progress-seconds 0 \
    >"$tmp/out" 2>&1 && fail "a sweep with a stopped run exits 0"
check; grep -q "oe-photos-s2: stopped before the end" "$tmp/out" || fail "the stop is reported: $(tail -3 "$tmp/out")"
check; [ -f "$tmp/sweep/oe-photos-s2/checkpoint.bin" ] && [ ! -f "$tmp/sweep/oe-photos-s2/final.weights" ] ||
    fail "stopped run left no checkpoint: $(ls "$tmp/sweep/oe-photos-s2")"
expect 0 "sweep after the stop" "${sw[@]}" "${tf[@]}"
has out "== oe-photos-s2: resuming" "the stopped run resumes"

# ---- another validation set: the selection step runs again, the far evaluations do not ----
expect 0 "sweep with --select photos-val" "${sw[@]}" --select photos-val "${tf[@]}"
has out "== oe-photos-s1: lir eval --in cifar10 --out photos-val --validation (console:" "a changed --select evaluates again"
has out "== oe-photos-s1: evaluated before, skipped" "a changed --select keeps the far evaluations"
check; grep -q "cifar10-val (ID) vs. photos-val (OOD)" "$tmp/sweep/oe-photos-s1/select/console.txt" ||
    fail "the selection step's results are photos-val's: $(grep -m1 "(OOD)" "$tmp/sweep/oe-photos-s1/select/console.txt")"
expect 0 "rebo-report.py after --select photos-val" "$PY" scripts/experiments/rebo-report.py "$tmp/sweep"
has out "Ag-EBO Mahalanobis AUROC of photos-val against" "report names the validation set"
finish test_rebo_sweep
