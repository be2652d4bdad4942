#!/usr/bin/env bash
# A labelled dataset with flowseek: one Parquet file per class folder (CAPTURES/<class>/*), each
# flow with the first 784 payload bytes, the SPLT of 10 packets and nDPI's labels. The class is
# the folder's name (train.py --label ndpi takes nDPI's category instead).
#   bash dataset.sh CAPTURES_DIR OUT_DIR
set -euo pipefail
captures=${1:?usage: dataset.sh CAPTURES_DIR OUT_DIR}
out=${2:?usage: dataset.sh CAPTURES_DIR OUT_DIR}
flowseek=${FLOWSEEK:-flowseek}
mkdir -p "$out"
for dir in "$captures"/*/; do
  class=$(basename "$dir")
  rm -f "$out/$class.parquet"
  $flowseek -q read "$dir"* --payload-bytes 784 --splt 10 -o "$out/$class.parquet"
  echo "$class: $out/$class.parquet"
done
