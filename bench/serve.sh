#!/usr/bin/env bash
# Hosting benchmarks of one large file over loopback, satload beside nginx in the same run:
# download throughput (curl, GET /d/<id> against nginx with sendfile on and off, and tuned with
# 512 KiB output buffers), upload
# throughput (tus PATCHes of 8 MiB against an nginx `dav_methods PUT`), and satload's memory
# (VmRSS every 100 ms) during a large and a small upload and download.
#
# Usage: bench/serve.sh
# Env:   BENCH_SIZE_MIB (1024)      size of the benchmark file
#        BENCH_MEM_SMALL_MIB (64)   size of the second memory run (peak RSS must not grow)
#        BENCH_RUNS (7)             timed downloads per server, alternated
#        BENCH_UPLOAD_RUNS (5)      timed uploads per server, alternated
#        BENCH_CHUNK_MIB (8)        tus PATCH size
#        BENCH_SERVER_CORE (0), BENCH_CLIENT_CORE (1)   taskset pinning
#        BENCH_TMP ($TMPDIR or /tmp) where the files, satload's data and nginx's root go
#        BENCH_JSON                 if set, the figures are written there as JSON
#        BENCH_NO_BUILD=1           use the existing build-bench/satload
#        BENCH_KEEP=1               keep the temporary directory (logs, data) for inspection
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

size_mib=${BENCH_SIZE_MIB:-1024}
small_mib=${BENCH_MEM_SMALL_MIB:-64}
runs=${BENCH_RUNS:-7}
upload_runs=${BENCH_UPLOAD_RUNS:-5}
chunk_mib=${BENCH_CHUNK_MIB:-8}
server_core=${BENCH_SERVER_CORE:-0}
client_core=${BENCH_CLIENT_CORE:-1}
# Upper bound of one transfer: far above any sane figure, low enough that a hang ends the run.
max_time_s=${BENCH_MAX_TIME_S:-300}

((small_mib < size_mib)) || small_mib=$((size_mib / 2))
((small_mib >= 1)) || bench_die "BENCH_SIZE_MIB must be at least 2"
size=$((size_mib << 20))
small=$((small_mib << 20))
chunk=$((chunk_mib << 20))

bench_require curl jq taskset awk dd sha256sum
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
[[ -x $nginx_bin ]] || bench_die "nginx not found (Debian: apt-get install nginx-light)"
nginx -V 2>&1 | grep -q -- --with-http_dav_module || nginx_no_dav=1

[[ ${BENCH_NO_BUILD:-0} == 1 ]] || bench_build_satload
satload=$BENCH_BUILD/satload
[[ -x $satload ]] || bench_die "$satload is missing"

tmp=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/satload-bench.XXXXXX")
if [[ ${BENCH_KEEP:-0} == 1 ]]; then
  bench_log "keeping $tmp"
else
  bench_on_exit "rm -rf '$tmp'"
fi
mkdir -p "$tmp/www/put" "$tmp/nginx-tmp"
file=$tmp/www/bench.bin
# nginx workers run as an unprivileged user when started by root: let them read the root and
# write the PUT target.
chmod 755 "$tmp" "$tmp/www"
chmod 777 "$tmp/www/put" "$tmp/nginx-tmp"

bench_log "generating a $size_mib MiB file of random bytes ..."
head -c "$size" /dev/urandom >"$file"
file_sha=$(sha256sum "$file" | cut -d' ' -f1)

# ---------------------------------------------------------------------------------------------
# nginx: one master and one worker pinned to the server core, two server blocks on the same
# root (sendfile on, as in Debian's stock config, and sendfile off), a PUT location (dav).

