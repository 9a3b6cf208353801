#!/bin/bash
# Submits a sharded plate prediction and its merge step:
#   workflows/slurm/submit_predict_array.sh SHARDS [sbatch options...]
# Parameters (NUCSEG, MODEL, INPUT, OUT, PREDICT_ARGS) come from the environment.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shards=${1:?number of shards}
shift
mkdir -p logs
array=$(sbatch --parsable --export=ALL --array=0-$((shards - 1)) "$@" "$here/predict_array.sbatch")
merge=$(sbatch --parsable --export=ALL --dependency=afterok:"$array" "$@" "$here/predict_merge.sbatch")
echo "array $array merge $merge"
