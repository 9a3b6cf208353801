#!/usr/bin/env bash
# The one-shot GPU check: builds nucseg against the node's PyTorch, runs the ML unit tests,
# predicts a synthetic plate on the GPU (fp32, bf16) and on the CPU and compares the masks,
# predicts one large image in bands on the GPU,
# trains both recipes on the GPU (fp32, bf16), and times the eager-PyTorch peer on the same
# GPU. Writes at most 8 files into OUT: check.log, results.json, results.md and the logs.
#
#   bash bench/gpu/check.sh OUT            # on a bare GPU node (see bench/gpu/README.md)
#   bash bench/gpu/check.sh OUT --dry-run  # the same steps on this machine's CPU, small sizes
#
# Environment: NUCSEG_GPU_BUILD (build folder; dry run default: build), PEER_PYTHON (python
# with torch, numpy, scipy, scikit-image, tifffile for the peers; default python3).
set -uo pipefail
OUT=$(mkdir -p "$1" && cd "$1" && pwd)
DRY=0
[ "${2:-}" = "--dry-run" ] && DRY=1
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
PEER_PY=${PEER_PYTHON:-python3}
LOG=$OUT/check.log
RESULTS=$OUT/results.jsonl
: >"$LOG"
: >"$RESULTS"
T0=$(date +%s)

say() { echo "== $* (t=$(($(date +%s) - T0)) s)" | tee -a "$LOG"; }
record() { echo "$1" >>"$RESULTS"; echo "   $1" | tee -a "$LOG"; }
run() { "$@" >>"$LOG" 2>&1; }

if [ $DRY = 1 ]; then
  DEVICE=cpu; JOBS=$(nproc); BUILD=${NUCSEG_GPU_BUILD:-$ROOT/build}
  PLATE_SIZE=256; PLATE_SITES=2; TRAIN_STEPS=3; PEER_STEPS=2; BIG_SIZE=800; BIG_BANDS="--strip-rows 200"
else
  DEVICE=cuda; JOBS=$(nproc); BUILD=${NUCSEG_GPU_BUILD:-$ROOT/build-gpu}
  PLATE_SIZE=1024; PLATE_SITES=4; TRAIN_STEPS=60; PEER_STEPS=30; BIG_SIZE=8000; BIG_BANDS=
fi
NUCSEG=$BUILD/tools/nucseg
WORK=$(mktemp -d)

