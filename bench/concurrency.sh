#!/usr/bin/env bash
# Download throughput against concurrency (issue 7's chart): wrk with 1, 2, 4, ... 256
# keep-alive connections fetching one file over loopback, satload's `GET /d/<id>` beside nginx
# (sendfile on) serving the same bytes, levels alternated; prints a table and draws the chart
# with gnuplot (PNG and SVG) next to the run's JSON.
#
# Usage: bench/concurrency.sh
# Env:   BENCH_CONC_FILE_MIB (16)        size of the file
#        BENCH_CONC_LEVELS ("1 2 4 8 16 32 64 128 256")
#        BENCH_CONC_DURATION_S (3)       one wrk run per level and server
#        BENCH_CHART_DIR (bench/results) where concurrency-<stamp>.{png,svg,tsv} go
#        BENCH_SERVER_CORE (0), BENCH_CLIENT_CORE (1), BENCH_TMP, BENCH_JSON, BENCH_NO_BUILD=1,
#        BENCH_KEEP=1, BENCH_SMOKE=1: as in serve.sh
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

if [[ ${BENCH_SMOKE:-0} == 1 ]]; then
  file_mib=${BENCH_CONC_FILE_MIB:-1} levels=${BENCH_CONC_LEVELS:-"1 4 16"} duration_s=${BENCH_CONC_DURATION_S:-1}
else
  file_mib=${BENCH_CONC_FILE_MIB:-16} levels=${BENCH_CONC_LEVELS:-"1 2 4 8 16 32 64 128 256"}
  duration_s=${BENCH_CONC_DURATION_S:-3}
fi
server_core=${BENCH_SERVER_CORE:-0}
client_core=${BENCH_CLIENT_CORE:-1}
chart_dir=${BENCH_CHART_DIR:-$BENCH_ROOT/bench/results}

bench_require wrk curl jq taskset awk nginx gnuplot
[[ ${BENCH_NO_BUILD:-0} == 1 ]] || bench_build_satload
satload=$BENCH_BUILD/satload
[[ -x $satload ]] || bench_die "$satload is missing"

tmp=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/satload-bench-conc.XXXXXX")
if [[ ${BENCH_KEEP:-0} == 1 ]]; then bench_log "keeping $tmp"; else bench_on_exit "rm -rf '$tmp'"; fi
mkdir -p "$tmp/www" "$chart_dir"
chmod 755 "$tmp" "$tmp/www"
head -c $((file_mib << 20)) /dev/urandom >"$tmp/www/file.bin"

port=$(bench_free_port)
bench_nginx_conf "$tmp" "server { listen 127.0.0.1:$port; root $tmp/www; sendfile on; tcp_nopush on; }"
bench_start_nginx "$tmp/nginx.conf" "$server_core" "$port"
bench_start_satload "$satload" "$tmp/satload-data" "$tmp/satload.log" "$server_core"
# The file goes in with tus (one POST, then PATCHes of 8 MiB).
length=$((file_mib << 20))
location=$(curl -s --max-time 30 -o /dev/null -X POST -H 'Tus-Resumable: 1.0.0' -H "Upload-Length: $length" \
  -w '%header{location}' "$BENCH_SATLOAD_URL/files")
[[ -n $location ]] || bench_die "tus POST gave no Location"
chunk=$((8 << 20)) offset=0 id=
while ((offset < length)); do
  n=$((length - offset < chunk ? length - offset : chunk))
  out=$(dd if="$tmp/www/file.bin" iflag=skip_bytes,count_bytes skip="$offset" count="$n" status=none |
    curl -s --max-time 60 -o /dev/null -X PATCH -H 'Expect:' -H 'Tus-Resumable: 1.0.0' -H "Upload-Offset: $offset" \
      -H 'Content-Type: application/offset+octet-stream' --data-binary @- -w '%{http_code} %header{satload-file-id}' "$location")
  read -r code id <<<"$out"
  [[ $code == 204 ]] || bench_die "tus PATCH at $offset answered $out"
  offset=$((offset + n))
