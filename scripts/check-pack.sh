#!/usr/bin/env bash
# The npm package as a user gets it: npm pack (prepack builds the prebuilt addon and the
# TypeScript), the tarball's contents, then installed into an empty folder with no C compiler and
# no make on the PATH — the prebuilt addon must be used, nothing compiled — and
# `npx flowseek read samples/sample.pcap` must print what this checkout prints. Then a global
# install under a scratch prefix (the command and the man page), the messages of the model plugin
# and of a .ts plugin without onnxruntime-node and typescript, and the fallback: no prebuilt, so
# the install compiles the addon once.
# Run by .ci/run; needs the checkout built (npm ci && npm run build) and npm's cache (or registry)
# for commander and pino.
# Usage: bash scripts/check-pack.sh [PACKAGE.tgz]   (default: a fresh npm pack)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "check-pack: $*" >&2; exit 1; }
step() { echo "check-pack: $* ($SECONDS s)"; }

tarball=${1:-}
if [ -z "$tarball" ]; then
  step "npm pack"
  tarball="$work/$(npm pack --silent --pack-destination "$work" 2>/dev/null | tail -n 1)"
fi
[ -f "$tarball" ] || fail "npm pack wrote no tarball"
listing=$(tar -tzf "$tarball")
for want in package/prebuilds/linux-x64/flowseek.napi.node package/dist/src/cli.js package/bin/flowseek \
  package/man/flowseek.1 package/binding.gyp package/native/meter.c package/scripts/install-addon.js \
  package/contrib/systemd/flowseek-capture@.service; do
  grep -qx "$want" <<<"$listing" || fail "$want is not in the package"
done
unwanted=$(grep -E '^package/(fuzz|native/fuzz|test|bench|samples|examples|dist/test|dist/bench|dist/scripts|build|\.ci)/|^package/scripts/(fuzz|prebuild|check-|build-deb)' <<<"$listing" || true)
[ -z "$unwanted" ] || fail "development files in the package: $(echo $unwanted)"
echo "check-pack: $(basename "$tarball"): $(wc -l <<<"$listing") files, $(du -k "$tarball" | cut -f1) kB"

# a PATH holding every command of this one but the compilers and make
nocc="$work/nocc"
mkdir -p "$nocc"
IFS=: read -ra dirs <<<"$PATH"
for dir in "${dirs[@]}"; do
  for cmd in "$dir"/*; do
    name=$(basename "$cmd")
    [ -x "$cmd" ] && [ ! -e "$nocc/$name" ] || continue
    grep -qE '^(cc|c\+\+|gcc|g\+\+|cpp|make|gmake|clang|clang\+\+|ld|tcc)([-.].*)?$|^x86_64-linux-gnu-' <<<"$name" && continue
    ln -s "$cmd" "$nocc/$name"
  done
done
for cmd in cc gcc g++ make clang; do
  ! PATH="$nocc" command -v "$cmd" >/dev/null || fail "$cmd is still on the reduced PATH"
done

step "npm install of the tarball into an empty folder, no compiler on the PATH"
app="$work/app"
mkdir -p "$app"
log="$work/install.log"
(cd "$app" && PATH="$nocc" npm install --prefer-offline --no-audit --no-fund --foreground-scripts "$tarball" >"$log" 2>&1) ||
  { cat "$log" >&2; fail "npm install of the tarball failed without a compiler"; }
grep -q 'using the prebuilt addon' "$log" || { cat "$log" >&2; fail "the install did not use the prebuilt addon"; }
[ ! -e "$app/node_modules/flowseek/build" ] || fail "the install compiled the addon although a prebuilt one loads"
for dep in typescript onnxruntime-node; do
  [ ! -e "$app/node_modules/$dep" ] || fail "$dep was installed: it is not a runtime dependency"
done

step "npx flowseek read samples/sample.pcap"
got=$(cd "$app" && PATH="$nocc" npx --no-install flowseek read "$root/samples/sample.pcap" --csv -q)
[ "$(wc -l <<<"$got")" -gt 1 ] || fail "no flows from the packaged flowseek"
if [ -f build/Release/flowseek.node ] && [ -f dist/src/cli.js ]; then
  want=$(node bin/flowseek read samples/sample.pcap --csv -q)
  [ "$got" = "$want" ] || fail "the packaged flowseek's CSV differs from this checkout's"
  echo "check-pack: the packaged flowseek's CSV is this checkout's, byte for byte ($(($(wc -l <<<"$got") - 1)) flows)"
fi

model=$(cd "$app" && npx --no-install flowseek read "$root/samples/sample.pcap" --plugin model --model "$root/samples/sample.pcap" \
  --features bidirectional_packets -q 2>&1 >/dev/null || true)
grep -q 'ONNXRUNTIME_NODE_INSTALL=skip npm install -g onnxruntime-node@' <<<"$model" || fail "the model plugin's message without onnxruntime-node: $model"
echo 'export default { name: "p", onInit() {} };' >"$work/plugin.ts"
tsplugin=$(cd "$app" && npx --no-install flowseek read "$root/samples/sample.pcap" --plugin "$work/plugin.ts" -q 2>&1 >/dev/null || true)
grep -q 'needs the typescript package.*npm install -g typescript' <<<"$tsplugin" || fail "a .ts plugin's message without typescript: $tsplugin"
echo "check-pack: without onnxruntime-node and typescript, --plugin model and a .ts plugin say how to install them"

step "npm install -g under a scratch prefix"
prefix="$work/prefix"
PATH="$nocc" npm install -g --prefix "$prefix" --prefer-offline --no-audit --no-fund "$tarball" >"$log" 2>&1 ||
  { cat "$log" >&2; fail "npm install -g failed"; }
"$prefix/bin/flowseek" --version >/dev/null || fail "flowseek --version from the global install"
[ -e "$prefix/share/man/man1/flowseek.1" ] || fail "npm install -g did not install the man page under share/man/man1"
if command -v man >/dev/null; then
  MANPATH="$prefix/share/man" man -P cat flowseek 2>/dev/null | grep -q 'flowseek' || fail "man flowseek after npm install -g"
fi

step "no prebuilt for this machine: the install compiles the addon, once"
src="$app-src"
mkdir -p "$src"
(cd "$src" && FLOWSEEK_BUILD_FROM_SOURCE=1 npm install --prefer-offline --no-audit --no-fund --foreground-scripts "$tarball" >"$log" 2>&1) ||
  { cat "$log" >&2; fail "npm install building from source failed"; }
[ "$(grep -c 'SOLINK_MODULE' "$log")" = 1 ] || { cat "$log" >&2; fail "the addon was not linked exactly once"; }
got=$(cd "$src" && npx --no-install flowseek read "$root/samples/sample.pcap" --csv -q)
[ "$(wc -l <<<"$got")" -gt 1 ] || fail "no flows from the flowseek compiled at install"
(cd "$work" && mkdir nocompiler && cd nocompiler && PATH="$nocc" FLOWSEEK_BUILD_FROM_SOURCE=1 npm install --prefer-offline --no-audit --no-fund "$tarball" >"$log" 2>&1) &&
  fail "an install with neither a prebuilt nor a compiler succeeded"
grep -q 'compiling the addon failed' "$log" || { cat "$log" >&2; fail "no clear message when neither a prebuilt nor a compiler is there"; }

step "passed"
