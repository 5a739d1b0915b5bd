#!/usr/bin/env bash
# Scale-out (issue 9): paid and free download flows per second with two `satload serve`
# instances on one PostgreSQL schema and one S3 bucket behind haproxy, against one instance on
# the same kind of stores; ratio two / one. Reported, no target: on this 2-core machine both
# instances share the cores with haproxy, PostgreSQL, Ceph and the load tool, so the figure
# measures contention, not scaling.
#
# Usage: bench/scale.sh
# Env:   BENCH_PAID_RUNS (3), BENCH_PAID_DURATION_S (5), BENCH_PAID_CONCURRENCY (32),
#        BENCH_PAID_PAYERS (200), BENCH_PAID_FILES (100)   as in bench/paid.sh (payers x files
#        >= paid flows of a setup)
#        BENCH_TMP, BENCH_JSON, BENCH_NO_BUILD=1, BENCH_KEEP=1, BENCH_SMOKE=1: as in serve.sh
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

if [[ ${BENCH_SMOKE:-0} == 1 ]]; then
  export BENCH_PAID_RUNS=${BENCH_PAID_RUNS:-1} BENCH_PAID_DURATION_S=${BENCH_PAID_DURATION_S:-1}
  export BENCH_PAID_PAYERS=${BENCH_PAID_PAYERS:-20} BENCH_PAID_FILES=${BENCH_PAID_FILES:-100}
fi
# Fewer files than paid.sh's 500: every upload goes through PostgreSQL and RGW here.
export BENCH_PAID_FILES=${BENCH_PAID_FILES:-100}
# Nothing is pinned: with two instances, haproxy, PostgreSQL and Ceph there is no core to give
# each; both setups run under the same rule.
all_cores=0-$(($(nproc) - 1))

bench_require node jq taskset haproxy curl ss
[[ ${BENCH_NO_BUILD:-0} == 1 ]] || bench_build_satload
satload=$BENCH_BUILD/satload
[[ -x $satload ]] || bench_die "$satload is missing"
tmp=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/satload-bench-scale.XXXXXX")
if [[ ${BENCH_KEEP:-0} == 1 ]]; then bench_log "keeping $tmp"; else bench_on_exit "rm -rf '$tmp'"; fi
# PostgreSQL runs as the `postgres` user when we are root: it must reach its directory.
chmod 755 "$tmp"

# ---------------------------------------------------------------------------------------------
# The stores: a throwaway PostgreSQL (scripts/pg.sh) and Ceph RGW (scripts/ceph.sh), stopped
# on exit. Each setup gets a schema and a bucket of its own, which satload creates.

