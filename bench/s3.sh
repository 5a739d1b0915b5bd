#!/usr/bin/env bash
# The S3 blob store against Ceph RGW (issue 9), satload beside curl talking to the same RGW
# directly with SigV4, in the same run: download (curl GET /d/<id> from `satload serve --blobs
# s3://...` against curl GET of the very same object, blobs/<id>, from RGW) and upload (tus
# PATCHes of 8 MiB, and one PATCH of the whole file, into satload, completion included, against one curl PUT of the same bytes
# into RGW). Target: satload adds at most 20 % (ratio satload / curl at least 0.8).
#
# Usage: bench/s3.sh
# Env:   BENCH_S3_SIZE_MIB (256; 8 with BENCH_SMOKE=1)  size of the benchmark file
#        BENCH_RUNS (7)             timed downloads per side, alternated
#        BENCH_UPLOAD_RUNS (5)      timed uploads per side, alternated
#        BENCH_CHUNK_MIB (8)        tus PATCH size
#        BENCH_SERVER_CORE (0), BENCH_CLIENT_CORE (1)   taskset pinning of satload and curl
#        BENCH_TMP, BENCH_JSON, BENCH_NO_BUILD=1, BENCH_KEEP=1   as in bench/serve.sh
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

# Not BENCH_SIZE_MIB (serve.sh's 1 GiB and more): the memstore OSD holds every object in RAM.
size_mib=${BENCH_S3_SIZE_MIB:-256}
[[ ${BENCH_SMOKE:-0} != 1 ]] || size_mib=${BENCH_S3_SIZE_MIB:-8}
runs=${BENCH_RUNS:-7}
upload_runs=${BENCH_UPLOAD_RUNS:-5}
chunk_mib=${BENCH_CHUNK_MIB:-8}
server_core=${BENCH_SERVER_CORE:-0}
client_core=${BENCH_CLIENT_CORE:-1}
max_time_s=${BENCH_MAX_TIME_S:-300}
# The region ceph.sh's URL names; RGW accepts any, but SigV4 signs it.
region=us-east-1
direct_bucket=bench-direct
size=$((size_mib << 20))
chunk=$((chunk_mib << 20))
((size_mib >= 1)) || bench_die "the benchmark file must be at least 1 MiB"

bench_require curl jq taskset awk dd sha256sum ss
[[ ${BENCH_NO_BUILD:-0} == 1 ]] || bench_build_satload
satload=$BENCH_BUILD/satload
[[ -x $satload ]] || bench_die "$satload is missing"

tmp=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/satload-bench-s3.XXXXXX")
if [[ ${BENCH_KEEP:-0} == 1 ]]; then
  bench_log "keeping $tmp"
else
  bench_on_exit "rm -rf '$tmp'"
fi

# ---------------------------------------------------------------------------------------------
# Ceph: mon, memstore OSD and radosgw on loopback (scripts/ceph.sh), stopped on exit. Its
# daemons are not pinned: both sides of every comparison go through the same RGW.

bench_start_ceph "$tmp/ceph"
endpoint=http://127.0.0.1:$BENCH_RGW_PORT
bucket=$(sed 's|^s3://\([^?]*\)?.*|\1|' <<<"$SATLOAD_S3_URL")

# RGW deletes an object's data later, by its garbage collector (after two hours by default):
# reclaimed here after each run's deletions (untimed), or the memstore OSD fills and stalls.
ceph_gc() { radosgw-admin -c "$tmp/ceph/ceph.conf" -n client.rgw.a gc process --include-all >/dev/null 2>&1 || true; }

# curl pinned to the client core, bounded in time, no 100-continue round trip.
client_curl() { taskset -c "$client_core" curl -s --max-time "$max_time_s" -H 'Expect:' "$@"; }
# The same, signing with SigV4 as any S3 client would (curl 7.88 signs the payload hash header
# only when it is given; UNSIGNED-PAYLOAD streams the body without hashing it first).
# No `Expect:` override here: curl would sign the empty header and RGW refuse the signature.
s3_curl() {
  taskset -c "$client_core" curl -s --max-time "$max_time_s" --aws-sigv4 "aws:amz:$region:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
    -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$@"
}