port_on=$(bench_free_port)
port_off=$(bench_free_port)
while [[ $port_off == "$port_on" ]]; do port_off=$(bench_free_port); done
port_big=$(bench_free_port)
while [[ $port_big == "$port_on" || $port_big == "$port_off" ]]; do port_big=$(bench_free_port); done
user_line=
[[ $(id -u) -eq 0 ]] && user_line="user $(id -un) $(id -gn);"
dav_block="dav_methods PUT; create_full_put_path on; client_max_body_size 0;"
[[ -n ${nginx_no_dav:-} ]] && dav_block="return 405;"
cat >"$tmp/nginx.conf" <<EOF
# satload bench: loopback only, no logs, one worker on the server core.
$user_line
worker_processes 1;
daemon off;
master_process on;
pid $tmp/nginx.pid;
error_log $tmp/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  default_type application/octet-stream;
  keepalive_timeout 65;
  client_body_temp_path $tmp/nginx-tmp/body;
  proxy_temp_path $tmp/nginx-tmp/proxy;
  fastcgi_temp_path $tmp/nginx-tmp/fastcgi;
  uwsgi_temp_path $tmp/nginx-tmp/uwsgi;
  scgi_temp_path $tmp/nginx-tmp/scgi;
  server {
    listen 127.0.0.1:$port_on;
    root $tmp/www;
    sendfile on;
    tcp_nopush on;
    location /put/ { $dav_block }
  }
  server {
    listen 127.0.0.1:$port_off;
    root $tmp/www;
    sendfile off;
  }
  # Tuned beyond Debian's defaults: reads and writes of 512 KiB, satload's download piece.
  server {
    listen 127.0.0.1:$port_big;
    root $tmp/www;
    sendfile off;
    output_buffers 2 512k;
  }
}
EOF
bench_log "starting nginx on 127.0.0.1:$port_on (sendfile on), :$port_off (off), :$port_big (off, 512k buffers) ..."
taskset -c "$server_core" "$nginx_bin" -p "$tmp/" -c "$tmp/nginx.conf" 2>"$tmp/nginx-stderr.log" &
nginx_pid=$!
bench_on_exit "bench_stop_pid $nginx_pid"
bench_wait_port "$port_on" && bench_wait_port "$port_off" && bench_wait_port "$port_big" ||
  { cat "$tmp/nginx-stderr.log" "$tmp/nginx-error.log" >&2 2>/dev/null; bench_die "nginx did not start"; }

# ---------------------------------------------------------------------------------------------
# satload: `satload serve` on port 0 (it prints the port it got), pinned to the server core.

# Starts a satload server with its own data directory; sets satload_pid and satload_url.
start_satload() {
  local name=$1 log=$tmp/$1.log i
  taskset -c "$server_core" "$satload" serve --listen 127.0.0.1:0 --data "$tmp/$name-data" 2>"$log" &
  satload_pid=$!
  bench_on_exit "bench_stop_pid $satload_pid"
  for ((i = 0; i < 100; i++)); do
    satload_url=$(grep -o 'listening on http://[0-9.:]*' "$log" | head -1 | sed 's/listening on //') || true
    [[ -n $satload_url ]] && return 0
    kill -0 "$satload_pid" 2>/dev/null || break
    sleep 0.1
  done
  cat "$log" >&2
  bench_die "satload serve did not start"
}

# curl pinned to the client core, never waiting for 100-continue, bounded in time.
client_curl() { taskset -c "$client_core" curl -s --max-time "$max_time_s" -H 'Expect:' "$@"; }

# Uploads the first LENGTH bytes of the benchmark file into satload with tus: one POST, then
# PATCHes of `chunk` bytes, each its own curl. Appends "seconds" of every PATCH (curl's
# time_total: request sent to 204 received, so the server's fsync is inside) to TIMES and
# prints the file id that the completing PATCH revealed.
tus_upload() {
  local url=$1 length=$2 times=$3 location offset n out code t sent id=
  location=$(client_curl -o /dev/null -X POST -H 'Tus-Resumable: 1.0.0' \
    -H "Upload-Length: $length" -w '%header{location}' "$url/files")
  [[ -n $location ]] || bench_die "tus POST to $url/files gave no Location"
  for ((offset = 0; offset < length; offset += n)); do
    n=$((length - offset < chunk ? length - offset : chunk))
    out=$(dd if="$file" iflag=skip_bytes,count_bytes bs=1M skip="$offset" count="$n" status=none |
      client_curl -o /dev/null -X PATCH -H 'Tus-Resumable: 1.0.0' -H "Upload-Offset: $offset" \
        -H 'Content-Type: application/offset+octet-stream' --data-binary @- \
        -w '%{http_code} %{time_total} %{size_upload} %header{satload-file-id}' "$location")
    read -r code t sent id <<<"$out"
    [[ $code == 204 && $sent == "$n" ]] ||
      bench_die "tus PATCH at offset $offset answered '$out' (want 204 and $n bytes sent)"
    echo "$t" >>"$times"
  done
  [[ -n $id ]] || bench_die "the completing PATCH named no Satload-File-Id"
  echo "$id"
}

