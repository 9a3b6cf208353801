#!/usr/bin/env bash
# nucseg quickstart: installs dependencies, builds nucseg, generates a small synthetic plate
# and runs the main job on it. Safe to re-run; outputs go to ./quickstart-out/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build --target nucseg
NUCSEG=build/tools/nucseg
OUT=quickstart-out
mkdir -p "$OUT"

echo "== 1. a synthetic plate: 4 wells x 2 sites, 16-bit TIFFs with ground truth"
"$NUCSEG" synth --out "$OUT/plate" --wells 4 --sites 2 --size 256 256 --overwrite

echo "== 2. convert it into an HDF5 training set (128x128, min-max normalized, 80/10/10 split)"
"$NUCSEG" convert --config examples/convert.json \
  --images "$OUT/plate/plate1" --masks "$OUT/plate/ground_truth/plate1" \
  --out "$OUT/train.h5" --overwrite

echo "== done: $OUT/train.h5"