done
[[ -n $id ]] || bench_die "the last PATCH named no file id"
declare -A url=([satload]=$BENCH_SATLOAD_URL/d/$id [nginx]=http://127.0.0.1:$port/file.bin)
want=$(sha256sum <"$tmp/www/file.bin" | cut -d' ' -f1)
for s in satload nginx; do
  [[ $(curl -s --max-time 60 "${url[$s]}" | sha256sum | cut -d' ' -f1) == "$want" ]] ||
    bench_die "$s returned other bytes than the file"
done

# MiB/s of one wrk run: the bytes it read over the run (wrk's Transfer/sec, which counts
# partial responses too: at 256 connections a 16 MiB answer can take longer than a run),
# failing on errors.
wrk_mib() {
  local s=$1 c=$2 out rate
  out=$(timeout -k 5 $((duration_s + 60)) taskset -c "$client_core" \
    wrk -t1 -c"$c" -d"${duration_s}s" --timeout 30s "${url[$s]}") || bench_die "wrk against $s failed: $out"
  if grep -q -e 'Non-2xx or 3xx responses' -e 'Socket errors' <<<"$out"; then
    bench_die "wrk against $s at $c connections saw errors: $(grep -e 'Non-2xx' -e 'Socket errors' <<<"$out")"
  fi
  rate=$(awk '/^Transfer\/sec:/ { print $2 }' <<<"$out")
  [[ -n $rate ]] || bench_die "no Transfer/sec in wrk's output: $out"
  awk -v t="$rate" 'BEGIN {
    v = t + 0; u = t; sub(/^[0-9.]+/, "", u)
    f = (u == "GB") ? 1024 : (u == "MB") ? 1 : (u == "KB") ? 1 / 1024 : (u == "B") ? 1 / 1048576 : -1
    if (f < 0) exit 1
    printf "%.1f", v * f }' || bench_die "cannot read wrk's Transfer/sec: $rate"
}

stamp=$(date -u +%Y%m%dT%H%M%SZ)
tsv=$chart_dir/concurrency-$stamp.tsv
printf "connections\tsatload_mib_per_s\tnginx_mib_per_s\n" >"$tsv"
for c in $levels; do
  bench_log "$c connection(s) ..."
  a=$(wrk_mib satload "$c")
  b=$(wrk_mib nginx "$c")
  printf "%s\t%s\t%s\n" "$c" "$a" "$b" >>"$tsv"
done
kill -0 "$BENCH_SATLOAD_PID" 2>/dev/null || bench_die "satload died during the benchmark"

echo
echo "Download throughput against concurrency: $file_mib MiB file, wrk 1 thread, $duration_s s per level (MiB/s; server on core $server_core, wrk on core $client_core)"
awk -F'\t' 'NR == 1 { printf "  %12s %10s %10s %7s\n", "connections", "satload", "nginx", "ratio"; next }
  { printf "  %12d %10.0f %10.0f %7.2f\n", $1, $2, $3, ($3 > 0 ? $2 / $3 : 0) }' "$tsv"

for term in png svg; do
  if [[ $term == png ]]; then setterm="set terminal pngcairo size 900,520 noenhanced"; else setterm="set terminal svg size 900,520 noenhanced"; fi
  gnuplot <<PLOT || bench_die "gnuplot failed"
$setterm
set output "$chart_dir/concurrency-$stamp.$term"
set title "Download throughput against concurrency ($file_mib MiB file, loopback, one server core)"
set xlabel "concurrent connections"
set ylabel "MiB/s"
set logscale x 2
set key top left
set grid
plot "$tsv" using 1:2 with linespoints lw 2 title "satload GET /d/<id>", \
     "$tsv" using 1:3 with linespoints lw 2 title "nginx, sendfile on"
PLOT
done
echo "  chart: ${chart_dir#"$BENCH_ROOT"/}/concurrency-$stamp.png (and .svg), data: .tsv"
if [[ -n ${BENCH_JSON:-} ]]; then
  jq -R -s --argjson mib "$file_mib" --arg png "$chart_dir/concurrency-$stamp.png" '
    split("\n") | .[1:] | map(select(length > 0) | split("\t") | {connections: (.[0] | tonumber),
      satload_mib_per_s: (.[1] | tonumber), nginx_mib_per_s: (.[2] | tonumber)})
    | {file_mib: $mib, chart_png: $png, levels: .}' "$tsv" >"$BENCH_JSON"
fi