code=$(s3_curl -o /dev/null -w '%{http_code}' -X PUT "$endpoint/$direct_bucket")
[[ $code == 200 ]] || bench_die "creating bucket $direct_bucket answered $code"

# ---------------------------------------------------------------------------------------------
# satload on the same RGW, and the download file put with `satload put` (encrypted, as users do).

bench_start_satload "$satload" "$tmp/data" "$tmp/satload.log" "$server_core" --blobs "$SATLOAD_S3_URL" \
  --max-chunk $((size + (16 << 20)))
bench_log "satload on $BENCH_SATLOAD_URL (pid $BENCH_SATLOAD_PID), blobs in $SATLOAD_S3_URL"

bench_log "generating a $size_mib MiB file of random bytes ..."
file=$tmp/bench.bin
head -c "$size" /dev/urandom >"$file"

bench_log "satload put of the file (encryption and tus, untimed set-up) ..."
link=$(SATLOAD_HOME=$tmp/home taskset -c "$client_core" "$satload" put "$file" --server "$BENCH_SATLOAD_URL" | tail -1)
file_id=$(sed -n 's|.*/f/\([A-Za-z0-9_-]*\).*|\1|p' <<<"$link")
[[ -n $file_id ]] || bench_die "satload put printed no link"
satload_get=$BENCH_SATLOAD_URL/d/$file_id
direct_get=$endpoint/$bucket/blobs/$file_id
stored=$(s3_curl -o /dev/null -I -w '%{http_code} %header{content-length}' "$direct_get")
read -r code stored_bytes <<<"$stored"
[[ $code == 200 && -n $stored_bytes ]] || bench_die "HEAD $direct_get answered '$stored'"

# ---------------------------------------------------------------------------------------------
# Download: both sides fetch the same ciphertext object; one untimed warm-up each with a byte
# comparison, then alternated runs.

download_rate() {  # download_rate SIDE URL: bytes/s of one GET into /dev/null
  local side=$1 url=$2 out code speed got
  if [[ $side == satload ]]; then
    out=$(client_curl -o /dev/null -w '%{http_code} %{speed_download} %{size_download}' "$url")
  else
    out=$(s3_curl -o /dev/null -w '%{http_code} %{speed_download} %{size_download}' "$url")
  fi
  read -r code speed got <<<"$out"
  [[ $code == 200 && $got == "$stored_bytes" ]] ||
    bench_die "GET $url answered '$out' (want 200 and $stored_bytes bytes)"
  echo "$speed"
}

bench_log "download warm-up and byte check ..."
sum_satload=$(client_curl "$satload_get" | sha256sum | cut -d' ' -f1)
sum_direct=$(s3_curl "$direct_get" | sha256sum | cut -d' ' -f1)
[[ $sum_satload == "$sum_direct" ]] || bench_die "satload served other bytes than RGW holds"
: >"$tmp/dl-satload.rates"
: >"$tmp/dl-curl.rates"
for ((r = 1; r <= runs; r++)); do
  bench_log "download run $r/$runs ..."
  download_rate satload "$satload_get" >>"$tmp/dl-satload.rates"
  download_rate curl "$direct_get" >>"$tmp/dl-curl.rates"
done

# ---------------------------------------------------------------------------------------------
# Upload: the file's bytes (what a client sends is ciphertext; the server cannot tell) with
# tus into satload, POST then PATCHes of `chunk` bytes (or one PATCH of the whole file), each
# its own curl and answered only once S3 holds the bytes; the last one completes (S3 multipart
# completion, in place at blobs/<id>; the digest is the one computed while appending). Rate: bytes / the sum of the PATCHes' time_total.
# Against one SigV4 curl PUT of the same bytes (RGW answers once it stored them). Each run's
# objects are deleted afterwards so the memstore OSD does not fill.

