#!/usr/bin/env bash
# Builds flowseek_<version>_<arch>.deb with dpkg-deb, for `apt install ./flowseek_*.deb`:
#   /usr/lib/flowseek/                    the npm package (npm pack: the prebuilt addon, nDPI linked
#                                         in) with the runtime node_modules from package-lock.json
#   /usr/bin/flowseek                     the command
#   /usr/share/man/man1/flowseek.1.gz     the man page
#   /usr/lib/systemd/system/flowseek-capture@.service   the capture unit, ExecStart=/usr/bin/flowseek
#   /usr/share/doc/flowseek/              copyright, README, the cron example
# Depends: nodejs (>= the engines field) and the shared libraries the addon links (dpkg-shlibdeps).
# Usage: bash scripts/build-deb.sh [OUT_DIR] [PACKAGE.tgz]   (default: this folder, a fresh npm pack)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
mkdir -p "${1:-.}"
out=$(realpath "${1:-.}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

version=$(node -p 'require("./package.json").version')
node_min=$(node -p 'require("./package.json").engines.node.replace(/^>=\s*/, "")')
arch=$(dpkg --print-architecture)
tarball=${2:-}
if [ -z "$tarball" ]; then
  tarball="$work/$(npm pack --silent --pack-destination "$work" 2>/dev/null | tail -n 1)"
fi
tar -xzf "$tarball" -C "$work"

stage="$work/root"
lib="$stage/usr/lib/flowseek"
mkdir -p "$lib" "$stage/usr/bin" "$stage/usr/share/man/man1" "$stage/usr/lib/systemd/system" "$stage/usr/share/doc/flowseek/examples" "$stage/DEBIAN"
cp -a "$work/package/." "$lib/"
addon="prebuilds/linux-${arch/amd64/x64}/flowseek.napi.node"
[ -f "$lib/$addon" ] || { echo "build-deb: the package has no $addon" >&2; exit 1; }
# the runtime dependencies, the versions the lock file names; no install scripts (the addon is prebuilt)
cp package-lock.json "$lib/"
(cd "$lib" && npm ci --omit=dev --omit=optional --ignore-scripts --prefer-offline --no-audit --no-fund --loglevel=error >/dev/null)
rm -f "$lib/package-lock.json" "$lib/node_modules/.package-lock.json"
# what only an npm install uses: the sources to compile from, the man page and contrib (placed below)
rm -rf "$lib/native" "$lib/binding.gyp" "$lib/scripts" "$lib/deps" "$lib/man" "$lib/contrib" "$lib/README.md"

ln -s ../lib/flowseek/bin/flowseek "$stage/usr/bin/flowseek"
gzip -9n <man/flowseek.1 >"$stage/usr/share/man/man1/flowseek.1.gz"
sed 's#/usr/local/bin/flowseek#/usr/bin/flowseek#g' contrib/systemd/flowseek-capture@.service \
  >"$stage/usr/lib/systemd/system/flowseek-capture@.service"
cp contrib/cron/* "$stage/usr/share/doc/flowseek/examples/"
gzip -9n <README.md >"$stage/usr/share/doc/flowseek/README.md.gz"
cat >"$stage/usr/share/doc/flowseek/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: flowseek

Files: *
License: $(node -p 'require("./package.json").license')
 On Debian systems, the full text of the GNU Lesser General Public License version 3
 can be found in /usr/share/common-licenses/LGPL-3.
EOF

# the shared libraries the addon needs, as package dependencies with their minimum versions
mkdir -p "$work/shlibs/debian"
printf 'Source: flowseek\n\nPackage: flowseek\nArchitecture: any\n' >"$work/shlibs/debian/control"
libs=$(cd "$work/shlibs" && dpkg-shlibdeps -O "$lib/$addon" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$libs" ] || { echo "build-deb: dpkg-shlibdeps (Debian package dpkg-dev) found no dependency for $addon" >&2; exit 1; }

# a running systemd sees the new unit at once; no postrm, so that dpkg -r leaves nothing (not even
# a "config-files" entry): the unit is a template nothing enables, and it is gone at the next reload
cat >"$stage/DEBIAN/postinst" <<'EOF'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then systemctl daemon-reload >/dev/null || true; fi
EOF
chmod 755 "$stage/DEBIAN/postinst"
(cd "$stage" && find usr -type f -print0 | sort -z | xargs -0 md5sum) >"$stage/DEBIAN/md5sums"
cat >"$stage/DEBIAN/control" <<EOF
Package: flowseek
Version: $version
Architecture: $arch
Maintainer: flowseek developers <flowseek@users.noreply.invalid>
Section: net
Priority: optional
Installed-Size: $(du -sk --exclude=DEBIAN "$stage" | cut -f1)
Depends: nodejs (>= $node_min), $libs
Suggests: man-db
Description: $(node -p 'require("./package.json").description')
 Reads capture files (pcap, pcapng) or captures live, and writes bidirectional flow records
 with NFStream's field names and meanings (nDPI application labels, statistical and early-packet
 features) as CSV, JSON Lines, Parquet or Arrow IPC, or to an IPFIX collector.
 The capture service: systemctl enable --now flowseek-capture@IFACE.
EOF
find "$stage" -type d -exec chmod 755 {} +
deb="$out/flowseek_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "build-deb: $deb ($(du -k "$deb" | cut -f1) kB), Depends: nodejs (>= $node_min), $libs"
