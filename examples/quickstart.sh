#!/usr/bin/env bash
# nucseg quickstart: installs dependencies, builds nucseg, generates a small synthetic plate
# (the project's own example images) and batch-segments it with the shipped model: label
# masks, QC overlays, nuclei.csv / images.csv / wells.csv, the plate report (report.html),
# and a score against the plate's ground truth. Real images in ../shared/data/tiff_samples
# are segmented too when present.
# Safe to re-run (finished images are skipped); outputs go to ./quickstart-out/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build --target nucseg
NUCSEG=build/tools/nucseg
OUT=quickstart-out
mkdir -p "$OUT"

echo "== 1. a synthetic plate: 4 wells x 2 sites, 512x512 16-bit TIFFs with ground truth"
"$NUCSEG" synth --out "$OUT/plate" --wells 4 --sites 2 --size 512 512 --nuclei 20 60 --overwrite

echo "== 2. segment it with the shipped model (models/nucseg-default.pt)"
"$NUCSEG" predict --input "$OUT/plate/plate1" --out "$OUT/results" --pattern metaxpress --overlays 1

echo "== 3. score the masks against the plate's ground truth"
"$NUCSEG" evaluate --pred "$OUT/results/masks" --truth "$OUT/plate/ground_truth/plate1" --out "$OUT/evaluation"

if [ -d ../shared/data/tiff_samples ]; then
  echo "== 4. real images: Drosophila Kc167 DNA stain from ../shared/data/tiff_samples"
  "$NUCSEG" predict --input ../shared/data/tiff_samples --glob 'fly_*' --out "$OUT/real" --overlays 1
fi

echo "== done. Per-well counts:"
cat "$OUT/results/wells.csv"
echo "Masks: $OUT/results/masks/  overlays: $OUT/results/overlays/  tables: $OUT/results/*.csv"
test -s "$OUT/results/report.html"
echo "Plate report (open in a browser): $OUT/results/report.html"
