#!/usr/bin/env bash
# Stages the Debian packages (bench/gpu/debs, carried with the call) and builds nucseg without MPI
# against the node's PyTorch into NUCSEG_GPU_BUILD (default build-gpu): the first step of check.sh,
# and what train.sh runs itself when it finds no working build (a machine that went cold).
#
#   bash bench/gpu/build.sh [TARGET...]     # default target: nucseg
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
BUILD=${NUCSEG_GPU_BUILD:-$ROOT/build-gpu}
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(nucseg)
# Without the packages the build goes on: a node that has ITK, HDF5 & co. of its own needs none.
if ! compgen -G "bench/gpu/debs/*.deb" >/dev/null; then
  echo "build: no bench/gpu/debs/*.deb here (carry bench/gpu/debs; fetch-debs.sh makes it): building without" >&2
else
  bash bench/gpu/stage-debs.sh bench/gpu/debs || echo "build: staging the Debian packages failed" >&2
fi
TORCH_PREFIX=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
cmake -S . -B "$BUILD" -G Ninja -DNUCSEG_USE_MPI=OFF -DNUCSEG_WERROR=OFF \
  -DCMAKE_PREFIX_PATH="$TORCH_PREFIX" -DHDF5_ROOT=/usr/lib/x86_64-linux-gnu/hdf5/serial ${NUCSEG_GPU_CMAKE_ARGS:-} &&
  cmake --build "$BUILD" --target "${TARGETS[@]}" -j "$(nproc)"