# One download with curl into /dev/null: prints bytes/s, fails on a wrong status or length.
download_rate() {
  local url=$1 want_code=200 out code speed got
  out=$(client_curl -o /dev/null -w '%{http_code} %{speed_download} %{size_download}' "$url")
  read -r code speed got <<<"$out"
  [[ $code == "$want_code" && $got == "$2" ]] || bench_die "GET $url answered '$out' (want $want_code, $2 bytes)"
  echo "$speed"
}

# Checks that a server hands back exactly the benchmark file's bytes (untimed).
check_bytes() {
  local url=$1 length=$2 want=$3 got
  got=$(client_curl "$url" | head -c "$length" | sha256sum | cut -d' ' -f1)
  [[ $got == "$want" ]] || bench_die "GET $url returned other bytes than uploaded"
}

# ---------------------------------------------------------------------------------------------
# Upload: satload tus PATCHes against one nginx PUT of the whole file, alternated. The first
# satload upload goes into a fresh server and is the large memory run.

start_satload big
big_pid=$satload_pid big_url=$satload_url
bench_log "satload on $big_url (pid $big_pid), nginx pid $nginx_pid"

: >"$tmp/up-satload.rates"
: >"$tmp/up-nginx.rates"
: >"$tmp/up-dsync.rates"
file_id=
for ((r = 1; r <= upload_runs; r++)); do
  bench_log "upload run $r/$upload_runs: satload (tus, $chunk_mib MiB PATCHes) ..."
  : >"$tmp/patch.times"
  ((r == 1)) && bench_rss_start "$big_pid" "$tmp/rss-big-upload"
  id=$(tus_upload "$big_url" "$size" "$tmp/patch.times")
  ((r == 1)) && bench_rss_stop "$tmp/rss-big-upload" "$big_pid"
  [[ -n $file_id ]] || file_id=$id
  awk -v b="$size" '{ t += $1 } END { printf "%.0f\n", b / t }' "$tmp/patch.times" >>"$tmp/up-satload.rates"
  if [[ -z ${nginx_no_dav:-} ]]; then
    bench_log "upload run $r/$upload_runs: nginx (one PUT) ..."
    out=$(client_curl -o /dev/null -T "$file" -w '%{http_code} %{time_total} %{size_upload}' \
      "http://127.0.0.1:$port_on/put/bench.bin")
    read -r code t sent <<<"$out"
    [[ ($code == 201 || $code == 204) && $sent == "$size" ]] || bench_die "nginx PUT answered '$out'"
    awk -v b="$size" -v t="$t" 'BEGIN { printf "%.0f\n", b / t }' >>"$tmp/up-nginx.rates"
  fi
  # The disk's own ceiling for what satload promises (every chunk synced before the answer):
  # the same bytes written in chunk-sized O_DSYNC writes by dd, on the server core.
  bench_log "upload run $r/$upload_runs: disk reference (dd, $chunk_mib MiB O_DSYNC writes) ..."
  t0=$(date +%s.%N)
  taskset -c "$server_core" dd if="$file" of="$tmp/dsync.bin" bs="$chunk" oflag=dsync status=none
  t1=$(date +%s.%N)
  rm -f "$tmp/dsync.bin"
  awk -v b="$size" -v a="$t0" -v z="$t1" 'BEGIN { printf "%.0f\n", b / (z - a) }' >>"$tmp/up-dsync.rates"
