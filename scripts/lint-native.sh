#!/usr/bin/env bash
# clang-tidy (the checks in .clang-tidy) over the addon's C sources, compiled as binding.gyp
# compiles them: its sources and cflags_c, node-gyp's defines, and the Node headers that
# build-addon.sh builds against. Exit 1 on any finding. Two files at a time per core.
set -euo pipefail
cd "$(dirname "$0")/.."
tidy=$(command -v clang-tidy || command -v clang-tidy-14 || true)
if [ -z "$tidy" ]; then
  echo "lint-native: clang-tidy is not installed (Debian: apt-get install clang-tidy, or npm run deps -- --test)" >&2
  exit 1
fi
node_include=""
node_prefix=$(dirname "$(dirname "$(command -v node)")")
for dir in "$node_prefix" /usr /usr/local; do
  if [ -f "$dir/include/node/node_api.h" ]; then node_include="$dir/include/node"; break; fi
done
if [ -z "$node_include" ]; then
  echo "lint-native: the Node headers (node_api.h) are not installed" >&2
  exit 1
fi
# binding.gyp is JSON with #-comments; a source entry "<!@(ls native/*.c)" is expanded by the shell as gyp does
gyp() { node -e "const text = require('fs').readFileSync('binding.gyp', 'utf8').replace(/^\s*#.*$/gm, ''); console.log(JSON.parse(text).targets[0].$1.join('\n'))"; }
# (the C only: native/js_number.cc is a few lines around a C++ library)
mapfile -t sources < <(gyp sources | while read -r s; do case $s in '<!@('*')') eval "${s:4:${#s}-5}" | tr ' ' '\n' ;; *) echo "$s" ;; esac; done | grep '\.c$')
mapfile -t cflags < <(gyp cflags_c)
flags=("${cflags[@]}" -D_FILE_OFFSET_BITS=64 -D_LARGEFILE_SOURCE -DBUILDING_NODE_EXTENSION "-I$node_include")
# one clang-tidy per two files, as many at once as there are cores; its "N warnings generated."
# counts warnings it then filters out, so only findings are shown
check='tidy=$1; shift; flags=(); while [ "$1" != -- ]; do flags+=("$1"); shift; done; shift
out=$("$tidy" --quiet "$@" -- "${flags[@]}" 2>&1); rc=$?
grep -v "warnings\? generated\.$" <<<"$out" || true
exit $((rc != 0))'
if ! printf '%s\n' "${sources[@]}" | xargs -P "$(nproc)" -n 2 bash -c "$check" lint-native "$tidy" "${flags[@]}" --; then
  echo "lint-native: clang-tidy found problems in the C (above)" >&2
  exit 1
fi
