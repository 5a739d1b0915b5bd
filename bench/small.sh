#!/usr/bin/env bash
# Small-object request rate over loopback (issue 7): wrk with 256 keep-alive connections
# fetching a 1 KiB blob, satload's `GET /d/<id>` beside nginx serving the same 1 KiB file
# (sendfile on and off), alternated runs, medians and spread, ratio satload / nginx.
#
# Usage: bench/small.sh
# Env:   BENCH_SMALL_RUNS (5)          timed wrk runs per server, alternated
#        BENCH_SMALL_DURATION_S (10)   length of one wrk run
#        BENCH_SMALL_CONNECTIONS (256) wrk connections (one wrk thread: the client has one core)
#        BENCH_SMALL_BYTES (1024)      size of the object
#        BENCH_SERVER_CORE (0), BENCH_CLIENT_CORE (1)   taskset pinning
#        BENCH_TMP, BENCH_JSON, BENCH_NO_BUILD=1, BENCH_KEEP=1, BENCH_SMOKE=1: as in serve.sh
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

if [[ ${BENCH_SMOKE:-0} == 1 ]]; then
  runs=${BENCH_SMALL_RUNS:-1} duration_s=${BENCH_SMALL_DURATION_S:-1}
  conns=${BENCH_SMALL_CONNECTIONS:-16}
else
  runs=${BENCH_SMALL_RUNS:-5} duration_s=${BENCH_SMALL_DURATION_S:-10}
  conns=${BENCH_SMALL_CONNECTIONS:-256}
fi
object_bytes=${BENCH_SMALL_BYTES:-1024}
server_core=${BENCH_SERVER_CORE:-0}
client_core=${BENCH_CLIENT_CORE:-1}
# Target of issue 7: satload's request rate at least half of nginx's.
target=0.5

bench_require wrk curl jq taskset awk nginx
[[ ${BENCH_NO_BUILD:-0} == 1 ]] || bench_build_satload
satload=$BENCH_BUILD/satload
[[ -x $satload ]] || bench_die "$satload is missing"

tmp=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/satload-bench-small.XXXXXX")
if [[ ${BENCH_KEEP:-0} == 1 ]]; then bench_log "keeping $tmp"; else bench_on_exit "rm -rf '$tmp'"; fi
mkdir -p "$tmp/www"
chmod 755 "$tmp" "$tmp/www"
head -c "$object_bytes" /dev/urandom >"$tmp/www/small.bin"

# nginx: one worker on the server core, Debian's stock settings (sendfile on, tcp_nopush on)
# on one port and sendfile off on another; the peer is the faster of the two.
port_on=$(bench_free_port)
port_off=$(bench_free_port)
while [[ $port_off == "$port_on" ]]; do port_off=$(bench_free_port); done
bench_nginx_conf "$tmp" \
  "server { listen 127.0.0.1:$port_on; root $tmp/www; sendfile on; tcp_nopush on; }" \
  "server { listen 127.0.0.1:$port_off; root $tmp/www; sendfile off; }"
bench_start_nginx "$tmp/nginx.conf" "$server_core" "$port_on" "$port_off"
bench_start_satload "$satload" "$tmp/satload-data" "$tmp/satload.log" "$server_core"
file_id=$(bench_tus_put_small "$BENCH_SATLOAD_URL" "$tmp/www/small.bin")
bench_log "satload on $BENCH_SATLOAD_URL (pid $BENCH_SATLOAD_PID), nginx pid $BENCH_NGINX_PID, object $file_id"

declare -A url=(
  [satload]=$BENCH_SATLOAD_URL/d/$file_id
  [nginx_on]=http://127.0.0.1:$port_on/small.bin
  [nginx_off]=http://127.0.0.1:$port_off/small.bin
)
servers=(satload nginx_on nginx_off)

# Every server must hand back the object's exact bytes before it is timed.
want=$(sha256sum <"$tmp/www/small.bin" | cut -d' ' -f1)
for s in "${servers[@]}"; do
  got=$(curl -s --max-time 10 "${url[$s]}" | sha256sum | cut -d' ' -f1)
  [[ $got == "$want" ]] || bench_die "$s returned other bytes than the object at ${url[$s]}"
done

