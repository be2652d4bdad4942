#!/usr/bin/env bash
# Builds the libFuzzer harness (clang, ASan + UBSan) over the meter and runs it on a corpus seeded
# from the oracle captures. Crashes are written to fuzz/crashes/. Extra arguments go to libFuzzer:
#   npm run fuzz -- -max_total_time=60        npm run fuzz -- -runs=10000000
#   bash scripts/fuzz.sh --build-only          bash scripts/fuzz.sh --replay FILE...  (run inputs once)
# --build-only also builds build-fuzz/leakcheck (a whole read under LeakSanitizer).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang >/dev/null || { echo "fuzz: needs clang and libclang-rt-14-dev (bash deps/install.sh --fuzz)" >&2; exit 1; }
mkdir -p build-fuzz fuzz/corpus fuzz/crashes
sources=$(ls native/*.c | grep -v -E 'native/(addon|batch|compress|privileges|sockdiag|source|source_live|source_mmap|spread)\.c$')
flags=(-g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
if [ ! -x build-fuzz/fuzz_meter ] || [ -n "$(find native -name '*.[ch]' -newer build-fuzz/fuzz_meter)" ]; then
  clang "${flags[@]}" -o build-fuzz/fuzz_meter native/fuzz/fuzz_meter.c $sources -lndpi -lcrypto -lm
  cc -O1 -o build-fuzz/fuzz_seeds native/fuzz/seeds.c -lpcap
  clang -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=address,undefined -fno-omit-frame-pointer -o build-fuzz/leakcheck \
    native/fuzz/leakcheck.c native/source.c native/source_live.c native/source_mmap.c $sources -lndpi -lcrypto -lpcap -lm
fi
[ "${1:-}" = --build-only ] && exit 0
if [ "${1:-}" = --replay ]; then shift; exec build-fuzz/fuzz_meter -runs=1 "$@"; fi
oracle=../shared/oracle/nfstream/pcaps
if [ -z "$(ls -A fuzz/corpus)" ] && [ -d "$oracle" ]; then build-fuzz/fuzz_seeds fuzz/corpus "$oracle"/*; fi
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
exec build-fuzz/fuzz_meter -artifact_prefix=fuzz/crashes/ -max_len=65536 -print_final_stats=1 "$@" fuzz/corpus
