#!/usr/bin/env bash
# The test driver behind `make test`: installs what the tests need, builds, runs every suite,
# stops every server it started, and exits non-zero if any suite failed or ran no test.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
what=${1:-all}
jobs=$(nproc)

# Each stage's heading carries the minutes since the start, so a run shows where its time went.
started=$SECONDS
log() {
  local s=$((SECONDS - started))
  printf '\n=== %s  [%dm%02ds]\n' "$*" $((s / 60)) $((s % 60)) >&2
}

# A throwaway PostgreSQL cluster for the suites that run against PostgreSQL; stopped on exit.
pg_dir=""
ceph_dir=""
ceph_port=""
bcoin_dir=""
cleanup() {
  if [[ -n ${background_pid:-} ]]; then
    kill -- -"$background_pid" 2>/dev/null || true
    wait "$background_pid" 2>/dev/null || true
  fi
  if [[ -n $pg_dir ]]; then
    scripts/pg.sh stop "$pg_dir" >/dev/null 2>&1 || true
    rm -rf "$pg_dir"
  fi
  if [[ -n $bcoin_dir ]]; then
    scripts/bcoin.sh stop "$bcoin_dir" >/dev/null 2>&1 || true
    rm -rf "$bcoin_dir"
  fi
  if [[ -n $ceph_dir ]]; then
    scripts/ceph.sh stop "$ceph_dir" "$ceph_port" >/dev/null 2>&1 || true
    rm -rf "$ceph_dir"
  fi
}
trap cleanup EXIT
start_pg() {
  [[ -n $pg_dir ]] && return 0
  pg_dir=$(mktemp -d /tmp/satload-pg.XXXXXX)
  chmod 755 "$pg_dir"
  SATLOAD_TEST_PG_URL=$(scripts/pg.sh start "$pg_dir")
  export SATLOAD_TEST_PG_URL
  echo "PostgreSQL for tests: $SATLOAD_TEST_PG_URL" >&2
}
# A throwaway bcoin regtest node for the interop suite's real-node tests; stopped on exit.
start_bcoin() {
  [[ -n $bcoin_dir ]] && return 0
  bcoin_dir=$(mktemp -d /tmp/satload-bcoin.XXXXXX)
  SATLOAD_TEST_BCOIN_URL=$(scripts/bcoin.sh start "$bcoin_dir")
  export SATLOAD_TEST_BCOIN_URL
  echo "bcoin regtest node for tests: ${SATLOAD_TEST_BCOIN_URL#*@}" >&2
}

# background-builds (the sanitized build that `all` starts) has been installed for.
[[ $what == background-builds ]] || scripts/install-deps.sh test

build_release() {
  log "release build (warnings are errors)"
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSATLOAD_WERROR=ON >/dev/null
  cmake --build build -j "$jobs"
  web/build.sh build/web
}

run_unit() {
  log "unit tests (release)"
  start_pg
  (cd build && ctest --output-on-failure -j "$jobs" -L unit)
}

# One sanitized build (clang, ASan+UBSan, every layer instrumented for libFuzzer's coverage)
# serves both the unit and functional tests under the sanitizers and the fuzz targets, so the
# layers compile under sanitizers once instead of twice (a g++ ASan build and a clang fuzz
# build). Coverage instrumentation costs the tests a little speed and finds nothing by itself.
# Warnings are errors in the release build (g++), which compiles the same code. LLVM's linker
# links these instrumented programs (the server's is 250 MB) in a fifth of GNU ld's time:
# 1.7 s against 8.8 s for `satload`, and there are about forty of them.
build_san() {
  CC=clang CXX=clang++ cmake -S . -B build-san -G Ninja -DCMAKE_BUILD_TYPE=Debug \
    -DSATLOAD_FUZZ=ON -DSATLOAD_BENCH=OFF -DCMAKE_EXE_LINKER_FLAGS=-fuse-ld=lld >/dev/null
  cmake --build build-san -j "$jobs" --target unit_tests satload ece_tool macaroon_tool chain_tool fuzz_all
}

run_asan() {
  log "unit tests under ASan+UBSan"
  start_pg
  build_san
  (cd build-san && LSAN_OPTIONS=suppressions=$root/tests/unit/lsan.supp SATLOAD_SMALL_TESTS=1 \
    ctest --output-on-failure -j "$jobs" -L unit)
  # The functional and interop suites again, against the sanitized binary with small sizes:
  # memory errors in request handling show up here (the server's log carries ASan's report).
  # The S3 outage suite (its own Ceph) runs once, in the functional stage.
  log "functional and interop tests against the ASan+UBSan binary (small sizes, two lanes)"
  start_bcoin
  SATLOAD_TEST_S3=skip SATLOAD_SMALL_TESTS=1 SATLOAD_BIN=$root/build-san/satload SATLOAD_BUILD_DIR=$root/build-san \
    run_in_lanes
}

