#!/usr/bin/env bash
# flowseek runs the exported model on every class folder's captures, as it would on live traffic:
# one JSON Lines file of flows with their udps_model_* columns per class.
#   bash predict.sh CAPTURES_DIR MODEL.onnx OUT_DIR [more flowseek options, e.g. --predict-at 3]
set -euo pipefail
captures=${1:?usage: predict.sh CAPTURES_DIR MODEL.onnx OUT_DIR}
model=${2:?usage: predict.sh CAPTURES_DIR MODEL.onnx OUT_DIR}
out=${3:?usage: predict.sh CAPTURES_DIR MODEL.onnx OUT_DIR}
flowseek=${FLOWSEEK:-flowseek}
mkdir -p "$out"
for dir in "$captures"/*/; do
  class=$(basename "$dir")
  $flowseek -q read "$dir"* --payload-bytes 784 --plugin model --model "$model" --features payload_bytes "${@:4}" --jsonl > "$out/$class.jsonl"
done