# One wrk run: prints requests/s; fails on socket errors or any answer other than 2xx/3xx
# (a server refusing under load must not look fast).
wrk_rate() {
  local name=$1 d=$2 out rps
  out=$(timeout -k 5 $((d + 30)) taskset -c "$client_core" \
    wrk -t1 -c"$conns" -d"${d}s" --timeout 10s "${url[$name]}") ||
    bench_die "wrk against $name failed: $out"
  echo "$out" >>"$tmp/wrk-$name.log"
  if grep -q -e 'Non-2xx or 3xx responses' -e 'Socket errors' <<<"$out"; then
    bench_die "wrk against $name saw errors: $(grep -e 'Non-2xx' -e 'Socket errors' <<<"$out")"
  fi
  rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
  [[ -n $rps ]] || bench_die "no Requests/sec in wrk's output: $out"
  echo "$rps"
}

bench_log "warm-up (1 s each) ..."
for s in "${servers[@]}"; do wrk_rate "$s" 1 >/dev/null; done
for s in "${servers[@]}"; do : >"$tmp/$s.rates"; done
for ((r = 1; r <= runs; r++)); do
  bench_log "run $r/$runs: $conns connections, $duration_s s per server ..."
  for s in "${servers[@]}"; do wrk_rate "$s" "$duration_s" >>"$tmp/$s.rates"; done
done
# satload must still be the process we started (no crash and restart under load).
kill -0 "$BENCH_SATLOAD_PID" 2>/dev/null || bench_die "satload died during the benchmark"

declare -A med lo hi spread n
for s in "${servers[@]}"; do
  read -r "med[$s]" "lo[$s]" "hi[$s]" "spread[$s]" "n[$s]" < <(bench_stats <"$tmp/$s.rates")
done
peer=$(awk -v a="${med[nginx_on]}" -v b="${med[nginx_off]}" 'BEGIN { print (a >= b) ? "nginx_on" : "nginx_off" }')
ratio=$(awk -v a="${med[satload]}" -v b="${med[$peer]}" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "null" }')
verdict=$(awk -v r="$ratio" -v t="$target" 'BEGIN { if (r == "null") print "n/a"; else print (r >= t) ? "meets" : "MISSES" }')

declare -A label=([satload]="satload GET /d/<id>" [nginx_on]="nginx, sendfile on" [nginx_off]="nginx, sendfile off")
echo
echo "Small objects: $object_bytes-byte GET over loopback, wrk 1 thread, $conns connections, $duration_s s runs (requests/s; server on core $server_core, wrk on core $client_core; alternated)"
printf "  %-24s %9s %9s %9s %8s %4s\n" server median min max spread runs
for s in "${servers[@]}"; do
  awk -v l="${label[$s]}" -v m="${med[$s]}" -v a="${lo[$s]}" -v b="${hi[$s]}" -v sp="${spread[$s]}" -v k="${n[$s]}" \
    'BEGIN { printf "  %-24s %9.0f %9.0f %9.0f %7.0f%% %4d\n", l, m, a, b, sp * 100, k }'
done
echo "  ratio satload / nginx (sendfile ${peer#nginx_}, the faster): $ratio  (target >= $target: $verdict)"

if [[ -n ${BENCH_JSON:-} ]]; then
  stats() { jq -n --argjson m "${med[$1]}" --argjson lo "${lo[$1]}" --argjson hi "${hi[$1]}" \
    --argjson sp "${spread[$1]}" --argjson k "${n[$1]}" --slurpfile all "$tmp/$1.rates" \
    '{median_requests_per_s: $m, min_requests_per_s: $lo, max_requests_per_s: $hi, spread: $sp, runs: $k, all_requests_per_s: $all}'; }
  jq -n --argjson bytes "$object_bytes" --argjson conns "$conns" --argjson d "$duration_s" \
    --arg nginx "$(nginx -v 2>&1 | sed 's/.*: //')" --arg wrk "$(wrk -v 2>&1 | head -1)" \
    --argjson sc "$server_core" --argjson cc "$client_core" \
    --argjson s "$(stats satload)" --argjson on "$(stats nginx_on)" --argjson off "$(stats nginx_off)" \
    --arg peer "$peer" --argjson ratio "$ratio" --argjson target "$target" '{
      object_bytes: $bytes, connections: $conns, run_seconds: $d, server_core: $sc, client_core: $cc,
      nginx_version: $nginx, wrk_version: $wrk,
      satload: $s, nginx_sendfile_on: $on, nginx_sendfile_off: $off,
      peer: ("nginx_sendfile_" + ($peer | ltrimstr("nginx_"))), ratio: $ratio, target: $target
    }' >"$BENCH_JSON"
fi
