#!/usr/bin/env bash
# Installs the Debian packages lir needs to build, test and benchmark.
# Usage: scripts/install_deps.sh [--build-only] [--footprint]
#   --build-only  only what `make` needs (compiler, OpenBLAS, cJSON, libpng, zlib, libjpeg,
#                 cairo for the figures and the DejaVu fonts they are set in)
#   --footprint   install nothing: print how many packages and MiB apt would install for
#                 the chosen set on a Debian 12 that has only its priority-required
#                 packages (apt's simulation against an empty package database, then the
#                 Installed-Size of every package it lists, less those of priority
#                 required; needs `apt-get update` to have run)
# Without --build-only, also the test oracles (darknet, PyTorch, torchvision, SciPy,
# scikit-learn), clang's sanitizer/fuzzer runtimes and unzip (scripts/get_data.sh
# textures reads a pk3), and what runs lir beyond one machine, which the tests start on
# this one: Open MPI (`make MPI=1`, mpirun), Slurm with munge (scripts/sweep.sh --slurm),
# GNU parallel with rsync and an SSH server and client (scripts/sweep.sh --ssh).
set -euo pipefail
build=(build-essential pkg-config libopenblas-dev libcjson-dev libpng-dev zlib1g-dev libjpeg-dev
       libcairo2-dev fonts-dejavu-core)
oracles=(darknet python3-numpy python3-torch python3-torchvision python3-scipy python3-sklearn
         clang libclang-rt-14-dev libomp-dev unzip
         openmpi-bin libopenmpi-dev slurm-wlm munge parallel rsync openssh-server openssh-client)
build_only=0 footprint=0
for a in "$@"; do
    case $a in
        --build-only) build_only=1 ;;
        --footprint) footprint=1 ;;
        -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; exit 0 ;;
        *) echo "install_deps.sh: unknown argument '$a' (see --help)" >&2; exit 2 ;;
    esac
done
pkgs=("${build[@]}")
[ $build_only = 1 ] || pkgs+=("${oracles[@]}")

if [ $footprint = 1 ]; then
    empty=$(mktemp)
    trap 'rm -f "$empty"' EXIT
    list=$(apt-get -s -o Dir::State::status="$empty" install --no-install-recommends "${pkgs[@]}" |
           awk '/^Inst /{print $2}')
    # shellcheck disable=SC2086
    apt-cache show --no-all-versions $list | awk '
        /^Priority:/ {pr = $2} /^Installed-Size:/ {kib = $2}
        /^$/ {if (pr != "required") {n++; t += kib}; pr = ""; kib = 0}
        END {printf "%d packages, %.0f MiB installed (apt Installed-Size, beyond priority required)\n", n, t / 1024}'
    exit 0
fi
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${pkgs[@]}"
