#!/usr/bin/env bash
# The hostile-input stage of CI, runnable alone: a clang build of the torch-free part of nucseg
# (nucseg_core, its unit tests, the fuzz targets) with AddressSanitizer + UndefinedBehaviorSanitizer
# and libFuzzer in build-hostile/; the unit tests under the sanitizers; then each fuzz target for
# FUZZ_SECONDS (default 20) over its committed seeds plus mutations, one core at a time.
# The LibTorch part is not sanitized here: an ASan build of it doubles CI's longest compile.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
CC=clang CXX=clang++ cmake -S . -B build-hostile -G Ninja -DNUCSEG_CORE_ONLY=ON -DNUCSEG_FUZZ=ON \
  -DNUCSEG_USE_MPI=OFF -DNUCSEG_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build-hostile
echo "run-hostile: sanitizer + fuzz build took $(( $(date +%s) - start )) s"
# The options go through the environment: gtest_discover_tests passes a test only the first
# entry of its ENVIRONMENT list.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$PWD/tests/sanitizer/ubsan.supp"
ctest --test-dir build-hostile --output-on-failure -j2
echo "run-hostile: unit tests under ASan + UBSan done at $(( $(date +%s) - start )) s"
bash tests/fuzz/run.sh build-hostile "${FUZZ_SECONDS:-20}" 0 png_reader tiff_metadata image_reader config dataset csv plate
echo "run-hostile: done in $(( $(date +%s) - start )) s"
