#!/usr/bin/env bash
# Crypto throughput: satload's RFC 8188 64 KiB records against `openssl speed` AES-128-GCM on
# the same core, in the same run. Builds release into build-bench (its own directory).
# Usage: bench/crypto.sh   (env: SATLOAD_BENCH_CORE, default 0; SATLOAD_BENCH_JOBS, default 2;
#        BENCH_BUILD, BENCH_NO_BUILD=1 as in lib.sh; BENCH_SMOKE=1: a fraction of a second each)
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$BENCH_ROOT"

build=$BENCH_BUILD
core=${SATLOAD_BENCH_CORE:-0}
min_time_s=2
openssl_s=3
if [[ ${BENCH_SMOKE:-0} == 1 ]]; then
  min_time_s=0.05
  openssl_s=1
fi

bench_build_satload crypto_bench

echo "running crypto_bench on core $core ..." >&2
bench_csv=$(taskset -c "$core" "$build/bench/crypto_bench" --benchmark_format=csv \
  --benchmark_min_time="$min_time_s" 2>/dev/null)

# bytes/s of one benchmark, by its name, from Google Benchmark's CSV.
bench_rate() {
  awk -F, -v name="$1" '
    NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    $1 == name || $1 == "\"" name "\"" { print $col["bytes_per_second"]; found = 1 }
    END { if (!found) exit 1 }' <<<"$bench_csv"
}

# bytes/s of `openssl speed` at 65536-byte blocks (it prints 1000s of bytes per second).
openssl_rate() {
  taskset -c "$core" openssl speed "$@" -evp aes-128-gcm -bytes 65536 -seconds "$openssl_s" 2>/dev/null |
    awk '/^AES-128-GCM/ { v = $NF; sub(/k$/, "", v); printf "%.0f\n", v * 1000 }'
}

echo "running openssl speed on core $core ..." >&2
ossl_enc=$(openssl_rate)
ossl_dec=$(openssl_rate -decrypt)
enc=$(bench_rate BM_EncryptRecord64KiB)
dec=$(bench_rate BM_DecryptRecord64KiB)
stream=$(bench_rate BM_StreamDecrypt16MiB)
[[ -n $ossl_enc && -n $ossl_dec && -n $enc && -n $dec && -n $stream ]] || {
  echo "crypto.sh: could not read a figure" >&2
  exit 1
}

awk -v enc="$enc" -v dec="$dec" -v stream="$stream" -v oenc="$ossl_enc" -v odec="$ossl_dec" \
    -v ver="$(openssl version | cut -d' ' -f1-2)" 'BEGIN {
  mib = 1048576
  printf "AES-128-GCM, 64 KiB records, one core (%s)\n", ver
  printf "%-28s %14s %14s %8s\n", "operation", "satload MiB/s", "openssl MiB/s", "ratio"
  printf "%-28s %14.0f %14.0f %8.2f\n", "encrypt record", enc / mib, oenc / mib, enc / oenc
  printf "%-28s %14.0f %14.0f %8.2f\n", "decrypt record", dec / mib, odec / mib, dec / odec
  printf "%-28s %14.0f %14.0f %8.2f\n", "stream decrypt (16 MiB body)", stream / mib, odec / mib,
         stream / odec
}'
