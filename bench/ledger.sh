#!/usr/bin/env bash
# Ledger throughput beside the raw speed of its engines, measured in the same run (issue 3):
#   SQLite:     transfers/s through the ledger API with 64 submitters, and durable inserts of
#               the same row shape in batches of 1,000 (target: ledger >= 100,000/s)
#   PostgreSQL: transfers/s through the ledger API with 64 submitters, and
#               `pgbench -c 8 -j 2` (TPC-B-like) on the same throwaway server (target: >= 10x)
# Usage: bench/ledger.sh [SECONDS]    (default 10, 1 with BENCH_SMOKE=1; BENCH_BUILD and
#        BENCH_NO_BUILD=1 as in lib.sh)
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$BENCH_ROOT"
seconds=${1:-$([[ ${BENCH_SMOKE:-0} == 1 ]] && echo 1 || echo 10)}
build=$BENCH_BUILD

bench_build_satload ledger_bench
bench=$build/bench/ledger_bench

work=$(mktemp -d)
chmod 755 "$work"
pgdir=$work/pg
bench_on_exit "rm -rf '$work'"
bench_on_exit "scripts/pg.sh stop '$pgdir'"

# Each submitter keeps 32 single-transfer submissions in flight; ids are time-ordered, as
# satload's own callers make them. One run with random ids shows what they cost.
rate() { sed -n 's/.*: \([0-9]*\) \(transfers\|rows\)\/s.*/\1/p'; }

echo "== SQLite ($seconds s each; load average: $(cut -d' ' -f1-3 /proc/loadavg))"
raw_line=$("$bench" sqlite-raw "$work/raw" --ids ordered --seconds "$seconds")
echo "$raw_line"
raw=$(rate <<<"$raw_line")
sqlite_line=$("$bench" sqlite "$work/sqlite" --threads 64 --inflight 32 --ids ordered --seconds "$seconds")
echo "$sqlite_line"
sqlite=$(rate <<<"$sqlite_line")
"$bench" sqlite "$work/sqlite-random" --threads 64 --inflight 32 --ids random --seconds "$seconds"
"$bench" sqlite "$work/sqlite-blocking" --threads 64 --inflight 1 --ids ordered --seconds "$seconds"

echo "== PostgreSQL"
url=$(scripts/pg.sh start "$pgdir")
pgbench -i -q -s "$([[ ${BENCH_SMOKE:-0} == 1 ]] && echo 1 || echo 8)" "$url" >/dev/null 2>&1
pgbench_out=$(pgbench -c 8 -j 2 -T "$seconds" "$url" 2>/dev/null)
tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' <<<"$pgbench_out" | head -1)
echo "pgbench -c 8 -j 2 (TPC-B-like): $tps tps"
pg_line=$("$bench" postgres "$url" --threads 64 --inflight 32 --ids ordered --seconds "$seconds")
echo "$pg_line"
pg=$(rate <<<"$pg_line")

echo "== Summary"
awk -v s="$sqlite" -v r="$raw" -v p="$pg" -v t="$tps" 'BEGIN {
  printf "sqlite: %d transfers/s = %.2f of raw batched inserts (%d rows/s); target 100000: %s\n",
         s, s / r, r, (s >= 100000 ? "met" : "NOT met")
  printf "postgresql: %d transfers/s = %.1fx pgbench (%.0f tps); target 10x: %s\n",
         p, p / t, t, (p >= 10 * t ? "met" : "NOT met")
}'