done
cmp -s "$file" "$tmp/www/put/bench.bin" 2>/dev/null || [[ -n ${nginx_no_dav:-} ]] ||
  bench_die "nginx stored other bytes than it was sent"
rm -f "$tmp/www/put/bench.bin"

# ---------------------------------------------------------------------------------------------
# Download: one untimed warm-up of each (page cache, and the large download memory run, with
# a byte check of what satload stored), then alternated timed runs.

satload_get=$big_url/d/$file_id
nginx_on_get=http://127.0.0.1:$port_on/bench.bin
nginx_off_get=http://127.0.0.1:$port_off/bench.bin
nginx_big_get=http://127.0.0.1:$port_big/bench.bin
bench_log "download warm-up (and satload memory run, byte check) ..."
bench_rss_start "$big_pid" "$tmp/rss-big-download"
download_rate "$satload_get" "$size" >/dev/null
bench_rss_stop "$tmp/rss-big-download" "$big_pid"
check_bytes "$satload_get" "$size" "$file_sha"
download_rate "$nginx_on_get" "$size" >/dev/null
download_rate "$nginx_off_get" "$size" >/dev/null
download_rate "$nginx_big_get" "$size" >/dev/null

: >"$tmp/dl-satload.rates"
: >"$tmp/dl-nginx-on.rates"
: >"$tmp/dl-nginx-off.rates"
: >"$tmp/dl-nginx-big.rates"
for ((r = 1; r <= runs; r++)); do
  bench_log "download run $r/$runs ..."
  download_rate "$satload_get" "$size" >>"$tmp/dl-satload.rates"
  download_rate "$nginx_on_get" "$size" >>"$tmp/dl-nginx-on.rates"
  download_rate "$nginx_off_get" "$size" >>"$tmp/dl-nginx-off.rates"
  download_rate "$nginx_big_get" "$size" >>"$tmp/dl-nginx-big.rates"
done
bench_stop_pid "$big_pid"

# ---------------------------------------------------------------------------------------------
# Memory, small run: a fresh server, the first small_mib MiB of the same file up and down.

start_satload small
small_pid=$satload_pid small_url=$satload_url
bench_log "memory run with $small_mib MiB on $small_url ..."
bench_rss_start "$small_pid" "$tmp/rss-small-upload"
small_id=$(tus_upload "$small_url" "$small" "$tmp/small-patch.times")
bench_rss_stop "$tmp/rss-small-upload" "$small_pid"
bench_rss_start "$small_pid" "$tmp/rss-small-download"
download_rate "$small_url/d/$small_id" "$small" >/dev/null
bench_rss_stop "$tmp/rss-small-download" "$small_pid"
bench_stop_pid "$small_pid"

# ---------------------------------------------------------------------------------------------
# Tables and JSON.

read -r up_s_med up_s_min up_s_max up_s_spread up_s_n < <(bench_stats <"$tmp/up-satload.rates")
read -r up_n_med up_n_min up_n_max up_n_spread up_n_n < <(bench_stats <"$tmp/up-nginx.rates")
read -r up_d_med up_d_min up_d_max up_d_spread up_d_n < <(bench_stats <"$tmp/up-dsync.rates")
read -r dl_s_med dl_s_min dl_s_max dl_s_spread dl_s_n < <(bench_stats <"$tmp/dl-satload.rates")
read -r dl_on_med dl_on_min dl_on_max dl_on_spread dl_on_n < <(bench_stats <"$tmp/dl-nginx-on.rates")
read -r dl_off_med dl_off_min dl_off_max dl_off_spread dl_off_n < <(bench_stats <"$tmp/dl-nginx-off.rates")
read -r dl_big_med dl_big_min dl_big_max dl_big_spread dl_big_n < <(bench_stats <"$tmp/dl-nginx-big.rates")
# The peer (issue 7) is stock nginx's faster median of sendfile on and off; the tuned nginx is
# shown beside it as a second, harder reference.
peer_sendfile=$(awk -v a="$dl_on_med" -v b="$dl_off_med" 'BEGIN { print (a >= b) ? "on" : "off" }')
dl_peer_med=$([[ $peer_sendfile == on ]] && echo "$dl_on_med" || echo "$dl_off_med")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "null" }'; }
dl_ratio=$(ratio "$dl_s_med" "$dl_peer_med")
up_ratio=$(ratio "$up_s_med" "$up_n_med")
dl_tuned_ratio=$(ratio "$dl_s_med" "$dl_big_med")
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { if (r == "null") print "n/a"; else print (r >= t) ? "meets" : "MISSES" }'; }

