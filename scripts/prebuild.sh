#!/usr/bin/env bash
# The prebuilt addon the npm package carries (npm pack runs this as prepack): nDPI linked in from
# its static archive (Debian's libndpi-dev ships libndpi.a), so the package runs where neither
# nDPI nor a compiler is installed. What stays shared — libpcap, OpenSSL's libcrypto, zstd,
# snappy, libgcrypt (nDPI's) and libc — is listed at the end. Goes to prebuilds/<platform>-<arch>/
# (the node-gyp-build / prebuildify layout); build/ is relinked against the shared nDPI after.
set -euo pipefail
cd "$(dirname "$0")/.."
out="prebuilds/$(node -p 'process.platform + "-" + process.arch')"
FLOWSEEK_STATIC_NDPI=1 bash scripts/build-addon.sh >/dev/null
mkdir -p "$out"
strip --strip-unneeded -o "$out/flowseek.napi.node" build/Release/flowseek.node
bash scripts/build-addon.sh >/dev/null
needed=$(readelf -d "$out/flowseek.napi.node" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
if grep -q ndpi <<<"$needed"; then echo "prebuild: $out/flowseek.napi.node still needs a shared nDPI" >&2; exit 1; fi
node -e 'require(process.argv[1])' "$PWD/$out/flowseek.napi.node"
echo "prebuild: $out/flowseek.napi.node ($(du -k "$out/flowseek.napi.node" | cut -f1) kB), shared libraries: $(echo $needed)"
