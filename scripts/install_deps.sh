#!/usr/bin/env bash
# Installs the Debian packages lir needs to build, test and benchmark.
# Usage: scripts/install_deps.sh [--build-only]
#   --build-only  only what `make` needs (compiler, OpenBLAS, cJSON, libpng, zlib, libjpeg)
# Without it, also the test oracles (darknet, PyTorch, torchvision, SciPy, scikit-learn),
# clang's sanitizer/fuzzer runtimes and unzip (scripts/get_data.sh textures reads a pk3).
set -euo pipefail
build=(build-essential pkg-config libopenblas-dev libcjson-dev libpng-dev zlib1g-dev libjpeg-dev)
oracles=(darknet python3-numpy python3-torch python3-torchvision python3-scipy python3-sklearn
         clang libclang-rt-14-dev libomp-dev unzip)
pkgs=("${build[@]}")
[ "${1:-}" = "--build-only" ] || pkgs+=("${oracles[@]}")
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${pkgs[@]}"