row() { # name median min max spread n (bytes/s)
  awk -v name="$1" -v m="$2" -v lo="$3" -v hi="$4" -v sp="$5" -v n="$6" 'BEGIN {
    mib = 1048576
    printf "  %-30s %9.0f %9.0f %9.0f %7.0f%% %4d\n", name, m / mib, lo / mib, hi / mib, sp * 100, n }'
}
header() { printf "  %-30s %9s %9s %9s %8s %4s\n" "server" "median" "min" "max" "spread" "runs"; }

echo
echo "Download of one $size_mib MiB file over loopback (curl; MiB/s; server on core $server_core, client on core $client_core; alternated)"
header
row "satload GET /d/<id>" "$dl_s_med" "$dl_s_min" "$dl_s_max" "$dl_s_spread" "$dl_s_n"
row "nginx, sendfile on" "$dl_on_med" "$dl_on_min" "$dl_on_max" "$dl_on_spread" "$dl_on_n"
row "nginx, sendfile off" "$dl_off_med" "$dl_off_min" "$dl_off_max" "$dl_off_spread" "$dl_off_n"
row "nginx, off, output_buffers 512k" "$dl_big_med" "$dl_big_min" "$dl_big_max" "$dl_big_spread" "$dl_big_n"
echo "  ratio satload / nginx (stock config, sendfile $peer_sendfile, the faster): $dl_ratio  (target >= 0.80: $(verdict "$dl_ratio" 0.8))"
echo "  ratio satload / nginx tuned (512 KiB buffers, satload's own piece size): $dl_tuned_ratio"

echo
echo "Upload of one $size_mib MiB file over loopback (curl; MiB/s; satload: tus PATCHes of $chunk_mib MiB, each synced before its 204; nginx: one PUT, not synced)"
header
row "satload tus PATCH" "$up_s_med" "$up_s_min" "$up_s_max" "$up_s_spread" "$up_s_n"
if [[ -z ${nginx_no_dav:-} ]]; then
  row "nginx dav PUT" "$up_n_med" "$up_n_min" "$up_n_max" "$up_n_spread" "$up_n_n"
fi
row "disk: dd $chunk_mib MiB O_DSYNC writes" "$up_d_med" "$up_d_min" "$up_d_max" "$up_d_spread" "$up_d_n"
if [[ -z ${nginx_no_dav:-} ]]; then
  echo "  ratio satload / nginx: $up_ratio  (target >= 0.80: $(verdict "$up_ratio" 0.8))"
  echo "  ratio satload / disk synced-write ceiling: $(ratio "$up_s_med" "$up_d_med")"
else
  echo "  nginx here lacks the dav module (nginx -V has no --with-http_dav_module): no peer figure"
fi

echo
echo "satload memory (VmRSS, MiB, sampled every 100 ms; a fresh server per size)"
printf "  %-26s %8s %8s %8s %8s\n" "transfer" "start" "peak" "end" "samples"
mem_json=()
for phase in big-upload big-download small-upload small-download; do
  read -r s p e n < <(bench_rss_summary "$tmp/rss-$phase")
  label=$([[ $phase == big-* ]] && echo "$size_mib MiB" || echo "$small_mib MiB")" ${phase#*-}"
  awk -v l="$label" -v s="$s" -v p="$p" -v e="$e" -v n="$n" \
    'BEGIN { printf "  %-26s %8.1f %8.1f %8.1f %8d\n", l, s / 1024, p / 1024, e / 1024, n }'
  mem_json+=("$(jq -n --arg phase "$phase" --argjson s "$s" --argjson p "$p" --argjson e "$e" \
    --argjson n "$n" '{($phase | sub("big"; "large") | gsub("-"; "_")): {start_kib: $s, peak_kib: $p, end_kib: $e, samples: $n}}')")
  eval "peak_${phase//-/_}=$p"