tus_patches() {  # tus_patches TIMES CHUNK: uploads the file, one PATCH time a line into TIMES; prints the file id
  local times=$1 chunk=$2 location at n reply status took sent fid=
  location=$(client_curl -o /dev/null -X POST -H 'Tus-Resumable: 1.0.0' \
    -H "Upload-Length: $size" -w '%header{location}' "$BENCH_SATLOAD_URL/files")
  [[ -n $location ]] || bench_die "tus creation gave no Location"
  at=0
  while ((at < size)); do
    n=$((size - at > chunk ? chunk : size - at))
    reply=$(tail -c +$((at + 1)) "$file" | head -c "$n" |
      client_curl -o /dev/null -X PATCH -H 'Tus-Resumable: 1.0.0' -H "Upload-Offset: $at" \
        -H 'Content-Type: application/offset+octet-stream' --data-binary @- \
        -w '%{http_code} %{time_total} %{size_upload} %header{satload-file-id}' "$location")
    read -r status took sent fid <<<"$reply"
    [[ $status == 204 && $sent == "$n" ]] || bench_die "PATCH at $at answered '$reply'"
    echo "$took" >>"$times"
    at=$((at + n))
  done
  [[ -n $fid ]] || bench_die "the last PATCH named no file"
  echo "$fid"
}

# The direct peer of the chunked upload: an S3 multipart upload of the same bytes in parts of
# `chunk` bytes, each its own curl as each PATCH is, then the completion (timed, like the last
# PATCH); the creation is not timed, as the tus POST is not. One time a line into TIMES.
curl_multipart() {  # curl_multipart TIMES
  local times=$1 key=bench-parts.bin upload_id at=0 n k=1 out status took etag
  local xml="<CompleteMultipartUpload>"
  out=$(s3_curl -X POST "$endpoint/$direct_bucket/$key?uploads=")
  upload_id=$(sed -n 's:.*<UploadId>\([^<]*\)</UploadId>.*:\1:p' <<<"$out")
  [[ -n $upload_id ]] || bench_die "CreateMultipartUpload answered '$out'"
  while ((at < size)); do
    n=$((size - at > chunk ? chunk : size - at))
    out=$(dd if="$file" bs=1M iflag=skip_bytes,count_bytes skip="$at" count="$n" status=none |
      s3_curl -o /dev/null -D "$tmp/part.headers" -X PUT --data-binary @- -w '%{http_code} %{time_total}' \
        "$endpoint/$direct_bucket/$key?partNumber=$k&uploadId=$upload_id")
    read -r status took <<<"$out"
    etag=$(tr -d '\r' <"$tmp/part.headers" | sed -n 's/^[Ee][Tt][Aa][Gg]: *//p')
    [[ $status == 200 && -n $etag ]] || bench_die "UploadPart $k answered '$out'"
    echo "$took" >>"$times"
    xml+="<Part><PartNumber>$k</PartNumber><ETag>$etag</ETag></Part>"
    at=$((at + n))
    k=$((k + 1))
  done
  xml+="</CompleteMultipartUpload>"
  out=$(s3_curl -o /dev/null -X POST --data-binary "$xml" -w '%{http_code} %{time_total}' \
    "$endpoint/$direct_bucket/$key?uploadId=$upload_id")
  read -r status took <<<"$out"
  [[ $status == 200 ]] || bench_die "CompleteMultipartUpload answered '$out'"
  echo "$took" >>"$times"
  s3_curl -o /dev/null -X DELETE "$endpoint/$direct_bucket/$key"
}

