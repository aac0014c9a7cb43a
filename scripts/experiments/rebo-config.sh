#!/usr/bin/env bash
# rebo-config.sh: prints the JSON run config (docs/train-config.md) of one method of the
# R-EBO experiments: a 10-epoch fine-tune of a trained CIFAR-10 network in the recipe of
# Liu et al. 2020 / Hendrycks et al. 2019 (lr 0.001 cosine to 1e-6, Nesterov momentum
# 0.9, weight decay 5e-4, 128 ID + 256 outliers per step) with the method's hooks.
#
#   scripts/experiments/rebo-config.sh METHOD [--lambda L] [--seed S] [--outliers O]
#        [--init-weights WEIGHTS] [--outdir DIR] [--points "P..."] [--cfg CFG] [--lir PATH]
#
# Methods (fc: the logits; "mid": --points, default the shipped three intermediate
# points; "all": every default point of --cfg as `lir info` lists them, 41 for ResNet-18):
#   energy-ft      Liu et al.'s energy fine-tuning: fc, hinge, fixed m_in -23, m_out -5,
#                  lambda 0.1 (their CIFAR-10 values)
#   energy-ft-cal  the same with margins calibrated from the ID energies (median, one
#                  10-90 % spread)
#   oe             Outlier Exposure: fc, cross-entropy to uniform, lambda 0.5
#   rebo3, rebo41  energy-ft-cal plus the hinge, calibrated, at lambda L at the mid
#                  points (rebo3) or at every other default point (rebo41)
#   band3, band41  energy-ft-cal plus the two-sided band, calibrated, at lambda L there
# Defaults: lambda 0.01, seed 1, outliers photos, init-weights weights/resnet18-cifar10.weights,
# outdir runs/<method>, cfg cfg/resnet18.cfg, lir ./lir.
set -eu
method=${1:-}
[ -n "$method" ] && shift
lambda=0.01
seed=1
outliers=photos
init=weights/resnet18-cifar10.weights
outdir=
points="layer1.0.bn2 layer2.1.bn2 layer3.1.bn2"
cfg=cfg/resnet18.cfg
lir=./lir
while [ $# -gt 0 ]; do
    case $1 in
        --lambda) lambda=$2; shift 2;;
        --seed) seed=$2; shift 2;;
        --outliers) outliers=$2; shift 2;;
        --init-weights) init=$2; shift 2;;
        --outdir) outdir=$2; shift 2;;
        --points) points=$2; shift 2;;
        --cfg) cfg=$2; shift 2;;
        --lir) lir=$2; shift 2;;
        *) echo "rebo-config.sh: unknown argument '$1'" >&2; exit 2;;
    esac
done
outdir=${outdir:-runs/$method}

fc_cal='    {"point": "fc", "lambda": 0.1, "calibrate": true}'
# Hooks at the points $2 with loss $1 at lambda, calibrated, one JSON object a line.
hooks_at() {
    local loss=$1 p sep=
    for p in $2; do
        [ "$p" = fc ] && continue
        printf '%s    {"point": "%s", "loss": "%s", "lambda": %s, "calibrate": true}' \
            "$sep" "$p" "$loss" "$lambda"
        sep=$',\n'
    done
}
all_points() {
    local list
    list=$("$lir" info "$cfg" | awk '$NF == "default" { print $2 }') ||
        { echo "rebo-config.sh: lir info $cfg failed" >&2; exit 1; }
    [ -n "$list" ] || { echo "rebo-config.sh: $cfg has no default points" >&2; exit 1; }
    echo "$list"
}
case $method in
    energy-ft) hooks='    {"point": "fc", "lambda": 0.1, "m_in": -23, "m_out": -5}';;
    energy-ft-cal) hooks=$fc_cal;;
    oe) hooks='    {"point": "fc", "loss": "oe", "lambda": 0.5}';;
    rebo3) hooks="$(hooks_at energy "$points"),"$'\n'$fc_cal;;
    band3) hooks="$(hooks_at band "$points"),"$'\n'$fc_cal;;
    rebo41) hooks="$(hooks_at energy "$(all_points)"),"$'\n'$fc_cal;;
    band41) hooks="$(hooks_at band "$(all_points)"),"$'\n'$fc_cal;;
    *) echo "rebo-config.sh: unknown method '$method' (energy-ft, energy-ft-cal, oe, rebo3," \
            "rebo41, band3, band41)" >&2; exit 2;;
esac

cat <<EOF
{
  "dataset": "cifar10",
  "val_size": 5000,
  "epochs": 10,
  "batch": 128,
  "lr": 0.001,
  "min_lr": 0.000001,
  "momentum": 0.9,
  "weight_decay": 0.0005,
  "nesterov": true,
  "policy": "cosine",
  "seed": $seed,
  "init_weights": "$init",
  "outliers": "$outliers",
  "outlier_batch": 256,
  "synthetic": "patch_shuffle,mix,noise",
  "eval_ood": "svhn,mnist,fashionmnist,cifar100,textures,photos-test,gaussian,uniform,blobs",
  "calib_batches": 4,
  "calib_quantile": 0.5,
  "calib_spread": 1.0,
  "hooks": [
$hooks
  ],
  "out_dir": "$outdir"
}
EOF
