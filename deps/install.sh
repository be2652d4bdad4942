#!/usr/bin/env bash
# Installs the system libraries flowseek builds against, from Debian's packages, when missing:
# libpcap-dev (capture), libndpi-dev (application detection), libssl-dev (OpenSSL's libcrypto:
# SHA-1/SHA-256/AES for Community ID, JA4 and QUIC Initials), libzstd-dev and libsnappy-dev
# (Parquet page compression), libdouble-conversion-dev (numbers in CSV and JSON Lines spelled as
# JavaScript spells them; linked statically), and a C and C++ toolchain; for system visibility by kernel events
# (capture --system-visibility), clang, libbpf-dev and bpftool, without which flowseek still
# builds, its BPF mode left out (scripts/build-bpf.sh says so).
# The test suite also uses tshark (and its editcap), iproute2, ping, groff, script, nfdump (an IPFIX
# collector), systemd-analyze and util-linux (the service files), clang (fuzzing), clang-tidy
# (npm run lint), dpkg-dev and man-db (the .deb check); pass --test to install those too.
set -euo pipefail

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

missing=()
[ -f /usr/include/pcap/pcap.h ] || missing+=(libpcap-dev)
[ -f /usr/include/ndpi/ndpi_api.h ] || missing+=(libndpi-dev)
[ -f /usr/include/openssl/evp.h ] || missing+=(libssl-dev)
[ -f /usr/include/zstd.h ] || missing+=(libzstd-dev)
[ -f /usr/include/snappy-c.h ] || missing+=(libsnappy-dev)
[ -f /usr/include/double-conversion/double-conversion.h ] || missing+=(libdouble-conversion-dev)
command -v make >/dev/null 2>&1 || missing+=(make)
command -v cc >/dev/null 2>&1 || missing+=(gcc)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
# the BPF program: compiled by clang, loaded through libbpf, vmlinux.h written by bpftool
command -v clang >/dev/null 2>&1 || missing+=(clang)
[ -f /usr/include/bpf/libbpf.h ] || missing+=(libbpf-dev)
command -v bpftool >/dev/null 2>&1 || [ -x /usr/sbin/bpftool ] || missing+=(bpftool)
if [ "$want_test" = 1 ]; then
  command -v tshark >/dev/null 2>&1 || missing+=(tshark)
  command -v ip >/dev/null 2>&1 || missing+=(iproute2)
  command -v ping >/dev/null 2>&1 || missing+=(iputils-ping)
  command -v groff >/dev/null 2>&1 || missing+=(groff-base)
  command -v script >/dev/null 2>&1 || missing+=(bsdutils)
  command -v pgrep >/dev/null 2>&1 || missing+=(procps)
  command -v nfcapd >/dev/null 2>&1 || missing+=(nfdump)
  # the service files' test: systemd-analyze verify on the unit, setpriv and flock (util-linux)
  command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
  # the .deb check (scripts/check-deb.sh): dpkg-shlibdeps for its Depends, man for its man page
  command -v dpkg-shlibdeps >/dev/null 2>&1 || missing+=(dpkg-dev)
  command -v man >/dev/null 2>&1 || missing+=(man-db)
  { command -v setpriv && command -v flock; } >/dev/null 2>&1 || missing+=(util-linux)
  # the fuzz harness and the leak check: clang with libFuzzer and the sanitizer runtimes
  command -v clang >/dev/null 2>&1 || missing+=(clang)
  ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1 || missing+=(libclang-rt-14-dev)
  # the C lint (scripts/lint-native.sh)
  command -v clang-tidy >/dev/null 2>&1 || missing+=(clang-tidy)
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: everything flowseek needs is installed"
  exit 0
fi

echo "deps: installing ${missing[*]}"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "deps: this is not a Debian-like system; install the development packages for libpcap, nDPI (4.2+) and OpenSSL 3" >&2
  echo "deps: and a C compiler with make, then run: npm ci && npm run build" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "deps: not root and no sudo; as root run: apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# tshark asks whether non-root users may capture; answer no without a prompt
echo "wireshark-common wireshark-common/install-setuid boolean false" | $sudo debconf-set-selections 2>/dev/null || true
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
