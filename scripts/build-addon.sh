#!/usr/bin/env bash
# Builds the native addon with node-gyp against the Node headers installed on this machine
# (no header download). FLOWSEEK_SANITIZE=1 builds with ASan and UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
args=()
node_prefix=$(dirname "$(dirname "$(command -v node)")")
for dir in "$node_prefix" /usr /usr/local; do
  if [ -f "$dir/include/node/node_api.h" ]; then args+=(--nodedir="$dir"); break; fi
done
if ! command -v node-gyp >/dev/null 2>&1; then
  gyp="$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js"
  exec node "$gyp" rebuild "${args[@]}"
fi
exec node-gyp rebuild "${args[@]}"