done
# Growth of the peak from the small to the large run, for upload and download.
up_growth=$((peak_big_upload - peak_small_upload))
dl_growth=$((peak_big_download - peak_small_download))
echo "  peak growth from $small_mib MiB to $size_mib MiB: upload $((up_growth / 1024)) MiB, download $((dl_growth / 1024)) MiB (flat: no growth with the file size)"

if [[ -n ${BENCH_JSON:-} ]]; then
  stats_json() { jq -n --argjson m "$1" --argjson lo "$2" --argjson hi "$3" --argjson sp "$4" \
    --argjson n "$5" --slurpfile all "$6" \
    '{median_bytes_per_s: $m, min_bytes_per_s: $lo, max_bytes_per_s: $hi, spread: $sp, runs: $n, all_bytes_per_s: $all}'; }
  jq -n \
    --argjson size "$size" --argjson chunk "$chunk" --argjson small "$small" \
    --arg nginx "$("$nginx_bin" -v 2>&1 | sed 's/.*: //')" \
    --arg peer_sendfile "$peer_sendfile" \
    --argjson dl_s "$(stats_json "$dl_s_med" "$dl_s_min" "$dl_s_max" "$dl_s_spread" "$dl_s_n" "$tmp/dl-satload.rates")" \
    --argjson dl_on "$(stats_json "$dl_on_med" "$dl_on_min" "$dl_on_max" "$dl_on_spread" "$dl_on_n" "$tmp/dl-nginx-on.rates")" \
    --argjson dl_off "$(stats_json "$dl_off_med" "$dl_off_min" "$dl_off_max" "$dl_off_spread" "$dl_off_n" "$tmp/dl-nginx-off.rates")" \
    --argjson dl_big "$(stats_json "$dl_big_med" "$dl_big_min" "$dl_big_max" "$dl_big_spread" "$dl_big_n" "$tmp/dl-nginx-big.rates")" \
    --argjson dl_tuned_ratio "$dl_tuned_ratio" \
    --argjson up_s "$(stats_json "$up_s_med" "$up_s_min" "$up_s_max" "$up_s_spread" "$up_s_n" "$tmp/up-satload.rates")" \
    --argjson up_d "$(stats_json "$up_d_med" "$up_d_min" "$up_d_max" "$up_d_spread" "$up_d_n" "$tmp/up-dsync.rates")" \
    --argjson up_n "$(stats_json "$up_n_med" "$up_n_min" "$up_n_max" "$up_n_spread" "$up_n_n" "$tmp/up-nginx.rates")" \
    --argjson dl_ratio "$dl_ratio" --argjson up_ratio "$up_ratio" \
    --argjson nodav "$([[ -n ${nginx_no_dav:-} ]] && echo true || echo false)" \
    --argjson mem "$(printf '%s\n' "${mem_json[@]}" | jq -s 'add')" \
    --argjson up_growth "$up_growth" --argjson dl_growth "$dl_growth" \
    --argjson score "$server_core" --argjson ccore "$client_core" '{
      file_bytes: $size, server_core: $score, client_core: $ccore, nginx_version: $nginx,
      download: {satload: $dl_s, nginx_sendfile_on: $dl_on, nginx_sendfile_off: $dl_off,
                 nginx_sendfile_off_buffers_512k: $dl_big,
                 peer: ("nginx_sendfile_" + $peer_sendfile), ratio: $dl_ratio, target: 0.8,
                 ratio_to_tuned_nginx: $dl_tuned_ratio},
      upload: {chunk_bytes: $chunk, satload: $up_s,
               nginx_put: (if $nodav then null else $up_n end),
               ratio: (if $nodav then null else $up_ratio end), target: 0.8,
               disk_dsync_writes: $up_d},
      memory: ($mem + {small_file_bytes: $small, peak_growth_upload_kib: $up_growth,
                       peak_growth_download_kib: $dl_growth})
    }' >"$BENCH_JSON"
fi
