#!/usr/bin/env bash
# sweep.sh: runs `lir train` once per value of a sweep, each from a JSON run config
# generated from a template (every @VALUE@ in it replaced by the value), evaluates each
# trained network with `lir eval` on the OOD groups, and ends with one table: the
# training results (TSV, from the weight sidecars and logs) and `lir compare` across
# the runs' OOD metrics (runs that differ only in seed averaged).
#
#   scripts/sweep.sh [--template FILE] [--values "0 0.01 0.1 1"] [--outdir DIR]
#                    [--cfg CFG] [--lir PATH] [--data DIR] [--eval SETS]
#                    [--eval-args "FLAGS"] [--score S] [-- extra lir train flags...]
#
# Defaults: template scripts/sweep-lambda.template (R-EBO fine-tune, lambda of every hook
# = @VALUE@), values "0 0.01 0.1 1", outdir runs/sweep, cfg cfg/resnet18.cfg, lir ./lir,
# data: lir's default ($LIR_DATA, else ./data), eval near,far,covariate (lir eval --out;
# "none": no evaluation and no compare table), eval-args "" (more lir eval flags, e.g.
# "--limit 2000"), score fc (lir compare --score).
# Run k writes DIR/v<value>/ (config, log, checkpoint, weights, eval/); a run with a
# finished sidecar is not trained again, one with a checkpoint is resumed, and an eval
# whose results.json is newer than the weights is not run again, so an interrupted sweep
# continues where it stopped when started again. Tables: DIR/results.tsv (training) and
# DIR/compare/ (compare.md, compare.csv, compare_mean.csv, compare.{png,svg,pdf}).
set -eu
template=scripts/sweep-lambda.template
values="0 0.01 0.1 1"
out=runs/sweep
cfg=cfg/resnet18.cfg
lir=./lir
data=
sets=near,far,covariate
eval_args=
score=fc
while [ $# -gt 0 ]; do
    case $1 in
        --template) template=$2; shift 2;;
        --values) values=$2; shift 2;;
        --outdir) out=$2; shift 2;;
        --out) echo "sweep.sh: --out is now --outdir (as in lir)" >&2; exit 2;;
        --cfg) cfg=$2; shift 2;;
        --lir) lir=$2; shift 2;;
        --data) data=$2; shift 2;;
        --eval) sets=$2; shift 2;;
        --eval-args) eval_args=$2; shift 2;;
        --score) score=$2; shift 2;;
        --) shift; break;;
        -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; exit 0;;
        *) echo "sweep.sh: unknown argument '$1' (see --help)" >&2; exit 2;;
    esac
done
[ -f "$template" ] || { echo "sweep.sh: no template $template" >&2; exit 2; }
grep -q '@VALUE@' "$template" || { echo "sweep.sh: $template has no @VALUE@" >&2; exit 2; }
mkdir -p "$out"
train_data=()
eval_data=()
if [ -n "$data" ]; then train_data=(--data "$data"); eval_data=(--data "$data"); fi

# Value of a top-level number in a sidecar written by cJSON ("key":<tab>value,).
field() { sed -n "s/^\t\"$2\":[[:space:]]*\([^,]*\),\{0,1\}$/\1/p" "$1" | head -n 1; }

# lir eval of run dir $1 on the sets, unless its results.json is newer than the weights.
evaluate() {
    local dir=$1 w=$1/final.weights
    if [ "$dir/eval/results.json" -nt "$w" ]; then
        echo "== $v: evaluated before, skipped"
        return
    fi
    local id
    id=$(field "$w.json" dataset | tr -d '"')
    echo "== $v: lir eval --in $id --out $sets (console: $dir/eval/console.txt)"
    mkdir -p "$dir/eval"
    # shellcheck disable=SC2086 # eval_args is a list of flags
    "$lir" eval --in "$id" --out "$sets" --cfg "$cfg" --weights "$w" --outdir "$dir/eval" \
        "${eval_data[@]}" $eval_args >"$dir/eval/console.txt.tmp"
    mv "$dir/eval/console.txt.tmp" "$dir/eval/console.txt"
    sed -n '/^Summary, ID/,/^fc = /p; /^skipped/,/^forward/p' "$dir/eval/console.txt" | grep -v '^forward'
}

runs=()
for v in $values; do
    dir=$out/v$v
    mkdir -p "$dir"
    sed "s|@VALUE@|$v|g" "$template" > "$dir/sweep.json"
    if [ -f "$dir/final.weights.json" ]; then
        echo "== $v: done before, skipped"
    elif [ -f "$dir/checkpoint.bin" ]; then
        echo "== $v: resuming"
        "$lir" train "$cfg" --resume "$dir" "$@"
    else
        echo "== $v: training"
        "$lir" train "$cfg" --config "$dir/sweep.json" --outdir "$dir" "${train_data[@]}" "$@"
    fi
    [ "$sets" = none ] || evaluate "$dir"
    runs+=("$dir")
done

table=$out/results.tsv
{
    printf 'value\ttest_accuracy\tval_accuracy\tfinal_train_ce\treg_terms\ttraining_seconds\tdir\n'
    for v in $values; do
        dir=$out/v$v
        s=$dir/final.weights.json
        last=$(tail -n 1 "$dir/log.csv")
        ce=$(echo "$last" | cut -d, -f5)
        reg=$(echo "$last" | cut -d, -f11- | tr ',' ' ')
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$v" "$(field "$s" test_accuracy)" \
            "$(field "$s" val_accuracy)" "$ce" "${reg:--}" "$(field "$s" training_seconds)" "$dir"
    done
} > "$table"
echo "== training results ($table)"
column -t -s "$(printf '\t')" "$table" 2>/dev/null || cat "$table"
[ "$sets" = none ] && exit 0
echo "== OOD metrics across the runs (lir compare --score $score, $out/compare/)"
"$lir" compare "${runs[@]}" --score "$score" --outdir "$out/compare"
