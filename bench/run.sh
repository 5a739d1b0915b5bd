#!/usr/bin/env bash
# `make bench`: every benchmark beside its peer in one run. Builds the release binaries into
# build-bench, runs bench/serve.sh (hosting: download, upload, memory against nginx),
# bench/small.sh (1 KiB request rate with wrk against nginx), bench/idle.sh (memory per idle
# keep-alive connection against nginx), bench/crypto.sh (RFC 8188 records against openssl
# speed), bench/paid.sh (the paid-download flow against the free one), bench/concurrency.sh
# (download throughput against 1-256 connections, with its gnuplot chart), bench/ledger.sh and
# bench/s3.sh (the S3 blob store on Ceph RGW against curl talking to RGW directly),
# bench/scale.sh (paid and free flows/s, two instances behind haproxy against one), prints
# every table and writes all figures to bench/results/<UTC timestamp>.json.
#
# Usage: bench/run.sh [--smoke]
#   --smoke   tiny sizes and one run each (seconds, for `make test`: the harness cannot rot;
#             its figures mean nothing)
# Env: BENCH_TIMEOUT_S (3600) upper bound of each benchmark script; the variables of
#      bench/serve.sh (BENCH_SIZE_MIB, BENCH_RUNS, ...) pass through.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$BENCH_ROOT"

smoke=0
case "${1:-}" in
  "") ;;
  --smoke) smoke=1 ;;
  -h | --help)
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 0
    ;;
  *) bench_die "unknown argument: $1 (try --help)" ;;
esac
if ((smoke)); then
  export BENCH_SIZE_MIB=${BENCH_SIZE_MIB:-8} BENCH_MEM_SMALL_MIB=${BENCH_MEM_SMALL_MIB:-2}
  export BENCH_RUNS=${BENCH_RUNS:-1} BENCH_UPLOAD_RUNS=${BENCH_UPLOAD_RUNS:-1}
  export BENCH_MAX_TIME_S=${BENCH_MAX_TIME_S:-60}
  export BENCH_SMOKE=1
fi
limit_s=${BENCH_TIMEOUT_S:-$((smoke ? 600 : 3600))}

bench_require curl jq taskset timeout cmake ninja openssl
results=$BENCH_ROOT/bench/results
mkdir -p "$results"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
suffix=
if ((smoke)); then suffix=-smoke; fi
out_json=$results/$stamp$suffix.json
work=$(mktemp -d "${TMPDIR:-/tmp}/satload-bench-run.XXXXXX")
bench_on_exit "rm -rf '$work'"

# The benchmark running now: its `timeout` leads a process group of its own, so stopping it
# (SIGTERM forwarded to the whole group) stops every server the script started.
BENCH_CHILD=
bench_on_exit '[[ -n $BENCH_CHILD ]] && kill -TERM $BENCH_CHILD && wait $BENCH_CHILD'

# Runs one benchmark script with BENCH_JSON pointing into the work directory; records its
# status ("ok", "failed" or "timeout") in status_<name>; prints its tables when done.
run_bench() {
  local name=$1 status=0
  shift
  bench_log "== $name: $* (at most $limit_s s)"
  BENCH_JSON=$work/$name.json timeout -k 30 "$limit_s" "$@" >"$work/$name.txt" &
  BENCH_CHILD=$!
  wait "$BENCH_CHILD" || status=$?
  BENCH_CHILD=
  cat "$work/$name.txt"
  case $status in
    0) printf -v "status_$name" ok ;;
    124 | 137) printf -v "status_$name" timeout ;;
    *) printf -v "status_$name" failed ;;
  esac
  ((status == 0)) || bench_log "== $name ended with status $status"
}

bench_build_satload satload crypto_bench ledger_bench paid_load
export BENCH_NO_BUILD=1

run_bench serve bash bench/serve.sh
run_bench small bash bench/small.sh
run_bench idle bash bench/idle.sh
run_bench crypto bash bench/crypto.sh
run_bench paid bash bench/paid.sh
run_bench concurrency bash bench/concurrency.sh
ledger_present=0
if [[ -f bench/ledger.sh ]]; then
  ledger_present=1
  run_bench ledger bash bench/ledger.sh
fi
run_bench s3 bash bench/s3.sh
run_bench scale bash bench/scale.sh

