#!/usr/bin/env bash
# The Debian package as an operator gets it: built by scripts/build-deb.sh, installed with
# `apt-get install ./flowseek_*.deb` (its Depends resolved by apt), then `flowseek --version`,
# a read of samples/sample.pcap (the CSV of this checkout, byte for byte), `man flowseek`,
# `systemd-analyze verify` on the installed unit, and `dpkg -r`: every file it brought is gone.
# Needs root, apt and dpkg-dev (dpkg-shlibdeps); run by .ci/run. Refuses to run where a flowseek
# package is already installed (it would replace and then remove it).
# Usage: bash scripts/check-deb.sh [PACKAGE.tgz]   (default: a fresh npm pack)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
fail() { echo "check-deb: $*" >&2; exit 1; }
step() { echo "check-deb: $* ($SECONDS s)"; }

[ "$(id -u)" = 0 ] || fail "needs root (apt-get install, dpkg -r)"
for cmd in apt-get dpkg-deb dpkg-shlibdeps systemd-analyze man; do
  command -v "$cmd" >/dev/null || fail "$cmd missing: bash deps/install.sh --test installs it"
done
if dpkg-query -W -f='${db:Status-Status}' flowseek 2>/dev/null | grep -qv '^not-installed$'; then
  fail "a flowseek package is already installed here; not touching it"
fi

work=$(mktemp -d)
installed=0
cleanup() {
  [ "$installed" = 0 ] || dpkg -r flowseek >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

step "build"
bash scripts/build-deb.sh "$work" "${1:-}"
deb=$(echo "$work"/flowseek_*.deb)
[ -f "$deb" ] || fail "no .deb built"
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's#^\./#/#; s#/$##' | grep -v '^$' >"$work/files"

step "apt-get install $(basename "$deb")"
installed=1
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$deb" >"$work/apt.log" 2>&1 ||
  { cat "$work/apt.log" >&2; fail "apt-get install failed"; }

step "the installed command"
[ "$(command -v flowseek)" = /usr/bin/flowseek ] || fail "flowseek on the PATH is $(command -v flowseek), not /usr/bin/flowseek"
want_version=$(node -p 'require("./package.json").version')
version=$(env -u NODE_OPTIONS /usr/bin/flowseek --version)
grep -qF "$want_version" <<<"$version" || fail "flowseek --version says '$version', not $want_version"
got=$(cd / && env -u NODE_OPTIONS /usr/bin/flowseek read "$root/samples/sample.pcap" --csv -q)
[ "$(wc -l <<<"$got")" -gt 1 ] || fail "no flows from the installed flowseek"
if [ -f build/Release/flowseek.node ] && [ -f dist/src/cli.js ]; then
  [ "$got" = "$(env -u NODE_OPTIONS node bin/flowseek read samples/sample.pcap --csv -q)" ] ||
    fail "the installed flowseek's CSV differs from this checkout's"
fi
page=$(MANPAGER=cat man flowseek 2>/dev/null) || fail "man flowseek"
grep -q 'flowseek' <<<"$page" || fail "man flowseek printed no page"

step "systemd-analyze verify on the installed unit"
unit=/usr/lib/systemd/system/flowseek-capture@.service
[ -f "$unit" ] || fail "$unit not installed"
grep -q '^ExecStart=/usr/bin/flowseek ' "$unit" || fail "the installed unit's ExecStart is not /usr/bin/flowseek"
# a template is verified through an instance; the man page it names is installed now (no --man=no)
mkdir -p "$work/unit" && cp "$unit" "$work/unit/flowseek-capture@eth0.service"
verify=$(systemd-analyze verify "$work/unit/flowseek-capture@eth0.service" 2>&1) || fail "systemd-analyze verify: $verify"
[ -z "$verify" ] || fail "systemd-analyze verify warns: $verify"

step "dpkg -r flowseek"
dpkg -r flowseek >"$work/remove.log" 2>&1 || { cat "$work/remove.log" >&2; fail "dpkg -r failed"; }
installed=0
status=$(dpkg-query -W -f='${db:Status-Status}' flowseek 2>/dev/null || echo not-installed)
[ "$status" = not-installed ] || fail "after dpkg -r the package is '$status', not gone"
left=$(grep -E 'flowseek' "$work/files" | while read -r f; do [ -e "$f" ] || [ -L "$f" ] && echo "$f"; done || true)
[ -z "$left" ] || fail "left behind: $(echo $left)"
! command -v flowseek >/dev/null || fail "flowseek is still on the PATH: $(command -v flowseek)"

step "passed"