: >"$tmp/up-satload.rates"
: >"$tmp/up-single.rates"
: >"$tmp/up-parts.rates"
: >"$tmp/up-curl.rates"
: >"$tmp/up-complete.seconds"
for ((r = 1; r <= upload_runs; r++)); do
  bench_log "upload run $r/$upload_runs: satload (tus, $chunk_mib MiB PATCHes) ..."
  : >"$tmp/patch.times"
  fid=$(tus_patches "$tmp/patch.times" "$chunk")
  awk -v b="$size" '{ t += $1 } END { printf "%.0f\n", b / t }' "$tmp/patch.times" >>"$tmp/up-satload.rates"
  tail -1 "$tmp/patch.times" >>"$tmp/up-complete.seconds"
  s3_curl -o /dev/null -X DELETE "$endpoint/$bucket/blobs/$fid"

  bench_log "upload run $r/$upload_runs: satload (tus, one PATCH of the whole file) ..."
  : >"$tmp/patch.times"
  fid=$(tus_patches "$tmp/patch.times" "$size")
  awk -v b="$size" '{ t += $1 } END { printf "%.0f\n", b / t }' "$tmp/patch.times" >>"$tmp/up-single.rates"
  s3_curl -o /dev/null -X DELETE "$endpoint/$bucket/blobs/$fid"

  bench_log "upload run $r/$upload_runs: curl multipart upload to RGW, $chunk_mib MiB parts ..."
  : >"$tmp/part.times"
  curl_multipart "$tmp/part.times"
  awk -v b="$size" '{ t += $1 } END { printf "%.0f\n", b / t }' "$tmp/part.times" >>"$tmp/up-parts.rates"

  bench_log "upload run $r/$upload_runs: curl PUT to RGW ..."
  out=$(s3_curl -o /dev/null -T "$file" -w '%{http_code} %{time_total} %{size_upload}' \
    "$endpoint/$direct_bucket/bench.bin")
  read -r code t sent <<<"$out"
  [[ $code == 200 && $sent == "$size" ]] || bench_die "curl PUT answered '$out'"
  awk -v b="$size" -v t="$t" 'BEGIN { printf "%.0f\n", b / t }' >>"$tmp/up-curl.rates"
  s3_curl -o /dev/null -X DELETE "$endpoint/$direct_bucket/bench.bin"
  ceph_gc
done
bench_stop_pid "$BENCH_SATLOAD_PID"

# ---------------------------------------------------------------------------------------------
# Tables and JSON.

read -r dl_s_med dl_s_min dl_s_max dl_s_spread dl_s_n < <(bench_stats <"$tmp/dl-satload.rates")
read -r dl_c_med dl_c_min dl_c_max dl_c_spread dl_c_n < <(bench_stats <"$tmp/dl-curl.rates")
read -r up_s_med up_s_min up_s_max up_s_spread up_s_n < <(bench_stats <"$tmp/up-satload.rates")
read -r up_c_med up_c_min up_c_max up_c_spread up_c_n < <(bench_stats <"$tmp/up-curl.rates")
read -r up_1_med up_1_min up_1_max up_1_spread up_1_n < <(bench_stats <"$tmp/up-single.rates")
read -r up_p_med up_p_min up_p_max up_p_spread up_p_n < <(bench_stats <"$tmp/up-parts.rates")
read -r done_med _ <<<"$(bench_stats <"$tmp/up-complete.seconds")"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "null" }'; }
verdict() { awk -v r="$1" 'BEGIN { if (r == "null") print "n/a"; else print (r >= 0.8) ? "meets" : "MISSES" }'; }
dl_ratio=$(ratio "$dl_s_med" "$dl_c_med")
up_ratio=$(ratio "$up_s_med" "$up_c_med")
up1_ratio=$(ratio "$up_1_med" "$up_c_med")
upp_ratio=$(ratio "$up_s_med" "$up_p_med")

row() {
  awk -v name="$1" -v m="$2" -v lo="$3" -v hi="$4" -v sp="$5" -v n="$6" 'BEGIN {
    mib = 1048576
    printf "  %-40s %9.0f %9.0f %9.0f %7.0f%% %4d\n", name, m / mib, lo / mib, hi / mib, sp * 100, n }'
}
header() { printf "  %-40s %9s %9s %9s %8s %4s\n" "client" "median" "min" "max" "spread" "runs"; }

echo
echo "Download from Ceph RGW of one $size_mib MiB file ($stored_bytes bytes of ciphertext; MiB/s; curl on core $client_core, satload on core $server_core, Ceph unpinned; alternated)"
header
row "curl GET /d/<id> from satload --blobs s3" "$dl_s_med" "$dl_s_min" "$dl_s_max" "$dl_s_spread" "$dl_s_n"
row "curl GET blobs/<id> from RGW (SigV4)" "$dl_c_med" "$dl_c_min" "$dl_c_max" "$dl_c_spread" "$dl_c_n"
echo "  ratio satload / direct: $dl_ratio  (target >= 0.80: $(verdict "$dl_ratio"))"

