#!/usr/bin/env bash
# Paid-download rate (issue 7): the whole paid flow of a 1 KiB priced file — the 402 challenge,
# POST /api/v1/pay (a ledger payment, durable before it is answered) and the download with the
# L402 credential — beside the same client's free download of a 1 KiB file, in one run,
# alternated, medians; ratio paid / free (target >= 0.25). node (bench/paid_client.mjs
# --setup-only) sets up the payers and files, untimed; the timed client is bench/paid_load.cpp,
# a compiled Beast client (one thread, keep-alive connections) on its own core: node's fetch
# was the limit, at 100% of its core while the server was ~25% busy in the paid runs.
#
# Usage: bench/paid.sh
# Env:   BENCH_PAID_RUNS (3), BENCH_PAID_DURATION_S (5), BENCH_PAID_CONCURRENCY (32),
#        BENCH_PAID_PAYERS (200), BENCH_PAID_FILES (500)   (payers x files >= paid flows run)
#        BENCH_SERVER_CORE (0), BENCH_CLIENT_CORE (1), BENCH_TMP, BENCH_JSON, BENCH_NO_BUILD=1,
#        BENCH_KEEP=1, BENCH_SMOKE=1: as in serve.sh
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

if [[ ${BENCH_SMOKE:-0} == 1 ]]; then
  export BENCH_PAID_RUNS=${BENCH_PAID_RUNS:-1} BENCH_PAID_DURATION_S=${BENCH_PAID_DURATION_S:-1}
  export BENCH_PAID_PAYERS=${BENCH_PAID_PAYERS:-20} BENCH_PAID_FILES=${BENCH_PAID_FILES:-1000}
fi
server_core=${BENCH_SERVER_CORE:-0}
client_core=${BENCH_CLIENT_CORE:-1}
target=0.25

bench_require node jq taskset
[[ ${BENCH_NO_BUILD:-0} == 1 ]] || bench_build_satload satload paid_load
satload=$BENCH_BUILD/satload
paid_load=$BENCH_BUILD/bench/paid_load
[[ -x $satload ]] || bench_die "$satload is missing"
[[ -x $paid_load ]] || bench_die "$paid_load is missing (build the paid_load target)"
tmp=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/satload-bench-paid.XXXXXX")
if [[ ${BENCH_KEEP:-0} == 1 ]]; then bench_log "keeping $tmp"; else bench_on_exit "rm -rf '$tmp'"; fi

bench_start_satload "$satload" "$tmp/data" "$tmp/satload.log" "$server_core"
bench_log "satload on $BENCH_SATLOAD_URL; setting up payers and files ..."
taskset -c "$client_core" node "$BENCH_ROOT/bench/paid_client.mjs" "$BENCH_SATLOAD_URL" "$tmp/data" \
  --setup-only "$tmp/setup.json" || bench_die "setting up payers and files failed"
bench_log "timed runs ..."
out=$(taskset -c "$client_core" "$paid_load" "$tmp/setup.json") || bench_die "the paid-download client failed: $out"
kill -0 "$BENCH_SATLOAD_PID" 2>/dev/null || bench_die "satload died during the benchmark"

# A run that ran out of unused (payer, file) pairs measured less than its duration: say so
# instead of reporting it.
[[ $(jq -r .pairs_exhausted <<<"$out") == false ]] ||
  bench_die "the paid runs used up all $(jq -r .paid_flows <<<"$out") (payer, file) pairs: raise BENCH_PAID_PAYERS or BENCH_PAID_FILES"
read -r free_med free_lo free_hi _ free_n < <(jq -r '.runs.free[]' <<<"$out" | bench_stats)
read -r paid_med paid_lo paid_hi _ paid_n < <(jq -r '.runs.paid[]' <<<"$out" | bench_stats)
ratio=$(awk -v a="$paid_med" -v b="$free_med" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "null" }')
verdict=$(awk -v r="$ratio" -v t="$target" 'BEGIN { if (r == "null") print "n/a"; else print (r >= t) ? "meets" : "MISSES" }')
conc=$(jq -r .concurrency <<<"$out")
echo
echo "Paid downloads: 1 KiB file, $conc concurrent clients (flows/s; satload on core $server_core, compiled client on core $client_core; alternated)"
printf "  %-46s %9s %9s %9s %4s\n" flow median min max runs
printf "  %-46s %9.0f %9.0f %9.0f %4d\n" "free: GET /d/<id>" "$free_med" "$free_lo" "$free_hi" "$free_n"
printf "  %-46s %9.0f %9.0f %9.0f %4d\n" "paid: 402 + POST /api/v1/pay + GET with L402" "$paid_med" "$paid_lo" "$paid_hi" "$paid_n"
echo "  ratio paid / free: $ratio  (target >= $target: $verdict)"
if [[ -n ${BENCH_JSON:-} ]]; then
  jq --argjson ratio "$ratio" --argjson target "$target" --argjson fm "$free_med" --argjson pm "$paid_med" \
    '. + {free_median_flows_per_s: $fm, paid_median_flows_per_s: $pm, ratio: $ratio, target: $target}' \
    <<<"$out" >"$BENCH_JSON"
fi
