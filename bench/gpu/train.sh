#!/usr/bin/env bash
# The GPU training run: trains the candidate default model (examples/train-gpu-default.json) from
# scratch on one GPU, at most TRAIN_MINUTES (6) minutes of training, scores its best epoch on the
# validation split with `nucseg predict` + `nucseg evaluate`, and writes at most 8 files of at most
# 16 MB into OUT: best.pt (fp16 weights; split into best.pt.part-NN only if it is larger), result.json
# (metrics, resolved config, exact commands, GPU, wall times, checkpoint SHA-256), train.log,
# metrics.csv and evaluation.csv.
#
#   bash bench/gpu/train.sh OUT            # on the node, after check.sh or build.sh (see README.md)
#   bash bench/gpu/train.sh OUT --dry-run  # the same steps on this machine's CPU: a few training
#                                          # steps, 3 validation images, existing build/
#
# Data: the packed training and validation samples (bench/gpu/pack_train_data.py) in TRAIN_DATA
# (default bench/gpu/train-data, carried with the call). The dry run packs a small set itself, into
# TRAIN_DATA if given, else a temporary folder: 7 + 3 DSB images from DSB (default
# ../shared/data/dsb2018_stage1_train), or a synthetic plate where that is missing. Environment: NUCSEG_GPU_BUILD (build folder), TRAIN_CONFIG, TRAIN_MINUTES, PYTHON
# (with numpy, h5py, scikit-image, pillow; default python3, in the dry run /usr/bin/python3).
set -uo pipefail
OUT=$(mkdir -p "$1" && cd "$1" && pwd)
DRY=0
[ "${2:-}" = "--dry-run" ] && DRY=1
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
CONFIG=${TRAIN_CONFIG:-examples/train-gpu-default.json}
MINUTES=${TRAIN_MINUTES:-6}
LOG=$OUT/train.log
WORK=$(mktemp -d)
TIMES=$WORK/times.txt
: >"$LOG"
: >"$TIMES"
T0=$(date +%s.%N)

say() { echo "== $* (t=$(awk "BEGIN{printf \"%.0f\", $(date +%s.%N) - $T0}") s)" | tee -a "$LOG"; }
fail() { say "FAILED: $*"; tail -30 "$LOG"; rm -rf "$WORK"; exit 1; }
# timed NAME CMD...: runs CMD with its output in the log, records "NAME seconds" and the command.
timed() {
  local name=$1; shift
  printf '%s\n' "$name $(printf '%q ' "$@")" >>"$WORK/commands.txt"
  local t1=$(date +%s.%N)
  "$@" >>"$LOG" 2>&1
  local rc=$?
  echo "$name $(awk "BEGIN{print $(date +%s.%N) - $t1}")" >>"$TIMES"
  return $rc
}

PY=${PYTHON:-python3}
if [ $DRY = 1 ]; then
  PY=${PYTHON:-/usr/bin/python3}
  DEVICE=cpu; BUILD=${NUCSEG_GPU_BUILD:-$ROOT/build}; DATA=${TRAIN_DATA:-$WORK/pack}
  TRAIN_EXTRA=(--epochs 2 --steps-per-epoch 1 --passes-per-epoch 1 --batch-size 2 --crop 128 128 -j 2)
else
  DEVICE=cuda; BUILD=${NUCSEG_GPU_BUILD:-$ROOT/build-gpu}; DATA=${TRAIN_DATA:-$ROOT/bench/gpu/train-data}
  TRAIN_EXTRA=()
fi
NUCSEG=$BUILD/tools/nucseg
say "machine"
{ uname -a; nproc; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1;
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)' 2>&1; } >>"$LOG"
GPU=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)

# A warm machine keeps check.sh's build and staged packages; a cold one has neither.
if ! "$NUCSEG" --version >/dev/null 2>&1; then
  [ $DRY = 1 ] && fail "no working $NUCSEG: build nucseg first"
  say "no working build on this machine (it went cold?): staging packages and building"
  NUCSEG_GPU_BUILD=$BUILD timed build bash bench/gpu/build.sh nucseg ||
    fail "no build and none possible: run check.sh (or build.sh) with bench/gpu/debs carried, then this at once"
fi

