#!/usr/bin/env bash
# sweep.sh: runs `lir train` once per run of a sweep, each from a JSON run config,
# evaluates each trained network with `lir eval` on the OOD groups, and ends with tables:
# the training results (TSV, from the weight sidecars and logs) and `lir compare` across
# the runs' OOD metrics (runs that differ only in seed averaged).
#
#   scripts/sweep.sh [--template FILE] [--values "0 0.01 0.1 1"] [--configs DIR]
#                    [--baseline WEIGHTS] [--outdir DIR] [--cfg CFG] [--lir PATH]
#                    [--data DIR] [--eval SETS] [--eval-args "FLAGS"] [--score S[,S...]]
#                    [--select SETS] [--select-args "FLAGS"] [--dry-run]
#                    [-- extra lir train flags...]
#
# The runs: one per value, each config the template with every @VALUE@ replaced by the
# value, in DIR/v<value>/ (defaults: template scripts/sweep-lambda.template, an R-EBO
# fine-tune with the lambda of every hook = @VALUE@; values "0 0.01 0.1 1"); or, with
# --configs DIR, one per DIR/<name>.json (in name order), in OUTDIR/<name>/. --baseline
# WEIGHTS adds a run "baseline" that is not trained: the weights (and their sidecar
# WEIGHTS.json) as they are, evaluated and listed first, e.g. the network a fine-tune
# starts from.
# Other defaults: outdir runs/sweep, cfg cfg/resnet18.cfg, lir ./lir, data: lir's default
# ($LIR_DATA, else ./data), eval near,far,covariate (lir eval --out; "none": no
# evaluation and no compare table), eval-args "" (more lir eval flags, e.g. "--limit
# 2000"), score fc (lir compare --score; a comma list writes one table per score).
# --select SETS: model selection without test OOD data: each run is also evaluated with
# `lir eval --validation --out SETS` (held-out ID training images against validation
# sets, see docs/train-config.md) into RUN/select/, and the sweep ends with those runs
# ranked by the validation signal (OUTDIR/select/ranking.tsv).
# A run with a finished sidecar is not trained again, one with a checkpoint is resumed,
# and an eval whose results.json is newer than the weights is not run again, so an
# interrupted sweep continues where it stopped when started again. --dry-run lists the
# runs and what would be done for each, and exits. Tables: OUTDIR/results.tsv (training)
# and OUTDIR/compare/ (compare.md, compare.csv, compare_mean.csv, compare.{png,svg,pdf};
# with several scores OUTDIR/compare-<score>/ each).
set -eu
template=scripts/sweep-lambda.template
values="0 0.01 0.1 1"
configs=
baseline=
out=runs/sweep
cfg=cfg/resnet18.cfg
lir=./lir
data=
sets=near,far,covariate
eval_args=
scores=fc
select=
select_args=
dry=0
while [ $# -gt 0 ]; do
    case $1 in
        --template) template=$2; shift 2;;
        --values) values=$2; shift 2;;
        --configs) configs=$2; shift 2;;
        --baseline) baseline=$2; shift 2;;
        --outdir) out=$2; shift 2;;
        --out) echo "sweep.sh: --out is now --outdir (as in lir)" >&2; exit 2;;
        --cfg) cfg=$2; shift 2;;
        --lir) lir=$2; shift 2;;
        --data) data=$2; shift 2;;
        --eval) sets=$2; shift 2;;
        --eval-args) eval_args=$2; shift 2;;
        --score) scores=$2; shift 2;;
        --select) select=$2; shift 2;;
        --select-args) select_args=$2; shift 2;;
        --dry-run) dry=1; shift;;
        --) shift; break;;
        -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; exit 0;;
        *) echo "sweep.sh: unknown argument '$1' (see --help)" >&2; exit 2;;
    esac