say "machine"
{ uname -a; nproc; free -g | head -2; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1;
  $PEER_PY -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'; } >>"$LOG" 2>&1
GPU=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
record "{\"gpu\": \"${GPU:-none}\", \"dry_run\": $DRY, \"cores\": $(nproc)}"

if [ $DRY = 0 ]; then
  say "stage Debian packages, configure and build"
  NUCSEG_GPU_BUILD=$BUILD run bash bench/gpu/build.sh nucseg nucseg_ml_tests nucseg_bench_loader || say "build failed"
fi
if [ ! -x "$NUCSEG" ]; then
  say "no nucseg binary: stopping"; tail -40 "$LOG"; exit 1
fi
record "{\"build_seconds\": $(($(date +%s) - T0))}"

say "ML unit tests: precision, device, communicator, checkpoint"
run timeout 120 "$BUILD/tests/nucseg_ml_tests" --gtest_brief=1 \
  --gtest_filter='Precision*:LossScaler*:Device*:*Communicator*:*Backend*:Checkpoint*'
record "{\"ml_tests_quick_rc\": $?}"

say "synthetic plate for predict (${PLATE_SITES}x4 sites of ${PLATE_SIZE}^2)"
run "$NUCSEG" --log-level warn synth --out "$WORK/plate" --wells 4 --sites "$PLATE_SITES" --size "$PLATE_SIZE" "$PLATE_SIZE" \
  --nuclei 40 160
predict() {  # name device precision extra...; input: PRED_INPUT (PRED_WHAT), else the plate
  local name=$1 dev=$2 prec=$3; shift 3
  local t1=$(date +%s.%N)
  "$NUCSEG" predict --input "${PRED_INPUT:-$WORK/plate/plate1}" --out "$WORK/pred-$name" --device "$dev" --precision "$prec" \
    --overlays 0 "$@" >"$WORK/pred-$name.log" 2>&1
  local rc=$? t2=$(date +%s.%N)
  cat "$WORK/pred-$name.log" >>"$LOG"
  # End-to-end MP/s and each stage's busy share of the wall time, from summary.json.
  local figures=$($PEER_PY bench/gpu/predict_figures.py "$WORK/pred-$name/summary.json" 2>>"$LOG")
  record "{\"row\": \"predict ${PRED_WHAT:-plate} $name\", \"rc\": $rc, \"wall_s\": $(awk "BEGIN{print $t2 - $t1}"), ${figures:-\"figures\": null}}"
}
say "predict on the GPU and the CPU"
predict "$DEVICE-fp32" "$DEVICE" fp32
predict "$DEVICE-bf16" "$DEVICE" bf16
[ $DRY = 0 ] && predict cpu-fp32 cpu fp32 -j "$JOBS"
CMP_REF=$WORK/pred-cpu-fp32; [ $DRY = 1 ] && CMP_REF=$WORK/pred-cpu-fp32-again
[ $DRY = 1 ] && predict cpu-fp32-again cpu fp32
say "compare masks"
$PEER_PY bench/gpu/compare_masks.py "$CMP_REF/masks" "$WORK/pred-$DEVICE-fp32/masks" "$WORK/pred-$DEVICE-bf16/masks" \
  >>"$RESULTS" 2>>"$LOG"
tail -1 "$RESULTS" | tee -a "$LOG"

say "one ${BIG_SIZE}^2 image, in bands post-processed on the pool"
nuclei=$((BIG_SIZE * BIG_SIZE / 2500))
run "$NUCSEG" --log-level warn synth --out "$WORK/big" --wells 1 --sites 1 --size "$BIG_SIZE" "$BIG_SIZE" \
  --nuclei "$nuclei" "$nuclei"
PRED_INPUT=$WORK/big/plate1 PRED_WHAT="one ${BIG_SIZE}^2 image" predict "big-$DEVICE-bf16" "$DEVICE" bf16 $BIG_BANDS
rm -rf "$WORK/big" "$WORK/pred-big-$DEVICE-bf16"

say "train both recipes"
run "$NUCSEG" --log-level warn synth --out "$WORK/train" --wells 8 --sites 8 --size 256 256 --nuclei 10 40
run "$NUCSEG" --log-level warn convert --images "$WORK/train/plate1" --masks "$WORK/train/ground_truth/plate1" \
  --out "$WORK/t128.h5" --size 128 --split 0.9 0.1 0
run "$NUCSEG" --log-level warn convert --images "$WORK/train/plate1" --masks "$WORK/train/ground_truth/plate1" \
  --out "$WORK/native.h5" --native-size --normalize percentile --split 0.9 0.1 0
train() {  # name precision data extra...
  local name=$1 prec=$2 data=$3; shift 3
  "$NUCSEG" train --data "$data" --out "$WORK/run-$name-$prec" --device "$DEVICE" --precision "$prec" \
    --epochs 2 --steps-per-epoch "$TRAIN_STEPS" --patience 0 --overwrite "$@" >"$WORK/train.log" 2>&1
  local rc=$?
  cat "$WORK/train.log" >>"$LOG"
  local ips=$(grep -o "([0-9.]* images/s" "$WORK/train.log" | tail -1 | tr -d '(' | cut -d' ' -f1)
  local wait=$(grep -o "[0-9.]* % waiting for data" "$WORK/train.log" | tail -1 | cut -d' ' -f1)
  record "{\"row\": \"train $name\", \"precision\": \"$prec\", \"rc\": $rc, \"images_per_s\": ${ips:-null}, \"data_wait_percent\": ${wait:-null}}"
}
for prec in fp32 bf16; do
  train seed "$prec" "$WORK/t128.h5" --batch-size 16
  train shipped-recipe "$prec" "$WORK/native.h5" --config examples/train-finetune-nodropout.json
done
train shipped-recipe-augment-gpu bf16 "$WORK/native.h5" --config examples/train-finetune-nodropout.json \
  --augment-device gpu

say "training loader alone (256x256 crops, shipped augmentation; 1, 2 and all-but-one threads)"
LOADER=$BUILD/bench/nucseg_bench_loader
LOADER_THREADS="1 2"; [ "$(nproc)" -gt 3 ] && LOADER_THREADS="1 2 $(($(nproc) - 1))"
for threads in $LOADER_THREADS; do
  if [ -x "$LOADER" ]; then
    line=$("$LOADER" "$WORK/native.h5" examples/train-finetune-nodropout.json "$threads" "$TRAIN_STEPS" 2>>"$LOG" | tail -1)
    record "{\"row\": \"loader $threads threads\", \"rc\": $?, \"result\": ${line:-null}}"
  fi
done

say "eager PyTorch peer on the same device"
for prec in fp32 bf16; do
  $PEER_PY bench/gpu/peer.py --model models/nucseg-default.pt --device "$DEVICE" --precision "$prec" \
    --steps "$PEER_STEPS" >>"$RESULTS" 2>>"$LOG"
done

if [ $DRY = 0 ]; then  # the dry run's build is tested by ctest
  say "all ML unit tests"
  run timeout 100 "$BUILD/tests/nucseg_ml_tests" --gtest_brief=1
  record "{\"ml_tests_all_rc\": $?}"
fi

say "done"
$PEER_PY bench/gpu/summarize.py "$RESULTS" >"$OUT/results.md" 2>>"$LOG"
cat "$OUT/results.md"
rm -rf "$WORK"
failed=$(grep -cE '"rc": [1-9]|_rc": [1-9]' "$RESULTS")
peers=$(grep -c '"row": "infer' "$RESULTS")
if [ "$failed" -gt 0 ] || [ "$peers" -lt 2 ]; then
  echo "check: $failed step(s) failed, $peers of 2 peer runs finished (see $LOG)"
  exit 1
fi