echo
echo "Upload into Ceph RGW of one $size_mib MiB file (MiB/s; alternated)"
echo "  satload: tus POST, then PATCHes of $chunk_mib MiB as \`satload put\` sends (each its own curl, answered"
echo "    once S3 holds the bytes), or one PATCH of the whole file as tus-js-client sends by default;"
echo "    the last PATCH completes: multipart completion at the blob's key (median"
echo "    $(awk -v s="$done_med" 'BEGIN { printf "%.2f", s }') s of the $chunk_mib MiB total); rate = bytes / sum of the PATCHes' time"
echo "  direct: one curl PUT of the whole file with SigV4 (UNSIGNED-PAYLOAD), RGW answers once stored;"
echo "    or an S3 multipart upload in $chunk_mib MiB parts, each its own curl, then the completion"
header
row "satload tus, one PATCH" "$up_1_med" "$up_1_min" "$up_1_max" "$up_1_spread" "$up_1_n"
row "curl PUT to RGW (SigV4)" "$up_c_med" "$up_c_min" "$up_c_max" "$up_c_spread" "$up_c_n"
row "satload tus, $chunk_mib MiB PATCHes" "$up_s_med" "$up_s_min" "$up_s_max" "$up_s_spread" "$up_s_n"
row "curl multipart to RGW, $chunk_mib MiB parts" "$up_p_med" "$up_p_min" "$up_p_max" "$up_p_spread" "$up_p_n"
echo "  ratio satload / direct, one request each: $up1_ratio  (target >= 0.80: $(verdict "$up1_ratio"))"
echo "  ratio satload / direct, $chunk_mib MiB requests each: $upp_ratio  (target >= 0.80: $(verdict "$upp_ratio"))"
echo "  ratio satload $chunk_mib MiB PATCHes / one curl PUT: $up_ratio"

if [[ -n ${BENCH_JSON:-} ]]; then
  stats_json() { jq -n --argjson m "$1" --argjson lo "$2" --argjson hi "$3" --argjson sp "$4" \
    --argjson n "$5" --slurpfile all "$6" \
    '{median_bytes_per_s: $m, min_bytes_per_s: $lo, max_bytes_per_s: $hi, spread: $sp, runs: $n, all_bytes_per_s: $all}'; }
  jq -n --argjson size "$size" --argjson stored "$stored_bytes" --argjson chunk "$chunk" \
    --arg ceph "$(radosgw --version 2>/dev/null | head -1)" \
    --argjson dl_s "$(stats_json "$dl_s_med" "$dl_s_min" "$dl_s_max" "$dl_s_spread" "$dl_s_n" "$tmp/dl-satload.rates")" \
    --argjson dl_c "$(stats_json "$dl_c_med" "$dl_c_min" "$dl_c_max" "$dl_c_spread" "$dl_c_n" "$tmp/dl-curl.rates")" \
    --argjson up_s "$(stats_json "$up_s_med" "$up_s_min" "$up_s_max" "$up_s_spread" "$up_s_n" "$tmp/up-satload.rates")" \
    --argjson up_c "$(stats_json "$up_c_med" "$up_c_min" "$up_c_max" "$up_c_spread" "$up_c_n" "$tmp/up-curl.rates")" \
    --argjson up_1 "$(stats_json "$up_1_med" "$up_1_min" "$up_1_max" "$up_1_spread" "$up_1_n" "$tmp/up-single.rates")" \
    --argjson up_p "$(stats_json "$up_p_med" "$up_p_min" "$up_p_max" "$up_p_spread" "$up_p_n" "$tmp/up-parts.rates")" \
    --argjson upp_ratio "$upp_ratio" \
    --argjson done_s "$done_med" --argjson dl_ratio "$dl_ratio" --argjson up_ratio "$up_ratio" \
    --argjson up1_ratio "$up1_ratio" \
    --argjson score "$server_core" --argjson ccore "$client_core" '{
      file_bytes: $size, server_core: $score, client_core: $ccore, ceph_version: $ceph,
      download: {stored_bytes: $stored, satload: $dl_s, curl_direct: $dl_c, ratio: $dl_ratio, target: 0.8},
      upload: {chunk_bytes: $chunk, satload_tus: $up_s, satload_tus_one_patch: $up_1,
               curl_direct_put: $up_c, curl_direct_multipart: $up_p,
               completion_seconds_median: $done_s, ratio: $up_ratio,
               ratio_one_patch: $up1_ratio, ratio_same_chunks: $upp_ratio, target: 0.8}
    }' >"$BENCH_JSON"
fi
