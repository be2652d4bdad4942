#!/usr/bin/env bash
# Throughput and peak memory of `flowseek read` on the oracle captures, beside Debian's ndpiReader
# on the same input. Usage: bash bench/read.sh [repeats]   (needs ../shared, a build, ndpiReader)
set -euo pipefail
cd "$(dirname "$0")/.."
pcaps=../shared/oracle/nfstream/pcaps
repeats=${1:-20}
largest=$(ls -S "$pcaps" | head -1)
files=()
for _ in $(seq "$repeats"); do for f in "$pcaps"/*; do files+=("$f"); done; done
count() { capinfos -c -M "$@" 2>/dev/null | awk '/Number of packets/ {n += $NF} END {print n}'; }
measure() { # label, packets, command...
  local label=$1 packets=$2; shift 2
  local tf; tf=$(mktemp)
  /usr/bin/time -o "$tf" -f '%e %M' "$@" >/dev/null 2>&1 || true
  local out; out=$(tail -1 "$tf"); rm -f "$tf"
  local secs=${out% *} kb=${out#* }
  awk -v l="$label" -v p="$packets" -v s="$secs" -v k="$kb" \
    'BEGIN { printf "| %-44s | %9d | %6.2f | %12.0f | %7.1f |\n", l, p, s, (s > 0 ? p / s : 0), k / 1024 }'
}
echo "| run | packets | wall s | packets/s | peak RSS MB |"
echo "|---|---|---|---|---|"
n_largest=$(count "$pcaps/$largest")
measure "flowseek read $largest" "$n_largest" bin/flowseek read "$pcaps/$largest" --csv -o /dev/null
measure "flowseek read --stats --splt 20 $largest" "$n_largest" bin/flowseek read "$pcaps/$largest" --stats --splt 20 --csv -o /dev/null
if command -v ndpiReader >/dev/null; then
  measure "ndpiReader -i $largest (nDPI 4.2, DPI on)" "$n_largest" ndpiReader -q -i "$pcaps/$largest"
fi
n_all=$(( $(count "$pcaps"/*) * repeats ))
measure "flowseek read, all oracle captures x$repeats" "$n_all" bin/flowseek read "${files[@]}" --csv -o /dev/null
measure "flowseek read --stats --splt 20, same" "$n_all" bin/flowseek read "${files[@]}" --stats --splt 20 --csv -o /dev/null
measure "flowseek read --jsonl, same" "$n_all" bin/flowseek read "${files[@]}" --jsonl -o /dev/null
