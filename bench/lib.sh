# Shared shell helpers of the benchmark scripts (sourced, not run): logging, cleanup on exit,
# free loopback ports, the release build, run statistics and server memory sampling.
# shellcheck shell=bash

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_BUILD=${BENCH_BUILD:-$BENCH_ROOT/build-bench}
BENCH_JOBS=${SATLOAD_BENCH_JOBS:-2}

bench_log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
bench_die() {
  echo "error: $*" >&2
  exit 1
}

# Tools every benchmark needs, with the Debian package that has each.
bench_require() {
  local tool missing=()
  for tool in "$@"; do
    command -v "$tool" >/dev/null || missing+=("$tool")
  done
  ((${#missing[@]} == 0)) || bench_die "missing tools: ${missing[*]} (Debian: apt-get install curl jq nginx-light util-linux procps)"
}

# Cleanup actions run in reverse order on exit, on Ctrl-C and on `timeout`'s SIGTERM, so a
# benchmark never leaves a server or a temporary directory behind.
BENCH_CLEANUP=()
bench_on_exit() { BENCH_CLEANUP+=("$1"); }
bench_cleanup() {
  local i
  for ((i = ${#BENCH_CLEANUP[@]} - 1; i >= 0; i--)); do
    eval "${BENCH_CLEANUP[i]}" >/dev/null 2>&1 || true
  done
  BENCH_CLEANUP=()
}
trap 'bench_cleanup' EXIT
trap 'bench_cleanup; exit 130' INT
trap 'bench_cleanup; exit 143' TERM

# Stops a process we started: SIGTERM, up to 10 s of grace, then SIGKILL.
bench_stop_pid() {
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# A loopback TCP port nobody uses: a random pick below the kernel's ephemeral range (a port in
# it can be the local end of any outgoing connection, and nginx then fails to bind it), with
# no socket of any state on it.
bench_free_port() {
  local port i low span
  read -r low _ </proc/sys/net/ipv4/ip_local_port_range
  ((low > 11024)) || low=32768
  span=$((low - 10000))
  for ((i = 0; i < 200; i++)); do
    port=$((10000 + (RANDOM * 32768 + RANDOM) % span))
    if [[ -z $(ss -Htan "( sport = :$port )" 2>/dev/null) ]] &&
      ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  bench_die "no free loopback port found"
}

# Starts a throwaway Ceph (mon, memstore OSD, radosgw on loopback: scripts/ceph.sh) in DIR,
# stopped on exit, and exports what ceph.sh prints (SATLOAD_S3_URL and the keys). Sets
# BENCH_RGW_PORT.
bench_start_ceph() {  # bench_start_ceph DIR
  local dir=$1 mon_port printed
  BENCH_RGW_PORT=$(bench_free_port)
  mon_port=$(bench_free_port)
  while [[ $mon_port == "$BENCH_RGW_PORT" ]]; do mon_port=$(bench_free_port); done
  bench_log "starting Ceph (radosgw on 127.0.0.1:$BENCH_RGW_PORT) ..."
  bench_on_exit "'$BENCH_ROOT/scripts/ceph.sh' stop '$dir' $BENCH_RGW_PORT"
  printed=$(CEPH_MON_PORT=$mon_port "$BENCH_ROOT/scripts/ceph.sh" start "$dir" "$BENCH_RGW_PORT") ||
    bench_die "Ceph did not start (logs in $dir/log; BENCH_KEEP=1 keeps them)"
  eval "$printed"
  export SATLOAD_S3_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
}

# Waits until something accepts connections on a loopback port (up to 10 s).
bench_wait_port() {
  local port=$1 i
  for ((i = 0; i < 100; i++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# Builds release targets (default: the `satload` binary) into build-bench, every script with
# the same configure flags, so they never reconfigure each other's build. With
# BENCH_NO_BUILD=1 nothing is built: the binaries must already be in $BENCH_BUILD (as when
# `make test` runs the smoke benchmarks against its own release build).
bench_build_satload() {
  [[ ${BENCH_NO_BUILD:-0} == 1 ]] && return 0
  local targets=("$@")
  ((${#targets[@]})) || targets=(satload)
  bench_log "building release ${targets[*]} into $BENCH_BUILD ..."
  cmake -S "$BENCH_ROOT" -B "$BENCH_BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DSATLOAD_TESTS=OFF -DSATLOAD_BENCH=ON >/dev/null || bench_die "cmake configure failed"
  cmake --build "$BENCH_BUILD" -j "$BENCH_JOBS" --target "${targets[@]}" >"$BENCH_BUILD/bench-build.log" 2>&1 ||
    { tail -30 "$BENCH_BUILD/bench-build.log" >&2; bench_die "build of ${targets[*]} failed"; }
}

# Statistics of one number per line: prints "median min max spread n", spread being
# (max - min) / median, the run-to-run swing.
bench_stats() {
  sort -g | awk '{ v[NR] = $1 }
    END {
      if (NR == 0) { print "0 0 0 0 0"; exit }
      m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      printf "%.10g %.10g %.10g %.4f %d\n", m, v[1], v[NR], (m > 0 ? (v[NR] - v[1]) / m : 0), NR
    }'
}

# The resident set size of a process in KiB (VmRSS), or nothing once it is gone.
bench_rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

# Samples a process's VmRSS every 100 ms into a file (one KiB figure a line) until
# bench_rss_stop. Runs on the client core so it does not compete with the server.
BENCH_RSS_SAMPLER=
bench_rss_start() {
  local pid=$1 out=$2
  : >"$out"
  (
    while kill -0 "$pid" 2>/dev/null; do
      bench_rss_kib "$pid" >>"$out"
      sleep 0.1
    done
  ) &
  BENCH_RSS_SAMPLER=$!
}
bench_rss_stop() {
  local out=$1 pid=$2
  [[ -n $BENCH_RSS_SAMPLER ]] && { kill "$BENCH_RSS_SAMPLER" 2>/dev/null || true; wait "$BENCH_RSS_SAMPLER" 2>/dev/null || true; }
  BENCH_RSS_SAMPLER=
  # One last sample after the transfer ended: the "end" figure.
  bench_rss_kib "$pid" >>"$out"
}
# "start peak end samples" in KiB of a sample file.
bench_rss_summary() {
  awk 'NR == 1 { s = $1 } { if ($1 > p) p = $1; e = $1 } END { printf "%d %d %d %d\n", s, p, e, NR }' "$1"
}

# MiB/s from bytes/s, for the tables.
bench_mib() { awk -v b="$1" 'BEGIN { printf "%.0f", b / 1048576 }'; }

# Starts `satload serve` on 127.0.0.1 port 0 with its own data directory DATA, pinned to CORE,
# logging to LOG, stopped on exit; sets BENCH_SATLOAD_PID and BENCH_SATLOAD_URL (the port it
# printed). Extra arguments go to `satload serve`.
bench_start_satload() {
  local satload=$1 data=$2 log=$3 core=$4 i
  shift 4
  taskset -c "$core" "$satload" serve --listen 127.0.0.1:0 --data "$data" "$@" 2>"$log" &
  BENCH_SATLOAD_PID=$!
  bench_on_exit "bench_stop_pid $BENCH_SATLOAD_PID"
  for ((i = 0; i < 100; i++)); do
    BENCH_SATLOAD_URL=$(grep -so 'listening on http://[0-9.:]*' "$log" | head -1 | sed 's/listening on //') || true
    [[ -n $BENCH_SATLOAD_URL ]] && return 0
    kill -0 "$BENCH_SATLOAD_PID" 2>/dev/null || break
    sleep 0.1
  done
  cat "$log" >&2
  bench_die "satload serve did not start"
}

# Uploads a small FILE into satload at URL with tus (one POST, one PATCH of the whole file)
# and prints the public file id that the completing PATCH names.
bench_tus_put_small() {
  local url=$1 file=$2 length location out code id
  length=$(stat -c %s "$file")
  location=$(curl -s --max-time 30 -o /dev/null -X POST -H 'Tus-Resumable: 1.0.0' \
    -H "Upload-Length: $length" -w '%header{location}' "$url/files")
  [[ -n $location ]] || bench_die "tus POST to $url/files gave no Location"
  out=$(curl -s --max-time 30 -o /dev/null -X PATCH -H 'Expect:' -H 'Tus-Resumable: 1.0.0' \
    -H 'Upload-Offset: 0' -H 'Content-Type: application/offset+octet-stream' \
    --data-binary "@$file" -w '%{http_code} %header{satload-file-id}' "$location")
  read -r code id <<<"$out"
  [[ $code == 204 && -n $id ]] || bench_die "tus PATCH of $file answered '$out' (want 204 and a file id)"
  echo "$id"
}

# Writes DIR/nginx.conf for a loopback peer: one worker, no access log, keep-alive without a
# request limit, pid and error log in DIR (run as the invoking user when root), with the
# `server { ... }` blocks given as the remaining arguments inside `http`.
bench_nginx_conf() {
  local dir=$1 user_line= block
  shift
  [[ $(id -u) -eq 0 ]] && user_line="user $(id -un) $(id -gn);"
  {
    echo "# satload bench peer: loopback only, no logs, one worker on the server core."
    echo "$user_line"
    echo "worker_processes 1;"
    echo "daemon off;"
    echo "master_process on;"
    echo "pid $dir/nginx.pid;"
    echo "error_log $dir/nginx-error.log warn;"
    echo "events { worker_connections 4096; }"
    echo "http {"
    echo "  access_log off;"
    echo "  default_type application/octet-stream;"
    echo "  keepalive_timeout 65;"
    echo "  keepalive_requests 1000000;"
    for block in "$@"; do echo "  $block"; done
    echo "}"
  } >"$dir/nginx.conf"
}

# Starts nginx from CONF (which must say `daemon off; pid ...;`) pinned to CORE, stopped on
# exit, and waits for each PORT; sets BENCH_NGINX_PID (the master).
bench_start_nginx() {
  local conf=$1 core=$2 dir port
  shift 2
  dir=$(dirname "$conf")
  taskset -c "$core" "$(command -v nginx || echo /usr/sbin/nginx)" -p "$dir/" -c "$conf" \
    2>"$dir/nginx-stderr.log" &
  BENCH_NGINX_PID=$!
  bench_on_exit "bench_stop_pid $BENCH_NGINX_PID"
  for port in "$@"; do
    bench_wait_port "$port" ||
      { cat "$dir/nginx-stderr.log" "$dir/nginx-error.log" >&2 2>/dev/null; bench_die "nginx did not start"; }
  done
}

# The pid of nginx's (single) worker process, a child of the master MASTER_PID.
bench_nginx_worker() { pgrep -P "$1" | head -1; }