if [ $DRY = 1 ]; then
  say "dry run: pack a small set"
  DSB=${DSB:-$ROOT/../shared/data/dsb2018_stage1_train}
  mkdir -p "$WORK/source"
  if [ -d "$DSB" ]; then
    for d in $(ls "$DSB" | head -10); do ln -s "$DSB/$d" "$WORK/source/$d"; done
    SOURCE_ARGS=(--images "$WORK/source" --layout dsb)
    PACK_ARGS=()
  else
    "$NUCSEG" --log-level warn synth --out "$WORK/synth" --wells 2 --sites 5 --size 256 256 --nuclei 10 30 >>"$LOG" 2>&1
    SOURCE_ARGS=(--images "$WORK/synth/plate1" --masks "$WORK/synth/ground_truth/plate1" --layout paired)
    PACK_ARGS=(--stretch-16-bit)
  fi
  "$NUCSEG" --log-level warn convert "${SOURCE_ARGS[@]}" --out "$WORK/source.h5" --native-size --split 0.7 0.3 0 \
    >>"$LOG" 2>&1 || fail "convert of the dry run's source"
  "$PY" bench/gpu/pack_train_data.py "$WORK/source.h5" "$DATA" "${PACK_ARGS[@]}" >>"$LOG" 2>&1 || fail "pack"
fi

say "check the packed data"
"$PY" - "$DATA" >>"$LOG" 2>&1 <<'PY' || fail "the packed data in $DATA is missing or damaged (run pack_train_data.py, carry it)"
import hashlib, json, os, sys
root = sys.argv[1]
m = json.load(open(os.path.join(root, "manifest.json")))
bad = [f for f, h in m["files"].items() if hashlib.sha256(open(os.path.join(root, f), "rb").read()).hexdigest() != h]
assert not bad, f"{len(bad)} files differ from the manifest, e.g. {bad[:3]}"
print("pack:", m["samples"], "files verified:", len(m["files"]))
PY

say "convert (the default model's normalization, the packed split)"
timed convert "$NUCSEG" --log-level warn convert --images "$DATA/images" --masks "$DATA/labels" --layout paired \
  --native-size --normalize percentile --percentiles 1 99.8 --polarity auto --split-file "$DATA/split.txt" \
  --out "$WORK/data.h5" -j "$(nproc)" || fail "convert"

say "train ($CONFIG, at most $MINUTES min)"
timed train "$NUCSEG" train --config "$CONFIG" --data "$WORK/data.h5" --out "$WORK/run" --device "$DEVICE" \
  --max-minutes "$MINUTES" --overwrite "${TRAIN_EXTRA[@]}" || fail "train"

say "predict and evaluate the validation split"
mkdir -p "$WORK/val-labels"
awk '$2 == "val" {print $1}' "$DATA/split.txt" | while read -r id; do
  echo "$DATA/images/$id.png" >>"$WORK/val.txt"
  ln -s "$DATA/labels/$id.png" "$WORK/val-labels/$id.png"
done
timed predict "$NUCSEG" --log-level warn predict --model "$WORK/run/best.pt" --input "$WORK/val.txt" --out "$WORK/pred" \
  --device "$DEVICE" --overlays 0 --no-resume || fail "predict"
timed evaluate "$NUCSEG" --log-level warn evaluate --pred "$WORK/pred/masks" --truth "$WORK/val-labels" \
  --out "$WORK/eval" || fail "evaluate"

say "results"
SHA=$(sha256sum "$WORK/run/best.pt" | cut -d' ' -f1)
cp "$WORK/run/metrics.csv" "$WORK/eval/evaluation.csv" "$OUT/"
# The device tool brings back files of at most 16 MiB; fp16 weights keep the default model under it.
if [ "$(stat -c %s "$WORK/run/best.pt")" -le $((16 * 1024 * 1024)) ]; then
  cp "$WORK/run/best.pt" "$OUT/best.pt"
else
  split -b 15M -d "$WORK/run/best.pt" "$OUT/best.pt.part-"
fi
"$PY" bench/gpu/train_result.py --run "$WORK/run" --eval "$WORK/eval/evaluation.json" --times "$TIMES" \
  --commands "$WORK/commands.txt" --gpu "${GPU:-none}" --dry-run "$DRY" --sha256 "$SHA" \
  --version "$("$NUCSEG" --version 2>&1 | head -1) (commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown))" --data "$DATA/manifest.json" --log "$LOG" >"$OUT/result.json" 2>>"$LOG" ||
  fail "result.json"
"$PY" -c 'import json, sys; r = json.load(open(sys.argv[1])); print(json.dumps({k: r[k] for k in ("gpu", "metrics", "training", "wall_seconds")}, indent=1))' \
  "$OUT/result.json" | tee -a "$LOG"
say "done"
rm -rf "$WORK"