bench_log "starting PostgreSQL ..."
bench_on_exit "'$BENCH_ROOT/scripts/pg.sh' stop '$tmp/pg'"
pg_url=$("$BENCH_ROOT/scripts/pg.sh" start "$tmp/pg") || bench_die "PostgreSQL did not start"
bench_start_ceph "$tmp/ceph"
s3_query=${SATLOAD_S3_URL#*\?}
tag=$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')
db_for() { echo "$pg_url?schema=bench_$1_$tag"; }
blobs_for() { echo "s3://bench-$1-$tag?$s3_query"; }

# Runs bench/paid_client.mjs against URL with the admin key of DATA; prints its JSON.
run_client() {
  local url=$1 data=$2 out
  out=$(node "$BENCH_ROOT/bench/paid_client.mjs" "$url" "$data") ||
    bench_die "the paid-download client failed against $url: $out"
  [[ $(jq -r .pairs_exhausted <<<"$out") == false ]] ||
    bench_die "the paid runs used up all $(jq -r .paid_flows <<<"$out") (payer, file) pairs: raise BENCH_PAID_PAYERS or BENCH_PAID_FILES"
  echo "$out"
}

# ---------------------------------------------------------------------------------------------
# (1) One instance.

bench_start_satload "$satload" "$tmp/one" "$tmp/one.log" "$all_cores" --db "$(db_for one)" --blobs "$(blobs_for one)"
one_pid=$BENCH_SATLOAD_PID
bench_log "one instance on $BENCH_SATLOAD_URL; setting up payers and files, then the runs ..."
one=$(run_client "$BENCH_SATLOAD_URL" "$tmp/one")
kill -0 "$one_pid" 2>/dev/null || bench_die "satload died during the one-instance runs"
bench_stop_pid "$one_pid"

# ---------------------------------------------------------------------------------------------
# (2) Two instances on a fresh schema and bucket, separate data directories, behind haproxy:
# round robin per request, the client address in X-Forwarded-For (--trust-proxy).

two_args=(--db "$(db_for two)" --blobs "$(blobs_for two)" --trust-proxy)
bench_start_satload "$satload" "$tmp/a" "$tmp/a.log" "$all_cores" "${two_args[@]}"
a_pid=$BENCH_SATLOAD_PID a_url=$BENCH_SATLOAD_URL
bench_start_satload "$satload" "$tmp/b" "$tmp/b.log" "$all_cores" "${two_args[@]}"
b_pid=$BENCH_SATLOAD_PID b_url=$BENCH_SATLOAD_URL
proxy_port=$(bench_free_port)
stats_port=$(bench_free_port)
while [[ $stats_port == "$proxy_port" ]]; do stats_port=$(bench_free_port); done
cat >"$tmp/haproxy.cfg" <<EOF
# satload bench: two instances behind one loopback frontend.
global
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 120s
  timeout server 120s
  option forwardfor
  option http-server-close
frontend satload
  bind 127.0.0.1:$proxy_port
  default_backend instances
backend instances
  balance roundrobin
  server a ${a_url#http://}
  server b ${b_url#http://}
frontend stats
  bind 127.0.0.1:$stats_port
  stats enable
  stats uri /stats
EOF
haproxy -c -q -f "$tmp/haproxy.cfg" >&2 || bench_die "haproxy refused its configuration"
haproxy -db -f "$tmp/haproxy.cfg" 2>"$tmp/haproxy.log" &
proxy_pid=$!
bench_on_exit "bench_stop_pid $proxy_pid"
bench_wait_port "$proxy_port" || { cat "$tmp/haproxy.log" >&2; bench_die "haproxy did not start"; }
proxy_url=http://127.0.0.1:$proxy_port
bench_log "two instances ($a_url, $b_url) behind haproxy on $proxy_url; setting up, then the runs ..."
two=$(run_client "$proxy_url" "$tmp/a")
for pid in "$a_pid" "$b_pid" "$proxy_pid"; do
  kill -0 "$pid" 2>/dev/null || bench_die "a server (pid $pid) died during the two-instance runs"
done
# Both instances must have carried the load (a proxy sending everything to one would measure
# one): haproxy's sessions per server (stats CSV column 8, stot; one per request under
# http-server-close).
served=$(curl -s --max-time 10 "http://127.0.0.1:$stats_port/stats;csv" |
  awk -F, '$1 == "instances" && ($2 == "a" || $2 == "b") { print $2 "=" $8 }' | paste -sd' ')
bench_log "requests per instance through haproxy: $served"
for server in a b; do
  n=$(sed -n "s/.*\b$server=\([0-9]*\).*/\1/p" <<<"$served")
  ((${n:-0} > 100)) || bench_die "instance $server served ${n:-no} requests through haproxy (stats: $served)"
done

# ---------------------------------------------------------------------------------------------
# Report.

median() { jq -r ".runs.$2[]" <<<"$1" | bench_stats; }
read -r one_free one_free_lo one_free_hi _ runs_n < <(median "$one" free)
read -r one_paid one_paid_lo one_paid_hi _ _ < <(median "$one" paid)
read -r two_free two_free_lo two_free_hi _ _ < <(median "$two" free)
read -r two_paid two_paid_lo two_paid_hi _ _ < <(median "$two" paid)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "null" }'; }
free_ratio=$(ratio "$two_free" "$one_free")
paid_ratio=$(ratio "$two_paid" "$one_paid")
conc=$(jq -r .concurrency <<<"$one")
echo
echo "Scale-out: 1 KiB files on PostgreSQL + Ceph RGW, $conc concurrent node clients (flows/s; alternated free/paid runs, medians)"
echo "  Measures contention, not scaling: $(nproc) cores shared by the instances, haproxy, PostgreSQL, Ceph and the client;"
echo "  one instance is reached directly, two through haproxy (the proxy's hop is in the two-instance rows)."
printf "  %-34s %9s %9s %9s %4s\n" setup median min max runs
printf "  %-34s %9.0f %9.0f %9.0f %4d\n" "free, one instance" "$one_free" "$one_free_lo" "$one_free_hi" "$runs_n"
printf "  %-34s %9.0f %9.0f %9.0f %4d\n" "free, two instances + haproxy" "$two_free" "$two_free_lo" "$two_free_hi" "$runs_n"
printf "  %-34s %9.0f %9.0f %9.0f %4d\n" "paid, one instance" "$one_paid" "$one_paid_lo" "$one_paid_hi" "$runs_n"
printf "  %-34s %9.0f %9.0f %9.0f %4d\n" "paid, two instances + haproxy" "$two_paid" "$two_paid_lo" "$two_paid_hi" "$runs_n"
echo "  ratio two / one: free $free_ratio, paid $paid_ratio  (reported, no target)"
if [[ -n ${BENCH_JSON:-} ]]; then
  jq -n --argjson one "$one" --argjson two "$two" --argjson cores "$(nproc)" \
    --argjson of "$one_free" --argjson op "$one_paid" --argjson tf "$two_free" --argjson tp "$two_paid" \
    --argjson fr "$free_ratio" --argjson pr "$paid_ratio" --arg haproxy "$(haproxy -v | head -1)" --arg served "$served" '{
      note: "measures contention on a \($cores)-core machine shared by the instances, haproxy, PostgreSQL, Ceph and the client; no target",
      cores: $cores, haproxy: $haproxy, two_requests_per_instance: $served,
      one: ($one + {free_median_flows_per_s: $of, paid_median_flows_per_s: $op}),
      two: ($two + {free_median_flows_per_s: $tf, paid_median_flows_per_s: $tp}),
      free_ratio: $fr, paid_ratio: $pr, ratio: $pr
    }' >"$BENCH_JSON"
fi
