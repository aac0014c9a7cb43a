#!/usr/bin/env bash
# Installs the Debian packages lir needs to build, test and benchmark.
# Usage: scripts/install_deps.sh [--build-only]
#   --build-only  only what `make` needs (compiler, OpenBLAS, cJSON, libpng, zlib, libjpeg,
#                 cairo for the figures and the DejaVu fonts they are set in)
# Without it, also the test oracles (darknet, PyTorch, torchvision, SciPy, scikit-learn)
# and clang's sanitizer/fuzzer runtimes.
set -euo pipefail
build=(build-essential pkg-config libopenblas-dev libcjson-dev libpng-dev zlib1g-dev libjpeg-dev
       libcairo2-dev fonts-dejavu-core)
oracles=(darknet python3-numpy python3-torch python3-torchvision python3-scipy python3-sklearn
         clang libclang-rt-14-dev)
pkgs=("${build[@]}")
[ "${1:-}" = "--build-only" ] || pkgs+=("${oracles[@]}")
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${pkgs[@]}"
