#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang, ASan + UBSan) and runs one on a corpus seeded from the
# oracle captures. Crashes are written to fuzz/crashes/. Extra arguments go to libFuzzer:
#   npm run fuzz -- -max_total_time=60        npm run fuzz -- -runs=10000000
#   bash scripts/fuzz.sh --target source -max_total_time=300
#   bash scripts/fuzz.sh --build-only          bash scripts/fuzz.sh [--target T] --replay FILE...  (run inputs once)
# Targets: meter (default: decode, flow table, features, nDPI), source (the file readers: classic
# pcap records read directly against libpcap, and the run loop, with a filter, a snapshot length,
# statistics), batch (the meter's flows laid out
# in columns). --build-only builds all three, build-fuzz/leakcheck (a whole read under
# LeakSanitizer), build-fuzz/spread_check (no lane of read --workers takes a frame the reader
# already wrote over) and build-fuzz/dpi_start_check (nDPI modules started on threads at once).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang >/dev/null || { echo "fuzz: needs clang and libclang-rt-14-dev (bash deps/install.sh --test)" >&2; exit 1; }
target=meter
if [ "${1:-}" = --target ]; then target=${2:-}; shift 2; fi
case $target in meter|source|batch) ;; *) echo "fuzz: --target meter, source or batch" >&2; exit 2 ;; esac
mkdir -p build-fuzz fuzz/corpus fuzz/crashes
sources=$(ls native/*.c | grep -v -E 'native/(addon[a-z_]*|text_rows|batch|compress|privileges|sockdiag|sockevents|run|source|source_live|spread)\.c$')
readers="native/run.c native/spread.c native/source.c native/source_live.c"
flags=(-g -O1 -std=c11 -D_GNU_SOURCE -Wall -Wextra -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
if [ ! -x build-fuzz/fuzz_batch ] || [ -n "$(find native -name '*.[ch]' -newer build-fuzz/fuzz_batch)" ]; then
  clang "${flags[@]}" -o build-fuzz/fuzz_meter native/fuzz/fuzz_meter.c $sources -lndpi -lgcrypt -lcrypto -lm
  # shellcheck disable=SC2086
  clang "${flags[@]}" -Wl,--wrap=fs_pcap_records_open -o build-fuzz/fuzz_source native/fuzz/fuzz_source.c $readers $sources \
    -lndpi -lgcrypt -lcrypto -lpcap -lm
  clang "${flags[@]}" -o build-fuzz/fuzz_batch native/fuzz/fuzz_batch.c $sources -lndpi -lgcrypt -lcrypto -lm
  cc -O1 -o build-fuzz/fuzz_seeds native/fuzz/seeds.c -lpcap
  # shellcheck disable=SC2086
  clang -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=address,undefined -fno-omit-frame-pointer -o build-fuzz/leakcheck \
    native/fuzz/leakcheck.c $readers $sources -lndpi -lgcrypt -lcrypto -lpcap -lm
  # shellcheck disable=SC2086
  clang -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=address,undefined -fno-omit-frame-pointer -o build-fuzz/spread_check \
    native/fuzz/spread_check.c $readers $sources -lndpi -lgcrypt -lcrypto -lpcap -lm -lpthread
  # shellcheck disable=SC2086
  cc -O1 -std=c11 -D_GNU_SOURCE -Wl,--wrap=ndpi_init_detection_module -o build-fuzz/dpi_start_check native/fuzz/dpi_start_check.c \
    $sources -lndpi -lgcrypt -lcrypto -lm -lpthread
fi
[ "${1:-}" = --build-only ] && exit 0
if [ "${1:-}" = --replay ]; then shift; exec "build-fuzz/fuzz_$target" -runs=1 "$@"; fi
oracle=../shared/oracle/nfstream
corpus=fuzz/corpus
[ "$target" = meter ] || corpus=build-fuzz/corpus-$target
mkdir -p "$corpus"
if [ -z "$(ls -A "$corpus")" ] && [ -d "$oracle" ]; then
  if [ "$target" = source ]; then
    # whole capture files (pcapng ones sit among the results), each behind an options byte:
    # records, libpcap, records with a filter, libpcap with snaplen 64 and statistics
    for f in "$oracle"/pcaps/* "$oracle"/results/*.pcapng; do
      [ "$(stat -c %s "$f")" -le 65536 ] || continue
      for o in 00 01 02 0d; do { printf "\\x$o"; cat "$f"; } > "$corpus/$(basename "$f")-$o"; done
    done
  else
    build-fuzz/fuzz_seeds "$corpus" "$oracle"/pcaps/*
  fi
fi
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
exec "build-fuzz/fuzz_$target" -artifact_prefix=fuzz/crashes/ -max_len=65536 -print_final_stats=1 "$@" "$corpus"
