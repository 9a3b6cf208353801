#!/usr/bin/env bash
# Reproduces models/nucseg-default.pt and its numbers in models/README.md:
#   1. convert the DSB 2018 stage-1 training set at native size, percentile-normalized,
#      with the deterministic 80/10/10 split (seed 42): 532 train / 66 val / 66 test images;
#   2. train the contour U-Net (examples/train-contour-scale.json) on 128x128 random crops,
#      then fine-tune it on 256x256 crops (examples/train-finetune-256.json, --init);
#   2b. convert again with --polarity auto (bright-background images turned over) and fine-tune
#      on that: examples/train-finetune-polarity.json (early-stopped after 7 epochs), then
#      examples/train-finetune-polarity-2.json from its last epoch (last.pt);
#   2c. fine-tune that without dropout (examples/train-finetune-nodropout.json);
#   3. segment the 66 held-out test images at native resolution (tiles + watershed) and
#      score them against their hand-made masks with nucseg evaluate.
# Also trains and scores the seed recipe (128x128 resize, binary, BCE) for comparison.
# Usage: bash models/make_default_model.sh [WORKDIR]   (needs ../shared/data and a built nucseg)
set -euo pipefail
cd "$(dirname "$0")/.."
NUCSEG=${NUCSEG:-build/tools/nucseg}
DSB=${DSB:-../shared/data/dsb2018_stage1_train}
WORK=${1:-runs/default-model}
THREADS=${THREADS:-2}
mkdir -p "$WORK"

# The held-out test images: the samples of the dataset's test split, as paths to the PNGs.
test_list() {  # $1 = dataset, $2 = list file
  /usr/bin/python3 - "$1" "$DSB" > "$2" <<'PY'
import os, sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    ids = [x.decode() if isinstance(x, bytes) else x for x in f["meta/id"][()]]
    for i in f["split/test"][()]:
        print(os.path.join(sys.argv[2], ids[i], "images", ids[i] + ".png"))
PY
}

# (b) the shipped model: native-size crops, contour mode, BCE + Dice, augmentation incl. random zoom.
"$NUCSEG" convert --images "$DSB" --out "$WORK/dsb-native.h5" --native-size \
  --normalize percentile --percentiles 1 99.8 --seed 42 -j "$THREADS" --overwrite
"$NUCSEG" train --config examples/train-contour-scale.json --data "$WORK/dsb-native.h5" --out "$WORK/contour" \
  -j "$THREADS" --overwrite
# (b, stage 2) fine-tune it on 256x256 crops (more context around touching nuclei).
"$NUCSEG" train --config examples/train-finetune-256.json --init "$WORK/contour/best.pt" \
  --data "$WORK/dsb-native.h5" --out "$WORK/finetune" -j "$THREADS" --overwrite
"$NUCSEG" convert --images "$DSB" --out "$WORK/dsb-native-auto.h5" --native-size \
  --normalize percentile --percentiles 1 99.8 --polarity auto --seed 42 -j "$THREADS" --overwrite
"$NUCSEG" train --config examples/train-finetune-polarity.json --init "$WORK/finetune/best.pt" \
  --data "$WORK/dsb-native-auto.h5" --out "$WORK/polarity" -j "$THREADS" --overwrite
"$NUCSEG" train --config examples/train-finetune-polarity-2.json --init "$WORK/polarity/last.pt" \
  --data "$WORK/dsb-native-auto.h5" --out "$WORK/polarity-2" -j "$THREADS" --overwrite
# (b, stage 4) the same without dropout (the network is short of capacity, not over-fitting).
"$NUCSEG" train --config examples/train-finetune-nodropout.json --init "$WORK/polarity-2/best.pt" \
  --data "$WORK/dsb-native-auto.h5" --out "$WORK/nodropout" -j "$THREADS" --overwrite
test_list "$WORK/dsb-native.h5" "$WORK/test.txt"
"$NUCSEG" predict --model "$WORK/nodropout/best.pt" --input "$WORK/test.txt" --out "$WORK/pred-contour" \
  --overlays 0 -j "$THREADS" --no-resume
"$NUCSEG" evaluate --pred "$WORK/pred-contour/masks" --truth "$DSB" --out "$WORK/eval-contour"
/usr/bin/python3 models/score_by_kind.py "$WORK/eval-contour/evaluation.csv" "$DSB"  # fluorescence vs tissue

# (a) the seed recipe: 128x128, min-max, binary, BCE; predicted in resize mode.
"$NUCSEG" convert --config examples/convert.json --images "$DSB" --out "$WORK/dsb128.h5" \
  -j "$THREADS" --overwrite
"$NUCSEG" train --data "$WORK/dsb128.h5" --out "$WORK/seed" --epochs "${SEED_EPOCHS:-20}" -j "$THREADS" --overwrite
"$NUCSEG" predict --model "$WORK/seed/best.pt" --input "$WORK/test.txt" --out "$WORK/pred-seed" \
  --mode resize --overlays 0 -j "$THREADS" --no-resume
"$NUCSEG" evaluate --pred "$WORK/pred-seed/masks" --truth "$DSB" --out "$WORK/eval-seed"

echo "shipped candidate: $WORK/nodropout/best.pt -> copy to models/nucseg-default.pt"
