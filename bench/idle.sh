#!/usr/bin/env bash
# Idle keep-alive connections (issue 7): 10,000 connections on loopback, each after one GET of
# a 1 KiB object, held open; the server's memory (VmRSS) before and after, per connection,
# satload beside nginx (same object, same client), a fresh server per run, runs alternated.
#
# Usage: bench/idle.sh
# Env:   BENCH_IDLE_CONNECTIONS (10000)  connections held open
#        BENCH_IDLE_RUNS (3)             runs per server, alternated
#        BENCH_SERVER_CORE (0), BENCH_CLIENT_CORE (1)   taskset pinning
#        BENCH_TMP, BENCH_JSON, BENCH_NO_BUILD=1, BENCH_KEEP=1, BENCH_SMOKE=1: as in serve.sh
# The file-descriptor limit is raised to connections + 1024 (needs that hard limit). The
# measurement happens well within satload's idle timeout (120 s) and nginx's keepalive_timeout
# (set to 120 s here too); a run fails if a server closed any connection before it was measured.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

if [[ ${BENCH_SMOKE:-0} == 1 ]]; then
  count=${BENCH_IDLE_CONNECTIONS:-200} runs=${BENCH_IDLE_RUNS:-1}
else
  count=${BENCH_IDLE_CONNECTIONS:-10000} runs=${BENCH_IDLE_RUNS:-3}
fi
server_core=${BENCH_SERVER_CORE:-0}
client_core=${BENCH_CLIENT_CORE:-1}
object_bytes=1024
# The clients hold their connections at most this long; the memory is read within it, and it
# stays below both servers' idle timeouts (120 s).
hold_s=90
# Time allowed for every connection to be open and answered before the run fails.
open_limit_s=60
# Memory settles (allocator, lazily touched pages) for this long before it is read.
settle_s=1
# Target of issue 7: satload's memory per idle connection at most twice nginx's.
target=2

bench_require python3 curl jq taskset awk nginx ss
fd_want=$((count + 1024))
if (($(ulimit -n) < fd_want)); then
  ulimit -n "$fd_want" 2>/dev/null ||
    bench_die "cannot raise the open-file limit to $fd_want (hard limit $(ulimit -Hn)); lower BENCH_IDLE_CONNECTIONS"
fi
[[ ${BENCH_NO_BUILD:-0} == 1 ]] || bench_build_satload
satload=$BENCH_BUILD/satload
[[ -x $satload ]] || bench_die "$satload is missing"
clients=$BENCH_ROOT/bench/idle_clients.py

tmp=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/satload-bench-idle.XXXXXX")
if [[ ${BENCH_KEEP:-0} == 1 ]]; then bench_log "keeping $tmp"; else bench_on_exit "rm -rf '$tmp'"; fi
mkdir -p "$tmp/www"
chmod 755 "$tmp" "$tmp/www"
head -c "$object_bytes" /dev/urandom >"$tmp/www/small.bin"
user_line=
[[ $(id -u) -eq 0 ]] && user_line="user $(id -un) $(id -gn);"

# nginx closes idle keep-alive connections once fewer than 1/16 of worker_connections are
# free, so it gets twice the count (its connection table is allocated at start: in "before";
# more connections than open files only draws a warning, and it never opens that many).
# Starts a fresh server of KIND (satload or nginx); sets srv_pid (the process whose memory
# counts: satload, or nginx's one worker), srv_stop (what to stop), srv_port and srv_path.
satload_id=
start_server() {
  case $1 in
    satload)
      # The same data directory every run: the object is uploaded once.
      bench_start_satload "$satload" "$tmp/satload-data" "$tmp/satload.log" "$server_core"
      [[ -n $satload_id ]] || satload_id=$(bench_tus_put_small "$BENCH_SATLOAD_URL" "$tmp/www/small.bin")
      srv_pid=$BENCH_SATLOAD_PID srv_stop=$BENCH_SATLOAD_PID
      srv_port=${BENCH_SATLOAD_URL##*:} srv_path=/d/$satload_id
      ;;
    nginx)
      srv_port=$(bench_free_port) srv_path=/small.bin
      cat >"$tmp/nginx.conf" <<CONF
# satload idle-connection bench: loopback only, no logs, one worker on the server core.
$user_line
worker_processes 1;
worker_rlimit_nofile $fd_want;
daemon off;
master_process on;
pid $tmp/nginx.pid;
error_log $tmp/nginx-error.log warn;
events { worker_connections $((count * 2 + 512)); }
http {
  access_log off;
  default_type application/octet-stream;
  keepalive_timeout 120s;
  server { listen 127.0.0.1:$srv_port; root $tmp/www; }
}
CONF
      bench_start_nginx "$tmp/nginx.conf" "$server_core" "$srv_port"
      srv_stop=$BENCH_NGINX_PID
      srv_pid=$(bench_nginx_worker "$BENCH_NGINX_PID")
      [[ -n $srv_pid ]] || bench_die "no nginx worker under $BENCH_NGINX_PID"
      ;;
  esac
}

