#!/usr/bin/env bash
# Lays out captures by class as the dataset step wants them (DIR/<class>/*.pcap) from a folder of
# captures and classes.txt, with symbolic links: the captures themselves stay where they are.
#   bash link-captures.sh PCAPS_DIR OUT_DIR
set -euo pipefail
pcaps=$(cd "${1:?usage: link-captures.sh PCAPS_DIR OUT_DIR}" && pwd)
out=${2:?usage: link-captures.sh PCAPS_DIR OUT_DIR}
here=$(dirname "$0")
grep -v '^#' "$here/classes.txt" | while read -r class files; do
  [ -n "$class" ] || continue
  mkdir -p "$out/$class"
  for f in $files; do
    [ -e "$pcaps/$f" ] || { echo "link-captures: $pcaps/$f: no such file" >&2; exit 1; }
    ln -sfn "$pcaps/$f" "$out/$class/$f"
  done
done
echo "classes in $out: $(ls "$out" | tr '\n' ' ')"
