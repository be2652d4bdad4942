#!/usr/bin/env bash
# Builds the native addon with node-gyp against the Node headers installed on this machine
# (no header download). FLOWSEEK_SANITIZE=1 builds an ASan+UBSan copy into build-asan/ instead
# (the normal build/ is left as it was). The normal build is incremental (configure, then make): after
# `npm ci` compiled the addon, `npm run build` only relinks it.
set -euo pipefail
cd "$(dirname "$0")/.."
args=()
node_prefix=$(dirname "$(dirname "$(command -v node)")")
for dir in "$node_prefix" /usr /usr/local; do
  if [ -f "$dir/include/node/node_api.h" ]; then args+=(--nodedir="$dir"); break; fi
done
# the kernel side of system visibility, when clang and libbpf are here (binding.gyp looks for it)
bash scripts/build-bpf.sh
gyp=(node-gyp)
command -v node-gyp >/dev/null 2>&1 || gyp=(node "$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js")
if [ "${FLOWSEEK_SANITIZE:-}" = 1 ]; then
  # node-gyp always builds into build/: keep the normal build aside meanwhile
  rm -rf build-asan build.normal
  [ -d build ] && mv build build.normal
  trap 'rm -rf build; [ -d build.normal ] && mv build.normal build' EXIT
  "${gyp[@]}" rebuild "${args[@]}" >/dev/null
  mkdir -p build-asan && cp build/Release/flowseek.node build-asan/flowseek.node
  echo "sanitizer build: build-asan/flowseek.node"
else
  "${gyp[@]}" configure build "${args[@]}"
fi