# One run against KIND: appends "before_kib after_kib open_s" to $tmp/KIND.runs.
idle_run() {
  local kind=$1 before after ready=$tmp/ready client_pid i got opened_s kept established
  start_server "$kind"
  # One request first, so that the baseline holds whatever the first request allocates.
  [[ $(curl -s --max-time 10 "http://127.0.0.1:$srv_port$srv_path" | wc -c) == "$object_bytes" ]] ||
    bench_die "$kind did not serve the $object_bytes-byte object"
  sleep "$settle_s"
  before=$(bench_rss_kib "$srv_pid")
  rm -f "$ready"
  taskset -c "$client_core" python3 "$clients" "$srv_port" "$srv_path" "$count" "$ready" "$hold_s" \
    >"$tmp/clients.out" 2>"$tmp/clients.err" &
  client_pid=$!
  bench_on_exit "bench_stop_pid $client_pid"
  for ((i = 0; i < open_limit_s * 10; i++)); do
    [[ -s $ready ]] && break
    kill -0 "$client_pid" 2>/dev/null || { cat "$tmp/clients.err" >&2; bench_die "the idle clients failed against $kind"; }
    sleep 0.1
  done
  [[ -s $ready ]] || bench_die "$count connections to $kind were not all answered within $open_limit_s s"
  read -r got opened_s <"$ready"
  ((got == count)) || bench_die "only $got of $count connections opened to $kind"
  sleep "$settle_s"
  after=$(bench_rss_kib "$srv_pid")
  established=$(ss -Htn state established "( sport = :$srv_port )" | wc -l)
  bench_stop_pid "$client_pid"
  kept=$(cat "$tmp/clients.out")
  [[ $kept == "$count" ]] || bench_die "$kind closed idle connections: $kept of $count still open after the reading"
  ((established >= count)) || bench_die "$kind: only $established established connections at the reading"
  bench_stop_pid "$srv_stop"
  bench_log "  $kind: RSS $before -> $after KiB with $count idle connections (opened in $opened_s s)"
  echo "$before $after $opened_s" >>"$tmp/$kind.runs"
}

kinds=(satload nginx)
for k in "${kinds[@]}"; do : >"$tmp/$k.runs"; done
for ((r = 1; r <= runs; r++)); do
  bench_log "run $r/$runs: $count idle connections to each server ..."
  for k in "${kinds[@]}"; do idle_run "$k"; done
done

# Per-connection bytes of each run, then the statistics of each server.
declare -A med lo hi spread n before_med after_med
for k in "${kinds[@]}"; do
  awk -v c="$count" '{ printf "%.1f\n", ($2 - $1) * 1024 / c }' "$tmp/$k.runs" >"$tmp/$k.per_conn"
  read -r "med[$k]" "lo[$k]" "hi[$k]" "spread[$k]" "n[$k]" < <(bench_stats <"$tmp/$k.per_conn")
  read -r "before_med[$k]" _ < <(awk '{ print $1 }' "$tmp/$k.runs" | bench_stats)
  read -r "after_med[$k]" _ < <(awk '{ print $2 }' "$tmp/$k.runs" | bench_stats)
done
ratio=$(awk -v a="${med[satload]}" -v b="${med[nginx]}" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "null" }')
verdict=$(awk -v r="$ratio" -v t="$target" 'BEGIN { if (r == "null") print "n/a"; else print (r <= t) ? "meets" : "MISSES" }')

echo
echo "Idle keep-alive connections: $count on loopback, one $object_bytes-byte GET each, then held (server VmRSS; fresh server per run; server on core $server_core, clients on core $client_core; alternated)"
printf "  %-10s %11s %11s %12s %9s %9s %8s %4s\n" server "before MiB" "after MiB" "B/conn med" min max spread runs
for k in "${kinds[@]}"; do
  awk -v l="$k" -v b="${before_med[$k]}" -v a="${after_med[$k]}" -v m="${med[$k]}" -v x="${lo[$k]}" \
    -v y="${hi[$k]}" -v sp="${spread[$k]}" -v c="${n[$k]}" \
    'BEGIN { printf "  %-10s %11.1f %11.1f %12.0f %9.0f %9.0f %7.0f%% %4d\n", l, b / 1024, a / 1024, m, x, y, sp * 100, c }'
done
echo "  ratio satload / nginx per connection: $ratio  (target <= $target: $verdict; nginx: one worker, default buffers)"

if [[ -n ${BENCH_JSON:-} ]]; then
  stats() { jq -n --argjson m "${med[$1]}" --argjson lo "${lo[$1]}" --argjson hi "${hi[$1]}" \
    --argjson sp "${spread[$1]}" --argjson k "${n[$1]}" --slurpfile all "$tmp/$1.per_conn" \
    --argjson b "${before_med[$1]}" --argjson a "${after_med[$1]}" \
    '{median_bytes_per_connection: $m, min_bytes_per_connection: $lo, max_bytes_per_connection: $hi,
      spread: $sp, runs: $k, all_bytes_per_connection: $all, median_rss_before_kib: $b, median_rss_after_kib: $a}'; }
  jq -n --argjson count "$count" --argjson sc "$server_core" --argjson cc "$client_core" \
    --arg nginx "$(nginx -v 2>&1 | sed 's/.*: //')" \
    --argjson s "$(stats satload)" --argjson ng "$(stats nginx)" \
    --argjson ratio "$ratio" --argjson target "$target" '{
      connections: $count, server_core: $sc, client_core: $cc, nginx_version: $nginx,
      satload: $s, nginx: $ng, ratio: $ratio, target_at_most: $target
    }' >"$BENCH_JSON"
fi