# The sanitized functional suites wait on their servers and clients about half the time (one
# run: 45% of the two cores busy), so they run in two lanes at once, each file alone in its
# lane. Lane one holds every suite that mines or watches the shared bcoin node (a block mined
# by one suite would move another's confirmation counts) and about half of the time; lane two
# runs every other file. Each lane has its own HOME, so nothing a CLI keeps there is shared.
lane_one=(tests/functional/bitcoin_wallet.test.mjs tests/functional/multi_instance.test.mjs
  tests/interop/bcoin_node.test.mjs tests/functional/cli_payments.test.mjs tests/functional/link_controls.test.mjs
  tests/functional/account_recovery.test.mjs tests/functional/admin.test.mjs tests/interop/http_ece.test.mjs)
run_in_lanes() {
  local -A in_one=()
  local two=() f lane rc=0 pids=()
  for f in "${lane_one[@]}"; do
    [[ -f $f ]] || { echo "lane one names $f, which does not exist" >&2; return 1; }
    in_one[$f]=1
  done
  for f in tests/functional/*.test.mjs tests/interop/*.test.mjs; do
    [[ -n ${in_one[$f]:-} ]] || two+=("$f")
  done
  for lane in 1 2; do
    rm -rf "$root/build-san/lane$lane-home" && mkdir -p "$root/build-san/lane$lane-home"
    if ((lane == 1)); then set -- "${lane_one[@]}"; else set -- "${two[@]}"; fi
    HOME=$root/build-san/lane$lane-home node --test --test-concurrency=1 "$@" >"$root/build-san/lane$lane.log" 2>&1 &
    pids+=($!)
  done
  for lane in 1 2; do
    wait "${pids[lane - 1]}" || { echo "lane $lane failed" >&2; rc=1; }
    cat "$root/build-san/lane$lane.log"
    # A lane that passed no test ran nothing: a failure too.
    grep -q '^# pass [1-9]' "$root/build-san/lane$lane.log" || { echo "lane $lane: no test passed" >&2; rc=1; }
  done
  echo "lane one: ${#lane_one[@]} files; lane two: ${#two[@]} files" >&2
  return "$rc"
}

# One fuzz target for a few seconds; its output goes to build-san/NAME.log, shown on failure.
fuzz_one() {
  local t=$1 name corpus
  name=$(basename "$t")
  corpus=fuzz/corpus/${name%_fuzz}
  mkdir -p build-san/corpus/"$name"
  "$t" -max_total_time="${SATLOAD_FUZZ_SECONDS:-5}" -rss_limit_mb=2048 \
    build-san/corpus/"$name" $( [[ -d $corpus ]] && echo "$corpus" ) 2>build-san/"$name".log \
    || { echo "fuzz target $name failed:" >&2; tail -40 build-san/"$name".log >&2; return 1; }
}

# The targets run $jobs at a time (each is one process on one core).
run_fuzz() {
  log "fuzz targets (libFuzzer, a few seconds each, $jobs at a time)"
  build_san
  local n=0 failed=0 t pids=()
  for t in build-san/fuzz/*_fuzz; do
    [[ -x $t ]] || continue
    echo "fuzzing $(basename "$t")" >&2
    fuzz_one "$t" &
    pids+=($!)
    n=$((n + 1))
    if ((${#pids[@]} >= jobs)); then
      wait "${pids[0]}" || failed=$((failed + 1))
      pids=("${pids[@]:1}")
    fi
  done
  for t in "${pids[@]}"; do wait "$t" || failed=$((failed + 1)); done
  echo "fuzz: $n targets ran, $failed failed" >&2
  ((n > 0 && failed == 0))
}

# For `all`: the sanitized build (ASan+UBSan tests, fuzz targets) runs in the background at the
# lowest priority while the release build's suites run, taking only the CPU those leave idle
# (their servers, clients and browser wait much of the time); the stages that need it wait for
# it. In a session of its own (setsid) so that an early exit stops the compilers too. A new
# session is a new scheduler autogroup where the kernel has them (sched_autogroup_enabled), and
# groups share the CPU by the group's niceness, not their tasks': so the group's is lowered too.
background_pid=""
background_log=build/background-builds.log
start_background_builds() {
  setsid -w sh -c '{ echo 19 >/proc/self/autogroup; } 2>/dev/null; exec nice -n 19 scripts/test.sh background-builds' \
    >"$background_log" 2>&1 &
  background_pid=$!
  echo "the sanitized build (ASan+UBSan, fuzz targets) started in the background (log: $background_log)" >&2
}
wait_background_builds() {
  [[ -n $background_pid ]] || return 0
  log "waiting for the background sanitized build"
  local rc=0
  wait "$background_pid" || rc=$?
  background_pid=""
  if ((rc != 0)); then
    tail -60 "$background_log" >&2
    echo "the background build failed (exit $rc)" >&2
    return 1
  fi
}

# A throwaway Ceph (mon, memstore OSD, radosgw) on loopback for the S3 stages; stopped on exit.
start_ceph() {
  [[ -n $ceph_dir ]] && return 0
  ceph_dir=$(mktemp -d /tmp/satload-ceph.XXXXXX)
  ceph_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  eval "$(scripts/ceph.sh start "$ceph_dir" "$ceph_port")"
  export SATLOAD_S3_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
}
stop_ceph() {
  [[ -n $ceph_dir ]] || return 0
  scripts/ceph.sh stop "$ceph_dir" "$ceph_port"
  rm -rf "$ceph_dir"
  ceph_dir=""
  # Later stages must not look for the Ceph that is gone (the S3 tests skip without it).
  unset SATLOAD_S3_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
}

# The S3 blob store's tests against Ceph RGW. With Ceph running, a skipped test means the keys
# did not reach it: a failure.
run_s3() {
  log "S3 blob store against Ceph RGW"
  start_ceph
  local out
  out=$(build/tests/unit/unit_s3 2>&1) || { printf '%s\n' "$out"; return 1; }
  printf '%s\n' "$out" | tail -3
  if grep -q '^\[  SKIPPED \] [0-9]' <<<"$out"; then echo "S3 tests were skipped" >&2; return 1; fi
}

# Scale-out: the hosting, accounts and paid-download suites again with every store in
# PostgreSQL (--db) and the blobs in Ceph RGW (--blobs); each server gets its own schema and
# bucket (tests/lib/server.mjs). Small sizes: the OSD keeps everything in memory.
scale_suites=(hosting_roundtrip put_resume link_controls anonymous_uploads rename accounts account_tokens
  account_recovery payments cli_payments bitcoin_wallet multi_instance)
run_scale() {
  log "functional suites on PostgreSQL and Ceph RGW (--db, --blobs)"
  (cd tests && npm install --no-audit --no-fund --loglevel=error >/dev/null)
  start_pg
  start_ceph
  start_bcoin
  local files=()
  for s in "${scale_suites[@]}"; do files+=("tests/functional/$s.test.mjs"); done
  SATLOAD_SMALL_TESTS=1 SATLOAD_TEST_DB_URL=$SATLOAD_TEST_PG_URL SATLOAD_TEST_BLOBS_URL=$SATLOAD_S3_URL \
    SATLOAD_BIN=$root/build/satload SATLOAD_BUILD_DIR=$root/build node --test --test-concurrency=1 "${files[@]}"
  stop_ceph
}

# s3_outage.test.mjs starts a Ceph of its own (scripts/ceph.sh installs it when missing) and
# fails when it cannot: it runs here, not in run_scale (whose --blobs it picks itself).
run_functional() {
  log "functional and interop tests (node test runner, real binaries, real clients)"
  (cd tests && npm install --no-audit --no-fund --loglevel=error >/dev/null)
  start_bcoin
  SATLOAD_BIN=$root/build/satload SATLOAD_BUILD_DIR=$root/build node --test --test-concurrency=1 \
    tests/functional/ tests/interop/
}

# The web app: its node unit tests (RFC 8188 and keys on WebCrypto, against the RFC's vectors
# and http_ece), then the browser tests in Debian's headless Chromium against the release
# binary. A browser that cannot start fails them; a run that passes no test is a failure too.
run_web() {
  log "web app: unit tests (node) and browser tests (headless Chromium, real server)"
  (cd web && npm test)
  (cd tests/browser && npm install --no-audit --no-fund --loglevel=error >/dev/null)
  local tap=$root/build/browser-tests.tap
  SATLOAD_BIN=$root/build/satload SATLOAD_BUILD_DIR=$root/build node --test --test-concurrency=1 \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$tap" tests/browser/
  local passed
  passed=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$tap")
  echo "browser tests: ${passed:-0} passed; screenshots in build/screenshots" >&2
  ((${passed:-0} > 0))
}

# Every benchmark of `make bench` once with tiny sizes against the release build, so the
# harness cannot rot; its figures mean nothing and no timing is asserted. A benchmark that
# fails or times out fails the run.
run_bench_smoke() {
  log "benchmark smoke run (tiny sizes; figures meaningless)"
  scripts/install-deps.sh bench
  BENCH_BUILD=$root/build BENCH_NO_BUILD=1 bench/run.sh --smoke
}

case $what in
  all)
    build_release
    # The browser tests measure the page's memory: they run before the background builds.
    run_web
    start_background_builds
    run_unit
    run_functional
    run_s3
    run_scale
    run_bench_smoke
    wait_background_builds
    run_asan
    run_fuzz
    ;;
  background-builds) build_san ;;
  unit) build_release; run_unit ;;
  s3) build_release; run_s3 ;;
  scale) build_release; run_scale ;;
  asan) run_asan ;;
  fuzz) run_fuzz ;;
  functional) build_release; run_functional ;;
  web) build_release; run_web ;;
  bench) build_release; run_bench_smoke ;;
  *) echo "usage: scripts/test.sh [all|unit|s3|scale|asan|fuzz|functional|web|bench]" >&2; exit 2 ;;
esac
log "all requested suites passed"
