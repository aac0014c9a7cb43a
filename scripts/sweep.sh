#!/usr/bin/env bash
# sweep.sh: runs `lir train` once per value of a sweep, each from a JSON run config
# generated from a template (every @VALUE@ in it replaced by the value), and collects
# one results table (TSV) from the runs' weight sidecars and logs.
#
#   scripts/sweep.sh [--template FILE] [--values "0 0.01 0.1 1"] [--out DIR]
#                    [--cfg CFG] [--lir PATH] [-- extra lir train flags...]
#
# Defaults: template scripts/sweep-lambda.template (R-EBO fine-tune, lambda of every hook
# = @VALUE@), values "0 0.01 0.1 1", out runs/sweep, cfg cfg/resnet18.cfg, lir ./lir.
# Run k writes DIR/v<value>/ (config, log, checkpoint, weights); a run with a finished
# sidecar is skipped and one with a checkpoint is resumed, so an interrupted sweep
# continues where it stopped when started again. Table: DIR/results.tsv.
set -eu
template=scripts/sweep-lambda.template
values="0 0.01 0.1 1"
out=runs/sweep
cfg=cfg/resnet18.cfg
lir=./lir
while [ $# -gt 0 ]; do
    case $1 in
        --template) template=$2; shift 2;;
        --values) values=$2; shift 2;;
        --out) out=$2; shift 2;;
        --cfg) cfg=$2; shift 2;;
        --lir) lir=$2; shift 2;;
        --) shift; break;;
        -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0;;
        *) echo "sweep.sh: unknown argument '$1' (see --help)" >&2; exit 2;;
    esac
done
[ -f "$template" ] || { echo "sweep.sh: no template $template" >&2; exit 2; }
grep -q '@VALUE@' "$template" || { echo "sweep.sh: $template has no @VALUE@" >&2; exit 2; }
mkdir -p "$out"

# Value of a top-level number in a sidecar written by cJSON ("key":<tab>value,).
field() { sed -n "s/^\t\"$2\":[[:space:]]*\([^,]*\),\{0,1\}$/\1/p" "$1" | head -n 1; }

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
        "$lir" train "$cfg" --config "$dir/sweep.json" --out "$dir" "$@"
    fi
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
echo "== results ($table)"
column -t -s "$(printf '\t')" "$table" 2>/dev/null || cat "$table"