done
names=()
if [ -n "$configs" ]; then
    [ -d "$configs" ] || { echo "sweep.sh: no folder $configs" >&2; exit 2; }
    for f in "$configs"/*.json; do
        [ -f "$f" ] && names+=("$(basename "$f" .json)")
    done
    [ ${#names[@]} -gt 0 ] || { echo "sweep.sh: no *.json in $configs" >&2; exit 2; }
else
    [ -f "$template" ] || { echo "sweep.sh: no template $template" >&2; exit 2; }
    grep -q '@VALUE@' "$template" || { echo "sweep.sh: $template has no @VALUE@" >&2; exit 2; }
    for v in $values; do names+=("v$v"); done
fi
if [ -n "$baseline" ]; then
    [ -f "$baseline" ] || { echo "sweep.sh: no baseline weights $baseline" >&2; exit 2; }
    names=(baseline "${names[@]}")
fi
train_data=()
eval_data=()
if [ -n "$data" ]; then train_data=(--data "$data"); eval_data=(--data "$data"); fi

# Value of a top-level number in a sidecar written by cJSON ("key":<tab>value,).
field() { sed -n "s/^\t\"$2\":[[:space:]]*\([^,]*\),\{0,1\}$/\1/p" "$1" | head -n 1; }

# What the log lines and the table call run $1: the value (template) or the name.
label() { if [ -n "$configs" ] || [ "$1" = baseline ]; then echo "$1"; else echo "${1#v}"; fi; }

# The run config of run $1 written to $2.
write_config() {
    if [ -n "$configs" ]; then cp "$configs/$1.json" "$2"
    else sed "s|@VALUE@|${1#v}|g" "$template" > "$2"; fi
}

# What a run's training and evaluation would do (for --dry-run and the log lines).
train_state() {
    if [ -f "$1/final.weights.json" ]; then echo done
    elif [ -f "$1/checkpoint.bin" ]; then echo resume
    else echo train; fi
}

# lir eval of run $1 into $1/$2 with --out $3 and extra flags $4, unless its results.json
# is newer than the weights.
evaluate() {
    local name dir=$out/$1 sub=$2 what=$3 extra=$4 w=$out/$1/final.weights
    name=$(label "$1")
    if [ "$dir/$sub/results.json" -nt "$w" ]; then
        if [ "$sub" = eval ]; then echo "== $name: evaluated before, skipped"
        else echo "== $name: validation evaluated before, skipped"; fi
        return
    fi
    local id
    id=$(field "$w.json" dataset | tr -d '"')
    echo "== $name: lir eval --in ${id:-cifar10} --out $what$([ "$sub" = eval ] || echo " --validation")" \
        "(console: $dir/$sub/console.txt)"
    # lir eval writes console.txt into its results directory itself (written whole or not at all)
    # shellcheck disable=SC2086 # extra and eval_args are lists of flags
    "$lir" eval --in "${id:-cifar10}" --out "$what" --cfg "$cfg" --weights "$w" \
        --outdir "$dir/$sub" "${eval_data[@]}" $extra >/dev/null
    sed -n '/^Summary, ID/,/^fc = /p; /^skipped/,/^forward/{/^forward/!p}; /^summary: /p' \
        "$dir/$sub/console.txt"
}

# The baseline run folder: links to the weights and a copy of the sidecar.
make_baseline() {
    local dir=$out/baseline w
    w=$(cd "$(dirname "$baseline")" && pwd)/$(basename "$baseline")
    mkdir -p "$dir"
    ln -sf "$w" "$dir/final.weights"
    if [ -f "$w.json" ]; then cp "$w.json" "$dir/final.weights.json"
    else echo '{}' > "$dir/final.weights.json"; fi
}

train_run() {
    local name dir=$out/$1 run=$1; shift
    name=$(label "$run")
    mkdir -p "$dir"
    write_config "$run" "$dir/sweep.json"
    case $(train_state "$dir") in
        done) echo "== $name: done before, skipped";;
        resume) echo "== $name: resuming"; "$lir" train "$cfg" --resume "$dir" "$@";;
        train) echo "== $name: training"
               "$lir" train "$cfg" --config "$dir/sweep.json" --outdir "$dir" "${train_data[@]}" "$@";;
    esac
    [ -f "$dir/final.weights.json" ] || {
        echo "== $name: stopped before the end (checkpoint kept); run the sweep again to resume" >&2
        exit 1
    }
}

if [ $dry = 1 ]; then
    printf 'run\ttraining\teval\tconfig\n'
    for name in "${names[@]}"; do
        dir=$out/$name
        t=$(train_state "$dir")
        [ "$name" = baseline ] && t="none (given weights)"
        e=none
        [ "$sets" = none ] || { e=todo; [ "$dir/eval/results.json" -nt "$dir/final.weights" ] && e=done; }
        c=${configs:+$configs/$name.json}
        printf '%s\t%s\t%s\t%s\n' "$name" "$t" "$e" "${c:-$template (@VALUE@ = ${name#v})}"
    done
    echo "${#names[@]} runs (outdir: $out)"
    exit 0
fi

mkdir -p "$out"
runs=()
for name in "${names[@]}"; do
    if [ "$name" = baseline ]; then make_baseline; else train_run "$name" "$@"; fi
    [ "$sets" = none ] || evaluate "$name" eval "$sets" "$eval_args"
    [ -z "$select" ] || evaluate "$name" select "$select" "--validation $select_args"
    runs+=("$out/$name")
done

table=$out/results.tsv
{
    printf '%s\ttest_accuracy\tval_accuracy\tfinal_train_ce\treg_terms\ttraining_seconds\tdir\n' \
        "$([ -n "$configs" ] && echo run || echo value)"
    for name in "${names[@]}"; do
        dir=$out/$name
        s=$dir/final.weights.json
        last=$(tail -n 1 "$dir/log.csv" 2>/dev/null || true)
        ce=$(echo "$last" | cut -s -d, -f5)
        reg=$(echo "$last" | cut -s -d, -f11- | tr ',' ' ')
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(label "$name")" "$(field "$s" test_accuracy)" \
            "$(field "$s" val_accuracy)" "${ce:--}" "${reg:--}" "$(field "$s" training_seconds)" "$dir"
    done
} > "$table"
echo "== training results ($table)"
column -t -s "$(printf '\t')" "$table" 2>/dev/null || cat "$table"
if [ "$sets" != none ]; then
    for s in ${scores//,/ }; do
        cdir=$out/compare
        [ "$scores" = "$s" ] || cdir=$out/compare-$s
        echo "== OOD metrics across the runs (lir compare --score $s, $cdir/)"
        "$lir" compare "${runs[@]/%//eval}" --score "$s" --outdir "$cdir"
    done
fi
[ -z "$select" ] && exit 0

# Model selection: per training config (runs that differ only in seed), the mean AUROC
# over the validation sets of the raw fc energy and of Ag-EBO (Mahalanobis), their mean
# (the signal), and the validation accuracy (the sidecar's, on the held-out ID images)
# against the baseline's (the first run); configs losing more than 1.5 points are not
# eligible. Ranked by the signal, eligible ones first.
echo "== validation signal across the runs ($out/select/)"
for s in fc agebo; do
    "$lir" compare "${runs[@]/%//select}" --score "$s" --outdir "$out/select/$s" --plots=0 >/dev/null
done
awk -F'\t' -v OFS='\t' -v tsv="$table" '
    FILENAME == tsv { if (FNR > 1) acc[$7] = $3; next }
    FNR == 1 { file++; for (c = 6; c <= NF; c++) if ($c !~ /^mean /) cols[file] = cols[file] " " c; next }
    {
        split(cols[file], cs, " "); v = 0; n = 0
        for (k in cs) if ($cs[k] != "") { v += $cs[k]; n++ }
        dir = $1; sub(/\/select\/?$/, "", dir); sub(/\/results\.json$/, "", dir); sub(/\/select$/, "", dir)
        key = $4 == "" || $4 == "?" ? dir : $4
        if (!(key in first)) { first[key] = dir; order[++nk] = key }
        sum[key, file] += n ? v / n : 0; cnt[key, file]++
        if (file == 1) { a = acc[dir]; if (a != "") { asum[key] += a; acnt[key]++ } }
        if (file == 1 && nrow++ == 0) base = key
    }
    END {
        ba = acnt[base] ? asum[base] / acnt[base] : ""
        print "rank", "signal", "fc_auroc", "agebo_auroc", "val_accuracy", "accuracy_drop", "eligible", "runs", "config", "first_run"
        for (i = 1; i <= nk; i++) {
            k = order[i]; f = sum[k, 1] / cnt[k, 1]; g = sum[k, 2] / cnt[k, 2]
            va = acnt[k] ? asum[k] / acnt[k] : ""
            drop = va != "" && ba != "" ? ba - va : ""
            el = drop == "" || drop <= 1.5 ? "yes" : "no"
            printf "%s\t%.4f\t%.4f\t%.4f\t%s\t%s\t%s\t%d\t%s\t%s\n", (el == "yes" ? 0 : 1), (f + g) / 2, f, g, va, drop == "" ? "" : sprintf("%.2f", drop), el, cnt[k, 1], k, first[k]
        }
    }' "$table" <(tr , '\t' < "$out/select/fc/compare.csv") <(tr , '\t' < "$out/select/agebo/compare.csv") |
    { IFS= read -r head; echo "$head"; sort -t "$(printf '\t')" -k1,1n -k2,2gr | awk -F'\t' -v OFS='\t' '{ $1 = NR; print }'; } \
    > "$out/select/ranking.tsv"
column -t -s "$(printf '\t')" "$out/select/ranking.tsv" 2>/dev/null || cat "$out/select/ranking.tsv"
echo "selected (validation signal, no test OOD data): $(awk -F'\t' 'NR == 2 { print $10 }' "$out/select/ranking.tsv")"
