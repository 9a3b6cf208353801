#!/bin/bash
# Submits a sharded plate prediction and its merge step:
#
#   INPUT=plates/plate1 OUT=results/plate1 MODEL=runs/seed/best.pt \
#     workflows/slurm/submit_predict_array.sh SHARDS [sbatch options for both jobs...]
#
# The parameters of predict_array.sbatch (NUCSEG, MODEL, INPUT, OUT, PREDICT_ARGS) come from the
# environment. The merge waits for every shard to end (afterany) and fails, listing them, when
# images are unfinished; then run this same command again: finished images are not redone.
# Prints "array <jobid> merge <jobid>".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shards=${1:?usage: submit_predict_array.sh SHARDS [sbatch options...]}
shift
[ "$shards" -ge 1 ] 2>/dev/null || { echo "SHARDS must be a positive number, got '$shards'" >&2; exit 2; }
export SHARDS=$shards
mkdir -p logs   # the jobs' --output folder (relative to this folder)
array=$(sbatch --parsable --export=ALL --array=0-$((shards - 1)) "$@" "$here/predict_array.sbatch")
array=${array%%;*}
merge=$(sbatch --parsable --export=ALL --dependency=afterany:"$array" "$@" "$here/predict_merge.sbatch")
merge=${merge%%;*}
echo "array $array merge $merge"