# crypto.sh prints a table only: its rows become JSON here (MiB/s of satload and openssl,
# ratio), by their last three columns.
crypto_json=$(awk '
  /^(encrypt record|decrypt record|stream decrypt)/ {
    name = $1 "_" $2
    printf "{\"%s\": {\"satload_mib_per_s\": %s, \"openssl_mib_per_s\": %s, \"ratio\": %s}}\n",
           name, $(NF - 2), $(NF - 1), $NF
  }' "$work/crypto.txt" | jq -s 'add // {} | . + {target: 0.7}')

# A benchmark's JSON: what the script wrote, else its printed text; always its status.
bench_json() {
  local name=$1 status=$2 json=${3:-}
  if [[ -z $json && -s $work/$name.json ]] && jq -e . "$work/$name.json" >/dev/null 2>&1; then
    json=$(cat "$work/$name.json")
  fi
  [[ -n $json ]] || json='{}'
  jq -n --arg status "$status" --argjson figures "$json" --rawfile text "$work/$name.txt" \
    '{status: $status, figures: $figures, table: $text}'
}

benches=$(jq -n \
  --argjson serve "$(bench_json serve "$status_serve")" \
  --argjson small "$(bench_json small "$status_small")" \
  --argjson idle "$(bench_json idle "$status_idle")" \
  --argjson crypto "$(bench_json crypto "$status_crypto" "$crypto_json")" \
  --argjson paid "$(bench_json paid "$status_paid")" \
  --argjson concurrency "$(bench_json concurrency "$status_concurrency")" \
  --argjson s3 "$(bench_json s3 "$status_s3")" \
  --argjson scale "$(bench_json scale "$status_scale")" \
  '{serve: $serve, small: $small, idle: $idle, crypto: $crypto, paid: $paid, concurrency: $concurrency, s3: $s3, scale: $scale}')
if ((ledger_present)); then
  benches=$(jq --argjson ledger "$(bench_json ledger "$status_ledger")" '. + {ledger: $ledger}' <<<"$benches")
fi

commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
dirty=$([[ -n $(git status --porcelain --untracked-files=no 2>/dev/null) ]] && echo true || echo false)
jq -n --arg stamp "$stamp" --arg commit "$commit" --argjson dirty "$dirty" \
  --argjson smoke "$([[ $smoke == 1 ]] && echo true || echo false)" \
  --arg cpu "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)" \
  --argjson cores "$(nproc)" --arg kernel "$(uname -r)" \
  --arg openssl "$(openssl version)" --argjson benches "$benches" '{
    schema: 1, timestamp: $stamp, smoke: $smoke,
    git: {commit: $commit, dirty_tree: $dirty},
    host: {cpu: $cpu, cores: $cores, kernel: $kernel, openssl: $openssl},
    benchmarks: $benches
  }' >"$out_json"

# The targets of issues 2 and 7 in one place.
echo
echo "Targets ($stamp$( ((smoke)) && echo ', smoke run: figures meaningless'))"
jq -r '
  def r: if . == null then "n/a" else (. * 100 | round / 100 | tostring) end;
  def v(t): if . == null then "n/a" elif . >= t then "meets" else "MISSES" end;
  .benchmarks as $b |
  ($b.serve.figures.download.ratio) as $d | ($b.serve.figures.upload.ratio) as $u |
  ($b.crypto.figures.encrypt_record.ratio) as $e | ($b.crypto.figures.decrypt_record.ratio) as $x |
  ($b.small.figures.ratio) as $sm | ($b.idle.figures.ratio) as $id | ($b.paid.figures.ratio) as $pd |
  ($b.serve.figures.memory.peak_growth_download_kib) as $gd |
  ($b.s3.figures.download.ratio) as $s3d | ($b.s3.figures.upload.ratio) as $s3u |
  ($b.serve.figures.memory.peak_growth_upload_kib) as $gu |
  ($b.scale.figures.free_ratio) as $scf | ($b.scale.figures.paid_ratio) as $scp |
  "  download satload/nginx     \($d | r)   target >= 0.8   \($d | v(0.8))",
  "  upload satload/nginx       \($u | r)   target >= 0.8   \($u | v(0.8))",
  "  1 KiB req/s satload/nginx  \($sm | r)   target >= 0.5   \($sm | v(0.5))",
  "  idle memory satload/nginx  \($id | r)   target <= 2     \(if $id == null then "n/a" elif $id <= 2 then "meets" else "MISSES" end)",
  "  encrypt satload/openssl    \($e | r)   target >= 0.7   \($e | v(0.7))",
  "  decrypt satload/openssl    \($x | r)   target >= 0.7   \($x | v(0.7))",
  "  paid/free download flows   \($pd | r)   target >= 0.25  \($pd | v(0.25))",
  "  S3 download satload/curl   \($s3d | r)   target >= 0.8   \($s3d | v(0.8))",
  "  S3 upload satload/curl     \($s3u | r)   target >= 0.8   \($s3u | v(0.8))",
  "  two instances / one, flows  free \($scf | r), paid \($scp | r)   reported, no target (2-core contention)",
  "  memory peak growth, small to large file: upload \(($gu // 0) / 1024 | floor) MiB, download \(($gd // 0) / 1024 | floor) MiB",
  ($b | to_entries[] | select(.value.status != "ok") | "  \(.key): \(.value.status)")
' "$out_json"
echo "figures written to ${out_json#"$BENCH_ROOT"/}"

failed=0
for s in "$status_serve" "$status_small" "$status_idle" "$status_crypto" "$status_paid" "$status_concurrency" "${status_ledger:-ok}" "$status_s3" "$status_scale"; do [[ $s == ok ]] || failed=1; done
exit "$failed"
