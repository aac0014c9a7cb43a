#!/usr/bin/env bash
# rebo-sweep.sh: the R-EBO experiments of issue 12 as one resumable sweep. Generates the
# JSON run configs (rebo-config.sh), then scripts/sweep.sh trains each (a 10-epoch
# fine-tune of --init-weights), evaluates it with `lir eval --out far,covariate`,
# evaluates the validation signal used for model selection (`lir eval --validation --out
# clipart-val`, clip art against held-out ID training images; docs/train-config.md says
# why not photos-val, the photographs held out of the outlier corpus), and ends with `lir
# compare` tables for several scores and the ranking.
#
#   scripts/experiments/rebo-sweep.sh [--outdir DIR] [--seeds "1 2"]
#        [--lambdas "0.001 0.01 0.1"] [--methods "..."] [--synthetic-lambda L]
#        [--init-weights WEIGHTS] [--cfg CFG] [--lir PATH] [--data DIR] [--points "P..."]
#        [--eval SETS] [--eval-args "FLAGS"] [--select SETS] [--epochs N]
#        [--runs "NAME..."] [--quick] [--dry-run]
#        [-- extra lir train flags...]
#
# The runs (names <method>[-l<lambda>]-<outliers>-s<seed>):
#   energy-ft, energy-ft-cal, oe                       x seeds, outliers photos
#   rebo3, rebo41, band3, band41 x lambdas              x seeds, outliers photos
#   every method once more with outliers synthetic (seed 1; the R-EBO and band methods
#   at --synthetic-lambda), to show what the outlier source changes
#   baseline: --init-weights itself, evaluated only
# Defaults: outdir runs/rebo-sweep, seeds "1 2", lambdas "0.001 0.01 0.1" (the intermediate
# points' lambda; fc keeps 0.1), methods "energy-ft energy-ft-cal oe rebo3 rebo41 band3
# band41", synthetic-lambda 0.01, init-weights weights/resnet18-cifar10.weights, cfg
# cfg/resnet18.cfg, lir ./lir, data lir's default, points: rebo-config.sh's, eval
# far,covariate, eval-args "", select clipart-val ("none": no selection step; a changed
# --select evaluates every run again).
# --epochs N: every training N epochs instead of the configs' 10 (the schedule, e.g.
# cosine, spans the N epochs). --runs "NAME...": only these runs of the plan (the rest
# of the plan is not touched; a name not in the plan is an error), e.g. to run the most
# informative runs first and the seeds later into the same --outdir.
# --quick: one epoch, one calibration batch and `lir eval --limit 200` (pipeline checks;
# add --set "..." flags after -- for tiny data). --dry-run: list the runs and exit.
# Started again after a kill it skips finished runs and evaluations and resumes the
# unfinished training from its checkpoint (scripts/sweep.sh).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=runs/rebo-sweep
seeds="1 2"
lambdas="0.001 0.01 0.1"
methods="energy-ft energy-ft-cal oe rebo3 rebo41 band3 band41"
syn_lambda=0.01
init=weights/resnet18-cifar10.weights
cfg=cfg/resnet18.cfg
lir=./lir
data=
points=
sets=far,covariate
eval_args=
select=clipart-val
quick=0
dry=
epochs=
only=
while [ $# -gt 0 ]; do
    case $1 in
        --outdir) out=$2; shift 2;;
        --seeds) seeds=$2; shift 2;;
        --lambdas) lambdas=$2; shift 2;;
        --methods) methods=$2; shift 2;;
        --synthetic-lambda) syn_lambda=$2; shift 2;;
        --init-weights) init=$2; shift 2;;
        --cfg) cfg=$2; shift 2;;
        --lir) lir=$2; shift 2;;
        --data) data=$2; shift 2;;
        --points) points=$2; shift 2;;
        --eval) sets=$2; shift 2;;
        --eval-args) eval_args=$2; shift 2;;
        --select) select=$2; shift 2;;
        --epochs) epochs=$2; shift 2;;
        --runs) only=$2; shift 2;;
        --quick) quick=1; shift;;
        --dry-run) dry=--dry-run; shift;;
        --) shift; break;;
        -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; exit 0;;
        *) echo "rebo-sweep.sh: unknown argument '$1' (see --help)" >&2; exit 2;;
    esac
done
[ -f "$init" ] || { echo "rebo-sweep.sh: no weights $init to fine-tune (--init-weights)" >&2; exit 2; }
train_flags=("$@")
[ -z "$epochs" ] || train_flags=(--set "epochs=$epochs" "${train_flags[@]}")
if [ $quick = 1 ]; then
    train_flags=(--set "epochs=1;calib_batches=1" "${train_flags[@]}")
    eval_args="--limit 200 $eval_args"
fi
[ "$select" = none ] && select=

# One generated config: configs/<name>.json.
gen() {
    local name=$1; shift
    local extra=()
    [ -n "$points" ] && extra=(--points "$points")
    bash "$here/rebo-config.sh" "$@" --init-weights "$init" --cfg "$cfg" --lir "$lir" \
        --outdir "$out/$name" "${extra[@]}" > "$out/configs/$name.json.tmp"
    mv "$out/configs/$name.json.tmp" "$out/configs/$name.json"
}
has_lambda() { case $1 in rebo*|band*) return 0;; *) return 1;; esac; }

mkdir -p "$out/configs"
rm -f "$out"/configs/*.json
for m in $methods; do
    for s in $seeds; do
        if has_lambda "$m"; then
            for l in $lambdas; do gen "$m-l$l-photos-s$s" "$m" --lambda "$l" --seed "$s"; done
        else
            gen "$m-photos-s$s" "$m" --seed "$s"
        fi
    done
    if has_lambda "$m"; then
        gen "$m-l$syn_lambda-synthetic-s1" "$m" --lambda "$syn_lambda" --outliers synthetic
    else
        gen "$m-synthetic-s1" "$m" --outliers synthetic
    fi
done

if [ -n "$only" ]; then
    for n in $only; do
        [ -f "$out/configs/$n.json" ] || { echo "rebo-sweep.sh: run '$n' is not in the plan (see --dry-run)" >&2; exit 2; }
    done
    for f in "$out"/configs/*.json; do
        case " $only " in *" $(basename "$f" .json) "*) ;; *) rm -f "$f";; esac
    done
fi

sweep=(bash "$here/../sweep.sh" --configs "$out/configs" --baseline "$init" --outdir "$out"
       --cfg "$cfg" --lir "$lir" --eval "$sets" --eval-args "$eval_args"
       --score fc,dirfree,agebo,best)
[ -n "$data" ] && sweep+=(--data "$data")
[ -n "$select" ] && sweep+=(--select "$select" --select-args "${eval_args}")
[ -n "$dry" ] && sweep+=("$dry")
"${sweep[@]}" -- "${train_flags[@]}"
