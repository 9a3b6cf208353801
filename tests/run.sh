#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs the dependencies, builds and tests nucseg
# against Debian's LibTorch (build/), then against the newest CUDA LibTorch 2.x (build-torch2/:
# unit tests and the train/predict integration tests, on the CPU), and runs the one-shot GPU
# check's dry run (bench/gpu/check.sh --dry-run) on the first build, then the hostile-input
# stage (tests/run-hostile.sh: sanitizer build of the torch-free part, fuzz smoke run).
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/install-deps.sh
cmake -S . -B build -G Ninja
cmake --build build
ctest --test-dir build --output-on-failure -j2
PEER_PYTHON=/usr/bin/python3 bash bench/gpu/check.sh build/gpu-check-dry-run --dry-run
TORCH2_PREFIX=$(bash .ci/install-torch2.sh)
cmake -S . -B build-torch2 -G Ninja -DNUCSEG_BUILD_BENCH=OFF -DCMAKE_PREFIX_PATH="$TORCH2_PREFIX"
cmake --build build-torch2
ctest --test-dir build-torch2 --output-on-failure -j2 -LE integration
ctest --test-dir build-torch2 --output-on-failure -j2 -R '^integration\.test_(predict|train_mpi)$'
bash tests/run-hostile.sh
